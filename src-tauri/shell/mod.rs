//! The only code that touches Tauri: it wires the Tauri-free folders to
//! windows, the tray, the `notifications` plugin and the `kolokol:` scheme.

mod app;
mod browse;
mod commands;
mod downloads;
mod media;
mod ingress;
mod newwindow;
mod plugin;
mod state;
mod tray;
pub mod tray_only;
mod webkit;
mod webnotify;
mod workbench;

pub use app::run;
