"""Who is asking and whether there is room: the client address behind trusted proxies, request
classes with their own share of each worker, and the budget of anonymous requests.

* :class:`ClientAddress` sets the request's client to the address ``X-Forwarded-For`` names, but
  only when the peer is one of ``trusted_proxies`` (default none: the header is ignored). uvicorn's
  own proxy-header handling, which trusts loopback, is turned off by ``serve``.
* :func:`request_class`: ``citizen`` (``/nearest``, pages, static files, vector tiles), ``edit`` (edits,
  dispatch, responders, the audit: everything that needs a key), ``heavy`` (coverage, what-if,
  service areas, ``/plans/*``: run in a child process, see :mod:`.cancellable`) and ``read``
  (every other read). Each class has its own slots per worker (``*_slots``), so a flood of
  planning requests cannot take the room of citizens and editors.
* :class:`Admission`: a request without a valid API key first spends its class's cost from its
  client's budget (``public_rate_per_s``, ``public_burst``; 429 with ``Retry-After`` when it is
  spent), then takes a slot of its class. When the class is full it may join a queue as long as
  the class's slots; beyond that it waits only if the wait predicted from the class's recent
  service times is within ``queue_wait_s``; otherwise, or if the wait runs over, it gets 503
  with ``Retry-After`` at once. Overload is answered quickly
  instead of queueing in the thread pool or the kernel's accept queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from ...service.settings import Settings
from .errors import error_response
from .limits import Limits
from .version import unversioned

log = logging.getLogger(__name__)

__all__ = ["ClientAddress", "Admission", "Gate", "request_class", "client_id", "COSTS", "CLASSES"]

CLASSES = ("citizen", "edit", "read", "heavy")
COSTS = {"citizen": 1.0, "edit": 0.0, "read": 2.0, "heavy": 30.0}
"""Units of the anonymous budget a request of each class spends (edits need a key anyway)."""
TYPICAL_S = {"citizen": 0.005, "edit": 0.02, "read": 0.02, "heavy": 5.0}
"""Service time each class is assumed to take until requests of it have been timed."""
STALL_S = 1.0
"""Extra seconds a queued request waits for one slow request ahead of it (see :class:`Gate`)."""

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CITIZEN_PATHS = frozenset({"/", "/nearest", "/health", "/config", "/regions", "/depart-hours", "/docs"})
PAGE_PATHS = frozenset({"/planner", "/dispatcher", "/openapi.json"})
HEAVY_PATHS = frozenset({"/coverage", "/whatif", "/service-areas", "/access"})
KEYED_PREFIXES = ("/facilities", "/responders", "/dispatch", "/audit")
FREE_PATHS = frozenset({"/health"})  # load balancers' checks spend no budget
KEY_CACHE_S = 10.0
KEY_CACHE_SIZE = 1024


def request_class(method: str, path: str) -> str:
    """The class of a request: ``citizen``, ``edit``, ``read`` or ``heavy`` (``/v1/x`` as ``/x``)."""
    path = unversioned(path)
    if path in HEAVY_PATHS or path.startswith("/plans/"):
        return "heavy"
    if path.startswith(KEYED_PREFIXES) and (method not in READ_METHODS or path in ("/audit", "/responders")):
        return "edit"
    if path.startswith("/dispatch"):
        return "edit"
    if path in CITIZEN_PATHS or path in PAGE_PATHS or path.startswith("/static/") or _is_tile(path):
        return "citizen"
    return "read"


def _is_tile(path: str) -> bool:
    """A vector tile or tile set description of a region (cheap reads the pages make by the dozen)."""
    return path.startswith("/regions/") and path.endswith((".mvt", "/tiles.json"))


def client_id(host: str) -> str:
    """The budget's name of a client: its IPv4 address, or its IPv6 /64 (one subscriber's
    prefix: an address per request would otherwise be a fresh budget per request)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def key_prefix(token: str) -> str:
    """A digest of a presented key's first characters (its random part starts after ``gsk_``):
    wrong keys are counted per address and prefix without keeping any part of the key."""
    return hashlib.sha256(token[:16].encode("utf-8", "replace")).hexdigest()[:16]


# --------------------------------------------------------------------------- client address
class ClientAddress:
    """The client is the address ``X-Forwarded-For`` names when the peer is a trusted proxy: the
    header is read from the right, skipping trusted proxies; the first other address is the
    client. Without trusted proxies (the default), or from any other peer, the header is ignored."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.nets = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def trusts(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == n.version and ip in n for n in self.nets)

    def forwarded_client(self, peer: str, header: str) -> str:
        """The client of a request from ``peer`` carrying ``X-Forwarded-For: header``."""
        client = peer
        for hop in reversed([h.strip() for h in header.split(",")]):
            if not self.trusts(client):
                break
            try:
                client = str(ipaddress.ip_address(hop.strip("[]")))
            except ValueError:
                break  # a malformed hop: the last proxy we trust is as far as we know
        return client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.nets and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer and self.trusts(peer[0]):
                values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
                if values:
                    scope["client"] = (self.forwarded_client(peer[0], ",".join(values)), 0)
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- slots per class
@dataclass
class Gate:
    """``slots`` requests of one class at a time in this worker; the rest wait in order.

    A queue of ``free_queue`` requests is always allowed (``slots`` for the light classes): one
    page's own burst of parallel requests (a browser opens six connections) is never refused by an
    idle server. Beyond that a request waits only when the wait predicted from recent service
    times is within ``max_wait_s`` (else it is refused at once). A waiting request gives up after
    ``max_wait_s`` plus twice its predicted wait plus ``STALL_S``: requests of one class differ in
    length (a whole basemap beside a small layer), and one slow request ahead on a slow machine is
    no overload; under overload the queue's length, not this limit, keeps waits short. Used from
    one event loop."""

    name: str
    slots: int
    max_wait_s: float
    typical_s: float
    free_queue: int = 0
    active: int = 0
    waiting: deque[asyncio.Future[bool]] = field(default_factory=deque)
    admitted: int = 0
    refused: int = 0

    def predicted_wait(self) -> float:
        """Seconds a request arriving now would wait for a slot."""
        if self.active < self.slots and not self.waiting:
            return 0.0
        return (len(self.waiting) + 1) * self.typical_s / self.slots

    async def enter(self) -> bool:
        """Take a slot (True), or False when the class is too busy to wait for one."""
        if self.active < self.slots and not self.waiting:
            self.active += 1
            self.admitted += 1
            return True
        predicted = self.predicted_wait()
        if len(self.waiting) >= self.free_queue and predicted > self.max_wait_s:
            self.refused += 1
            return False
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting.append(fut)
        try:
            await asyncio.wait({fut}, timeout=self.max_wait_s + 2 * predicted + STALL_S)
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.leave(None)  # handed a slot as we were cancelled: give it on
            else:
                self._give_up(fut)
            raise
        if fut.done() and not fut.cancelled():
            self.admitted += 1
            return True  # leave() handed its slot to us
        self._give_up(fut)
        self.refused += 1
        return False

    def _give_up(self, fut: asyncio.Future[bool]) -> None:
        fut.cancel()
        with contextlib.suppress(ValueError):
            self.waiting.remove(fut)

    def leave(self, took_s: float | None) -> None:
        """Give the slot back (to the first live waiter, if any); ``took_s`` updates the class's
        typical service time."""
        if took_s is not None:
            self.typical_s += 0.2 * (took_s - self.typical_s)
        while self.waiting:
            fut = self.waiting.popleft()
            if not fut.done():
                fut.set_result(True)
                return
        self.active -= 1


# --------------------------------------------------------------------------- admission
class Admission:
    """Budget of anonymous requests, then a slot of the request's class (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        limits: Limits,
        check_key: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.check_key = check_key
        self.gates = {
            kind: Gate(kind, slots, settings.server.queue_wait_s, TYPICAL_S[kind], free_queue=slots)
            for kind, slots in (
                ("citizen", settings.server.citizen_slots),
                ("edit", settings.server.edit_slots),
                ("read", settings.server.read_slots),
            )
        } | {
            "heavy": Gate("heavy", settings.server.heavy_slots, settings.server.heavy_queue_wait_s, TYPICAL_S["heavy"]),
        }
        self._keys: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def _has_valid_key(self, scope: Scope) -> bool:
        """The request carries a key that is valid now (cached per worker for a few seconds:
        the route's own check still asks the registry, this only exempts it from the budget)."""
        token = ""
        for k, v in scope.get("headers", []):
            k = k.lower()
            if k == b"x-api-key":
                token = v.decode("latin-1").strip()
                break
            if k == b"authorization":
                scheme, _, cred = v.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    token = cred.strip()
        if not token or self.check_key is None:
            return False
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        now = time.monotonic()
        hit = self._keys.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            ok = bool(self.check_key(token))
        except Exception:  # the registry is down: the route will say so; count it as anonymous
            log.exception("checking an API key for the request budget failed")
            ok = False
        self._keys[digest] = (ok, now + KEY_CACHE_S)
        self._keys.move_to_end(digest)
        while len(self._keys) > KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        kind = request_class(scope["method"], path)
        cost = 0.0 if unversioned(path) in FREE_PATHS or path.startswith("/static/") else COSTS[kind]
        if cost and not self._has_valid_key(scope):
            host = scope["client"][0] if scope.get("client") else "unknown"
            who = client_id(host)
            wait = self.limits.public.take(who, cost)
            if wait:
                pub = self.limits.public
                await error_response(
                    "request",
                    f"client {who} has spent its budget of requests without an API key "
                    f"({pub.rate_per_s:g} units/s, at most {pub.burst:g} at once: public_rate_per_s, public_burst; "
                    f"this {kind} request costs {cost:g}); try again in {max(1, math.ceil(wait))} s",
                    429,
                    retry_after=max(1, math.ceil(wait)),
                )(scope, receive, send)
                return
        gate = self.gates[kind]
        if not await gate.enter():
            retry = max(1, math.ceil(min(gate.typical_s, 60.0)))
            await error_response(
                "request",
                f"the server is busy with {kind} requests ({gate.slots} at a time per worker, "
                f"{kind}_slots); try again in {retry} s",
                503,
                retry_after=retry,
            )(scope, receive, send)
            return
        t0 = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave(time.monotonic() - t0)
