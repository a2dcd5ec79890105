//! The widget author's tools, Tauri-free: what can be opened and how its
//! files are served, manifest checks, the call log, the per-page call budget
//! and the fake account. The host page (`host/`) runs a widget folder; the
//! windows and the `kolokol:` scheme are in `shell/workbench.rs`.

pub mod assets;
pub mod calllog;
pub mod manifest;
pub mod profile;
pub mod ratelimit;
pub mod stubs;
pub mod target;
