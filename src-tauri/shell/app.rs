//! Kolokol's Tauri shell. Everything that decides anything (validation,
//! routing, links, settings) lives in Tauri-free modules; this file wires them
//! to windows, the tray and the plugin.

pub mod api;
pub mod badge;
pub mod calllog;
pub mod cli;
pub mod control;
pub mod history;
pub mod html;
pub mod i18n;
pub mod links;
pub mod manifest;
pub mod profile;
pub mod ratelimit;
pub mod router;
pub mod settings;
pub mod target;
pub mod toast;

mod commands;
mod plugin;
pub(crate) mod tray;
pub(crate) mod workbench;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tauri::ipc::CapabilityBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

pub const WORKSPACE: &str = "workspace";
pub const HISTORY: &str = "history";

pub struct AppState {
    pub settings: settings::SettingsStore,
    pub router: router::Router,
    pub data_dir: PathBuf,
    /// `Err` says why the history could not be opened; center calls are then refused.
    pub history: Result<history::History, String>,
    pub toasts: toast::Toasts,
    pub workbench: workbench::Workbench,
    /// A tray/window refresh is scheduled; holds the one changed row, if only one.
    changed: std::sync::Mutex<Option<Option<i64>>>,
    started: Instant,
    page_loaded: AtomicBool,
    /// Origins granted the notifications API (each once).
    remote_grants: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl AppState {
    /// One call, from a page or from `kolokol send`, with the settings as they are now.
    pub fn accept(&self, method: &str, payload: &str) -> Result<router::Accepted, api::Refusal> {
        self.accept_batch(&[(method, payload)]).pop().expect("one result per call")
    }

    /// Calls that arrived together (a page's burst): stored in one commit.
    pub fn accept_batch(&self, calls: &[(&str, &str)]) -> Vec<Result<router::Accepted, api::Refusal>> {
        let s = self.settings.get();
        let account = self.settings.account();
        let policy = router::Policy { do_not_disturb: s.do_not_disturb, calls_break_through: s.calls_break_through };
        let results = self.router.accept_batch(calls, account.as_ref(), policy);
        // A burst is one line at info level (its calls at debug): logging
        // must not cost more than the calls.
        let single = calls.len() == 1;
        for ((method, _), result) in calls.iter().zip(&results) {
            match result {
                Ok(a) if single => tracing::info!(method, id = %a.id, channels = ?a.channels, warnings = a.notification.warnings.len(), "accepted"),
                Ok(a) => tracing::debug!(method, id = %a.id, channels = ?a.channels, warnings = a.notification.warnings.len(), "accepted"),
                Err(r) if single => tracing::warn!(method, code = r.code, field = %r.field, "refused: {}", r.message),
                Err(r) => tracing::debug!(method, code = r.code, field = %r.field, "refused: {}", r.message),
            }
        }
        if !single {
            let accepted = results.iter().filter(|r| r.is_ok()).count();
            tracing::info!(calls = calls.len(), accepted, refused = calls.len() - accepted, "batch");
        }
        results
    }

    pub fn unread(&self) -> u64 {
        self.history.as_ref().ok().and_then(|h| h.unread_count().ok()).unwrap_or(0)
    }

    fn status(&self, app: &AppHandle) -> serde_json::Value {
        let s = self.settings.get();
        let tray = app.try_state::<tray::Tray>().map(|t| t.shown.lock().unwrap_or_else(|e| e.into_inner()).clone());
        json!({
            "running": true,
            "pid": std::process::id(),
            "data_dir": self.data_dir,
            "unread": self.unread(),
            "do_not_disturb": s.do_not_disturb,
            "calls_break_through": s.calls_break_through,
            "channels": {
                "history": match &self.history {
                    Ok(_) => json!({ "available": true }),
                    Err(e) => json!({ "available": false, "reason": e }),
                },
                "toast": self.toasts.health(),
                "tray": tray,
            },
        })
    }
}

impl router::Store for history::History {
    fn store_batch(&self, ns: &[api::Notification]) -> Result<Vec<i64>, String> {
        self.insert_batch(ns).map(|s| s.into_iter().map(|s| s.seq).collect())
    }
}

/// The history as the router's store, or why it could not be opened.
struct StoreAdapter(Result<history::History, String>);

impl router::Store for StoreAdapter {
    fn store_batch(&self, ns: &[api::Notification]) -> Result<Vec<i64>, String> {
        match &self.0 {
            Ok(h) => router::Store::store_batch(h, ns),
            Err(e) => Err(format!("history unavailable: {e}")),
        }
    }
}

impl router::Channel for toast::Toasts {
    fn name(&self) -> &'static str {
        "toast"
    }
    fn deliver(&self, n: &api::Notification) {
        self.show(n);
    }
}

pub fn run() {
    let started = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KOLOKOL_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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

    if let Some(command) = args.command {
        std::process::exit(run_command(command, &data_dir));
    }
    tracing::info!(data_dir = %data_dir.display(), "starting");

    let settings = settings::SettingsStore::load(&data_dir);
    let minimized = args.minimized || settings.get().start_minimized;
    let lang = i18n::Lang::from_setting(&settings.get().language);
    #[cfg(windows)]
    if let Err(e) = toast::register_app_id("Kolokol") {
        tracing::warn!("cannot register the AppUserModelID; Windows may hide toasts: {e}");
    }
    let history = history::History::open(&history_path(&data_dir));
    if let Err(e) = &history {
        tracing::error!("history unavailable, center notifications will be refused: {e}");
    }
    let toasts = toast::Toasts::start(toast_labels(lang), |action| {
        // Opened through the app handle once it exists (see setup).
        if let Some(app) = APP.get() {
            open_external(app, &action.href);
        }
    });
    // When each Notify call returned, as wall-clock time, for the benchmark
    // "JS call → D-Bus Notify sent" (pages measure with Date/performance).
    // Each toast's outcome goes to the workbench's call log.
    toasts.set_delivery_hook(|id, d| {
        let result = match d {
            toast::Delivery::Sent(at) => {
                let wall = std::time::SystemTime::now() - at.elapsed();
                let ms = wall.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0);
                tracing::info!(id, epoch_ms = format!("{ms:.3}"), "toast sent");
                calllog::Toast::Sent
            }
            toast::Delivery::Coalesced => calllog::Toast::Coalesced,
            toast::Delivery::QueueFull => calllog::Toast::QueueFull,
            toast::Delivery::Failed(reason) => calllog::Toast::Failed(reason),
        };
        if let Some(app) = APP.get() {
            if app.state::<AppState>().workbench.calls.set_toast(id, result) {
                workbench::log_changed(app);
            }
        }
    });
    let state = AppState {
        settings,
        router: router::Router::new(
            Some(Arc::new(StoreAdapter(history.clone()))),
            vec![Arc::new(toasts.clone()) as Arc<dyn router::Channel>],
        ),
        data_dir: data_dir.clone(),
        history,
        toasts,
        workbench: workbench::Workbench::new(&data_dir),
        changed: std::sync::Mutex::new(None),
        started,
        page_loaded: AtomicBool::new(false),
        remote_grants: std::sync::Mutex::default(),
    };
    // What to open: resolved against this folder now; a bad one is refused before anything starts.
    let open = match &args.open {
        Some(input) => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            match target::parse(input, &cwd) {
                Ok(spec) => Some(spec),
                Err(e) => {
                    eprintln!("kolokol: open: {e}\n\n{}", cli::USAGE);
                    std::process::exit(2);
                }
            }
        }
        None => None,
    };

    let result = tauri::Builder::default()
        // One instance per data directory: the D-Bus name (Linux) carries a
        // hash of the directory; a second launch hands its arguments over.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(format!("ru.kolokol.app.d{:016x}", fnv1a(data_dir.to_string_lossy().as_bytes())))
                .callback(second_instance)
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        // File pickers of the workbench, called from Rust only (no page is granted the dialog commands).
        .plugin(tauri_plugin_dialog::init())
        // Local targets (HTML files, widget folders) get an origin of their own.
        .register_asynchronous_uri_scheme_protocol(workbench::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            tauri::async_runtime::spawn_blocking(move || responder.respond(workbench::serve(&app, &request)));
        })
        // Start at login (off until the user ticks it in the tray): into the
        // tray, with this data directory; one entry per data directory.
        .plugin({
            let mut args = vec!["--minimized".to_string()];
            let mut name = "Kolokol".to_string();
            if data_dir != default_data_dir() {
                args.extend(["--data-dir".to_string(), data_dir.display().to_string()]);
                name = format!("Kolokol-{:08x}", fnv1a(data_dir.to_string_lossy().as_bytes()) as u32);
            }
            tauri_plugin_autostart::Builder::new().args(args).app_name(name).build()
        })
        .plugin(plugin::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::get_settings,
            commands::set_settings,
            commands::history_list,
            commands::history_mark_read,
            commands::history_mark_all_read,
            commands::history_open_link,
            workbench::workbench_state,
            workbench::workbench_open,
            workbench::workbench_pick,
            workbench::workbench_reload,
            workbench::workbench_playground,
            workbench::workbench_start_page,
            workbench::workbench_show_page,
            workbench::calllog_page,
            workbench::calllog_get,
            workbench::calllog_clear,
            workbench::calllog_export,
            workbench::calllog_resend,
            workbench::profile_set,
        ])
        .setup(move |app| {
            // macOS: a menu-bar app, no Dock icon (what LSUIElement does).
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let handle = app.handle();
            let _ = APP.set(handle.clone());
            let state = handle.state::<AppState>();
            let s = state.settings.get();
            handle.manage(tray::create(handle, i18n::Lang::from_setting(&s.language), s.do_not_disturb)?);
            tray::refresh(handle);
            tray::refresh_recent(handle);
            tracing::info!(tray_ready_ms = state.started.elapsed().as_millis() as u64, "tray ready");
            let control_app = handle.clone();
            if let Err(e) = control::serve(&state.data_dir, move |req| control(&control_app, req)) {
                tracing::warn!("control socket unavailable (kolokol status/send will not reach this instance): {e}");
            }
            // The workspace shows untrusted pages: it may only go to the web, its
            // own pages and local targets (never file:, data:, javascript:).
            WebviewWindowBuilder::new(handle, WORKSPACE, WebviewUrl::App("index.html".into()))
                .title("Kolokol")
                .inner_size(1100.0, 760.0)
                .visible(!minimized && open.is_none())
                .on_navigation(|url| {
                    let ok = workbench::may_navigate(url);
                    if !ok {
                        tracing::warn!(%url, "workspace navigation refused");
                    }
                    ok
                })
                .build()?;
            if let Some(spec) = open {
                open_target(handle, spec, minimized).map_err(|e| -> Box<dyn std::error::Error> { e.into() })?;
            }
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Started {
                webview.state::<AppState>().workbench.page_started(webview.label(), payload.url());
            }
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

static APP: std::sync::OnceLock<AppHandle> = std::sync::OnceLock::new();

pub fn history_path(data_dir: &Path) -> PathBuf {
    data_dir.join("history.sqlite3")
}

pub(crate) fn toast_labels(lang: i18n::Lang) -> toast::Labels {
    match lang {
        i18n::Lang::Ru => toast::Labels::russian(),
        i18n::Lang::En => toast::Labels::english(),
    }
}

/// Answers `kolokol status` and `kolokol send`.
fn control(app: &AppHandle, req: control::Request) -> serde_json::Value {
    let state = app.state::<AppState>();
    match req {
        control::Request::Status => state.status(app),
        control::Request::Send { method, payload } => {
            let result = state.accept(&method, &payload);
            let source: Arc<str> = "cli".into();
            workbench::record(app, &[calllog::Call { source: &source, method: &method, payload: &payload, result: &result }]);
            match result {
                Ok(a) => {
                    if a.route == router::Route::Center {
                        center_changed(app, a.seq);
                    }
                    json!({ "accepted": { "id": a.id, "seq": a.seq, "channels": a.channels, "warnings": a.notification.warnings } })
                }
                Err(r) => json!({ "refused": r }),
            }
        }
    }
}

/// After the history changed: the tray count and the history window follow,
/// at most every 50 ms and never on the caller's path, so a burst redraws the
/// tray a few times, not once per row. The event names the row when only one
/// changed in that time.
pub(crate) fn center_changed(app: &AppHandle, seq: Option<i64>) {
    let state = app.state::<AppState>();
    {
        let mut pending = state.changed.lock().unwrap_or_else(|e| e.into_inner());
        let first = pending.is_none();
        *pending = Some(match *pending {
            None => seq,
            Some(prev) if prev == seq => seq,
            Some(_) => None,
        });
        if !first {
            return;
        }
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let state = app.state::<AppState>();
        let seq = state.changed.lock().unwrap_or_else(|e| e.into_inner()).take().flatten();
        tray::refresh(&app);
        let _ = app.emit("history-changed", json!({ "unread": state.unread(), "total": null, "seq": seq }));
    });
}

pub(crate) fn open_history(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(HISTORY) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let title = i18n::strings(i18n::Lang::from_setting(&app.state::<AppState>().settings.get().language)).history;
    if let Err(e) = WebviewWindowBuilder::new(app, HISTORY, WebviewUrl::App("history.html".into()))
        .title(format!("Kolokol — {title}"))
        .inner_size(900.0, 720.0)
        .build()
    {
        tracing::warn!("cannot open the history window: {e}");
    }
}

pub(crate) fn autostart_enabled(app: &AppHandle) -> bool {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().unwrap_or(false)
}

pub(crate) fn toggle_autostart(app: &AppHandle) {
    use tauri_plugin_autostart::ManagerExt;
    let al = app.autolaunch();
    let result = if al.is_enabled().unwrap_or(false) { al.disable() } else { al.enable() };
    if let Err(e) = result {
        tracing::warn!("cannot change start at login: {e}");
    }
    tray::refresh(app);
}

pub(crate) fn toggle_dnd(app: &AppHandle) {
    let state = app.state::<AppState>();
    let mut s = state.settings.get();
    s.do_not_disturb = !s.do_not_disturb;
    if let Err(e) = state.settings.set(s) {
        tracing::warn!("cannot save do-not-disturb: {e}");
    }
    tray::refresh(app);
}

/// Opens an http(s) address in the user's browser; anything else is dropped.
pub(crate) fn open_external(app: &AppHandle, href: &str) {
    use tauri_plugin_opener::OpenerExt;
    match links::openable(href) {
        Ok(url) => {
            if let Err(e) = app.opener().open_url(url.as_str(), None::<&str>) {
                tracing::warn!("cannot open {url}: {e}");
            }
        }
        Err(e) => tracing::warn!("not opened: {e}"),
    }
}

/// `kolokol history|status|send`: no window, exit code returned.
fn run_command(command: cli::Command, data_dir: &Path) -> i32 {
    match command {
        cli::Command::History { json, search, unread, limit } => {
            let reader = match history::History::open_readonly(&history_path(data_dir)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("kolokol: {e}");
                    return 1;
                }
            };
            // Pages of at most what the store serves at once, up to `limit` rows.
            let filter = if unread { history::Filter::Unread } else { history::Filter::All };
            let mut query = history::Query { search, filter, before_seq: None, limit };
            let mut rows = Vec::new();
            let first = loop {
                match reader.list(&query) {
                    Ok(page) => {
                        let done = page.next_before_seq.is_none() || rows.len() + page.rows.len() >= limit as usize;
                        query.before_seq = page.next_before_seq;
                        query.limit = limit - (rows.len() + page.rows.len()).min(limit as usize) as u32;
                        rows.extend(page.rows);
                        if done || query.limit == 0 {
                            break (page.total, page.unread);
                        }
                    }
                    Err(e) => {
                        eprintln!("kolokol: {e}");
                        return 1;
                    }
                }
            };
            rows.truncate(limit as usize);
            if json {
                println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
            } else {
                for r in &rows {
                    println!("{}", cli::history_line(r));
                }
                println!("({} shown of {}, {} unread)", rows.len(), first.0, first.1);
            }
            0
        }
        cli::Command::Status { json } => match control::request(data_dir, &control::Request::Status) {
            Ok(v) if json => {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                0
            }
            Ok(v) => {
                println!(
                    "running (pid {}), {} unread, do not disturb: {}, toasts: {}",
                    v["pid"], v["unread"], v["do_not_disturb"], v["channels"]["toast"]
                );
                0
            }
            Err(e) => {
                if json {
                    println!("{}", json!({ "running": false, "reason": e }));
                } else {
                    eprintln!("kolokol: {e}");
                }
                3
            }
        },
        cli::Command::Send { method, payload } => {
            match control::request(data_dir, &control::Request::Send { method: method.clone(), payload }) {
                Ok(v) if v.get("accepted").is_some() => {
                    for w in v["accepted"]["warnings"].as_array().into_iter().flatten() {
                        eprintln!("warning: {}: {}", w["field"].as_str().unwrap_or(""), w["message"].as_str().unwrap_or(""));
                    }
                    println!("{}", v["accepted"]);
                    0
                }
                Ok(v) if v.get("refused").is_some() => {
                    let r = &v["refused"];
                    eprintln!(
                        "kolokol: {method}() refused ({}): {}: {}",
                        r["code"].as_str().unwrap_or(""),
                        r["field"].as_str().unwrap_or(""),
                        r["message"].as_str().unwrap_or("")
                    );
                    1
                }
                Ok(v) => {
                    eprintln!("kolokol: {}", v["error"]);
                    1
                }
                Err(e) => {
                    eprintln!("kolokol: {e}");
                    3
                }
            }
        }
    }
}

fn data_dir(args: &cli::Args) -> PathBuf {
    if let Some(d) = &args.data_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("KOLOKOL_DATA_DIR").filter(|d| !d.is_empty()) {
        return d.into();
    }
    default_data_dir()
}

/// The folder Tauri's own app_data_dir() names, known before Tauri starts
/// because the single-instance lock depends on it.
fn default_data_dir() -> PathBuf {
    let dir = dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ru.kolokol.app");
    dir.canonicalize().unwrap_or(dir)
}

/// Stable across builds (unlike `DefaultHasher`), so two builds of Kolokol
/// agree on which instance owns a data directory.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub(crate) fn show_workspace<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(WORKSPACE) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Opens a target asked for on the command line; local ones (a widget or an
/// HTML file being developed) bring the workbench along.
fn open_target(app: &AppHandle, spec: target::Spec, minimized: bool) -> Result<(), String> {
    let local = !matches!(spec, target::Spec::Url(_));
    workbench::open(app, spec)?;
    if local && !minimized {
        workbench::show_window(app);
    }
    if minimized {
        if let Some(w) = app.get_webview_window(WORKSPACE) {
            let _ = w.hide();
        }
    }
    Ok(())
}

/// A page the user opened may call the notifications commands, nothing else.
pub(crate) fn allow_remote<R: Runtime>(app: &AppHandle<R>, url: &Url) -> tauri::Result<()> {
    let pattern = format!("{}/*", url.origin().ascii_serialization());
    let state = app.state::<AppState>();
    let n = {
        let mut granted = state.remote_grants.lock().unwrap_or_else(|e| e.into_inner());
        if !granted.insert(pattern.clone()) {
            return Ok(());
        }
        granted.len()
    };
    tracing::info!(%pattern, "granting the notifications API to an opened origin");
    app.add_capability(
        CapabilityBuilder::new(format!("opened-origin-{n}"))
            .remote(pattern)
            .window(WORKSPACE)
            .permission("notifications:default"),
    )
}

fn second_instance(app: &AppHandle, argv: Vec<String>, cwd: String) {
    tracing::info!(?argv, "second launch: focusing this instance");
    match cli::parse(argv.into_iter().skip(1)) {
        Ok(args) => {
            if let Some(input) = args.open {
                // Relative paths are the second launch's, not ours.
                if let Err(e) = target::parse(&input, Path::new(&cwd)).and_then(|spec| open_target(app, spec, args.minimized)) {
                    tracing::warn!("cannot open {input}: {e}");
                }
            } else if !args.minimized {
                show_workspace(app);
            }
        }
        Err(e) => {
            tracing::warn!("second launch with bad arguments: {e}");
            show_workspace(app);
        }
    }
}
