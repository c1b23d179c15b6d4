"""The manual served at ``/guide/``: a MkDocs site (``mkdocs.yml`` and ``docs/`` at the top of the
source tree), built offline from this checkout and kept in ``geoservice/faces/web/guide/``.

The site is built when it is missing or out of date, i.e. when a ``.build-key`` beside it does not
match the hash of the docs, ``mkdocs.yml`` and the package's code (the reference pages are made
from the code): by ``scripts/test.sh`` (``python -m geoservice.faces.guide build --strict``), or by
the server itself in a background thread on the first request to ``/guide/`` (that request gets a
page saying the manual is being built, which reloads itself; an older site, if any, is served
meanwhile). Nothing is fetched from the network: MkDocs, Material and the search index are local.

An installation without the docs sources (a wheel) serves a site shipped with it, else a page
saying how to build the manual.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .generated import generated_files

log = logging.getLogger(__name__)

__all__ = ["GuideSite", "guide", "main"]

SOURCE_ROOT = Path(__file__).resolve().parents[3]
"""The checkout holding mkdocs.yml and docs/ (for an editable or source install)."""
PACKAGE_DIR = Path(__file__).resolve().parents[2]
SITE_DIR = Path(__file__).resolve().parents[1] / "web" / "guide"
KEY_FILE = ".build-key"


def _cache_site_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geoservice" / "guide"


class GuideSite:
    """Where the built manual lives, whether it is current, and building it (once at a time)."""

    def __init__(self, source: Path = SOURCE_ROOT, site: Path | None = None) -> None:
        self.source = source
        self.config = source / "mkdocs.yml"
        if site is None:
            site = SITE_DIR if os.access(SITE_DIR.parent, os.W_OK) else _cache_site_dir()
        self.site = site
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._key: str | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------------ state
    @property
    def has_sources(self) -> bool:
        return self.config.is_file() and (self.source / "docs").is_dir()

    def key(self) -> str:
        """Hash of everything the site is made from: the docs, mkdocs.yml and the package's code."""
        if self._key is None:
            generated = {self.source / "docs" / g for g in generated_files()}  # written by the build itself
            h = hashlib.sha256()
            files = [self.config, *sorted((self.source / "docs").rglob("*")), *sorted(PACKAGE_DIR.rglob("*.py"))]
            for f in files:
                if f.is_file() and "__pycache__" not in f.parts and f not in generated:
                    h.update(f.as_posix().encode())
                    h.update(f.read_bytes())
            self._key = h.hexdigest()
        return self._key

    def built(self) -> bool:
        return (self.site / "index.html").is_file()

    def current(self) -> bool:
        """Built, and from the sources as they are now (a site without sources is taken as it is)."""
        if not self.built():
            return False
        if not self.has_sources:
            return True
        stamp = self.site / KEY_FILE
        return stamp.is_file() and stamp.read_text().strip() == self.key()

    @property
    def building(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ building
    def build(self, *, strict: bool = False, site: Path | None = None) -> Path:
        """Build the site with MkDocs (in a child process) into ``site`` (default: this site's folder,
        replaced only when the build succeeded). Raises ``RuntimeError`` with MkDocs' output on failure."""
        if not self.has_sources:
            raise RuntimeError(f"no manual sources at {self.source} (mkdocs.yml, docs/)")
        dest = site or self.site
        dest.parent.mkdir(parents=True, exist_ok=True)
        key = self.key()
        with _file_lock(dest.parent / f".{dest.name}.lock"):
            if site is None and not strict and self.current():
                return dest
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
            cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(self.config), "-d", str(tmp)]
            cmd.append("--strict" if strict else "--no-strict")
            env = dict(
                os.environ,
                NO_MKDOCS_2_WARNING="1",
                PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH")])),
            )
            proc = subprocess.run(cmd, cwd=self.source, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                raise RuntimeError(f"mkdocs build failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}".strip())
            (tmp / KEY_FILE).write_text(key + "\n")
            old = dest.with_name(f".{dest.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            if dest.exists():
                dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        return dest

    def start_build(self) -> None:
        """Build in a background thread unless one is running (the server's first request)."""
        with self._lock:
            if self.building or not self.has_sources:
                return

            def run() -> None:
                try:
                    self.build()
                    self.last_error = None
                    log.info("manual built into %s", self.site)
                except Exception as exc:  # shown on /guide/ and logged; the server goes on
                    self.last_error = str(exc)
                    log.warning("the manual could not be built: %s", exc)

            self._thread = threading.Thread(target=run, name="guide-build", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """One build at a time across processes (the workers of ``serve --workers N``)."""
    try:
        import fcntl
    except ImportError:  # Windows: the in-process lock only
        yield
        return
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_GUIDE: GuideSite | None = None


def guide() -> GuideSite:
    """The process's manual site."""
    global _GUIDE
    if _GUIDE is None:
        _GUIDE = GuideSite()
    return _GUIDE


def main(argv: list[str] | None = None) -> int:
    """``python -m geoservice.faces.guide build [--strict] [--site-dir DIR]``."""
    ap = argparse.ArgumentParser(
        prog="python -m geoservice.faces.guide", description="build the manual served at /guide/"
    )
    ap.add_argument("action", choices=["build"])
    ap.add_argument("--strict", action="store_true", help="a MkDocs warning (a broken link) fails the build")
    ap.add_argument("--site-dir", type=Path, help="build into this folder instead of the one /guide/ serves")
    args = ap.parse_args(argv)
    g = guide()
    try:
        out = g.build(strict=args.strict, site=args.site_dir)
    except RuntimeError as exc:
        print(f"geoservice: error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"manual built into {out}", file=sys.stderr)  # noqa: T201
    return 0
