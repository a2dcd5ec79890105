//! Native OS toasts for the center kinds (`add_call`, `add_error`) through
//! notify-rust: freedesktop D-Bus on Linux, the AppUserModelID on Windows, the
//! bundle id on macOS. No Tauri here.
//!
//! The caller never waits: [`Toasts::show`] only enqueues. One worker thread
//! coalesces bursts and talks to the notification server; every server call
//! runs on its own short-lived thread and is given up on after [`HANG_AFTER`],
//! so a missing or hung server costs a health report, never a blocked app.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::core::api::{now_ms, Method, Notification};
use crate::channels::history::Arrived;
use crate::core::links;
use crate::core::webnotify::WebNotification;

/// Windows AppUserModelID and macOS bundle id (tauri.conf.json `identifier`).
pub const APP_ID: &str = crate::core::datadir::IDENTIFIER;
/// The name toasts are shown under.
pub const APP_NAME: &str = "Kolokol";
/// A server call slower than this counts as hung (the issue's ~2 s).
pub const HANG_AFTER: Duration = Duration::from_secs(2);
/// Unanswered server calls tolerated before toasts are dropped instead of
/// spawning yet another thread that would hang too.
const MAX_STUCK: usize = 4;
/// Commands waiting for the worker; beyond this `show` counts instead of queueing.
const QUEUE: usize = 256;
/// Toasts whose clicks and closes are watched (their registry entries).
const MAX_WATCHED: usize = 64;

/// Localised texts; `{n}` in the count templates is replaced by the number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Labels {
    pub open_card: String,
    pub open: String,
    pub recording: String,
    pub incoming_call: String,
    pub error: String,
    pub new_calls: String,
    pub new_errors: String,
    pub new_notifications: String,
    /// A page's download: done, or not.
    pub downloaded: String,
    pub download_failed: String,
    /// "Missed while away": `{n}` calls, `{n}` errors, and the body.
    pub missed_calls: String,
    pub missed_errors: String,
    pub missed_body: String,
    /// The fleet's calls: claim this one.
    pub take: String,
}

impl Labels {
    /// The labels in Kolokol's language.
    pub fn for_lang(lang: crate::core::i18n::Lang) -> Labels {
        match lang {
            crate::core::i18n::Lang::Ru => Labels::russian(),
            crate::core::i18n::Lang::En => Labels::english(),
        }
    }

    pub fn english() -> Labels {
        Labels {
            open_card: "Open card".into(),
            open: "Open".into(),
            recording: "Recording".into(),
            incoming_call: "Incoming call".into(),
            error: "Error".into(),
            new_calls: "{n} new calls".into(),
            new_errors: "{n} new errors".into(),
            new_notifications: "{n} new notifications".into(),
            downloaded: "Downloaded".into(),
            download_failed: "Download failed".into(),
            missed_calls: "Missed calls: {n}".into(),
            missed_errors: "errors: {n}".into(),
            missed_body: "While you were away. Click to see them in the history.".into(),
            take: "Take".into(),
        }
    }

    pub fn russian() -> Labels {
        Labels {
            open_card: "Открыть карточку".into(),
            open: "Открыть".into(),
            recording: "Запись".into(),
            incoming_call: "Входящий звонок".into(),
            error: "Ошибка".into(),
            new_calls: "Новых звонков: {n}".into(),
            new_errors: "Новых ошибок: {n}".into(),
            new_notifications: "Новых уведомлений: {n}".into(),
            downloaded: "Загружено".into(),
            download_failed: "Не удалось загрузить".into(),
            missed_calls: "Пропущено звонков: {n}".into(),
            missed_errors: "ошибок: {n}".into(),
            missed_body: "Пока вас не было. Нажмите, чтобы открыть их в истории.".into(),
            take: "Взять".into(),
        }
    }

    /// "3 missed calls, 12 errors"; None when nothing arrived.
    pub fn missed(&self, a: Arrived) -> Option<String> {
        let calls = (a.calls > 0).then(|| self.missed_calls.replace("{n}", &a.calls.to_string()));
        let errors = (a.errors > 0).then(|| self.missed_errors.replace("{n}", &a.errors.to_string()));
        let parts: Vec<String> = [calls, errors].into_iter().flatten().collect();
        if parts.is_empty() {
            return None;
        }
        let mut s = parts.join(", ");
        // The errors part starts lower-case to follow a calls part.
        if let Some(first) = s.chars().next() {
            s.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
        }
        Some(s)
    }

    fn count(&self, kind: Kind, n: u64) -> String {
        let template = match kind {
            Kind::Call => &self.new_calls,
            Kind::Error => &self.new_errors,
            Kind::Web => &self.new_notifications,
        };
        template.replace("{n}", &n.to_string())
    }
}

/// A click on a toast and what it opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ToastAction {
    pub notification_id: String,
    /// `default` (the body), `card`, `recording`, or `take` (a fleet call).
    pub action: String,
    pub opens: Opens,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Opens {
    /// An absolute http(s) address, in the user's browser.
    Link(String),
    /// The history window on the rows written after this seq ("missed while away").
    History { after_seq: i64 },
    /// The workspace page of this origin, which made the Web Notification.
    Page { source: String },
    /// *Take*: claim this call of the call center's fleet (its tag).
    Take { tag: String },
    /// A downloaded file, in the system's app for it.
    File { path: std::path::PathBuf },
}

/// The notification id the "missed while away" summary reports its click under.
pub const AWAY_ID: &str = "away-summary";

#[derive(Clone, Debug, Default, Serialize)]
pub struct ToastHealth {
    pub available: bool,
    /// Why toasts cannot be shown, when `available` is false.
    pub reason: Option<String>,
    /// The server as it names itself (`dunst 1.9.0`), once probed.
    pub server: Option<String>,
    /// Individual toasts the server accepted.
    pub shown: u64,
    /// Summary toasts ("12 new errors") the server accepted.
    pub summaries: u64,
    /// Notifications folded into a summary instead of a toast of their own.
    pub coalesced: u64,
    /// Of `coalesced`, those that found the queue full.
    pub overflowed: u64,
    /// Toasts the server refused, or that were dropped while it was hung.
    pub failed: u64,
    /// Folded notifications whose summary is still to come.
    pub pending: u64,
    /// Wall clock (ms since the epoch) of the last accepted toast.
    pub last_sent_ms: Option<i64>,
}

/// What became of one notification's toast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The Notify call returned at this moment.
    Sent(Instant),
    /// Folded into a "N more" summary by the burst limit.
    Coalesced,
    /// The queue was full; counted into a summary.
    QueueFull,
    Failed(String),
}

/// Called with a notification id and what became of its toast.
pub type DeliveryHook = Arc<dyn Fn(&str, Delivery) + Send + Sync>;
type OnAction = Box<dyn Fn(ToastAction) + Send + Sync>;

/// The toast channel. Cheap to clone; the worker stops when the last clone is dropped.
#[derive(Clone)]
pub struct Toasts {
    tx: SyncSender<Cmd>,
    shared: Arc<Shared>,
}

enum Cmd {
    Show(Box<Notification>),
    Web(Box<WebNotification>, String),
    Download(String, std::path::PathBuf, bool),
    Dismiss(String),
    Away(Arrived, i64),
}

struct Shared {
    health: Mutex<ToastHealth>,
    labels: Mutex<Labels>,
    registry: Mutex<Registry>,
    on_action: OnAction,
    delivery_hook: Mutex<Option<DeliveryHook>>,
    /// Notifications per kind that found the queue full; the worker folds them in.
    overflow: [AtomicU64; KINDS],
    /// Server calls given up on and still running.
    stuck: Arc<AtomicUsize>,
    next_gen: AtomicU64,
}

impl Shared {
    fn delivered(&self, id: &str, d: Delivery) {
        let hook = lock(&self.delivery_hook).clone();
        if let Some(hook) = hook {
            hook(id, d);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Toasts {
    pub fn start(labels: Labels, on_action: impl Fn(ToastAction) + Send + Sync + 'static) -> Toasts {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            health: Mutex::new(ToastHealth {
                reason: Some("the notification server has not been checked yet".into()),
                ..ToastHealth::default()
            }),
            labels: Mutex::new(labels),
            registry: Mutex::new(Registry::default()),
            on_action: Box::new(on_action),
            delivery_hook: Mutex::new(None),
            overflow: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            stuck: Arc::new(AtomicUsize::new(0)),
            next_gen: AtomicU64::new(1),
        });
        let worker = Worker {
            shared: shared.clone(),
            coalescer: Coalescer::default(),
            summary_ids: [None; KINDS],
            away_id: None,
            body_markup: true,
        };
        thread::Builder::new()
            .name("kolokol-toasts".into())
            .spawn(move || worker.run(rx))
            .expect("spawn the toast worker");
        Toasts { tx, shared }
    }

    /// Queues a toast for `add_call` / `add_error`; other methods have none.
    /// Never blocks: a full queue is counted and summarised.
    pub fn show(&self, n: &Notification) {
        let Some(kind) = Kind::of(n.method) else { return };
        match self.tx.try_send(Cmd::Show(Box::new(n.clone()))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.overflow[kind as usize].fetch_add(1, Ordering::Relaxed);
                self.shared.delivered(&n.id, Delivery::QueueFull);
            }
            Err(TrySendError::Disconnected(_)) => lock(&self.shared.health).failed += 1,
        }
    }

    /// A page's Web Notification, `id` its Kolokol id. Never blocks; a full
    /// queue is counted and summarised like the center's.
    pub fn web(&self, n: WebNotification, id: String) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(Cmd::Web(Box::new(n), id)) {
            self.shared.overflow[Kind::Web as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A page's download ended: "Downloaded" and the file's name (a click
    /// opens it), or "Download failed". Never blocks.
    pub fn download(&self, name: String, path: std::path::PathBuf, ok: bool) {
        if self.tx.try_send(Cmd::Download(name, path, ok)).is_err() {
            tracing::warn!("toast queue full; the download's toast was dropped");
        }
    }

    /// One "missed while away" summary for what arrived after `after_seq`
    /// (nothing when nothing arrived); a click opens those rows in the history.
    /// It replaces the previous one. Never blocks.
    pub fn away(&self, arrived: Arrived, after_seq: i64) {
        if self.tx.try_send(Cmd::Away(arrived, after_seq)).is_err() {
            tracing::warn!("toast queue full; the missed-while-away summary was dropped");
        }
    }

    /// Closes the toast of a notification id or a tag (a call that was
    /// answered), among the toasts of `source` only.
    pub fn dismiss(&self, source: &str, id_or_tag: &str) {
        if self.tx.try_send(Cmd::Dismiss(key(source, id_or_tag))).is_err() {
            tracing::warn!(id_or_tag, "toast queue full; dismiss dropped");
        }
    }

    pub fn health(&self) -> ToastHealth {
        lock(&self.shared.health).clone()
    }

    pub fn set_labels(&self, labels: Labels) {
        *lock(&self.shared.labels) = labels;
    }

    /// Called on the worker side with each toast's outcome (the workbench's
    /// call log; benchmarks time `Sent`).
    pub fn set_delivery_hook(&self, hook: impl Fn(&str, Delivery) + Send + Sync + 'static) {
        *lock(&self.shared.delivery_hook) = Some(Arc::new(hook));
    }
}

/// Windows shows toasts of an unpackaged (portable) app only when its
/// AppUserModelID is registered; the installer's shortcut does it too, this
/// covers a copied .exe. Per user, no admin rights. Cross-built and unit-tested
/// under wine by the test command, natively by the workflows.
#[cfg(windows)]
pub fn register_app_id(display_name: &str) -> std::io::Result<()> {
    use winreg::enums::HKEY_CURRENT_USER;
    register_app_id_in(&winreg::RegKey::predef(HKEY_CURRENT_USER), display_name)
}

/// [`register_app_id`] under `root` (HKEY_CURRENT_USER, or a test's own key).
#[cfg(windows)]
fn register_app_id_in(root: &winreg::RegKey, display_name: &str) -> std::io::Result<()> {
    let (key, _) = root.create_subkey(app_id_key())?;
    key.set_value("DisplayName", &display_name.to_string())?;
    Ok(())
}

/// Where Windows looks up an AppUserModelID's name, under the user's hive.
pub fn app_id_key() -> String {
    format!(r"Software\Classes\AppUserModelId\{APP_ID}")
}

// ---------------------------------------------------------------------------
// Coalescing: a pure decision with the clock passed in.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Call = 0,
    Error = 1,
    /// A page's Web Notification (`new Notification(...)`).
    Web = 2,
}

const KINDS: usize = 3;

impl Kind {
    const ALL: [Kind; KINDS] = [Kind::Call, Kind::Error, Kind::Web];

    fn of(m: Method) -> Option<Kind> {
        match m {
            Method::AddCall => Some(Kind::Call),
            Method::AddError => Some(Kind::Error),
            _ => None,
        }
    }
}

/// Individual toasts allowed per kind within [`BURST_WINDOW`].
pub const BURST: usize = 3;
/// A burst ends after this long without an individual toast or a folded one.
pub const BURST_WINDOW: Duration = Duration::from_secs(10);
/// At most one summary per kind this often.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub kind: Kind,
    /// Folded since the previous summary.
    pub new: u64,
    /// Folded in this burst so far: what the (replacing) summary toast says.
    pub total: u64,
}

#[derive(Default)]
pub struct Coalescer {
    kinds: [KindState; KINDS],
}

#[derive(Default)]
struct KindState {
    recent: VecDeque<Instant>,
    pending: u64,
    burst_total: u64,
    last_toast: Option<Instant>,
    last_fold: Option<Instant>,
}

impl Coalescer {
    /// True when this notification gets its own toast; false when it is folded
    /// into the next summary.
    pub fn offer(&mut self, kind: Kind, now: Instant) -> bool {
        let k = &mut self.kinds[kind as usize];
        while k.recent.front().is_some_and(|t| now.duration_since(*t) >= BURST_WINDOW) {
            k.recent.pop_front();
        }
        if k.pending == 0 && k.last_fold.is_none_or(|t| now.duration_since(t) >= BURST_WINDOW) {
            k.burst_total = 0;
        }
        // Once folding started, stay in summaries until the burst is over, so
        // counts and single toasts never interleave.
        if k.pending == 0 && k.burst_total == 0 && k.recent.len() < BURST {
            k.recent.push_back(now);
            k.last_toast = Some(now);
            true
        } else {
            self.fold(kind, 1, now);
            false
        }
    }

    /// Folds `n` notifications that never reached [`offer`](Self::offer) (queue overflow).
    pub fn fold(&mut self, kind: Kind, n: u64, now: Instant) {
        let k = &mut self.kinds[kind as usize];
        k.pending += n;
        k.last_fold = Some(now);
    }

    /// The summaries to show now.
    pub fn due(&mut self, now: Instant) -> Vec<Summary> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            let k = &mut self.kinds[kind as usize];
            if k.pending > 0 && k.last_toast.is_none_or(|t| now.duration_since(t) >= SUMMARY_EVERY) {
                k.burst_total += k.pending;
                out.push(Summary { kind, new: k.pending, total: k.burst_total });
                k.pending = 0;
                k.last_toast = Some(now);
            }
        }
        out
    }

    /// When [`due`](Self::due) will next have something, if anything is pending.
    pub fn next_due(&self) -> Option<Instant> {
        self.kinds
            .iter()
            .filter(|k| k.pending > 0)
            .map(|k| k.last_toast.map_or_else(Instant::now, |t| t + SUMMARY_EVERY))
            .min()
    }

    pub fn pending(&self) -> u64 {
        self.kinds.iter().map(|k| k.pending).sum()
    }
}

// ---------------------------------------------------------------------------
// Text and links.

/// Servers with `body-markup` parse the body, so plain text must be escaped
/// (freedesktop servers only: Windows and macOS take plain text).
#[cfg(any(test, all(unix, not(target_os = "macos"))))]
fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The href itself when it may leave the app (see [`links::openable`]).
pub fn openable(href: &str) -> Option<&str> {
    links::openable(href).ok().map(|_| href)
}

/// What a toast's actions open.
#[derive(Clone, Debug, Default)]
struct Targets {
    default: Option<String>,
    card: Option<String>,
    recording: Option<String>,
    /// A Web Notification's click goes back to its page.
    page: Option<String>,
    /// A download's click opens the file.
    file: Option<std::path::PathBuf>,
    /// The tag of a call from the call center's fleet, which an agent may take.
    take: Option<String>,
}

/// The source of the call center's calls (`ingress/fleet.rs`): their toasts offer *Take*.
const FLEET_SOURCE: &str = "fleet:";

impl Targets {
    fn href(&self, action: &str) -> Option<&str> {
        match action {
            "default" => self.default.as_deref(),
            "card" => self.card.as_deref(),
            "recording" => self.recording.as_deref(),
            _ => None,
        }
    }

    fn opens(&self, action: &str) -> Option<Opens> {
        if action == "take" {
            return self.take.clone().map(|tag| Opens::Take { tag });
        }
        if let (Some(path), "default") = (&self.file, action) {
            return Some(Opens::File { path: path.clone() });
        }
        if let (Some(source), "default") = (&self.page, action) {
            return Some(Opens::Page { source: source.clone() });
        }
        self.href(action).and_then(openable).map(|h| Opens::Link(h.to_owned()))
    }
}

/// Summary, body and actions of one toast, platform-neutral.
struct Content {
    kind: Kind,
    summary: String,
    body: String,
    /// (action key, label); `default` is the click on the body.
    actions: Vec<(&'static str, String)>,
    targets: Targets,
}

fn content(n: &Notification, kind: Kind, labels: &Labels) -> Content {
    let plain = |s: &Option<String>| s.as_deref().map(crate::core::html::to_text).filter(|s| !s.is_empty());
    let href = |l: &Option<links::Link>| {
        l.as_ref().and_then(|l| l.href.as_deref()).and_then(openable).map(str::to_owned)
    };
    let (header, text) = (plain(&n.header), plain(&n.text));
    let click = href(&n.click);
    let mut targets = Targets { default: click.clone(), ..Targets::default() };
    let mut actions = Vec::new();
    let (summary, lines) = match kind {
        Kind::Call => {
            let parties = match (n.from.as_deref(), n.to.as_deref()) {
                (Some(f), Some(t)) => Some(format!("{f} → {t}")),
                (Some(f), None) => Some(f.to_owned()),
                (None, Some(t)) => Some(format!("→ {t}")),
                (None, None) => None,
            };
            if click.is_some() {
                actions.push(("default", labels.open_card.clone()));
                actions.push(("card", labels.open_card.clone()));
                targets.card = click;
            }
            targets.recording = href(&n.recording);
            if targets.recording.is_some() {
                actions.push(("recording", labels.recording.clone()));
            }
            if n.source.starts_with(FLEET_SOURCE) && n.tag.as_deref().is_some_and(|t| t.starts_with(FLEET_SOURCE)) {
                actions.push(("take", labels.take.clone()));
                targets.take = n.tag.clone();
            }
            (header.unwrap_or_else(|| labels.incoming_call.clone()), [parties, text])
        }
        // A center notification is never Web (see Kind::of).
        Kind::Error | Kind::Web => {
            if click.is_some() {
                actions.push(("default", labels.open.clone()));
            }
            (header.unwrap_or_else(|| labels.error.clone()), [text, None])
        }
    };
    let body = lines.into_iter().flatten().collect::<Vec<_>>().join("\n");
    Content { kind, summary, body, actions, targets }
}

// ---------------------------------------------------------------------------
// Shown toasts: server id -> what its actions open, for the action watchers.

#[derive(Default)]
struct Registry {
    live: HashMap<u32, Live>,
    /// [`key`]s of notification ids and tags -> server id.
    keys: HashMap<String, u32>,
}

/// An id or tag as the registry knows it: within its source, so one sender
/// can neither replace nor dismiss another's toast.
fn key(source: &str, id_or_tag: &str) -> String {
    format!("{source}\n{id_or_tag}")
}

struct Live {
    /// A replaced toast keeps its server id; only the newest watcher reports.
    generation: u64,
    notification_id: String,
    keys: Vec<String>,
    targets: Targets,
    closer: Option<os::Closer>,
}

impl Registry {
    fn remove(&mut self, server_id: u32) -> Option<Live> {
        let live = self.live.remove(&server_id)?;
        for k in &live.keys {
            if self.keys.get(k) == Some(&server_id) {
                self.keys.remove(k);
            }
        }
        Some(live)
    }
}

// ---------------------------------------------------------------------------
// Guarded server calls.

enum Outcome<T> {
    Done(T),
    /// No answer within [`HANG_AFTER`]; the call keeps running on its own thread.
    Hung,
    /// Too many calls are already hung; this one was not attempted.
    Busy,
}

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

fn guarded<T: Send + 'static>(stuck: &Arc<AtomicUsize>, f: impl FnOnce() -> T + Send + 'static) -> Outcome<T> {
    if stuck.load(Ordering::SeqCst) >= MAX_STUCK {
        return Outcome::Busy;
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (thread_state, thread_stuck) = (state.clone(), stuck.clone());
    let spawned = thread::Builder::new().name("kolokol-toast-call".into()).spawn(move || {
        let _ = tx.send(f());
        if thread_state.swap(FINISHED, Ordering::SeqCst) == ABANDONED {
            thread_stuck.fetch_sub(1, Ordering::SeqCst);
        }
    });
    if spawned.is_err() {
        return Outcome::Busy;
    }
    match rx.recv_timeout(HANG_AFTER) {
        Ok(v) => Outcome::Done(v),
        Err(_) => {
            // Counted before marking, so a thread finishing right now never
            // decrements below zero.
            stuck.fetch_add(1, Ordering::SeqCst);
            if state.swap(ABANDONED, Ordering::SeqCst) == FINISHED {
                stuck.fetch_sub(1, Ordering::SeqCst);
                if let Ok(v) = rx.try_recv() {
                    return Outcome::Done(v);
                }
            }
            Outcome::Hung
        }
    }
}

// ---------------------------------------------------------------------------
// The worker.

struct Worker {
    shared: Arc<Shared>,
    coalescer: Coalescer,
    /// Server ids of the current summary toasts, replaced by the next summary.
    summary_ids: [Option<u32>; KINDS],
    /// Server id of the last "missed while away" summary, replaced by the next.
    away_id: Option<u32>,
    body_markup: bool,
}


impl Worker {
    fn run(mut self, rx: Receiver<Cmd>) {
        os::init();
        self.probe();
        loop {
            let wait = self
                .coalescer
                .next_due()
                .map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
            match rx.recv_timeout(wait) {
                Ok(Cmd::Show(n)) => self.show(&n),
                Ok(Cmd::Web(n, id)) => self.show_web(&n, &id),
                Ok(Cmd::Download(name, path, ok)) => self.show_download(&name, path, ok),
                Ok(Cmd::Dismiss(key)) => self.dismiss(&key),
                Ok(Cmd::Away(arrived, after_seq)) => self.away(arrived, after_seq),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = Instant::now();
            let mut overflowed = 0;
            for kind in Kind::ALL {
                let n = self.shared.overflow[kind as usize].swap(0, Ordering::Relaxed);
                if n > 0 {
                    self.coalescer.fold(kind, n, now);
                    overflowed += n;
                }
            }
            if overflowed > 0 {
                let mut h = lock(&self.shared.health);
                h.overflowed += overflowed;
                h.coalesced += overflowed;
            }
            for s in self.coalescer.due(now) {
                self.summary(s);
            }
            lock(&self.shared.health).pending = self.coalescer.pending();
        }
    }

    fn probe(&mut self) {
        match guarded(&self.shared.stuck, os::probe) {
            Outcome::Done(Ok((server, markup))) => {
                self.body_markup = markup;
                let mut h = lock(&self.shared.health);
                h.available = true;
                h.reason = None;
                h.server = Some(server);
            }
            Outcome::Done(Err(e)) => self.unavailable(send_error_reason(&e)),
            Outcome::Hung | Outcome::Busy => self.unavailable(hung_reason()),
        }
    }

    fn unavailable(&self, reason: String) {
        let mut h = lock(&self.shared.health);
        if h.available || h.reason.as_deref() != Some(&reason) {
            tracing::warn!(%reason, "toast channel unavailable");
        }
        h.available = false;
        h.reason = Some(reason);
    }

    fn show(&mut self, n: &Notification) {
        let Some(kind) = Kind::of(n.method) else { return };
        let replaces = {
            let reg = lock(&self.shared.registry);
            [Some(&n.id), n.tag.as_ref()].into_iter().flatten().find_map(|k| reg.keys.get(&key(&n.source, k)).copied())
        };
        // A replacement adds nothing to the screen, so it skips the burst limit.
        if replaces.is_none() && !self.coalescer.offer(kind, Instant::now()) {
            lock(&self.shared.health).coalesced += 1;
            self.shared.delivered(&n.id, Delivery::Coalesced);
            return;
        }
        let c = content(n, kind, &lock(&self.shared.labels));
        let Some(sent) = self.send(&c, replaces) else {
            let reason = lock(&self.shared.health).reason.clone().unwrap_or_else(|| "not shown".into());
            self.shared.delivered(&n.id, Delivery::Failed(reason));
            return;
        };
        lock(&self.shared.health).shown += 1;
        self.shared.delivered(&n.id, Delivery::Sent(sent.at));
        self.watch(&n.source, &n.id, n.tag.as_deref(), c.targets, sent);
    }

    fn show_download(&mut self, name: &str, path: std::path::PathBuf, ok: bool) {
        let labels = lock(&self.shared.labels).clone();
        let c = Content {
            kind: Kind::Web,
            summary: if ok { labels.downloaded.clone() } else { labels.download_failed.clone() },
            body: name.to_owned(),
            actions: if ok { vec![("default", labels.open.clone())] } else { Vec::new() },
            targets: Targets { file: ok.then_some(path), ..Targets::default() },
        };
        let Some(sent) = self.send(&c, None) else { return };
        lock(&self.shared.health).shown += 1;
        let id = format!("download-{}", sent.server_id);
        self.watch("downloads", &id, None, c.targets, sent);
    }

    fn show_web(&mut self, n: &WebNotification, id: &str) {
        let replaces = n.tag.as_ref().and_then(|t| lock(&self.shared.registry).keys.get(&key(&n.source, t)).copied());
        if replaces.is_none() && !self.coalescer.offer(Kind::Web, Instant::now()) {
            lock(&self.shared.health).coalesced += 1;
            return;
        }
        let labels = lock(&self.shared.labels).clone();
        // The page's address under its text: the agent sees who is talking.
        let from = n.source.split_once("://").map_or(n.source.as_str(), |(_, h)| h);
        let body = if n.body.is_empty() { from.to_owned() } else { format!("{}\n{from}", n.body) };
        let c = Content {
            kind: Kind::Web,
            summary: if n.title.is_empty() { labels.open.clone() } else { n.title.clone() },
            body,
            actions: vec![("default", labels.open.clone())],
            targets: Targets { page: Some(n.source.clone()), ..Targets::default() },
        };
        let Some(sent) = self.send(&c, replaces) else { return };
        lock(&self.shared.health).shown += 1;
        self.watch(&n.source, id, n.tag.as_deref(), c.targets, sent);
    }

    fn summary(&mut self, s: Summary) {
        let labels = lock(&self.shared.labels).clone();
        let c = Content {
            kind: s.kind,
            summary: labels.count(s.kind, s.total),
            body: String::new(),
            actions: Vec::new(),
            targets: Targets::default(),
        };
        if let Some(sent) = self.send(&c, self.summary_ids[s.kind as usize]) {
            self.summary_ids[s.kind as usize] = Some(sent.server_id);
            lock(&self.shared.health).summaries += 1;
        }
    }

    fn away(&mut self, arrived: Arrived, after_seq: i64) {
        let labels = lock(&self.shared.labels).clone();
        let Some(summary) = labels.missed(arrived) else { return };
        let c = Content {
            // Normal urgency: it stays in the server's history, it does not ring.
            kind: Kind::Error,
            summary,
            body: labels.missed_body.clone(),
            actions: vec![("default", labels.open.clone())],
            targets: Targets::default(),
        };
        let Some(sent) = self.send(&c, self.away_id) else { return };
        self.away_id = Some(sent.server_id);
        lock(&self.shared.health).summaries += 1;
        let shared = self.shared.clone();
        os::watch(sent, move |action: &str| {
            if action == "default" {
                (shared.on_action)(ToastAction {
                    notification_id: AWAY_ID.into(),
                    action: action.into(),
                    opens: Opens::History { after_seq },
                });
            }
        });
    }

    /// Sends one toast under the hang guard and updates health.
    fn send(&mut self, c: &Content, replaces: Option<u32>) -> Option<os::Sent> {
        let toast = os::build(c, replaces, self.body_markup);
        match guarded(&self.shared.stuck, move || os::send(&toast)) {
            Outcome::Done(Ok(sent)) => {
                let mut h = lock(&self.shared.health);
                if !h.available {
                    tracing::info!("toast channel available again");
                }
                h.available = true;
                h.reason = None;
                h.last_sent_ms = Some(now_ms());
                Some(sent)
            }
            Outcome::Done(Err(e)) => {
                lock(&self.shared.health).failed += 1;
                self.unavailable(send_error_reason(&e));
                None
            }
            Outcome::Hung | Outcome::Busy => {
                lock(&self.shared.health).failed += 1;
                self.unavailable(hung_reason());
                None
            }
        }
    }

    /// Registers a shown toast and, when it has actions, watches for clicks.
    fn watch(&mut self, source: &str, id: &str, tag: Option<&str>, targets: Targets, sent: os::Sent) {
        let server_id = sent.server_id;
        let generation = self.shared.next_gen.fetch_add(1, Ordering::Relaxed);
        let mut reg = lock(&self.shared.registry);
        let mut keys = reg.remove(server_id).map(|old| old.keys).unwrap_or_default();
        if reg.live.len() >= MAX_WATCHED {
            tracing::warn!("{MAX_WATCHED} toasts open; this one can be neither clicked through nor dismissed");
            return;
        }
        for k in [Some(id), tag].into_iter().flatten().map(|k| key(source, k)) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for k in &keys {
            reg.keys.insert(k.clone(), server_id);
        }
        let shared = self.shared.clone();
        let closer = os::watch(sent, move |action: &str| {
            tracing::debug!(server_id, action, "toast action");
            let live = {
                let mut reg = lock(&shared.registry);
                match reg.live.get(&server_id) {
                    Some(l) if l.generation == generation => reg.remove(server_id),
                    _ => None, // replaced: the newer watcher reports
                }
            };
            let Some(live) = live else { return };
            if let Some(opens) = live.targets.opens(action) {
                (shared.on_action)(ToastAction { notification_id: live.notification_id.clone(), action: action.to_owned(), opens });
            }
        });
        reg.live.insert(
            server_id,
            Live { generation, notification_id: id.to_owned(), keys, targets, closer },
        );
    }

    fn dismiss(&mut self, key: &str) {
        let live = {
            let mut reg = lock(&self.shared.registry);
            let id = reg.keys.get(key).copied();
            id.and_then(|id| reg.remove(id))
        };
        if let Some(closer) = live.and_then(|l| l.closer) {
            if let Outcome::Hung | Outcome::Busy = guarded(&self.shared.stuck, move || os::close(&closer)) {
                self.unavailable(hung_reason());
            }
        }
    }
}

/// Tells "nobody is there" (no bus, no daemon on it) from a server that said no.
fn send_error_reason(e: &str) -> String {
    let absent = ["ServiceUnknown", "NameHasNoOwner", "connect", "No such file", "DBUS_SESSION_BUS_ADDRESS"];
    if absent.iter().any(|a| e.contains(a)) {
        format!("no notification server: {e}")
    } else {
        format!("the notification server refused the toast: {e}")
    }
}

fn hung_reason() -> String {
    format!("the notification server did not answer within {} s", HANG_AFTER.as_secs())
}

// ---------------------------------------------------------------------------
// Platforms.

#[cfg(all(unix, not(target_os = "macos")))]
mod os {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::time::Instant;

    use notify_rust::{Timeout, Urgency};
    use zbus::blocking::{fdo::DBusProxy, Connection, MessageIterator};
    use zbus::message::{Flags, Message, Type};
    use zbus::names::{BusName, OwnedUniqueName};
    use zbus::zvariant::Value;
    use zbus::MatchRule;

    use super::{lock, Content, Kind, APP_NAME};

    const SERVER: &str = "org.freedesktop.Notifications";
    const PATH: &str = "/org/freedesktop/Notifications";

    /// The toast's server id: closed over the shared connection.
    pub type Closer = u32;

    pub struct Sent {
        pub server_id: u32,
        pub at: Instant,
    }

    /// What `Notify` takes (notify-rust's builder hides the id it replaces).
    pub struct Toast {
        pub summary: String,
        pub body: String,
        /// Key, label, key, label…
        pub actions: Vec<String>,
        pub urgency: Urgency,
        pub category: &'static str,
        pub timeout: Timeout,
        replaces: u32,
    }

    type OnAction = Box<dyn FnOnce(&str) + Send>;

    /// One session-bus connection for every toast, and one thread that hands
    /// the server's `ActionInvoked` / `NotificationClosed` to the toast's
    /// watcher. notify-rust opens a connection per toast, and a watched toast
    /// kept it, with a thread of ours and one of zbus's, until it was closed:
    /// calls stay on screen until the agent closes them, so an agent's app
    /// held up to 64 of each, and every one woke for every other toast's
    /// signal. Some servers signal only the connection that sent the toast;
    /// this one sent them all.
    /// Shared as an `Arc`, which tells one connection from its successor.
    static BUS: Mutex<Option<Arc<Connection>>> = Mutex::new(None);
    /// By server id; outlives a connection, as most servers signal every one.
    static WATCHERS: Mutex<BTreeMap<u32, OnAction>> = Mutex::new(BTreeMap::new());
    /// Above the registry's own limit, which the away summary is outside of.
    const MAX_WATCHERS: usize = 4 * super::MAX_WATCHED;

    /// The shared connection, opened (with its listener) on first use and
    /// again after the bus went away.
    fn bus() -> Result<Arc<Connection>, String> {
        let mut slot = lock(&BUS);
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = Connection::session().map_err(|e| e.to_string())?;
        // The server's signals only; the owner is checked again per signal,
        // as the bus daemon resolves a well-known sender and zbus cannot.
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(SERVER)
            .and_then(|r| r.path(PATH))
            .and_then(|r| r.interface(SERVER))
            .map(|r| r.build())
            .map_err(|e| e.to_string())?;
        let signals = MessageIterator::for_match_rule(rule, &conn, Some(256)).map_err(|e| e.to_string())?;
        let conn = Arc::new(conn);
        let listener = conn.clone();
        thread::Builder::new()
            .name("kolokol-toast-signals".into())
            .spawn(move || listen(&listener, signals))
            .map_err(|e| e.to_string())?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Until the connection closes: each signal goes to its toast's watcher,
    /// once. A click is followed by a close (dunst leaves the toast up).
    fn listen(conn: &Arc<Connection>, signals: MessageIterator) {
        let mut owner: Option<OwnedUniqueName> = None;
        for msg in signals {
            let Ok(msg) = msg else { continue };
            let header = msg.header();
            let Some(sender) = header.sender().map(|s| s.to_owned()) else { continue };
            if owner.as_ref().map(|o| o.as_str()) != Some(sender.as_str()) {
                // First signal, or the server restarted: ask who owns the name now.
                owner = DBusProxy::new(conn)
                    .ok()
                    .and_then(|p| p.get_name_owner(BusName::from_static_str(SERVER).ok()?).ok());
                if owner.as_ref().map(|o| o.as_str()) != Some(sender.as_str()) {
                    continue;
                }
            }
            let body = msg.body();
            let (id, action) = match header.member().map(|m| m.as_str()) {
                Some("ActionInvoked") => match body.deserialize::<(u32, String)>() {
                    Ok(v) => v,
                    Err(_) => continue,
                },
                Some("NotificationClosed") => match body.deserialize::<(u32, u32)>() {
                    Ok((id, _reason)) => (id, "__closed".to_owned()),
                    Err(_) => continue,
                },
                _ => continue,
            };
            let Some(on) = lock(&WATCHERS).remove(&id) else { continue };
            on(&action);
            if action != "__closed" {
                let _ = close_on(conn, id);
            }
        }
        tracing::info!("the session bus closed the toasts' connection; the next toast reconnects");
        forget(conn);
    }

    /// Asks the server to close a toast without waiting for its answer, so a
    /// hung server cannot block the listener.
    fn close_on(conn: &Connection, id: u32) -> zbus::Result<()> {
        let msg = Message::method_call(PATH, "CloseNotification")?
            .destination(SERVER)?
            .interface(SERVER)?
            .with_flags(Flags::NoReplyExpected)?
            .build(&(id,))?;
        conn.send(&msg)
    }

    /// A method call on the shared connection. A broken connection (the bus
    /// restarted) is closed and the call tried once more on a new one; any
    /// other error, such as the server's own answer, is final.
    fn call<R>(method: &str, body: &R) -> Result<zbus::Message, String>
    where
        R: serde::Serialize + zbus::zvariant::DynamicType,
    {
        let mut retried = false;
        loop {
            let conn = bus()?;
            match conn.call_method(Some(SERVER), PATH, Some(SERVER), method, body) {
                Ok(reply) => return Ok(reply),
                Err(e @ zbus::Error::InputOutput(_)) => {
                    forget(&conn);
                    if retried {
                        return Err(e.to_string());
                    }
                    retried = true;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// A broken connection is closed and dropped (its listener ends with it),
    /// unless a newer one has replaced it already.
    fn forget(conn: &Arc<Connection>) {
        let mut slot = lock(&BUS);
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *slot = None;
        }
        drop(slot);
        let _ = Connection::clone(conn).close();
    }

    pub fn init() {}

    /// The server's name and whether it parses markup in bodies.
    pub fn probe() -> Result<(String, bool), String> {
        let (name, _vendor, version, _spec): (String, String, String, String) =
            call("GetServerInformation", &())?.body().deserialize().map_err(|e| e.to_string())?;
        let caps: Vec<String> = call("GetCapabilities", &())?.body().deserialize().map_err(|e| e.to_string())?;
        Ok((format!("{name} {version}"), caps.iter().any(|c| c == "body-markup")))
    }

    pub fn build(c: &Content, replaces: Option<u32>, body_markup: bool) -> Toast {
        // A server that parses markup (dunst does, with `markup = full`) parses
        // the summary too, so a header like `&lt;span size="xx-large"&gt;`
        // (decoded to markup by the HTML-to-text step) must reach it escaped.
        let text = |s: &str| if body_markup { super::escape_markup(s) } else { s.to_owned() };
        let (urgency, category, timeout) = match c.kind {
            Kind::Call => (Urgency::Critical, "call.incoming", Timeout::Never),
            Kind::Error => (Urgency::Normal, "im.error", Timeout::Default),
            Kind::Web => (Urgency::Normal, "im.received", Timeout::Default),
        };
        Toast {
            summary: text(&c.summary),
            body: text(&c.body),
            actions: c.actions.iter().flat_map(|(key, label)| [(*key).to_owned(), label.clone()]).collect(),
            urgency,
            category,
            timeout,
            replaces: replaces.unwrap_or(0),
        }
    }

    pub fn send(t: &Toast) -> Result<Sent, String> {
        let hints = HashMap::from([("urgency", Value::U8(t.urgency as u8)), ("category", Value::from(t.category))]);
        let body = (APP_NAME, t.replaces, "", &t.summary, &t.body, &t.actions, hints, i32::from(t.timeout));
        let server_id: u32 = call("Notify", &body)?.body().deserialize().map_err(|e| e.to_string())?;
        Ok(Sent { server_id, at: Instant::now() })
    }

    /// `on` gets the action key, or `__closed`, once; a toast that replaces
    /// this one (same server id) takes its place. Nothing is waited for here:
    /// the connection that sent the toast is already listening.
    pub fn watch(sent: Sent, on: impl FnOnce(&str) + Send + 'static) -> Option<Closer> {
        let mut watchers = lock(&WATCHERS);
        // Toasts a restarted server forgot never signal: the oldest ids go.
        while watchers.len() >= MAX_WATCHERS {
            watchers.pop_first();
        }
        watchers.insert(sent.server_id, Box::new(on));
        Some(sent.server_id)
    }

    pub fn close(id: &Closer) {
        let _ = call("CloseNotification", &(*id,));
    }

    #[cfg(test)]
    pub fn watching(ids: std::ops::Range<u32>) -> Vec<u32> {
        lock(&WATCHERS).range(ids).map(|(id, _)| *id).collect()
    }
}

/// Windows and macOS: compile-checked only. Toasts show and report clicks;
/// replacing and dismissing need the XDG server id and are skipped.
#[cfg(not(all(unix, not(target_os = "macos"))))]
mod os {
    use std::thread;
    use std::time::Instant;

    use super::{Content, Kind};

    pub type Closer = std::convert::Infallible;

    pub struct Sent {
        pub server_id: u32,
        pub at: Instant,
        handle: notify_rust::NotificationHandle,
    }

    pub fn init() {
        // The bundle id decides the icon and the Notification Center entry.
        #[cfg(target_os = "macos")]
        let _ = notify_rust::set_application(super::APP_ID);
    }

    pub fn probe() -> Result<(String, bool), String> {
        Ok((std::env::consts::OS.to_owned(), false))
    }

    pub fn build(c: &Content, _replaces: Option<u32>, _body_markup: bool) -> notify_rust::Notification {
        let mut n = notify_rust::Notification::new();
        n.appname(super::APP_NAME).summary(&c.summary).body(&c.body);
        #[cfg(target_os = "windows")]
        {
            n.app_id(super::APP_ID);
            n.urgency(match c.kind {
                Kind::Call => notify_rust::Urgency::Critical,
                Kind::Error | Kind::Web => notify_rust::Urgency::Normal,
            });
        }
        if c.kind == Kind::Call {
            n.timeout(notify_rust::Timeout::Never);
        }
        for (key, label) in &c.actions {
            n.action(key, label);
        }
        n
    }

    pub fn send(n: &notify_rust::Notification) -> Result<Sent, String> {
        let handle = n.show().map_err(|e| e.to_string())?;
        Ok(Sent { server_id: 0, at: Instant::now(), handle })
    }

    pub fn watch(sent: Sent, on: impl FnOnce(&str) + Send + 'static) -> Option<Closer> {
        let handle = sent.handle;
        let _ = thread::Builder::new().spawn(move || handle.wait_for_action(on));
        None
    }

    pub fn close(closer: &Closer) {
        match *closer {}
    }
}

/// The router delivers center notifications here after they are stored.
impl crate::core::router::Channel for Toasts {
    fn name(&self) -> &'static str {
        "toast"
    }
    fn deliver(&self, n: &Notification) {
        self.show(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missed_summary_names_what_arrived_in_each_language() {
        let (en, ru) = (Labels::english(), Labels::russian());
        assert_eq!(en.missed(Arrived { calls: 3, errors: 12 }).as_deref(), Some("Missed calls: 3, errors: 12"));
        assert_eq!(en.missed(Arrived { calls: 0, errors: 2 }).as_deref(), Some("Errors: 2"));
        assert_eq!(ru.missed(Arrived { calls: 1, errors: 0 }).as_deref(), Some("Пропущено звонков: 1"));
        assert_eq!(ru.missed(Arrived { calls: 0, errors: 5 }).as_deref(), Some("Ошибок: 5"));
        assert_eq!(en.missed(Arrived::default()), None);
    }

    #[test]
    fn a_burst_of_1000_errors_in_one_second_is_three_toasts_and_summaries() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        let (mut individual, mut summaries) = (0, Vec::new());
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(i);
            if c.offer(Kind::Error, now) {
                individual += 1;
            }
            summaries.extend(c.due(now));
        }
        // The burst is over; summaries keep flowing at most once a second.
        for s in 1..=5u64 {
            summaries.extend(c.due(t0 + Duration::from_millis(999 + 200 * s)));
        }
        assert_eq!(individual, BURST);
        assert_eq!(summaries.len(), 1, "{summaries:?}");
        assert_eq!(summaries[0], Summary { kind: Kind::Error, new: 997, total: 997 });
        assert_eq!(c.pending(), 0);
        assert!(c.next_due().is_none());
    }

    #[test]
    fn summaries_come_at_most_once_a_second_and_count_the_whole_burst() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        let mut got = Vec::new();
        // 10 errors a second for 3 s, `due` polled every 10 ms as the worker would.
        for ms in (0..3000u64).step_by(10) {
            let now = t0 + Duration::from_millis(ms);
            if ms % 100 == 0 {
                c.offer(Kind::Error, now);
            }
            got.extend(c.due(now).into_iter().map(|s| (ms, s)));
        }
        got.extend(c.due(t0 + Duration::from_secs(10)).into_iter().map(|s| (10_000, s)));
        let times: Vec<u64> = got.iter().map(|(t, _)| *t).collect();
        assert!(times.windows(2).all(|w| w[1] - w[0] >= 1000), "{times:?}");
        assert_eq!(got.iter().map(|(_, s)| s.new).sum::<u64>(), 27);
        assert_eq!(got.last().unwrap().1.total, 27);
    }

    #[test]
    fn calls_and_errors_are_counted_separately() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        let mut shown = [0, 0];
        for i in 0..10u64 {
            let now = t0 + Duration::from_millis(i);
            shown[0] += c.offer(Kind::Call, now) as usize;
            shown[1] += c.offer(Kind::Error, now) as usize;
            shown[1] += c.offer(Kind::Error, now) as usize;
        }
        c.fold(Kind::Call, 5, t0); // overflowed calls
        assert_eq!(shown, [BURST, BURST]);
        let mut s = c.due(t0 + Duration::from_secs(2));
        s.sort_by_key(|s| s.kind as u8);
        assert_eq!(
            s,
            vec![
                Summary { kind: Kind::Call, new: 7 + 5, total: 12 },
                Summary { kind: Kind::Error, new: 17, total: 17 },
            ]
        );
    }

    #[test]
    fn a_quiet_window_starts_a_new_burst() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        for _ in 0..5 {
            c.offer(Kind::Call, t0);
        }
        assert_eq!(c.due(t0 + Duration::from_secs(1)), vec![Summary { kind: Kind::Call, new: 2, total: 2 }]);
        // Still within the window of the folded ones: folded, counted on.
        assert!(!c.offer(Kind::Call, t0 + Duration::from_secs(5)));
        assert_eq!(c.due(t0 + Duration::from_secs(6)), vec![Summary { kind: Kind::Call, new: 1, total: 3 }]);
        let later = t0 + Duration::from_secs(20);
        assert!(c.offer(Kind::Call, later));
        assert!(c.due(later + Duration::from_secs(5)).is_empty());
    }

    #[test]
    fn safe_html_becomes_plain_text() {
        assert_eq!(
            crate::core::html::to_text(r#"<p>Call <b>now</b><br><i>ok</i> &amp; &lt;x&gt; <a href="https://x.org/?a=1&amp;b=2" rel="noopener">link</a></p><p>two&nbsp;three</p>"#),
            "Call now\nok & <x> link\ntwo\u{a0}three"
        );
        assert_eq!(crate::core::html::to_text("a<br/>b<br>c"), "a\nb\nc");
        assert_eq!(escape_markup("a & <b>"), "a &amp; &lt;b&gt;");
    }

    #[test]
    fn only_absolute_http_links_become_actions() {
        assert_eq!(openable("https://example.amocrm.ru/contacts/detail/1"), Some("https://example.amocrm.ru/contacts/detail/1"));
        assert_eq!(openable("http://example.com/r.mp3"), Some("http://example.com/r.mp3"));
        for bad in ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "/contacts/detail/1", "https://", "mailto:a@b.org", "ftp://x.org/"] {
            assert_eq!(openable(bad), None, "{bad}");
        }
        let t = Targets { default: Some("https://a.org/".into()), card: None, recording: Some("https://b.org/".into()), page: None, take: None, file: None };
        assert_eq!(t.href("default"), Some("https://a.org/"));
        assert_eq!(t.href("recording"), Some("https://b.org/"));
        assert_eq!(t.href("__closed"), None);
        assert_eq!(t.href("card"), None);
    }

    #[test]
    fn the_app_id_key_names_the_identifier() {
        assert_eq!(app_id_key(), r"Software\Classes\AppUserModelId\ru.kolokol.desktop");
    }

    /// The registration the app does at start-up, under a key of the test's own
    /// (not the user's real AppUserModelId list), read back and removed.
    #[cfg(windows)]
    #[test]
    fn the_app_id_is_registered_per_user() {
        use winreg::enums::{HKEY_CURRENT_USER, KEY_READ};
        let hkcu = winreg::RegKey::predef(HKEY_CURRENT_USER);
        let root_path = format!(r"Software\KolokolTest-{}", std::process::id());
        let (root, _) = hkcu.create_subkey(&root_path).unwrap();
        register_app_id_in(&root, APP_NAME).unwrap();
        register_app_id_in(&root, APP_NAME).unwrap(); // every start: idempotent
        let key = root.open_subkey_with_flags(app_id_key(), KEY_READ).unwrap();
        let name: String = key.get_value("DisplayName").unwrap();
        hkcu.delete_subkey_all(&root_path).unwrap();
        assert_eq!(name, "Kolokol");
    }

    /// What each system's toast carries: the actions as (key, label) pairs,
    /// calls kept on screen; on Linux also urgency and category.
    #[test]
    fn the_platform_toast_carries_the_content() {
        let n = call(
            serde_json::json!({"text": "a < b", "from": "+7 999", "element": {"id": 5, "type": "contact"}}),
            Some("https://example.amocrm.ru"),
        );
        let c = content(&n, Kind::Call, &Labels::english());
        let t = os::build(&c, None, true);
        assert_eq!(t.summary, "Incoming call");
        assert_eq!(t.actions, ["default", "Open card", "card", "Open card"]);
        assert_eq!(t.timeout, notify_rust::Timeout::Never);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            assert_eq!(t.body, "+7 999\na &lt; b", "body-markup servers get it escaped");
            assert_eq!(t.urgency, notify_rust::Urgency::Critical);
            assert_eq!(t.category, "call.incoming");
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        assert_eq!(t.body, "+7 999\na < b", "plain text on Windows and macOS");
        let e = content(&n, Kind::Error, &Labels::english());
        assert_ne!(os::build(&e, None, false).timeout, notify_rust::Timeout::Never, "errors time out");
    }

    /// Watchers of toasts that never signal (a restarted server forgot them)
    /// are bounded: the oldest server ids go first.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn watchers_of_forgotten_toasts_are_bounded() {
        let base = u32::MAX - 10_000;
        for id in base..base + 1_000 {
            os::watch(os::Sent { server_id: id, at: std::time::Instant::now() }, |_| {});
        }
        let kept = os::watching(base..base + 1_000);
        assert_eq!(kept.len(), 4 * MAX_WATCHED);
        assert_eq!(kept.first(), Some(&(base + 1_000 - 4 * MAX_WATCHED as u32)), "the newest are kept");
    }

    /// A call from the call center's fleet offers *Take*; the same call from a
    /// page, or a fleet call without its tag, does not.
    #[test]
    fn fleet_calls_offer_take() {
        let fleet = |source: &str, tag: Option<&str>| {
            let mut p = serde_json::json!({"text": "x"});
            if let Some(t) = tag {
                p["tag"] = t.into();
            }
            Notification { source: source.into(), ..call(p, None) }
        };
        let c = content(&fleet("fleet:acme", Some("fleet:c1")), Kind::Call, &Labels::english());
        assert_eq!(c.actions, [("take", "Take".to_string())]);
        assert_eq!(c.targets.take.as_deref(), Some("fleet:c1"));
        assert!(content(&fleet("https://evil.example", Some("fleet:c1")), Kind::Call, &Labels::english()).actions.is_empty());
        assert!(content(&fleet("fleet:acme", None), Kind::Call, &Labels::english()).actions.is_empty());
    }

    fn call(payload: serde_json::Value, account: Option<&str>) -> Notification {
        let account = account.map(|a| url::Url::parse(a).unwrap());
        let ctx = crate::core::api::Context { account: account.as_ref(), now_ms: 0, id: "n1".into() };
        crate::core::api::normalize(Method::AddCall, &payload.to_string(), ctx).unwrap()
    }

    #[test]
    fn call_content_shows_parties_and_offers_card_and_recording() {
        let n = call(
            serde_json::json!({"text": "<b>Иван</b> &amp; Co", "from": "+7 999", "to": "Anna",
                "element": {"id": 5, "type": "contact"}, "link": "https://rec.example.com/1.mp3"}),
            Some("https://example.amocrm.ru"),
        );
        let c = content(&n, Kind::Call, &Labels::russian());
        assert_eq!(c.summary, "Входящий звонок");
        assert_eq!(c.body, "+7 999 → Anna\nИван & Co");
        let keys: Vec<_> = c.actions.iter().map(|(k, l)| (*k, l.as_str())).collect();
        assert_eq!(keys, [("default", "Открыть карточку"), ("card", "Открыть карточку"), ("recording", "Запись")]);
        assert_eq!(c.targets.default.as_deref(), Some("https://example.amocrm.ru/contacts/detail/5"));
        assert_eq!(c.targets.recording.as_deref(), Some("https://rec.example.com/1.mp3"));

        // No account address: the card link is not openable, so no card action.
        let n = call(serde_json::json!({"text": "x", "element": {"id": 5, "type": "contact"}}), None);
        let c = content(&n, Kind::Call, &Labels::english());
        assert!(c.actions.is_empty() && c.targets.default.is_none());
        assert_eq!(Labels::english().count(Kind::Error, 12), "12 new errors");
        assert_eq!(Labels::russian().count(Kind::Call, 5), "Новых звонков: 5");
    }
}
