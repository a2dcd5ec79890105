//! The contract and the decisions: what a call may carry and where it goes.

pub mod api;
pub mod autostart;
pub mod away;
pub mod datadir;
pub mod downloads;
pub mod html;
pub mod i18n;
pub mod links;
pub mod memory;
pub mod permissions;
pub mod quota;
pub mod router;
pub mod settings;
pub mod webnotify;
pub mod zoom;
