// APP.notifications / AMOCRM.notifications: a frozen facade that serialises
// the call, hands it to the notifications command (where all validation
// lives), draws the popup, and answers through {done, fail, always} and a
// Promise. It never throws synchronously into widget code.
const internals = window.__TAURI_INTERNALS__;
// Captured now, before page scripts run, so a page cannot swap it later.
const invoke = internals && internals.invoke ? internals.invoke.bind(internals) : null;
const METHODS = ["show_message", "show_message_error", "show_notification", "add_error", "add_call"];

function warn(...args) {
  try {
    console.warn("[APP.notifications]", ...args);
  } catch (_) {}
}

function refusal(code, field, message) {
  return Object.freeze({ code, field, message });
}

function asRefusal(e) {
  if (e && typeof e === "object" && typeof e.code === "string") {
    return refusal(e.code, String(e.field || "payload"), String(e.message || e.code));
  }
  return refusal("ipc", "payload", `Kolokol did not accept the call: ${String(e)}`);
}

// The second argument: {done, fail, always}, or a bare function taken as done.
function callbacks(cb) {
  try {
    if (typeof cb === "function") return { done: cb };
    if (cb && typeof cb === "object") return { done: cb.done, fail: cb.fail, always: cb.always };
  } catch (_) {}
  return {};
}

function run(fn, arg) {
  if (typeof fn !== "function") return;
  try {
    fn(arg);
  } catch (e) {
    console.error("[APP.notifications] a callback threw", e);
  }
}

function openLink(id, href) {
  if (!invoke) return;
  invoke("plugin:notifications|open_link", { id, href }).catch((e) => warn(`link not opened: ${e}`));
}

// Calls made in the same task travel together: one IPC message (and one
// commit) per batch instead of one per call, so a burst stays cheap. A lone
// call goes as it is, without waiting.
const BATCH = 200;
let queue = [];
let flushing = false;

function send(method, payload) {
  return new Promise((resolve, reject) => {
    queue.push({ method, payload, resolve, reject });
    if (!flushing) {
      flushing = true;
      queueMicrotask(flush);
    }
  });
}

function flush() {
  const batch = queue.splice(0, BATCH);
  if (queue.length) setTimeout(flush, 0);
  else flushing = false;
  if (batch.length === 1) {
    const c = batch[0];
    invoke("plugin:notifications|notify", { method: c.method, payload: c.payload }).then(c.resolve, c.reject);
    return;
  }
  const calls = batch.map((c) => ({ method: c.method, payload: c.payload }));
  invoke("plugin:notifications|notify_batch", { calls }).then(
    (results) => results.forEach((r, i) => ("ok" in r ? batch[i].resolve(r.ok) : batch[i].reject(r.err))),
    (e) => batch.forEach((c) => c.reject(e)),
  );
}

function call(method, params, cb) {
  const cbs = callbacks(cb);
  const promise = new Promise((resolve, reject) => {
    const refuse = (err) => {
      warn(`${method}() refused: ${err.field}: ${err.message}`, err);
      run(cbs.fail, err);
      run(cbs.always);
      reject(err);
    };
    let payload;
    try {
      payload = JSON.stringify(params === undefined ? null : params);
    } catch (e) {
      return refuse(refusal("unserializable", "payload",
        `${method}() payload cannot be serialised to JSON (${e && e.message}); remove cycles and BigInt values`));
    }
    if (!invoke) return refuse(refusal("ipc", "payload", "Kolokol's bridge is not available in this page"));
    send(method, payload).then((res) => {
      for (const w of res.notification.warnings) warn(`${method}(): ${w.field}: ${w.message}`);
      try {
        overlay.show(res.notification, openLink);
      } catch (e) {
        console.error("[APP.notifications] popup failed", e);
      }
      run(cbs.done, res.id);
      run(cbs.always);
      resolve({ id: res.id });
    }, (e) => refuse(asRefusal(e)));
  });
  // A widget that ignores the Promise must not get "unhandled rejection" noise.
  promise.catch(() => {});
  return promise;
}

const notifications = {};
for (const m of METHODS) {
  notifications[m] = function (params, cb) {
    try {
      return call(m, params, cb);
    } catch (e) {
      const err = refusal("internal", "payload", String(e));
      return Promise.reject(err);
    }
  };
}
// Extension: close a popup by its id or tag (a call that was answered).
notifications.dismiss = function (idOrTag) {
  try {
    if (invoke && idOrTag != null) {
      invoke("plugin:notifications|dismiss", { idOrTag: String(idOrTag) }).catch((e) => warn(`dismiss: ${e}`));
    }
    return Promise.resolve(overlay.dismiss(idOrTag));
  } catch (_) {
    return Promise.resolve(false);
  }
};
Object.freeze(notifications);

// Attach to whatever object the page keeps under APP / AMOCRM: the page's own
// object gains `notifications` and loses nothing.
function attach(obj) {
  if (obj === null || (typeof obj !== "object" && typeof obj !== "function")) return false;
  try {
    if (obj.notifications === notifications) return true;
    Object.defineProperty(obj, "notifications", { value: notifications, enumerable: true, writable: false, configurable: false });
    return true;
  } catch (e) {
    warn("this page's APP object is frozen or sealed; APP.notifications cannot be added to it", e);
    return false;
  }
}

for (const name of ["APP", "AMOCRM"]) {
  let current = {};
  attach(current);
  try {
    Object.defineProperty(window, name, {
      configurable: false,
      enumerable: true,
      get() {
        return current;
      },
      set(v) {
        if (attach(v)) current = v;
      },
    });
  } catch (e) {
    warn(`window.${name} was already defined; notifications attached to it`, e);
    attach(window[name]);
  }
}
