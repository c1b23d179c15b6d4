"""Bulk reads (isochrones, layers) run on threads of their own at a lower CPU priority, so that
a worker's event loop (which admits, refuses and answers every request, ``/nearest`` included)
is not left waiting behind them when the machine is busy.

Sync routes normally run on the event loop's shared thread pool at the worker's priority: under
a flood of isochrones the loop thread competes for the CPU with them, and a refusal that costs a
fraction of a millisecond waits for a time slice. Routes decorated with :func:`low_priority` run
on a per-process pool whose threads lowered their own priority once when they started (Linux
sets the nice value per thread; an unprivileged thread can lower its priority, never raise it
back, hence threads of their own). The answer's JSON is written there too (a pydantic answer
becomes the JSON FastAPI would have made of it: by alias, nothing left out), not on the event loop,
which otherwise spends milliseconds per large answer serialising it while requests wait. Like a
route on the shared pool, a request answered 503 at its time limit keeps its slot of the class
until its thread has finished (a thread cannot be stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

__all__ = ["READ_NICE", "low_priority"]

READ_NICE = 5
"""Nice increment of the bulk-read threads (the event loop stays at the worker's priority)."""
MAX_THREADS = 64  # the read class's slots bound how many run at once; this only caps the pool

F = TypeVar("F")
_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _lower_this_thread() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the thread keeps the priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), READ_NICE)


def _pool() -> ThreadPoolExecutor:
    """This process's pool (a worker forked from a process that had one makes its own)."""
    global _POOL, _POOL_LOCK
    if _POOL is not None and _POOL[0] == os.getpid():
        return _POOL[1]
    if _POOL is not None:  # forked: the parent's lock and threads are not ours
        _POOL_LOCK = threading.Lock()
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="bulk-read", initializer=_lower_this_thread)
            _POOL = (os.getpid(), pool)
        return _POOL[1]


def _answer(fn: Any, *args: Any, **kwargs: Any) -> Any:
    out = fn(*args, **kwargs)
    if isinstance(out, BaseModel):
        return Response(out.model_dump_json(by_alias=True), media_type="application/json")
    return out


def low_priority(fn: F) -> F:
    """Run the sync route ``fn`` on the lower-priority pool (module docstring); FastAPI sees the
    same parameters (the wrapper is async and keeps ``fn``'s signature)."""

    @functools.wraps(fn)  # type: ignore[arg-type]
    async def route(*args: Any, **kwargs: Any) -> Any:
        ctx = contextvars.copy_context()  # the request's deadline and the like
        call = functools.partial(ctx.run, _answer, fn, *args, **kwargs)
        fut = asyncio.get_running_loop().run_in_executor(_pool(), call)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            await asyncio.wait({fut})  # the thread cannot be stopped: hold the slot until it ends
            raise

    return route  # type: ignore[return-value]
