//! The `notifications` plugin: its init script defines the frozen
//! `APP.notifications` / `AMOCRM.notifications` object and the overlay in every
//! page of the workspace, and its two commands are all such a page can reach.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use tauri::ipc::{InvokeBody, Request};
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Manager, State, Webview, Wry};

use super::state::AppState;
use super::workbench;
use crate::core::api::{self, Refusal};
use crate::core::{links, webnotify};
use crate::core::router::{Accepted, Route};
use crate::workbench::calllog::Call as Logged;
use crate::workbench::ratelimit;
use crate::workbench::stubs::{Stub, MAX_URL};

/// Proves that an `open_link` comes from the init script (which sends it
/// only for a trusted click on a popup), not from the page calling the IPC
/// itself: random per run, known only inside the init script's closure.
static GESTURE_KEY: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string());

static INIT_SCRIPT: LazyLock<String> = LazyLock::new(|| {
    let css = serde_json::to_string(include_str!("inject/overlay.css")).expect("css as JSON string");
    let key = serde_json::to_string(GESTURE_KEY.as_str()).expect("key as JSON string");
    format!(
        "(function () {{\n\"use strict\";\nconst OVERLAY_CSS = {css};\nconst GESTURE_KEY = {key};\n{}\n{}\n}})();",
        include_str!("inject/overlay.js"),
        include_str!("inject/api.js")
    )
});

pub fn init() -> TauriPlugin<Wry> {
    Builder::new("notifications")
        .js_init_script(INIT_SCRIPT.as_str())
        .invoke_handler(tauri::generate_handler![notify, notify_batch, open_link, dismiss, mode, crm_post, host_call, web_permission, web_notify, browse, page_failed, permission_answer])
        .build()
}

/// One call of an `APP.notifications` method; `payload` is the page's
/// argument serialised as JSON by the facade. Center calls wait for their
/// row to be committed, on a blocking thread, never the UI thread.
/// `page` is what the page's own implementation did with the call, when the
/// facade chained to one.
#[tauri::command]
async fn notify(
    app: AppHandle,
    webview: Webview,
    method: String,
    payload: String,
    page: Option<String>,
) -> Result<Accepted, Refusal> {
    let mut results = handle(app, webview, vec![Call { method, payload, page }]).await?;
    results.pop().expect("one result per call")
}

/// Rate limit, validation, routing and the call log, for calls of one page.
async fn handle(app: AppHandle, webview: Webview, calls: Vec<Call>) -> Result<Vec<Result<Accepted, Refusal>>, Refusal> {
    let source = page_of(&app, &webview);
    let origin = links::origin_of(&source);
    // Budgets are per origin, not per page load: reloading refills nothing.
    let take = app.state::<AppState>().workbench.limit.take(&origin, calls.len(), Instant::now());
    let allowed = take.allowed;
    let worker = app.clone();
    let results = tauri::async_runtime::spawn_blocking(move || {
        let state = worker.state::<AppState>();
        let pairs: Vec<(&str, &str)> = calls[..allowed].iter().map(|c| (c.method.as_str(), c.payload.as_str())).collect();
        let mut results = state.accept_batch(&origin, &pairs);
        results.extend((allowed..calls.len()).map(|_| Err(ratelimit::refusal())));
        if take.started_limiting {
            tracing::warn!(page = %source, "rate limit reached: this page's calls are refused until it slows down");
        }
        let logged: Vec<Logged> = calls
            .iter()
            .zip(&results)
            .map(|(c, r)| Logged { source: &source, method: &c.method, payload: &c.payload, result: r, page: c.page.as_deref() })
            .collect();
        workbench::record(&worker, &logged);
        results
    })
    .await
    .map_err(|e| Refusal::new("internal", "payload", format!("Kolokol failed while handling the calls: {e}")))?;
    if let Some(a) = results.iter().flatten().rev().find(|a| a.route == Route::Center) {
        super::app::center_changed(&app, a.seq);
    }
    Ok(results)
}

/// The address of the page in `webview` (the call log's source).
fn page_of(app: &AppHandle, webview: &Webview) -> Arc<str> {
    app.state::<AppState>().workbench.page(webview.label()).unwrap_or_else(|| {
        webview.url().map(|u| u.to_string()).unwrap_or_else(|_| webview.label().to_owned()).into()
    })
}

/// Most calls one batch may carry; the facade sends at most this many.
const MAX_BATCH: usize = 200;
/// Largest batch body, checked before it is parsed; the facade cuts its
/// batches at 1 MiB of payloads (a call alone may be bigger: it goes by
/// `notify`, whose payload the contract's 64 KiB limit refuses).
const MAX_BATCH_BYTES: usize = 4 << 20;

#[derive(serde::Deserialize)]
struct Call {
    method: String,
    payload: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Ok(Box<Accepted>),
    Err(Refusal),
}

/// Calls a page made within one task, sent together by the facade so a burst
/// costs one IPC message and one commit per batch, not per call.
/// The body is the JSON array of calls as raw bytes, so its size is checked
/// before anything parses it.
#[tauri::command]
async fn notify_batch(app: AppHandle, webview: Webview, request: Request<'_>) -> Result<Vec<Outcome>, Refusal> {
    let InvokeBody::Raw(body) = request.body() else {
        return Err(Refusal::new("bad_batch", "calls", "a batch is sent as the raw bytes of a JSON array of {method, payload}"));
    };
    if body.len() > MAX_BATCH_BYTES {
        return Err(Refusal::new("too_large", "calls", format!("the batch is {} bytes; at most {MAX_BATCH_BYTES}", body.len())));
    }
    let calls: Vec<Call> = serde_json::from_slice(body)
        .map_err(|e| Refusal::new("bad_batch", "calls", format!("not a JSON array of {{method, payload}}: {e}")))?;
    if calls.len() > MAX_BATCH {
        return Err(Refusal::new("too_many", "calls", format!("{} calls in one batch; at most {MAX_BATCH}", calls.len())));
    }
    let results = handle(app, webview, calls).await?;
    Ok(results.into_iter().map(|r| r.map_or_else(Outcome::Err, |a| Outcome::Ok(Box::new(a)))).collect())
}

/// A click on a popup or a link inside it. Only for a real click (the init
/// script's key), at most three at once and then one a second per origin, only
/// links the page's own notification carried and that it has not dismissed,
/// and only http(s), in the user's browser.
#[tauri::command]
async fn open_link(
    app: AppHandle,
    webview: Webview,
    state: State<'_, AppState>,
    id: String,
    href: String,
    key: Option<String>,
) -> Result<(), String> {
    let origin = links::origin_of(&page_of(&app, &webview));
    if key.as_deref() != Some(GESTURE_KEY.as_str()) {
        tracing::warn!(%origin, "open_link without a click on a popup refused");
        return Err("links open only from a click on the popup".into());
    }
    if state.workbench.link_limit.take(&origin, 1, Instant::now()).allowed == 0 {
        tracing::warn!(%origin, "open_link refused: more than one link a second");
        return Err("too many links opened at once; at most one a second".into());
    }
    let account = state.settings.account();
    let url = state.router.link_to_open(&origin, &id, &href, account.as_ref())?;
    tracing::info!(%url, "opening link in the browser");
    super::app::open_external(&app, url.as_str());
    Ok(())
}

/// `APP.notifications.dismiss(idOrTag)`: the page closes its popup; this closes the toast.
#[tauri::command]
async fn dismiss(app: AppHandle, webview: Webview, state: State<'_, AppState>, id_or_tag: String) -> Result<(), String> {
    let origin = links::origin_of(&page_of(&app, &webview));
    state.router.dismiss(&origin, &id_or_tag);
    state.toasts.dismiss(&origin, &id_or_tag);
    Ok(())
}

/// How the facade treats a page's own `APP.notifications`: chained to
/// (the default), or left out ("Kolokol only"). Asked once per page load.
#[tauri::command]
fn mode(state: State<'_, AppState>) -> serde_json::Value {
    serde_json::json!({ "kolokol_only": state.settings.get().kolokol_only })
}

/// The widget host's `self.crm_post(url, data, …)`: answered from the
/// response the author set for `url` in the workbench, never sent anywhere
/// (a page must not get a proxy to the network); no response set → `Err`,
/// the widget's error callback. Logged with the request and the answer.
#[tauri::command]
async fn crm_post(app: AppHandle, webview: Webview, url: String, data: String, kind: Option<String>) -> Result<Stub, String> {
    let source = page_of(&app, &webview);
    let origin = links::origin_of(&source);
    let wb = &app.state::<AppState>().workbench;
    if wb.limit.take(&origin, 1, Instant::now()).allowed == 0 {
        return Err(ratelimit::refusal().message);
    }
    if data.len() > MAX_HOST_DATA {
        return Err(format!("data: {} bytes; at most {MAX_HOST_DATA}", data.len()));
    }
    let url: String = url.chars().take(MAX_URL).collect();
    // The data as the widget gave it: JSON when it is, else the text.
    let data = serde_json::from_str::<serde_json::Value>(&data).unwrap_or(serde_json::Value::String(data));
    let payload = serde_json::json!({ "url": url, "data": data, "type": kind }).to_string();
    let answer = wb.stubs.answer(&url);
    let (outcome, response) = match &answer {
        Ok(stub) => ("answered", format!("{} {}", stub.status, stub.body)),
        Err(e) => ("failed", e.clone()),
    };
    workbench::record_host(&app, &source, "crm_post", &payload, outcome, &response);
    answer
}

/// Telephony calls amoCRM acts on and Kolokol only records: in the call log,
/// with the arguments as given.
/// A browser key the init script saw pressed (zoom, reload, print); the key
/// proves it came from there, not from the page.
#[tauri::command]
async fn browse(webview: Webview, action: String, key: Option<String>) -> Result<serde_json::Value, String> {
    if key.as_deref() != Some(GESTURE_KEY.as_str()) {
        return Err("key: browser actions come from the keyboard only".into());
    }
    super::browse::act(&webview, &action)
}

/// The page's own `APP.notifications` method, chained to, rejected after the
/// call was made: recorded in the call log (Kolokol's answer is unaffected).
#[tauri::command]
async fn page_failed(app: AppHandle, webview: Webview, method: String, message: String) -> Result<(), String> {
    if api::Method::parse(&method).is_none() {
        return Err(format!("method: {:?} is not an APP.notifications method", method.chars().take(80).collect::<String>()));
    }
    let source = page_of(&app, &webview);
    let origin = links::origin_of(&source);
    if app.state::<AppState>().workbench.limit.take(&origin, 1, Instant::now()).allowed == 0 {
        return Err(ratelimit::refusal().message);
    }
    let message: String = message.chars().take(200).collect();
    workbench::record_host(&app, &source, &format!("{method} (the page's own)"), "null", "rejected", &message);
    Ok(())
}

/// The agent's answer to Kolokol's microphone/camera prompt in this page's
/// overlay; the key proves a person clicked it.
#[tauri::command]
async fn permission_answer(app: AppHandle, webview: Webview, id: u64, allow: bool, key: Option<String>) -> Result<(), String> {
    if key.as_deref() != Some(GESTURE_KEY.as_str()) {
        return Err("key: permissions are answered by a click on Kolokol's prompt only".into());
    }
    super::media::answer(&app, webview.label().to_owned(), id, allow)
}

/// `Notification.permission` for this page: "granted" on the account's origin only.
#[tauri::command]
async fn web_permission(app: AppHandle, webview: Webview) -> &'static str {
    let page = page_of(&app, &webview);
    webnotify::permission(&page, app.state::<AppState>().settings.account().as_ref())
}

/// `new Notification(title, {body, tag})`: a toast for the account's pages
/// (rate-limited with the page's other calls, held back by do-not-disturb),
/// in the call log either way. Answers the toast's id, or why not.
#[tauri::command]
async fn web_notify(app: AppHandle, webview: Webview, title: String, body: String, tag: String) -> Result<String, String> {
    let page = page_of(&app, &webview);
    let state = app.state::<AppState>();
    let payload = serde_json::json!({ "title": title.chars().take(200).collect::<String>(), "body": body.chars().take(200).collect::<String>(), "tag": tag.chars().take(200).collect::<String>() }).to_string();
    let checked = webnotify::check(&page, state.settings.account().as_ref(), &title, &body, &tag).and_then(|n| {
        if state.workbench.limit.take(&n.source, 1, Instant::now()).allowed == 0 {
            return Err(ratelimit::refusal().message);
        }
        Ok(n)
    });
    let n = match checked {
        Ok(n) => n,
        Err(e) => {
            workbench::record_host(&app, &page, "Notification", &payload, "refused", &e);
            return Err(e);
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    if state.settings.get().do_not_disturb {
        workbench::record_host(&app, &page, "Notification", &payload, "held", "do-not-disturb: no toast");
    } else {
        state.toasts.web(n, id.clone());
        workbench::record_host(&app, &page, "Notification", &payload, "toast", "shown as a toast");
    }
    Ok(id)
}

/// What crm_post's data and a telephony call's arguments may weigh in the
/// call log: the contract's payload limit.
const MAX_HOST_DATA: usize = 64 * 1024;

const HOST_CALLS: [&str; 3] = ["APP.sdk.setCallStatus", "APP.sdk.showCallHistory", "APP.widgets.notificationsPhone"];

#[tauri::command]
async fn host_call(app: AppHandle, webview: Webview, method: String, payload: String) -> Result<(), String> {
    if !HOST_CALLS.contains(&method.as_str()) {
        return Err(format!("method: {:?} is not one of {}", method.chars().take(80).collect::<String>(), HOST_CALLS.join(", ")));
    }
    if payload.len() > MAX_HOST_DATA {
        return Err(format!("payload: {} bytes; at most {MAX_HOST_DATA}", payload.len()));
    }
    let source = page_of(&app, &webview);
    let origin = links::origin_of(&source);
    if app.state::<AppState>().workbench.limit.take(&origin, 1, Instant::now()).allowed == 0 {
        return Err(ratelimit::refusal().message);
    }
    workbench::record_host(&app, &source, &method, &payload, "recorded", "Kolokol has no telephony: recorded only");
    Ok(())
}
