"""The three pages on a province-sized region in real headless Chromium, before and after vector
tiles (issue 21 item 1; goals: first view <= 3 MB, interactive <= 3 s, no long task over 200 ms).

    python scripts/bench_pages.py --region /tmp/bench-tiles-build/with-tiles
    python scripts/bench_pages.py                      # builds the 12x12 mosaic into --work first

The region is the 12x12 mosaic of real central Shanghai (``../shared/tools/make_mosaic_osm.py``,
about 164 x 134 km, 3.1 M nodes); without ``--region`` it is written and built (``geoservice build``
defaults, tiles included) into ``--work`` and the build's wall time printed. Two servers are run in
turn (``geoservice serve``, one process, 127.0.0.1): *before*, the same bundle without its tile set
(a folder of links to its files but ``tiles.pmtiles``: what a bundle built before tiles serves, so
the pages download the whole-region GeoJSON basemap), and *after*, the bundle as built. For each
page (citizen ``/``, ``/planner``, ``/dispatcher``; desktop 1400x900, zh-CN) in a fresh browser
context it prints:

* **first view**: bytes transferred (Chrome's encoded data length of every response, via CDP)
  from navigation until the network has been idle for 0.5 s;
* **ready / interactive**: seconds until the page says it is ready (``body[data-ready='1']``), and
  until it is ready and its first view is complete (the last of its requests answered);
* **longest long task** (``PerformanceObserver('longtask')``) while panning and zooming the map
  (8 pans of 300 px and 4 zoom steps, 0.6 s apart) after the first view;
* **server RSS** (``VmRSS``) before the pages and after all three, and its peak (``VmHWM``);
* any answer of 400 or more (the server may run a request for ``--timeout`` seconds, not the
  default 30 s: the whole-region GeoJSON takes longer, and would otherwise be a 503).

Chromium is Debian's (``/usr/bin/chromium``). Nothing is asserted; the figures are printed
(``--json F`` writes them).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HOST = "127.0.0.1"
PAGES = ("/", "/planner", "/dispatcher")
LONGTASKS = """
window.__longtasks = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longtasks.push(e.duration); })
  .observe({ type: 'longtask', buffered: true });
"""
PAN_ZOOM = """async () => {
  const m = map, wait = (ms) => new Promise((ok) => setTimeout(ok, ms));
  window.__longtasks = [];
  for (const [dx, dy] of [[300, 0], [0, 300], [-300, 0], [0, -300], [300, 300], [-300, -300], [300, 0], [-300, 0]]) {
    m.panBy([dx, dy], { animate: true }); await wait(600);
  }
  for (const dz of [1, 1, -1, -1]) { m.setZoom(m.getZoom() + dz); await wait(600); }
  await wait(800);
  return Math.max(0, ...window.__longtasks);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def build_mosaic(work: Path) -> Path:
    osm = work / "mosaic-12x12.osm.pbf"
    out = work / "mosaic"
    if (out / "meta.json").is_file():
        return out
    if not osm.exists():
        tool, src = SHARED / "tools/make_mosaic_osm.py", SHARED / "data/osm/shanghai-center.osm"
        subprocess.run([sys.executable, str(tool), str(src), "--tiles", "12x12", "-o", str(osm)], check=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "geoservice", "build", "--osm", str(osm), "--out", str(out), "--quiet"], check=True
    )
    print(f"built the mosaic into {out} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def without_tiles(region: Path, work: Path) -> Path:
    """A folder of links to every file of ``region`` but its tile set (a bundle built before tiles)."""
    out = work / "before" / region.name
    out.mkdir(parents=True, exist_ok=True)
    for p in region.iterdir():
        link = out / p.name
        if p.name != "tiles.pmtiles" and not link.exists():
            link.symlink_to(p.resolve())
    return out


def measure_page(browser, base: str, path: str, timeout_s: float) -> dict:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.add_init_script(LONGTASKS)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, float] = {}
    failed: list[str] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on(
        "Network.responseReceived",
        lambda e: (
            failed.append(f"{e['response']['status']} {e['response']['url']}")
            if e["response"]["status"] >= 400
            else None
        ),
    )
    t0 = time.perf_counter()
    page.goto(base + path, timeout=timeout_s * 1000)
    page.wait_for_selector("body[data-ready='1']", timeout=timeout_s * 1000)
    ready = time.perf_counter() - t0
    page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
    interactive = max(ready, time.perf_counter() - t0 - 0.5)  # networkidle waits 0.5 s of quiet
    first_bytes = sum(sizes.values())
    first_long = page.evaluate("() => Math.max(0, ...window.__longtasks)")
    longest = page.evaluate(PAN_ZOOM)
    ctx.close()
    return {
        "page": path,
        "first_view_mb": first_bytes / 1e6,
        "ready_s": ready,
        "interactive_s": interactive,
        "longest_task_first_view_ms": first_long,
        "longest_task_pan_zoom_ms": longest,
        "failed": failed,
    }


def run_mode(label: str, region: Path, chromium: str, timeout_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="geoservice-bench-pages-"))
    # the whole-region GeoJSON takes longer than the default 30 s a request may run: allowed here, so
    # that "before" shows what downloading it costs instead of a 503
    env = dict(
        os.environ,
        GEOSERVICE_PUBLIC_BURST="1e9",
        GEOSERVICE_PUBLIC_RATE_PER_S="1e9",
        GEOSERVICE_REQUEST_TIMEOUT_S=str(timeout_s),
    )
    cmd = [sys.executable, "-m", "geoservice", "serve", "--port", str(port), "--host", HOST, "--no-access-log"]
    cmd += ["--region", str(region), "--db", str(tmp / "registry.sqlite")]
    server = subprocess.Popen(cmd, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        httpx.get(base + "/config", timeout=60)  # the region loaded before the clock starts
        rss0 = status_kb(server.pid, "VmRSS")
        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for path in PAGES:
                rows.append(measure_page(browser, base, path, timeout_s))
                r = rows[-1]
                print(
                    f"{label:6s} {path:12s} first view {r['first_view_mb']:7.2f} MB  ready {r['ready_s']:5.1f} s  "
                    f"interactive {r['interactive_s']:5.1f} s  longest task: first view "
                    f"{r['longest_task_first_view_ms']:5.0f} ms, pan/zoom {r['longest_task_pan_zoom_ms']:5.0f} ms"
                    + (f"  FAILED: {'; '.join(r['failed'])}" if r["failed"] else ""),
                    flush=True,
                )
            browser.close()
        rss1, peak = status_kb(server.pid, "VmRSS"), status_kb(server.pid, "VmHWM")
        print(
            f"{label:6s} server RSS {rss0 / 1024:.0f} MB before, {rss1 / 1024:.0f} MB after, peak {peak / 1024:.0f} MB"
        )
        return {"pages": rows, "rss_before_mb": rss0 / 1024, "rss_after_mb": rss1 / 1024, "rss_peak_mb": peak / 1024}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--region", help="a built mosaic bundle with tiles (default: build one into --work)")
    ap.add_argument("--work", default="/tmp/bench-pages", help="folder for the mosaic and the 'before' links")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds a page may take")
    ap.add_argument("--only", choices=["before", "after"], help="run one mode")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    region = Path(args.region) if args.region else build_mosaic(work)
    meta = json.loads((region / "meta.json").read_text(encoding="utf-8"))
    geojson_mb = (region / "basemap.geojson").stat().st_size / 1e6
    print(
        f"region {region} ({meta['name']}): GeoJSON basemap {geojson_mb:.1f} MB, "
        f"tile set {(meta.get('tiles') or {}).get('bytes', 0) / 1e6:.1f} MB",
        flush=True,
    )
    out = {}
    if args.only in (None, "before"):
        out["before"] = run_mode("before", without_tiles(region, work), args.chromium, args.timeout)
    if args.only in (None, "after"):
        out["after"] = run_mode("after", region, args.chromium, args.timeout)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
