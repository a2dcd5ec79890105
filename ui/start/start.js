// The start page, shown in the workspace window among untrusted pages: it has
// APP.notifications and nothing else. Settings live in the workbench window.
import { EXAMPLES } from "../shared/examples.js";

const $ = (id) => document.getElementById(id);

const RU = {
  tagline: "Уведомления виджетов amoCRM на рабочем столе. Страницы, открытые здесь, получают APP.notifications (и AMOCRM.notifications) точно как в amoCRM.",
  workbench: "Настройки и журнал вызовов",
  workbenchNote: "Настройки и журнал всех вызовов APP.notifications — в окне «Верстак» (меню в трее → Верстак).",
  openNote: "Чтобы открыть здесь веб-страницу, локальный HTML-файл или папку виджета, выполните",
  try: "Попробовать API",
  tryHelp: "Каждая кнопка отправляет пример со справочной страницы amoCRM.",
  refused: "отклонено",
};
if (/^ru\b/i.test(navigator.language)) {
  document.documentElement.lang = "ru";
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const t = RU[el.dataset.i18n];
    if (t) el.textContent = t;
  }
}
const say = (key, fallback) => (document.documentElement.lang === "ru" && RU[key]) || fallback;

const list = $("examples");
for (const [method, label, params] of EXAMPLES) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.method = method;
  const code = document.createElement("code");
  code.textContent = `${method}()`;
  const span = document.createElement("span");
  span.textContent = label;
  b.append(code, span);
  b.title = JSON.stringify(params, null, 2);
  b.addEventListener("click", () => {
    const api = window.APP?.notifications;
    if (!api) return;
    api[method](params).then(
      ({ id }) => ($("result").textContent = `${method}() → id ${id}`),
      (err) => ($("result").textContent = `${method}() ${say("refused", "refused")}: ${err.field}: ${err.message}`),
    );
  });
  list.append(b);
}
