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
  $("keep-days").value = String(s.history_keep_days ?? 180);
  $("keep-rows").value = String(s.history_keep_rows ?? 0);
  settingsDirty = false;
  const status = $("account-status");
  status.classList.remove("bad");
  status.textContent = s.account_url ? "" : t("noAccount");
  fillIngress(s);
}

/* ---------- the call center (fleet) and the loopback HTTP ingress ---------- */

const words = (v) => v.split(/[\s,]+/).filter(Boolean);
const orNull = (v) => (v.trim() === "" ? null : v.trim());

function fillIngress(s) {
  const f = s.fleet || {};
  $("fleet-enabled").checked = !!f.enabled;
  $("fleet-servers").value = (f.servers || []).join(" ");
  $("fleet-account").value = f.account || "";
  $("fleet-agent").value = f.agent || "";
  $("fleet-name").value = f.name || "";
  $("fleet-queues").value = (f.queues || []).join(" ");
  $("fleet-user").value = f.user || "";
  $("fleet-password").value = f.password || "";
  $("fleet-token").value = f.token || "";
  $("fleet-creds").value = f.creds_file || "";
  $("fleet-ca").value = f.tls_ca || "";
  $("http-enabled").checked = !!s.http_ingress;
  $("http-port").value = s.http_port ?? 47880;
}

$("ingress-settings").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("ingress-status");
  try {
    const s = await invoke("set_settings", {
      settings: {
        ...currentSettings,
        http_ingress: $("http-enabled").checked,
        http_port: Number($("http-port").value) || 0,
        fleet: {
          enabled: $("fleet-enabled").checked,
          servers: words($("fleet-servers").value),
          account: $("fleet-account").value.trim(),
          agent: $("fleet-agent").value.trim(),
          name: $("fleet-name").value.trim(),
          queues: words($("fleet-queues").value),
          user: orNull($("fleet-user").value),
          password: orNull($("fleet-password").value),
          token: orNull($("fleet-token").value),
          creds_file: orNull($("fleet-creds").value),
          tls_ca: orNull($("fleet-ca").value),
        },
      },
    });
    fillSettings(s);
    status.textContent = t("savedAtRestart");
    status.classList.remove("bad");
  } catch (e) {
    status.textContent = errText(e);
    status.classList.add("bad");
  }
});

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
        history_keep_days: count("keep-days"),
        history_keep_rows: count("keep-rows"),
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

// A whole number ≥ 0 from a number field; anything else is refused here,
// naming the setting (the app's own refusal would name only the type).
function count(id) {
  const v = $(id).value.trim();
  if (!/^\d{1,12}$/.test(v)) throw new Error(t("notACount", { field: t(id === "keep-days" ? "keepDaysLabel" : "keepRowsLabel"), value: v }));
  return Number(v);
}
// Switches and the language take effect as soon as they change.
for (const id of ["minimized", "keep-pages", "dnd", "calls", "kolokol-only", "language", "keep-days", "keep-rows"]) {
  $(id).addEventListener("change", () => $("settings").requestSubmit());
}
// The tray can change do-not-disturb: re-read when the window comes back.
window.addEventListener("focus", () => {
  if (!$("panel-settings").hidden && !settingsDirty && document.activeElement?.id !== "account") loadSettings();
});
