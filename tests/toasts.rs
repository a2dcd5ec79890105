//! The toast channel against a real dunst on a real private D-Bus bus. Run under
//! `xvfb-run -a` (dunst needs an X display). Each test owns its bus and dunst;
//! `DBUS_SESSION_BUS_ADDRESS` is process-wide, so tests are serialised by a lock.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod support;

use kolokol_lib::core::api::{self, Method, Notification};
use kolokol_lib::channels::history::Arrived;
use kolokol_lib::channels::toast::{Delivery, Labels, Opens, ToastAction, ToastHealth, Toasts};
use serde_json::{json, Value};
use url::Url;

static SERIAL: Mutex<()> = Mutex::new(());

/// The urgency rules make dunst's own view of the urgency visible in `message`
/// (dunst 1.9's history has no urgency field). Nothing expires during a test.
const DUNSTRC: &str = include_str!("fixtures/dunstrc");

struct Session {
    _serial: MutexGuard<'static, ()>,
    dunst: Option<Child>,
    /// Dropped after dunst (fields drop after `Drop::drop`).
    bus: support::PrivateBus,
    _dir: tempfile::TempDir,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(dunst) = &mut self.dunst {
            // A stopped dunst must be continued to die on SIGKILL's reaping promptly.
            let _ = Command::new("kill").args(["-CONT", &dunst.id().to_string()]).status();
            let _ = dunst.kill();
            let _ = dunst.wait();
        }
    }
}

fn session(with_dunst: bool) -> Session {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bus = support::PrivateBus::start();
    // Before anything in this process connects; tests are serialised by SERIAL.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let mut s = Session { _serial: serial, dunst: None, bus, _dir: dir };
    if with_dunst {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "DISPLAY is not set: dunst needs an X display; run these tests under `xvfb-run -a`"
        );
        let rc = s._dir.path().join("dunstrc");
        std::fs::write(&rc, DUNSTRC).unwrap();
        s.dunst = Some(
            Command::new("dunst")
                .arg("-config")
                .arg(&rc)
                .env("DBUS_SESSION_BUS_ADDRESS", &s.bus.address)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("dunst must be installed"),
        );
        wait_until("dunst to own org.freedesktop.Notifications", Duration::from_secs(10), || {
            s.name_owned()
        });
    }
    s
}

impl Session {
    fn name_owned(&self) -> bool {
        let out = Command::new("dbus-send")
            .args(["--session", "--dest=org.freedesktop.DBus", "--print-reply"])
            .args(["/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner"])
            .arg("string:org.freedesktop.Notifications")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// How many connections the process `pid` holds to this bus.
    fn connections_of(&self, pid: u32) -> usize {
        let send = |args: &[&str]| {
            let out = Command::new("dbus-send")
                .args(["--session", "--dest=org.freedesktop.DBus", "--print-reply", "/org/freedesktop/DBus"])
                .args(args)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let names = send(&["org.freedesktop.DBus.ListNames"]);
        names
            .split('"')
            .filter(|n| n.starts_with(':'))
            .filter(|n| {
                let out = send(&["org.freedesktop.DBus.GetConnectionUnixProcessID", &format!("string:{n}")]);
                out.split_whitespace().last() == Some(&pid.to_string())
            })
            .count()
    }

    fn dunstctl(&self, args: &[&str]) -> String {
        let out = Command::new("dunstctl").args(args).env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address).output().unwrap();
        assert!(out.status.success(), "dunstctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn displayed(&self) -> usize {
        self.dunstctl(&["count", "displayed"]).trim().parse().unwrap()
    }

    /// Everything dunst received: closes all toasts so they land in its history.
    fn all_toasts(&self) -> Vec<Toast> {
        self.dunstctl(&["close-all"]);
        let history: Value = serde_json::from_str(&self.dunstctl(&["history"])).unwrap();
        let s = |n: &Value, k: &str| n[k]["data"].as_str().unwrap_or_default().to_owned();
        history["data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Toast {
                summary: s(n, "summary"),
                body: s(n, "body"),
                message: s(n, "message"),
                category: s(n, "category"),
                appname: s(n, "appname"),
            })
            .collect()
    }

    fn signal(&self, sig: &str) {
        let pid = self.dunst.as_ref().unwrap().id().to_string();
        assert!(Command::new("kill").args([sig, &pid]).status().unwrap().success());
    }
}

#[derive(Debug)]
struct Toast {
    summary: String,
    body: String,
    message: String,
    category: String,
    appname: String,
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn note(method: Method, id: &str, payload: Value) -> Notification {
    let account = Url::parse("https://example.amocrm.ru").unwrap();
    let ctx = api::Context { account: Some(&account), now_ms: 1_700_000_000_000, id: id.into() };
    api::normalize(method, &payload.to_string(), ctx).unwrap()
}

fn start() -> (Toasts, mpsc::Receiver<ToastAction>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let toasts = Toasts::start(Labels::english(), move |a| {
        let _ = tx.lock().unwrap().send(a);
    });
    (toasts, rx)
}

fn wait_available(t: &Toasts) -> ToastHealth {
    wait_until("the toast channel to be available", Duration::from_secs(5), || t.health().available);
    t.health()
}

#[test]
fn call_and_error_toasts_reach_dunst_with_their_urgency() {
    let s = session(true);
    let (toasts, _actions) = start();
    let sent = std::sync::Arc::new(Mutex::new(Vec::new()));
    let hook = sent.clone();
    toasts.set_delivery_hook(move |id, d| {
        if let Delivery::Sent(at) = d {
            hook.lock().unwrap().push((id.to_owned(), at));
        }
    });
    let h = wait_available(&toasts);
    assert!(h.server.as_deref().unwrap_or_default().starts_with("dunst"), "{h:?}");

    let call = note(
        Method::AddCall,
        "call-1",
        json!({"text": "<p>Call from <b>Ivan</b> &amp; Co <script>x()</script></p>", "from": "+7 999 123", "to": "Anna",
               "element": {"id": 42, "type": "contact"}, "link": "https://rec.example.com/1.mp3"}),
    );
    let error = note(Method::AddError, "err-1", json!({"header": "Sync failed", "text": "Disk <i>full</i>"}));
    let t0 = Instant::now();
    toasts.show(&call);
    toasts.show(&error);
    let enqueue = t0.elapsed();
    wait_until("two toasts on screen", Duration::from_secs(5), || s.displayed() == 2);
    for (id, at) in sent.lock().unwrap().iter() {
        eprintln!("show() → Notify returned for {id}: {:?}", at.duration_since(t0));
    }
    eprintln!("two show() calls took {enqueue:?}");

    let all = s.all_toasts();
    assert_eq!(all.len(), 2, "{all:#?}");
    let c = all.iter().find(|t| t.summary == "Incoming call").expect("the call toast");
    // dunst parses body markup, so the plain text arrives escaped.
    assert_eq!(c.body, "+7 999 123 → Anna\nCall from Ivan &amp; Co");
    assert!(c.message.starts_with("CRITICAL|Incoming call|"), "{c:?}");
    assert_eq!(c.category, "call.incoming");
    assert_eq!(c.appname, "Kolokol");
    let e = all.iter().find(|t| t.summary == "Sync failed").expect("the error toast");
    assert_eq!(e.body, "Disk full");
    assert!(e.message.starts_with("NORMAL|Sync failed|"), "{e:?}");
    let h = toasts.health();
    assert!(h.available && h.reason.is_none() && h.shown == 2 && h.failed == 0, "{h:?}");
    assert!(h.last_sent_ms.is_some());
}

#[test]
fn clicking_a_call_reports_its_card_and_dismiss_closes_it() {
    let s = session(true);
    let (toasts, actions) = start();
    wait_available(&toasts);
    let call = |id: &str| {
        note(Method::AddCall, id, json!({"text": "ring", "from": "1", "element": {"id": 7, "type": "lead"}}))
    };
    toasts.show(&call("c1"));
    wait_until("the call toast", Duration::from_secs(5), || s.displayed() == 1);
    // dunst's `action` is the user's click: it invokes the `default` action.
    s.dunstctl(&["action", "0"]);
    let a = actions.recv_timeout(Duration::from_secs(5)).expect("an action report");
    assert_eq!(
        a,
        ToastAction {
            notification_id: "c1".into(),
            action: "default".into(),
            opens: Opens::Link("https://example.amocrm.ru/leads/detail/7".into()),
        }
    );

    // dunst keeps a toast up after a click; the channel closes it.
    wait_until("the clicked toast to close", Duration::from_secs(5), || s.displayed() == 0);

    toasts.show(&call("c2"));
    wait_until("the second call toast", Duration::from_secs(5), || s.displayed() == 1);
    toasts.dismiss("", "c2");
    wait_until("dismiss to close it", Duration::from_secs(5), || s.displayed() == 0);
    assert!(actions.try_recv().is_err(), "closing is not a click");
}

/// Every toast goes over one session-bus connection, and one thread hands
/// the server's clicks and closes to the right toast: six toasts on screen
/// (calls stay until the agent closes them) hold no thread or connection each.
#[test]
fn toasts_on_screen_share_one_connection_and_one_listener() {
    let s = session(true);
    let (toasts, actions) = start();
    wait_available(&toasts);
    for i in 1..=3 {
        toasts.show(&note(Method::AddCall, &format!("c{i}"), json!({"text": "ring", "from": "1", "element": {"id": i, "type": "lead"}})));
        toasts.show(&note(Method::AddError, &format!("e{i}"), json!({"header": "Error", "text": format!("number {i}")})));
    }
    wait_until("six toasts on screen", Duration::from_secs(5), || s.displayed() == 6);

    let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim().to_owned())
        .collect();
    let ours = threads.iter().filter(|t| t.starts_with("kolokol-toast")).count();
    assert_eq!(ours, 2, "the worker and the listener, whatever is on screen: {threads:?}");
    assert_eq!(s.connections_of(std::process::id()), 1, "one connection to the bus");

    // Each toast still reports its own click: the clicked call's card opens.
    s.dunstctl(&["action", "0"]);
    let a = actions.recv_timeout(Duration::from_secs(5)).expect("an action report");
    let n = a.notification_id.strip_prefix('c').unwrap_or_else(|| panic!("a call was clicked: {a:?}"));
    assert_eq!(a.opens, Opens::Link(format!("https://example.amocrm.ru/leads/detail/{n}")), "{a:?}");
    wait_until("the clicked toast to close", Duration::from_secs(5), || s.displayed() == 5);
    let other = if n == "1" { "c2" } else { "c1" };
    toasts.dismiss("", other);
    wait_until("dismiss to close another", Duration::from_secs(5), || s.displayed() == 4);
    assert!(actions.try_recv().is_err(), "one click, one report");
}

/// Back from do-not-disturb or a locked screen: one summary of what arrived,
/// a second one replaces it, and its click asks for those rows in the history.
#[test]
fn the_missed_while_away_summary_is_one_toast_whose_click_opens_the_history() {
    let s = session(true);
    let (toasts, actions) = start();
    wait_available(&toasts);
    toasts.away(Arrived { calls: 0, errors: 0 }, 3);
    toasts.away(Arrived { calls: 3, errors: 12 }, 41);
    wait_until("the summary", Duration::from_secs(5), || s.displayed() == 1);
    toasts.away(Arrived { calls: 4, errors: 12 }, 41);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.displayed(), 1, "the second summary replaces the first");
    s.dunstctl(&["action", "0"]);
    let a = actions.recv_timeout(Duration::from_secs(5)).expect("an action report");
    assert_eq!(a.opens, Opens::History { after_seq: 41 }, "{a:?}");
    assert_eq!(a.notification_id, kolokol_lib::channels::toast::AWAY_ID);
    let all = s.all_toasts();
    assert_eq!(all.len(), 1, "nothing was shown for an empty period: {all:?}");
    assert_eq!(all[0].summary, "Missed calls: 4, errors: 12");
    assert!(all[0].body.contains("While you were away"), "{all:?}");
}

/// A header whose entities decode into Pango markup (this dunst parses markup
/// in the summary as well as the body) arrives escaped, so it is shown as the
/// text it was, not as a giant "Bank" title.
#[test]
fn markup_in_the_header_reaches_the_server_escaped() {
    let s = session(true);
    let (toasts, _actions) = start();
    wait_available(&toasts);
    let e = note(
        Method::AddError,
        "pango-1",
        json!({"header": "&lt;span size=\"xx-large\"&gt;Bank&lt;/span&gt; &amp; Co", "text": "&lt;b&gt;pay now&lt;/b&gt;"}),
    );
    toasts.show(&e);
    wait_until("the toast on screen", Duration::from_secs(5), || s.displayed() == 1);
    let all = s.all_toasts();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].summary, "&lt;span size=\"xx-large\"&gt;Bank&lt;/span&gt; &amp; Co");
    assert_eq!(all[0].body, "&lt;b&gt;pay now&lt;/b&gt;");
    assert!(!all[0].message.contains("<span"), "{:?}", all[0]);
}

#[test]
fn a_later_toast_with_the_same_tag_replaces_the_earlier() {
    let s = session(true);
    let (toasts, _actions) = start();
    wait_available(&toasts);
    toasts.show(&note(Method::AddCall, "a", json!({"text": "first", "from": "+7 1", "tag": "+7 1"})));
    wait_until("the first toast", Duration::from_secs(5), || s.displayed() == 1);
    toasts.show(&note(Method::AddCall, "b", json!({"text": "second", "from": "+7 1", "tag": "+7 1"})));
    wait_until("the replacement", Duration::from_secs(5), || toasts.health().shown == 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.displayed(), 1);
    // Another source's tag and dismiss reach nothing of this one's: its
    // same-tag toast is a toast of its own, and its dismiss (handled in
    // order, before that toast is shown) closes nothing.
    toasts.dismiss("https://evil.example", "+7 1");
    toasts.show(&Notification {
        source: "https://evil.example".into(),
        ..note(Method::AddCall, "evil", json!({"text": "spoofed", "from": "+7 1", "tag": "+7 1"}))
    });
    wait_until("the other source's own toast", Duration::from_secs(5), || s.displayed() == 2);
    toasts.dismiss("https://evil.example", "+7 1");
    wait_until("the other source's dismiss of its own toast", Duration::from_secs(5), || s.displayed() == 1);
    toasts.dismiss("", "+7 1");
    wait_until("dismiss by tag", Duration::from_secs(5), || s.displayed() == 0);
    let all = s.all_toasts();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().any(|t| t.body == "+7 1\nsecond"), "{all:#?}");
    assert!(all.iter().any(|t| t.body == "+7 1\nspoofed"), "{all:#?}");
}

#[test]
fn a_burst_of_1000_errors_is_at_most_three_toasts_and_one_summary() {
    let s = session(true);
    let (toasts, _actions) = start();
    wait_available(&toasts);
    let notes: Vec<_> = (0..1000).map(|i| note(Method::AddError, &format!("e{i}"), json!({"text": format!("error {i}")}))).collect();
    let mut slowest = Duration::ZERO;
    let t0 = Instant::now();
    for n in &notes {
        let t = Instant::now();
        toasts.show(n);
        slowest = slowest.max(t.elapsed());
    }
    eprintln!("1000 show() calls: {:?} in all, slowest {slowest:?}", t0.elapsed());
    assert!(slowest < Duration::from_millis(10), "show() blocked for {slowest:?}");
    wait_until("the summary", Duration::from_secs(10), || {
        let h = toasts.health();
        h.shown + h.coalesced == 1000 && h.pending == 0 && h.summaries >= 1
    });
    let h = toasts.health();
    eprintln!("{h:?}");
    // The worker sees the first errors one by one; once the queue overflows the
    // burst is known and the rest is folded, so 1 to 3 single toasts.
    assert!((1..=3).contains(&h.shown), "{h:?}");
    assert_eq!(h.failed, 0);
    let all = s.all_toasts();
    // The single toasts and one summary toast, replaced as its count grows.
    assert_eq!(all.len() as u64, h.shown + 1, "{all:#?}");
    let summary = all.iter().find(|t| t.summary.ends_with("new errors")).expect("a summary toast");
    assert_eq!(summary.summary, format!("{} new errors", 1000 - h.shown));
}

fn assert_never_blocks_and_reports(toasts: &Toasts, what: &str) -> ToastHealth {
    let mut slowest = Duration::ZERO;
    for i in 0..50 {
        let n = note(Method::AddCall, &format!("x{i}"), json!({"text": "ring"}));
        let t = Instant::now();
        toasts.show(&n);
        slowest = slowest.max(t.elapsed());
    }
    eprintln!("{what}: slowest of 50 show() calls {slowest:?}");
    assert!(slowest < Duration::from_millis(10), "{what}: show() blocked for {slowest:?}");
    wait_until("health to report unavailable", Duration::from_secs(5), || {
        let h = toasts.health();
        !h.available && h.reason.as_deref().is_some_and(|r| !r.contains("not been checked"))
    });
    let h = toasts.health();
    eprintln!("{what}: {h:?}");
    h
}

#[test]
fn no_daemon_on_the_bus_never_blocks_and_reports_unavailable() {
    let s = session(false);
    assert!(!s.name_owned());
    let (toasts, _actions) = start();
    let h = assert_never_blocks_and_reports(&toasts, "no daemon");
    assert!(h.reason.as_deref().unwrap().starts_with("no notification server: "), "{h:?}");
    assert_eq!(h.shown, 0);
}

#[test]
fn no_bus_at_all_never_blocks_and_reports_unavailable() {
    let s = session(false);
    let missing = s._dir.path().join("no-such-bus");
    assert!(!Path::new(&missing).exists());
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", missing.display()));
    let (toasts, _actions) = start();
    let h = assert_never_blocks_and_reports(&toasts, "no bus");
    assert!(h.reason.as_deref().unwrap().starts_with("no notification server: "), "{h:?}");
}

#[test]
fn a_hung_daemon_is_reported_and_the_channel_recovers() {
    let s = session(true);
    let (toasts, _actions) = start();
    wait_available(&toasts);
    s.signal("-STOP");
    let h = assert_never_blocks_and_reports(&toasts, "hung dunst");
    assert!(h.reason.unwrap().contains("did not answer"));
    s.signal("-CONT");
    // The hung calls now return; a later show succeeds and the channel recovers.
    std::thread::sleep(Duration::from_secs(1));
    let after = Instant::now();
    let mut i = 0;
    wait_until("the channel to recover", Duration::from_secs(20), || {
        i += 1;
        toasts.show(&note(Method::AddError, &format!("r{i}"), json!({"header": "back", "text": format!("again {i}")})));
        std::thread::sleep(Duration::from_millis(200));
        toasts.health().available
    });
    eprintln!("recovered {:?} after SIGCONT", after.elapsed());
    assert!(s.all_toasts().iter().any(|t| t.summary == "back"));
}
