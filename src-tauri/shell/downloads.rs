//! A page's downloads (a call's recording, an export): into the Downloads
//! folder under a safe, never-overwriting name (`core::downloads`), then a
//! toast whose click opens the file — or, for a program, shows it in its
//! folder instead of running it.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::webview::DownloadEvent;
use tauri::{Manager, Runtime, Webview, WebviewWindowBuilder};

use super::state::AppState;
use crate::core::downloads;

/// WebKitGTK keeps download handlers on the web context that every window
/// shares, so one handler serves them all; a second would save twice.
static ATTACHED: AtomicBool = AtomicBool::new(false);

pub(crate) fn attach<'a, R: Runtime, M: Manager<R>>(builder: WebviewWindowBuilder<'a, R, M>) -> WebviewWindowBuilder<'a, R, M> {
    if cfg!(all(unix, not(target_os = "macos"))) && ATTACHED.swap(true, Ordering::SeqCst) {
        return builder;
    }
    builder.on_download(handle)
}

fn handle<R: Runtime>(webview: Webview<R>, event: DownloadEvent<'_>) -> bool {
    match event {
        DownloadEvent::Requested { url, destination } => {
            let Some(dir) = downloads::folder() else {
                tracing::warn!(%url, "no Downloads folder (no home directory); download refused");
                return false;
            };
            if let Err(e) = std::fs::create_dir_all(&dir) {
                tracing::warn!(%url, "cannot make {}: {e}", dir.display());
                return false;
            }
            let suggested = destination
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .or_else(|| url.path_segments().and_then(|mut s| s.next_back()).map(str::to_owned))
                .unwrap_or_default();
            let path = downloads::unique_path(&dir, &downloads::safe_name(&suggested));
            tracing::info!(%url, path = %path.display(), "download");
            *destination = path;
            true
        }
        DownloadEvent::Finished { url, path, success } => {
            let name = path
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("").to_owned());
            tracing::info!(%url, success, path = ?path, "download finished");
            let ok = success && path.is_some();
            webview.state::<AppState>().toasts.download(name, path.unwrap_or_default(), ok);
            true
        }
        _ => true,
    }
}

/// The toast's click: the file in the system's app for it; a program (or a
/// script, a shortcut) is shown in its folder, never run from a click.
pub(crate) fn open<R: Runtime>(app: &tauri::AppHandle<R>, path: &std::path::Path) {
    use tauri_plugin_opener::OpenerExt;
    let runs = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| downloads::RUNNABLE.contains(&e.as_str()));
    let result = if runs { tauri_plugin_opener::reveal_item_in_dir(path) } else { app.opener().open_path(path.to_string_lossy(), None::<&str>) };
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), "cannot open the download: {e}");
    }
}
