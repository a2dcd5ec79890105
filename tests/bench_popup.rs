//! Benchmarks, run with ./dev.sh bench (a real webview under Xvfb):
//! - JS call → popup in the DOM, over 1,000 calls: median and p99;
//! - cold start → tray ready and → workspace page loaded, over several launches;
//! - `kolokol send` as a PBX's command runs it: one process per call, its wall
//!   time and peak RSS, against an instance in the tray.

mod support;

use support::summary;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CALLS: usize = 1000;

async fn popup_latency() {
    let app = support::App::start(&[]).await;
    // Time from the call to the popup's insertion, seen by a MutationObserver
    // (it fires right after the DOM change, before the Promise settles).
    let v = app
        .js(&format!(
            r#"
const N = APP.notifications;
await N.show_message({{ header: 'warm-up', text: 'x' }});
const stack = document.querySelector('kolokol-overlay').shadowRoot.querySelector('.stack');
const seen = new Map();
new MutationObserver((records) => {{
  const t = performance.now();
  for (const r of records) for (const n of r.addedNodes) if (n.dataset && n.dataset.id) seen.set(n.dataset.id, t);
}}).observe(stack, {{ childList: true }});
const out = {{ message: [], call: [] }};
for (let i = 0; i < {CALLS}; i++) {{
  const kind = i % 2 ? 'call' : 'message';
  const t0 = performance.now();
  const {{ id }} = kind === 'call'
    ? await N.add_call({{ text: 'Звонок от +7 999 000 ' + i, from: 'Петрова Анна', to: 'Смирнов Алексей', duration: 250, element: {{ id: i, type: 'contact' }} }})
    : await N.show_message({{ header: 'Внимание', text: 'Соединение установлено ' + i }});
  await null;
  out[kind].push(seen.get(id) - t0);
  N.dismiss(id);
}}
return out;
"#
        ))
        .await;
    let series = |k: &str| v[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>();
    let all: Vec<f64> = series("message").into_iter().chain(series("call")).collect();
    println!("(WebKit rounds performance.now() to whole milliseconds)");
    summary("call → popup in DOM (all)", all);
    summary("  show_message", series("message"));
    summary("  add_call", series("call"));
    app.stop().await;
}

fn cold_start(runs: usize) {
    let mut tray = Vec::new();
    let mut page = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut child = Command::new(support::APP_BIN)
            .arg("--data-dir")
            .arg(dir.path())
            .env("KOLOKOL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (mut t_tray, mut t_page) = (None, None);
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("tray ready") {
                t_tray = Some(t0.elapsed());
            }
            if line.contains("workspace page loaded") {
                t_page = Some(t0.elapsed());
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "no start-up within 60 s");
        }
        let _ = child.kill();
        let _ = child.wait();
        tray.push(t_tray.expect("tray ready").as_secs_f64() * 1e3);
        page.push(t_page.expect("page loaded").as_secs_f64() * 1e3);
    }
    summary("cold start → tray ready", tray);
    summary("cold start → workspace page loaded", page);
}

fn send_command(runs: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut app = support::Proc::spawn(&dir, "app.log", &["--minimized"]);
    app.wait_log("tray ready");
    let mut wall = Vec::new();
    for i in 0..runs {
        let payload = format!(r#"{{"text":"Звонок {i}","from":"+7 999 000 00 00"}}"#);
        let t0 = Instant::now();
        let out = Command::new(support::APP_BIN).arg("--data-dir").arg(&dir).args(["send", "add_call", &payload]).output().unwrap();
        wall.push(t0.elapsed().as_secs_f64() * 1e3);
        assert!(out.status.success(), "kolokol send: {}", String::from_utf8_lossy(&out.stderr));
    }
    summary("kolokol send → accepted, process start to exit", wall);
    // The largest resident set of the sends (the app is not waited for yet, so not counted).
    #[cfg(unix)]
    {
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0 {
            println!("kolokol send: peak RSS {:.1} MiB (the largest of {runs})", usage.ru_maxrss as f64 / 1024.0);
        }
    }
}

#[tokio::main]
async fn main() {
    support::require_environment();
    println!("kolokol benchmarks ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    // First: the peak RSS it reads covers every child waited for so far.
    send_command(30);
    cold_start(7);
    popup_latency().await;
}
