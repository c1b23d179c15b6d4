"""The dispatcher page in headless Chromium, as a 120 dispatcher uses it: in Chinese, with a
dispatcher key, SYNTHETIC responder positions posted first through the API (no real volunteer is
tracked), a click where the patient is in Monaco, and the plan on the page matching the API's."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from .conftest import ARTIFACTS, settle

pytestmark = pytest.mark.browser

DESKTOP_ZH = dict(viewport={"width": 1400, "height": 900}, locale="zh-CN")
ARREST = (7.4236, 43.7384)  # Place du Casino, Monaco
AT = "2026-11-29T03:00"
SYNTHETIC = {  # responder key name -> synthetic position
    "page-resp-a": (7.4250, 43.7390),
    "page-resp-b": (7.4210, 43.7370),
    "page-resp-c": (7.4270, 43.7405),
    "page-resp-d": (7.4180, 43.7335),
}
LATIN_OK = {"AED", "EN", "OpenStreetMap", "ODbL", "gsk"}
SIDE_TEXT = """() => {
  const e = document.querySelector('.side').cloneNode(true);
  e.querySelectorAll('.data').forEach((d) => d.remove());
  e.querySelectorAll('input').forEach((d) => d.remove());
  const words = [];
  const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) words.push(walk.currentNode.nodeValue);
  return words.join(' ');
}"""


def click_latlng(page, lon: float, lat: float):
    box = page.locator("#map").bounding_box()
    pt = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])


@pytest.fixture
def dispatcher_token(live_service, live_server):
    reg = live_service.registry
    for name, (lon, lat) in SYNTHETIC.items():
        token = reg.create_key(name, "responder")[1]
        r = httpx.post(
            f"{live_server}/responders/position", json={"lon": lon, "lat": lat}, headers={"X-API-Key": token}
        )
        assert r.status_code == 200, r.text
    token = reg.create_key("page-desk", "dispatcher")[1]
    yield token
    for name in [*SYNTHETIC, "page-desk"]:
        reg.revoke_key(name)


def test_dispatcher_plans_an_arrest_in_chinese(open_page, live_server, dispatcher_token):
    page, watch = open_page("/dispatcher", **DESKTOP_ZH)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.title() == "120 调度 · 志愿者与 AED 派遣"
    # without a key the page says what it needs
    assert "调度员密钥" in page.inner_text("#key-status")
    page.fill("#key", dispatcher_token)
    page.click("#key-save")
    page.wait_for_function(
        "() => document.getElementById('live').textContent.includes('在岗志愿者 4 人')", timeout=20000
    )
    assert page.inner_text("#key-status") == "密钥有效。"
    monaco = page.evaluate("GS.config.regions.findIndex((r) => r.name === 'monaco')")
    page.select_option("#region", str(monaco))
    page.fill("#at", AT)
    page.evaluate(f"() => {{ map.setView([{ARREST[1]}, {ARREST[0]}], 16, {{ animate: false }}); }}")
    click_latlng(page, *ARREST)
    page.wait_for_selector("#kpi", timeout=20000)

    ans = json.loads(page.evaluate("JSON.stringify(answer)"))
    o = ans["origin"]
    assert abs(o["lon"] - ARREST[0]) < 5e-5 and abs(o["lat"] - ARREST[1]) < 5e-5
    api = httpx.post(
        f"{live_server}/dispatch",
        json={"lon": o["lon"], "lat": o["lat"], "at": AT},
        headers={"X-API-Key": dispatcher_token},
    ).json()
    assert ans["first_shock"] == api["first_shock"]
    ans["aed_plan"]["responder"].pop("age_s"), api["aed_plan"]["responder"].pop("age_s")  # posted seconds ago
    assert ans["aed_plan"] == api["aed_plan"]

    # what the dispatcher reads: the shock time and its verdict, the three tasks, in Chinese
    kpi = page.inner_text("#kpi")
    assert f"预计 {ans['first_shock']['time_s'] / 60:.1f} 分钟内首次除颤" in kpi
    assert ("达到 4 分钟目标" if ans["first_shock"]["target_met"] else "超出 4 分钟目标") in kpi
    fetch = page.inner_text("[data-task='t-aed']")
    assert "取 AED 并送到患者身边" in fetch and ans["aed_plan"]["responder"]["id"] in fetch
    assert "开放时间未知" in fetch  # Monaco's OSM AEDs carry no hours
    cpr = page.inner_text("[data-task='t-cpr']")
    assert all(d["responder"]["id"] in cpr for d in ans["direct"]) and len(ans["direct"]) == 3
    amb = page.inner_text("[data-task='t-amb']")
    assert "救护车" in amb and "[演示指定]" in amb and f"{ans['ambulance']['eta_s'] / 60:.1f}" in amb
    # first on scene, the responder's AED, the bystander's AED (what to tell the caller), the ambulance
    assert page.locator("[data-bar]").count() == 4 and ans["bystander_aed"] is not None
    steps = page.eval_on_selector_all(".task h3 .step", "es => es.map((e) => e.textContent)")
    assert steps == ["1", "2", "3", "4"]
    # on the map: the fetch (two legs), the three CPR walks, the bystander's walk, the ambulance route
    fetched = (("d-route-fetch-aed", 1), ("d-route-bring-aed", 1), ("d-route-cpr", 3), ("d-route-bys", 1))
    for cls, n in (*fetched, ("d-route-amb", 1)):
        assert page.locator(f"path.{cls}").count() == n, cls
    leftover = {w for w in re.findall(r"[A-Za-z]{2,}", page.evaluate(SIDE_TEXT)) if w not in LATIN_OK}
    assert not leftover, leftover
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)  # the basemap canvas redraws after the map has been fitted to the plan
    page.screenshot(path=str(ARTIFACTS / "dispatcher_zh.png"))
    assert not watch.errors and not watch.external

    # in English the same plan
    page.click("#lang")
    assert "First shock in" in page.inner_text("#kpi")


def test_dispatcher_page_refuses_a_wrong_key(open_page, live_server):
    page, watch = open_page("/dispatcher", **DESKTOP_ZH)
    page.fill("#key", "gsk_not-a-key")
    page.click("#key-save")
    page.wait_for_function("() => document.getElementById('key-status').dataset.state === 'bad'", timeout=20000)
    assert "密钥被拒绝" in page.inner_text("#key-status")


# issue 21: an AED 37 m from the patient (osm-node-3760302961, a real OSM AED) and no volunteer on duty
NO_VOLUNTEER = (7.42782, 43.739985)
PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)


@pytest.fixture
def desk_token(live_service, request):
    from geoservice.service.usecases.dispatch import responder_store

    store = responder_store(live_service)
    for p in store.current()[0]:  # positions other tests posted: nobody is on duty here
        store.remove(p.responder)
    name = f"page-desk-alone-{request.node.callspec.id}"  # a revoked key keeps its name
    token = live_service.registry.create_key(name, "dispatcher")[1]
    yield token
    live_service.registry.revoke_key(name)


def plan_on_page(page, token: str, lon: float, lat: float):
    page.fill("#key", token)
    page.click("#key-save")
    page.wait_for_function("() => document.getElementById('key-status').dataset.state === 'ok'", timeout=20000)
    monaco = page.evaluate("GS.config.regions.findIndex((r) => r.name === 'monaco')")
    page.select_option("#region", str(monaco))
    page.fill("#at", AT)
    page.dispatch_event("#at", "change")
    page.evaluate(f"() => {{ map.setView([{lat}, {lon}], 17, {{ animate: false }}); }}")
    click_latlng(page, lon, lat)
    page.wait_for_selector("#kpi", timeout=20000)
    return json.loads(page.evaluate("JSON.stringify(answer)"))


@pytest.mark.parametrize(
    "lang,ctx", [("zh", DESKTOP_ZH), ("en", {**PHONE, "locale": "en-US"})], ids=["zh-desktop", "en-phone"]
)
def test_no_volunteer_still_gets_the_aed_advice(open_page, live_server, desk_token, lang, ctx):
    page, watch = open_page("/dispatcher", **ctx)
    ans = plan_on_page(page, desk_token, *NO_VOLUNTEER)
    assert ans["direct"] == [] and ans["aed_plan"] is None and ans["responders_considered"] == 0
    b = ans["bystander_aed"]
    assert b["aed"]["id"] == "osm-node-3760302961" and b["open_at"] is None
    api = httpx.post(
        f"{live_server}/dispatch",
        json={"lon": ans["origin"]["lon"], "lat": ans["origin"]["lat"], "at": AT},
        headers={"X-API-Key": desk_token},
    ).json()
    assert api["bystander_aed"] == b and api["first_shock"] == ans["first_shock"]
    assert ans["first_shock"]["by"] == "bystander_aed" and ans["first_shock"]["target_met"] is True
    # the card tells what to say, the walk there and back, the set-up, the shock; the hours are flagged
    card = page.inner_text("[data-task='t-bys']")
    there = f"{b['to_aed']['time_s'] / 60:.1f}"
    if lang == "zh":
        assert "告诉呼救者" in card and "立即开始心肺复苏" in card and "开放时间未知" in card
        assert f"{round(b['to_aed']['distance_m'])} 米" in card and f"单程 {there} 分钟" in card
        assert "由现场旁观者取附近 AED 实施" in page.inner_text("#kpi")
    else:
        assert "Tell the caller" in card and "Start CPR now" in card and "Opening hours unknown" in card
        assert f"{round(b['to_aed']['distance_m'])} m away ({there} min there)" in card
        assert "by a bystander with the nearby AED" in page.inner_text("#kpi")
    assert f"{b['shock_s'] / 60:.1f}" in card
    # the steps are numbered from 1, in the order shown (the bystander first)
    steps = page.eval_on_selector_all(".task h3 .step", "es => es.map((e) => +e.dataset.step)")
    assert steps == list(range(1, len(steps) + 1)) and len(steps) == 3
    assert page.locator(".task").first.get_attribute("data-task") == "t-bys"
    assert page.locator("[data-bar='bys']").count() == 1
    # on the map: the walk to the AED, and the public AEDs of the view, all of unknown hours in Monaco
    assert page.locator("path.d-route-bys").count() == 1
    page.wait_for_function("() => document.body.dataset.aedBox", timeout=20000)
    assert page.locator(".leaflet-marker-pane .d-aed-unknown").count() >= 1
    assert page.locator(".leaflet-marker-pane .d-aed-closed").count() == 0
    # the three states drawn apart, as the legend says (Monaco's AEDs are all of unknown hours)
    syms = page.evaluate("[true, null, false].map((o) => aedSym(o))")
    assert "d-aed-open" in syms[0] and "d-aed-unknown" in syms[1] and "gs-closed d-aed-closed" in syms[2]
    legend = page.inner_text("#legend")
    for word in (
        ("呼救时开放", "开放时间未知", "呼救时关闭") if lang == "zh" else ("open at the call", "unknown", "closed")
    ):
        assert word in legend
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"dispatcher_no_volunteer_{lang}.png"))
    assert not watch.errors and not watch.external
