//! Kolokol's Tauri shell. Everything that decides anything (validation,
//! routing, links, settings) lives in Tauri-free modules; this file wires them
//! to windows, the tray and the plugin.

pub mod api;
pub mod cli;
pub mod html;
pub mod links;
pub mod router;
pub mod settings;

mod commands;
mod plugin;
mod tray;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use tauri::ipc::CapabilityBuilder;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

pub const WORKSPACE: &str = "workspace";

pub struct AppState {
    pub settings: settings::SettingsStore,
    pub router: router::Router,
    pub data_dir: PathBuf,
    started: Instant,
    page_loaded: AtomicBool,
    remote_grants: AtomicUsize,
}

pub fn run() {
    let started = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KOLOKOL_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) if a.help => {
            print!("{}", cli::USAGE);
            return;
        }
        Ok(a) => a,
        Err(e) => {
            eprintln!("kolokol: {e}\n\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };
    let data_dir = data_dir(&args);
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        eprintln!("kolokol: cannot create the data directory {}: {e}", data_dir.display());
        std::process::exit(1);
    }
    let data_dir = data_dir.canonicalize().unwrap_or(data_dir);
    tracing::info!(data_dir = %data_dir.display(), "starting");

    let settings = settings::SettingsStore::load(&data_dir);
    let minimized = args.minimized || settings.get().start_minimized;
    let state = AppState {
        settings,
        router: router::Router::default(),
        data_dir: data_dir.clone(),
        started,
        page_loaded: AtomicBool::new(false),
        remote_grants: AtomicUsize::new(0),
    };
    let open = args.open;

    let result = tauri::Builder::default()
        // One instance per data directory: the D-Bus name (Linux) carries a
        // hash of the directory; a second launch hands its arguments over.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(format!("ru.kolokol.app.d{:016x}", fnv1a(data_dir.to_string_lossy().as_bytes())))
                .callback(|app, argv, _cwd| second_instance(app, argv))
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        .plugin(plugin::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![commands::get_settings, commands::set_settings])
        .setup(move |app| {
            let handle = app.handle();
            tray::create(handle)?;
            let state = handle.state::<AppState>();
            tracing::info!(tray_ready_ms = state.started.elapsed().as_millis() as u64, "tray ready");
            let url = match &open {
                Some(u) => {
                    allow_remote(handle, u)?;
                    WebviewUrl::External(u.clone())
                }
                None => WebviewUrl::App("index.html".into()),
            };
            WebviewWindowBuilder::new(handle, WORKSPACE, url)
                .title("Kolokol")
                .inner_size(1100.0, 760.0)
                .visible(!minimized)
                .build()?;
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                let state = webview.state::<AppState>();
                if !state.page_loaded.swap(true, Ordering::SeqCst) {
                    let ms = state.started.elapsed().as_millis() as u64;
                    tracing::info!(page_loaded_ms = ms, url = %payload.url(), "workspace page loaded");
                }
            }
        })
        .on_window_event(|window, event| {
            // Closing the workspace hides it: the app lives on in the tray until Quit.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == WORKSPACE {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("kolokol: {e}");
        std::process::exit(1);
    }
}

fn data_dir(args: &cli::Args) -> PathBuf {
    if let Some(d) = &args.data_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("KOLOKOL_DATA_DIR").filter(|d| !d.is_empty()) {
        return d.into();
    }
    // The folder Tauri's own app_data_dir() names, known before Tauri starts
    // because the single-instance lock depends on it.
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ru.kolokol.app")
}

/// Stable across builds (unlike `DefaultHasher`), so two builds of Kolokol
/// agree on which instance owns a data directory.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub(crate) fn show_workspace<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(WORKSPACE) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// A page the user opened may call the notifications commands, nothing else.
fn allow_remote<R: Runtime>(app: &AppHandle<R>, url: &Url) -> tauri::Result<()> {
    let n = app.state::<AppState>().remote_grants.fetch_add(1, Ordering::SeqCst);
    let pattern = format!("{}/*", url.origin().ascii_serialization());
    tracing::info!(%pattern, "granting the notifications API to an opened origin");
    app.add_capability(
        CapabilityBuilder::new(format!("opened-origin-{n}"))
            .remote(pattern)
            .window(WORKSPACE)
            .permission("notifications:default"),
    )
}

fn second_instance<R: Runtime>(app: &AppHandle<R>, argv: Vec<String>) {
    tracing::info!(?argv, "second launch: focusing this instance");
    match cli::parse(argv.into_iter().skip(1)) {
        Ok(args) => {
            if let Some(url) = args.open {
                if let Err(e) = allow_remote(app, &url) {
                    tracing::warn!("cannot open {url}: {e}");
                } else if let Some(w) = app.get_webview_window(WORKSPACE) {
                    let _ = w.navigate(url);
                }
            }
            if !args.minimized {
                show_workspace(app);
            }
        }
        Err(e) => {
            tracing::warn!("second launch with bad arguments: {e}");
            show_workspace(app);
        }
    }
}
