import { EXAMPLES } from "./examples.js";

const invoke = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
const $ = (id) => document.getElementById(id);

const RU = {
  tagline: "Уведомления виджетов amoCRM на рабочем столе. Страницы, открытые здесь, получают APP.notifications (и AMOCRM.notifications) точно как в amoCRM.",
  settings: "Настройки", account: "Адрес аккаунта amoCRM", save: "Сохранить",
  accountHelp: "Относительные ссылки (например, /contacts/detail/1) и ссылки на карточки звонков открываются относительно этого адреса. Без него они показываются, но не открываются.",
  minimized: "Запускать в трее, без этого окна", try: "Попробовать API",
  tryHelp: "Каждая кнопка отправляет пример со справочной страницы amoCRM.",
  saved: "Сохранено.", noAccount: "Адрес не задан: относительные ссылки не откроются.",
  dnd: "Не беспокоить: без всплывающих уведомлений (всё по-прежнему сохраняется и считается)",
  calls: "Входящие звонки всплывают и в режиме «не беспокоить»", language: "Язык", langAuto: "Системный",
};
if (/^ru\b/i.test(navigator.language)) {
  document.documentElement.lang = "ru";
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const t = RU[el.dataset.i18n];
    if (t) el.textContent = t;
  }
}
const say = (key, fallback) => (document.documentElement.lang === "ru" && RU[key]) || fallback;

let current = {};

async function loadSettings() {
  const s = (current = await invoke("get_settings"));
  $("account").value = s.account_url || "";
  $("minimized").checked = !!s.start_minimized;
  $("dnd").checked = !!s.do_not_disturb;
  $("calls").checked = s.calls_break_through !== false;
  $("language").value = s.language || "auto";
  $("account-status").textContent = s.account_url ? "" : say("noAccount", "No address set: relative links will not open.");
}

$("settings").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("account-status");
  try {
    // Only this form's fields change; the rest (language, do-not-disturb…) stay.
    const s = (current = await invoke("set_settings", {
      settings: {
        ...current,
        account_url: $("account").value,
        start_minimized: $("minimized").checked,
        do_not_disturb: $("dnd").checked,
        calls_break_through: $("calls").checked,
        language: $("language").value,
      },
    }));
    $("account").value = s.account_url || "";
    status.textContent = say("saved", "Saved.");
    status.classList.remove("bad");
  } catch (e) {
    status.textContent = String(e);
    status.classList.add("bad");
  }
});

// Switches and the language take effect as soon as they change.
for (const id of ["minimized", "dnd", "calls", "language"]) {
  $(id).addEventListener("change", () => $("settings").requestSubmit());
}

const list = $("examples");
for (const [method, label, params] of EXAMPLES) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.method = method;
  b.innerHTML = `<code></code><span></span>`;
  b.querySelector("code").textContent = `${method}()`;
  b.querySelector("span").textContent = label;
  b.title = JSON.stringify(params, null, 2);
  b.addEventListener("click", () => {
    APP.notifications[method](params).then(
      ({ id }) => ($("result").textContent = `${method}() → id ${id}`),
      (err) => ($("result").textContent = `${method}() refused: ${err.field}: ${err.message}`),
    );
  });
  list.append(b);
}

loadSettings().catch((e) => ($("account-status").textContent = String(e)));
