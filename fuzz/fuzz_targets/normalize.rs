//! The contract's normaliser, all five methods. Input: one byte choosing the
//! method (low bits) and whether an account address is set (high bit), then
//! the payload as sent (only valid UTF-8 is a payload: the facade sends JSON text).
//! Beyond "no panic": an accepted call's links are absolute http(s) with a
//! host, and what it shows is non-empty and already clean.
#![no_main]

use kolokol_lib::core::api::{normalize, Context, Method};
use kolokol_lib::core::{html, links};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(raw) = std::str::from_utf8(rest) else { return };
    let method = Method::ALL[usize::from(selector % 5)];
    let account = Url::parse("https://example.amocrm.ru").unwrap();
    let ctx = Context {
        account: (selector & 0x80 != 0).then_some(&account),
        now_ms: 1_700_000_000_000,
        id: "fuzz".into(),
    };
    match normalize(method, raw, ctx) {
        Ok(n) => {
            assert_eq!(n.method, method);
            assert!(n.header.is_some() || n.text.is_some(), "accepted with nothing to show: {raw:?}");
            for shown in [&n.header, &n.text].into_iter().flatten() {
                assert!(!shown.is_empty());
                // Cleaning is idempotent on the subset: what is stored is already clean.
                assert_eq!(&html::clean(shown), shown, "header/text not a fixed point of clean: {raw:?}");
            }
            if let Some(icon) = &n.icon {
                links::openable(icon).unwrap_or_else(|e| panic!("icon {icon:?} not openable: {e}; {raw:?}"));
            }
            for link in [&n.click, &n.card, &n.recording].into_iter().flatten() {
                if let Some(href) = &link.href {
                    let url = links::openable(href).unwrap_or_else(|e| panic!("{href:?} not openable: {e}; {raw:?}"));
                    assert!(matches!(url.scheme(), "http" | "https"));
                } else {
                    assert!(link.reason.is_some(), "a link with neither href nor reason: {raw:?}");
                }
            }
            if let Some(tag) = &n.tag {
                assert!(tag.chars().count() <= 200);
            }
            serde_json::to_string(&n).unwrap();
        }
        Err(refusal) => {
            assert!(!refusal.code.is_empty() && !refusal.field.is_empty() && !refusal.message.is_empty());
        }
    }
});
