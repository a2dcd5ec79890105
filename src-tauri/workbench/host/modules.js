// amoCRM's shared modules, provided by name: real libraries from npm
// (jquery, underscore, moment, twig as "twigjs", the text! plugin), and
// Kolokol's own modal, confirm, json! plugin and control templates written in
// amoCRM's markup and class names.

import { host, state, isObj, describe, addError } from "./core.js";

export const SHARED_PATHS = {
  jquery: "/__kolokol/jquery",
  underscore: "/__kolokol/underscore",
  moment: "/__kolokol/moment",
  text: "/__kolokol/text",
  "kolokol/twig": "/__kolokol/twig",
};

// Modules real widgets ask for that exist only inside amoCRM.
export const AMO_ONLY = ["backbone", "marionette", "intl-tel-input", "jquery-ui", "clipboard", "lib/common/fn"];
export const AMO_ONLY_PREFIX = /^(lib\/(components|common|core|interface|utils|helpers)\/|tmpl\/)/;

// amoCRM's built-in control templates, rendered by name:
// self.render({ref: "/tmpl/controls/input.twig"}, {name, value, placeholder}).
export const CONTROLS = {
  "/tmpl/controls/button.twig":
    '<button type="{{ type|default("button") }}" class="button-input{% if blue %} button-input_blue{% endif %}{% if class_name %} {{ class_name }}{% endif %}"' +
    '{% if id %} id="{{ id }}"{% endif %}{% if name %} name="{{ name }}"{% endif %}{% if disabled %} disabled{% endif %}>' +
    '<span class="button-input-inner"><span class="button-input-inner__text">{{ text }}</span></span></button>',
  "/tmpl/controls/input.twig":
    '<input type="{{ type|default("text") }}" name="{{ name }}" class="text-input{% if class_name %} {{ class_name }}{% endif %}"' +
    '{% if id %} id="{{ id }}"{% endif %} value="{{ value }}" placeholder="{{ placeholder }}"' +
    '{% if max_length %} maxlength="{{ max_length }}"{% endif %}{% if disabled %} disabled{% endif %} autocomplete="off">',
  "/tmpl/controls/textarea.twig":
    '<textarea name="{{ name }}" class="textarea-autosize{% if class_name %} {{ class_name }}{% endif %}"' +
    '{% if id %} id="{{ id }}"{% endif %} placeholder="{{ placeholder }}">{{ value }}</textarea>',
  "/tmpl/controls/checkbox.twig":
    '<label class="control-checkbox{% if checked %} is-checked{% endif %}{% if class_name %} {{ class_name }}{% endif %}">' +
    '<div class="control-checkbox__body"><input type="checkbox" name="{{ name }}" value="{{ value|default("Y") }}"' +
    '{% if id %} id="{{ id }}"{% endif %}{% if input_class_name %} class="{{ input_class_name }}"{% endif %}{% if checked %} checked{% endif %}>' +
    '<span class="control-checkbox__helper"></span></div><div class="control-checkbox__text element__text">{{ text }}</div></label>',
  "/tmpl/controls/radio.twig":
    '<label class="control-radio{% if selected %} icon-radio-checked{% endif %}{% if class_name %} {{ class_name }}{% endif %}">' +
    '<input type="radio" name="{{ name }}" value="{{ value }}"{% if selected %} checked{% endif %}>' +
    '<span class="control-radio__label">{{ label }}</span></label>',
  "/tmpl/controls/select.twig":
    '{% set current = items|first %}{% for item in items %}{% if item.id ~ "" == selected ~ "" %}{% set current = item %}{% endif %}{% endfor %}' +
    '<div class="control--select{% if class_name %} {{ class_name }}{% endif %}" data-kolokol-control="select">' +
    '<ul class="custom-scroll control--select--list">{% for item in items %}' +
    '<li data-value="{{ item.id }}" class="control--select--list--item{% if item.id == current.id %} control--select--list--item-selected{% endif %}">' +
    '<span class="control--select--list--item-inner" title="{{ item.option }}">{{ item.option }}</span></li>{% endfor %}</ul>' +
    '<button class="control--select--button" type="button" data-value="{{ current.id }}">' +
    '<span class="control--select--button-inner">{{ current.option }}</span></button>' +
    '<input type="hidden" class="control--select--input{% if input_class_name %} {{ input_class_name }}{% endif %}" name="{{ name }}" value="{{ current.id }}"></div>',
};

// The custom select behaves like amoCRM's: the list opens on the button, a
// pick sets the hidden input and fires "change" on it.
function bindControls($) {
  $(document).on("click.kolokol", '[data-kolokol-control="select"] .control--select--button', function () {
    $(this).closest(".control--select").toggleClass("control--select--list-opened");
  });
  $(document).on("click.kolokol", '[data-kolokol-control="select"] .control--select--list--item', function () {
    const $item = $(this);
    const $select = $item.closest(".control--select");
    $select.find(".control--select--list--item").removeClass("control--select--list--item-selected");
    $item.addClass("control--select--list--item-selected");
    $select.find(".control--select--button").attr("data-value", $item.attr("data-value"));
    $select.find(".control--select--button-inner").text($item.text());
    $select.removeClass("control--select--list-opened");
    $select.find(".control--select--input").val($item.attr("data-value")).trigger("change");
  });
  $(document).on("change.kolokol", ".control-checkbox input[type=checkbox]", function () {
    $(this).closest(".control-checkbox").toggleClass("is-checked", this.checked);
  });
}

// amoCRM's modal: new Modal({class_name, init($modal_body), destroy()}).
// The widget's init triggers "modal:loaded" and "modal:centrify" on the body;
// closing calls destroy (false keeps it open) and triggers "destroy".
function makeModal($) {
  function Modal(options) {
    if (!(this instanceof Modal)) return new Modal(options);
    this.options = isObj(options) ? options : {};
    const o = this.options;
    this.$modal = $('<div class="modal kk-modal"><div class="modal-overlay"></div><div class="modal-scroller custom-scroll"><div class="modal-body"></div></div></div>');
    if (o.class_name) this.$modal.addClass(String(o.class_name));
    this.$modal_body = this.$modal.find(".modal-body");
    this.$modal.attr("data-kolokol-modal", String(state.modals.length));
    this.events = [];
    const self = this;
    const note = (name) => () => self.events.push(name);
    this.$modal_body.on("modal:loaded", () => {
      self.events.push("modal:loaded");
      self.$modal.addClass("modal-body--loaded");
    });
    this.$modal_body.on("modal:centrify", note("modal:centrify"));
    this.$modal_body.on("modal:close", () => self.destroy());
    this.$modal.on("click", ".modal-body__close, .js-modal-close, .modal-overlay", (e) => {
      e.preventDefault();
      self.destroy();
    });
    this.onKey = (e) => {
      if (e.key === "Escape") self.destroy();
    };
    document.addEventListener("keydown", this.onKey);
    $("body").append(this.$modal);
    state.modals.push(this);
    if (typeof o.init === "function") {
      try {
        o.init.call(this, this.$modal_body);
      } catch (e) {
        const d = describe(e);
        addError("modal init", d.message, d.stack);
      }
    }
  }
  Modal.prototype.destroy = function () {
    if (this.destroyed) return true;
    const o = this.options;
    if (typeof o.destroy === "function") {
      let keep = false;
      try {
        keep = o.destroy.call(this) === false;
      } catch (e) {
        const d = describe(e);
        addError("modal destroy", d.message, d.stack);
      }
      if (keep) return false;
    }
    this.destroyed = true;
    this.events.push("destroy");
    document.removeEventListener("keydown", this.onKey);
    this.$modal.trigger("destroy");
    this.$modal.remove();
    return true;
  };
  Modal.prototype.showLoader = function () {
    this.$modal_body.addClass("modal-body--loading");
  };
  Modal.prototype.hideLoader = function () {
    this.$modal_body.removeClass("modal-body--loading");
  };
  return Modal;
}

// amoCRM's confirm: new Confirm({text, accept_text, decline_text, accept(), decline()}).
function makeConfirm($, Modal) {
  function Confirm(options) {
    const o = isObj(options) ? options : {};
    const answered = { done: false };
    const answer = (fn) => {
      if (answered.done) return;
      answered.done = true;
      if (typeof fn === "function") {
        try {
          fn.call(modal);
        } catch (e) {
          const d = describe(e);
          addError("confirm", d.message, d.stack);
        }
      }
      modal.destroy();
    };
    const modal = new Modal({
      class_name: "modal-confirm " + (o.class_name || ""),
      init($body) {
        $body.trigger("modal:loaded");
        const $text = $('<div class="modal-body__inner js-modal-text"></div>');
        if (o.html) $text.html(String(o.html));
        else $text.text(o.text == null ? "" : String(o.text));
        const $accept = $('<button type="button" class="button-input button-input_blue js-modal-accept"><span class="button-input-inner__text"></span></button>');
        $accept.find("span").text(o.accept_text || "OK");
        const $decline = $('<button type="button" class="button-cancel js-modal-decline"><span></span></button>');
        $decline.find("span").text(o.decline_text || "Cancel");
        $body.append($text, $('<div class="modal-body__actions"></div>').append($accept, $decline));
        $accept.on("click", () => answer(o.accept));
        $decline.on("click", () => answer(o.decline || o.cancel));
        $body.trigger("modal:centrify");
      },
      destroy() {
        if (!answered.done) {
          answered.done = true;
          if (typeof (o.decline || o.cancel) === "function") (o.decline || o.cancel).call(this);
        }
      },
    });
    return modal;
  }
  return Confirm;
}

// Named modules, defined through the tolerant define.
export function defineShared(define) {
  state.modals = [];
  define("json", ["text"], function (text) {
    return {
      load(name, req, onload) {
        const url = req.toUrl(name);
        text.get(
          url,
          (t) => {
            try {
              onload(JSON.parse(t));
            } catch (e) {
              onload.error(new Error("json!" + name + ": " + describe(e).message));
            }
          },
          (e) => onload.error(e),
        );
      },
    };
  });
  define("twigjs", ["kolokol/twig"], function (Twig) {
    let internal = null;
    try {
      Twig.extend((t) => {
        internal = t;
      });
    } catch (_) {}
    if (internal && !Twig.Templates) Twig.Templates = internal.Templates;
    for (const id of Object.keys(CONTROLS)) {
      try {
        if (!internal || !internal.Templates.registry[id]) Twig.twig({ id, data: CONTROLS[id], allowInlineIncludes: true, rethrow: true });
      } catch (e) {
        addError("host", "control template " + id + ": " + describe(e).message);
      }
    }
    return Twig;
  });
  define("lib/components/base/modal", ["jquery"], function ($) {
    return makeModal($);
  });
  define("lib/components/base/confirm", ["jquery", "lib/components/base/modal"], function ($, Modal) {
    return makeConfirm($, Modal);
  });
  for (const id of Object.keys(CONTROLS)) {
    // require("tmpl/controls/input.twig") gives the compiled template.
    define(id.slice(1), ["twigjs"], (Twig) => Twig.twig({ ref: id }));
  }
  // jQuery is global in amoCRM; the control behaviour is bound once.
  host.sharedReady = new Promise((resolve) => {
    window.require(["jquery", "underscore"], function ($, _) {
      window.$ = window.jQuery = $;
      window._ = _;
      bindControls($);
      resolve();
    });
  });
}
