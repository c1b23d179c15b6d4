"""axe-core (vendored from the npm registry, tests/browser/vendor/axe.min.js, MPL-2.0) run in headless
Chromium on the three pages, in Chinese and English, on a phone and a desktop: once the page is
ready and again once it shows an answer (the citizen page's nearest AED and hospitals, the planner's
service areas, the dispatcher's plan). Any violation of impact "serious" or "critical" fails, named
by its rule, the elements it found and the rule's help page."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ARTIFACTS, settle
from .test_dispatcher_page import AT, NO_VOLUNTEER, click_latlng

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")
VIEWPORTS = {
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
    "desktop": dict(viewport={"width": 1400, "height": 900}),
}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
MONTE_CARLO = (7.4236, 43.7384)  # Place du Casino, Monaco (its 5 real OSM AEDs)


def axe_violations(page) -> list[dict]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # through the DevTools protocol: the pages' Content-Security-Policy (script-src 'self') forbids
        # inline scripts, and the page is not given a way around it
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;typeof window.axe")
    res = page.evaluate(
        """async () => {
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
          nodes: v.nodes.map((n) => ({ impact: n.impact, target: n.target.join(' '), summary: n.failureSummary })) }));
    }"""
    )
    return [v for v in res if v["impact"] in BLOCKING]


def report(found: list[dict], where: str) -> str:
    lines = [f"{len(found)} serious/critical axe-core violation(s) on {where}:"]
    for v in found:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for n in v["nodes"][:8]:
            lines.append(f"    {n['target']}: {n['summary'].splitlines()[-1].strip() if n['summary'] else ''}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def check(page, where: str) -> list[str]:
    found = axe_violations(page)
    if found:
        print(report(found, where))
    return [report(found, where)] if found else []


def answer_citizen(page, live_server):
    page.evaluate(f"void map.setView([{MONTE_CARLO[1]}, {MONTE_CARLO[0]}], 16)")
    settle(page)
    click_latlng(page, *MONTE_CARLO)
    page.wait_for_selector(".card.aed .min", timeout=20000)
    page.wait_for_selector(".card.cp .min, .card.cp .err", timeout=20000)


def answer_planner(page, live_server):
    page.wait_for_selector("path.gs-service", timeout=30000)


def answer_dispatcher(page, live_server, token: str):
    page.fill("#key", token)
    page.click("#key-save")
    page.wait_for_function("() => document.getElementById('key-status').dataset.state === 'ok'", timeout=20000)
    monaco = page.evaluate("GS.config.regions.findIndex((r) => r.name === 'monaco')")
    page.select_option("#region", str(monaco))
    page.fill("#at", AT)
    page.evaluate(f"() => {{ map.setView([{NO_VOLUNTEER[1]}, {NO_VOLUNTEER[0]}], 17, {{ animate: false }}); }}")
    click_latlng(page, *NO_VOLUNTEER)
    page.wait_for_selector("#kpi", timeout=20000)


@pytest.fixture
def desk_key(live_service, request):
    name = f"axe-desk-{request.node.callspec.id}"  # a revoked key keeps its name
    token = live_service.registry.create_key(name, "dispatcher")[1]
    yield token
    live_service.registry.revoke_key(name)


@pytest.mark.parametrize("device", list(VIEWPORTS))
@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("path", ["/", "/planner", "/dispatcher"], ids=["citizen", "planner", "dispatcher"])
def test_no_serious_accessibility_violation(open_page, live_server, desk_key, path, lang, device):
    page, watch = open_page(path, **VIEWPORTS[device], locale=LOCALES[lang])
    assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
    name = {"/": "citizen", "/planner": "planner", "/dispatcher": "dispatcher"}[path]
    problems = check(page, f"{name} {lang} {device}, ready")
    if path == "/":
        answer_citizen(page, live_server)
    elif path == "/planner":
        answer_planner(page, live_server)
    else:
        answer_dispatcher(page, live_server, desk_key)
    settle(page)
    problems += check(page, f"{name} {lang} {device}, with an answer")
    page.screenshot(path=str(ARTIFACTS / f"axe-{name}-{lang}-{device}.png"))
    assert not problems, "\n".join(problems)
    assert not watch.errors and not watch.external


def test_the_check_can_fail(open_page):
    """A button without a name and an image without a text alternative, planted on a page, are found."""
    page, _ = open_page("/planner", **VIEWPORTS["desktop"], locale="en-US")
    page.evaluate(
        """() => {
        const b = document.createElement('button'); b.id = 'planted-button'; document.body.appendChild(b);
        const i = document.createElement('img'); i.id = 'planted-img'; i.src = 'data:,'; document.body.appendChild(i);
    }"""
    )
    found = {v["id"]: v for v in axe_violations(page)}
    assert [n["target"] for n in found["button-name"]["nodes"]] == ["#planted-button"]
    assert [n["target"] for n in found["image-alt"]["nodes"]] == ["#planted-img"]
    assert found["image-alt"]["helpUrl"].startswith("https://dequeuniversity.com/rules/axe/")
