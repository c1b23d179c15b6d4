"""The HTTP API's version prefix: every API path is served under ``/v1``; the unprefixed paths
are kept as aliases for one release, marked ``deprecated`` in the OpenAPI document and answered
with a ``Deprecation`` header naming their ``/v1`` successor. The pages (``/``, ``/planner``,
``/dispatcher``, ``/guide/``), ``/static/``, ``/docs`` and ``/openapi.json`` have no prefix."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/v1"


def unversioned(path: str) -> str:
    """``/v1/nearest`` → ``/nearest`` (limits, classes of requests and body sizes are the same
    for a path and its alias); other paths unchanged."""
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return path[len(API_PREFIX) :] or "/"
    return path


class DeprecatedAliases:
    """ASGI middleware: an answer from an unprefixed alias of an API route carries
    ``Deprecation: true`` and ``Link: </v1/...>; rel="successor-version"``. Reads the route the
    router put in the request's scope once the answer starts: an API route is one in the OpenAPI
    document (the pages and ``/docs`` are not), answering a path outside ``/v1``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            path = scope.get("path", "")
            if message["type"] == "http.response.start" and _is_alias(scope.get("route"), path):
                headers = list(message.get("headers", []))
                headers.append((b"deprecation", b"true"))
                headers.append((b"link", f'<{API_PREFIX}{path}>; rel="successor-version"'.encode("latin-1", "replace")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_marked)


def _is_alias(route: object, path: str) -> bool:
    return getattr(route, "include_in_schema", False) and unversioned(path) == path
