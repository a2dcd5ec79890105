//! What the two programs do before the app starts: the command line and the
//! data folder, and the commands that need no window. `kolokol` answers
//! `send` and `status` itself with no more than the control socket and links
//! no WebKit, so the command a PBX or a script runs for every call starts in
//! milliseconds. Everything else it hands over to `kolokol-ui` beside it, the
//! Tauri app (`shell/`), which also runs `history` and `pbx`: on Unix by exec,
//! so the app keeps this process's id, its arguments and its environment.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::core::datadir;
use crate::ingress::cli;

/// The command's file name, and the window app's beside it (installed and built alike).
pub const COMMAND: &str = "kolokol";
pub const UI_BINARY: &str = "kolokol-ui";

/// How long `kolokol` ran before handing over, so `kolokol-ui` counts its
/// start → tray ready from the user's launch (microseconds).
const LAUNCHED_ENV: &str = "KOLOKOL_LAUNCHED_US";

/// A launch `kolokol` hands over, or `kolokol-ui` runs.
pub struct Start {
    pub args: cli::Args,
    /// Created, private, canonical.
    pub data_dir: PathBuf,
    /// When the user's launch began (before the hand-over, when there was one).
    pub started: Instant,
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

/// `kolokol-ui`'s start: logging; runs a command and exits, or returns to start the app.
pub fn app_command_line() -> Start {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KOLOKOL_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
    // Read once, here, while this is the only thread: nothing the app starts
    // (a browser, a second launch) inherits it.
    std::env::remove_var(LAUNCHED_ENV);
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
    Start { data_dir: datadir::canonical(&data_dir), args, started }
}

/// Starts `kolokol-ui` with this launch's arguments and environment. Unix:
/// exec, never returns. Elsewhere: runs it and exits with its exit code.
pub fn hand_over(start: &Start) -> ! {
    let ui = match beside(UI_BINARY) {
        Ok(ui) => ui,
        Err(e) => {
            eprintln!("kolokol: cannot find this program's folder to start {UI_BINARY}: {e}");
            std::process::exit(1);
        }
    };
    let mut command = std::process::Command::new(&ui);
    command.args(std::env::args_os().skip(1)).env(LAUNCHED_ENV, start.started.elapsed().as_micros().to_string());
    #[cfg(unix)]
    let e = {
        use std::os::unix::process::CommandExt;
        // argv[0] as the user typed it: GTK names the app (WM_CLASS) after it.
        if let Some(arg0) = std::env::args_os().next() {
            command.arg0(arg0);
        }
        command.exec()
    };
    #[cfg(not(unix))]
    let e = match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    };
    eprintln!("kolokol: cannot start {}: {e}", ui.display());
    std::process::exit(1);
}

/// The program `name` in this program's folder (`kolokol` and `kolokol-ui` are installed side by side).
pub fn beside(name: &str) -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}
