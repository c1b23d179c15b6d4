"""The plan report as one offline HTML page (no script, no remote file), laid out for A4 print:
the region's summary on the first page, one page per county, then what to build next and the
sources. Images are named by ``src`` (a file beside the page, or a data: URL)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from .text import CONFIDENCE, SOURCE_EN, SOURCE_ZH, figure_label, local_name, note_text, t, target_source, value_text

__all__ = ["report_html", "CSS"]

CSS = """
@page { size: A4; margin: 11mm 12mm; }
body { font: 10pt/1.35 "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans", sans-serif; color: #1b1b1b; margin: 0; }
.page { page-break-after: always; break-after: page; }
.page:last-child { page-break-after: auto; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 14pt; margin: 0 0 2mm; }
h3 { font-size: 11pt; margin: 3mm 0 1mm; }
.sub { color: #555; font-size: 8.5pt; margin: 0 0 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 7.8pt; margin: 1mm 0 2mm; }
th, td { border-bottom: 1px solid #ddd; padding: 1px 4px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.ok { color: #2e7d32; font-weight: bold; } .bad { color: #c62828; font-weight: bold; }
img { display: block; max-width: 100%; }
.row { display: flex; gap: 4mm; align-items: flex-start; } .row > * { flex: 1 1 0; }
.src { color: #666; font-size: 6.5pt; line-height: 1.2; }
.attr { color: #555; font-size: 7pt; margin-top: 1mm; }
code { font-size: 6.3pt; }
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _detail(detail: str | None, lang: str) -> str | None:
    """A figure's detail in ``lang``: "2/15", "8/8 units" (counties meeting), "15 AEDs", "ems 12 min"."""
    if not detail:
        return None
    if detail.endswith(" units"):
        return detail[: -len(" units")] + " " + t("units_word", lang)
    if detail.endswith(" AEDs"):
        return detail[: -len(" AEDs")] + (" 台 AED" if lang == "zh" else " AEDs")
    if detail.startswith("tier "):
        tier = detail[5:]
        return {"high": "高", "middle": "中", "low": "低"}.get(tier, tier) + "档" if lang == "zh" else detail
    if detail.startswith("ems "):
        return detail[4:].replace("min", "分钟") if lang == "zh" else detail[4:]
    return detail


def _img(src: str, style: str, alt: str) -> str:
    return f"<img src='{src}' style='{style}' alt='{_e(alt)}'>"


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _verdict(met: bool | None, lang: str) -> str:
    if met is None:
        return t("no_target", lang)
    return f"<span class='{'ok' if met else 'bad'}'>{t('met' if met else 'not_met', lang)}</span>"


def _source(f: dict[str, Any], lang: str) -> str:
    if lang == "zh":
        return _e(SOURCE_ZH.get(f["key"], ""))
    return f"<code>{_e(SOURCE_EN.get(f['key'], f['source']))}</code>"


def _target(f: dict[str, Any]) -> str:
    if f["target"] is None:
        return "—"
    return ("≥ " if f["kind"] != "share" else "≥ ") + value_text(f["target"], f["kind"])


def _figures_table(figs: list[dict[str, Any]], lang: str, *, with_source: bool = True) -> str:
    head = [t("figure", lang), t("value", lang), t("target", lang), t("verdict", lang)]
    if with_source:
        head += [t("source", lang), t("confidence", lang)]
    rows = []
    for f in figs:
        text = _detail(f.get("detail"), lang)
        detail = f" <span class='src'>({_e(text)})</span>" if text else ""
        cells = [
            _e(figure_label(f["key"], lang)),
            f"<td class='num'>{value_text(f['value'], f['kind'])}{detail}</td>",
            f"<td class='num'>{_target(f)}</td>",
            f"<td class='num'>{_verdict(f['met'], lang)}</td>",
        ]
        if with_source:
            conf = CONFIDENCE.get(f.get("confidence") or "", {}).get(lang, "") if f.get("confidence") else ""
            cells += [f"<td class='src'>{_source(f, lang)}</td>", f"<td class='src'>{_e(conf)}</td>"]
        rows.append(f"<tr><td>{cells[0]}</td>{''.join(cells[1:])}</tr>")
    return "<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


def _changes(unit: dict[str, Any], lang: str, has_previous: bool) -> str:
    if not has_previous:
        return f"<p class='sub'>{t('no_previous', lang)}</p>"
    ch = unit.get("changes") or []
    if not ch:
        return f"<p class='sub'>{t('no_changes', lang)}</p>"
    kinds = {f["key"]: f["kind"] for f in unit["figures"]}
    rows = "".join(
        f"<tr><td>{_e(figure_label(c['key'], lang))}</td>"
        f"<td class='num'>{value_text(c['before'], kinds.get(c['key'], ''))} {_verdict(c['met_before'], lang)}</td>"
        f"<td class='num'>{value_text(c['after'], kinds.get(c['key'], ''))} {_verdict(c['met_after'], lang)}</td></tr>"
        for c in ch
    )
    head = f"<tr><th>{t('figure', lang)}</th><th>{t('before', lang)}</th><th>{t('after', lang)}</th></tr>"
    return f"<table>{head}{rows}</table>"


def _build(units: list[dict[str, Any]], lang: str) -> str:
    parts = [f"<section class='page'><h2>{t('build', lang)}</h2>"]
    any_step = False
    for u in units:
        if not u.get("build"):
            continue
        any_step = True
        parts.append(
            f"<h3>{_e(u['name'])}</h3><table><tr><th>{t('figure', lang)}</th><th>{t('needed', lang)}</th>"
            f"<th>{t('site', lang)}</th><th>{t('people_within', lang)}</th><th>{t('people_closer', lang)}</th>"
            f"<th>{t('met_after', lang)}</th></tr>"
        )
        for st in u["build"]:
            sites = st["sites"] or [None]
            for i, s in enumerate(sites):
                first = i == 0
                more = st["needed"] - len(st["sites"])
                name = "—" if s is None else _e(local_name(s["name"], lang))
                parts.append(
                    "<tr>"
                    + (
                        f"<td rowspan='{len(sites)}'>{_e(figure_label(st['target'], lang))} · "
                        f"{t(st['action'], lang)}</td>"
                        f"<td class='num' rowspan='{len(sites)}'>{st['needed']}</td>"
                        if first
                        else ""
                    )
                    + f"<td>{name}</td>"
                    + f"<td class='num'>{value_text(None if s is None else s['people_within'], 'people')}</td>"
                    + f"<td class='num'>{value_text(None if s is None else s['people_closer'], 'people')}</td>"
                    + (
                        f"<td rowspan='{len(sites)}'>{t('yes' if st['met_after'] else 'no', lang)}"
                        + (f"<br><span class='src'>{t('more', lang, n=more)}</span>" if more > 0 else "")
                        + "</td>"
                        if first
                        else ""
                    )
                    + "</tr>"
                )
        parts.append("</table>")
    if not any_step:
        parts.append(f"<p>{t('build_none', lang)}</p>")
    parts.append("</section>")
    return "".join(parts)


def report_html(doc: dict[str, Any], lang: str, src: Callable[[str], str], *, generated: str) -> str:
    """The page of a report.json ``doc`` in ``lang``; ``src(name)`` is an image's address."""
    label = (doc.get("region_label") or {}).get(lang) or doc["region"]
    has_prev = doc.get("previous") is not None
    prov = doc["province"]
    eq_rows = "".join(
        f"<tr><td>{_e(figure_label(e['measure'], lang))}</td><td class='num'>{_num(e['gini'])}</td>"
        f"<td class='num'>{_num(e['theil'])}</td><td class='num'>{value_text(e['worst_decile_people'], 'people')}</td>"
        f"<td>{_e(e['worst_unit'] or '—')}</td></tr>"
        for e in doc["equity"]
    )
    week = doc["aed_week"]
    lost = "—" if week.get("lost_share_open") is None else f"{100 * week['lost_share_open']:.1f}%"
    notes = [n for n in (note_text(x, lang) for x in doc.get("notes", [])) if n]
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{_e(label)} · {t('title', lang)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<section class='page'><h1>{_e(label)} · {t('title', lang)}</h1>",
        f"<p class='sub'>{t('generated', lang)} {_e(generated)}"
        + (f" · {t('previous', lang)}: {_e(doc['previous'])}" if has_prev else "")
        + f" · {t('population', lang)}: {value_text(prov['population'], 'people')}</p>",
        f"<h3>{t('summary', lang)}</h3>",
        _figures_table(prov["figures"], lang, with_source=False),
        _img(src("targets.png"), "max-height:58mm", t("units_meeting", lang)),
        "<div class='row'>" + _img(src("lorenz.png"), "max-height:62mm;flex:0 0 40%", t("lorenz", lang)),
        f"<div><h3>{t('equity', lang)}</h3><table><tr><th>{t('figure', lang)}</th><th>{t('gini', lang)}</th>"
        f"<th>{t('theil', lang)}</th><th>{t('worst_decile', lang)}</th><th>{t('worst', lang)}</th></tr>{eq_rows}"
        "</table></div></div>",
        _img(src("aed_week.png"), "max-height:46mm", t("aed_week", lang)),
        "<p class='src'>"
        + t("aed_week_caption", lang, minutes=week["minutes"], week_of=week["week_of"], lost=lost)
        + "</p>",
        f"<p class='attr'>{t('attribution', lang)}</p></section>",
    ]
    for i, u in enumerate(doc["units"]):
        applicable = u.get("applicable", 0)
        parts += [
            f"<section class='page'><h2>{_e(u['name'])}</h2>",
            f"<p class='sub'>{t('population', lang)}: {value_text(u['population'], 'people')} · "
            f"{t('targets_met', lang)}: {u.get('met', 0)}/{applicable}</p>",
            _img(src(f"unit_{i:02d}_map.png"), "max-height:76mm", t("map", lang)),
            f"<h3>{t('figures_vs_targets', lang)}</h3>",
            _img(src(f"unit_{i:02d}_targets.png"), "max-height:60mm", t("figures_vs_targets", lang)),
            _figures_table(u["figures"], lang),
            f"<h3>{t('changes', lang)}</h3>{_changes(u, lang, has_prev)}",
            f"<p class='attr'>{t('attribution', lang)}</p></section>",
        ]
    parts.append(_build(doc["units"], lang))
    src_rows = "".join(
        f"<tr><td>{_e(figure_label(tg['key'], lang))}</td><td class='num'>{value_text(tg['value'], tg['kind'])}</td>"
        + f"<td class='src'>{_e(target_source(tg, lang))}</td>"
        + "</tr>"
        for tg in doc["targets"]
    )
    fig_rows = "".join(
        f"<tr><td>{_e(figure_label(f['key'], lang))}</td><td class='src'>{_source(f, lang)}</td>"
        + (f"<td class='src'>{_e(f['source'])}</td>" if lang == "en" else "")
        + "</tr>"
        for f in (doc["units"][0]["figures"] if doc["units"] else [])
    )
    parts += [
        f"<section class='page'><h2>{t('sources', lang)}</h2><h3>{t('target', lang)}</h3><table>{src_rows}</table>",
        f"<h3>{t('figure', lang)}</h3><table>{fig_rows}</table>",
        (f"<h3>{t('notes', lang)}</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>") if notes else "",
        f"<p class='attr'>{t('attribution', lang)}</p></section></body></html>",
    ]
    return "\n".join(parts)
