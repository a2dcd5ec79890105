//! Where an accepted notification goes. Interface-only methods go to the
//! calling page's overlay and nowhere else; center methods go to every enabled
//! channel (for now the overlay; history, toasts and the tray come next).
//! Also remembers recent notifications so a click can only open links that a
//! notification really carried. No Tauri here.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use url::Url;

use crate::api::{self, Method, Notification, Refusal};
use crate::{html, links};

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
    pub channels: Vec<&'static str>,
    pub notification: Notification,
}

/// How many notifications keep their links clickable.
const RECENT: usize = 500;

#[derive(Default)]
pub struct Router {
    recent: Mutex<VecDeque<Notification>>,
}

impl Router {
    pub fn accept(&self, method: &str, raw: &str, account: Option<&Url>) -> Result<Accepted, Refusal> {
        let m = Method::parse(method).ok_or_else(|| {
            Refusal::new("unknown_method", "method", format!("{method:?} is not an APP.notifications method"))
        })?;
        let ctx = api::Context { account, now_ms: now_ms(), id: uuid::Uuid::now_v7().to_string() };
        let n = api::normalize(m, raw, ctx)?;
        let route = route(m);
        // Center channels beyond the overlay join here (history first, so that
        // "accepted" means stored).
        let channels = vec!["overlay"];
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_front();
        }
        // Only the links matter later; the raw payload stays with the caller.
        recent.push_back(Notification { payload: serde_json::Value::Null, ..n.clone() });
        Ok(Accepted { id: n.id.clone(), route, channels, notification: n })
    }

    /// The address to open for a click on notification `id`: `href` must be one
    /// of its links or a link inside its header/text. Relative links resolve
    /// against the account address as it is now.
    pub fn link_to_open(&self, id: &str, href: &str, account: Option<&Url>) -> Result<Url, String> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let n = recent.iter().rev().find(|n| n.id == id).ok_or("no such notification (it may be too old)")?;
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
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let a = r.accept("add_call", r#"{"text":"t"}"#, None).unwrap();
        let b = r.accept("add_call", r#"{"text":"t"}"#, None).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.route, Route::Center);
        assert_eq!(r.accept("eval", "{}", None).unwrap_err().code, "unknown_method");
    }

    #[test]
    fn only_carried_links_open() {
        let r = Router::default();
        let acc = Url::parse("https://a.amocrm.ru").unwrap();
        let a = r
            .accept("add_error", r#"{"text":"see <a href=\"/leads/detail/2\">lead</a>","link":"/contacts/list/?term=1&x=2"}"#, Some(&acc))
            .unwrap();
        assert_eq!(r.link_to_open(&a.id, "/contacts/list/?term=1&x=2", Some(&acc)).unwrap().as_str(), "https://a.amocrm.ru/contacts/list/?term=1&x=2");
        assert_eq!(r.link_to_open(&a.id, "/leads/detail/2", Some(&acc)).unwrap().as_str(), "https://a.amocrm.ru/leads/detail/2");
        assert!(r.link_to_open(&a.id, "https://evil.example/", Some(&acc)).is_err());
        assert!(r.link_to_open("nope", "/leads/detail/2", Some(&acc)).is_err());
        // Relative without an account: refused with the reason the UI shows.
        assert_eq!(r.link_to_open(&a.id, "/leads/detail/2", None).unwrap_err(), links::NO_ACCOUNT_REASON);
    }
}
