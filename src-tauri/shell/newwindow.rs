//! What a page's `window.open` and `target="_blank"` links do: a page of the
//! opener's own origin (or the account's) opens in a new Kolokol window with
//! the same API and rules; any other http(s) address goes to the user's
//! browser, as often as popup links may; anything else is refused with a log
//! line. Nothing is dropped without a word.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use tauri::webview::{NewWindowFeatures, NewWindowResponse};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder, Wry};
use url::Url;

use super::app::{allow_remote, open_external, webview_data, WORKSPACE};
use super::state::AppState;
use super::workbench;
use crate::core::links;

static NEXT_WINDOW: AtomicU32 = AtomicU32::new(2);

/// The new-window handler of the webview labelled `opener`.
pub fn handler(app: AppHandle, opener: String) -> impl Fn(Url, NewWindowFeatures) -> NewWindowResponse<Wry> + Send + 'static {
    move |url, features| decide(&app, &opener, url, features)
}

fn decide(app: &AppHandle, opener: &str, url: Url, features: NewWindowFeatures) -> NewWindowResponse<Wry> {
    let state = app.state::<AppState>();
    let page = app.get_webview_window(opener).and_then(|w| w.url().ok()).map(|u| links::origin_of(u.as_str()));
    let account = state.settings.account().map(|a| links::origin_of(a.as_str()));
    let target = links::origin_of(url.as_str());
    let web = matches!(url.scheme(), "http" | "https");
    if web && (page.as_deref() == Some(target.as_str()) || account.as_deref() == Some(target.as_str())) {
        match open_window(app, &url, features) {
            Ok(window) => {
                tracing::info!(%url, label = window.label(), "a page opened a window of its own origin");
                return NewWindowResponse::Create { window };
            }
            Err(e) => tracing::warn!(%url, "cannot open a Kolokol window, the browser takes it: {e}"),
        }
    }
    let origin = page.unwrap_or_else(|| opener.to_owned());
    if state.workbench.link_limit.take(&origin, 1, Instant::now()).allowed == 0 {
        tracing::warn!(%url, %origin, "a page opened windows faster than one a second; refused");
        return NewWindowResponse::Deny;
    }
    tracing::info!(%url, "a page opened another site: the browser takes it");
    open_external(app, url.as_str());
    NewWindowResponse::Deny
}

/// A window for a page of the opener's origin: the workspace's rules, its
/// WebKit context (the opener and the new page stay related).
fn open_window(app: &AppHandle, url: &Url, features: NewWindowFeatures) -> tauri::Result<WebviewWindow> {
    allow_remote(app, url)?;
    let label = format!("{WORKSPACE}-{}", NEXT_WINDOW.fetch_add(1, Ordering::Relaxed));
    super::downloads::attach(WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url.clone())))
        .window_features(features)
        .data_directory(webview_data(&app.state::<AppState>().data_dir))
        .title("Kolokol")
        .on_navigation(workbench::may_navigate)
        .on_new_window(handler(app.clone(), label.clone()))
        .build()
        .inspect(super::webkit::release_on_destroy)
}
