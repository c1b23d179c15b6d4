/* Shared by the citizen and planner pages: config, offline basemap, coordinates, i18n. */
"use strict";
const GS = {};
GS.config = null;

GS.json = async function (url, opts) {
  const r = await fetch(url, opts);
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

const ROAD_STYLE = {
  motorway: [3.2, "#d98b5f"], trunk: [3, "#e0a070"], primary: [2.6, "#e8b87a"], secondary: [2, "#c9b99a"],
  tertiary: [1.5, "#bdb6a8"],
};

/* A Leaflet map with our own roads and region outline (offline), or tiles when configured. */
GS.makeMap = async function (elId, opts) {
  GS.config = await GS.json("/config");
  const map = L.map(elId, Object.assign({ zoomControl: true, preferCanvas: true, attributionControl: true }, opts || {}));
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(GS.config.attribution);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  if (GS.config.basemap_tiles) {
    L.tileLayer(GS.config.basemap_tiles, { maxZoom: 19 }).addTo(map);
  }
  const base = L.layerGroup().addTo(map);
  const bounds = [];
  for (const reg of GS.config.regions) {
    const [x0, y0, x1, y1] = reg.bbox;
    bounds.push([[y0, x0], [y1, x1]]);
    GS.json(GS.url(`/regions/${encodeURIComponent(reg.name)}/basemap`)).then((fc) => {
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
    GS.json(GS.url(`/regions/${encodeURIComponent(reg.name)}/admin-units`)).then((fc) => {
      L.geoJSON(fc, { interactive: false, style: { color: "#8e6c8a", weight: 1.2, dashArray: "8 3 2 3", fill: false } }).addTo(base);
    }).catch(() => {});
  }
  map.gsBounds = bounds;
  return map;
};

GS.regionSelect = function (sel, map, onChange) {
  sel.innerHTML = "";
  GS.config.regions.forEach((r, i) => {
    const o = document.createElement("option"); o.value = i; o.textContent = r.name; sel.appendChild(o);
  });
  sel.addEventListener("change", () => { map.fitBounds(map.gsBounds[+sel.value]); if (onChange) onChange(GS.config.regions[+sel.value]); });
};

GS.fmtMin = function (s) { return (s / 60).toFixed(s < 600 ? 1 : 0); };
GS.fmtDist = function (m) { return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`; };
GS.esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); };

/* i18n: elements with data-i18n="key" get their text from GS.T[lang][key]. */
GS.lang = localStorage.getItem("gs-lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");
GS.t = function (key, vars) {
  let s = (GS.T[GS.lang] && GS.T[GS.lang][key]) || GS.T.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(v);
  return s;
};
GS.applyLang = function () {
  document.documentElement.lang = GS.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = GS.t(el.dataset.i18n); });
};
GS.toggleLang = function () { GS.lang = GS.lang === "zh" ? "en" : "zh"; localStorage.setItem("gs-lang", GS.lang); GS.applyLang(); };

/* Tier icons shared with the published maps (same classes in style.css). */
GS.facilityIcon = function (p) {
  const caps = (p.capabilities || "").split(",");
  const star = p.type === "stroke_center" ? (caps.includes("evt") ? "★" : caps.includes("ivt") ? "☆" : "") : "";
  const cls = `gs-ico gs-${p.type}${p.level ? " gs-" + p.type + "-" + p.level : ""}`;
  const glyph = { chest_pain_center: "♥", stroke_center: "S", aed: "⚡", ems_station: "+", grassroots_unit: "•", hospital: "H" }[p.type] || "•";
  // chest pain and stroke roles often share one hospital: draw them side by side, not on top of each other
  const anchor = p.type === "chest_pain_center" ? [0, 20] : p.type === "stroke_center" ? [24, 4] : [12, 12];
  return L.divIcon({ className: "", html: `<span class="${cls}">${glyph}${star ? `<b class="gs-star">${star}</b>` : ""}</span>`, iconSize: [24, 24], iconAnchor: anchor });
};
