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
use crate::ingress::{fleet_client, http};

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
    /// Do-not-disturb and the session lock: "missed while away".
    pub(super) away: std::sync::Mutex<crate::core::away::Away>,
    /// What the session lock is followed through, or why it is not.
    pub(super) lock_watch: std::sync::OnceLock<Result<String, String>>,
    /// Page zoom per origin (`zoom.json`).
    pub(super) zoom: crate::core::zoom::ZoomStore,
    /// Microphone and camera answers per origin (`permissions.json`); read
    /// where WebKitGTK asks Kolokol (WebView2 and WKWebView ask by themselves).
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
    pub(super) permissions: crate::core::permissions::PermissionStore,
    /// The loopback HTTP ingress: its address, or why it is not serving (set at start-up when on).
    pub(super) http: std::sync::OnceLock<Result<std::net::SocketAddr, String>>,
    /// The fleet client, when configured.
    pub(super) fleet: std::sync::OnceLock<fleet_client::Fleet>,
    /// Start at login (off until the user ticks it in the tray): into the
    /// tray, with this data directory; or why it cannot be offered.
    pub(super) login: Result<crate::core::autostart::LoginItem, String>,
}

impl AppState {
    /// One call, from a page or from `kolokol send`, with the settings as they are now.
    pub fn accept(&self, source: &str, method: &str, payload: &str) -> Result<router::Accepted, api::Refusal> {
        self.accept_batch(source, &[(method, payload)]).pop().expect("one result per call")
    }

    /// Calls that arrived together (a page's burst): stored in one commit.
    /// `source` is the page's origin or `cli`.
    pub fn accept_batch(&self, source: &str, calls: &[(&str, &str)]) -> Vec<Result<router::Accepted, api::Refusal>> {
        self.accept_batch_with(source, calls, false)
    }

    /// As [`AppState::accept_batch`]; `store_only` keeps the toasts out.
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

    /// The fleet's state for the tray: `connected`, or the state and why.
    pub(crate) fn fleet_line(&self) -> Option<String> {
        let f = self.fleet.get()?.status();
        Some(match (f.state.as_str(), f.reason) {
            ("connected", None) => "connected".into(),
            (state, Some(why)) => format!("{state} — {why}"),
            (state, None) => state.to_owned(),
        })
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
            "away": super::away::status(self),
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
                "http": match self.http.get() {
                    None => json!({ "enabled": false, "available": false, "reason": "off in the settings (http_ingress)" }),
                    Some(Ok(addr)) => json!({
                        "enabled": true, "available": true, "address": addr.to_string(), "port": addr.port(),
                        "token_file": http::token_path(&self.data_dir),
                    }),
                    Some(Err(e)) => json!({ "enabled": true, "available": false, "reason": e }),
                },
                "fleet": match self.fleet.get() {
                    Some(f) => json!(f.status()),
                    None if s.fleet.enabled => json!({ "enabled": true, "state": "failed", "reason": s.fleet.check().err() }),
                    None => json!({ "enabled": false, "state": "off" }),
                },
            },
        })
    }
}
