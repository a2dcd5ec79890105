// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

//! `kolokol-ui`: the Tauri app (tray, windows, webviews), and the commands
//! `history` and `pbx`; `kolokol` hands over to it.

fn main() {
    kolokol_lib::run(kolokol_lib::launch::app_command_line());
}
