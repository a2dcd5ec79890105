// The settings modal as amoCRM builds it: a .widget_settings_block with
// #widget_settings__fields_wrapper and a .js-widget-save button, the
// settings($modal_body) callback inside it, onSave({fields, active}) on save,
// and the saved values kept per widget in the target's own localStorage.

import { host, isObj, assign, clone, $id, el, tr, manifestWidget } from "./core.js";
import { runCallback } from "./lifecycle.js";

const memoryStore = {};

function manifestSettings() {
  return host.manifest && isObj(host.manifest.settings) ? host.manifest.settings : {};
}

function storageKey() {
  return "kolokol.settings." + host.code;
}

export function loadSaved() {
  let raw = null;
  try {
    raw = window.localStorage.getItem(storageKey());
  } catch (_) {
    raw = memoryStore[storageKey()] || null;
  }
  if (!raw) return {};
  try {
    const v = JSON.parse(raw);
    return isObj(v) ? v : {};
  } catch (_) {
    return {};
  }
}

// True when localStorage took it, false when only memory did.
function storeSaved(fields) {
  const raw = JSON.stringify(fields);
  memoryStore[storageKey()] = raw;
  try {
    window.localStorage.setItem(storageKey(), raw);
    return true;
  } catch (_) {
    return false;
  }
}

export function resetSettings(saved) {
  const w = manifestWidget();
  const settings = host.settings;
  for (const k in settings) if (Object.prototype.hasOwnProperty.call(settings, k)) delete settings[k];
  assign(settings, saved, {
    widget_code: host.code,
    path: host.base,
    images_path: host.base + "/images",
    version: w.version != null ? String(w.version) : "",
    status: "installed",
    active: "Y",
    oauth_client_uuid: "00000000-0000-4000-8000-" + String(host.code.length).padStart(12, "0"),
  });
}

export function setupSettingsButton() {
  const s = manifestSettings();
  const locs = host.manifest && Array.isArray(host.manifest.locations) ? host.manifest.locations : [];
  const has = Object.keys(s).length > 0 || locs.some((l) => typeof l === "string" && /^settings\b/.test(l));
  $id("kolokol-settings-button").hidden = !has;
}

function settingsStatus(text, kind) {
  const st = $id("kolokol-settings-status");
  if (!st) return;
  st.textContent = text || "";
  st.hidden = !text;
  st.className = "kk-settings__status" + (kind ? " kk-settings__status--" + kind : "");
  st.setAttribute("data-status", kind || "");
}

function isRequired(def) {
  return def.required === true || def.required === "true" || def.required === 1;
}

function fieldLabel(key, def) {
  return tr(isObj(def) && def.name != null ? def.name : key) || key;
}

// The body is built afresh on every open: what the widget added last time goes.
function buildSettingsBody() {
  const T = host.T;
  const body = $id("kolokol-settings-body");
  body.textContent = "";
  const block = el("div", "widget_settings_block");
  const fieldsWrap = el("div", "widget_settings_block__fields");
  fieldsWrap.id = "widget_settings__fields_wrapper";
  const defs = manifestSettings();
  const keys = Object.keys(defs);
  if (!keys.length) fieldsWrap.append(el("p", "kk-muted", T.noFields));
  keys.forEach((key) => {
    const def = isObj(defs[key]) ? defs[key] : {};
    const type = String(def.type || "text");
    const required = isRequired(def);
    const id = "kolokol-setting-" + key.replace(/[^\w-]/g, "_");
    const row = el("div", "kk-field widget_settings_block__item_field");
    row.setAttribute("data-key", key);
    row.setAttribute("data-type", type);
    const group = type === "users" || type === "users_lp" || type === "custom";
    const label = el(group ? "div" : "label", "kk-field__label widget_settings_block__title_field");
    label.textContent = fieldLabel(key, def);
    if (!group) label.htmlFor = id;
    if (required) {
      label.append(el("span", "kk-required", " *"));
      row.classList.add("kk-field--required");
    }
    row.append(label);
    const saved = host.settings[key];
    if (type === "users" || type === "users_lp") {
      const box = el("div", "kk-field__users");
      const managers = isObj(host.profile.managers) ? host.profile.managers : {};
      Object.keys(managers).forEach((mid) => {
        const m = isObj(managers[mid]) ? managers[mid] : {};
        const l = el("label", "kk-check");
        const cb = document.createElement("input");
        cb.type = "checkbox";
        cb.name = key;
        cb.value = String(m.id != null ? m.id : mid);
        cb.setAttribute("data-manager-id", cb.value);
        cb.checked = isObj(saved) ? !!saved[cb.value] : false;
        l.append(cb, document.createTextNode(" " + (m.title || m.name || m.login || cb.value)));
        box.append(l);
      });
      row.append(box);
    } else if (type === "custom") {
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = key;
      hidden.id = id;
      hidden.value = saved == null ? "" : typeof saved === "string" ? saved : JSON.stringify(saved);
      const custom = el("div", "kk-field__custom widget_settings_block__custom");
      custom.setAttribute("data-key", key);
      custom.id = "kolokol-custom-" + key.replace(/[^\w-]/g, "_");
      custom.title = T.customField;
      row.append(hidden, custom);
    } else {
      const input = document.createElement("input");
      input.type = type === "pass" ? "password" : "text";
      input.name = key;
      input.id = id;
      input.className = "kk-input widget_settings_block__input_field text-input";
      input.autocomplete = type === "pass" ? "new-password" : "off";
      if (required) input.setAttribute("aria-required", "true");
      input.value = saved == null ? "" : String(saved);
      row.append(input);
    }
    fieldsWrap.append(row);
  });
  const status = el("div", "kk-settings__status");
  status.id = "kolokol-settings-status";
  status.hidden = true;
  const controls = el("div", "widget_settings_block__controls kk-settings__foot");
  const save = el("button", "kk-button kk-button--primary button-input button-input_blue js-widget-save", T.save);
  save.type = "submit";
  save.id = "kolokol-settings-save";
  const cancel = el("button", "kk-button button-cancel js-widget-cancel", T.cancel);
  cancel.type = "button";
  cancel.id = "kolokol-settings-cancel";
  cancel.addEventListener("click", closeSettings);
  controls.append(save, cancel);
  block.append(fieldsWrap, status, controls);
  body.append(block);
}

function collectFields() {
  const defs = manifestSettings();
  const form = $id("kolokol-settings-form");
  const fields = {};
  Object.keys(defs).forEach((key) => {
    const def = isObj(defs[key]) ? defs[key] : {};
    const type = String(def.type || "text");
    const inputs = Array.prototype.filter.call(form.elements, (e) => e.name === key);
    if (type === "users" || type === "users_lp") {
      const v = {};
      inputs.forEach((cb) => {
        v[cb.value] = !!cb.checked;
      });
      fields[key] = v;
    } else {
      fields[key] = inputs.length ? String(inputs[0].value) : "";
    }
  });
  return fields;
}

function missingRequired(fields) {
  const defs = manifestSettings();
  return Object.keys(defs).filter((key) => {
    const def = isObj(defs[key]) ? defs[key] : {};
    if (!isRequired(def)) return false;
    const v = fields[key];
    if (isObj(v)) return !Object.keys(v).some((k) => v[k]);
    return v == null || String(v).trim() === "";
  });
}

export function openSettings() {
  buildSettingsBody();
  settingsStatus("", "");
  $id("kolokol-settings").hidden = false;
  const bodyEl = $id("kolokol-settings-body");
  const arg = typeof window.jQuery === "function" ? window.jQuery(bodyEl) : bodyEl;
  if (host.widget) runCallback("settings", [arg]);
  const first = bodyEl.querySelector("input:not([type=hidden])");
  if (first) {
    try {
      first.focus();
    } catch (_) {}
  }
}

export function closeSettings() {
  $id("kolokol-settings").hidden = true;
}

let saving = false;
export function saveSettings(ev) {
  const T = host.T;
  if (ev) ev.preventDefault();
  if (saving) return;
  saving = true;
  const fields = collectFields();
  settingsStatus(T.saving, "saving");
  const step = host.widget ? runCallback("onSave", [{ fields: clone(fields), active: "Y" }]) : Promise.resolve({ result: "missing" });
  step.then((r) => {
    saving = false;
    if (r.result === "false") return settingsStatus(T.onSaveFalse, "onsave-false");
    if (r.result === "threw") return settingsStatus(T.onSaveThrew, "onsave-threw");
    const missing = missingRequired(fields);
    if (missing.length) {
      const defs = manifestSettings();
      return settingsStatus(T.required + missing.map((k) => fieldLabel(k, defs[k])).join(", "), "required");
    }
    const durable = storeSaved(fields);
    assign(host.settings, fields, { active: "Y" });
    settingsStatus(durable ? T.saved : T.saved + " " + T.storageMemory, "saved");
  });
}
