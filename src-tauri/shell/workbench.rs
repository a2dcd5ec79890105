//! The widget workbench, Tauri side: opens targets in the workspace window,
//! serves local targets (HTML files, widget folders with their host page)
//! from the `kolokol:` scheme, reloads them when their files change, keeps
//! the call log and feeds the workbench window. Decisions live in the
//! Tauri-free `target`, `manifest`, `calllog`, `ratelimit` and `profile`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Emitter, Manager, State, WebviewUrl, WebviewWindowBuilder};
use url::Url;

use super::app::WORKSPACE;
use super::state::AppState;
use crate::core::api::{self, now_ms};
use crate::workbench::calllog::{CallLog, Entry, Filter, Page};
use crate::workbench::manifest;
use crate::workbench::profile::{Profile, ProfileStore};
use crate::workbench::ratelimit::RateLimit;
use crate::workbench::stubs::{Stub, Stubs};
use crate::workbench::target::{self, Kind, Recent, RecentItem, Spec, Target};

pub const WORKBENCH: &str = "workbench";
/// Rows sent with each `calllog-changed` (more than a tall window shows).
const TAIL_ROWS: usize = 80;
/// The URI scheme local targets are served from (its own origin, not the app's).
pub const SCHEME: &str = "kolokol";

type Watcher = notify::RecommendedWatcher;

pub struct Workbench {
    pub calls: CallLog,
    pub limit: RateLimit,
    /// Links a page's popups may open: a few clicks at once, then one a second.
    pub link_limit: RateLimit,
    pub recent: Recent,
    pub profile: ProfileStore,
    /// crm_post answers the author set (the Profile tab).
    pub stubs: Stubs,
    current: Mutex<Current>,
    /// Bumped on every open and reload: cache-busting for the widget's files.
    version: AtomicU64,
    log_changed: AtomicBool,
    /// Each webview's page address since it started loading: the call log's
    /// source, known without asking the UI thread on every call.
    pages: Mutex<std::collections::HashMap<String, Arc<str>>>,
}

#[derive(Default)]
struct Current {
    spec: Option<Spec>,
    target: Option<Target>,
    checked: Option<manifest::Checked>,
    opened_ms: i64,
    _watcher: Option<Watcher>,
}

impl Workbench {
    pub fn new(data_dir: &Path) -> Workbench {
        Workbench {
            // An agent's log until someone develops with it (see `widen`).
            calls: CallLog::small(),
            limit: RateLimit::default(),
            link_limit: RateLimit::new(3.0, 1.0),
            recent: Recent::load(data_dir),
            profile: ProfileStore::load(data_dir),
            stubs: Stubs::default(),
            current: Mutex::default(),
            version: AtomicU64::new(1),
            log_changed: AtomicBool::new(false),
            pages: Mutex::default(),
        }
    }

    /// A page starts loading in webview `label`: the address its calls are
    /// logged under (and whose origin their budget is drawn from).
    pub fn page_started(&self, label: &str, url: &Url) {
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).insert(label.to_owned(), Arc::from(url.as_str()));
    }

    /// The address of the page in webview `label`, if it has loaded one.
    pub fn page(&self, label: &str) -> Option<Arc<str>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).get(label).cloned()
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn target(&self) -> Option<Target> {
        self.current().target.clone()
    }
}

fn wb(app: &AppHandle) -> &Workbench {
    &app.state::<AppState>().inner().workbench
}

/// An address of a local target in the `kolokol:` scheme: each target folder
/// its own origin (Windows spells custom schemes as http://<scheme>.localhost,
/// one origin there, see [`target::target_base`]).
pub fn target_url(folder: &Path, path: &str) -> Url {
    target::target_base(SCHEME, folder, cfg!(windows)).join(path).expect("a valid kolokol: address")
}

/// May a trusted window (workbench, history) navigate there? Only to
/// Kolokol's own pages: any other page would get the window's commands.
pub fn may_navigate_trusted(url: &Url) -> bool {
    let ok = target::is_app_page(url, cfg!(windows)) || url.as_str() == "about:blank";
    if !ok {
        tracing::warn!(%url, "navigation of a trusted window refused");
    }
    ok
}

/// An address of the app's own pages (ui/).
fn app_url(path: &str) -> Url {
    target::scheme_base("tauri", cfg!(windows)).join(path).expect("a valid app address")
}

/// Is this one of Kolokol's own pages (start page, playground)?
pub fn is_app_page(url: &Url) -> bool {
    // tauri: is not a special scheme: its origins are opaque, never equal.
    let app = app_url("/");
    url.scheme() == app.scheme() && url.host_str() == app.host_str() && url.port_or_known_default() == app.port_or_known_default()
}

/// The workspace window was destroyed: nothing is open in it any more (the
/// folder watcher stops with it).
pub fn closed(app: &AppHandle) {
    let wb = wb(app);
    *wb.current() = Current::default();
    wb.pages.lock().unwrap_or_else(|e| e.into_inner()).remove(WORKSPACE);
    let _ = app.emit_to(WORKBENCH, "workbench-target", serde_json::Value::Null);
}

/// May a window of untrusted pages (the workspace, the windows its pages
/// open) navigate there? Its own pages, local targets and the web; never
/// file:, data:, javascript: and the like. A refusal is logged.
pub fn may_navigate(url: &Url) -> bool {
    let ok = match url.scheme() {
        "http" | "https" => true,
        "tauri" => true,
        s if s == SCHEME => true,
        "about" => url.as_str() == "about:blank",
        _ => false,
    };
    if !ok {
        tracing::warn!(%url, "navigation refused");
    }
    ok
}


/// Opens what the user asked for in the workspace and shows it.
pub fn open(app: &AppHandle, spec: Spec) -> Result<Target, String> {
    let wb = wb(app);
    let opened_ms = now_ms();
    wb.version.fetch_add(1, Ordering::SeqCst);
    let (url, checked, watch) = match &spec {
        Spec::Url(u) => {
            super::app::allow_remote(app, u).map_err(|e| e.to_string())?;
            (u.clone(), None, None)
        }
        Spec::File(p) => {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let folder = p.parent().unwrap_or(p);
            let url = target_url(folder, "/page/").join(&encode_segment(&name)).map_err(|e| e.to_string())?;
            (url, None, p.parent().map(|d| (d.to_path_buf(), false)))
        }
        Spec::Widget(p) => (target_url(p, "/__kolokol/host.html"), Some(target::widget_check(p)), Some((p.clone(), true))),
    };
    if !matches!(spec, Spec::Url(_)) {
        wb.calls.widen(); // a widget author at work: the full log
    }
    let watcher = watch.and_then(|(dir, recursive)| match watch_folder(app, &dir, recursive) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("cannot watch {} for changes: {e}", dir.display());
            None
        }
    });
    let target = Target {
        kind: spec.kind(),
        input: spec.input(),
        url: url.to_string(),
        title: spec.title(),
        problems: checked.as_ref().map(|c| c.problems.clone()).unwrap_or_default(),
        watching: watcher.is_some(),
        reads: match &spec {
            Spec::Url(_) => None,
            Spec::File(f) => Some(target::FileScope::of(f, dirs::home_dir().as_deref()).describe()),
            Spec::Widget(d) => Some(format!("{} (the widget folder, hidden files aside)", d.display())),
        },
    };
    *wb.current() = Current { spec: Some(spec.clone()), target: Some(target.clone()), checked, opened_ms, _watcher: watcher };
    if let Err(e) = wb.recent.add(&spec, opened_ms) {
        tracing::warn!("{e}");
    }
    navigate(app, url)?;
    tracing::info!(kind = ?target.kind, input = %target.input, problems = target.problems.len(), "workspace target opened");
    announce(app, &target);
    Ok(target)
}

/// Shows one of Kolokol's own pages (start page, playground) in the workspace.
fn open_builtin(app: &AppHandle, kind: Kind, page: &str, title: &str) -> Result<Target, String> {
    let target =
        Target { kind, input: String::new(), url: app_url(page).to_string(), title: title.into(), problems: vec![], watching: false, reads: None };
    *wb(app).current() = Current { target: Some(target.clone()), opened_ms: now_ms(), ..Current::default() };
    navigate(app, app_url(page))?;
    announce(app, &target);
    Ok(target)
}

fn navigate(app: &AppHandle, url: Url) -> Result<(), String> {
    let w = super::app::workspace(app, false).map_err(|e| format!("cannot create the workspace window: {e}"))?;
    w.navigate(url).map_err(|e| e.to_string())?;
    super::app::show_workspace(app);
    Ok(())
}

fn announce(app: &AppHandle, target: &Target) {
    let _ = app.emit_to(WORKBENCH, "workbench-target", target);
    super::tray::refresh_recent(app);
}

fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Saving a file in the open folder reloads the target, once the events have
/// been quiet for 150 ms (an editor's save is several events). Reads are not
/// changes (serving the files must not reload them); what the page cannot
/// get (`target::reload_worthy`) is ignored.
fn watch_folder(app: &AppHandle, dir: &Path, recursive: bool) -> Result<Watcher, String> {
    use notify::{EventKind, RecursiveMode, Watcher as _};
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    use crate::core::datadir::canonical;
    // What Kolokol writes itself: its data folder and, on Linux, the files its
    // output goes to. Events name paths as `dir` spells them, so these are
    // compared in that spelling too (a folder may sit behind a symbolic link).
    let root = dir.to_path_buf();
    #[cfg(target_os = "linux")]
    let outputs = (1..=2).filter_map(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()).filter(|p| p.is_file());
    #[cfg(not(target_os = "linux"))]
    let outputs = std::iter::empty::<PathBuf>();
    let real_root = canonical(dir);
    let own: Vec<PathBuf> = std::iter::once(canonical(&app.state::<AppState>().data_dir))
        .chain(outputs)
        .map(|p| p.strip_prefix(&real_root).map_or(p.clone(), |rel| root.join(rel)))
        .collect();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return;
        }
        if event.paths.iter().any(|p| target::reload_worthy(&root, &own, p)) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| e.to_string())?;
    let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
    watcher.watch(dir, mode).map_err(|e| e.to_string())?;
    let handle = app.clone();
    let shown = dir.to_path_buf();
    // Ends when the watcher (and with it the sender) is dropped.
    std::thread::Builder::new()
        .name("kolokol-watch".into())
        .spawn(move || {
            use std::sync::mpsc::RecvTimeoutError;
            while rx.recv().is_ok() {
                loop {
                    match rx.recv_timeout(Duration::from_millis(150)) {
                        Ok(()) => {}
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                tracing::info!(dir = %shown.display(), "files changed: reloading the target");
                reload(&handle);
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(watcher)
}

/// Reloads what the workspace shows. A widget is checked again and gets its
/// `destroy` callback first (the host page's `__kolokolReload`).
pub fn reload(app: &AppHandle) {
    let wb = wb(app);
    wb.version.fetch_add(1, Ordering::SeqCst);
    let target = {
        let mut cur = wb.current();
        if let Some(Spec::Widget(dir)) = cur.spec.clone() {
            let checked = target::widget_check(&dir);
            if let Some(t) = cur.target.as_mut() {
                t.problems = checked.problems.clone();
            }
            cur.checked = Some(checked);
        }
        cur.opened_ms = now_ms();
        cur.target.clone()
    };
    if let Some(w) = app.get_webview_window(WORKSPACE) {
        let _ = w.eval("typeof window.__kolokolReload === 'function' ? window.__kolokolReload() : location.reload()");
    }
    if let Some(t) = target {
        let _ = app.emit_to(WORKBENCH, "workbench-target", t);
    }
}

/// Answers the `kolokol:` scheme: the host page and its libraries under
/// /__kolokol/, the open widget folder under /widget/, the open HTML file's
/// folder under /page/. Nothing outside those folders.
pub fn serve(app: &AppHandle, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let path = request.uri().path().to_owned();
    let wb = wb(app);
    let reply = |status: StatusCode, mime: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, mime)
            .header(header::CACHE_CONTROL, "no-store")
            .header("Content-Security-Policy", target::TARGET_CSP)
            .header("X-Content-Type-Options", "nosniff")
            .body(body)
            .unwrap_or_default()
    };
    let not_found = |what: &str| reply(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", format!("{what}: not found").into_bytes());
    // Each target answers only at its own origin: a page of another target
    // (or one opened before) gets nothing of this one, env.json included.
    if !cfg!(windows) {
        let folder = match &wb.current().spec {
            Some(Spec::Widget(dir)) => Some(dir.clone()),
            Some(Spec::File(file)) => file.parent().map(Path::to_path_buf),
            _ => None,
        };
        let expected = folder.map(|f| target::target_host(&f));
        if expected.is_none() || request.uri().host() != expected.as_deref() {
            return not_found(&format!("{path} (this address is not the open target's)"));
        }
    }
    if let Some(name) = path.strip_prefix("/__kolokol/") {
        let asset = crate::workbench::assets::host_asset(name);
        if let Some((mime, body)) = asset {
            return reply(StatusCode::OK, mime, body.to_vec());
        }
        if name == "env.json" {
            let cur = wb.current();
            let Some(Spec::Widget(dir)) = &cur.spec else { return not_found("no widget folder is open") };
            let checked = cur.checked.as_ref();
            let env = json!({
                "kind": "widget",
                "folder": dir,
                "manifest": checked.and_then(|c| c.manifest.clone()),
                "problems": checked.map(|c| c.problems.clone()).unwrap_or_default(),
                "code": checked.map(|c| c.code.clone()).unwrap_or_default(),
                "profile": wb.profile.get(),
                "widget_base": "/widget",
                "i18n_files": target::i18n_files(dir),
                "opened_ms": cur.opened_ms,
                "version": wb.version.load(Ordering::SeqCst),
            });
            return reply(StatusCode::OK, "application/json; charset=utf-8", env.to_string().into_bytes());
        }
        return not_found(&path);
    }
    let root = {
        let cur = wb.current();
        match (&cur.spec, path.split_once('/').map(|(_, r)| r).unwrap_or("")) {
            (Some(Spec::Widget(dir)), rest) if rest.starts_with("widget/") => {
                Some((target::FileScope { folder: dir.clone(), only: None }, rest["widget/".len()..].to_owned()))
            }
            (Some(Spec::File(file)), rest) if rest.starts_with("page/") => Some((
                target::FileScope::of(file, dirs::home_dir().as_deref()),
                rest["page/".len()..].to_owned(),
            )),
            _ => None,
        }
    };
    let Some((scope, rel)) = root else { return not_found(&path) };
    match scope.resolve(&rel) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => reply(StatusCode::OK, target::mime(&file), body),
            Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", e.to_string().into_bytes()),
        },
        None => not_found(&path),
    }
}

/// Calls from a page, in order, into the call log; the workbench window hears
/// about it at most every 100 ms.
pub fn record(app: &AppHandle, calls: &[crate::workbench::calllog::Call<'_>]) {
    let wb = wb(app);
    wb.calls.record(calls, now_ms());
    log_changed(app);
}

/// A call the widget host answered itself (crm_post, telephony), into the call log.
pub fn record_host(app: &AppHandle, source: &Arc<str>, method: &str, payload: &str, outcome: &'static str, response: &str) {
    wb(app).calls.record_host(source, method, payload, outcome, response, now_ms());
    log_changed(app);
}

pub fn log_changed(app: &AppHandle) {
    if wb(app).log_changed.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let bench = wb(&app);
        bench.log_changed.store(false, Ordering::SeqCst);
        // The newest rows travel with the event: a workbench pinned to the
        // bottom needs no request of its own while a page floods the log.
        let tail = bench.calls.tail(TAIL_ROWS);
        let _ = app.emit_to(
            WORKBENCH,
            "calllog-changed",
            json!({ "total": tail.total, "dropped": tail.dropped, "tail": tail.rows }),
        );
    });
}

/// Opens (or raises) the workbench window, beside the workspace when there is room.
pub fn show_window(app: &AppHandle) {
    wb(app).calls.widen(); // whoever looks at the log wants all of it from now on
    if let Some(w) = app.get_webview_window(WORKBENCH) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let lang = crate::core::i18n::Lang::from_setting(&app.state::<AppState>().settings.get().language);
    let mut builder = WebviewWindowBuilder::new(app, WORKBENCH, WebviewUrl::App("workbench.html".into()))
        .data_directory(super::app::webview_data(&app.state::<AppState>().data_dir))
        .on_navigation(may_navigate_trusted)
        .title(format!("Kolokol — {}", crate::core::i18n::strings(lang).workbench_window))
        .inner_size(620.0, 760.0);
    if let Some(ws) = app.get_webview_window(WORKSPACE) {
        if let (Ok(pos), Ok(size), Ok(scale)) = (ws.outer_position(), ws.outer_size(), ws.scale_factor()) {
            let pos = pos.to_logical::<f64>(scale);
            let size = size.to_logical::<f64>(scale);
            builder = builder.position(pos.x + size.width + 8.0, pos.y);
        }
    }
    match builder.build() {
        Ok(w) => super::webkit::own_window(&w),
        Err(e) => tracing::warn!("cannot open the workbench window: {e}"),
    }
}

// ---- commands of the workbench window (capabilities/workbench.json) ----

#[derive(serde::Serialize)]
pub struct WorkbenchState {
    target: Option<Target>,
    recent: Vec<RecentItem>,
    profile: Profile,
}

#[tauri::command]
pub fn workbench_state(state: State<'_, AppState>) -> WorkbenchState {
    let wb = &state.workbench;
    WorkbenchState { target: wb.target(), recent: wb.recent.list(), profile: wb.profile.get() }
}

#[tauri::command]
pub async fn workbench_open(app: AppHandle, input: String) -> Result<Target, String> {
    let cwd = dirs::home_dir().unwrap_or_else(|| PathBuf::from("/"));
    open(&app, target::parse(&input, &cwd)?)
}

/// A native file or folder picker, then opens the choice; `None` when cancelled.
#[tauri::command]
pub async fn workbench_pick(app: AppHandle, folder: bool) -> Result<Option<Target>, String> {
    use tauri_plugin_dialog::DialogExt;
    let dialog = app.dialog().file();
    let picked = if folder {
        dialog.set_title("Open a widget folder").blocking_pick_folder()
    } else {
        dialog.set_title("Open an HTML file").add_filter("HTML", &["html", "htm"]).blocking_pick_file()
    };
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else { return Ok(None) };
    open(&app, target::parse(&path.to_string_lossy(), Path::new("/"))?).map(Some)
}

#[tauri::command]
pub fn workbench_reload(app: AppHandle) {
    reload(&app);
}

#[tauri::command]
pub fn workbench_playground(app: AppHandle) -> Result<Target, String> {
    open_builtin(&app, Kind::Playground, "playground.html", "Playground")
}

#[tauri::command]
pub fn workbench_start_page(app: AppHandle) -> Result<Target, String> {
    open_builtin(&app, Kind::Start, "index.html", "Start page")
}

#[tauri::command]
pub fn workbench_show_page(app: AppHandle) {
    super::app::show_workspace(&app);
}

#[tauri::command]
pub async fn calllog_page(state: State<'_, AppState>, filter: Filter, offset: usize, limit: usize) -> Result<Page, String> {
    Ok(state.workbench.calls.page(&filter, offset, limit.min(1_000)))
}

#[tauri::command]
pub fn calllog_get(state: State<'_, AppState>, seq: u64) -> Option<Entry> {
    state.workbench.calls.get(seq)
}

#[tauri::command]
pub fn calllog_clear(app: AppHandle, state: State<'_, AppState>) {
    state.workbench.calls.clear();
    log_changed(&app);
}

/// Writes the whole log as JSON where the save dialog says. The path never
/// comes from a page: a page that reached this command could otherwise write
/// anywhere. `KOLOKOL_EXPORT_TO` (set by whoever starts the app, for
/// automation) answers in the dialog's place.
#[tauri::command]
pub async fn calllog_export(app: AppHandle) -> Result<Option<PathBuf>, String> {
    use tauri_plugin_dialog::DialogExt;
    let path = match std::env::var_os("KOLOKOL_EXPORT_TO").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => {
            let picked = app
                .dialog()
                .file()
                .set_title("Export the call log")
                .set_file_name("kolokol-calls.json")
                .add_filter("JSON", &["json"])
                .blocking_save_file();
            match picked.and_then(|p| p.into_path().ok()) {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    let text = wb(&app).calls.export();
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path))
}

/// Sends a logged call again through the workspace page's own
/// `APP.notifications`, so it is drawn, routed and logged like the first time.
#[tauri::command]
pub fn calllog_resend(app: AppHandle, state: State<'_, AppState>, seq: u64) -> Result<(), String> {
    let e = state.workbench.calls.get(seq).ok_or("that entry is no longer in the log")?.row;
    if api::Method::parse(&e.method).is_none() {
        return Err(format!("{:?} is not an APP.notifications method; nothing to re-send", e.method));
    }
    if e.payload_cut {
        return Err(format!("only the first {} bytes of this payload were kept; it cannot be re-sent", e.payload.len()));
    }
    // Both values go in as JSON string literals and are parsed as data.
    let method = serde_json::to_string(&e.method).map_err(|e| e.to_string())?;
    let payload = serde_json::to_string(&e.payload).map_err(|e| e.to_string())?;
    let script = format!(
        "(function () {{ try {{ window.APP.notifications[{method}](JSON.parse({payload})); }} \
         catch (e) {{ console.warn('[Kolokol] re-send failed', e); }} }})();"
    );
    let w = app.get_webview_window(super::app::WORKSPACE).ok_or("the workspace window is gone")?;
    w.eval(&script).map_err(|e| e.to_string())
}

#[tauri::command]
pub fn profile_set(app: AppHandle, state: State<'_, AppState>, profile: Profile) -> Result<Profile, String> {
    let saved = state.workbench.profile.set(profile)?;
    if matches!(state.workbench.current().spec, Some(Spec::Widget(_))) {
        reload(&app);
    }
    Ok(saved)
}

#[tauri::command]
pub fn crm_stubs(state: State<'_, AppState>) -> Vec<Stub> {
    state.workbench.stubs.list()
}

#[tauri::command]
pub fn crm_stub_set(state: State<'_, AppState>, stub: Stub) -> Result<Vec<Stub>, String> {
    state.workbench.stubs.set(stub)?;
    Ok(state.workbench.stubs.list())
}

#[tauri::command]
pub fn crm_stub_remove(state: State<'_, AppState>, url: String) -> Vec<Stub> {
    state.workbench.stubs.remove(&url);
    state.workbench.stubs.list()
}
