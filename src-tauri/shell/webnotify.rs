//! A click on a Web Notification's toast: the window showing that origin comes
//! to the front and its page gets the `click` event of that notification.

use tauri::{AppHandle, Manager};

use crate::core::links;

pub(crate) fn clicked(app: &AppHandle, source: &str, id: &str) {
    let detail = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
    let mut found = false;
    for (_, w) in app.webview_windows() {
        let Ok(url) = w.url() else { continue };
        if links::origin_of(url.as_str()) != source {
            continue;
        }
        found = true;
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        // The init script routes it to that Notification's onclick / "click".
        let _ = w.eval(format!("window.dispatchEvent(new CustomEvent('kolokol:notificationclick', {{ detail: {detail} }}))"));
    }
    if !found {
        tracing::info!(%source, "a notification's page is no longer open; its click opens the workspace");
        super::app::show_workspace(app);
    }
}
