// Kolokol's widget host: the page the workbench opens for a widget folder.
// It reads /__kolokol/env.json, recreates the part of amoCRM a widget relies
// on (APP/AMOCRM constants, RequireJS with jquery and underscore, the widget
// base object), loads /widget/script.js and runs its callbacks in amoCRM's
// order, reporting every step and every error on the page.
//
// A classic script loaded after require.js, no inline code anywhere: the page
// is served with a strict CSP. Hooks for tests and benchmarks:
// window.__kolokolHost (state) and window.__kolokolReload().
(function () {
  "use strict";

  // ---------------------------------------------------------------- strings

  // Chrome labels follow profile.lang. Diagnostics that name code (errors,
  // lifecycle notes) stay in English, like the widget's own error messages.
  var STRINGS = {
    en: {
      settings: "Settings",
      reload: "Reload",
      lifecycle: "Lifecycle",
      errors: "Errors",
      problems: "Problems in the widget folder",
      error: "error",
      warning: "warning",
      blocked: "The widget was not loaded: manifest.json has errors.",
      fix: "Fix manifest.json and save: the widget reloads by itself.",
      loading: "loading…",
      running: function (name) { return name + "…"; },
      done: function (ms) { return "done in " + ms + " ms"; },
      stopped: "stopped",
      save: "Save",
      cancel: "Cancel",
      close: "Close",
      saved: "Saved.",
      saving: "Saving…",
      required: "Required fields are empty: ",
      onSaveFalse: "onSave returned false: not saved",
      onSaveThrew: "onSave threw: not saved (see Errors)",
      noFields: "manifest.json declares no settings fields.",
      customField: "drawn by the widget",
      storageMemory: "localStorage is not available: settings are kept in memory until the page reloads.",
      pageBody: "Page body: widgets may append here.",
      card: "card",
      versionLabel: "v",
    },
    ru: {
      settings: "Настройки",
      reload: "Перезагрузить",
      lifecycle: "Жизненный цикл",
      errors: "Ошибки",
      problems: "Проблемы в папке виджета",
      error: "ошибка",
      warning: "предупреждение",
      blocked: "Виджет не загружен: в manifest.json есть ошибки.",
      fix: "Исправьте manifest.json и сохраните: виджет перезагрузится сам.",
      loading: "загрузка…",
      running: function (name) { return name + "…"; },
      done: function (ms) { return "готово за " + ms + " мс"; },
      stopped: "остановлено",
      save: "Сохранить",
      cancel: "Отмена",
      close: "Закрыть",
      saved: "Сохранено.",
      saving: "Сохранение…",
      required: "Не заполнены обязательные поля: ",
      onSaveFalse: "onSave вернул false: не сохранено",
      onSaveThrew: "onSave выбросил исключение: не сохранено (см. «Ошибки»)",
      noFields: "В manifest.json нет полей настроек.",
      customField: "рисует виджет",
      storageMemory: "localStorage недоступен: настройки хранятся в памяти до перезагрузки страницы.",
      pageBody: "Тело страницы: виджеты могут добавлять сюда.",
      card: "карточка",
      versionLabel: "v",
    },
  };
  var T = /^ru\b/i.test(navigator.language || "") ? STRINGS.ru : STRINGS.en;

  var DEFAULT_PROFILE = {
    lang: "ru",
    area: "lcard",
    entity: "leads",
    card_id: 1001,
    user: { id: 1, name: "Иван Петров", login: "ivan@example.com", lang: "ru" },
    account: { id: 1234567, subdomain: "example", name: "Example", currency: "RUB", timezone: "Europe/Moscow" },
    managers: {
      "1": { id: 1, title: "Иван Петров", login: "ivan@example.com", active: true, is_admin: "Y" },
      "2": { id: 2, title: "Анна Смирнова", login: "anna@example.com", active: true, is_admin: "N" },
    },
  };

  // Modules real widgets ask for that exist only inside amoCRM.
  var AMO_ONLY = ["twigjs", "moment", "backbone", "marionette", "intl-tel-input", "jquery-ui", "clipboard"];
  var AMO_ONLY_PREFIX = /^(lib\/(components|common|core|interface|utils|helpers)\/|vendor\/|tmpl\/)/;
  var CALLBACK_TIMEOUT_MS = 15000;

  // ---------------------------------------------------------------- state

  var state = {
    lifecycle: [],
    errors: [],
    problems: [],
    initCalledAt: null,
    openedMs: null,
    ready: false,
    // The callbacks of the run before the last reload (it ends with destroy).
    previous: null,
  };
  try {
    state.previous = JSON.parse(sessionStorage.getItem("kolokol.previous") || "null");
    sessionStorage.removeItem("kolokol.previous");
  } catch (_) {}
  defineConst("__kolokolHost", state);

  var env = null;        // env.json
  var profile = null;    // normalised profile
  var manifest = null;   // env.manifest
  var langs = {};        // the widget's i18n for the current language
  var settings = {};     // get_settings() / params: one object, updated in place
  var widget = null;     // the widget instance
  var code = "widget";
  var base = "/widget";
  var memoryStore = {};  // localStorage fallback
  var reloading = false;
  var startedAt = 0;

  defineConst("__kolokolReload", function () {
    if (reloading) return;
    reloading = true;
    var done = false;
    var go = function () {
      if (done) return;
      done = true;
      try {
        sessionStorage.setItem("kolokol.previous", JSON.stringify(state.lifecycle.map(function (l) { return l.callback; })));
      } catch (_) {}
      try {
        location.reload();
      } catch (_) {}
    };
    if (widget && widget.callbacks) {
      // destroy() may return a thenable: wait for it, but not for long.
      setTimeout(go, 1000);
      runCallback("destroy", []).then(go, go);
    } else {
      go();
    }
  });

  // Anything the widget throws later (click handlers, timers, promises).
  window.addEventListener("error", function (ev) {
    if (typeof ErrorEvent !== "undefined" && !(ev instanceof ErrorEvent)) return;
    var d = ev.error != null ? describe(ev.error) : { message: String(ev.message || "error"), stack: "" };
    var where = ev.filename ? " (" + shortUrl(ev.filename) + ":" + ev.lineno + (ev.colno ? ":" + ev.colno : "") + ")" : "";
    addError("window.onerror", d.message + where, d.stack);
  });
  window.addEventListener("unhandledrejection", function (ev) {
    var d = describe(ev.reason);
    addError("unhandledrejection", d.message, d.stack);
  });

  // ---------------------------------------------------------------- helpers

  function defineConst(name, value) {
    try {
      Object.defineProperty(window, name, { value: value, writable: false, configurable: false, enumerable: true });
    } catch (e) {
      console.warn("[kolokol host] window." + name + " could not be defined", e);
    }
  }

  function isObj(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function clone(v) {
    if (v === undefined) return undefined;
    try {
      return JSON.parse(JSON.stringify(v));
    } catch (_) {
      return undefined;
    }
  }

  function assign(target) {
    for (var i = 1; i < arguments.length; i++) {
      var src = arguments[i];
      if (!isObj(src)) continue;
      for (var k in src) if (Object.prototype.hasOwnProperty.call(src, k)) target[k] = src[k];
    }
    return target;
  }

  function $id(id) {
    return document.getElementById(id);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function isThenable(v) {
    try {
      return v !== null && (typeof v === "object" || typeof v === "function") && typeof v.then === "function";
    } catch (_) {
      return false;
    }
  }

  // A thrown value of any kind as {message, stack}; never throws itself.
  function describe(e) {
    try {
      if (e instanceof Error || (e && typeof e === "object" && typeof e.message === "string")) {
        var msg = String(e.message || e.name || "Error");
        if (e.code && typeof e.code === "string" && msg.indexOf(e.code) < 0) msg = e.code + ": " + msg;
        return { message: msg, stack: e.stack ? String(e.stack) : "" };
      }
      if (e && typeof e === "object") {
        try {
          return { message: JSON.stringify(e), stack: "" };
        } catch (_) {}
      }
      return { message: String(e), stack: "" };
    } catch (_) {
      return { message: "(a value that cannot be printed)", stack: "" };
    }
  }

  // The first lines of a stack, without the line that repeats the message.
  function stackHead(stack, message) {
    if (!stack) return "";
    var lines = String(stack).split("\n");
    if (lines.length && message && lines[0].indexOf(message) >= 0) lines.shift();
    var origin = location.origin;
    return lines
      .map(function (l) { return l.trim(); })
      // The host's own frames say nothing about the widget.
      .filter(function (l) { return l && l.indexOf("/__kolokol/host.js") < 0; })
      .map(function (l) { return l.split(origin).join("").replace(/\?v=[^:)\s]*/g, ""); })
      .slice(0, 3)
      .join("\n");
  }

  function shortUrl(u) {
    try {
      var url = new URL(u, location.href);
      return url.origin === location.origin ? url.pathname : u;
    } catch (_) {
      return String(u);
    }
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // "widget.name" → langs.widget.name; undefined when the path is absent.
  function lookup(obj, path) {
    var cur = obj;
    var parts = String(path).split(".");
    for (var i = 0; i < parts.length; i++) {
      if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, parts[i])) return undefined;
      cur = cur[parts[i]];
    }
    return cur;
  }

  // A manifest string that looks like an i18n key is shown translated.
  function tr(s) {
    if (typeof s !== "string") return s == null ? "" : String(s);
    if (/^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(s)) {
      var v = lookup(langs, s);
      if (typeof v === "string" || typeof v === "number") return String(v);
    }
    return s;
  }

  function ms(t0) {
    return Math.round((performance.now() - t0) * 100) / 100;
  }

  // ---------------------------------------------------------------- chrome

  function setNow(text, cls) {
    var now = $id("kolokol-lifecycle-now");
    if (!now) return;
    now.textContent = text || "";
    now.className = "kk-lifecycle__now" + (cls ? " " + cls : "");
  }

  // Entry and strip item are added together: the two never disagree.
  function record(entry) {
    state.lifecycle.push(entry);
    var list = $id("kolokol-lifecycle");
    if (!list) return entry;
    var li = el("li", "kk-step kk-step--" + entry.result);
    li.setAttribute("data-callback", entry.callback);
    li.setAttribute("data-result", entry.result);
    li.append(el("span", "kk-step__name", entry.callback));
    var mark = { ok: "✓", false: "false", threw: "✕", missing: "—" }[entry.result] || entry.result;
    li.append(el("span", "kk-step__mark", mark));
    if (entry.result !== "missing") li.append(el("span", "kk-step__ms", entry.ms + " ms"));
    var detail = entry.error || entry.note;
    if (detail) {
      li.append(el("span", "kk-step__detail", detail));
      li.title = detail;
    } else if (entry.result === "missing") {
      li.title = "callbacks." + entry.callback + " is not defined";
    }
    list.append(li);
    return entry;
  }

  function addError(source, message, stack) {
    var entry = { source: String(source), message: String(message) };
    state.errors.push(entry);
    try {
      console.error("[kolokol host] " + entry.source + ": " + entry.message);
    } catch (_) {}
    var list = $id("kolokol-errors");
    if (!list) return entry;
    var li = el("li", "kk-item kk-item--error");
    li.setAttribute("data-source", entry.source);
    li.append(el("span", "kk-item__source", entry.source));
    li.append(el("span", "kk-item__message", entry.message));
    var head = stackHead(stack, entry.message);
    if (head) li.append(el("pre", "kk-item__stack", head));
    list.append(li);
    $id("kolokol-errors-box").hidden = false;
    document.body.classList.add("kk-has-errors");
    return entry;
  }

  // Errors raised before the DOM exists are drawn once it does.
  function flushEarlyErrors() {
    var early = state.errors.splice(0, state.errors.length);
    early.forEach(function (e) {
      addError(e.source, e.message);
    });
  }

  function renderProblems(problems) {
    var list = $id("kolokol-problems");
    list.textContent = "";
    problems.forEach(function (p) {
      var sev = p && p.severity === "error" ? "error" : "warning";
      var li = el("li", "kk-item kk-item--" + sev);
      li.setAttribute("data-severity", sev);
      li.append(el("span", "kk-badge kk-badge--" + sev, sev === "error" ? T.error : T.warning));
      if (p && p.field) li.append(el("code", "kk-item__field", String(p.field)));
      li.append(el("span", "kk-item__message", p && p.message != null ? String(p.message) : ""));
      list.append(li);
    });
    $id("kolokol-problems-box").hidden = problems.length === 0;
  }

  function applyChromeLanguage() {
    $id("kolokol-settings-button").textContent = T.settings;
    $id("kolokol-reload-button").textContent = T.reload;
    $id("kolokol-lifecycle-label").textContent = T.lifecycle;
    $id("kolokol-errors-title").textContent = T.errors;
    $id("kolokol-problems-title").textContent = T.problems;
    $id("kolokol-settings-title").textContent = T.settings;
    $id("kolokol-settings-save").textContent = T.save;
    $id("kolokol-settings-cancel").textContent = T.cancel;
    $id("kolokol-settings-close").setAttribute("aria-label", T.close);
    $id("kolokol-settings-close").title = T.close;
    $id("kolokol-page-hint").textContent = T.pageBody;
    document.documentElement.lang = T === STRINGS.ru ? "ru" : "en";
  }

  function renderTitle() {
    var w = (manifest && isObj(manifest.widget) && manifest.widget) || {};
    var name = tr(w.name) || code;
    $id("kolokol-widget-name").textContent = name;
    var version = $id("kolokol-widget-version");
    if (w.version != null && w.version !== "") {
      version.textContent = T.versionLabel + String(w.version);
      version.hidden = false;
    }
    var ctx = $id("kolokol-context");
    var parts = [profile.area, profile.entity];
    if (isCardArea(profile.area) && profile.card_id != null) parts.push(T.card + " #" + profile.card_id);
    parts.push(profile.lang);
    ctx.textContent = parts.join(" · ");
    ctx.hidden = false;
    document.title = name + (w.version != null ? " " + w.version : "") + " — Kolokol";
  }

  function finish(stoppedEarly) {
    if (state.ready) return;
    state.ready = true;
    document.body.classList.remove("kk-loading");
    document.body.classList.add(stoppedEarly ? "kk-stopped" : "kk-ready");
    if (stoppedEarly) {
      if (!$id("kolokol-lifecycle-now").textContent) setNow(T.stopped, "kk-now--stopped");
    } else {
      setNow(T.done(Math.round(performance.now() - startedAt)), "kk-now--done");
    }
  }

  // ---------------------------------------------------------------- env

  function isCardArea(area) {
    return typeof area === "string" && /card$/.test(area);
  }

  function normaliseProfile(p) {
    p = isObj(p) ? p : {};
    var out = assign({}, clone(p) || {});
    var str = function (v, d) { return typeof v === "string" && v ? v : d; };
    out.lang = str(p.lang, DEFAULT_PROFILE.lang);
    out.area = str(p.area, DEFAULT_PROFILE.area);
    out.entity = str(p.entity, DEFAULT_PROFILE.entity);
    out.card_id = p.card_id != null && p.card_id !== "" ? p.card_id : DEFAULT_PROFILE.card_id;
    out.user = assign(clone(DEFAULT_PROFILE.user), { lang: out.lang }, clone(isObj(p.user) ? p.user : {}));
    out.account = assign(clone(DEFAULT_PROFILE.account), clone(isObj(p.account) ? p.account : {}));
    out.managers = isObj(p.managers) ? clone(p.managers) || {} : clone(DEFAULT_PROFILE.managers);
    return out;
  }

  // The APP / AMOCRM object: Kolokol's init script attaches `notifications`
  // to it on assignment.
  function makeAppObject() {
    var card = isCardArea(profile.area);
    var app = {
      constant: function (name) {
        if (name === "user" || name === "account" || name === "managers") return clone(profile[name]);
        console.warn("[kolokol host] APP.constant(" + JSON.stringify(name) + "): Kolokol's profile has no such constant; " +
          "available: user, account, managers");
        return undefined;
      },
      lang_id: profile.lang,
      getBaseEntity: function () { return profile.entity; },
      isCard: function () { return card; },
      getWidgetsArea: function () { return profile.area; },
      data: {
        current_entity: profile.entity,
        current_card: card ? { id: profile.card_id } : undefined,
        is_card: card,
      },
      widgets: {},
    };
    window.APP = app;
    window.AMOCRM = app;
    var n = window.APP && window.APP.notifications;
    if (!n || typeof n.show_message !== "function") {
      addError("host", "APP.notifications is not available in this page: it is provided by Kolokol's workspace window");
    }
    return app;
  }

  // ---------------------------------------------------------------- settings storage

  function storageKey() {
    return "kolokol.settings." + code;
  }

  function loadSaved() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(storageKey());
    } catch (_) {
      raw = memoryStore[storageKey()] || null;
    }
    if (!raw) return {};
    try {
      var v = JSON.parse(raw);
      return isObj(v) ? v : {};
    } catch (_) {
      return {};
    }
  }

  // True when localStorage took it, false when only memory did.
  function storeSaved(fields) {
    var raw = JSON.stringify(fields);
    memoryStore[storageKey()] = raw;
    try {
      window.localStorage.setItem(storageKey(), raw);
      return true;
    } catch (_) {
      return false;
    }
  }

  function resetSettings(saved) {
    var w = (manifest && isObj(manifest.widget) && manifest.widget) || {};
    for (var k in settings) if (Object.prototype.hasOwnProperty.call(settings, k)) delete settings[k];
    assign(settings, saved, {
      widget_code: code,
      path: base,
      images_path: base + "/images",
      version: w.version != null ? String(w.version) : "",
      status: "installed",
      active: "Y",
    });
  }

  // ---------------------------------------------------------------- i18n

  // fetch, with XMLHttpRequest as a fallback for webviews whose fetch does
  // not serve a custom URL scheme.
  function fetchJson(url) {
    if (typeof fetch !== "function") return xhrJson(url);
    return fetch(url, { cache: "no-store" }).then(
      function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      },
      function () {
        return xhrJson(url);
      }
    );
  }

  function xhrJson(url) {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open("GET", url);
      x.onload = function () {
        if ((x.status >= 200 && x.status < 300) || (x.status === 0 && x.responseText)) {
          try {
            resolve(JSON.parse(x.responseText));
          } catch (e) {
            reject(e);
          }
        } else {
          reject(new Error(url + ": HTTP " + x.status));
        }
      };
      x.onerror = function () {
        reject(new Error(url + ": the request failed"));
      };
      x.send();
    });
  }

  function loadI18n() {
    var w = (manifest && isObj(manifest.widget) && manifest.widget) || {};
    var locales = Array.isArray(w.locale) ? w.locale.filter(function (l) { return typeof l === "string" && l; }) : [];
    var order = [profile.lang, "en"];
    if (locales.length) order.push(locales[0]);
    order = order.filter(function (l, i) { return l && order.indexOf(l) === i; });
    var i = 0;
    var next = function () {
      if (i >= order.length) return Promise.resolve({});
      var lang = order[i++];
      return fetchJson(base + "/i18n/" + encodeURIComponent(lang) + ".json?v=" + encodeURIComponent(env.version))
        .then(function (j) {
          if (!isObj(j)) throw new Error("not an object");
          return j;
        })
        .catch(function (e) {
          console.warn("[kolokol host] i18n/" + lang + ".json: " + describe(e).message);
          return next();
        });
    };
    return next();
  }

  // ---------------------------------------------------------------- widget base

  function tinyTwig(tpl, params) {
    // Only {{ name }} / {{ a.b }}: Kolokol has no twig; the rest is left as is.
    if (!isObj(params)) return tpl;
    return tpl.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, function (m, path) {
      var v = lookup(params, path);
      return v === undefined || v === null ? m : esc(v);
    });
  }

  function makeBase() {
    var w = (manifest && isObj(manifest.widget) && manifest.widget) || {};
    var proto = {
      system: function () {
        return {
          area: profile.area,
          amouser_id: profile.user.id,
          amouser: profile.user.login,
          amohash: "kolokol",
          subdomain: profile.account.subdomain,
          domain: "amocrm.ru",
          displayed_count: 0,
        };
      },
      get_settings: function () {
        return settings;
      },
      set_settings: function (obj) {
        if (isObj(obj)) assign(settings, obj);
        return true;
      },
      i18n: function (section) {
        if (section == null || section === "") return langs;
        return lookup(langs, section);
      },
      langs: langs,
      params: settings,
      get_version: function () {
        return w.version != null ? String(w.version) : "";
      },
      get_install_status: function () {
        return "installed";
      },
      render_template: function (opts, params) {
        opts = isObj(opts) ? opts : {};
        var caption = isObj(opts.caption) ? opts.caption : {};
        var area = $id("kolokol-widget-area");
        var block = area.querySelector(":scope > .kk-widget-block");
        if (!block) {
          block = el("div", "card-widgets__widget kk-widget-block");
          block.setAttribute("data-widget-code", code);
          area.append(block);
        }
        block.textContent = "";
        var head = el("div", "card-widgets__widget__caption kk-widget-block__caption");
        String(caption.class_name || "").split(/\s+/).forEach(function (c) {
          if (c) {
            try {
              head.classList.add(c);
            } catch (_) {}
          }
        });
        head.append(el("span", "kk-widget-block__name", tr(w.name) || code));
        if (caption.html) {
          var extra = el("span", "kk-widget-block__caption-html");
          extra.innerHTML = String(caption.html);
          head.append(extra);
        }
        var body = el("div", "card-widgets__widget__body kk-widget-block__body");
        body.innerHTML = String(opts.body || "") + tinyTwig(String(opts.render || ""), params);
        block.append(head, body);
        return true;
      },
      render: function () {
        throw new Error("Kolokol does not provide amoCRM's twig templates: self.render() is not available; " +
          "build the HTML in JavaScript and pass it to self.render_template({body: html})");
      },
      crm_post: function (url, data, success, type, error) {
        var err = new Error("Kolokol does not proxy network requests: self.crm_post(" + JSON.stringify(String(url)) +
          ") is not available; it needs amoCRM's server");
        addError("crm_post", err.message);
        if (typeof error === "function") {
          try {
            error(err);
          } catch (_) {}
        }
        var p = Promise.reject(err);
        p.catch(function () {});
        return p;
      },
    };
    return proto;
  }

  // ---------------------------------------------------------------- lifecycle

  // Runs callbacks[name](...args) and records it. Resolves to
  // {result, value}; never rejects, never throws.
  function runCallback(name, args) {
    var cbs = widget && widget.callbacks;
    var fn = null;
    try {
      fn = cbs && cbs[name];
    } catch (_) {}
    var at = Date.now();
    if (typeof fn !== "function") {
      record({ callback: name, result: "missing", at: at, ms: 0 });
      return Promise.resolve({ result: "missing" });
    }
    if (name === "init") state.initCalledAt = at;
    setNow(T.running(name), "kk-now--running");
    var t0 = performance.now();

    var settle = function (result, value, err) {
      var entry = { callback: name, result: result, at: at, ms: ms(t0) };
      if (err !== undefined) {
        var d = describe(err);
        entry.error = d.message;
        record(entry);
        addError(name, d.message, d.stack);
      } else {
        record(entry);
      }
      setNow("", "");
      return { result: result, value: value, entry: entry };
    };
    var classify = function (v) {
      if (name === "render") return v === true ? "ok" : "false";
      if (name === "onSave") return v === false ? "false" : "ok";
      return "ok";
    };

    var r;
    try {
      r = fn.apply(cbs, args || []);
    } catch (e) {
      return Promise.resolve(settle("threw", undefined, e === undefined ? new Error("threw undefined") : e));
    }
    if (!isThenable(r)) return Promise.resolve(settle(classify(r), r));
    return new Promise(function (resolve) {
      var done = false;
      var timer = setTimeout(function () {
        if (done) return;
        done = true;
        resolve(settle("threw", undefined,
          new Error(name + " returned a promise that did not settle within " + CALLBACK_TIMEOUT_MS / 1000 + " s")));
      }, CALLBACK_TIMEOUT_MS);
      var ok = function (v) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(settle(classify(v), v));
      };
      var bad = function (e) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(settle("threw", undefined, e === undefined ? new Error(name + " rejected") : e));
      };
      try {
        r.then(ok, bad);
      } catch (e) {
        bad(e);
      }
    });
  }

  function describeValue(v) {
    if (v === undefined) return "undefined";
    try {
      return JSON.stringify(v);
    } catch (_) {
      return String(v);
    }
  }

  function lifecycle() {
    runCallback("render", []).then(function (r) {
      if (r.result === "threw") {
        r.entry.note = "render threw: init and bind_actions not called";
        setNow(r.entry.note, "kk-now--stopped");
        return finish(true);
      }
      if (r.result === "false") {
        var note = "render returned " + describeValue(r.value) + ": init and bind_actions not called";
        if (r.value !== false) note += " (amoCRM calls them only when render returns true)";
        r.entry.note = note;
        setNow(note, "kk-now--stopped");
        console.warn("[kolokol host] " + note);
        return finish(true);
      }
      return runCallback("init", [])
        .then(function () {
          return runCallback("bind_actions", []);
        })
        .then(function () {
          finish(false);
        });
    });
  }

  function construct(Widget) {
    if (typeof Widget !== "function") {
      addError("script.js", "script.js did not define a widget constructor: define(...) must return a function " +
        "(got " + (Widget === null ? "null" : typeof Widget) + ")");
      return finish(true);
    }
    var proto = makeBase();
    try {
      // The base goes at the end of the widget's own prototype chain.
      var p = Widget.prototype;
      if (p && (typeof p === "object" || typeof p === "function")) {
        var parent = Object.getPrototypeOf(p);
        while (parent && parent !== Object.prototype && parent !== proto) {
          p = parent;
          parent = Object.getPrototypeOf(p);
        }
        if (parent !== proto) Object.setPrototypeOf(p, proto);
      }
    } catch (e) {
      addError("host", "could not attach the widget base to Widget.prototype: " + describe(e).message);
    }
    try {
      widget = new Widget();
    } catch (e) {
      var d = describe(e);
      addError("constructor", d.message, d.stack);
      return finish(true);
    }
    var cbs = null;
    try {
      cbs = widget && widget.callbacks;
    } catch (_) {}
    if (!cbs || (typeof cbs !== "object" && typeof cbs !== "function")) {
      widget = null;
      addError("script.js", "script.js did not define callbacks: the constructor must set this.callbacks = {render, init, bind_actions, ...}");
      return finish(true);
    }
    setupSettingsButton();
    lifecycle();
  }

  function onRequireError(err) {
    var ids = (err && err.requireModules) || [];
    var message = String((err && err.message) || err).split("\n")[0];
    var missing = ids.filter(function (id) {
      return AMO_ONLY.indexOf(id) >= 0 || AMO_ONLY_PREFIX.test(id) || /^[\w-]+!/.test(id);
    });
    var text = (widget ? "require() failed: " : "script.js failed to load: ") +
      (ids.length ? ids.join(", ") + ": " : "") + message;
    if (missing.length) {
      text += " — " + missing.map(function (id) {
        return JSON.stringify(id) + " is not provided by Kolokol (it exists only inside amoCRM)";
      }).join("; ");
    }
    if (err && err.requireType === "scripterror") {
      var local = ids.filter(function (id) { return missing.indexOf(id) < 0; });
      if (local.length) {
        text += " — not found in the widget folder (or not served): " + local.map(function (id) {
          return base + "/" + id + ".js";
        }).join(", ");
      }
    }
    var stack = err && err.requireType === "define" && err.stack ? String(err.stack) : "";
    addError(widget ? "require" : "script.js", text, stack);
    if (!widget && !state.ready) {
      setNow("", "");
      finish(true);
    }
  }

  function loadWidget() {
    if (typeof window.requirejs !== "function" || typeof window.require !== "function") {
      addError("host", "RequireJS (/__kolokol/require.js) did not load: the widget cannot be started");
      return finish(true);
    }
    requirejs.config({
      baseUrl: base,
      paths: { jquery: "/__kolokol/jquery", underscore: "/__kolokol/underscore" },
      urlArgs: "v=" + env.version,
      waitSeconds: 10,
    });
    requirejs.onError = onRequireError;

    // The widget's stylesheet, before its script (a missing one is fine).
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "/style.css?v=" + encodeURIComponent(env.version);
    link.setAttribute("data-kolokol", "widget-style");
    document.head.append(link);

    var i18nLoaded = loadI18n();
    setNow(T.loading, "kk-now--running");
    require(["jquery", "underscore"], function ($, _) {
      window.$ = window.jQuery = $;
      window._ = _;
      i18nLoaded.then(function (j) {
        langs = j;
        renderTitle();
        require(["script"], function (Widget) {
          setNow("", "");
          construct(Widget);
        });
      });
    });
  }

  // ---------------------------------------------------------------- settings panel

  function manifestSettings() {
    return manifest && isObj(manifest.settings) ? manifest.settings : {};
  }

  function setupSettingsButton() {
    var s = manifestSettings();
    var locs = manifest && Array.isArray(manifest.locations) ? manifest.locations : [];
    var has = Object.keys(s).length > 0 || locs.some(function (l) { return typeof l === "string" && /^settings\b/.test(l); });
    var btn = $id("kolokol-settings-button");
    btn.hidden = !has;
  }

  function settingsStatus(text, kind) {
    var st = $id("kolokol-settings-status");
    st.textContent = text || "";
    st.hidden = !text;
    st.className = "kk-settings__status" + (kind ? " kk-settings__status--" + kind : "");
    st.setAttribute("data-status", kind || "");
  }

  function fieldLabel(key, def) {
    return tr(isObj(def) && def.name != null ? def.name : key) || key;
  }

  function buildSettingsForm() {
    var body = $id("kolokol-settings-body");
    body.textContent = "";
    var defs = manifestSettings();
    var keys = Object.keys(defs);
    if (!keys.length) body.append(el("p", "kk-muted", T.noFields));
    keys.forEach(function (key) {
      var def = isObj(defs[key]) ? defs[key] : {};
      var type = String(def.type || "text");
      var required = def.required === true || def.required === "true" || def.required === 1;
      var id = "kolokol-setting-" + key.replace(/[^\w-]/g, "_");
      var row = el("div", "kk-field widget_settings_block__item_field");
      row.setAttribute("data-key", key);
      row.setAttribute("data-type", type);
      var label = el(type === "users" || type === "users_lp" || type === "custom" ? "div" : "label", "kk-field__label widget_settings_block__title_field");
      label.textContent = fieldLabel(key, def);
      if (type !== "users" && type !== "users_lp" && type !== "custom") label.htmlFor = id;
      if (required) {
        label.append(el("span", "kk-required", " *"));
        row.classList.add("kk-field--required");
      }
      row.append(label);
      var saved = settings[key];
      if (type === "users" || type === "users_lp") {
        var box = el("div", "kk-field__users");
        var managers = isObj(profile.managers) ? profile.managers : {};
        Object.keys(managers).forEach(function (mid) {
          var m = isObj(managers[mid]) ? managers[mid] : {};
          var l = el("label", "kk-check");
          var cb = document.createElement("input");
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
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = key;
        hidden.id = id;
        hidden.value = saved == null ? "" : typeof saved === "string" ? saved : JSON.stringify(saved);
        var custom = el("div", "kk-field__custom widget_settings_block__custom");
        custom.setAttribute("data-key", key);
        custom.id = "kolokol-custom-" + key.replace(/[^\w-]/g, "_");
        custom.title = T.customField;
        row.append(hidden, custom);
      } else {
        var input = document.createElement("input");
        input.type = type === "pass" ? "password" : "text";
        input.name = key;
        input.id = id;
        input.className = "kk-input widget_settings_block__input_field text-input";
        input.autocomplete = type === "pass" ? "new-password" : "off";
        if (required) input.setAttribute("aria-required", "true");
        input.value = saved == null ? "" : String(saved);
        row.append(input);
      }
      body.append(row);
    });
  }

  function collectFields() {
    var defs = manifestSettings();
    var form = $id("kolokol-settings-form");
    var fields = {};
    Object.keys(defs).forEach(function (key) {
      var def = isObj(defs[key]) ? defs[key] : {};
      var type = String(def.type || "text");
      var inputs = Array.prototype.filter.call(form.elements, function (e) { return e.name === key; });
      if (type === "users" || type === "users_lp") {
        var v = {};
        inputs.forEach(function (cb) { v[cb.value] = !!cb.checked; });
        fields[key] = v;
      } else {
        fields[key] = inputs.length ? String(inputs[0].value) : "";
      }
    });
    return fields;
  }

  function missingRequired(fields) {
    var defs = manifestSettings();
    return Object.keys(defs).filter(function (key) {
      var def = isObj(defs[key]) ? defs[key] : {};
      if (!(def.required === true || def.required === "true" || def.required === 1)) return false;
      var v = fields[key];
      if (isObj(v)) return !Object.keys(v).some(function (k) { return v[k]; });
      return v == null || String(v).trim() === "";
    });
  }

  function openSettings() {
    var panel = $id("kolokol-settings");
    buildSettingsForm();
    settingsStatus("", "");
    panel.hidden = false;
    var bodyEl = $id("kolokol-settings-body");
    var arg = typeof window.jQuery === "function" ? window.jQuery(bodyEl) : bodyEl;
    if (widget) runCallback("settings", [arg]);
    var first = bodyEl.querySelector("input:not([type=hidden])");
    if (first) {
      try {
        first.focus();
      } catch (_) {}
    }
  }

  function closeSettings() {
    $id("kolokol-settings").hidden = true;
  }

  var saving = false;
  function saveSettings(ev) {
    if (ev) ev.preventDefault();
    if (saving) return;
    saving = true;
    var fields = collectFields();
    settingsStatus(T.saving, "saving");
    var step = widget ? runCallback("onSave", [{ fields: clone(fields), active: "Y" }]) : Promise.resolve({ result: "missing" });
    step.then(function (r) {
      saving = false;
      if (r.result === "false") return settingsStatus(T.onSaveFalse, "onsave-false");
      if (r.result === "threw") return settingsStatus(T.onSaveThrew, "onsave-threw");
      var missing = missingRequired(fields);
      if (missing.length) {
        var defs = manifestSettings();
        return settingsStatus(T.required + missing.map(function (k) { return fieldLabel(k, defs[k]); }).join(", "), "required");
      }
      var durable = storeSaved(fields);
      assign(settings, fields, { active: "Y" });
      settingsStatus(durable ? T.saved : T.saved + " " + T.storageMemory, "saved");
    });
  }

  // ---------------------------------------------------------------- start

  function domReady() {
    return new Promise(function (resolve) {
      if (document.readyState !== "loading") resolve();
      else document.addEventListener("DOMContentLoaded", function () { resolve(); }, { once: true });
    });
  }

  function start(envOrError) {
    startedAt = performance.now();
    flushEarlyErrors();
    $id("kolokol-reload-button").addEventListener("click", function () {
      window.__kolokolReload();
    });
    $id("kolokol-settings-button").addEventListener("click", function () {
      if ($id("kolokol-settings").hidden) openSettings();
      else closeSettings();
    });
    $id("kolokol-settings-close").addEventListener("click", closeSettings);
    $id("kolokol-settings-cancel").addEventListener("click", closeSettings);
    $id("kolokol-settings-form").addEventListener("submit", saveSettings);

    if (envOrError instanceof Error || !isObj(envOrError)) {
      applyChromeLanguage();
      addError("env.json", "the widget environment could not be read: " + describe(envOrError).message);
      return finish(true);
    }
    env = envOrError;
    profile = normaliseProfile(env.profile);
    T = profile.lang === "ru" ? STRINGS.ru : STRINGS.en;
    applyChromeLanguage();
    manifest = isObj(env.manifest) ? env.manifest : null;
    code = String(env.code || (manifest && isObj(manifest.widget) && manifest.widget.code) || "widget");
    base = typeof env.widget_base === "string" && env.widget_base ? env.widget_base.replace(/\/+$/, "") : "/widget";
    if (env.version == null) env.version = Date.now();
    state.openedMs = typeof env.opened_ms === "number" ? env.opened_ms : null;
    state.problems = Array.isArray(env.problems) ? env.problems : [];
    resetSettings(loadSaved());

    var hasError = state.problems.some(function (p) { return p && p.severity === "error"; });
    if (!manifest && !hasError) {
      state.problems.push({ severity: "error", field: "manifest.json", message: "manifest.json is missing or is not a JSON object" });
      hasError = true;
    }
    renderProblems(state.problems);
    makeAppObject();

    if (hasError) {
      renderTitle();
      var blocked = $id("kolokol-blocked");
      blocked.textContent = "";
      blocked.append(el("strong", "kk-blocked__title", T.blocked), el("span", "kk-blocked__fix", T.fix));
      blocked.hidden = false;
      document.body.classList.add("kk-has-blocking-problems");
      setNow(T.stopped, "kk-now--stopped");
      // Show the name in the chrome when the i18n file can tell it.
      if (manifest) {
        loadI18n().then(function (j) {
          langs = j;
          renderTitle();
        });
      }
      return finish(true);
    }
    renderTitle();
    loadWidget();
  }

  var envLoaded = fetchJson("/__kolokol/env.json")
    .catch(function (e) {
      return e instanceof Error ? e : new Error(String(e));
    });

  Promise.all([envLoaded, domReady()]).then(function (v) {
    try {
      start(v[0]);
    } catch (e) {
      var d = describe(e);
      addError("host", "the host page failed: " + d.message, d.stack);
      finish(true);
    }
  });
})();
