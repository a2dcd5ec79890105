// Kolokol's widget host: the page the workbench opens for a widget folder.
// It reads /__kolokol/env.json, recreates the part of amoCRM a widget relies
// on, loads /widget/script.js as amoCRM does and runs its callbacks in
// amoCRM's order, reporting every step and every error on the page.
//
// ES modules by amoCRM surface: core (state, chrome), loader (RequireJS as
// amoCRM configures it), modules (shared modules by name), globals
// (APP/AMOCRM), widget (the widget object), lifecycle (callbacks), settings
// (the settings modal), actions (click to call, other callbacks).
// No inline code anywhere: the page is served with a strict CSP. Hooks for
// tests and benchmarks: window.__kolokolHost (state), window.__kolokolReload().

import { host, state, STRINGS, defineConst, isObj, $id, el, addError, describe, shortUrl, flushEarlyErrors, renderProblems, finish, setNow, tr, fetchFile, manifestWidget } from "./core.js";
import { installLoader } from "./loader.js";
import { makeAppObject, normaliseProfile, isCardArea } from "./globals.js";
import { construct, reloadWidget } from "./lifecycle.js";
import { loadSaved, resetSettings, openSettings, closeSettings, saveSettings } from "./settings.js";
import { callPhone, trigger } from "./actions.js";

// For the benchmark: when the host's modules ran, when the widget's script was asked for.
state.timing = { modules: performance.now(), script: null };

try {
  state.previous = JSON.parse(sessionStorage.getItem("kolokol.previous") || "null");
  sessionStorage.removeItem("kolokol.previous");
} catch (_) {}
defineConst("__kolokolHost", state);
// For tests: what a click on the workbench's own controls does.
defineConst("__kolokolActions", Object.freeze({ callPhone, trigger }));

let reloading = false;
defineConst("__kolokolReload", function () {
  if (reloading) return;
  reloading = true;
  reloadWidget();
});

// Anything the widget throws later (click handlers, timers, promises).
window.addEventListener("error", (ev) => {
  if (typeof ErrorEvent !== "undefined" && !(ev instanceof ErrorEvent)) return;
  const d = ev.error != null ? describe(ev.error) : { message: String(ev.message || "error"), stack: "" };
  const where = ev.filename ? " (" + shortUrl(ev.filename) + ":" + ev.lineno + (ev.colno ? ":" + ev.colno : "") + ")" : "";
  addError("window.onerror", d.message + where, d.stack);
});
window.addEventListener("unhandledrejection", (ev) => {
  const d = describe(ev.reason);
  addError("unhandledrejection", d.message, d.stack);
});

function applyChromeLanguage() {
  const T = host.T;
  $id("kolokol-settings-button").textContent = T.settings;
  $id("kolokol-reload-button").textContent = T.reload;
  $id("kolokol-lifecycle-label").textContent = T.lifecycle;
  $id("kolokol-errors-title").textContent = T.errors;
  $id("kolokol-problems-title").textContent = T.problems;
  $id("kolokol-settings-title").textContent = T.settings;
  $id("kolokol-settings-close").setAttribute("aria-label", T.close);
  $id("kolokol-settings-close").title = T.close;
  $id("kolokol-page-hint").textContent = T.pageBody;
  document.documentElement.lang = T === STRINGS.ru ? "ru" : "en";
}

function renderTitle() {
  const T = host.T;
  const w = manifestWidget();
  const name = tr(w.name) || host.code;
  $id("kolokol-widget-name").textContent = name;
  const version = $id("kolokol-widget-version");
  if (w.version != null && w.version !== "") {
    version.textContent = T.versionLabel + String(w.version);
    version.hidden = false;
  }
  const ctx = $id("kolokol-context");
  const p = host.profile;
  const parts = [p.area, p.entity];
  if (isCardArea(p.area) && p.card_id != null) parts.push(T.card + " #" + p.card_id);
  parts.push(p.lang);
  ctx.textContent = parts.join(" · ");
  ctx.hidden = false;
  document.title = name + (w.version != null ? " " + w.version : "") + " — Kolokol";
}

// The widget's texts: the account's language, then en, then ru, then the
// first file the folder has (a widget that ships only es.json still gets them).
function loadI18n() {
  const files = Array.isArray(host.env.i18n_files) ? host.env.i18n_files.filter((f) => typeof f === "string") : [];
  const w = manifestWidget();
  const locales = Array.isArray(w.locale) ? w.locale.filter((l) => typeof l === "string" && l) : [];
  let order = [host.profile.lang, "en", "ru"].concat(locales, files);
  order = order.filter((l, i) => l && order.indexOf(l) === i);
  if (files.length) order = order.filter((l) => files.indexOf(l) >= 0);
  let i = 0;
  const next = () => {
    if (i >= order.length) return Promise.resolve({ lang: null, texts: {} });
    const lang = order[i++];
    return fetchFile(host.base + "/i18n/" + encodeURIComponent(lang) + ".json?v=" + encodeURIComponent(host.env.version))
      .then((j) => {
        if (!isObj(j)) throw new Error("not an object");
        return { lang, texts: j };
      })
      .catch((e) => {
        console.warn("[kolokol host] i18n/" + lang + ".json: " + describe(e).message);
        return next();
      });
  };
  return next().then((r) => {
    state.i18nLang = r.lang;
    // One object, filled in place: self.langs keeps pointing at it.
    Object.assign(host.langs, r.texts);
    return host.langs;
  });
}

function loadWidget() {
  if (typeof window.requirejs !== "function" || typeof window.define !== "function") {
    addError("host", "RequireJS (/__kolokol/require.js) did not load: the widget cannot be started");
    return finish(true);
  }
  const require = installLoader();

  // The widget's stylesheet, before its script (a missing one is fine).
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = host.base + "/style.css?v=" + encodeURIComponent(host.env.version);
  link.setAttribute("data-kolokol", "widget-style");
  document.head.append(link);

  const i18nLoaded = loadI18n();
  setNow(host.T.loading, "kk-now--running");
  require(["jquery", "underscore", "twigjs", "moment"], function () {
    Promise.all([i18nLoaded, host.sharedReady]).then(() => {
      renderTitle();
      state.timing.script = performance.now();
      require(["script"], (Widget) => {
        setNow("", "");
        construct(Widget);
      });
    });
  });
}

function start(envOrError) {
  host.startedAt = performance.now();
  flushEarlyErrors();
  $id("kolokol-reload-button").addEventListener("click", () => window.__kolokolReload());
  $id("kolokol-settings-button").addEventListener("click", () => {
    if ($id("kolokol-settings").hidden) openSettings();
    else closeSettings();
  });
  $id("kolokol-settings-close").addEventListener("click", closeSettings);
  $id("kolokol-settings-form").addEventListener("submit", saveSettings);

  if (envOrError instanceof Error || !isObj(envOrError)) {
    applyChromeLanguage();
    addError("env.json", "the widget environment could not be read: " + describe(envOrError).message);
    return finish(true);
  }
  const env = (host.env = envOrError);
  // For tests: which folder this page runs (a reload is told from the page before it).
  defineConst("__kolokolEnvFolder", typeof env.folder === "string" ? env.folder : null);
  host.profile = normaliseProfile(env.profile);
  host.T = host.profile.lang === "ru" ? STRINGS.ru : STRINGS.en;
  applyChromeLanguage();
  host.manifest = isObj(env.manifest) ? env.manifest : null;
  host.code = String(env.code || manifestWidget().code || "widget");
  host.base = typeof env.widget_base === "string" && env.widget_base ? env.widget_base.replace(/\/+$/, "") : "/widget";
  if (env.version == null) env.version = Date.now();
  state.openedMs = typeof env.opened_ms === "number" ? env.opened_ms : null;
  state.problems = Array.isArray(env.problems) ? env.problems : [];
  resetSettings(loadSaved());

  let hasError = state.problems.some((p) => p && p.severity === "error");
  if (!host.manifest && !hasError) {
    state.problems.push({ severity: "error", field: "manifest.json", message: "manifest.json is missing or is not a JSON object" });
    hasError = true;
  }
  renderProblems(state.problems);
  makeAppObject();

  if (hasError) {
    renderTitle();
    const blocked = $id("kolokol-blocked");
    blocked.textContent = "";
    blocked.append(el("strong", "kk-blocked__title", host.T.blocked), el("span", "kk-blocked__fix", host.T.fix));
    blocked.hidden = false;
    document.body.classList.add("kk-has-blocking-problems");
    setNow(host.T.stopped, "kk-now--stopped");
    // Show the name in the chrome when the i18n file can tell it.
    if (host.manifest) loadI18n().then(renderTitle);
    return finish(true);
  }
  renderTitle();
  loadWidget();
}

const envLoaded = fetchFile("/__kolokol/env.json").catch((e) => (e instanceof Error ? e : new Error(String(e))));

// Module scripts run after the document is parsed.
envLoaded.then((env) => {
  try {
    start(env);
  } catch (e) {
    const d = describe(e);
    addError("host", "the host page failed: " + d.message, d.stack);
    finish(true);
  }
});
