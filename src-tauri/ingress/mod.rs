//! Ways a notification comes in other than a page of the workspace.

pub mod cli;
pub mod control;
pub mod session_lock;
