//! Notification-center benchmarks, run with ./dev.sh bench (real webview,
//! real dunst, real SQLite):
//! - JS call → row committed (the Promise of add_error settles after COMMIT);
//! - JS call → D-Bus Notify returned (the app logs each toast it sent);
//! - a burst of 10,000 add_error within one second: rows stored, toasts shown,
//!   frame stalls in the calling page;
//! - history of 1,000,000 rows: the history window from the tray click to its
//!   first rows painted, and the database size.

mod support;

use support::summary;

use std::process::Command;
use std::time::Duration;

fn status(dir: &std::path::Path) -> serde_json::Value {
    let out = Command::new(support::APP_BIN).arg("--data-dir").arg(dir).args(["status", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn commit_and_notify_latency() {
    let app = support::App::start(&[]).await;
    // Sequential add_error: the Promise resolves once the row is committed.
    let v = app
        .js(r#"
const N = APP.notifications, out = { commit: [], calls: [] };
for (let i = 0; i < 1000; i++) {
  const t0 = performance.now();
  const { id } = await N.add_error({ header: "Ошибка", text: "Контакт не найден " + i, tag: "bench-error" });
  out.commit.push(performance.now() - t0);
  N.dismiss(id);
}
// add_call with one tag: each replaces the last toast, so none is coalesced.
for (let i = 0; i < 200; i++) {
  const at = performance.timeOrigin + performance.now();
  const { id } = await N.add_call({ text: "Звонок " + i, from: "Петрова Анна", to: "Смирнов Алексей", tag: "bench-call" });
  out.calls.push([id, at]);
  await new Promise((r) => setTimeout(r, 30));
}
return out;"#)
        .await;
    let commit: Vec<f64> = v["commit"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    summary("JS call → row committed (add_error)", commit);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let log = std::fs::read_to_string(app.data_dir.path().join("driver.log")).unwrap();
    let sent: std::collections::HashMap<&str, f64> = log
        .lines()
        .filter(|l| l.contains("toast sent"))
        .filter_map(|l| {
            let id = l.split("id=").nth(1)?.split_whitespace().next()?.trim_matches('"');
            let ms = l.split("epoch_ms=").nth(1)?.split_whitespace().next()?.trim_matches('"').parse().ok()?;
            Some((id, ms))
        })
        .collect();
    let notify: Vec<f64> = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some(sent.get(c[0].as_str()?)? - c[1].as_f64()?))
        .collect();
    println!("  ({} of 200 add_call toasts found in the app's log)", notify.len());
    summary("JS call → D-Bus Notify returned (add_call)", notify);
    app.stop().await;
}

/// `settle_ms`: how long the page has been loaded when the burst begins (0:
/// at once; the overlay's first drawing then falls inside the burst).
async fn burst(settle_ms: u64) {
    let app = support::App::start(&[]).await;
    let before = status(app.data_dir.path());
    println!("burst {settle_ms} ms after the page loaded:");
    let v = app
        .js(&r#"
const N = APP.notifications;
await new Promise((r) => setTimeout(r, SETTLE_MS));
const gaps = []; let last = performance.now(), running = true;
const tick = (t) => { gaps.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
requestAnimationFrame(tick);
const t0 = performance.now(), all = [];
for (let batch = 0; batch < 100; batch++) {
  for (let i = 0; i < 100; i++) all.push(N.add_error({ header: "Ошибка", text: "burst " + (batch * 100 + i) }));
  await new Promise((r) => setTimeout(r, 10));
}
const sent = performance.now() - t0;
const results = await Promise.allSettled(all);
const done = performance.now() - t0;
running = false;
return { sent, done, ok: results.filter((r) => r.status === "fulfilled").length, gaps };"#
            .replace("SETTLE_MS", &settle_ms.to_string()))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = status(app.data_dir.path());
    let rows = Command::new(support::APP_BIN)
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .args(["history", "--json", "--limit", "20000"])
        .output()
        .unwrap();
    let rows = serde_json::from_slice::<serde_json::Value>(&rows.stdout).unwrap().as_array().unwrap().len();
    let toast = |s: &serde_json::Value, k: &str| s["channels"]["toast"][k].as_u64().unwrap_or(0);
    let gaps: Vec<f64> = v["gaps"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let stalls = gaps.iter().filter(|g| **g > 50.0).count();
    println!(
        "burst of 10,000 add_error (calls issued over {:.0} ms, all settled after {:.0} ms): {} accepted, {} rows stored, {} toasts + {} summaries shown",
        v["sent"].as_f64().unwrap(),
        v["done"].as_f64().unwrap(),
        v["ok"],
        rows,
        toast(&after, "shown") - toast(&before, "shown"),
        toast(&after, "summaries") - toast(&before, "summaries"),
    );
    println!(
        "  page frames during the burst: {} frames, {} over 50 ms, longest {:.0} ms",
        gaps.len(),
        stalls,
        gaps.iter().cloned().fold(0.0, f64::max)
    );
    // Where the long frames fall (ms after the burst began), to tell a
    // start-up cost from a steady one.
    let mut at = 0.0;
    let long: Vec<String> = gaps
        .iter()
        .filter_map(|g| {
            at += g;
            (*g > 50.0).then(|| format!("{g:.0} ms ending at {at:.0} ms"))
        })
        .collect();
    if !long.is_empty() {
        println!("  frames over 50 ms: {}", long.join(", "));
    }
    summary("  frame interval during the burst", gaps);
    app.stop().await;
}

/// The history window over 1,000,000 rows; Linux only: the window is opened
/// from the tray's D-Bus menu.
#[cfg(target_os = "linux")]
mod million {
    use super::{status, summary, support};
    use std::time::{Duration, Instant};

    use kolokol_lib::channels::history::History;
    use kolokol_lib::core::api::{self, Method};

    fn fill(dir: &std::path::Path, rows: usize) -> f64 {
        let h = History::open(&kolokol_lib::channels::history::path_in(dir)).unwrap();
        let t0 = Instant::now();
        // One row every 5 s up to now: within the default retention (180 days),
        // so the app's writer does not spend the benchmark pruning them.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - rows as i64 * 5_000;
        for chunk in 0..rows / 1000 {
            let batch: Vec<_> = (0..1000)
                .map(|i| {
                    let n = chunk * 1000 + i;
                    let (m, json) = if n % 2 == 0 {
                        (Method::AddCall, format!(r#"{{"text":"Звонок от +7 999 {n:07}","from":"Абонент {n}","to":"Оператор {}","duration":{},"element":{{"id":{n},"type":"contact"}}}}"#, n % 40, n % 600))
                    } else {
                        (Method::AddError, format!(r#"{{"header":"Ошибка","text":"Не удалось создать задачу {n}: контакт не найден","link":"/contacts/list/?term={n}"}}"#))
                    };
                    api::normalize(m, &json, api::Context { account: None, now_ms: now + n as i64 * 5_000, id: format!("fill-{n}") }).unwrap()
                })
                .collect();
            h.insert_batch(&batch).unwrap();
        }
        t0.elapsed().as_secs_f64()
    }

    fn dir_size(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("history.sqlite3"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    }

    pub async fn million_rows_window() {
        let app = support::App::start(&[]).await;
        let pid = status(app.data_dir.path())["pid"].as_u64().unwrap();
        // Kept (and removed at the end) rather than dropped with that app.
        let data = app.stop_keeping_data().await;
        let dir = data.path().to_owned();
        // Wait for that instance to be gone before filling its store.
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let secs = fill(&dir, 1_000_000);
        println!("history filled with 1,000,000 rows in {secs:.1} s; files {:.1} MiB", dir_size(&dir) as f64 / 1048576.0);
        // Open the app on it; the window is opened the way a person does, from the tray.
        let mut opens = Vec::new();
        for _ in 0..5 {
            let app = support::App::start(&["--data-dir", dir.to_str().unwrap()]).await;
            let workspace = app.client.window().await.unwrap();
            let pid = status(&dir)["pid"].as_u64().unwrap();
            // Sent as a panel does, on the tray's own bus name (found before the clock starts).
            let clicked = support::desktop::click_tray(pid as u32, "History");
            let handle = loop {
                if let Some(h) = app.client.windows().await.unwrap().into_iter().find(|h| *h != workspace) {
                    break h;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            app.client.switch_to_window(handle).await.unwrap();
            app.wait_for("window.__paintedAtEpochMs > 0").await;
            // Both ends on the epoch clock, so WebDriver's polling is not counted.
            let page = app
                .client
                .execute("return [performance.timeOrigin, window.__firstPaintMs, window.__paintedAtEpochMs]", vec![])
                .await
                .unwrap();
            let f = |i: usize| page[i].as_f64().unwrap();
            let clicked = clicked.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1e3;
            opens.push((f(2) - clicked, f(0) - clicked, f(1)));
            app.stop().await;
        }
        summary("tray click → history rows painted (wall)", opens.iter().map(|o| o.0).collect());
        summary("  tray click → the page's navigation began", opens.iter().map(|o| o.1).collect());
        summary("  navigation began → first rows in the DOM", opens.iter().map(|o| o.2).collect());
        summary("  first rows in the DOM → that frame painted", opens.iter().map(|o| o.0 - o.1 - o.2).collect());
    }
}

#[tokio::main]
async fn main() {
    support::require_environment();
    println!("kolokol center benchmarks ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    // `cargo bench --bench center -- burst` runs only the sections named.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    if run("latency") {
        commit_and_notify_latency().await;
    }
    if run("burst") {
        burst(0).await;
    }
    if run("burst-settled") {
        burst(2000).await;
    }
    if run("million") {
        #[cfg(target_os = "linux")]
        million::million_rows_window().await;
        #[cfg(not(target_os = "linux"))]
        println!("million: Linux only (the window is opened from the tray's D-Bus menu)");
    }
}
