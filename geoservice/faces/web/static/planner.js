/* Planner page: tiered facility layers, service areas, gaps, coverage by unit, click-to-add what-if. */
"use strict";
GS.T = {
  en: {
    title: "Chest pain & stroke network planner", a_cp: "Chest pain centers", a_st: "Stroke centers", min: "min",
    one_cp: "chest pain center", one_st: "stroke center", citizen_link: "citizen page",
    legend: "Legend", coverage: "Coverage by admin unit", unit: "Unit", pop: "Population", roads: "Roads",
    whatif: "What if? Click the map to add a site",
    whatif_hint: "A click adds a hypothetical facility of the selected type; coverage is recomputed before/after (nothing is saved).",
    cp_standard: "Chest pain center (standard)", cp_basic: "Chest pain center (basic)",
    st_advanced: "Advanced stroke center", st_center: "Stroke center", st_station: "Stroke prevention station",
    evt: "★ thrombectomy (EVT)", ivt: "☆ thrombolysis (IVT) only", grass: "Grassroots unit", ems: "EMS station", aed: "AED",
    area: "{t}: {m}-min drive area", gap: "Not reached within {m} min (gap)", hypo: "Hypothetical site",
    before: "Before", after: "After", change: "Change", pop_share: "Population", area_share: "Area", road_share: "Roads",
    nearest_existing: "Nearest existing {t}: {m} min drive", none_existing: "No existing {t} reachable from here",
    overall: "{t} within {m} min: population {p}, area {a}, roads {r}", working: "Computing…",
    l_cp: "Chest pain centers", l_st: "Stroke centers", l_grass: "Grassroots units", l_ems: "EMS stations", l_aed: "AEDs",
    l_area: "{m}-min {t} areas", l_gaps: "Gaps (> {m} min)", l_hypo: "What-if sites", reset: "Remove sites",
    outside: "This point is outside {r}: choose its region above first.", areas_err: "Service areas: {e}",
    bad_min: "Minutes must be between 1 and 240.", region: "Region", analysis: "Analysis",
  },
  zh: {
    title: "胸痛 / 卒中救治网络规划", a_cp: "胸痛中心", a_st: "卒中中心", min: "分钟",
    one_cp: "胸痛中心", one_st: "卒中中心", citizen_link: "公众急救页",
    legend: "图例", coverage: "按行政区的覆盖率", unit: "行政区", pop: "人口", roads: "道路",
    whatif: "假设分析：点击地图添加站点",
    whatif_hint: "点击地图即添加所选类型的假设机构，重新计算前后覆盖率（不会保存）。",
    cp_standard: "胸痛中心（标准版）", cp_basic: "胸痛中心（基层版）",
    st_advanced: "高级卒中中心", st_center: "卒中中心", st_station: "卒中防治站",
    evt: "★ 可取栓（EVT）", ivt: "☆ 仅可溶栓（IVT）", grass: "基层医疗机构", ems: "急救站", aed: "AED",
    area: "{t} {m} 分钟车程范围", gap: "{m} 分钟内无法到达（空白区）", hypo: "假设站点",
    before: "之前", after: "之后", change: "变化", pop_share: "人口", area_share: "面积", road_share: "道路",
    nearest_existing: "最近的现有{t}：车程 {m} 分钟", none_existing: "从此处无法到达现有{t}",
    overall: "{m} 分钟内可达{t}：人口 {p}，面积 {a}，道路 {r}", working: "计算中…",
    l_cp: "胸痛中心", l_st: "卒中中心", l_grass: "基层医疗机构", l_ems: "急救站", l_aed: "AED",
    l_area: "{t} {m} 分钟范围", l_gaps: "空白区（> {m} 分钟）", l_hypo: "假设站点", reset: "清除假设站点",
    outside: "此点不在 {r} 范围内：请先在上方选择所在区域。", areas_err: "服务范围：{e}",
    bad_min: "分钟数须在 1 到 240 之间。", region: "区域", analysis: "分析",
  },
};
const TYPE_NAME = { chest_pain_center: "a_cp", stroke_center: "a_st" };
const DEFAULT_MIN = { chest_pain_center: 30, stroke_center: 60 };
const AREA_STYLE = { chest_pain_center: ["#c62828", "rgba(229,57,53,1)", 0.12], stroke_center: ["#6a1b9a", "rgba(106,27,154,1)", 0.10] };
const FACILITY_LAYERS = [["chest_pain_center", "l_cp"], ["stroke_center", "l_st"], ["grassroots_unit", "l_grass"], ["ems_station", "l_ems"], ["aed", "l_aed"]];

let map, region, svg, hypo;
let layers = {};          // per-region layers (facilities, service areas, gaps): all dropped on a region change
let sites = [];           // hypothetical sites {lon, lat, marker}
let what = null;          // last what-if answer {near, res, type, minutes} (re-rendered on a language change)
// every async load remembers these; an answer that comes back after the region / inputs changed is dropped
let gen = 0, areaSeq = 0, covSeq = 0, whatSeq = 0;
let shown = { type: null, minutes: null };   // what the drawn service areas / gaps are for

const $ = (id) => document.getElementById(id);
const pct = (x) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
const dpct = (x) => (x == null ? "–" : `<span class="${x > 0 ? "delta-pos" : x < 0 ? "delta-neg" : ""}">${x > 0 ? "+" : ""}${(100 * x).toFixed(1)} pt</span>`);
const tname = (type) => GS.t(TYPE_NAME[type]);
const tone = (type) => GS.t(type === "stroke_center" ? "one_st" : "one_cp");

/* The selected analysis: facility type and minutes from the box (clamped to what the API accepts). */
function analysis() {
  const type = $("analysis").value;
  let minutes = +$("minutes").value;
  if (!(minutes >= 1 && minutes <= 240)) minutes = DEFAULT_MIN[type];
  return { type, minutes };
}

function legend() {
  const ico = (p) => GS.facilityIcon(p).options.html;
  const { type, minutes } = analysis();
  const [color, fill, op] = AREA_STYLE[type];
  const m = shown.minutes || minutes;
  const rows = [
    [ico({ type: "chest_pain_center", level: "standard" }), "cp_standard"],
    [ico({ type: "chest_pain_center", level: "basic" }), "cp_basic"],
    [ico({ type: "stroke_center", level: "advanced", capabilities: "evt,ivt" }), "st_advanced"],
    [ico({ type: "stroke_center", level: "center", capabilities: "ivt" }), "st_center"],
    [ico({ type: "stroke_center", level: "station" }), "st_station"],
    ["<b class='gs-star' style='position:static'>★</b>", "evt"], ["<b class='gs-star' style='position:static'>☆</b>", "ivt"],
    [ico({ type: "grassroots_unit" }), "grass"], [ico({ type: "ems_station" }), "ems"], [ico({ type: "aed" }), "aed"],
    [`<span class='swatch' style='background:${fill.replace(",1)", `,${op * 2})`)};border-color:${color}'></span>`, "area", { m, t: tname(type) }],
    ["<span class='swatch' style='background:rgba(102,102,102,.35);border-color:#444'></span>", "gap", { m }],
    ["<span class='gs-ico gs-hypo' style='width:20px;height:20px;font-size:11px'>?</span>", "hypo"],
  ];
  $("legend").innerHTML = rows.map(([h, k, v]) => `<div class="legend-row">${h}<span>${GS.esc(GS.t(k, v))}</span></div>`).join("");
}

function layerControl() {
  if (map.gsLayerControl) map.gsLayerControl.remove();
  const ctl = {};
  for (const [, k] of FACILITY_LAYERS) if (layers[k]) ctl[GS.t(k)] = layers[k];
  if (layers.l_area) ctl[GS.t("l_area", { m: shown.minutes, t: tname(shown.type) })] = layers.l_area;
  if (layers.l_gaps) ctl[GS.t("l_gaps", { m: layers.l_gaps.gsMinutes })] = layers.l_gaps;
  ctl[GS.t("l_hypo")] = hypo;
  map.gsLayerControl = L.control.layers(null, ctl, { collapsed: true }).addTo(map);
}

function popup(p) {
  const caps = (p.capabilities || "").split(",").filter(Boolean);
  return `<b>${GS.esc(p.name)}</b><br>${GS.esc(p.type.replace(/_/g, " "))}${p.level ? " · " + GS.esc(p.level) : ""}` +
    (caps.length ? `<br>${GS.esc(caps.join(", ").toUpperCase())}` : "") + (p.address ? `<br>${GS.esc(p.address)}` : "") +
    (p.status ? `<br><span class="muted">${GS.esc(p.status)}${p.demo ? " · DEMO" : ""}</span>` : "");
}

async function loadFacilities() {
  const g = gen, r = region;
  const fcs = await Promise.all(FACILITY_LAYERS.map(([type]) => GS.json(GS.url(`/layers/${type}`, { region: r.name }))));
  if (g !== gen) return;
  FACILITY_LAYERS.forEach(([, key], i) => {
    layers[key] = L.layerGroup(fcs[i].features.map((f) => L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]],
      { icon: GS.facilityIcon(f.properties), title: f.properties.name }).bindPopup(popup(f.properties)))).addTo(map);
  });
  layerControl();
}

/* Service areas of the selected type at the box's minutes (one request per change; stale answers dropped). */
async function loadAreas() {
  const g = gen, seq = ++areaSeq, r = region;
  const { type, minutes } = analysis();
  $("area-status").textContent = "";
  let fc;
  try { fc = await GS.json(GS.url("/service-areas", { type, minutes, region: r.name })); }
  catch (e) { if (g === gen && seq === areaSeq) $("area-status").textContent = GS.t("areas_err", { e: e.message }); return; }
  if (g !== gen || seq !== areaSeq) return;
  if (layers.l_area) map.removeLayer(layers.l_area);
  const [color, fill, op] = AREA_STYLE[type];
  layers.l_area = L.geoJSON(fc, { renderer: svg, style: { color, weight: 1.5, fillColor: fill, fillOpacity: op, className: `gs-service gs-service-${type}` },
    onEachFeature: (f, l) => l.bindTooltip(`${GS.esc(f.properties.name)} · ${GS.esc(GS.t("area", { m: minutes, t: tname(type) }))}`, { sticky: true }) }).addTo(map);
  if (layers.l_gaps) layers.l_gaps.bringToFront();
  shown = { type, minutes };
  document.body.dataset.areasMinutes = String(minutes);
  legend();
  layerControl();
}

async function loadCoverage() {
  const g = gen, seq = ++covSeq, r = region;
  const { type, minutes } = analysis();
  const sum = $("coverage-summary");
  sum.textContent = GS.t("working");
  let rep;
  try { rep = await GS.json(GS.url("/coverage", { type, minutes, region: r.name })); }
  catch (e) { if (g === gen && seq === covSeq) sum.textContent = e.message; return; }
  if (g !== gen || seq !== covSeq) return;
  const o = rep.overall;
  sum.textContent = GS.t("overall", { t: tname(type), m: minutes, p: pct(o.population_share), a: pct(o.area_share), r: pct(o.road_share) });
  document.querySelector("#coverage-table tbody").innerHTML = rep.by_unit.map((u) => `<tr><td>${GS.esc(u.name)}</td><td>${pct(u.population_share)}</td><td>${pct(u.road_share)}</td></tr>`).join("");
  if (layers.l_gaps) map.removeLayer(layers.l_gaps);
  layers.l_gaps = L.geoJSON(rep.gaps, { renderer: svg, interactive: false, style: { color: "#444", weight: 0.6, fillColor: "#666", fillOpacity: 0.35, className: "gs-gap" } }).addTo(map);
  layers.l_gaps.gsMinutes = minutes;
  layerControl();
}

/* What-if: hypothetical sites of the selected type, coverage before/after at the box's minutes. */
function resetWhatif() {
  whatSeq++;
  sites = []; what = null;
  hypo.clearLayers();
  const box = $("whatif");
  box.innerHTML = `<span data-i18n="whatif_hint">${GS.esc(GS.t("whatif_hint"))}</span>`;
  box.classList.add("muted");
}

function renderWhatif() {
  const box = $("whatif");
  if (!what) return;
  const { near, res, type, minutes } = what;
  let html = "";
  if (near && near.results.length) {
    const r = near.results[0];
    html += `<div data-minutes="${r.minutes}">${GS.esc(GS.t("nearest_existing", { t: tone(type), m: GS.fmtMin(r.time_s) }))} (${GS.esc(r.facility.name)})</div>`;
  } else if (near) {
    html += `<div data-minutes="">${GS.esc(GS.t("none_existing", { t: tone(type) }))}</div>`;
  }
  const b = res.before.overall, a = res.after.overall, d = res.delta;
  const label = { population_share: "pop_share", area_share: "area_share", road_share: "road_share" };
  html += `<table class="after"><thead><tr><th>${sites.length} × ${GS.esc(GS.t("hypo"))}, ${minutes} ${GS.esc(GS.t("min"))}</th><th>${GS.esc(GS.t("before"))}</th><th>${GS.esc(GS.t("after"))}</th><th>${GS.esc(GS.t("change"))}</th></tr></thead><tbody>` +
    Object.keys(label).map((k) => `<tr><td>${GS.esc(GS.t(label[k]))}</td><td>${pct(b[k])}</td><td>${pct(a[k])}</td><td>${dpct(d[k])}</td></tr>`).join("") +
    `</tbody></table><button id="reset" type="button">${GS.esc(GS.t("reset"))}</button>`;
  box.innerHTML = html;
  box.classList.remove("muted");
  $("reset").addEventListener("click", resetWhatif);
}

/* Recompute before/after for the current sites; the newest site's nearest existing facility is shown. */
async function runWhatif() {
  if (!sites.length) return;
  const g = gen, seq = ++whatSeq, r = region;
  const { type, minutes } = analysis();
  const box = $("whatif");
  box.textContent = GS.t("working");
  const last = sites[sites.length - 1];
  let near, res;
  try {
    [near, res] = await Promise.all([last.near,
      GS.json("/whatif", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ type, minutes, region: r.name, add: sites.map((s) => ({ lon: s.lon, lat: s.lat })), crs: GS.crs() }) })]);
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
  what = { near, res, type, minutes };
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
    $("whatif").innerHTML = `<div class="err">${GS.esc(GS.t("outside", { r: region.name }))}</div>`;
    $("whatif").classList.remove("muted");
    return;
  }
  const { type } = analysis();
  const marker = L.marker([lat, lon], { icon: L.divIcon({ className: "", html: `<span class="gs-ico gs-hypo">?</span>`, iconSize: [24, 24], iconAnchor: [12, 12] }), title: GS.t("hypo") }).addTo(hypo);
  const near = GS.json(GS.url("/nearest", { lon: lon.toFixed(6), lat: lat.toFixed(6), type, region: region.name })).catch(() => null);
  sites.push({ lon, lat, marker, near, ok: false, routed: false });
  runWhatif();
}

/* A region change drops everything of the old region (layers, hypothetical sites, what-if) and loads the new one. */
async function showRegion(r) {
  gen++; areaSeq++; covSeq++;
  region = r;
  delete document.body.dataset.region;
  delete document.body.dataset.areasMinutes;
  for (const l of Object.values(layers)) map.removeLayer(l);
  layers = {}; shown = { type: null, minutes: null };
  resetWhatif();
  document.querySelector("#coverage-table tbody").innerHTML = "";
  $("area-status").textContent = "";
  layerControl();
  const g = gen;
  await Promise.all([loadFacilities().catch((e) => { $("area-status").textContent = e.message; }), loadAreas(), loadCoverage()]);
  if (g === gen) document.body.dataset.region = r.name;
}

function minutesChanged() {
  const box = $("minutes");
  const m = +box.value;
  const bad = !(m >= 1 && m <= 240);
  if (bad) box.value = DEFAULT_MIN[$("analysis").value];
  loadAreas();   // clears the status line first
  loadCoverage();
  runWhatif();
  if (bad) $("area-status").textContent = GS.t("bad_min");
}

(async function main() {
  GS.applyLang();
  const langBtn = $("lang");
  const label = () => { langBtn.textContent = GS.lang === "zh" ? "EN" : "中文"; };
  label();
  map = await GS.makeMap("map");
  svg = L.svg({ padding: 0.5 });
  hypo = L.layerGroup().addTo(map);
  const notice = () => { $("notice").textContent = (GS.lang === "zh" && GS.config.notice_zh) || GS.config.notice; };
  langBtn.addEventListener("click", () => { GS.toggleLang(); label(); notice(); legend(); renderWhatif(); layerControl(); loadCoverage(); });
  notice();
  const regs = GS.config.regions;
  let start = 0;
  regs.forEach((r, i) => { if ((r.facility_counts.chest_pain_center || 0) > (regs[start].facility_counts.chest_pain_center || 0)) start = i; });
  const sel = $("region");
  GS.regionSelect(sel, map, (r) => showRegion(r));
  sel.value = String(start);
  $("region-ctl").hidden = regs.length < 2;
  map.fitBounds(map.gsBounds[start]);
  legend();
  $("analysis").addEventListener("change", (e) => {
    $("minutes").value = DEFAULT_MIN[e.target.value];
    resetWhatif();   // the hypothetical sites were of the other type
    if (layers.l_area) { map.removeLayer(layers.l_area); delete layers.l_area; }
    loadAreas();
    loadCoverage();
  });
  $("minutes").addEventListener("change", minutesChanged);
  map.on("click", (e) => addSite(e.latlng.lng, e.latlng.lat));
  await showRegion(regs[start]);
  document.body.dataset.ready = "1";
})();
