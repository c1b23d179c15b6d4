/* Planner page: tiered facility layers, service areas, gaps, coverage by unit, click-to-add what-if. */
"use strict";
GS.T = {
  en: {
    title: "Chest pain & stroke network planner", a_cp: "Chest pain centers", a_st: "Stroke centers", min: "min",
    legend: "Legend", coverage: "Coverage by admin unit", unit: "Unit", pop: "Population", roads: "Roads",
    whatif: "What if? Click the map to add a site",
    whatif_hint: "A click adds a hypothetical facility of the selected type; coverage is recomputed before/after (nothing is saved).",
    cp_standard: "Chest pain center (standard)", cp_basic: "Chest pain center (basic)",
    st_advanced: "Advanced stroke center", st_center: "Stroke center", st_station: "Stroke prevention station",
    evt: "★ thrombectomy (EVT)", ivt: "☆ thrombolysis (IVT) only", grass: "Grassroots unit", ems: "EMS station", aed: "AED",
    area: "{m}-min drive area", gap: "Not reached within {m} min (gap)", hypo: "Hypothetical site",
    before: "Before", after: "After", change: "Change", pop_share: "Population", area_share: "Area", road_share: "Roads",
    nearest_existing: "Nearest existing {t}: {m} min drive", none_existing: "No existing {t} reachable from here",
    overall: "{t} within {m} min: population {p}, area {a}, roads {r}", working: "Computing…",
    l_cp: "Chest pain centers", l_st: "Stroke centers", l_grass: "Grassroots units", l_ems: "EMS stations", l_aed: "AEDs",
    l_cp_area: "30-min chest pain areas", l_st_area: "60-min stroke areas", l_gaps: "Gaps", reset: "Remove sites",
  },
  zh: {
    title: "胸痛 / 卒中救治网络规划", a_cp: "胸痛中心", a_st: "卒中中心", min: "分钟",
    legend: "图例", coverage: "按行政区的覆盖率", unit: "行政区", pop: "人口", roads: "道路",
    whatif: "假设分析：点击地图添加站点",
    whatif_hint: "点击地图即添加所选类型的假设机构，重新计算前后覆盖率（不会保存）。",
    cp_standard: "胸痛中心（标准版）", cp_basic: "胸痛中心（基层版）",
    st_advanced: "高级卒中中心", st_center: "卒中中心", st_station: "卒中防治站",
    evt: "★ 可取栓（EVT）", ivt: "☆ 仅可溶栓（IVT）", grass: "基层医疗机构", ems: "急救站", aed: "AED",
    area: "{m} 分钟车程范围", gap: "{m} 分钟内无法到达（空白区）", hypo: "假设站点",
    before: "之前", after: "之后", change: "变化", pop_share: "人口", area_share: "面积", road_share: "道路",
    nearest_existing: "最近的现有{t}：车程 {m} 分钟", none_existing: "从此处无法到达现有{t}",
    overall: "{m} 分钟内可达{t}：人口 {p}，面积 {a}，道路 {r}", working: "计算中…",
    l_cp: "胸痛中心", l_st: "卒中中心", l_grass: "基层医疗机构", l_ems: "急救站", l_aed: "AED",
    l_cp_area: "胸痛中心 30 分钟范围", l_st_area: "卒中中心 60 分钟范围", l_gaps: "空白区", reset: "清除假设站点",
  },
};
const TYPE_NAME = { chest_pain_center: ["a_cp"], stroke_center: ["a_st"] };
const DEFAULT_MIN = { chest_pain_center: 30, stroke_center: 60 };
let map, region, layers = {}, sites = [], hypo, svg;

const pct = (x) => (x == null ? "–" : `${(100 * x).toFixed(1)}%`);
const dpct = (x) => (x == null ? "–" : `<span class="${x > 0 ? "delta-pos" : x < 0 ? "delta-neg" : ""}">${x > 0 ? "+" : ""}${(100 * x).toFixed(1)} pt</span>`);

function legend() {
  const ico = (p) => GS.facilityIcon(p).options.html;
  const rows = [
    [ico({ type: "chest_pain_center", level: "standard" }), "cp_standard"],
    [ico({ type: "chest_pain_center", level: "basic" }), "cp_basic"],
    [ico({ type: "stroke_center", level: "advanced", capabilities: "evt,ivt" }), "st_advanced"],
    [ico({ type: "stroke_center", level: "center", capabilities: "ivt" }), "st_center"],
    [ico({ type: "stroke_center", level: "station" }), "st_station"],
    ["<b class='gs-star' style='position:static'>★</b>", "evt"], ["<b class='gs-star' style='position:static'>☆</b>", "ivt"],
    [ico({ type: "grassroots_unit" }), "grass"], [ico({ type: "ems_station" }), "ems"], [ico({ type: "aed" }), "aed"],
    ["<span class='swatch' style='background:rgba(229,57,53,.18);border-color:#c62828'></span>", "area", { m: 30 }],
    ["<span class='swatch' style='background:rgba(106,27,154,.15);border-color:#6a1b9a'></span>", "area", { m: 60 }],
    ["<span class='swatch' style='background:repeating-linear-gradient(45deg,#555 0 2px,rgba(120,120,120,.35) 2px 6px)'></span>", "gap", { m: document.getElementById("minutes").value }],
  ];
  document.getElementById("legend").innerHTML = rows.map(([h, k, v]) => `<div class="legend-row">${h}<span>${GS.esc(GS.t(k, v))}</span></div>`).join("");
}

function popup(p) {
  const caps = (p.capabilities || "").split(",").filter(Boolean);
  return `<b>${GS.esc(p.name)}</b><br>${GS.esc(p.type.replace(/_/g, " "))}${p.level ? " · " + GS.esc(p.level) : ""}` +
    (caps.length ? `<br>${GS.esc(caps.join(", ").toUpperCase())}` : "") + (p.address ? `<br>${GS.esc(p.address)}` : "") +
    (p.status ? `<br><span class="muted">${GS.esc(p.status)}${p.demo ? " · DEMO" : ""}</span>` : "");
}

async function loadFacilities() {
  const spec = [["chest_pain_center", "l_cp"], ["stroke_center", "l_st"], ["grassroots_unit", "l_grass"], ["ems_station", "l_ems"], ["aed", "l_aed"]];
  for (const [type, key] of spec) {
    const fc = await GS.json(GS.url(`/layers/${type}`, { region: region.name }));
    const g = L.layerGroup(fc.features.map((f) => L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon: GS.facilityIcon(f.properties), title: f.properties.name }).bindPopup(popup(f.properties))));
    layers[key] = g.addTo(map);
  }
}

async function loadAreas() {
  const spec = [["chest_pain_center", 30, "l_cp_area", "#c62828", "rgba(229,57,53,1)", 0.12], ["stroke_center", 60, "l_st_area", "#6a1b9a", "rgba(106,27,154,1)", 0.08]];
  for (const [type, m, key, color, fill, op] of spec) {
    const fc = await GS.json(GS.url("/service-areas", { type, minutes: m, region: region.name }));
    layers[key] = L.geoJSON(fc, { renderer: svg, style: { color, weight: 1.5, fillColor: fill, fillOpacity: op, className: `gs-service gs-service-${type}` },
      onEachFeature: (f, l) => l.bindTooltip(`${GS.esc(f.properties.name)} · ${GS.t("area", { m })}`) });
    if (type === analysis().type) layers[key].addTo(map);
  }
}

function analysis() {
  const type = document.getElementById("analysis").value;
  const minutes = +document.getElementById("minutes").value || DEFAULT_MIN[type];
  return { type, minutes };
}

async function loadCoverage() {
  const { type, minutes } = analysis();
  const sum = document.getElementById("coverage-summary");
  sum.textContent = GS.t("working");
  let rep;
  try { rep = await GS.json(GS.url("/coverage", { type, minutes, region: region.name })); }
  catch (e) { sum.textContent = e.message; return; }
  const o = rep.overall;
  sum.textContent = GS.t("overall", { t: GS.t(TYPE_NAME[type][0]), m: minutes, p: pct(o.population_share), a: pct(o.area_share), r: pct(o.road_share) });
  const tb = document.querySelector("#coverage-table tbody");
  tb.innerHTML = rep.by_unit.map((u) => `<tr><td>${GS.esc(u.name)}</td><td>${pct(u.population_share)}</td><td>${pct(u.road_share)}</td></tr>`).join("");
  if (layers.l_gaps) map.removeLayer(layers.l_gaps);
  layers.l_gaps = L.geoJSON(rep.gaps, { renderer: svg, interactive: false, style: { color: "#444", weight: 0.6, fillColor: "#666", fillOpacity: 0.35, className: "gs-gap" } }).addTo(map);
  if (map.gsLayerControl) map.gsLayerControl.remove();
  const ctl = {};
  for (const k of ["l_cp", "l_st", "l_grass", "l_ems", "l_aed", "l_cp_area", "l_st_area", "l_gaps"]) if (layers[k]) ctl[GS.t(k)] = layers[k];
  map.gsLayerControl = L.control.layers(null, ctl, { collapsed: true }).addTo(map);
  legend();
}

async function whatif(lon, lat) {
  const { type, minutes } = analysis();
  sites.push({ lon, lat });
  L.marker([lat, lon], { icon: L.divIcon({ className: "", html: `<span class="gs-ico gs-hypo">?</span>`, iconSize: [24, 24], iconAnchor: [12, 12] }), title: GS.t("hypo") }).addTo(hypo);
  const box = document.getElementById("whatif");
  box.innerHTML = GS.esc(GS.t("working"));
  let near, res;
  try {
    [near, res] = await Promise.all([
      GS.json(GS.url("/nearest", { lon: lon.toFixed(6), lat: lat.toFixed(6), type, region: region.name })),
      GS.json("/whatif", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ type, minutes, region: region.name, add: sites, crs: GS.crs() }) }),
    ]);
  } catch (e) {
    sites.pop();
    box.innerHTML = `<div class="err">${GS.esc(e.message)}</div>`;
    return;
  }
  let html = "";
  if (near.results.length) {
    const r = near.results[0];
    L.geoJSON(r.route, { renderer: svg, style: { color: "#1565c0", weight: 4, dashArray: "6 6", className: "gs-route" } }).addTo(hypo);
    html += `<div data-minutes="${r.minutes}">${GS.esc(GS.t("nearest_existing", { t: GS.t(TYPE_NAME[type][0]), m: GS.fmtMin(r.time_s) }))} (${GS.esc(r.facility.name)})</div>`;
  } else {
    html += `<div data-minutes="">${GS.esc(GS.t("none_existing", { t: GS.t(TYPE_NAME[type][0]) }))}</div>`;
  }
  const b = res.before.overall, a = res.after.overall, d = res.delta;
  html += `<table class="after"><thead><tr><th>${sites.length} × ${GS.esc(GS.t("hypo"))}, ${minutes} ${GS.esc(GS.t("min"))}</th><th>${GS.esc(GS.t("before"))}</th><th>${GS.esc(GS.t("after"))}</th><th>${GS.esc(GS.t("change"))}</th></tr></thead><tbody>` +
    ["population_share", "area_share", "road_share"].map((k) => `<tr><td>${GS.esc(GS.t(k.replace("_share", "") === "population" ? "pop_share" : k))}</td><td>${pct(b[k])}</td><td>${pct(a[k])}</td><td>${dpct(d[k])}</td></tr>`).join("") +
    `</tbody></table><button id="reset" type="button">${GS.esc(GS.t("reset"))}</button>`;
  box.innerHTML = html;
  box.classList.remove("muted");
  document.getElementById("reset").addEventListener("click", () => { sites = []; hypo.clearLayers(); box.innerHTML = GS.esc(GS.t("whatif_hint")); });
}

async function showRegion(r) {
  region = r;
  for (const l of Object.values(layers)) map.removeLayer(l);
  layers = {}; sites = []; hypo.clearLayers();
  await loadFacilities();
  await loadAreas();
  await loadCoverage();
}

(async function main() {
  GS.applyLang();
  const langBtn = document.getElementById("lang");
  const label = () => { langBtn.textContent = GS.lang === "zh" ? "EN" : "中文"; };
  label();
  langBtn.addEventListener("click", () => { GS.toggleLang(); label(); legend(); loadCoverage(); });
  map = await GS.makeMap("map");
  svg = L.svg({ padding: 0.5 });
  hypo = L.layerGroup().addTo(map);
  document.getElementById("notice").textContent = GS.config.notice;
  const regs = GS.config.regions;
  let start = 0;
  regs.forEach((r, i) => { if ((r.facility_counts.chest_pain_center || 0) > (regs[start].facility_counts.chest_pain_center || 0)) start = i; });
  const sel = document.getElementById("region");
  GS.regionSelect(sel, map, (r) => showRegion(r));
  sel.value = String(start);
  map.fitBounds(map.gsBounds[start]);
  legend();
  document.getElementById("analysis").addEventListener("change", (e) => {
    document.getElementById("minutes").value = DEFAULT_MIN[e.target.value];
    const show = e.target.value === "chest_pain_center" ? "l_cp_area" : "l_st_area";
    for (const k of ["l_cp_area", "l_st_area"]) if (layers[k]) (k === show ? layers[k].addTo(map) : map.removeLayer(layers[k]));
    loadCoverage();
  });
  document.getElementById("minutes").addEventListener("change", () => loadCoverage());
  map.on("click", (e) => whatif(e.latlng.lng, e.latlng.lat));
  await showRegion(regs[start]);
  document.body.dataset.ready = "1";
})();
