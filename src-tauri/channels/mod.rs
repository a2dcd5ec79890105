//! Where an accepted center notification goes after the router.

pub mod badge;
pub mod history;
pub mod toast;
pub mod tray;
