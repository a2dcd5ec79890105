//! End-to-end: the built app (frontend embedded) in a real WebKit webview under
//! Xvfb, driven through tauri-driver + WebKitWebDriver. Run with ./dev.sh test.
//! Linux only (WebKitWebDriver, xdg-open); on Windows and macOS this test is empty.
#![cfg(target_os = "linux")]

mod support;

use serde_json::{json, Value};
use support::{App, Fixtures};

fn newest(popups: &[Value]) -> &Value {
    popups.first().expect("a popup in the overlay")
}

/// The seed page's seven examples, pasted verbatim, each produce their popup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_examples_pop_up() {
    let app = App::start(&[]).await;
    let examples: [(&str, &str, &str, Option<&str>, &str); 7] = [
        ("show_message", r#"var message_params = {
header: "Внимание",
text: "Соединение установлено",
date: 1534084500,
icon: "https://www.example.com/images/telephone.png"
};
APP.notifications.show_message(message_params);"#, "message", Some("Внимание"), "Соединение установлено"),
        ("show_message_error", r#"var error_params = {
header: "Внимание",
text: "Соединение с сервером потеряно"
};
APP.notifications.show_message_error(error_params);"#, "error", Some("Внимание"), "Соединение с сервером потеряно"),
        ("show_notification", r#"var notification = {
text: {
header: "Исходящий звонок",
text: "Набор номера +79876543210"
},
type: "call"
};
APP.notifications.show_notification(notification);"#, "call", Some("Исходящий звонок"), "Набор номера +79876543210"),
        ("show_notification", r#"var notification = {
text: {
header: "Ошибка",
text: "Произошла ошибка в работе виджета"
},
type: "error"
};
APP.notifications.show_notification(notification);"#, "error", Some("Ошибка"), "Произошла ошибка в работе виджета"),
        ("add_error", r#"var error_params = {
header: "Ошибка",
text: "Не удалось установить задачу! Контакт не найден!",
date: 1534085310,
link: "/contacts/list/?term=4951234567"
};
APP.notifications.add_error(error_params);"#, "error", Some("Ошибка"), "Не удалось установить задачу! Контакт не найден!"),
        ("add_call", r#"var call_params = {
text: "Звонок от +7(999)888 55 33",
date: 1534084500,
from: "Петрова Анна",
to: "Смирнов Алексей",
element: {
id: 18221265,
type: "contact"
},
duration: 250,
link: "https://example.com/dialog.mp3"
};
APP.notifications.add_call(call_params);"#, "call", None, "Звонок от +7(999)888 55 33"),
        ("add_call", r#"var call_params = {
text: "Звонок от +7(999)888 55 33",
date: 1534084500,
from: "Петрова Анна",
to: "Смирнов Алексей",
click_link: "/contacts/add/?phone=9191234567",
};
APP.notifications.add_call(call_params);"#, "call", None, "Звонок от +7(999)888 55 33"),
    ];
    for (i, (method, code, look, header, text)) in examples.iter().enumerate() {
        app.client.execute(code, vec![]).await.expect("example ran");
        // At most five popups in the DOM; the rest wait, counted in "+N more".
        let waiting = if i >= 5 { format!("+{} more", i - 4) } else { String::new() };
        app.wait_for(&format!(
            "(() => {{ const r = document.querySelector('kolokol-overlay')?.shadowRoot; if (!r) return false;
               const m = r.querySelector('[data-part=more]');
               return r.querySelectorAll('.popup').length === {} && (m.hidden ? '' : m.textContent) === '{waiting}'; }})()",
            (i + 1).min(5)
        ))
        .await;
        let popups = app.popups().await;
        let p = newest(&popups);
        assert_eq!(p["method"], *method, "example {i}");
        assert_eq!(p["look"], *look, "example {i}");
        assert_eq!(p["header"].as_str(), *header, "example {i}");
        assert_eq!(p["text"], *text, "example {i}");
    }
    let popups = app.popups().await;
    // Newest on top, five visible, the two oldest counted.
    let visible: Vec<bool> = popups.iter().map(|p| !p["hidden"].as_bool().unwrap()).collect();
    assert_eq!(visible, [true, true, true, true, true]);
    assert_eq!(popups[0]["more"], "+2 more");
    assert_eq!(popups[4]["header"], "Исходящий звонок", "the oldest visible is the third example");
    // The card call: caller, callee, duration as m:ss, card and recording actions.
    let card_call = &popups[1];
    assert_eq!((card_call["from"].as_str(), card_call["to"].as_str()), (Some("Петрова Анна"), Some("Смирнов Алексей")));
    assert_eq!(card_call["duration"], "4:10");
    assert_eq!(card_call["buttons"], json!(["recording", "close"]), "no account: the card is not openable");
    // Relative links without an account address are shown with the reason.
    assert!(popups[0]["note"].as_str().unwrap().contains("account address"), "{}", popups[0]);
    assert_eq!(popups[0]["live"], "polite");
    assert_eq!(popups[0]["role"], "alert");
    // Drawn in the top right corner of the viewport, above the page, under
    // the start page's strict CSP.
    let place = app
        .js("const h = document.querySelector('kolokol-overlay');
const r = h.shadowRoot.querySelector('.popup').getBoundingClientRect();
return [getComputedStyle(h).position, r.top >= 0 && r.top < 40, Math.abs(innerWidth - r.right) < 40, document.elementFromPoint(r.left + r.width / 2, r.top + 10) === h];")
        .await;
    assert_eq!(place, json!(["fixed", true, true, true]));
    // For people: what the overlay looks like with the seven examples.
    let shot = std::env::temp_dir().join("kolokol-seed-examples.png");
    std::fs::write(&shot, app.client.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", shot.display());

    // The start page's own button sends the same example.
    app.client
        .find(fantoccini::Locator::Css("#examples button[data-method=show_message]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.wait_for("document.querySelector('kolokol-overlay').shadowRoot.querySelector('[data-part=more]').textContent === '+3 more'").await;
    assert_eq!(newest(&app.popups().await)["header"], "Внимание");
    // Closing a visible popup brings the newest waiting one back.
    app.js("document.querySelector('kolokol-overlay').shadowRoot.querySelector('.popup [data-action=close]').click(); return null;").await;
    let popups = app.popups().await;
    assert_eq!((popups.len(), popups[0]["more"].as_str()), (5, Some("+2 more")));
    assert_eq!(popups[4]["header"], "Исходящий звонок", "the newest waiting one came back at the bottom");
    app.stop().await;
}

/// Refusals reject the Promise and call fail/always with {code, field, message},
/// warn on the console, never throw, and show nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_reach_fail_and_the_promise() {
    let app = App::start(&[]).await;
    let v = app
        .js(r#"
const warns = [];
const ow = console.warn;
console.warn = (...a) => { warns.push(a.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(' ')); };
const out = {};
async function probe(label, call) {
  const cb = { done: null, fail: null, always: 0 };
  let threw = null, res = null;
  try {
    const p = call({ done: (id) => (cb.done = id), fail: (e) => (cb.fail = e), always: () => cb.always++ });
    res = await p.then((ok) => ({ ok }), (err) => ({ err }));
  } catch (e) { threw = String(e); }
  out[label] = { threw, res, cb };
}
const N = APP.notifications;
await probe('number', (cb) => N.show_message(42, cb));
await probe('empty', (cb) => N.show_message({}, cb));
await probe('blank', (cb) => N.show_notification({ text: { header: ' ', text: '' }, type: 'call' }, cb));
const cyc = { header: 'h' }; cyc.self = cyc;
await probe('cycle', (cb) => N.add_error(cyc, cb));
await probe('bigint', (cb) => N.add_call({ text: 't', n: 10n }, cb));
await probe('big', (cb) => N.add_error({ text: 'x'.repeat(70000) }, cb));
await probe('undefined', (cb) => N.show_notification(undefined, cb));
await probe('warned', (cb) => N.show_message({ header: 'only a header' }, cb));
// Calls in one task travel as one batch; each still gets its own answer.
const mixed = await Promise.allSettled([N.add_error({}), N.add_error({ text: 'batched ok' }), N.show_message(5)]);
out.mixed = mixed.map((r) => r.status === 'fulfilled' ? 'ok' : r.reason.code);
let bare = null;
await N.add_error({ text: 'bare function callback' }, (id) => (bare = id));
console.warn = ow;
const popups = document.querySelector('kolokol-overlay').shadowRoot.querySelectorAll('.popup').length;
return { out, warns, popups, bare };
"#)
        .await;
    let out = &v["out"];
    for (label, code, field) in [
        ("number", "not_object", "payload"),
        ("empty", "empty", "text"),
        ("blank", "empty", "text.text"),
        ("cycle", "unserializable", "payload"),
        ("bigint", "unserializable", "payload"),
        ("big", "too_large", "payload"),
        ("undefined", "not_object", "payload"),
    ] {
        let o = &out[label];
        assert_eq!(o["threw"], Value::Null, "{label}: threw synchronously");
        let err = &o["res"]["err"];
        assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some(code), Some(field)), "{label}: {o}");
        assert!(err["message"].as_str().unwrap().len() > 10, "{label}: {err}");
        assert_eq!(&o["cb"]["fail"], err, "{label}: fail got the same error");
        assert_eq!(o["cb"]["always"], 1, "{label}");
        assert_eq!(o["cb"]["done"], Value::Null, "{label}");
        assert!(
            v["warns"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains(&format!("refused: {field}:"))),
            "{label}: console warning naming {field}: {}",
            v["warns"]
        );
    }
    assert!(out["big"]["res"]["err"]["message"].as_str().unwrap().contains("65536"));
    // Accepted with a warning: shown, done(id) and the Promise's {id} agree.
    let w = &out["warned"];
    assert_eq!(w["res"]["ok"]["id"], w["cb"]["done"]);
    assert_eq!(w["cb"]["always"], 1);
    assert!(v["warns"].as_array().unwrap().iter().any(|s| s.as_str().unwrap().contains("show_message(): text:")), "{}", v["warns"]);
    assert!(v["bare"].is_string(), "a bare function is taken as done");
    assert_eq!(out["mixed"], json!(["empty", "ok", "not_object"]));
    assert_eq!(v["popups"], 3, "only the three accepted calls are shown");
    app.stop().await;
}

/// Markup from a widget never runs; its safe part is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_never_runs() {
    let app = App::start(&[]).await;
    app.js(r#"
window.__pwned = undefined;
await APP.notifications.show_message({
  header: '<img src="x" onerror="window.__pwned = 1">Header<script>window.__pwned = 2</script>',
  text: '<script>window.__pwned = 3</script><b>bold</b> <i>it</i><br><a href="javascript:window.__pwned=4">link</a><iframe src="javascript:parent.__pwned=5"></iframe><svg onload="window.__pwned=6"></svg>',
});
await APP.notifications.show_message_error({ header: 'h', text: 't', link: 'javascript:window.__pwned = 7' });
await APP.notifications.add_call({ text: 'call', click_link: 'data:text/html,<script>parent.__pwned=8</script>' });
return null;
"#)
        .await;
    // Give anything that could fire (image errors, frames) time to do so.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let popups = app.popups().await;
    let p = &popups[2];
    assert_eq!(p["header"], "Header");
    assert_eq!(p["text"], "bold itlink");
    let html = p["text_html"].as_str().unwrap();
    assert!(html.contains("<b>bold</b>") && html.contains("<i>it</i>") && html.contains("<br>"), "{html}");
    assert!(!html.contains("javascript") && !html.contains("iframe") && !html.contains("onload"), "{html}");
    // Click everything that can be clicked: still nothing runs, the page stays.
    app.js(r#"
for (const el of document.querySelector('kolokol-overlay').shadowRoot.querySelectorAll('.popup, a')) el.click();
return null;"#)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(popups[1]["clickable"], false, "javascript: link dropped");
    assert_eq!(popups[0]["clickable"], false, "data: click_link dropped");
    let pwned = app.client.execute("return [window.__pwned === undefined, location.protocol];", vec![]).await.unwrap();
    assert_eq!(pwned[0], true, "a payload ran script");
    assert_eq!(pwned[1], "tauri:", "the page navigated away");
    app.stop().await;
}

/// A remote page that assigns its own APP/AMOCRM objects keeps them and gains
/// the frozen notifications object, which exists before its first script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn globals_survive_page_objects() {
    let fx = Fixtures::serve();
    let app = App::start(&["open", &fx.url("assigns.html")]).await;
    let v = app
        .js(r#"
const N = APP.notifications;
let replaced = true;
try { N.show_message = () => 'hijacked'; } catch (_) {}
try { APP.notifications = { show_message: () => 'hijacked' }; } catch (_) {}
try { window.APP = { other: 1 }; } catch (_) {}
replaced = APP.notifications.show_message !== N.show_message || APP.notifications !== N;
const r = await AMOCRM.notifications.add_call({ text: 'Звонок', from: '+7 999 000 00 00', element: { id: '5', type: 'lead' } });
return {
  early: window.__early,
  page: window.APP.other, amocrmWidgets: Array.isArray(AMOCRM.widgets.list),
  same: APP.notifications === AMOCRM.notifications, frozen: Object.isFrozen(N), replaced,
  id: r.id,
};
"#)
        .await;
    assert_eq!(v["early"], json!({"app": "object", "appNotifications": true, "amocrmNotifications": true}));
    assert_eq!(v["page"], 1, "the page's own APP object is what APP is");
    assert_eq!(v["amocrmWidgets"], true, "var AMOCRM = {{...}} kept the page's keys");
    assert_eq!((v["same"].as_bool(), v["frozen"].as_bool(), v["replaced"].as_bool()), (Some(true), Some(true), Some(false)));
    let popups = app.popups().await;
    assert_eq!((popups[0]["look"].as_str(), popups[0]["id"].as_str()), (Some("call"), v["id"].as_str()));
    app.stop().await;
}

/// A CRM page's start-up assigns its own APP.notifications in strict mode:
/// the assignment does not throw, widgets still get Kolokol's facade, and the
/// page's own implementation is chained to — interface-only calls go to it
/// alone (its popup, its callbacks), center calls to it and to Kolokol (whose
/// answer the widget gets, even when the page's own one throws). With
/// "Kolokol only" the page's implementation is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pages_own_notifications_are_kept_and_chained() {
    const WIDGET: &str = r#"
let cbArg = null;
const msg = await APP.notifications.show_message({ text: 'from a widget' }, (id) => (cbArg = id));
const call = await APP.notifications.add_call({ text: 'Звонок', from: '+7 999 000 00 00' });
const err = await APP.notifications.add_error({ text: 'Ошибка' });
return { started: crm.started, got: crm.got, cbArg, msg: typeof msg, call: call.id, err: err.id,
  facade: APP.notifications === AMOCRM.notifications && Object.isFrozen(APP.notifications) };
"#;
    let fx = Fixtures::serve();
    let app = App::start(&["open", &fx.url("crm.html")]).await;
    let v = app.js(WIDGET).await;
    assert_eq!(v["started"], true, "the page's start-up ran past its assignment: {v}");
    assert_eq!(v["got"], json!([["show_message", "from a widget"], ["add_call", "Звонок"], ["add_error", "Ошибка"]]), "{v}");
    assert_eq!(v["cbArg"], "crm-msg", "the page answered its interface-only call: {v}");
    assert!(v["call"].is_string() && v["err"].is_string(), "Kolokol accepted (and stored) both center calls: {v}");
    assert_eq!(v["facade"], true, "{v}");
    // One popup per call: the page drew its own for show_message and add_call;
    // its add_error threw, so Kolokol's popup shows that one.
    let popups = app.popups().await;
    assert_eq!(popups.iter().map(|p| p["look"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["error"], "{popups:?}");
    app.stop().await;

    let app = App::start_with_settings(json!({ "kolokol_only": true }), &["open", &fx.url("crm.html")]).await;
    app.wait_for("window.crm && crm.started").await;
    // The mode is asked once per page load; let that answer arrive.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let v = app.js(WIDGET).await;
    assert_eq!(v["got"], json!([]), "Kolokol only: the page's implementation is left out: {v}");
    assert!(v["cbArg"].is_string() && v["cbArg"] != "crm-msg", "Kolokol answered: {v}");
    assert_eq!(app.popups().await.len(), 3);
    app.stop().await;
}

/// The webviews' cookies and storage live in the data folder: a restart keeps
/// an account's login, another data folder does not share it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_lives_in_its_data_folder() {
    const READ: &str = "return [document.cookie, localStorage.getItem('login')];";
    let fx = Fixtures::serve();
    let page = fx.url("plain.html");
    let app = App::start(&["open", &page]).await;
    app.js("document.cookie = 'session=agent-1; max-age=86400; path=/'; localStorage.setItem('login', 'agent-1'); return null;").await;
    // WebKit keeps its cookie store in the data folder.
    let cookies = app.data_dir.path().join("webview/cookies");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !std::fs::read(&cookies).is_ok_and(|b| String::from_utf8_lossy(&b).contains("agent-1")) {
        assert!(std::time::Instant::now() < deadline, "no cookie store at {}", cookies.display());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Leaving the page lets WebKit write its local storage.
    app.js("location.href = 'about:blank'; return null;").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let dir = app.stop_keeping_data().await;

    let other = App::start(&["open", &page]).await;
    assert_eq!(other.js(READ).await, json!(["", null]), "another data folder, another login");
    other.stop().await;

    let again = App::start_in(dir, &["open", &page], &[]).await;
    assert_eq!(again.js(READ).await, json!(["session=agent-1", "agent-1"]), "the same data folder keeps the login");
    again.stop().await;
}

/// The account address from the settings is the workspace's home: it opens at
/// start, with the notifications API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_opens_at_start() {
    let fx = Fixtures::serve();
    let app = App::start_with_settings(json!({ "account_url": fx.origin }), &[]).await;
    let v = app.js("return [location.origin, typeof APP.notifications.add_call];").await;
    assert_eq!(v, json!([fx.origin, "function"]));
    app.stop().await;
}

/// A batch is checked by its size before anything parses it, and only raw
/// bodies are batches: an oversized one and a JSON one are refused naming
/// `calls`, and the page's API keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_batches_are_refused_before_parsing() {
    let fx = Fixtures::serve();
    let app = App::start(&["open", &fx.url("plain.html")]).await;
    let v = app
        .js(r#"
const I = window.__TAURI_INTERNALS__;
const tryBatch = (body) => I.invoke('plugin:notifications|notify_batch', body).then((r) => 'accepted ' + r.length, (e) => e);
const huge = new Uint8Array((4 << 20) + 1).fill(32);
return {
  huge: await tryBatch(huge),
  json: await tryBatch({ calls: [{ method: 'show_message', payload: '{"text":"x"}' }] }),
  garbage: await tryBatch(new TextEncoder().encode('[{"method": 1')),
  fine: await tryBatch(new TextEncoder().encode(JSON.stringify([{ method: 'show_message', payload: '{"text":"ok"}' }]))),
  after: (await APP.notifications.show_message({ text: 'still answering' })).id,
};
"#)
        .await;
    assert_eq!((v["huge"]["code"].as_str(), v["huge"]["field"].as_str()), (Some("too_large"), Some("calls")), "{v}");
    assert!(v["huge"]["message"].as_str().unwrap().contains("4194305 bytes"), "{v}");
    assert_eq!((v["json"]["code"].as_str(), v["json"]["field"].as_str()), (Some("bad_batch"), Some("calls")), "{v}");
    assert_eq!((v["garbage"]["code"].as_str(), v["garbage"]["field"].as_str()), (Some("bad_batch"), Some("calls")), "{v}");
    assert_eq!(v["fine"], "accepted 1", "{v}");
    assert!(v["after"].is_string(), "{v}");
    app.stop().await;
}

/// Pages in the workspace reach the notifications commands and nothing else:
/// remote pages and Kolokol's own start page alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_reach_only_the_notification_commands() {
    const PROBE: &str = r#"
const I = window.__TAURI_INTERNALS__;
const tryCall = (cmd, args) => I.invoke(cmd, args).then(() => 'allowed', (e) => 'refused: ' + String(e));
return {
  notify: await tryCall('plugin:notifications|notify', { method: 'show_message', payload: '{"text":"ok"}' }),
  get_settings: await tryCall('get_settings'),
  set_settings: await tryCall('set_settings', { settings: { account_url: 'https://evil.example' } }),
  opener: await tryCall('plugin:opener|open_url', { url: 'https://example.com' }),
  open_path: await tryCall('plugin:opener|open_path', { path: '/etc/passwd' }),
  window_close: await tryCall('plugin:window|close', {}),
  app_version: await tryCall('plugin:app|version'),
  open_foreign_link: await tryCall('plugin:notifications|open_link', { id: 'nope', href: 'https://evil.example/' }),
};"#;
    let fx = Fixtures::serve();
    let app = App::start(&["open", &fx.url("plain.html")]).await;
    let remote = app.js(PROBE).await;
    assert_eq!(remote["notify"], "allowed", "{remote}");
    for cmd in ["get_settings", "set_settings", "opener", "open_path", "window_close", "app_version", "open_foreign_link"] {
        assert!(remote[cmd].as_str().unwrap().starts_with("refused"), "remote page reached {cmd}: {remote}");
    }
    eprintln!("remote page: {remote:#}");
    // The hostile stylesheet did not hide or restyle the overlay.
    let shown = app
        .js("await APP.notifications.show_message({ header: 'Shown', text: 'despite the page CSS' });
const h = document.querySelector('kolokol-overlay');
const p = h.shadowRoot.querySelector('.popup');
return [getComputedStyle(h).display, p.getBoundingClientRect().width > 100, getComputedStyle(p).fontSize];")
        .await;
    assert_eq!(shown, json!(["block", true, "14px"]));
    app.stop().await;

    // Kolokol's own start page is no different: the workspace hosts untrusted
    // pages (local files and widgets are "local" to Tauri too), so the
    // settings live in the workbench window.
    let app = App::start(&[]).await;
    let local = app.js(PROBE).await;
    assert_eq!(local["notify"].as_str(), Some("allowed"), "{local}");
    for cmd in ["get_settings", "set_settings", "opener", "open_path", "window_close", "app_version", "open_foreign_link"] {
        assert!(local[cmd].as_str().unwrap().starts_with("refused"), "start page reached {cmd}: {local}");
    }
    app.stop().await;
}

/// Tolerant shapes, callbacks, tags, dismiss, auto-close and the close button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlay_behaviour() {
    let app = App::start(&[]).await;
    let v = app
        .js(r#"
const N = APP.notifications;
const flat = await N.show_notification({ header: 'Flat', text: 'flat text', type: 'call' });
const folded = await N.add_call({ text: { header: 'Folded', text: '+7 999' }, element: {} });
const t1 = await N.add_call({ text: 'first ring', tag: 'line-1' });
const t2 = await N.add_call({ text: 'second ring', tag: 'line-1' });
const info = await N.show_message({ header: 'Info', text: 'goes away', date: '1534084500000' });
return { flat: flat.id, folded: folded.id, t1: t1.id, t2: t2.id, info: info.id };
"#)
        .await;
    let popups = app.popups().await;
    let heads: Vec<_> = popups.iter().map(|p| (p["header"].as_str(), p["text"].as_str().unwrap())).collect();
    assert_eq!(
        heads,
        [(Some("Info"), "goes away"), (None, "second ring"), (Some("Folded"), "+7 999"), (Some("Flat"), "flat text")],
        "tag line-1 replaced its earlier popup"
    );
    assert_eq!(popups[3]["look"], "call");
    // dismiss by tag and by id; the close button.
    let d = app.js("return [await APP.notifications.dismiss('line-1'), await APP.notifications.dismiss('nope')];").await;
    assert_eq!(d, json!([true, false]));
    app.js(&format!("APP.notifications.dismiss('{}'); return null;", v["folded"].as_str().unwrap())).await;
    app.js("document.querySelector('kolokol-overlay').shadowRoot.querySelector('[data-look=call] [data-action=close]').click(); return null;").await;
    let left: Vec<_> = app.popups().await.iter().map(|p| p["header"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["Info"]);
    // A burst: thirty at once → the newest five drawn, newest on top, the rest
    // counted. A burst is drawn before the next frame, at most every 100 ms,
    // so it may land just after the calls are answered.
    app.js("await Promise.all(Array.from({ length: 30 }, (_, i) => APP.notifications.show_message({ header: 'm' + i, text: 'burst' }))); return null;")
        .await;
    app.wait_for("document.querySelector('kolokol-overlay').shadowRoot.querySelector('.popup [data-part=header]').textContent === 'm29'").await;
    let burst = app
        .js("const r = document.querySelector('kolokol-overlay').shadowRoot;
return [[...r.querySelectorAll('.popup [data-part=header]')].map((h) => h.textContent), r.querySelector('[data-part=more]').textContent];")
        .await;
    assert_eq!(burst, json!([["m29", "m28", "m27", "m26", "m25"], "+26 more"]));
    for _ in 0..31 {
        app.js("const b = document.querySelector('kolokol-overlay').shadowRoot.querySelector('.popup [data-action=close]'); if (b) b.click(); return null;").await;
    }
    assert!(app.popups().await.is_empty(), "closing them all empties the queue too");
    // A message closes on its own; a call stays until closed.
    app.js("await APP.notifications.show_notification({ text: { header: 'Ringing', text: 'x' }, type: 'call' }); return null;").await;
    app.wait_for("![...document.querySelector('kolokol-overlay').shadowRoot.querySelectorAll('.popup')].some((p) => p.dataset.look === 'message')").await;
    let left: Vec<_> = app.popups().await.iter().map(|p| p["header"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["Ringing"]);
    app.stop().await;
}

/// The user's default browser, the XDG way, as a script that records what it
/// was given (a machine with a browser registers it system-wide; the user's
/// mimeapps.list wins): the file it writes to, and the app's environment.
fn test_browser(dir: &std::path::Path) -> (std::path::PathBuf, Vec<(&'static str, String)>) {
    let opened = dir.join("opened.txt");
    let browser = dir.join("browser.sh");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (config, data) = (dir.join("config"), dir.join("data"));
    std::fs::create_dir_all(data.join("applications")).unwrap();
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        data.join("applications/kolokol-test-browser.desktop"),
        format!("[Desktop Entry]\nType=Application\nName=Test browser\nExec={} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n", browser.display()),
    )
    .unwrap();
    std::fs::write(
        config.join("mimeapps.list"),
        "[Default Applications]\nx-scheme-handler/http=kolokol-test-browser.desktop\nx-scheme-handler/https=kolokol-test-browser.desktop\n",
    )
    .unwrap();
    let env = vec![
        ("BROWSER", browser.display().to_string()),
        ("XDG_CONFIG_HOME", config.display().to_string()),
        ("XDG_DATA_HOME", data.display().to_string()),
    ];
    (opened, env)
}

/// A page's window.open and target="_blank": a page of its own site opens in a
/// second Kolokol window that has the API; another site goes to the user's
/// browser; nothing opens a window of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_windows_open_in_kolokol_or_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let (opened, env) = test_browser(tmp.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let fx = Fixtures::serve();
    let app = support::App::start_env(&["open", &fx.url("opens.html")], &env).await;
    let workspace = app.client.window().await.unwrap();
    app.click("document.getElementById('same')").await;
    let second = app.other_window(&workspace).await;
    app.client.switch_to_window(second).await.unwrap();
    app.wait_for("location.search === '?second' && !!(window.APP && APP.notifications)").await;
    let r = app.js("return (await APP.notifications.show_message({ text: 'from the second window' })).id;").await;
    assert!(r.is_string(), "the second window has the API: {r}");
    // Closed again, so the next clicks reach the workspace underneath.
    app.client.close_window().await.unwrap();
    app.client.switch_to_window(workspace).await.unwrap();

    app.click("document.getElementById('other')").await;
    app.click("document.getElementById('blank')").await;
    let read = || std::fs::read_to_string(&opened).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while read().lines().count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser got only: {}\napp log:\n{}",
            read(),
            std::fs::read_to_string(app.data_dir.path().join("driver.log")).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut got: Vec<String> = read().lines().map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, ["https://docs.example/blank", "https://other.example/page"]);
    assert_eq!(app.client.windows().await.unwrap().len(), 1, "no window of its own for another site");
    let href = app.js("return location.href;").await;
    assert!(href.as_str().unwrap().ends_with("/opens.html"), "the workspace stayed: {href}");
    app.stop().await;
}

/// Links open in the user's browser through the real xdg-open (here the
/// default browser is a script that records what it was given): relative links against the account
/// address saved in the workbench window, card and recording of a call, links inside
/// the text; never a dropped scheme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_open_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let (opened, env) = test_browser(tmp.path());
    // A local page: the workbench window comes along, where the settings are.
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plain.html");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = support::App::start_env(&["open", page.to_str().unwrap()], &env).await;

    // The account address, typed into the workbench's settings form.
    let workspace = app.client.window().await.unwrap();
    let bench = app.other_window(&workspace).await;
    app.client.switch_to_window(bench).await.unwrap();
    app.wait_for("document.body.dataset.ready === 'true'").await;
    app.js("document.getElementById('tab-settings').click(); return null;").await;
    app.wait_for("!!document.getElementById('account') && document.getElementById('account').offsetParent !== null").await;
    let input = app.client.find(fantoccini::Locator::Id("account")).await.unwrap();
    input.send_keys("example.amocrm.ru").await.unwrap();
    app.client.find(fantoccini::Locator::Css("#settings button[type=submit]")).await.unwrap().click().await.unwrap();
    app.wait_for("document.getElementById('account').value === 'https://example.amocrm.ru'").await;
    app.client.switch_to_window(workspace).await.unwrap();
    let saved = std::fs::read_to_string(app.data_dir.path().join("settings.json")).unwrap();
    assert!(saved.contains("\"account_url\": \"https://example.amocrm.ru\""), "{saved}");

    let read = || std::fs::read_to_string(&opened).unwrap_or_default();
    let wait_lines = |n: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while read().lines().count() < n {
            assert!(std::time::Instant::now() < deadline, "browser got only:\n{}\napp log:\n{}", read(), std::fs::read_to_string(app.data_dir.path().join("driver.log")).unwrap_or_default());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    // Each popup clicked as a person does (WebDriver actions: trusted events),
    // one a second at most, as a person clicks.
    let popup = |id: &Value, inner: &str| {
        format!("document.querySelector('kolokol-overlay').shadowRoot.querySelector('[data-id=\"{}\"] {inner}')", id.as_str().unwrap())
    };
    let js_id = app.js("return (await APP.notifications.show_message_error({ header: 'h', text: 't', link: 'javascript:alert(1)' })).id;").await;
    app.click(&popup(&js_id, ".body")).await;
    let id = app.js("return (await APP.notifications.add_error({ header: 'Ошибка', text: 'Контакт не найден', link: '/contacts/list/?term=4951234567' })).id;").await;
    app.click(&popup(&id, ".body")).await;
    wait_lines(1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = app.js("return (await APP.notifications.add_call({ text: 'Звонок', element: { id: 18221265, type: 'contact' }, link: 'https://example.com/dialog.mp3' })).id;").await;
    app.click(&popup(&id, "[data-action=click]")).await;
    wait_lines(2);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = app.js("return (await APP.notifications.add_call({ text: 'Звонок', element: { id: 18221265, type: 'contact' }, link: 'https://example.com/dialog.mp3' })).id;").await;
    app.click(&popup(&id, "[data-action=recording]")).await;
    wait_lines(3);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = app.js("return (await APP.notifications.show_message({ header: 'h', text: 'see <a href=\"https://docs.example/a?b=1&c=2\">the docs</a>', tag: 'docs' })).id;").await;
    app.click(&popup(&id, "a")).await;
    wait_lines(4);

    // A page that opens links by itself, without a click: straight through the
    // IPC in a loop (with and without a guessed key) and with a script's
    // el.click() on its own popup. Nothing of it reaches the browser.
    let tried = app
        .js("
const I = window.__TAURI_INTERNALS__;
const { id } = await APP.notifications.show_message({ header: 'h', text: 'see <a href=\"https://docs.example/spam\">spam</a>' });
const link = document.querySelector('kolokol-overlay').shadowRoot.querySelector('[data-id=\"' + id + '\"] a');
const results = [];
for (let i = 0; i < 50; i++) {
  results.push(await I.invoke('plugin:notifications|open_link', { id, href: 'https://docs.example/spam' }).then(() => 'opened', (e) => String(e)));
  results.push(await I.invoke('plugin:notifications|open_link', { id, href: 'https://docs.example/spam', key: 'guess' + i }).then(() => 'opened', (e) => String(e)));
  link.click();
}
return results;")
        .await;
    let tried = tried.as_array().unwrap();
    assert_eq!(tried.len(), 100);
    assert!(tried.iter().all(|r| r.as_str().unwrap().contains("only from a click")), "{tried:?}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(read().lines().count(), 4, "a page opened links without a click:\n{}", read());
    assert_eq!(
        read().lines().collect::<Vec<_>>(),
        [
            "https://example.amocrm.ru/contacts/list/?term=4951234567",
            "https://example.amocrm.ru/contacts/detail/18221265",
            "https://example.com/dialog.mp3",
            "https://docs.example/a?b=1&c=2",
        ]
    );
    let href = app.client.execute("return location.href", vec![]).await.unwrap();
    let href = href.as_str().unwrap();
    assert!(href.starts_with("kolokol://t") && href.ends_with("/page/plain.html"), "the workspace navigated: {href}");
    app.stop().await;
}

/// Browser keys in the workspace: Ctrl +/−/0 zoom, remembered per origin
/// across reloads and restarts; Alt+←/→ back and forward; F5 reloads; Ctrl+F
/// finds text in the page. A page cannot trigger them by script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_keys_zoom_per_origin_navigate_and_find() {
    const CTRL: &str = "\u{E009}";
    const ALT: &str = "\u{E00A}";
    let fx = Fixtures::serve();
    let app = App::start(&["open", &fx.url("plain.html")]).await;
    app.wait_for("document.readyState === 'complete'").await;
    let width = || async { app.js("return window.innerWidth;").await.as_f64().unwrap() };
    let w0 = width().await;
    app.chord(Some(CTRL), "=").await;
    app.chord(Some(CTRL), "=").await;
    // 1.25: the CSS viewport shrinks by that factor.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (width().await - w0 / 1.25).abs() > 2.0 {
        assert!(std::time::Instant::now() < deadline, "zoom in: width {} for {w0}", width().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let saved = std::fs::read_to_string(app.data_dir.path().join("zoom.json")).unwrap();
    assert!(saved.contains(&fx.origin) && saved.contains("1.25"), "{saved}");
    // A script cannot zoom, print or reload through Kolokol.
    let r = app.js("try { await window.__TAURI_INTERNALS__.invoke('plugin:notifications|browse', { action: 'print', key: 'guess' }); return 'done'; } catch (e) { return String(e); }").await;
    assert!(r.as_str().unwrap_or_default().contains("key:"), "{r}");
    // F5 reloads; the zoom stays with the origin.
    app.js("window.marker = 1; return null;").await;
    app.chord(None, "\u{E035}").await;
    app.wait_for("window.marker === undefined && document.readyState === 'complete'").await;
    assert!((width().await - w0 / 1.25).abs() <= 2.0, "zoom kept after reload: {} for {w0}", width().await);
    // Another origin has its own zoom (none).
    let other = fx.url("plain.html").replace("127.0.0.1", "localhost");
    app.js(&format!("location.href = {}; return null;", json!(other))).await;
    app.wait_for("location.hostname === 'localhost' && document.readyState === 'complete'").await;
    assert!((width().await - w0).abs() <= 2.0, "the other origin is at 100%: {}", width().await);
    // Alt+← goes back, Alt+→ forward.
    app.chord(Some(ALT), "\u{E012}").await;
    app.wait_for("location.hostname === '127.0.0.1' && document.readyState === 'complete'").await;
    app.chord(Some(ALT), "\u{E014}").await;
    app.wait_for("location.hostname === 'localhost' && document.readyState === 'complete'").await;
    // Ctrl+F: the find bar, and the text found and selected.
    app.chord(Some(CTRL), "f").await;
    app.wait_for("!!document.querySelector('kolokol-overlay')?.shadowRoot?.querySelector('[data-part=find]:not([hidden])')").await;
    for c in "content".chars() {
        app.chord(None, &c.to_string()).await;
    }
    app.wait_for("document.querySelector('kolokol-overlay').shadowRoot.querySelector('[data-part=find-state]').textContent === '1/1' && CSS.highlights.get('kolokol-find').size === 1").await;
    // Spell checking in both languages, on the shared web context.
    let log = std::fs::read_to_string(app.data_dir.path().join("driver.log")).unwrap_or_default();
    let line = log.lines().find(|l| l.contains("spell checking on")).unwrap_or_else(|| panic!("no spell-checking line in the log"));
    assert!(line.contains("ru_RU") && line.contains("en_US"), "{line}");
    let dir = app.stop_keeping_data().await;
    // Restarted on the same data folder: the first origin opens zoomed.
    let app = App::start_in(dir, &["open", &fx.url("plain.html")], &[]).await;
    app.wait_for("document.readyState === 'complete'").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (app.js("return window.innerWidth;").await.as_f64().unwrap() - w0 / 1.25).abs() > 2.0 {
        assert!(std::time::Instant::now() < deadline, "zoom remembered across a restart");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.chord(Some(CTRL), "0").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (app.js("return window.innerWidth;").await.as_f64().unwrap() - w0).abs() > 2.0 {
        assert!(std::time::Instant::now() < deadline, "Ctrl+0 resets");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.stop().await;
}

/// A softphone's getUserMedia, without WebDriver (WebKit's automation mode
/// grants capture by itself): a PulseAudio of the test's own with a silent
/// source is the microphone. The account's page gets Kolokol's prompt, a
/// script's click on it does nothing, a real click (xdotool) on Allow grants it
/// and is remembered; another origin is denied without a prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_softphone_gets_the_microphone_after_the_prompt() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let pulse_dir = tempfile::tempdir().unwrap();
    let mut pulse = Command::new("pulseaudio")
        .args(["-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit"])
        .args(["-L", "module-null-source source_name=softphone-mic", "-L"])
        .arg(format!("module-native-protocol-unix socket={}/native", pulse_dir.path().display()))
        .env("XDG_RUNTIME_DIR", pulse_dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pulseaudio (apt-get install pulseaudio gstreamer1.0-pulseaudio)");
    let socket = pulse_dir.path().join("native");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "pulseaudio did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let fx = Fixtures::serve();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("settings.json"), json!({ "account_url": fx.origin }).to_string()).unwrap();
    let start = |url: String| {
        Command::new(support::APP_BIN)
            .arg("--data-dir")
            .arg(&dir)
            .args(["open", &url])
            .env("PULSE_SERVER", format!("unix:{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.path().join("app.log")).unwrap())
            .spawn()
            .unwrap()
    };
    // What the page reported (its add_error texts), oldest first.
    let reports = || -> Vec<String> {
        let out = Command::new(support::APP_BIN).arg("--data-dir").arg(&dir).args(["history", "--json"]).output().unwrap();
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap_or(json!([]));
        let mut texts: Vec<String> = rows.as_array().into_iter().flatten().filter_map(|r| r["text"].as_str().map(str::to_owned)).collect();
        texts.reverse();
        texts
    };
    let wait_report = |prefix: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(r) = reports().into_iter().find(|t| t.starts_with(prefix)) {
                return r;
            }
            let log = std::fs::read_to_string(data.path().join("app.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "no {prefix:?} report; reports {:?}; log:\n{log}", reports());
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let mut app = start(fx.url("mic.html"));
    let prompt = wait_report("prompt ");
    let parts: Vec<&str> = prompt.split_whitespace().collect();
    assert_eq!(parts.get(3), Some(&"true"), "a script's click must not answer the prompt: {prompt}");
    // The person's click, on Kolokol's window.
    let win = Command::new("xdotool").args(["search", "--onlyvisible", "--name", "^Kolokol$"]).output().expect("xdotool (apt-get install xdotool)");
    let win = String::from_utf8_lossy(&win.stdout).lines().next().map(str::to_owned).expect("Kolokol's window");
    // The page's viewport sits at the bottom right of the window (a title bar
    // GTK draws itself when there is no window manager).
    let geometry = Command::new("xdotool").args(["getwindowgeometry", "--shell", &win]).output().unwrap();
    let geometry = String::from_utf8_lossy(&geometry.stdout).into_owned();
    let dim = |k: &str| geometry.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).and_then(|v| v.parse::<i64>().ok()).unwrap();
    let num = |i: usize| parts[i].parse::<i64>().unwrap();
    let (x, y) = (num(1) + dim("WIDTH") - num(4), num(2) + dim("HEIGHT") - num(5));
    let (wx, wy) = (dim("X"), dim("Y"));
    let ok = Command::new("xdotool")
        .args(["mousemove", "--sync", &(wx + x).to_string(), &(wy + y).to_string(), "sleep", "0.3", "click", "1"])
        .status()
        .unwrap();
    assert!(ok.success());
    let done = wait_report("done ");
    assert_eq!(done, "done granted 1 / granted 1 / prompt false");
    let saved = std::fs::read_to_string(dir.join("permissions.json")).unwrap();
    assert!(saved.contains(&format!("\"{} microphone\": true", fx.origin)), "{saved}");
    let _ = app.kill();
    let _ = app.wait();
    // Another origin: denied, never asked.
    let before = reports().len();
    let mut app = start(fx.url("mic.html").replace("127.0.0.1", "localhost"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let other = loop {
        let r = reports();
        if r.len() > before {
            break r[before].clone();
        }
        if Instant::now() >= deadline {
            let log = std::fs::read_to_string(data.path().join("app.log")).unwrap_or_default();
            let alive = app.try_wait().map(|s| format!("{s:?}")).unwrap_or_else(|e| e.to_string());
            panic!("no report from the other origin; reports {r:?}; the app: {alive} (None: running); its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = app.kill();
    let _ = app.wait();
    let _ = pulse.kill();
    let _ = pulse.wait();
    // Opened on the command line, that origin has the notifications API (so
    // it can report), but not the microphone.
    assert!(other.starts_with("done denied NotAllowedError / prompt false"), "{other}");
}
