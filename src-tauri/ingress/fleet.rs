//! The call center's fleet, part one: its settings, its NATS subjects, the
//! messages a PBX publishes and the history rows they become. Pure functions,
//! no network and no Tauri (the connection is `fleet_client.rs`).
//!
//! Subjects (one JetStream stream per account, `KOLOKOL_<account>`, holds
//! `kolokol.<account>.>`):
//! - `kolokol.<account>.queue.<queue>`: calls for every agent of a queue;
//! - `kolokol.<account>.agent.<agent>`: calls for one agent.
//!
//! A message is one JSON object:
//! - `{"id", "call", "event": "ringing", "method": "add_call", "payload": {…}}`
//!   — `payload` is what a page passes to `APP.notifications.add_call`, and is
//!   validated the same way;
//! - `{"id", "call", "event": "answered", "agent": "a17", "name": "Anna"}`;
//! - `{"id", "call", "event": "ended", "duration": 42, "link": "https://…"}`.
//!
//! `id` is the message's own id (redeliveries and republishes share it);
//! `call` names the call across its events. The call's history row carries
//! the tag `fleet:<call>`, so each event rewrites the same row: however often
//! a message arrives, a call is one row.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::core::api::{self, Method, Refusal};

/// Longest account, agent, queue or call id.
pub const MAX_NAME: usize = 64;
/// Largest message on the wire (a 64 KiB payload and the envelope).
pub const MAX_MESSAGE: usize = api::MAX_PAYLOAD_BYTES + 4096;

/// The fleet's settings (workbench *Settings*, `settings.json`'s `fleet`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetConfig {
    /// Off until the call center's details are filled in and this is ticked.
    pub enabled: bool,
    /// `nats://host:4222`, `tls://host:4222`; tried in turn.
    pub servers: Vec<String>,
    pub account: String,
    /// This agent's id (its subject, its durable consumers, its claims).
    pub agent: String,
    /// The name other agents see in "answered by".
    pub name: String,
    pub queues: Vec<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    /// An NATS credentials file (JWT and nkey seed).
    pub creds_file: Option<PathBuf>,
    /// A PEM file of the CA that signed the server's certificate.
    pub tls_ca: Option<PathBuf>,
}

/// A name that is safe as a subject token, a consumer name and a KV key.
pub fn check_name(field: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_NAME || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(format!("{field}: {v:?} must be 1 to {MAX_NAME} letters, digits, '_' or '-'"));
    }
    Ok(())
}

impl FleetConfig {
    /// Checks a configuration that is on; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.servers.is_empty() {
            return Err("fleet.servers: at least one server, e.g. nats://pbx.example:4222".into());
        }
        for s in &self.servers {
            let u = url::Url::parse(s).map_err(|e| format!("fleet.servers: {s:?} is not an address: {e}"))?;
            if !matches!(u.scheme(), "nats" | "tls") || u.host_str().is_none_or(str::is_empty) {
                return Err(format!("fleet.servers: {s:?} must be nats://host:port or tls://host:port"));
            }
        }
        check_name("fleet.account", &self.account)?;
        check_name("fleet.agent", &self.agent)?;
        for q in &self.queues {
            check_name("fleet.queues", q)?;
        }
        let ways = [self.user.is_some(), self.token.is_some(), self.creds_file.is_some()].iter().filter(|x| **x).count();
        if ways > 1 {
            return Err("fleet.user: give one way to log in: user and password, a token, or a credentials file".into());
        }
        if self.user.is_some() != self.password.is_some() {
            return Err("fleet.password: a user needs a password (and a password a user)".into());
        }
        for (field, p) in [("fleet.creds_file", &self.creds_file), ("fleet.tls_ca", &self.tls_ca)] {
            if let Some(p) = p {
                if !p.is_file() {
                    return Err(format!("{field}: {} is not a readable file", p.display()));
                }
            }
        }
        if self.name.chars().count() > 100 {
            return Err("fleet.name: at most 100 characters".into());
        }
        Ok(())
    }

    /// The subjects this agent listens to: its queues', then its own.
    pub fn subjects(&self) -> Vec<String> {
        let mut v: Vec<String> = self.queues.iter().map(|q| queue_subject(&self.account, q)).collect();
        v.push(agent_subject(&self.account, &self.agent));
        v
    }

    /// The history's source for this account's calls (its own tags and quota).
    pub fn source(&self) -> String {
        source(&self.account)
    }
}

pub fn source(account: &str) -> String {
    format!("fleet:{account}")
}

pub fn queue_subject(account: &str, queue: &str) -> String {
    format!("kolokol.{account}.queue.{queue}")
}

pub fn agent_subject(account: &str, agent: &str) -> String {
    format!("kolokol.{account}.agent.{agent}")
}

/// The JetStream stream of an account.
pub fn stream_name(account: &str) -> String {
    format!("KOLOKOL_{account}")
}

/// The KV bucket where agents claim calls.
pub fn claims_bucket(account: &str) -> String {
    format!("kolokol_{account}_claims")
}

/// The durable consumer of `agent` for `subject` (one per subject: the
/// server may be older than multi-filter consumers).
pub fn durable_name(agent: &str, subject: &str) -> String {
    let last = subject.rsplit('.').next().unwrap_or_default();
    let kind = if subject.contains(".queue.") { "q" } else { "a" };
    format!("{agent}_{kind}_{last}")
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ringing { method: Method, payload: Value },
    Answered { agent: String, name: String },
    Ended { duration: Option<u64>, link: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub call: String,
    pub event: Event,
}

#[derive(Deserialize)]
struct Wire {
    id: Option<Value>,
    call: Option<Value>,
    event: Option<String>,
    method: Option<String>,
    payload: Option<Value>,
    agent: Option<String>,
    name: Option<String>,
    duration: Option<Value>,
    link: Option<String>,
}

fn id_field(field: &str, v: Option<Value>) -> Result<String, Refusal> {
    let s = match v {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Refusal::new("missing", field, format!("`{field}` is required: a string"))),
    };
    if s.is_empty() || s.len() > 128 || s.chars().any(char::is_control) {
        return Err(Refusal::new("invalid", field, format!("`{field}` must be 1 to 128 characters without control characters")));
    }
    Ok(s)
}

/// Parses and validates one message; the refusal names the field
/// (`payload.text` for what the payload lacks).
pub fn parse(bytes: &[u8]) -> Result<Message, Refusal> {
    if bytes.len() > MAX_MESSAGE {
        return Err(Refusal::new("too_large", "message", format!("{} bytes; at most {MAX_MESSAGE}", bytes.len())));
    }
    let w: Wire = serde_json::from_slice(bytes)
        .map_err(|e| Refusal::new("invalid_json", "message", format!("not a JSON message object: {e}")))?;
    let id = id_field("id", w.id)?;
    let call = id_field("call", w.call)?;
    let event = match w.event.as_deref().unwrap_or("ringing") {
        "ringing" => {
            let m = w.method.as_deref().unwrap_or("add_call");
            let method = Method::parse(m)
                .filter(|m| matches!(m, Method::AddCall | Method::AddError))
                .ok_or_else(|| Refusal::new("unknown_method", "method", format!("{m:?}: the fleet carries add_call and add_error")))?;
            let payload = w.payload.ok_or_else(|| Refusal::new("missing", "payload", "`payload` is required for a ringing call"))?;
            let raw = payload.to_string();
            api::normalize(method, &raw, api::Context { account: None, now_ms: api::now_ms(), id: id.clone() })
                .map_err(|r| {
                    let field = if r.field == "payload" { r.field.clone() } else { format!("payload.{}", r.field) };
                    Refusal { field, ..r }
                })?;
            Event::Ringing { method, payload }
        }
        "answered" => {
            let agent = w.agent.ok_or_else(|| Refusal::new("missing", "agent", "`agent` (who answered) is required"))?;
            check_name("agent", &agent).map_err(|e| Refusal::new("invalid", "agent", e))?;
            let name = w.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| agent.clone());
            Event::Answered { agent, name: name.chars().take(100).collect() }
        }
        "ended" => {
            let duration = match w.duration {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => n.as_f64().filter(|d| *d >= 0.0).map(|d| d as u64),
                Some(Value::String(s)) => s.trim().parse().ok(),
                Some(_) => None,
            };
            Event::Ended { duration, link: w.link }
        }
        other => return Err(Refusal::new("invalid", "event", format!("{other:?}: expected ringing, answered or ended"))),
    };
    Ok(Message { id, call, event })
}

/// The tag of a call's row.
pub fn tag(call: &str) -> String {
    format!("fleet:{call}")
}

/// What the app must do with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A new row, and a toast when `missed` is false.
    Ring { method: &'static str, payload: String, tag: String, missed: bool },
    /// The call's row rewritten without a toast; its toast closes.
    Update { method: &'static str, payload: String, tag: String },
    /// "N calls missed while offline": one toast after a catch-up.
    Summary { missed: u64 },
}

/// The calls seen lately, so "answered" and "ended" can rewrite their rows.
#[derive(Default)]
pub struct Book {
    calls: HashMap<String, (Method, Map<String, Value>)>,
    order: VecDeque<String>,
}

/// Calls remembered by a [`Book`].
pub const BOOK: usize = 10_000;

impl Book {
    /// Turns a message into the row to store. `me` is this agent (its own
    /// answer reads "answered by you").
    pub fn action(&mut self, me: &str, m: &Message, missed: bool) -> Action {
        let tag = tag(&m.call);
        match &m.event {
            Event::Ringing { method, payload } => {
                let mut p = payload.as_object().cloned().unwrap_or_default();
                if missed {
                    let text = p.get("text").and_then(Value::as_str).unwrap_or("").to_owned();
                    p.insert("text".into(), json!(format!("{text} — missed while offline")));
                }
                p.insert("tag".into(), json!(tag));
                p.insert("fleet".into(), json!({ "call": m.call, "message": m.id, "state": if missed { "missed" } else { "ringing" } }));
                self.remember(&m.call, *method, p.clone());
                Action::Ring { method: method.as_str(), payload: Value::Object(p).to_string(), tag, missed }
            }
            Event::Answered { agent, name } => {
                let (method, mut p) = self.known(&m.call);
                let by = if agent == me { format!("you ({name})") } else { name.clone() };
                let text = p.get("text").and_then(Value::as_str).unwrap_or("").replace(" — missed while offline", "");
                p.insert("text".into(), json!(format!("{text} — answered by {by}")));
                p.insert("fleet".into(), json!({ "call": m.call, "message": m.id, "state": "answered", "agent": agent, "name": name }));
                self.remember(&m.call, method, p.clone());
                Action::Update { method: method.as_str(), payload: Value::Object(p).to_string(), tag }
            }
            Event::Ended { duration, link } => {
                let (method, mut p) = self.known(&m.call);
                if let Some(d) = duration {
                    p.insert("duration".into(), json!(d));
                }
                if let Some(l) = link {
                    p.insert("link".into(), json!(l));
                }
                if let Some(Value::Object(f)) = p.get_mut("fleet") {
                    f.insert("state".into(), json!("ended"));
                    f.insert("message".into(), json!(m.id));
                }
                self.remember(&m.call, method, p.clone());
                Action::Update { method: method.as_str(), payload: Value::Object(p).to_string(), tag }
            }
        }
    }

    fn known(&self, call: &str) -> (Method, Map<String, Value>) {
        self.calls.get(call).cloned().unwrap_or_else(|| {
            let mut p = Map::new();
            p.insert("text".into(), json!(format!("Call {call}")));
            p.insert("tag".into(), json!(tag(call)));
            (Method::AddCall, p)
        })
    }

    fn remember(&mut self, call: &str, method: Method, p: Map<String, Value>) {
        if self.calls.insert(call.to_owned(), (method, p)).is_none() {
            self.order.push_back(call.to_owned());
            if self.order.len() > BOOK {
                if let Some(old) = self.order.pop_front() {
                    self.calls.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> FleetConfig {
        FleetConfig {
            enabled: true,
            servers: vec!["nats://127.0.0.1:4222".into()],
            account: "acme".into(),
            agent: "a1".into(),
            name: "Anna".into(),
            queues: vec!["sales".into(), "support".into()],
            ..Default::default()
        }
    }

    #[test]
    fn configuration_errors_name_the_field() {
        assert_eq!(config().check(), Ok(()));
        assert_eq!(FleetConfig::default().check(), Ok(()), "off: nothing to check");
        let e = |c: FleetConfig| c.check().unwrap_err();
        assert!(e(FleetConfig { servers: vec![], ..config() }).starts_with("fleet.servers:"));
        assert!(e(FleetConfig { servers: vec!["http://x".into()], ..config() }).starts_with("fleet.servers:"));
        assert!(e(FleetConfig { agent: "a.b".into(), ..config() }).starts_with("fleet.agent:"), "a dot would split the subject");
        assert!(e(FleetConfig { queues: vec!["*".into()], ..config() }).starts_with("fleet.queues:"));
        assert!(e(FleetConfig { account: "".into(), ..config() }).starts_with("fleet.account:"));
        assert!(e(FleetConfig { user: Some("u".into()), ..config() }).starts_with("fleet.password:"));
        assert!(e(FleetConfig { user: Some("u".into()), password: Some("p".into()), token: Some("t".into()), ..config() }).starts_with("fleet.user:"));
        assert!(e(FleetConfig { tls_ca: Some("/nonexistent/ca.pem".into()), ..config() }).starts_with("fleet.tls_ca:"));
    }

    #[test]
    fn subjects_and_names() {
        let c = config();
        assert_eq!(c.subjects(), ["kolokol.acme.queue.sales", "kolokol.acme.queue.support", "kolokol.acme.agent.a1"]);
        assert_eq!(durable_name("a1", "kolokol.acme.queue.sales"), "a1_q_sales");
        assert_eq!(durable_name("a1", "kolokol.acme.agent.a1"), "a1_a_a1");
        assert_eq!((stream_name("acme"), claims_bucket("acme"), c.source()), ("KOLOKOL_acme".into(), "kolokol_acme_claims".into(), "fleet:acme".into()));
    }

    #[test]
    fn messages_are_validated_like_a_page_call() {
        let ok = parse(br#"{"id":"m1","call":"c1","event":"ringing","method":"add_call","payload":{"text":"Incoming","from":"+7 999"}}"#).unwrap();
        assert_eq!((ok.id.as_str(), ok.call.as_str()), ("m1", "c1"));
        assert!(matches!(ok.event, Event::Ringing { method: Method::AddCall, .. }));
        let field = |b: &[u8]| parse(b).unwrap_err().field;
        assert_eq!(field(br#"{"id":"m1","call":"c1","payload":{"from":"+7"}}"#), "payload.text");
        assert_eq!(field(br#"{"id":"m1","call":"c1","payload":"x"}"#), "payload");
        assert_eq!(field(br#"{"call":"c1","payload":{"text":"t"}}"#), "id");
        assert_eq!(field(br#"{"id":"m1","payload":{"text":"t"}}"#), "call");
        assert_eq!(field(br#"{"id":"m1","call":"c1","method":"show_message","payload":{"text":"t"}}"#), "method");
        assert_eq!(field(br#"{"id":"m1","call":"c1","event":"hangup"}"#), "event");
        assert_eq!(field(br#"{"id":"m1","call":"c1","event":"answered"}"#), "agent");
        assert_eq!(field(b"[1,2]"), "message");
        assert_eq!(field(&vec![b' '; MAX_MESSAGE + 1]), "message");
        let ended = parse(br#"{"id":"m3","call":"c1","event":"ended","duration":"42","link":"https://r/1.mp3"}"#).unwrap();
        assert_eq!(ended.event, Event::Ended { duration: Some(42), link: Some("https://r/1.mp3".into()) });
    }

    #[test]
    fn a_call_is_one_row_through_its_events() {
        let mut b = Book::default();
        let ring = parse(br#"{"id":"m1","call":"c1","payload":{"text":"Incoming","from":"+7"}}"#).unwrap();
        let Action::Ring { payload, tag, missed: false, .. } = b.action("a1", &ring, false) else { panic!() };
        assert_eq!(tag, "fleet:c1");
        let p: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!((p["tag"].as_str(), p["from"].as_str()), (Some("fleet:c1"), Some("+7")));
        let ans = parse(br#"{"id":"m2","call":"c1","event":"answered","agent":"a2","name":"Boris"}"#).unwrap();
        let Action::Update { payload, .. } = b.action("a1", &ans, false) else { panic!() };
        let p: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(p["text"], "Incoming — answered by Boris");
        assert_eq!(p["from"], "+7");
        let Action::Update { payload, .. } = b.action("a2", &ans, false) else { panic!() };
        assert!(payload.contains("answered by you (Boris)"), "{payload}");
        let end = parse(br#"{"id":"m3","call":"c1","event":"ended","duration":42,"link":"https://r/1.mp3"}"#).unwrap();
        let Action::Update { payload, .. } = b.action("a1", &end, false) else { panic!() };
        let p: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!((p["duration"].as_u64(), p["link"].as_str(), p["fleet"]["state"].as_str()), (Some(42), Some("https://r/1.mp3"), Some("ended")));
        let Action::Ring { payload, missed: true, .. } = b.action("a1", &parse(br#"{"id":"m9","call":"c9","payload":{"text":"X"}}"#).unwrap(), true) else { panic!() };
        assert!(payload.contains("X — missed while offline"));
        // An answer for a call this instance never saw still makes a row.
        let Action::Update { payload, .. } = b.action("a1", &parse(br#"{"id":"m4","call":"zz","event":"answered","agent":"a3"}"#).unwrap(), false) else { panic!() };
        assert!(payload.contains("Call zz — answered by a3"), "{payload}");
    }
}
