//! The tray icon and its menu: Open workspace (saying so when it runs a page
//! hidden), Workbench, Open recent ▸,
//! History (N unread), Do not disturb, Start at login, Quit; above them, when
//! the control channel could not start, a disabled line saying why; when the
//! call center's fleet is configured, a disabled line with its state and why. The unread count shows as the tray's label where the
//! platform has one and as a badge drawn into the icon. What it says comes
//! from `channels::tray`, which the tray-only process's tray shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

use super::state::AppState;
use crate::channels::badge;
use crate::channels::tray::{look, Inputs, Look, TrayState};
use crate::core::i18n::{self, Lang};

pub struct Tray {
    icon: TrayIcon<Wry>,
    /// "Open amoCRM (host)": the account, the agent's home.
    account: MenuItem<Wry>,
    open: MenuItem<Wry>,
    workbench: MenuItem<Wry>,
    recent: Submenu<Wry>,
    history: MenuItem<Wry>,
    dnd: CheckMenuItem<Wry>,
    login: CheckMenuItem<Wry>,
    quit: MenuItem<Wry>,
    /// "Command line unavailable: why" (disabled), when `kolokol status`/`send` cannot reach us.
    control: Option<(MenuItem<Wry>, String)>,
    /// "Call center: connected" / "…: disconnected — why" (disabled), when the fleet is configured.
    fleet: Option<MenuItem<Wry>>,
    base: Option<(Vec<u8>, u32, u32)>,
    /// What the tray shows now, for `kolokol status`.
    pub shown: Mutex<TrayState>,
    /// A refresh is queued on the main thread and has not started yet.
    queued: AtomicBool,
}

pub fn create(app: &AppHandle, lang: Lang, dnd: bool, control_problem: Option<String>, fleet: bool) -> tauri::Result<Tray> {
    let s = i18n::strings(lang);
    let account = MenuItem::with_id(app, "account", s.no_account, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", s.open_workspace, true, None::<&str>)?;
    let workbench = MenuItem::with_id(app, "workbench", s.workbench, true, None::<&str>)?;
    let recent = Submenu::with_id(app, "recent", s.recent, true)?;
    let history = MenuItem::with_id(app, "history", s.history, true, None::<&str>)?;
    let dnd_item = CheckMenuItem::with_id(app, "dnd", s.do_not_disturb, true, dnd, None::<&str>)?;
    let login = CheckMenuItem::with_id(app, "autostart", s.start_at_login, true, app.state::<AppState>().autostart_enabled(), None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", s.quit, true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&account, &open, &workbench, &recent, &history, &dnd_item, &login, &sep, &quit])?;
    let control = match control_problem {
        Some(why) => {
            let item = MenuItem::with_id(app, "control", format!("{}: {why}", s.command_line_unavailable), false, None::<&str>)?;
            menu.prepend(&item)?;
            Some((item, why))
        }
        None => None,
    };
    let fleet = if fleet {
        let item = MenuItem::with_id(app, "fleet", format!("{}: …", s.call_center), false, None::<&str>)?;
        menu.prepend(&item)?;
        Some(item)
    } else {
        None
    };
    let base = app.default_window_icon().map(|i| (i.rgba().to_vec(), i.width(), i.height()));
    let mut builder = TrayIconBuilder::with_id("kolokol")
        .tooltip("Kolokol")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "account" => super::app::open_account(app),
            "open" => super::app::show_workspace(app),
            "workbench" => super::workbench::show_window(app),
            id if id.starts_with("recent:") => open_recent(app, &id["recent:".len()..]),
            "history" => super::app::open_history(app),
            "dnd" => super::app::toggle_dnd(app),
            "autostart" => super::app::toggle_autostart(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    // The macOS menu bar wants a monochrome template image it tints itself
    // (icons/tray-template.svg, rendered with `npx tauri icon`).
    #[cfg(target_os = "macos")]
    {
        builder = builder.icon(Image::from_bytes(include_bytes!("../../icons/tray-template.png"))?).icon_as_template(true);
    }
    let icon = builder.build(app)?;
    Ok(Tray { icon, account, open, workbench, recent, history, dnd: dnd_item, login, quit, control, fleet, base, shown: Mutex::new(TrayState::default()), queued: AtomicBool::new(false) })
}

impl Tray {
    /// Shows what `look` says.
    /// On the main thread only (see `refresh`).
    fn update(&self, look: Look) {
        if let Some((item, _)) = &self.control {
            let _ = item.set_text(look.control.as_deref().unwrap_or_default());
        }
        let st = &look.state;
        if let (Some(item), Some(text)) = (&self.fleet, &st.fleet) {
            let _ = item.set_text(text);
        }
        let _ = self.account.set_text(&st.account_item);
        let _ = self.account.set_enabled(look.account_enabled);
        let _ = self.open.set_text(&st.open_item);
        let _ = self.workbench.set_text(look.workbench);
        let _ = self.recent.set_text(look.recent);
        let _ = self.quit.set_text(look.quit);
        let _ = self.dnd.set_text(look.do_not_disturb);
        let _ = self.login.set_text(look.start_at_login);
        let _ = self.login.set_checked(st.start_at_login);
        let _ = self.history.set_text(&st.history_item);
        let _ = self.dnd.set_checked(st.do_not_disturb);
        let _ = self.icon.set_title(st.label.as_deref());
        let _ = self.icon.set_tooltip(Some(&st.tooltip));
        // macOS shows the title beside its template icon; elsewhere draw the
        // count (only when the label changes: "99+" stays "99+"). The lock is
        // not held while the icon is set: `kolokol status` reads `shown` from
        // the control thread and never waits on the tray's drawing.
        let redraw = {
            let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
            !cfg!(target_os = "macos") && (shown.label != st.label || shown.tooltip.is_empty())
        };
        if redraw {
            if let Some((rgba, w, h)) = &self.base {
                let drawn = badge::draw(rgba, *w, *h, st.unread);
                let _ = self.icon.set_icon(Some(Image::new_owned(drawn, *w, *h)));
            }
        }
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = look.state;
    }
}

/// Refreshes the tray from the store and settings, on the main thread, soon.
///
/// The tray's icon and menu live on the main thread: Tauri runs a call made
/// from another thread there and waits for it. Refreshes came from the
/// history's writer, the ingress and commands as well as from the main
/// thread's menu clicks, so one thread could hold the tray's state waiting
/// for the main thread while the main thread waited for that state: the app
/// hung (the center test caught it with gdb, after "Do not disturb"). Queued,
/// they never wait on each other, and a burst of calls that asks for
/// thousands of refreshes while one is queued costs that one.
pub fn refresh(app: &AppHandle) {
    let Some(tray) = app.try_state::<Tray>() else { return };
    if tray.queued.swap(true, Ordering::SeqCst) {
        return;
    }
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || refresh_now(&handle)) {
        tray.queued.store(false, Ordering::SeqCst);
        tracing::warn!("tray not refreshed: {e}");
    }
}

/// Refreshes the tray at once; on the main thread only (the app's set-up, so
/// that "tray ready" means the tray shows the count).
pub fn refresh_now(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Some(tray) = app.try_state::<Tray>() else { return };
    // Cleared before reading: a change from now on queues another refresh.
    tray.queued.store(false, Ordering::SeqCst);
    let settings = state.settings.get();
    let running = state.background.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let account = state.settings.account().and_then(|u| u.host_str().map(str::to_owned));
    let inputs = Inputs {
        unread: state.unread(),
        do_not_disturb: settings.do_not_disturb,
        start_at_login: state.autostart_enabled(),
        fleet: state.fleet_line(),
        running: running.as_deref(),
        account: account.as_deref(),
        control_problem: tray.control.as_ref().map(|(_, why)| why.as_str()),
    };
    tray.update(look(Lang::from_setting(&settings.language), &inputs));
}

/// Rebuilds the "Open recent" submenu from the recent list.
pub fn refresh_recent(app: &AppHandle) {
    let Some(tray) = app.try_state::<Tray>() else { return };
    let lang = Lang::from_setting(&app.state::<AppState>().settings.get().language);
    let items = app.state::<AppState>().workbench.recent.list();
    for old in tray.recent.items().unwrap_or_default() {
        let _ = tray.recent.remove(&old);
    }
    if items.is_empty() {
        if let Ok(none) = MenuItem::with_id(app, "recent-none", i18n::strings(lang).nothing_yet, false, None::<&str>) {
            let _ = tray.recent.append(&none);
        }
    }
    for (i, r) in items.iter().enumerate() {
        if let Ok(item) = MenuItem::with_id(app, format!("recent:{i}"), &r.title, true, None::<&str>) {
            let _ = tray.recent.append(&item);
        }
    }
}

fn open_recent(app: &AppHandle, index: &str) {
    let items = app.state::<AppState>().workbench.recent.list();
    let Some(item) = index.parse::<usize>().ok().and_then(|i| items.get(i)) else { return };
    let result = crate::workbench::target::parse(&item.input, std::path::Path::new("/")).and_then(|spec| super::workbench::open(app, spec));
    if let Err(e) = result {
        tracing::warn!(input = %item.input, "cannot open a recent target: {e}");
        super::workbench::show_window(app);
    }
}
