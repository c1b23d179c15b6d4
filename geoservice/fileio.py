"""Atomic output: a file or a folder of files appears whole or not at all.

Every writer in geoservice goes through these, so a failed run (bad input found late, a full
disk, Ctrl-C) never leaves a half-written file and never changes an existing output folder; nor
does it leave the missing folders it created for its output behind (empty, they are removed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "atomic_dir", "replace_dir", "OutputBusy", "output_lock"]


class OutputBusy(Exception):
    """Another process holds the lock of an output folder (``output_lock``)."""


@contextmanager
def output_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on output ``path`` (a lock file beside it) for a whole run, so two
    runs writing the same folder cannot both "succeed": the second raises :class:`OutputBusy` at
    once. The lock is the kernel's (``flock``): it goes with the process, even one killed."""
    import fcntl

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(str(target)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, deepest first."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders ``_make_parents`` created, deepest first, while they are empty."""
    for p in created:
        try:
            p.rmdir()
        except OSError:  # not empty (another writer's file): keep it and what holds it
            return


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success it replaces ``path``.
    On failure nothing is left: neither the temporary file nor the folders made for it."""
    target = Path(path)
    created = _make_parents(target.parent)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging folder; on success its files move into ``path`` (created when
    missing, other files in it kept), on failure it is removed and ``path`` is left as it was."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", str(target))
    created = _make_parents(target.parent)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield stage
        target.mkdir(exist_ok=True)
        for f in sorted(stage.iterdir()):
            os.replace(f, target / f.name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(created)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def replace_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty sibling folder; on success it replaces ``path`` as a whole (the old one is
    removed only once the new one is in place), on failure ``path`` is left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield stage
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(stage, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
