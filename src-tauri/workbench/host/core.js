// The host page's shared state, small helpers and the chrome that reports
// (lifecycle strip, errors, problems). Every other module imports from here.

export const STRINGS = {
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
    running: (name) => name + "…",
    done: (ms) => "done in " + ms + " ms",
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
    call: "Call",
    callHint: "Click to call: the widget's phone action",
    trigger: "Run",
    triggerLabel: "Callback",
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
    running: (name) => name + "…",
    done: (ms) => "готово за " + ms + " мс",
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
    call: "Позвонить",
    callHint: "Звонок по клику: действие phone виджета",
    trigger: "Вызвать",
    triggerLabel: "Callback",
  },
};

// What the modules share: the environment, the widget and its texts.
export const host = {
  T: /^ru\b/i.test(navigator.language || "") ? STRINGS.ru : STRINGS.en,
  env: null, // env.json
  profile: null, // normalised profile
  manifest: null, // env.manifest
  langs: {}, // the widget's i18n, after the language fallback
  settings: {}, // get_settings() / params: one object, updated in place
  widget: null, // the widget instance
  code: "widget",
  base: "/widget",
  actions: {}, // add_action(name, fn)
  startedAt: 0,
};

export const state = {
  lifecycle: [],
  errors: [],
  problems: [],
  calls: [], // APP.sdk / APP.widgets telephony calls, as recorded
  actionsFired: [], // add_action calls the workbench fired
  posts: [], // crm_post calls
  modals: [], // lib/components/base/modal instances
  status: null, // set_status()
  initCalledAt: null,
  openedMs: null,
  ready: false,
  // The callbacks of the run before the last reload (it ends with destroy).
  previous: null,
};

export function defineConst(name, value) {
  try {
    Object.defineProperty(window, name, { value, writable: false, configurable: false, enumerable: true });
  } catch (e) {
    console.warn("[kolokol host] window." + name + " could not be defined", e);
  }
}

export function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function clone(v) {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch (_) {
    return undefined;
  }
}

export function assign(target, ...sources) {
  for (const src of sources) {
    if (!isObj(src)) continue;
    for (const k in src) if (Object.prototype.hasOwnProperty.call(src, k)) target[k] = src[k];
  }
  return target;
}

export function $id(id) {
  return document.getElementById(id);
}

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

export function isThenable(v) {
  try {
    return v !== null && (typeof v === "object" || typeof v === "function") && typeof v.then === "function";
  } catch (_) {
    return false;
  }
}

// A thrown value of any kind as {message, stack}; never throws itself.
export function describe(e) {
  try {
    if (e instanceof Error || (e && typeof e === "object" && typeof e.message === "string")) {
      let msg = String(e.message || e.name || "Error");
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

export function describeValue(v) {
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v);
  } catch (_) {
    return String(v);
  }
}

// The first lines of a stack, without the line that repeats the message.
function stackHead(stack, message) {
  if (!stack) return "";
  const lines = String(stack).split("\n");
  if (lines.length && message && lines[0].indexOf(message) >= 0) lines.shift();
  const origin = location.origin;
  return lines
    .map((l) => l.trim())
    // The host's own frames say nothing about the widget.
    .filter((l) => l && l.indexOf("/__kolokol/") < 0)
    .map((l) => l.split(origin).join("").replace(/\?v=[^:)\s]*/g, ""))
    .slice(0, 3)
    .join("\n");
}

export function shortUrl(u) {
  try {
    const url = new URL(u, location.href);
    return url.origin === location.origin ? url.pathname : u;
  } catch (_) {
    return String(u);
  }
}

// "error.load_failed" → obj.error.load_failed; undefined when the path is absent.
export function lookup(obj, path) {
  let cur = obj;
  const parts = String(path).split(".");
  for (const part of parts) {
    if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

// A manifest string that looks like an i18n key is shown translated.
export function tr(s) {
  if (typeof s !== "string") return s == null ? "" : String(s);
  if (/^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(s)) {
    const v = lookup(host.langs, s);
    if (typeof v === "string" || typeof v === "number") return String(v);
  }
  return s;
}

export function manifestWidget() {
  return (host.manifest && isObj(host.manifest.widget) && host.manifest.widget) || {};
}

// fetch, with XMLHttpRequest as a fallback for webviews whose fetch does not
// serve a custom URL scheme. `as`: "json" or "text".
export function fetchFile(url, as = "json") {
  const parse = (text) => (as === "json" ? JSON.parse(text) : text);
  const xhr = () =>
    new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open("GET", url);
      x.onload = () => {
        if ((x.status >= 200 && x.status < 300) || (x.status === 0 && x.responseText)) {
          try {
            resolve(parse(x.responseText));
          } catch (e) {
            reject(e);
          }
        } else {
          reject(new Error(url + ": HTTP " + x.status));
        }
      };
      x.onerror = () => reject(new Error(url + ": the request failed"));
      x.send();
    });
  if (typeof fetch !== "function") return xhr();
  return fetch(url, { cache: "no-store" }).then(
    (r) => {
      if (!r.ok) throw new Error(shortUrl(url) + ": HTTP " + r.status);
      return r.text().then(parse);
    },
    () => xhr(),
  );
}

// ---------------------------------------------------------------- chrome

export function setNow(text, cls) {
  const now = $id("kolokol-lifecycle-now");
  if (!now) return;
  now.textContent = text || "";
  now.className = "kk-lifecycle__now" + (cls ? " " + cls : "");
}

// Entry and strip item are added together: the two never disagree.
export function record(entry) {
  state.lifecycle.push(entry);
  const list = $id("kolokol-lifecycle");
  if (!list) return entry;
  const li = el("li", "kk-step kk-step--" + entry.result);
  li.setAttribute("data-callback", entry.callback);
  li.setAttribute("data-result", entry.result);
  li.append(el("span", "kk-step__name", entry.callback));
  const mark = { ok: "✓", false: "false", threw: "✕", missing: "—" }[entry.result] || entry.result;
  li.append(el("span", "kk-step__mark", mark));
  if (entry.result !== "missing") li.append(el("span", "kk-step__ms", entry.ms + " ms"));
  entry.li = undefined;
  Object.defineProperty(entry, "li", { value: li, enumerable: false });
  showDetail(entry);
  list.append(li);
  return entry;
}

// The strip item's words: an error, or a note set later ("render returned false: …").
export function showDetail(entry) {
  const li = entry.li;
  if (!li) return;
  const detail = entry.error || entry.note;
  li.querySelectorAll(".kk-step__detail").forEach((d) => d.remove());
  if (detail) {
    li.append(el("span", "kk-step__detail", detail));
    li.title = detail;
  } else if (entry.result === "missing") {
    li.title = "callbacks." + entry.callback + " is not defined";
  }
}

export function addError(source, message, stack) {
  const entry = { source: String(source), message: String(message) };
  state.errors.push(entry);
  try {
    console.error("[kolokol host] " + entry.source + ": " + entry.message);
  } catch (_) {}
  const list = $id("kolokol-errors");
  if (!list) return entry;
  const li = el("li", "kk-item kk-item--error");
  li.setAttribute("data-source", entry.source);
  li.append(el("span", "kk-item__source", entry.source));
  li.append(el("span", "kk-item__message", entry.message));
  const head = stackHead(stack, entry.message);
  if (head) li.append(el("pre", "kk-item__stack", head));
  list.append(li);
  $id("kolokol-errors-box").hidden = false;
  document.body.classList.add("kk-has-errors");
  return entry;
}

// Errors raised before the DOM exists are drawn once it does.
export function flushEarlyErrors() {
  const early = state.errors.splice(0, state.errors.length);
  early.forEach((e) => addError(e.source, e.message));
}

export function renderProblems(problems) {
  const T = host.T;
  const list = $id("kolokol-problems");
  list.textContent = "";
  problems.forEach((p) => {
    const sev = p && p.severity === "error" ? "error" : "warning";
    const li = el("li", "kk-item kk-item--" + sev);
    li.setAttribute("data-severity", sev);
    li.append(el("span", "kk-badge kk-badge--" + sev, sev === "error" ? T.error : T.warning));
    if (p && p.field) li.append(el("code", "kk-item__field", String(p.field)));
    li.append(el("span", "kk-item__message", p && p.message != null ? String(p.message) : ""));
    list.append(li);
  });
  $id("kolokol-problems-box").hidden = problems.length === 0;
}

export function finish(stoppedEarly) {
  if (state.ready) return;
  state.ready = true;
  document.body.classList.remove("kk-loading");
  document.body.classList.add(stoppedEarly ? "kk-stopped" : "kk-ready");
  if (stoppedEarly) {
    if (!$id("kolokol-lifecycle-now").textContent) setNow(host.T.stopped, "kk-now--stopped");
  } else {
    setNow(host.T.done(Math.round(performance.now() - host.startedAt)), "kk-now--done");
  }
}

// Something amoCRM has and Kolokol does not: one sentence that says so.
export function notProvided(what, why) {
  return new Error(what + " is not provided by Kolokol" + (why ? " (" + why + ")" : ""));
}
