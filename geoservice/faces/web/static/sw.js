/* The citizen page's service worker (served at /sw.js: its scope is the whole site).

   - The page and its static files (every /static/ file the page names, read from "/" itself at
     install) open from the cache at once and are refreshed behind the scenes.
   - Answers (/config, the region's AEDs and facility layers, its basemap or tiles.json and admin
     units, nearest searches) are asked of the network first; without an answer within NET_WAIT_MS, the copy kept
     is served and the page is told ({type: "stale", since}: when the network last answered), so it
     says "may be out of date (offline since HH:MM)".
   - Vector tiles (/regions/{name}/tiles/{z}/{x}/{y}.mvt) come from the cache when kept there.
   - Only the last region viewed is kept: the page says which ({type: "keep", region, bbox, urls}:
     what it loaded before this worker controlled it) and the other regions' answers and tiles go.
   - Each cache is bounded (LIMITS entries, the oldest dropped first).
   Nothing leaves the site: requests to other origins are not touched. */
"use strict";
const VERSION = "gs-citizen-1";
const SHELL = `${VERSION}-shell`, DATA = `${VERSION}-data`, TILES = `${VERSION}-tiles`;
const LIMITS = { [SHELL]: 80, [DATA]: 120, [TILES]: 1500 };
const NET_WAIT_MS = 5000;
const STORED = "x-gs-stored";        // when a kept answer came from the network (ms since 1970)
const META = "/__gs/meta";           // {region, bbox, online}: kept in DATA (a worker's globals do not last)
const EXTRA_SHELL = ["/", "/manifest.webmanifest", "/static/app-icon-192.png", "/static/app-icon-512.png", "/static/app-icon.svg"];

let meta = null;
async function getMeta() {
  if (meta) return meta;
  const r = await (await caches.open(DATA)).match(META);
  meta = r ? await r.json() : { region: null, bbox: null, online: null };
  return meta;
}
async function setMeta(changes) {
  meta = Object.assign(await getMeta(), changes);
  await (await caches.open(DATA)).put(META, new Response(JSON.stringify(meta), { headers: { "content-type": "application/json" } }));
}

/* ------------------------------------------------------------------ what a URL is */
const TILE_RE = /^\/regions\/([^/]+)\/tiles\/\d+\/\d+\/\d+\.(mvt|pbf)$/;
const REGION_RE = /^\/regions\/([^/]+)\/(basemap|admin-units|tiles\.json|tiles\/)/;
function kind(url) {
  if (url.origin !== self.location.origin) return null;
  const p = url.pathname;
  if (p === "/" || p === "/manifest.webmanifest" || p.startsWith("/static/")) return "shell";
  if (TILE_RE.test(p)) return "tile";
  if (p === "/config" || REGION_RE.test(p) || p.startsWith("/layers/") || p === "/nearest" || p === "/places") return "data";
  return null;
}
const regionOf = (url) => { const m = REGION_RE.exec(url.pathname); return m ? decodeURIComponent(m[1]) : null; };
/* The key an answer is kept under: the page asks with its local time (at=…), which changes every
   minute; the answer of a minute ago is the best there is offline. "/" is kept without its query. */
function keyOf(url) {
  const u = new URL(url.href);
  if (u.pathname === "/") return u.origin + "/";
  u.searchParams.delete("at");
  u.searchParams.sort();
  return u.href;
}
const bboxOf = (url) => { const b = (url.searchParams.get("bbox") || "").split(",").map(Number); return b.length === 4 && b.every(isFinite) ? b : null; };
const meets = (a, b) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

/* ------------------------------------------------------------------ bounded caches */
async function keep(cacheName, key, res) {
  if (!res || !res.ok || res.status !== 200 || res.type === "opaque") return;
  const cache = await caches.open(cacheName);
  const headers = new Headers(res.headers);
  headers.set(STORED, String(Date.now()));
  const copy = new Response(await res.blob(), { status: 200, statusText: res.statusText, headers });
  await cache.delete(key);   // put again: it becomes the newest
  await cache.put(key, copy);
  const keys = await cache.keys();
  const over = keys.length - LIMITS[cacheName];
  for (let i = 0; i < over; i++) if (!keys[i].url.endsWith(META)) await cache.delete(keys[i]);
}

/* Drop what belongs to another region than the one viewed (answers, basemap, tiles, AED boxes). */
async function keepOnly(region, bbox) {
  for (const name of [DATA, TILES]) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const url = new URL(req.url);
      const reg = regionOf(url), box = bboxOf(url);
      if ((reg && reg !== region) || (box && bbox && !meets(box, bbox))) await cache.delete(req);
    }
  }
}

/* ------------------------------------------------------------------ install: the page and its files */
self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    const page = await fetch("/", { cache: "no-cache" });
    const html = await page.clone().text();
    await cache.put("/", page);
    const named = [...html.matchAll(/(?:src|href)="(\/static\/[^"?#]+)"/g)].map((m) => m[1]);
    await Promise.all([...new Set([...EXTRA_SHELL.slice(1), ...named])].map(async (u) => {
      try { const r = await fetch(u, { cache: "no-cache" }); if (r.ok) await cache.put(u, r); } catch (e) { /* next visit */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (!name.startsWith(VERSION + "-")) await caches.delete(name);
    await self.clients.claim();
  })());
});

/* ------------------------------------------------------------------ answering */
async function tell(clientId, msg) {
  const client = clientId && await self.clients.get(clientId);
  if (client) client.postMessage(msg);
}

/* From the cache at once, refreshed from the network behind (the page and its files). */
async function shellFirst(event, url) {
  const key = keyOf(url);
  const cached = await caches.match(key, { cacheName: SHELL });
  const fresh = fetch(event.request).then(async (r) => { if (r.ok) await keep(SHELL, key, r.clone()); return r; });
  if (cached) { event.waitUntil(fresh.catch(() => null)); return cached; }
  return fresh;
}

/* The network first, within NET_WAIT_MS; else the kept answer, and the page is told it may be stale. */
async function networkFirst(event, url, cacheName) {
  const key = keyOf(url);
  const m0 = await getMeta(), box0 = bboxOf(url);
  const ours = !box0 || !m0.bbox || meets(box0, m0.bbox);   // a box of another region is not kept
  const net = fetch(event.request).then(async (r) => {
    if (r.ok) {
      if (ours) event.waitUntil(keep(cacheName, key, r.clone()));
      event.waitUntil(setMeta({ online: Date.now() }));
    }
    return r;
  });
  net.catch(() => null);   // offline: answered below, from the cache
  const timeout = new Promise((ok) => setTimeout(() => ok(null), NET_WAIT_MS));
  let res = null;
  try { res = await Promise.race([net, timeout]); } catch (e) { res = null; }
  if (res && res.status < 500) return res;
  const cache = await caches.open(cacheName);
  let cached = await cache.match(key);
  const box = bboxOf(url);
  if (!cached && box) {
    // another box of the same layer (the view moved a little): the newest kept that holds this
    // one's middle, else the newest that meets it
    const mid = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
    const same = (await cache.keys()).filter((r) => { const u = new URL(r.url), b = bboxOf(u); return u.pathname === url.pathname && b && meets(b, box); });
    const best = same.filter((r) => meets(bboxOf(new URL(r.url)), mid)).pop() || same.pop();
    if (best) cached = await cache.match(best);
  }
  if (!cached) return res || net;   // nothing kept: the network's answer or its error
  const m = await getMeta();
  await tell(event.clientId, { type: "stale", since: m.online || Number(cached.headers.get(STORED)) || null, url: url.pathname });
  return cached;
}

async function tileFirst(event, url) {
  const key = keyOf(url);
  const cached = await caches.match(key, { cacheName: TILES });
  if (cached) return cached;
  const r = await fetch(event.request);
  const m = await getMeta();
  if (r.ok && (!m.region || regionOf(url) === m.region)) event.waitUntil(keep(TILES, key, r.clone()));
  return r;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || req.headers.has("range")) return;
  const url = new URL(req.url);
  const k = req.mode === "navigate" && url.pathname === "/" ? "shell" : kind(url);
  if (!k) return;
  if (k === "shell") event.respondWith(shellFirst(event, url));
  else if (k === "tile") event.respondWith(tileFirst(event, url));
  else {
    // another region's answers are not kept (only the last region viewed is)
    event.respondWith(getMeta().then((m) => {
      const reg = regionOf(url);
      if (reg && m.region && reg !== m.region) return fetch(req);
      return networkFirst(event, url, DATA);
    }));
  }
});

/* ------------------------------------------------------------------ the page says what it views */
self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type !== "keep" || !msg.region) return;
  event.waitUntil((async () => {
    const changed = (await getMeta()).region !== msg.region;
    await setMeta({ region: msg.region, bbox: msg.bbox || null });
    if (changed) await keepOnly(msg.region, msg.bbox);
    // what the page loaded before this worker controlled it (its first visit): fetched and kept now
    let n = 0;
    for (const href of msg.urls || []) {
      const url = new URL(href, self.location.origin);
      const k = kind(url), reg = regionOf(url);
      if (!k || k === "shell" || (reg && reg !== msg.region)) continue;
      const cacheName = k === "tile" ? TILES : DATA;
      if (await caches.match(keyOf(url), { cacheName })) { n++; continue; }
      try { await keep(cacheName, keyOf(url), await fetch(url.href)); n++; } catch (e) { /* offline: next time */ }
    }
    if (event.source) event.source.postMessage({ type: "kept", region: msg.region, n });
  })());
});
