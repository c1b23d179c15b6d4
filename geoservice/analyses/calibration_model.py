"""The statistical model of travel-time calibration: hourly factors per road class fitted to
observed trips along given routes (a robust, penalised least-squares fit with scipy).

Model. A trip ``i`` departing in hour ``h`` along its route is predicted to take

    pred_i = overhead + m_i * sum_c X[i, c] * f[c, h] + fixed_i

where ``X[i, c]`` are the free-flow seconds of the route on road class ``c`` (the partial road
pieces at both ends included), ``f[c, h]`` the travel-time factor of class ``c`` in hour ``h``
(1 = free flow, the factors of the ``--hourly-profiles`` format), ``fixed_i`` what no factor
scales (the two off-network legs walked at 5 km/h, and classes not fitted), ``overhead`` a fixed
per-trip time (turn-out, parking), kept out of the speeds, and ``m_i`` a multiplier for trips
with lights and sirens (1 for the others, fitted only when a file has both kinds).

Noise is multiplicative (lognormal: a trip takes e^eps times its median time), so the fit
minimises robust losses of the log ratios ``r_i = log(observed_i / pred_i)``: scipy's
``least_squares`` (trust-region reflective, sparse Jacobian, bounds) with the Huber loss at
1.345 robust standard deviations on the trips, so a few wild trips pull little, while the
penalty rows below stay quadratic. The fitted factors are medians of the travel time, not means.

Sharing strength (the penalty rows, Gaussian priors on differences, each weighted so that a
difference of ``tau`` costs as much as a trip one standard deviation off):

* smoothness across hours: ``f[c, h] - f[c, h+1]`` with ``TAU_HOUR`` (the day is a circle);
* shrinkage towards the parent class: ``f[c, h] - g[p(c), h]`` (motorway and motorway_link share
  the parent ``motorway``, …, the local roads share ``local``) with ``TAU_CLASS``; parents towards
  the hour's all-road level ``G[h]`` with ``TAU_PARENT``; ``G[h]`` towards free flow with
  ``TAU_FREE`` (weak). Parents and levels are smoothed across hours too.

So a class or hour with few trips borrows from its parent and its neighbouring hours, and one
with none gets its parent's factor, while a few thousand trips decide the classes they use.

Uncertainty: the Gauss-Newton covariance of the penalised fit at its solution (the Huber
weights included), ``sigma^2 (J'J)^-1``, with ``sigma`` the robust scale (1.4826 MAD) of the
log residuals: standard errors and 95% intervals of every factor, the overhead and ``m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import least_squares

from ..sources.speeds import DRIVE_CLASSES, ROAD_CLASSES

__all__ = [
    "FIT_CLASSES",
    "PARENT",
    "PARENTS",
    "Fit",
    "Layout",
    "ModelData",
    "fit_model",
    "robust_scale",
    "with_covariance",
]

FIT_CLASSES: tuple[str, ...] = tuple(c for c in ROAD_CLASSES if c in DRIVE_CLASSES)
PARENT: dict[str, str] = {
    c: (
        c.removesuffix("_link")
        if c.split("_")[0] in ("motorway", "trunk", "primary", "secondary", "tertiary")
        else "local"
    )
    for c in FIT_CLASSES
}
PARENTS: tuple[str, ...] = tuple(dict.fromkeys(PARENT.values()))
HOURS = 24
TAU_HOUR = 0.10
TAU_CLASS = 0.15
TAU_PARENT = 0.5
TAU_FREE = 1.0
TAU_PRIORITY = 0.5
HUBER_K = 1.345
FACTOR_BOUNDS = (0.2, 20.0)
OVERHEAD_BOUNDS = (0.0, 1800.0)
PRIORITY_BOUNDS = (0.3, 2.0)


def robust_scale(r: np.ndarray) -> float:
    """1.4826 x the median absolute deviation from the median (a standard deviation for normal
    data, unmoved by outliers)."""
    r = np.asarray(r, float)
    if len(r) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


@dataclass(frozen=True)
class Layout:
    """Where each parameter sits in the vector: f (class x hour), g (parent x hour), G (hour),
    then the overhead and the priority multiplier when fitted."""

    overhead: bool
    priority: bool

    @property
    def n_f(self) -> int:
        return len(FIT_CLASSES) * HOURS

    @property
    def n_g(self) -> int:
        return len(PARENTS) * HOURS

    @property
    def i_overhead(self) -> int:
        return self.n_f + self.n_g + HOURS if self.overhead else -1

    @property
    def i_priority(self) -> int:
        return self.n_f + self.n_g + HOURS + int(self.overhead) if self.priority else -1

    @property
    def size(self) -> int:
        return self.n_f + self.n_g + HOURS + int(self.overhead) + int(self.priority)

    def f_index(self, c: int, h: int) -> int:
        return c * HOURS + h

    def g_index(self, p: int, h: int) -> int:
        return self.n_f + p * HOURS + h

    def G_index(self, h: int) -> int:
        return self.n_f + self.n_g + h

    def start(self) -> np.ndarray:
        x = np.ones(self.size)
        if self.overhead:
            x[self.i_overhead] = 30.0
        return x

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.full(self.size, FACTOR_BOUNDS[0])
        hi = np.full(self.size, FACTOR_BOUNDS[1])
        if self.overhead:
            lo[self.i_overhead], hi[self.i_overhead] = OVERHEAD_BOUNDS
        if self.priority:
            lo[self.i_priority], hi[self.i_priority] = PRIORITY_BOUNDS
        return lo, hi

    def factors(self, x: np.ndarray) -> np.ndarray:
        """(classes, 24) factors of a parameter vector."""
        return np.asarray(x[: self.n_f]).reshape(len(FIT_CLASSES), HOURS)


@dataclass(frozen=True)
class ModelData:
    """What the fit sees of each trip: ``X`` (n, classes) free-flow seconds per fitted class,
    ``fixed`` seconds no factor scales, ``hour``, ``priority`` (bool) and ``observed``."""

    X: np.ndarray
    fixed: np.ndarray
    hour: np.ndarray
    priority: np.ndarray
    observed: np.ndarray

    def take(self, idx: np.ndarray) -> ModelData:
        return ModelData(self.X[idx], self.fixed[idx], self.hour[idx], self.priority[idx], self.observed[idx])


def predict(layout: Layout, x: np.ndarray, d: ModelData, factors: np.ndarray | None = None) -> np.ndarray:
    """Predicted seconds of every trip under parameters ``x`` (or the given (classes, 24)
    ``factors`` with x's overhead and multiplier)."""
    f = layout.factors(x) if factors is None else factors
    road = np.einsum("ic,ic->i", d.X, f[:, d.hour].T)
    if layout.priority:
        road = np.where(d.priority, x[layout.i_priority] * road, road)
    ov = x[layout.i_overhead] if layout.overhead else 0.0
    out: np.ndarray = ov + road + d.fixed
    return out


def _penalties(layout: Layout) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """Penalty rows P (each a combination of parameters, minus a target) as a sparse matrix, their
    targets t, their tau (the residual of row k is (P x - t)_k / tau_k), and how many come first
    that are smoothness rows (Huber, so a real jump between two hours costs linearly)."""
    smooth: list[tuple[list[tuple[int, float]], float]] = []
    shrink: list[tuple[list[tuple[int, float]], float, float]] = []
    par = [PARENTS.index(PARENT[c]) for c in FIT_CLASSES]
    for k in range(HOURS):
        nxt = (k + 1) % HOURS  # the day is a circle
        G0, G1 = layout.G_index(k), layout.G_index(nxt)
        smooth.append(([(G0, 1.0), (G1, -1.0)], TAU_HOUR))
        shrink.append(([(G0, 1.0)], 1.0, TAU_FREE))
        for p in range(len(PARENTS)):  # a parent's departure from the all-road level, smooth
            g0, g1 = layout.g_index(p, k), layout.g_index(p, nxt)
            smooth.append(([(g0, 1.0), (G0, -1.0), (g1, -1.0), (G1, 1.0)], TAU_HOUR))
            shrink.append(([(g0, 1.0), (G0, -1.0)], 0.0, TAU_PARENT))
        for c, p in enumerate(par):  # a class's departure from its parent, smooth
            f0, f1 = layout.f_index(c, k), layout.f_index(c, nxt)
            g0, g1 = layout.g_index(p, k), layout.g_index(p, nxt)
            smooth.append(([(f0, 1.0), (g0, -1.0), (f1, -1.0), (g1, 1.0)], TAU_HOUR))
            shrink.append(([(f0, 1.0), (g0, -1.0)], 0.0, TAU_CLASS))
    if layout.priority:
        shrink.append(([(layout.i_priority, 1.0)], 1.0, TAU_PRIORITY))
    terms = [t for t, _ in smooth] + [t for t, _, _ in shrink]
    ri = np.array([k for k, t in enumerate(terms) for _ in t], np.int64)
    ci = np.array([i for t in terms for i, _ in t], np.int64)
    vals = np.array([v for t in terms for _, v in t])
    P = sp.csr_matrix((vals, (ri, ci)), shape=(len(terms), layout.size))
    target = np.array([0.0] * len(smooth) + [t for _, t, _ in shrink])
    tau = np.array([t for _, t in smooth] + [t for _, _, t in shrink])
    return P, target, tau, len(smooth)


@dataclass(frozen=True)
class Fit:
    """A fitted parameter vector with its covariance, the robust scale ``sigma`` of the log
    residuals it was fitted with, and how many trips it used."""

    layout: Layout
    x: np.ndarray
    cov: np.ndarray
    sigma: float
    n_trips: int
    support_s: np.ndarray  # (classes, 24) free-flow seconds of the trips fitted, per class and hour

    @property
    def factors(self) -> np.ndarray:
        return self.layout.factors(self.x)

    @property
    def factor_se(self) -> np.ndarray:
        se = np.sqrt(np.maximum(np.diag(self.cov), 0.0))
        return se[: self.layout.n_f].reshape(len(FIT_CLASSES), HOURS)

    def value(self, i: int) -> tuple[float, float]:
        """(estimate, standard error) of parameter ``i``."""
        return float(self.x[i]), float(np.sqrt(max(self.cov[i, i], 0.0)))

    def residuals(self, d: ModelData) -> np.ndarray:
        """log(observed / predicted) of trips ``d``."""
        res: np.ndarray = np.log(d.observed) - np.log(predict(self.layout, self.x, d))
        return res


class _Problem:
    """The least-squares problem of one fit: residuals, their sparse Jacobian (its pattern built
    once, the trips' values refreshed), and the callable robust loss (see ``fit_model``)."""

    def __init__(self, layout: Layout, d: ModelData, sigma: float):
        self.layout, self.d, self.sigma = layout, d, sigma
        n = len(d.observed)
        self.P, self.target, tau, n_smooth = _penalties(layout)
        self.pen_w = sigma / tau
        # one column per fitted class of a trip (in its hour), plus the overhead and the multiplier
        self.ii, self.cc = np.nonzero(d.X > 0)
        rows, cols = [self.ii], [self.cc * HOURS + d.hour[self.ii]]
        self.pr = np.flatnonzero(d.priority) if layout.priority else np.zeros(0, np.int64)
        if layout.overhead:
            rows.append(np.arange(n))
            cols.append(np.full(n, layout.i_overhead))
        if layout.priority:
            rows.append(self.pr)
            cols.append(np.full(len(self.pr), layout.i_priority))
        R, C = np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)
        pattern = sp.csr_matrix((np.arange(1.0, len(R) + 1), (R, C)), shape=(n, layout.size))
        self.order = pattern.data.astype(np.int64) - 1
        self.J = sp.vstack([pattern, sp.diags(self.pen_w) @ self.P]).tocsr()
        self.n_data = len(R)
        self.logobs = np.log(d.observed)
        self.huber_rows = n + n_smooth

    def fun(self, x: np.ndarray) -> np.ndarray:
        r = self.logobs - np.log(predict(self.layout, x, self.d))
        return np.concatenate([r, self.pen_w * (self.P @ x - self.target)])

    def jac(self, x: np.ndarray) -> sp.csr_matrix:
        lay, d, ii, cc = self.layout, self.d, self.ii, self.cc
        pred = predict(lay, x, d)
        m = np.where(d.priority, x[lay.i_priority], 1.0) if lay.priority else np.ones(len(pred))
        vals = [-m[ii] * d.X[ii, cc] / pred[ii]]
        if lay.overhead:
            vals.append(-1.0 / pred)
        if lay.priority:
            pr = self.pr
            road = np.einsum("ic,ic->i", d.X[pr], lay.factors(x)[:, d.hour[pr]].T)
            vals.append(-road / pred[pr])
        self.J.data[: self.n_data] = np.concatenate(vals)[self.order]
        return self.J.copy()  # scipy scales it in place for the robust loss

    def loss(self, z: np.ndarray) -> np.ndarray:
        """Huber on the trips' and the smoothness rows, quadratic on the shrinkage rows (scipy's
        callable loss of z = (residual / f_scale)^2: rho, rho', rho'')."""
        out = np.empty((3, len(z)))
        out[0], out[1], out[2] = z, 1.0, 0.0
        zh = z[: self.huber_rows]
        big = np.flatnonzero(zh > 1.0)
        s = np.sqrt(zh[big])
        out[0, big] = 2.0 * s - 1.0
        out[1, big] = 1.0 / s
        out[2, big] = -0.5 / (zh[big] * s)
        return out

    def covariance(self, x: np.ndarray) -> np.ndarray:
        """sigma^2 (J'WJ)^-1 at ``x``, W the curvature of the robust loss per row (as scipy scales
        the Jacobian: a trip in Huber's linear part adds nothing)."""
        J = self.jac(x)
        f = self.fun(x) / (HUBER_K * self.sigma)
        rho = self.loss(f * f)
        w = np.maximum(rho[1] + 2 * rho[2] * f * f, 1e-12)
        JtWJ = (J.T @ sp.diags(w) @ J).toarray()
        return self.sigma**2 * np.linalg.pinv(JtWJ, hermitian=True)

    def support(self) -> np.ndarray:
        out = np.zeros((len(FIT_CLASSES), HOURS))
        np.add.at(out, (self.cc, self.d.hour[self.ii]), self.d.X[self.ii, self.cc])
        return out


def fit_model(
    layout: Layout,
    d: ModelData,
    *,
    x0: np.ndarray | None = None,
    sigma: float | None = None,
    covariance: bool = True,
) -> Fit:
    """The robust penalised fit of ``layout``'s parameters to trips ``d`` (see the module).
    ``sigma`` is the scale of the log residuals that sets the Huber threshold and the weight of
    the penalties (default: the robust scale of the residuals at ``x0``, at least 0.02). Without
    ``covariance`` the covariance is left as NaN (it costs a dense inverse: ``with_covariance``)."""
    x0 = layout.start() if x0 is None else np.asarray(x0, float).copy()
    lo, hi = layout.bounds()
    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
    if sigma is None:
        sigma = max(robust_scale(np.log(d.observed) - np.log(predict(layout, x0, d))), 0.02)
    pb = _Problem(layout, d, sigma)
    res = least_squares(
        pb.fun,
        x0,
        jac=pb.jac,
        bounds=(lo, hi),
        loss=pb.loss,
        f_scale=HUBER_K * sigma,
        method="trf",
        tr_solver="lsmr",
        x_scale="jac",
        ftol=1e-6,
        xtol=1e-6,
        max_nfev=200,
    )
    cov = pb.covariance(res.x) if covariance else np.full((layout.size, layout.size), np.nan)
    return Fit(layout, res.x, cov, float(sigma), len(d.observed), pb.support())


def with_covariance(fit: Fit, d: ModelData) -> Fit:
    """``fit`` (its parameters unchanged) with the covariance at its solution on trips ``d``."""
    pb = _Problem(fit.layout, d, fit.sigma)
    return Fit(fit.layout, fit.x, pb.covariance(fit.x), fit.sigma, len(d.observed), pb.support())
