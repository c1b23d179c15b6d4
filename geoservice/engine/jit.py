"""``numba.njit`` for typed kernels: numba is untyped, so a kernel decorated with ``njit`` itself
would lose its annotations for mypy (and its callers their checking). ``jit(**options)`` is
``njit(**options)``, typed as giving back the function it compiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from numba import njit

__all__ = ["jit"]

F = TypeVar("F", bound=Callable[..., object])


def jit(*, cache: bool = True, nogil: bool = False, parallel: bool = False, inline: str = "never") -> Callable[[F], F]:
    """``numba.njit`` with these options (numba's defaults but ``cache``), keeping the kernel's
    Python signature for the type checker."""
    decorator: Callable[[F], F] = njit(cache=cache, nogil=nogil, parallel=parallel, inline=inline)
    return decorator
