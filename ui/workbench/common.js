// Helpers every part of the workbench window shares: the Tauri bridge (invoke, listen),
// DOM shortcuts and the short status messages at the bottom of the window.

export { invoke, $, listen, el, errText, setAttr, say, isPlainObject };

const T = window.__TAURI_INTERNALS__;
const invoke = (cmd, args) =>
  T && typeof T.invoke === "function" ? T.invoke(cmd, args) : Promise.reject("Kolokol's bridge is not available in this page");
const $ = (id) => document.getElementById(id);

/** Subscribes to an app event without the npm package. */
async function listen(event, handler) {
  if (!T?.transformCallback) return null;
  const id = T.transformCallback((e) => handler(e?.payload));
  return T.invoke("plugin:event|listen", { event, target: { kind: "Any" }, handler: id });
}

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
};
const errText = (e) => (e && typeof e === "object" ? e.message || JSON.stringify(e) : String(e));
const setAttr = (node, name, value) => {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
};

/* ---------- short messages ---------- */

let toastTimer = 0;
function say(msg, bad = false) {
  const s = $("wb-toast");
  s.textContent = msg;
  s.classList.toggle("bad", bad);
  s.classList.toggle("shown", !!msg);
  clearTimeout(toastTimer);
  if (msg) toastTimer = setTimeout(() => say(""), bad ? 7000 : 3000);
}

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
