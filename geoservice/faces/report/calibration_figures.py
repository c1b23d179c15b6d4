"""The figures of a calibration (matplotlib PNGs) and the offline report.html that shows them
beside the figures as text: observed against predicted (held-out), the error by departure hour
for each model, and the fitted factors by class and hour with their 95% intervals."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ...analyses.calibration import Calibration
from ...analyses.calibration_model import FIT_CLASSES

__all__ = ["FIGURES", "write_figures", "report_html"]

FIGURES = {
    "observed_vs_predicted": "observed_vs_predicted.png",
    "residuals_by_hour": "residuals_by_hour.png",
    "factors": "factors.png",
}
_LABEL = {"free_flow": "free flow", "before": "before (hourly profile in force)", "after": "calibrated (held-out)"}
_COLOUR = {"free_flow": "#9e9e9e", "before": "#e6862e", "after": "#2a6fb0"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def write_figures(cal: Calibration, folder: Path) -> dict[str, str]:
    """The three PNGs into ``folder``; {figure: file name}."""
    plt = _plt()
    s = cal.scored
    obs = cal.observed[s] / 60
    preds = {"free_flow": cal.free_flow[s] / 60, "before": cal.before[s] / 60, "after": cal.after_cv[s] / 60}

    fig, ax = plt.subplots(figsize=(6.5, 6))
    top = float(np.percentile(np.concatenate([obs, preds["after"]]), 99.5)) if len(obs) else 1.0
    for k in ("free_flow", "after"):
        ax.scatter(preds[k], obs, s=4, alpha=0.35, color=_COLOUR[k], label=_LABEL[k], rasterized=True)
    ax.plot([0, top], [0, top], color="black", lw=1, label="observed = predicted")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted, minutes")
    ax.set_ylabel("observed, minutes")
    ax.set_title(f"{int(s.sum())} held-out trips", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(folder / FIGURES["observed_vs_predicted"], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    hours = np.arange(24)
    for j, (k, p) in enumerate(preds.items()):
        pct = 100 * (p - obs) / obs
        med = [np.median(pct[cal.hour[s] == h]) if (cal.hour[s] == h).any() else np.nan for h in hours]
        q1 = [np.percentile(pct[cal.hour[s] == h], 25) if (cal.hour[s] == h).any() else np.nan for h in hours]
        q3 = [np.percentile(pct[cal.hour[s] == h], 75) if (cal.hour[s] == h).any() else np.nan for h in hours]
        x = hours + (j - 1) * 0.25
        ax.errorbar(
            x,
            med,
            yerr=[np.subtract(med, q1), np.subtract(q3, med)],
            fmt="o",
            ms=4,
            color=_COLOUR[k],
            label=_LABEL[k] + " (median, quartiles)",
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(hours, [f"{h:02d}" for h in hours], fontsize=8)
    ax.set_xlabel("departure hour")
    ax.set_ylabel("(predicted - observed) / observed, %")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / FIGURES["residuals_by_hour"], dpi=110)
    plt.close(fig)

    fitted = [k for k in range(len(FIT_CLASSES)) if cal.fit.support_s[k].sum() > 0]
    cols = 3
    rows = max(1, -(-len(fitted) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), squeeze=False, sharex=True)
    se = cal.fit.factor_se
    for ax, c in zip(axes.ravel(), fitted):
        f = np.asarray(cal.profile[FIT_CLASSES[c]], float)
        ax.fill_between(hours, f - 1.96 * se[c], f + 1.96 * se[c], color=_COLOUR["after"], alpha=0.25, lw=0)
        ax.plot(hours, f, color=_COLOUR["after"], marker="o", ms=3)
        ax.axhline(1, color="black", lw=0.6)
        ax.set_title(f"{FIT_CLASSES[c]} ({cal.fit.support_s[c].sum() / 3600:.1f} h of trips)", fontsize=9)
        ax.set_xticks(hours[::3], [f"{h:02d}" for h in hours[::3]], fontsize=8)
    for ax in axes.ravel()[len(fitted) :]:
        ax.axis("off")
    fig.suptitle("travel-time factor by hour (1 = free flow), 95% intervals", fontsize=11)
    fig.tight_layout()
    fig.savefig(folder / FIGURES["factors"], dpi=110)
    plt.close(fig)
    return dict(FIGURES)


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return html.escape(str(v))


def report_html(report: dict[str, Any], figures: dict[str, str]) -> str:
    """An offline page (no script, no remote file) of the report's main figures and the PNGs."""
    ev = report["evaluation"]
    models = ev["models"]
    keys = list(next(iter(models.values())).keys())
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    rows = "".join(
        f"<tr><th>{html.escape(_LABEL.get(m, m))}</th>" + "".join(f"<td>{_cell(v[k])}</td>" for k in keys) + "</tr>"
        for m, v in models.items()
    )
    t = report["trips"]
    reasons = "".join(
        f"<li>{html.escape(r)}: {n} ({html.escape(t['reasons'].get(r, ''))})</li>" for r, n in t["by_reason"].items()
    )
    ov = report.get("overhead_s")
    overhead = (
        f"<p>Fixed overhead per trip (turn-out, parking; not in profile.csv): {ov['estimate']} s "
        f"(95% {ov['lo95']}–{ov['hi95']} s).</p>"
        if ov
        else ""
    )
    imgs = "".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(k)}"><figcaption>{html.escape(k)}</figcaption></figure>'
        for k, f in figures.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calibration report · {html.escape(report["region"])}</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th:first-child{{text-align:left}}img{{max-width:100%}}figure{{margin:1.5em 0}}</style></head><body>
<h1>Travel-time calibration · {html.escape(report["region"])} · {html.escape(report["profile"])}</h1>
<p>Trips: {t["read"]} read, {t["used"]} fitted, {t["rejected"]} left out (listed in report.json):</p><ul>{reasons}</ul>
<p>The factors describe {html.escape(report["factors_describe"])}.</p>{overhead}
<h2>Held-out errors</h2><p>{html.escape(ev["method"])}</p>
<table><tr><th>model</th>{head}</tr>{rows}</table>
<p>Before = {html.escape(str(ev["before_profile"]))}.</p>
{imgs}
</body></html>
"""
