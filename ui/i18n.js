// Strings of the UI in English and Russian, and a tiny translator.
//
//   import { t, setLang, detectLang, applyI18n } from "./i18n.js";
//   setLang(settings.language);          // "auto" | "ru" | "en"
//   t("total", { n: 5 })                 // "5 notifications" / "5 уведомлений"
//
// An entry is a string with {placeholders}, or — for counts — an object keyed by
// Intl.PluralRules categories (one / few / many / other) chosen by `vars.n`.

export const LANGS = ["en", "ru"];

export const DICT = {
  en: {
    appName: "Kolokol",
    historyTitle: "History",
    windowTitle: "Kolokol — History",
    listLabel: "Notifications",
    listHelp: "Use the up and down arrow keys to move between notifications, Enter to open one.",
    searchLabel: "Search notifications",
    searchPlaceholder: "Search calls and errors",
    filtersLabel: "Show",
    filterAll: "All",
    filterCalls: "Calls",
    filterErrors: "Errors",
    filterUnread: "Unread",
    markAllRead: "Mark all read",
    markAllReadDone: "All notifications are marked read.",
    totalLabel: { one: "notification", other: "notifications" },
    matchLabel: { one: "match", other: "matches" },
    unreadLabel: { one: "unread", other: "unread" },
    loading: "Loading…",
    loadingMore: "Loading older notifications…",
    newPill: { one: "{n} new — show", other: "{n} new — show" },
    capped: "Showing the newest {n}. Use search or filters to find older notifications.",
    call: "Call",
    error: "Error",
    unread: "Unread",
    from: "From",
    to: "To",
    duration: "Duration",
    date: "Date",
    text: "Text",
    card: "Card",
    openCard: "Open card",
    link: "Link",
    recording: "Recording",
    openRecording: "Open recording in the browser",
    noRecording: "No recording",
    notOpenable: "Cannot be opened: {reason}",
    notOpenableShort: "cannot be opened",
    unknownParty: "unknown",
    opening: "Opening {what}…",
    openFailed: "Could not open the link: {error}",
    markFailed: "Could not mark as read: {error}",
    emptyNone: "No notifications yet",
    emptyNoneHelp: "Calls and errors that widgets add to the notification center will appear here.",
    emptySearch: "Nothing matches your search",
    emptySearchHelp: "Try other words, or clear the search.",
    clearSearch: "Clear search",
    emptyUnread: "No unread notifications",
    emptyUnreadHelp: "You're all caught up.",
    emptyCalls: "No calls yet",
    emptyErrors: "No errors yet",
    emptyFilterHelp: "Other notifications are under “All”.",
    showAll: "Show all",
    errorTitle: "Could not load the history",
    errorMore: "Could not load older notifications",
    errorHelp: "The app did not answer: {error}",
    retry: "Retry",
    close: "Close",
    details: "Notification details",
  },
  ru: {
    appName: "Kolokol",
    historyTitle: "История",
    windowTitle: "Kolokol — История",
    listLabel: "Уведомления",
    listHelp: "Стрелки вверх и вниз — переход между уведомлениями, Enter — открыть уведомление.",
    searchLabel: "Поиск по уведомлениям",
    searchPlaceholder: "Поиск по звонкам и ошибкам",
    filtersLabel: "Показать",
    filterAll: "Все",
    filterCalls: "Звонки",
    filterErrors: "Ошибки",
    filterUnread: "Непрочитанные",
    markAllRead: "Прочитать все",
    markAllReadDone: "Все уведомления отмечены прочитанными.",
    totalLabel: { one: "уведомление", few: "уведомления", many: "уведомлений", other: "уведомления" },
    matchLabel: { one: "совпадение", few: "совпадения", many: "совпадений", other: "совпадения" },
    unreadLabel: { one: "непрочитанное", few: "непрочитанных", many: "непрочитанных", other: "непрочитанного" },
    loading: "Загрузка…",
    loadingMore: "Загрузка более старых уведомлений…",
    newPill: { one: "{n} новое — показать", few: "{n} новых — показать", many: "{n} новых — показать", other: "{n} новых — показать" },
    capped: "Показаны последние {n}. Более старые уведомления найдутся через поиск или фильтры.",
    call: "Звонок",
    error: "Ошибка",
    unread: "Не прочитано",
    from: "От",
    to: "Кому",
    duration: "Длительность",
    date: "Дата",
    text: "Текст",
    card: "Карточка",
    openCard: "Открыть карточку",
    link: "Ссылка",
    recording: "Запись разговора",
    openRecording: "Открыть запись в браузере",
    noRecording: "Нет записи",
    notOpenable: "Нельзя открыть: {reason}",
    notOpenableShort: "нельзя открыть",
    unknownParty: "неизвестно",
    opening: "Открываю: {what}…",
    openFailed: "Не удалось открыть ссылку: {error}",
    markFailed: "Не удалось отметить прочитанным: {error}",
    emptyNone: "Уведомлений пока нет",
    emptyNoneHelp: "Здесь появятся звонки и ошибки, которые виджеты добавляют в центр уведомлений.",
    emptySearch: "По вашему запросу ничего не найдено",
    emptySearchHelp: "Попробуйте другие слова или очистите поиск.",
    clearSearch: "Очистить поиск",
    emptyUnread: "Непрочитанных уведомлений нет",
    emptyUnreadHelp: "Вы всё прочитали.",
    emptyCalls: "Звонков пока нет",
    emptyErrors: "Ошибок пока нет",
    emptyFilterHelp: "Остальные уведомления — на вкладке «Все».",
    showAll: "Показать все",
    errorTitle: "Не удалось загрузить историю",
    errorMore: "Не удалось загрузить более старые уведомления",
    errorHelp: "Приложение не ответило: {error}",
    retry: "Повторить",
    close: "Закрыть",
    details: "Подробности уведомления",
  },
};

let lang = detectLang();

/** The language of the system (navigator.language): "ru" for Russian, otherwise "en". */
export function detectLang() {
  const list = (typeof navigator !== "undefined" && (navigator.languages?.length ? navigator.languages : [navigator.language])) || [];
  return /^ru\b/i.test(list[0] || "") ? "ru" : "en";
}

/** Sets the language from the `language` setting ("auto" | "ru" | "en"); returns the one in use. */
export function setLang(setting) {
  lang = LANGS.includes(setting) ? setting : detectLang();
  if (typeof document !== "undefined") document.documentElement.lang = lang;
  return lang;
}

export function getLang() {
  return lang;
}

/** Formats a number for the current language (1 000 000 / 1,000,000). */
export function fmtNumber(n) {
  return new Intl.NumberFormat(lang).format(n);
}

/** Translates `key`, filling {placeholders} from `vars`; `vars.n` picks the plural form. */
export function t(key, vars = {}) {
  let entry = DICT[lang][key] ?? DICT.en[key];
  if (entry == null) return key;
  if (typeof entry === "object") {
    const n = Number(vars.n ?? 0);
    const cat = new Intl.PluralRules(lang).select(n);
    entry = entry[cat] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in vars)) return m;
    const v = vars[name];
    return typeof v === "number" ? fmtNumber(v) : String(v);
  });
}

/**
 * Fills the static strings of a page: `data-i18n` (text), `data-i18n-placeholder`,
 * `data-i18n-label` (aria-label) and `data-i18n-title`.
 */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
