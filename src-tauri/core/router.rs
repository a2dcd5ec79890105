//! Where an accepted notification goes. Interface-only methods go to the
//! calling page's overlay and nowhere else; center methods are stored durably
//! first (a call is accepted only once its row is on disk), then go to every
//! enabled channel: the overlay, a native toast, the tray count.
//! Also remembers recent notifications so a click can only open links that a
//! notification really carried. No Tauri here.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use url::Url;

use crate::core::api::{self, now_ms, Method, Notification, Refusal};
use crate::core::quota::Quota;
use crate::core::{html, links};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Interface,
    Center,
}

pub fn route(method: Method) -> Route {
    match method {
        Method::ShowMessage | Method::ShowMessageError | Method::ShowNotification => Route::Interface,
        Method::AddError | Method::AddCall => Route::Center,
    }
}

/// The answer to the page: the notification to draw and where it went.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub id: String,
    pub route: Route,
    /// Channels it was delivered to, in order.
    pub channels: Vec<&'static str>,
    /// The history row (center notifications).
    pub seq: Option<i64>,
    /// A toast was due but do-not-disturb held it back.
    pub silenced: bool,
    pub notification: Notification,
}

/// The durable history, as the router needs it.
pub trait Store: Send + Sync {
    /// Returns once all rows are committed to disk (one commit), or none is.
    fn store_batch(&self, ns: &[Notification]) -> Result<Vec<i64>, String>;
}

/// A channel that must never block the caller (native toasts).
pub trait Channel: Send + Sync {
    fn name(&self) -> &'static str;
    fn deliver(&self, n: &Notification);
}

/// What the settings say about delivery right now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    pub do_not_disturb: bool,
    pub calls_break_through: bool,
    /// Stored without a toast of its own: a call caught up after being
    /// offline (one summary toast follows), a row rewritten by the call's
    /// later events.
    pub store_only: bool,
}

/// Longest method name taken (the longest real one is 18 bytes).
pub const MAX_METHOD_BYTES: usize = 64;

/// How many notifications keep their links clickable.
const RECENT: usize = 500;

/// A recent notification, for its links.
struct Recent {
    n: Notification,
    /// Its sender closed it (`dismiss`): its links no longer open.
    dismissed: bool,
}

#[derive(Default)]
pub struct Router {
    recent: Mutex<VecDeque<Recent>>,
    /// What each source may store a day.
    quota: Quota,
    store: Option<Arc<dyn Store>>,
    channels: Vec<Arc<dyn Channel>>,
}

impl Router {
    pub fn new(store: Option<Arc<dyn Store>>, channels: Vec<Arc<dyn Channel>>) -> Router {
        Router { recent: Mutex::default(), quota: Quota::default(), store, channels }
    }

    /// The same router with another daily storage quota per source.
    pub fn with_quota(self, bytes_per_day: u64) -> Router {
        Router { quota: Quota::new(bytes_per_day), ..self }
    }

    /// Validates, stores (center kinds) and delivers one call. Blocks while
    /// the row is written: call it off the UI thread.
    pub fn accept(&self, source: &str, method: &str, raw: &str, account: Option<&Url>, policy: Policy) -> Result<Accepted, Refusal> {
        self.accept_batch(source, &[(method, raw)], account, policy).pop().expect("one result per call")
    }

    /// Several calls at once (a page's burst arrives batched): each is
    /// validated on its own, the center ones are stored in one commit, then
    /// delivered. One result per call, in order. `source` is who sent them
    /// (see `Notification::source`).
    pub fn accept_batch(
        &self,
        source: &str,
        calls: &[(&str, &str)],
        account: Option<&Url>,
        policy: Policy,
    ) -> Vec<Result<Accepted, Refusal>> {
        let mut checked: Vec<Result<Notification, Refusal>> = calls
            .iter()
            .map(|(method, raw)| {
                if method.len() > MAX_METHOD_BYTES {
                    return Err(Refusal::new(
                        "too_large",
                        "method",
                        format!("the method name is {} bytes; no method is longer than {MAX_METHOD_BYTES}", method.len()),
                    ));
                }
                let m = Method::parse(method).ok_or_else(|| {
                    Refusal::new("unknown_method", "method", format!("{method:?} is not an APP.notifications method"))
                })?;
                let now = now_ms();
                let n = api::normalize(m, raw, api::Context { account, now_ms: now, id: uuid::Uuid::now_v7().to_string() })?;
                if route(m) == Route::Center {
                    if let Err(used) = self.quota.take(source, raw.len() as u64, now) {
                        return Err(Refusal::new(
                            "quota_exceeded",
                            "payload",
                            format!(
                                "this source stored {} KiB in the last 24 hours; at most {} KiB a day are kept from one source",
                                used >> 10,
                                self.quota.per_day() >> 10
                            ),
                        ));
                    }
                }
                Ok(Notification { source: source.to_owned(), ..n })
            })
            .collect();
        let mut seqs = vec![None; calls.len()];
        let center: Vec<usize> = (0..checked.len())
            .filter(|&i| matches!(&checked[i], Ok(n) if route(n.method) == Route::Center))
            .collect();
        if let (Some(store), false) = (&self.store, center.is_empty()) {
            let ns: Vec<Notification> = center.iter().map(|&i| checked[i].as_ref().expect("checked above").clone()).collect();
            match store.store_batch(&ns) {
                Ok(stored) => center.iter().zip(stored).for_each(|(&i, seq)| seqs[i] = Some(seq)),
                Err(e) => {
                    // Nothing acknowledged that is not on disk.
                    for &i in &center {
                        checked[i] = Err(Refusal::new(
                            "not_stored",
                            "payload",
                            format!("the history could not store it, so it was not accepted: {e}"),
                        ));
                    }
                }
            }
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        checked
            .into_iter()
            .zip(seqs)
            .map(|(n, seq)| {
                let n = n?;
                let route = route(n.method);
                let mut channels = vec!["overlay"];
                let mut silenced = false;
                if route == Route::Center {
                    if seq.is_some() {
                        channels.push("history");
                    }
                    silenced = policy.do_not_disturb && !(n.look == api::Look::Call && policy.calls_break_through);
                    if !silenced && !policy.store_only {
                        for c in &self.channels {
                            c.deliver(&n);
                            channels.push(c.name());
                        }
                    }
                    channels.push("tray");
                }
                if recent.len() == RECENT {
                    recent.pop_front();
                }
                // Only the links matter later; the raw payload stays with the caller.
                recent.push_back(Recent { n: Notification { payload: serde_json::Value::Null, ..n.clone() }, dismissed: false });
                Ok(Accepted { id: n.id.clone(), route, channels, seq, silenced, notification: n })
            })
            .collect()
    }

    /// The address to open for a click on notification `id`: `href` must be one
    /// of its links or a link inside its header/text. Relative links resolve
    /// against the account address as it is now.
    /// Only `source`'s own notifications, and none that it dismissed.
    pub fn link_to_open(&self, source: &str, id: &str, href: &str, account: Option<&Url>) -> Result<Url, String> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let r = recent
            .iter()
            .rev()
            .find(|r| r.n.id == id && r.n.source == source)
            .ok_or("no such notification of this page (it may be too old)")?;
        if r.dismissed {
            return Err("the page closed this notification".into());
        }
        let n = &r.n;
        let carried = [&n.click, &n.card, &n.recording]
            .into_iter()
            .flatten()
            .any(|l| l.given == href || l.href.as_deref() == Some(href))
            || [&n.header, &n.text].into_iter().flatten().any(|h| html::has_href(h, href));
        if !carried {
            return Err(format!("{href:?} is not a link of this notification"));
        }
        let link = links::resolve(href, account)?.ok_or("empty link")?;
        match link.href {
            Some(h) => Url::parse(&h).map_err(|e| e.to_string()),
            None => Err(link.reason.unwrap_or_default()),
        }
    }

    /// `dismiss(idOrTag)` from `source`: its notifications with that id or tag
    /// stop opening links.
    pub fn dismiss(&self, source: &str, id_or_tag: &str) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        for r in recent.iter_mut().filter(|r| r.n.source == source) {
            if r.n.id == id_or_tag || r.n.tag.as_deref() == Some(id_or_tag) {
                r.dismissed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://a.amocrm.ru";

    #[test]
    fn routes() {
        for m in Method::ALL {
            let expected = if matches!(m, Method::AddError | Method::AddCall) { Route::Center } else { Route::Interface };
            assert_eq!(route(m), expected, "{m:?}");
        }
    }

    #[test]
    fn accept_gives_ids_and_refuses_unknown_methods() {
        let r = Router::default();
        let a = r.accept(PAGE, "add_call", r#"{"text":"t"}"#, None, Policy::default()).unwrap();
        let b = r.accept(PAGE, "add_call", r#"{"text":"t"}"#, None, Policy::default()).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.route, Route::Center);
        assert_eq!(r.accept(PAGE, "eval", "{}", None, Policy::default()).unwrap_err().code, "unknown_method");
    }

    #[test]
    fn a_batch_is_stored_in_one_commit_and_answered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let history = crate::channels::history::History::open(&dir.path().join("h.sqlite3")).unwrap();
        let r = Router::new(Some(Arc::new(history.clone())), vec![]);
        let commits = history.commits();
        let out = r.accept_batch(
            PAGE,
            &[("add_error", r#"{"text":"a"}"#), ("add_call", "{}"), ("show_message", r#"{"text":"m"}"#), ("add_call", r#"{"text":"c"}"#)],
            None,
            Policy::default(),
        );
        assert_eq!(out.len(), 4);
        let a = out[0].as_ref().unwrap();
        assert_eq!((a.channels.as_slice(), a.seq.is_some()), (["overlay", "history", "tray"].as_slice(), true));
        assert_eq!(out[1].as_ref().unwrap_err().field, "text");
        assert_eq!((out[2].as_ref().unwrap().route, out[2].as_ref().unwrap().seq), (Route::Interface, None));
        assert!(out[3].as_ref().unwrap().seq > a.seq);
        assert_eq!(history.commits(), commits + 1, "two rows, one commit");
        assert_eq!(history.unread_count().unwrap(), 2);
    }

    #[test]
    fn nothing_is_acknowledged_that_is_not_stored() {
        struct Broken;
        impl Store for Broken {
            fn store_batch(&self, _: &[Notification]) -> Result<Vec<i64>, String> {
                Err("disk full".into())
            }
        }
        let r = Router::new(Some(Arc::new(Broken)), vec![]);
        let out = r.accept_batch(PAGE, &[("add_error", r#"{"text":"a"}"#), ("show_message", r#"{"text":"m"}"#)], None, Policy::default());
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.code, "not_stored");
        assert!(e.message.contains("disk full"));
        assert!(out[1].is_ok(), "interface-only calls need no storage");
    }

    #[test]
    fn only_carried_links_open() {
        let r = Router::default();
        let acc = Url::parse("https://a.amocrm.ru").unwrap();
        let a = r
            .accept(PAGE, "add_error", r#"{"text":"see <a href=\"/leads/detail/2\">lead</a>","link":"/contacts/list/?term=1&x=2"}"#, Some(&acc), Policy::default())
            .unwrap();
        assert_eq!(r.link_to_open(PAGE, &a.id, "/contacts/list/?term=1&x=2", Some(&acc)).unwrap().as_str(), "https://a.amocrm.ru/contacts/list/?term=1&x=2");
        assert_eq!(r.link_to_open(PAGE, &a.id, "/leads/detail/2", Some(&acc)).unwrap().as_str(), "https://a.amocrm.ru/leads/detail/2");
        assert!(r.link_to_open(PAGE, &a.id, "https://evil.example/", Some(&acc)).is_err());
        assert!(r.link_to_open(PAGE, "nope", "/leads/detail/2", Some(&acc)).is_err());
        // Relative without an account: refused with the reason the UI shows.
        assert_eq!(r.link_to_open(PAGE, &a.id, "/leads/detail/2", None).unwrap_err(), links::NO_ACCOUNT_REASON);
    }

    /// A page opens only its own notifications' links, and none after it
    /// dismissed them (by id or by tag).
    #[test]
    fn links_open_for_their_source_until_dismissed() {
        let r = Router::default();
        let acc = Url::parse("https://a.amocrm.ru").unwrap();
        let a = r.accept(PAGE, "add_error", r#"{"text":"t","link":"/leads/detail/2","tag":"lead-2"}"#, Some(&acc), Policy::default()).unwrap();
        let b = r.accept(PAGE, "show_message", r#"{"text":"<a href=\"https://x.org/\">x</a>"}"#, Some(&acc), Policy::default()).unwrap();
        assert_eq!(a.notification.source, PAGE);
        let other = "https://evil.example";
        assert!(r.link_to_open(other, &a.id, "/leads/detail/2", Some(&acc)).is_err(), "another page's notification");
        assert!(r.link_to_open(PAGE, &a.id, "/leads/detail/2", Some(&acc)).is_ok());
        r.dismiss(other, "lead-2");
        assert!(r.link_to_open(PAGE, &a.id, "/leads/detail/2", Some(&acc)).is_ok(), "another page's dismiss changes nothing");
        r.dismiss(PAGE, "lead-2");
        let e = r.link_to_open(PAGE, &a.id, "/leads/detail/2", Some(&acc)).unwrap_err();
        assert!(e.contains("closed"), "{e}");
        assert!(r.link_to_open(PAGE, &b.id, "https://x.org/", Some(&acc)).is_ok());
        r.dismiss(PAGE, &b.id);
        assert!(r.link_to_open(PAGE, &b.id, "https://x.org/", Some(&acc)).is_err());
    }

    #[test]
    fn a_long_method_name_is_refused_by_its_length() {
        let r = Router::default();
        let e = r.accept(PAGE, &"x".repeat(1 << 20), "{}", None, Policy::default()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_large", "method"));
        assert!(e.message.len() < 200, "the refusal does not echo the name");
        assert_eq!(r.accept(PAGE, &"x".repeat(MAX_METHOD_BYTES), "{}", None, Policy::default()).unwrap_err().code, "unknown_method");
    }

    /// A source that stores more than its daily quota is refused, naming the
    /// quota; other sources and interface-only calls are not charged.
    #[test]
    fn a_source_beyond_its_daily_quota_is_refused() {
        let r = Router::default().with_quota(1_000);
        let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(400));
        assert!(r.accept(PAGE, "add_error", &big, None, Policy::default()).is_ok());
        assert!(r.accept(PAGE, "add_call", &big, None, Policy::default()).is_ok());
        let e = r.accept(PAGE, "add_error", &big, None, Policy::default()).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("quota_exceeded", "payload"));
        assert!(e.message.contains("a day"), "{}", e.message);
        assert!(r.accept(PAGE, "show_message", &big, None, Policy::default()).is_ok(), "popups are not stored");
        assert!(r.accept("cli", "add_error", &big, None, Policy::default()).is_ok(), "another source has its own");
    }
}
