//! The link rules: whatever a widget gives, `resolve` and `openable` yield only
//! absolute http(s) URLs with a host. Input: the account address as a person
//! would type it in the settings (first line; validated by the settings' own
//! rule, absent when empty or invalid), then the link as given.
#![no_main]

use kolokol_lib::core::links::{check_scheme, openable, resolve};
use kolokol_lib::core::settings::normalize_account;
use libfuzzer_sys::fuzz_target;
use url::Url;

fn assert_web(url: &Url, what: &str) {
    assert!(matches!(url.scheme(), "http" | "https"), "{what}: scheme {:?}", url.scheme());
    assert!(url.host().is_some(), "{what}: no host");
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (account, given) = s.split_once('\n').unwrap_or(("", s));
    let account = normalize_account(account).ok().flatten();
    if let Some(a) = &account {
        assert_web(a, "account");
    }
    if let Ok(Some(link)) = resolve(given, account.as_ref()) {
        match &link.href {
            Some(href) => {
                let url = Url::parse(href).unwrap_or_else(|e| panic!("resolve({given:?}) gave {href:?}: {e}"));
                assert_web(&url, href);
                let again = openable(href).unwrap_or_else(|e| panic!("resolve({given:?}) gave {href:?}, not openable: {e}"));
                assert_eq!(again.as_str(), href);
            }
            None => assert!(account.is_none() && link.reason.is_some(), "{given:?}: no href, no reason"),
        }
    }
    if let Ok(url) = openable(given) {
        assert_web(&url, given);
    }
    if let Ok(url) = Url::parse(given) {
        if check_scheme(&url).is_ok() {
            assert_web(&url, given);
        }
    }
});
