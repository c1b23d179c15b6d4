"""The one error type for bad input, shared by every layer and turned into a reply by every face.

A :class:`GeoserviceError` is a *user* error: the input is wrong and the message says how to fix
it. ``field`` names the input in snake_case (``min_snap_m``, ``lon``, ``remove_ids``); the CLI
shows it as a flag (``--remove-ids``, mapped per command where a flag is named otherwise) with
exit status 2, the API as ``{"detail": "<field>: <message>", "field": "<field>"}`` with
``status`` (422 unless a subclass says otherwise). An :class:`UnavailableError` is not bad input but
a service that cannot answer now (its database): 503 with ``Retry-After`` in the API, one line and
exit status 75 in the CLI. Anything else that escapes is a program bug
and is reported as one (a traceback in the CLI, a 500 in the API), never disguised as bad input.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GeoserviceError", "NotFoundError", "ConflictError", "InputFileError", "UnavailableError"]


class GeoserviceError(Exception):
    """Bad input; ``field`` names it, ``message`` says what is wrong and how to fix it."""

    status: int = 422

    def __init__(self, field: str | None, message: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.extra = extra
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message

    def with_field(self, field: str) -> GeoserviceError:
        """The same error under another field name (e.g. a point of ``destinations``)."""
        self.field = field
        return self


class NotFoundError(GeoserviceError):
    """The thing named does not exist (an id, a region, a point in no region)."""

    status = 404


class ConflictError(GeoserviceError):
    """The request clashes with the stored state (an id that exists already)."""

    status = 409


class InputFileError(GeoserviceError):
    """A file given as input is missing or unreadable as a whole."""


class UnavailableError(GeoserviceError):
    """The service cannot answer now, through no fault of the request (its database is unreachable,
    or kept failing with deadlocks); trying again after ``retry_after`` seconds may succeed."""

    status = 503

    def __init__(self, field: str | None, message: str, *, retry_after: int = 1) -> None:
        super().__init__(field, message, retry_after=max(1, int(retry_after)))
