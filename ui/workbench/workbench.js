// The workbench window: opens targets in the workspace window, shows every
// APP.notifications call in a virtualised console (fixed row height, recycled
// nodes, only the visible range + a buffer fetched through calllog_page), and
// holds the settings and the widget's profile. A trusted page: it may call the
// workbench commands (capabilities/workbench.json). Everything that comes from
// the log is widget data and only ever reaches the DOM as text.
import { parseJson } from "./json.js";
import { keyTarget } from "./listnav.js";
import { t, setLang, getLang, applyI18n, fmtNumber } from "./i18n.js";

const T = window.__TAURI_INTERNALS__;
const invoke = (cmd, args) =>
  T && typeof T.invoke === "function" ? T.invoke(cmd, args) : Promise.reject("Kolokol's bridge is not available in this page");
const $ = (id) => document.getElementById(id);

/** Subscribes to an app event without the npm package. */
async function listen(event, handler) {
  if (!T?.transformCallback) return null;
  const id = T.transformCallback((e) => handler(e?.payload));
  return T.invoke("plugin:event|listen", { event, target: { kind: "Any" }, handler: id });
}

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
};
const errText = (e) => (e && typeof e === "object" ? e.message || JSON.stringify(e) : String(e));
const setAttr = (node, name, value) => {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
};

/* ---------- benchmarks: frame deltas while the list scrolls or updates ---------- */

const bench = (window.__workbench = { frames: [], fetches: 0 });
Object.defineProperty(bench, "nodes", { get: () => listEl.querySelectorAll(".call-row").length });
let frameLoop = 0;
let lastFrame = 0;
let activeUntil = 0;
function activity() {
  activeUntil = performance.now() + 500;
  if (!frameLoop) {
    lastFrame = 0;
    frameLoop = requestAnimationFrame(frame);
  }
}
function frame(ts) {
  if (lastFrame) {
    bench.frames.push(ts - lastFrame);
    if (bench.frames.length > 600) bench.frames.splice(0, bench.frames.length - 600);
  }
  lastFrame = ts;
  if (performance.now() < activeUntil) frameLoop = requestAnimationFrame(frame);
  else {
    frameLoop = 0;
    lastFrame = 0;
  }
}

/* ---------- short messages ---------- */

let toastTimer = 0;
function say(msg, bad = false) {
  const s = $("wb-toast");
  s.textContent = msg;
  s.classList.toggle("bad", bad);
  s.classList.toggle("shown", !!msg);
  clearTimeout(toastTimer);
  if (msg) toastTimer = setTimeout(() => say(""), bad ? 7000 : 3000);
}

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/* ---------- the target and the toolbar ---------- */

const wb = { target: null, recent: [], addressDirty: false };
const address = $("wb-address");

const KIND_KEYS = {
  start: "wbKindStart",
  playground: "wbKindPlayground",
  url: "wbKindUrl",
  file: "wbKindFile",
  widget: "wbKindWidget",
};

function applyTarget(tg) {
  wb.target = tg || null;
  const status = $("wb-status");
  const kind = tg && KIND_KEYS[tg.kind] ? tg.kind : "none";
  status.dataset.kind = kind;
  $("wb-kind").textContent = t(tg ? KIND_KEYS[tg.kind] || "wbKindUrl" : "wbKindNone");
  $("wb-target-title").textContent = tg ? tg.title || tg.input || "" : "";
  const url = $("wb-target-url");
  url.textContent = tg ? tg.url || "" : t("wbNothingOpen");
  url.title = tg ? tg.url || "" : "";
  $("wb-watching").hidden = !tg?.watching;

  const problems = Array.isArray(tg?.problems) ? tg.problems : [];
  const box = $("wb-problems-box");
  const list = $("wb-problems");
  box.hidden = problems.length === 0;
  const errors = problems.filter((p) => p.severity === "error").length;
  box.dataset.errors = String(errors);
  const summary = $("wb-problems-summary");
  summary.textContent = t("wbProblems", { n: problems.length });
  if (errors) summary.append(el("span", "sev-count error", `${errors} ${t("wbSevError")}`));
  if (problems.length - errors) summary.append(el("span", "sev-count warning", `${problems.length - errors} ${t("wbSevWarning")}`));
  list.replaceChildren(
    ...problems.map((p) => {
      const sev = p.severity === "error" ? "error" : "warning";
      const li = el("li");
      li.dataset.severity = sev;
      li.append(el("span", `sev ${sev}`, t(sev === "error" ? "wbSevError" : "wbSevWarning")));
      if (p.field) li.append(el("code", "p-field", String(p.field)));
      li.append(el("span", "msg", String(p.message ?? "")));
      return li;
    }),
  );
  // Opened by itself when new problems include errors; the user may close it.
  const sig = JSON.stringify(problems);
  if (box._sig !== sig) box.open = errors > 0;
  box._sig = sig;

  if (tg && (document.activeElement !== address || !wb.addressDirty)) {
    address.value = tg.input || tg.url || "";
    wb.addressDirty = false;
  }
}

function openError(msg) {
  const p = $("wb-open-error");
  p.textContent = msg || "";
  if (msg) address.setAttribute("aria-invalid", "true");
  else address.removeAttribute("aria-invalid");
}

function paintRecent(items) {
  wb.recent = Array.isArray(items) ? items : [];
  const ul = $("wb-recent-list");
  if (!wb.recent.length) {
    ul.replaceChildren(el("li", "empty", t("wbRecentEmpty")));
    return;
  }
  ul.replaceChildren(
    ...wb.recent.map((r) => {
      const li = el("li");
      const b = el("button", "recent-item");
      b.type = "button";
      b.dataset.input = r.input;
      b.dataset.kind = r.kind;
      b.title = r.input;
      b.append(
        el("span", "r-title", r.title || r.input),
        el("span", "r-kind", t(KIND_KEYS[r.kind] || "wbKindUrl")),
        el("span", "r-input", r.input),
      );
      li.append(b);
      return li;
    }),
  );
}

async function refreshState() {
  try {
    const st = await invoke("workbench_state");
    applyTarget(st?.target ?? null);
    paintRecent(st?.recent);
    if (st?.profile && !profile.dirty) fillProfile(st.profile);
    return st;
  } catch (e) {
    say(t("wbFailed", { what: "workbench_state", error: errText(e) }), true);
    return null;
  }
}

/** Runs a command that answers with a TARGET (or null when cancelled). */
async function openWith(button, cmd, args) {
  if (button) button.disabled = true;
  try {
    const tg = await invoke(cmd, args);
    openError("");
    if (tg) {
      applyTarget(tg);
      refreshState();
    }
    return tg;
  } catch (e) {
    openError(errText(e));
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

$("wb-open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = address.value.trim();
  if (!input) {
    address.focus();
    return;
  }
  openWith($("wb-open"), "workbench_open", { input }).then((tg) => {
    if (!tg) address.focus();
  });
});
address.addEventListener("input", () => {
  wb.addressDirty = true;
  if ($("wb-open-error").textContent) openError("");
});
address.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && wb.target) {
    address.value = wb.target.input || "";
    wb.addressDirty = false;
    openError("");
  }
});
$("wb-file").addEventListener("click", (ev) => openWith(ev.currentTarget, "workbench_pick", { folder: false }));
$("wb-folder").addEventListener("click", (ev) => openWith(ev.currentTarget, "workbench_pick", { folder: true }));
$("wb-playground").addEventListener("click", (ev) => openWith(ev.currentTarget, "workbench_playground"));
$("wb-start").addEventListener("click", (ev) => openWith(ev.currentTarget, "workbench_start_page"));

function reloadTarget() {
  invoke("workbench_reload").catch((e) => say(t("wbFailed", { what: t("wbReload"), error: errText(e) }), true));
}
$("wb-reload").addEventListener("click", reloadTarget);
$("wb-show").addEventListener("click", () =>
  invoke("workbench_show_page").catch((e) => say(t("wbFailed", { what: t("wbShowPage"), error: errText(e) }), true)),
);

// The recent dropdown: a disclosure with a list of buttons.
const recent = $("wb-recent");
const recentItems = () => [...recent.querySelectorAll("button.recent-item")];
recent.addEventListener("click", (ev) => {
  const b = ev.target.closest("button.recent-item");
  if (!b) return;
  recent.open = false;
  address.value = b.dataset.input;
  wb.addressDirty = false;
  openWith(null, "workbench_open", { input: b.dataset.input });
});
recent.addEventListener("keydown", (ev) => {
  const items = recentItems();
  const i = items.indexOf(document.activeElement);
  if (ev.key === "Escape" && recent.open) {
    ev.preventDefault();
    recent.open = false;
    recent.querySelector("summary").focus();
  } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    if (!items.length) return;
    ev.preventDefault();
    if (!recent.open) recent.open = true;
    const to = i < 0 ? (ev.key === "ArrowDown" ? 0 : items.length - 1) : (i + (ev.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
    items[to].focus();
  }
});
document.addEventListener("click", (ev) => {
  if (recent.open && !recent.contains(ev.target)) recent.open = false;
});
recent.addEventListener("focusout", (ev) => {
  if (recent.open && ev.relatedTarget && !recent.contains(ev.relatedTarget)) recent.open = false;
});

// Keys of a browser window that would reload or leave the workbench itself.
document.addEventListener("keydown", (ev) => {
  const mod = ev.ctrlKey || ev.metaKey;
  if (ev.key === "F5" || (mod && !ev.shiftKey && (ev.key === "r" || ev.key === "R"))) {
    ev.preventDefault();
    reloadTarget();
  } else if (mod && (ev.key === "l" || ev.key === "L")) {
    ev.preventDefault();
    address.focus();
    address.select();
  }
});

/* ---------- tabs ---------- */

const tabs = [...document.querySelectorAll('.tabs [role="tab"]')];
function selectTab(tab, focus = false) {
  for (const tb of tabs) {
    const on = tb === tab;
    tb.setAttribute("aria-selected", String(on));
    tb.tabIndex = on ? 0 : -1;
    $(tb.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  if (tab.id === "tab-calls") callsShown();
  if (tab.id === "tab-settings" && !settingsDirty) loadSettings();
}
for (const tb of tabs) tb.addEventListener("click", () => selectTab(tb));
document.querySelector(".tabs").addEventListener("keydown", (ev) => {
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  let to = null;
  if (ev.key === "ArrowRight") to = (i + 1) % tabs.length;
  else if (ev.key === "ArrowLeft") to = (i - 1 + tabs.length) % tabs.length;
  else if (ev.key === "Home") to = 0;
  else if (ev.key === "End") to = tabs.length - 1;
  if (to == null) return;
  ev.preventDefault();
  selectTab(tabs[to], true);
});

/* ---------- the call log ---------- */

const listEl = $("calls-list");
const sizer = listEl.querySelector(".sizer");
const pill = $("calls-new");

let ROW_H = 46; // --call-row-h in workbench.css
const RENDER_BUFFER = 6; // rows rendered above and below the viewport
const FETCH_BUFFER = 40; // rows fetched above and below the viewport
const HEAD_LIMIT = 200; // first request of a query (also learns the counts)
const MAX_LIMIT = 1000; // calllog_page's own cap
const MAX_PX = 30_000_000; // WebKit caps element heights at ~33.5M px
let MAX_ROWS = Math.floor(MAX_PX / ROW_H);
const KNOWN_METHODS = ["show_message", "show_message_error", "show_notification", "add_error", "add_call"];

const calls = {
  filter: { method: null, outcome: "all", text: "" },
  qgen: 0, // bumps on every new query; older answers are dropped
  known: false, // counts of the current query are known
  total: 0,
  matching: 0,
  dropped: 0,
  cache: new Map(), // offset within the matching rows -> { row, gen }
  gen: 0, // bumps on every calllog-changed: cached rows older than this are stale
  changed: false, // a change awaits a fetch
  eventCounts: null, // the last calllog-changed payload
  inflight: false,
  pumpQueued: false,
  failed: null,
  pinned: true, // scrolled to the bottom: new calls scroll into view
  pendingNew: 0,
  focusIndex: -1, // roving tab stop (view index)
  selectedSeq: null,
  methods: new Set(KNOWN_METHODS),
};

const bound = new Map(); // offset -> row node
const pool = [];
let sizerPx = -1;

const isDefaultFilter = () => !calls.filter.method && calls.filter.outcome === "all" && !calls.filter.text;
const baseOf = (matching) => Math.max(0, matching - MAX_ROWS); // offset of view index 0
const viewCount = () => calls.matching - baseOf(calls.matching);
const warningsOf = (e) => (Array.isArray(e?.warnings) ? e.warnings : Array.isArray(e?.notification?.warnings) ? e.notification.warnings : []);

function measure() {
  const h = parseFloat(getComputedStyle(listEl).getPropertyValue("--call-row-h")) || 46;
  if (h === ROW_H) return;
  const first = Math.floor(listEl.scrollTop / ROW_H);
  ROW_H = h;
  MAX_ROWS = Math.floor(MAX_PX / ROW_H);
  for (const n of bound.values()) n._y = null;
  setSizer();
  listEl.scrollTop = calls.pinned ? listEl.scrollHeight : first * ROW_H;
  render();
}

function setSizer() {
  const px = viewCount() * ROW_H;
  if (px !== sizerPx) {
    sizerPx = px;
    sizer.style.setProperty("height", `${px}px`);
  }
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
function fmtTime(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function fmtDateTime(ms) {
  const d = new Date(ms);
  let day = "";
  try {
    day = new Intl.DateTimeFormat(getLang(), { dateStyle: "medium" }).format(d);
  } catch {
    day = d.toDateString();
  }
  return `${day}, ${fmtTime(ms)}`;
}

function outcomeOf(row) {
  if (row.outcome === "refused") {
    const code = row.refusal?.code;
    return { cls: "bad", text: code ? `${t("wbRefused")} · ${code}` : t("wbRefused") };
  }
  const n = warningsOf(row).length;
  if (n) return { cls: "warn", text: t("wbWarnings", { n }) };
  return { cls: "ok", text: t("wbAccepted") };
}
/** "field: message", without repeating a field the message already names. */
const fieldMessage = (w) => {
  const f = String(w?.field ?? "");
  const m = String(w?.message ?? "");
  return !f || m.startsWith(f) ? m : `${f}: ${m}`;
};
const toastClass = (toast) => String(toast).split(/[:\s]/)[0];

function makeRow() {
  const n = el("div", "call-row");
  n.setAttribute("role", "option");
  n.tabIndex = -1;
  n._time = el("span", "c-time");
  n._method = el("span", "c-method");
  n._badge = el("span", "c-outcome badge");
  n._ch = el("span", "c-ch");
  n._toast = el("span", "c-toast");
  const channels = el("span", "c-channels");
  channels.append(n._ch, n._toast);
  n._preview = el("span", "c-preview");
  n.append(n._time, n._method, n._badge, channels, n._preview);
  return n;
}

const sigOf = (row) => `${row.seq}|${row.outcome}|${row.toast ?? ""}|${warningsOf(row).length}|${row.channels?.length ?? 0}`;

function fill(node, row) {
  node._row = row;
  node._sig = sigOf(row);
  node.classList.remove("placeholder");
  node.removeAttribute("aria-busy");
  node.dataset.seq = String(row.seq);
  node.dataset.method = String(row.method);
  node.dataset.outcome = String(row.outcome);
  const warns = warningsOf(row).length;
  if (warns) node.dataset.warnings = String(warns);
  else delete node.dataset.warnings;
  node._time.textContent = fmtTime(row.at_ms);
  node._method.textContent = String(row.method);
  const o = outcomeOf(row);
  const bc = `c-outcome badge ${o.cls}`;
  if (node._badge.className !== bc) node._badge.className = bc;
  node._badge.textContent = o.text;
  if (row.outcome === "refused") {
    node._ch.textContent = row.refusal?.field ? String(row.refusal.field) : "";
    if (node._ch.className !== "c-ch field") node._ch.className = "c-ch field";
    node._toast.textContent = "";
    node.title = row.refusal ? fieldMessage(row.refusal) : "";
  } else {
    const chans = Array.isArray(row.channels) ? row.channels : [];
    const others = chans.filter((c) => c !== "toast").join(" · ");
    const sep = others ? " · " : "";
    node._ch.textContent = others;
    if (node._ch.className !== "c-ch") node._ch.className = "c-ch";
    if (row.toast != null) {
      node._toast.textContent = `${sep}toast: ${row.toast}`;
      const tc = toastClass(row.toast);
      if (node._toast.dataset.toast !== tc) node._toast.dataset.toast = tc;
    } else {
      node._toast.textContent = chans.includes("toast") ? `${sep}toast` : "";
      if (node._toast.dataset.toast) delete node._toast.dataset.toast;
    }
    node.title = warns ? warningsOf(row).map(fieldMessage).join("\n") : "";
  }
  const p = String(row.payload ?? "");
  node._preview.textContent = (p.length > 400 ? p.slice(0, 400) : p).replace(/\s+/g, " ") + (row.payload_cut ? " …" : "");
  node.setAttribute("aria-label", `${fmtTime(row.at_ms)} ${row.method}: ${o.text}`);
}

function fillPlaceholder(node) {
  node._row = null;
  node._sig = "p";
  node.classList.add("placeholder");
  node.setAttribute("aria-busy", "true");
  node.removeAttribute("aria-label");
  node.title = "";
  for (const k of ["seq", "method", "outcome", "warnings"]) delete node.dataset[k];
  for (const c of [node._time, node._method, node._badge, node._ch, node._toast, node._preview]) c.textContent = "";
  node._badge.className = "c-outcome badge";
}

function release(node) {
  node.remove();
  node._row = null;
  node._sig = null;
  node._off = null;
  pool.push(node);
}

function visibleRange(buffer) {
  const count = viewCount();
  const vh = listEl.clientHeight || 600;
  const st = listEl.scrollTop;
  const first = Math.max(0, Math.floor(st / ROW_H) - buffer);
  const last = Math.min(count - 1, Math.ceil((st + vh) / ROW_H) - 1 + buffer);
  return [first, last];
}

function render() {
  setSizer();
  if (!listEl.clientHeight) return; // the Calls tab is hidden
  const count = viewCount();
  const base = baseOf(calls.matching);
  const [first, last] = visibleRange(RENDER_BUFFER);

  // The roving tab stop follows the view unless the user is on a row.
  const focusInList = listEl.contains(document.activeElement) && document.activeElement !== listEl;
  if (!focusInList && count) {
    const lo = Math.ceil(listEl.scrollTop / ROW_H);
    const hi = Math.floor((listEl.scrollTop + listEl.clientHeight) / ROW_H) - 1;
    if (calls.focusIndex < lo || calls.focusIndex > hi || calls.focusIndex >= count) {
      calls.focusIndex = Math.max(0, Math.min(count - 1, calls.pinned ? hi : lo));
    }
  }

  for (const [off, node] of bound) {
    const i = off - base;
    if (i >= first && i <= last) continue;
    if (i >= 0 && i < count && node.contains(document.activeElement)) {
      place(node, i, off); // keeps the focused row, out of view
      continue;
    }
    bound.delete(off);
    release(node);
  }
  for (let i = first; i <= last; i++) {
    const off = base + i;
    let node = bound.get(off);
    if (!node) {
      node = pool.pop() || makeRow();
      bound.set(off, node);
    }
    if (!node.isConnected) listEl.append(node);
    place(node, i, off);
  }
}

function place(node, i, off) {
  const y = i * ROW_H;
  if (node._y !== y) {
    node._y = y;
    node.style.setProperty("transform", `translateY(${y}px)`);
  }
  node._index = i;
  node._off = off;
  const row = calls.cache.get(off)?.row;
  if (row) {
    if (node._sig !== sigOf(row) || node._row?.seq !== row.seq) fill(node, row);
    else node._row = row;
  } else if (node._sig !== "p") fillPlaceholder(node);
  setAttr(node, "aria-posinset", String(off + 1));
  setAttr(node, "aria-setsize", String(calls.matching));
  const selected = !!row && row.seq === calls.selectedSeq;
  setAttr(node, "aria-selected", String(selected));
  node.classList.toggle("selected", selected);
  const tab = i === calls.focusIndex ? 0 : -1;
  if (node.tabIndex !== tab) node.tabIndex = tab;
}

function scrollToBottom() {
  setSizer();
  listEl.scrollTop = listEl.scrollHeight;
  render();
}

/* fetching: one request at a time, coalesced per frame */

function schedule() {
  if (calls.pumpQueued) return;
  calls.pumpQueued = true;
  requestAnimationFrame(() => {
    calls.pumpQueued = false;
    pump();
  });
}

const filterArg = () => ({
  method: calls.filter.method || null,
  outcome: calls.filter.outcome,
  text: calls.filter.text,
});

function visibleRows() {
  return Math.ceil((listEl.clientHeight || 600) / ROW_H) + 1;
}

/** The newest rows, sized to cover what calllog-changed announced. */
function tailRequest() {
  const need = visibleRows() + FETCH_BUFFER;
  const ev = calls.eventCounts || { total: calls.total, dropped: calls.dropped };
  const appended = Math.max(0, (ev.total ?? 0) + (ev.dropped ?? 0) - (calls.total + calls.dropped));
  const drops = Math.max(0, (ev.dropped ?? 0) - calls.dropped);
  if (isDefaultFilter() && calls.eventCounts) {
    // Unfiltered, the new count is known exactly: ask for the bottom rows only.
    const n = Math.max(0, ev.total ?? 0);
    const start = Math.max(0, n - need);
    return { kind: "tail", offset: start, limit: Math.max(1, Math.min(MAX_LIMIT, n - start)), gen: calls.gen };
  }
  // Filtered: the new bottom lies between the old one less the drops and the old one plus the appended.
  const end = calls.matching + appended;
  const start = Math.max(0, Math.min(calls.matching, end) - drops - need, end - MAX_LIMIT);
  return { kind: "tail", offset: start, limit: Math.max(1, Math.min(MAX_LIMIT, end - start)), gen: calls.gen };
}

function nextRequest() {
  if (!calls.known) return { kind: "head", offset: 0, limit: HEAD_LIMIT, gen: calls.gen };
  let must = false;
  if (calls.changed) {
    calls.changed = false;
    if (calls.pinned || viewCount() === 0) return tailRequest();
    must = true;
  }
  const base = baseOf(calls.matching);
  const [a, b] = visibleRange(FETCH_BUFFER);
  let lo = -1;
  let hi = -1;
  for (let i = a; i <= b; i++) {
    const c = calls.cache.get(base + i);
    if (!c || c.gen < calls.gen) {
      if (lo < 0) lo = i;
      hi = i;
    }
  }
  if (lo < 0) return must ? tailRequest() : null;
  // Remember the top visible row: if older rows were dropped meanwhile, it tells how far the view moved.
  const topOff = base + Math.floor(listEl.scrollTop / ROW_H);
  const top = calls.cache.get(topOff)?.row;
  return {
    kind: "range",
    offset: base + lo,
    limit: Math.min(MAX_LIMIT, hi - lo + 1),
    gen: calls.gen,
    anchor: top ? { off: topOff, seq: top.seq } : null,
  };
}

async function pump() {
  if (calls.inflight || calls.failed) return;
  const req = nextRequest();
  if (!req) return;
  calls.inflight = true;
  bench.fetches++;
  const qgen = calls.qgen;
  let res;
  let err;
  try {
    res = await invoke("calllog_page", { filter: filterArg(), offset: req.offset, limit: req.limit });
  } catch (e) {
    err = e;
  }
  calls.inflight = false;
  if (qgen !== calls.qgen) {
    schedule(); // a newer query took over
    return;
  }
  if (err !== undefined || !res || typeof res !== "object") {
    calls.failed = errText(err ?? "no answer");
    paintStates();
    listEl.setAttribute("aria-busy", "false");
    return;
  }
  onPage(req, res);
  activity();
  schedule(); // fill what is still missing
}

function onPage(req, res) {
  const rows = Array.isArray(res.rows) ? res.rows : [];
  const prev = { total: calls.total, dropped: calls.dropped, matching: calls.matching };
  const total = Number(res.total) || 0;
  const dropped = Number(res.dropped) || 0;
  const matching = Number(res.matching) || 0;
  const wasKnown = calls.known;
  const cleared = wasKnown && total + dropped < prev.total + prev.dropped;
  const prevBase = baseOf(prev.matching);
  const st = listEl.scrollTop;
  const topIdx = Math.floor(st / ROW_H);
  const frac = st - topIdx * ROW_H;

  // Older rows dropped by the cap move every offset down: by how many matching rows?
  let shift = 0;
  if (wasKnown && !cleared && dropped > prev.dropped) {
    const d = dropped - prev.dropped;
    const at = req.anchor ? rows.findIndex((r) => r.seq === req.anchor.seq) : -1;
    if (isDefaultFilter()) shift = d;
    else if (at >= 0) shift = req.anchor.off - (req.offset + at);
    else shift = Math.round((d * prev.matching) / Math.max(1, prev.total + d));
    shift = Math.max(0, Math.min(shift, prev.matching));
  }
  if (cleared) {
    calls.cache.clear();
    calls.pendingNew = 0;
  } else if (shift) {
    const moved = new Map();
    for (const [off, c] of calls.cache) if (off - shift >= 0) moved.set(off - shift, c);
    calls.cache = moved;
    for (const [off, node] of [...bound]) {
      bound.delete(off);
      if (off - shift >= 0 && !bound.has(off - shift)) bound.set(off - shift, node);
      else release(node);
    }
  }
  if (wasKnown && !calls.pinned && !cleared) {
    const appended = isDefaultFilter()
      ? Math.max(0, total + dropped - (prev.total + prev.dropped))
      : Math.max(0, matching - prev.matching + shift);
    calls.pendingNew += appended;
  }

  calls.total = total;
  calls.dropped = dropped;
  calls.matching = matching;
  calls.known = true;
  rows.forEach((r, k) => calls.cache.set(req.offset + k, { row: r, gen: req.gen }));
  trimCache();
  noteMethods(rows);

  if (!wasKnown || calls.pinned) scrollToBottom();
  else {
    const newBase = baseOf(matching);
    if (shift || newBase !== prevBase) {
      setSizer();
      listEl.scrollTop = Math.max(0, prevBase + topIdx - shift - newBase) * ROW_H + frac;
    }
    render();
  }
  listEl.setAttribute("aria-busy", "false");
  paintCounts();
  paintStates();
  updatePill();
  refreshDetailFrom(rows);
}

function trimCache() {
  if (calls.cache.size <= 6000) return;
  const base = baseOf(calls.matching);
  const [a, b] = visibleRange(0);
  for (const off of calls.cache.keys()) {
    const i = off - base;
    if (i < a - 1500 || i > b + 1500) calls.cache.delete(off);
  }
}

function noteMethods(rows) {
  const sel = $("calls-filter-method");
  for (const r of rows) {
    const m = r && typeof r.method === "string" ? r.method : null;
    if (!m || calls.methods.has(m) || calls.methods.size >= KNOWN_METHODS.length + 20) continue;
    calls.methods.add(m);
    const o = el("option", null, m);
    o.value = m;
    sel.append(o);
  }
}

function resetCalls() {
  calls.qgen++;
  calls.cache.clear();
  calls.known = false;
  calls.changed = false;
  calls.failed = null;
  calls.pinned = true;
  calls.pendingNew = 0;
  calls.focusIndex = -1;
  listEl.setAttribute("aria-busy", "true");
  updatePill();
  paintStates();
  schedule();
}

function onLogChanged(p) {
  calls.eventCounts = p && typeof p === "object" ? p : null;
  calls.gen++;
  if (calls.failed) {
    calls.failed = null;
    paintStates();
  }
  // Pinned to the bottom of the unfiltered log, the event's own rows are all
  // the view needs: no request. (Measured: while a page floods the API, this
  // window's requests with sizeable answers froze every WebKitGTK page of the
  // app for ~1 s at a time; events do not.)
  const tail = calls.eventCounts && Array.isArray(calls.eventCounts.tail) ? calls.eventCounts.tail : null;
  const total = Number(calls.eventCounts?.total) || 0;
  if (tail && calls.known && calls.pinned && !calls.inflight && isDefaultFilter() && tail.length >= Math.min(total, visibleRows() + 1)) {
    const req = { kind: "tail", offset: total - tail.length, limit: tail.length, gen: calls.gen };
    onPage(req, { total, dropped: calls.eventCounts.dropped, matching: total, rows: tail });
    activity();
    return;
  }
  calls.changed = true;
  schedule();
  activity();
}

/* painting counts, states, the "new" pill */

function paintCounts() {
  const c = $("calls-count");
  const text = t("wbCount", { matching: calls.matching, total: calls.total });
  if (c.textContent !== text) c.textContent = text;
  c.dataset.matching = String(calls.matching);
  c.dataset.total = String(calls.total);
  c.dataset.dropped = String(calls.dropped);
  c.title = t("wbCountTitle", { matching: calls.matching, total: calls.total });
  const d = $("calls-dropped");
  d.hidden = !calls.dropped;
  if (calls.dropped) {
    d.textContent = t("wbDropped", { n: calls.dropped });
    d.title = t("wbDroppedTitle", { n: calls.dropped });
  }
}

function paintStates() {
  const err = $("calls-error");
  err.hidden = !calls.failed;
  if (calls.failed) $("calls-error-text").textContent = t("wbLoadFailed", { error: calls.failed });
  const empty = $("calls-empty");
  const show = !calls.failed && calls.known && calls.matching === 0;
  empty.hidden = !show;
  if (show) {
    const none = calls.total === 0;
    empty.dataset.kind = none ? "none" : "filter";
    $("calls-empty-title").textContent = t(none ? "wbEmptyTitle" : "wbNoMatchTitle");
    $("calls-empty-help").textContent = none ? t("wbEmptyHelp") : t("wbNoMatchHelp", { n: calls.total });
    $("calls-empty-action").textContent = t(none ? "wbEmptyAction" : "wbResetFilter");
  }
}

function updatePill() {
  const show = calls.pendingNew > 0 && !calls.pinned;
  pill.hidden = !show;
  if (show) pill.textContent = t("wbNew", { n: calls.pendingNew });
}

pill.addEventListener("click", () => {
  calls.pendingNew = 0;
  calls.pinned = true;
  updatePill();
  scrollToBottom();
  schedule();
});

$("calls-retry").addEventListener("click", () => {
  calls.failed = null;
  paintStates();
  schedule();
});

$("calls-empty-action").addEventListener("click", () => {
  if ($("calls-empty").dataset.kind === "filter") {
    $("calls-filter-method").value = "";
    $("calls-filter-outcome").value = "all";
    $("calls-filter-text").value = "";
    applyFilter();
  } else openWith(null, "workbench_playground");
});

/* scrolling */

listEl.addEventListener(
  "scroll",
  () => {
    if (listEl.clientHeight) {
      const atBottom = listEl.scrollTop + listEl.clientHeight >= listEl.scrollHeight - ROW_H / 2;
      calls.pinned = atBottom;
      if (atBottom && calls.pendingNew) calls.pendingNew = 0;
      updatePill();
    }
    render();
    schedule();
    activity();
  },
  { passive: true },
);
// Scrolling up unpins at once, before the scroll event, so a refresh landing in between does not pull the view back down.
listEl.addEventListener(
  "wheel",
  (ev) => {
    if (ev.deltaY < 0 && listEl.scrollTop > 0) calls.pinned = false;
  },
  { passive: true },
);
if (typeof ResizeObserver === "function")
  new ResizeObserver(() => {
    measure();
    const node = document.activeElement?.closest?.(".call-row");
    if (node && listEl.contains(node) && listEl.clientHeight) ensureVisible(node._index);
    else if (calls.pinned && listEl.clientHeight) scrollToBottom();
    else render();
    schedule();
  }).observe(listEl);

function callsShown() {
  requestAnimationFrame(() => {
    if (calls.pinned) scrollToBottom();
    else render();
    schedule();
  });
}

/* filters */

function applyFilter() {
  calls.filter = {
    method: $("calls-filter-method").value || null,
    outcome: $("calls-filter-outcome").value || "all",
    text: $("calls-filter-text").value.trim(),
  };
  resetCalls();
}
$("calls-filter-method").addEventListener("change", applyFilter);
$("calls-filter-outcome").addEventListener("change", applyFilter);
let textTimer = 0;
$("calls-filter-text").addEventListener("input", () => {
  clearTimeout(textTimer);
  textTimer = setTimeout(() => {
    if ($("calls-filter-text").value.trim() !== calls.filter.text) applyFilter();
  }, 200);
});
$("calls-filter-text").addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && ev.currentTarget.value) {
    ev.preventDefault();
    clearTimeout(textTimer);
    ev.currentTarget.value = "";
    applyFilter();
  } else if (ev.key === "ArrowDown" && viewCount()) {
    ev.preventDefault();
    focusRow(calls.focusIndex >= 0 ? calls.focusIndex : viewCount() - 1);
  }
});

$("calls-clear").addEventListener("click", async (ev) => {
  const b = ev.currentTarget;
  b.disabled = true;
  try {
    await invoke("calllog_clear");
    closeDetail();
    resetCalls();
    say(t("wbCleared"));
  } catch (e) {
    say(t("wbFailed", { what: t("wbClear"), error: errText(e) }), true);
  } finally {
    b.disabled = false;
  }
});

$("calls-export").addEventListener("click", async (ev) => {
  const b = ev.currentTarget;
  b.disabled = true;
  try {
    const path = await invoke("calllog_export", { path: null });
    if (path) say(t("wbExported", { path: String(path) }));
  } catch (e) {
    say(t("wbFailed", { what: t("wbExport"), error: errText(e) }), true);
  } finally {
    b.disabled = false;
  }
});

/* keyboard and selection */

/** Scrolls the least needed to show row i (the detail pane may have just shrunk the list). */
function ensureVisible(i) {
  const vh = listEl.clientHeight;
  const top = i * ROW_H;
  if (top < listEl.scrollTop) listEl.scrollTop = top;
  else if (top + ROW_H > listEl.scrollTop + vh) listEl.scrollTop = top + ROW_H - vh;
  render();
}

function focusRow(i) {
  const count = viewCount();
  if (!count) return;
  i = Math.max(0, Math.min(count - 1, i));
  calls.focusIndex = i;
  ensureVisible(i);
  const node = bound.get(baseOf(calls.matching) + i);
  if (node) node.focus({ preventScroll: true });
  render();
  schedule();
}

listEl.addEventListener("keydown", (ev) => {
  const node = ev.target.closest?.(".call-row");
  if (!node || ev.target !== node) return;
  const i = node._index ?? calls.focusIndex;
  const page = Math.max(1, Math.floor(listEl.clientHeight / ROW_H) - 1);
  const to = keyTarget(ev.key, i, page, viewCount() - 1);
  if (to !== null) {
    ev.preventDefault();
    focusRow(to);
    return;
  }
  switch (ev.key) {
    case "Enter":
    case " ":
      ev.preventDefault();
      if (node._row) selectRow(node._row);
      return;
    case "Escape":
      if (calls.selectedSeq != null) {
        ev.preventDefault();
        closeDetail();
      }
      return;
  }
});

listEl.addEventListener("focus", () => {
  if (viewCount()) focusRow(calls.focusIndex >= 0 ? calls.focusIndex : viewCount() - 1);
});

listEl.addEventListener("click", (ev) => {
  const node = ev.target.closest(".call-row");
  if (!node || !node._row) return;
  calls.focusIndex = node._index;
  selectRow(node._row);
  node.focus({ preventScroll: true });
  render();
});

/* ---------- the detail pane ---------- */

const detail = { entry: null, token: 0, full: false };

function selectRow(row) {
  calls.selectedSeq = row.seq;
  render();
  showDetail(row);
}

async function showDetail(row) {
  const token = ++detail.token;
  detail.entry = row;
  detail.full = false;
  paintDetail(row, row.payload_cut);
  try {
    const full = await invoke("calllog_get", { seq: row.seq });
    if (token !== detail.token) return;
    if (full) {
      detail.entry = full;
      detail.full = true;
      paintDetail(full, false);
    } else {
      paintDetail(row, false, true);
    }
  } catch (e) {
    if (token !== detail.token) return;
    paintDetail(row, false);
    say(t("wbFailed", { what: "calllog_get", error: errText(e) }), true);
  }
}

function closeDetail() {
  detail.token++;
  detail.entry = null;
  calls.selectedSeq = null;
  $("call-detail").dataset.seq = "";
  $("call-detail-body").hidden = true;
  $("call-detail-empty").hidden = false;
  $("panel-calls").classList.remove("has-detail");
  $("call-copy").disabled = true;
  $("call-resend").disabled = true;
  render();
}

/** A toast result arrived, or the row changed: repaint the detail (payload kept). */
function refreshDetailFrom(rows) {
  const cur = detail.entry;
  if (!cur) return;
  const row = rows.find((r) => r.seq === cur.seq);
  if (!row || sigOf(row) === sigOf(cur)) return;
  detail.entry = { ...row, payload: cur.payload, payload_cut: cur.payload_cut };
  paintDetail(detail.entry, false);
}

function section(titleKey, ...content) {
  const s = el("section", "d-section");
  s.dataset.part = titleKey;
  s.append(el("h3", null, t(titleKey)), ...content);
  return s;
}

function dl(pairs) {
  const d = el("dl");
  for (const [label, value, cls] of pairs) {
    if (value == null || value === "") continue;
    const dd = el("dd", cls);
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    d.append(el("dt", null, label), dd);
  }
  return d;
}

function prettyPayload(text) {
  const p = parseJson(text);
  if ("value" in p) return { text: JSON.stringify(p.value, null, 2), json: true };
  return { text, json: false };
}

function paintDetail(e, loadingFull = false, gone = false) {
  const box = $("call-detail");
  box.dataset.seq = String(e.seq);
  box.dataset.outcome = String(e.outcome);
  $("call-detail-empty").hidden = true;
  $("call-detail-body").hidden = false;
  $("panel-calls").classList.add("has-detail");
  $("call-detail-title").textContent = `#${e.seq} ${e.method}()`;
  const o = outcomeOf(e);
  const badge = $("call-detail-badge");
  badge.className = `badge ${o.cls}`;
  badge.textContent = o.text;
  $("call-copy").disabled = false;
  $("call-resend").disabled = gone;

  const parts = [];
  if (gone) parts.push(el("p", "note bad", t("wbGone")));

  const chans = Array.isArray(e.channels) ? e.channels : [];
  let chanNode = null;
  if (e.outcome !== "refused") {
    chanNode = el("span", "chips");
    if (!chans.length) chanNode.append(el("span", "muted", t("wbNone")));
    for (const c of chans) chanNode.append(el("span", "chip", c));
  }
  let toastNode = null;
  if (e.toast != null) {
    toastNode = el("span", "toast-state", String(e.toast));
    toastNode.dataset.toast = toastClass(e.toast);
  }
  const size = t("wbBytes", { n: Number(e.payload_bytes) || 0 });
  parts.push(
    dl([
      [t("wbTime"), fmtDateTime(e.at_ms)],
      [t("wbSource"), e.source, "mono"],
      [t("wbId"), e.id, "mono"],
      [t("wbRoute"), e.route ? t(e.route === "center" ? "wbRouteCenter" : "wbRouteInterface") : null],
      [t("wbChannels"), chanNode],
      [t("wbToastResult"), toastNode],
      [t("wbSize"), size],
    ]),
  );

  if (e.refusal) {
    const r = e.refusal;
    const s = section("wbRefusal", dl([[t("wbCode"), r.code, "mono"], [t("wbField"), r.field, "mono"], [t("wbMessage"), r.message]]));
    s.classList.add("refusal");
    parts.push(s);
  }
  const warns = warningsOf(e);
  if (warns.length) {
    const ul = el("ul", "warnings");
    for (const w of warns) {
      const li = el("li");
      const field = String(w.field ?? "");
      const msg = String(w.message ?? "");
      // Messages usually name their field already ("date: …").
      if (field && !msg.startsWith(field)) li.append(el("code", null, field), ": ");
      li.append(el("span", null, msg));
      ul.append(li);
    }
    const s = section("wbWarningsTitle", ul);
    s.classList.add("warned");
    parts.push(s);
  }

  const payload = String(e.payload ?? "");
  const pretty = e.payload_cut ? { text: payload, json: false } : prettyPayload(payload);
  const pre = el("pre", "code", pretty.text);
  pre.id = "call-payload";
  pre.tabIndex = 0;
  const notes = [];
  if (loadingFull) notes.push(el("p", "note", t("wbLoadingFull")));
  else if (e.payload_cut) notes.push(el("p", "note", t("wbCutNote")));
  else if (!pretty.json) notes.push(el("p", "note", t("wbNotJson")));
  parts.push(section("wbPayloadSent", ...notes, pre));

  if (e.notification && typeof e.notification === "object") {
    const n = { ...e.notification };
    if (n.payload == null) delete n.payload; // the payload is shown above
    const pn = el("pre", "code", JSON.stringify(n, null, 2));
    pn.tabIndex = 0;
    parts.push(section("wbNormalised", pn));
  }
  $("call-detail-content").replaceChildren(...parts);
}

$("call-close").addEventListener("click", () => {
  const seq = calls.selectedSeq;
  closeDetail();
  const node = [...bound.values()].find((n) => n._row?.seq === seq);
  if (node) focusRow(node._index);
});

$("call-copy").addEventListener("click", async () => {
  const e = detail.entry;
  if (!e) return;
  const text = String(e.payload ?? "");
  try {
    if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
    await navigator.clipboard.writeText(text);
    say(t("wbCopied"));
  } catch {
    const pre = $("call-payload");
    if (!pre) return;
    const range = document.createRange();
    range.selectNodeContents(pre);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    say(t(ok ? "wbCopied" : "wbCopyManual"));
  }
});

$("call-resend").addEventListener("click", async (ev) => {
  const e = detail.entry;
  if (!e) return;
  const b = ev.currentTarget;
  b.disabled = true;
  try {
    await invoke("calllog_resend", { seq: e.seq });
    say(t("wbResent"));
    calls.pendingNew = 0;
    calls.pinned = true;
    updatePill();
    scrollToBottom();
  } catch (err) {
    say(t("wbFailed", { what: t("wbResend"), error: errText(err) }), true);
  } finally {
    b.disabled = false;
  }
});

/* ---------- settings (moved here from the start page) ---------- */

let currentSettings = {};
let settingsDirty = false;

function fillSettings(s) {
  currentSettings = s || {};
  $("account").value = s.account_url || "";
  $("minimized").checked = !!s.start_minimized;
  $("dnd").checked = !!s.do_not_disturb;
  $("calls").checked = s.calls_break_through !== false;
  $("language").value = s.language || "auto";
  settingsDirty = false;
  const status = $("account-status");
  status.classList.remove("bad");
  status.textContent = s.account_url ? "" : t("noAccount");
}

async function loadSettings() {
  try {
    const s = await invoke("get_settings");
    if (s) fillSettings(s);
  } catch (e) {
    const status = $("account-status");
    status.textContent = errText(e);
    status.classList.add("bad");
  }
}

$("settings").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("account-status");
  const before = getLang();
  try {
    const s = await invoke("set_settings", {
      settings: {
        ...currentSettings,
        account_url: $("account").value,
        start_minimized: $("minimized").checked,
        do_not_disturb: $("dnd").checked,
        calls_break_through: $("calls").checked,
        language: $("language").value,
      },
    });
    fillSettings(s);
    if (setLang(s.language || "auto") !== before) relocalize();
    status.textContent = t("saved");
    status.classList.remove("bad");
  } catch (e) {
    status.textContent = errText(e);
    status.classList.add("bad");
  }
});
$("account").addEventListener("input", () => (settingsDirty = true));
// Switches and the language take effect as soon as they change.
for (const id of ["minimized", "dnd", "calls", "language"]) {
  $(id).addEventListener("change", () => $("settings").requestSubmit());
}
// The tray can change do-not-disturb: re-read when the window comes back.
window.addEventListener("focus", () => {
  if (!$("panel-settings").hidden && !settingsDirty && document.activeElement?.id !== "account") loadSettings();
});

/* ---------- profile ---------- */

const profile = { saved: null, dirty: false };
const JSON_FIELDS = ["user", "account", "managers"];
const PROFILE_IDS = {
  lang: "profile-lang",
  area: "profile-area",
  entity: "profile-entity",
  card_id: "profile-card-id",
  user: "profile-user",
  account: "profile-account",
  managers: "profile-managers",
};

function fieldError(name, msg) {
  const input = $(PROFILE_IDS[name]);
  const p = $(`${PROFILE_IDS[name]}-error`);
  p.textContent = msg || "";
  if (msg) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function fillProfile(p) {
  profile.saved = p;
  profile.dirty = false;
  $("profile-lang").value = p.lang ?? "";
  $("profile-area").value = p.area ?? "";
  $("profile-entity").value = p.entity ?? "";
  $("profile-card-id").value = p.card_id == null ? "" : String(p.card_id);
  for (const f of JSON_FIELDS) $(PROFILE_IDS[f]).value = JSON.stringify(p[f] ?? {}, null, 2);
  for (const f of Object.keys(PROFILE_IDS)) fieldError(f, "");
  const st = $("profile-status");
  st.textContent = "";
  st.classList.remove("bad");
}

/** Checks one JSON field; returns the object or undefined (with the error shown). */
function checkJsonField(f) {
  const ta = $(PROFILE_IDS[f]);
  const r = parseJson(ta.value);
  if (!("value" in r)) {
    fieldError(f, r.line ? `${r.error} (${t("jsonAt", { line: r.line, col: r.col })})` : r.error);
    return { bad: true, offset: r.offset };
  }
  if (!isPlainObject(r.value)) {
    fieldError(f, t("jsonNotObject"));
    return { bad: true };
  }
  fieldError(f, "");
  return { value: r.value };
}

function checkCardId() {
  const v = $("profile-card-id").value.trim();
  if (!/^\d{1,16}$/.test(v)) {
    fieldError("card_id", t("profileCardIdBad"));
    return null;
  }
  fieldError("card_id", "");
  return Number(v);
}

function collectProfile() {
  let firstBad = null;
  const out = { ...(profile.saved || {}) };
  for (const f of ["lang", "area", "entity"]) {
    out[f] = $(PROFILE_IDS[f]).value.trim();
    fieldError(f, "");
  }
  const card = checkCardId();
  if (card == null) firstBad = firstBad || { f: "card_id" };
  else out.card_id = card;
  for (const f of JSON_FIELDS) {
    const r = checkJsonField(f);
    if (r.bad) firstBad = firstBad || { f, offset: r.offset };
    else out[f] = r.value;
  }
  return { profile: out, firstBad };
}

const jsonTimers = {};
for (const f of JSON_FIELDS) {
  $(PROFILE_IDS[f]).addEventListener("input", () => {
    markProfileDirty();
    clearTimeout(jsonTimers[f]);
    jsonTimers[f] = setTimeout(() => checkJsonField(f), 250);
  });
}
for (const f of ["lang", "area", "entity"]) {
  $(PROFILE_IDS[f]).addEventListener("input", () => {
    markProfileDirty();
    fieldError(f, "");
  });
}
$("profile-card-id").addEventListener("input", () => {
  markProfileDirty();
  if ($("profile-card-id-error").textContent) checkCardId();
});

function markProfileDirty() {
  profile.dirty = true;
  const st = $("profile-status");
  st.textContent = t("profileChanged");
  st.classList.remove("bad");
}

$("profile").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const st = $("profile-status");
  const { profile: p, firstBad } = collectProfile();
  if (firstBad) {
    st.textContent = t("profileInvalid");
    st.classList.add("bad");
    const input = $(PROFILE_IDS[firstBad.f]);
    input.focus();
    if (firstBad.offset != null && input.setSelectionRange) input.setSelectionRange(firstBad.offset, firstBad.offset + 1);
    return;
  }
  const btn = $("profile-save");
  btn.disabled = true;
  try {
    const saved = await invoke("profile_set", { profile: p });
    fillProfile(saved || p);
    st.textContent = t("profileSaved");
    st.classList.remove("bad");
  } catch (e) {
    const msg = errText(e);
    st.textContent = msg;
    st.classList.add("bad");
    // The backend names the field first ("area: …", "user.id: …").
    const m = /^([a-z_]+)[.:]/.exec(msg);
    if (m && PROFILE_IDS[m[1]]) {
      fieldError(m[1], msg);
      $(PROFILE_IDS[m[1]]).focus();
    }
  } finally {
    btn.disabled = false;
  }
});
$("profile-revert").addEventListener("click", () => {
  if (profile.saved) fillProfile(profile.saved);
});

/* ---------- language ---------- */

function relocalize() {
  applyI18n();
  document.title = t("wbWindowTitle");
  applyTarget(wb.target);
  paintRecent(wb.recent);
  paintCounts();
  paintStates();
  updatePill();
  for (const n of bound.values()) n._sig = null;
  render();
  if (detail.entry) paintDetail(detail.entry, false);
  if (!$("account").value) $("account-status").textContent = t("noAccount");
}

/* ---------- start ---------- */

async function start() {
  measure();
  const settings = await invoke("get_settings").catch(() => null);
  setLang(settings?.language || "auto");
  applyI18n();
  document.title = t("wbWindowTitle");
  if (settings) fillSettings(settings);
  applyTarget(null);
  paintRecent([]);
  paintCounts();
  try {
    await listen("calllog-changed", onLogChanged);
    await listen("workbench-target", (tg) => {
      applyTarget(tg);
      refreshState();
    });
  } catch (e) {
    console.warn("workbench: cannot listen to events", e);
  }
  refreshState();
  resetCalls();
  document.body.dataset.ready = "true";
}

setLang("auto");
applyI18n();
start();
