"""Bounded in-memory sliding windows: failed API-key checks per client address, edits per key.

Per process: with several uvicorn workers each counts on its own (a client may get up to
``workers ×`` the limit). Behind a reverse proxy every client shares the proxy's address unless
uvicorn is started with ``--proxy-headers`` / ``--forwarded-allow-ips`` so that
``request.client.host`` is the real client.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ...service.settings import Settings

MAX_TRACKED = 10_000  # addresses / keys remembered at most; the least recently seen are forgotten


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds per name; at most ``max_names`` names are
    kept (least recently seen dropped first), each with at most ``limit`` timestamps. Thread-safe
    (sync dependencies run in the thread pool)."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_names: int = MAX_TRACKED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_names = max_names
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._events)

    def _current(self, name: str, now: float) -> deque[float] | None:
        q = self._events.get(name)
        if q is None:
            return None
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._events[name]
            return None
        return q

    def _wait(self, q: deque[float] | None, now: float) -> float:
        if q is None or len(q) < self.limit:
            return 0.0
        return max(q[0] + self.window_s - now, 0.001)

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may act again; 0 when it is under the limit now."""
        with self._lock:
            now = self.clock()
            return self._wait(self._current(name, now), now)

    def record(self, name: str) -> None:
        """Count one event of ``name`` (even over the limit)."""
        with self._lock:
            self._add(name, self.clock())

    def acquire(self, name: str) -> float:
        """Count one event of ``name`` if it is under the limit and return 0; else count nothing and
        return the seconds to wait."""
        with self._lock:
            now = self.clock()
            wait = self._wait(self._current(name, now), now)
            if wait == 0.0:
                self._add(name, now)
            return wait

    def _add(self, name: str, now: float) -> None:
        q = self._current(name, now)
        if q is None:
            q = self._events[name] = deque(maxlen=self.limit)
        else:
            self._events.move_to_end(name)
        q.append(now)
        while len(self._events) > self.max_names:
            self._events.popitem(last=False)


class Limits:
    """The API's limits, one set per app (``app.state.limits``)."""

    def __init__(self, settings: Settings) -> None:
        self.failed_keys = SlidingWindow(settings.failed_key_limit, settings.failed_key_window_s)
        self.writes = SlidingWindow(settings.writes_per_minute, 60.0)
