// APP.notifications / AMOCRM.notifications: a frozen facade that serialises
// the call, hands it to the notifications command (where all validation
// lives), draws the popup, and answers through {done, fail, always} and a
// Promise. It never throws synchronously into widget code, and assigning
// APP.notifications never throws into the page: a page's own implementation
// (amoCRM's feeds its server-side center, email and push) is kept and chained to.
const internals = window.__TAURI_INTERNALS__;
// Captured now, before page scripts run, so a page cannot swap it later.
const invoke = internals && internals.invoke ? internals.invoke.bind(internals) : null;
const METHODS = ["show_message", "show_message_error", "show_notification", "add_error", "add_call"];

// At most WARN_PER_SECOND console warnings a second: a runaway loop's
// refusals must not drown the page in console work (the workbench's call log
// keeps every one).
const WARN_PER_SECOND = 50;
let warnWindow = 0;
let warned = 0;
let muted = 0;

function warn(...args) {
  try {
    const now = Date.now();
    if (now - warnWindow >= 1000) {
      warnWindow = now;
      warned = 0;
    }
    if (warned >= WARN_PER_SECOND) {
      if (muted++ === 0) {
        setTimeout(() => {
          console.warn("[APP.notifications]", `${muted} more warnings not shown; Kolokol's workbench call log has them all`);
          muted = 0;
        }, 1000);
      }
      return;
    }
    warned++;
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

// The page's own APP.notifications, when it assigned one. Interface-only
// calls go to it alone (one popup, not two); center calls go to it and to
// Kolokol, whose answer is the widget's. "Kolokol only" (a setting, read once
// per page load) leaves it out.
const INTERFACE = new Set(["show_message", "show_message_error", "show_notification"]);
const PAGE_CBS = Object.freeze({ done() {}, fail() {}, always() {} });
let pageImpl = null;
let kolokolOnly = false;
if (invoke) {
  invoke("plugin:notifications|mode").then((m) => (kolokolOnly = !!(m && m.kolokol_only)), () => {});
}

// `APP.notifications = null` withdraws the page's own implementation.
function adopt(v) {
  if (v === null || v === undefined) pageImpl = null;
  else if (v !== notifications && (typeof v === "object" || typeof v === "function")) pageImpl = v;
}

function pageMethod(method) {
  if (kolokolOnly || !pageImpl) return null;
  try {
    const f = pageImpl[method];
    return typeof f === "function" ? f : null;
  } catch (_) {
    return null;
  }
}

function errorText(e) {
  try {
    return String((e && e.message) || e).slice(0, 200);
  } catch (_) {
    return "an error";
  }
}

// Runs the page's own method; what it did goes to the call log.
function chain(c, own, params, cb) {
  try {
    const r = INTERFACE.has(c.method) ? own.call(pageImpl, params, cb) : own.call(pageImpl, params, PAGE_CBS);
    if (r && typeof r.then === "function") {
      r.then(null, (e) => {
        warn(`the page's own ${c.method}() failed: ${errorText(e)}`);
        // Later than Kolokol's own answer: a line of its own in the call log.
        if (invoke) invoke("plugin:notifications|page_failed", { method: c.method, message: errorText(e) }).catch(() => {});
      });
    }
    c.page = "called";
    return r;
  } catch (e) {
    c.page = `threw: ${errorText(e)}`;
    warn(`the page's own ${c.method}() threw: ${errorText(e)}`);
    return undefined;
  }
}

function openLink(id, href) {
  if (!invoke) return;
  invoke("plugin:notifications|open_link", { id, href, key: GESTURE_KEY }).catch((e) => warn(`link not opened: ${e}`));
}

// Calls made in the same task travel together: one IPC message (and one
// commit) per batch instead of one per call, so a burst stays cheap. A lone
// call goes as it is, without waiting. At most MAX_IN_FLIGHT batches are on
// their way at once, so a runaway loop queues here (as plain data) instead of
// flooding the IPC with thousands of concurrent requests.
const BATCH = 200;
// A batch also ends at this many payload characters (the app refuses bodies
// over 4 MiB before parsing them).
const BATCH_CHARS = 1 << 20;
const MAX_IN_FLIGHT = 2;
let queue = [];
let head = 0;
let inFlight = 0;
let scheduled = false;

function enqueue(c) {
  queue.push(c);
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(pump);
  }
}

function pump() {
  scheduled = false;
  while (inFlight < MAX_IN_FLIGHT && head < queue.length) {
    let end = head + 1;
    let chars = queue[head].payload.length;
    while (end < queue.length && end - head < BATCH && chars + queue[end].payload.length <= BATCH_CHARS) {
      chars += queue[end].payload.length;
      end++;
    }
    const batch = queue.slice(head, end);
    head = end;
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    inFlight++;
    dispatch(batch).then(() => {
      inFlight--;
      pump();
    });
  }
}

// Settles every call of a batch; the returned promise never rejects.
function dispatch(batch) {
  if (batch.length === 1) {
    const c = batch[0];
    return invoke("plugin:notifications|notify", { method: c.method, payload: c.payload, page: c.page }).then(
      (res) => accepted(c, res),
      (e) => refused(c, asRefusal(e)),
    );
  }
  // Raw bytes: the app checks the body's size before it parses it.
  const body = new TextEncoder().encode(JSON.stringify(batch.map((c) => ({ method: c.method, payload: c.payload, page: c.page }))));
  return invoke("plugin:notifications|notify_batch", body).then(
    (results) => results.forEach((r, i) => ("ok" in r ? accepted(batch[i], r.ok) : refused(batch[i], asRefusal(r.err)))),
    (e) => {
      const err = asRefusal(e);
      batch.forEach((c) => refused(c, err));
    },
  );
}

function accepted(c, res) {
  try {
    for (const w of res.notification.warnings) warn(`${c.method}(): ${w.field}: ${w.message}`);
    // The page's own implementation drew this one.
    if (c.page !== "called") overlay.show(res.notification, openLink);
  } catch (e) {
    console.error("[APP.notifications] popup failed", e);
  }
  run(c.cbs.done, res.id);
  run(c.cbs.always);
  c.resolve({ id: res.id });
}

function refused(c, err) {
  warn(`${c.method}() refused: ${err.field}: ${err.message}`, err);
  run(c.cbs.fail, err);
  run(c.cbs.always);
  c.reject(err);
}

// One Promise per call; the queue entry carries what settles it.
function call(method, params, cb) {
  const c = { method, payload: null, page: undefined, cbs: null, resolve: null, reject: null };
  const promise = new Promise((resolve, reject) => {
    c.resolve = resolve;
    c.reject = reject;
  });
  // A widget that ignores the Promise must not get "unhandled rejection" noise.
  promise.catch(() => {});
  const own = pageMethod(method);
  const theirs = own ? chain(c, own, params, cb) : undefined;
  // An interface-only call the page's own implementation took is answered by
  // it (its callbacks, its return value); Kolokol still checks and logs it.
  const pageAnswers = c.page === "called" && INTERFACE.has(method);
  c.cbs = pageAnswers ? {} : callbacks(cb);
  const answer = pageAnswers && theirs !== undefined ? theirs : promise;
  try {
    c.payload = JSON.stringify(params === undefined ? null : params);
  } catch (e) {
    refused(c, refusal("unserializable", "payload",
      `${method}() payload cannot be serialised to JSON (${e && e.message}); remove cycles and BigInt values`));
    return answer;
  }
  if (!invoke) {
    refused(c, refusal("ipc", "payload", "Kolokol's bridge is not available in this page"));
    return answer;
  }
  enqueue(c);
  return answer;
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
function getNotifications() {
  return notifications;
}

function attach(obj) {
  if (obj === null || (typeof obj !== "object" && typeof obj !== "function")) return false;
  try {
    const d = Object.getOwnPropertyDescriptor(obj, "notifications");
    if (d && d.get === getNotifications) return true;
    // window.APP = { notifications: itsOwn, … }: kept, and chained to.
    if (d && "value" in d) adopt(d.value);
    // An accessor, so `APP.notifications = itsOwn` never throws, in strict
    // code either: the page's object is kept and widgets still get Kolokol's.
    Object.defineProperty(obj, "notifications", { get: getNotifications, set: adopt, enumerable: true, configurable: false });
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

// The page's Web Notifications become Kolokol toasts: granted to the amoCRM
// account's own pages, denied to every other origin (the app decides; the
// permission is asked once per page load). WebKitGTK's own would show nothing.
(function webNotifications() {
  if (!invoke) return;
  let permission = "default";
  const ready = invoke("plugin:notifications|web_permission").then(
    (p) => (permission = p === "granted" ? "granted" : "denied"),
    () => (permission = "denied"),
  );
  const live = new Map(); // Kolokol id -> Notification, until closed

  function fire(target, type) {
    try {
      const handler = target["on" + type];
      const ev = new Event(type);
      if (typeof handler === "function") handler.call(target, ev);
      target.dispatchEvent(ev);
    } catch (e) {
      console.error("[Notification] a handler threw", e);
    }
  }

  class Notification extends EventTarget {
    constructor(title, options) {
      super();
      const o = options && typeof options === "object" ? options : {};
      const text = (v) => (v === undefined || v === null ? "" : String(v));
      Object.defineProperties(this, {
        title: { value: text(title), enumerable: true },
        body: { value: text(o.body), enumerable: true },
        tag: { value: text(o.tag), enumerable: true },
        icon: { value: text(o.icon), enumerable: true },
        data: { value: o.data === undefined ? null : o.data, enumerable: true },
      });
      this.onclick = this.onshow = this.onerror = this.onclose = null;
      this._id = null;
      this._closed = false;
      ready
        .then(() => invoke("plugin:notifications|web_notify", { title: this.title, body: this.body, tag: this.tag }))
        .then(
          (id) => {
            this._id = id;
            live.set(id, this);
            if (!this._closed) fire(this, "show");
          },
          (e) => {
            warn(`Notification not shown: ${e}`);
            fire(this, "error");
          },
        );
    }
    close() {
      if (this._closed) return;
      this._closed = true;
      if (this._id) live.delete(this._id);
      // Its toast goes as a dismissed call's would: by tag, else by id.
      const key = this.tag || this._id;
      if (key) invoke("plugin:notifications|dismiss", { idOrTag: key }).catch(() => {});
      fire(this, "close");
    }
    static get permission() {
      return permission;
    }
    static requestPermission(callback) {
      return ready.then(() => {
        if (typeof callback === "function") {
          try {
            callback(permission);
          } catch (_) {}
        }
        return permission;
      });
    }
    static get maxActions() {
      return 0;
    }
  }

  window.addEventListener("kolokol:notificationclick", (ev) => {
    const n = live.get(ev && ev.detail);
    if (n) fire(n, "click");
  });
  try {
    Object.defineProperty(window, "Notification", { value: Notification, writable: true, configurable: true, enumerable: false });
  } catch (e) {
    warn("window.Notification could not be replaced; this page's notifications will not reach the desktop", e);
  }
})();

// What an agent expects of a browser window: zoom (remembered per origin),
// back, forward, reload, print and find, from the keyboard. Only real key
// presses count (isTrusted), and the app checks the init script's key, so a
// page cannot print or reload on its own through this.
(function browserKeys() {
  if (window.top !== window) return;
  const KEYS = [
    [(e) => (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "=" || e.key === "+"), "zoom_in"],
    [(e) => (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "-" || e.key === "_"), "zoom_out"],
    [(e) => (e.ctrlKey || e.metaKey) && !e.altKey && e.key === "0", "zoom_reset"],
    [(e) => e.altKey && !e.ctrlKey && e.key === "ArrowLeft", "back"],
    [(e) => e.altKey && !e.ctrlKey && e.key === "ArrowRight", "forward"],
    [(e) => e.key === "F5" || ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "r" || e.key === "R")), "reload"],
    [(e) => (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "p" || e.key === "P"), "print"],
    [(e) => (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "f" || e.key === "F"), "find"],
  ];
  window.addEventListener(
    "keydown",
    (e) => {
      if (!e.isTrusted) return;
      const hit = KEYS.find(([test]) => test(e));
      if (!hit) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      const action = hit[1];
      if (action === "find") return overlay.find();
      if (action === "back") return history.back();
      if (action === "forward") return history.forward();
      if (!invoke) return;
      invoke("plugin:notifications|browse", { action, key: GESTURE_KEY }).catch((err) => warn(`${action}: ${err}`));
    },
    true,
  );
})();

// Kolokol's prompt for a softphone's microphone (the app asks only for the
// account's pages); the answer needs a person's click.
window.addEventListener("kolokol:permission", (ev) => {
  const d = ev && ev.detail;
  if (!invoke || !d || typeof d.id !== "number") return;
  overlay.ask(d, (allow) =>
    invoke("plugin:notifications|permission_answer", { id: d.id, allow, key: GESTURE_KEY }).catch((e) => warn(`permission: ${e}`)),
  );
});
