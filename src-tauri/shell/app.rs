//! Starting the app (`launch` has read the command line): the Tauri builder with its plugins,
//! the tray and the control socket; the windows' life (made when shown,
//! destroyed when closing them loses nothing, the app alive with none); and
//! the small actions the tray, the commands and the plugin share.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::json;
use tauri::ipc::CapabilityBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

use super::state::AppState;
use super::{commands, plugin, tray, workbench};
use crate::channels::{history, toast};
use crate::core::{datadir, i18n, links, router};
use crate::ingress::{cli, control};
use crate::launch;
use crate::services::Services;
use crate::workbench::{calllog, target};

pub const WORKSPACE: &str = "workspace";
pub const HISTORY: &str = "history";

/// Runs the app for a launch `launch::app_command_line` let through.
pub fn run(start: launch::Start) {
    let launch::Start { args, data_dir, started, show, .. } = start;
    tracing::info!(data_dir = %data_dir.display(), "starting");
    // What to open: resolved against this folder now; a bad one is refused
    // before anything starts or is written (the history, the settings).
    let open = args.open.as_ref().map(|input| {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        target::parse(input, &cwd).unwrap_or_else(|e| {
            eprintln!("kolokol: open: {e}\n\n{}", cli::USAGE);
            std::process::exit(2);
        })
    });
    // First, while this is the only thread: it may set an environment variable.
    super::webkit::choose_painting();
    super::webkit::release_caches_in_web_processes();

    let svc = Services::open(data_dir.clone(), started, |action| {
        // Opened through the app handle once it exists (see setup).
        if let Some(app) = APP.get() {
            match &action.opens {
                toast::Opens::Link(href) => open_external(app, href),
                toast::Opens::History { after_seq } => open_history_after(app, Some(*after_seq)),
                toast::Opens::Page { source } => super::webnotify::clicked(app, source, &action.notification_id),
                toast::Opens::Take { tag } => super::ingress::take(app, tag),
                toast::Opens::File { path } => super::downloads::open(app, path),
            }
        }
    });
    let minimized = args.minimized || svc.settings.get().start_minimized;
    // When each Notify call returned, as wall-clock time, for the benchmark
    // "JS call → D-Bus Notify sent" (pages measure with Date/performance).
    // Each toast's outcome goes to the workbench's call log.
    svc.toasts.set_delivery_hook(|id, d| {
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
        svc: Arc::new(svc),
        workbench: workbench::Workbench::new(&data_dir),
        changed: std::sync::Mutex::new(None),
        page_loaded: AtomicBool::new(false),
        remote_grants: std::sync::Mutex::default(),
        background: std::sync::Mutex::new(None),
        zoom: crate::core::zoom::ZoomStore::load(&data_dir),
        permissions: crate::core::permissions::PermissionStore::load(&data_dir),
        http: std::sync::OnceLock::new(),
        fleet: std::sync::OnceLock::new(),
    };
    // The account is the workspace's home: an agent works in it all day.
    let open = open.or_else(|| state.settings.account().map(target::Spec::Url));

    #[allow(unused_mut)]
    let mut context = tauri::generate_context!();
    // Windows and macOS: the single-instance plugin keys on the identifier, so
    // another data directory runs under an identifier of its own (its webview
    // data follows); on Linux the D-Bus id below carries the directory.
    #[cfg(any(windows, target_os = "macos"))]
    {
        context.config_mut().identifier = datadir::instance_name(&data_dir, data_dir == datadir::default());
    }
    let built = tauri::Builder::default()
        // One instance per data directory: the D-Bus name (Linux) carries a
        // hash of the directory; a second launch hands its arguments over.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(datadir::dbus_id(&data_dir))
                .callback(second_instance)
                .build(),
        )
        // Links are opened by Kolokol's own rules (popup clicks, new windows),
        // not by the opener's injected click handler, which would ask pages for
        // a command none of them is granted, and so drop every _blank link.
        .plugin(tauri_plugin_opener::Builder::new().open_js_links_on_click(false).build())
        // File pickers of the workbench, called from Rust only (no page is granted the dialog commands).
        .plugin(tauri_plugin_dialog::init())
        // Local targets (HTML files, widget folders) get an origin of their own.
        .register_asynchronous_uri_scheme_protocol(workbench::SCHEME, |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            tauri::async_runtime::spawn_blocking(move || responder.respond(workbench::serve(&app, &request)));
        })
        .plugin(plugin::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::get_settings,
            commands::set_settings,
            commands::history_list,
            commands::history_mark_read,
            commands::history_mark_all_read,
            commands::history_stats,
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
            workbench::crm_stubs,
            workbench::crm_stub_set,
            workbench::crm_stub_remove,
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
            // The control channel first, so the tray can say when there is none.
            let control_app = handle.clone();
            // The tray-only app that handed over may hold its pipe a moment longer (Windows).
            #[cfg_attr(not(windows), allow(unused_mut))]
            let mut served = control::serve(&state.data_dir, move |req| control(&control_app, req));
            #[cfg(windows)]
            for _ in 0..20 {
                if served.is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
                let again = handle.clone();
                served = control::serve(&state.data_dir, move |req| control(&again, req));
            }
            let served = served.map(|c| {
                let _ = CONTROL.set(c.clone());
                c.endpoint
            });
            match &served {
                Ok(endpoint) => tracing::info!(%endpoint, "control channel ready"),
                Err(e) => tracing::error!("control channel unavailable, kolokol status/send cannot reach this instance: {e}"),
            }
            let problem = served.as_ref().err().cloned();
            let _ = state.control.set(served);
            super::ingress::start_http(handle);
            super::ingress::start_fleet(handle);
            handle.manage(tray::create(handle, i18n::Lang::from_setting(&s.language), s.do_not_disturb, problem, s.fleet.enabled)?);
            tray::refresh_now(handle);
            tray::refresh_recent(handle);
            state.svc.start_away();
            tracing::info!(tray_ready_ms = state.started.elapsed().as_millis() as u64, "tray ready");
            // No webview before one is needed: started into the tray, nothing
            // but the tray, the toasts and the control channel run (no WebKit
            // process). A target opened minimized (the account, a widget) runs
            // in a hidden workspace, since its page must run to send calls.
            if !minimized || open.is_some() {
                workspace(handle, !minimized && open.is_none())?;
            }
            if let Some(spec) = open {
                open_target(handle, spec, minimized).map_err(|e| -> Box<dyn std::error::Error> { e.into() })?;
            }
            // What was clicked in the tray-only app, which handed over for it.
            match show {
                Some(launch::Show::Workspace) => show_workspace(handle),
                Some(launch::Show::Account) => open_account(handle),
                Some(launch::Show::Workbench) => workbench::show_window(handle),
                Some(launch::Show::History { after_seq }) => open_history_after(handle, after_seq),
                None => {}
            }
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Started {
                webview.state::<AppState>().workbench.page_started(webview.label(), payload.url());
                super::browse::restore_zoom(webview, payload.url());
                super::browse::spell_check(webview);
                super::media::watch(webview);
            }
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                let state = webview.state::<AppState>();
                if !state.page_loaded.swap(true, Ordering::SeqCst) {
                    let ms = state.started.elapsed().as_millis() as u64;
                    tracing::info!(page_loaded_ms = ms, url = %payload.url(), "workspace page loaded");
                }
            }
        })
        .on_window_event(|window, event| match event {
            // Closing the workspace destroys it (and its WebKit process) unless
            // it holds a page the agent relies on: that one is hidden and keeps
            // running. The history and workbench windows always close for good.
            tauri::WindowEvent::CloseRequested { api, .. } if window.label() == WORKSPACE => {
                let app = window.app_handle();
                let url = app.get_webview_window(WORKSPACE).and_then(|w| w.url().ok());
                if let Some(page) = kept_page(app, url.as_ref()) {
                    api.prevent_close();
                    let _ = window.hide();
                    tracing::info!(%page, "workspace hidden: its page keeps running");
                    set_background(app, Some(page));
                } else {
                    tracing::info!("workspace closed: its webview is destroyed");
                }
            }
            tauri::WindowEvent::Destroyed => {
                tracing::info!(label = window.label(), "window destroyed");
                if window.label() == WORKSPACE {
                    workbench::closed(window.app_handle());
                    set_background(window.app_handle(), None);
                }
                let app = window.app_handle().clone();
                tauri::async_runtime::spawn(async move {
                    // After the window's own clean-up, which logs its view released.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let main = app.clone();
                    let _ = app.run_on_main_thread(move || hand_back_if_idle(&main));
                });
            }
            _ => {}
        })
        .build(context);
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            eprintln!("kolokol: {e}");
            std::process::exit(1);
        }
    };
    // The app lives on in the tray with no window at all; only Quit (an exit
    // with a code) ends it.
    app.run(|_, event| {
        if let tauri::RunEvent::ExitRequested { code: None, api, .. } = event {
            api.prevent_exit();
        }
    });
}

/// What closing the workspace would stop that the agent relies on: a web
/// page or a local target, unless the settings say to close those too.
/// Kolokol's own pages (start page, playground) lose nothing.
fn kept_page(app: &AppHandle, url: Option<&Url>) -> Option<String> {
    let url = url?;
    if workbench::is_app_page(url) || url.as_str() == "about:blank" || !app.state::<AppState>().settings.get().keep_pages_running {
        return None;
    }
    match url.host_str() {
        Some(host) if matches!(url.scheme(), "http" | "https") => Some(host.to_owned()),
        _ => Some(app.state::<AppState>().workbench.target().map(|t| t.title).unwrap_or_else(|| url.to_string())),
    }
}

/// Records what the hidden workspace keeps running; the tray says so.
pub(crate) fn set_background(app: &AppHandle, running: Option<String>) {
    let state = app.state::<AppState>();
    let changed = {
        let mut bg = state.background.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *bg != running;
        *bg = running;
        changed
    };
    if changed {
        tray::refresh(app);
    }
}

/// The workspace window, created if there is none (at the start page).
/// The workspace shows untrusted pages: it may only go to the web, its
/// own pages and local targets (never file:, data:, javascript:).
pub(crate) fn workspace(app: &AppHandle, visible: bool) -> tauri::Result<tauri::WebviewWindow> {
    if let Some(w) = app.get_webview_window(WORKSPACE) {
        return Ok(w);
    }
    let w = super::downloads::attach(WebviewWindowBuilder::new(app, WORKSPACE, WebviewUrl::App("index.html".into())))
        .data_directory(webview_data(&app.state::<AppState>().data_dir))
        .title("Kolokol")
        .inner_size(1100.0, 760.0)
        .visible(visible)
        .on_navigation(workbench::may_navigate)
        .on_new_window(super::newwindow::handler(app.clone(), WORKSPACE.to_owned()))
        .build()?;
    super::webkit::release_on_destroy(&w);
    tracing::info!(visible, "workspace window created");
    Ok(w)
}

static APP: std::sync::OnceLock<AppHandle> = std::sync::OnceLock::new();
/// This process's control channel, closed before a hand-back.
static CONTROL: std::sync::OnceLock<control::Control> = std::sync::OnceLock::new();

/// With no window left and no page kept, the app goes back to the tray-only
/// app (`kolokol`, no WebKit) when that can run it: on Unix by exec, so the
/// process id stays and WebKit's processes end with this one.
fn hand_back_if_idle(app: &AppHandle) {
    let state = app.state::<AppState>();
    let background = state.background.lock().unwrap_or_else(|e| e.into_inner()).is_some();
    let into_tray = cli::Args { minimized: true, ..Default::default() };
    if !app.webview_windows().is_empty() || background || !launch::tray_only(&into_tray, &state.settings) {
        return;
    }
    let Some(control) = CONTROL.get() else { return };
    let args = ["--data-dir".into(), state.data_dir.clone().into_os_string(), "--minimized".into()];
    let mut command = match launch::command_beside(launch::COMMAND, args, std::env::args_os().next()) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot hand back to the tray-only app: {e}");
            return;
        }
    };
    command.env(launch::HANDED_BACK_ENV, "1");
    tracing::info!("no window left: handing back to the tray-only app");
    control.close();
    launch::replace_with(command, false);
}

/// Answers `kolokol status` and `kolokol send`.
fn control(app: &AppHandle, req: control::Request) -> serde_json::Value {
    let state = app.state::<AppState>();
    match req {
        control::Request::Status => state.status(app),
        control::Request::Send { method, payload } => {
            let result = state.accept("cli", &method, &payload);
            let source: Arc<str> = "cli".into();
            workbench::record(app, &[calllog::Call { source: &source, method: &method, payload: &payload, result: &result, page: None }]);
            if let Ok(a) = &result {
                if a.route == router::Route::Center {
                    center_changed(app, a.seq);
                }
            }
            control::send_answer(&result)
        }
        control::Request::Launch { argv, cwd } => {
            let main = app.clone();
            match app.run_on_main_thread(move || second_instance(&main, argv, cwd)) {
                Ok(()) => json!({ "launched": true }),
                Err(e) => json!({ "error": format!("cannot reach the app's main thread: {e}") }),
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

/// Rows the history window asks for per page (`PAGE` in ui/history/history.js).
const HISTORY_FIRST_PAGE: u32 = 100;

pub(crate) fn open_history(app: &AppHandle) {
    open_history_after(app, None)
}

/// The history window; with `after_seq`, showing only the rows written after
/// it (the "missed while away" toast's click).
pub(crate) fn open_history_after(app: &AppHandle, after_seq: Option<i64>) {
    if let Some(w) = app.get_webview_window(HISTORY) {
        if let Some(seq) = after_seq {
            let _ = w.eval(format!("window.__kolokolShowAfter && window.__kolokolShowAfter({seq})"));
        }
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let state = app.state::<AppState>();
    let language = state.settings.get().language;
    let title = i18n::strings(i18n::Lang::from_setting(&language)).history;
    // The first page and the language come with the window, so its rows are
    // drawn without waiting for IPC, whose first round trips take 60-80 ms
    // while the new web process starts (the page's query costs about 1 ms).
    let first = state.history.as_ref().ok().and_then(|h| {
        h.list(&history::Query { after_seq, limit: HISTORY_FIRST_PAGE, ..Default::default() })
            .map_err(|e| tracing::warn!("history window: first page not read ahead: {e}"))
            .ok()
    });
    let boot = json!({ "after": after_seq, "language": language, "first": first });
    tracing::info!("history window created");
    match WebviewWindowBuilder::new(app, HISTORY, WebviewUrl::App("history.html".into()))
        .initialization_script(format!("window.__kolokolBoot = {boot};"))
        .data_directory(webview_data(&app.state::<AppState>().data_dir))
        .on_navigation(workbench::may_navigate_trusted)
        .title(format!("Kolokol — {title}"))
        .inner_size(900.0, 720.0)
        .build()
    {
        Ok(w) => super::webkit::own_window(&w),
        Err(e) => tracing::warn!("cannot open the history window: {e}"),
    }
}

pub(crate) fn toggle_autostart(app: &AppHandle) {
    app.state::<AppState>().toggle_autostart();
    tray::refresh(app);
}

pub(crate) fn toggle_dnd(app: &AppHandle) {
    app.state::<AppState>().toggle_dnd();
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

/// The webviews' cookies, storage and cache: in the data folder, so one data
/// folder is one login (an agent with two accounts runs two instances). Every
/// window uses the same folder, hence one WebKit context and one network process.
pub(crate) fn webview_data(data_dir: &Path) -> PathBuf {
    data_dir.join("webview")
}

/// The tray's "Open amoCRM": the workspace at the account, whatever it shows
/// now (a page of the account stays where the agent left it).
pub(crate) fn open_account(app: &AppHandle) {
    let Some(account) = app.state::<AppState>().settings.account() else {
        show_workspace(app);
        return;
    };
    let existed = app.get_webview_window(WORKSPACE).is_some();
    show_workspace(app);
    if !existed {
        return; // made at the account
    }
    let here = app.get_webview_window(WORKSPACE).and_then(|w| w.url().ok());
    if here.is_some_and(|u| u.origin() == account.origin()) {
        return;
    }
    if let Err(e) = workbench::open(app, target::Spec::Url(account)) {
        tracing::warn!("cannot open the account in the workspace: {e}");
    }
}

/// Shows the workspace, re-creating it if it was closed: at the account when
/// there is one (the agent's home), else at the start page.
pub(crate) fn show_workspace(app: &AppHandle) {
    let w = match app.get_webview_window(WORKSPACE) {
        Some(w) => w,
        None => match workspace(app, true) {
            Ok(w) => {
                if let Some(account) = app.state::<AppState>().settings.account() {
                    if let Err(e) = workbench::open(app, target::Spec::Url(account)) {
                        tracing::warn!("cannot open the account in the workspace: {e}");
                    }
                }
                w
            }
            Err(e) => {
                tracing::warn!("cannot create the workspace window: {e}");
                return;
            }
        },
    };
    let _ = w.unminimize();
    let _ = w.show();
    let _ = w.set_focus();
    set_background(app, None);
}

/// Opens a target asked for on the command line; local ones (a widget or an
/// HTML file being developed) bring the workbench along.
fn open_target(app: &AppHandle, spec: target::Spec, minimized: bool) -> Result<(), String> {
    let local = !matches!(spec, target::Spec::Url(_));
    let page = match &spec {
        target::Spec::Url(u) => u.host_str().map_or_else(|| u.to_string(), str::to_owned),
        other => other.title(),
    };
    workbench::open(app, spec)?;
    if local && !minimized {
        workbench::show_window(app);
    }
    if minimized {
        if let Some(w) = app.get_webview_window(WORKSPACE) {
            let _ = w.hide();
            set_background(app, Some(page));
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
            .windows([WORKSPACE.to_owned(), format!("{WORKSPACE}-*")])
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
