//! Calls from outside, with the real app: the loopback HTTP ingress, and the
//! fleet — real Kolokol instances (data folders of their own) on a real
//! `nats-server -js`, their toasts in the session's real dunst, their rows
//! read back with `kolokol history --json`, their state with `status --json`.
//! Run in the desktop session `./dev.sh test` starts (Xvfb, D-Bus, dunst).
#![cfg(target_os = "linux")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::nats::Nats;
use support::Proc;

fn kolokol(data: &Path, args: &[&str]) -> Output {
    Command::new(support::APP_BIN).arg("--data-dir").arg(data).args(args).output().unwrap()
}

fn status(data: &Path) -> Value {
    let out = kolokol(data, &["status", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn history(data: &Path) -> Vec<Value> {
    let out = kolokol(data, &["history", "--json", "--limit", "1000"]);
    assert!(out.status.success(), "history: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().cloned().unwrap_or_default()
}

fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn require_session() {
    assert!(std::env::var_os("DISPLAY").is_some() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run in ./dev.sh's desktop session (Xvfb, D-Bus, dunst)");
}

fn dunstctl(args: &[&str]) -> String {
    let out = Command::new("dunstctl").args(args).output().expect("dunstctl (apt-get install dunst)");
    assert!(out.status.success(), "dunstctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn displayed() -> usize {
    dunstctl(&["count", "displayed"]).parse().unwrap()
}

/// Every toast dunst received (closes them all): id and text. Dunst 1.9
/// cannot clear its history, so tests compare with what was there before.
fn dunst_all() -> Vec<(i64, String)> {
    dunstctl(&["close-all"]);
    let h: Value = serde_json::from_str(&dunstctl(&["history"])).unwrap();
    h["data"][0]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| (n["id"]["data"].as_i64().unwrap_or(-1), n["message"]["data"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The ids dunst has seen so far (closes what is shown).
fn dunst_mark() -> std::collections::HashSet<i64> {
    dunst_all().into_iter().map(|(id, _)| id).collect()
}

/// The texts of the toasts that came after `mark`.
fn dunst_since(mark: &std::collections::HashSet<i64>) -> Vec<String> {
    dunst_all().into_iter().filter(|(id, _)| !mark.contains(id)).map(|(_, t)| t).collect()
}

/// A data folder (inside `root`) with these settings.
fn data_dir(root: &Path, name: &str, settings: Value) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("settings.json"), settings.to_string()).unwrap();
    d
}

/// A POST to the ingress; the status code and the JSON answer.
fn post(port: u16, method: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "POST /v1/{method} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    (code, out.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null))
}

#[test]
fn the_http_ingress_stores_what_a_local_script_posts() {
    require_session();
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(tmp.path(), "on", json!({ "http_ingress": true, "http_port": 0 }));
    let mut app = Proc::spawn(&data, "on.log", &["--minimized"]);
    app.wait_log("HTTP ingress ready");
    let http = status(&data)["channels"]["http"].clone();
    assert_eq!((http["enabled"].as_bool(), http["available"].as_bool()), (Some(true), Some(true)), "{http}");
    let port = http["port"].as_u64().unwrap() as u16;
    assert!(http["address"].as_str().unwrap().starts_with("127.0.0.1:"), "{http}");
    let token = std::fs::read_to_string(data.join("http-token")).unwrap().trim().to_owned();

    let (code, v) = post(port, "add_call", Some(&token), r#"{"text":"Softphone: incoming","from":"+7 495 000-00-00"}"#);
    assert_eq!(code, 200, "{v}");
    let rows = history(&data);
    let row = rows.iter().find(|r| r["id"] == v["id"]).unwrap_or_else(|| panic!("no row {v} in {rows:?}"));
    assert_eq!((row["source"].as_str(), row["from"].as_str()), (Some("http"), Some("+7 495 000-00-00")));
    assert_eq!(post(port, "add_call", None, r#"{"text":"t"}"#).0, 401);
    assert_eq!(post(port, "add_call", Some("0123456789abcdef0123"), r#"{"text":"t"}"#).0, 401);
    let (code, v) = post(port, "add_call", Some(&token), r#"{"from":"+7"}"#);
    assert_eq!((code, v["field"].as_str()), (422, Some("text")), "{v}");
    assert_eq!(history(&data).len(), 1, "refusals store nothing");
    // Not reachable on the machine's other addresses.
    let outward = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|u| u.connect("192.0.2.1:9").map(|_| u))
        .and_then(|u| u.local_addr())
        .map(|a| a.ip())
        .expect("an outward address");
    assert!(!outward.is_loopback());
    assert!(std::net::TcpStream::connect_timeout(&(outward, port).into(), Duration::from_secs(1)).is_err(), "{outward}:{port} answered");

    // Off by default.
    let off = data_dir(tmp.path(), "off", json!({}));
    let mut other = Proc::spawn(&off, "off.log", &["--minimized"]);
    other.wait_log("tray ready");
    let http = wait_until("the other instance's status", Duration::from_secs(10), || {
        let s = status(&off);
        s["running"].as_bool().map(|_| s["channels"]["http"].clone())
    });
    assert_eq!(http["enabled"], false, "{http}");
    assert!(!off.join("http-token").exists(), "no token made while off");
}

fn fleet_settings(nats: &Nats, agent: &str, queues: &[&str]) -> Value {
    json!({ "fleet": { "enabled": true, "servers": [nats.url()], "account": "acme", "agent": agent,
                       "name": format!("Agent {agent}"), "queues": queues } })
}

fn pbx(nats: &Nats, args: &[&str]) {
    let out = Command::new(support::APP_BIN).args(["pbx", "--server", &nats.url(), "--account", "acme"]).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "pbx {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn ring(nats: &Nats, queue: &str, call: &str) {
    pbx(nats, &["--queue", queue, "--id", &format!("ring-{call}"), "ring", call, &json!({ "text": format!("Incoming call {call}"), "from": "+7 999" }).to_string()]);
}

fn wait_listening(data: &Path) {
    wait_until("the fleet's consumers", Duration::from_secs(30), || {
        let f = status(data)["channels"]["fleet"].clone();
        (f["listening"].as_array().map(Vec::len) == f["subjects"].as_array().map(Vec::len) && f["state"] == "connected").then_some(())
    });
}

fn toasts_shown(data: &Path) -> u64 {
    status(data)["channels"]["toast"]["shown"].as_u64().unwrap_or(0)
}

fn fleet_rows(data: &Path) -> Vec<Value> {
    history(data).into_iter().filter(|r| r["source"] == "fleet:acme").collect()
}

#[test]
fn a_ringing_call_rings_its_queue_and_the_first_answer_silences_the_rest() {
    require_session();
    let mut nats = Nats::start();
    ring(&nats, "sales", "warm-up");
    let tmp = tempfile::tempdir().unwrap();
    let dirs = [
        data_dir(tmp.path(), "a1", fleet_settings(&nats, "a1", &["sales"])),
        data_dir(tmp.path(), "a2", fleet_settings(&nats, "a2", &["sales"])),
        data_dir(tmp.path(), "a3", fleet_settings(&nats, "a3", &["support"])),
    ];
    let _apps: Vec<Proc> = dirs.iter().map(|d| Proc::spawn(d, &format!("{}.log", d.file_name().unwrap().to_string_lossy()), &["--minimized"])).collect();
    dirs.iter().for_each(|d| wait_listening(d));
    let mark = dunst_mark();
    let before: Vec<u64> = dirs.iter().map(|d| toasts_shown(d)).collect();

    ring(&nats, "sales", "c1");
    wait_until("two toasts in dunst", Duration::from_secs(10), || (displayed() == 2).then_some(()));
    wait_until("a1 and a2's toasts counted", Duration::from_secs(10), || {
        (toasts_shown(&dirs[0]) == before[0] + 1 && toasts_shown(&dirs[1]) == before[1] + 1).then_some(())
    });
    for d in &dirs[..2] {
        let rows = fleet_rows(d);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!((rows[0]["tag"].as_str(), rows[0]["text"].as_str()), (Some("fleet:c1"), Some("Incoming call c1")));
    }

    pbx(&nats, &["--queue", "sales", "answered", "c1", "a1", "Anna"]);
    wait_until("both toasts closed", Duration::from_secs(10), || (displayed() == 0).then_some(()));
    let row = wait_until("a2's row answered", Duration::from_secs(10), || {
        fleet_rows(&dirs[1]).into_iter().find(|r| r["text"].as_str().unwrap_or_default().contains("answered by Anna"))
    });
    assert_eq!(row["tag"], "fleet:c1");
    assert_eq!(fleet_rows(&dirs[1]).len(), 1, "the same row, rewritten");
    assert!(fleet_rows(&dirs[0])[0]["text"].as_str().unwrap().contains("answered by you (Anna)"));
    let bodies = dunst_since(&mark);
    assert_eq!(bodies.iter().filter(|b| b.contains("Incoming call c1")).count(), 2, "{bodies:?}");
    // The third queue never saw it.
    assert!(fleet_rows(&dirs[2]).is_empty());
    assert_eq!(toasts_shown(&dirs[2]), before[2]);

    // *Take* from the toast's menu (dunst's context menu, as a person would):
    // one agent wins, every toast of the call closes, both rows name the winner.
    ring(&nats, "sales", "c2");
    wait_until("two toasts for c2", Duration::from_secs(10), || (displayed() == 2).then_some(()));
    let pick = std::env::temp_dir().join("kolokol-dmenu-pick");
    std::fs::write(&pick, "#Take").unwrap();
    // dunstctl returns before dunst runs the menu: the choice stays until done.
    dunstctl(&["context"]);
    wait_until("the taken call's toasts closed", Duration::from_secs(10), || (displayed() == 0).then_some(()));
    std::fs::remove_file(&pick).unwrap();
    let row_of = |d: &Path| {
        fleet_rows(d).into_iter().find(|r| r["tag"] == "fleet:c2").map(|r| r["text"].as_str().unwrap_or_default().to_owned())
    };
    let (t1, t2) = wait_until("both c2 rows answered", Duration::from_secs(10), || {
        let (t1, t2) = (row_of(&dirs[0])?, row_of(&dirs[1])?);
        (t1.contains("answered by") && t2.contains("answered by")).then_some((t1, t2))
    });
    let a1_won = t1.ends_with("answered by you (Agent a1)");
    assert_eq!(a1_won, t2.ends_with("answered by Agent a1"), "{t1} / {t2}");
    assert_eq!(!a1_won, t1.ends_with("answered by Agent a2") && t2.ends_with("answered by you (Agent a2)"), "{t1} / {t2}");

    // The broker gone: the tray and the status say so, the app goes on.
    assert_eq!(status(&dirs[1])["channels"]["tray"]["fleet"], "Call center: connected");
    nats.kill();
    let tray = wait_until("the tray to say the fleet is down", Duration::from_secs(15), || {
        let t = status(&dirs[1])["channels"]["tray"]["fleet"].as_str().unwrap_or_default().to_owned();
        t.starts_with("Call center: disconnected").then_some(t)
    });
    assert!(tray.contains("connection lost; reconnecting"), "{tray}");
    let out = kolokol(&dirs[1], &["send", "add_error", r#"{"text":"still working"}"#]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    nats.launch();
    wait_until("the fleet back", Duration::from_secs(30), || (status(&dirs[1])["channels"]["fleet"]["state"] == "connected").then_some(()));
}

#[test]
fn calls_missed_while_killed_come_back_once_with_one_summary() {
    require_session();
    let nats = Nats::start();
    ring(&nats, "sales", "warm-up");
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(tmp.path(), "a1", fleet_settings(&nats, "a1", &["sales"]));
    let mut app = Proc::spawn(&data, "a1.log", &["--minimized"]);
    wait_listening(&data);
    app.child.kill().unwrap(); // SIGKILL
    app.child.wait().unwrap();
    for i in 0..20 {
        ring(&nats, "sales", &format!("m{i}"));
    }
    ring(&nats, "sales", "m0"); // a PBX retry: the same message id
    let mark = dunst_mark();
    let _app = Proc::spawn(&data, "a1-again.log", &["--minimized"]);
    wait_until("20 missed rows", Duration::from_secs(30), || (fleet_rows(&data).len() >= 20).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    let rows = fleet_rows(&data);
    assert_eq!(rows.len(), 20, "no duplicates: {rows:?}");
    let tags: std::collections::HashSet<_> = rows.iter().map(|r| r["tag"].as_str().unwrap().to_owned()).collect();
    assert_eq!(tags.len(), 20);
    assert!(rows.iter().all(|r| r["text"].as_str().unwrap().ends_with("missed while offline")), "{rows:?}");
    wait_until("the summary toast", Duration::from_secs(10), || (displayed() == 1).then_some(()));
    std::thread::sleep(Duration::from_millis(500));
    let bodies = dunst_since(&mark);
    assert_eq!(bodies.len(), 1, "one summary, not 20 toasts: {bodies:?}");
    assert!(bodies[0].contains("20 calls missed while offline"), "{bodies:?}");
}
