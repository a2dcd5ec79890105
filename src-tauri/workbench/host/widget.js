// The widget object amoCRM hands a widget: the base at the end of its
// prototype chain, so every method works already inside its constructor.

import { host, state, isObj, assign, $id, el, tr, lookup, addError, describe, fetchFile, manifestWidget, notProvided } from "./core.js";
import { showActions } from "./actions.js";

function twig() {
  try {
    return window.require("twigjs");
  } catch (e) {
    throw new Error("twigjs is not loaded yet: " + describe(e).message);
  }
}

// self.render({ref | data | href, base_path, load}, data)
function render(tpl, data) {
  tpl = isObj(tpl) ? tpl : {};
  const Twig = twig();
  if (tpl.ref != null) {
    const ref = String(tpl.ref);
    const template = Twig.twig({ ref });
    if (!template) {
      throw /^\/?tmpl\//.test(ref)
        ? notProvided("the amoCRM template " + JSON.stringify(ref), "Kolokol has /tmpl/controls/ button, input, textarea, checkbox, radio and select")
        : new Error("render: no template registered as " + JSON.stringify(ref));
    }
    const html = template.render(data || {});
    if (typeof tpl.load === "function") tpl.load(template);
    return html;
  }
  if (tpl.data != null) {
    const template = Twig.twig({ data: String(tpl.data), allowInlineIncludes: true });
    if (typeof tpl.load === "function") tpl.load(template);
    return template.render(data || {});
  }
  if (tpl.href != null) {
    const basePath = tpl.base_path != null ? String(tpl.base_path).replace(/\/+$/, "") : host.base;
    const href = String(tpl.href);
    const url = basePath + (href.startsWith("/") ? "" : "/") + href;
    const loaded = fetchFile(url + "?v=" + encodeURIComponent(host.env.version), "text").then((text) => {
      const template = Twig.twig({ data: text, allowInlineIncludes: true, rethrow: true });
      if (typeof tpl.load === "function") tpl.load(template);
      return template.render(data || {});
    });
    loaded.catch((e) => {
      const d = describe(e);
      addError("render", "self.render({href: " + JSON.stringify(href) + "}): " + d.message, d.stack);
    });
    return loaded;
  }
  throw new Error("self.render(template, data): template needs ref, data or href");
}

function renderTemplate(opts, params) {
  opts = isObj(opts) ? opts : {};
  const w = manifestWidget();
  const caption = isObj(opts.caption) ? opts.caption : {};
  const area = $id("kolokol-widget-area");
  let block = area.querySelector(":scope > .kk-widget-block");
  if (!block) {
    block = el("div", "card-widgets__widget kk-widget-block");
    block.setAttribute("data-widget-code", host.code);
    area.append(block);
  }
  block.textContent = "";
  const head = el("div", "card-widgets__widget__caption kk-widget-block__caption");
  String(caption.class_name || "")
    .split(/\s+/)
    .forEach((c) => {
      if (c) {
        try {
          head.classList.add(c);
        } catch (_) {}
      }
    });
  head.append(el("span", "kk-widget-block__name", tr(w.name) || host.code));
  if (caption.html) {
    const extra = el("span", "kk-widget-block__caption-html");
    extra.innerHTML = String(caption.html);
    head.append(extra);
  }
  const body = el("div", "card-widgets__widget__body kk-widget-block__body");
  let inner = String(opts.body || "");
  if (opts.render != null) {
    try {
      inner += twig().twig({ data: String(opts.render), allowInlineIncludes: true }).render(params || {});
    } catch (e) {
      addError("render_template", describe(e).message);
      inner += String(opts.render);
    }
  }
  body.innerHTML = inner;
  block.append(head, body);
  return true;
}

export function makeBase() {
  const w = manifestWidget();
  const profile = host.profile;
  return {
    system() {
      return {
        area: profile.area,
        amouser_id: profile.user.id,
        amouser: profile.user.login,
        amohash: "kolokol",
        subdomain: profile.account.subdomain,
        domain: "amocrm.ru",
        server: "amocrm.ru",
        displayed_count: 0,
      };
    },
    get_settings() {
      return host.settings;
    },
    set_settings(obj) {
      if (isObj(obj)) assign(host.settings, obj);
      return true;
    },
    i18n(section) {
      if (section == null || section === "") return host.langs;
      return lookup(host.langs, section);
    },
    langs: host.langs,
    params: host.settings,
    ns: "." + host.code,
    get_version() {
      return w.version != null ? String(w.version) : "";
    },
    get_install_status() {
      return host.settings.status || "installed";
    },
    set_status(status) {
      host.settings.status = String(status);
      state.status = String(status);
      const pill = $id("kolokol-widget-status");
      if (pill) {
        pill.textContent = String(status);
        pill.hidden = false;
      }
      return true;
    },
    add_action(name, fn) {
      if (typeof fn !== "function") {
        addError("add_action", "self.add_action(" + JSON.stringify(name) + ", fn): fn must be a function, got " + typeof fn);
        return false;
      }
      host.actions[String(name)] = fn;
      showActions();
      return true;
    },
    list_selected() {
      return host.selection || { count: 0, selected: [], summary: {} };
    },
    render,
    render_template: renderTemplate,
    // amoCRM sends it through its server. Kolokol answers it from Rust with
    // the response the author set for the URL in the workbench (Profile tab),
    // logged with the request; none set → the error callback, with the reason.
    crm_post(url, data, success, type, error) {
      // The widget's callbacks: what they throw is the widget's error, shown.
      const run = (name, fn, args) => {
        if (typeof fn !== "function") return;
        try {
          fn.apply(null, args);
        } catch (e) {
          const d = describe(e);
          addError("crm_post " + name + " callback", d.message, d.stack);
        }
      };
      const post = { url: String(url), type: type == null ? null : String(type), outcome: "pending" };
      state.posts.push(post);
      let body;
      try {
        body = typeof data === "string" ? data : JSON.stringify(data === undefined ? null : data);
      } catch (e) {
        body = String(data);
      }
      const invoke = window.__TAURI_INTERNALS__ && window.__TAURI_INTERNALS__.invoke;
      const call = typeof invoke === "function"
        ? invoke.call(window.__TAURI_INTERNALS__, "plugin:notifications|crm_post", { url: post.url, data: body, kind: post.type })
        : Promise.reject("Kolokol's bridge is not available in this page");
      const answered = call.then(
        (stub) => {
          let parsed = stub.body;
          if (post.type === "json" || post.type == null) {
            try {
              parsed = JSON.parse(stub.body);
            } catch (_) {
              parsed = stub.body;
            }
          }
          const xhr = { status: stub.status, statusText: String(stub.status), responseText: stub.body, responseJSON: typeof parsed === "string" ? undefined : parsed };
          if (stub.status >= 200 && stub.status < 300) {
            post.outcome = "success callback called";
            run("success", success, [parsed, "success", xhr]);
            return parsed;
          }
          post.outcome = "error callback called: HTTP " + stub.status;
          run("error", error, [xhr, "error", String(stub.status)]);
          throw new Error("crm_post " + post.url + ": HTTP " + stub.status);
        },
        (reason) => {
          const message = typeof reason === "string" ? reason : describe(reason).message;
          const xhr = { status: 0, statusText: message, responseText: "" };
          if (typeof error === "function") {
            post.outcome = "error callback called: " + message;
            run("error", error, [xhr, "error", message]);
          } else {
            post.outcome = "failed, no error callback: " + message;
            addError("crm_post", "self.crm_post(" + JSON.stringify(post.url) + ") failed and the widget passed no error callback: " + message);
          }
          throw new Error(message);
        },
      );
      answered.catch(() => {});
      return answered;
    },
  };
}
