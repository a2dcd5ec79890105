//! What the two programs do before the app starts: the command line and the
//! data folder, and the commands that need no window. `kolokol` answers
//! `send` and `status` itself with no more than the control socket and links
//! no WebKit, so the command a PBX or a script runs for every call starts in
//! milliseconds. A launch of the app goes to the instance already running on
//! the data folder, if there is one; a launch into the tray that needs no page
//! runs the tray-only app (`shell/tray_only.rs`: no WebKit). Everything else
//! it hands over to `kolokol-ui` beside it, the Tauri app (`shell/`), which
//! also runs `history` and `pbx`: on Unix by exec, so the app keeps this
//! process's id, its arguments and its environment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::core::{datadir, settings};
use crate::ingress::{cli, control};

/// The command's file name, and the window app's beside it (installed and built alike).
pub const COMMAND: &str = "kolokol";
pub const UI_BINARY: &str = "kolokol-ui";

/// How long `kolokol` ran before handing over, so `kolokol-ui` counts its
/// start → tray ready from the user's launch (microseconds).
const LAUNCHED_ENV: &str = "KOLOKOL_LAUNCHED_US";

/// Set by the window app when it hands back to the tray-only app: that
/// launch is the instance itself, not a second launch to forward.
pub const HANDED_BACK_ENV: &str = "KOLOKOL_HANDED_BACK";

/// The window the tray-only app asks `kolokol-ui` to show when it hands over.
const SHOW_ENV: &str = "KOLOKOL_SHOW";

/// A window to show at start (what was clicked in the tray-only app).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Show {
    Workspace,
    Account,
    Workbench,
    /// With a row: only what was written after it (the "missed while away" toast).
    History { after_seq: Option<i64> },
}

impl Show {
    fn to_env(self) -> String {
        match self {
            Show::Workspace => "workspace".into(),
            Show::Account => "account".into(),
            Show::Workbench => "workbench".into(),
            Show::History { after_seq: None } => "history".into(),
            Show::History { after_seq: Some(seq) } => format!("history:{seq}"),
        }
    }

    fn parse(s: &str) -> Option<Show> {
        Some(match s {
            "workspace" => Show::Workspace,
            "account" => Show::Account,
            "workbench" => Show::Workbench,
            "history" => Show::History { after_seq: None },
            _ => Show::History { after_seq: Some(s.strip_prefix("history:")?.parse().ok()?) },
        })
    }
}

/// A launch `kolokol` hands over, or `kolokol-ui` runs.
pub struct Start {
    pub args: cli::Args,
    /// Created, private, canonical.
    pub data_dir: PathBuf,
    /// When the user's launch began (before the hand-over, when there was one).
    pub started: Instant,
    /// The window to show at start, when the tray-only app handed over for it.
    pub show: Option<Show>,
    /// The window app handed back to the tray-only app (see [`HANDED_BACK_ENV`]).
    pub handed_back: bool,
}

/// `kolokol`'s start: runs `send` or `status` and exits; returns what is
/// `kolokol-ui`'s to run (the app or another command).
pub fn command_line() -> Start {
    let mut start = read();
    if let Some(command) = start.args.command.take() {
        match cli::run_light(command, &start.data_dir) {
            Ok(code) => std::process::exit(code),
            Err(other) => start.args.command = Some(other),
        }
    }
    start
}

/// `kolokol`'s app launch: to the instance running on the data folder, to
/// the tray-only app, or handed over to `kolokol-ui`.
pub fn app(start: Start) -> ! {
    if start.args.command.is_none() {
        if !start.handed_back && forwarded(&start.data_dir) {
            std::process::exit(0);
        }
        if tray_only(&start.args, &settings::SettingsStore::load(&start.data_dir)) {
            logging();
            crate::run_tray_only(start);
        }
    }
    hand_over(&start)
}

/// Hands this launch to the instance running on the data folder, if one
/// does: it shows itself or opens the target, as a second launch would.
fn forwarded(data_dir: &Path) -> bool {
    let argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).to_string_lossy().into_owned();
    match control::request(data_dir, &control::Request::Launch { argv, cwd }) {
        Ok(answer) => answer["launched"] == true,
        Err(_) => false,
    }
}

/// Whether this launch needs no webview: into the tray, nothing to open, no
/// account page to keep running, no HTTP ingress or fleet (which live in the
/// window app for now).
pub fn tray_only(args: &cli::Args, store: &settings::SettingsStore) -> bool {
    let s = store.get();
    args.command.is_none()
        && args.open.is_none()
        && (args.minimized || s.start_minimized)
        && store.account().is_none()
        && !s.http_ingress
        && !s.fleet.enabled
}

/// Logging to stderr, `KOLOKOL_LOG` filtering (`info` by default; levels
/// per target, `kolokol_lib::channels=debug,info`). A target filter, not
/// `EnvFilter`, whose regex engine would weigh about 0.5 MB in `kolokol`.
pub fn logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("KOLOKOL_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
        .with(filter)
        .init();
}

/// `kolokol-ui`'s start: logging; runs a command and exits, or returns to start the app.
pub fn app_command_line() -> Start {
    logging();
    let mut start = read();
    if let Some(command) = start.args.command.take() {
        std::process::exit(cli::run(command, &start.data_dir));
    }
    start
}

/// The command line and the data folder. Prints the usage or refuses bad
/// arguments, and exits; returns the launch otherwise.
fn read() -> Start {
    let started = Instant::now();
    let started = std::env::var(LAUNCHED_ENV)
        .ok()
        .and_then(|us| us.parse().ok())
        .and_then(|us| started.checked_sub(Duration::from_micros(us)))
        .unwrap_or(started);
    let show = std::env::var(SHOW_ENV).ok().and_then(|s| Show::parse(&s));
    let handed_back = std::env::var_os(HANDED_BACK_ENV).is_some();
    // Read once, here, while this is the only thread: nothing the app starts
    // (a browser, a second launch) inherits them.
    std::env::remove_var(LAUNCHED_ENV);
    std::env::remove_var(SHOW_ENV);
    std::env::remove_var(HANDED_BACK_ENV);
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) if a.help => {
            print!("{}", cli::USAGE);
            std::process::exit(0);
        }
        Ok(a) => a,
        Err(e) => {
            eprintln!("kolokol: {e}\n\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };
    let data_dir = datadir::choose(args.data_dir.as_deref());
    if let Err(e) = datadir::create_private(&data_dir) {
        eprintln!("kolokol: cannot create the data directory {}: {e}", data_dir.display());
        std::process::exit(1);
    }
    Start { data_dir: datadir::canonical(&data_dir), args, started, show, handed_back }
}

/// Starts `kolokol-ui` with this launch's arguments and environment. Unix:
/// exec, never returns. Elsewhere: runs it and exits with its exit code.
pub fn hand_over(start: &Start) -> ! {
    let arg0 = std::env::args_os().next();
    let mut command = ui_command(std::env::args_os().skip(1), arg0);
    command.env(LAUNCHED_ENV, start.started.elapsed().as_micros().to_string());
    replace_with(command, true)
}

/// `kolokol-ui` beside this program with `args`; `arg0` as the user typed
/// it (GTK names the app, its WM_CLASS, after it).
pub fn ui_command(args: impl IntoIterator<Item = OsString>, arg0: Option<OsString>) -> std::process::Command {
    match command_beside(UI_BINARY, args, arg0) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kolokol: {e}");
            std::process::exit(1);
        }
    }
}

/// The program `name` beside this one with `args`, `arg0` kept (Unix).
pub fn command_beside(name: &str, args: impl IntoIterator<Item = OsString>, arg0: Option<OsString>) -> Result<std::process::Command, String> {
    let program = beside(name).map_err(|e| format!("cannot find this program's folder to start {name}: {e}"))?;
    let mut command = std::process::Command::new(program);
    command.args(args);
    #[cfg(unix)]
    if let Some(arg0) = arg0 {
        use std::os::unix::process::CommandExt;
        command.arg0(arg0);
    }
    #[cfg(not(unix))]
    let _ = arg0;
    Ok(command)
}

/// The tray-only app's hand-over: `kolokol-ui` on the same data folder,
/// showing `show`, or running a second launch's arguments from its folder.
pub fn window_app(data_dir: &Path, show: Option<Show>, launch: Option<(Vec<String>, String)>) -> std::process::Command {
    let arg0 = std::env::args_os().next();
    let mut command = match launch {
        Some((argv, cwd)) => {
            let mut c = ui_command(argv.into_iter().skip(1).map(OsString::from), arg0);
            c.current_dir(cwd);
            c
        }
        None => ui_command([OsString::from("--data-dir"), data_dir.into(), "--minimized".into()], arg0),
    };
    if let Some(show) = show {
        command.env(SHOW_ENV, show.to_env());
    }
    command
}

/// Becomes `command`: on Unix by exec (never returns); elsewhere by running
/// it and exiting, with its exit code when `wait`.
pub fn replace_with(mut command: std::process::Command, wait: bool) -> ! {
    #[cfg(unix)]
    let e = {
        use std::os::unix::process::CommandExt;
        let _ = wait;
        command.exec()
    };
    #[cfg(not(unix))]
    let e = match if wait { command.status().map(|s| s.code().unwrap_or(1)) } else { command.spawn().map(|_| 0) } {
        Ok(code) => std::process::exit(code),
        Err(e) => e,
    };
    eprintln!("kolokol: cannot start {}: {e}", command.get_program().to_string_lossy());
    std::process::exit(1);
}

/// The program `name` in this program's folder (`kolokol` and `kolokol-ui` are installed side by side).
pub fn beside(name: &str) -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}
