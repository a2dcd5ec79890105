//! The notification center end to end: a page's add_call/add_error → a row in
//! the SQLite history (read back with `kolokol history --json`), a toast in a
//! real dunst (`dunstctl history`), the tray count (`kolokol status --json`),
//! the history window. Runs inside ./dev.sh test's session (Xvfb, D-Bus, dunst).

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{App, TRAY_PATH};

fn kolokol(app: &App, args: &[&str]) -> Output {
    Command::new(support::APP_BIN).arg("--data-dir").arg(app.data_dir.path()).args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    // `status --json` says why on stdout.
    assert!(out.status.success(), "kolokol failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn history(app: &App, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["history", "--json", "--limit", "5000"];
    args.extend_from_slice(extra);
    json_of(&kolokol(app, &args)).as_array().unwrap().clone()
}

fn status(app: &App) -> Value {
    json_of(&kolokol(app, &["status", "--json"]))
}

/// Every notification dunst has received in this session, newest first
/// (open ones are closed first: dunst's history holds closed ones only).
fn dunst_history() -> Vec<Value> {
    Command::new("dunstctl").arg("close-all").status().expect("dunstctl (apt-get install dunst)");
    let out = Command::new("dunstctl").arg("history").output().expect("dunstctl");
    assert!(out.status.success(), "dunstctl history: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["data"][0].as_array().cloned().unwrap_or_default()
}

/// Toasts dunst shows now.
fn displayed() -> usize {
    let out = Command::new("dunstctl").args(["count", "displayed"]).output().expect("dunstctl");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

fn dunst_field(n: &Value, key: &str) -> String {
    n[key]["data"].as_str().map(str::to_owned).unwrap_or_else(|| n[key]["data"].to_string())
}

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn require_dunst() {
    let out = Command::new("dbus-send")
        .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications"])
        .output()
        .expect("dbus-send");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("boolean true"),
        "no notification server on the session bus: run through ./dev.sh test, which starts dunst"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_call_reaches_every_channel() {
    require_dunst();
    let before = dunst_history().len();
    let app = App::start(&[]).await;
    let v = app
        .js(r#"
const r = await APP.notifications.add_call({
  text: "Звонок от +7(999)888 55 33", date: 1534084500, from: "Петрова Анна", to: "Смирнов Алексей",
  element: { id: 18221265, type: "contact" }, duration: 250, link: "https://example.com/dialog.mp3",
});
return r;"#)
        .await;
    let id = v["id"].as_str().unwrap().to_owned();

    // Stored before the Promise resolved: the row is there at once.
    let rows = history(&app, &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!((row["id"].as_str(), row["look"].as_str(), row["read"].as_bool()), (Some(id.as_str()), Some("call"), Some(false)));
    assert_eq!((row["from"].as_str(), row["to"].as_str(), row["duration_s"].as_u64()), (Some("Петрова Анна"), Some("Смирнов Алексей"), Some(250)));
    assert_eq!(row["payload"]["element"]["id"], 18221265, "raw payload kept");

    // A critical toast with caller and callee.
    let toast = wait_until("the call's toast in dunst", || {
        let h = dunst_history();
        (h.len() > before).then(|| h[0].clone())
    });
    let (summary, body) = (dunst_field(&toast, "summary"), dunst_field(&toast, "body"));
    assert!(format!("{summary} {body}").contains("Петрова Анна"), "{toast}");
    assert!(format!("{summary} {body}").contains("Смирнов Алексей"), "{toast}");
    // tests/fixtures/dunstrc prefixes the message with the urgency dunst saw.
    assert!(dunst_field(&toast, "message").starts_with("CRITICAL|"), "{toast}");

    // The tray shows one unread (refreshed within 50 ms), and says so to `kolokol status`.
    let st = wait_until("the tray label", || Some(status(&app)).filter(|st| st["channels"]["tray"]["label"] == "1"));
    assert_eq!(st["unread"], 1, "{st}");
    assert_eq!(st["channels"]["toast"]["available"], true, "{st}");

    // Full-text search finds it, case-insensitively, in Cyrillic.
    assert_eq!(history(&app, &["--search", "петрова"]).len(), 1);
    assert_eq!(history(&app, &["--search", "Иванов"]).len(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_burst_is_stored_whole_and_toasted_sparingly() {
    require_dunst();
    let before = dunst_history().len();
    let app = App::start(&[]).await;
    let v = app
        .js(r#"
const N = APP.notifications;
const single = await N.add_error({ header: "Ошибка", text: "Не удалось установить задачу! Контакт не найден!", link: "/contacts/list/?term=4951234567" });
const burst = await Promise.all(Array.from({ length: 1000 }, (_, i) => N.add_error({ header: "Ошибка", text: "burst " + i })));
return { single: single.id, ids: new Set(burst.map((r) => r.id)).size };"#)
        .await;
    assert_eq!(v["ids"], 1000);
    let rows = history(&app, &[]);
    assert_eq!(rows.len(), 1001, "every call of the burst is stored");
    assert!(rows.iter().all(|r| r["look"] == "error"));
    // Toasts: the single one individually (NORMAL urgency), the burst coalesced.
    std::thread::sleep(Duration::from_secs(3));
    let toasts = dunst_history();
    let new = toasts.len() - before;
    // The first few individually, then one summary a second ("N new errors").
    assert!((2..60).contains(&new), "a burst of 1,000 errors gave {new} toasts");
    assert!(toasts.iter().any(|t| dunst_field(t, "summary").contains("new errors")), "a summary toast");
    let single = toasts.iter().find(|t| dunst_field(t, "body").contains("Контакт не найден")).expect("the single error's toast");
    assert!(dunst_field(single, "message").starts_with("NORMAL|"), "{single}");
    let st = wait_until("the tray label", || Some(status(&app)).filter(|st| st["channels"]["tray"]["label"] == "99+"));
    assert_eq!(st["unread"], 1001);
    app.stop().await;
}

#[test]
fn send_refusals_name_the_field() {
    let app_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| Command::new(support::APP_BIN).arg("--data-dir").arg(app_dir.path()).args(args).output().unwrap();
    // No instance yet: a clear error, not a hang.
    let out = run(&["send", "add_call", r#"{"text":"t"}"#]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
    let st = run(&["status", "--json"]);
    assert_eq!(st.status.code(), Some(3));
    assert_eq!(serde_json::from_slice::<Value>(&st.stdout).unwrap()["running"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kolokol_send_goes_through_the_same_validation() {
    require_dunst();
    let app = App::start(&[]).await;
    for (method, payload, field, code) in [
        ("add_call", "{}", "text", "empty"),
        ("add_error", "5", "payload", "not_object"),
        ("add_error", "{not json", "payload", "invalid_json"),
        ("show_message", r#"{"header":" ","text":""}"#, "text", "empty"),
        ("eval", "{}", "method", "unknown_method"),
    ] {
        let out = kolokol(&app, &["send", method, payload]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{method} {payload}: {err}");
        assert!(err.contains(&format!("({code}): {field}:")), "{method} {payload}: {err}");
    }
    assert_eq!(history(&app, &[]).len(), 0, "refusals store nothing");
    let out = kolokol(&app, &["send", "add_call", r#"{"text":"Звонок из скрипта","from":"+7 999 111 22 33","date":"yesterday"}"#]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: date:"));
    let rows = history(&app, &[]);
    assert_eq!((rows.len(), rows[0]["text"].as_str()), (1, Some("Звонок из скрипта")));
    assert_eq!(status(&app)["unread"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_notification_server_calls_are_still_stored() {
    // A private bus on which nobody owns org.freedesktop.Notifications and
    // nothing can be activated.
    let bus = support::PrivateBus::start();
    let app = App::start_env(&[], &[("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())]).await;
    let t0 = Instant::now();
    let v = app
        .js(r#"const a = await APP.notifications.add_call({ text: "Звонок", from: "Анна" });
const b = await APP.notifications.add_error({ text: "Ошибка" });
return [a.id, b.id];"#)
        .await;
    assert!(t0.elapsed() < Duration::from_secs(3), "calls waited for a missing server: {:?}", t0.elapsed());
    assert_eq!(v.as_array().unwrap().len(), 2);
    let rows = history(&app, &[]);
    assert_eq!(rows.len(), 2);
    let st = wait_until("the toast channel to report itself unavailable", || {
        let st = status(&app);
        (st["channels"]["toast"]["available"] == json!(false)).then_some(st)
    });
    assert_eq!(st["unread"], 2);
    app.stop().await;
}

/// The app's tray as a StatusNotifierItem on the session bus: its bus name.
fn tray_bus_name(pid: u64) -> String {
    let names = support::bus_names(pid);
    // Ask each of its connections for the item; some (GTK's) never answer, hence the short timeout.
    names
        .into_iter()
        .find(|n| {
            Command::new("timeout")
                .args(["2", "busctl", "--user", "get-property", n, TRAY_PATH, "org.kde.StatusNotifierItem", "Id"])
                .output()
                .unwrap()
                .status
                .success()
        })
        .unwrap_or_else(|| panic!("no StatusNotifierItem of pid {pid} on the session bus"))
}


/// busctl's answer, with its octal escapes of non-ASCII bytes (`\320\236`) decoded.
fn busctl(args: &[&str]) -> String {
    let out = Command::new("busctl").arg("--user").args(args).output().unwrap();
    if !out.status.success() {
        let peer = args.iter().find(|a| a.starts_with(':')).map(|n| main_thread_of(n)).unwrap_or_default();
        panic!("busctl {args:?}: {}{peer}", String::from_utf8_lossy(&out.stderr));
    }
    let raw = out.stdout;
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let octal = raw.get(i + 1..i + 4).filter(|d| raw[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                bytes.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// Where the process behind bus name `name` is now: its main thread's stack
/// (gdb), which serves the tray's D-Bus objects, then every thread's top.
/// For a call that timed out (the test once waited 25 s for the menu after
/// "Do not disturb": the tray's deadlock that `tray::refresh` now avoids).
fn main_thread_of(name: &str) -> String {
    let status = Command::new("busctl").args(["--user", "status", name]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let Some(pid) = status.lines().find_map(|l| l.strip_prefix("PID=")).map(str::to_owned) else {
        return format!("\n(no PID for {name})");
    };
    let gdb = Command::new("timeout")
        .args(["60", "gdb", "-p", &pid, "-batch", "-ex", "thread 1", "-ex", "bt 40", "-ex", "thread apply all bt 12"])
        .output();
    match gdb {
        Ok(o) => format!("\n--- pid {pid}: its main thread's stack, then every thread's (gdb) ---\n{}", String::from_utf8_lossy(&o.stdout)),
        Err(e) => format!("\n(no stack of pid {pid}: gdb: {e})"),
    }
}

/// The tray's label as the panel reads it ("" when none).
fn tray_label(name: &str) -> String {
    busctl(&["get-property", name, TRAY_PATH, "org.kde.StatusNotifierItem", "XAyatanaLabel"])
        .trim_start_matches("s ")
        .trim_matches('"')
        .to_owned()
}

/// Clicks the tray menu item whose label starts with `label`, as a panel does.
fn click_tray_item(name: &str, label: &str) -> String {
    let menu = format!("{TRAY_PATH}/Menu");
    let layout = busctl(&["call", "--", name, &menu, "com.canonical.dbusmenu", "GetLayout", "iias", "0", "-1", "0"]);
    let item = layout
        .split("(ia{sv}av) ")
        .find(|chunk| chunk.contains(&format!("\"label\" s \"{label}")))
        .unwrap_or_else(|| panic!("no tray item {label:?} in {layout}"));
    let id = item.split_whitespace().next().unwrap();
    let full = item.split("\"label\" s \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    busctl(&["call", "--", name, &menu, "com.canonical.dbusmenu", "Event", "isvu", id, "clicked", "s", "", "0"]);
    full
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_and_history_window_follow_the_store() {
    require_dunst();
    let app = App::start(&[]).await;
    app.js(r#"await APP.notifications.add_call({ text: "Звонок от +7(999)888 55 33", from: "Петрова Анна", to: "Смирнов Алексей", duration: 250, link: "https://example.com/dialog.mp3" });
await APP.notifications.add_error({ header: "Ошибка", text: "Контакт не найден" });
return null;"#)
        .await;
    let st = wait_until("the tray label", || Some(status(&app)).filter(|st| st["channels"]["tray"]["label"] == "2"));
    let name = tray_bus_name(st["pid"].as_u64().unwrap());
    // The panel's view and `kolokol status` agree.
    assert_eq!(tray_label(&name), "2");
    assert_eq!(st["channels"]["tray"]["history_item"], "History (2 unread)");

    // Do not disturb from the tray menu: saved, shown, and toasts held back.
    click_tray_item(&name, "Do not disturb");
    wait_until("do-not-disturb on", || (status(&app)["do_not_disturb"] == json!(true)).then_some(()));
    let shown_before = status(&app)["channels"]["toast"]["shown"].as_u64().unwrap();
    app.js("await APP.notifications.add_error({ text: 'quiet' }); return null;").await;
    let st = status(&app);
    assert_eq!(st["channels"]["toast"]["shown"].as_u64().unwrap(), shown_before, "no toast under do-not-disturb");
    assert_eq!(st["unread"], 3, "but stored and counted");
    click_tray_item(&name, "Do not disturb");
    wait_until("do-not-disturb off", || (status(&app)["do_not_disturb"] == json!(false)).then_some(()));

    // History (N unread) opens the history window, which lists the rows.
    assert_eq!(click_tray_item(&name, "History"), "History (3 unread)");
    let workspace = app.client.window().await.unwrap();
    let history = wait_until_async(&app, workspace.clone()).await;
    app.client.switch_to_window(history).await.unwrap();
    app.wait_for("document.body.dataset.ready === 'true' && document.querySelectorAll('#history-list [data-seq]').length === 3").await;
    // A trusted window goes to no page but Kolokol's own (it would get the history commands).
    let own = app.js("return location.href;").await;
    app.js("location.href = 'https://example.com/'; return null;").await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(app.js("return location.href;").await, own, "the history window navigated away");
    let rows = app
        .js("return [...document.querySelectorAll('#history-list [data-seq]')].map((r) => ({ look: r.dataset.look, read: r.dataset.read, from: r.querySelector('[data-part=from]')?.textContent ?? null, duration: r.querySelector('[data-part=duration]')?.textContent ?? null }));")
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["look"].as_str().unwrap()).collect::<Vec<_>>(), ["error", "error", "call"], "newest first");
    assert_eq!((rows[2]["from"].as_str(), rows[2]["duration"].as_str()), (Some("Петрова Анна"), Some("4:10")));
    let shot = std::env::temp_dir().join("kolokol-history-window.png");
    std::fs::write(&shot, app.client.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", shot.display());
    // Mark all read: the tray and the status follow at once (the count is a
    // read mark, not a row update; 2 s covers spawning `kolokol status` twice).
    let clicked = Instant::now();
    app.js("document.getElementById('mark-all-read').click(); return null;").await;
    wait_until("unread 0", || (status(&app)["unread"] == json!(0)).then_some(()));
    wait_until("the tray label cleared", || (tray_label(&name).is_empty()).then_some(()));
    assert!(clicked.elapsed() < Duration::from_secs(2), "mark all read took {:?} to reach the tray", clicked.elapsed());
    // Live: a new call appears in the open window.
    app.client.switch_to_window(workspace).await.unwrap();
    app.js("await APP.notifications.add_call({ text: 'Ещё звонок', from: 'Иванов' }); return null;").await;
    app.client.switch_to_window(wait_until_async(&app, app.client.window().await.unwrap()).await).await.unwrap();
    app.wait_for("document.querySelectorAll('#history-list [data-seq]').length === 4 || !!document.getElementById('history-new')?.offsetParent").await;
    app.stop().await;
}

/// Do-not-disturb on, calls and errors arrive (calls still ring through), off
/// again: one "missed while away" toast sums them up, and its click opens the
/// history on exactly those rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_from_do_not_disturb_one_summary_opens_what_arrived() {
    require_dunst();
    let app = App::start(&[]).await;
    app.js("await APP.notifications.add_error({ text: 'before the break' }); return null;").await;
    let st = wait_until("the first row", || Some(status(&app)).filter(|st| st["unread"] == 1));
    let name = tray_bus_name(st["pid"].as_u64().unwrap());
    click_tray_item(&name, "Do not disturb");
    wait_until("away", || (status(&app)["away"]["reasons"] == json!(["do_not_disturb"])).then_some(()));
    for i in 0..5 {
        let out = kolokol(&app, &["send", "add_call", &json!({ "text": format!("call {i}"), "from": format!("+7 900 {i}") }).to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    app.js("await APP.notifications.add_error({ text: 'while away 1' }); await APP.notifications.add_error({ text: 'while away 2' }); return null;").await;
    wait_until("8 rows", || (status(&app)["unread"] == 8).then_some(()));
    // Calls break through do-not-disturb: 3 toasts, then "2 new calls" once
    // the burst's summary is due. Close them all before the break ends.
    wait_until("the burst's summary", || (status(&app)["channels"]["toast"]["pending"] == 0).then_some(()));
    dunst_history();
    let before = dunst_history().len();
    click_tray_item(&name, "Do not disturb");
    wait_until("the summary toast", || (displayed() == 1).then_some(()));
    let st = status(&app);
    assert_eq!(st["away"]["reasons"], json!([]));
    assert!(st["away"]["session_lock"]["available"].is_boolean(), "{st}");
    // The click (dunst's `action` runs the default action) opens the history.
    let workspace = app.client.window().await.unwrap();
    let out = Command::new("dunstctl").args(["action", "0"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let history = wait_until_async(&app, workspace).await;
    app.client.switch_to_window(history).await.unwrap();
    app.wait_for("document.body.dataset.ready === 'true' && document.querySelectorAll('#history-list [data-seq]').length === 7 && !document.getElementById('history-away').hidden").await;
    let total = app.js("return document.getElementById('history-total').dataset.count;").await;
    assert_eq!(total, json!("7"), "only what arrived while away");
    // Its chip goes back to everything.
    app.js("document.getElementById('history-away').click(); return null;").await;
    app.wait_for("document.querySelectorAll('#history-list [data-seq]').length === 8 && document.getElementById('history-away').hidden").await;
    // Nothing replayed: one new toast, the summary.
    let after: Vec<Value> = dunst_history();
    assert_eq!(after.len() - before, 1, "{after:#?}");
    assert_eq!(dunst_field(&after[0], "summary"), "Missed calls: 5, errors: 2");
    assert!(dunst_field(&after[0], "body").contains("While you were away"), "{:?}", after[0]);
    app.stop().await;
}

/// The account's page: `new Notification(...)` is granted and becomes a
/// toast in dunst, whose click reaches the page's `onclick`; another origin
/// is denied and shows nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_notifications_of_the_account_become_toasts_and_others_are_denied() {
    require_dunst();
    let fx = support::Fixtures::serve();
    let app = App::start_with_settings(json!({ "account_url": fx.origin }), &["open", &fx.url("plain.html")]).await;
    dunst_history();
    let before = dunst_history().len();
    let v = app
        .js(r#"const p = await Notification.requestPermission();
const n = new Notification("Новая заявка", { body: "Иванов <b>Пётр</b>", tag: "lead-7" });
window.webClicks = 0;
n.onclick = () => window.webClicks++;
const shown = await new Promise((r) => { n.onshow = () => r("show"); n.onerror = () => r("error"); setTimeout(() => r("timeout"), 5000); });
return { p, now: Notification.permission, shown };"#)
        .await;
    assert_eq!(v, json!({ "p": "granted", "now": "granted", "shown": "show" }));
    wait_until("the toast", || (displayed() == 1).then_some(()));
    let out = Command::new("dunstctl").args(["action", "0"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.wait_for("window.webClicks === 1").await;
    let all = dunst_history();
    assert_eq!(all.len() - before, 1, "{all:#?}");
    assert_eq!(dunst_field(&all[0], "summary"), "Новая заявка");
    let body = dunst_field(&all[0], "body");
    let host = fx.origin.trim_start_matches("http://");
    assert!(body.contains("Иванов") && body.contains(host), "the text and where it came from: {body}");

    // Another origin (the same server under another name) is denied.
    let other = fx.url("plain.html").replace("127.0.0.1", "localhost");
    app.js(&format!("location.href = {}; return null;", json!(other))).await;
    app.wait_for("location.hostname === 'localhost' && document.readyState === 'complete'").await;
    let v = app
        .js(r#"const p = await Notification.requestPermission();
const n = new Notification("spam", { body: "from elsewhere" });
const shown = await new Promise((r) => { n.onshow = () => r("show"); n.onerror = () => r("error"); setTimeout(() => r("timeout"), 5000); });
return { p, shown };"#)
        .await;
    assert_eq!(v, json!({ "p": "denied", "shown": "error" }));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(displayed(), 0, "nothing shown for another origin");
    app.stop().await;
}

/// A download from the workspace lands in the Downloads folder (XDG's, set by
/// the test) under a safe name, never over an earlier file, with a toast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_land_in_the_downloads_folder_with_a_toast() {
    require_dunst();
    let config = tempfile::tempdir().unwrap();
    let downloads = config.path().join("Загрузки");
    std::fs::write(config.path().join("user-dirs.dirs"), format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display())).unwrap();
    let fx = support::Fixtures::serve();
    let app = App::start_env(&["open", &fx.url("download.html")], &[("XDG_CONFIG_HOME", config.path().to_str().unwrap())]).await;
    app.wait_for("!!document.getElementById('rec')").await;
    dunst_history();
    let before = dunst_history().len();
    for expected in ["Запись звонка.txt", "Запись звонка (1).txt"] {
        app.click("document.getElementById('rec')").await;
        let file = downloads.join(expected);
        wait_until(expected, || std::fs::read_to_string(&file).ok().filter(|t| t.contains("not really")).map(|_| ()));
    }
    assert_eq!(std::fs::read_dir(&downloads).unwrap().count(), 2, "the page's ../ stays inside the folder");
    let toasts = wait_until("two toasts", || {
        let all = dunst_history();
        (all.len() >= before + 2).then_some(all)
    });
    let mine: Vec<String> = toasts.iter().take(2).map(|t| format!("{}: {}", dunst_field(t, "summary"), dunst_field(t, "body"))).collect();
    assert!(mine.contains(&"Downloaded: Запись звонка.txt".to_string()) && mine.contains(&"Downloaded: Запись звонка (1).txt".to_string()), "{mine:?}");
    app.stop().await;
}

/// The tray's "Open amoCRM" brings the workspace back to the account from
/// wherever it went; without an account address it says how to set one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_opens_the_account() {
    let fx = support::Fixtures::serve();
    let app = App::start_with_settings(json!({ "account_url": fx.origin }), &[]).await;
    app.wait_for(&format!("location.origin === {}", json!(fx.origin))).await;
    let st = status(&app);
    assert_eq!(st["channels"]["tray"]["account_item"], "Open amoCRM (127.0.0.1)", "{st}");
    let other = fx.url("plain.html").replace("127.0.0.1", "localhost");
    app.js(&format!("location.href = {}; return null;", json!(other))).await;
    app.wait_for("location.hostname === 'localhost' && document.readyState === 'complete'").await;
    let name = tray_bus_name(st["pid"].as_u64().unwrap());
    assert_eq!(click_tray_item(&name, "Open amoCRM"), "Open amoCRM (127.0.0.1)");
    app.wait_for(&format!("location.origin === {}", json!(fx.origin))).await;
    app.stop().await;

    let app = App::start(&[]).await;
    let st = status(&app);
    assert_eq!(st["channels"]["tray"]["account_item"], "Open amoCRM (set the account address in the workbench's settings)", "{st}");
    app.stop().await;
}

/// The handle of a window other than `not`, once there is one.
async fn wait_until_async(app: &App, not: fantoccini::wd::WindowHandle) -> fantoccini::wd::WindowHandle {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(h) = app.client.windows().await.unwrap().into_iter().find(|h| *h != not) {
            return h;
        }
        assert!(Instant::now() < deadline, "no second window appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_setting_switches_the_tray_and_toasts() {
    require_dunst();
    let app = App::start(&[]).await;
    // The workbench's own control, as a person would reach it: tray → Workbench.
    let name = tray_bus_name(status(&app)["pid"].as_u64().unwrap());
    assert_eq!(click_tray_item(&name, "Workbench"), "Workbench (call log, settings)");
    let workspace = app.client.window().await.unwrap();
    app.client.switch_to_window(app.other_window(&workspace).await).await.unwrap();
    app.wait_for("document.body.dataset.ready === 'true' && !!document.getElementById('language')").await;
    // Retention: a value that is not a count is refused, naming the setting;
    // a good one is saved and applied.
    app.js("const d = document.getElementById('keep-days'); d.value = '-3'; d.dispatchEvent(new Event('change')); return null;").await;
    app.wait_for("document.getElementById('account-status').textContent.startsWith('Keep history for')").await;
    app.js("const d = document.getElementById('keep-days'); d.value = '30'; d.dispatchEvent(new Event('change')); return null;").await;
    wait_until("retention saved", || {
        std::fs::read_to_string(app.data_dir.path().join("settings.json")).ok().filter(|s| s.contains("\"history_keep_days\": 30")).map(|_| ())
    });
    app.js("const s = document.getElementById('language'); s.value = 'ru'; s.dispatchEvent(new Event('change')); return null;").await;
    app.client.switch_to_window(workspace).await.unwrap();
    wait_until("Russian settings saved", || {
        std::fs::read_to_string(app.data_dir.path().join("settings.json")).ok().filter(|s| s.contains("\"language\": \"ru\"")).map(|_| ())
    });
    let before = dunst_history().len();
    app.js("await APP.notifications.add_call({ text: 'Звонок', from: 'Анна', element: { id: 5, type: 'lead' } }); return null;").await;
    let st = wait_until("the Russian tray", || {
        Some(status(&app)).filter(|st| st["channels"]["tray"]["history_item"] == "История (непрочитанных: 1)")
    });
    let name = tray_bus_name(st["pid"].as_u64().unwrap());
    let layout = busctl(&["call", "--", &name, &format!("{TRAY_PATH}/Menu"), "com.canonical.dbusmenu", "GetLayout", "iias", "0", "-1", "0"]);
    assert!(layout.contains("Открыть рабочее окно") && layout.contains("Не беспокоить") && layout.contains("Выход"), "{layout}");
    let toast = wait_until("the call's toast", || {
        let h = dunst_history();
        (h.len() > before).then(|| h[0].clone())
    });
    assert!(dunst_field(&toast, "summary").contains("Входящий звонок") || dunst_field(&toast, "body").contains("Анна"), "{toast}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_login_from_the_tray() {
    require_dunst();
    let tmp = tempfile::tempdir().unwrap();
    let (home, config) = (tmp.path().join("home"), tmp.path().join("config"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    let app = App::start_env(&[], &[("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", config.to_str().unwrap())]).await;
    // The XDG autostart entries this app wrote, wherever its config folder is.
    let entries = || -> Vec<std::path::PathBuf> {
        [config.join("autostart"), home.join(".config/autostart")]
            .iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten().map(|e| e.path()))
            .collect()
    };
    let st = wait_until("the tray", || Some(status(&app)).filter(|st| st["channels"]["tray"]["start_at_login"].is_boolean()));
    assert_eq!(st["channels"]["tray"]["start_at_login"], false, "off by default");
    assert!(entries().is_empty());
    let name = tray_bus_name(st["pid"].as_u64().unwrap());
    click_tray_item(&name, "Start at login");
    // Read once written: the file exists a moment before its text does.
    let text = wait_until("an autostart entry", || {
        entries().into_iter().next().and_then(|e| std::fs::read_to_string(e).ok()).filter(|t| t.contains("Exec="))
    });
    assert!(text.contains("--minimized") && text.contains("--data-dir"), "{text}");
    // The `kolokol` command, not the window app it hands over to.
    let command = dunce::canonicalize(support::APP_BIN).unwrap();
    assert!(text.contains(&format!("Exec={} ", command.display())), "{text}");
    assert!(text.contains(app.data_dir.path().to_str().unwrap()), "{text}");
    wait_until("the tray's check mark", || (status(&app)["channels"]["tray"]["start_at_login"] == json!(true)).then_some(()));
    click_tray_item(&name, "Start at login");
    wait_until("the entry removed", || entries().is_empty().then_some(()));
    wait_until("the check mark cleared", || (status(&app)["channels"]["tray"]["start_at_login"] == json!(false)).then_some(()));
    app.stop().await;
}

/// The tray's "Open recent" lists what the workspace opened and opens it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_recent_reopens_a_target() {
    let widget = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/widget");
    let app = App::start(&["open", widget.to_str().unwrap()]).await;
    app.wait_for("!!window.__kolokolHost && __kolokolHost.ready").await;
    // Somewhere else: the start page, from the workbench.
    let workspace = app.client.window().await.unwrap();
    app.client.switch_to_window(app.other_window(&workspace).await).await.unwrap();
    app.js("await window.__TAURI_INTERNALS__.invoke('workbench_start_page'); return null;").await;
    app.client.switch_to_window(workspace).await.unwrap();
    app.wait_for("location.protocol === 'tauri:' && document.readyState === 'complete'").await;
    let name = tray_bus_name(status(&app)["pid"].as_u64().unwrap());
    assert_eq!(click_tray_item(&name, "widget"), "widget");
    app.wait_for("location.protocol === 'kolokol:' && /^t[0-9a-f]{16}$/.test(location.host) && location.pathname === '/__kolokol/host.html' && !!window.__kolokolHost && __kolokolHost.ready && window.sampleCallbacks.includes('init')").await;
    app.stop().await;
}
