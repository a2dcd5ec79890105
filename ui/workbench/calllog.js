// The call log: every APP.notifications call in a virtualised list (recycled rows,
// only the visible range + a buffer fetched through calllog_page), its filters and keys.
import { keyTarget } from "../shared/listnav.js";
import { t, getLang } from "../shared/i18n.js";
import { invoke, $, el, errText, setAttr, say } from "./common.js";
import { openWith } from "./toolbar.js";

export {
  calls, bound, measure, render, scrollToBottom, focusRow, resetCalls, onLogChanged, callsShown,
  paintCounts, paintStates, updatePill, fmtDateTime, outcomeOf, warningsOf, toastClass, sigOf, detailPane,
};

// The detail pane's entry points, filled in by detail.js: it imports this module, so
// this one reaches it through these instead of importing it back.
const detailPane = { selectRow: null, closeDetail: null, refreshDetailFrom: null };
const selectRow = (row) => detailPane.selectRow(row);
const closeDetail = () => detailPane.closeDetail();
const refreshDetailFrom = (rows) => detailPane.refreshDetailFrom(rows);

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
  // Calls the widget host answered itself: crm_post, the telephony calls.
  if (row.outcome === "answered" || row.outcome === "recorded") return { cls: "ok", text: row.outcome };
  if (row.outcome === "failed") return { cls: "bad", text: row.outcome };
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
    const path = await invoke("calllog_export");
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
