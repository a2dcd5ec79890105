//! Ways a notification comes in other than a page of the workspace: the
//! command line and the control socket (`kolokol send`), the loopback HTTP
//! endpoint for local scripts, and the call center's fleet over NATS
//! JetStream (`fleet`: settings, subjects, messages; `fleet_client`: the
//! connection; `pbx`: the PBX's command).

pub mod cli;
pub mod control;
pub mod fleet;
pub mod fleet_client;
pub mod http;
pub mod pbx;
pub mod session_lock;
