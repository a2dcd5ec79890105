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

/// One of Kolokol's own windows (history, workbench): no GPU compositing.
pub fn own_window(w: &WebviewWindow) {
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
