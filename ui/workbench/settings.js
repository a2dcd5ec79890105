// The settings tab: the app's own settings (account address, tray, do-not-disturb,
// language), read and saved through get_settings / set_settings.
import { t, setLang, getLang } from "../shared/i18n.js";
import { invoke, $, errText } from "./common.js";
import { relocalize } from "./language.js";

export { settingsDirty, fillSettings, loadSettings };

/* ---------- settings (moved here from the start page) ---------- */

let currentSettings = {};
let settingsDirty = false;

function fillSettings(s) {
  currentSettings = s || {};
  $("account").value = s.account_url || "";
  $("minimized").checked = !!s.start_minimized;
  $("keep-pages").checked = s.keep_pages_running !== false;
  $("dnd").checked = !!s.do_not_disturb;
  $("calls").checked = s.calls_break_through !== false;
  $("kolokol-only").checked = !!s.kolokol_only;
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
        keep_pages_running: $("keep-pages").checked,
        do_not_disturb: $("dnd").checked,
        calls_break_through: $("calls").checked,
        kolokol_only: $("kolokol-only").checked,
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
for (const id of ["minimized", "keep-pages", "dnd", "calls", "kolokol-only", "language"]) {
  $(id).addEventListener("change", () => $("settings").requestSubmit());
}
// The tray can change do-not-disturb: re-read when the window comes back.
window.addEventListener("focus", () => {
  if (!$("panel-settings").hidden && !settingsDirty && document.activeElement?.id !== "account") loadSettings();
});
