/* Citizen page for an emergency: where the patient is (a tap, GPS, or an offline place search), then
   the nearest open AED on foot (highlighted, with where it is on site and its hours) and two
   alternatives, and the nearest chest pain and stroke centers by car. */
"use strict";
GS.addT({
  en: {
    doc_title: "Emergency finder · 急救地图",
    title: "Heart attack · stroke · AED", call_sub: "chest pain, collapse, face drooping",
    locate: "Locate me", hint: "or tap the map where the patient is",
    search_ph: "Place, station, road or hospital", search_btn: "Find", search_none: "No place called “{q}” in our map data.",
    planner_link: "planner", api_link: "API",
    aed: "Nearest AED (walking)", cp: "Nearest chest pain center (driving)", st: "Nearest stroke center (driving)",
    aed_label: "Nearest AED", alts: "Other AEDs nearby", nav: "Navigate", amap: "AMap", baidu: "Baidu",
    no_spot: "Exact spot not recorded: look around the marker.",
    aed_roundtrip: "Fetching it takes about {rt} min there and back. In cardiac arrest every minute counts (aim: shock within 4 min): if you are alone, call {n} and start CPR; send someone else to fetch it.",
    aed_ok: "About {rt} min there and back: send someone to fetch it now while you start CPR.",
    aed_none: "No open AED within {m} min walk. Call {n} and start hands-only CPR (push hard and fast in the centre of the chest); the dispatcher will guide you.",
    aed_here: "The AED is right here: get it now and start CPR; someone calls {n}.",
    aed_beyond: "No open AED within {m} min walk. The nearest beyond it is {t} min away on foot (below, and on the map).",
    none: "None reachable from here.", locating: "Finding your position…",
    searching: "Searching…", here: "You / patient", from_place: "Patient at: {p}",
    kept_prev: "The answers below are still for the previous point.",
    aed_zoom: "Zoom in to see the AEDs", aed_many: "{n} AEDs here: zoom in to see them",
  },
  zh: {
    doc_title: "急救地图 · 胸痛 卒中 AED",
    title: "胸痛 · 卒中 · AED 急救地图", call_sub: "胸痛、倒地、口角歪斜",
    locate: "定位我", hint: "或点击地图上患者所在位置",
    search_ph: "地名、车站、道路或医院（可输入拼音）", search_btn: "查找", search_none: "地图数据中没有名为“{q}”的地点。",
    planner_link: "规划页面", api_link: "接口文档",
    aed: "最近的AED（步行）", cp: "最近的胸痛中心（驾车）", st: "最近的卒中中心（驾车）",
    aed_label: "最近的AED", alts: "附近其他 AED", nav: "其他地图应用", amap: "高德地图", baidu: "百度地图",
    no_spot: "具体位置未登记：请在标记附近寻找。",
    aed_roundtrip: "往返取 AED 约需 {rt} 分钟。心脏骤停每分钟都关键（目标：4 分钟内除颤）：如只有您一人，请先拨打 {n} 并开始心肺复苏，请他人去取 AED。",
    aed_ok: "往返约 {rt} 分钟：请立即让他人去取，您同时开始心肺复苏。",
    aed_none: "步行 {m} 分钟内没有可用的 AED。请拨打 {n} 并立即开始徒手心肺复苏（用力、快速按压胸部正中），调度员会指导您。",
    aed_here: "AED 就在此处：立即取来并开始心肺复苏，同时请人拨打 {n}。",
    aed_beyond: "步行 {m} 分钟内没有可用的 AED。更远处最近的一台需步行 {t} 分钟（见下方和地图）。",
    none: "从此处无法到达。", locating: "正在定位…",
    searching: "查询中…", here: "您 / 患者位置", from_place: "患者位置：{p}",
    kept_prev: "下方结果仍为上一个位置的结果。",
    aed_zoom: "放大地图以显示 AED", aed_many: "此处有 {n} 个 AED：放大地图以显示",
  },
});
const AED_MAX_MIN = 10;
const AED_FAR_MIN = 60;   // none open within AED_MAX_MIN: the nearest beyond, up to this far, is named and drawn
const AED_ALTERNATIVES = 2;
const HERE_S = 30;   // closer than this on foot: "right here", not "0.0 min"
const minText = (s) => (s < HERE_S ? "<1" : GS.fmtMin(s));
const COLORS = { aed: "#00a63e", aed_alt: "#5f9e6e", chest_pain_center: "#c62828", stroke_center: "#6a1b9a" };
// the public AEDs drawn are those of the view padded by `pad` of its size each way, and no more than
// `max` (a province has tens of thousands; a phone cannot draw them): past it the map says zoom in
const AED_VIEW = { pad: 0.5, max: 2000 };

let map, drawn, driveSvg, walkSvg, aedLayer, aedNoteEl;
let aedNote = null;     // the AED view's "zoom in" note ({kind, n}), shown on the map
let here = null;        // [lon, lat] of the last search that found something
let answers = null;     // its answers {aed, cp, st}, redrawn when the language changes
let fromPlace = null;   // the place picked in the search box, if that is where the patient is
let searchSeq = 0;
const $ = (id) => document.getElementById(id);
const results = $("results");

/* ------------------------------------------------------------------ messages */
function setMsg(text, kind) {
  const el = $("msg");
  el.hidden = !text;
  el.className = `msg${kind ? " " + kind : ""}`;
  el.textContent = text || "";
}

/* Why a query failed, in the page's language (the API's own text is English). */
function failText(res, walk) {
  if (!res || !res.error) return "";
  if (res.status === 404) return GS.t("off_region");
  const snap = res.body && res.body.snap_m;
  if (snap != null) return GS.t(walk ? "off_road_walk" : "off_road", { d: Math.round(snap) });
  return GS.t("query_failed");
}

/* ------------------------------------------------------------------ facility details */
function openState(openAt) {
  if (openAt === true) return `<div class="state open">${GS.esc(GS.t("aed_open"))}</div>`;
  if (openAt === false) return `<div class="state closed">${GS.esc(GS.t("aed_closed"))}</div>`;
  return "";
}

/* Where an AED is and when it can be used: what a bystander sent to fetch it needs. */
function aedDetails(p, openAt) {
  const colon = GS.lang === "zh" ? "：" : ": ";
  const field = (key, html) => `<b>${GS.esc(GS.t(key))}${colon}</b>${html}`;
  let h = p.location
    ? `<div class="where">${field("where", `<span class="data">${GS.esc(p.location)}</span>`)}</div>`
    : `<div class="muted">${GS.esc(GS.t("no_spot"))}</div>`;
  const facts = [];
  if (p.floor) facts.push(field("floor", `<span class="data">${GS.esc(p.floor)}</span>`));
  if (p.access) facts.push(field("access", GS.esc(GS.tOr("access", p.access))));
  if (facts.length) h += `<div>${facts.join(" · ")}</div>`;
  if (p.opening_hours) h += `<div>${field("hours", `<span title="${GS.esc(p.opening_hours)}">${GS.esc(GS.hoursText(p.opening_hours))}</span>`)}</div>`;
  h += openAt === null || openAt === undefined || !p.opening_hours
    ? `<div class="state unknown">${GS.esc(GS.t("aed_unknown"))}</div>` : openState(openAt);
  return h;
}

function facilityPopup(p, openAt) {
  const what = [GS.tOr("type", p.type), GS.tOr("lvl", p.level)].filter((s) => s && s !== GS.baseName(p));
  let h = `<div class="pop"><b>${GS.nameHtml(p)}</b>` + (what.length ? `<div class="muted">${GS.esc(what.join(" · "))}</div>` : "");
  if (p.type === "aed") h += aedDetails(p, openAt);
  else if (p.address) h += `<div class="data">${GS.esc(p.address)}</div>`;
  return h + "</div>";
}

function navLinks(nav) {
  return `<div class="nav"><a href="${GS.esc(nav.amap)}">${GS.esc(GS.t("amap"))}</a><a href="${GS.esc(nav.baidu)}">${GS.esc(GS.t("baidu"))}</a><a href="${GS.esc(nav.geo)}">${GS.esc(GS.t("nav"))}</a></div>`;
}

/* ------------------------------------------------------------------ result cards */
/* The off-network legs, when they are large enough to matter: the time above includes them. */
const LEGS_SHOWN_M = 50;
function legsNote(res, r) {
  const here = (res.origin && res.origin.snap_m) || 0, there = r.facility_snap_m || 0;
  if (here < LEGS_SHOWN_M && there < LEGS_SHOWN_M) return "";
  const walk = GS.fmtMin((r.access_s || 0) + (r.facility_access_s || 0));
  return `<div class="warn legs">${GS.esc(GS.t("legs", { t: walk, a: Math.round(here), b: Math.round(there) }))}</div>`;
}

function card(kind, title, res, extra) {
  const el = document.createElement("div");
  el.className = `card ${kind}`;
  el.dataset.kind = kind;
  let html = `<h2>${GS.esc(title)}</h2>`;
  if (res.error) {
    html += `<div class="err">${GS.esc(failText(res, kind === "aed"))}</div>`;
  } else if (!res.results || !res.results.length) {
    html += `<div class="none">${GS.esc(extra && extra.none ? extra.none : GS.t("none"))}</div>`;
  } else {
    const r = res.results[0], p = r.facility;
    const caps = (p.capabilities || "").split(",").filter(Boolean).map((c) => GS.t(c)).join(", ");
    if (extra && extra.beyond) html += `<div class="none beyond">${GS.esc(extra.beyond)}</div>`;
    html += `<div class="min" data-minutes="${r.minutes}">${minText(r.time_s)} <small>${GS.esc(GS.t("min"))} ${GS.esc(GS.t(res.profile === "walk" ? "walk" : "drive"))} · ${GS.fmtDist(r.distance_m)}</small></div>`;
    html += `<div class="name">${GS.nameHtml(p)}</div>`;
    html += legsNote(res, r);
    if (kind === "aed") {
      html += `<div class="details">${aedDetails(p, r.open_at)}</div>`;
    } else {
      const meta = [GS.tOr("lvl", p.level), caps].filter(Boolean).map(GS.esc);
      if (p.address) meta.push(`<span class="data">${GS.esc(p.address)}</span>`);
      if (meta.length) html += `<div class="muted">${meta.join(" · ")}</div>`;
    }
    if (extra && extra.warn) html += `<div class="warn">${GS.esc(extra.warn)}</div>`;
    html += navLinks(r.nav);
    if (kind === "aed" && res.results.length > 1) {
      html += `<div class="alts"><div class="alts-h">${GS.esc(GS.t("alts"))}</div><ol>` + res.results.slice(1).map((a, i) =>
        `<li data-minutes="${a.minutes}"><span class="alt-no">${i + 2}</span> ${GS.nameHtml(a.facility)} · <b>${GS.fmtMin(a.time_s)} ${GS.esc(GS.t("min"))}</b> · ${GS.fmtDist(a.distance_m)}` +
        (a.facility.location ? ` · <span class="data">${GS.esc(a.facility.location)}</span>` : "") +
        (a.open_at === true ? "" : ` · <span class="state-inline">${GS.esc(GS.t("aed_unknown"))}</span>`) + "</li>").join("") + "</ol></div>";
    }
  }
  el.innerHTML = html;
  return el;
}

/* The device's local wall-clock time, which AED opening hours are written in. */
function localNow() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

async function query(type, lon, lat, far) {
  const params = { lon: lon.toFixed(6), lat: lat.toFixed(6), type };
  if (type === "aed") Object.assign(params, { at: localNow(), max_minutes: far ? AED_FAR_MIN : AED_MAX_MIN, k: far ? 1 : 1 + AED_ALTERNATIVES });
  try { return await GS.json(GS.url("/nearest", params)); } catch (e) { return { error: e.message, status: e.status, body: e.body }; }
}

/* ------------------------------------------------------------------ drawing */
function resultMarker(p, icon, openAt, z, label) {
  // a result is the answer already: a tap shows its details and does not move the patient
  const m = L.marker([p.lat, p.lon], { icon, zIndexOffset: z, title: GS.baseName(p), riseOnHover: true })
    .bindPopup(() => facilityPopup(p, openAt), { autoPan: false });
  if (label) m.bindTooltip(GS.esc(label.text), label.opts);
  return m.addTo(drawn);
}

/* The walks off the road at both ends (in every time shown): thin dotted grey lines from the spot
   to where its road is joined, and from the road to the facility. */
function offRoadLegs(r, here) {
  const c = r.route.coordinates;
  if (!c.length) return;
  const legs = [[[here[1], here[0]], [c[0][1], c[0][0]]], [[c[c.length - 1][1], c[c.length - 1][0]], [r.facility.lat, r.facility.lon]]];
  for (const leg of legs) {
    L.polyline(leg, { pane: "gsWalk", interactive: false, color: "#333", weight: 3, opacity: 0.9, dashArray: "3 5", className: "gs-offroad" }).addTo(drawn);
  }
}

function draw(fit) {
  const { aed, cp, st } = answers;
  drawn.clearLayers();
  const [lon, lat] = here;
  L.marker([lat, lon], { pane: "gsPatient", icon: L.divIcon({ className: "", html: '<span class="gs-here"></span>', iconSize: [16, 16], iconAnchor: [8, 8] }), interactive: false, keyboard: false }).addTo(drawn);
  // what the map will show (fitBounds centres it): labels go on the side of their marker facing the centre
  const bounds = L.latLngBounds([[lat, lon]]);
  for (const res of [aed, cp, st]) for (const r of res.results || []) bounds.extend(L.geoJSON(r.route).getBounds()).extend([r.facility.lat, r.facility.lon]);
  const midLng = bounds.getCenter().lng;
  // car routes in their own pane, the walks to the AEDs in a pane above them (the one to act on)
  for (const [type, res] of [["stroke_center", st], ["chest_pain_center", cp]]) {
    if (!res.results || !res.results.length) continue;
    const r = res.results[0];
    L.geoJSON(r.route, { pane: "gsDrive", renderer: driveSvg, interactive: false, style: { color: COLORS[type], weight: 4, opacity: 0.75, lineCap: "round", lineJoin: "round", className: `gs-route gs-route-${type}` } }).addTo(drawn);
    offRoadLegs(r, here);
    resultMarker(r.facility, GS.facilityIcon(r.facility), null, 400, { text: `${type === "chest_pain_center" ? "♥" : "S"} ${GS.fmtMin(r.time_s)} ${GS.t("min")}`, opts: type === "chest_pain_center"
      ? { permanent: true, direction: r.facility.lon < midLng ? "right" : "left", offset: r.facility.lon < midLng ? [26, -8] : [-2, -8], className: `gs-label gs-label-${type}` }
      : { permanent: true, direction: "bottom", offset: [0, 18], className: `gs-label gs-label-${type}` } });
  }
  const aeds = (aed.results || []);
  aeds.slice(1).forEach((r, i) => {   // alternatives first, so that the nearest is drawn over them
    L.geoJSON(r.route, { pane: "gsWalk", renderer: walkSvg, interactive: false, style: { color: COLORS.aed_alt, weight: 4, opacity: 0.9, dashArray: "2 8", lineCap: "round", className: "gs-route gs-route-aed-alt" } }).addTo(drawn);
    const icon = L.divIcon({ className: "", html: `<span class="gs-ico gs-aed gs-aed-alt">${i + 2}</span>`, iconSize: [24, 24], iconAnchor: [12, 12] });
    resultMarker(r.facility, icon, r.open_at, 900);
  });
  if (aeds.length) {
    const r = aeds[0];
    L.geoJSON(r.route, { pane: "gsWalk", renderer: walkSvg, interactive: false, style: { color: "#fff", weight: 12, opacity: 0.95, lineCap: "round", lineJoin: "round", className: "gs-route-casing" } }).addTo(drawn);
    offRoadLegs(r, here);
    L.geoJSON(r.route, { pane: "gsWalk", renderer: walkSvg, interactive: false, style: { color: COLORS.aed, weight: 7, opacity: 1, dashArray: "1 11", lineCap: "round", lineJoin: "round", className: "gs-route gs-route-aed" } }).addTo(drawn);
    const icon = L.divIcon({ className: "", html: '<span class="gs-ico gs-aed gs-aed-nearest">⚡</span>', iconSize: [38, 38], iconAnchor: [19, 19] });
    resultMarker(r.facility, icon, r.open_at, 1000, { text: `${GS.t("aed_label")} · ${minText(r.time_s)} ${GS.t("min")}`, opts: { permanent: true, direction: "top", offset: [0, -18], className: "gs-label gs-label-aed" } });
  }
  results.innerHTML = "";
  if (fromPlace) {
    const f = document.createElement("div");
    f.className = "from";
    f.innerHTML = GS.esc(GS.t("from_place", { p: "\u0000" })).replace("\u0000", `<span class="data">${GS.esc(fromPlace)}</span>`);
    results.appendChild(f);
  }
  const aedExtra = { none: GS.t("aed_none", { m: aed.far ? AED_FAR_MIN : AED_MAX_MIN }) };
  if (aed.beyond && aeds.length) aedExtra.beyond = GS.t("aed_beyond", { m: AED_MAX_MIN, t: minText(aeds[0].time_s) });
  if (aeds.length) {
    const rt = 2 * aeds[0].time_s / 60;
    aedExtra.warn = aeds[0].time_s < HERE_S ? GS.t("aed_here") : GS.t(rt > 4 ? "aed_roundtrip" : "aed_ok", { rt: rt.toFixed(1) });
  }
  results.appendChild(card("aed", GS.t("aed"), aed, aedExtra));
  results.appendChild(card("cp", GS.t("cp"), cp));
  results.appendChild(card("st", GS.t("st"), st));
  map.invalidateSize();
  if (fit && bounds.isValid()) map.fitBounds(bounds.pad(0.1), GS.app.fitOptions());
  GS.app.declutter();
}

/* Search from a point. A point no search can start from (the sea, outside every region) leaves the
   page as it was, map view included, and says why in plain words. */
async function search(lon, lat, opts) {
  const seq = ++searchSeq;   // a newer tap wins over an older answer still in flight
  setMsg(GS.t("searching"), "busy");
  let [aed, cp, st] = await Promise.all(["aed", "chest_pain_center", "stroke_center"].map((t) => query(t, lon, lat)));
  if (!aed.error && !(aed.results || []).length) {
    // none open within the limit: the nearest beyond it is named and drawn (the map shows it anyway)
    const far = await query("aed", lon, lat, true);
    aed = far.error ? aed : Object.assign(far, { beyond: (far.results || []).length > 0, far: true });
  }
  if (seq !== searchSeq) return;
  if (aed.error && cp.error && st.error) {
    setMsg(failText(cp, false) + (answers ? "\n" + GS.t("kept_prev") : ""), "warn");
    return;
  }
  setMsg("");
  here = [lon, lat];
  GS.app.setPatient(lon, lat);
  fromPlace = (opts && opts.place) || null;
  answers = { aed, cp, st };
  draw(!(opts && opts.keepView));
}

/* ------------------------------------------------------------------ offline place search */
let placeSeq = 0, placeTimer = null, placeAnswer = null;

/* What a landmark is, in the page's language (the API's `category`). */
const LANDMARK_KIND = {
  zh: { square: "广场", station: "车站", bus_stop: "公交站", mall: "商场", school: "学校", university: "大学",
    park: "公园", hospital: "医院", attraction: "景点", building: "建筑" },
  en: { square: "square", station: "station", bus_stop: "bus stop", mall: "mall", school: "school",
    university: "university", park: "park", hospital: "hospital", attraction: "attraction", building: "building" },
};
/* A place as the page shows it: its English name on English pages when OSM has one. */
const placeName = (p) => (GS.lang === "en" && p.name_en) || p.name;

function showPlaces() {
  const list = $("place-list");
  if (!placeAnswer) { list.hidden = true; return; }
  const { q, places } = placeAnswer;
  const many = GS.config.regions.length > 1;
  list.innerHTML = places.length ? places.map((p, i) => {
    const what = p.kind === "facility" && p.roles.length
      ? p.roles.map((r) => GS.tOr("type", r.type) + (r.demo ? " " + GS.t("demo_label") : "")).join(" · ")
      : p.kind === "landmark" ? ((LANDMARK_KIND[GS.lang] || LANDMARK_KIND.en)[p.category] || p.category) : GS.t(`kind_${p.kind}`);
    const [lp, rp] = GS.lang === "zh" ? ["（", "）"] : [" (", ")"];
    const where = (p.district ? ` · <span class="data">${GS.esc(p.district)}</span>` : "") +
      (placeAnswer.fromHere && p.distance_m != null ? ` · ${GS.esc(GS.fmtDist(p.distance_m))}` : "") +
      (many ? `${lp}<span class="data">${GS.esc(GS.regionName(p.region))}</span>${rp}` : "");
    return `<button type="button" class="place" role="option" data-i="${i}"><b class="data">${GS.esc(placeName(p))}</b><small>${GS.esc(what)}${where}</small></button>`;
  }).join("") : `<div class="place-none">${GS.esc(GS.t("search_none", { q }))}</div>`;
  list.hidden = false;
}

/* Names, English names and pinyin ("rmgc"); places of one match nearest first: to the patient's last
   point when there is one (its distance shown), else to the map's centre. */
async function findPlaces(q) {
  const seq = ++placeSeq;
  if (!q.trim()) { placeAnswer = null; showPlaces(); return; }
  const c = map.getCenter(), [lon, lat] = here || [c.lng, c.lat];
  let ans;
  try { ans = await GS.json(GS.url("/places", { q, limit: 8, near: `${lon.toFixed(6)},${lat.toFixed(6)}` })); } catch (e) { ans = { q, places: [] }; }
  if (seq !== placeSeq) return;
  placeAnswer = { q, places: ans.places || [], fromHere: Boolean(here) };
  showPlaces();
}

function pickPlace(p) {
  $("place-list").hidden = true;
  $("place-q").value = placeName(p);
  map.setView([p.lat, p.lon], 16, { animate: false });
  search(p.lon, p.lat, { place: placeName(p) });
}

function setupPlaceSearch() {
  const input = $("place-q"), list = $("place-list");
  input.addEventListener("input", () => { clearTimeout(placeTimer); placeTimer = setTimeout(() => findPlaces(input.value), 200); });
  $("place-form").addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(placeTimer); findPlaces(input.value); });
  input.addEventListener("keydown", (e) => { if (e.key === "Escape") list.hidden = true; });
  list.addEventListener("click", (e) => {
    const b = e.target.closest("button.place");
    if (b && placeAnswer) pickPlace(placeAnswer.places[+b.dataset.i]);
  });
}

/* The public AEDs around what the map shows (aed_view.js: the padded view, capped), with whether each
   is open now: closed ones greyed so nobody runs to them. A tap on one opens its details and searches
   from there (the patient may well be beside it). The cap only thins the map: the nearest AED and the
   alternatives of a search come from /nearest and are drawn whatever the view holds. */
function aedMarker(f) {
  const p = f.properties;
  const icon = GS.facilityIcon(p, p.open_at === false ? "gs-closed" : "");
  return L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon, title: GS.baseName(p), zIndexOffset: p.open_at === false ? -100 : 0 })
    .bindPopup(() => facilityPopup(p, p.open_at), { autoPan: false })
    .on("click", (e) => search(e.latlng.lng, e.latlng.lat));
}

/* The "zoom in" note over the map, in the page's language; taps go through it to the map. */
function showAedNote() {
  aedNoteEl.hidden = !aedNote;
  aedNoteEl.textContent = aedNote ? GS.t(`aed_${aedNote.kind}`, { n: aedNote.n.toLocaleString(GS.lang === "zh" ? "zh-CN" : "en-US") }) : "";
}

function loadAeds() {
  aedLayer = L.layerGroup().addTo(map);
  const ctl = L.control({ position: "topright" });
  ctl.onAdd = () => {
    const el = L.DomUtil.create("div", "leaflet-bar gs-aed-note");
    Object.assign(el.style, { background: "#fff", padding: "5px 9px", fontSize: "14px", fontWeight: "600", color: "#1b5e20", pointerEvents: "none", maxWidth: "62vw" });
    el.setAttribute("role", "status");
    el.hidden = true;
    return el;
  };
  ctl.addTo(map);
  aedNoteEl = ctl.getContainer();
  const view = GS.aedView(map, {
    view: AED_VIEW,
    layer: () => aedLayer,
    regions: () => GS.config.regions.map((r) => ({ bbox: r.bbox, n: r.facility_counts.aed || 0 })),
    params: () => ({ at: localNow() }),
    marker: aedMarker,
    onNote: (note) => { aedNote = note; showAedNote(); },
  });
  map.on("moveend", view.refresh);
  view.refresh();
}

(async function main() {
  const setLangLabel = () => { $("lang").textContent = GS.lang === "zh" ? "EN" : "中文"; document.title = GS.t("doc_title"); };
  GS.applyLang();
  setLangLabel();
  $("lang").addEventListener("click", () => {
    GS.toggleLang(); setLangLabel();
    if (answers) draw(false);
    if (placeAnswer && !$("place-list").hidden) showPlaces();
    if (!$("msg").hidden) setMsg("");
    showAedNote();
  });
  map = await GS.makeMap("map");
  map.createPane("gsDrive").style.zIndex = 410;
  map.createPane("gsWalk").style.zIndex = 420;
  const sel = $("region");
  driveSvg = L.svg({ pane: "gsDrive", padding: 0.5 });
  walkSvg = L.svg({ pane: "gsWalk", padding: 0.5 });
  // start on the region with the most AEDs (that is what the page is mostly for)
  const regs = GS.config.regions;
  let start = 0;
  regs.forEach((r, i) => { if ((r.facility_counts.aed || 0) > (regs[start].facility_counts.aed || 0)) start = i; });
  start = GS.app.startIndex(start);   // the last region viewed (kept offline), else the one with most AEDs
  map.fitBounds(map.gsBounds[start], GS.app.fitOptions());
  GS.app.start(map, sel, start);
  drawn = L.layerGroup().addTo(map);
  loadAeds();
  map.on("click", (e) => { $("place-list").hidden = true; search(e.latlng.lng, e.latlng.lat); });
  $("locate").addEventListener("click", () => GS.app.locate(setMsg, (lon, lat) => search(lon, lat)));
  setupPlaceSearch();
  document.body.dataset.ready = "1";
})();
