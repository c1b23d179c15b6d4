/* Planner page: facility layers, service areas and gaps under a traffic scenario, coverage with
   population counts, click-to-add what-if sites with their own service area, downloads of what is
   shown. Strings are in planner-text.js (English and Chinese), the what-if in planner-whatif.js. */
"use strict";
const DEFAULT_MIN = { chest_pain_center: 30, stroke_center: 60, aed: 4 };
const WALK = new Set(["aed"]);  // travel mode per type, as the service decides it (sources/schema.py TRAVEL_PROFILE)
const MAX_MIN = { walk: 60, drive: 240 };  // the API's longest walk (setting max_walk_minutes) and drive
// outline and fill of the service areas; they are drawn opaque in a pane of their own that is made
// translucent as a whole, so that ten overlapping areas look like one, not like a red wall
const AREA_STYLE = { chest_pain_center: ["#b71c1c", "#e57373"], stroke_center: ["#4a148c", "#ba68c8"], aed: ["#1b5e20", "#66bb6a"] };
const FACILITY_LAYERS = [["chest_pain_center", "l_cp"], ["stroke_center", "l_st"], ["grassroots_unit", "l_grass"], ["ems_station", "l_ems"], ["aed", "l_aed"]];
// AEDs are loaded for the view only (a province has tens of thousands; GET /layers has no cap): the
// view padded by `pad` of its size each way, and no more than `max` markers (else the legend says zoom in)
const AED_VIEW = { pad: 0.5, max: 2000 };

let map, region, svg, areaSvg, hypo, siteAreas, aedView, accessView;
let layers = {};          // per-region layers (facilities, service areas, gaps): all dropped on a region change
let sites = [];           // hypothetical sites {lon, lat, marker, near, ok, routed}
let what = null;          // last what-if answer, re-rendered on a language change
let rep = null;           // last coverage answer, re-rendered on a language change
let noneAsked = null;     // the analysis asked when the region has no facility of its type (the API's 422 on `type`)
let present = null;      // what this region has ("type", "type:level", "cap:evt"); null until its facilities are loaded
// every async load remembers these; an answer that comes back after the region / inputs changed is dropped
let gen = 0, areaSeq = 0, covSeq = 0, whatSeq = 0;
let shown = { type: null, minutes: null };   // what the drawn service areas are for
let hours = [];           // the 24 departure hours of GET /depart-hours (the scenario selector's "hNN" options)
// the AEDs of the view (loaded by aed_view.js): the region's count and the legend's "zoom in" note
let aed = { n: 0, note: null };

const $ = (id) => document.getElementById(id);
const pct = (x) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
const num = (x) => Math.round(x).toLocaleString("en-US");
const mode = (type) => (WALK.has(type) ? "walk" : "drive");
const tname = (type) => GS.t(`nm_${type}`);
const tone = (type) => GS.t(`one_${type}`);
/* A selector value as the API's traffic: "hNN" is a departure at NN:00 (that hour's traffic), else a scenario. */
const trafficParams = (sc) => (/^h\d\d$/.test(sc) ? { depart: `${sc.slice(1)}:00` } : { scenario: sc });
const hourName = (h) => GS.t(h.level === "mixed" ? "sc_hour_x" : "sc_hour", { h: h.depart, l: GS.t(`sc_${h.level}`), f: h.max_factor.toFixed(2) });
const scName = (sc) => { const h = /^h\d\d$/.test(sc) && hours[+sc.slice(1)]; return h ? hourName(h) : GS.t(`sc_${sc}`); };
const scPart = (type, sc, sep) => (WALK.has(type) ? "" : `${sep}${scName(sc)}`);  // walking: no traffic

/* The selected plan: type, minutes (clamped to what the API accepts), scenario (walking: free flow). */
function analysis() {
  const type = $("analysis").value;
  let minutes = +$("minutes").value;
  if (!(minutes >= 1 && minutes <= 240)) minutes = DEFAULT_MIN[type];
  minutes = Math.min(minutes, MAX_MIN[mode(type)]);
  const scenario = WALK.has(type) ? "free_flow" : $("scenario").value;
  return { type, minutes, scenario, mode: mode(type), by: GS.t(`by_${mode(type)}`) };
}

/* "12,345 of 20,000 people (61.7%)", or "no population data" when the region has no census. */
function peopleText(covered, total, share) {
  if (covered == null || total == null) return GS.t("no_pop");
  return GS.t("people_of", { c: num(covered), n: num(total), p: pct(share) });
}

function modeLabel() {
  const m = mode($("analysis").value);
  const el = $("mode");
  el.textContent = GS.t(`mode_${m}`);
  el.className = `mode mode-${m}`;
  const walk = m === "walk";
  $("scenario").hidden = walk;   // walking times do not depend on traffic: the note says so instead
  $("scenario-note").hidden = !walk;
  $("minutes").max = String(MAX_MIN[m]);
  const { type, minutes } = analysis();
  $("whatif-title").textContent = GS.t("whatif_title", { t: GS.t(`an_${type}`) });
  if (!sites.length) $("whatif").innerHTML = `<span>${GS.esc(GS.t("whatif_hint", { t: GS.t(`an_${type}`), m: minutes }))}</span>`;
}

function legend() {
  const ico = (p) => GS.facilityIcon(p).options.html;
  const { type, minutes } = analysis();
  const [color, fill] = AREA_STYLE[type];
  const m = shown.minutes || minutes;
  const rows = [
    ["chest_pain_center:standard", ico({ type: "chest_pain_center", level: "standard" }), "cp_standard"],
    ["chest_pain_center:basic", ico({ type: "chest_pain_center", level: "basic" }), "cp_basic"],
    ["stroke_center:advanced", ico({ type: "stroke_center", level: "advanced", capabilities: "evt,ivt" }), "st_advanced"],
    ["stroke_center:center", ico({ type: "stroke_center", level: "center", capabilities: "ivt" }), "st_center"],
    ["stroke_center:station", ico({ type: "stroke_center", level: "station" }), "st_station"],
    ["cap:evt", "<b class='gs-star' style='position:static'>★</b>", "lg_evt"], ["cap:ivt", "<b class='gs-star' style='position:static'>☆</b>", "lg_ivt"],
    ["grassroots_unit", ico({ type: "grassroots_unit" }), "grass"], ["ems_station", ico({ type: "ems_station" }), "ems"], ["aed", ico({ type: "aed" }), "aed"],
    [null, `<span class='swatch gs-areas-pane' style='background:${fill};border-color:${color}'></span>`, "area", { m, t: tname(type), mode: GS.t(`${mode(type)}_area`) }],
    [null, "<span class='swatch' style='background:rgba(102,102,102,.35);border-color:#444'></span>", "gap", { m }],
    [null, "<span class='gs-ico gs-hypo' style='width:20px;height:20px;font-size:11px'>?</span>", "hypo"],
    [null, "<span class='swatch swatch-site'></span>", "l_site_areas"],
  ];
  const note = (k) => (k === "aed" && aed.note ? ` <span class="muted aed-note">${GS.esc(GS.t(`aed_${aed.note.kind}`, { n: num(aed.note.n) }))}</span>` : "");
  $("legend").innerHTML = rows.filter(([k]) => k === null || (present && present.has(k)) || k === type)
    .map(([key, h, k, v]) => `<div class="legend-row"${key ? ` data-key="${key}"` : ""}>${h}<span>${GS.esc(GS.t(k, v))}${note(key)}</span></div>`).join("");
}

function layerControl() {
  if (map.gsLayerControl) map.gsLayerControl.remove();
  const ctl = {};
  for (const [, k] of FACILITY_LAYERS) if (layers[k]) ctl[GS.t(k)] = layers[k];
  if (layers.l_area) ctl[GS.t("l_area", { m: shown.minutes, t: tname(shown.type) })] = layers.l_area;
  if (layers.l_gaps) ctl[GS.t("l_gaps", { m: layers.l_gaps.gsMinutes })] = layers.l_gaps;
  ctl[GS.t("l_hypo")] = hypo;
  ctl[GS.t("l_site_areas")] = siteAreas;
  ctl[GS.t("l_access")] = accessView.group;   // planner-access.js: off until switched on
  map.gsLayerControl = L.control.layers(null, ctl, { collapsed: true }).addTo(map);
}

/* The tier of a facility, in the legend's words ("Chest pain center (standard)", "EMS station"). */
function kindLabel(p) {
  const tier = { chest_pain_center: "cp_", stroke_center: "st_" }[p.type];
  if (tier && p.level) return GS.t(tier + p.level);
  return GS.t({ grassroots_unit: "grass", ems_station: "ems", aed: "aed" }[p.type] || `ty_${p.type}`);
}

function popup(p) {
  const caps = (p.capabilities || "").split(",").filter(Boolean).map((c) => GS.tOr("cap", c));
  const status = GS.isDemo(p) ? `<span class="demo-badge">${GS.esc(GS.t("demo_badge"))}</span>` : GS.esc(GS.tOr("st", p.status));
  return `<b>${GS.nameHtml(p)}</b><br>${GS.esc(kindLabel(p))}` + (caps.length ? `<br>${GS.esc(caps.join(" · "))}` : "") +
    (p.address ? `<br><span class="data">${GS.esc(p.address)}</span>` : "") + (status ? `<br><span class="muted">${status}</span>` : "");
}

const facilityMarker = (f) => L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: GS.facilityIcon(f.properties), title: f.properties.name })
  .bindPopup(() => popup(f.properties));

/* Every layer in full (hundreds per province: the legend and coverage need them all) except the AEDs,
   which follow the view (aedView); whether the region has AEDs comes from its count in /regions. */
async function loadFacilities() {
  const g = gen, r = region;
  const full = FACILITY_LAYERS.filter(([type]) => type !== "aed");
  const [infos, ...fcs] = await Promise.all([GS.json("/regions"), ...full.map(([type]) => GS.json(GS.url(`/layers/${type}`, { region: r.name })))]);
  if (g !== gen) return;
  const info = infos.find((x) => x.name === r.name);
  aed.n = (info && info.facility_counts.aed) || 0;
  present = new Set(aed.n ? ["aed"] : []);
  full.forEach(([, key], i) => {
    layers[key] = L.layerGroup(fcs[i].features.map((f) => {
      const p = f.properties;
      present.add(p.type); if (p.level) present.add(`${p.type}:${p.level}`);
      for (const c of (p.capabilities || "").split(",").filter(Boolean)) present.add(`cap:${c}`);
      return facilityMarker(f);
    })).addTo(map);
  });
  layers.l_aed = L.layerGroup().addTo(map);
  aedView.refresh();
  legend();
  renderCoverage();
  layerControl();
}

/* The AEDs of the padded view (aed_view.js, shared with the citizen page), estimated from the region's
   count; past AED_VIEW.max the legend says to zoom in. Skipped while the layer is switched off. */
function aedLoader() {
  return GS.aedView(map, {
    view: AED_VIEW,
    layer: () => layers.l_aed,
    regions: () => (region ? [{ bbox: region.bbox, n: aed.n }] : []),
    params: () => ({ region: region.name }),
    marker: facilityMarker,
    onNote: (note) => { aed.note = note; legend(); },
    onError: (e) => { $("area-status").textContent = `${GS.t("l_aed")}: ${e.message}`; },
  });
}

/* Service areas of the selected type, minutes and scenario (one request per change; stale answers dropped). */
async function loadAreas() {
  const g = gen, seq = ++areaSeq, r = region;
  const { type, minutes, scenario } = analysis();
  $("area-status").textContent = "";
  let fc;
  try { fc = await GS.json(GS.url("/service-areas", { type, minutes, ...trafficParams(scenario), region: r.name })); }
  catch (e) {
    if (g !== gen || seq !== areaSeq) return;
    if (!noFacility(e)) { $("area-status").textContent = GS.t("areas_err", { e: e.message }); return; }
    fc = { type: "FeatureCollection", features: [] };   // none of this type here: no service area
  }
  if (g !== gen || seq !== areaSeq) return;
  if (layers.l_area) map.removeLayer(layers.l_area);
  const [color, fill] = AREA_STYLE[type];
  const label = GS.t("area", { m: minutes, t: tname(type), mode: GS.t(`${mode(type)}_area`) });
  layers.l_area = L.geoJSON(fc, { renderer: areaSvg, style: { color, weight: 1.5, fillColor: fill, fillOpacity: 1, className: `gs-service gs-service-${type}` },
    onEachFeature: (f, l) => l.bindTooltip(`${GS.nameHtml(f.properties)} · ${GS.esc(label + scPart(type, scenario, " · "))}`, { sticky: true }) }).addTo(map);
  if (layers.l_gaps) layers.l_gaps.bringToFront();
  siteAreas.eachLayer((l) => l.bringToFront && l.bringToFront());
  shown = { type, minutes };
  document.body.dataset.areasMinutes = String(minutes);
  document.body.dataset.areasScenario = scenario;
  legend();
  layerControl();
}

/* The region has no facility of the type (coverage of it is a 422 naming `type`, not 0%): say so and
   offer the what-if, which adds hypothetical sites. */
function renderNoneHere() {
  const { type, minutes, scenario } = noneAsked;
  Object.assign($("coverage-summary").dataset, { type, minutes: String(minutes), scenario, share: "", covered: "", population: "" });
  $("coverage-summary").innerHTML = `<div class="sum-head">${GS.esc(GS.t("sum_head", { t: tname(type), m: minutes, by: GS.t(`by_${mode(type)}`) }) + scPart(type, scenario, " · "))}</div>` +
    `<div class="none-here">${GS.esc(GS.t("none_here", { t: tname(type), a: GS.t(`an_${type}`) }))}</div>`;
  document.querySelector("#coverage-table tbody").innerHTML = "";
}

const noFacility = (e) => e.status === 422 && e.body && e.body.field === "type";

/* How sure the figure is: covered on a typical day (P50) and on a bad one (P90), and which spread
   of travel times says so (calibrated from trips, or the default assumption). */
function bandText(band, noPop) {
  if (!band || noPop || !band.overall || band.overall.share_p50 == null) return "";
  const o = band.overall;
  return `<div class="band" data-p50="${o.share_p50}" data-p90="${o.share_p90}">${GS.esc(GS.t("band", { p50: pct(o.share_p50), p90: pct(o.share_p90) }))}` +
    `<div class="muted">${GS.esc(GS.t(band.calibrated ? "band_calibrated" : "band_default"))}</div></div>`;
}

function renderCoverage() {
  const sum = $("coverage-summary");
  if (!rep) { if (noneAsked) renderNoneHere(); return; }
  const o = rep.overall, { type, minutes, scenario } = rep.gsAsked;
  const noPop = rep.population_data === false || o.population == null;
  const outside = !noPop && o.population_outside_extract > 0 ? GS.t("outside_note", { n: num(o.population_outside_extract) }) : "";
  Object.assign(sum.dataset, { type, minutes: String(minutes), scenario, share: o.population_share == null ? "" : String(o.population_share),
    covered: o.population_covered == null ? "" : String(o.population_covered), population: o.population == null ? "" : String(o.population) });
  const by = GS.t(`by_${mode(type)}`);
  sum.innerHTML = `<div class="sum-head">${GS.esc(GS.t("sum_head", { t: tname(type), m: minutes, by }) + scPart(type, scenario, " · "))}</div>` +
    `<div class="kpi${noPop ? " kpi-none" : ""}">${GS.esc(peopleText(o.population_covered, o.population, o.population_share))}</div>` +
    `<div class="sum-more">${GS.esc(GS.t("area_roads", { a: pct(o.area_share), r: pct(o.road_share) }))}</div>` +
    bandText(rep.band, noPop) +
    (noPop ? `<div class="muted">${GS.esc(GS.t("no_pop_note"))}</div>` : "") + (outside ? `<div class="muted">${GS.esc(outside)}</div>` : "") +
    (present && !present.has(type) ? `<div class="none-here">${GS.esc(GS.t("none_here", { t: tname(type), a: GS.t(`an_${type}`) }))}</div>` : "");
  $("coverage-table").classList.toggle("no-pop", noPop);
  document.querySelector("#coverage-table tbody").innerHTML = rep.by_unit.map((u) => {
    const cov = u.population_covered == null ? GS.t("no_pop") : u.population ? `${num(u.population_covered)} (${pct(u.population_share)})` : "–";
    const part = u.census_population != null && u.share_inside != null && u.share_inside < 0.995
      ? GS.t("unit_part", { c: num(u.census_population), s: pct(u.share_inside) }) : "";
    return `<tr data-code="${GS.esc(u.admin_code)}"><td><span class="data">${GS.esc(u.name)}</span>${part ? ` <span class="part" title="${GS.esc(part)}">◐</span>` : ""}</td>` +
      `<td class="pop-col">${u.population == null ? "–" : num(u.population)}</td>` +
      `<td class="pop-col">${GS.esc(cov)}</td><td>${pct(u.road_share)}</td></tr>`;
  }).join("");
}

async function loadCoverage() {
  const g = gen, seq = ++covSeq, r = region;
  const asked = analysis();
  const sum = $("coverage-summary");
  sum.textContent = GS.t("working");
  let ans;
  // driving: ask at the median, so that the answer carries the band (typical day P50, bad day P90)
  const band = mode(asked.type) === "walk" ? {} : { percentile: 50 };
  try { ans = await GS.json(GS.url("/coverage", { type: asked.type, minutes: asked.minutes, ...trafficParams(asked.scenario), ...band, region: r.name })); }
  catch (e) {
    if (g !== gen || seq !== covSeq) return;
    if (!noFacility(e)) { sum.textContent = e.message; return; }
    rep = null; noneAsked = asked;
    if (layers.l_gaps) { map.removeLayer(layers.l_gaps); delete layers.l_gaps; }
    renderCoverage();
    layerControl();
    return;
  }
  if (g !== gen || seq !== covSeq) return;
  rep = ans; noneAsked = null;
  rep.gsAsked = asked;
  renderCoverage();
  if (layers.l_gaps) map.removeLayer(layers.l_gaps);
  layers.l_gaps = L.geoJSON(rep.gaps, { renderer: svg, interactive: false, style: { color: "#444", weight: 0.6, fillColor: "#666", fillOpacity: 0.35, className: "gs-gap" } }).addTo(map);
  layers.l_gaps.gsMinutes = asked.minutes;
  siteAreas.eachLayer((l) => l.bringToFront && l.bringToFront());
  layerControl();
}

/* Download links for what is shown: the current type, minutes, scenario and region, in WGS-84. */
function downloads() {
  if (!region) return;
  const { type, minutes, scenario, by } = analysis();
  const q = (path, fmt, extra) => {
    const p = new URLSearchParams(Object.assign({ region: region.name }, extra, { format: fmt }));
    return `${path}?${p}`;
  };
  const cov = { type, minutes, ...trafficParams(scenario) };
  const rows = [
    ["coverage", GS.t("dl_cov"), [["csv", "/coverage", cov]]],
    ["gaps", GS.t("dl_gaps", { m: minutes }), [["geojson", "/coverage", cov], ["gpkg", "/coverage", cov]]],
    ["areas", GS.t("dl_areas", { m: minutes }), [["geojson", "/service-areas", cov], ["gpkg", "/service-areas", cov], ["csv", "/service-areas", cov]]],
    ["facilities", GS.t("dl_fac"), [["geojson", "/layers/all", {}], ["gpkg", "/layers/all", {}], ["csv", "/layers/all", {}]]],
  ];
  const label = { geojson: "GeoJSON", gpkg: "GeoPackage", csv: "CSV" };
  $("downloads").innerHTML = rows.map(([id, text, links]) => `<div class="dl-row"><span>${GS.esc(text)}</span><span class="dl-links">` +
    links.map(([fmt, path, extra]) => `<a class="dl" data-dl="${id}-${fmt}" href="${GS.esc(q(path, fmt, extra))}" download>${label[fmt]}</a>`).join("") +
    "</span></div>").join("") +
    `<div class="muted">${GS.esc(GS.t("dl_note", { t: tname(type), m: minutes, by, sc: scPart(type, scenario, GS.lang === "zh" ? "，" : ", "), r: GS.regionName(region) }))}</div>`;
}

/* A region change drops everything of the old region (layers, hypothetical sites, what-if) and loads the new one. */
async function showRegion(r) {
  gen++; areaSeq++; covSeq++;
  region = r; rep = null; noneAsked = null;
  delete document.body.dataset.region;
  delete document.body.dataset.areasMinutes;
  for (const l of Object.values(layers)) map.removeLayer(l);
  layers = {}; shown = { type: null, minutes: null }; present = null;
  aed = { n: 0, note: null };
  aedView.reset();
  accessView.reset();
  resetWhatif();
  document.querySelector("#coverage-table tbody").innerHTML = "";
  $("area-status").textContent = "";
  layerControl();
  downloads();
  const g = gen;
  await Promise.all([loadFacilities().catch((e) => { $("area-status").textContent = e.message; }), loadAreas(), loadCoverage(), accessView.refresh()]);
  if (g === gen) document.body.dataset.region = r.name;
}

/* Minutes or scenario changed: redraw areas, gaps, figures, the what-if and the download links. */
function planChanged() {
  const box = $("minutes");
  const m = +box.value;
  const bad = !(m >= 1 && m <= 240);
  if (bad) box.value = DEFAULT_MIN[$("analysis").value];
  modeLabel();
  downloads();
  loadAreas();   // clears the status line first
  loadCoverage();
  accessView.refresh();
  runWhatif();
  if (bad) $("area-status").textContent = GS.t("bad_min");
}

/* The departure hours (free flow / off-peak / peak stay first), labelled in the page's language. */
function hourOptions() {
  const group = $("scenario-hours");
  group.label = GS.t("sc_hours");
  group.hidden = !hours.length;
  if (group.children.length !== hours.length) {
    group.innerHTML = hours.map((h) => `<option value="h${String(h.hour).padStart(2, "0")}"></option>`).join("");
  }
  [...group.children].forEach((o, i) => { o.textContent = hourName(hours[i]); });
}

function relabel() {
  GS.applyLang();
  hourOptions();
  document.title = GS.t("title");
  $("lang").textContent = GS.lang === "zh" ? "EN" : "中文";
  $("notice").textContent = (GS.lang === "zh" && GS.config.notice_zh) || GS.config.notice;
  modeLabel();
  legend();
  renderCoverage();
  renderWhatif();
  if (accessView.shown) GS.accessSummary($("access-summary"), accessView.shown);
  downloads();
  if (map.gsLayerControl) layerControl();
}

(async function main() {
  GS.applyLang();
  map = await GS.makeMap("map");
  svg = L.svg({ padding: 0.5 });
  map.createPane("gsAreas").classList.add("gs-areas-pane");   // below the gaps and the what-if (overlayPane)
  areaSvg = L.svg({ padding: 0.5, pane: "gsAreas" });
  hypo = L.layerGroup().addTo(map);
  aedView = aedLoader();
  accessView = GS.accessLayer(map, {
    params: () => region && { ...(({ type, minutes, scenario }) => ({ type, minutes, ...trafficParams(scenario) }))(analysis()), region: region.name },
    onSummary: (s) => { accessView.shown = s; GS.accessSummary($("access-summary"), s); },
  });
  siteAreas = L.layerGroup().addTo(map);
  hours = await GS.json("/depart-hours").then((a) => a.hours).catch(() => []);   // none: scenarios only
  const regs = GS.config.regions;
  const sel = $("region");
  GS.regionSelect(sel, map, (r) => showRegion(r));   // display names, in the page's language
  sel.value = "0";   // the first served region
  $("region-ctl").hidden = sel.hidden = regs.length < 2;
  map.fitBounds(map.gsBounds[0]);
  relabel();
  $("lang").addEventListener("click", () => { GS.toggleLang(); relabel(); loadAreas(); });
  $("analysis").addEventListener("change", (e) => {
    $("minutes").value = DEFAULT_MIN[e.target.value];
    resetWhatif();   // the hypothetical sites were of the other type
    if (layers.l_area) { map.removeLayer(layers.l_area); delete layers.l_area; }
    planChanged();
  });
  $("minutes").addEventListener("change", planChanged);
  $("scenario").addEventListener("change", planChanged);
  map.on("click", (e) => addSite(e.latlng.lng, e.latlng.lat));
  map.on("moveend", aedView.refresh);
  map.on("overlayadd", (e) => { if (e.layer === layers.l_aed) aedView.refresh(); });
  await showRegion(regs[0]);
  document.body.dataset.ready = "1";
})();
