# ruff: noqa: E501  (the manual's text, in two languages, reads better unwrapped)
"""The outputs reference page: the files each command writes and their columns (the code's own constants)."""

from __future__ import annotations

from collections.abc import Callable

from .text import code, generated_note


# ------------------------------------------------------------------------------------------- outputs
def _coverage_fields() -> list[str]:
    from ....service.usecases.downloads import COVERAGE_FIELDS

    return list(COVERAGE_FIELDS)


def _schema_keys(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ...cli import analysis_files

        return list(getattr(analysis_files, name))

    return get


def _plan_fields(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ...cli import plans

        return list(getattr(plans, name))

    return get


def _fixed(*cols: str) -> Callable[[], list[str]]:
    return lambda: list(cols)


def _no_xy(cols: Callable[[], list[str]]) -> Callable[[], list[str]]:
    """A point layer's properties: the CSV's columns without lon/lat (they are the geometry)."""
    return lambda: [c for c in cols() if c not in ("lon", "lat")]


Columns = Callable[[], list[str]] | None

_SITES = _fixed("rank", "id", "name", "lon", "lat", "population_gained", "source")
_AED_SITES = _fixed("rank", "id", "name", "lon", "lat", "source", "opening_hours", "gain")
_LINKS = _fixed(
    "tier", "county", "county_code", "from_id", "from_name", "to_id", "to_name", "time_s",
    "from_lon", "from_lat", "to_lon", "to_lat",
)  # fmt: skip
_UNLINKED = _fixed("tier", "county", "county_code", "id", "name", "reason", "nearest_time_s", "lon", "lat")
_WEEK = _fixed("day", *(f"{h:02d}" for h in range(24)))
_COMPARE = _fixed(
    "lon", "lat", "recommendation_<A>", "recommendation_<B>", "changed", "population",
    "t_ivt_min_<A>", "t_evt_min_<A>", "t_ivt_min_<B>", "t_evt_min_<B>",
)  # fmt: skip
_COMPARE_LAYER = _fixed(
    "recommendation_<A>", "recommendation_<B>", "changed", "change", "population",
    "t_ivt_min_<A>", "t_evt_min_<A>", "t_ivt_min_<B>", "t_evt_min_<B>",
)  # fmt: skip


def _access_fields(name: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        from ...cli import access

        return list(getattr(access, name))

    return get


# command -> [(file, columns or None, zh, en)]; the column lists are the writers' own constants where
# the code has one (coverage, gaps, triage, timeline, hours, targets, tiers), else what the writer
# spells out. tests/test_docs.py runs every command on the demo and compares files and columns.
# <A> and <B> are the two --scenarios of triage-compare.
OUTPUTS: dict[str, list[tuple[str, Columns, str, str]]] = {
    "coverage": [
        (
            "coverage.csv",
            _coverage_fields,
            "总体一行（`admin_code` 为 `ALL`）与每个行政单元一行：普查人口、在路网范围内的份额与人口、被覆盖人口及份额（0–1）、道路份额",
            "one overall row (`admin_code` `ALL`) and one per admin unit: census count, share and people inside the road extract, people covered and their share (0–1), road share",
        ),
        (
            "gaps.geojson",
            _schema_keys("GAP_SCHEMA"),
            "空白区多边形（T 分钟内到不了）",
            "gap polygons (not reached within T minutes)",
        ),
        (
            "gaps.gpkg",
            _schema_keys("GAP_SCHEMA"),
            "同上，GeoPackage 图层 `gaps`，另加 `method` 列",
            "the same as GeoPackage layer `gaps`, plus a `method` column",
        ),
        (
            "farthest.csv",
            _fixed("lon", "lat", "time_s", "population"),
            "离设施最远的地点（“谁最远”）",
            'the places farthest from any facility ("who is farthest")',
        ),
        (
            "report.json",
            None,
            "与 `GET /coverage` 相同的回答（方法、人口来源、交通情景）",
            "the answer of `GET /coverage` (method, population source, traffic)",
        ),
        ("map.html", None, "离线地图（不需要瓦片）", "an offline map (no tiles)"),
    ],
    "site": [
        (
            "sites.csv",
            _SITES,
            "新增站点，按顺序，含每个站点新增覆盖人口",
            "the chosen sites in order, with the people each adds",
        ),
        ("sites.geojson", _schema_keys("SITE_SCHEMA"), "新增站点（点）", "the chosen sites (points)"),
        ("sites.gpkg", _schema_keys("SITE_SCHEMA"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "模型、目标、前后覆盖", "model, objective, coverage before and after"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "grid531": [
        ("links.csv", _LINKS, "每条 5→1、3→1 连接及其行车时间", "every 5→1 and 3→1 link with its drive time"),
        ("unlinked.csv", _UNLINKED, "无法连接的单位及原因", "the units that could not be linked, and why"),
        ("links.geojson", _schema_keys("LINK_SCHEMA"), "连接线", "the links as lines"),
        ("links.gpkg", _schema_keys("LINK_SCHEMA"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "方法与汇总", "method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "triage": [
        (
            "triage.csv",
            _schema_keys("TRIAGE_FIELDS"),
            "每个地点：就近溶栓再转运（drip-and-ship）还是直达取栓，及各段时间",
            "per location: drip-and-ship or direct to EVT, with every time",
        ),
        ("triage.geojson", _no_xy(_schema_keys("TRIAGE_FIELDS")), "同上，点图层", "the same as points"),
        ("triage.gpkg", _no_xy(_schema_keys("TRIAGE_FIELDS")), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "阈值、方法与汇总", "thresholds, method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "timeline": [
        (
            "timeline.geojson",
            _schema_keys("TIMELINE_FIELDS"),
            "3×1 小时时间线：每个地点的呼叫响应、转运、到院、溶栓各段",
            "the 3 × 1 hour timeline per location: response, transport, arrival, needle",
        ),
        ("timeline.gpkg", _schema_keys("TIMELINE_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "阈值、方法与汇总", "thresholds, method and totals"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "aed-week": [
        (
            "week.csv",
            _WEEK,
            "7 行（星期）× 24 小时：开放的 AED 覆盖的人口份额",
            "7 rows (days) × 24 hours: share of the population covered by open AEDs",
        ),
        (
            "week_open_or_unknown.csv",
            _WEEK,
            "同上，开放或开放时间未知的 AED",
            "the same for AEDs open or of unknown hours",
        ),
        ("hours.csv", _plan_fields("HOUR_FIELDS"), "每小时的全部数字", "every figure per hour"),
        ("week.png", None, "热力图（图片）", "heat map (image)"),
        ("week.html", None, "热力图（网页）", "heat map (page)"),
        ("report.json", None, "与 `GET /plans/aed-week` 相同的回答", "the answer of `GET /plans/aed-week`"),
    ],
    "aed-site": [
        (
            "sites.csv",
            _AED_SITES,
            "新增 AED 位置，含开放时间与新增覆盖",
            "the new AED places, with hours and coverage gained",
        ),
        ("sites.geojson", _no_xy(_AED_SITES), "同上，点图层", "the same as points"),
        ("sites.gpkg", _no_xy(_AED_SITES), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "与 `POST /plans/aed-siting` 相同的回答", "the answer of `POST /plans/aed-siting`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "ems-site": [
        ("stations.csv", _fixed("rank", "id", "name", "lon", "lat", "source"), "新增急救站", "the new EMS stations"),
        (
            "report.json",
            None,
            "与 `GET /plans/ems-siting` 相同的回答：前后期望覆盖、一次/两次覆盖人口",
            "the answer of `GET /plans/ems-siting`: expected coverage, people covered once / twice",
        ),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "plan-targets": [
        (
            "targets.csv",
            _plan_fields("TARGET_FIELDS"),
            "每个行政单元的三项目标及是否达标",
            "per admin unit: the three targets and whether each is met",
        ),
        ("targets.geojson", _plan_fields("TARGET_FIELDS"), "同上，行政区多边形", "the same as admin unit polygons"),
        ("targets.gpkg", _plan_fields("TARGET_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "tiers.csv",
            _plan_fields("TIER_FIELDS"),
            "（给出 `--thrombolysis-rates` 时）各市溶栓率分档",
            "(with `--thrombolysis-rates`) each city's thrombolysis tier",
        ),
        ("report.json", None, "与 `GET /plans/targets` 相同的回答", "the answer of `GET /plans/targets`"),
        ("map.html", None, "分级设色地图", "a choropleth map"),
    ],
    "triage-compare": [
        (
            "compare.csv",
            _COMPARE,
            "两种情景（`<A>`、`<B>`）下每个地点的建议，及是否改变",
            "each location's recommendation under both scenarios (`<A>`, `<B>`), and whether it changes",
        ),
        ("compare.geojson", _COMPARE_LAYER, "同上，点图层", "the same as points"),
        ("compare.gpkg", _COMPARE_LAYER, "同上，GeoPackage", "the same as GeoPackage"),
        (
            "changed_area.geojson",
            _fixed("cells", "cell_m", "area_km2"),
            "建议改变的区域（300 m 格网合并的多边形）",
            "the changed area (300 m cells as polygons)",
        ),
        ("changed_area.gpkg", _fixed("cells", "cell_m", "area_km2"), "同上，GeoPackage", "the same as GeoPackage"),
        ("report.json", None, "与 `GET /plans/triage-compare` 相同的回答", "the answer of `GET /plans/triage-compare`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "access": [
        (
            "units.csv",
            _access_fields("UNIT_FIELDS"),
            "每个行政单元：人口加权平均的容量可达性（每 10 万人）、服务范围内无机构的人口、到最近机构的平均分钟数",
            "per admin unit: population-weighted E2SFCA access per 100,000 people, people with no facility within the catchment, mean minutes to the nearest",
        ),
        ("units.geojson", _access_fields("UNIT_FIELDS"), "同上，行政区多边形", "the same as admin unit polygons"),
        ("units.gpkg", _access_fields("UNIT_FIELDS"), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "points.csv",
            _access_fields("POINT_FIELDS"),
            "每个需求点（有人口的路网节点）的可达性与到最近机构的分钟数",
            "per demand point (populated network node): access and minutes to the nearest facility",
        ),
        ("points.geojson", _no_xy(_access_fields("POINT_FIELDS")), "同上，点图层", "the same as points"),
        ("points.gpkg", _no_xy(_access_fields("POINT_FIELDS")), "同上，GeoPackage", "the same as GeoPackage"),
        (
            "facilities.csv",
            _access_fields("FACILITY_FIELDS"),
            "每个机构的容量（未给为 1）、服务范围内按距离衰减加权的人口与供需比",
            "per facility: capacity (1 when none given), decay-weighted people within its catchment, supply ratio",
        ),
        (
            "equity.csv",
            _access_fields("EQUITY_FIELDS"),
            "（`--equity`）可达性与行车时间的基尼系数、泰尔指数、最差 10% 人口",
            "(`--equity`) Gini and Theil of access and travel time, the worst-off decile",
        ),
        (
            "lorenz.csv",
            _fixed("measure", "population_share", "value_share"),
            "（`--equity`）洛伦兹曲线",
            "(`--equity`) the Lorenz curves",
        ),
        (
            "worst_decile.csv",
            _fixed("measure", "admin_code", "name", "people", "share_of_unit"),
            "（`--equity`）最差 10% 人口住在哪些行政单元",
            "(`--equity`) where the worst-off 10% of people live",
        ),
        (
            "standards.csv",
            _access_fields("STANDARD_FIELDS"),
            "（`--standards`）每个行政单元与全区域的各项标准：数值、目标、是否达标、来源",
            "(`--standards`) every standard per admin unit and for the region: value, target, met, source",
        ),
        ("report.json", None, "与 `GET /access` 相同的回答", "the answer of `GET /access`"),
        ("map.html", None, "离线地图", "an offline map"),
    ],
    "matrix": [
        (
            "-o FILE.csv / FILE.parquet",
            _fixed("origin_id", "destination_id", "time_s", "distance_m"),
            "每对起终点一行；不可达时 time_s、distance_m 为空；秒与米保留一位小数",
            "one row per origin-destination pair; empty time and distance when unreachable; seconds and metres to 0.1",
        ),
    ],
}

OUTPUTS_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "输出文件参考",
        "intro": "分析命令把结果写进 `-o` 指定的文件夹：CSV（只有表头和数据行，方法写在 report.json 里）、"
        "GeoJSON 与 GeoPackage（EPSG:4326）、report.json（与 API 的回答相同）和一个离线 HTML 地图。"
        "写入是原子的：运行失败时文件夹保持原样。列名取自写出它们的代码常量。",
        "file": "文件",
        "cols": "列 / 属性",
        "what": "内容",
        "see": "（见文件本身）",
        "other": "其他命令的输出：`nearest`、`dispatch`、`places` 在标准输出打印与 API 相同的 JSON；"
        "`isochrone` 写 GeoJSON（每个时间一个要素，属性 `minutes`）；`publish` 写省级/市级 HTML 地图与 PNG；"
        "`batch coverage` 写 `national.csv`、`national.gpkg`（图层 `coverage`）、`overview.html` 与 `regions/<id>.json`；"
        "`certify` 写设施数据结构的认证图层与 `--unresolved` 列表。",
    },
    "en": {
        "title": "Output files reference",
        "intro": "The analysis commands write into the folder given by `-o`: CSV (a header and rows, nothing else: "
        "the method is in report.json), GeoJSON and GeoPackage (EPSG:4326), report.json (the API's answer) and an "
        "offline HTML map. Writes are atomic: a failed run leaves the folder as it was. Column lists are the "
        "constants of the code that writes them.",
        "file": "file",
        "cols": "columns / properties",
        "what": "what",
        "see": "(see the file)",
        "other": "Other commands: `nearest`, `dispatch` and `places` print the API's JSON to stdout; `isochrone` "
        "writes GeoJSON (one feature per range, property `minutes`); `publish` writes the provincial / city HTML maps "
        "and PNGs; `batch coverage` writes `national.csv`, `national.gpkg` (layer `coverage`), `overview.html` and "
        "`regions/<id>.json`; `certify` writes the certified layer in the facility schema and the `--unresolved` list.",
    },
}


def outputs_page(lang: str) -> str:
    t = OUTPUTS_TEXT[lang]
    i = 0 if lang == "zh" else 1
    lines = [f"# {t['title']}", "", generated_note(lang, "`geoservice.faces.guide.reference.OUTPUTS`"), t["intro"], ""]
    for cmd, files in OUTPUTS.items():
        lines += [
            f"## `geoservice {cmd}` {{ #{cmd} }}",
            "",
            f"| {t['file']} | {t['what']} | {t['cols']} |",
            "|---|---|---|",
        ]
        for name, cols, zh, en in files:
            colstext = ", ".join(code(c) for c in cols()) if cols else t["see"]
            lines.append(f"| `{name}` | {(zh, en)[i]} | {colstext} |")
        lines.append("")
    lines += [t["other"], ""]
    return "\n".join(lines) + "\n"
