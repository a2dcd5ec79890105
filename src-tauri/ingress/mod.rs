//! Ways a notification comes in other than a page of the workspace.

pub mod cli;
pub mod control;
pub mod fleet;
pub mod fleet_client;
pub mod http;
