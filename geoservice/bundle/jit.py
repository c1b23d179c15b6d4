"""numba's ``njit`` as mypy can read it, and the array types the kernels take.

numba ships no type information (its imports are skipped by mypy), so a kernel decorated with
``numba.njit`` straight would lose its annotated signature. ``njit`` here is the same decorator
(same options, same on-disk cache keyed by the kernel's own module and name) typed to hand the
kernel back with its signature, so calls to kernels are checked like any other call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numba
import numpy as np
from numpy.typing import NDArray

F = TypeVar("F", bound=Callable[..., object])

Int32s = NDArray[np.int32]
Int64s = NDArray[np.int64]
Int8s = NDArray[np.int8]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def njit(*, cache: bool = True, nogil: bool = False, parallel: bool = False, inline: str = "never") -> Callable[[F], F]:
    """``numba.njit(cache=…, nogil=…, parallel=…, inline=…)``, typed to keep the kernel's signature
    (``inline="always"``: a small helper compiled into each kernel that calls it)."""
    decorate: Callable[[F], F] = numba.njit(cache=cache, nogil=nogil, parallel=parallel, inline=inline)
    return decorate
