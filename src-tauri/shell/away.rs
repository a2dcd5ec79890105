//! "Missed while away" in the running app: do-not-disturb and the session
//! lock start and end an away period (`core::away`); its end shows one summary
//! toast whose click opens the history on what arrived meanwhile.

use tauri::{AppHandle, Manager};

use super::state::AppState;
use crate::core::api::now_ms;
use crate::core::away::Reason;
use crate::ingress::session_lock;

/// `reason` is now `on`. Called on every change of do-not-disturb and of the lock.
pub(crate) fn set(app: &AppHandle, reason: Reason, on: bool) {
    let state = app.state::<AppState>();
    let Ok(history) = &state.history else { return };
    let last_seq = match history.last_seq() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("away: cannot read the history: {e}");
            return;
        }
    };
    let ended = state.away.lock().unwrap_or_else(|e| e.into_inner()).set(reason, on, last_seq, now_ms());
    tracing::info!(?reason, on, "away");
    let Some(period) = ended else { return };
    match history.arrived_after(period.after_seq) {
        Ok(arrived) => {
            tracing::info!(calls = arrived.calls, errors = arrived.errors, after_seq = period.after_seq, "back: missed while away");
            state.toasts.away(arrived, period.after_seq);
        }
        Err(e) => tracing::warn!("away: cannot count what arrived: {e}"),
    }
}

/// At start: do-not-disturb saved as on begins a period; the lock is followed.
pub(crate) fn start(app: &AppHandle) {
    if app.state::<AppState>().settings.get().do_not_disturb {
        set(app, Reason::DoNotDisturb, true);
    }
    let handle = app.clone();
    let watched = session_lock::watch(move |locked| set(&handle, Reason::Locked, locked));
    match &watched {
        Ok(what) => tracing::info!("session lock: following {what}"),
        Err(why) => tracing::info!("session lock: {why}"),
    }
    let _ = app.state::<AppState>().lock_watch.set(watched);
}

/// For `status --json`.
pub(crate) fn status(state: &AppState) -> serde_json::Value {
    let away = state.away.lock().unwrap_or_else(|e| e.into_inner());
    serde_json::json!({
        "reasons": away.reasons(),
        "session_lock": match state.lock_watch.get() {
            Some(Ok(what)) => serde_json::json!({ "available": true, "source": what }),
            Some(Err(why)) => serde_json::json!({ "available": false, "reason": why }),
            None => serde_json::json!({ "available": false, "reason": "starting" }),
        },
    })
}
