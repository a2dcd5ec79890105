//! The running instance's control socket, for `kolokol status` and
//! `kolokol send`: one JSON request line, one JSON answer line. A local socket
//! named after the data directory (abstract namespace on Linux, a named pipe on
//! Windows, a file in /tmp on macOS), so each data directory has its own.
//! No Tauri here.

use std::io::Read;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use interprocess::local_socket::prelude::*;
use interprocess::local_socket::{GenericNamespaced, ListenerOptions, Name, Stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    Send { method: String, payload: String },
}

/// Largest request line read; a payload is at most 64 KiB as JSON, escaped once more.
const MAX_LINE: u64 = 512 * 1024;

pub fn socket_name(data_dir: &Path) -> String {
    format!("kolokol-{:016x}.sock", crate::core::datadir::hash(data_dir))
}

fn name(data_dir: &Path) -> std::io::Result<Name<'static>> {
    socket_name(data_dir).to_ns_name::<GenericNamespaced>().map(|n| n.into_owned())
}

/// Serves requests on a thread of its own; `handle` answers each one.
pub fn serve(data_dir: &Path, handle: impl Fn(Request) -> Value + Send + 'static) -> std::io::Result<()> {
    let listener = ListenerOptions::new().name(name(data_dir)?).reclaim_name(true).try_overwrite(true).create_sync()?;
    std::thread::Builder::new().name("control".into()).spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let mut reader = BufReader::new(conn);
            let mut line = String::new();
            let answer = match (&mut reader).take(MAX_LINE).read_line(&mut line) {
                Ok(_) => match serde_json::from_str::<Request>(&line) {
                    Ok(req) => handle(req),
                    Err(e) => serde_json::json!({ "error": format!("bad request: {e}") }),
                },
                Err(e) => serde_json::json!({ "error": format!("cannot read the request: {e}") }),
            };
            let mut conn = reader.into_inner();
            let _ = writeln!(conn, "{answer}");
        }
    })?;
    Ok(())
}

/// Asks the instance running on `data_dir`. `Err` when none runs there.
pub fn request(data_dir: &Path, req: &Request) -> Result<Value, String> {
    let conn = Stream::connect(name(data_dir).map_err(|e| e.to_string())?)
        .map_err(|e| format!("Kolokol is not running for {} ({e})", data_dir.display()))?;
    let mut conn = BufReader::new(conn);
    let line = serde_json::to_string(req).map_err(|e| e.to_string())?;
    writeln!(conn.get_mut(), "{line}").map_err(|e| e.to_string())?;
    let mut answer = String::new();
    conn.read_line(&mut answer).map_err(|e| e.to_string())?;
    serde_json::from_str(&answer).map_err(|e| format!("unreadable answer from Kolokol: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_not_running() {
        let dir = tempfile::tempdir().unwrap();
        assert!(request(dir.path(), &Request::Status).unwrap_err().contains("not running"));
        serve(dir.path(), |req| match req {
            Request::Status => serde_json::json!({ "unread": 3 }),
            Request::Send { method, payload } => serde_json::json!({ "method": method, "len": payload.len() }),
        })
        .unwrap();
        assert_eq!(request(dir.path(), &Request::Status).unwrap()["unread"], 3);
        let a = request(dir.path(), &Request::Send { method: "add_call".into(), payload: "{\"text\":\"t\"}".into() }).unwrap();
        assert_eq!((a["method"].as_str(), a["len"].as_u64()), (Some("add_call"), Some(12)));
    }
}
