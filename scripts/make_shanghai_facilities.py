"""Write geoservice/data/shanghai/facilities.csv: the facilities of the central Shanghai demo.

Reproducible from the project's shared data (``../shared/data``; see
geoservice/data/shanghai/FACILITIES.md for every rule and its reason):

1. the OSM hospitals (``amenity=hospital``) of ``shanghai/shanghai_hospitals_osm.csv`` inside the
   road box, unnamed ones and non-care features dropped, campus parts merged (same name outside
   brackets within ``MERGE_M``), type ``hospital``, level ``clinic`` for community health centres
   and outpatient departments, else ``hospital``;
2. the one real certification, 上海市胸科医院 (chest pain center, standard, national batch 1),
   found by running the ``certify`` matcher on the published list, not typed in;
3. demo designations (``demo=true``, ``[DEMO designation]``) at real OSM hospitals, chosen by
   fixed rules (spread across districts), for a believable demo of every other role.

Run: ``.venv/bin/python scripts/make_shanghai_facilities.py [--shared DIR] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from geoservice.service.usecases.certify import certified_records
from geoservice.sources.certification import Positioned, match_names, read_aliases, read_list
from geoservice.sources.facility_files import read_facilities
from geoservice.sources.hospital_names import clean_name, name_key
from geoservice.sources.schema import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geoservice" / "data" / "shanghai" / "facilities.csv"
HOSPITALS = "shanghai/shanghai_hospitals_osm.csv"
CPC_LIST = "facilities/china_chest_pain_centers_batches_2014_2016.csv"
BOX = (121.40, 31.17, 121.54, 31.29)  # the road extract osm/shanghai-center.osm (lon0, lat0, lon1, lat1)
MERGE_M = 600.0  # same name within this distance: parts of one site (see FACILITIES.md)
ROADS = "osm/shanghai-center.osm"  # the demo's road extract: a disc of ~5.5 km radius, not the whole box
ROLE_SNAP_M = 250.0  # a role only where a patient can be routed: within this of the drive and walk roads
CPC_LABEL = "中国胸痛中心认证 national list"

# a care facility's name says so; 江宁路 (a street name) and 艾香堂寇式减肥 (weight loss) do not
CARE_WORD = re.compile(r"医|院|中心|卫生|诊|所|hospital|health|clinic", re.I)
NOT_CARE = re.compile(r"疾病预防控制中心")  # a public-health agency: no patients
CLINIC = re.compile(r"社区卫生|卫生服务中心|卫生服务站|门诊|诊所|牙防所|牙病防治所")
COMMUNITY = re.compile(r"社区卫生(服务)?中心|街道.*卫生服务中心|卫生服务中心$")
SPECIALTY = re.compile(
    r"儿童|儿科|妇|婴|眼|耳鼻喉|牙|口腔|精神|皮肤|肿瘤|康复|男子|早泄|伽玛|计生|公共卫生|感染|门诊|校医院|"
    r"中医|中西医|胸科|肺科|急救|老年|Health"
)
EMS_NAME = re.compile(r"医疗急救中心")


@dataclass
class Site:
    """One facility of the demo: an OSM hospital after de-duplication."""

    osm_id: str
    name: str
    lon: float
    lat: float
    level: str
    district: int
    emergency: bool
    polygon: bool
    address: str | None
    merged: list[str] = field(default_factory=list)
    on_roads: bool = False  # within ROLE_SNAP_M of both road networks of the extract

    @property
    def ref(self) -> str:  # for ids: way/123 -> way-123
        return self.osm_id.replace("/", "-")


def metres(a: Site, b: Site) -> float:
    """Great-circle distance (haversine, R = 6,371 km)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def base_key(name: str) -> str:
    """The name outside brackets, compared as the certify matcher compares names."""
    return name_key(re.sub(r"\([^()]*\)", "", clean_name(name)))


def read_sites(path: Path) -> tuple[list[Site], dict[str, int]]:
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    counts = {"rows": len(rows), "in_box": 0, "not_hospital": 0, "unnamed": 0, "not_care": 0}
    sites = []
    for r in rows:
        if r["in_central_bbox"] != "1":
            continue
        counts["in_box"] += 1
        lon, lat = float(r["lon"]), float(r["lat"])
        assert BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3], r["osm_id"]
        name = r["name"].strip()
        if r["amenity"] != "hospital":
            counts["not_hospital"] += 1
        elif not name:
            counts["unnamed"] += 1
        elif not CARE_WORD.search(name) or NOT_CARE.search(name):
            counts["not_care"] += 1
        else:
            number = r["addr_housenumber"].strip()
            street = r["addr_street"].strip() + (number + "号" if number[-1:].isdigit() else number)
            sites.append(
                Site(
                    r["osm_id"],
                    name,
                    lon,
                    lat,
                    "clinic" if CLINIC.search(name) else "hospital",
                    int(float(r["district_adcode"])),
                    r["emergency"] == "yes",
                    r["osm_geometry_type"] != "Point",
                    street or None,
                )
            )
    return sites, counts


def root(parent: list[int], i: int) -> int:
    """Union-find: the representative of ``i``."""
    while parent[i] != i:
        i = parent[i]
    return i


def merge_campuses(sites: list[Site]) -> tuple[list[Site], int]:
    """Same name outside brackets within MERGE_M (single linkage) -> one site: the one with the
    fewest bracketed parts in its name, else an outline (way/relation) before a point, else the
    first OSM id. Same full name farther apart -> both kept, told apart by their street or OSM id."""
    groups: dict[str, list[Site]] = {}
    for s in sites:
        groups.setdefault(base_key(s.name), []).append(s)
    out, merged = [], 0
    for members in groups.values():
        parent = list(range(len(members)))
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                if metres(members[i], members[j]) <= MERGE_M:
                    parent[root(parent, j)] = root(parent, i)
        clusters: dict[int, list[Site]] = {}
        for i, s in enumerate(members):
            clusters.setdefault(root(parent, i), []).append(s)
        for parts in clusters.values():
            parts.sort(key=lambda s: (clean_name(s.name).count("("), not s.polygon, osm_order(s)))
            keep = parts[0]
            keep.merged = [p.osm_id for p in parts[1:]]
            merged += len(parts) - 1
            out.append(keep)
    by_name: dict[str, list[Site]] = {}
    for s in out:
        by_name.setdefault(name_key(s.name), []).append(s)
    for same in by_name.values():
        if len(same) > 1:
            for s in same:
                s.name = f"{s.name} ({s.address or 'OSM ' + s.osm_id})"
    out.sort(key=lambda s: (s.district, osm_order(s)))
    return out, merged


def osm_order(s: Site) -> tuple[str, int]:
    kind, num = s.osm_id.split("/")
    return kind, int(num)


def spread(sites: Iterable[Site], k: int, *, avoid: Iterable[str] = (), near: Iterable[Site] = ()) -> list[Site]:
    """k sites spread over the map (farthest-point order): each next site is the one farthest
    from those already placed (``near``: sites holding the role already), the first one the
    site nearest the centre of the box when none is; ties by OSM id."""
    skip = set(avoid)
    pool = sorted((s for s in sites if s.osm_id not in skip), key=osm_order)
    placed = list(near)
    if not placed:
        centre = Site("centre/0", "", (BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2, "", 0, False, False, None)
        first = min(pool, key=lambda s: metres(s, centre))
        pool.remove(first)
        placed, picked = [first], [first]
    else:
        picked = []
    while len(picked) < k and pool:
        best = max(pool, key=lambda s: min(metres(s, p) for p in placed))
        pool.remove(best)
        placed.append(best)
        picked.append(best)
    assert len(picked) == k, f"only {len(picked)} sites for {k}"
    return picked


def mark_on_roads(sites: list[Site], osm: Path) -> None:
    """Snap every site to the extract's drive and walk networks, as a build does (the same
    network builder and snapping); roles go only to sites within ROLE_SNAP_M of both."""
    from geoservice.bundle.network import build_network
    from geoservice.engine.router import Router
    from geoservice.sources.osm_roads import read_osm_roads
    from geoservice.sources.speeds import DEFAULT_PROFILES

    raw = read_osm_roads(osm)
    lon, lat = [s.lon for s in sites], [s.lat for s in sites]
    near = [True] * len(sites)
    for kind in ("drive", "walk"):
        snaps = Router(build_network(raw, kind, DEFAULT_PROFILES)).snap_many(
            lon, lat, max_snap_m=ROLE_SNAP_M, strict=False
        )
        near = [n and snap is not None for n, snap in zip(near, snaps, strict=True)]
    for s, n in zip(sites, near, strict=True):
        s.on_roads = n


def hospital_row(s: Site) -> dict:
    src = f"OpenStreetMap {s.osm_id} (ODbL)"
    if s.merged:
        src += f"; merged with {', '.join(s.merged)} (same name within {MERGE_M:.0f} m)"
    return dict(id=f"osm-{s.ref}", type="hospital", name=s.name, level=s.level, source=src, demo="false")


def demo_row(s: Site, type_: str, label: str = "", **extra: str) -> dict:
    return dict(
        id=f"demo-{type_}-{s.ref}",
        type=type_,
        name=f"{label}{s.name} [DEMO designation]",
        status="certified",
        source=f"demo designation of OpenStreetMap {s.osm_id} (ODbL)",
        demo="true",
        **extra,
    )


def located(s: Site, row: dict) -> dict:
    return dict(row, address=s.address or "", admin_code=str(s.district), lon=f"{s.lon:.7f}", lat=f"{s.lat:.7f}")


def real_certification(shared: Path, sites: list[Site]) -> list[dict]:
    """The certify matcher on the published list against these sites: exactly one match."""
    positioned = [
        Positioned(
            f"osm-{s.ref}",
            s.name,
            s.lon,
            s.lat,
            f"OpenStreetMap {s.osm_id} (ODbL)",
            {"address": s.address, "admin_code": str(s.district)},
        )
        for s in sites
    ]
    report = match_names(read_list(shared / CPC_LIST), positioned, read_aliases())
    assert [m.facility.id for m in report.matched] == ["osm-way-1100831002"], report.matched
    assert not report.ambiguous, report.ambiguous
    recs = certified_records(report.matched, type="chest_pain_center", level="standard", label=CPC_LABEL)
    return [dict(r, demo="false", lon=f"{r['lon']:.7f}", lat=f"{r['lat']:.7f}") for r in recs]


def designations(sites: list[Site], real_cpc: list[Site]) -> list[dict]:
    """Every role but the real certification, at real OSM sites, by fixed rules (FACILITIES.md):
    each role spread over the map from the sites that hold it or a higher tier already."""
    sites = [s for s in sites if s.on_roads]
    general = [s for s in sites if s.level == "hospital" and not SPECIALTY.search(s.name)]
    major = [s for s in general if s.emergency]  # OSM emergency=yes: an emergency department
    district_h = [s for s in general if not s.emergency]
    community = [s for s in sites if s.level == "clinic" and COMMUNITY.search(s.name)]
    rows: list[dict] = []

    def add(picked: list[Site], make: Callable[[Site], dict]) -> list[Site]:
        rows.extend(located(s, make(s)) for s in picked)
        return picked

    cpc = add(spread(major, 3, near=real_cpc), lambda s: demo_row(s, "chest_pain_center", level="standard"))
    cpc += add(spread(district_h, 4, near=real_cpc + cpc), lambda s: demo_row(s, "chest_pain_center", level="basic"))
    add(spread(community, 8, near=real_cpc + cpc), lambda s: demo_row(s, "grassroots_unit"))
    adv = add(
        spread(major, 3, avoid=[s.osm_id for s in cpc]),
        lambda s: demo_row(s, "stroke_center", level="advanced", capabilities="evt,ivt", door_to_needle_min="45"),
    )
    adv += add(
        spread(general, 3, near=adv),
        lambda s: demo_row(s, "stroke_center", level="center", capabilities="ivt", door_to_needle_min="60"),
    )
    add(spread(district_h, 3, near=adv), lambda s: demo_row(s, "stroke_center", level="station"))
    ems = [s for s in sites if EMS_NAME.search(s.name)]  # 上海医疗急救中心: its name says EMS
    ems += spread(general, 4 - len(ems), near=ems)
    add(ems, lambda s: demo_row(s, "ems_station", "120急救站 · "))
    # 15 public AEDs in hospital lobbies: 5 with an emergency department (open 24/7), 5 community
    # health centres (their clinic hours), 5 other hospitals (weekday hours, or unknown for every
    # other one)
    aeds = spread(major, 5)
    aeds += spread(community, 5, near=aeds)
    aeds += spread([s for s in sites if s.level == "hospital" and not s.emergency], 5, near=aeds)
    where = {"location": "门诊大厅 outpatient hall (demo placement)", "floor": "1"}
    extra = {k: v for k, v in where.items() if k in COLUMNS}
    for i, s in enumerate(aeds):
        if s.emergency:
            hours = "24/7"
        elif s.level == "clinic":
            hours = "Mo-Fr 08:00-17:00; Sa 08:00-12:00"
        else:
            hours = "Mo-Fr 08:00-18:00" if i % 2 == 0 else ""
        rows.append(located(s, demo_row(s, "aed", "AED · ", opening_hours=hours, access="yes", **extra)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    raw, counts = read_sites(args.shared / HOSPITALS)
    sites, merged = merge_campuses(raw)
    mark_on_roads(sites, args.shared / ROADS)
    rows = [located(s, hospital_row(s)) for s in sites]
    certified = real_certification(args.shared, sites)
    rows += certified
    real_cpc = [s for s in sites if f"osm-{s.ref}" in {r["id"].removeprefix("chest_pain_center-") for r in certified}]
    rows += designations(sites, real_cpc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS), restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    res = read_facilities(args.out)
    assert not res.errors, res.errors[:5]
    n_h = len(sites)
    print(
        f"wrote {args.out}: {len(rows)} rows ({n_h} hospitals: {sum(s.level == 'clinic' for s in sites)} clinics; "
        f"{len(rows) - n_h} roles). Source rows {counts['rows']}, in the box {counts['in_box']}: "
        f"{counts['not_hospital']} not amenity=hospital, {counts['unnamed']} unnamed, {counts['not_care']} not care, "
        f"{merged} campus parts merged; {sum(s.on_roads for s in sites)} hospitals within {ROLE_SNAP_M:.0f} m of "
        "the roads can take a role"
    )


if __name__ == "__main__":
    main()
