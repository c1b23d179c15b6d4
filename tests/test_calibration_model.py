"""The fit of calibration alone, on trips whose routes are given (no network): it recovers known
factors, the overhead and the priority factor from lognormal noise, its intervals cover them, a
class without trips takes its parent's factors, and wild trips pull little (Huber)."""

from __future__ import annotations

import numpy as np

from geoservice.analyses.calibration_model import FIT_CLASSES, HOURS, Layout, ModelData, fit_model, predict


def trips(n: int, seed: int, *, priority: bool) -> tuple[ModelData, np.ndarray, Layout, np.ndarray]:
    rng = np.random.default_rng(seed)
    C = len(FIT_CLASSES)
    used = [FIT_CLASSES.index(c) for c in ("primary", "secondary", "residential")]
    X = np.zeros((n, C))
    for c in used:
        X[:, c] = rng.exponential(200, n)
    hour = rng.integers(0, HOURS, n)
    truth = np.ones((C, HOURS))
    peak = np.isin(np.arange(HOURS), [7, 8, 9, 17, 18, 19])
    truth[used[0], peak], truth[used[1], peak], truth[used[2], peak] = 1.9, 1.6, 1.3
    prio = rng.random(n) < 0.4 if priority else np.zeros(n, bool)
    layout = Layout(overhead=True, priority=priority)
    x = np.concatenate([truth.ravel(), np.ones(layout.n_g + HOURS), [60.0], [0.8] if priority else []])
    d = ModelData(X, np.full(n, 30.0), hour, prio, np.ones(n))
    obs = predict(layout, x, d) * np.exp(rng.normal(0, 0.15, n))
    return ModelData(X, d.fixed, hour, prio, obs), truth, layout, np.array(used)


def test_recovers_factors_overhead_and_priority():
    d, truth, layout, used = trips(6000, 1, priority=True)
    fit = fit_model(layout, d)
    err = np.abs(fit.factors - truth)[used]
    assert err.mean() < 0.05 and np.mean(err <= 1.96 * fit.factor_se[used] + 1e-9) > 0.85
    ov, ov_se = fit.value(layout.i_overhead)
    m, m_se = fit.value(layout.i_priority)
    assert abs(ov - 60) < 3 * ov_se + 1 and abs(m - 0.8) < 3 * m_se + 0.005
    # a class without trips takes its parent's factors: primary_link follows primary's peaks
    link = FIT_CLASSES.index("primary_link")
    assert fit.support_s[link].sum() == 0
    np.testing.assert_allclose(fit.factors[link], fit.factors[FIT_CLASSES.index("primary")], atol=0.12)
    assert fit.factors[link][8] > 1.6 and abs(fit.factors[link][3] - 1) < 0.1


def test_wild_trips_pull_little():
    d, truth, layout, used = trips(3000, 2, priority=False)
    clean = fit_model(layout, d)
    obs = d.observed.copy()
    obs[:60] *= 20  # 2% of the trips 20 times too long
    dirty = fit_model(layout, ModelData(d.X, d.fixed, d.hour, d.priority, obs))
    moved = np.abs(dirty.factors - clean.factors)[used]
    assert moved.mean() < 0.03 and moved.max() < 0.12
