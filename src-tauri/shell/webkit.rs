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
//!   workspace 25 MiB smaller here;
//! - web processes release their caches every 10 s once past 60 MB
//!   (`release_caches_in_web_processes`): a page raising popups all day no
//!   longer grows with them.
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

/// Footprint of a web process above which WebKit releases its caches.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const RELEASE_CACHES_ABOVE_MB: f64 = 60.0;
/// How often a web process compares its footprint with that (WebKit: 30 s).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const RELEASE_EVERY_S: f64 = 10.0;

/// Web processes release their caches every 10 s once past 60 MB.
///
/// A WebKit web process keeps caches of what it laid out and drew (fonts'
/// data and glyph widths, selector queries, line layouts, parsed style
/// sheets, dead cached resources) until it is under memory pressure, and by
/// default that starts at a third of min(RAM, 3 GB), 1 GB here: a page
/// raising popups all day kept growing, about 4 MiB a minute at 33 calls a
/// second (`cargo bench --bench memory -- growth`). Past WebKit's
/// "conservative" threshold every poll releases those caches, which is cheap;
/// the "strict" level (garbage collection, JIT code, decoded images),
/// which would cost a large page like amoCRM a pause each time, stays at
/// WebKit's default.
///
/// The settings are a construct-only property of the web context, and wry
/// builds the context without them: the context class's property setter
/// is wrapped to hand WebKit these settings whenever a context is built
/// with none. Call before any web context exists, on the main thread.
pub fn release_caches_in_web_processes() {
    #[cfg(target_os = "linux")]
    // SAFETY: see `pressure::install`.
    unsafe {
        pressure::install()
    };
}

#[cfg(target_os = "linux")]
mod pressure {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    use webkit2gtk::ffi as wk;
    use webkit2gtk::glib::gobject_ffi as go;

    type SetProperty = unsafe extern "C" fn(*mut go::GObject, u32, *mut go::GValue, *mut go::GParamSpec);
    static ORIGINAL: OnceLock<SetProperty> = OnceLock::new();
    /// Kolokol's settings, built once and never freed (WebKit copies them).
    static SETTINGS: OnceLock<usize> = OnceLock::new();
    /// How many contexts got them: for the test.
    pub(super) static GIVEN: AtomicUsize = AtomicUsize::new(0);

    /// SAFETY: once, before another thread touches GObject classes (the
    /// class struct is patched in place); later calls do nothing.
    pub(super) unsafe fn install() {
        if SETTINGS.get().is_some() {
            return;
        }
        let s = wk::webkit_memory_pressure_settings_new();
        let limit = wk::webkit_memory_pressure_settings_get_memory_limit(s) as f64;
        let strict = wk::webkit_memory_pressure_settings_get_strict_threshold(s);
        wk::webkit_memory_pressure_settings_set_conservative_threshold(s, super::conservative_threshold(limit, strict));
        wk::webkit_memory_pressure_settings_set_poll_interval(s, super::RELEASE_EVERY_S);
        let _ = SETTINGS.set(s as usize);
        tracing::info!(limit_mb = limit, poll_s = super::RELEASE_EVERY_S, "web processes release their caches past {} MB", super::RELEASE_CACHES_ABOVE_MB);
        // Held for the life of the process, so the patched class stays.
        let class = go::g_type_class_ref(wk::webkit_web_context_get_type()) as *mut go::GObjectClass;
        match (*class).set_property {
            Some(f) if ORIGINAL.set(f).is_ok() => (*class).set_property = Some(set_property),
            _ => tracing::warn!("web processes keep WebKit's memory-pressure settings: the context class has no setter"),
        }
    }

    unsafe extern "C" fn set_property(obj: *mut go::GObject, id: u32, value: *mut go::GValue, pspec: *mut go::GParamSpec) {
        let original = ORIGINAL.get().expect("installed before the class was patched");
        let name = std::ffi::CStr::from_ptr(go::g_param_spec_get_name(pspec));
        // GObject sets every construct-only property, given or not: a null
        // one is WebKit's default; settings someone passed are left alone.
        let (true, Some(&ours)) = (name.to_bytes() == b"memory-pressure-settings" && go::g_value_get_boxed(value).is_null(), SETTINGS.get()) else {
            return original(obj, id, value, pspec);
        };
        let mut v: go::GValue = std::mem::zeroed();
        go::g_value_init(&mut v, wk::webkit_memory_pressure_settings_get_type());
        go::g_value_set_boxed(&mut v, ours as *const std::ffi::c_void);
        original(obj, id, &mut v, pspec);
        go::g_value_unset(&mut v);
        GIVEN.fetch_add(1, Ordering::Relaxed);
    }
}

/// The conservative threshold, a fraction of the memory limit (MB), that
/// puts it at `RELEASE_CACHES_ABOVE_MB`, kept below the strict one.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn conservative_threshold(limit_mb: f64, strict: f64) -> f64 {
    let wanted = if limit_mb > 0.0 { RELEASE_CACHES_ABOVE_MB / limit_mb } else { strict / 2.0 };
    wanted.clamp(0.01, strict * 0.9)
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
    fn caches_are_released_above_60_mb_below_the_strict_level() {
        assert!((super::conservative_threshold(3072.0, 0.5) * 3072.0 - 60.0).abs() < 0.5, "60 MB of WebKit's usual 3 GB limit");
        assert!((super::conservative_threshold(1000.0, 0.5) - 0.06).abs() < 1e-9);
        assert_eq!(super::conservative_threshold(64.0, 0.5), 0.45, "never at or above the strict threshold");
        assert_eq!(super::conservative_threshold(0.0, 0.5), 0.25, "no limit known: half the strict threshold");
        assert_eq!(super::conservative_threshold(1e9, 0.5), 0.01, "WebKit wants more than 0");
    }

    /// The real WebKit class: a context built as wry builds it gets the
    /// settings, one built with settings of its own keeps them (WebKit
    /// cannot be asked back: the property is write-only).
    #[cfg(target_os = "linux")]
    #[test]
    fn web_contexts_get_the_memory_pressure_settings() {
        use std::sync::atomic::Ordering::Relaxed;
        extern "C" {
            // GTK is linked through WebKit; a web context needs it initialised.
            fn gtk_init_check(argc: *mut std::ffi::c_int, argv: *mut *mut *mut std::ffi::c_char) -> std::ffi::c_int;
        }
        // SAFETY: no arguments; the only GTK user in this test binary.
        let display = unsafe { gtk_init_check(std::ptr::null_mut(), std::ptr::null_mut()) } != 0;
        assert!(display, "no display: run the tests in ./dev.sh test's session (Xvfb)");
        super::release_caches_in_web_processes();
        super::release_caches_in_web_processes(); // a second call changes nothing
        let given = &super::pressure::GIVEN;
        let before = given.load(Relaxed);
        let _wry_like = webkit2gtk::WebContext::builder().build();
        assert_eq!(given.load(Relaxed), before + 1, "a context was built without Kolokol's settings");
        // SAFETY: a new boxed value, owned by `theirs` (the binding's `new`
        // asks for gtk-rs's own initialisation, which this test skips).
        let theirs: webkit2gtk::MemoryPressureSettings = unsafe { webkit2gtk::glib::translate::from_glib_full(webkit2gtk::ffi::webkit_memory_pressure_settings_new()) };
        let _own: webkit2gtk::WebContext = webkit2gtk::glib::Object::builder().property("memory-pressure-settings", &theirs).build();
        assert_eq!(given.load(Relaxed), before + 1, "settings a caller passed were replaced");
    }

    #[test]
    fn the_cpu_paints_only_without_a_usable_gpu() {
        assert!(cpu_painting(false, false), "no render node: llvmpipe would emulate the GPU");
        assert!(cpu_painting(true, true), "LIBGL_ALWAYS_SOFTWARE forces llvmpipe even with a GPU");
        assert!(!cpu_painting(false, true), "a GPU keeps WebKit's default");
    }
}
