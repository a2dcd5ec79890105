//! Benchmark of the call center's fleet on one `nats-server -js` on this
//! machine: N simulated agents (default 1,000; `KOLOKOL_BENCH_AGENTS`), each
//! Kolokol's own fleet client (`ingress/fleet_client.rs`: its durable
//! consumers and its KV watch), over 10 queues; the PBX publishes 1,000 calls
//! at 50 a second. Measured: publish → stored by the broker (the PBX's wait),
//! publish → delivered to each agent, publish → delivered to every agent of
//! its queue; the broker's memory and CPU during the run. Then the loopback
//! HTTP ingress of a real instance (needs the desktop session `./dev.sh bench`
//! starts): request → answered, which is after the row is committed.
//! `cargo bench --bench fleet`.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kolokol_lib::ingress::fleet::{self, Action, FleetConfig};
use kolokol_lib::ingress::fleet_client::{self, Fleet};
use serde_json::json;
use support::nats::Nats;

const QUEUES: usize = 10;
const CALLS: usize = 1_000;
const RATE: f64 = 50.0;

/// (resident set size, user+system CPU seconds) of a process.
fn usage(pid: u32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) + fields.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (rss, ticks / 100.0)
}

fn main() {
    let agents: usize = std::env::var("KOLOKOL_BENCH_AGENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let nats = Nats::start();
    let pid = nats.pid();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let pbx = rt.block_on(async_nats::connect(nats.url())).unwrap();
    let warm = json!({ "id": "warm", "call": "warm", "payload": { "text": "warm-up" } });
    rt.block_on(fleet_client::publish(&pbx, "acme", &fleet::queue_subject("acme", "q0"), &warm)).unwrap();

    // Deliveries: (tag, agent index, when).
    let got: Arc<Mutex<Vec<(String, usize, Instant)>>> = Arc::new(Mutex::new(Vec::with_capacity(CALLS * agents / QUEUES)));
    let started = Instant::now();
    let fleets: Vec<Fleet> = (0..agents)
        .map(|i| {
            let sink = got.clone();
            let cfg = FleetConfig {
                enabled: true,
                servers: vec![nats.url()],
                account: "acme".into(),
                agent: format!("a{i}"),
                name: format!("Agent {i}"),
                queues: vec![format!("q{}", i % QUEUES)],
                ..Default::default()
            };
            rt.block_on(async move {
                Fleet::start(
                    cfg,
                    Arc::new(move |a| {
                        if let Action::Ring { tag, .. } = a {
                            sink.lock().unwrap().push((tag, i, Instant::now()));
                        }
                        Ok(())
                    }),
                )
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    while fleets.iter().any(|f| f.status().listening.len() < 2) {
        assert!(Instant::now() < deadline, "agents not all listening after 600 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("{agents} agents connected, {} durable consumers bound, in {:.1} s", agents * 2, started.elapsed().as_secs_f64());
    let (rss0, cpu0) = usage(pid);

    // The PBX: 1,000 calls over the queues at 50 a second, each awaited until stored.
    let mut sent: HashMap<String, (usize, Instant)> = HashMap::new();
    let mut stored = Vec::with_capacity(CALLS);
    let t0 = Instant::now();
    let mut peak_rss = rss0;
    for n in 0..CALLS {
        let due = t0 + Duration::from_secs_f64(n as f64 / RATE);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let q = n % QUEUES;
        let call = format!("b{n}");
        let body = json!({ "id": format!("ring-{call}"), "call": call, "payload": { "text": format!("Incoming call {n}"), "from": "+7 999" } });
        let at = Instant::now();
        rt.block_on(fleet_client::publish(&pbx, "acme", &fleet::queue_subject("acme", &format!("q{q}")), &body)).unwrap();
        stored.push(at.elapsed().as_secs_f64() * 1e3);
        sent.insert(fleet::tag(&call), (q, at));
        if n % 50 == 0 {
            peak_rss = peak_rss.max(usage(pid).0);
        }
    }
    let per_queue = (0..QUEUES).map(|q| (0..agents).filter(|i| i % QUEUES == q).count()).collect::<Vec<_>>();
    let expected: usize = sent.values().map(|(q, _)| per_queue[*q]).sum();
    let deadline = Instant::now() + Duration::from_secs(300);
    while got.lock().unwrap().len() < expected && Instant::now() < deadline {
        peak_rss = peak_rss.max(usage(pid).0);
        std::thread::sleep(Duration::from_millis(100));
    }
    let run = t0.elapsed().as_secs_f64();
    let (rss1, cpu1) = usage(pid);
    let got = got.lock().unwrap().clone();
    println!("deliveries {} of {expected} in {run:.1} s", got.len());
    let mut per_delivery = Vec::with_capacity(got.len());
    let mut last_of_call: HashMap<&str, f64> = HashMap::new();
    for (tag, _, when) in &got {
        if let Some((_, at)) = sent.get(tag) {
            let ms = when.duration_since(*at).as_secs_f64() * 1e3;
            per_delivery.push(ms);
            let e = last_of_call.entry(tag.as_str()).or_insert(0.0);
            *e = e.max(ms);
        }
    }
    support::summary("publish → stored by the broker", stored);
    support::summary("publish → delivered to one agent", per_delivery);
    support::summary("publish → delivered to all agents of its queue", last_of_call.into_values().collect());
    println!(
        "nats-server: RSS {} MiB before, {} MiB peak, {} MiB after; CPU {:.1} s over {run:.1} s ({:.0} % of one core)",
        rss0 >> 10,
        peak_rss >> 10,
        rss1 >> 10,
        cpu1 - cpu0,
        (cpu1 - cpu0) / run * 100.0
    );
    drop(fleets);
    rt.shutdown_timeout(Duration::from_secs(1));
    http_ingress();
}

/// A real instance with the HTTP ingress on: 500 requests one after another.
fn http_ingress() {
    if std::env::var_os("DISPLAY").is_none() || std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        println!("HTTP ingress: skipped, no desktop session (./dev.sh bench starts one)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("settings.json"), json!({ "http_ingress": true, "http_port": 0 }).to_string()).unwrap();
    let mut app = support::Proc::spawn(&data, "app.log", &["--minimized"]);
    app.wait_log("HTTP ingress ready");
    let log = app.log();
    let port: u16 = log
        .lines()
        .find(|l| l.contains("HTTP ingress ready"))
        .and_then(|l| l.split("addr=127.0.0.1:").nth(1))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("the ingress's port in the log");
    let token = std::fs::read_to_string(data.join("http-token")).unwrap().trim().to_owned();
    let mut times = Vec::new();
    for n in 0..500 {
        use std::io::{Read, Write};
        let body = format!(r#"{{"text":"Softphone call {n}","from":"+7 495"}}"#);
        let at = Instant::now();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "POST /v1/add_call HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        times.push(at.elapsed().as_secs_f64() * 1e3);
        // 50 a second, under the ingress's rate limit.
        std::thread::sleep(Duration::from_millis(20));
    }
    support::summary("HTTP ingress request → row committed", times);
}
