// The workbench window: opens targets in the workspace window, shows every
// APP.notifications call in a virtualised console (fixed row height, recycled
// nodes, only the visible range + a buffer fetched through calllog_page), and
// holds the settings and the widget's profile. A trusted page: it may call the
// workbench commands (capabilities/workbench.json). Everything that comes from
// the log is widget data and only ever reaches the DOM as text.
// This entry module wires the tabs and starts the window; the parts live next to it.
import { t, setLang, applyI18n } from "../shared/i18n.js";
import { invoke, $, listen } from "./common.js";
import { applyTarget, paintRecent, refreshState } from "./toolbar.js";
import { measure, resetCalls, onLogChanged, callsShown, paintCounts } from "./calllog.js";
import "./detail.js";
import { settingsDirty, fillSettings, loadSettings } from "./settings.js";
import "./profile.js";
import { startStubs } from "./stubs.js";

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
  startStubs();
  document.body.dataset.ready = "true";
}

setLang("auto");
applyI18n();
start();
