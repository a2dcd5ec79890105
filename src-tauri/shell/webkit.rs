//! WebKitGTK tuned for what Kolokol shows (Linux; elsewhere nothing changes).
//! Kept only what the memory benchmark (tests/bench_memory.rs) showed to help
//! without breaking anything:
//!
//! - the history and workbench windows (lists and forms of Kolokol's own)
//!   are drawn without GPU compositing: their web process then never loads
//!   the GL driver (under Xvfb, Mesa's llvmpipe with libLLVM), about 80 MiB
//!   less RSS while one is open here;
//! - without a GPU render node, pages painted by the CPU instead of software
//!   GL (`choose_painting`): no long frames in a burst of popups, and the
//!   workspace 25 MiB smaller here.
//!
//! Measured and dropped: the same for the workspace (about 50 MiB less where
//! there is no GPU, re-measured 2026-12-01 with CPU painting), because without
//! compositing a WebDriver screenshot stalls the page, idle machine or not:
//! tests/e2e.rs's seed test then never sees its button's popup; the
//! "document viewer" cache model, WebGL and the page cache off, `malloc_trim`
//! after a window closes, memory-pressure settings for the network process
//! (a 16 MB limit left it at 20 MiB PSS, 11 MiB private), no accessibility
//! bridge, Skia painting without worker threads (no difference beyond the
//! noise). Not an option: `WEBKIT_DISABLE_DMABUF_RENDERER`. Since WebKitGTK
//! 2.44 it leaves WebKit no buffer transport at all (WebKit/WebKit#20869
//! removed the X11 renderer it fell back to), so compositing goes off and it
//! is the dropped path above.

use tauri::WebviewWindow;

/// WebKit's painting where there is no GPU, before any web process starts.
///
/// WebKitGTK paints page tiles with Skia on the GPU by default. Without a
/// GPU render node (a VM, a remote desktop session, Xvfb) Mesa emulates that
/// GPU on the CPU (llvmpipe), which costs more than Skia painting with the
/// CPU directly: the first popups of a burst took 55-110 ms frames here; with
/// `WEBKIT_SKIA_ENABLE_CPU_RENDERING` none went over 33 ms (`cargo bench
/// --bench center -- burst`). Compositing stays on GL either way. A machine
/// with a GPU keeps WebKit's default; a value the user set is left alone.
pub fn choose_painting() {
    #[cfg(target_os = "linux")]
    {
        const VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
        if std::env::var_os(VAR).is_some() {
            return;
        }
        let forced_software = std::env::var("LIBGL_ALWAYS_SOFTWARE").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        if cpu_painting(forced_software, gpu_render_node()) {
            tracing::info!("no GPU render node: web pages are painted by the CPU (Skia), not by software GL");
            // Called first thing in `run`, before any other thread exists.
            std::env::set_var(VAR, "1");
        }
    }
}

/// Whether pages should be painted by the CPU rather than by a (software) GPU.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn cpu_painting(forced_software_gl: bool, render_node: bool) -> bool {
    forced_software_gl || !render_node
}

/// A DRM render node this user may open (/dev/dri/renderD*): Mesa then has
/// a GPU driver rather than llvmpipe. Checked with access(2), not opened: an
/// open could wake a laptop's sleeping second GPU.
#[cfg(target_os = "linux")]
fn gpu_render_node() -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(dir) = std::fs::read_dir("/dev/dri") else { return false };
    dir.flatten().filter(|e| e.file_name().as_bytes().starts_with(b"renderD")).any(|e| {
        let Ok(path) = std::ffi::CString::new(e.path().as_os_str().as_bytes()) else { return false };
        // SAFETY: a NUL-terminated path that outlives the call.
        unsafe { libc::access(path.as_ptr(), libc::R_OK | libc::W_OK) == 0 }
    })
}

/// Every window Kolokol makes: lets WebKit free its view when it closes.
///
/// wry 0.57 connects its IPC handler to the view's user content manager with
/// a closure that holds the view, and the view holds the manager: a closed
/// window's `WebKitWebView` was never finalised. Each history window left
/// about 185 KB in the app's process, linear over 200 opens (`cargo bench
/// --bench memory -- cycles`; found with heaptrack under `Malloc=1`, which
/// sends WebKit's allocator through malloc, and a gdb trace of
/// `g_object_ref`/`unref` on the views). Disconnecting that handler when the
/// view is destroyed breaks the cycle; the page answers no IPC by then. The
/// scripts are removed too, in case another holder appears.
pub fn release_on_destroy(w: &WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        let label = w.label().to_owned();
        let result = w.with_webview(move |pw| {
            use webkit2gtk::glib::{self, gobject_ffi, translate::IntoGlib, ObjectExt, ObjectType};
            use webkit2gtk::{UserContentManagerExt, WebViewExt};
            let view = pw.inner();
            let Some(manager) = view.user_content_manager() else { return };
            // SAFETY: a live manager and a signal of its type; this finds the
            // handler wry connected while building the view (0 if none).
            let handler = unsafe {
                let signal = gobject_ffi::g_signal_lookup(c"script-message-received".as_ptr(), manager.type_().into_glib());
                let (closure, func, data) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
                gobject_ffi::g_signal_handler_find(manager.as_ptr().cast(), gobject_ffi::G_SIGNAL_MATCH_ID, signal, 0, closure, func, data)
            };
            // Logged when the view is finalised: the lifecycle test checks it.
            struct Released(String);
            impl Drop for Released {
                fn drop(&mut self) {
                    tracing::info!(label = %self.0, "a closed window's view was released");
                }
            }
            // SAFETY: a key of Kolokol's own, set once per view and never read back.
            unsafe { view.set_data("kolokol-released", Released(label)) };
            // A weak reference: this closure lives on the view, which owns the manager.
            let manager = manager.downgrade();
            view.connect_local("destroy", false, move |_| {
                if let Some(m) = manager.upgrade() {
                    // SAFETY: the id is checked on this very instance first.
                    unsafe {
                        if handler != 0 && gobject_ffi::g_signal_handler_is_connected(m.as_ptr().cast(), handler) != 0 {
                            gobject_ffi::g_signal_handler_disconnect(m.as_ptr().cast(), handler);
                        }
                    }
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

#[cfg(test)]
mod tests {
    use super::cpu_painting;

    #[test]
    fn the_cpu_paints_only_without_a_usable_gpu() {
        assert!(cpu_painting(false, false), "no render node: llvmpipe would emulate the GPU");
        assert!(cpu_painting(true, true), "LIBGL_ALWAYS_SOFTWARE forces llvmpipe even with a GPU");
        assert!(!cpu_painting(false, true), "a GPU keeps WebKit's default");
    }
}
