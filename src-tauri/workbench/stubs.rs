//! Answers for a widget's `self.crm_post(url, …)`: amoCRM sends it through its
//! server; the workbench answers it from Rust with the response the author set
//! for that URL, and fails it (the widget's error callback) when none is set.
//! Nothing is sent anywhere: a page must not get a proxy to the network or the
//! machine. No Tauri here.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Longest URL and body kept; most stubs a session holds.
pub const MAX_URL: usize = 2_000;
pub const MAX_BODY: usize = 64 << 10;
pub const MAX_STUBS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stub {
    pub url: String,
    /// The HTTP status the widget sees: 2xx calls its success callback, the rest its error callback.
    pub status: u16,
    pub body: String,
}

#[derive(Default)]
pub struct Stubs {
    items: Mutex<BTreeMap<String, Stub>>,
}

/// The URL as a stub is keyed: trimmed, without its `#fragment`.
fn key(url: &str) -> &str {
    let url = url.trim();
    url.split_once('#').map_or(url, |(u, _)| u)
}

impl Stubs {
    pub fn list(&self) -> Vec<Stub> {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Sets (or replaces) the answer for `url`; errors name the field.
    pub fn set(&self, stub: Stub) -> Result<Stub, String> {
        let url = key(&stub.url).to_owned();
        if url.is_empty() {
            return Err("url: empty; the address the widget passes to crm_post, e.g. https://api.example.com/x".into());
        }
        if url.len() > MAX_URL {
            return Err(format!("url: {} characters; at most {MAX_URL}", url.len()));
        }
        if !(100..=599).contains(&stub.status) {
            return Err(format!("status: {} is not an HTTP status (100–599)", stub.status));
        }
        if stub.body.len() > MAX_BODY {
            return Err(format!("body: {} bytes; at most {MAX_BODY}", stub.body.len()));
        }
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        if items.len() >= MAX_STUBS && !items.contains_key(&url) {
            return Err(format!("url: already {MAX_STUBS} stubs; remove one first"));
        }
        let stub = Stub { url: url.clone(), ..stub };
        items.insert(url, stub.clone());
        Ok(stub)
    }

    pub fn remove(&self, url: &str) -> bool {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).remove(key(url)).is_some()
    }

    /// The answer for a crm_post to `url`: the stub for it, else the one for
    /// it without its query string; `Err` says why there is none.
    pub fn answer(&self, url: &str) -> Result<Stub, String> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let url = key(url);
        let bare = url.split_once('?').map_or(url, |(u, _)| u);
        items.get(url).or_else(|| items.get(bare)).cloned().ok_or_else(|| {
            format!(
                "no response is set for {url}: crm_post goes through amoCRM's server, which Kolokol does not reach; \
                 set one in the workbench (Profile tab, crm_post responses)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stub(url: &str, status: u16, body: &str) -> Stub {
        Stub { url: url.into(), status, body: body.into() }
    }

    #[test]
    fn answers_by_url_then_without_the_query() {
        let s = Stubs::default();
        s.set(stub(" https://pbx.example.com/api/calls#x ", 200, "{\"ok\":true}")).unwrap();
        assert_eq!(s.answer("https://pbx.example.com/api/calls").unwrap().body, "{\"ok\":true}");
        assert_eq!(s.answer("https://pbx.example.com/api/calls?v=2").unwrap().status, 200);
        s.set(stub("https://pbx.example.com/api/calls?v=2", 500, "down")).unwrap();
        assert_eq!(s.answer("https://pbx.example.com/api/calls?v=2").unwrap().status, 500, "the exact one first");
        let e = s.answer("https://other.example.com/").unwrap_err();
        assert!(e.starts_with("no response is set for https://other.example.com/"), "{e}");
        assert_eq!(s.list().len(), 2);
        assert!(s.remove("https://pbx.example.com/api/calls"));
        assert!(!s.remove("https://pbx.example.com/api/calls"));
    }

    #[test]
    fn bad_stubs_name_their_field() {
        let s = Stubs::default();
        for (bad, field) in [
            (stub("  ", 200, ""), "url:"),
            (stub(&"x".repeat(MAX_URL + 1), 200, ""), "url:"),
            (stub("/x", 99, ""), "status:"),
            (stub("/x", 600, ""), "status:"),
            (stub("/x", 200, &"b".repeat(MAX_BODY + 1)), "body:"),
        ] {
            assert!(s.set(bad).unwrap_err().starts_with(field));
        }
        for i in 0..MAX_STUBS {
            s.set(stub(&format!("/u{i}"), 200, "")).unwrap();
        }
        assert!(s.set(stub("/one-more", 200, "")).unwrap_err().starts_with("url:"));
        assert!(s.set(stub("/u0", 201, "replaced")).is_ok(), "replacing is not adding");
    }
}
