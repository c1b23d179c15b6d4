/* Citizen page: nearest open AED (walking), chest pain center and stroke center (driving). */
"use strict";
GS.T = {
  en: {
    title: "Heart attack · stroke · AED", call: "Call 120 first", call_sub: "chest pain, collapse, face drooping",
    locate: "Locate me", hint: "or tap the map where the patient is",
    foot: "Travel times are estimates from OpenStreetMap roads; they do not replace the 120 dispatcher.",
    aed: "Nearest open AED (walking)", cp: "Nearest chest pain center (driving)", st: "Nearest stroke center (driving)",
    min: "min", walk: "walk", drive: "drive", nav: "Navigate",
    aed_open: "Open now", aed_closed: "Closed now: do not go there", aed_unknown: "Opening hours unknown",
    aed_roundtrip: "Fetching it takes about {rt} min there and back. In cardiac arrest every minute counts (aim: shock within 4 min): if you are alone, call 120 and start CPR; send someone else to fetch it.",
    aed_ok: "About {rt} min there and back: send someone to fetch it now while you start CPR.",
    aed_none: "No open AED within {m} min walk. Call 120 and start hands-only CPR (push hard and fast in the centre of the chest); the dispatcher will guide you.",
    none: "None reachable from here.", locating: "Finding your position…", geo_fail: "Could not get your position ({e}). Tap the map instead.",
    searching: "Searching…", here: "You / patient", evt: "thrombectomy (EVT)", ivt: "thrombolysis (IVT)",
    levels: "Level", snapped: "Nearest road {d} m away",
  },
  zh: {
    aed_open: "现在开放", aed_closed: "现在关闭：请勿前往", aed_unknown: "开放时间未知",
    title: "胸痛 · 卒中 · AED 急救地图", call: "先拨打 120", call_sub: "胸痛、倒地、口角歪斜",
    locate: "定位我", hint: "或点击地图上患者所在位置",
    foot: "时间为根据 OpenStreetMap 道路估算，不能代替 120 调度员的指导。",
    aed: "最近的可用 AED（步行）", cp: "最近的胸痛中心（驾车）", st: "最近的卒中中心（驾车）",
    min: "分钟", walk: "步行", drive: "驾车", nav: "导航",
    aed_roundtrip: "往返取 AED 约需 {rt} 分钟。心脏骤停每分钟都关键（目标：4 分钟内除颤）：如只有您一人，请先拨打 120 并开始心肺复苏，请他人去取 AED。",
    aed_ok: "往返约 {rt} 分钟：请立即让他人去取，您同时开始心肺复苏。",
    aed_none: "步行 {m} 分钟内没有可用的 AED。请拨打 120 并立即开始徒手心肺复苏（用力、快速按压胸部正中），调度员会指导您。",
    none: "从此处无法到达。", locating: "正在定位…", geo_fail: "无法获取您的位置（{e}）。请直接点击地图。",
    searching: "查询中…", here: "您 / 患者位置", evt: "取栓（EVT）", ivt: "溶栓（IVT）",
    levels: "级别", snapped: "最近道路 {d} 米",
  },
};
const LEVEL_ZH = { standard: "标准版", basic: "基层版", advanced: "高级卒中中心", center: "卒中中心", station: "卒中防治站" };
const AED_MAX_MIN = 10;

let map, here, drawn, svg;
const results = document.getElementById("results");

function levelText(p) {
  if (!p.level) return "";
  return GS.lang === "zh" ? (LEVEL_ZH[p.level] || p.level) : p.level;
}

function navLinks(nav) {
  return `<div class="nav"><a href="${GS.esc(nav.amap)}">高德 AMap</a><a href="${GS.esc(nav.baidu)}">百度 Baidu</a><a href="${GS.esc(nav.geo)}">${GS.esc(GS.t("nav"))} (geo)</a></div>`;
}

function card(kind, title, res, extra) {
  const el = document.createElement("div");
  el.className = `card ${kind}`;
  el.dataset.kind = kind;
  let html = `<h2>${GS.esc(title)}</h2>`;
  if (res.error) {
    html += `<div class="err">${GS.esc(res.error)}</div>`;
  } else if (!res.results || !res.results.length) {
    html += `<div class="none">${GS.esc(extra && extra.none ? extra.none : GS.t("none"))}</div>`;
  } else {
    const r = res.results[0], p = r.facility;
    const caps = (p.capabilities || "").split(",").filter(Boolean).map((c) => GS.t(c)).join(", ");
    html += `<div class="min" data-minutes="${r.minutes}">${GS.fmtMin(r.time_s)} <small>${GS.esc(GS.t("min"))} ${GS.esc(GS.t(res.profile === "walk" ? "walk" : "drive"))} · ${GS.fmtDist(r.distance_m)}</small></div>`;
    html += `<div class="name">${GS.esc(p.name)}</div>`;
    const meta = [levelText(p), caps, p.address].filter(Boolean).join(" · ");
    if (meta) html += `<div class="muted">${GS.esc(meta)}</div>`;
    if (extra && extra.warn) html += `<div class="warn">${GS.esc(extra.warn)}</div>`;
    html += navLinks(r.nav);
  }
  el.innerHTML = html;
  return el;
}

/* The device's local wall-clock time, which AED opening hours are written in. */
function localNow() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

async function query(type) {
  const params = { lon: here[0].toFixed(6), lat: here[1].toFixed(6), type };
  if (type === "aed") Object.assign(params, { at: localNow(), max_minutes: AED_MAX_MIN });
  try { return await GS.json(GS.url("/nearest", params)); } catch (e) { return { error: e.message, status: e.status }; }
}

const COLORS = { aed: "#1b8a3a", chest_pain_center: "#c62828", stroke_center: "#6a1b9a" };

let searchSeq = 0;

async function search(lon, lat) {
  const seq = ++searchSeq;   // a newer tap wins over an older answer still in flight
  here = [lon, lat];
  drawn.clearLayers();
  L.marker([lat, lon], { icon: L.divIcon({ className: "", html: '<span class="gs-here"></span>', iconSize: [16, 16], iconAnchor: [8, 8] }), title: GS.t("here"), zIndexOffset: 500 }).addTo(drawn);
  results.innerHTML = `<div class="muted">${GS.esc(GS.t("searching"))}</div>`;
  const [aed, cp, st] = await Promise.all(["aed", "chest_pain_center", "stroke_center"].map(query));
  if (seq !== searchSeq) return;
  results.innerHTML = "";
  const bounds = L.latLngBounds([[lat, lon]]);
  // car routes first, the walk to the AED last so that it is drawn on top (it is the one to act on)
  for (const [type, res] of [["stroke_center", st], ["chest_pain_center", cp], ["aed", aed]]) {
    if (!res.results || !res.results.length) continue;
    const r = res.results[0];
    const isAed = type === "aed";
    if (isAed) L.geoJSON(r.route, { renderer: svg, interactive: false, style: { color: "#fff", weight: 11, opacity: 0.95, lineCap: "round", lineJoin: "round", className: "gs-route-casing" } }).addTo(drawn);
    const line = L.geoJSON(r.route, { renderer: svg, style: { color: COLORS[type], weight: isAed ? 7 : 4, opacity: isAed ? 1 : 0.75, dashArray: isAed ? "1 11" : null, lineCap: "round", lineJoin: "round", className: `gs-route gs-route-${type}` } }).addTo(drawn);
    const label = `${isAed ? "AED" : type === "chest_pain_center" ? "♥" : "S"} ${GS.fmtMin(r.time_s)} ${GS.t("min")}`;
    L.marker([r.facility.lat, r.facility.lon], { icon: GS.facilityIcon(r.facility), zIndexOffset: isAed ? 1000 : 400, title: r.facility.name })
      .bindPopup(GS.esc(r.facility.name))
      .bindTooltip(GS.esc(label), { permanent: true, direction: isAed ? "top" : "auto", offset: isAed ? [0, -10] : [0, type === "chest_pain_center" ? -22 : 18], className: `gs-label gs-label-${type}` })
      .addTo(drawn);
    bounds.extend(line.getBounds());
  }
  let aedExtra = { none: GS.t("aed_none", { m: AED_MAX_MIN }) };
  if (aed.results && aed.results.length) {
    const rt = (2 * aed.results[0].time_s / 60);
    aedExtra.warn = GS.t(rt > 4 ? "aed_roundtrip" : "aed_ok", { rt: rt.toFixed(1) });
  }
  results.appendChild(card("aed", GS.t("aed"), aed, aedExtra));
  results.appendChild(card("cp", GS.t("cp"), cp));
  results.appendChild(card("st", GS.t("st"), st));
  map.invalidateSize();
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.2), { maxZoom: 17, paddingTopLeft: [20, 30], paddingBottomRight: [20, 20] });
}

function locate() {
  if (!navigator.geolocation) { results.innerHTML = `<div class="err">${GS.esc(GS.t("geo_fail", { e: "unsupported" }))}</div>`; return; }
  results.innerHTML = `<div class="muted">${GS.esc(GS.t("locating"))}</div>`;
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      let p = [pos.coords.longitude, pos.coords.latitude];
      if (GS.crs() === "gcj02") p = GS.wgs2gcj(p[0], p[1]);   // GPS is WGS-84; the map is GCJ-02
      map.setView([p[1], p[0]], 16);
      search(p[0], p[1]);
    },
    (err) => { results.innerHTML = `<div class="err">${GS.esc(GS.t("geo_fail", { e: err.message }))}</div>`; },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
}

(async function main() {
  GS.applyLang();
  const langBtn = document.getElementById("lang");
  const setLangLabel = () => { langBtn.textContent = GS.lang === "zh" ? "EN" : "中文"; };
  setLangLabel();
  langBtn.addEventListener("click", () => { GS.toggleLang(); setLangLabel(); if (here) search(here[0], here[1]); });
  map = await GS.makeMap("map");
  // start on the region with the most AEDs (that is what the page is mostly for)
  const regs = GS.config.regions;
  let start = 0;
  regs.forEach((r, i) => { if ((r.facility_counts.aed || 0) > (regs[start].facility_counts.aed || 0)) start = i; });
  map.fitBounds(map.gsBounds[start]);
  const sel = document.getElementById("region");
  GS.regionSelect(sel, map);
  sel.value = String(start);
  drawn = L.layerGroup().addTo(map);
  svg = L.svg({ padding: 0.5 });
  const aeds = L.layerGroup().addTo(map);
  // every AED with whether it is open now: closed ones are greyed so nobody runs to them
  GS.json(GS.url("/layers/aed", { at: localNow() })).then((fc) => {
    for (const f of fc.features) {
      const p = f.properties;
      const icon = GS.facilityIcon(p);
      if (p.open_at === false) icon.options.html = icon.options.html.replace('class="gs-ico', 'class="gs-ico gs-closed');
      const state = p.open_at === true ? "aed_open" : p.open_at === false ? "aed_closed" : "aed_unknown";
      L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon, title: p.name, zIndexOffset: p.open_at === false ? -100 : 0 })
        .bindPopup(() => `<b>${GS.esc(p.name)}</b><br>${GS.esc(GS.t(state))}` + (p.opening_hours ? `<br><span class="muted">${GS.esc(p.opening_hours)}</span>` : ""))
        .addTo(aeds);
    }
  }).catch(() => {});
  map.on("click", (e) => search(e.latlng.lng, e.latlng.lat));
  document.getElementById("locate").addEventListener("click", locate);
  document.body.dataset.ready = "1";
})();
