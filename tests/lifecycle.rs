//! Windows are destroyed, not hidden: a webview (and its WebKit process)
//! exists only while a Kolokol window is on screen or a page the agent relies
//! on runs. The app runs as a plain process (no WebDriver, which needs a
//! window from the start); its windows are read and closed as a window manager
//! does (tests/support/desktop.rs), its tray is clicked over D-Bus as a panel
//! does, its process tree is read from /proc. Runs inside ./dev.sh test's
//! session (Xvfb, D-Bus, dunst).
#![cfg(target_os = "linux")]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};
use support::desktop::{self, click_tray, tray_menu, wait_web_processes};
use support::{Fixtures, Proc};

const HISTORY: &str = "Kolokol — History";
const WORKSPACE: &str = "Kolokol";

fn kolokol(data: &Path, args: &[&str]) -> Output {
    Command::new(support::APP_BIN).arg("--data-dir").arg(data).args(args).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "kolokol failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn status(data: &Path) -> Value {
    json_of(&kolokol(data, &["status", "--json"]))
}

fn stored(data: &Path) -> usize {
    json_of(&kolokol(data, &["history", "--json", "--limit", "5000"])).as_array().unwrap().len()
}

fn wait_until<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    support::desktop::wait_until(30, what, f)
}

/// A data folder with English labels and these extra settings.
fn data_folder(extra: Value) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut settings = json!({ "language": "en" });
    settings.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    std::fs::write(data.join("settings.json"), settings.to_string()).unwrap();
    tmp
}

fn start(tmp: &tempfile::TempDir, args: &[&str]) -> Proc {
    let mut app = Proc::spawn(&tmp.path().join("data"), "app.log", args);
    app.wait_log("tray ready");
    app
}

/// Dunst's toasts so far, summary and body, (closed first: its history holds closed ones only).
fn dunst_texts() -> Vec<String> {
    Command::new("dunstctl").arg("close-all").status().expect("dunstctl (apt-get install dunst)");
    let out = Command::new("dunstctl").arg("history").output().expect("dunstctl");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |n: &Value, k: &str| n[k]["data"].as_str().unwrap_or_default().to_owned();
    v["data"][0].as_array().cloned().unwrap_or_default().iter().map(|n| format!("{} {}", field(n, "summary"), field(n, "body"))).collect()
}

fn windows_of(data: &Path) -> Value {
    status(data)["windows"].clone()
}

#[test]
fn tray_only_runs_no_webview_and_history_comes_and_goes() {
    let tmp = data_folder(json!({}));
    let data = tmp.path().join("data");
    let mut app = start(&tmp, &["--minimized"]);
    let pid = app.child.id();
    // Started into the tray: no window and no WebKit process at all.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(desktop::webkit_processes(pid), vec![], "tray only");
    let st = status(&data);
    assert_eq!(st["windows"], json!([]));
    assert!(st["memory"]["pss_kib"].as_u64().unwrap() > 0, "{st}");
    assert_eq!(st["memory"]["webkit_processes"], 0);
    let human = String::from_utf8_lossy(&kolokol(&data, &["status"]).stdout).into_owned();
    assert!(human.contains("MiB PSS over 1 process (0 of WebKit)"), "{human}");

    // A call from the command line is stored, toasted and counted, still without a webview.
    let out = kolokol(&data, &["send", "add_call", r#"{"text":"Call from +7 999 000-11-22","from":"Tray only"}"#]);
    assert!(json_of(&out)["id"].is_string(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(stored(&data), 1);
    wait_until("the toast", || dunst_texts().iter().any(|s| s.contains("Tray only")).then_some(()));
    let st = wait_until("the tray count", || Some(status(&data)).filter(|st| st["channels"]["tray"]["label"] == "1"));
    assert_eq!(st["unread"], 1);
    assert_eq!(st["channels"]["tray"]["history_item"], "History (1 unread)");
    assert_eq!(desktop::webkit_processes(pid), vec![], "a call needs no webview");
    // The tray-only app is `kolokol` itself: WebKit is not even loaded.
    let maps = || std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(!maps().contains("libwebkit2gtk"), "WebKit loaded in the tray-only app");
    assert!(app.log().contains("starting into the tray (no window)"), "{}", app.log());

    // History from the tray: a window and its web process; closing it ends both.
    // The first click hands the app over to `kolokol-ui` (exec: the same process).
    // Calls keep coming through both hand-overs: none is refused or lost.
    const DURING: usize = 30;
    for round in 0..2 {
        let sender = || {
            let data = data.clone();
            std::thread::spawn(move || {
                (0..DURING)
                    .map(|i| kolokol(&data, &["send", "add_error", &format!(r#"{{"text":"during a hand-over {i}"}}"#)]))
                    .filter(|out| !out.status.success())
                    .map(|out| String::from_utf8_lossy(&out.stderr).into_owned())
                    .collect::<Vec<_>>()
            })
        };
        let sending = sender();
        click_tray(pid, "History");
        desktop::wait_shown(pid, HISTORY);
        let failed = sending.join().unwrap();
        assert!(failed.is_empty(), "round {round}: calls refused during the hand-over: {failed:?}");
        let unread = 1 + DURING * (2 * round + 1);
        assert_eq!(stored(&data), unread, "round {round}");
        wait_web_processes(&app, 1, "history shown");
        assert_eq!(windows_of(&data), json!(["history"]));
        assert!(maps().contains("libwebkit2gtk"), "the window app");
        let st = status(&data);
        assert_eq!((st["pid"].as_u64(), &st["unread"]), (Some(u64::from(pid)), &json!(unread)), "{st}");
        let label = if unread > 99 { "99+".to_owned() } else { unread.to_string() };
        let label = wait_until("the tray count", || Some(status(&data)).filter(|st| st["channels"]["tray"]["label"] == label));
        assert_eq!(label["unread"], unread, "the count survives the hand-over");
        let sending = sender();
        desktop::close(pid, HISTORY);
        let left = wait_web_processes(&app, 0, "history closed");
        wait_until("the history window gone", || (windows_of(&data) == json!([])).then_some(()));
        assert!(desktop::windows(pid).iter().all(|w| w.title != HISTORY), "round {round}: {:?}", desktop::windows(pid));
        // At most WebKit's network process stays (one per app, reused by the next window).
        assert!(left.iter().all(|p| p.name.starts_with("WebKitNetwork")) && left.len() <= 1, "round {round}: {left:?}");
        // Its view in the app's process is freed too (wry's IPC handler held it).
        let released = |log: String| log.matches("a closed window's view was released label=history").count();
        wait_until("the history view released", || (released(app.log()) == round + 1).then_some(()));
        // Nothing left on screen or kept: back to the tray-only app, the same process.
        let back = |log: String| log.matches("no window left: handing back to the tray-only app").count();
        wait_until("the hand-back", || (back(app.log()) == round + 1).then_some(()));
        let failed = sending.join().unwrap();
        assert!(failed.is_empty(), "round {round}: calls refused during the hand-back: {failed:?}");
        let unread = unread + DURING;
        assert_eq!(stored(&data), unread, "round {round}");
        wait_until("WebKit unloaded", || (!maps().contains("libwebkit2gtk")).then_some(()));
        wait_until("no WebKit process", || desktop::webkit_processes(pid).is_empty().then_some(()));
        let label = if unread > 99 { "99+".to_owned() } else { unread.to_string() };
        wait_until("the tray-only app's count", || (status(&data)["channels"]["tray"]["label"] == label).then_some(()));
    }
    // The app lives on in the tray and still takes calls.
    assert!(app.child.try_wait().unwrap().is_none(), "exited with no window:\n{}", app.log());
    json_of(&kolokol(&data, &["send", "add_error", r#"{"text":"after closing"}"#]));
    assert_eq!(stored(&data), 2 + 4 * DURING);
    assert!(app.log().contains("history window created"), "{}", app.log());
}

#[test]
fn the_start_page_closes_for_good_and_comes_back() {
    let tmp = data_folder(json!({}));
    let data = tmp.path().join("data");
    let mut app = start(&tmp, &[]);
    let pid = app.child.id();
    desktop::wait_shown(pid, WORKSPACE);
    wait_web_processes(&app, 1, "workspace shown");
    assert_eq!(windows_of(&data), json!(["workspace"]));

    // Only Kolokol's start page in it: closing loses nothing, so it is destroyed.
    desktop::close(pid, WORKSPACE);
    wait_web_processes(&app, 0, "workspace closed");
    wait_until("no window", || (windows_of(&data) == json!([])).then_some(()));
    assert!(app.child.try_wait().unwrap().is_none(), "exited with no window:\n{}", app.log());
    assert_eq!(status(&data)["workspace_in_background"], Value::Null);
    json_of(&kolokol(&data, &["send", "add_call", r#"{"text":"no window"}"#]));
    assert_eq!(stored(&data), 1);

    // A second launch brings it back, made anew.
    let second = kolokol(&data, &[]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    desktop::wait_shown(pid, WORKSPACE);
    wait_web_processes(&app, 1, "workspace re-created");
    // And the tray's Open workspace does too, after another close.
    desktop::close(pid, WORKSPACE);
    wait_web_processes(&app, 0, "workspace closed again");
    click_tray(pid, "Open workspace");
    desktop::wait_shown(pid, WORKSPACE);
    wait_web_processes(&app, 1, "workspace from the tray");
    // Quit still ends the app.
    click_tray(pid, "Quit");
    assert!(app.wait_exit(Duration::from_secs(20)).success(), "{}", app.log());
}

#[test]
fn a_page_the_agent_relies_on_keeps_running_hidden() {
    let fixtures = Fixtures::serve();
    let tmp = data_folder(json!({ "account_url": fixtures.origin }));
    let data = tmp.path().join("data");
    let mut app = start(&tmp, &["open", &fixtures.url("ticker.html")]);
    let pid = app.child.id();
    desktop::wait_shown(pid, WORKSPACE);
    wait_until("the page's calls", || (stored(&data) >= 3).then_some(()));

    // Closing hides it: the page runs on, its calls keep arriving, the tray says so.
    desktop::close(pid, WORKSPACE);
    let host = url::Url::parse(&fixtures.origin).unwrap().host_str().unwrap().to_owned();
    let item = format!("Open workspace ({host} keeps running)");
    let st = wait_until("the tray's note", || Some(status(&data)).filter(|st| st["channels"]["tray"]["open_item"] == item));
    assert_eq!(st["windows"], json!(["workspace"]));
    assert_eq!(st["workspace_in_background"], json!(host));
    assert!(tray_menu(pid).1.contains(&item), "the panel shows {item:?}");
    assert!(desktop::windows(pid).iter().all(|w| !w.shown), "nothing on screen: {:?}", desktop::windows(pid));
    wait_web_processes(&app, 1, "hidden workspace");
    let before = stored(&data);
    wait_until("calls from the hidden page", || (stored(&data) >= before + 5).then_some(()));

    // Shown again from the tray: the same page, and the note is gone.
    click_tray(pid, "Open workspace");
    desktop::wait_shown(pid, WORKSPACE);
    wait_until("the tray's plain label", || (status(&data)["channels"]["tray"]["open_item"] == "Open workspace").then_some(()));
    assert!(app.child.try_wait().unwrap().is_none());
    assert_eq!(app.log().matches("workspace window created").count(), 1, "{}", app.log());
}

#[test]
fn the_setting_lets_a_page_close_with_its_window() {
    let fixtures = Fixtures::serve();
    let tmp = data_folder(json!({ "account_url": fixtures.origin, "keep_pages_running": false }));
    let data = tmp.path().join("data");
    let mut app = start(&tmp, &["open", &fixtures.url("ticker.html")]);
    let pid = app.child.id();
    desktop::wait_shown(pid, WORKSPACE);
    wait_until("the page's calls", || (stored(&data) >= 2).then_some(()));
    desktop::close(pid, WORKSPACE);
    wait_web_processes(&app, 0, "workspace closed with its page");
    wait_until("no window", || (windows_of(&data) == json!([])).then_some(()));
    let after = stored(&data);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(stored(&data), after, "the closed page sends nothing");
    assert!(app.child.try_wait().unwrap().is_none(), "{}", app.log());
    // Opened again, the workspace goes home: the account.
    click_tray(pid, "Open workspace");
    desktop::wait_shown(pid, WORKSPACE);
    wait_until("the account opened again", || (app.log().matches("workspace target opened").count() == 2).then_some(()));
}
