// Module loading as amoCRM does it: RequireJS with the widget's folder as
// baseUrl, IDs normalised the way amoCRM's loader tolerates them ("./x.js",
// "./x.js?v=1.0.24", the define(function (require) {…}) form), the text! and
// json! plugins, and what is missing named as "not provided by Kolokol".

import { host, state, addError, finish, setNow } from "./core.js";
import { SHARED_PATHS, defineShared, AMO_ONLY, AMO_ONLY_PREFIX } from "./modules.js";

const COMMENTS = /\/\*[\s\S]*?\*\/|([^:"'=]|^)\/\/.*$/gm;
const CJS_REQUIRE = /[^.]\s*require\s*\(\s*["']([^'"\s]+)["']\s*\)/g;

// "./x.js?v=1" → "./x": a module ID RequireJS resolves against the module
// that asks for it, so the widget's own file is found under its folder.
// Absolute addresses ("/widget/x.js", "https://…") stay addresses.
export function normalizeId(id) {
  if (typeof id !== "string") return id;
  const bang = id.indexOf("!");
  if (bang > 0) return normalizeId(id.slice(0, bang)) + "!" + id.slice(bang + 1).replace(/[?#].*$/, "");
  let out = id.replace(/[?#].*$/, "");
  const isUrl = /^([a-z][\w+.-]*:|\/)/i.test(out);
  if (!isUrl && /\.js$/i.test(out)) out = out.slice(0, -3);
  return out;
}

function wrapRequire(req) {
  const wrapped = function (deps, callback, errback, optional) {
    if (typeof deps === "string") return req(normalizeId(deps), callback, errback, optional);
    if (Array.isArray(deps)) deps = deps.map(normalizeId);
    return req(deps, callback, errback, optional);
  };
  for (const k in req) {
    if (Object.prototype.hasOwnProperty.call(req, k)) wrapped[k] = req[k];
  }
  if (typeof req.toUrl === "function") wrapped.toUrl = (name) => req.toUrl(String(name).replace(/[?#].*$/, ""));
  return wrapped;
}

function wrapFactory(deps, factory) {
  const at = deps.indexOf("require");
  if (at < 0 || typeof factory !== "function") return factory;
  return function (...args) {
    if (typeof args[at] === "function") args[at] = wrapRequire(args[at]);
    return factory.apply(this, args);
  };
}

// window.define and window.require, tolerant of amoCRM-style IDs.
export function installLoader() {
  const rawDefine = window.define;
  const rawRequire = window.requirejs;
  const define = function (name, deps, factory) {
    if (typeof name !== "string") {
      factory = deps;
      deps = name;
      name = null;
    }
    if (!Array.isArray(deps)) {
      factory = deps;
      deps = null;
    }
    if (deps === null && typeof factory === "function" && factory.length) {
      // The CommonJS form: RequireJS would scan the source for require("…");
      // the scan is done here so that those IDs are normalised too.
      const found = [];
      String(factory)
        .replace(COMMENTS, (m, prefix) => prefix || "")
        .replace(CJS_REQUIRE, (m, dep) => {
          found.push(dep);
          return m;
        });
      deps = (factory.length === 1 ? ["require"] : ["require", "exports", "module"]).concat(found);
    }
    if (deps) {
      deps = deps.map(normalizeId);
      factory = wrapFactory(deps, factory);
      return name === null ? rawDefine(deps, factory) : rawDefine(name, deps, factory);
    }
    return name === null ? rawDefine(factory) : rawDefine(name, factory);
  };
  define.amd = rawDefine.amd;
  const require = wrapRequire(rawRequire);
  window.define = define;
  window.require = window.requirejs = require;

  rawRequire.config({
    baseUrl: host.base,
    paths: SHARED_PATHS,
    urlArgs: "v=" + host.env.version,
    waitSeconds: 10,
  });
  rawRequire.onError = onRequireError;
  defineShared(define);
  return require;
}

function onRequireError(err) {
  const ids = (err && err.requireModules) || [];
  const message = String((err && err.message) || err).split("\n")[0];
  const missing = ids.filter((id) => AMO_ONLY.indexOf(id) >= 0 || AMO_ONLY_PREFIX.test(id) || /^[\w-]+!/.test(id));
  let text = (host.widget ? "require() failed: " : "script.js failed to load: ") + (ids.length ? ids.join(", ") + ": " : "") + message;
  if (missing.length) {
    text +=
      " — " +
      missing.map((id) => JSON.stringify(id) + " is not provided by Kolokol (it exists only inside amoCRM)").join("; ");
  }
  if (err && err.requireType === "scripterror") {
    const local = ids.filter((id) => missing.indexOf(id) < 0);
    if (local.length) {
      text += " — not found in the widget folder (or not served): " + local.map((id) => (/^\//.test(id) ? id : host.base + "/" + id + ".js")).join(", ");
    }
  }
  const stack = err && err.requireType === "define" && err.stack ? String(err.stack) : "";
  addError(host.widget ? "require" : "script.js", text, stack);
  if (!host.widget && !state.ready) {
    setNow("", "");
    finish(true);
  }
}
