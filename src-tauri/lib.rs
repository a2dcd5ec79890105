//! Kolokol: amoCRM's `APP.notifications` on the desktop.
//!
//! The folders follow a notification on its way:
//! - `ingress/`: ways in other than a page — the command line and the running
//!   instance's local control socket, the loopback HTTP endpoint, the call
//!   center's fleet over NATS JetStream and the PBX's command (pages come in
//!   through `shell/plugin.rs`);
//! - `core/`: the contract and the decisions — validation and normalisation
//!   (`api`), the HTML subset, link rules, routing, settings, Kolokol's strings;
//! - `channels/`: where an accepted notification goes — the durable history,
//!   native toasts, the unread badge;
//! - `workbench/`: the widget author's tools — targets, manifest checks, the
//!   call log, the per-page budget, the fake account, the widget host page;
//! - `shell/`: the only code that touches Tauri — windows, tray, the
//!   `notifications` plugin and its init script, commands, the `kolokol:` scheme.
//!
//! Everything outside `shell/` builds and tests without a display;
//! `tests/layout.rs` fails if it names Tauri.

pub mod channels;
pub mod core;
pub mod ingress;
pub mod launch;
pub mod services;
mod shell;
pub mod workbench;

pub use shell::run;
pub use shell::tray_only::run as run_tray_only;
