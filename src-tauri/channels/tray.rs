//! What the tray shows: its menu's texts, its tooltip and label, from the
//! unread count and the settings. Both trays draw from it: the window app's
//! (Tauri's) and the tray-only process's. No toolkit here.

use serde::Serialize;

use super::badge;
use crate::core::i18n::{self, Lang};

/// What decides the tray's look.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub unread: u64,
    pub do_not_disturb: bool,
    pub start_at_login: bool,
    /// The fleet's state and why, when the fleet is configured.
    pub fleet: Option<String>,
    /// What the hidden workspace keeps running, if anything.
    pub running: Option<&'a str>,
    /// The account's host, when an account is set.
    pub account: Option<&'a str>,
    /// Why `kolokol status`/`send` cannot reach this instance, if they cannot.
    pub control_problem: Option<&'a str>,
}

/// What the tray shows now (`kolokol status` reports it).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TrayState {
    pub unread: u64,
    pub label: Option<String>,
    pub tooltip: String,
    pub history_item: String,
    pub open_item: String,
    /// The account's item as shown ("Open amoCRM (a.amocrm.ru)").
    pub account_item: String,
    pub do_not_disturb: bool,
    pub start_at_login: bool,
    /// The fleet's line, when the fleet is configured.
    pub fleet: Option<String>,
}

/// Every text of the menu, in `lang`.
#[derive(Debug, Clone)]
pub struct Look {
    pub state: TrayState,
    /// The account's item opens something (an account is set).
    pub account_enabled: bool,
    pub workbench: &'static str,
    pub recent: &'static str,
    pub quit: &'static str,
    pub do_not_disturb: &'static str,
    pub start_at_login: &'static str,
    /// "Command line unavailable: why", when it is.
    pub control: Option<String>,
}

pub fn look(lang: Lang, i: &Inputs) -> Look {
    let s = i18n::strings(lang);
    let label = (i.unread > 0).then(|| badge::label(i.unread));
    let mut tooltip = if i.unread > 0 { format!("Kolokol — {}", i18n::unread_count(lang, i.unread)) } else { "Kolokol".to_owned() };
    let control = i.control_problem.map(|why| format!("{}: {why}", s.command_line_unavailable));
    if control.is_some() {
        tooltip = format!("{tooltip} — {}", s.command_line_unavailable);
    }
    let fleet = i.fleet.as_ref().map(|f| format!("{}: {f}", s.call_center));
    if let Some(text) = fleet.as_ref().filter(|t| !t.ends_with(": connected")) {
        tooltip = format!("{tooltip} — {text}");
    }
    Look {
        state: TrayState {
            unread: i.unread,
            label,
            tooltip,
            history_item: i18n::history_item(lang, i.unread),
            open_item: i18n::open_workspace_item(lang, i.running),
            account_item: i18n::open_account_item(lang, i.account),
            do_not_disturb: i.do_not_disturb,
            start_at_login: i.start_at_login,
            fleet,
        },
        account_enabled: i.account.is_some(),
        workbench: s.workbench,
        recent: s.recent,
        quit: s.quit,
        do_not_disturb: s.do_not_disturb,
        start_at_login: s.start_at_login,
        control,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_the_fleet_and_a_missing_command_line_show_in_the_tooltip() {
        let quiet = look(Lang::En, &Inputs::default());
        assert_eq!((quiet.state.tooltip.as_str(), quiet.state.label.as_deref()), ("Kolokol", None));
        let busy = look(
            Lang::En,
            &Inputs { unread: 120, fleet: Some("disconnected — refused".into()), control_problem: Some("squatted"), ..Default::default() },
        );
        assert_eq!(busy.state.label.as_deref(), Some("99+"));
        assert_eq!(busy.state.history_item, "History (120 unread)");
        assert_eq!(busy.state.tooltip, "Kolokol — 120 unread — Command line unavailable — Call center: disconnected — refused");
        assert_eq!(busy.control.as_deref(), Some("Command line unavailable: squatted"));
        let connected = look(Lang::En, &Inputs { fleet: Some("connected".into()), ..Default::default() });
        assert_eq!(connected.state.tooltip, "Kolokol", "a connected fleet is not news");
    }
}
