"""Calibrate hourly travel-time factors per road class from observed trips (``geoservice calibrate``).

The steps, each in its own module:

1. the trips are read and checked row by row (``sources.trips``), then on the network
   (``calibration_routes``: coordinate system, off the network, too short, too fast, no route);
2. routes and fit alternate until the routes stop changing: every trip is routed under the
   current factors of its departure hour (free flow at first), the factors are fitted along
   those routes (``calibration_model``: robust, penalised, in logs), the trips re-routed under
   the new factors; it stops when at most ``route_tolerance`` of the trips took a route that is
   more than ``tie_tolerance`` faster under the new factors than their previous one (a dense
   city has many near-equal routes, which swap on the smallest change of a factor and change no
   time), or after ``max_iterations``. Trips the fit cannot explain (a robust residual beyond
   ``outlier_z`` scale units: a 3-hour "trip", a GPS fix on the wrong road) are flagged as
   outliers at every fit, reported and left out of the next one;
3. the factors are judged on held-out trips only: K folds, each fold's factors fitted on the
   other folds (along the final routes, outliers flagged on its own training trips), its trips
   routed under its own factors and predicted; a held-out trip its fold's model calls an
   outlier is not scored (for any model). Free flow and the hourly profile in force before
   (the built-in curve, or ``--hourly-profiles``) are scored on the same trips.

The factors written are rounded to 3 decimals, and every prediction (the routes of the last
iteration, the held-out ones) uses them as written, so the times ``matrix --depart HH:MM
--hourly-profiles profile.csv`` gives are the ones evaluated, plus the overhead, which is kept
out of the file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..engine.engine import Engine
from ..engine.trip_paths import RouteParts
from ..errors import GeoserviceError
from ..sources.speeds import CLASS_INDEX, ROAD_CLASSES
from ..sources.trips import Rejection, Trips
from .calibration_model import (
    FIT_CLASSES,
    HOURS,
    Fit,
    Layout,
    ModelData,
    fit_model,
    predict,
    robust_scale,
    with_covariance,
)
from .calibration_routes import TripNetwork, prepare

__all__ = ["CalibrationOptions", "Calibration", "Iteration", "calibrate", "factor_tables", "profile_rows"]

log = logging.getLogger(__name__)
Hourly = dict[str, tuple[float, ...]]
_FIT_COLS = np.array([CLASS_INDEX[c] for c in FIT_CLASSES], np.int64)
_OTHER_COLS = np.array([i for i in range(len(ROAD_CLASSES)) if i not in set(_FIT_COLS.tolist())], np.int64)
MIN_PRIORITY_TRIPS = 20


@dataclass(frozen=True)
class CalibrationOptions:
    profile: str = "drive"
    folds: int = 5
    overhead: bool = True
    days: str = "all"  # all | weekday | weekend
    max_iterations: int = 8
    route_tolerance: float = 0.01
    tie_tolerance: float = 0.01
    outlier_z: float = 4.0
    min_trips: int = 30
    seed: int = 0


@dataclass(frozen=True)
class Iteration:
    """One round of routing and fitting: trips fitted, outliers, the robust scale, how many
    trips took another route under the new factors, and the seconds it took."""

    number: int
    trips_fitted: int
    outliers: int
    sigma: float
    routes_changed: int
    routes_faster: int  # of those, how many are more than tie_tolerance faster than the old route
    seconds: float


@dataclass
class Calibration:
    """The fitted factors and everything the report says about them (see the module)."""

    options: CalibrationOptions
    trips: Trips
    rejected: list[Rejection]
    fit: Fit
    profile: dict[str, tuple[float, ...]]  # the factors as written (3 decimals), per fitted class
    iterations: list[Iteration]
    converged: bool
    folds: int
    # per kept trip (positions in trips): observed and predictions, for the evaluation
    index: np.ndarray
    observed: np.ndarray
    hour: np.ndarray
    length_km: np.ndarray
    main_class: np.ndarray  # index in FIT_CLASSES of the class with most free-flow seconds
    free_flow: np.ndarray
    before: np.ndarray
    after_cv: np.ndarray
    after_fit: np.ndarray
    scored: np.ndarray  # bool: in the held-out evaluation
    outlier: np.ndarray  # bool: flagged by the final fit
    fold: np.ndarray
    priority_fitted: bool
    factors_describe: str
    crs_check: dict[str, Any] | None  # CrsCheck.to_meta(): the JSON figures of the check
    top_speed_kmh: float
    before_label: str
    timings: dict[str, float] = field(default_factory=dict)


def factor_tables(layout: Layout, x: np.ndarray) -> tuple[dict[str, tuple[float, ...]], list[dict[str, float]]]:
    """The factors of ``x`` rounded as written (3 decimals): per class, and per hour the
    congestion table (classes at 1.0 left out, as ``scenario_for_depart`` gives it)."""
    f = layout.factors(x)
    written = {c: tuple(float(f"{v:.3f}") for v in f[k]) for k, c in enumerate(FIT_CLASSES)}
    tables = [{c: v[h] for c, v in written.items() if v[h] != 1.0} for h in range(HOURS)]
    return written, tables


def profile_rows(profile: dict[str, tuple[float, ...]]) -> list[list[str]]:
    """The rows of profile.csv (header first): ``road_class,h00,…,h23``."""
    return [["road_class", *(f"h{h:02d}" for h in range(HOURS))]] + [
        [c, *(f"{v:.3f}" for v in vals)] for c, vals in profile.items()
    ]


def _data(parts: RouteParts, hour: np.ndarray, prio: np.ndarray, obs: np.ndarray) -> ModelData:
    fixed = parts.access_s + parts.group_s[:, _OTHER_COLS].sum(axis=1)
    return ModelData(parts.group_s[:, _FIT_COLS], fixed, hour, prio, obs)


def _fit_flagging(
    layout: Layout, d: ModelData, use: np.ndarray, z: float, x0: np.ndarray | None, sigma: float | None
) -> tuple[Fit, np.ndarray]:
    """Fit on the trips ``use``, flag outliers among them (see ``CalibrationOptions.outlier_z``)
    and refit without them, at the robust scale of the kept trips' residuals, until the flags and
    the scale settle (at most 4 rounds); (fit, outlier flags over all trips of ``d``). The scale
    sets the Huber threshold and the weight of the penalties, so it is the fit's own."""
    out = np.zeros(len(d.observed), bool)
    for _ in range(4):
        fit = fit_model(layout, d.take(np.flatnonzero(use & ~out)), x0=x0, sigma=sigma, covariance=False)
        r = fit.residuals(d)
        kept = r[use & ~out]
        s = max(robust_scale(kept), 1e-3)
        new = use & (np.abs(r - np.median(kept)) > z * s)
        x0 = fit.x
        if np.array_equal(new, out) and abs(s - fit.sigma) <= 0.02 * fit.sigma:
            break
        out, sigma = new, s
    return fit, out


def calibrate(
    engine: Engine,
    trips: Trips,
    *,
    region: str,
    before: Hourly,
    before_label: str,
    options: CalibrationOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """``_calibrate`` with the BLAS library on one thread: its threads spin while the routing
    kernels' threads run, which made a run three times slower on two cores."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _calibrate(
            engine, trips, region=region, before=before, before_label=before_label, options=options, progress=progress
        )


def _calibrate(
    engine: Engine,
    trips: Trips,
    *,
    region: str,
    before: Hourly,
    before_label: str,
    options: CalibrationOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Calibrate the factors of ``options.profile`` from ``trips`` on ``engine``'s region
    (see the module); ``before`` are the hourly factors in force, scored beside the fit."""
    opt = options or CalibrationOptions()
    say = progress or (lambda s: log.info(s))
    t_start = time.perf_counter()
    rejected = list(trips.rejected)
    if opt.days != "all":
        want = opt.days == "weekday"
        other = np.flatnonzero(trips.weekday != want)
        for i in other:
            rejected.append(Rejection(int(trips.row[i]), trips.trip_id[i], "excluded_days", f"not a {opt.days} trip"))
        trips = trips.take(np.flatnonzero(trips.weekday == want))
    tn, more = prepare(engine, trips, opt.profile, region=region)
    rejected += more
    keep = tn.keep
    obs = trips.observed_s[keep]
    hour = trips.hour[keep]
    prio = trips.priority[keep] if trips.priority is not None else np.zeros(len(keep), bool)
    timings = {"prepare_s": time.perf_counter() - t_start}
    free: list[dict[str, float]] = [{} for _ in range(HOURS)]
    routes = tn.route(free, hour)
    timings["first_routes_s"] = time.perf_counter() - t_start - timings["prepare_s"]
    reach = np.isfinite(routes.time_s)
    for i in np.flatnonzero(~reach):
        k = int(keep[i])
        rejected.append(
            Rejection(int(trips.row[k]), trips.trip_id[k], "no_route", "no road route joins origin and destination")
        )
    _enough(int(reach.sum()), trips.rows_read, rejected, opt, trips.path)
    free_flow = routes.time_s.copy()
    n_prio = int(prio[reach].sum())
    fit_prio = MIN_PRIORITY_TRIPS <= n_prio <= int(reach.sum()) - MIN_PRIORITY_TRIPS
    describe = (
        "trips without lights and sirens (priority trips: times the priority factor)"
        if fit_prio
        else ("trips with lights and sirens" if n_prio else "the trips given (no priority column or no priority trip)")
    )
    layout = Layout(overhead=opt.overhead, priority=fit_prio)

    # --- routes and fit until the routes stop changing
    x0: np.ndarray | None = None
    sigma: float | None = None
    history: list[Iteration] = []
    converged = False
    outlier = np.zeros(len(keep), bool)
    for it in range(1, opt.max_iterations + 1):
        t0 = time.perf_counter()
        d_fit = _data(routes, hour, prio, obs)
        fit, outlier = _fit_flagging(layout, d_fit, reach, opt.outlier_z, x0, sigma)
        x0, sigma = fit.x, fit.sigma
        written, tables = factor_tables(layout, fit.x)
        f_new = np.array([written[c] for c in FIT_CLASSES])
        new = tn.route(tables, hour)
        changed = reach & (new.signature != routes.signature)
        # the old route under the new factors, against the new one (both without the overhead)
        old_t = predict(layout, fit.x, d_fit, f_new) - (fit.x[layout.i_overhead] if layout.overhead else 0.0)
        new_t = predict(layout, fit.x, _data(new, hour, prio, obs), f_new) - (
            fit.x[layout.i_overhead] if layout.overhead else 0.0
        )
        faster = int((changed & (old_t - new_t > opt.tie_tolerance * new_t)).sum())
        routes = new
        history.append(
            Iteration(
                it,
                fit.n_trips,
                int(outlier.sum()),
                round(fit.sigma, 4),
                int(changed.sum()),
                faster,
                time.perf_counter() - t0,
            )
        )
        say(
            f"iteration {it}: {fit.n_trips} trips fitted, {int(outlier.sum())} outliers, {int(changed.sum())} routes "
            f"changed, {faster} of them faster by more than {100 * opt.tie_tolerance:g}%"
        )
        if faster <= opt.route_tolerance * reach.sum():
            converged = True
            break
    d = _data(routes, hour, prio, obs)
    fit = with_covariance(fit, d_fit.take(np.flatnonzero(reach & ~outlier)))
    written, tables = factor_tables(layout, fit.x)
    f_written = np.array([written[c] for c in FIT_CLASSES])
    after_fit = np.where(reach, predict(layout, fit.x, d, f_written), np.inf)
    timings["iterations_s"] = sum(h.seconds for h in history)

    # --- held-out evaluation
    t0 = time.perf_counter()
    after_cv, scored, fold = _held_out(_Kept(tn, hour, prio, obs), layout, d, reach, fit, opt, say)
    timings["cross_validation_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    before_tables = [{c: v[h] for c, v in before.items() if v[h] != 1.0} for h in range(HOURS)]
    before_pred = tn.route(before_tables, hour).time_s
    timings["before_s"] = time.perf_counter() - t0
    rejected += _outliers(trips, keep, outlier, after_fit, opt.outlier_z, fit.sigma)
    main = np.argmax(d.X, axis=1)
    timings["total_s"] = time.perf_counter() - t_start
    return Calibration(
        options=opt,
        trips=trips,
        rejected=sorted(rejected, key=lambda r: r.row),
        fit=fit,
        profile=written,
        iterations=history,
        converged=converged,
        folds=opt.folds,
        index=keep,
        observed=obs,
        hour=hour,
        length_km=routes.length_m / 1000.0,
        main_class=main,
        free_flow=free_flow,
        before=before_pred,
        after_cv=after_cv,
        after_fit=after_fit,
        scored=scored & reach,
        outlier=outlier,
        fold=fold,
        priority_fitted=fit_prio,
        factors_describe=describe,
        crs_check=tn.crs_check,
        top_speed_kmh=tn.top_speed_kmh,
        before_label=before_label,
        timings=timings,
    )


@dataclass(frozen=True)
class _Kept:
    """The trips a run keeps: their routes on the network (``tn``), departure hour, priority flag
    and observed time (positions as in ``tn.keep``)."""

    tn: TripNetwork
    hour: np.ndarray
    prio: np.ndarray
    obs: np.ndarray


def _held_out(
    kept: _Kept,
    layout: Layout,
    d: ModelData,
    reach: np.ndarray,
    fit: Fit,
    opt: CalibrationOptions,
    say: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``opt.folds``-fold cross-validation of ``fit``: (the time each trip is predicted when held
    out, whether it is scored (no outlier of its fold's fit), its fold; -1: unreachable)."""
    n = len(kept.obs)
    rng = np.random.default_rng(opt.seed)
    fold = np.full(n, -1)
    idx = np.flatnonzero(reach)
    fold[idx] = rng.permutation(len(idx)) % opt.folds
    after_cv = np.full(n, np.inf)
    scored = np.zeros(n, bool)
    for k in range(opt.folds):
        train = reach & (fold != k)
        held = np.flatnonzero(fold == k)
        fk, _ = _fit_flagging(layout, d, train, opt.outlier_z, fit.x, fit.sigma)
        wk, tk = factor_tables(layout, fk.x)
        parts = kept.tn.route(tk, kept.hour[held], held)
        dh = _data(parts, kept.hour[held], kept.prio[held], kept.obs[held])
        after_cv[held] = predict(layout, fk.x, dh, np.array([wk[c] for c in FIT_CLASSES]))
        rk = fk.residuals(d.take(np.flatnonzero(train)))
        r = np.log(kept.obs[held] / after_cv[held])
        scored[held] = np.abs(r - np.median(rk)) <= opt.outlier_z * max(robust_scale(rk), 1e-3)
        say(f"fold {k + 1}/{opt.folds}: {len(held)} held-out trips")
    return after_cv, scored, fold


def _outliers(
    trips: Trips, keep: np.ndarray, outlier: np.ndarray, after_fit: np.ndarray, z: float, sigma: float
) -> list[Rejection]:
    """The kept trips (positions in ``keep``) the final fit flags as outliers, as rejections."""
    out: list[Rejection] = []
    for i in np.flatnonzero(outlier):
        k = int(keep[i])
        obs = trips.observed_s[k]
        out.append(
            Rejection(
                int(trips.row[k]),
                trips.trip_id[k],
                "outlier",
                f"observed {obs:.0f} s, the fitted model predicts {after_fit[i]:.0f} s "
                f"(log ratio {np.log(obs / after_fit[i]):+.2f}, limit ±{z:g} x {sigma:.3f})",
            )
        )
    return out


def _enough(usable: int, total: int, rejected: list[Rejection], opt: CalibrationOptions, path: str) -> None:
    """An error when too few trips are left to fit (naming why the others were left out)."""
    need = max(opt.min_trips, 2 * opt.folds)
    if usable >= need:
        return
    counts: dict[str, int] = {}
    for r in rejected:
        counts[r.reason] = counts.get(r.reason, 0) + 1
    why = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    raise GeoserviceError(
        "trips",
        f"only {usable} of the {total} trips of {path} can be fitted ({why or 'none rejected'}); "
        f"at least {need} are needed, nothing fitted",
    )
