//! `kolokol pbx …`: the PBX side of the fleet, for a dialplan or a script.
//! Publishes one message (see `fleet.rs`) to the account's queue or agent
//! subject and waits for the broker to have stored it. Exit codes as `send`:
//! 0 stored (prints `{id, call, subject, seq}`), 1 refused (the field is
//! named), 2 bad arguments, 3 the broker cannot be reached.
//!
//! ```text
//! kolokol pbx [CONNECTION] (--queue Q | --agent A) ring CALL 'PAYLOAD JSON' [--method add_call|add_error]
//! kolokol pbx [CONNECTION] (--queue Q | --agent A) answered CALL AGENT [NAME]
//! kolokol pbx [CONNECTION] (--queue Q | --agent A) ended CALL [--duration S] [--link URL]
//! CONNECTION: --server URL (repeatable) --account A [--user U] [--creds FILE] [--tls-ca FILE] [--id MESSAGE_ID]
//! ```
//! The password (with `--user`) and a token come from the environment
//! (`KOLOKOL_NATS_PASSWORD`, `KOLOKOL_NATS_TOKEN`), never the command line,
//! which other local users can read.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::fleet::{self, FleetConfig};
use super::fleet_client;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbx {
    /// Servers, account and credentials (the agent fields are unused).
    pub conn: FleetConfig,
    /// The subject the message goes to.
    pub subject: String,
    /// The message as it will be published.
    pub message: Value,
}

/// How long the broker may take to connect and to store the message.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Parses what follows `pbx`.
pub fn parse(args: &mut dyn Iterator<Item = String>) -> Result<Pbx, String> {
    let mut c = FleetConfig { enabled: true, agent: "pbx".into(), ..Default::default() };
    let (mut queue, mut agent, mut id, mut method) = (None, None, None, "add_call".to_string());
    let (mut duration, mut link) = (None, None);
    let mut words = vec![];
    let need = |it: &mut dyn Iterator<Item = String>, flag: &str| it.next().ok_or(format!("pbx: {flag} needs a value"));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--server" => c.servers.push(need(args, &a)?),
            "--account" => c.account = need(args, &a)?,
            "--user" => c.user = Some(need(args, &a)?),
            "--creds" => c.creds_file = Some(PathBuf::from(need(args, &a)?)),
            "--tls-ca" => c.tls_ca = Some(PathBuf::from(need(args, &a)?)),
            "--queue" => queue = Some(need(args, &a)?),
            "--agent" => agent = Some(need(args, &a)?),
            "--id" => id = Some(need(args, &a)?),
            "--method" => method = need(args, &a)?,
            "--duration" => duration = Some(need(args, &a)?),
            "--link" => link = Some(need(args, &a)?),
            s if s.starts_with("--") => return Err(format!("pbx: unknown option {s:?}")),
            _ => words.push(a),
        }
    }
    if c.user.is_some() {
        c.password = Some(std::env::var("KOLOKOL_NATS_PASSWORD").map_err(|_| "pbx: --user needs the password in KOLOKOL_NATS_PASSWORD")?);
    }
    c.token = std::env::var("KOLOKOL_NATS_TOKEN").ok().filter(|t| !t.is_empty());
    c.check().map_err(|e| format!("pbx: {}", e.replacen("fleet.", "--", 1)))?;
    let subject = match (&queue, &agent) {
        (Some(q), None) => {
            fleet::check_name("--queue", q)?;
            fleet::queue_subject(&c.account, q)
        }
        (None, Some(a)) => {
            fleet::check_name("--agent", a)?;
            fleet::agent_subject(&c.account, a)
        }
        _ => return Err("pbx: give one of --queue QUEUE or --agent AGENT".into()),
    };
    let mut w = words.into_iter();
    let event = w.next().ok_or("pbx: ring, answered or ended?")?;
    let call = w.next().ok_or(format!("pbx {event}: the call id is missing"))?;
    let id = id.unwrap_or_else(|| format!("{call}-{event}-{}", uuid::Uuid::now_v7().simple()));
    let message = match event.as_str() {
        "ring" | "ringing" => {
            let raw = w.next().ok_or("pbx ring: the payload is missing, e.g. '{\"text\":\"Incoming call\",\"from\":\"+7…\"}'")?;
            let payload: Value = serde_json::from_str(&raw).map_err(|e| format!("pbx ring: the payload is not JSON: {e}"))?;
            json!({ "id": id, "call": call, "event": "ringing", "method": method, "payload": payload })
        }
        "answered" => {
            let by = w.next().ok_or("pbx answered: the agent who answered is missing")?;
            let name = w.next();
            json!({ "id": id, "call": call, "event": "answered", "agent": by, "name": name })
        }
        "ended" => {
            let d = match duration {
                Some(d) => Some(d.parse::<u64>().map_err(|_| format!("pbx ended: --duration {d:?} is not a number of seconds"))?),
                None => None,
            };
            json!({ "id": id, "call": call, "event": "ended", "duration": d, "link": link })
        }
        other => return Err(format!("pbx: {other:?} is not ring, answered or ended")),
    };
    if let Some(extra) = w.next() {
        return Err(format!("pbx {event}: unexpected argument {extra:?} (quote the JSON as one argument)"));
    }
    Ok(Pbx { conn: c, subject, message })
}

/// Publishes; the exit code.
pub fn run(p: Pbx) -> i32 {
    if let Err(r) = fleet::parse(p.message.to_string().as_bytes()) {
        eprintln!("kolokol: pbx message refused ({}): {}: {}", r.code, r.field, r.message);
        return 1;
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kolokol: {e}");
            return 1;
        }
    };
    rt.block_on(async {
        let client = match tokio::time::timeout(TIMEOUT, fleet_client::connect_once(&p.conn)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                eprintln!("kolokol: pbx: {e}");
                return 3;
            }
            Err(_) => {
                eprintln!("kolokol: pbx: no answer from {} within {} s", p.conn.servers.join(", "), TIMEOUT.as_secs());
                return 3;
            }
        };
        let published = tokio::time::timeout(TIMEOUT, fleet_client::publish(&client, &p.conn.account, &p.subject, &p.message)).await;
        // The claims bucket agents *Take* calls in: made once by the PBX's
        // login (agents may only use it). Not being allowed is not an error here.
        if matches!(published, Ok(Ok(_))) {
            let js = async_nats::jetstream::new(client.clone());
            if let Ok(Err(e)) = tokio::time::timeout(TIMEOUT, fleet_client::claims(&js, &p.conn.account)).await {
                tracing::debug!("claims bucket: {e}");
            }
        }
        let _ = client.flush().await;
        match published {
            Ok(Ok(seq)) => {
                println!("{}", json!({ "id": p.message["id"], "call": p.message["call"], "subject": p.subject, "seq": seq }));
                0
            }
            Ok(Err(r)) => {
                eprintln!("kolokol: pbx message refused ({}): {}: {}", r.code, r.field, r.message);
                1
            }
            Err(_) => {
                eprintln!(
                    "kolokol: pbx: the broker did not confirm {} within {} s (is this user allowed to publish there?)",
                    p.subject,
                    TIMEOUT.as_secs()
                );
                1
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Pbx, String> {
        parse(&mut a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_the_three_events_and_names_what_is_wrong() {
        let base = ["--server", "nats://127.0.0.1:4222", "--account", "acme"];
        let with = |rest: &[&str]| p(&[&base[..], rest].concat());
        let r = with(&["--queue", "sales", "ring", "c1", r#"{"text":"Incoming"}"#]).unwrap();
        assert_eq!(r.subject, "kolokol.acme.queue.sales");
        assert_eq!((r.message["event"].as_str(), r.message["payload"]["text"].as_str()), (Some("ringing"), Some("Incoming")));
        let a = with(&["--agent", "a1", "answered", "c1", "a2", "Boris", "--id", "m-1"]).unwrap();
        assert_eq!((a.subject.as_str(), a.message["id"].as_str(), a.message["name"].as_str()), ("kolokol.acme.agent.a1", Some("m-1"), Some("Boris")));
        let e = with(&["--queue", "sales", "ended", "c1", "--duration", "42", "--link", "https://r/1.mp3"]).unwrap();
        assert_eq!(e.message["duration"], 42);
        assert!(with(&["ring", "c1", "{}"]).unwrap_err().contains("--queue"));
        assert!(with(&["--queue", "a.b", "ring", "c1", "{}"]).unwrap_err().contains("--queue"));
        assert!(with(&["--queue", "s", "ring", "c1", "{x"]).unwrap_err().contains("not JSON"));
        assert!(with(&["--queue", "s", "hangup", "c1"]).unwrap_err().contains("hangup"));
        assert!(with(&["--queue", "s", "ended", "c1", "--duration", "long"]).unwrap_err().contains("--duration"));
        assert!(p(&["--account", "acme", "--queue", "s", "ring", "c1", "{}"]).unwrap_err().contains("--servers"));
        assert!(p(&["--server", "http://x", "--account", "acme", "--queue", "s", "ring", "c1", "{}"]).unwrap_err().contains("--servers"));
    }

    #[test]
    fn a_bad_payload_is_refused_before_connecting() {
        let r = p(&["--server", "nats://127.0.0.1:1", "--account", "acme", "--queue", "s", "ring", "c1", r#"{"from":"+7"}"#]).unwrap();
        assert_eq!(run(r), 1, "refused (payload.text), no connection tried");
    }
}
