//! What the window app keeps for its lifetime: the services it shares with
//! the tray-only process (`Services`, reached through `Deref`), and what only
//! windows need: the workbench, granted origins, the hidden workspace's page,
//! zoom, permissions, the HTTP ingress and the fleet.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::json;
use tauri::{AppHandle, Manager};

use super::{tray, workbench};
use crate::ingress::{fleet_client, http};
use crate::services::Services;

pub struct AppState {
    /// What runs with or without a window (settings, history, router, toasts, away).
    pub svc: Arc<Services>,
    pub workbench: workbench::Workbench,
    /// A tray/window refresh is scheduled; holds the one changed row, if only one.
    pub(super) changed: std::sync::Mutex<Option<Option<i64>>>,
    pub(super) page_loaded: AtomicBool,
    /// Origins granted the notifications API (each once).
    pub(super) remote_grants: std::sync::Mutex<std::collections::HashSet<String>>,
    /// What the workspace keeps running while hidden (a host, a widget's
    /// name), for the tray; `None` while it is shown or gone.
    pub(super) background: std::sync::Mutex<Option<String>>,
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
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.svc
    }
}

impl AppState {
    /// The fleet's state for the tray: `connected`, or the state and why.
    pub(crate) fn fleet_line(&self) -> Option<String> {
        let f = self.fleet.get()?.status();
        Some(match (f.state.as_str(), f.reason) {
            ("connected", None) => "connected".into(),
            (state, Some(why)) => format!("{state} — {why}"),
            (state, None) => state.to_owned(),
        })
    }

    pub(super) fn status(&self, app: &AppHandle) -> serde_json::Value {
        let s = self.settings.get();
        let mut windows: Vec<String> = app.webview_windows().into_keys().collect();
        windows.sort();
        let tray = app.try_state::<tray::Tray>().map(|t| t.shown.lock().unwrap_or_else(|e| e.into_inner()).clone());
        let mut status = self.svc.status();
        // Kolokol's windows now; a webview exists only while one does.
        status["windows"] = json!(windows);
        status["workspace_in_background"] = json!(*self.background.lock().unwrap_or_else(|e| e.into_inner()));
        let channels = &mut status["channels"];
        channels["tray"] = json!(tray);
        channels["http"] = match self.http.get() {
            None => channels["http"].take(),
            Some(Ok(addr)) => json!({
                "enabled": true, "available": true, "address": addr.to_string(), "port": addr.port(),
                "token_file": http::token_path(&self.data_dir),
            }),
            Some(Err(e)) => json!({ "enabled": true, "available": false, "reason": e }),
        };
        channels["fleet"] = match self.fleet.get() {
            Some(f) => json!(f.status()),
            None if s.fleet.enabled => json!({ "enabled": true, "state": "failed", "reason": s.fleet.check().err() }),
            None => channels["fleet"].take(),
        };
        status
    }
}
