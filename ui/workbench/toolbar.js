// The toolbar and the status line: what the workspace window shows, and the ways to
// open something there (address field, pickers, recent list, reload, show page).
import { t } from "../shared/i18n.js";
import { invoke, $, el, errText, say } from "./common.js";
import { profile, fillProfile } from "./profile.js";

export { wb, applyTarget, paintRecent, refreshState, openWith };

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
  // Which files the target's page can read (from Kolokol's side, in words).
  const reads = $("wb-reads");
  reads.textContent = tg?.reads || "";
  reads.hidden = !tg?.reads;

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
