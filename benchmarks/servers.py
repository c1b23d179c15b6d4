"""Local servers for the tests and the benchmarks: ``geoservice serve`` in a child process, or
uvicorn in a thread, on a free port of 127.0.0.1 only; the server's processes and a raw
kept-alive HTTP/1.1 connection whose server-side worker can be found (Linux /proc).

One module for what ``tests/api/test_auth_limits.py``, ``tests/api/test_load_shedding.py``,
``tests/test_workers.py``, ``tests/browser/conftest.py`` and ``benchmarks/api.py`` each used to
spell out."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only


class ServerError(RuntimeError):
    """The server exited or did not answer /health in time (the message holds its log's tail)."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 free at the time of asking."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running ``geoservice serve``: its process (a session leader), port and base URL."""

    proc: subprocess.Popen
    port: int
    log: Path | None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop(self.proc)


def serve(
    regions: Sequence[Path | str],
    db: Path | str,
    *,
    workers: int = 1,
    log: Path | None = None,
    settings: Mapping[str, str] | None = None,
    src: Path | str | None = None,
    start_timeout_s: float = 120.0,
) -> Served:
    """``geoservice serve`` on a free loopback port in a new session (``stop`` ends the whole
    group), with no GEOSERVICE_* variable of ours but ``settings`` (``{"writes_per_minute": "5"}``
    becomes ``GEOSERVICE_WRITES_PER_MINUTE=5``); output appended to ``log`` (else discarded,
    the last error lines kept for the failure message). ``src``: serve another checkout's code.
    Returns once ``/health`` answers 200; raises ``ServerError`` when it exits or times out."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSERVICE_")}
    env.update({f"GEOSERVICE_{k.upper()}": str(v) for k, v in (settings or {}).items()})
    cmd = [sys.executable, "-m", "geoservice", "serve", "--db", str(db), "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    for r in regions:
        cmd += ["--region", str(r)]
    cwd = REPO
    if src is not None:
        cwd = Path(src)
        env["PYTHONPATH"] = str(cwd)
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    err = subprocess.STDOUT if log is not None else subprocess.PIPE
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
    served = Served(proc, port, log)
    deadline = time.time() + start_timeout_s
    while True:
        if proc.poll() is not None:
            raise ServerError(f"serve exited ({proc.returncode}): {_tail(served)}")
        try:
            if httpx.get(served.base + "/health", timeout=2).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            stop(proc)
            raise ServerError(f"serve did not start in {start_timeout_s:.0f} s: {_tail(served)}")
        time.sleep(0.2)


def _tail(served: Served) -> str:
    if served.log is not None and served.log.exists():
        return served.log.read_text(errors="replace")[-2000:]
    if served.proc.stderr is not None and served.proc.poll() is not None:
        return served.proc.stderr.read().decode(errors="replace")[-2000:]
    return ""


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL after 20 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def serving(regions: Sequence[Path | str], db: Path | str, **kw: Any) -> Iterator[Served]:
    """``serve`` for a ``with`` block, stopped at its end."""
    served = serve(regions, db, **kw)
    try:
        yield served
    finally:
        served.stop()


@contextmanager
def uvicorn_in_thread(app: Any, start_timeout_s: float = 30.0) -> Iterator[str]:
    """An ASGI app served by uvicorn in a daemon thread of this process on a free loopback port;
    yields its base URL and stops it at the end of the block."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + start_timeout_s
    while not server.started:
        if time.time() > deadline or not t.is_alive():
            raise ServerError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        t.join(timeout=10)


# --------------------------------------------------------------------------- processes (Linux /proc)
def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a server's workers)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, IndexError, ValueError):
                continue
    return out


def worker_of(sock: socket.socket, server_port: int, pids: Sequence[int]) -> int | None:
    """Which of ``pids`` holds the server side of this loopback connection."""
    mine = sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == server_port and int(f[2].split(":")[1], 16) == mine:
            inode = f[9]
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class RawConn:
    """One kept-alive HTTP/1.1 connection (blocking), whose server-side worker can be found."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=30)
        self.buf = b""

    def request(
        self, method: str, path: str, body: bytes | dict | None = None, headers: dict[str, str] | None = None
    ) -> int:
        """Send one request, read its whole answer, return its status code (``body``: raw bytes, or
        a dict sent as JSON)."""
        extra = dict(headers or {})
        if isinstance(body, dict):
            data = json.dumps(body).encode()
            extra.setdefault("Content-Type", "application/json")
        else:
            data = body or b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(data)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        self.sock.sendall(head.encode() + b"\r\n" + data)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        top, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = top.split(b"\r\n")
        length = next(int(v) for k, _, v in (h.partition(b":") for h in lines[1:]) if k.lower() == b"content-length")
        while len(self.buf) < length:
            self.buf += self._recv()
        self.buf = self.buf[length:]
        return int(lines[0].split()[1])

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        return chunk

    def worker(self, pids: Sequence[int]) -> int | None:
        """Which of ``pids`` holds the server side of this connection."""
        return worker_of(self.sock, self.port, pids)

    def close(self) -> None:
        self.sock.close()
