"""Shared pieces of the covering models: demand rows with the same coverage merged, and the solver.

Two demand points covered by exactly the same candidate sites (and the same existing ones) are
one row of a covering model with their weights added: the optimum is the same and the model is
often ten times smaller on a city network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import GeoserviceError

if TYPE_CHECKING:
    import pulp

__all__ = ["merge_rows", "cbc", "check_add"]


def merge_rows(
    pattern: np.ndarray, weights: np.ndarray, key: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique patterns, summed weights, unique keys) of the rows of a boolean ``pattern`` matrix
    with an optional integer ``key`` per row that must also agree (e.g. the existing coverage)."""
    pattern = np.asarray(pattern, bool)
    n = pattern.shape[0]
    key = np.zeros(n, np.int64) if key is None else np.asarray(key, np.int64)
    if n == 0:
        return pattern, np.zeros(0), key
    packed = np.packbits(pattern, axis=1) if pattern.shape[1] else np.zeros((n, 0), np.uint8)
    table = np.concatenate([key[:, None].astype(np.int64), packed.astype(np.int64)], axis=1)
    uniq, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    summed = np.zeros(len(uniq))
    np.add.at(summed, inverse.ravel(), weights)
    return pattern[first], summed, key[first]


def cbc() -> pulp.LpSolver:
    """The CBC solver shipped with PuLP, quiet."""
    import pulp  # lazy: PuLP is loaded only when a model is solved

    return pulp.PULP_CBC_CMD(msg=False)


def check_add(add: int, n_candidates: int, *, field: str = "add") -> None:
    """``add`` new sites must be a whole number from 1 to the number of candidates."""
    if not isinstance(add, (int, np.integer)) or isinstance(add, bool) or add < 1:
        raise GeoserviceError(field, f"the number of new sites must be a whole number >= 1, got {add!r}")
    if add > n_candidates:
        raise GeoserviceError(field, f"{add} new site(s) asked but there are only {n_candidates} candidate site(s)")
