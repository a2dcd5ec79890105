// History window of the notification center: every add_call / add_error kept by the
// backend, newest first, in a virtualised list (fixed row height, recycled nodes,
// keyset paging), with search, filters, read state and live updates.
import { t, setLang, getLang, applyI18n } from "../shared/i18n.js";
import { keyTarget } from "../shared/listnav.js";

const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
const $ = (id) => document.getElementById(id);

// Row height comes from --row-h in history.css (it grows in narrow windows).
let ROW_H = 92;
const PAGE = 100; // rows per request
const BUFFER = 6; // rows rendered above and below the viewport
const LOOKAHEAD = 40; // start loading the next page this many rows before the end
const MAX_PX = 30_000_000; // WebKit caps element heights at ~33.5M px
let MAX_ROWS = Math.floor(MAX_PX / ROW_H) - PAGE; // rows we ever keep loaded

/** Reads the row height from CSS; on a change keeps the first visible row in place. */
function measure() {
  const h = parseFloat(getComputedStyle(listEl).getPropertyValue("--row-h")) || 92;
  if (h === ROW_H) return false;
  const first = Math.floor(listEl.scrollTop / ROW_H);
  ROW_H = h;
  MAX_ROWS = Math.floor(MAX_PX / ROW_H) - PAGE;
  render(); // resizes the spacer first, so the new scroll position is not clamped
  listEl.scrollTop = first * ROW_H;
  return true;
}
const SEARCH_DEBOUNCE = 150;
const FILTERS = ["all", "calls", "errors", "unread"];

const listEl = $("history-list");
const sizer = listEl.querySelector(".sizer");
const searchEl = $("history-search");
const pill = $("history-new");
const dialog = $("history-detail");

let langReady = Promise.resolve();

const state = {
  search: "",
  filter: "all",
  after: null, // only rows after this seq: "what arrived while you were away"
  rows: [], // loaded rows, newest first
  index: new Map(), // seq -> position in rows
  total: 0, // rows matching search + filter
  totalExact: true, // false when a search count was capped by the backend ("10000+")
  nextBefore: null, // before_seq of the next older page
  unread: 0,
  exhausted: false, // no older rows left to load
  gen: 0, // bumped on every new query; responses of older generations are dropped
  loadingFirst: false,
  loadingMore: false,
  failed: null, // "first" | "more" | null
  loaded: false, // the current query has its first page
  focusIndex: 0, // roving tabindex position
  pendingNew: 0, // rows added above while the user was scrolled down
  pendingReset: false, // too many new rows to merge: reload on "show"
  openSeq: null, // row shown in the detail dialog
};

/* ---------- small helpers ---------- */

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
};

const svgNS = "http://www.w3.org/2000/svg";
function icon(kind) {
  const s = document.createElementNS(svgNS, "svg");
  s.setAttribute("viewBox", "0 0 20 20");
  s.setAttribute("width", "18");
  s.setAttribute("height", "18");
  s.setAttribute("aria-hidden", "true");
  s.setAttribute("focusable", "false");
  const p = document.createElementNS(svgNS, "path");
  p.setAttribute("fill", "currentColor");
  p.setAttribute(
    "d",
    kind === "call"
      ? "M6.6 2.5c.5-.2 1 0 1.3.4l1.6 2.6c.3.5.2 1.1-.2 1.5L8.1 8.2c.8 1.6 2.1 2.9 3.7 3.7l1.2-1.2c.4-.4 1-.5 1.5-.2l2.6 1.6c.4.3.6.8.4 1.3l-.7 2c-.2.6-.8 1-1.4 1C8.8 16.2 3.8 11.2 3.6 4.6c0-.6.4-1.2 1-1.4z"
      : "M10 2.2c.5 0 .9.3 1.2.7l6.6 12c.5.9-.2 2-1.2 2H3.4c-1 0-1.7-1.1-1.2-2l6.6-12c.3-.4.7-.7 1.2-.7zM9 7v4.5h2V7zm0 6v2h2v-2z",
  );
  s.append(p);
  return s;
}

function fmtDuration(s) {
  const v = Math.max(0, Math.round(Number(s) || 0));
  return `${Math.floor(v / 60)}:${String(v % 60).padStart(2, "0")}`;
}

let fmtCache = null;
function formatters() {
  const lang = getLang();
  if (!fmtCache || fmtCache.lang !== lang) {
    fmtCache = {
      lang,
      time: new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" }),
      day: new Intl.DateTimeFormat(lang, { day: "numeric", month: "short" }),
      dayYear: new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric" }),
      full: new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "medium" }),
    };
  }
  return fmtCache;
}

/** Short local time for a row: "14:05" today, "12 Aug, 14:05" this year, else with the year. */
function fmtDateShort(ms) {
  const f = formatters();
  const d = new Date(ms);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return f.time.format(d);
  const day = d.getFullYear() === now.getFullYear() ? f.day.format(d) : f.dayYear.format(d);
  return `${day}, ${f.time.format(d)}`;
}
const fmtDateFull = (ms) => formatters().full.format(new Date(ms));

let statusTimer = 0;
function say(msg, bad = false) {
  const s = $("history-status");
  s.textContent = msg;
  s.classList.toggle("bad", bad);
  s.classList.toggle("shown", !!msg);
  clearTimeout(statusTimer);
  if (msg) statusTimer = setTimeout(() => say(""), bad ? 6000 : 2500);
}

const errText = (e) => (e && typeof e === "object" ? e.message || JSON.stringify(e) : String(e));

/* ---------- backend ---------- */

function fetchPage(beforeSeq) {
  return invoke("history_list", {
    query: {
      search: state.search.trim() === "" ? null : state.search.trim(),
      filter: state.filter,
      before_seq: beforeSeq ?? null,
      after_seq: state.after,
      limit: PAGE,
    },
  });
}

/** Takes the counts and paging cursor of a response. */
function takePage(res, rows) {
  state.total = res.total ?? state.total;
  state.totalExact = res.total_exact !== false;
  state.unread = res.unread ?? state.unread;
  if ("next_before_seq" in res) {
    state.nextBefore = res.next_before_seq;
    state.exhausted = res.next_before_seq == null;
  } else {
    state.nextBefore = rows.length ? rows[rows.length - 1].seq : null;
    state.exhausted = rows.length < PAGE;
  }
}

function setRows(rows) {
  state.rows = rows;
  reindex();
}
function reindex() {
  state.index = new Map();
  state.rows.forEach((r, i) => state.index.set(r.seq, i));
}

/** Loads the first (newest) page of the current query, replacing what is shown. */
async function reload() {
  const gen = ++state.gen;
  state.loadingFirst = true;
  state.loadingMore = false;
  state.failed = null;
  state.pendingNew = 0;
  state.pendingReset = false;
  updatePill();
  listEl.setAttribute("aria-busy", "true");
  listEl.classList.add("stale");
  // Only show the spinner when nothing is shown yet, or the request is slow.
  const spin = setTimeout(() => gen === state.gen && showLoading(true), state.loaded ? 250 : 0);
  try {
    // The first page may have come with the window (see start()).
    const ready = bootPage;
    bootPage = null;
    const res = ready ?? (await fetchPage(null));
    await langReady; // paint in the user's language from the first frame
    if (gen !== state.gen) return; // a newer query took over
    setRows(res.rows || []);
    takePage(res, state.rows);
    state.loaded = true;
    state.focusIndex = 0;
    closeDetail(false);
    listEl.scrollTop = 0;
  } catch (e) {
    await langReady;
    if (gen !== state.gen) return;
    state.failed = "first";
    state.lastError = errText(e);
    setRows([]);
    state.loaded = false;
  } finally {
    if (gen === state.gen) {
      clearTimeout(spin);
      state.loadingFirst = false;
      showLoading(false);
      listEl.classList.remove("stale");
      listEl.setAttribute("aria-busy", "false");
      paintAll();
      markPainted();
    }
  }
}

/** Appends the next (older) page. */
async function loadMore() {
  if (state.loadingMore || state.loadingFirst || state.exhausted || state.failed || !state.rows.length) return;
  if (state.rows.length >= MAX_ROWS) return;
  const gen = state.gen;
  state.loadingMore = true;
  const last = state.rows[state.rows.length - 1].seq;
  const before = state.nextBefore != null && state.nextBefore <= last ? state.nextBefore : last;
  try {
    const res = await fetchPage(before);
    if (gen !== state.gen) return;
    const add = (res.rows || []).filter((r) => r.seq < before && !state.index.has(r.seq));
    for (const r of add) {
      state.index.set(r.seq, state.rows.length);
      state.rows.push(r);
    }
    takePage(res, state.rows);
  } catch (e) {
    if (gen !== state.gen) return;
    state.failed = "more";
    state.lastError = errText(e);
  } finally {
    if (gen === state.gen) {
      state.loadingMore = false;
      paintAll();
    }
  }
}

/* ---------- live updates ---------- */

let refreshing = false;
let refreshAgain = false;
let refreshTimer = 0;

const changedSeqs = new Set(); // rows the backend says changed (e.g. replaced in place)

/* ---------- footer: retention and size (history_stats) ---------- */

let statsTimer = null;
let lastStats = null;

function paintStats() {
  const s = lastStats;
  if (!s) return;
  const mib = s.bytes / 1048576;
  const size = t("sizeMiB", { n: mib < 10 ? mib.toFixed(1) : String(Math.round(mib)) });
  let text = s.keep_days > 0 ? t("keptDays", { n: s.keep_days, size }) : t("keptForever", { size });
  if (s.keep_rows > 0) text += ` · ${t("keptRows", { n: s.keep_rows })}`;
  const node = $("history-stats");
  if (node.textContent !== text) node.textContent = text;
  node.dataset.bytes = String(s.bytes);
}

async function loadStats() {
  try {
    lastStats = await invoke("history_stats");
    paintStats();
  } catch (e) {
    console.warn("history_stats", e);
  }
}

/** At most one stats read per 5 s while rows arrive. */
function statsSoon() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    loadStats();
  }, 5000);
}

function onHistoryChanged(p) {
  statsSoon();
  if (p && typeof p.seq === "number") changedSeqs.add(p.seq);
  if (p && typeof p.unread === "number") {
    state.unread = p.unread;
    if (state.filter === "all" && state.after === null && !state.search.trim() && typeof p.total === "number") state.total = p.total;
    paintCounts();
  }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 60); // coalesce bursts
}

/** Re-reads the newest page and merges it in, keeping the user's place. */
async function refresh() {
  if (!state.loaded || state.loadingFirst) {
    if (state.failed === "first") reload();
    return;
  }
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  const gen = state.gen;
  try {
    const seqs = [...changedSeqs];
    changedSeqs.clear();
    const res = await fetchPage(null);
    if (gen !== state.gen) return;
    merge(res);
    // A notification replaced in place (same tag) keeps its seq; reload rows
    // loaded further down than the newest page one by one.
    const newest = new Set((res.rows || []).map((r) => r.seq));
    for (const seq of seqs.filter((q) => state.index.has(q) && !newest.has(q)).slice(0, 20)) {
      const one = await invoke("history_list", {
        query: { search: state.search.trim() || null, filter: state.filter, before_seq: seq + 1, after_seq: state.after, limit: 1 },
      });
      if (gen !== state.gen) return;
      const r = one.rows?.[0];
      const i = state.index.get(seq);
      if (r && r.seq === seq && i !== undefined) state.rows[i] = r;
    }
    if (seqs.length) render();
  } catch {
    // A failed refresh is not fatal: the next change event retries.
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      refresh();
    }
  }
}

function merge(res) {
  const fresh = res.rows || [];
  state.total = res.total ?? state.total;
  state.totalExact = res.total_exact !== false;
  state.unread = res.unread ?? state.unread;
  const rows = state.rows;
  const atTop = listEl.scrollTop < ROW_H / 3;

  if (!rows.length) {
    setRows(fresh);
    takePage(res, fresh);
    paintAll();
    return;
  }

  const top = rows[0].seq;
  const added = fresh.filter((r) => r.seq > top);
  // Rows already loaded: take the new version (read flag, replaced content).
  for (const r of fresh) {
    const i = state.index.get(r.seq);
    if (i !== undefined) rows[i] = r;
  }
  const gap = fresh.length === PAGE && added.length === fresh.length; // more new rows than one page

  if (gap) {
    if (atTop && !dialog.open) {
      setRows(fresh);
      takePage(res, fresh);
      listEl.scrollTop = 0;
    } else {
      state.pendingReset = true;
      state.pendingNew += added.length;
    }
    paintAll();
    return;
  }

  if (added.length) {
    // Anchor the first visible row so the view does not jump.
    const anchorIdx = Math.min(rows.length - 1, Math.floor(listEl.scrollTop / ROW_H));
    const anchorSeq = rows[anchorIdx]?.seq;
    const offset = listEl.scrollTop - anchorIdx * ROW_H;
    // A replaced notification (same id, new seq) leaves its old place.
    const ids = new Set(added.map((r) => r.id));
    const kept = rows.filter((r) => !ids.has(r.id));
    setRows(added.concat(kept));
    if (!atTop && anchorSeq !== undefined && state.index.has(anchorSeq)) {
      state.pendingNew += added.length;
      listEl.scrollTop = state.index.get(anchorSeq) * ROW_H + offset;
      if (document.activeElement?.closest?.(".row")) state.focusIndex += added.length;
    } else {
      listEl.scrollTop = 0;
    }
  }
  paintAll();
}

async function subscribe() {
  const T = window.__TAURI_INTERNALS__;
  if (!T?.transformCallback) return;
  const handler = T.transformCallback((e) => onHistoryChanged(e?.payload));
  try {
    await T.invoke("plugin:event|listen", { event: "history-changed", target: { kind: "Any" }, handler });
  } catch (e) {
    console.warn("history-changed: cannot listen", e);
  }
}

function updatePill() {
  if (state.pendingNew > 0 || state.pendingReset) {
    pill.textContent = t("newPill", { n: Math.max(1, state.pendingNew) });
    pill.hidden = false;
  } else {
    pill.hidden = true;
  }
}

pill.addEventListener("click", () => {
  const reset = state.pendingReset;
  state.pendingNew = 0;
  state.pendingReset = false;
  updatePill();
  if (reset) reload();
  else {
    listEl.scrollTop = 0;
    state.focusIndex = 0;
    render();
  }
  focusRow(0);
});

/* ---------- rendering: the virtual list ---------- */

const bound = new Map(); // key (seq, or "p<index>" for placeholders) -> node
const pool = [];
let endNote = null;

function placeholderCount() {
  if (state.exhausted || state.failed || state.rows.length >= MAX_ROWS) return 0;
  if (!state.totalExact) return PAGE;
  return Math.max(0, Math.min(PAGE, state.total - state.rows.length));
}

function makeRow() {
  const n = el("div", "row");
  n.setAttribute("role", "listitem");
  n.tabIndex = -1;
  return n;
}

/** Is the node busy: focused, or playing its recording? Such nodes are not recycled. */
function pinned(node) {
  if (node.contains(document.activeElement)) return true;
  const a = node.querySelector("audio");
  return !!(a && !a.paused);
}

function release(node) {
  const a = node.querySelector("audio");
  if (a && !a.paused) a.pause();
  node.remove();
  node._row = null;
  node._key = null;
  pool.push(node);
}

function render() {
  const rows = state.rows;
  const count = rows.length + placeholderCount();
  const capped = rows.length >= MAX_ROWS && !state.exhausted;
  const height = Math.min(MAX_PX, count * ROW_H + (capped ? ROW_H : 0));
  sizer.style.setProperty("height", `${height}px`);

  const vh = listEl.clientHeight || 600;
  const st = listEl.scrollTop;
  const firstVis = Math.floor(st / ROW_H);
  const lastVis = Math.ceil((st + vh) / ROW_H) - 1;
  const first = Math.max(0, firstVis - BUFFER);
  const last = Math.min(count - 1, lastVis + BUFFER);

  // The roving tabindex follows the view unless the user is on a row.
  const focusInList = listEl.contains(document.activeElement) && document.activeElement !== listEl;
  if (!focusInList) {
    const lo = Math.max(0, Math.ceil(st / ROW_H));
    if (state.focusIndex < lo || state.focusIndex > lastVis || state.focusIndex >= rows.length) {
      state.focusIndex = Math.max(0, Math.min(rows.length - 1, lo));
    }
  }

  const want = new Map();
  for (let i = first; i <= last; i++) want.set(i < rows.length ? rows[i].seq : `p${i}`, i);

  for (const [key, node] of bound) {
    if (want.has(key)) continue;
    const i = typeof key === "number" ? state.index.get(key) : undefined;
    if (i !== undefined && pinned(node)) {
      place(node, i, rows[i]); // stays where it is, out of view
      continue;
    }
    bound.delete(key);
    release(node);
  }

  for (const [key, i] of want) {
    let node = bound.get(key);
    if (!node) {
      node = pool.pop() || makeRow();
      bound.set(key, node);
    }
    if (!node.isConnected) listEl.append(node);
    place(node, i, i < rows.length ? rows[i] : null);
  }

  // "Showing the newest N" when the list is capped.
  if (capped) {
    if (!endNote) endNote = el("p", "end-note");
    endNote.textContent = t("capped", { n: rows.length });
    endNote.style.setProperty("transform", `translateY(${rows.length * ROW_H}px)`);
    if (!endNote.isConnected) listEl.append(endNote);
  } else if (endNote?.isConnected) endNote.remove();

  if (last >= rows.length - LOOKAHEAD) loadMore();
}

/** Positions a node at index i and fills it with `row` (null = placeholder). */
function place(node, i, row) {
  node.style.setProperty("transform", `translateY(${i * ROW_H}px)`);
  node.setAttribute("aria-posinset", String(i + 1));
  node.setAttribute("aria-setsize", String(Math.max(state.total, state.rows.length)));
  node._index = i;
  if (!row) {
    if (node._key !== `p${i}`) fillPlaceholder(node, i);
    return;
  }
  if (node._row !== row) fill(node, row);
  const active = i === state.focusIndex;
  node.tabIndex = active ? 0 : -1;
  for (const f of node.querySelectorAll("a[data-which], audio, .own")) f.tabIndex = active ? 0 : -1;
}

function fillPlaceholder(node, i) {
  const a = node.querySelector("audio");
  if (a && !a.paused) a.pause();
  node._row = null;
  node._key = `p${i}`;
  node.className = "row placeholder";
  for (const k of ["seq", "id", "look", "read"]) delete node.dataset[k];
  node.setAttribute("aria-busy", "true");
  node.removeAttribute("aria-label");
  node.replaceChildren(el("span", "badge"), el("span", "sk sk1"), el("span", "sk sk2"), el("span", "sk sk3"));
  node.lastChild.after(el("span", "sr-only", t("loading")));
}

/** A link of the row: openable (href) → <a>; not openable → text with the reason. */
function linkPart(row, which, part, label) {
  const link = row[which];
  if (!link) return null;
  if (link.href) {
    const a = el("a", "lnk");
    a.href = link.href;
    a.dataset.which = which;
    a.dataset.part = part;
    a.title = link.href;
    a.textContent = label ?? link.given ?? link.href;
    a.rel = "noreferrer";
    return a;
  }
  const s = el("span", "lnk dead");
  s.title = t("notOpenable", { reason: link.reason || t("notOpenableShort") });
  const given = el("span", "given", link.given ?? "");
  given.dataset.part = part;
  if (link.reason) given.dataset.reason = link.reason;
  s.append(given, el("span", "sr-only", ` (${s.title})`));
  return s;
}

/** Safe HTML from the backend (a, p, br, b, strong, i, em); its links are inert. */
function setHtml(node, html) {
  node.innerHTML = html;
  for (const a of node.querySelectorAll("a")) {
    a.tabIndex = -1;
    a.classList.add("inert");
  }
}

function fill(node, row) {
  const prev = node._row;
  const oldAudio = node.querySelector("audio");
  node._row = row;
  node._key = row.seq;
  node.removeAttribute("aria-busy");
  const look = row.look === "error" ? "error" : "call";
  node.className = `row ${look}`;
  node.dataset.seq = String(row.seq);
  node.dataset.id = row.id;
  node.dataset.look = look;
  node.dataset.read = row.read ? "true" : "false";

  const badge = el("span", "badge");
  badge.append(icon(look));

  // Line 1: title (header and text) and date.
  const l1 = el("div", "l1");
  const title = el("span", "title");
  if (row.header) {
    const h = el("b", "hdr");
    h.dataset.part = "header";
    setHtml(h, row.header);
    title.append(h);
  } else {
    title.append(el("b", "hdr fallback", t(look)));
  }
  if (!row.read) title.prepend(el("span", "sr-only", `${t("unread")}: `));
  const date = el("time", "date");
  date.dataset.part = "date";
  date.dateTime = new Date(row.date_ms).toISOString();
  date.textContent = fmtDateShort(row.date_ms);
  date.title = fmtDateFull(row.date_ms);
  l1.append(el("span", "dot"), title, date);

  // Line 2: the text.
  const l2 = el("div", "l2");
  if (row.text) {
    const tx = el("span", "txt");
    tx.dataset.part = "text";
    setHtml(tx, row.text);
    l2.append(tx);
  }

  // Line 3: call details / error link.
  const l3 = el("div", "l3");
  const l4 = el("div", "l4");
  if (look === "call") {
    const who = el("span", "who");
    const from = el("span", "party", row.from ?? t("unknownParty"));
    if (row.from != null) from.dataset.part = "from";
    from.title = `${t("from")}: ${from.textContent}`;
    const to = el("span", "party", row.to ?? t("unknownParty"));
    if (row.to != null) to.dataset.part = "to";
    to.title = `${t("to")}: ${to.textContent}`;
    const arrow = el("span", "arrow", "→");
    arrow.setAttribute("aria-hidden", "true");
    who.append(from, arrow, to);
    l3.append(who);
    if (row.duration_s != null) {
      const d = el("span", "dur", fmtDuration(row.duration_s));
      d.dataset.part = "duration";
      d.title = t("duration");
      l3.append(el("span", "sr-only", `${t("duration")}:`), d);
    }
    const card = linkPart(row, "card", "card", row.card?.href ? t("openCard") : undefined);
    if (card) l3.append(card);
    const click = linkPart(row, "click", "link");
    if (click) l3.append(click);
    if (row.recording) {
      if (row.recording.href) {
        let audio =
          oldAudio && prev && prev.seq === row.seq && prev.recording?.href === row.recording.href ? oldAudio : null;
        if (!audio) {
          audio = document.createElement("audio");
          audio.controls = true;
          audio.preload = "none";
          audio.src = row.recording.href;
        }
        audio.dataset.part = "recording";
        audio.setAttribute("aria-label", t("recording"));
        l4.append(audio);
      } else {
        const r = linkPart(row, "recording", "recording");
        r.prepend(`${t("recording")}: `);
        l4.append(r);
      }
    }
  } else {
    const click = linkPart(row, "click", "link");
    if (click) l3.append(click);
  }
  if (oldAudio && !l4.contains(oldAudio) && !oldAudio.paused) oldAudio.pause();
  node.replaceChildren(badge, l1, l2, l3, l4);
}

/** Re-reads the read flag of rows already shown (cheap; no rebuild). */
function paintRead(node) {
  const row = node._row;
  if (!row) return;
  node.dataset.read = row.read ? "true" : "false";
  const sr = node.querySelector(".title > .sr-only");
  if (row.read && sr) sr.remove();
}

function paintCounts() {
  const searching = state.search.trim() !== "" || state.filter !== "all" || state.after !== null;
  const tot = $("history-total");
  const unr = $("history-unread");
  // Only touch what changed, so the live region speaks only on real changes.
  const put = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };
  put(tot, state.totalExact ? String(state.total) : `${state.total}+`);
  tot.dataset.count = String(state.total);
  tot.dataset.exact = String(state.totalExact);
  put(unr, String(state.unread));
  unr.dataset.count = String(state.unread);
  put($("total-label"), t(searching ? "matchLabel" : "totalLabel", { n: state.total }));
  put($("unread-label"), t("unreadLabel", { n: state.unread }));
  $("history-counts").classList.toggle("has-unread", state.unread > 0);
  $("mark-all-read").disabled = state.unread === 0;
}

function showLoading(on) {
  $("history-loading").hidden = !on;
}

function paintStates() {
  const empty = $("history-empty");
  const err = $("history-error");
  const noRows = state.loaded && !state.rows.length && state.total === 0;
  if (state.failed) {
    err.hidden = false;
    err.classList.toggle("inline", state.failed === "more");
    $("error-title").textContent = t(state.failed === "more" ? "errorMore" : "errorTitle");
    $("error-help").textContent = t("errorHelp", { error: state.lastError || "?" });
  } else err.hidden = true;

  if (noRows && !state.failed) {
    const q = state.search.trim() !== "";
    let kind = "none";
    if (q) kind = "search";
    else if (state.filter === "unread") kind = "unread";
    else if (state.filter === "calls") kind = "calls";
    else if (state.filter === "errors") kind = "errors";
    empty.dataset.kind = kind;
    const map = {
      none: ["emptyNone", "emptyNoneHelp", null],
      search: ["emptySearch", "emptySearchHelp", "clearSearch"],
      unread: ["emptyUnread", "emptyUnreadHelp", "showAll"],
      calls: ["emptyCalls", "emptyFilterHelp", "showAll"],
      errors: ["emptyErrors", "emptyFilterHelp", "showAll"],
    }[kind];
    $("empty-title").textContent = t(map[0]);
    $("empty-help").textContent = t(map[1]);
    const act = $("empty-action");
    act.hidden = !map[2];
    if (map[2]) act.textContent = t(map[2]);
    empty.hidden = false;
  } else empty.hidden = true;
}

function paintAll() {
  paintCounts();
  paintStates();
  updatePill();
  render();
}

let painted = false;
function markPainted() {
  if (painted) return;
  painted = true;
  window.__firstPaintMs = performance.now();
  // When that frame has been painted (a task after its animation frame), on
  // the epoch clock: the benchmark's tray click → rows painted.
  requestAnimationFrame(() => setTimeout(() => (window.__paintedAtEpochMs = performance.timeOrigin + performance.now())));
  document.body.dataset.ready = "true";
}

/* ---------- reading and opening ---------- */

function nodeOf(seq) {
  return bound.get(seq) || null;
}

function markRead(row) {
  if (!row || row.read) return;
  row.read = true;
  state.unread = Math.max(0, state.unread - 1);
  const n = nodeOf(row.seq);
  if (n) paintRead(n);
  paintCounts();
  invoke("history_mark_read", { seqs: [row.seq] }).catch((e) => {
    row.read = false;
    state.unread += 1;
    if (n && n._row === row) paintRead(n);
    paintCounts();
    say(t("markFailed", { error: errText(e) }), true);
  });
}

$("mark-all-read").addEventListener("click", async () => {
  const btn = $("mark-all-read");
  btn.disabled = true;
  try {
    await invoke("history_mark_all_read");
    for (const r of state.rows) r.read = true;
    state.unread = 0;
    for (const n of bound.values()) paintRead(n);
    paintCounts();
    say(t("markAllReadDone"));
    if (state.filter === "unread") reload();
  } catch (e) {
    say(t("markFailed", { error: errText(e) }), true);
    paintCounts();
  }
});

async function openLink(row, which) {
  markRead(row);
  try {
    await invoke("history_open_link", { seq: row.seq, which });
  } catch (e) {
    say(t("openFailed", { error: errText(e) }), true);
  }
}

function rowOfNode(node) {
  return node?._row || null;
}

// Clicks in the list: own links open through the backend; links of the text never navigate.
listEl.addEventListener("click", (ev) => {
  const node = ev.target.closest(".row");
  const row = rowOfNode(node);
  const a = ev.target.closest("a");
  if (a) {
    ev.preventDefault();
    if (row && a.dataset.which) openLink(row, a.dataset.which);
    else if (row) openDetail(row);
    return;
  }
  if (!row) return;
  if (ev.target.closest("audio")) {
    markRead(row);
    return;
  }
  state.focusIndex = node._index;
  openDetail(row);
});
listEl.addEventListener("auxclick", (ev) => {
  if (ev.target.closest("a")) ev.preventDefault();
});
listEl.addEventListener(
  "play",
  (ev) => {
    const row = rowOfNode(ev.target.closest(".row"));
    if (row) markRead(row);
  },
  true,
);

/* ---------- keyboard ---------- */

function focusRow(i) {
  const rows = state.rows;
  if (!rows.length) return;
  i = Math.max(0, Math.min(rows.length - 1, i));
  state.focusIndex = i;
  const vh = listEl.clientHeight;
  const top = i * ROW_H;
  if (top < listEl.scrollTop) listEl.scrollTop = top;
  else if (top + ROW_H > listEl.scrollTop + vh) listEl.scrollTop = top + ROW_H - vh;
  render();
  const node = nodeOf(rows[i].seq);
  if (node) node.focus({ preventScroll: true });
  render(); // update roving tabindex now that focus moved
}

listEl.addEventListener("keydown", (ev) => {
  const node = ev.target.closest?.(".row");
  const onRow = node && ev.target === node;
  if (!onRow) {
    if (node && ev.key === "Escape") {
      ev.preventDefault();
      node.focus();
    }
    return;
  }
  const i = node._index ?? state.focusIndex;
  const page = Math.max(1, Math.floor(listEl.clientHeight / ROW_H) - 1);
  const to = keyTarget(ev.key, i, page, state.rows.length - 1);
  if (to !== null) {
    ev.preventDefault();
    focusRow(to);
    return;
  }
  if (ev.key === "Enter" || ev.key === " ") {
    ev.preventDefault();
    if (node._row) openDetail(node._row);
  }
});

// Tabbing into the list lands on the current row.
listEl.addEventListener("focus", () => focusRow(state.focusIndex));

/* ---------- detail dialog ---------- */

function detailField(label, content) {
  const dt = el("dt", null, label);
  const dd = el("dd");
  if (content instanceof Node) dd.append(content);
  else dd.textContent = content;
  return [dt, dd];
}

function detailLink(row, which, label) {
  const link = row[which];
  if (!link) return null;
  if (link.href) {
    const b = el("button", "linkbtn");
    b.type = "button";
    b.dataset.which = which;
    b.textContent = label;
    b.title = link.href;
    const u = el("span", "url", link.href);
    const wrap = el("span", "linkwrap");
    wrap.append(b, u);
    return wrap;
  }
  const s = el("span", "dead-detail");
  s.append(el("span", "given", link.given ?? ""), el("span", "reason", t("notOpenable", { reason: link.reason || t("notOpenableShort") })));
  return s;
}

function openDetail(row) {
  markRead(row);
  state.openSeq = row.seq;
  const look = row.look === "error" ? "error" : "call";
  dialog.className = look;
  const badge = $("detail-badge");
  badge.replaceChildren(icon(look));
  const title = $("detail-title");
  if (row.header) setHtml(title, row.header);
  else title.textContent = t(look);

  const body = $("detail-body");
  const parts = [];
  if (row.text) {
    const tx = el("div", "detail-text");
    setHtml(tx, row.text);
    parts.push(tx);
  }
  const dl = el("dl");
  const time = el("time", null, fmtDateFull(row.date_ms));
  time.dateTime = new Date(row.date_ms).toISOString();
  dl.append(...detailField(t("date"), time));
  if (look === "call") {
    dl.append(...detailField(t("from"), row.from ?? t("unknownParty")));
    dl.append(...detailField(t("to"), row.to ?? t("unknownParty")));
    if (row.duration_s != null) dl.append(...detailField(t("duration"), fmtDuration(row.duration_s)));
    const card = detailLink(row, "card", t("openCard"));
    if (card) dl.append(...detailField(t("card"), card));
  }
  const click = detailLink(row, "click", t("link"));
  if (click) dl.append(...detailField(t("link"), click));
  if (row.recording) {
    const box = el("div", "rec");
    if (row.recording.href) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = row.recording.href;
      audio.setAttribute("aria-label", t("recording"));
      // Only one player at a time.
      for (const a of listEl.querySelectorAll("audio")) if (!a.paused) a.pause();
      box.append(audio, detailLink(row, "recording", t("openRecording")));
    } else box.append(detailLink(row, "recording", t("recording")));
    dl.append(...detailField(t("recording"), box));
  }
  parts.push(dl);
  body.replaceChildren(...parts);

  if (!dialog.open) {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }
  $("detail-close").focus();
}

function closeDetail(restoreFocus = true) {
  if (!dialog.open) return;
  for (const a of dialog.querySelectorAll("audio")) a.pause();
  if (typeof dialog.close === "function") dialog.close();
  else dialog.removeAttribute("open");
  const seq = state.openSeq;
  state.openSeq = null;
  if (restoreFocus && seq != null && state.index.has(seq)) focusRow(state.index.get(seq));
}

dialog.addEventListener("close", () => {
  for (const a of dialog.querySelectorAll("audio")) a.pause();
  if (state.openSeq != null) {
    const seq = state.openSeq;
    state.openSeq = null;
    if (state.index.has(seq)) focusRow(state.index.get(seq));
  }
});
$("detail-close").addEventListener("click", () => closeDetail());
dialog.addEventListener("click", (ev) => {
  if (ev.target === dialog) closeDetail(); // backdrop
  const a = ev.target.closest("a");
  if (a) ev.preventDefault();
  const b = ev.target.closest("button[data-which]");
  if (b && state.openSeq != null) {
    const row = state.rows[state.index.get(state.openSeq)];
    if (row) openLink(row, b.dataset.which);
  }
});

/* ---------- search and filters ---------- */

let searchTimer = 0;
searchEl.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    if (searchEl.value === state.search) return;
    state.search = searchEl.value;
    reload();
  }, SEARCH_DEBOUNCE);
});
searchEl.addEventListener("keydown", (ev) => {
  if (ev.key === "ArrowDown" && state.rows.length) {
    ev.preventDefault();
    focusRow(state.focusIndex);
  } else if (ev.key === "Escape" && searchEl.value) {
    // type=search clears itself; make it immediate.
    clearTimeout(searchTimer);
    searchEl.value = "";
    state.search = "";
    reload();
  }
});

function setFilter(f) {
  if (!FILTERS.includes(f)) return;
  for (const b of document.querySelectorAll("[data-filter]")) b.setAttribute("aria-pressed", String(b.dataset.filter === f));
  if (f === state.filter) return;
  state.filter = f;
  reload();
}
for (const b of document.querySelectorAll("[data-filter]")) b.addEventListener("click", () => setFilter(b.dataset.filter));

// The "missed while away" toast opens the window on what arrived meanwhile:
// the app calls this (or sets __kolokolBoot.after before the page loads).
function showAfter(seq) {
  state.after = Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
  $("history-away").hidden = state.after === null;
  reload();
}
window.__kolokolShowAfter = showAfter;
$("history-away").addEventListener("click", () => showAfter(null));

$("empty-action").addEventListener("click", () => {
  if ($("history-empty").dataset.kind === "search") {
    clearTimeout(searchTimer);
    searchEl.value = "";
    state.search = "";
    reload();
    searchEl.focus();
  } else setFilter("all");
});

$("history-retry").addEventListener("click", () => {
  if (state.failed === "more") {
    state.failed = null;
    paintStates();
    loadMore();
  } else reload();
});

/* ---------- scrolling ---------- */

listEl.addEventListener(
  "scroll",
  () => {
    render();
    if (listEl.scrollTop < ROW_H / 3 && state.pendingNew && !state.pendingReset) {
      state.pendingNew = 0;
      updatePill();
    }
  },
  { passive: true },
);
if (typeof ResizeObserver === "function")
  new ResizeObserver(() => {
    measure();
    render();
  }).observe(listEl);

/* ---------- start ---------- */

// The app opens this window with its language, its "after" filter and the
// first page already read (window.__kolokolBoot, an init script): a new web
// process answers its first IPC calls only after 60-80 ms.
let bootPage = null;

async function start() {
  measure();
  const boot = window.__kolokolBoot || {};
  const settings = typeof boot.language === "string" ? Promise.resolve(boot) : invoke("get_settings").catch(() => null);
  langReady = settings.then((s) => {
    setLang(s?.language || "auto");
    applyI18n();
    document.title = t("windowTitle");
    fmtCache = null;
  });
  const after = boot.after;
  if (Number.isSafeInteger(after) && after >= 0) {
    state.after = after;
    $("history-away").hidden = false;
  }
  if (boot.first && Array.isArray(boot.first.rows)) bootPage = boot.first;
  const fromBoot = !!bootPage;
  const first = reload(); // in parallel with the settings
  await first;
  await subscribe();
  // What arrived between the app reading that page and this subscription.
  if (fromBoot) refresh();
  langReady.then(loadStats);
}

setLang("auto");
applyI18n();
start();
