//! Link rules of the contract: relative links resolve against the account address,
//! and only http(s) is ever opened. No Tauri here.

use serde::Serialize;
use url::Url;

/// A link as the UI needs it: what the widget gave, and either an absolute
/// http(s) address to open or the reason it cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub given: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub const NO_ACCOUNT_REASON: &str =
    "relative link: set the account address in Kolokol's settings to open it";

/// Resolves `given` per the contract. `Ok(None)` for an empty value; `Err` with the
/// reason when the link must be dropped (a scheme other than http/https).
pub fn resolve(given: &str, account: Option<&Url>) -> Result<Option<Link>, String> {
    let given = given.trim();
    if given.is_empty() {
        return Ok(None);
    }
    let absolute = match Url::parse(given) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => match account {
            Some(base) => base
                .join(given)
                .map_err(|e| format!("cannot resolve {given:?} against the account address: {e}"))?,
            None => {
                return Ok(Some(Link {
                    given: given.to_owned(),
                    href: None,
                    reason: Some(NO_ACCOUNT_REASON.to_owned()),
                }))
            }
        },
        Err(e) => return Err(format!("{given:?} is not a valid link: {e}")),
    };
    check_scheme(&absolute)?;
    Ok(Some(Link { given: given.to_owned(), href: Some(absolute.into()), reason: None }))
}

/// Who a page is, as the center knows its senders: `scheme://host[:port]` of
/// its address (also for custom schemes, whose URL origin is opaque), or the
/// text itself when it is no URL.
pub fn origin_of(address: &str) -> String {
    match Url::parse(address) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            (None, _) => format!("{}:", u.scheme()),
        },
        Err(_) => address.chars().take(200).collect(),
    }
}

/// Only http and https leave the app; every other scheme is dropped.
pub fn check_scheme(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err(format!("{url} has no host")),
        other => Err(format!("scheme `{other}:` is not allowed; only http and https links are opened")),
    }
}

/// The absolute http(s) address in `href`, or why it may not leave the app.
/// Checked again wherever a click turns a link into an action.
pub fn openable(href: &str) -> Result<Url, String> {
    let url = Url::parse(href).map_err(|e| format!("{href:?} is not an absolute link: {e}"))?;
    check_scheme(&url)?;
    Ok(url)
}

/// The amoCRM card path of an entity, or `None` for a type amoCRM has no card for.
pub fn card_path(kind: &str, id: &str) -> Option<String> {
    let section = match kind {
        "contact" => "contacts",
        "lead" => "leads",
        "company" => "companies",
        _ => return None,
    };
    // "." and ".." are path steps, not ids, even percent-encoded (URL parsers
    // read "%2e%2e" as ".."): "/contacts/detail/.." would open the list.
    if matches!(id, "." | "..") {
        return None;
    }
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    Some(format!("/{section}/detail/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Url {
        Url::parse("https://example.amocrm.ru").unwrap()
    }

    #[test]
    fn absolute_https_is_kept() {
        let l = resolve("https://example.com/dialog.mp3", None).unwrap().unwrap();
        assert_eq!(l.href.as_deref(), Some("https://example.com/dialog.mp3"));
    }

    #[test]
    fn relative_resolves_against_account() {
        let l = resolve("/contacts/list/?term=4951234567", Some(&account())).unwrap().unwrap();
        assert_eq!(l.href.as_deref(), Some("https://example.amocrm.ru/contacts/list/?term=4951234567"));
    }

    #[test]
    fn relative_without_account_is_shown_not_clickable() {
        let l = resolve("/contacts/add/?phone=9191234567", None).unwrap().unwrap();
        assert_eq!(l.href, None);
        assert_eq!(l.reason.as_deref(), Some(NO_ACCOUNT_REASON));
        assert_eq!(l.given, "/contacts/add/?phone=9191234567");
    }

    #[test]
    fn dangerous_schemes_are_dropped() {
        for bad in ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<b>x", "file:///etc/passwd", "ftp://x.org/a", "tauri://localhost/"] {
            let err = resolve(bad, Some(&account())).unwrap_err();
            assert!(err.contains("not allowed"), "{bad}: {err}");
        }
    }

    #[test]
    fn protocol_relative_becomes_https() {
        let l = resolve("//other.example/x", Some(&account())).unwrap().unwrap();
        assert_eq!(l.href.as_deref(), Some("https://other.example/x"));
    }

    #[test]
    fn empty_is_absent() {
        assert_eq!(resolve("   ", None), Ok(None));
    }

    #[test]
    fn card_paths() {
        assert_eq!(card_path("contact", "18221265").as_deref(), Some("/contacts/detail/18221265"));
        assert_eq!(card_path("lead", "7").as_deref(), Some("/leads/detail/7"));
        assert_eq!(card_path("company", "9").as_deref(), Some("/companies/detail/9"));
        assert_eq!(card_path("task", "9"), None);
        assert_eq!(card_path("contact", "1/../x").as_deref(), Some("/contacts/detail/1%2F..%2Fx"));
        // Found by the card_links_stay_on_the_account property test.
        assert_eq!(card_path("contact", ".."), None);
        assert_eq!(card_path("lead", "."), None);
        assert_eq!(card_path("lead", "...").as_deref(), Some("/leads/detail/..."));
    }

    #[test]
    fn a_pages_origin_names_its_sender() {
        assert_eq!(origin_of("https://a.amocrm.ru/leads/list/?x=1#y"), "https://a.amocrm.ru");
        assert_eq!(origin_of("http://localhost:5173/index.html"), "http://localhost:5173");
        assert_eq!(origin_of("kolokol://localhost/page/plain.html"), "kolokol://localhost");
        assert_eq!(origin_of("tauri://localhost/playground.html"), "tauri://localhost");
        assert_eq!(origin_of("about:blank"), "about:");
        assert_eq!(origin_of("cli"), "cli");
    }
}

/// Property tests: generated links (every scheme, odd hosts, relative forms,
/// control characters) through [`resolve`], [`openable`] and [`check_scheme`].
#[cfg(test)]
pub(crate) mod props {
    use super::*;
    use proptest::prelude::*;

    const SCHEMES: &[&str] = &[
        "", "http:", "https:", "HTTP:", "hTtPs:", "http:/", "https:///", "javascript:", " JaVaScRiPt:", "java\tscript:",
        "jav\u{0}ascript:", "data:", "file:", "ftp:", "tauri:", "ipc:", "asset:", "blob:", "vbscript:", "mailto:", "about:",
        "ws:", "view-source:", "//", "\\\\", "/\\", "/", "./", "../", "?", "#", " ", "\u{0}", "\u{1f}", "\u{a0}", "\u{feff}",
    ];
    const HOSTS: &[&str] = &[
        "", "//", "example.com", "//example.com", "//[::1]", "//127.0.0.1:8080", "//user:pw@host", "//xn--e1afmkfd.xn--p1ai",
        "//пример.рф", "//%2e%2e", "//a b", "//[", "//:80", "//host:99999", "alert(1)", "text/html,<script>x</script>",
        "///etc/passwd", "localhost",
    ];

    /// Something a widget could put in a link field.
    pub(crate) fn link_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (
                proptest::sample::select(SCHEMES),
                proptest::sample::select(HOSTS),
                "[/a-zA-Z0-9.%?#&=:@\\\\ -]{0,16}",
            )
                .prop_map(|(s, h, p)| format!("{s}{h}{p}")),
            1 => any::<String>(),
        ]
    }

    /// What the settings can hold: None or an http(s) origin.
    pub(crate) fn account() -> impl Strategy<Value = Option<Url>> {
        proptest::sample::select(vec![None, Some("https://example.amocrm.ru/"), Some("http://127.0.0.1:8080/"), Some("https://xn--e1afmkfd.xn--p1ai/")])
            .prop_map(|a| a.map(|a| Url::parse(a).unwrap()))
    }

    fn http_with_host(url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") && url.host().is_some()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn resolve_gives_http_or_a_reason(given in link_text(), account in account()) {
            match resolve(&given, account.as_ref()) {
                Ok(None) => prop_assert!(given.trim().is_empty()),
                Ok(Some(link)) => match (&link.href, &link.reason) {
                    (Some(href), None) => {
                        let url = openable(href).map_err(TestCaseError::fail)?;
                        prop_assert!(http_with_host(&url), "{:?} -> {}", given, href);
                        prop_assert_eq!(url.as_str(), href.as_str());
                    }
                    (None, Some(_)) => prop_assert!(account.is_none(), "{:?}: not clickable with an account", given),
                    _ => prop_assert!(false, "{:?} -> {:?}", given, link),
                },
                Err(why) => prop_assert!(!why.is_empty()),
            }
        }

        #[test]
        fn openable_is_only_http_and_agrees_with_check_scheme(given in link_text()) {
            let opened = openable(&given);
            if let Ok(url) = &opened {
                prop_assert!(http_with_host(url), "{:?} -> {}", given, url);
            }
            match Url::parse(&given) {
                Ok(url) => prop_assert_eq!(check_scheme(&url).is_ok(), opened.is_ok(), "{:?}", given),
                Err(_) => prop_assert!(opened.is_err()),
            }
        }

        #[test]
        fn card_links_stay_on_the_account(kind in proptest::sample::select(vec!["contact", "lead", "company"]), id in any::<String>()) {
            let account = Url::parse("https://example.amocrm.ru").unwrap();
            let Some(path) = card_path(kind, &id) else {
                prop_assert!(id == "." || id == "..", "{:?}: no card", id);
                return Ok(());
            };
            let link = resolve(&path, Some(&account)).map_err(TestCaseError::fail)?;
            // An id that trims to nothing leaves `/contacts/detail/`; never another site.
            let href = link.and_then(|l| l.href).unwrap_or_default();
            let url = Url::parse(&href).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(url.origin(), account.origin(), "{:?} -> {}", id, href);
            prop_assert!(url.path().starts_with(&format!("/{}/detail/", path.split('/').nth(1).unwrap())), "{:?} -> {}", id, href);
        }
    }
}
