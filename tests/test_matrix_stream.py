"""Large matrices stream to disk: written block by block (CSV; Parquet with pyarrow), equal to the
in-memory matrix, far pairs left out beyond a cutoff, and written atomically (a failed run leaves
no file and keeps an old one)."""

from __future__ import annotations

import csv
import importlib.util

import numpy as np
import pytest

from geoservice.engine.matrix_stream import write_matrix
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main
from geoservice.questions import MatrixQuestion, TrafficAsk
from geoservice.service.core import GeoService
from geoservice.service.usecases.matrices import matrix_file


def points(eng, n: int, seed: int) -> list[tuple[float, float]]:
    net = eng.router_for("drive").net
    idx = np.random.default_rng(seed).choice(net.n_nodes, n, replace=False)
    return [(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx]


def in_memory(eng, o, d, **kw) -> tuple[np.ndarray, np.ndarray]:
    rows = sorted(eng.matrix(o, d, **kw), key=lambda r: r[0])
    return np.vstack([r[1] for r in rows]), np.vstack([r[2] for r in rows])


def ask(o, d, oid, did, **kw) -> MatrixQuestion:
    return MatrixQuestion(tuple(oid), tuple(o), tuple(did), tuple(d), **kw)


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("scenario", [None, "peak", {"primary": 1.9, "residential": 1.3}])
def test_streamed_csv_equals_the_in_memory_matrix(andorra_engine, tmp_path, scenario):
    eng = andorra_engine
    o, d = points(eng, 23, 1), points(eng, 17, 2)
    o[5] = d[3]  # one pair at the same place
    t, m = in_memory(eng, o, d, scenario=scenario)
    oid, did = [f"o{i}" for i in range(len(o))], [f"d,{j}" for j in range(len(d))]  # a comma, quoted
    out = write_matrix(eng, ask(o, d, oid, did), tmp_path / "m.csv", scenario=scenario, block=5)
    assert (out.blocks, out.pairs, out.format) == (5, 23 * 17, "csv")  # 5 blocks of <= 5 origins
    rows = read_csv(tmp_path / "m.csv")
    assert list(rows[0]) == ["origin_id", "destination_id", "time_s", "distance_m"]
    assert [(r["origin_id"], r["destination_id"]) for r in rows] == [(a, b) for a in oid for b in did]
    got_t = np.array([float(r["time_s"]) if r["time_s"] else np.inf for r in rows]).reshape(t.shape)
    got_m = np.array([float(r["distance_m"]) if r["distance_m"] else np.inf for r in rows]).reshape(m.shape)
    fin = np.isfinite(t)
    assert np.array_equal(np.isfinite(got_t), fin) and fin.mean() > 0.9
    np.testing.assert_allclose(got_t[fin], t[fin], atol=0.05 + 1e-9)
    np.testing.assert_allclose(got_m[fin], m[fin], atol=0.05 + 1e-9)
    assert got_t[5, 3] == 0.0


def test_cutoff_leaves_far_pairs_out(andorra_engine, tmp_path):
    eng = andorra_engine
    o, d = points(eng, 30, 3), points(eng, 30, 4)
    t, _ = in_memory(eng, o, d, scenario="peak")
    ids = [str(i) for i in range(30)]
    out = write_matrix(eng, ask(o, d, ids, ids, cutoff_minutes=10), tmp_path / "c.csv", scenario="peak", block=7)
    rows = read_csv(tmp_path / "c.csv")
    want = {(str(i), str(j)) for i, j in zip(*np.nonzero(t <= 600))}
    assert {(r["origin_id"], r["destination_id"]) for r in rows} == want and out.pairs == len(want)
    assert 0 < len(want) < 900 and all(r["time_s"] and float(r["time_s"]) <= 600.05 for r in rows)


def test_atomic_and_errors(andorra_engine, tmp_path):
    eng = andorra_engine
    o = points(eng, 4, 5)
    target = tmp_path / "keep.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(GeoserviceError) as err:  # a destination in the sea: nothing written
        write_matrix(eng, ask(o, [*o, (0.0, 0.0)], "abcd", "abcde"), target)
    assert err.value.field == "destinations" and "row 5" in err.value.message
    assert target.read_text(encoding="utf-8") == "old\n" and [p.name for p in tmp_path.iterdir()] == ["keep.csv"]
    with pytest.raises(GeoserviceError) as err:
        write_matrix(eng, ask(o, o, "abcd", "abcd"), tmp_path / "m.txt")
    assert err.value.field == "output"


def test_parquet_without_pyarrow_is_a_clear_error(andorra_engine, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    o = points(andorra_engine, 3, 6)
    with pytest.raises(GeoserviceError, match="pyarrow") as err:
        write_matrix(andorra_engine, ask(o, o, "abc", "abc"), tmp_path / "m.parquet")
    assert err.value.field == "output" and not list(tmp_path.iterdir())


def test_parquet_equals_the_in_memory_matrix(andorra_engine, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    eng = andorra_engine
    o, d = points(eng, 12, 7), points(eng, 9, 8)
    t, _ = in_memory(eng, o, d)
    write_matrix(eng, ask(o, d, "abcdefghijkl", "ABCDEFGHI"), tmp_path / "m.parquet")
    tab = pq.read_table(tmp_path / "m.parquet").to_pandas()
    got = tab["time_s"].to_numpy(float).reshape(t.shape)
    fin = np.isfinite(t)
    np.testing.assert_allclose(np.nan_to_num(got, nan=np.inf)[fin], t[fin], atol=0.05 + 1e-9)


def test_service_and_cli(andorra, regions_dir, tmp_path, capsys):
    svc = GeoService([andorra])
    pts = [(1.5836, 42.5359), (1.5212, 42.5069), (1.6671, 42.5769)]
    ans = matrix_file(
        svc, ask(pts, pts, "abc", "abc", traffic=TrafficAsk(depart="08:00"), cutoff_minutes=15), tmp_path / "s.csv"
    )
    assert ans.region == "andorra" and ans.traffic.name == "hour_08" and ans.file.cutoff_s == 900
    with pytest.raises(GeoserviceError) as err:
        ask(pts[:1], pts[:1], "a", "a", cutoff_minutes=-1)  # refused when asked, before any work
    assert err.value.field == "cutoff_minutes"
    f = tmp_path / "pts.csv"
    f.write_text("id,lon,lat\n" + "".join(f"{k},{x},{y}\n" for k, (x, y) in zip("abc", pts)), encoding="utf-8")
    args = ["matrix", "--region", str(regions_dir / "andorra"), "--origins", str(f), "--destinations", str(f)]
    assert main([*args, "-o", str(tmp_path / "cli.csv"), "--depart", "08:00", "--cutoff-minutes", "15"]) == 0
    assert read_csv(tmp_path / "cli.csv") == read_csv(tmp_path / "s.csv")
    assert "pairs within 15 min" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "cli.csv"), "--cutoff-minutes", "0"]) == 2
    assert "geoservice: error: --cutoff-minutes: " in capsys.readouterr().err
