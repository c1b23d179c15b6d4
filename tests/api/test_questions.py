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
from geoservice.questions import MAX_K, MAX_MINUTES, CoverageQuestion, NearestQuestion, TrafficAsk
from geoservice.service.usecases import queries

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
    assert f"(0, {questions.MAX_MINUTES:g}]" in text and f"must be 1 to {questions.MAX_K}" in text
    sep = ", " if lang == "en" else "、"
    assert f"| `DIRECTIONS` | {sep.join(f'`{d}`' for d in questions.DIRECTIONS)} |" in text
    assert f"| `COVERAGE_BY` | {sep.join(f'`{b}`' for b in questions.COVERAGE_BY)} |" in text
    for model in (questions.NearestQuestion, questions.CoverageQuestion, questions.TrafficAsk):
        section = text.split(f"## `{model.__name__}`")[1].split("\n## ")[0]
        for f in fields(model):
            assert f"`{f.name}`" in section, (model.__name__, f.name)
    example = text.split("```python\n")[1].split("```")[0]
    scope: dict = {"svc": state}
    exec(example, scope)
    assert scope["answer"].results and scope["answer"].depart == "08:30"
