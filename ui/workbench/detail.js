// The detail pane of the selected call: everything Kolokol kept of it, with copy and
// re-send. Widget data only ever reaches the DOM as text.
import { parseJson } from "../shared/json.js";
import { t } from "../shared/i18n.js";
import { invoke, $, el, errText, say } from "./common.js";
import {
  calls, bound, render, scrollToBottom, focusRow, updatePill,
  fmtDateTime, outcomeOf, warningsOf, toastClass, sigOf, detailPane,
} from "./calllog.js";

export { detail, paintDetail };

Object.assign(detailPane, { selectRow, closeDetail, refreshDetailFrom });

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
      [t("wbPageImpl"), e.page ?? null],
      [t("wbResponse"), e.response ?? null, "mono"],
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
