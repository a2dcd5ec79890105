//! Browser keys in a page (see the init script): zoom remembered per origin,
//! reload and print. Back, forward and find stay in the page.

use tauri::{Manager, Runtime, Webview};

use super::state::AppState;
use crate::core::links;
use crate::core::zoom::Change;

pub(crate) fn act<R: Runtime>(webview: &Webview<R>, action: &str) -> Result<serde_json::Value, String> {
    if let Some(change) = Change::parse(action) {
        let origin = origin(webview)?;
        let level = webview.state::<AppState>().zoom.change(&origin, change)?;
        webview.set_zoom(level).map_err(|e| e.to_string())?;
        tracing::info!(%origin, level, "zoom");
        return Ok(serde_json::json!({ "zoom": level }));
    }
    match action {
        "reload" => webview.reload().map_err(|e| e.to_string())?,
        "print" => webview.print().map_err(|e| e.to_string())?,
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(format!("action: {shown:?} is not one of zoom_in, zoom_out, zoom_reset, reload, print"));
        }
    }
    Ok(serde_json::Value::Null)
}

/// A page starts loading: its origin's zoom, as the user left it (WebKit keeps
/// one zoom per view across navigations, browsers one per origin).
pub(crate) fn restore_zoom<R: Runtime>(webview: &Webview<R>, url: &url::Url) {
    let origin = links::origin_of(url.as_str());
    let level = webview.state::<AppState>().zoom.get(&origin);
    if let Err(e) = webview.set_zoom(level) {
        tracing::warn!(%origin, "cannot set the zoom: {e}");
    }
}

/// Spell checking in Russian and English as the agent types (WebKitGTK, with
/// the hunspell dictionaries the system has; WebView2 and WKWebView check
/// spelling on their own). Set on the shared web context at every page start:
/// cheap, and a re-created window's context gets it too.
#[cfg(all(unix, not(target_os = "macos")))]
pub(crate) fn spell_check<R: Runtime>(webview: &Webview<R>) {
    let _ = webview.with_webview(|pv| {
        use webkit2gtk::{WebContextExt, WebViewExt};
        if let Some(ctx) = pv.inner().context() {
            if !ctx.is_spell_checking_enabled() {
                ctx.set_spell_checking_languages(&["ru_RU", "en_US"]);
                ctx.set_spell_checking_enabled(true);
                tracing::info!(languages = ?ctx.spell_checking_languages(), "spell checking on");
            }
        }
    });
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub(crate) fn spell_check<R: Runtime>(_webview: &Webview<R>) {}

fn origin<R: Runtime>(webview: &Webview<R>) -> Result<String, String> {
    webview.url().map(|u| links::origin_of(u.as_str())).map_err(|e| e.to_string())
}
