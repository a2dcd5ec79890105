//! The fleet client against a real `nats-server -js` (Debian's package,
//! installed by `./dev.sh test`), started here on a free loopback port with a
//! temporary store: queues, answered calls, claims, catch-up after a crash,
//! the broker killed and restarted, refused messages, permissions and TLS.
//! No display needed: the handler records what the app would store and show.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kolokol_lib::ingress::fleet::{self, Action, FleetConfig};
use support::nats::Nats;
use kolokol_lib::ingress::fleet_client::{self, Fleet, FleetStatus};
use serde_json::{json, Value};

fn wait(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// As [`wait`], saying the agent's state when it times out.
fn wait_agent(a: &Agent, what: &str, limit: Duration, mut f: impl FnMut(&Agent) -> bool) {
    let deadline = Instant::now() + limit;
    while !f(a) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; the agent: {:?}", a.status());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One simulated agent: the fleet client on a runtime of its own (dropping
/// it is a crash: no goodbye to the broker), and what it handed the app.
struct Agent {
    fleet: Fleet,
    got: Arc<Mutex<Vec<Action>>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Agent {
    fn start(cfg: FleetConfig) -> Agent {
        let got: Arc<Mutex<Vec<Action>>> = Arc::default();
        let sink = got.clone();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let fleet = rt.block_on(async move {
            Fleet::start(
                cfg,
                Arc::new(move |a| {
                    sink.lock().unwrap().push(a);
                    Ok(())
                }),
            )
        });
        Agent { fleet, got, rt: Some(rt) }
    }

    fn status(&self) -> FleetStatus {
        self.fleet.status()
    }

    fn wait_listening(&self) {
        let n = self.status().subjects.len();
        wait_agent(self, "the agent's consumers", Duration::from_secs(20), |a| a.status().listening.len() == n);
    }

    fn got(&self) -> Vec<Action> {
        self.got.lock().unwrap().clone()
    }

    fn rings(&self) -> Vec<(String, bool)> {
        self.got()
            .into_iter()
            .filter_map(|a| match a {
                Action::Ring { tag, missed, .. } => Some((tag, missed)),
                _ => None,
            })
            .collect()
    }

    fn updates(&self) -> Vec<(String, Value)> {
        self.got()
            .into_iter()
            .filter_map(|a| match a {
                Action::Update { tag, payload, .. } => Some((tag, serde_json::from_str(&payload).unwrap())),
                _ => None,
            })
            .collect()
    }

    fn crash(mut self) {
        self.rt.take().unwrap().shutdown_background();
    }
}

fn agent(nats: &Nats, agent: &str, queues: &[&str]) -> FleetConfig {
    FleetConfig {
        enabled: true,
        servers: vec![nats.url()],
        account: "acme".into(),
        agent: agent.into(),
        name: format!("Agent {agent}"),
        queues: queues.iter().map(|q| q.to_string()).collect(),
        ..Default::default()
    }
}

/// The PBX: its own connection, publishing through the fleet module.
struct Pbx {
    client: async_nats::Client,
    rt: tokio::runtime::Runtime,
}

impl Pbx {
    fn connect(url: &str, auth: Option<(&str, &str)>) -> Result<Pbx, String> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let o = match auth {
            Some((u, p)) => async_nats::ConnectOptions::with_user_and_password(u.into(), p.into()),
            None => async_nats::ConnectOptions::new(),
        };
        let client = rt.block_on(o.connect(url)).map_err(|e| e.to_string())?;
        Ok(Pbx { client, rt })
    }

    fn publish(&self, subject: &str, body: Value) -> Result<u64, String> {
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), fleet_client::publish(&self.client, "acme", subject, &body)).await })
            .map_err(|_| "publish timed out".to_string())?
            .map_err(|r| format!("{} ({}): {}", r.field, r.code, r.message))
    }

    fn ring(&self, queue: &str, call: &str) -> u64 {
        self.publish(
            &fleet::queue_subject("acme", queue),
            json!({ "id": format!("ring-{call}"), "call": call, "event": "ringing", "method": "add_call",
                    "payload": { "text": format!("Incoming call {call}"), "from": "+7 999 000-00-00" } }),
        )
        .unwrap()
    }
}

#[test]
fn a_ringing_call_reaches_its_queue_only_and_an_answer_reaches_everyone() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "warm-up"); // the stream exists before the agents bind
    let (a1, a2, a3) = (Agent::start(agent(&nats, "a1", &["sales"])), Agent::start(agent(&nats, "a2", &["sales"])), Agent::start(agent(&nats, "a3", &["support"])));
    for a in [&a1, &a2, &a3] {
        a.wait_listening();
        assert_eq!(a.status().state, "connected");
    }
    pbx.ring("sales", "c1");
    wait("both sales agents ringing", Duration::from_secs(10), || a1.rings().len() == 1 && a2.rings().len() == 1);
    assert_eq!(a1.rings(), [("fleet:c1".to_string(), false)]);
    pbx.publish(&fleet::queue_subject("acme", "sales"), json!({ "id": "ans-c1", "call": "c1", "event": "answered", "agent": "a1", "name": "Anna" })).unwrap();
    wait("the answer", Duration::from_secs(10), || a1.updates().len() == 1 && a2.updates().len() == 1);
    assert_eq!(a2.updates()[0].1["text"], "Incoming call c1 — answered by Anna");
    assert!(a1.updates()[0].1["text"].as_str().unwrap().ends_with("answered by you (Anna)"));
    pbx.publish(&fleet::queue_subject("acme", "sales"), json!({ "id": "end-c1", "call": "c1", "event": "ended", "duration": 42, "link": "https://rec.example/c1.mp3" })).unwrap();
    wait("the end", Duration::from_secs(10), || a2.updates().len() == 2);
    let end = &a2.updates()[1].1;
    assert_eq!((end["duration"].as_u64(), end["link"].as_str()), (Some(42), Some("https://rec.example/c1.mp3")));
    // A direct call to one agent.
    pbx.publish(&fleet::agent_subject("acme", "a3"), json!({ "id": "d1", "call": "d1", "payload": { "text": "For you" } })).unwrap();
    wait("the direct call", Duration::from_secs(10), || a3.rings().len() == 1);
    std::thread::sleep(Duration::from_millis(300));
    assert!(a3.updates().is_empty() && a3.rings() == [("fleet:d1".to_string(), false)], "support saw nothing of sales: {:?}", a3.got());
    assert_eq!((a1.rings().len(), a2.rings().len()), (1, 1), "a direct call to a3 reaches nobody else");
}

#[test]
fn a_take_is_won_by_exactly_one_agent() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "c7");
    let agents: Vec<Agent> = (1..=4).map(|i| Agent::start(agent(&nats, &format!("a{i}"), &["sales"]))).collect();
    agents.iter().for_each(Agent::wait_listening);
    pbx.ring("sales", "c8");
    wait("all ringing", Duration::from_secs(10), || agents.iter().all(|a| a.rings().len() == 1));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let wins: Vec<bool> = rt.block_on(async {
        let claims = agents.iter().map(|a| {
            let f = a.fleet.clone();
            tokio::spawn(async move { f.claim("c8").await })
        });
        let mut out = vec![];
        for c in claims.collect::<Vec<_>>() {
            out.push(c.await.unwrap().unwrap());
        }
        out
    });
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    let winner = wins.iter().position(|w| *w).unwrap() + 1;
    for a in &agents {
        wait("the claim seen", Duration::from_secs(10), || a.updates().len() == 1);
        assert!(a.updates()[0].1["text"].as_str().unwrap().contains(&format!("Agent a{winner}")), "{:?}", a.updates());
    }
}

#[test]
fn calls_missed_while_offline_are_caught_up_once() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "warm-up");
    let a1 = Agent::start(agent(&nats, "a1", &["sales"]));
    a1.wait_listening();
    a1.crash();
    for i in 0..20 {
        pbx.ring("sales", &format!("m{i}"));
    }
    // Republished by a PBX that retried: the broker keeps one of each.
    for i in 0..5 {
        pbx.ring("sales", &format!("m{i}"));
    }
    let a1 = Agent::start(agent(&nats, "a1", &["sales"]));
    wait("the catch-up summary", Duration::from_secs(20), || a1.got().iter().any(|a| matches!(a, Action::Summary { .. })));
    std::thread::sleep(Duration::from_millis(500));
    let rings = a1.rings();
    assert_eq!(rings.len(), 20, "{rings:?}");
    assert!(rings.iter().all(|(_, missed)| *missed), "stored as missed, not rung");
    let tags: std::collections::HashSet<_> = rings.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(tags.len(), 20, "no duplicates");
    let summaries: Vec<_> = a1.got().into_iter().filter(|a| matches!(a, Action::Summary { .. })).collect();
    assert_eq!(summaries, [Action::Summary { missed: 20 }]);
    assert_eq!(a1.status().missed, 20);
    // Live again: the next call rings.
    pbx.ring("sales", "live");
    wait("a live call", Duration::from_secs(10), || a1.rings().len() == 21);
    assert_eq!(a1.rings()[20], ("fleet:live".to_string(), false));
}

#[test]
fn the_broker_killed_and_restarted_loses_nothing_acknowledged() {
    let mut nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "warm-up");
    let a1 = Agent::start(agent(&nats, "a1", &["sales"]));
    a1.wait_listening();
    // A PBX publishing 60 calls, one every 20 ms, while the broker is killed
    // (SIGKILL) and restarted on its store: what it saw acknowledged must arrive.
    let url = nats.url();
    let publisher = std::thread::spawn(move || {
        let pbx = Pbx::connect(&url, None).unwrap();
        let mut acked = vec![];
        for i in 0..60 {
            let body = json!({ "id": format!("ring-s{i}"), "call": format!("s{i}"), "payload": { "text": format!("Call s{i}") } });
            if pbx.publish(&fleet::queue_subject("acme", "sales"), body).is_ok() {
                acked.push(format!("fleet:s{i}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        acked
    });
    std::thread::sleep(Duration::from_millis(300));
    nats.kill();
    wait_agent(&a1, "the agent to see the broker gone", Duration::from_secs(10), |a| a.status().state == "disconnected");
    let s = a1.status();
    assert!(s.reason.as_deref().unwrap_or_default().contains("connection lost"), "{s:?}");
    std::thread::sleep(Duration::from_millis(500));
    nats.launch();
    wait_agent(&a1, "the agent back", Duration::from_secs(30), |a| a.status().state == "connected");
    assert_eq!(a1.status().connects, 2, "connected, then reconnected once");
    let acked = publisher.join().unwrap();
    assert!(acked.len() >= 10, "the PBX saw {} calls acknowledged", acked.len());
    wait_agent(&a1, "every acknowledged call", Duration::from_secs(30), |a| {
        let got: std::collections::HashSet<_> = a.rings().into_iter().map(|(t, _)| t).collect();
        acked.iter().all(|t| got.contains(t))
    });
    let rings = a1.rings();
    let distinct: std::collections::HashSet<_> = rings.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(distinct.len(), rings.len(), "each call stored once");
    eprintln!("acknowledged {} of 60 while the broker was killed and restarted; {} delivered", acked.len(), rings.len());
}

#[test]
fn a_refused_message_is_reported_with_its_field_and_the_next_one_passes() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "warm-up");
    let a1 = Agent::start(agent(&nats, "a1", &["sales"]));
    a1.wait_listening();
    // Published raw (fleet_client::publish validates first, as it should).
    pbx.rt.block_on(async {
        let js = async_nats::jetstream::new(pbx.client.clone());
        let subject = fleet::queue_subject("acme", "sales");
        js.publish(subject.clone(), r#"{"id":"bad1","call":"x","payload":{"from":"+7"}}"#.into()).await.unwrap().await.unwrap();
        js.publish(subject, "not json".into()).await.unwrap().await.unwrap();
    });
    let refused = pbx.publish(&fleet::queue_subject("acme", "sales"), json!({ "id": "bad2", "call": "x", "payload": {} }));
    assert!(refused.unwrap_err().starts_with("payload.text (empty)"), "the PBX side validates before publishing");
    pbx.ring("sales", "ok");
    wait("the good call", Duration::from_secs(10), || a1.rings().len() == 1);
    let s = a1.status();
    assert_eq!(s.refused, 2, "{s:?}");
    assert!(s.last_refusal.as_deref().unwrap().contains("message (invalid_json)"), "{s:?}");
    assert_eq!(s.state, "connected");
}

const ACCOUNTS: &str = r#"
accounts {
  ACME {
    jetstream: enabled
    users = [
      { user: pbx, password: pbx-secret, permissions: {
          publish: { allow: ["kolokol.acme.>", "$JS.API.>"] }
          subscribe: { allow: ["_INBOX.>", "_INBOX_pbx.>"] } } }
      { user: a1, password: a1-secret, permissions: {
          publish: { allow: [
            "$JS.API.STREAM.INFO.KOLOKOL_acme",
            "$JS.API.CONSUMER.CREATE.KOLOKOL_acme.a1_q_sales.kolokol.acme.queue.sales",
            "$JS.API.CONSUMER.CREATE.KOLOKOL_acme.a1_a_a1.kolokol.acme.agent.a1",
            "$JS.API.CONSUMER.INFO.KOLOKOL_acme.a1_q_sales",
            "$JS.API.CONSUMER.INFO.KOLOKOL_acme.a1_a_a1",
            "$JS.API.CONSUMER.MSG.NEXT.KOLOKOL_acme.a1_q_sales",
            "$JS.API.CONSUMER.MSG.NEXT.KOLOKOL_acme.a1_a_a1",
            "$JS.ACK.KOLOKOL_acme.a1_q_sales.>",
            "$JS.ACK.KOLOKOL_acme.a1_a_a1.>",
            "$JS.API.STREAM.INFO.KV_kolokol_acme_claims",
            "$JS.API.CONSUMER.CREATE.KV_kolokol_acme_claims",
            "$JS.API.CONSUMER.CREATE.KV_kolokol_acme_claims.>",
            "$JS.API.CONSUMER.DELETE.KV_kolokol_acme_claims.>",
            "$JS.FC.KV_kolokol_acme_claims.>",
            "$KV.kolokol_acme_claims.*" ] }
          subscribe: { allow: ["_INBOX_a1.>"] } } }
    ]
  }
}
"#;

#[test]
fn the_servers_permissions_refuse_an_agent_and_kolokol_says_so() {
    let nats = Nats::start_with(Some(ACCOUNTS));
    let pbx = Pbx::connect(&nats.url(), Some(("pbx", "pbx-secret"))).unwrap();
    pbx.ring("sales", "warm-up");
    pbx.rt.block_on(async {
        let js = async_nats::jetstream::new(pbx.client.clone());
        fleet_client::claims(&js, "acme").await.unwrap();
    });
    // a1 may listen to sales (and its own subject), not to support.
    let cfg = FleetConfig { user: Some("a1".into()), password: Some("a1-secret".into()), ..agent(&nats, "a1", &["sales", "support"]) };
    let a1 = Agent::start(cfg);
    wait_agent(&a1, "sales and a1's own subject bound", Duration::from_secs(20), |a| a.status().listening.len() == 2);
    wait_agent(&a1, "the refusal reported", Duration::from_secs(20), |a| {
        a.status().reason.is_some_and(|r| r.contains("support") && r.contains("Permissions Violation"))
    });
    pbx.ring("sales", "p1");
    wait("sales still rings", Duration::from_secs(10), || a1.rings().len() == 1);
    // An agent's login cannot publish calls.
    let as_agent = Pbx::connect(&nats.url(), Some(("a1", "a1-secret"))).unwrap();
    assert!(as_agent.publish(&fleet::queue_subject("acme", "sales"), json!({ "id": "x", "call": "x", "payload": { "text": "fake" } })).is_err());
    let out = kolokol_pbx(&nats.url(), &["--user", "a1", "--queue", "sales", "ring", "fake", r#"{"text":"fake"}"#], &[("KOLOKOL_NATS_PASSWORD", "a1-secret")]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kolokol_pbx(&nats.url(), &["--user", "pbx", "--queue", "sales", "ring", "real", r#"{"text":"real"}"#], &[("KOLOKOL_NATS_PASSWORD", "pbx-secret")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    wait("the PBX user's call", Duration::from_secs(10), || a1.rings().len() == 2);
    // A wrong password is refused at login, and said.
    let wrong = Agent::start(FleetConfig { user: Some("a1".into()), password: Some("nope".into()), ..agent(&nats, "a1", &["sales"]) });
    wait("the login refusal", Duration::from_secs(10), || wrong.status().reason.is_some_and(|r| r.contains("login refused") || r.contains("uthoriz")));
    assert_ne!(wrong.status().state, "connected");
}

/// A CA and a server certificate for 127.0.0.1, made here.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    };
    let (good, other) = (ca("Kolokol test CA"), ca("Another CA"));
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = p.signed_by(&key, &good).unwrap();
    let files = ["ca.pem", "other-ca.pem", "server.pem", "server-key.pem"].map(|f| dir.join(f));
    std::fs::write(&files[0], good.pem()).unwrap();
    std::fs::write(&files[1], other.pem()).unwrap();
    std::fs::write(&files[2], cert.pem()).unwrap();
    std::fs::write(&files[3], key.serialize_pem()).unwrap();
    let [a, b, c, d] = files;
    (a, b, c, d)
}

#[test]
fn tls_with_the_right_ca_connects_and_a_wrong_ca_is_refused_clearly() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, other, cert, key) = certificates(certs.path());
    let nats = Nats::start_with(Some(&format!("tls {{ cert_file: {cert:?}, key_file: {key:?} }}")));
    let good = Agent::start(FleetConfig { tls_ca: Some(ca), ..agent(&nats, "a1", &["sales"]) });
    good.wait_listening();
    assert_eq!(good.status().state, "connected");
    let bad = Agent::start(FleetConfig { tls_ca: Some(other), ..agent(&nats, "a2", &["sales"]) });
    wait_agent(&bad, "the TLS refusal", Duration::from_secs(10), |a| a.status().reason.is_some_and(|r| r.starts_with("TLS")));
    let s = bad.status();
    assert_eq!(s.state, "disconnected", "{s:?}");
    assert!(s.reason.as_deref().unwrap().contains("fleet.tls_ca"), "{s:?}");
}

/// `kolokol pbx …` as a dialplan runs it.
fn kolokol_pbx(nats_url: &str, rest: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(support::APP_BIN)
        .args(["pbx", "--server", nats_url, "--account", "acme"])
        .args(rest)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn the_pbx_command_publishes_and_exits_like_send() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.ring("sales", "warm-up");
    let a1 = Agent::start(agent(&nats, "a1", &["sales"]));
    a1.wait_listening();
    let out = kolokol_pbx(&nats.url(), &["--queue", "sales", "ring", "c1", r#"{"text":"From the dialplan","from":"+7 1"}"#], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["call"].as_str(), v["subject"].as_str()), (Some("c1"), Some("kolokol.acme.queue.sales")));
    assert!(v["seq"].as_u64().unwrap() > 1);
    wait("the dialplan's call", Duration::from_secs(10), || a1.rings() == [("fleet:c1".to_string(), false)]);
    let out = kolokol_pbx(&nats.url(), &["--queue", "sales", "answered", "c1", "a1", "Anna"], &[]);
    assert_eq!(out.status.code(), Some(0));
    wait("the answer", Duration::from_secs(10), || a1.updates().len() == 1);
    // Refused as `send` refuses: exit 1, the field named, nothing published.
    let out = kolokol_pbx(&nats.url(), &["--queue", "sales", "ring", "c2", r#"{"from":"+7"}"#], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("payload.text"), "{}", String::from_utf8_lossy(&out.stderr));
    // No broker there: exit 3, as `send` with no instance.
    let out = kolokol_pbx(&format!("nats://127.0.0.1:{}", support::free_port()), &["--queue", "sales", "ring", "c3", r#"{"text":"t"}"#], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    // Bad arguments: exit 2 with the usage.
    let out = kolokol_pbx(&nats.url(), &["ring", "c4", "{}"], &[]);
    assert_eq!(out.status.code(), Some(2));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a1.rings().len(), 1, "nothing refused reached the agent");
}

/// A full store refuses the PBX's message, and `kolokol pbx` says so (exit 1),
/// never reporting a call stored that is not.
#[test]
fn a_full_store_is_reported_to_the_pbx() {
    let nats = Nats::start();
    let pbx = Pbx::connect(&nats.url(), None).unwrap();
    pbx.rt.block_on(async {
        let js = async_nats::jetstream::new(pbx.client.clone());
        js.create_stream(async_nats::jetstream::stream::Config {
            name: fleet::stream_name("acme"),
            subjects: vec!["kolokol.acme.>".into()],
            max_messages: 2,
            discard: async_nats::jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .unwrap();
    });
    for call in ["f1", "f2"] {
        let out = kolokol_pbx(&nats.url(), &["--queue", "sales", "ring", call, r#"{"text":"t"}"#], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = kolokol_pbx(&nats.url(), &["--queue", "sales", "ring", "f3", r#"{"text":"t"}"#], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not stored by the broker") && err.contains("maximum messages"), "{err}");
}
