//! The workbench's call log: every `APP.notifications` call in the order it
//! arrived, with the payload as sent, the normalised notification or the
//! refusal, the channels it went to and, later, the toast channel's own
//! result. Held in memory (a widget author's session), capped so a runaway
//! page cannot exhaust it. No Tauri here.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::core::api::{Notification, Refusal, Warning};
use crate::core::router::{Accepted, Route, MAX_METHOD_BYTES};

/// Entries kept; older ones are dropped and counted.
pub const MAX_ENTRIES: usize = 250_000;
/// What an agent's tray app keeps until someone develops with it (a local
/// target opened, the workbench window shown; see [`CallLog::widen`]): the
/// newest calls, under a MiB, so a day of calls does not grow the app by the
/// full log (about 1.2 KB a call; the history keeps what the agent needs).
/// 2,000 calls held 1.3 MiB more after the memory benchmark's 20,000-call run.
pub const AGENT_ENTRIES: usize = 500;
pub const AGENT_BYTES: usize = 1 << 20;
/// Bytes kept over all entries: payloads, method names, the normalised
/// notifications (escaped text can be several times its payload), refusals
/// and warnings, and a fixed share per entry for the rest.
pub const MAX_BYTES: usize = 256 << 20;
/// The fixed share of an entry: its structs, counters and pointers.
const ENTRY_OVERHEAD: usize = 256;
/// A payload is kept up to this size (bigger ones are refused anyway).
pub const KEEP_PAYLOAD: usize = 64 << 10;
/// Rows of a page carry at most this much of their payload.
pub const PREVIEW: usize = 300;

/// What the toast channel did with a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toast {
    Pending,
    Sent,
    Coalesced,
    Silenced,
    QueueFull,
    Failed(String),
}

impl Serialize for Toast {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Toast::Pending => s.serialize_str("pending"),
            Toast::Sent => s.serialize_str("sent"),
            Toast::Coalesced => s.serialize_str("coalesced"),
            Toast::Silenced => s.serialize_str("silenced"),
            Toast::QueueFull => s.serialize_str("queue full"),
            Toast::Failed(r) => s.serialize_str(&format!("failed: {r}")),
        }
    }
}

/// One logged call as a list shows it (a page of the log carries these,
/// with the payload cut to a preview). No normalised notification: under a
/// flood the workbench reads pages many times a second, and big IPC answers
/// stall WebKitGTK (measured: ~1 s freezes of every page of the app with 40
/// full entries per answer, none with rows).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub seq: u64,
    pub at_ms: i64,
    /// The page's address, or "cli" for `kolokol send`.
    pub source: Arc<str>,
    pub method: String,
    pub payload: String,
    pub payload_bytes: usize,
    pub payload_cut: bool,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// `None` for methods that have no toast.
    pub toast: Option<Toast>,
    /// What the page's own `APP.notifications` did with the call, when the
    /// page had one and Kolokol chained to it ("called", "threw: …").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// For a host call (crm_post, the telephony calls): what the page was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// One logged call whole: its row and, when accepted, the normalised notification.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub row: Row,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Box<Notification>>,
    /// What it counts against [`MAX_BYTES`].
    #[serde(skip)]
    cost: usize,
}

/// The bytes an entry keeps (see [`MAX_BYTES`]).
fn cost(row: &Row, n: Option<&Notification>) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let link = |l: &Option<crate::core::links::Link>| l.as_ref().map_or(0, |l| l.given.len() + opt(&l.href) + opt(&l.reason));
    let warnings: usize = row.warnings.iter().map(|w| w.field.len() + w.message.len()).sum();
    let refusal = row.refusal.as_ref().map_or(0, |r| r.field.len() + r.message.len());
    let notification = n.map_or(0, |n| {
        n.id.len()
            + opt(&n.header)
            + opt(&n.text)
            + opt(&n.icon)
            + opt(&n.from)
            + opt(&n.to)
            + opt(&n.tag)
            + link(&n.click)
            + link(&n.card)
            + link(&n.recording)
            + n.element.as_ref().map_or(0, |e| e.id.len() + e.kind.len() + opt(&e.name))
            // The notification's warnings are a second copy of the row's.
            + warnings
    });
    ENTRY_OVERHEAD
        + row.payload.len()
        + row.method.len()
        + opt(&row.id)
        + opt(&row.page)
        + opt(&row.response)
        + warnings
        + refusal
        + notification
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub method: Option<String>,
    /// "all" | "accepted" | "refused" | "warnings"
    pub outcome: Option<String>,
    pub text: String,
}

impl Filter {
    fn matches(&self, e: &Row) -> bool {
        if self.method.as_deref().is_some_and(|m| !m.is_empty() && m != e.method) {
            return false;
        }
        let ok = match self.outcome.as_deref().unwrap_or("all") {
            "accepted" => e.outcome == "accepted",
            "refused" => e.outcome == "refused",
            "warnings" => !e.warnings.is_empty(),
            _ => true,
        };
        ok && (self.text.is_empty() || {
            let t = self.text.to_lowercase();
            e.payload.to_lowercase().contains(&t)
                || e.source.to_lowercase().contains(&t)
                || e.refusal.as_ref().is_some_and(|r| r.message.to_lowercase().contains(&t) || r.code.contains(&t))
        })
    }
}

#[derive(Debug, Serialize)]
pub struct Page {
    /// Entries held.
    pub total: usize,
    pub matching: usize,
    /// Older entries dropped by the cap since the last clear.
    pub dropped: u64,
    pub rows: Vec<Row>,
}

struct Inner {
    entries: VecDeque<Entry>,
    next_seq: u64,
    dropped: u64,
    bytes: usize,
    /// Notification id → seq, while its toast result is awaited.
    awaiting: HashMap<String, u64>,
    /// The caps in force: (entries, bytes).
    caps: (usize, usize),
}

impl Inner {
    fn new(caps: (usize, usize), next_seq: u64) -> Inner {
        Inner { entries: VecDeque::new(), next_seq, dropped: 0, bytes: 0, awaiting: HashMap::new(), caps }
    }
}

pub struct CallLog {
    inner: Mutex<Inner>,
}

/// The widget author's log: [`MAX_ENTRIES`] and [`MAX_BYTES`].
impl Default for CallLog {
    fn default() -> CallLog {
        CallLog { inner: Mutex::new(Inner::new((MAX_ENTRIES, MAX_BYTES), 0)) }
    }
}

/// One call as it arrived and what became of it.
pub struct Call<'a> {
    pub source: &'a Arc<str>,
    pub method: &'a str,
    pub payload: &'a str,
    pub result: &'a Result<Accepted, Refusal>,
    /// The page's own implementation's outcome (see [`Row::page`]).
    pub page: Option<&'a str>,
}

impl CallLog {
    /// The agent's log: [`AGENT_ENTRIES`] and [`AGENT_BYTES`] until widened.
    pub fn small() -> CallLog {
        CallLog { inner: Mutex::new(Inner::new((AGENT_ENTRIES, AGENT_BYTES), 0)) }
    }

    /// From now on keeps up to [`MAX_ENTRIES`] and [`MAX_BYTES`]; what is held stays.
    pub fn widen(&self) {
        self.lock().caps = (MAX_ENTRIES, MAX_BYTES);
    }

    /// The caps in force: (entries, bytes).
    pub fn caps(&self) -> (usize, usize) {
        self.lock().caps
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new row with the next seq: what every entry has, the rest empty.
    fn row(inner: &mut Inner, source: &Arc<str>, method: &str, payload: &str, outcome: &'static str, now_ms: i64) -> Row {
        let (kept, payload_cut) = cut(payload, KEEP_PAYLOAD);
        let seq = inner.next_seq;
        inner.next_seq += 1;
        Row {
            seq,
            at_ms: now_ms,
            source: source.clone(),
            // Capped: a method name is refused past this length anyway.
            method: cut(method, MAX_METHOD_BYTES).0.to_owned(),
            payload: kept.to_owned(),
            payload_bytes: payload.len(),
            payload_cut,
            outcome,
            id: None,
            route: None,
            channels: Vec::new(),
            warnings: Vec::new(),
            refusal: None,
            toast: None,
            page: None,
            response: None,
        }
    }

    /// Adds an entry and its weight to the budget (trimmed by the caller).
    fn push(inner: &mut Inner, row: Row, notification: Option<Box<Notification>>) {
        let cost = cost(&row, notification.as_deref());
        inner.bytes += cost;
        inner.entries.push_back(Entry { row, notification, cost });
    }

    /// Appends calls in the order given; returns the total held.
    pub fn record(&self, calls: &[Call<'_>], now_ms: i64) -> usize {
        let mut inner = self.lock();
        for c in calls {
            let mut e = Self::row(&mut inner, c.source, c.method, c.payload, "refused", now_ms);
            let seq = e.seq;
            e.page = c.page.map(|p| cut(p, PREVIEW).0.to_owned());
            let mut notification = None;
            match c.result {
                Ok(a) => {
                    e.outcome = "accepted";
                    e.id = Some(a.id.clone());
                    e.route = Some(a.route);
                    e.channels = a.channels.clone();
                    if a.route == Route::Center {
                        e.toast = Some(if a.silenced {
                            Toast::Silenced
                        } else if a.channels.contains(&"toast") {
                            inner.awaiting.insert(a.id.clone(), seq);
                            Toast::Pending
                        } else {
                            Toast::Failed("no toast channel".into())
                        });
                    }
                    e.warnings = a.notification.warnings.clone();
                    // The raw payload is already kept as text.
                    notification = Some(Box::new(Notification { payload: serde_json::Value::Null, ..a.notification.clone() }));
                }
                Err(r) => e.refusal = Some(r.clone()),
            }
            Self::push(&mut inner, e, notification);
        }
        Self::trim(&mut inner);
        inner.entries.len()
    }

    /// Appends a call the widget host answered itself, not an
    /// `APP.notifications` one: `crm_post` ("answered" from a stub, "failed"),
    /// the telephony calls ("recorded"), with what the page got back.
    pub fn record_host(&self, source: &Arc<str>, method: &str, payload: &str, outcome: &'static str, response: &str, now_ms: i64) {
        let mut inner = self.lock();
        let mut row = Self::row(&mut inner, source, method, payload, outcome, now_ms);
        row.response = Some(cut(response, KEEP_PAYLOAD).0.to_owned());
        Self::push(&mut inner, row, None);
        Self::trim(&mut inner);
    }

    fn trim(inner: &mut Inner) {
        let (max_entries, max_bytes) = inner.caps;
        while inner.entries.len() > max_entries || inner.bytes > max_bytes {
            let Some(old) = inner.entries.pop_front() else { break };
            inner.bytes -= old.cost;
            inner.dropped += 1;
            if let Some(id) = &old.row.id {
                inner.awaiting.remove(id);
            }
        }
    }

    /// The toast channel's result for notification `id`; false if it is not awaited.
    pub fn set_toast(&self, id: &str, toast: Toast) -> bool {
        let mut inner = self.lock();
        let Some(seq) = inner.awaiting.remove(id) else { return false };
        let first = inner.entries.front().map_or(0, |e| e.row.seq);
        match inner.entries.get_mut((seq - first) as usize) {
            Some(e) if e.row.seq == seq => {
                e.row.toast = Some(toast);
                true
            }
            _ => false,
        }
    }

    /// Matching entries in call order, from `offset` within the matches;
    /// payloads cut to a preview.
    pub fn page(&self, filter: &Filter, offset: usize, limit: usize) -> Page {
        let inner = self.lock();
        let mut matching = 0;
        let mut rows = Vec::new();
        let all = filter.method.as_deref().unwrap_or("").is_empty()
            && matches!(filter.outcome.as_deref(), None | Some("all"))
            && filter.text.is_empty();
        if all {
            matching = inner.entries.len();
            rows.extend(inner.entries.iter().skip(offset).take(limit).map(preview));
        } else {
            for e in inner.entries.iter().filter(|e| filter.matches(&e.row)) {
                if matching >= offset && rows.len() < limit {
                    rows.push(preview(e));
                }
                matching += 1;
            }
        }
        Page { total: inner.entries.len(), matching, dropped: inner.dropped, rows }
    }

    /// The newest `n` entries as rows, oldest first, with the counts.
    pub fn tail(&self, n: usize) -> Page {
        let inner = self.lock();
        let skip = inner.entries.len().saturating_sub(n);
        let rows = inner.entries.range(skip..).map(preview).collect();
        Page { total: inner.entries.len(), matching: inner.entries.len(), dropped: inner.dropped, rows }
    }

    pub fn get(&self, seq: u64) -> Option<Entry> {
        let inner = self.lock();
        let first = inner.entries.front()?.row.seq;
        inner.entries.get(seq.checked_sub(first)? as usize).cloned()
    }

    pub fn clear(&self) {
        let mut inner = self.lock();
        *inner = Inner::new(inner.caps, inner.next_seq);
    }

    /// All entries with their kept payloads, as a JSON document.
    pub fn export(&self) -> String {
        let inner = self.lock();
        let doc = serde_json::json!({
            "kolokol_call_log": 1,
            "dropped": inner.dropped,
            "entries": inner.entries,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    pub fn len(&self) -> (usize, u64) {
        let inner = self.lock();
        (inner.entries.len(), inner.dropped)
    }
}

fn preview(e: &Entry) -> Row {
    let mut row = e.row.clone();
    let end = cut(&row.payload, PREVIEW).0.len();
    if end < row.payload.len() {
        row.payload.truncate(end);
        row.payload_cut = true;
    }
    if let Some(r) = row.response.as_mut() {
        let end = cut(r, PREVIEW).0.len();
        r.truncate(end);
    }
    row
}

/// At most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::router::{Policy, Router};
    use serde_json::json;

    fn log_calls(log: &CallLog, router: &Router, calls: &[(&str, &str)]) {
        let source: Arc<str> = "kolokol://localhost/page/t.html".into();
        let results = router.accept_batch(&source, calls, None, Policy::default());
        let entries: Vec<Call> = calls
            .iter()
            .zip(&results)
            .map(|((m, p), r)| Call { source: &source, method: m, payload: p, result: r, page: None })
            .collect();
        log.record(&entries, 1_000);
    }

    #[test]
    fn keeps_order_outcomes_and_filters() {
        let (log, router) = (CallLog::default(), Router::default());
        log_calls(
            &log,
            &router,
            &[
                ("show_message", r#"{"header":"h","text":"a"}"#),
                ("add_error", r#"{"header":"only a header"}"#),
                ("add_call", "[1]"),
                ("nope", "{}"),
            ],
        );
        let all = log.page(&Filter::default(), 0, 10);
        assert_eq!((all.total, all.matching), (4, 4));
        assert_eq!(all.rows.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(all.rows[0].outcome, "accepted");
        assert_eq!(all.rows[0].toast, None, "interface methods have no toast");
        assert_eq!(all.rows[0].channels, ["overlay"]);
        assert_eq!(all.rows[1].toast, Some(Toast::Failed("no toast channel".into())));
        assert_eq!(all.rows[2].refusal.as_ref().unwrap().code, "not_object");
        assert_eq!(all.rows[3].refusal.as_ref().unwrap().code, "unknown_method");

        let refused = log.page(&Filter { outcome: Some("refused".into()), ..Filter::default() }, 0, 10);
        assert_eq!(refused.rows.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        let warned = log.page(&Filter { outcome: Some("warnings".into()), ..Filter::default() }, 0, 10);
        assert_eq!(warned.rows.iter().map(|e| e.seq).collect::<Vec<_>>(), [1], "a header without text warns");
        let whole = serde_json::to_value(log.get(1).unwrap()).unwrap();
        assert_eq!((whole["warnings"][0]["field"].clone(), whole["notification"]["header"].clone()), (json!("text"), json!("only a header")));
        assert!(serde_json::to_value(&warned.rows[0]).unwrap().get("notification").is_none(), "rows stay slim");
        let calls = log.page(&Filter { method: Some("add_call".into()), ..Filter::default() }, 0, 10);
        assert_eq!(calls.matching, 1);
        let text = log.page(&Filter { text: "ONLY A".into(), ..Filter::default() }, 0, 10);
        assert_eq!(text.rows[0].seq, 1);
        let offset = log.page(&Filter::default(), 3, 10);
        assert_eq!((offset.matching, offset.rows.len(), offset.rows[0].seq), (4, 1, 3));
    }

    #[test]
    fn toast_results_arrive_later() {
        struct Fake;
        impl crate::core::router::Channel for Fake {
            fn name(&self) -> &'static str {
                "toast"
            }
            fn deliver(&self, _: &Notification) {}
        }
        let log = CallLog::default();
        let router = Router::new(None, vec![Arc::new(Fake)]);
        log_calls(&log, &router, &[("add_call", r#"{"text":"c"}"#), ("add_error", r#"{"text":"e"}"#)]);
        let rows = log.page(&Filter::default(), 0, 10).rows;
        assert_eq!(rows[0].toast, Some(Toast::Pending));
        assert!(log.set_toast(rows[0].id.as_deref().unwrap(), Toast::Sent));
        assert!(log.set_toast(rows[1].id.as_deref().unwrap(), Toast::Coalesced));
        assert!(!log.set_toast(rows[1].id.as_deref().unwrap(), Toast::Sent), "a result is taken once");
        assert_eq!(log.get(0).unwrap().row.toast, Some(Toast::Sent));
        assert_eq!(serde_json::to_value(log.get(1).unwrap()).unwrap()["toast"], "coalesced");
    }

    #[test]
    fn big_payloads_are_cut_and_the_cap_drops_the_oldest() {
        let (log, router) = (CallLog::default(), Router::default());
        let big = format!(r#"{{"text":"{}"}}"#, "я".repeat(40_000));
        log_calls(&log, &router, &[("show_message", &big)]);
        let e = log.get(0).unwrap().row;
        assert_eq!(e.refusal.as_ref().unwrap().code, "too_large");
        assert!(e.payload_cut && e.payload.len() <= KEEP_PAYLOAD && e.payload_bytes == big.len());
        let row = &log.page(&Filter::default(), 0, 1).rows[0];
        assert!(row.payload.len() <= PREVIEW && row.payload_cut);

        let source: Arc<str> = "p".into();
        let r: Result<Accepted, Refusal> = Err(Refusal::new("rate_limited", "page", "x"));
        let call = Call { source: &source, method: "show_message", payload: "{}", result: &r, page: None };
        for _ in 0..(MAX_ENTRIES / 1000 + 1) {
            let batch: Vec<Call> = (0..1000).map(|_| Call { ..call }).collect();
            log.record(&batch, 0);
        }
        let (held, dropped) = log.len();
        assert_eq!(held, MAX_ENTRIES);
        assert_eq!(dropped, 1001);
        assert_eq!(log.page(&Filter::default(), 0, 1).rows[0].seq, 1001);
        assert_eq!(log.get(1001).unwrap().row.seq, 1001);
        log.clear();
        assert_eq!(log.len(), (0, 0));
        log.record(&[call], 0);
        assert_eq!(log.page(&Filter::default(), 0, 1).rows[0].seq, MAX_ENTRIES as u64 + 1001, "seqs never repeat");
        let doc: serde_json::Value = serde_json::from_str(&log.export()).unwrap();
        assert_eq!(doc["entries"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_agents_log_keeps_the_newest_until_widened() {
        let log = CallLog::small();
        let source: Arc<str> = "p".into();
        let r: Result<Accepted, Refusal> = Err(Refusal::new("rate_limited", "page", "x"));
        let call = Call { source: &source, method: "show_message", payload: "{}", result: &r, page: None };
        let batch: Vec<Call> = (0..AGENT_ENTRIES + 500).map(|_| Call { ..call }).collect();
        assert_eq!(log.record(&batch, 0), AGENT_ENTRIES);
        assert_eq!(log.len(), (AGENT_ENTRIES, 500));
        assert_eq!(log.page(&Filter::default(), 0, 1).rows[0].seq, 500, "the oldest go first");

        log.widen();
        assert_eq!(log.caps(), (MAX_ENTRIES, MAX_BYTES));
        assert_eq!(log.record(&batch, 0), 2 * AGENT_ENTRIES + 500, "nothing held is lost, nothing more dropped");
        assert_eq!(log.len().1, 500);
        log.clear();
        assert_eq!(log.caps(), (MAX_ENTRIES, MAX_BYTES), "a clear keeps the caps");

        // The byte cap holds too: big payloads, few entries.
        let log = CallLog::small();
        let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(60_000));
        let call = Call { source: &source, method: "show_message", payload: &big, result: &r, page: None };
        let batch: Vec<Call> = (0..200).map(|_| Call { ..call }).collect();
        let held = log.record(&batch, 0);
        assert!(held < 200 && held * 60_000 <= AGENT_BYTES, "{held} entries of 60 KB held");
    }

    /// A 1 MB method name is refused by its length, and the log keeps only
    /// the start of it; what the log counts includes the method and the
    /// normalised notification, not only the payload.
    #[test]
    fn everything_kept_is_counted() {
        let (log, router) = (CallLog::default(), Router::default());
        let long = "m".repeat(1 << 20);
        log_calls(&log, &router, &[(&long, "{}")]);
        let e = log.get(0).unwrap().row;
        let r = e.refusal.as_ref().unwrap();
        assert_eq!((r.code, r.field.as_str()), ("too_large", "method"));
        assert_eq!(e.method.len(), MAX_METHOD_BYTES);
        assert!(log.lock().bytes < 2 * ENTRY_OVERHEAD, "{}", log.lock().bytes);

        log.clear();
        // Escaping makes the text four times its payload.
        let lt = format!(r#"{{"text":"{}"}}"#, "<".repeat(60_000));
        log_calls(&log, &router, &[("add_error", &lt)]);
        let e = log.get(log.page(&Filter::default(), 0, 1).rows[0].seq).unwrap();
        let text = e.notification.as_ref().and_then(|n| n.text.as_ref()).map_or(0, String::len);
        assert!(text >= 4 * 60_000, "{text}");
        assert!(log.lock().bytes >= lt.len() + text, "{} < {}", log.lock().bytes, lt.len() + text);
    }

    #[test]
    fn host_calls_are_logged_with_their_answer() {
        let log = CallLog::default();
        let source: Arc<str> = "kolokol://t0/__kolokol/host.html".into();
        let big = "r".repeat(KEEP_PAYLOAD + 10);
        log.record_host(&source, "crm_post", r#"{"url":"https://x/"}"#, "answered", &big, 5);
        log.record_host(&source, "APP.sdk.setCallStatus", "[]", "recorded", "", 6);
        let page = log.page(&Filter { outcome: Some("all".into()), ..Filter::default() }, 0, 10);
        let got: Vec<(&str, &str)> = page.rows.iter().map(|r| (r.method.as_str(), r.outcome)).collect();
        assert_eq!(got, [("crm_post", "answered"), ("APP.sdk.setCallStatus", "recorded")]);
        assert_eq!(page.rows[0].response.as_deref().map(str::len), Some(PREVIEW), "rows carry a preview");
        assert_eq!(log.get(0).unwrap().row.response.map(|r| r.len()), Some(KEEP_PAYLOAD), "the entry keeps the answer, capped");
        assert!(log.lock().bytes > KEEP_PAYLOAD, "its answer is counted");
        assert!(log.export().contains("\"response\""));
    }
}
