//! Kolokol's own strings (tray, toasts, CLI) in Russian and English. The
//! pages have their own dictionaries in ui/shared/i18n.js. No Tauri here.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// The setting ("auto", "ru", "en"); "auto" follows the system locale.
    pub fn from_setting(setting: &str) -> Lang {
        match setting {
            "ru" => Lang::Ru,
            "en" => Lang::En,
            _ => Lang::from_locale(&system_locale()),
        }
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }
}

fn system_locale() -> String {
    // POSIX precedence; Windows and macOS builds also read these when set.
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

pub struct Strings {
    pub open_workspace: &'static str,
    pub history: &'static str,
    pub do_not_disturb: &'static str,
    pub start_at_login: &'static str,
    pub quit: &'static str,
    pub workbench: &'static str,
    pub workbench_window: &'static str,
    pub recent: &'static str,
    pub nothing_yet: &'static str,
    pub command_line_unavailable: &'static str,
    /// The fleet's line in the tray: "Call center: connected".
    pub call_center: &'static str,
    /// The account's own item: "Open amoCRM".
    pub open_account: &'static str,
    pub no_account: &'static str,
}

pub fn strings(lang: Lang) -> &'static Strings {
    match lang {
        Lang::En => &Strings {
            open_workspace: "Open workspace",
            history: "History",
            do_not_disturb: "Do not disturb",
            start_at_login: "Start at login",
            quit: "Quit",
            workbench: "Workbench (call log, settings)",
            workbench_window: "Workbench",
            recent: "Open recent",
            nothing_yet: "Nothing opened yet",
            command_line_unavailable: "Command line unavailable",
            call_center: "Call center",
            open_account: "Open amoCRM",
            no_account: "Open amoCRM (set the account address in the workbench's settings)",
        },
        Lang::Ru => &Strings {
            open_workspace: "Открыть рабочее окно",
            history: "История",
            do_not_disturb: "Не беспокоить",
            start_at_login: "Запускать при входе в систему",
            quit: "Выход",
            workbench: "Верстак (журнал вызовов, настройки)",
            workbench_window: "Верстак",
            recent: "Недавние",
            nothing_yet: "Пока ничего не открывали",
            command_line_unavailable: "Командная строка недоступна",
            call_center: "Колл-центр",
            open_account: "Открыть amoCRM",
            no_account: "Открыть amoCRM (укажите адрес аккаунта в настройках верстака)",
        },
    }
}

/// "Open workspace", or, while the workspace runs hidden with a page the
/// agent relies on, "Open workspace (example.amocrm.ru keeps running)".
pub fn open_workspace_item(lang: Lang, running: Option<&str>) -> String {
    let s = strings(lang);
    match (running, lang) {
        (None, _) => s.open_workspace.to_owned(),
        (Some(page), Lang::En) => format!("{} ({page} keeps running)", s.open_workspace),
        (Some(page), Lang::Ru) => format!("{} ({page} работает в фоне)", s.open_workspace),
    }
}

/// "Open amoCRM (a.amocrm.ru)", or how to set the account when there is none.
pub fn open_account_item(lang: Lang, account_host: Option<&str>) -> String {
    let s = strings(lang);
    match account_host {
        Some(host) => format!("{} ({host})", s.open_account),
        None => s.no_account.to_owned(),
    }
}

/// "3 unread" / "непрочитанных: 3" (the Russian form needs no plural rules).
pub fn unread_count(lang: Lang, unread: u64) -> String {
    match lang {
        Lang::En => format!("{unread} unread"),
        Lang::Ru => format!("непрочитанных: {unread}"),
    }
}

/// "History (3 unread)" / "История (непрочитанных: 3)"; no count when zero.
pub fn history_item(lang: Lang, unread: u64) -> String {
    let s = strings(lang);
    if unread == 0 {
        s.history.to_owned()
    } else {
        format!("{} ({})", s.history, unread_count(lang, unread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        assert_eq!(Lang::from_setting("ru"), Lang::Ru);
        assert_eq!(Lang::from_setting("en"), Lang::En);
        assert_eq!(Lang::from_locale("ru_RU.UTF-8"), Lang::Ru);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!(history_item(Lang::Ru, 3), "История (непрочитанных: 3)");
        assert_eq!(history_item(Lang::En, 0), "History");
        assert_eq!(history_item(Lang::En, 12), "History (12 unread)");
        assert_eq!(open_workspace_item(Lang::En, None), "Open workspace");
        assert_eq!(open_workspace_item(Lang::En, Some("a.amocrm.ru")), "Open workspace (a.amocrm.ru keeps running)");
        assert_eq!(open_workspace_item(Lang::Ru, Some("a.amocrm.ru")), "Открыть рабочее окно (a.amocrm.ru работает в фоне)");
    }
}
