"""Heavy requests (coverage, what-if, service areas, ``/plans/*``) run in a child process that is
killed when the request's deadline passes, so that a request answered 503 stops using the CPU.

A thread cannot be interrupted: before this, a planning request that ran over
``request_timeout_s`` was answered 503 and then went on computing for minutes. Now the route's
thread forks the worker (the child shares the loaded regions copy-on-write and starts at once),
the child computes the answer and sends it back pickled through a pipe, and the thread waits
for it until the deadline (:data:`DEADLINE`, set by :class:`.middleware.TimeLimit`). At the
deadline the child's whole process group (a solver it started included) is killed with
SIGKILL and the request gets 503.

The child runs at a lower CPU priority (``heavy_nice``) and on every CPU the worker may use but
the first, so the workers' own requests (the citizens' ``/nearest``, edits) come first and always
find a CPU free of heavy work (on 2 cores, planning gets one); it dies with its worker (Linux
``PR_SET_PDEATHSIG``); it never answers HTTP, touches no socket of the worker (they are
pointed at ``/dev/null``), takes no lock another thread of the worker held at the fork (the
service's and engine's locks are made anew) and opens its own registry connection if it needs
one. What it added to a region's answer cache comes back with the answer and is kept, unless
the region's facilities changed meanwhile.

Where a fork is unsafe or impossible the work runs in the thread as before (not cancellable):
without ``os.fork`` (not POSIX), and in a process that has already run GNU OpenMP threads
(numba's parallel kernels; a forked child would be terminated by them). ``serve`` workers run
no parallel kernel themselves: those run only inside heavy requests, in the children.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ...errors import GeoserviceError
from ...service.core import GeoService

log = logging.getLogger(__name__)

__all__ = ["DEADLINE", "cancellable", "run_in_child", "fork_is_safe", "ChildTimeout"]

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("geoservice_deadline", default=None)
"""``time.monotonic()`` by which the current request must be answered (set by TimeLimit)."""

F = TypeVar("F", bound=Callable[..., Any])
_HEADER = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1
_KEEP: list[Any] = []  # objects of the parent a child must not finalise (its registry connection)


class ChildTimeout(GeoserviceError):
    """The request's deadline passed while its child process was computing (503)."""

    status = 503


def fork_is_safe() -> bool:
    """Whether this process may fork a child that computes: POSIX, and no GNU OpenMP threads
    started here (numba's omp layer terminates a child forked after it ran)."""
    if not hasattr(os, "fork"):
        return False
    par = sys.modules.get("numba.np.ufunc.parallel")
    return not (par is not None and getattr(par, "_is_initialized", False) and par._threading_layer == "omp")


# --------------------------------------------------------------------------- in the child
def _silence_sockets(keep: int) -> None:
    """Point every socket the child inherited (listening socket, clients' connections, the event
    loop's wake-up pair, database connections) at /dev/null: the child holds no connection open
    and cannot write to one. The descriptors stay taken, so no object's later close hits a file
    the child opened."""
    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:
        return
    null = os.open(os.devnull, os.O_RDWR)
    import stat

    for fd in fds:
        if fd in (keep, null) or fd < 3:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)


class _LazyRegistry:
    """The child's registry: its own connection, opened on first use (most heavy requests never
    touch the registry: their facilities are already in the engine)."""

    def __init__(self, parent: Any) -> None:
        self._parent = parent
        self._own: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._own is None:
            self._own = self._parent.reopened()
        return getattr(self._own, name)


def _fresh_locks(svc: GeoService) -> None:
    """Locks another thread of the worker may have held at the fork, made anew (that thread does
    not exist in the child, so it would never release them)."""
    svc._lock = threading.RLock()
    for e in svc.regions.values():
        e.lock = threading.Lock()
        e.reload_lock = threading.Lock()
        e.cache._lock = threading.Lock()
        eng = e.engine_
        for router in getattr(eng, "routers", {}).values() if eng is not None else ():
            if hasattr(router, "_metrics_lock"):
                router._metrics_lock = threading.Lock()
    from ...engine import contours, isochrone

    isochrone._FREE_LOCK = threading.Lock()
    contours._POOL_LOCK = threading.Lock()


def _child_setup(svc: GeoService | None, nice: int, tmp: str, pipe_w: int, parent: int) -> None:
    os.setpgid(0, 0)  # its own process group: killed with whatever it starts (a solver)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the worker died before the line above
        os._exit(1)
    # the worker's signal handlers would write to its event loop's wake-up socket
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for sig in ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD"):
        if hasattr(signal, sig):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(getattr(signal, sig), signal.SIG_DFL)
    _silence_sockets(pipe_w)
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    with contextlib.suppress(OSError, AttributeError):  # one CPU stays free of heavy work (Linux)
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, cpus[1:])
            numba = sys.modules.get("numba")
            if numba is not None:  # its parallel kernels: one thread per CPU left to the child
                with contextlib.suppress(Exception):
                    numba.set_num_threads(len(cpus) - 1)
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = tmp
    if svc is not None:
        _fresh_locks(svc)
        if svc.registry is not None:
            _KEEP.append(svc.registry)  # never closed here: it is the worker's connection
            svc.registry = _LazyRegistry(svc.registry)  # type: ignore[assignment]


def _portable(exc: BaseException) -> tuple[str, Any]:
    """An exception as something the parent can unpickle: our errors keep their class and fields."""
    if isinstance(exc, GeoserviceError):
        state = (type(exc), exc.args, dict(exc.__dict__))
        try:
            pickle.loads(pickle.dumps(state))
            return "geo", state
        except Exception:
            return "geo", (GeoserviceError, exc.args, dict(exc.__dict__))
    return "bug", "".join(traceback.format_exception(exc))


def _cache_keys(svc: GeoService | None) -> dict[str, set[Any]]:
    if svc is None:
        return {}
    return {name: set(e.cache._data) for name, e in svc.regions.items()}


def _new_cache_items(svc: GeoService | None, before: dict[str, set[Any]]) -> list[tuple[str, int, Any, Any]]:
    if svc is None:
        return []
    out = []
    for name, e in svc.regions.items():
        for key, value in list(e.cache._data.items()):
            if key not in before.get(name, ()):
                out.append((name, e.version, key, value))
    return out


def _child(
    fn: Callable[..., Any], args: tuple[object, ...], kwargs: dict[str, object], svc: GeoService | None, pipe_w: int
) -> None:
    before = _cache_keys(svc)
    try:
        msg: tuple[str, Any, Any] = ("ok", fn(*args, **kwargs), None)
        try:
            msg = ("ok", msg[1], _new_cache_items(svc, before))
            data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an unpicklable cache entry: the answer alone
            data = pickle.dumps(("ok", msg[1], []), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:
        kind, detail = _portable(exc)
        data = pickle.dumps((kind, detail, None), protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        n = os.write(pipe_w, view)
        view = view[n:]


# --------------------------------------------------------------------------- in the parent
def _read_answer(fd: int, deadline: float) -> bytes | None:
    """The child's message, or None when the deadline passed first (EOFError if it died)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    buf = bytearray()
    want = _HEADER.size
    while len(buf) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not poller.poll(min(left, 3600.0) * 1000):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise EOFError("the child process ended without an answer")
        buf += chunk
        if want == _HEADER.size and len(buf) >= _HEADER.size:
            want = _HEADER.size + _HEADER.unpack_from(buf)[0]
    return bytes(buf[_HEADER.size :])


def _reap(pid: int, kill: bool) -> None:
    """Wait for the child; first, if ``kill``, SIGKILL its process group (anything it started)."""
    if kill:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _same(value: Any) -> Any:
    return value


def _keep_cache(svc: GeoService | None, items: list[tuple[str, int, Any, Any]]) -> None:
    """What the child added to the answer caches, kept if the region has not changed since."""
    if svc is None:
        return
    for name, version, key, value in items:
        e = svc.regions.get(name)
        if e is None:
            continue
        with e.lock:
            if e.version == version:
                e.cache.get_or_compute(key, functools.partial(_same, value))


def run_in_child(
    fn: Callable[..., Any],
    args: tuple[object, ...] = (),
    kwargs: dict[str, object] | None = None,
    *,
    deadline: float,
    svc: GeoService | None = None,
    nice: int = 0,
    on_start: Callable[[int], None] | None = None,
) -> Any:
    """``fn(*args, **kwargs)`` computed in a forked child; its result (or its error, re-raised)
    by ``deadline`` (``time.monotonic()``), else the child is killed and :class:`ChildTimeout`
    raised. ``on_start(pid)`` is told the child's process id (tests)."""
    kwargs = kwargs or {}
    r, w = os.pipe()
    tmp = tempfile.mkdtemp(prefix="geoservice-heavy-")
    parent = os.getpid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, fork may deadlock": handled
        pid = os.fork()
    if pid == 0:  # ------------------------------------------------------------ the child
        code = 0
        try:
            os.close(r)
            _child_setup(svc, nice, tmp, w, parent)
            _child(fn, args, kwargs, svc, w)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    # ------------------------------------------------------------------------------ the parent
    os.close(w)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also here, so that a kill right after the fork reaches the group
    if on_start is not None:
        on_start(pid)
    killed = True
    try:
        data = _read_answer(r, deadline)
        if data is None:
            raise ChildTimeout(
                "request",
                "took longer than its time limit (request_timeout_s); its computation was stopped; "
                "try again later or ask for less",
                retry_after=1,
            )
        killed = False
    except EOFError:
        raise RuntimeError("the heavy request's child process died without an answer") from None
    finally:
        os.close(r)
        _reap(pid, kill=killed)
        shutil.rmtree(tmp, ignore_errors=True)
    kind, payload, cache = pickle.loads(data)
    if kind == "ok":
        _keep_cache(svc, cache or [])
        return payload
    if kind == "geo":
        cls, exc_args, state = payload
        exc = cls.__new__(cls)
        exc.args = exc_args
        exc.__dict__.update(state)
        raise exc
    raise RuntimeError(f"the heavy request failed in its child process:\n{payload}")


_warned = False


def _warn_in_thread() -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "heavy requests run in this process's threads (not stopped at their deadline): it cannot fork "
            "safely (no os.fork, or GNU OpenMP threads already started here)"
        )


def cancellable(fn: F) -> F:
    """Run the (sync) route ``fn`` in a child process stopped at the request's deadline
    (module docstring). The route keeps its signature, so FastAPI sees the same parameters; its
    ``svc`` argument gives the settings and the caches to keep."""

    @functools.wraps(fn)
    def route(*args: Any, **kwargs: Any) -> Any:
        svc = kwargs.get("svc")
        svc = svc if isinstance(svc, GeoService) else None
        if not fork_is_safe():
            _warn_in_thread()
            return fn(*args, **kwargs)
        settings = svc.settings if svc is not None else None
        if svc is not None:  # loaded here, once, not in every child (``serve`` loads them all at start)
            for name in svc.regions:
                svc.entry(name)
        deadline = DEADLINE.get()
        if deadline is None:
            deadline = time.monotonic() + (settings.server.request_timeout_s if settings is not None else 30.0)
        nice = settings.server.heavy_nice if settings is not None else 0
        return run_in_child(fn, args, kwargs, deadline=deadline, svc=svc, nice=nice)

    return route  # type: ignore[return-value]
