//! Microphone and camera for softphone widgets (WebKitGTK's permission
//! requests): the account's origin gets Kolokol's prompt in the page's overlay,
//! answered by a person's click and remembered per origin
//! (`core::permissions`); every other origin is denied without asking.
//! WebView2 and WKWebView show their own prompts.

use tauri::{AppHandle, Runtime, Webview};

#[cfg(all(unix, not(target_os = "macos")))]
mod gtk {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};

    use tauri::{AppHandle, Manager, Runtime, Webview};
    use webkit2gtk::glib::prelude::*;
    use webkit2gtk::{PermissionRequestExt, SettingsExt, UserMediaPermissionRequestExt, WebViewExt};

    use crate::core::permissions::{Decision, Device};
    use crate::shell::state::AppState;

    struct Pending {
        request: webkit2gtk::PermissionRequest,
        label: String,
        page: String,
        device: Device,
    }

    thread_local! {
        // GTK objects: only ever touched on the main thread.
        static PENDING: RefCell<HashMap<u64, Pending>> = RefCell::new(HashMap::new());
    }
    static NEXT: AtomicU64 = AtomicU64::new(1);

    pub fn watch<R: Runtime>(webview: &Webview<R>) {
        let tauri_view = webview.clone();
        let app = webview.app_handle().clone();
        let _ = webview.with_webview(move |pv| {
            let wv = pv.inner();
            // SAFETY: a plain bool stored and read under one key, on the main thread.
            unsafe {
                if wv.data::<bool>("kolokol-media").is_some() {
                    return;
                }
                wv.set_data("kolokol-media", true);
            }
            if let Some(s) = WebViewExt::settings(&wv) {
                s.set_enable_media_stream(true);
            }
            wv.connect_permission_request(move |wv, req| {
                let page = wv.uri().map(|u| u.to_string()).unwrap_or_default();
                tracing::debug!(%page, kind = %req.type_(), "permission request");
                let state = app.state::<AppState>();
                let account = state.settings.account();
                if let Some(um) = req.downcast_ref::<webkit2gtk::UserMediaPermissionRequest>() {
                    let device = Device::from_flags(um.is_for_audio_device(), um.is_for_video_device());
                    match state.permissions.decide(&page, account.as_ref(), device) {
                        Decision::Allow => req.allow(),
                        Decision::Deny(why) => {
                            tracing::info!("media denied: {why}");
                            req.deny();
                        }
                        Decision::Ask => {
                            let id = NEXT.fetch_add(1, Ordering::Relaxed);
                            let origin = crate::core::links::origin_of(&page);
                            PENDING.with(|p| {
                                p.borrow_mut().insert(id, Pending { request: req.clone(), label: tauri_view.label().to_owned(), page, device })
                            });
                            let detail = serde_json::json!({ "id": id, "device": device.key(), "origin": origin });
                            let _ = tauri_view.eval(format!(
                                "window.dispatchEvent(new CustomEvent('kolokol:permission', {{ detail: {detail} }}))"
                            ));
                        }
                    }
                    return true;
                }
                if req.is::<webkit2gtk::DeviceInfoPermissionRequest>() {
                    // Device names (enumerateDevices) for the account's pages only.
                    match state.permissions.decide(&page, account.as_ref(), Device::Microphone) {
                        Decision::Deny(_) => req.deny(),
                        _ => req.allow(),
                    }
                    return true;
                }
                false
            });
        });
    }

    pub fn answer(app: &AppHandle, label: String, id: u64, allow: bool) -> Result<(), String> {
        let app2 = app.clone();
        app.run_on_main_thread(move || {
            let Some(p) = PENDING.with(|p| {
                let mut p = p.borrow_mut();
                match p.get(&id) {
                    Some(found) if found.label == label => p.remove(&id),
                    _ => None,
                }
            }) else {
                tracing::warn!(id, "no such media request of this window");
                return;
            };
            if allow {
                p.request.allow();
            } else {
                p.request.deny();
            }
            tracing::info!(page = %p.page, device = p.device.key(), allow, "media permission answered");
            if let Err(e) = app2.state::<AppState>().permissions.remember(&p.page, p.device, allow) {
                tracing::warn!("media permission not remembered: {e}");
            }
        })
        .map_err(|e| e.to_string())
    }
}

/// Follows a webview's permission requests (once per WebKit view).
pub(crate) fn watch<R: Runtime>(webview: &Webview<R>) {
    #[cfg(all(unix, not(target_os = "macos")))]
    gtk::watch(webview);
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = webview;
}

/// The agent's click on Kolokol's prompt in the window `label`.
pub(crate) fn answer(app: &AppHandle, label: String, id: u64, allow: bool) -> Result<(), String> {
    #[cfg(all(unix, not(target_os = "macos")))]
    return gtk::answer(app, label, id, allow);
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        let _ = (app, label, id, allow);
        Err("id: this system's webview asks on its own".into())
    }
}
