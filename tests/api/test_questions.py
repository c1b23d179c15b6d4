"""One typed question per kind of answer (issue 22, item 1): the limits are the ones in
``geoservice.questions`` on every face, the CLI and the API build equal questions for the same
request, and the object a face builds is the one the service and the engine (or the analysis) read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from geoservice.analyses import coverage as coverage_mod
from geoservice.engine.engine import Engine
from geoservice.errors import GeoserviceError
from geoservice.faces.cli import main
from geoservice.questions import (
    MAX_CUTOFF_MINUTES,
    MAX_K,
    MAX_MINUTES,
    MAX_MINUTES_VALUES,
    CoverageQuestion,
    IsochroneQuestion,
    MatrixQuestion,
    NearestQuestion,
    ServiceAreaQuestion,
    TrafficAsk,
)
from geoservice.service.usecases import matrices, queries

ANDORRA = {"lon": 1.58, "lat": 42.54}  # Encamp, on the road network


def cli(capsys, regions_dir, *args):
    code = main([str(a) for a in [*args, "--region", regions_dir / "andorra"]])
    out, err = capsys.readouterr()
    return code, out, err


class Spy:
    """Wraps a function: records the question (first argument after ``skip``) and calls through."""

    def __init__(self, fn, skip: int = 1):
        self.fn, self.skip, self.seen = fn, skip, []

    def __call__(self, *args, **kwargs):
        self.seen.append(args[self.skip])
        return self.fn(*args, **kwargs)


def test_limits_are_the_ones_in_questions(client):
    """The OpenAPI document states the same k and minutes limits the question enforces."""
    doc = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/nearest"]["get"]["parameters"]}
    assert MAX_K == 20 and params["k"]["maximum"] == MAX_K and params["k"]["minimum"] == 1
    minutes = params["max_minutes"]["anyOf"][0]
    assert MAX_MINUTES == 240 and minutes["maximum"] == MAX_MINUTES
    cov = {p["name"]: p["schema"] for p in doc["paths"]["/coverage"]["get"]["parameters"]}
    assert cov["minutes"]["anyOf"][0]["maximum"] == MAX_MINUTES
    areas = {p["name"]: p["schema"] for p in doc["paths"]["/service-areas"]["get"]["parameters"]}
    assert areas["minutes"]["anyOf"][0]["maximum"] == MAX_MINUTES


@pytest.mark.parametrize("k", [0, MAX_K + 1])
def test_k_beyond_the_limit_is_refused_by_every_face(client, capsys, regions_dir, k):
    r = client.get("/nearest", params=dict(ANDORRA, type="chest_pain_center", k=k))
    assert r.status_code == 422 and r.json()["field"] == "k"
    code, _, err = cli(capsys, regions_dir, "nearest", "--lon", 1.58, "--lat", 42.54, "--type", "aed", "--k", k)
    assert code == 2 and err.startswith("geoservice: error: --k: must be 1 to 20") and "Traceback" not in err
    with pytest.raises(GeoserviceError) as exc:
        NearestQuestion.of(1.58, 42.54, k=k)
    assert exc.value.field == "k" and str(exc.value) == f"must be 1 to 20, got {k}"
    # the edge of the limit is accepted on every face
    assert client.get("/nearest", params=dict(ANDORRA, k=MAX_K)).status_code == 200


def test_coverage_minutes_beyond_the_limit_is_refused_by_every_face(client, capsys, regions_dir):
    r = client.get("/coverage", params={"type": "chest_pain_center", "minutes": MAX_MINUTES + 1, "region": "andorra"})
    assert r.status_code == 422 and r.json()["field"] == "minutes"
    code, _, err = cli(capsys, regions_dir, "coverage", "--type", "chest_pain_center", "--minutes", 241, "-o", "x")
    assert code == 2 and err.startswith("geoservice: error: --minutes: must be in (0, 240], got 241")
    with pytest.raises(GeoserviceError) as exc:
        CoverageQuestion.of(type="chest_pain_center", minutes=MAX_MINUTES + 1)
    assert exc.value.field == "minutes"


def test_cli_and_api_ask_the_same_nearest_question(client, capsys, regions_dir, monkeypatch):
    """The same request on both faces builds equal questions; the service hands the very object it
    received to the engine (no restating on the way down)."""
    service, engine = Spy(queries.nearest), Spy(Engine.nearest)
    monkeypatch.setattr(queries, "nearest", service)
    monkeypatch.setattr(Engine, "nearest", lambda self, q, **kw: engine(self, q, **kw))
    ask = {"type": "stroke_center", "capability": "evt", "k": 2, "max_minutes": 90, "depart": "08:30"}
    r = client.get("/nearest", params=dict(ANDORRA, **ask))
    assert r.status_code == 200, r.text
    flags = [x for key, v in ask.items() for x in (f"--{key.replace('_', '-')}", v)]
    code, out, err = cli(capsys, regions_dir, "nearest", "--lon", 1.58, "--lat", 42.54, *flags)
    assert code == 0, err
    api_q, cli_q = service.seen
    assert (
        api_q
        == cli_q
        == NearestQuestion.of(
            1.58, 42.54, type="stroke_center", capability="evt", k=2, max_minutes=90, traffic=TrafficAsk(depart="08:30")
        )
    )
    assert api_q.where.capabilities == frozenset({"evt"}) and api_q.mode == "drive"
    assert engine.seen[0] is api_q and engine.seen[1] is cli_q  # unchanged down to the engine
    assert r.json()["results"] == json.loads(out)["results"]


def test_cli_and_api_ask_the_same_coverage_question(client, capsys, regions_dir, tmp_path, monkeypatch):
    """Coverage: equal questions from both faces; the analysis reads the service's object and its
    parsed filter (no filter turned back into text)."""
    from geoservice.faces.api import cancellable

    monkeypatch.setattr(cancellable, "fork_is_safe", lambda: False)  # in this process: the spies see it
    service, analysis = Spy(queries.coverage), Spy(coverage_mod.coverage_report)
    monkeypatch.setattr(queries, "coverage", service)
    monkeypatch.setattr(coverage_mod, "coverage_report", analysis)
    ask = {"type": "chest_pain_center", "level": "standard,basic", "minutes": 12}  # Monaco: small, quick
    r = client.get("/coverage", params=dict(ask, gaps=False, region="monaco"))
    assert r.status_code == 200, r.text
    out = tmp_path / "cov"
    args = ["coverage", "--type", "chest_pain_center", "--level", "standard,basic", "--minutes", 12, "--no-gaps"]
    code = main([str(a) for a in [*args, "-o", out, "--region", regions_dir / "monaco"]])
    assert code == 0, capsys.readouterr().err
    api_q, cli_q = service.seen
    # the API names its region; the CLI's region is the bundle it opened: otherwise the same question
    assert api_q == CoverageQuestion.of(**ask, gaps=False, region="monaco")
    assert cli_q == CoverageQuestion.of(**ask, gaps=False) == replace(api_q, region=None)
    assert analysis.seen[0] is api_q and analysis.seen[1] is cli_q
    assert api_q.where.levels == frozenset({"standard", "basic"}) and api_q.threshold == 12.0


@pytest.mark.parametrize(
    "minutes", [f"10,{MAX_MINUTES + 1}", ",".join(str(m) for m in range(1, MAX_MINUTES_VALUES + 2))]
)
def test_isochrone_minutes_beyond_the_limits_are_refused_by_every_face(client, capsys, regions_dir, minutes):
    """A minutes value over MAX_MINUTES, or more than MAX_MINUTES_VALUES of them: the same field and
    the same words on the API, the CLI and the question."""
    with pytest.raises(GeoserviceError) as exc:
        IsochroneQuestion(1.58, 42.54, minutes)
    assert exc.value.field == "minutes"
    r = client.get("/isochrones", params=dict(ANDORRA, minutes=minutes))
    assert r.status_code == 422 and r.json()["field"] == "minutes" and exc.value.message in r.text
    code, _, err = cli(capsys, regions_dir, "isochrone", "--lon", 1.58, "--lat", 42.54, "--minutes", minutes)
    assert code == 2 and err.strip() == f"geoservice: error: --minutes: {exc.value.message}"
    # the edge of the limits is accepted
    edge = ",".join(str(MAX_MINUTES - m) for m in range(MAX_MINUTES_VALUES))
    assert len(IsochroneQuestion(1.58, 42.54, edge).minutes) == MAX_MINUTES_VALUES


def test_matrix_cutoff_beyond_the_limit_is_refused(capsys, regions_dir, tmp_path):
    pts = tmp_path / "p.csv"
    pts.write_text("id,lon,lat\na,1.58,42.54\n", encoding="utf-8")
    for bad in (0, MAX_CUTOFF_MINUTES + 1):
        with pytest.raises(GeoserviceError) as exc:
            MatrixQuestion(("a",), ((1.58, 42.54),), ("a",), ((1.58, 42.54),), cutoff_minutes=bad)
        assert exc.value.field == "cutoff_minutes" and f"(0, {MAX_CUTOFF_MINUTES:g}]" in exc.value.message
        args = ["matrix", "--origins", pts, "--destinations", pts, "--cutoff-minutes", bad, "-o", tmp_path / "m.csv"]
        code, _, err = cli(capsys, regions_dir, *args)
        assert code == 2 and err.strip() == f"geoservice: error: --cutoff-minutes: {exc.value.message}"
    assert not (tmp_path / "m.csv").exists()


def test_cli_and_api_ask_the_same_isochrone_question(client, capsys, regions_dir, monkeypatch):
    """The same isochrone request on both faces: equal questions, the engine asked with the
    question's parts, and the same polygons."""
    service = Spy(queries.isochrones)
    monkeypatch.setattr(queries, "isochrones", service)
    r = client.get("/isochrones", params=dict(ANDORRA, minutes="15,5,5", direction="from", depart="08:30"))
    assert r.status_code == 200, r.text
    args = ["--lon", 1.58, "--lat", 42.54, "--minutes", "5,15", "--direction", "from", "--depart", "08:30"]
    code, out, err = cli(capsys, regions_dir, "isochrone", *args)
    assert code == 0, err
    api_q, cli_q = service.seen
    want = IsochroneQuestion(1.58, 42.54, (5.0, 15.0), direction="from", traffic=TrafficAsk(depart="08:30"))
    assert api_q == cli_q == want and api_q.minutes == (5.0, 15.0)
    assert r.json()["features"] == json.loads(out)["features"]
    assert [f["properties"]["minutes"] for f in r.json()["features"]] == [5.0, 15.0]


def test_api_service_areas_hand_the_question_down(client, monkeypatch):
    """/service-areas builds one ServiceAreaQuestion; the service gets that object and its answer
    is the one a question built in Python gets."""
    from geoservice.faces.api import cancellable

    monkeypatch.setattr(cancellable, "fork_is_safe", lambda: False)  # in this process: the spy sees it
    service = Spy(queries.service_areas)
    monkeypatch.setattr(queries, "service_areas", service)
    ask = {"type": "chest_pain_center", "minutes": 12, "region": "monaco"}
    r = client.get("/service-areas", params=ask)
    assert r.status_code == 200, r.text
    (q,) = service.seen
    assert q == ServiceAreaQuestion.of(**ask) and q.mode == "drive" and q.threshold == 12.0
    assert replace(q, minutes=None).threshold == 30.0  # the chest pain plan target
    assert len(r.json()["features"]) > 0


def test_cli_matrix_hands_its_question_down(capsys, regions_dir, tmp_path, monkeypatch, state):
    """``geoservice matrix`` builds one MatrixQuestion; the engine's writer gets that very object,
    and the file equals the one the service writes for an equal question built in Python."""
    from geoservice.engine import matrix_stream

    writer = Spy(matrix_stream.write_matrix)
    monkeypatch.setattr(matrices, "write_matrix", writer)
    pts = [(1.5836, 42.5359), (1.5212, 42.5069)]
    f = tmp_path / "p.csv"
    f.write_text("id,lon,lat\n" + "".join(f"{k},{x},{y}\n" for k, (x, y) in zip("ab", pts)), encoding="utf-8")
    args = ["matrix", "--origins", f, "--destinations", f, "--depart", "08:00", "--cutoff-minutes", 20]
    code, _, err = cli(capsys, regions_dir, *args, "-o", tmp_path / "cli.csv")
    assert code == 0, err
    want = MatrixQuestion(("a", "b"), tuple(pts), ("a", "b"), tuple(pts), None, TrafficAsk(depart="08:00"), 20)
    assert writer.seen == [want]
    ans = matrices.matrix_file(state, want, tmp_path / "py.csv")
    assert writer.seen[1] is want and ans.file.cutoff_s == 1200
    assert (tmp_path / "cli.csv").read_text() == (tmp_path / "py.csv").read_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reference_page_matches_the_code(lang, state):
    """docs/reference/questions.*.md names every question, field and limit as the code has them, and
    its Python example runs."""
    from dataclasses import fields
    from pathlib import Path

    from geoservice import questions

    text = (Path(__file__).parents[2] / "docs" / "reference" / f"questions.{lang}.md").read_text(encoding="utf-8")
    assert f"| `MAX_K` | {questions.MAX_K} |" in text
    assert f"| `MAX_MINUTES` | {questions.MAX_MINUTES:g} |" in text
    assert f"| `MAX_MINUTES_VALUES` | {questions.MAX_MINUTES_VALUES} |" in text
    assert f"| `MAX_CUTOFF_MINUTES` | {questions.MAX_CUTOFF_MINUTES:g} |" in text
    assert f"(0, {questions.MAX_MINUTES:g}]" in text and f"must be 1 to {questions.MAX_K}" in text
    sep = ", " if lang == "en" else "、"
    assert f"| `DIRECTIONS` | {sep.join(f'`{d}`' for d in questions.DIRECTIONS)} |" in text
    assert f"| `COVERAGE_BY` | {sep.join(f'`{b}`' for b in questions.COVERAGE_BY)} |" in text
    for model in (
        questions.NearestQuestion,
        questions.CoverageQuestion,
        questions.IsochroneQuestion,
        questions.ServiceAreaQuestion,
        questions.MatrixQuestion,
        questions.TrafficAsk,
    ):
        section = text.split(f"## `{model.__name__}`")[1].split("\n## ")[0]
        for f in fields(model):
            assert f"`{f.name}`" in section, (model.__name__, f.name)
    example = text.split("```python\n")[1].split("```")[0]
    scope: dict = {"svc": state}
    exec(example, scope)
    assert scope["answer"].results and scope["answer"].depart == "08:30"
    assert [f.properties["minutes"] for f in scope["areas"].features] == [5.0, 10.0]
