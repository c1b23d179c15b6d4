/* The citizen page as a phone app (loaded before citizen.js, which calls GS.app):
   - installable and offline: registers /sw.js, tells it the region viewed (the one kept offline),
     and says "may be out of date (offline since HH:MM)" when it answers from its cache;
   - the emergency number of the region (/config regions[].emergency: 120 in China, 112 in Monaco)
     in every text ({n}) and in the call button's tel: link;
   - location asked as a national map app does: explained first, and on denial how to go on
     (search a place or tap the map);
   - on a phone the map fills the screen and the answers sit in a bottom sheet (tap or drag its
     handle); on a desktop they stay beside the map;
   - labels that would collide are hidden (the nearest AED's first, then chest pain, then stroke).
   Needs common.js (GS) and Leaflet. */
"use strict";
GS.addT({
  en: {
    call: "Call {n} first",
    foot: "Travel times are estimates from OpenStreetMap roads; they do not replace the {n} dispatcher.",
    query_failed: "Could not get an answer just now. Call {n}.",
    preparing: "Preparing the map data ({what}). This page continues by itself in a moment. In an emergency call {n} now.",
    n_unknown: "the emergency number",
    stale: "May be out of date (offline since {t}).", stale_nt: "May be out of date (offline).",
    geo_why_h: "Use your location?",
    geo_why: "To find the nearest AED and hospitals, this page needs where the patient is. Your position is used only for this search, on this site, and is not stored.",
    geo_allow: "Allow", geo_later: "Not now",
    geo_later_msg: "Type a road, landmark or hospital in the search box above, or tap the map where the patient is.",
    geo_denied: "Location is off for this page. Type a road, landmark or hospital in the search box above, or tap the map where the patient is. (To turn it on: the browser's site settings → Location.)",
    geo_fail: "Could not get your position ({e}). Search a place above or tap the map instead.",
    sheet_open: "Show the answers", sheet_close: "Show the map",
  },
  zh: {
    call: "先拨打 {n}",
    foot: "时间为根据 OpenStreetMap 道路估算，不能代替 {n} 调度员的指导。",
    query_failed: "暂时无法查询。请拨打 {n}。",
    preparing: "正在准备地图数据（首次运行约需一分钟）。页面稍后自动继续。如遇紧急情况，请立即拨打 {n}。",
    n_unknown: "急救电话",
    stale: "内容可能已过时（自 {t} 起离线）。", stale_nt: "内容可能已过时（离线）。",
    geo_why_h: "使用您的位置？",
    geo_why: "为查找离患者最近的 AED 和医院，本页面需要获取患者所在位置。位置仅用于本次查询，只发送到本网站，不会保存。",
    geo_allow: "允许", geo_later: "暂不",
    geo_later_msg: "请在上方搜索框输入道路、地标或医院名称，或直接点击地图上患者所在位置。",
    geo_denied: "本页面的定位权限已关闭。请在上方搜索框输入道路、地标或医院名称，或点击地图上患者所在位置。（如需开启：浏览器的网站设置 → 位置信息。）",
    geo_fail: "无法获取您的位置（{e}）。请搜索地点或直接点击地图。",
    sheet_open: "查看结果", sheet_close: "查看地图",
  },
});

GS.app = (function () {
  const app = {};
  const $ = (id) => document.getElementById(id);
  let map = null, sel = null, region = null, patient = null;

  /* ------------------------------------------------------------------ the emergency number */
  app.number = function () {
    const n = region && region.emergency && region.emergency.number;
    return n || localStorage.getItem("gs-emergency") || "";
  };
  const baseT = GS.t;   // every text may say {n}: the number of the region viewed
  GS.t = (key, vars) => baseT(key, Object.assign({ n: app.number() || baseT("n_unknown") }, vars));

  function showNumber() {
    const n = app.number(), call = $("call");
    if (n) call.href = `tel:${n}`;
    call.dataset.number = n;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = GS.t(el.dataset.i18n); });
  }

  /* ------------------------------------------------------------------ the region viewed */
  const inBox = (r, lon, lat) => lon >= r.bbox[0] && lon <= r.bbox[2] && lat >= r.bbox[1] && lat <= r.bbox[3];
  app.regionAt = (lon, lat) => (GS.config.regions.find((r) => inBox(r, lon, lat)) || null);
  /* Where the page starts: the last region viewed, else `fallback` (an index). */
  app.startIndex = function (fallback) {
    const i = GS.config.regions.findIndex((r) => r.name === localStorage.getItem("gs-region"));
    return i >= 0 ? i : fallback;
  };
  app.region = () => region;
  function setRegion(r) {
    if (!r || r === region) return;
    region = r;
    localStorage.setItem("gs-region", r.name);
    if (app.number()) localStorage.setItem("gs-emergency", app.number());
    const i = GS.config.regions.indexOf(r);
    if (sel && i >= 0) sel.value = String(i);
    document.body.dataset.region = r.name;
    showNumber();
    keepOffline();
  }
  /* The patient's region when there is one, else the one in the middle of the map's part in view
     (above the sheet), else the one picked. */
  function follow() {
    const size = map.getSize(), mid = map.containerPointToLatLng([size.x / 2, (size.y - app.sheetCover()) / 2]);
    const p = patient || [mid.lng, mid.lat];
    setRegion(app.regionAt(p[0], p[1]) || GS.config.regions[+sel.value]);
  }
  app.setPatient = function (lon, lat) { patient = [lon, lat]; follow(); };

  /* ------------------------------------------------------------------ service worker */
  let keepTimer = null;
  const sent = new Set();
  const ours = (u) => u.startsWith(location.origin + "/") && !u.includes("/static/");
  /* Tell the worker the region viewed, with what the page has loaded (on a first visit it was not
     yet in control: it fetches and keeps those). */
  function keepOffline() {
    if (!region || !("serviceWorker" in navigator)) return;
    clearTimeout(keepTimer);
    keepTimer = setTimeout(async () => {
      const reg = await navigator.serviceWorker.ready;
      // each URL once per region (the worker keeps only the region's own)
      const urls = performance.getEntriesByType("resource").map((e) => e.name).filter((u) => ours(u) && !sent.has(`${region.name} ${u}`));
      urls.forEach((u) => sent.add(`${region.name} ${u}`));
      if (reg.active) reg.active.postMessage({ type: "keep", region: region.name, bbox: region.bbox, urls });
    }, 600);
  }
  app.keepOffline = keepOffline;

  const hhmm = (ms) => { const d = new Date(ms); return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; };
  let staleSince;
  function showStale() {
    const el = $("stale");
    el.hidden = staleSince === undefined;
    el.textContent = el.hidden ? "" : staleSince ? GS.t("stale", { t: hhmm(staleSince) }) : GS.t("stale_nt");
  }
  function onWorker(e) {
    const m = e.data || {};
    if (m.type === "stale") { staleSince = m.since || staleSince || null; showStale(); }
    if (m.type === "kept") document.body.dataset.offline = m.region;
  }
  app.registerWorker = async function () {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.addEventListener("message", onWorker);
    navigator.serviceWorker.startMessages();
    window.addEventListener("online", () => { staleSince = undefined; showStale(); });
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      document.body.dataset.sw = "1";
    } catch (e) { /* a browser without it: the page works online */ }
  };
  performance.setResourceTimingBufferSize(3000);   // the tiles seen, for the worker to keep

  /* ------------------------------------------------------------------ location, as a map app asks */
  function explain() {
    return new Promise((done) => {
      const d = document.createElement("dialog");
      d.className = "geo-why";
      d.setAttribute("aria-labelledby", "geo-why-h");
      d.innerHTML = `<h2 id="geo-why-h">${GS.esc(GS.t("geo_why_h"))}</h2><p>${GS.esc(GS.t("geo_why"))}</p>` +
        `<div class="geo-buttons"><button type="button" value="no">${GS.esc(GS.t("geo_later"))}</button>` +
        `<button type="button" value="yes" class="primary">${GS.esc(GS.t("geo_allow"))}</button></div>`;
      d.addEventListener("click", (e) => { const b = e.target.closest("button"); if (b) d.close(b.value); });
      d.addEventListener("close", () => { d.remove(); done(d.returnValue === "yes"); });
      document.body.appendChild(d);
      d.showModal();
      d.querySelector("button.primary").focus();
    });
  }
  /* "Locate me": say(text, kind) shows a message, found(lon, lat) searches from the position. */
  app.locate = async function (say, found) {
    const instead = (key, e) => { say(GS.t(key, { e }), "warn"); $("place-q").focus(); };
    if (!navigator.geolocation) return instead("geo_fail", "–");
    let state = "prompt";
    try { state = (await navigator.permissions.query({ name: "geolocation" })).state; } catch (e) { /* ask */ }
    if (state === "denied") return instead("geo_denied");
    if (state === "prompt" && !(await explain())) return instead("geo_later_msg");
    say(GS.t("locating"), "busy");
    navigator.geolocation.getCurrentPosition((pos) => {
      let p = [pos.coords.longitude, pos.coords.latitude];
      if (GS.crs() === "gcj02") p = GS.wgs2gcj(p[0], p[1]);   // GPS is WGS-84; the map is GCJ-02
      found(p[0], p[1]);
    }, (err) => (err.code === 1 ? instead("geo_denied") : instead("geo_fail", err.code)),
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
  };

  /* ------------------------------------------------------------------ bottom sheet (phones) */
  const phone = () => window.matchMedia("(max-width: 999px)").matches;
  function setSheet(open) {
    const s = $("sheet"), h = $("sheet-handle");
    s.classList.toggle("open", open);
    h.setAttribute("aria-expanded", String(open));
    h.setAttribute("aria-label", GS.t(open ? "sheet_close" : "sheet_open"));
  }
  app.setSheet = setSheet;
  function setupSheet() {
    const s = $("sheet"), h = $("sheet-handle");
    let y0 = null, h0 = 0, moved = false;
    h.addEventListener("pointerdown", (e) => { y0 = e.clientY; h0 = s.getBoundingClientRect().height; moved = false; h.setPointerCapture(e.pointerId); s.classList.add("dragging"); });
    h.addEventListener("pointermove", (e) => {
      if (y0 === null) return;
      const dy = e.clientY - y0;
      if (Math.abs(dy) > 6) moved = true;
      if (moved) s.style.height = `${Math.max(80, Math.min(window.innerHeight * 0.9, h0 - dy))}px`;
    });
    const end = (e) => {
      if (y0 === null) return;
      const dy = e.clientY - y0;
      y0 = null;
      s.classList.remove("dragging");
      s.style.height = "";
      setSheet(moved ? dy < 0 : !s.classList.contains("open"));
    };
    h.addEventListener("pointerup", end);
    h.addEventListener("pointercancel", end);
    setSheet(false);
    // the map's scale, attribution and messages stay above the closed sheet, however tall it is
    new ResizeObserver(() => {
      if (!s.classList.contains("open") && !s.classList.contains("dragging")) document.documentElement.style.setProperty("--sheet-h", `${Math.round(s.getBoundingClientRect().height)}px`);
    }).observe(s);
  }
  /* How much of the map the sheet covers (px): what a fit leaves free at the bottom. */
  app.sheetCover = function () {
    if (!phone() || !GS.maps.length) return 0;
    const m = (map || GS.maps[0]).getContainer().getBoundingClientRect(), s = $("sheet").getBoundingClientRect();
    return Math.max(0, m.bottom - s.top);
  };
  app.fitOptions = () => ({ maxZoom: 17, paddingTopLeft: [24, 44], paddingBottomRight: [24, 24 + app.sheetCover()] });

  /* ------------------------------------------------------------------ labels that collide */
  const RANK = ["gs-label-aed", "gs-label-chest_pain_center", "gs-label-stroke_center"];
  const rank = (t) => { const i = RANK.findIndex((c) => t.getElement().classList.contains(c)); return i < 0 ? RANK.length : i; };
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  // where a label may go around its marker when its own place is taken: [direction, offset]
  const AROUND = [["top", [0, -20]], ["bottom", [0, 20]], ["right", [22, 0]], ["left", [-22, 0]]];
  /* Each label of the drawn answers (the nearest AED's first, then chest pain, then stroke) goes
     where it covers no marker and no label placed before it: its own place, else above, below,
     right or left of its marker; where every place covers one of the public AEDs around, the first
     place clear of the answers' own markers; with no such place it is hidden.
     body[data-labels-hidden] says how many are. Run after every draw and zoom. */
  app.declutter = function () {
    if (!map) return;
    const tips = [];
    map.eachLayer((l) => { const t = l.getTooltip && l.getTooltip(); if (t && t.options.permanent && t.getElement() && t.getElement().classList.contains("gs-label")) tips.push(t); });
    tips.sort((a, b) => rank(a) - rank(b));
    // the labels of the answer before, still fading out (Leaflet removes them 200 ms later): gone now
    const live = new Set(tips.map((t) => t.getElement()));
    map.getPane("tooltipPane").querySelectorAll(".gs-label").forEach((el) => { if (!live.has(el)) el.remove(); });
    const view = map.getContainer().getBoundingClientRect();
    const boxes = (sel) => [...map.getContainer().querySelectorAll(sel)].map((el) => el.getBoundingClientRect()).filter((r) => meets(r, view));
    const taken = boxes(".gs-here, .leaflet-marker-pane .gs-ico:not(.gs-aed), .gs-aed-alt, .gs-aed-nearest");   // the answers' own
    const around = boxes(".leaflet-marker-pane .gs-aed:not(.gs-aed-alt):not(.gs-aed-nearest)");   // the public AEDs in view
    let hidden = 0;
    for (const t of tips) {
      const el = t.getElement();
      if (!t.gsHome) t.gsHome = [t.options.direction, t.options.offset];
      el.classList.remove("gs-label-hidden");
      let placed = null;
      const places = [t.gsHome, ...AROUND.filter(([d]) => d !== t.gsHome[0])];
      for (const avoid of [taken.concat(around), taken]) {
        for (const [dir, off] of places) {
          t.options.direction = dir; t.options.offset = L.point(off);
          t.update();
          const r = el.getBoundingClientRect();
          if (!avoid.some((o) => meets(o, r))) { placed = r; break; }
        }
        if (placed) break;
      }
      if (placed) { taken.push(placed); continue; }
      [t.options.direction, t.options.offset] = t.gsHome;
      t.update();
      el.classList.add("gs-label-hidden");
      hidden++;
    }
    document.body.dataset.labelsHidden = String(hidden);
  };

  /* ------------------------------------------------------------------ start */
  /* The page's map and region picker, starting on region number `first`. */
  app.start = function (theMap, theSel, first) {
    map = theMap; sel = theSel;
    map.createPane("gsPatient").style.zIndex = 690;   // over markers (600) and labels (650), under popups (700)
    setupSheet();
    GS.regionSelect(sel, map, (r) => { patient = null; setRegion(r); }, app.fitOptions);   // the region clear of the sheet
    sel.value = String(first);
    map.on("moveend", () => { follow(); keepOffline(); });
    map.on("zoomend moveend", app.declutter);
    // a label measured before its font was loaded grows when it is: place the labels again
    if (document.fonts) document.fonts.addEventListener("loadingdone", () => app.declutter());
    map.on("click", () => { if (phone()) setSheet(false); });
    follow();
    showNumber();
    showStale();
    app.registerWorker();
  };
  if (app.number()) $("call").href = `tel:${app.number()}`;   // the last region's, until /config answers
  return app;
})();
