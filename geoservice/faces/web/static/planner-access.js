/* Planner page, capacity-aware access (E2SFCA): an overlay of the layer control, off until switched
   on. Then GET /access with the plan's type, minutes and traffic (layer=true: the admin units as
   GeoJSON), the units shaded by access per 100,000 people (light = low, dark = high, red = no facility
   within reach), each unit's figures in its tooltip, and a line under the coverage table with the
   overall access, the Gini index across units and the capacity note. Reloaded when the plan or the
   region changes while it is shown. Strings are in planner-text.js. */
"use strict";
const ACCESS_COLORS = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"];
const ACCESS_NONE = "#d7301f";

/* The overlay; `params()` gives the question (type, minutes, traffic, region), `onSummary(state)`
   shows {working}, {error} or {ans} (null: switched off). */
GS.accessLayer = function (map, { params, onSummary }) {
  const group = L.layerGroup();
  const renderer = L.svg({ padding: 0.5 });   // the page's maps draw on a canvas by default: units as SVG paths
  let seq = 0, key = null;
  const color = (v, lo, hi) => {
    if (!(v > 0)) return ACCESS_NONE;
    if (!(hi > lo)) return ACCESS_COLORS[ACCESS_COLORS.length - 1];
    const k = Math.floor(((v - lo) / (hi - lo)) * ACCESS_COLORS.length);
    return ACCESS_COLORS[Math.max(0, Math.min(ACCESS_COLORS.length - 1, k))];
  };
  const tip = (u) => `<b class="data">${GS.esc(u.name)}</b><br>` + GS.esc(u.score_per_100k == null ? GS.t("no_pop")
    : GS.t("acc_unit", { a: u.score_per_100k.toPrecision(3), t: u.mean_nearest_min == null ? "–" : u.mean_nearest_min.toFixed(1) }));
  async function load() {
    if (!map.hasLayer(group)) return;
    const q = params();
    if (!q) return;
    const k = JSON.stringify(q);
    if (k === key) return;
    key = k;
    const s = ++seq;
    onSummary({ working: true });
    let ans;
    try { ans = await GS.json(GS.url("/access", { ...q, layer: true })); }
    catch (e) { if (s === seq) { key = null; group.clearLayers(); onSummary({ error: e }); } return; }
    if (s !== seq) return;
    group.clearLayers();
    const vals = ans.units.map((u) => u.score_per_100k).filter((v) => v > 0);
    const lo = Math.min(...vals), hi = Math.max(...vals);
    L.geoJSON(ans.layer, {
      renderer,
      style: (f) => ({ color: "#333", weight: 1, fillOpacity: 0.55, fillColor: color(f.properties.score_per_100k, lo, hi), className: "gs-access-unit" }),
      onEachFeature: (f, l) => l.bindTooltip(() => tip(f.properties), { sticky: true }),   // in the language of the moment
    }).addTo(group);
    onSummary({ ans, lo, hi });
  }
  map.on("overlayadd", (e) => { if (e.layer === group) load(); });
  map.on("overlayremove", (e) => { if (e.layer === group) { seq++; key = null; onSummary(null); } });
  return { group, refresh: load, reset: () => { seq++; key = null; group.clearLayers(); } };
};

/* The line under the coverage table (and the legend of the shades), in the page's language. */
GS.accessSummary = function (el, state) {
  el.dataset.state = state ? (state.ans ? "ready" : state.error ? "error" : "working") : "off";
  if (!state) { el.innerHTML = ""; return; }
  if (state.working) { el.textContent = GS.t("working"); return; }
  if (state.error) { el.textContent = GS.t("acc_err", { e: state.error.message }); return; }
  const a = state.ans, eq = a.equity && a.equity.access;
  el.dataset.score = a.score_per_100k == null ? "" : String(a.score_per_100k);
  el.dataset.gini = eq && eq.gini != null ? String(eq.gini) : "";
  const cap = a.capacity_used ? GS.t("acc_cap", { n: a.facilities.filter((f) => f.capacity_given).length, m: a.facilities.length }) : GS.t("acc_nocap");
  const sw = (c) => `<span class="swatch" style="background:${c};border-color:#333"></span>`;
  el.innerHTML = `<div class="sum-head">${GS.esc(GS.t("acc_head", { m: a.minutes }))}</div>` +
    `<div>${GS.esc(a.score_per_100k == null ? GS.t("no_pop") : GS.t("acc_overall", { a: a.score_per_100k.toPrecision(3) }))}` +
    (eq && eq.gini != null ? ` · ${GS.esc(GS.t("acc_gini", { g: eq.gini.toFixed(3) }))}` : "") + "</div>" +
    `<div class="muted">${GS.esc(cap)}</div>` +
    `<div class="legend-row">${sw(ACCESS_COLORS[0])}<span>${GS.esc(GS.t("acc_low", { a: (state.lo || 0).toPrecision(3) }))}</span></div>` +
    `<div class="legend-row">${sw(ACCESS_COLORS[ACCESS_COLORS.length - 1])}<span>${GS.esc(GS.t("acc_high", { a: (state.hi || 0).toPrecision(3) }))}</span></div>` +
    `<div class="legend-row">${sw(ACCESS_NONE)}<span>${GS.esc(GS.t("acc_none"))}</span></div>`;
};
