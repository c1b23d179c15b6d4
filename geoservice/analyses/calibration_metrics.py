"""How far predicted trip times are from observed ones: the error summaries and bias tables of a
calibration report (one set per model: free flow, the hourly profile in force before, the fit).

Errors are ``predicted - observed`` (positive: the model is too slow). Every figure is a median
or a share, so a few wild trips do not move it: the median absolute error in seconds and in
percent of the observed time, the shares within 1, 2 and 5 minutes, and the median signed error
(the bias) by departure hour, by route length and by the road class a route spends most of its
free-flow time on.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

__all__ = ["BiasCell", "BiasRow", "ErrorSummary", "DISTANCE_BANDS_KM", "bias_table", "summary"]

DISTANCE_BANDS_KM: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0, 20.0, float("inf"))


class ErrorSummary(BaseModel):
    """Errors of one model's predictions over a set of trips."""

    trips: int
    median_abs_error_s: float | None = Field(description="median |predicted - observed|, seconds")
    median_abs_error_pct: float | None = Field(description="median |predicted - observed| / observed, percent")
    within_1min: float | None = Field(description="share of trips predicted within ±1 minute")
    within_2min: float | None
    within_5min: float | None
    median_error_s: float | None = Field(description="median predicted - observed (bias; > 0: too slow)")
    median_error_pct: float | None


class BiasCell(BaseModel):
    median_error_s: float | None
    median_error_pct: float | None


class BiasRow(BaseModel):
    """The bias of each model among the trips of one hour, distance band or road class."""

    key: str
    trips: int
    models: dict[str, BiasCell]


def _r(v: float, nd: int = 1) -> float | None:
    return None if not np.isfinite(v) else round(float(v), nd)


def summary(pred: np.ndarray, obs: np.ndarray) -> ErrorSummary:
    """The error summary of predictions ``pred`` of observed times ``obs`` (seconds)."""
    pred, obs = np.asarray(pred, float), np.asarray(obs, float)
    ok = np.isfinite(pred) & np.isfinite(obs)
    e = pred[ok] - obs[ok]
    if not len(e):
        return ErrorSummary(
            trips=0,
            median_abs_error_s=None,
            median_abs_error_pct=None,
            within_1min=None,
            within_2min=None,
            within_5min=None,
            median_error_s=None,
            median_error_pct=None,
        )
    pct = 100.0 * e / obs[ok]
    return ErrorSummary(
        trips=len(e),
        median_abs_error_s=_r(np.median(np.abs(e))),
        median_abs_error_pct=_r(np.median(np.abs(pct)), 2),
        within_1min=_r(np.mean(np.abs(e) <= 60), 4),
        within_2min=_r(np.mean(np.abs(e) <= 120), 4),
        within_5min=_r(np.mean(np.abs(e) <= 300), 4),
        median_error_s=_r(np.median(e)),
        median_error_pct=_r(np.median(pct), 2),
    )


def bias_table(keys: np.ndarray, labels: list[str], preds: dict[str, np.ndarray], obs: np.ndarray) -> list[BiasRow]:
    """One row per key value that has trips (``labels[k]`` names key ``k``), with each model's
    median error among them."""
    out = []
    for k, label in enumerate(labels):
        sel = keys == k
        n = int(sel.sum())
        if not n:
            continue
        cells = {}
        for name, p in preds.items():
            e = p[sel] - obs[sel]
            cells[name] = BiasCell(
                median_error_s=_r(np.median(e)), median_error_pct=_r(np.median(100.0 * e / obs[sel]), 2)
            )
        out.append(BiasRow(key=label, trips=n, models=cells))
    return out


def distance_band(length_km: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Band index of each route length and the bands' labels (``0-2 km`` … ``20+ km``)."""
    edges = DISTANCE_BANDS_KM
    idx = np.clip(np.searchsorted(edges, length_km, side="right") - 1, 0, len(edges) - 2)
    labels = [f"{lo:g}-{hi:g} km" if np.isfinite(hi) else f"{lo:g}+ km" for lo, hi in zip(edges, edges[1:])]
    return idx, labels
