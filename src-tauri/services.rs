//! What the app runs for its lifetime with or without a window: the
//! settings, the history, the router with its toasts, start at login and
//! "missed while away". The tray-only process (`resident`) and the window app
//! (`shell/`) both hold one; neither touches the other's toolkit.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::{json, Value};

use crate::channels::{history, toast};
use crate::core::away::{Away, Reason};
use crate::core::{api, autostart, datadir, i18n, router, settings};
use crate::ingress::session_lock;
use crate::launch;

pub struct Services {
    pub settings: settings::SettingsStore,
    pub router: router::Router,
    pub data_dir: PathBuf,
    /// `Err` says why the history could not be opened; center calls are then refused.
    pub history: Result<history::History, String>,
    pub toasts: toast::Toasts,
    /// When the user's launch began.
    pub started: Instant,
    /// The control channel's socket or pipe, or why there is none (set at start-up).
    pub control: OnceLock<Result<String, String>>,
    /// Do-not-disturb and the session lock: "missed while away".
    pub away: Mutex<Away>,
    /// What the session lock is followed through, or why it is not.
    pub lock_watch: OnceLock<Result<String, String>>,
    /// Start at login (off until the user ticks it in the tray): into the
    /// tray, with this data directory; or why it cannot be offered.
    pub login: Result<autostart::LoginItem, String>,
}

impl Services {
    /// Opens the history and starts the toasts; `on_action` runs for a click on a toast.
    pub fn open(data_dir: PathBuf, started: Instant, on_action: impl Fn(toast::ToastAction) + Send + Sync + 'static) -> Services {
        let settings = settings::SettingsStore::load(&data_dir);
        let lang = i18n::Lang::from_setting(&settings.get().language);
        #[cfg(windows)]
        if let Err(e) = toast::register_app_id(toast::APP_NAME) {
            tracing::warn!("cannot register the AppUserModelID; Windows may hide toasts: {e}");
        }
        let history = history::History::open(&history::path_in(&data_dir));
        match &history {
            Err(e) => tracing::error!("history unavailable, center notifications will be refused: {e}"),
            Ok(h) => {
                if let Err(e) = h.set_retention(retention(&settings.get())) {
                    tracing::warn!("history retention not applied: {e}");
                }
            }
        }
        let toasts = toast::Toasts::start(toast::Labels::for_lang(lang), on_action);
        let is_default = data_dir == datadir::default();
        Services {
            login: launch::beside(launch::COMMAND)
                .map_err(|e| format!("this program's folder: {e}"))
                .and_then(|program| autostart::LoginItem::new(&data_dir, is_default, &program)),
            settings,
            router: router::Router::new(
                Some(Arc::new(history::StoreOrReason(history.clone()))),
                vec![Arc::new(toasts.clone()) as Arc<dyn router::Channel>],
            ),
            data_dir,
            history,
            toasts,
            started,
            control: OnceLock::new(),
            away: Mutex::default(),
            lock_watch: OnceLock::new(),
        }
    }

    /// One call, from a page or from `kolokol send`, with the settings as they are now.
    pub fn accept(&self, source: &str, method: &str, payload: &str) -> Result<router::Accepted, api::Refusal> {
        self.accept_batch(source, &[(method, payload)]).pop().expect("one result per call")
    }

    /// Calls that arrived together (a page's burst): stored in one commit.
    /// `source` is the page's origin or `cli`.
    pub fn accept_batch(&self, source: &str, calls: &[(&str, &str)]) -> Vec<Result<router::Accepted, api::Refusal>> {
        self.accept_batch_with(source, calls, false)
    }

    /// As [`Services::accept_batch`]; `store_only` keeps the toasts out.
    pub fn accept_batch_with(&self, source: &str, calls: &[(&str, &str)], store_only: bool) -> Vec<Result<router::Accepted, api::Refusal>> {
        let s = self.settings.get();
        let account = self.settings.account();
        let policy = router::Policy { do_not_disturb: s.do_not_disturb, calls_break_through: s.calls_break_through, store_only };
        let results = self.router.accept_batch(source, calls, account.as_ref(), policy);
        // A burst is one line at info level (its calls at debug): logging
        // must not cost more than the calls.
        let single = calls.len() == 1;
        for ((method, _), result) in calls.iter().zip(&results) {
            // A refused name can be a megabyte long; the call log keeps its start.
            let method = if method.len() > router::MAX_METHOD_BYTES { "(a method name too long to log)" } else { method };
            match result {
                Ok(a) if single => tracing::info!(method, id = %a.id, channels = ?a.channels, warnings = a.notification.warnings.len(), "accepted"),
                Ok(a) => tracing::debug!(method, id = %a.id, channels = ?a.channels, warnings = a.notification.warnings.len(), "accepted"),
                Err(r) if single => tracing::warn!(method, code = r.code, field = %r.field, "refused: {}", r.message),
                Err(r) => tracing::debug!(method, code = r.code, field = %r.field, "refused: {}", r.message),
            }
        }
        if !single {
            let accepted = results.iter().filter(|r| r.is_ok()).count();
            tracing::info!(calls = calls.len(), accepted, refused = calls.len() - accepted, "batch");
        }
        results
    }

    pub fn unread(&self) -> u64 {
        self.history.as_ref().ok().and_then(|h| h.unread_count().ok()).unwrap_or(0)
    }

    pub fn autostart_enabled(&self) -> bool {
        self.login.as_ref().is_ok_and(|l| l.is_enabled())
    }

    pub fn toggle_autostart(&self) {
        if let Err(e) = self.login.as_ref().map_err(String::clone).and_then(|l| l.toggle()) {
            tracing::warn!("cannot change start at login: {e}");
        }
    }

    /// Flips do-not-disturb and saves it; the away period follows.
    pub fn toggle_dnd(&self) {
        let mut s = self.settings.get();
        s.do_not_disturb = !s.do_not_disturb;
        match self.settings.set(s) {
            Ok(saved) => self.set_away(Reason::DoNotDisturb, saved.do_not_disturb),
            Err(e) => tracing::warn!("cannot save do-not-disturb: {e}"),
        }
    }

    /// `reason` is now `on`. Called on every change of do-not-disturb and of
    /// the lock; the end of an away period shows one summary toast whose click
    /// opens the history on what arrived meanwhile.
    pub fn set_away(&self, reason: Reason, on: bool) {
        let Ok(history) = &self.history else { return };
        let last_seq = match history.last_seq() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("away: cannot read the history: {e}");
                return;
            }
        };
        let ended = self.away.lock().unwrap_or_else(|e| e.into_inner()).set(reason, on, last_seq, api::now_ms());
        tracing::info!(?reason, on, "away");
        let Some(period) = ended else { return };
        match history.arrived_after(period.after_seq) {
            Ok(arrived) => {
                tracing::info!(calls = arrived.calls, errors = arrived.errors, after_seq = period.after_seq, "back: missed while away");
                self.toasts.away(arrived, period.after_seq);
            }
            Err(e) => tracing::warn!("away: cannot count what arrived: {e}"),
        }
    }

    /// At start: do-not-disturb saved as on begins a period; the lock is followed.
    pub fn start_away(self: &Arc<Self>) {
        if self.settings.get().do_not_disturb {
            self.set_away(Reason::DoNotDisturb, true);
        }
        let me = Arc::downgrade(self);
        let watched = session_lock::watch(move |locked| {
            if let Some(s) = me.upgrade() {
                s.set_away(Reason::Locked, locked)
            }
        });
        match &watched {
            Ok(what) => tracing::info!("session lock: following {what}"),
            Err(why) => tracing::info!("session lock: {why}"),
        }
        let _ = self.lock_watch.set(watched);
    }

    /// `kolokol status --json`: what both processes report alike.
    pub fn status(&self) -> Value {
        let s = self.settings.get();
        let away = self.away.lock().unwrap_or_else(|e| e.into_inner());
        json!({
            "running": true,
            "pid": std::process::id(),
            "data_dir": self.data_dir,
            "unread": self.unread(),
            "do_not_disturb": s.do_not_disturb,
            "calls_break_through": s.calls_break_through,
            "memory": crate::core::memory::status(std::process::id()),
            // The window app fills these in; the tray-only app has none of them.
            "windows": [],
            "workspace_in_background": null,
            "away": {
                "reasons": away.reasons(),
                "session_lock": match self.lock_watch.get() {
                    Some(Ok(what)) => json!({ "available": true, "source": what }),
                    Some(Err(why)) => json!({ "available": false, "reason": why }),
                    None => json!({ "available": false, "reason": "starting" }),
                },
            },
            "channels": {
                "history": match &self.history {
                    Ok(_) => json!({ "available": true }),
                    Err(e) => json!({ "available": false, "reason": e }),
                },
                "toast": self.toasts.health(),
                "control": match self.control.get() {
                    Some(Ok(endpoint)) => json!({ "available": true, "endpoint": endpoint }),
                    Some(Err(e)) => json!({ "available": false, "reason": e }),
                    None => json!({ "available": false, "reason": "starting" }),
                },
                "http": { "enabled": false, "available": false, "reason": "off in the settings (http_ingress)" },
                "fleet": { "enabled": false, "state": "off" },
            },
        })
    }
}

/// The history's retention from the settings.
pub fn retention(s: &settings::Settings) -> history::Retention {
    history::Retention { keep_days: s.history_keep_days, keep_rows: s.history_keep_rows }
}
