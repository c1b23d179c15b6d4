/* 120 dispatcher page: the live responders on the map; a click where the patient is asks POST
   /dispatch (dispatcher key) and shows who goes straight to the patient for CPR, who fetches which
   AED (responder → AED → patient), what to tell the caller (the AED a bystander at the patient can
   fetch, there and back on foot: given with or without live responders), the ambulance with its ETA,
   and the time to the first shock against the 4-minute target. The steps are numbered from 1 in the
   order shown; the public AEDs of the view are drawn open / closed / hours unknown at the call time. */
"use strict";
GS.addT({
  en: {
    doc_title: "120 dispatch · responders and AEDs",
    title: "120 dispatch: responders and AEDs", key_lbl: "Dispatcher key", key_ph: "gsk_… (dispatcher role)", key_btn: "Use",
    region: "Region", at_lbl: "Call time", now: "Now", legend: "Legend", api: "API", citizen_link: "citizen page", planner_link: "planner",
    hint: "Click the map where the patient is (cardiac arrest).",
    foot: "Walking and driving times are estimates from OpenStreetMap paths and roads.",
    key_needed: "Enter a dispatcher key first (geoservice apikey create --role dispatcher).",
    key_bad: "Key refused: unknown, revoked, or not a dispatcher key.", key_ok: "Key accepted.",
    live: "{n} responders on duty, {a} available (positions kept {ttl} s)", live_none: "No responder on duty has posted a position.",
    planning: "Planning…",
    shock: "First shock in {m} min", shock_none: "No defibrillation possible from here",
    met: "✓ within the 4-minute target", missed: "✗ misses the 4-minute target by {d} min",
    by_aed: "by responder {r} with the AED", by_amb: "by the ambulance crew", by_bys: "by a bystander with the nearby AED",
    hours_risk: "The AED's opening hours are unknown: it may be locked. Send the backup too.",
    hours_risk_bys: "The AED's opening hours are unknown: it may be locked. If it is, the caller keeps doing CPR until the ambulance comes.",
    tl_cpr: "First on scene", tl_aed: "AED shock (responder)", tl_bys: "AED shock (bystander)", tl_amb: "Ambulance shock", tl_target: "4 min",
    t_aed: "Fetch the AED, bring it to the patient", t_backup: "Backup: AED known to be open",
    t_bys: "Tell the caller: fetch the AED nearby", t_cpr: "Straight to the patient: start CPR", t_amb: "Ambulance",
    bys_say: "Say: “Start CPR now. If someone else is with you, send them to the AED {d} away ({m} there) and back with it.”",
    bys_late: "The AED nearest on foot is {m} away and back: the ambulance comes first. Keep the caller doing CPR.",
    bys_there: "Patient → AED", bys_back: "AED → patient", bys_setup: "AED set-up (pads, analysis)", bys_none: "No AED within {m} min on foot of the patient.",
    lbl_bys: "AED {m} there and back",
    go_to: "{r} → AED", bring: "AED → patient", with_aed: "AED at the patient", shock_at: "first shock at {m} min",
    lbl_aed: "AED at patient {m}", lbl_amb: "Ambulance {m}", lbl_patient: "Patient",
    age: "position {s} s old", none_cpr: "No other responder within reach.",
    station: "Station", delay: "Dispatch delay", drive: "Drive", access: "Crew on foot from the road", eta: "At the patient",
    no_amb: "No ambulance route.",
    open_at_call: "Open at the call time", hours_unknown: "Opening hours unknown",
    where: "Where", floor: "Floor", hours: "Hours",
    off_region: "This point is in no served region.", off_path: "No footpath near this point (nearest {d} m). Click on a street.",
    failed: "Could not plan: {e}",
    lg_patient: "patient", lg_resp: "responder (grey: not available)", lg_cpr: "walk to the patient (CPR)",
    lg_fetch: "responder → AED", lg_bring: "AED → patient", lg_bys: "bystander to the AED and back", lg_amb: "ambulance route",
    lg_aed: "AED open at the call time", lg_aed_unknown: "AED, opening hours unknown", lg_aed_closed: "AED closed at the call time", lg_ems: "EMS station",
    n_unknown_nobackup: "The AED of the plan has unknown hours and no AED nearby is known to be open then.",
    n_unknown_noother: "The AED of the plan has unknown hours; no other responder can reach one known to be open.",
    n_no_resp: "No available responder within reach.", n_no_aed: "No AED open then within reach.",
    n_no_ems: "No EMS station reachable by road in this region.", n_offnet: "{n} responder(s) too far from any footpath.",
    n_no_amb: "No ambulance route: the point is too far from a road.", n_no_reg: "No registry: no live responders.",
    sec: "s",
  },
  zh: {
    doc_title: "120 调度 · 志愿者与 AED 派遣",
    title: "120 调度：志愿者与 AED 派遣", key_lbl: "调度员密钥", key_ph: "gsk_…（调度员角色）", key_btn: "使用",
    region: "区域", at_lbl: "呼救时间", now: "现在", legend: "图例", api: "接口文档", citizen_link: "公众页面", planner_link: "规划页面",
    hint: "在地图上点击患者（心脏骤停）所在位置。",
    foot: "步行与驾车时间为根据 OpenStreetMap 道路估算。",
    key_needed: "请先输入调度员密钥（geoservice apikey create --role dispatcher）。",
    key_bad: "密钥被拒绝：未知、已吊销或不是调度员密钥。", key_ok: "密钥有效。",
    live: "在岗志愿者 {n} 人，可派 {a} 人（位置保留 {ttl} 秒）", live_none: "暂无在岗志愿者上报位置。",
    planning: "正在计算派遣方案…",
    shock: "预计 {m} 分钟内首次除颤", shock_none: "无法实施除颤",
    met: "✓ 达到 4 分钟目标", missed: "✗ 超出 4 分钟目标 {d} 分钟",
    by_aed: "由志愿者 {r} 携 AED 实施", by_amb: "由救护车组实施", by_bys: "由现场旁观者取附近 AED 实施",
    hours_risk: "该 AED 开放时间未知，可能无法取用。请同时派出备选志愿者。",
    hours_risk_bys: "该 AED 开放时间未知，可能无法取用。如无法取用，请呼救者持续心肺复苏直至救护车到达。",
    tl_cpr: "首人到场", tl_aed: "AED 除颤（志愿者）", tl_bys: "AED 除颤（旁观者）", tl_amb: "救护车除颤", tl_target: "4 分钟",
    t_aed: "取 AED 并送到患者身边", t_backup: "备选：确定开放的 AED",
    t_bys: "告诉呼救者：取附近的 AED", t_cpr: "直接前往患者：开始心肺复苏", t_amb: "救护车",
    bys_say: "请告诉呼救者：“立即开始心肺复苏。如身边还有人，请他去 {d} 外的 AED（单程 {m}）取来。”",
    bys_late: "步行最近的 AED 往返需 {m}，救护车会先到。请指导呼救者持续心肺复苏。",
    bys_there: "患者 → AED", bys_back: "AED → 患者", bys_setup: "AED 准备（贴电极、分析心律）", bys_none: "患者步行 {m} 分钟内没有 AED。",
    lbl_bys: "AED 往返 {m}",
    go_to: "{r} → AED", bring: "AED → 患者", with_aed: "AED 送达患者", shock_at: "{m} 分钟时首次除颤",
    lbl_aed: "AED 送达 {m}", lbl_amb: "救护车 {m}", lbl_patient: "患者",
    age: "位置 {s} 秒前", none_cpr: "没有其他可到达的志愿者。",
    station: "急救站", delay: "出车准备", drive: "行车", access: "下车步行至患者", eta: "到达患者",
    no_amb: "无救护车路线。",
    open_at_call: "呼救时开放", hours_unknown: "开放时间未知",
    where: "位置", floor: "楼层", hours: "开放时间",
    off_region: "此处不在服务区域内。", off_path: "此处附近没有步行道（最近 {d} 米）。请点击街道。",
    failed: "无法计算：{e}",
    lg_patient: "患者", lg_resp: "志愿者（灰色：不可派）", lg_cpr: "步行至患者（心肺复苏）",
    lg_fetch: "志愿者 → AED", lg_bring: "AED → 患者", lg_bys: "旁观者往返取 AED", lg_amb: "救护车路线",
    lg_aed: "AED（呼救时开放）", lg_aed_unknown: "AED（开放时间未知）", lg_aed_closed: "AED（呼救时关闭）", lg_ems: "急救站",
    n_unknown_nobackup: "方案中 AED 的开放时间未知，附近没有确定开放的 AED。",
    n_unknown_noother: "方案中 AED 的开放时间未知，没有其他志愿者能到达确定开放的 AED。",
    n_no_resp: "可到达范围内没有可派的志愿者。", n_no_aed: "可到达范围内此时没有开放的 AED。",
    n_no_ems: "本区域没有可通过道路到达的急救站。", n_offnet: "{n} 名志愿者距离步行道过远，无法规划路线。",
    n_no_amb: "无救护车路线：此处距离道路过远。", n_no_reg: "没有登记库：无实时志愿者。",
    sec: "秒",
  },
});
const COL = { cpr: "#1976d2", fetch: "#00a63e", bring: "#00a63e", backup: "#7cb342", bys: "#e65100", amb: "#37474f" };
const AED_VIEW = { pad: 0.5, max: 2000 };   // the public AEDs of the view (aed_view.js, as on the other pages)
const KEY_STORE = "gs-dispatch-key";
const $ = (id) => document.getElementById(id);
let map, drawn, live, aeds, aedView, routeSvg, answer = null, liveAnswer = null, seq = 0;

function key() { return sessionStorage.getItem(KEY_STORE) || ""; }
function setMsg(text, kind) {
  const el = $("msg");
  el.hidden = !text; el.className = `msg${kind ? " " + kind : ""}`; el.textContent = text || "";
}
function keyStatus(kind) {
  const el = $("key-status");
  el.className = kind === "bad" ? "bad" : kind === "ok" ? "ok" : "muted";
  el.textContent = kind ? GS.t(kind === "bad" ? "key_bad" : kind === "ok" ? "key_ok" : "key_needed") : "";
  el.dataset.state = kind || "";
}
function localNow() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
const min = (s) => (s / 60).toFixed(1);
const minTxt = (s) => `${min(s)} ${GS.t("min")}`;

/* ------------------------------------------------------------------ live responders */
async function loadLive() {
  if (!key()) { keyStatus("need"); return; }
  try {
    liveAnswer = await GS.json(GS.url("/responders"), { headers: { "X-API-Key": key() } });
    if ($("key-status").dataset.state !== "ok") keyStatus("ok");
  } catch (e) {
    liveAnswer = null;
    if (e.status === 401 || e.status === 403) keyStatus("bad");
  }
  drawLive();
}

function drawLive() {
  live.clearLayers();
  const el = $("live");
  if (!liveAnswer) { el.textContent = ""; return; }
  const rs = liveAnswer.responders;
  el.textContent = rs.length ? GS.t("live", { n: rs.length, a: rs.filter((r) => r.available).length, ttl: Math.round(liveAnswer.ttl_s) }) : GS.t("live_none");
  const sent = new Set(answer ? sentIds(answer) : []);
  for (const r of rs) {
    if (sent.has(r.responder)) continue;   // drawn with the plan
    const icon = L.divIcon({ className: "", html: `<span class="d-responder${r.available ? "" : " off"}"></span>`, iconSize: [14, 14], iconAnchor: [7, 7] });
    L.marker([r.lat, r.lon], { icon, title: r.responder, keyboard: false }).bindTooltip(GS.esc(r.responder)).addTo(live);
  }
}

/* ------------------------------------------------------------------ the plan */
function sentIds(a) {
  const ids = a.direct.map((d) => d.responder.id);
  for (const p of [a.aed_plan, a.aed_backup]) if (p) ids.push(p.responder.id);
  return ids;
}

async function plan(lon, lat) {
  if (!key()) { keyStatus("need"); return; }
  const my = ++seq;
  setMsg(GS.t("planning"), "busy");
  const body = { lon: +lon.toFixed(6), lat: +lat.toFixed(6), crs: GS.crs() };
  if ($("at").value) body.at = $("at").value;
  let ans;
  try {
    ans = await GS.json("/dispatch", { method: "POST", headers: { "Content-Type": "application/json", "X-API-Key": key() }, body: JSON.stringify(body) });
  } catch (e) {
    if (my !== seq) return;
    if (e.status === 401 || e.status === 403) { keyStatus("bad"); setMsg(GS.t("key_bad"), "warn"); return; }
    if (e.status === 404) { setMsg(GS.t("off_region"), "warn"); return; }
    const snap = e.body && e.body.snap_m;
    setMsg(snap != null ? GS.t("off_path", { d: Math.round(snap) }) : GS.t("failed", { e: e.message }), "warn");
    return;
  }
  if (my !== seq) return;
  setMsg("");
  keyStatus("ok");
  answer = ans;
  render(true);
  loadLive();
}

const NOTES = [
  [/unknown opening hours; no AED nearby/, "n_unknown_nobackup"], [/unknown opening hours and no other responder/, "n_unknown_noother"],
  [/^no available responder/, "n_no_resp"], [/^no AED open then/, "n_no_aed"], [/^no EMS station/, "n_no_ems"],
  [/^(\d+) responder\(s\) too far/, "n_offnet"], [/^no ambulance route/, "n_no_amb"], [/^no registry/, "n_no_reg"],
];
function noteText(n) {
  for (const [re, k] of NOTES) { const m = n.match(re); if (m) return GS.t(k, { n: m[1] || "" }); }
  return n;
}

function aedFacts(p, openAt) {
  const colon = GS.lang === "zh" ? "：" : ": ";
  const out = [];
  if (p.location) out.push(`<b>${GS.esc(GS.t("where"))}${colon}</b><span class="data">${GS.esc(p.location)}</span>`);
  if (p.floor) out.push(`<b>${GS.esc(GS.t("floor"))}${colon}</b><span class="data">${GS.esc(p.floor)}</span>`);
  if (p.opening_hours) out.push(`<b>${GS.esc(GS.t("hours"))}${colon}</b>${GS.esc(GS.hoursText(p.opening_hours))}`);
  const st = openAt === true ? `<span class="state open">${GS.esc(GS.t("open_at_call"))}</span>` : `<span class="state unknown">${GS.esc(GS.t("hours_unknown"))}</span>`;
  return `<div>${out.join(" · ")}</div>${st}`;
}

/* The responder's name (data) and how old their position is (registry positions only). */
function who(r) {
  const age = r.age_s == null ? "" : ` <small class="muted">${GS.esc(GS.t("age", { s: Math.round(r.age_s) }))}</small>`;
  return `<span class="data rid">${GS.esc(r.id)}</span>${age}`;
}

/* What the dispatcher tells the caller: someone at the patient fetches the AED nearest on foot and
   brings it back, while CPR goes on; when the ambulance shocks first, keep the caller doing CPR. */
function bystanderCard(a, head) {
  const b = a.bystander_aed;
  if (!b) return `<div class="task t-bys" data-task="t-bys">${head("t_bys")}<div class="muted">${GS.esc(GS.t("bys_none", { m: Math.round(a.assumptions.max_walk_min) }))}</div></div>`;
  const late = a.ambulance && a.ambulance.shock_s <= b.shock_s;
  const say = late ? GS.t("bys_late", { m: minTxt(b.time_s) }) : GS.t("bys_say", { d: GS.fmtDist(b.to_aed.distance_m), m: minTxt(b.to_aed.time_s) });
  return `<div class="task t-bys" data-task="t-bys" data-late="${late ? 1 : 0}">${head("t_bys")}<p class="say">${GS.esc(say)}</p>` +
    `<div class="who">${GS.nameHtml(b.aed)}</div>${aedFacts(b.aed, b.open_at)}` +
    `<div class="leg"><span>${GS.esc(GS.t("bys_there"))}</span><b>${minTxt(b.to_aed.time_s)} · ${GS.fmtDist(b.to_aed.distance_m)}</b></div>` +
    `<div class="leg"><span>${GS.esc(GS.t("bys_back"))}</span><b>${minTxt(b.back.time_s)} · ${GS.fmtDist(b.back.distance_m)}</b></div>` +
    `<div class="leg"><span>${GS.esc(GS.t("bys_setup"))}</span><b>${Math.round(a.assumptions.aed_setup_s)} ${GS.esc(GS.t("sec"))}</b></div>` +
    `<div class="leg total"><span>${GS.esc(GS.t("shock_at", { m: min(b.shock_s) }))}</span><b>${minTxt(b.shock_s)}</b></div></div>`;
}

function fetchCard(p, cls, title) {
  return `<div class="task ${cls}" data-task="${cls}">${title}` +
    `<div class="who">${GS.nameHtml(p.aed)}</div>${aedFacts(p.aed, p.open_at)}` +
    `<div class="leg"><span>${GS.esc(GS.t("go_to", { r: "\u0000" })).replace("\u0000", who(p.responder))}</span><b>${minTxt(p.to_aed.time_s)} · ${GS.fmtDist(p.to_aed.distance_m)}</b></div>` +
    `<div class="leg"><span>${GS.esc(GS.t("bring"))}</span><b>${minTxt(p.to_patient.time_s)} · ${GS.fmtDist(p.to_patient.distance_m)}</b></div>` +
    `<div class="leg total"><span>${GS.esc(GS.t("with_aed"))}</span><b>${minTxt(p.time_s)}</b></div>` +
    `<div class="muted">${GS.esc(GS.t("shock_at", { m: min(p.shock_s) }))}</div></div>`;
}

function timeline(a) {
  const rows = [];
  if (a.first_cpr_s != null) rows.push(["cpr", GS.t("tl_cpr"), a.first_cpr_s]);
  if (a.aed_plan) rows.push(["aed", GS.t("tl_aed"), a.aed_plan.shock_s]);
  if (a.bystander_aed) rows.push(["bys", GS.t("tl_bys"), a.bystander_aed.shock_s]);
  if (a.ambulance) rows.push(["amb", GS.t("tl_amb"), a.ambulance.shock_s]);
  if (!rows.length) return "";
  const target = a.first_shock.target_s;
  const top = Math.max(target * 1.5, ...rows.map((r) => r[2])) * 1.05;
  const pct = (s) => `${(100 * s / top).toFixed(1)}%`;
  return `<div class="timeline">` + rows.map(([cls, lbl, s]) =>
    `<div class="tl-row" data-bar="${cls}"><span class="tl-lbl" title="${GS.esc(lbl)}">${GS.esc(lbl)}</span><span class="tl-track"><span class="tl-bar ${cls}" style="width:${pct(s)}"></span><span class="tl-target" style="left:${pct(target)}"></span></span><span class="tl-val">${min(s)}</span></div>`).join("") +
    `<div class="tl-scale"><span></span><span class="tl-track"><span class="tl-mark" style="left:${pct(target)}">${GS.esc(GS.t("tl_target"))}</span></span><span>${GS.esc(GS.t("min"))}</span></div></div>`;
}

function panel(a) {
  const s = a.first_shock;
  let h = "";
  if (s.time_s == null) {
    h += `<div class="kpi-shock none" id="kpi" data-met="false"><div class="big">${GS.esc(GS.t("shock_none"))}</div></div>`;
  } else {
    const by = s.by === "ambulance" ? GS.t("by_amb") : s.by === "bystander_aed" ? GS.t("by_bys") : GS.t("by_aed", { r: a.aed_plan.responder.id });
    const verdict = s.target_met ? GS.t("met") : GS.t("missed", { d: ((s.time_s - s.target_s) / 60).toFixed(1) });
    h += `<div class="kpi-shock ${s.target_met ? "met" : "missed"}" id="kpi" data-met="${s.target_met}" data-minutes="${s.minutes}">` +
      `<div class="big">${GS.esc(GS.t("shock", { m: min(s.time_s) }))}</div><div class="sub">${GS.esc(verdict)} · ${GS.esc(by)}</div></div>`;
    if (s.aed_hours_unknown) h += `<div class="d-note">${GS.esc(GS.t(s.by === "bystander_aed" ? "hours_risk_bys" : "hours_risk"))}</div>`;
  }
  h += timeline(a);
  let step = 0;
  const head = (key) => `<h3><span class="step" data-step="${++step}">${step}</span> ${GS.esc(GS.t(key))}</h3>`;
  h += bystanderCard(a, head);
  if (a.aed_plan) h += fetchCard(a.aed_plan, "t-aed", head("t_aed"));
  if (a.aed_backup) h += fetchCard(a.aed_backup, "t-backup", head("t_backup"));
  h += `<div class="task t-cpr" data-task="t-cpr">${head("t_cpr")}` + (a.direct.length
    ? "<ol>" + a.direct.map((d) => `<li class="leg"><span>${who(d.responder)}</span><b>${minTxt(d.to_patient.time_s)} · ${GS.fmtDist(d.to_patient.distance_m)}</b></li>`).join("") + "</ol>"
    : `<div class="muted">${GS.esc(GS.t("none_cpr"))}</div>`) + "</div>";
  const m = a.ambulance;
  h += `<div class="task t-amb" data-task="t-amb">${head("t_amb")}` + (m
    ? `<div class="who">${GS.nameHtml(m.station)}</div>` +
      `<div class="leg"><span>${GS.esc(GS.t("delay"))}</span><b>${minTxt(m.dispatch_delay_s)}</b></div>` +
      `<div class="leg"><span>${GS.esc(GS.t("drive"))}</span><b>${minTxt(m.drive.time_s)} · ${GS.fmtDist(m.drive.distance_m)}</b></div>` +
      `<div class="leg"><span>${GS.esc(GS.t("access"))}</span><b>${Math.round(m.access_s)} ${GS.esc(GS.t("sec"))}</b></div>` +
      `<div class="leg total"><span>${GS.esc(GS.t("eta"))}</span><b>${minTxt(m.eta_s)}</b></div>`
    : `<div class="muted">${GS.esc(GS.t("no_amb"))}</div>`) + "</div>";
  for (const n of a.notes) h += `<div class="d-note">${GS.esc(noteText(n))}</div>`;
  return h;
}

function line(geom, color, opts) {
  return L.geoJSON(geom, { pane: "gsRoutes", renderer: routeSvg, interactive: false, style: Object.assign({ color, weight: 5, opacity: 0.95, lineCap: "round", lineJoin: "round" }, opts || {}) }).addTo(drawn);
}
function label(latlng, text, cls, dir) {
  return L.marker(latlng, { icon: L.divIcon({ className: "", html: "", iconSize: [0, 0] }), interactive: false, keyboard: false })
    .bindTooltip(GS.esc(text), { permanent: true, direction: dir || "top", className: `gs-label ${cls}` }).addTo(drawn);
}
const end = (g) => { const c = g.coordinates[g.coordinates.length - 1]; return [c[1], c[0]]; };
const start = (g) => [g.coordinates[0][1], g.coordinates[0][0]];

function drawPlan(fit) {
  drawn.clearLayers();
  const a = answer;
  const o = a.origin;
  const bounds = L.latLngBounds([[o.lat, o.lon]]);
  const responderIcon = L.divIcon({ className: "", html: '<span class="d-responder sent"></span>', iconSize: [20, 20], iconAnchor: [10, 10] });
  if (a.ambulance) {
    const m = a.ambulance;
    line(m.drive.route, "#fff", { weight: 10, opacity: 0.9 });
    line(m.drive.route, COL.amb, { weight: 6, className: "d-route d-route-amb" });
    L.marker(start(m.drive.route), { icon: GS.facilityIcon(m.station), title: GS.baseName(m.station), zIndexOffset: 300 }).addTo(drawn);
    label(start(m.drive.route), GS.t("lbl_amb", { m: minTxt(m.eta_s) }), "gs-label-amb", "bottom");
    bounds.extend(L.geoJSON(m.drive.route).getBounds());
  }
  for (const d of a.direct) {
    line(d.to_patient.route, COL.cpr, { weight: 4, dashArray: "6 7", className: "d-route d-route-cpr" });
    L.marker(start(d.to_patient.route), { icon: responderIcon, title: d.responder.id, zIndexOffset: 600 }).addTo(drawn);
    label(start(d.to_patient.route), `${d.responder.id} · ${minTxt(d.to_patient.time_s)}`, "gs-label-cpr", "left");
    bounds.extend(L.geoJSON(d.to_patient.route).getBounds());
  }
  if (a.bystander_aed) {
    const b = a.bystander_aed;
    line(b.to_aed.route, "#fff", { weight: 9, opacity: 0.9 });
    line(b.to_aed.route, COL.bys, { weight: 5, dashArray: "8 6", className: "d-route d-route-bys" });
    const icon = L.divIcon({ className: "", html: '<span class="gs-ico gs-aed d-aed-bys">⚡</span>', iconSize: [30, 30], iconAnchor: [15, 15] });
    L.marker(end(b.to_aed.route), { icon, title: GS.baseName(b.aed), zIndexOffset: 850 }).bindPopup(() => aedPopup(b.aed, b.open_at)).addTo(drawn);
    label(end(b.to_aed.route), GS.t("lbl_bys", { m: minTxt(b.time_s) }), "gs-label-bys", "right");
    bounds.extend(L.geoJSON(b.to_aed.route).getBounds());
  }
  for (const [p, col, cls] of [[a.aed_backup, COL.backup, "backup"], [a.aed_plan, COL.fetch, "aed"]]) {
    if (!p) continue;
    line(p.to_aed.route, "#fff", { weight: 11, opacity: 0.9 });
    line(p.to_aed.route, col, { weight: 6, dashArray: "1 10", className: `d-route d-route-fetch-${cls}` });
    line(p.to_patient.route, "#fff", { weight: 11, opacity: 0.9 });
    line(p.to_patient.route, col, { weight: 6, className: `d-route d-route-bring-${cls}` });
    L.marker(start(p.to_aed.route), { icon: responderIcon, title: p.responder.id, zIndexOffset: 700 }).addTo(drawn);
    label(start(p.to_aed.route), `${p.responder.id} · ${minTxt(p.to_aed.time_s)}`, "gs-label-cpr", "left");
    const icon = L.divIcon({ className: "", html: `<span class="gs-ico gs-aed${cls === "aed" ? " gs-aed-nearest" : " gs-aed-alt"}">⚡</span>`, iconSize: [38, 38], iconAnchor: [19, 19] });
    L.marker(end(p.to_aed.route), { icon, title: GS.baseName(p.aed), zIndexOffset: 900 }).addTo(drawn);
    label(end(p.to_aed.route), GS.t("lbl_aed", { m: minTxt(p.time_s) }), "gs-label-aed", "right");
    bounds.extend(L.geoJSON(p.to_aed.route).getBounds()).extend(L.geoJSON(p.to_patient.route).getBounds());
  }
  L.marker([o.lat, o.lon], { icon: L.divIcon({ className: "", html: '<span class="d-patient">✚</span>', iconSize: [28, 28], iconAnchor: [14, 14] }), interactive: false, keyboard: false, zIndexOffset: 1000 })
    .bindTooltip(GS.esc(GS.t("lbl_patient")), { permanent: true, direction: "bottom", offset: [0, 12], className: "gs-label gs-label-patient" }).addTo(drawn);
  if (fit && bounds.isValid()) map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
}

function render(fit) {
  if (!answer) return;
  $("plan").innerHTML = panel(answer);
  drawPlan(fit);
  drawLive();
}

/* ------------------------------------------------------------------ the public AEDs of the view */
const aedClass = (openAt) => (openAt === true ? "d-aed-open" : openAt === false ? "gs-closed d-aed-closed" : "d-aed-unknown");
const aedSym = (openAt) => `<span class="gs-ico gs-aed ${aedClass(openAt)}">⚡</span>`;
function aedPopup(p, openAt) {
  const st = openAt === false ? `<span class="state closed">${GS.esc(GS.t("lg_aed_closed"))}</span>` : "";
  return `<div class="who">${GS.nameHtml(p)}</div>${openAt === false ? "" : aedFacts(p, openAt)}${st}`;
}
function aedMarker(f) {
  const p = f.properties;
  const icon = L.divIcon({ className: "", html: aedSym(p.open_at), iconSize: [20, 20], iconAnchor: [10, 10] });
  return L.marker([f.geometry.coordinates[1], f.geometry.coordinates[0]], { icon, title: GS.baseName(p), keyboard: false, zIndexOffset: p.open_at === false ? -100 : 0 })
    .bindPopup(() => aedPopup(p, p.open_at), { autoPan: false });
}
function aedLoader() {
  return GS.aedView(map, {
    view: AED_VIEW,
    layer: () => aeds,
    regions: () => GS.config.regions.map((r) => ({ bbox: r.bbox, n: r.facility_counts.aed || 0 })),
    params: () => ($("at").value ? { at: $("at").value } : {}),
    marker: aedMarker,
    onNote: () => {},
  });
}
function reloadAeds() { aeds.clearLayers(); aedView.reset(); aedView.refresh(); }

function legend() {
  const row = (sym, key) => `<div class="legend-row">${sym}<span>${GS.esc(GS.t(key))}</span></div>`;
  $("legend").innerHTML =
    row('<span class="d-patient">✚</span>', "lg_patient") + row('<span class="d-responder"></span>', "lg_resp") +
    row(`<span class="legend-line dashed" style="border-color:${COL.cpr}"></span>`, "lg_cpr") +
    row(`<span class="legend-line dashed" style="border-color:${COL.fetch}"></span>`, "lg_fetch") +
    row(`<span class="legend-line" style="border-color:${COL.bring}"></span>`, "lg_bring") +
    row(`<span class="legend-line dashed" style="border-color:${COL.bys}"></span>`, "lg_bys") +
    row(`<span class="legend-line" style="border-color:${COL.amb}"></span>`, "lg_amb") +
    row(aedSym(true), "lg_aed") + row(aedSym(null), "lg_aed_unknown") + row(aedSym(false), "lg_aed_closed") +
    row('<span class="gs-ico gs-ems_station">+</span>', "lg_ems");
}

(async function main() {
  const setLang = () => { $("lang").textContent = GS.lang === "zh" ? "EN" : "中文"; document.title = GS.t("doc_title"); legend(); };
  GS.applyLang();
  setLang();
  $("lang").addEventListener("click", () => {
    GS.toggleLang(); setLang(); render(false);
    if ($("key-status").dataset.state) keyStatus($("key-status").dataset.state);
    if (liveAnswer) drawLive();
  });
  $("at").value = localNow();
  $("at-now").addEventListener("click", () => { $("at").value = localNow(); if (aedView) reloadAeds(); });
  $("key").value = key();
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("key").value.trim());
    loadLive();
  });
  map = await GS.makeMap("map");
  map.createPane("gsRoutes").style.zIndex = 420;   // above the basemap canvas, below the markers
  routeSvg = L.svg({ pane: "gsRoutes", padding: 0.5 });
  const regs = GS.config.regions;
  let first = 0;
  regs.forEach((r, i) => { if ((r.facility_counts.ems_station || 0) > (regs[first].facility_counts.ems_station || 0)) first = i; });
  map.fitBounds(map.gsBounds[first]);
  GS.regionSelect($("region"), map);
  $("region").value = String(first);
  aeds = L.layerGroup().addTo(map);
  live = L.layerGroup().addTo(map);
  drawn = L.layerGroup().addTo(map);
  aedView = aedLoader();
  map.on("moveend", aedView.refresh);
  $("at").addEventListener("change", reloadAeds);
  aedView.refresh();
  map.on("click", (e) => plan(e.latlng.lng, e.latlng.lat));
  loadLive();
  setInterval(loadLive, 15000);
  document.body.dataset.ready = "1";
})();
