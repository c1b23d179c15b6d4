"""The 7 x 24 heat map of AED coverage through the week: a PNG (matplotlib) and an HTML table.

Rows are days (Mo..Su), columns hours (00..23), cells the share of the demand within reach of an
AED open then; the second panel counts AEDs of unknown hours as open. The HTML table carries the
same figures as text (readable without images, and searchable).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = ["week_png", "week_html"]

from ..maps.analysis_text import DAYS as DAY_NAMES
from ..maps.analysis_text import DEFAULT_LANG, mt

DAYS = DAY_NAMES["en"]
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "DejaVu Sans"]


Panels = list[tuple[str, list[list[float]]]]


def week_png(path: Path, panels: Panels, *, title: str, lang: str = DEFAULT_LANG) -> None:
    """One heat map per (caption, 7 x 24 shares) panel, on a common colour scale, into ``path``;
    days and labels in ``lang`` (Chinese in a CJK font when one is installed)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt
    import numpy as np

    if lang == "zh":
        plt.rcParams["font.sans-serif"] = CJK_FONTS + list(plt.rcParams["font.sans-serif"])
    data = [np.array(m, float) for _, m in panels]
    vmax = max(float(np.nanmax(d)) for d in data) or 1.0
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.6 * len(panels) + 0.6), squeeze=False)
    im: Any = None
    for ax, (caption, _), d in zip(axes[:, 0], panels, data):
        im = ax.imshow(d * 100, aspect="auto", cmap="viridis", vmin=0, vmax=vmax * 100)
        ax.set_yticks(range(7), DAY_NAMES[lang])
        ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
        ax.set_title(caption, fontsize=10, loc="left")
    fig.suptitle(title, fontsize=11)
    fig.colorbar(im, ax=axes[:, 0].tolist(), label=mt(lang, "week_demand"), shrink=0.9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(v: float, vmax: float) -> str:
    t = 0.0 if vmax <= 0 else min(1.0, v / vmax)
    r, g, b = int(247 - 200 * t), int(251 - 120 * t), int(255 - 100 * t)
    color = "#fff" if t > 0.6 else "#000"
    return f"<td style='background:rgb({r},{g},{b});color:{color}'>{100 * v:.1f}</td>"


def week_html(path: Path, panels: Panels, *, title: str, note: str, lang: str = DEFAULT_LANG) -> None:
    """The same heat maps as HTML tables (% of the demand per cell), self-contained, in ``lang``
    (the method ``note`` is the analysis's own statement, in English)."""
    vmax = max((max(max(r) for r in m) for _, m in panels), default=0.0)
    parts = [
        f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>body{{font:13px system-ui,sans-serif;margin:16px}}"
        "table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ddd;padding:2px 4px;"
        "text-align:right;font-size:11px}</style></head><body>",
        f"<h2>{html.escape(title)}</h2><p>{html.escape(mt(lang, 'week_cells'))}</p>",
    ]
    for caption, m in panels:
        parts.append(f"<h3>{html.escape(caption)}</h3><table><tr><th></th>")
        parts += [f"<th>{h:02d}</th>" for h in range(24)]
        parts.append("</tr>")
        for d, row in zip(DAY_NAMES[lang], m):
            parts.append(f"<tr><th>{d}</th>" + "".join(_cell(v, vmax) for v in row) + "</tr>")
        parts.append("</table>")
    parts.append(f"<p style='font-size:11px;color:#444' lang='en'>{html.escape(note)}</p></body></html>")
    path.write_text("".join(parts), encoding="utf-8")
