//! Starting the ways in that live beside the app — the loopback HTTP ingress
//! and the fleet client — and feeding what they receive into the same router,
//! history, toasts, tray and call log as `kolokol send` and the pages.

use std::sync::Arc;

use serde_json::json;
use tauri::{AppHandle, Manager};

use super::app::center_changed;
use super::state::AppState;
use super::workbench;
use crate::core::{api, router};
use crate::ingress::fleet::Action;
use crate::ingress::{fleet_client, http};
use crate::workbench::{calllog, ratelimit::RateLimit};

/// One call through the router, into the call log and the tray.
fn accept(app: &AppHandle, source: &str, method: &str, payload: &str, store_only: bool) -> Result<router::Accepted, api::Refusal> {
    let state = app.state::<AppState>();
    let result = state.accept_batch_with(source, &[(method, payload)], store_only).pop().expect("one result per call");
    let src: Arc<str> = source.into();
    workbench::record(app, &[calllog::Call { source: &src, method, payload, result: &result, page: None }]);
    if let Ok(a) = &result {
        if a.route == router::Route::Center {
            center_changed(app, a.seq);
        }
    }
    result
}

/// Serves the loopback HTTP ingress when the settings turn it on.
pub fn start_http(app: &AppHandle) {
    let state = app.state::<AppState>();
    let s = state.settings.get();
    if !s.http_ingress {
        return;
    }
    let served = http::token(&state.data_dir).and_then(|token| {
        let listener = http::bind(s.http_port)?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let handler_app = app.clone();
        let handler: http::Handler = Arc::new(move |method, payload| {
            accept(&handler_app, http::SOURCE, method, payload, false)
                .map(|a| json!({ "id": a.id, "seq": a.seq, "warnings": a.notification.warnings }))
        });
        tauri::async_runtime::spawn(async move {
            if let Err(e) = http::serve(listener, token, handler, RateLimit::new(http::BURST, http::PER_SECOND)).await {
                tracing::error!("the HTTP ingress stopped: {e}");
            }
        });
        Ok(addr)
    });
    match &served {
        Ok(addr) => tracing::info!(%addr, "HTTP ingress ready"),
        Err(e) => tracing::error!("HTTP ingress unavailable: {e}"),
    }
    let _ = state.http.set(served);
}

/// Connects to the call center's broker when the fleet is configured.
pub fn start_fleet(app: &AppHandle) {
    let state = app.state::<AppState>();
    let cfg = state.settings.get().fleet;
    if !cfg.enabled {
        return;
    }
    if let Err(e) = cfg.check() {
        tracing::error!("fleet not started: {e}");
        return;
    }
    let source = cfg.source();
    let handler_app = app.clone();
    let handler: fleet_client::Handler = Arc::new(move |action| {
        let app = &handler_app;
        match action {
            Action::Ring { method, payload, missed, .. } => accept(app, &source, method, &payload, missed).map(|_| ()),
            Action::Update { method, payload, tag } => {
                let r = accept(app, &source, method, &payload, true).map(|_| ());
                app.state::<AppState>().toasts.dismiss(&source, &tag);
                r
            }
            Action::Summary { missed } => {
                let state = app.state::<AppState>();
                let text = format!("{missed} call{} missed while offline", if missed == 1 { "" } else { "s" });
                let ctx = api::Context { account: None, now_ms: api::now_ms(), id: uuid::Uuid::now_v7().to_string() };
                let n = api::normalize(api::Method::AddCall, &json!({ "text": text }).to_string(), ctx)?;
                tracing::info!(missed, "fleet: catch-up summary toast");
                state.toasts.show(&api::Notification { source: source.clone(), ..n });
                Ok(())
            }
        }
    });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let fleet = fleet_client::Fleet::start(cfg, handler);
        let _ = app.state::<AppState>().fleet.set(fleet);
        // The tray follows the fleet's state (checked each second, redrawn on a change).
        let mut shown = None;
        loop {
            let line = app.state::<AppState>().fleet_line();
            if line != shown {
                tracing::info!(fleet = line.as_deref().unwrap_or_default(), "fleet state");
                shown = line;
                super::tray::refresh(&app);
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// *Take* on a fleet call's toast: claimed in the broker's KV bucket; the
/// winner's claim reaches every agent (their toasts close, their rows say who).
pub fn take(app: &AppHandle, tag: &str) {
    let Some(fleet) = app.state::<AppState>().fleet.get().cloned() else {
        tracing::warn!(tag, "take: the fleet is not running");
        return;
    };
    let call = tag.strip_prefix("fleet:").unwrap_or(tag).to_owned();
    tauri::async_runtime::spawn(async move {
        match fleet.claim(&call).await {
            Ok(true) => tracing::info!(%call, "fleet: call taken"),
            Ok(false) => tracing::info!(%call, "fleet: another agent took the call first"),
            Err(e) => tracing::warn!(%call, "fleet: take failed: {e}"),
        }
    });
}
