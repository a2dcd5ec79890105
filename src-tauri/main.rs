// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

//! `kolokol`: `send` and `status` run here, without WebKit, and so does the
//! app while it needs no window (tray only); windows and the other commands
//! are handed over to `kolokol-ui` (see `launch`).

fn main() {
    let start = kolokol_lib::launch::command_line();
    kolokol_lib::launch::app(start);
}
