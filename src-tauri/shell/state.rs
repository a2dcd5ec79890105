//! What the shell keeps for the app's lifetime: settings, the router with its
//! channels, the workbench; and accepting a call with the settings as they are now.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde_json::json;
use tauri::{AppHandle, Manager};

use super::{tray, workbench};
use crate::channels::{history, toast};
use crate::core::{api, router, settings};

pub struct AppState {
    pub settings: settings::SettingsStore,
    pub router: router::Router,
    pub data_dir: PathBuf,
    /// `Err` says why the history could not be opened; center calls are then refused.
    pub history: Result<history::History, String>,
    pub toasts: toast::Toasts,
    pub workbench: workbench::Workbench,
    /// A tray/window refresh is scheduled; holds the one changed row, if only one.
    pub(super) changed: std::sync::Mutex<Option<Option<i64>>>,
    pub(super) started: Instant,
    pub(super) page_loaded: AtomicBool,
    /// Origins granted the notifications API (each once).
    pub(super) remote_grants: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The control channel's socket or pipe, or why there is none (set at start-up).
    pub(super) control: std::sync::OnceLock<Result<String, String>>,
    /// What the workspace keeps running while hidden (a host, a widget's
    /// name), for the tray; `None` while it is shown or gone.
    pub(super) background: std::sync::Mutex<Option<String>>,
}

impl AppState {
    /// One call, from a page or from `kolokol send`, with the settings as they are now.
    pub fn accept(&self, source: &str, method: &str, payload: &str) -> Result<router::Accepted, api::Refusal> {
        self.accept_batch(source, &[(method, payload)]).pop().expect("one result per call")
    }

    /// Calls that arrived together (a page's burst): stored in one commit.
    /// `source` is the page's origin or `cli`.
    pub fn accept_batch(&self, source: &str, calls: &[(&str, &str)]) -> Vec<Result<router::Accepted, api::Refusal>> {
        let s = self.settings.get();
        let account = self.settings.account();
        let policy = router::Policy { do_not_disturb: s.do_not_disturb, calls_break_through: s.calls_break_through };
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

    pub(super) fn status(&self, app: &AppHandle) -> serde_json::Value {
        let s = self.settings.get();
        let mut windows: Vec<String> = app.webview_windows().into_keys().collect();
        windows.sort();
        let tray = app.try_state::<tray::Tray>().map(|t| t.shown.lock().unwrap_or_else(|e| e.into_inner()).clone());
        json!({
            "running": true,
            "pid": std::process::id(),
            "data_dir": self.data_dir,
            "unread": self.unread(),
            "do_not_disturb": s.do_not_disturb,
            "calls_break_through": s.calls_break_through,
            // Kolokol's windows now; a webview exists only while one does.
            "windows": windows,
            "workspace_in_background": *self.background.lock().unwrap_or_else(|e| e.into_inner()),
            "memory": crate::core::memory::status(std::process::id()),
            "channels": {
                "history": match &self.history {
                    Ok(_) => json!({ "available": true }),
                    Err(e) => json!({ "available": false, "reason": e }),
                },
                "toast": self.toasts.health(),
                "tray": tray,
                "control": match self.control.get() {
                    Some(Ok(endpoint)) => json!({ "available": true, "endpoint": endpoint }),
                    Some(Err(e)) => json!({ "available": false, "reason": e }),
                    None => json!({ "available": false, "reason": "starting" }),
                },
            },
        })
    }
}
