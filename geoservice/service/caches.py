"""Bounded caches: every cache in geoservice has a size limit, so no request can grow memory.

A :class:`BoundedCache` holds at most ``max_entries`` values and, when given ``max_bytes``, at
most that many bytes (each value's size estimated once, when stored: :func:`estimate_bytes`);
caches sharing a :class:`CacheBudget` (every region of a service) hold at most its bytes
together. Beyond any limit the least recently used values go first (across the caches of a
budget: the one used longest ago, whichever region holds it). A value larger than a limit is
answered but not kept.

Keys that are :class:`StableKey` name values that depend only on what their key says (a
facility's service area keyed by its position, travel mode, minutes and traffic), not on the
facility table: an edit clears the rest (``clear(keep_stable=True)``) and keeps them.
"""

from __future__ import annotations

import os
import sys
import threading
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np
import shapely

V = TypeVar("V")

__all__ = ["BoundedCache", "CacheBudget", "StableKey", "estimate_bytes"]

ENTRY_OVERHEAD = 200
"""Bytes of bookkeeping counted per entry (the key, the map's slot, the size and use records)."""


class StableKey(tuple[Any, ...]):
    """A cache key whose value depends only on the key (see the module docstring)."""

    __slots__ = ()


class CacheBudget:
    """Bytes that several caches may hold together (see the module docstring)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_bytes = int(max_bytes)
        self.used = 0
        self._lock = threading.Lock()
        self._caches: weakref.WeakSet[BoundedCache[Any]] = weakref.WeakSet()
        _AFTER_FORK.add(self)

    def _add(self, n: int) -> None:
        with self._lock:
            self.used += n

    def _fresh_lock(self) -> None:
        self._lock = threading.Lock()

    def enforce(self) -> None:
        """Drop the least recently used values of the member caches until they fit."""
        while self.used > self.max_bytes:
            heads = [(c._head_tick(), id(c), c) for c in list(self._caches)]
            heads = [h for h in heads if h[0] is not None]
            if not heads:
                return
            victim = min(heads, key=lambda h: (h[0], h[1]))[2]
            victim._drop_oldest()


class BoundedCache(Generic[V]):
    """A thread-safe least-recently-used map holding at most ``max_entries`` values and, when
    given, ``max_bytes`` bytes (and its share of ``budget``); see the module docstring."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int | None = None,
        *,
        budget: CacheBudget | None = None,
        sizeof: Callable[[Any], int] | None = None,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.budget = budget
        self.sizeof = sizeof or estimate_bytes
        self._data: OrderedDict[Hashable, V] = OrderedDict()  # least recently used first
        self._sizes: dict[Hashable, int] = {}
        self._ticks: dict[Hashable, int] = {}
        self.bytes = 0
        self.evicted = 0  # values dropped to stay within the limits (tests, logs)
        self._lock = threading.Lock()
        if budget is not None:
            budget._caches.add(self)
        _AFTER_FORK.add(self)

    @property
    def counted(self) -> bool:
        """Whether sizes are counted (a byte limit or a budget applies)."""
        return self.max_bytes is not None or self.budget is not None

    def get(self, key: Hashable) -> V | None:
        """The cached value (now the most recently used), else None."""
        with self._lock:
            if key not in self._data:
                return None
            self._touch(key)
            return self._data[key]

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value, else ``compute()`` stored (computed outside the lock)."""
        with self._lock:
            if key in self._data:
                self._touch(key)
                return self._data[key]
        value = compute()
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: V, nbytes: int | None = None) -> bool:
        """Store ``value`` (``nbytes``: its size, else estimated); False when it is larger than a
        byte limit (not kept). A value already stored under ``key`` is kept as it is."""
        size = 0
        if self.counted:
            size = (self.sizeof(value) if nbytes is None else int(nbytes)) + ENTRY_OVERHEAD
            limits = [b for b in (self.max_bytes, self.budget.max_bytes if self.budget else None) if b is not None]
            if limits and size > min(limits):
                return False
        with self._lock:
            if key in self._data:
                self._touch(key)
                return True
            self._data[key] = value
            self._sizes[key] = size
            self._ticks[key] = _tick()
            self.bytes += size
            if self.budget is not None:
                self.budget._add(size)
            while len(self._data) > self.max_entries or (self.max_bytes is not None and self.bytes > self.max_bytes):
                self._pop_oldest()
        if self.budget is not None:
            self.budget.enforce()
        return True

    def clear(self, *, keep_stable: bool = False) -> None:
        """Drop every value (with ``keep_stable``: all but those under a :class:`StableKey`)."""
        with self._lock:
            for key in [k for k in self._data if not (keep_stable and isinstance(k, StableKey))]:
                self._remove(key)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    # ------------------------------------------------------------------ internals (lock held)
    def _touch(self, key: Hashable) -> None:
        self._data.move_to_end(key)
        if key in self._ticks:
            self._ticks[key] = _tick()

    def _remove(self, key: Hashable) -> None:
        self._data.pop(key, None)
        size = self._sizes.pop(key, 0)
        self._ticks.pop(key, None)
        self.bytes -= size
        if self.budget is not None and size:
            self.budget._add(-size)

    def _pop_oldest(self) -> None:
        key = next(iter(self._data))
        self._remove(key)
        self.evicted += 1

    def _head_tick(self) -> int | None:
        """When the least recently used value was last used (None: empty)."""
        with self._lock:
            if not self._data:
                return None
            return self._ticks.get(next(iter(self._data)), 0)

    def _drop_oldest(self) -> None:
        with self._lock:
            if self._data:
                self._pop_oldest()

    def _fresh_lock(self) -> None:
        self._lock = threading.Lock()


# ---------------------------------------------------------------------- use order across caches
_clock = 0
_clock_lock = threading.Lock()


def _tick() -> int:
    global _clock
    with _clock_lock:
        _clock += 1
        return _clock


class _Locked:
    """Caches and budgets whose locks a forked child makes anew: a thread of the parent that
    held one at the fork does not exist in the child and would never release it."""

    def __init__(self) -> None:
        self._items: weakref.WeakSet[Any] = weakref.WeakSet()

    def add(self, item: Any) -> None:
        self._items.add(item)

    def after_fork(self) -> None:
        global _clock_lock
        _clock_lock = threading.Lock()
        for item in list(self._items):
            item._fresh_lock()


_AFTER_FORK = _Locked()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_AFTER_FORK.after_fork)


# ---------------------------------------------------------------------- sizes
_TUPLE2 = sys.getsizeof((0.0, 0.0))
_FLOAT = sys.getsizeof(0.0)
_NOT_WALKED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def estimate_bytes(obj: Any, limit: int = 1_000_000) -> int:
    """About how many bytes ``obj`` holds: containers walked (each object once), arrays and
    tables by their buffers, a value's own ``cache_nbytes`` when it has one. GeoJSON positions
    (lists of number pairs) are counted by their length, not one by one; ``limit`` bounds the
    objects visited (the rest counted as the mean so far)."""
    seen: set[int] = set()
    stack = [obj]
    total = 0
    visited = 0
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        visited += 1
        if visited > limit:
            return int(total * (1 + len(stack) / visited))
        own = getattr(type(o), "cache_nbytes", None)
        if own is not None and not isinstance(o, type):
            total += int(o.cache_nbytes)
            continue
        if isinstance(o, (str, bytes, bytearray, int, float, bool, type(None), complex)):
            total += sys.getsizeof(o)
        elif isinstance(o, np.ndarray):
            total += o.nbytes + 112
        elif isinstance(o, dict):
            total += sys.getsizeof(o)
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            total += sys.getsizeof(o)
            if o and _is_position(o[0]):
                # a ring of positions: every item a pair of floats
                total += len(o) * (_TUPLE2 + 2 * _FLOAT)
            else:
                stack.extend(o)
        elif isinstance(o, (set, frozenset)):
            total += sys.getsizeof(o)
            stack.extend(o)
        elif _is_table(o):
            try:
                total += int(o.memory_usage(index=True, deep=False).sum())
            except Exception:
                total += sys.getsizeof(o)
        elif _is_geometry(o):
            total += 24 * int(shapely.get_num_coordinates(o)) + 200
        elif isinstance(o, _NOT_WALKED):
            continue
        else:
            total += sys.getsizeof(o)
            d = getattr(o, "__dict__", None)
            if d is not None:
                stack.append(d)
            for name in getattr(type(o), "__slots__", ()):
                if hasattr(o, name):
                    stack.append(getattr(o, name))
            extra = getattr(o, "__pydantic_extra__", None)
            if extra:
                stack.append(extra)
    return total


def _is_position(o: Any) -> bool:
    return isinstance(o, (tuple, list)) and len(o) == 2 and isinstance(o[0], float) and isinstance(o[1], float)


def _is_table(o: Any) -> bool:
    mod = type(o).__module__
    return mod.startswith(("pandas", "geopandas")) and hasattr(o, "memory_usage")


def _is_geometry(o: Any) -> bool:
    return type(o).__module__.startswith("shapely")
