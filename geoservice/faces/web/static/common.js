/* Shared by the citizen and planner pages: config, offline basemap (with its labels), coordinates, i18n. */
"use strict";
const GS = {};
GS.config = null;
GS.maps = [];

/* A JSON request. A busy server (503 or 429 with Retry-After, e.g. while a page asks several
   things at once) is asked again after the time it names, at most 3 times within ~10 s: the
   server sheds load early, the page waits its turn instead of showing an error. */
GS.json = async function (url, opts) {
  let r = await fetch(url, opts);
  for (let tries = 0; (r.status === 503 || r.status === 429) && tries < 3; tries++) {
    const wait = Math.min(5, Math.max(0.5, parseFloat(r.headers.get("Retry-After")) || 1));
    await new Promise((ok) => setTimeout(ok, wait * 1000));
    r = await fetch(url, opts);
  }
  let body = null;
  try { body = await r.json(); } catch (e) { body = { detail: r.statusText }; }
  if (!r.ok) { const err = new Error(body.detail || r.statusText); err.status = r.status; err.body = body; throw err; }
  return body;
};

/* WGS-84 -> GCJ-02 (for GPS positions when the basemap is AMap); identity outside China. */
GS.wgs2gcj = function (lon, lat) {
  if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
  const a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
  const x = lon - 105.0, y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  const rad = lat / 180.0 * PI;
  let magic = Math.sin(rad); magic = 1 - ee * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sq) * PI);
  dLon = (dLon * 180.0) / (a / sq * Math.cos(rad) * PI);
  return [lon + dLon, lat + dLat];
};

GS.crs = function () { return (GS.config && GS.config.crs_name) || "wgs84"; };

GS.url = function (path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  if (GS.crs() !== "wgs84") q.set("crs", GS.crs());
  const s = q.toString();
  return s ? `${path}?${s}` : path;
};

/* ------------------------------------------------------------------ i18n
   Elements with data-i18n="key" get their text from GS.T[lang][key] (data-i18n-ph: placeholder,
   data-i18n-title: title). GS.T holds the keys both pages use; each page adds its own with GS.addT. */
GS.lang = localStorage.getItem("gs-lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");
GS.T = {
  en: {
    osm_attr: "© OpenStreetMap contributors, ODbL 1.0",
    min: "min", walk: "walk", drive: "drive",
    demo_label: "[DEMO designation]",
    type_aed: "AED", type_chest_pain_center: "chest pain center", type_stroke_center: "stroke center",
    type_grassroots_unit: "grassroots chest pain unit", type_ems_station: "EMS station", type_hospital: "hospital",
    lvl_standard: "standard", lvl_basic: "basic", lvl_advanced: "advanced stroke center", lvl_center: "stroke center",
    lvl_station: "stroke prevention station", lvl_hospital: "hospital", lvl_clinic: "clinic",
    evt: "thrombectomy (EVT)", ivt: "thrombolysis (IVT)",
    aed_open: "Open now", aed_closed: "Closed now: do not go there", aed_unknown: "Opening hours unknown",
    hours: "Hours", where: "Where", floor: "Floor", access: "Access",
    access_yes: "public", access_public: "public", access_permissive: "public", access_customers: "customers only",
    access_private: "not public", access_no: "not public", access_permit: "with permission",
    access_delivery: "staff only", access_unknown: "unknown",
    kind_road: "road", kind_district: "district", kind_facility: "facility",
    off_region: "No emergency data here: this spot is outside the areas we cover. Tap inside the map area or search a place.",
    off_road: "No road near this spot (nearest road {d} m away). Tap on a street, or search a place.",
    off_road_walk: "No footpath near this spot (nearest {d} m away).",
    legs: "Includes {t} min on foot off the road: {a} m from this spot to the road, {b} m from the road to the door.",
    preparing: "Preparing the map data ({what}). This page continues by itself in a moment. In an emergency call 120 now.",
    query_failed: "Could not get an answer just now. Call 120.",
  },
  zh: {
    osm_attr: "© OpenStreetMap 贡献者，ODbL 1.0",
    min: "分钟", walk: "步行", drive: "驾车",
    demo_label: "[演示指定]",
    type_aed: "AED", type_chest_pain_center: "胸痛中心", type_stroke_center: "卒中中心",
    type_grassroots_unit: "基层胸痛救治单元", type_ems_station: "急救站", type_hospital: "医院",
    lvl_standard: "标准版", lvl_basic: "基层版", lvl_advanced: "高级卒中中心", lvl_center: "卒中防治中心",
    lvl_station: "基层卒中防治站", lvl_hospital: "医院", lvl_clinic: "诊所",
    evt: "取栓（EVT）", ivt: "溶栓（IVT）",
    aed_open: "现在开放", aed_closed: "现在关闭：请勿前往", aed_unknown: "开放时间未知",
    hours: "开放时间", where: "位置", floor: "楼层", access: "使用",
    access_yes: "公众可用", access_public: "公众可用", access_permissive: "公众可用", access_customers: "仅限顾客",
    access_private: "不对外开放", access_no: "不对外开放", access_permit: "需许可",
    access_delivery: "仅限工作人员", access_unknown: "未知",
    kind_road: "道路", kind_district: "行政区", kind_facility: "机构",
    off_region: "此处不在服务范围内，没有急救数据。请点击地图服务区域内，或搜索地点。",
    off_road: "此处附近没有道路（最近道路 {d} 米）。请点击街道，或搜索地点。",
    off_road_walk: "此处附近没有步行道（最近 {d} 米）。",
    legs: "已含步行 {t} 分钟（不在道路上）：此处到道路 {a} 米，道路到门口 {b} 米。",
    preparing: "正在准备地图数据（首次运行约需一分钟）。页面稍后自动继续。如遇紧急情况，请立即拨打 120。",
    query_failed: "暂时无法查询。请拨打 120。",
  },
};
const SHARED_T = GS.T;   // still found if a page replaces GS.T instead of calling GS.addT
GS.addT = function (more) {
  for (const lang of Object.keys(more)) GS.T[lang] = Object.assign(GS.T[lang] || {}, more[lang]);
};
/* The text of a key in the page's language, else in English, else the key itself. */
GS.lookup = function (key) {
  const L = GS.lang, page = GS.T || {};
  return (page[L] && page[L][key]) || SHARED_T[L][key] || (page.en && page.en[key]) || SHARED_T.en[key];
};
GS.t = function (key, vars) {
  let s = GS.lookup(key) || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(v);
  return s;
};
/* A translated value when there is one ("type_aed", "access_yes"…), else the value itself (data). */
GS.tOr = function (prefix, value) {
  if (value == null || value === "") return "";
  return GS.lookup(`${prefix}_${String(value).toLowerCase()}`) || String(value);
};
GS.applyLang = function () {
  document.documentElement.lang = GS.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = GS.t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = GS.t(el.dataset.i18nPh); });
  document.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = GS.t(el.dataset.i18nTitle); });
  document.querySelectorAll("option[data-region]").forEach((el) => { el.textContent = GS.regionName(el.dataset.region); });
  if (window.BasemapTiles) for (const m of GS.maps) BasemapTiles.setLang(m, GS.lang);
  if (window.BasemapLabels) {
    for (const m of GS.maps) BasemapLabels.setLang(m, GS.lang);
    BasemapLabels.localizeControls(GS.lang, GS.maps);  // scale bar and zoom titles, both ways
  }
};
GS.toggleLang = function () { GS.lang = GS.lang === "zh" ? "en" : "zh"; localStorage.setItem("gs-lang", GS.lang); GS.applyLang(); };

/* A region by its display name in the page's language ({"zh", "en"} from /config), else its name. */
GS.regionName = function (regionOrName) {
  const r = typeof regionOrName === "string"
    ? ((GS.config && GS.config.regions.find((x) => x.name === regionOrName)) || { name: regionOrName })
    : regionOrName;
  const d = r.display_name;
  return (d && (d[GS.lang] || d.zh || d.en)) || r.name;
};

/* Facility names carry "[DEMO designation]" in the data; the pages show the name without it and the
   label in the page's language beside it. */
const DEMO_RE = /\s*\[DEMO designation\]/i;
GS.baseName = function (p) { return String((p && p.name) || "").replace(DEMO_RE, "").trim(); };
GS.isDemo = function (p) { return Boolean(p && (p.demo === true || p.demo === "true" || DEMO_RE.test(p.name || ""))); };
GS.nameHtml = function (p) {
  return `<span class="data">${GS.esc(GS.baseName(p))}</span>` + (GS.isDemo(p) ? ` <span class="demo">${GS.esc(GS.t("demo_label"))}</span>` : "");
};

/* OSM opening_hours for people: "Mo-Fr 08:00-18:00" → "周一-周五 08:00-18:00" in Chinese. */
const DAYS_ZH = { Mo: "周一", Tu: "周二", We: "周三", Th: "周四", Fr: "周五", Sa: "周六", Su: "周日", PH: "节假日" };
GS.hoursText = function (oh) {
  if (!oh) return "";
  if (GS.lang !== "zh") return oh === "24/7" ? "24/7 (always open)" : oh;
  if (oh.trim() === "24/7") return "全天 24 小时";
  return oh.replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b/g, (d) => DAYS_ZH[d]).replace(/\boff\b/g, "关闭").replace(/;\s*/g, "；");
};

/* ------------------------------------------------------------------ map */
const ROAD_STYLE = {
  motorway: [3.2, "#d98b5f"], trunk: [3, "#e0a070"], primary: [2.6, "#e8b87a"], secondary: [2, "#c9b99a"],
  tertiary: [1.5, "#bdb6a8"],
};

/* A Leaflet map with the region's vector tiles (basemap_tiles.js: water, green, buildings, roads,
   labels), else our own GeoJSON roads, water and outline (a region built without tiles), or raster
   tiles when configured; admin units and their name labels (offline) on top. The labels come from
   basemap_labels.js when the page loads it. */
GS.makeMap = async function (elId, opts) {
  GS.config = await GS.json("/config");
  // a first run: the server answers while it builds the demo regions; wait for the first one
  for (let note = null; !GS.config.regions.length && GS.config.preparing; ) {
    if (!note) {
      note = document.createElement("div");
      note.className = "gs-preparing";
      note.setAttribute("role", "status");
      note.style.cssText = "position:fixed;left:12px;right:12px;top:40%;z-index:5000;padding:16px;border-radius:12px;"
        + "background:#fff8e1;border:2px solid #f0b400;font-size:17px;font-weight:600;text-align:center;box-shadow:0 4px 16px rgba(0,0,0,.25)";
      document.body.appendChild(note);
    }
    note.textContent = GS.t("preparing", { what: GS.config.preparing });
    await new Promise((ok) => setTimeout(ok, 2000));
    GS.config = await GS.json("/config");
    if (GS.config.regions.length) note.remove();
  }
  const labels = window.BasemapLabels;
  if (labels) labels.localizeControls(GS.lang);
  const map = L.map(elId, Object.assign({ zoomControl: true, preferCanvas: true, attributionControl: true }, opts || {}));
  GS.maps.push(map);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(`<span data-i18n="osm_attr">${GS.esc(GS.t("osm_attr"))}</span>`);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  if (GS.config.basemap_tiles) {
    L.tileLayer(GS.config.basemap_tiles, { maxZoom: 19 }).addTo(map);
  }
  const base = L.layerGroup().addTo(map);
  const bounds = [];
  // vector tiles (basemap_tiles.js) unless raster tiles are configured; the whole-region GeoJSON
  // basemap only for a region built without tiles (its tiles.json answers 404)
  const tiles = !GS.config.basemap_tiles && window.BasemapTiles && window.protomapsL;
  for (const reg of GS.config.regions) {
    const [x0, y0, x1, y1] = reg.bbox;
    bounds.push([[y0, x0], [y1, x1]]);
    const geojson = () => GS.json(GS.url(`/regions/${encodeURIComponent(reg.name)}/basemap`)).then((fc) => {
      if (labels) labels.add(map, fc, { lang: GS.lang });   // takes the label points out of fc
      L.geoJSON(fc, {
        interactive: false,
        style: (f) => {
          const p = f.properties || {};
          if (p.kind === "outline") return { color: "#7a8aa0", weight: 1.5, dashArray: "6 4", fillColor: "#f4f1ea", fillOpacity: 0.55 };
          if (p.kind === "water") return { color: "#6fa8dc", weight: 1.2, fillColor: "#a9cbe8", fillOpacity: 0.8 };
          const [w, c] = ROAD_STYLE[(p.class || "").replace("_link", "")] || [1.2, "#b8b2a6"];
          return { color: c, weight: w, opacity: 0.95 };
        },
      }).addTo(base).bringToBack();
    }).catch(() => {});
    if (tiles) {
      GS.json(`/regions/${encodeURIComponent(reg.name)}/tiles.json`)
        .then((tj) => BasemapTiles.add(map, reg.name, tj, GS.lang))
        .catch(geojson);
    } else geojson();
    GS.json(GS.url(`/regions/${encodeURIComponent(reg.name)}/admin-units`)).then((fc) => {
      L.geoJSON(fc, { interactive: false, style: { color: "#8e6c8a", weight: 1.2, dashArray: "8 3 2 3", fill: false } }).addTo(base);
      if (labels) labels.addAreas(map, fc, { lang: GS.lang });
    }).catch(() => {});
  }
  map.gsBounds = bounds;
  return map;
};

/* Show bounds at once, without animation. Leaflet ignores a new view asked for while a zoom
   animation runs, and puts the animation's target back when it ends (a region picked during the
   zoom of the one before would stay on the one before): the fit waits for that end. */
GS.fitNow = function (map, bounds, opts) {
  const fit = () => map.fitBounds(bounds, Object.assign({}, opts, { animate: false }));
  if (map._animatingZoom) map.once("zoomend", fit); else fit();
};

/* The region picker: picking a region fits the map on it (fitOptions(): the fit's options, asked
   at each pick) and then calls onChange(region). */
GS.regionSelect = function (sel, map, onChange, fitOptions) {
  sel.innerHTML = "";
  GS.config.regions.forEach((r, i) => {
    const o = document.createElement("option");
    o.value = i; o.dataset.region = r.name; o.textContent = GS.regionName(r);
    sel.appendChild(o);
  });
  sel.addEventListener("change", () => {
    GS.fitNow(map, map.gsBounds[+sel.value], fitOptions ? fitOptions() : {});
    if (onChange) onChange(GS.config.regions[+sel.value]);
  });
};

GS.fmtMin = function (s) { return (s / 60).toFixed(s < 600 ? 1 : 0); };
GS.fmtDist = function (m) {
  const zh = GS.lang === "zh";
  return m < 1000 ? `${Math.round(m)} ${zh ? "米" : "m"}` : `${(m / 1000).toFixed(1)} ${zh ? "公里" : "km"}`;
};
GS.esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); };

/* Tier icons shared with the published maps (same classes in style.css). */
GS.facilityIcon = function (p, extraClass) {
  const caps = (p.capabilities || "").split(",");
  const star = p.type === "stroke_center" ? (caps.includes("evt") ? "★" : caps.includes("ivt") ? "☆" : "") : "";
  const cls = `gs-ico gs-${p.type}${p.level ? " gs-" + p.type + "-" + p.level : ""}${extraClass ? " " + extraClass : ""}`;
  const glyph = { chest_pain_center: "♥", stroke_center: "S", aed: "⚡", ems_station: "+", grassroots_unit: "•", hospital: "H" }[p.type] || "•";
  // chest pain and stroke roles often share one hospital: draw them side by side, not on top of each other
  const anchor = p.type === "chest_pain_center" ? [0, 20] : p.type === "stroke_center" ? [24, 4] : [12, 12];
  return L.divIcon({ className: "", html: `<span class="${cls}">${glyph}${star ? `<b class="gs-star">${star}</b>` : ""}</span>`, iconSize: [24, 24], iconAnchor: anchor });
};
