"""``geoservice certify`` on real data: the 71-name national chest pain center list (batches
2014-2016) against the 532 OpenStreetMap medical features of Shanghai (tests/data, see DATA.md).

Expected answers come from the files themselves, read here with the csv module: the list's own
``shanghai_hospital`` flag and ``osm_match`` column (上海交通大学附属胸科医院 = way/1100831002),
and the OSM rows sharing a name."""

from __future__ import annotations

import csv
import json

import pytest

from geoservice.sources.certification import ListEntry, Positioned, match_names, read_aliases
from geoservice.sources.hospital_names import bracket_keys, name_key
from geoservice.sources.osm_pois import OSM_ATTRIBUTION

CENTRAL_BOX = "121.40,31.17,121.54,31.29"  # the road box of osm/shanghai-center.osm


@pytest.fixture(scope="module")
def cpc_list(real_data):
    return real_data / "facilities" / "china_chest_pain_centers_batches_2014_2016.csv"


@pytest.fixture(scope="module")
def hospitals(real_data):
    return real_data / "shanghai" / "shanghai_hospitals_osm.csv"


@pytest.fixture(scope="module")
def osm_rows(hospitals):
    with open(hospitals, encoding="utf-8") as f:
        return {r["osm_id"]: r for r in csv.DictReader(f)}


def _cli(capsys, *args):
    from geoservice.faces.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _read_csv(path):
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _names_list(tmp_path, *names, header="batch,decision_date,hospital_name_as_published"):
    p = tmp_path / "names.csv"
    p.write_text(header + "\n" + "".join(f"{n}\n" for n in names), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- the real list


def test_real_list_matches_the_chest_hospital_via_the_alias_and_nothing_else(capsys, tmp_path, cpc_list, hospitals):
    with open(cpc_list, encoding="utf-8") as f:
        listed = list(csv.DictReader(f))
    shanghai = [r for r in listed if r["shanghai_hospital"] == "yes"]
    assert len(listed) == 71 and [r["hospital_name_as_published"] for r in shanghai] == ["上海交通大学附属胸科医院"]
    assert shanghai[0]["osm_match"].startswith("way/1100831002")

    out, unresolved = tmp_path / "matched.csv", tmp_path / "unresolved.csv"
    args = ["certify", "--list", cpc_list, "--facilities", hospitals, "--type", "chest_pain_center"]
    code, stdout, err = _cli(capsys, *args, "--level", "standard", "--out", out, "--unresolved", unresolved)
    assert code == 0, err
    assert "71 names: 1 matched, 0 ambiguous, 70 unmatched" in err

    rows = _read_csv(out)
    assert len(rows) == 1
    (row,) = rows
    assert row["id"] == "chest_pain_center-osm-way-1100831002" and row["name"] == "上海市胸科医院"
    assert (row["type"], row["level"], row["status"], row["demo"]) == (
        "chest_pain_center",
        "standard",
        "certified",
        "False",
    )
    assert row["source"] == (
        "china_chest_pain_centers_batches_2014_2016.csv: batch 1, decision date 2014-02-12, "
        "published name 上海交通大学附属胸科医院; position OpenStreetMap way/1100831002 (ODbL)"
    )
    with open(hospitals, encoding="utf-8") as f:
        osm = next(r for r in csv.DictReader(f) if r["osm_id"] == "way/1100831002")
    assert (float(row["lon"]), float(row["lat"])) == (float(osm["lon"]), float(osm["lat"]))

    # every other name is a hospital outside Shanghai: unmatched, listed on stdout and in the file
    others = [r["hospital_name_as_published"] for r in listed if r["shanghai_hospital"] != "yes"]
    left = _read_csv(unresolved)
    assert [r["published_name"] for r in left] == others
    assert {r["outcome"] for r in left} == {"unmatched"} and all(r["candidates"] == "" for r in left)
    assert stdout.count("unmatched: row ") == 70 and "上海交通大学附属胸科医院" not in stdout


def test_the_match_is_made_by_the_alias(hospitals):
    from geoservice.sources.certification import read_positioned

    facilities = read_positioned(hospitals).facilities
    entry = ListEntry(2, "上海交通大学附属胸科医院", "1", "2014-02-12")
    rep = match_names([entry], facilities, read_aliases())
    assert len(rep.matched) == 1 and rep.matched[0].how == "alias"
    assert rep.matched[0].facility.id == "osm-way-1100831002"
    assert rep.matched[0].alias is not None and rep.matched[0].alias.local_name == "上海市胸科医院"
    # without the alias table the name is not matched by the other rules alone (normalised
    # keys happen to agree here: 上海 + 胸科医院), so the alias is what a person relies on
    assert match_names([entry], facilities, {}).matched[0].how == "normalised"


def test_geojson_output_carries_the_osm_attribution_and_reads_back(capsys, tmp_path, cpc_list, hospitals):
    from geoservice.sources.facility_files import read_facilities

    out = tmp_path / "cpc.geojson"
    code, _, err = _cli(
        capsys, "certify", "--list", cpc_list, "--facilities", hospitals, "--type", "chest_pain_center",
        "--level", "standard", "--region-bbox", CENTRAL_BOX, "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out.read_text(encoding="utf-8"))["attribution"] == OSM_ATTRIBUTION
    back = read_facilities(out)
    assert back.ok and list(back.layer["name"]) == ["上海市胸科医院"]


# --------------------------------------------------------------------------- ambiguous, bbox


def test_two_features_with_one_name_are_ambiguous_not_matched(capsys, tmp_path, hospitals, osm_rows):
    same = sorted(k for k, r in osm_rows.items() if r["name"] == "上海仁爱医院")
    assert same == ["node/11166602113", "way/789759762"]  # two OSM features, one site (172 m apart)
    names = _names_list(tmp_path, "1,2014-02-12,上海仁爱医院", "1,2014-02-12,外滩街道社区卫生服务中心")
    out, unresolved = tmp_path / "m.csv", tmp_path / "u.csv"
    code, stdout, err = _cli(
        capsys, "certify", "--list", names, "--facilities", hospitals, "--type", "chest_pain_center",
        "--level", "basic", "--out", out, "--unresolved", unresolved,
    )  # fmt: skip
    assert code == 0, err
    assert _read_csv(out) == []  # nothing matched on a guess
    left = _read_csv(unresolved)
    assert [r["outcome"] for r in left] == ["ambiguous", "ambiguous"]
    assert "osm-way-789759762 上海仁爱医院" in left[0]["candidates"]
    assert "osm-node-11166602113 上海仁爱医院" in left[0]["candidates"]
    assert left[1]["candidates"].count("外滩街道社区卫生服务中心") == 2
    assert stdout.startswith("ambiguous: row 1: 上海仁爱医院: 2 facilities have this name")


def test_region_bbox_limits_the_candidates(hospitals, osm_rows):
    from geoservice.sources.certification import read_positioned

    # 上海市儿童医院: two OSM features 5.9 km apart, one inside the central box
    inside = [r["osm_id"] for r in osm_rows.values() if r["name"] == "上海市儿童医院" and r["in_central_bbox"] == "1"]
    assert inside == ["way/1153655815"]
    entry = ListEntry(1, "上海市儿童医院")
    everywhere = read_positioned(hospitals).facilities
    central = read_positioned(hospitals, bbox=(121.40, 31.17, 121.54, 31.29))
    assert len(match_names([entry], everywhere, {}).ambiguous) == 1
    rep = match_names([entry], central.facilities, {})
    assert [m.facility.id for m in rep.matched] == ["osm-way-1153655815"] and rep.matched[0].how == "exact"
    n_central = sum(r["in_central_bbox"] == "1" and r["name"].strip() != "" for r in osm_rows.values())
    assert len(central.facilities) == n_central


def test_a_name_found_only_in_brackets_is_left_to_a_person(hospitals):
    from geoservice.sources.certification import read_positioned

    central = read_positioned(hospitals, bbox=(121.40, 31.17, 121.54, 31.29)).facilities
    everywhere = read_positioned(hospitals).facilities
    lung = ListEntry(1, "上海市肺科医院")
    # all of Shanghai: the main campus has exactly this name
    assert [m.facility.id for m in match_names([lung], everywhere, {}).matched] == ["osm-way-538441462"]
    # central box: only the campus "上海市肺科医院（延庆路）" -> one candidate, still not matched
    rep = match_names([lung], central, {})
    assert not rep.matched and [c.id for c in rep.ambiguous[0].candidates] == ["osm-way-1089398179"]
    # 上海长征医院 is the bracketed second name of two features (main and 北院): the alias names the main one
    changzheng = ListEntry(2, "上海长征医院")
    assert [c.id for c in match_names([changzheng], central, {}).ambiguous[0].candidates] == [
        "osm-way-538432095",
        "osm-way-1156225369",
    ]
    rep = match_names([changzheng], central, read_aliases())
    assert rep.matched[0].facility.id == "osm-way-538432095" and rep.matched[0].how == "alias"


def test_normalised_and_exact_matches_on_real_names(hospitals):
    from geoservice.sources.certification import read_positioned

    facilities = read_positioned(hospitals).facilities
    entries = [
        ListEntry(1, "上海交通大学医学院附属第九人民医院"),  # OSM: 上海第九人民医院 (relation/19676903)
        ListEntry(2, "上海市徐汇区　大华医院"),  # full-width space; OSM: 上海市徐汇区大华医院
        ListEntry(3, "复旦大学附属中山医院"),  # OSM: the same name (its 老年医学中心 campus has another)
        ListEntry(4, "厦门大学附属中山医院"),  # another city's 中山医院: must not match Fudan's
    ]
    rep = match_names(entries, facilities, {})
    got = {m.entry.row: (m.facility.id, m.how) for m in rep.matched}
    assert got == {
        1: ("osm-relation-19676903", "normalised"),
        2: ("osm-way-757482010", "normalised"),
        3: ("osm-way-294625595", "exact"),
    }
    assert [u.entry.row for u in rep.unmatched] == [4]


def test_same_point_twice_is_one_candidate():
    a = Positioned("cpc-1", "示例医院", 121.4, 31.2, "file", {})
    b = Positioned("stroke-1", "示例医院", 121.4, 31.2, "file", {})
    c = Positioned("x-9", "示例医院", 121.5, 31.2, "file", {})
    assert len(match_names([ListEntry(1, "示例医院")], [a, b], {}).matched) == 1
    assert len(match_names([ListEntry(1, "示例医院")], [a, b, c], {}).ambiguous[0].candidates) == 2


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "name, key",
    [
        ("上海市胸科医院", "上海胸科医院"),  # a leading city's 市
        ("上海交通大学附属胸科医院", "上海胸科医院"),  # a Shanghai university -> its city
        ("上海交通大学医学院附属瑞金医院", "上海瑞金医院"),
        ("复旦大学附属中山医院", "上海中山医院"),
        ("厦门大学附属中山医院", "厦门大学附属中山医院"),  # unknown university: kept whole
        ("吉林大学第一医院", "吉林大学第一医院"),
        ("上海交通大学医学院苏州九龙医院", "上海交通大学医学院苏州九龙医院"),  # no 附属: in Suzhou, kept
        ("上海市徐汇区大华医院", "上海徐汇大华医院"),  # a Shanghai district's 区
        ("徐汇区社区卫生服务中心", "徐汇社区卫生服务中心"),
        ("九江市第一人民医院", "九江第一人民医院"),
        ("上海市第十人民医院（虬江路院区）", "上海第十人民医院(虬江路院区)"),  # campus kept, brackets half-width
        ("上海九龙男子医院有限公司", "上海九龙男子医院"),  # legal form
        ("  上海 市胸科医院 ", "上海胸科医院"),  # spaces
        ("ＳＩＮＯ医院", "SINO医院"),  # full-width letters
        ("上钢社区卫生服务中心", "上钢社区卫生服务中心"),  # 社区 is not a district's 区
    ],
)
def test_name_key_hand_checked(name, key):
    assert name_key(name) == key


def test_bracket_keys():
    assert bracket_keys("上海市胸科医院") == ()
    assert bracket_keys("中国人民解放军海军军医大学第二附属医院（上海长征医院）（北院）") == (
        "中国人民解放军海军军医大学第二附属医院",
        "上海长征医院",
    )  # (北院) is a campus, not a name
    assert bracket_keys("浦南医院(东院)") == ("浦南医院",)


# --------------------------------------------------------------------------- list formats


def test_list_columns_dates_encodings_and_duplicates(capsys, tmp_path, hospitals):
    # the batch-8 file's layout (hospital, accredited_on as "2016 年 7 月 24 日"), GB18030-encoded
    names = tmp_path / "batch8.csv"
    names.write_bytes("hospital,accredited_on\n九江市第一人民医院,2016 年 7 月 24 日\n".encode("gb18030"))
    unresolved = tmp_path / "u.csv"
    code, _, err = _cli(
        capsys, "certify", "--list", names, "--name-col", "hospital", "--date-col", "accredited_on",
        "--facilities", hospitals, "--type", "chest_pain_center", "--level", "standard",
        "--out", tmp_path / "m.csv", "--unresolved", unresolved,
    )  # fmt: skip
    assert code == 0, err
    (row,) = _read_csv(unresolved)
    assert (row["published_name"], row["decision_date"], row["batch"]) == ("九江市第一人民医院", "2016-07-24", "")

    # the same published row twice: one facility, its source naming both rows' entries
    dup = _names_list(tmp_path, "1,2014-02-12,上海交通大学附属胸科医院", "", "1,2014-02-12,上海交通大学附属胸科医院")
    out = tmp_path / "dup.csv"
    code, _, err = _cli(
        capsys, "certify", "--list", dup, "--facilities", hospitals, "--type", "chest_pain_center",
        "--level", "standard", "--out", out,
    )  # fmt: skip
    assert code == 0 and "2 names: 2 matched" in err
    (row,) = _read_csv(out)
    assert row["source"].count("published name 上海交通大学附属胸科医院") == 2


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"--list": "missing.csv"}, "--list"),
        ({"--facilities": "missing.csv"}, "--facilities"),
        ({"--name-col": "name"}, "--name-col"),
        ({"--batch-col": "round"}, "--batch-col"),
        ({"--type": "gold_center"}, "--type"),
        ({"--level": "gold"}, "--level"),
        ({"--level": None}, "--level"),  # a chest pain list certifies one level: say which
        ({"--type": "aed"}, "--level"),  # an AED has no level
        ({"--region-bbox": "121.54,31.17,121.40,31.29"}, "--region-bbox"),
        ({"--region-bbox": "1,2,3"}, "--region-bbox"),
        ({"--region-bbox": "0,0,1,1"}, "--facilities"),  # no facility left inside
        ({"--out": "matched.txt"}, "--out"),
        ({"--unresolved": "left.geojson"}, "--unresolved"),
        ({"no coordinates": True}, "--lon-col"),
        ({"empty list": True}, "--list"),
        ({"header only": True}, "--list"),
        ({"empty name": True}, "--list"),
    ],
)
def test_bad_input_exits_2_naming_the_flag_and_leaves_out_untouched(
    capsys, tmp_path, cpc_list, hospitals, change, flag
):
    out = tmp_path / "matched.csv"
    out.write_text("the previous run's output\n", encoding="utf-8")
    args = {
        "--list": str(cpc_list),
        "--facilities": str(hospitals),
        "--type": "chest_pain_center",
        "--level": "standard",
        "--out": str(out),
        "--unresolved": str(tmp_path / "left.csv"),
    }
    if "empty list" in change:
        args["--list"] = str(_names_list(tmp_path, header=""))
    elif "header only" in change:
        args["--list"] = str(_names_list(tmp_path, "", ""))
    elif "no coordinates" in change:
        args["--facilities"] = str(tmp_path / "names_only.csv")
        (tmp_path / "names_only.csv").write_text("name\n上海市胸科医院\n", encoding="utf-8")
    elif "empty name" in change:
        args["--list"] = str(_names_list(tmp_path, "1,2014-02-12,上海交通大学附属胸科医院", "3,2014-12-12,"))
    else:
        args.update({k: (str(tmp_path / v) if k in ("--list", "--facilities", "--out", "--unresolved") and v else v)
                     for k, v in change.items()})  # fmt: skip
        if change.get("--out"):
            out = tmp_path / change["--out"]
    argv = ["certify"] + [x for k, v in args.items() if v is not None for x in (k, v)]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = _cli(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"geoservice: error: {flag}: "), err
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no new file, no temporary left
    matched = tmp_path / "matched.csv"
    assert matched.read_text(encoding="utf-8") == "the previous run's output\n"
