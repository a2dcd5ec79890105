//! The `notifications` plugin: its init script defines the frozen
//! `APP.notifications` / `AMOCRM.notifications` object and the overlay in every
//! page of the workspace, and its two commands are all such a page can reach.

use std::sync::LazyLock;

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::api::Refusal;
use crate::router::Accepted;
use crate::AppState;

static INIT_SCRIPT: LazyLock<String> = LazyLock::new(|| {
    let css = serde_json::to_string(include_str!("inject/overlay.css")).expect("css as JSON string");
    format!(
        "(function () {{\n\"use strict\";\nconst OVERLAY_CSS = {css};\n{}\n{}\n}})();",
        include_str!("inject/overlay.js"),
        include_str!("inject/api.js")
    )
});

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("notifications")
        .js_init_script(INIT_SCRIPT.as_str())
        .invoke_handler(tauri::generate_handler![notify, open_link])
        .build()
}

/// One call of an `APP.notifications` method; `payload` is the page's
/// argument serialised as JSON by the facade.
#[tauri::command]
async fn notify(state: State<'_, AppState>, method: String, payload: String) -> Result<Accepted, Refusal> {
    let account = state.settings.account();
    let result = state.router.accept(&method, &payload, account.as_ref());
    match &result {
        Ok(a) => tracing::info!(method, id = %a.id, route = ?a.route, warnings = a.notification.warnings.len(), "accepted"),
        Err(r) => tracing::warn!(method, code = r.code, field = %r.field, "refused: {}", r.message),
    }
    result
}

/// A click on a popup or a link inside it. Only links the notification carried
/// are opened, and only http(s), in the user's browser.
#[tauri::command]
async fn open_link<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, id: String, href: String) -> Result<(), String> {
    let account = state.settings.account();
    let url = state.router.link_to_open(&id, &href, account.as_ref())?;
    tracing::info!(%url, "opening link in the browser");
    app.opener().open_url(url.as_str(), None::<&str>).map_err(|e| e.to_string())
}
