//! The page's Web Notifications (`new Notification(title, {body, tag})`): the
//! account's own pages get Kolokol toasts — amoCRM uses them — every other
//! origin is denied. What a page may send is checked here, naming the field.

use url::Url;

use crate::core::links;

/// Longest title and body a toast shows; more is refused, not cut.
pub const MAX_TITLE: usize = 512;
pub const MAX_BODY: usize = 4096;
pub const MAX_TAG: usize = 256;

/// One `new Notification(...)` as the page made it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebNotification {
    /// The page's origin: toasts are replaced and closed within it only.
    pub source: String,
    pub title: String,
    pub body: String,
    pub tag: Option<String>,
}

/// "granted" for a page of the account's origin, "denied" for every other.
pub fn permission(page: &str, account: Option<&Url>) -> &'static str {
    if allowed(page, account).is_ok() {
        "granted"
    } else {
        "denied"
    }
}

fn allowed(page: &str, account: Option<&Url>) -> Result<String, String> {
    let origin = links::origin_of(page);
    let Some(account) = account else {
        return Err("permission: notifications are granted to the amoCRM account's pages only, and no account address is set".into());
    };
    let account = account.origin().ascii_serialization();
    if origin != account {
        return Err(format!("permission: notifications are granted to {account} only, not to {origin}"));
    }
    Ok(origin)
}

/// Checks a notification from `page`; the refusal names the field.
pub fn check(page: &str, account: Option<&Url>, title: &str, body: &str, tag: &str) -> Result<WebNotification, String> {
    let source = allowed(page, account)?;
    let text = |field: &str, v: &str, max: usize| -> Result<String, String> {
        if v.len() > max {
            return Err(format!("{field}: {} bytes; at most {max}", v.len()));
        }
        // Control characters would reach the notification server as they are.
        Ok(v.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect::<String>().trim().to_owned())
    };
    let title = text("title", title, MAX_TITLE)?;
    let body = text("body", body, MAX_BODY)?;
    let tag = text("tag", tag, MAX_TAG)?;
    if title.is_empty() && body.is_empty() {
        return Err("title: empty, and so is the body; there is nothing to show".into());
    }
    Ok(WebNotification { source, title, body, tag: (!tag.is_empty()).then_some(tag) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Url {
        Url::parse("https://a.amocrm.ru").unwrap()
    }

    #[test]
    fn only_the_accounts_origin_is_granted() {
        let a = account();
        assert_eq!(permission("https://a.amocrm.ru/leads/pipeline/", Some(&a)), "granted");
        for page in ["https://b.amocrm.ru/", "http://a.amocrm.ru/", "https://a.amocrm.ru:8443/", "kolokol://localhost/index.html", "not a url"] {
            assert_eq!(permission(page, Some(&a)), "denied", "{page}");
        }
        assert_eq!(permission("https://a.amocrm.ru/", None), "denied");
        let e = check("https://evil.example/", Some(&a), "t", "b", "").unwrap_err();
        assert!(e.starts_with("permission:") && e.contains("https://evil.example"), "{e}");
    }

    #[test]
    fn fields_are_checked_and_named() {
        let a = account();
        let page = "https://a.amocrm.ru/";
        let n = check(page, Some(&a), " Новая заявка ", "Иванов\u{1b}]52;x\u{7}\nстрока 2", "lead-7").unwrap();
        assert_eq!(n, WebNotification {
            source: "https://a.amocrm.ru".into(),
            title: "Новая заявка".into(),
            body: "Иванов ]52;x \nстрока 2".into(),
            tag: Some("lead-7".into()),
        });
        assert!(check(page, Some(&a), &"x".repeat(MAX_TITLE + 1), "", "").unwrap_err().starts_with("title:"));
        assert!(check(page, Some(&a), "t", &"x".repeat(MAX_BODY + 1), "").unwrap_err().starts_with("body:"));
        assert!(check(page, Some(&a), "t", "", &"x".repeat(MAX_TAG + 1)).unwrap_err().starts_with("tag:"));
        assert!(check(page, Some(&a), " ", "", "").unwrap_err().starts_with("title:"));
        assert_eq!(check(page, Some(&a), "t", "", "").unwrap().tag, None);
    }
}
