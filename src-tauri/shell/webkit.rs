//! WebKitGTK tuned for what Kolokol shows (Linux; elsewhere nothing changes).
//! Kept only what the memory benchmark (tests/bench_memory.rs) showed to help
//! without breaking anything:
//!
//! - the history and workbench windows (lists and forms of Kolokol's own)
//!   are drawn without GPU compositing: their web process then never loads
//!   the GL driver (under Xvfb, Mesa's llvmpipe with libLLVM), about 80 MiB
//!   less RSS while one is open here.
//!
//! Measured and dropped: the same for the workspace's start page (about 75 MiB
//! less, but its popups' animations, drawn by the CPU, fell seconds behind on a
//! busy machine: tests/e2e.rs's seed test timed out under load); the
//! "document viewer" cache model, WebGL and the page cache off, `malloc_trim`
//! after a window closes (no difference beyond the noise).

use tauri::WebviewWindow;

/// Every window Kolokol makes: gives back what its WebKit view holds when it
/// closes.
///
/// With Tauri 2.12 / wry 0.57 on WebKitGTK a closed window's `WebKitWebView`
/// is never finalised: one reference taken while it is built is never given
/// back (traced with gdb on `g_object_ref`/`unref`; not found in Kolokol's
/// code). Each history window then kept about 185 KB in the app's process,
/// linear over 200 opens (`cargo bench --bench memory -- cycles`), most of it
/// its init scripts (heaptrack with `Malloc=1`, which routes WebKit's own
/// allocator through malloc). Removing the scripts from the view's content
/// manager when the widget is destroyed gives those back; the page is gone by
/// then, so nothing runs them again.
pub fn release_on_destroy(w: &WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        let result = w.with_webview(|pw| {
            use webkit2gtk::glib::{self, ObjectExt};
            use webkit2gtk::{UserContentManagerExt, WebViewExt};
            let view = pw.inner();
            let Some(manager) = view.user_content_manager() else { return };
            // A weak reference: the closure lives on the view, the manager belongs to it.
            let manager = manager.downgrade();
            view.connect_local("destroy", false, move |_| {
                if let Some(m) = manager.upgrade() {
                    m.remove_all_scripts();
                    m.remove_all_style_sheets();
                }
                None::<glib::Value>
            });
        });
        if let Err(e) = result {
            tracing::warn!(label = w.label(), "cannot arrange the window's release: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = w;
}

/// One of Kolokol's own windows (history, workbench): no GPU compositing.
pub fn own_window(w: &WebviewWindow) {
    release_on_destroy(w);
    #[cfg(target_os = "linux")]
    {
        let result = w.with_webview(|pw| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(s) = WebViewExt::settings(&pw.inner()) {
                s.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = result {
            tracing::warn!(label = w.label(), "cannot set the window's compositing: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = w;
}
