//! Benchmarks of the widget workbench, run with ./dev.sh bench (a real webview
//! under Xvfb):
//! - widget folder opened → the widget's `init` called (ms), over repeated opens,
//!   for the sample widget and each amoCRM-style fixture; the host page's own cost;
//! - the call log with 100,000 entries: frame times of the workbench window
//!   while its list scrolls and while entries keep arriving; page fetches.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{summary, App};

const OPENS: usize = 15;

async fn invoke(app: &App, cmd: &str, args: Value) -> Value {
    app.js(&format!("return await window.__TAURI_INTERNALS__.invoke({}, {args});", json!(cmd))).await
}

async fn wait(app: &App, condition: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while app.client.execute(&format!("return !!({condition});"), vec![]).await.map(|v| v != json!(true)).unwrap_or(true) {
        assert!(Instant::now() < deadline, "timed out waiting for {condition}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn folder_open_to_init() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let widget = fixtures.join("widget");
    let app = App::start(&["open", widget.to_str().unwrap()]).await;
    let workspace = app.client.window().await.unwrap();
    let bench = app.other_window(&workspace).await;
    let mut first = None;
    let mut times = Vec::new();
    for i in 0..=OPENS {
        app.client.switch_to_window(workspace.clone()).await.unwrap();
        if i > 0 {
            // Another page in between, so each open is a fresh load of the folder.
            app.client.switch_to_window(bench.clone()).await.unwrap();
            invoke(&app, "workbench_start_page", json!({})).await;
            app.client.switch_to_window(workspace.clone()).await.unwrap();
            wait(&app, "location.protocol === 'tauri:' && document.readyState === 'complete'", 20).await;
            app.client.switch_to_window(bench.clone()).await.unwrap();
            invoke(&app, "workbench_open", json!({ "input": widget })).await;
            app.client.switch_to_window(workspace.clone()).await.unwrap();
        }
        wait(&app, "window.__kolokolHost && __kolokolHost.initCalledAt", 30).await;
        let ms = app.js("return __kolokolHost.initCalledAt - __kolokolHost.openedMs;").await.as_f64().unwrap();
        if i == 0 {
            first = Some(ms);
        } else {
            times.push(ms);
        }
    }
    println!("widget folder open → init called, at start-up: {:.0} ms (includes the app's start)", first.unwrap());
    summary("widget folder open → init called", times);
    app.stop().await;
}

/// Each fixture widget: folder opened → `init` called, RUNS opens each; and the
/// host page's own cost: navigation → its modules ran, and → the widget's
/// script.js asked for (env.json, the libraries, the i18n file in between).
async fn fixtures_open_to_init() {
    const RUNS: usize = 10;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let app = App::start(&["open", fixtures.join("plain.html").to_str().unwrap()]).await;
    let workspace = app.client.window().await.unwrap();
    let bench = app.other_window(&workspace).await;
    let (mut modules, mut script) = (Vec::new(), Vec::new());
    for name in ["widget-telephony", "widget-settings", "widget-kommo", "widget-templates", "widget-legacy", "widget-es"] {
        let folder = fixtures.join(name);
        let mut times = Vec::new();
        for _ in 0..RUNS {
            app.client.switch_to_window(bench.clone()).await.unwrap();
            invoke(&app, "workbench_start_page", json!({})).await;
            app.client.switch_to_window(workspace.clone()).await.unwrap();
            wait(&app, "location.protocol === 'tauri:' && document.readyState === 'complete'", 20).await;
            app.client.switch_to_window(bench.clone()).await.unwrap();
            invoke(&app, "workbench_open", json!({ "input": folder })).await;
            app.client.switch_to_window(workspace.clone()).await.unwrap();
            wait(&app, "window.__kolokolHost && __kolokolHost.initCalledAt && __kolokolHost.timing.script", 30).await;
            let t = app.js("return [__kolokolHost.initCalledAt - __kolokolHost.openedMs, __kolokolHost.timing.modules, __kolokolHost.timing.script];").await;
            times.push(t[0].as_f64().unwrap());
            modules.push(t[1].as_f64().unwrap());
            script.push(t[2].as_f64().unwrap());
        }
        summary(&format!("{name}: folder open → init called"), times);
    }
    summary("host page: navigation → its modules ran", modules);
    summary("host page: navigation → script.js asked for", script);
    app.stop().await;
}

async fn call_log_with_100k() {
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile.html");
    let app = App::start(&["open", hostile.to_str().unwrap()]).await;
    let workspace = app.client.window().await.unwrap();
    let bench = app.other_window(&workspace).await;
    wait(&app, "window.hostile && window.hostile.done", 300).await;
    app.client.switch_to_window(bench.clone()).await.unwrap();
    wait(&app, "document.querySelectorAll('#calls-list .call-row').length > 0", 20).await;
    let total = invoke(&app, "calllog_page", json!({ "filter": {}, "offset": 0, "limit": 1 })).await["total"].clone();
    println!("call log entries: {total}");

    // Fetching pages: the last 100 rows, and a filtered page (a full scan).
    let fetch = app
        .js(
            "const I = window.__TAURI_INTERNALS__; const out = { plain: [], filtered: [] };
for (let i = 0; i < 30; i++) {
  let t = performance.now(); await I.invoke('calllog_page', { filter: {}, offset: 99900, limit: 100 }); out.plain.push(performance.now() - t);
  t = performance.now(); await I.invoke('calllog_page', { filter: { outcome: 'accepted', text: 'message 9999' }, offset: 0, limit: 100 }); out.filtered.push(performance.now() - t);
}
return out;",
        )
        .await;
    let series = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>();
    summary("calllog_page: 100 rows at the end", series(&fetch["plain"]));
    summary("calllog_page: filtered (full scan)", series(&fetch["filtered"]));

    // Frame times while the list scrolls through all entries for 4 s.
    let frames = app
        .js(
            "const list = document.getElementById('calls-list');
const frames = []; let last = performance.now(); const end = last + 4000;
await new Promise((done) => { const step = (t) => { frames.push(t - last); last = t;
  list.scrollTop = (list.scrollTop + 2400) % Math.max(1, list.scrollHeight - list.clientHeight);
  if (t < end) requestAnimationFrame(step); else done(); }; requestAnimationFrame(step); });
return frames.slice(1);",
        )
        .await;
    summary("workbench frame while scrolling 100k", series(&frames));

    // Frame times at the bottom while a page keeps adding entries (≤2,000/s allowed).
    let list_bottom = "const list = document.getElementById('calls-list'); list.scrollTop = list.scrollHeight; return null;";
    app.js(list_bottom).await;
    app.client.switch_to_window(workspace.clone()).await.unwrap();
    app.js("window.__feed = setInterval(() => { for (let i = 0; i < 100; i++) APP.notifications.show_message({ text: 'feed ' + i }); }, 50); return null;").await;
    app.client.switch_to_window(bench.clone()).await.unwrap();
    let frames = app
        .js(
            "const frames = []; let last = performance.now(); const end = last + 4000;
await new Promise((done) => { const step = (t) => { frames.push(t - last); last = t;
  if (t < end) requestAnimationFrame(step); else done(); }; requestAnimationFrame(step); });
return frames.slice(1);",
        )
        .await;
    summary("workbench frame while 2,000 calls/s arrive", series(&frames));
    app.client.switch_to_window(workspace).await.unwrap();
    app.js("clearInterval(window.__feed); return null;").await;
    app.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("(WebKit rounds performance.now() to whole milliseconds)");
    // `-- fixtures` runs only the fixture widgets' figures.
    if std::env::args().any(|a| a == "fixtures") {
        fixtures_open_to_init().await;
        return;
    }
    folder_open_to_init().await;
    fixtures_open_to_init().await;
    call_log_with_100k().await;
}
