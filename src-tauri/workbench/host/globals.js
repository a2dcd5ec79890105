// The globals widgets read: APP / AMOCRM with constants, the current card,
// the widgets list, element and field types, date formats, the notification
// callbacks and the telephony calls (recorded, shown in the page).

import { host, state, clone, isObj, assign, addError, describe } from "./core.js";


export const DEFAULT_PROFILE = {
  lang: "ru",
  area: "lcard",
  entity: "leads",
  card_id: 1001,
  user: { id: 1, name: "Иван Петров", login: "ivan@example.com", lang: "ru" },
  account: { id: 1234567, subdomain: "example", name: "Example", currency: "RUB", timezone: "Europe/Moscow" },
  managers: {
    "1": { id: 1, title: "Иван Петров", login: "ivan@example.com", active: true, is_admin: "Y", group: "group_0" },
    "2": { id: 2, title: "Анна Смирнова", login: "anna@example.com", active: true, is_admin: "N", group: "group_0" },
  },
};

const TASK_TYPES = {
  "1": { id: 1, option: "Связаться", code: "FOLLOW_UP" },
  "2": { id: 2, option: "Встреча", code: "MEETING" },
};
const GROUPS = { group_0: "Отдел продаж" };
export const ELEMENT_TYPES = { contacts: 1, leads: 2, companies: 3, tasks: 4, customers: 12 };
const CF_TYPES = {
  text: 1, numeric: 2, checkbox: 3, select: 4, multiselect: 5, date: 6, url: 7, multitext: 8, textarea: 9,
  radiobutton: 10, streetaddress: 11, smart_address: 13, birthday: 14, legal_entity: 15, date_time: 19,
};

export function isCardArea(area) {
  return typeof area === "string" && /card$/.test(area);
}

export function normaliseProfile(p) {
  p = isObj(p) ? p : {};
  const out = assign({}, clone(p) || {});
  const str = (v, d) => (typeof v === "string" && v ? v : d);
  out.lang = str(p.lang, DEFAULT_PROFILE.lang);
  out.area = str(p.area, DEFAULT_PROFILE.area);
  out.entity = str(p.entity, DEFAULT_PROFILE.entity);
  out.card_id = p.card_id != null && p.card_id !== "" ? p.card_id : DEFAULT_PROFILE.card_id;
  out.user = assign(clone(DEFAULT_PROFILE.user), { lang: out.lang }, clone(isObj(p.user) ? p.user : {}));
  out.account = assign(clone(DEFAULT_PROFILE.account), clone(isObj(p.account) ? p.account : {}));
  out.managers = isObj(p.managers) ? clone(p.managers) || {} : clone(DEFAULT_PROFILE.managers);
  return out;
}

// A stand-in for the card's Backbone model: get/set/toJSON over attributes.
function cardModel(profile) {
  const attributes = { id: profile.card_id, name: "Карточка #" + profile.card_id, main_user: profile.user.id };
  return {
    attributes,
    id: profile.card_id,
    get: (k) => attributes[k],
    set(k, v) {
      if (isObj(k)) assign(attributes, k);
      else attributes[k] = v;
      return this;
    },
    toJSON: () => clone(attributes),
  };
}

// A telephony call amoCRM would act on: recorded in the page and in the
// workbench's call log, answered with nothing.
function telephony(name) {
  return function (...args) {
    const kept = clone(args);
    const entry = { method: name, args: kept === undefined ? [] : kept, at: Date.now() };
    state.calls.push(entry);
    const internals = window.__TAURI_INTERNALS__;
    if (internals && typeof internals.invoke === "function") {
      internals.invoke("plugin:notifications|host_call", { method: name, payload: JSON.stringify(entry.args) }).then(
        () => (entry.logged = true),
        (e) => addError(name, "not recorded: " + describe(e).message),
      );
    }
    return Promise.resolve(true);
  };
}

// APP.addNotificationCallback(code, cb): each notification Kolokol draws in
// this page (its popups, one per accepted call) reaches the callbacks as it
// arrives, as {method, id, header, text, widget_code}.
export const notificationCallbacks = [];
let watching = false;

function partText(popup, part) {
  const e = popup.querySelector('[data-part="' + part + '"]');
  return e ? e.textContent : "";
}

function deliver(popup) {
  const n = {
    method: popup.getAttribute("data-method"),
    id: popup.getAttribute("data-id"),
    header: partText(popup, "header"),
    text: partText(popup, "text"),
  };
  for (const { code, cb } of notificationCallbacks) {
    try {
      cb(Object.assign({ widget_code: code }, n));
    } catch (e) {
      const d = describe(e);
      addError("addNotificationCallback(" + code + ")", d.message, d.stack);
    }
  }
}

function watchPopups() {
  if (watching) return;
  watching = true;
  const seen = new WeakSet();
  const scan = (root) =>
    root.querySelectorAll("[data-method][data-id]").forEach((p) => {
      if (seen.has(p)) return;
      seen.add(p);
      deliver(p);
    });
  const observeOverlay = () => {
    const overlay = document.querySelector("kolokol-overlay");
    if (!overlay || !overlay.shadowRoot) return false;
    scan(overlay.shadowRoot);
    new MutationObserver(() => scan(overlay.shadowRoot)).observe(overlay.shadowRoot, { childList: true, subtree: true });
    return true;
  };
  if (observeOverlay()) return;
  const wait = new MutationObserver(() => {
    if (observeOverlay()) wait.disconnect();
  });
  wait.observe(document.documentElement, { childList: true, subtree: true });
}

export function makeAppObject() {
  const profile = host.profile;
  const card = isCardArea(profile.area);
  const lang = profile.lang;
  const app = {
    constant(name) {
      switch (name) {
        case "user":
        case "account":
        case "managers":
          return clone(profile[name]);
        case "task_types":
          return clone(TASK_TYPES);
        case "groups":
          return clone(GROUPS);
        case "lang":
        case "lang_id":
          return lang;
      }
      console.warn(
        "[kolokol host] APP.constant(" + JSON.stringify(name) + "): not provided by Kolokol; " +
          "available: user, account, managers, task_types, groups",
      );
      return undefined;
    },
    lang_id: lang,
    lang: {},
    click_event: "click",
    getBaseEntity: () => profile.entity,
    isCard: () => card,
    getWidgetsArea: () => profile.area,
    data: {
      current_entity: profile.entity,
      current_card: card
        ? {
            id: profile.card_id,
            main_user: profile.user.id,
            element_type: ELEMENT_TYPES[profile.entity] || 2,
            model: cardModel(profile),
          }
        : undefined,
      is_card: card,
    },
    element_types: clone(ELEMENT_TYPES),
    cf_types: clone(CF_TYPES),
    system: {
      area: profile.area,
      amouser_id: profile.user.id,
      amouser: profile.user.login,
      subdomain: profile.account.subdomain,
      domain: "amocrm.ru",
      format: { date: { date: "DD.MM.YYYY", time: "HH:mm", date_time: "DD.MM.YYYY HH:mm" } },
    },
    widgets: {
      list: {},
      system: null,
      notificationsPhone: telephony("APP.widgets.notificationsPhone"),
    },
    sdk: {
      setCallStatus: telephony("APP.sdk.setCallStatus"),
      showCallHistory: telephony("APP.sdk.showCallHistory"),
    },
    addNotificationCallback(code, cb) {
      if (typeof cb !== "function") {
        addError("APP.addNotificationCallback", "the second argument must be a function, got " + typeof cb);
        return;
      }
      notificationCallbacks.push({ code: String(code), cb });
      watchPopups();
    },
  };
  window.APP = app;
  window.AMOCRM = app;
  const n = window.APP && window.APP.notifications;
  if (!n || typeof n.show_message !== "function") {
    addError("host", "APP.notifications is not available in this page: it is provided by Kolokol's workspace window");
  }
  return app;
}
