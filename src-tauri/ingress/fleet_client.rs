//! The call center's fleet, part two: the connection to NATS JetStream. No
//! Tauri: the shell starts [`Fleet::start`] on its tokio runtime with a
//! handler that stores and shows what arrives (see `fleet.rs` for the
//! subjects and messages).
//!
//! - One durable pull consumer per subject of this agent (its queues and its
//!   own subject): while Kolokol is off, the broker keeps what it missed.
//!   What was waiting when the consumer was bound is the catch-up: its ringing
//!   calls are stored as "missed while offline", without a toast each, and one
//!   summary toast follows when every consumer has caught up.
//! - A message is acknowledged only once the handler stored it; a refused
//!   message is logged with its field and terminated (never redelivered); a
//!   store failure asks for a redelivery. Rows are keyed by the call (its
//!   tag), so a redelivery rewrites the row instead of adding one.
//! - *Take*: an agent claims a call with a compare-and-swap in the KV bucket
//!   `kolokol_<account>_claims` (create: exactly one agent wins); every agent
//!   watches the bucket and treats a claim as "answered by".
//! - The broker down or unreachable: the local app goes on; connecting is
//!   retried with a growing delay (up to [`MAX_BACKOFF`]) and async-nats
//!   reconnects on its own once connected; the state and why are in
//!   [`FleetStatus`] (`status --json`, the tray).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream, AckKind};
use futures_util::StreamExt;
use serde::Serialize;

use super::fleet::{self, Action, Book, FleetConfig};
use crate::core::api::Refusal;

/// Longest wait between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A ringing call redelivered after this long is no longer ringing.
pub const STALE_RING: Duration = Duration::from_secs(60);
/// How long the stream keeps calls for agents that are away.
pub const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// Stores and shows one action; `Err` when it could not (the refusal's code
/// `not_stored` asks for a redelivery, any other refuses the message).
pub type Handler = Arc<dyn Fn(Action) -> Result<(), Refusal> + Send + Sync>;

/// The fleet channel as `status --json` and the tray show it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetStatus {
    pub enabled: bool,
    /// `off`, `connecting`, `connected`, `disconnected` or `failed`.
    pub state: String,
    /// Why it is not connected, or the last problem the server reported
    /// (a permissions violation, a full store).
    pub reason: Option<String>,
    pub servers: Vec<String>,
    pub account: String,
    pub agent: String,
    pub subjects: Vec<String>,
    /// Subjects whose consumer is bound and delivering.
    pub listening: Vec<String>,
    pub received: u64,
    pub refused: u64,
    /// The last refused message: code, field and message.
    pub last_refusal: Option<String>,
    pub missed: u64,
    /// Connections made: the first, then one per reconnect.
    pub connects: u64,
}

struct Shared {
    cfg: FleetConfig,
    status: Mutex<FleetStatus>,
    book: Mutex<Book>,
    handler: Handler,
    js: Mutex<Option<jetstream::Context>>,
    /// Message ids handled in this run (redeliveries are acknowledged again, not stored again).
    seen: Mutex<HashSet<String>>,
    /// Consumers still catching up, and the ringing calls they found.
    catching_up: AtomicUsize,
    missed_now: AtomicU64,
}

/// A running fleet client (cheap to clone).
#[derive(Clone)]
pub struct Fleet {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fleet {
    /// Starts connecting (in the background, on the current tokio runtime).
    /// `cfg` must have passed [`FleetConfig::check`].
    pub fn start(cfg: FleetConfig, handler: Handler) -> Fleet {
        let status = FleetStatus {
            enabled: true,
            state: "connecting".into(),
            servers: cfg.servers.clone(),
            account: cfg.account.clone(),
            agent: cfg.agent.clone(),
            subjects: cfg.subjects(),
            ..Default::default()
        };
        let shared = Arc::new(Shared {
            cfg,
            status: Mutex::new(status),
            book: Mutex::default(),
            handler,
            js: Mutex::new(None),
            seen: Mutex::default(),
            catching_up: AtomicUsize::new(0),
            missed_now: AtomicU64::new(0),
        });
        tokio::spawn(run(shared.clone()));
        Fleet { shared }
    }

    pub fn status(&self) -> FleetStatus {
        lock(&self.shared.status).clone()
    }

    /// Claims `call` for this agent: `Ok(true)` if this agent won it,
    /// `Ok(false)` if another agent had it first.
    pub async fn claim(&self, call: &str) -> Result<bool, String> {
        fleet::check_name("call", call)?;
        let js = lock(&self.shared.js).clone().ok_or("the fleet is not connected")?;
        let kv = claims(&js, &self.shared.cfg.account).await?;
        let value = serde_json::json!({ "agent": self.shared.cfg.agent, "name": self.shared.cfg.name }).to_string();
        match kv.create(call, value.into()).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(format!("cannot claim {call}: {e}")),
        }
    }
}

/// Status field updates.
fn set(shared: &Shared, state: &str, reason: Option<String>) {
    let mut s = lock(&shared.status);
    s.state = state.into();
    s.reason = reason;
}

fn problem(shared: &Shared, reason: String) {
    tracing::warn!(target: "fleet", "{reason}");
    lock(&shared.status).reason = Some(reason);
}

/// Connection options from the settings: credentials, TLS, this agent's inbox.
async fn base_options(c: &FleetConfig) -> Result<async_nats::ConnectOptions, String> {
    let mut o = match &c.creds_file {
        Some(p) => async_nats::ConnectOptions::with_credentials_file(p.clone())
            .await
            .map_err(|e| format!("fleet.creds_file: {}: {e}", p.display()))?,
        None => async_nats::ConnectOptions::new(),
    };
    if let (Some(u), Some(p)) = (&c.user, &c.password) {
        o = o.user_and_password(u.clone(), p.clone());
    }
    if let Some(t) = &c.token {
        o = o.token(t.clone());
    }
    if let Some(ca) = &c.tls_ca {
        o = o.add_root_certificates(ca.clone()).require_tls(true);
    }
    // Replies come to an inbox of this agent's own, so the server can keep
    // agents from reading each other's (subscribe: `_INBOX_<agent>.>`).
    Ok(o.name(format!("kolokol {}", c.agent)).custom_inbox_prefix(format!("_INBOX_{}", c.agent)))
}

/// One connection attempt (the PBX command): `Err` says why, as the status would.
pub async fn connect_once(c: &FleetConfig) -> Result<async_nats::Client, String> {
    base_options(c)
        .await?
        .connection_timeout(Duration::from_secs(5))
        .connect(c.servers.clone())
        .await
        .map_err(|e| describe_connect(&e))
}

/// [`base_options`] with the status kept up to date and the reconnect delays.
async fn options(shared: &Arc<Shared>) -> Result<async_nats::ConnectOptions, String> {
    let events = shared.clone();
    Ok(base_options(&shared.cfg)
        .await?
        .connection_timeout(Duration::from_secs(5))
        .reconnect_delay_callback(backoff)
        .event_callback(move |e| {
            let shared = events.clone();
            async move {
                match e {
                    async_nats::Event::Connected => {
                        tracing::info!(target: "fleet", "connected");
                        let mut s = lock(&shared.status);
                        s.state = "connected".into();
                        s.connects += 1;
                        // A permissions or store problem stays said until the next one.
                        if s.reason.as_deref().is_some_and(|r| r.starts_with("connection lost")) {
                            s.reason = None;
                        }
                    }
                    async_nats::Event::Disconnected => {
                        tracing::warn!(target: "fleet", "connection lost; reconnecting");
                        set(&shared, "disconnected", Some("connection lost; reconnecting".into()));
                    }
                    async_nats::Event::ServerError(err) => problem(&shared, format!("the server says: {err}")),
                    async_nats::Event::ClientError(err) => {
                        let down = lock(&shared.status).state == "disconnected";
                        problem(&shared, if down { format!("connection lost; reconnecting ({err})") } else { format!("client error: {err}") })
                    }
                    other => tracing::debug!(target: "fleet", "{other}"),
                }
            }
        }))
}

/// The delay before reconnect attempt `n` (from 1): 250 ms, doubling, at most [`MAX_BACKOFF`].
pub fn backoff(n: usize) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << n.saturating_sub(1).min(10))).min(MAX_BACKOFF)
}

async fn run(shared: Arc<Shared>) {
    let mut attempt = 0;
    let client = loop {
        attempt += 1;
        let result = match options(&shared).await {
            Ok(o) => o.connect(shared.cfg.servers.clone()).await.map_err(|e| describe_connect(&e)),
            Err(e) => Err(e),
        };
        match result {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(target: "fleet", attempt, "cannot connect: {e}");
                set(&shared, "disconnected", Some(e));
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    };
    {
        let mut s = lock(&shared.status);
        s.state = "connected".into();
        s.reason = None;
    }
    let js = jetstream::new(client);
    *lock(&shared.js) = Some(js.clone());
    // Each consumer and the claims watch recover on their own.
    let subjects = shared.cfg.subjects();
    shared.catching_up.store(subjects.len(), Ordering::SeqCst);
    for subject in subjects {
        tokio::spawn(consume(shared.clone(), js.clone(), subject));
    }
    tokio::spawn(watch_claims(shared.clone(), js));
}

fn describe_connect(e: &async_nats::ConnectError) -> String {
    use async_nats::ConnectErrorKind as K;
    match e.kind() {
        _ if e.kind() == K::Tls || e.to_string().contains("certificate") => format!("TLS: {e} (is fleet.tls_ca the CA that signed the server's certificate?)"),
        K::AuthorizationViolation | K::Authentication => format!("login refused: {e}"),
        K::TimedOut => format!("no answer from the server: {e}"),
        _ => format!("cannot connect: {e}"),
    }
}

/// The account's stream, created when missing (if this user may).
async fn ensure_stream(js: &jetstream::Context, account: &str) -> Result<stream::Stream, String> {
    let name = fleet::stream_name(account);
    match js.get_stream(&name).await {
        Ok(s) => Ok(s),
        Err(get) => js
            .create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("kolokol.{account}.>")],
                max_age: KEEP,
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("the stream {name} is not readable ({get}) and cannot be created ({e})")),
    }
}

/// The claims bucket, created when missing (if this user may). Its stream is
/// made here as async-nats makes a bucket's (its own call first asks for the
/// account's details in a form nats-server 2.9 does not answer).
pub async fn claims(js: &jetstream::Context, account: &str) -> Result<kv::Store, String> {
    let bucket = fleet::claims_bucket(account);
    match js.get_key_value(&bucket).await {
        Ok(kv) => Ok(kv),
        Err(get) => {
            let made = js
                .create_stream(stream::Config {
                    name: format!("KV_{bucket}"),
                    subjects: vec![format!("$KV.{bucket}.>")],
                    max_messages_per_subject: 1,
                    max_age: Duration::from_secs(24 * 3600),
                    storage: stream::StorageType::File,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    discard: stream::DiscardPolicy::New,
                    num_replicas: 1,
                    ..Default::default()
                })
                .await
                .err()
                .map(|e| e.to_string());
            // Made, or made meanwhile by another agent.
            js.get_key_value(&bucket).await.map_err(|e| {
                format!("the claims bucket {bucket} is not readable ({get}) and cannot be created ({}; {e})", made.unwrap_or_default())
            })
        }
    }
}

/// One durable consumer: bound (retried until it is), its catch-up, then live.
async fn consume(shared: Arc<Shared>, js: jetstream::Context, subject: String) {
    let durable = fleet::durable_name(&shared.cfg.agent, &subject);
    let mut attempt = 0;
    let mut caught_up = false;
    loop {
        attempt += 1;
        let bound = async {
            let s = ensure_stream(&js, &shared.cfg.account).await?;
            let c: consumer::PullConsumer = s
                .get_or_create_consumer(
                    &durable,
                    consumer::pull::Config {
                        durable_name: Some(durable.clone()),
                        filter_subject: subject.clone(),
                        deliver_policy: consumer::DeliverPolicy::New,
                        ack_policy: consumer::AckPolicy::Explicit,
                        ack_wait: Duration::from_secs(30),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| format!("{subject}: cannot bind the consumer {durable}: {e}"))?;
            let mut c = c;
            let backlog = c.info().await.map_err(|e| format!("{subject}: {e}"))?.num_pending;
            let messages = c.messages().await.map_err(|e| format!("{subject}: {e}"))?;
            Ok::<_, String>((backlog, messages))
        }
        .await;
        let (backlog, mut messages) = match bound {
            Ok(b) => b,
            Err(e) => {
                // A permissions error arrives as the server's own message too.
                let said = lock(&shared.status).reason.clone().filter(|r| r.contains("Permissions Violation"));
                problem(&shared, match said {
                    Some(p) => format!("{e}; {p}"),
                    None => e,
                });
                tokio::time::sleep(backoff(attempt).max(Duration::from_secs(1))).await;
                continue;
            }
        };
        attempt = 0;
        lock(&shared.status).listening.push(subject.clone());
        tracing::info!(target: "fleet", %subject, backlog, "listening");
        let mut in_backlog = !caught_up && backlog > 0;
        if !caught_up && !in_backlog {
            caught_up = true;
            caught_up_one(&shared);
        }
        while let Some(m) = messages.next().await {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(target: "fleet", %subject, "{e}");
                    continue;
                }
            };
            let (pending, delivered, age) = match m.info() {
                Ok(i) => {
                    let published_ms = (i.published.unix_timestamp_nanos() / 1_000_000) as i64;
                    (i.pending, i.delivered, Duration::from_millis(crate::core::api::now_ms().saturating_sub(published_ms).max(0) as u64))
                }
                Err(_) => (0, 1, Duration::ZERO),
            };
            let missed = in_backlog || (delivered > 1 && age > STALE_RING);
            handle(&shared, &m, missed).await;
            if in_backlog && pending == 0 {
                in_backlog = false;
                caught_up = true;
                caught_up_one(&shared);
            }
        }
        lock(&shared.status).listening.retain(|s| s != &subject);
        tracing::warn!(target: "fleet", %subject, "the consumer's stream ended; binding it again");
    }
}

/// A consumer caught up; after the last one, the summary toast.
fn caught_up_one(shared: &Arc<Shared>) {
    if shared.catching_up.fetch_sub(1, Ordering::SeqCst) == 1 {
        let missed = shared.missed_now.swap(0, Ordering::SeqCst);
        if missed > 0 {
            let handler = shared.handler.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(r) = handler(Action::Summary { missed }) {
                    tracing::warn!(target: "fleet", "summary not shown: {}", r.message);
                }
            });
        }
    }
}

/// Validates, stores, acknowledges one message.
async fn handle(shared: &Arc<Shared>, m: &jetstream::Message, missed: bool) {
    lock(&shared.status).received += 1;
    let msg = match fleet::parse(&m.payload) {
        Ok(msg) => msg,
        Err(r) => {
            refused(shared, &m.subject, &r);
            let _ = m.ack_with(AckKind::Term).await;
            return;
        }
    };
    if lock(&shared.seen).contains(&msg.id) {
        let _ = m.ack().await;
        return;
    }
    let action = lock(&shared.book).action(&shared.cfg.agent, &msg, missed);
    let counted = matches!(action, Action::Ring { missed: true, .. });
    let handler = shared.handler.clone();
    let result = tokio::task::spawn_blocking(move || handler(action)).await.unwrap_or_else(|e| {
        Err(Refusal::new("not_stored", "message", format!("the handler failed: {e}")))
    });
    match result {
        Ok(()) => {
            if counted {
                shared.missed_now.fetch_add(1, Ordering::SeqCst);
                lock(&shared.status).missed += 1;
            }
            {
                let mut seen = lock(&shared.seen);
                if seen.len() > 100_000 {
                    seen.clear();
                }
                seen.insert(msg.id);
            }
            if let Err(e) = m.double_ack().await {
                problem(shared, format!("an acknowledgement was lost ({e}); the message will come again and rewrite its row"));
            }
        }
        Err(r) if r.code == "not_stored" => {
            problem(shared, format!("not stored, asked again in 5 s: {}", r.message));
            let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(5)))).await;
        }
        Err(r) => {
            refused(shared, &m.subject, &r);
            let _ = m.ack_with(AckKind::Term).await;
        }
    }
}

fn refused(shared: &Shared, subject: &str, r: &Refusal) {
    tracing::warn!(target: "fleet", %subject, code = r.code, field = %r.field, "message refused: {}", r.message);
    let mut s = lock(&shared.status);
    s.refused += 1;
    s.last_refusal = Some(format!("{subject}: {} ({}): {}", r.field, r.code, r.message));
}

/// Claims made by any agent become "answered by" for this one.
async fn watch_claims(shared: Arc<Shared>, js: jetstream::Context) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let watch = async {
            let kv = claims(&js, &shared.cfg.account).await?;
            kv.watch_all().await.map_err(|e| format!("cannot watch the claims: {e}"))
        }
        .await;
        let mut watch = match watch {
            Ok(w) => w,
            Err(e) => {
                problem(&shared, e);
                tokio::time::sleep(backoff(attempt).max(Duration::from_secs(1))).await;
                continue;
            }
        };
        attempt = 0;
        while let Some(entry) = watch.next().await {
            let Ok(entry) = entry else { continue };
            if entry.operation != kv::Operation::Put {
                continue;
            }
            let v: serde_json::Value = serde_json::from_slice(&entry.value).unwrap_or_default();
            let Some(agent) = v["agent"].as_str() else { continue };
            let body = serde_json::json!({
                "id": format!("claim-{}-{}", entry.key, entry.revision),
                "call": entry.key,
                "event": "answered",
                "agent": agent,
                "name": v["name"],
            });
            let Ok(msg) = fleet::parse(body.to_string().as_bytes()) else { continue };
            let action = lock(&shared.book).action(&shared.cfg.agent, &msg, false);
            let handler = shared.handler.clone();
            if let Ok(Err(r)) = tokio::task::spawn_blocking(move || handler(action)).await {
                refused(&shared, "claims", &r);
            }
        }
    }
}

/// The PBX side: publishes one message (validated first, as an agent would)
/// to `subject` and waits for the stream's acknowledgement. The message id
/// is the broker's de-duplication id, so a republish is stored once.
pub async fn publish(client: &async_nats::Client, account: &str, subject: &str, body: &serde_json::Value) -> Result<u64, Refusal> {
    let bytes = body.to_string();
    let msg = fleet::parse(bytes.as_bytes())?;
    let js = jetstream::new(client.clone());
    ensure_stream(&js, account).await.map_err(|e| Refusal::new("not_stored", "stream", e))?;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg.id.as_str());
    let ack = js
        .publish_with_headers(subject.to_owned(), headers, bytes.into())
        .await
        .map_err(|e| Refusal::new("not_stored", "subject", format!("{subject}: {e}")))?
        .await
        .map_err(|e| Refusal::new("not_stored", "subject", format!("{subject}: not stored by the broker: {e}")))?;
    Ok(ack.sequence)
}
