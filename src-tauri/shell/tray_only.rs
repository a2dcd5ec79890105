//! The app while it needs no window, run by `kolokol` itself: the tray (tao
//! and tray-icon, as Tauri's own tray), the control channel, the history, the
//! toasts and "missed while away", in a process that links no WebKit. The
//! first thing that needs a window (a tray item, a toast's history, a second
//! launch that asks for one) hands the app over to `kolokol-ui` with what to
//! show: on Unix by exec, so the app keeps its process id.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::channels::tray::{look, Inputs, TrayState};
use crate::channels::{badge, toast};
use crate::core::{i18n, links, router};
use crate::ingress::{cli, control};
use crate::launch::{self, Show};
use crate::services::Services;
use crate::workbench::target::Recent;

enum Ev {
    /// The history or a setting changed.
    Refresh,
    Menu(String),
    Toast(toast::Opens),
    /// A second launch's arguments and folder.
    Launch(Vec<String>, String),
    /// The hand-over asked for [`HAND_OVER_DELAY`] ago.
    HandOver,
}

/// A second launch's arguments and folder, passed on to the window app.
type Launched = (Vec<String>, String);

static PROXY: OnceLock<Mutex<EventLoopProxy<Ev>>> = OnceLock::new();

fn post(ev: Ev) {
    if let Some(p) = PROXY.get() {
        let _ = p.lock().unwrap_or_else(|e| e.into_inner()).send_event(ev);
    }
}

/// The app's icon (the 32 px one Tauri gives its windows), decoded once.
fn base_icon() -> Option<(Vec<u8>, u32, u32)> {
    decode(include_bytes!("../../icons/32x32.png"))
}

fn decode(png_bytes: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    (info.color_type == png::ColorType::Rgba).then(|| (buf[..info.buffer_size()].to_vec(), info.width, info.height))
}

struct Tray {
    icon: TrayIcon,
    account: MenuItem,
    open: MenuItem,
    workbench: MenuItem,
    recent: Submenu,
    history: MenuItem,
    dnd: CheckMenuItem,
    login: CheckMenuItem,
    quit: MenuItem,
    base: Option<(Vec<u8>, u32, u32)>,
    shown: Arc<Mutex<TrayState>>,
}

impl Tray {
    fn create(svc: &Services, recent: &[crate::workbench::target::RecentItem]) -> Result<Tray, String> {
        let s = svc.settings.get();
        let strings = i18n::strings(i18n::Lang::from_setting(&s.language));
        let account = MenuItem::with_id("account", strings.no_account, false, None);
        let open = MenuItem::with_id("open", strings.open_workspace, true, None);
        let workbench = MenuItem::with_id("workbench", strings.workbench, true, None);
        let recent_menu = Submenu::with_id("recent", strings.recent, true);
        if recent.is_empty() {
            let _ = recent_menu.append(&MenuItem::with_id("recent-none", strings.nothing_yet, false, None));
        }
        for (i, r) in recent.iter().enumerate() {
            let _ = recent_menu.append(&MenuItem::with_id(format!("recent:{i}"), &r.title, true, None));
        }
        let history = MenuItem::with_id("history", strings.history, true, None);
        let dnd = CheckMenuItem::with_id("dnd", strings.do_not_disturb, true, s.do_not_disturb, None);
        let login = CheckMenuItem::with_id("autostart", strings.start_at_login, true, svc.autostart_enabled(), None);
        let quit = MenuItem::with_id("quit", strings.quit, true, None);
        let menu = Menu::with_items(&[&account, &open, &workbench, &recent_menu, &history, &dnd, &login, &PredefinedMenuItem::separator(), &quit])
            .map_err(|e| e.to_string())?;
        let base = base_icon();
        let mut builder = TrayIconBuilder::new().with_id("kolokol").with_tooltip("Kolokol").with_menu(Box::new(menu));
        if let Some((rgba, w, h)) = &base {
            builder = builder.with_icon(Icon::from_rgba(rgba.clone(), *w, *h).map_err(|e| e.to_string())?);
        }
        // The macOS menu bar wants the monochrome template, as the window app's tray.
        #[cfg(target_os = "macos")]
        if let Some((rgba, w, h)) = decode(include_bytes!("../../icons/tray-template.png")) {
            builder = builder.with_icon(Icon::from_rgba(rgba, w, h).map_err(|e| e.to_string())?).with_icon_as_template(true);
        }
        let icon = builder.build().map_err(|e| e.to_string())?;
        Ok(Tray { icon, account, open, workbench, recent: recent_menu, history, dnd, login, quit, base, shown: Arc::default() })
    }

    fn refresh(&self, svc: &Services) {
        let s = svc.settings.get();
        let inputs = Inputs { unread: svc.unread(), do_not_disturb: s.do_not_disturb, start_at_login: svc.autostart_enabled(), ..Default::default() };
        let look = look(i18n::Lang::from_setting(&s.language), &inputs);
        let st = &look.state;
        self.account.set_text(&st.account_item);
        self.account.set_enabled(look.account_enabled);
        self.open.set_text(&st.open_item);
        self.workbench.set_text(look.workbench);
        self.recent.set_text(look.recent);
        self.quit.set_text(look.quit);
        self.dnd.set_text(look.do_not_disturb);
        self.dnd.set_checked(st.do_not_disturb);
        self.login.set_text(look.start_at_login);
        self.login.set_checked(st.start_at_login);
        self.history.set_text(&st.history_item);
        self.icon.set_title(st.label.as_deref());
        let _ = self.icon.set_tooltip(Some(&st.tooltip));
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if !cfg!(target_os = "macos") && (shown.label != st.label || shown.tooltip.is_empty()) {
            if let Some((rgba, w, h)) = &self.base {
                if let Ok(icon) = Icon::from_rgba(badge::draw(rgba, *w, *h, st.unread), *w, *h) {
                    let _ = self.icon.set_icon(Some(icon));
                }
            }
        }
        *shown = look.state;
    }
}

/// Runs the tray-only app for `start` until Quit or a hand-over.
pub fn run(start: launch::Start) -> ! {
    let launch::Start { data_dir, started, handed_back, .. } = start;
    tracing::info!(data_dir = %data_dir.display(), handed_back, "starting into the tray (no window)");
    #[cfg(target_os = "linux")]
    reap_inherited();
    // No GL driver in a process without webviews: GTK would load one to
    // probe the display's visuals (about 25 MiB). Not passed on to `kolokol-ui`.
    #[cfg(all(unix, not(target_os = "macos")))]
    let set_gl = std::env::var_os("GDK_GL").is_none();
    #[cfg(all(unix, not(target_os = "macos")))]
    if set_gl {
        std::env::set_var("GDK_GL", "disable");
    }
    let event_loop = EventLoopBuilder::<Ev>::with_user_event().build();
    let _ = PROXY.set(Mutex::new(event_loop.create_proxy()));
    let svc = Arc::new(Services::open(data_dir.clone(), started, |action| post(Ev::Toast(action.opens))));
    let recent = Recent::load(&data_dir).list();
    let tray = match Tray::create(&svc, &recent) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("cannot make the tray here ({e}); starting the window app instead");
            launch::replace_with(launch::window_app(&data_dir, None, None), false);
        }
    };
    let shown = tray.shown.clone();
    let handler_svc = svc.clone();
    let control = match control::serve(&data_dir, move |req| answer(&handler_svc, &shown, req)) {
        Ok(c) => c,
        Err(e) => {
            // The window app says why in its tray.
            tracing::warn!("control channel unavailable ({e}); starting the window app, which shows why");
            drop(tray);
            launch::replace_with(launch::window_app(&data_dir, None, None), false);
        }
    };
    tracing::info!(endpoint = %control.endpoint, "control channel ready");
    let _ = svc.control.set(Ok(control.endpoint.clone()));
    svc.start_away();
    tray.refresh(&svc);
    MenuEvent::set_event_handler(Some(|e: MenuEvent| post(Ev::Menu(e.id.0))));
    tracing::info!(tray_ready_ms = started.elapsed().as_millis() as u64, "tray ready");

    let hand_over = move |show: Option<Show>, launched: Option<Launched>| -> ! {
        tracing::info!(?show, "a window is needed: handing over to the window app");
        control.close();
        #[allow(unused_mut)]
        let mut command = launch::window_app(&data_dir, show, launched);
        #[cfg(all(unix, not(target_os = "macos")))]
        if set_gl {
            command.env_remove("GDK_GL");
        }
        launch::replace_with(command, false)
    };
    // A hand-over first lets the answer to the panel's D-Bus call that
    // clicked the item go out: exec would drop it (see `after_answer`).
    let mut pending: Option<(Option<Show>, Option<Launched>)> = None;
    event_loop.run(move |event, _, flow| {
        *flow = ControlFlow::Wait;
        let Event::UserEvent(ev) = event else { return };
        let mut later = |show: Option<Show>, launched: Option<Launched>| {
            pending = Some((show, launched));
            after_answer(|| post(Ev::HandOver));
        };
        match ev {
            Ev::HandOver => {
                if let Some((show, launched)) = pending.take() {
                    hand_over(show, launched);
                }
            }
            Ev::Refresh => tray.refresh(&svc),
            Ev::Menu(id) => match id.as_str() {
                "open" => later(Some(Show::Workspace), None),
                "account" => later(Some(Show::Account), None),
                "workbench" => later(Some(Show::Workbench), None),
                "history" => later(Some(Show::History { after_seq: None }), None),
                "dnd" => {
                    svc.toggle_dnd();
                    tray.refresh(&svc);
                }
                "autostart" => {
                    svc.toggle_autostart();
                    tray.refresh(&svc);
                }
                // After the click's D-Bus answer, as a hand-over.
                "quit" => after_answer(|| std::process::exit(0)),
                other => {
                    let item = other.strip_prefix("recent:").and_then(|i| i.parse::<usize>().ok()).and_then(|i| recent.get(i));
                    if let Some(item) = item {
                        let argv = vec![launch::COMMAND.into(), "--data-dir".into(), svc.data_dir.display().to_string(), "open".into(), item.input.clone()];
                        later(None, Some((argv, "/".into())));
                    }
                }
            },
            Ev::Toast(opens) => match opens {
                toast::Opens::Link(href) => match links::openable(&href) {
                    Ok(url) => {
                        if let Err(e) = open::that_detached(url.as_str()) {
                            tracing::warn!("cannot open {url}: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("not opened: {e}"),
                },
                toast::Opens::History { after_seq } => later(Some(Show::History { after_seq: Some(after_seq) }), None),
                // Pages, downloads and the fleet live in the window app.
                other => tracing::warn!(?other, "a toast of the window app clicked in the tray-only app"),
            },
            Ev::Launch(argv, cwd) => match cli::parse(argv.iter().skip(1).cloned()) {
                // Into the tray: here already.
                Ok(args) if args.minimized && args.open.is_none() => tracing::info!("second launch into the tray: nothing to do"),
                Ok(_) => later(None, Some((argv, cwd))),
                Err(e) => {
                    tracing::warn!("second launch with bad arguments: {e}");
                    later(Some(Show::Workspace), None)
                }
            },
        }
    })
}

/// WebKit's processes of the window app this process was until its exec
/// are its children now: they end as their sockets close, and are reaped
/// here so no zombie is left.
#[cfg(target_os = "linux")]
fn reap_inherited() {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return };
    let pids: Vec<i32> = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| c.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<i32>>())
        .collect();
    for pid in pids {
        let _ = std::thread::Builder::new().name("reap".into()).spawn(move || {
            let mut status = 0;
            // SAFETY: waits for a child of this process; `status` is ours.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            tracing::info!(pid, "a process of the window app ended");
        });
    }
}

/// Runs `then` once the answer to the tray click being handled has gone
/// out: a hand-over's exec or Quit's exit would drop it, and the panel would
/// get "recipient disconnected without replying".
///
/// Linux: the item's D-Bus call (libdbusmenu) was answered on the shared
/// session connection before the click reached this loop, so flushing that
/// connection sends it. That replaced a fixed 50 ms wait (tray click →
/// workspace page loaded, medians of 3 × 10 hand-overs: 547–608 ms, against
/// 576–620 ms with the wait). Elsewhere the menu is not on D-Bus; the wait
/// stays, as it was tested.
fn after_answer(then: impl FnOnce() + Send + 'static) {
    #[cfg(target_os = "linux")]
    {
        match gio::bus_get_sync(gio::BusType::Session, gio::Cancellable::NONE).and_then(|bus| bus.flush_sync(gio::Cancellable::NONE)) {
            Ok(()) => return then(),
            Err(e) => tracing::warn!("cannot flush the session bus, waiting instead: {e}"),
        }
    }
    // A thread of our own: tao's WaitUntil did not wake its GTK loop here
    // (the hand-over waited for the next event, seconds later).
    std::thread::spawn(move || {
        std::thread::sleep(HAND_OVER_DELAY);
        then()
    });
}

/// How long a hand-over (or Quit) waits for the click's answer where it cannot flush it.
const HAND_OVER_DELAY: Duration = Duration::from_millis(50);

/// Answers `kolokol status`, `send` and a second launch.
fn answer(svc: &Services, shown: &Mutex<TrayState>, req: control::Request) -> Value {
    match req {
        control::Request::Status => {
            let mut status = svc.status();
            status["channels"]["tray"] = json!(*shown.lock().unwrap_or_else(|e| e.into_inner()));
            status
        }
        control::Request::Send { method, payload } => {
            let result = svc.accept("cli", &method, &payload);
            if matches!(&result, Ok(a) if a.route == router::Route::Center) {
                post(Ev::Refresh);
            }
            control::send_answer(&result)
        }
        control::Request::Launch { argv, cwd } => {
            post(Ev::Launch(argv, cwd));
            json!({ "launched": true })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG that is not RGBA would leave the tray without an icon, silently.
    #[test]
    fn the_tray_icons_decode_as_rgba() {
        assert_eq!(base_icon().map(|(rgba, w, h)| (rgba.len(), w, h)), Some((32 * 32 * 4, 32, 32)));
        assert_eq!(decode(include_bytes!("../../icons/tray-template.png")).map(|(_, w, h)| (w, h)), Some((64, 64)));
    }
}
