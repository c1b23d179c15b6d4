"""What ``geoservice calibrate`` writes, apart from the figures: profile.csv (the hourly factors
in the ``--hourly-profiles`` format), report.json (trips, rejections, the fitted factors with
their uncertainty, the overhead, the held-out errors before and after) and predictions.csv (one
row per trip: what each model predicts, and whether the evaluation scored it)."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from ...analyses.calibration import Calibration, profile_rows
from ...analyses.calibration_metrics import bias_table, distance_band, summary
from ...analyses.calibration_model import (
    FIT_CLASSES,
    HUBER_K,
    PARENT,
    TAU_CLASS,
    TAU_FREE,
    TAU_HOUR,
    TAU_PARENT,
    TAU_PRIORITY,
)
from ...analyses.travel_spread import HOUR_BANDS
from ...sources.trips import REASONS

__all__ = ["MODELS", "predictions_csv", "profile_csv", "report_json", "trips_provenance"]

MODELS = ("free_flow", "before", "after")
"""The models every evaluation table compares: free flow, the hourly profile in force before
(the built-in curve or the one given), and the calibrated factors (held-out)."""
Z95 = 1.959964


def profile_csv(cal: Calibration) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(profile_rows(cal.profile))
    return buf.getvalue()


def _estimate(value: float, se: float, nd: int = 3) -> dict[str, float | None]:
    ok = np.isfinite(se)
    return {
        "estimate": round(value, nd),
        "se": round(se, nd + 1) if ok else None,
        "lo95": round(value - Z95 * se, nd) if ok else None,
        "hi95": round(value + Z95 * se, nd) if ok else None,
    }


def _preds(cal: Calibration) -> dict[str, np.ndarray]:
    return {"free_flow": cal.free_flow, "before": cal.before, "after": cal.after_cv}


def evaluation(cal: Calibration) -> dict[str, Any]:
    """The held-out errors of each model on the scored trips, and the bias tables."""
    s = cal.scored
    obs = cal.observed[s]
    preds = {k: v[s] for k, v in _preds(cal).items()}
    band, band_labels = distance_band(cal.length_km[s])
    return {
        "method": (
            f"{cal.folds}-fold cross-validation: each fold's factors are fitted on the other folds' trips "
            "(along the routes of the last iteration, outliers flagged on those trips), then the fold's trips "
            "are routed under its own factors and predicted; a held-out trip its fold's model calls an outlier "
            "is not scored, for any model. Free flow and the hourly profile in force before have nothing "
            "fitted and are scored on the same trips. Errors are predicted - observed."
        ),
        "folds": cal.folds,
        "trips_scored": int(s.sum()),
        "trips_not_scored": int((np.isfinite(cal.after_cv) & ~s).sum()),
        "before_profile": cal.before_label,
        "models": {k: summary(p, obs).model_dump() for k, p in preds.items()},
        "bias_by_hour": [r.model_dump() for r in bias_table(cal.hour[s], [f"{h:02d}" for h in range(24)], preds, obs)],
        "bias_by_distance": [r.model_dump() for r in bias_table(band, band_labels, preds, obs)],
        "bias_by_road_class": [r.model_dump() for r in bias_table(cal.main_class[s], list(FIT_CLASSES), preds, obs)],
        "in_sample_after": summary(cal.after_fit[s], obs).model_dump(),
        "time_multipliers": _multipliers(obs / preds["after"]),
        "time_multipliers_by_hour_band": _band_multipliers(cal.hour[s], obs / preds["after"]),
    }


def _multipliers(ratio: np.ndarray) -> dict[str, float | None]:
    """Quantiles of observed / predicted among the held-out trips: a prediction times the p90
    multiplier is the time 90% of such trips take at most (the model predicts medians)."""
    ok = ratio[np.isfinite(ratio)]
    return {f"p{q}": (round(float(np.percentile(ok, q)), 3) if len(ok) else None) for q in (10, 25, 50, 75, 80, 90, 95)}


def _band_multipliers(hour: np.ndarray, ratio: np.ndarray) -> dict[str, dict[str, Any]]:
    """``_multipliers`` per departure-hour band (``analyses.travel_spread.HOUR_BANDS``), with the
    number of held-out trips of each: answers at a percentile use the band of their hour."""
    out: dict[str, dict[str, Any]] = {}
    for band, hours in HOUR_BANDS.items():
        r = ratio[np.isin(hour, hours)]
        out[band] = {"trips": int(np.isfinite(r).sum()), **_multipliers(r)}
    return out


def trips_provenance(path: str) -> dict[str, Any]:
    """The trip file's sha256 and the range of its departure dates (None when unreadable)."""
    import hashlib

    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        dates = []
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(line for line in f if not line.startswith("#")):
                d = (row.get("depart") or "").strip()[:10]
                if len(d) == 10 and d[4] == "-" and d[7] == "-":
                    dates.append(d)
    except (OSError, UnicodeDecodeError, csv.Error):
        return {"sha256": None, "date_range": None}
    return {"sha256": h.hexdigest(), "date_range": [min(dates), max(dates)] if dates else None}


def report_json(cal: Calibration, *, region: str, outputs: dict[str, str]) -> dict[str, Any]:
    """The report (see the module); ``outputs`` names the files written beside it."""
    fit, lay = cal.fit, cal.fit.layout
    se = fit.factor_se
    counts: dict[str, int] = {}
    for r in cal.rejected:
        counts[r.reason] = counts.get(r.reason, 0) + 1
    factors = []
    for k, c in enumerate(FIT_CLASSES):
        written = cal.profile[c]
        factors.append(
            {
                "road_class": c,
                "parent": PARENT[c],
                "support_s": round(float(fit.support_s[k].sum()), 1),
                "from_data": bool(fit.support_s[k].sum() > 0),
                "hours": [
                    {
                        "hour": h,
                        "factor": written[h],
                        "se": round(float(se[k, h]), 4) if np.isfinite(se[k, h]) else None,
                        "lo95": round(written[h] - Z95 * float(se[k, h]), 3) if np.isfinite(se[k, h]) else None,
                        "hi95": round(written[h] + Z95 * float(se[k, h]), 3) if np.isfinite(se[k, h]) else None,
                        "support_s": round(float(fit.support_s[k, h]), 1),
                    }
                    for h in range(24)
                ],
            }
        )
    opt = cal.options
    return {
        "region": region,
        "profile": opt.profile,
        "trips_file": cal.trips.path,
        "trips_file_sha256": (prov := trips_provenance(cal.trips.path))["sha256"],
        "date_range": prov["date_range"],
        "crs": cal.trips.crs,
        "crs_check": cal.crs_check,
        "days": opt.days,
        "trips": {
            "read": cal.trips.rows_read,
            "used": int(fit.n_trips),
            "rejected": len(cal.rejected),
            "by_reason": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
            "reasons": {k: REASONS[k] for k in counts},
        },
        "rejections": [r.to_json() for r in cal.rejected],
        "factors_describe": cal.factors_describe,
        "factors": factors,
        "overhead_s": _estimate(*fit.value(lay.i_overhead), nd=1) if lay.overhead else None,
        "priority_factor": _estimate(*fit.value(lay.i_priority)) if lay.priority else None,
        "model": {
            "prediction": (
                "overhead + m * sum over road classes of (free-flow seconds of the route on the class) x "
                "factor[class, departure hour] + the walks between the trip's ends and their roads at 5 km/h "
                "(unscaled); m is the priority factor for trips with lights and sirens when fitted, else 1"
            ),
            "fit": (
                "robust penalised least squares on log(observed / predicted) (scipy.optimize.least_squares, "
                f"trust-region reflective, Huber loss at {HUBER_K} robust sd); factors are medians of the time"
            ),
            "sharing": {
                "smoothness_across_hours_tau": TAU_HOUR,
                "class_to_parent_tau": TAU_CLASS,
                "parent_to_all_roads_tau": TAU_PARENT,
                "all_roads_to_free_flow_tau": TAU_FREE,
                "priority_to_1_tau": TAU_PRIORITY,
                "parents": {c: PARENT[c] for c in FIT_CLASSES},
            },
            "uncertainty": (
                "Gauss-Newton covariance of the penalised fit at its solution x robust scale^2 (95%: ±1.96 se)"
            ),
            "sigma_log": round(fit.sigma, 4),
            "outlier_rule": f"|log residual - median| > {opt.outlier_z:g} x sigma: reported, not fitted",
            "top_speed_kmh": round(cal.top_speed_kmh, 1),
            "iterations": [
                {
                    "iteration": it.number,
                    "trips_fitted": it.trips_fitted,
                    "outliers": it.outliers,
                    "sigma_log": it.sigma,
                    "routes_changed": it.routes_changed,
                    "routes_faster": it.routes_faster,
                    "seconds": round(it.seconds, 2),
                }
                for it in cal.iterations
            ],
            "converged": cal.converged,
            "convergence_rule": (
                f"at most {100 * opt.route_tolerance:g}% of the trips took a route more than "
                f"{100 * opt.tie_tolerance:g}% faster than their previous one under the new factors"
            ),
        },
        "evaluation": evaluation(cal),
        "timings_s": {k: round(v, 2) for k, v in cal.timings.items()},
        "outputs": outputs,
        "use": (
            "geoservice matrix … --depart HH:MM --hourly-profiles profile.csv (every command with --depart takes "
            "it); the overhead is not in the file: add it to door-to-door times where it applies"
        ),
    }


def predictions_csv(cal: Calibration) -> str:
    """One row per trip that reached the fit: its predictions (seconds) and status."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row", "trip_id", "hour", "observed_s", "free_flow_s", "before_s", "after_s", "fold", "status"])
    t = cal.trips
    for k, i in enumerate(cal.index):
        if not np.isfinite(cal.free_flow[k]):
            continue
        status = "outlier" if cal.outlier[k] else ("scored" if cal.scored[k] else "not_scored")
        w.writerow(
            [
                int(t.row[i]),
                t.trip_id[i],
                int(cal.hour[k]),
                f"{cal.observed[k]:.1f}",
                f"{cal.free_flow[k]:.1f}",
                f"{cal.before[k]:.1f}",
                f"{cal.after_cv[k]:.1f}",
                int(cal.fold[k]),
                status,
            ]
        )
    return buf.getvalue()
