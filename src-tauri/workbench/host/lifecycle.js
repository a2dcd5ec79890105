// Callbacks as amoCRM calls them: render → init → bind_actions, stopping
// where amoCRM stops (render not true), Promises and async functions awaited,
// every step in the lifecycle strip with its time and words.

import { host, state, addError, describe, describeValue, finish, isThenable, record, setNow, showDetail } from "./core.js";
import { makeBase } from "./widget.js";
import { setupSettingsButton } from "./settings.js";
import { showActions } from "./actions.js";

const CALLBACK_TIMEOUT_MS = 15000;

function ms(t0) {
  return Math.round((performance.now() - t0) * 100) / 100;
}

// callbacks["contacts.selected"] is callbacks.contacts.selected.
function callbackOf(cbs, name) {
  let owner = cbs;
  let fn = null;
  try {
    const parts = name.split(".");
    for (let i = 0; i < parts.length; i++) {
      const v = owner && owner[parts[i]];
      if (i === parts.length - 1) fn = v;
      else owner = v;
    }
  } catch (_) {}
  return { owner, fn };
}

// Runs callbacks[name](...args) and records it. Resolves to
// {result, value, entry}; never rejects, never throws.
export function runCallback(name, args) {
  const { owner, fn } = callbackOf(host.widget && host.widget.callbacks, name);
  const at = Date.now();
  if (typeof fn !== "function") {
    const entry = record({ callback: name, result: "missing", at, ms: 0 });
    return Promise.resolve({ result: "missing", entry });
  }
  if (name === "init") state.initCalledAt = at;
  setNow(host.T.running(name), "kk-now--running");
  const t0 = performance.now();

  const settle = (result, value, err) => {
    const entry = { callback: name, result, at, ms: ms(t0) };
    if (err !== undefined) {
      const d = describe(err);
      entry.error = d.message;
      record(entry);
      addError(name, d.message, d.stack);
    } else {
      record(entry);
    }
    setNow("", "");
    return { result, value, entry };
  };
  const classify = (v) => {
    if (name === "render") return v === true ? "ok" : "false";
    if (name === "onSave") return v === false ? "false" : "ok";
    return "ok";
  };

  let r;
  try {
    r = fn.apply(owner, args || []);
  } catch (e) {
    return Promise.resolve(settle("threw", undefined, e === undefined ? new Error("threw undefined") : e));
  }
  if (!isThenable(r)) return Promise.resolve(settle(classify(r), r));
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      resolve(settle("threw", undefined, new Error(name + " returned a promise that did not settle within " + CALLBACK_TIMEOUT_MS / 1000 + " s")));
    }, CALLBACK_TIMEOUT_MS);
    const ok = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(settle(classify(v), v));
    };
    const bad = (e) => {
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

function stopNote(entry, note) {
  entry.note = note;
  showDetail(entry);
  setNow(note, "kk-now--stopped");
  console.warn("[kolokol host] " + note);
  return finish(true);
}

function lifecycle() {
  runCallback("render", []).then((r) => {
    if (r.result === "threw") return stopNote(r.entry, "render threw: init and bind_actions not called");
    if (r.result === "false") {
      let note = "render returned " + describeValue(r.value) + ": init and bind_actions not called";
      if (r.value !== false) note += " (amoCRM calls them only when render returns true)";
      return stopNote(r.entry, note);
    }
    return runCallback("init", [])
      .then(() => runCallback("bind_actions", []))
      .then(() => finish(false));
  });
}

export function construct(Widget) {
  if (typeof Widget !== "function") {
    addError(
      "script.js",
      "script.js did not define a widget constructor: define(...) must return a function (got " +
        (Widget === null ? "null" : typeof Widget) + ")",
    );
    return finish(true);
  }
  const proto = makeBase();
  try {
    // The base goes at the end of the widget's own prototype chain.
    let p = Widget.prototype;
    if (p && (typeof p === "object" || typeof p === "function")) {
      let parent = Object.getPrototypeOf(p);
      while (parent && parent !== Object.prototype && parent !== proto) {
        p = parent;
        parent = Object.getPrototypeOf(p);
      }
      if (parent !== proto) Object.setPrototypeOf(p, proto);
    }
  } catch (e) {
    addError("host", "could not attach the widget base to Widget.prototype: " + describe(e).message);
  }
  let widget;
  try {
    widget = new Widget();
  } catch (e) {
    const d = describe(e);
    addError("constructor", d.message, d.stack);
    return finish(true);
  }
  // A constructor may return another object (return this, or a plain one).
  if (!widget || (typeof widget !== "object" && typeof widget !== "function")) widget = null;
  let cbs = null;
  try {
    cbs = widget && widget.callbacks;
  } catch (_) {}
  if (!cbs || (typeof cbs !== "object" && typeof cbs !== "function")) {
    addError("script.js", "script.js did not define callbacks: the constructor must set this.callbacks = {render, init, bind_actions, ...}");
    return finish(true);
  }
  host.widget = widget;
  try {
    window.AMOCRM.widgets.list[host.code] = widget;
    window.AMOCRM.widgets.system = widget.system ? widget.system() : proto.system();
  } catch (_) {}
  setupSettingsButton();
  showActions();
  lifecycle();
}

// Reload: destroy first (a thenable is waited for, not for long).
export function reloadWidget() {
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    try {
      sessionStorage.setItem("kolokol.previous", JSON.stringify(state.lifecycle.map((l) => l.callback)));
    } catch (_) {}
    try {
      location.reload();
    } catch (_) {}
  };
  if (host.widget && host.widget.callbacks) {
    setTimeout(go, 1000);
    runCallback("destroy", []).then(go, go);
  } else {
    go();
  }
}
