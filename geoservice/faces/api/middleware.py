"""Pure ASGI middleware of the HTTP API: security headers, body limits, a per-request time limit.

Order (outermost first): :class:`SecurityHeaders` (wraps the whole app, so even a 500 from
Starlette's error middleware gets the headers) → :class:`.admission.ClientAddress` → CORS (only
when ``cors_origins`` is set) → :class:`TimeLimit` → :class:`.admission.Admission` (budget and
slots) → :class:`BodyLimits` → the routes. Every error they send has our JSON shape
(``{"detail": "<field>: <message>", "field": ...}``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
import re
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .cancellable import DEADLINE
from .errors import error_response

log = logging.getLogger(__name__)

__all__ = [
    "SecurityHeaders",
    "BodyLimits",
    "TimeLimit",
    "content_security_policy",
    "inline_script_hashes",
    "tile_source",
]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


# --------------------------------------------------------------------------- security headers
def tile_source(url: str | None) -> str | None:
    """The CSP source of an XYZ tile URL template: scheme://host[:port], a ``{s}``/``{a-c}``
    subdomain label turned into ``*.``; None when the URL has no usable host."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    labels = parts.netloc.rsplit("@", 1)[-1].split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label or "}" in label]
    if templated:
        # CSP wildcards only cover whole leftmost labels: allow every subdomain below the last templated one
        rest = labels[templated[-1] + 1 :]
        if len(rest) < 2:
            return None
        labels = ["*", *rest]
    host = ".".join(labels)
    if not re.fullmatch(r"[A-Za-z0-9*.-]+(:\d+)?", host):
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(basemap_tiles: str | None = None, script_hashes: Iterable[str] = ()) -> str:
    """The policy of our pages: everything from our own origin, images also as ``data:`` and from the
    optional tile host, inline scripts only those hashed (the Swagger page's), no framing.

    ``style-src-attr 'unsafe-inline'`` lets the pages set ``style=""`` attributes (the planner's
    legend swatches carry their colours that way); ``<style>`` elements and style files from
    elsewhere stay blocked."""
    img = ["'self'", "data:"]
    tiles = tile_source(basemap_tiles)
    if tiles:
        img.append(tiles)
    script = ["'self'", *(f"'{h}'" for h in script_hashes)]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(script)}",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {' '.join(img)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """``sha256-…`` of each inline ``<script>`` in ``html`` (for ``script-src``)."""
    return [
        "sha256-" + base64.b64encode(hashlib.sha256(m.encode("utf-8")).digest()).decode("ascii")
        for m in _INLINE_SCRIPT.findall(html)
    ]


class SecurityHeaders:
    """Adds the security headers to every HTTP answer; a header the answer already has (e.g. the
    Swagger page's own CSP) is kept."""

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", csp.encode("latin-1")),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                have = {k.lower() for k, _ in raw}
                raw.extend((k, v) for k, v in self.headers if k not in have)
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- body limits
def _is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    if not mime.startswith("application/"):
        return False
    sub = mime[len("application/") :]
    return sub == "json" or sub.endswith("+json")


class _TooLarge(Exception):
    pass


class BodyLimits:
    """413 for a body over ``max_bytes`` (by ``Content-Length`` at once, else by counting the
    streamed chunks: the body is never held beyond what the route itself reads), 415 for a
    POST/PUT/PATCH whose body is not JSON (a ``Content-Type`` that is not ``application/json`` or
    ``application/*+json``, or none with a body). ``larger`` gives paths a limit of their own:
    path → (bytes, the setting that sets it), e.g. the bulk import's 5,000 facilities."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def _too_large(self, limit: int, setting: str) -> Any:
        return error_response("body", f"request body is larger than {limit} bytes ({setting})", 413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.larger.get(scope.get("path", ""), (self.max_bytes, "max_body_bytes"))
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length_raw = headers.get(b"content-length")
        length: int | None = None
        if length_raw is not None:
            try:
                length = int(length_raw)
            except ValueError:
                await error_response("Content-Length", "not a whole number of bytes", 400)(scope, receive, send)
                return
            if length > limit:
                await self._too_large(limit, setting)(scope, receive, send)
                return
        if scope["method"] in BODY_METHODS:
            ctype = headers.get(b"content-type", b"").decode("latin-1")
            has_body = (length or 0) > 0 or (length is None and b"transfer-encoding" in headers)
            if (ctype and not _is_json(ctype)) or (not ctype and has_body):
                msg = (
                    f"send the body as application/json (got {ctype[:60]!r})"
                    if ctype
                    else "missing; send application/json"
                )
                await error_response("Content-Type", msg, 415)(scope, receive, send)
                return

        seen = 0
        over = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the route's answer to a cut body (400/500) is replaced by our 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._too_large(limit, setting)(scope, receive, send)


# --------------------------------------------------------------------------- time limit
class TimeLimit:
    """A request still running after ``seconds`` gets 503 naming ``request``, with Retry-After.

    The route runs in its own task; at the deadline the answer is sent and the task cancelled.
    Async work stops at its next ``await``. Sync routes run in the thread pool, and a thread
    cannot be interrupted: that work finishes in the background and its late answer is dropped
    (the client already has its 503), except heavy routes, whose child process is killed at the
    same deadline (:data:`.cancellable.DEADLINE`, set here). An answer that has started
    streaming is let finish."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._background: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        timed_out = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        token = DEADLINE.set(time.monotonic() + self.seconds)
        try:  # the task (and the threads it starts) sees the deadline
            task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        finally:
            DEADLINE.reset(token)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if done or started:
            await task  # finished (or answering): its result or exception is ours
            return
        timed_out = True
        task.cancel()
        self._background.add(task)
        task.add_done_callback(self._finished)
        log.warning("%s %s ran over %.1f s; answered 503", scope["method"], scope.get("path"), self.seconds)
        await error_response(
            "request",
            f"took longer than {self.seconds:g} s (request_timeout_s); try again later or ask for less",
            503,
            retry_after=max(1, math.ceil(self.seconds)),
        )(scope, receive, send)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("request abandoned after its time limit failed", exc_info=task.exception())

    @property
    def running_in_background(self) -> int:
        """Requests answered 503 whose work has not finished yet."""
        return len(self._background)
