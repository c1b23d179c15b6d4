/* Planner page, what-if: hypothetical sites of the selected type (a click on the map), coverage
   before and after (POST /whatif, nothing saved), each site's own service area (GET /isochrones
   with the type's minutes, travel mode and traffic scenario) and the nearest existing facility.
   Uses the state and helpers of planner.js (loaded after this file). */
"use strict";
function resetWhatif() {
  whatSeq++;
  sites = []; what = null;
  hypo.clearLayers();
  siteAreas.clearLayers();
  $("whatif").classList.add("muted");
  modeLabel();
}

function deltaCell(d, people) {
  if (d == null) return "–";
  const cls = d > 0 ? "delta-pos" : d < 0 ? "delta-neg" : "";
  const sign = d > 0 ? "+" : "";
  const p = `${sign}${(100 * d).toFixed(1)} ${GS.t("pt")}`;
  return `<span class="${cls}">${people == null ? p : `${sign}${num(people)}<br><small>${p}</small>`}</span>`;
}

function renderWhatif() {
  const box = $("whatif");
  if (!what) return;
  const { near, res, asked } = what;
  const by = GS.t(`by_${mode(asked.type)}`);
  let html = "";
  if (near && near.results.length) {
    const r = near.results[0];
    html += `<div class="near" data-minutes="${r.minutes}">${GS.esc(GS.t("nearest_existing", { t: tone(asked.type), m: GS.fmtMin(r.time_s), by }))}${GS.lang === "zh" ? "（" : " ("}${GS.nameHtml(r.facility)}${GS.lang === "zh" ? "）" : ")"}</div>`;
  } else if (near) {
    html += `<div class="near" data-minutes="">${GS.esc(GS.t("none_existing", { t: tone(asked.type) }))}</div>`;
  }
  const b = res.before.overall, a = res.after.overall, d = res.delta;
  const popCell = (o) => (o.population_covered == null ? GS.esc(GS.t("no_pop")) : `${num(o.population_covered)}<br><small>(${pct(o.population_share)})</small>`);
  const rows = [
    ["row_pop", popCell(b), popCell(a), b.population_covered == null ? "–" : deltaCell(d.population_share, d.population_covered), "pop"],
    ["row_area", pct(b.area_share), pct(a.area_share), deltaCell(d.area_share), "area"],
    ["row_roads", pct(b.road_share), pct(a.road_share), deltaCell(d.road_share), "roads"],
  ];
  html += `<div class="sites-head">${GS.esc(GS.t("sites_head", { n: sites.length, t: tone(asked.type), m: asked.minutes, by }) + scPart(asked.type, asked.scenario, " · "))}</div>`;
  html += `<table class="after"><thead><tr><th></th>` +
    `<th>${GS.esc(GS.t("before"))}</th><th>${GS.esc(GS.t("after"))}</th><th>${GS.esc(GS.t("change"))}</th></tr></thead><tbody>` +
    rows.map(([k, x, y, z, id]) => `<tr data-row="${id}"><td>${GS.esc(GS.t(k))}</td><td>${x}</td><td>${y}</td><td>${z}</td></tr>`).join("") +
    `</tbody></table><button id="reset" type="button">${GS.esc(GS.t("reset"))}</button>`;
  box.innerHTML = html;
  box.classList.remove("muted");
  $("reset").addEventListener("click", resetWhatif);
  drawSiteAreas();
}

function drawSiteAreas() {
  siteAreas.clearLayers();
  if (!what || !what.areas) return;
  const { asked } = what;
  what.areas.forEach((fc, i) => {
    if (!fc) return;
    const tip = GS.t("site_area", { i: i + 1, m: asked.minutes, mode: GS.t(`${mode(asked.type)}_area`), sc: scPart(asked.type, asked.scenario, " · ") });
    L.geoJSON(fc, { renderer: svg, style: { color: "#0d47a1", weight: 2.5, dashArray: "7 5", fillColor: "#1e88e5", fillOpacity: 0.14, className: "gs-site-area" } })
      .bindTooltip(GS.esc(tip), { sticky: true }).addTo(siteAreas);
  });
}

/* Recompute before/after for the current sites, and each site's own area (same type, minutes, scenario). */
async function runWhatif() {
  if (!sites.length) return;
  const g = gen, seq = ++whatSeq, r = region;
  const asked = analysis();
  const box = $("whatif");
  box.textContent = GS.t("working");
  const last = sites[sites.length - 1];
  let near, res, areas;
  try {
    [near, res] = await Promise.all([last.near,
      GS.json("/whatif", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ type: asked.type, minutes: asked.minutes, ...trafficParams(asked.scenario), region: r.name, add: sites.map((s) => ({ lon: s.lon, lat: s.lat })), crs: GS.crs() }) })]);
    // the profile is the one the service used for this type (walk for AEDs)
    areas = await Promise.all(sites.map((s) => GS.json(GS.url("/isochrones", { lon: s.lon.toFixed(6), lat: s.lat.toFixed(6), minutes: asked.minutes,
      profile: res.after.profile, ...trafficParams(asked.scenario), direction: "to", region: r.name })).catch(() => null)));
  } catch (e) {
    if (g !== gen || seq !== whatSeq) return;
    // sites never accepted by the server (off the network, ...) go again; the others stay
    for (const s of sites.filter((x) => !x.ok)) hypo.removeLayer(s.marker);
    sites = sites.filter((x) => x.ok);
    box.innerHTML = `<div class="err">${GS.esc(e.message)}</div>`;
    box.classList.remove("muted");
    return;
  }
  if (g !== gen || seq !== whatSeq) return;
  for (const s of sites) s.ok = true;
  if (!last.routed && near && near.results.length) {
    last.routed = true;
    L.geoJSON(near.results[0].route, { renderer: svg, style: { color: "#1565c0", weight: 4, dashArray: "6 6", className: "gs-route" } }).addTo(hypo);
  }
  what = { near, res, asked, areas };
  renderWhatif();
  box.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function inRegion(lon, lat) {
  const [x0, y0, x1, y1] = region.bbox;
  return lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1;
}

function addSite(lon, lat) {
  if (!region) return;
  if (!inRegion(lon, lat)) {
    $("whatif").innerHTML = `<div class="err">${GS.esc(GS.t("outside", { r: GS.regionName(region) }))}</div>`;
    $("whatif").classList.remove("muted");
    return;
  }
  const { type } = analysis();
  const marker = L.marker([lat, lon], { icon: L.divIcon({ className: "", html: `<span class="gs-ico gs-hypo">?</span>`, iconSize: [24, 24], iconAnchor: [12, 12] }), title: GS.t("hypo") }).addTo(hypo);
  const near = GS.json(GS.url("/nearest", { lon: lon.toFixed(6), lat: lat.toFixed(6), type, region: region.name })).catch(() => null);
  sites.push({ lon, lat, marker, near, ok: false, routed: false });
  runWhatif();
}

