//! The `APP.notifications` contract in Rust: what each method accepts and how a
//! payload becomes a [`Notification`] or a [`Refusal`]. This is the only place
//! that validates or normalises; the JS facade only serialises. No Tauri here.

use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

use crate::core::html;
use crate::core::links::{self, Link};

/// Largest payload accepted, as serialised JSON (contract: 64 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Largest `tag` kept; longer ones are refused field by field like any other value.
const MAX_TAG_CHARS: usize = 200;
/// Dates beyond what a JS `Date` can hold (±8.64e15 ms) are not dates.
const MAX_DATE_MS: f64 = 8.64e15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    ShowMessage,
    ShowMessageError,
    ShowNotification,
    AddError,
    AddCall,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::ShowMessage,
        Method::ShowMessageError,
        Method::ShowNotification,
        Method::AddError,
        Method::AddCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::ShowMessage => "show_message",
            Method::ShowMessageError => "show_message_error",
            Method::ShowNotification => "show_notification",
            Method::AddError => "add_error",
            Method::AddCall => "add_call",
        }
    }

    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The field to name when the call has nothing to show.
    fn text_field(self) -> &'static str {
        match self {
            Method::ShowNotification => "text.text",
            _ => "text",
        }
    }
}

/// How a popup looks; also the test hook `data-look`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Look {
    Message,
    Error,
    Call,
}

/// A refused call: `field` names the offending field (`payload` for the whole object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Refusal { code, field: field.to_owned(), message: message.into() }
    }
}

/// Something in an accepted call that was ignored or missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A validated, normalised notification. `header` and `text` are safe HTML;
/// every other string is plain text for the UI to insert as text.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: String,
    pub method: Method,
    pub look: Look,
    pub header: Option<String>,
    pub text: Option<String>,
    /// Milliseconds since the epoch, as given (or now when not given).
    pub date_ms: i64,
    pub date_given: bool,
    pub icon: Option<String>,
    /// What a click on the popup opens (click_link, the card, or an error's link).
    pub click: Option<Link>,
    pub card: Option<Link>,
    pub recording: Option<Link>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub element: Option<Element>,
    pub duration_s: Option<u64>,
    pub tag: Option<String>,
    /// Who sent it: a page's origin (`https://x.amocrm.ru`, `kolokol://localhost`)
    /// or `cli`. Set by the router; a `tag` and `dismiss` reach only the
    /// notifications of the same source.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The payload exactly as received, unknown keys included (stored by
    /// the history; not sent back to the page, which has it).
    #[serde(skip_serializing)]
    pub payload: Value,
    pub warnings: Vec<Warning>,
}

/// Milliseconds since the epoch, the clock every notification, row and log entry uses.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// What the normaliser needs from outside: the account address and the clock.
pub struct Context<'a> {
    pub account: Option<&'a Url>,
    pub now_ms: i64,
    pub id: String,
}

/// Parses and normalises one call. `raw` is the payload serialised as JSON.
pub fn normalize(method: Method, raw: &str, ctx: Context<'_>) -> Result<Notification, Refusal> {
    if raw.len() > MAX_PAYLOAD_BYTES {
        return Err(Refusal::new(
            "too_large",
            "payload",
            format!(
                "payload is {} bytes as JSON; the limit is {MAX_PAYLOAD_BYTES} bytes (64 KiB)",
                raw.len()
            ),
        ));
    }
    let payload: Value = serde_json::from_str(raw)
        .map_err(|e| Refusal::new("invalid_json", "payload", format!("payload is not valid JSON: {e}")))?;
    let obj = match &payload {
        Value::Object(o) => o,
        other => {
            return Err(Refusal::new(
                "not_object",
                "payload",
                format!(
                    "{}() expects an object such as {{header, text}}, got {}",
                    method.as_str(),
                    describe(other)
                ),
            ))
        }
    };

    let mut w = Warnings::default();
    let (header_raw, text_raw) = header_and_text(method, obj, &mut w);
    let header = header_raw.as_deref().map(html::clean).filter(|s| !s.is_empty());
    let text = text_raw.as_deref().map(html::clean).filter(|s| !s.is_empty());
    if header.is_none() && text.is_none() {
        let message = if header_raw.is_some() || text_raw.is_some() {
            format!(
                "nothing to show: header and `{}` hold only markup that is never shown (script, style, frames)",
                method.text_field()
            )
        } else {
            format!(
                "nothing to show: expected a non-empty string in `{}`{}",
                method.text_field(),
                if method == Method::AddCall { "" } else { " or a header" }
            )
        };
        return Err(Refusal::new("empty", method.text_field(), message));
    }
    required_warnings(method, header.is_some(), text.is_some(), &mut w);

    let (date_ms, date_given) = match date(obj.get("date"), &mut w) {
        Some(ms) => (ms, true),
        None => (ctx.now_ms, false),
    };
    let look = look(method, obj, &mut w);
    let account = ctx.account;
    let link = |field: &str, w: &mut Warnings| -> Option<Link> {
        let s = plain(obj.get(field), field, w)?;
        links::resolve(&s, account)
            .unwrap_or_else(|why| {
                w.add(field, format!("link dropped: {why}"));
                None
            })
    };

    let icon = link("icon", &mut w).and_then(|l| match l.href {
        Some(href) => Some(href),
        None => {
            w.add("icon", "relative icon URL cannot be loaded without the account address; the default icon is shown");
            None
        }
    });
    let element = if method == Method::AddCall { element(obj.get("element"), &mut w) } else { None };
    let card = element.as_ref().and_then(|e| {
        let path = links::card_path(&e.kind, &e.id)?;
        links::resolve(&path, account).ok().flatten()
    });
    let click_link = link("click_link", &mut w);
    let (recording, click) = match method {
        Method::AddCall => (link("link", &mut w), click_link.or_else(|| card.clone())),
        Method::ShowMessageError | Method::AddError => (None, click_link.or_else(|| link("link", &mut w))),
        _ => (None, click_link),
    };
    let duration_s = duration(obj.get("duration"), &mut w);
    let tag = plain(obj.get("tag"), "tag", &mut w).and_then(|t| {
        if t.chars().count() > MAX_TAG_CHARS {
            w.add("tag", format!("tag is longer than {MAX_TAG_CHARS} characters; ignored"));
            None
        } else {
            Some(t)
        }
    });

    Ok(Notification {
        id: ctx.id,
        method,
        look,
        header,
        text,
        date_ms,
        date_given,
        icon,
        click,
        card,
        recording,
        from: plain(obj.get("from"), "from", &mut w),
        to: plain(obj.get("to"), "to", &mut w),
        element,
        duration_s,
        tag,
        source: String::new(),
        warnings: w.0,
        payload,
    })
}

#[derive(Default)]
struct Warnings(Vec<Warning>);

impl Warnings {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Warning { field: field.to_owned(), message: message.into() });
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A scalar as display text: strings trimmed, numbers (phone numbers, ids) as written.
fn plain(v: Option<&Value>, field: &str, w: &mut Warnings) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            w.add(field, format!("expected a string, got {}; ignored", describe(other)));
            None
        }
    }
}

/// Header and text in every accepted shape: `text` may be an object
/// `{header, text}` (show_notification's shape, accepted on every method); a
/// top-level `header` is displayed except on add_call, where the contract lists
/// it as an extra key.
fn header_and_text(method: Method, obj: &Map<String, Value>, w: &mut Warnings) -> (Option<String>, Option<String>) {
    let (folded_header, text) = match obj.get("text") {
        Some(Value::Object(inner)) => (
            plain(inner.get("header"), "text.header", w),
            plain(inner.get("text"), "text.text", w),
        ),
        other => (None, plain(other, "text", w)),
    };
    let top_header = if method == Method::AddCall { None } else { plain(obj.get("header"), "header", w) };
    (folded_header.or(top_header), text)
}

fn required_warnings(method: Method, has_header: bool, has_text: bool, w: &mut Warnings) {
    let (header_field, needs_header) = match method {
        Method::ShowMessage | Method::ShowMessageError => ("header", true),
        Method::ShowNotification => ("text.header", true),
        Method::AddError | Method::AddCall => ("header", false),
    };
    if needs_header && !has_header {
        w.add(header_field, format!("{}() requires `{header_field}`; shown without a header", method.as_str()));
    }
    if !has_text {
        let f = method.text_field();
        w.add(f, format!("{}() requires `{f}`; shown with the header only", method.as_str()));
    }
}

fn look(method: Method, obj: &Map<String, Value>, w: &mut Warnings) -> Look {
    match method {
        Method::ShowMessage => Look::Message,
        Method::ShowMessageError | Method::AddError => Look::Error,
        Method::AddCall => Look::Call,
        Method::ShowNotification => match obj.get("type") {
            Some(Value::String(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "call" => Look::Call,
                "error" => Look::Error,
                _ => {
                    w.add("type", format!("type {t:?} is neither \"call\" nor \"error\"; shown as a plain message"));
                    Look::Message
                }
            },
            None | Some(Value::Null) => {
                w.add("type", "show_notification() requires `type` (\"call\" or \"error\"); shown as a plain message");
                Look::Message
            }
            Some(other) => {
                w.add("type", format!("type must be \"call\" or \"error\", got {}; shown as a plain message", describe(other)));
                Look::Message
            }
        },
    }
}

/// A number, or a string holding one.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// `date` in seconds (integer or fractional) or milliseconds (above 1e12).
fn date(v: Option<&Value>, w: &mut Warnings) -> Option<i64> {
    let v = v.filter(|v| !v.is_null())?;
    if matches!(v, Value::String(s) if s.trim().is_empty()) {
        return None;
    }
    match number(v) {
        Some(n) if n > 0.0 => {
            let ms = if n > 1e12 { n } else { n * 1000.0 };
            if ms <= MAX_DATE_MS {
                return Some(ms.round() as i64);
            }
            w.add("date", format!("date {n} is beyond any calendar; ignored, the time of the call is used"));
        }
        _ => w.add(
            "date",
            format!("date {v} is not a timestamp in seconds or milliseconds; ignored, the time of the call is used"),
        ),
    }
    None
}

fn duration(v: Option<&Value>, w: &mut Warnings) -> Option<u64> {
    let v = v.filter(|v| !v.is_null())?;
    match number(v) {
        // Checked after rounding: 999999999.5 would round to the bound.
        Some(n) if n >= 0.0 && n.round() < 1e9 => Some(n.round() as u64),
        _ => {
            w.add("duration", format!("duration {v} is not a number of seconds; ignored"));
            None
        }
    }
}

/// `element` of add_call. Missing or empty is fine; a type amoCRM has no card
/// for keeps the call and only loses the card link.
fn element(v: Option<&Value>, w: &mut Warnings) -> Option<Element> {
    let obj = match v? {
        Value::Null => return None,
        Value::Object(o) if o.is_empty() => return None,
        Value::Object(o) => o,
        other => {
            w.add("element", format!("expected an object {{id, type}}, got {}; no card link", describe(other)));
            return None;
        }
    };
    let id = plain(obj.get("id"), "element.id", w);
    let kind = plain(obj.get("type"), "element.type", w).map(|t| t.to_ascii_lowercase());
    let name = plain(obj.get("name"), "element.name", w);
    let kind = match kind.as_deref() {
        Some("contact" | "contacts") => "contact",
        Some("lead" | "leads") => "lead",
        Some("company" | "companies") => "company",
        Some(other) => {
            w.add("element.type", format!("type {other:?} is not contact, lead or company; no card link"));
            return None;
        }
        None => {
            w.add("element.type", "element.type is missing (contact, lead or company); no card link");
            return None;
        }
    };
    let Some(id) = id else {
        w.add("element.id", "element.id is missing; no card link");
        return None;
    };
    Some(Element { id, kind: kind.to_owned(), name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn run(method: Method, v: Value) -> Result<Notification, Refusal> {
        run_with(method, v, None)
    }

    fn run_with(method: Method, v: Value, account: Option<&str>) -> Result<Notification, Refusal> {
        let acc = account.map(|a| Url::parse(a).unwrap());
        normalize(method, &v.to_string(), Context { account: acc.as_ref(), now_ms: NOW, id: "id-1".into() })
    }

    fn fields(n: &Notification) -> Vec<&str> {
        n.warnings.iter().map(|w| w.field.as_str()).collect()
    }

    // The seed page's seven examples, verbatim.
    #[test]
    fn seed_show_message() {
        let n = run(Method::ShowMessage, json!({"header": "Внимание", "text": "Соединение установлено", "date": 1534084500, "icon": "https://www.example.com/images/telephone.png"})).unwrap();
        assert_eq!((n.look, n.header.as_deref(), n.text.as_deref()), (Look::Message, Some("Внимание"), Some("Соединение установлено")));
        assert_eq!(n.date_ms, 1_534_084_500_000);
        assert!(n.date_given);
        assert_eq!(n.icon.as_deref(), Some("https://www.example.com/images/telephone.png"));
        assert!(n.warnings.is_empty(), "{:?}", n.warnings);
    }

    #[test]
    fn seed_show_message_error() {
        let n = run(Method::ShowMessageError, json!({"header": "Внимание", "text": "Соединение с сервером потеряно"})).unwrap();
        assert_eq!((n.look, n.header.as_deref(), n.text.as_deref()), (Look::Error, Some("Внимание"), Some("Соединение с сервером потеряно")));
        assert_eq!(n.date_ms, NOW);
        assert!(!n.date_given);
        assert!(n.warnings.is_empty());
    }

    #[test]
    fn seed_show_notification_call_and_error() {
        let n = run(Method::ShowNotification, json!({"text": {"header": "Исходящий звонок", "text": "Набор номера +79876543210"}, "type": "call"})).unwrap();
        assert_eq!((n.look, n.header.as_deref(), n.text.as_deref()), (Look::Call, Some("Исходящий звонок"), Some("Набор номера +79876543210")));
        let n = run(Method::ShowNotification, json!({"text": {"header": "Ошибка", "text": "Произошла ошибка в работе виджета"}, "type": "error"})).unwrap();
        assert_eq!((n.look, n.header.as_deref()), (Look::Error, Some("Ошибка")));
        assert!(n.warnings.is_empty());
    }

    #[test]
    fn seed_add_error() {
        let n = run_with(Method::AddError, json!({"header": "Ошибка", "text": "Не удалось установить задачу! Контакт не найден!", "date": 1534085310, "link": "/contacts/list/?term=4951234567"}), Some("https://example.amocrm.ru")).unwrap();
        assert_eq!((n.look, n.header.as_deref()), (Look::Error, Some("Ошибка")));
        assert_eq!(n.click.unwrap().href.as_deref(), Some("https://example.amocrm.ru/contacts/list/?term=4951234567"));
    }

    #[test]
    fn seed_add_call_with_element() {
        let n = run_with(Method::AddCall, json!({"text": "Звонок от +7(999)888 55 33", "date": 1534084500, "from": "Петрова Анна", "to": "Смирнов Алексей", "element": {"id": 18221265, "type": "contact"}, "duration": 250, "link": "https://example.com/dialog.mp3"}), Some("https://example.amocrm.ru")).unwrap();
        assert_eq!(n.look, Look::Call);
        assert_eq!(n.header, None);
        assert_eq!(n.text.as_deref(), Some("Звонок от +7(999)888 55 33"));
        assert_eq!((n.from.as_deref(), n.to.as_deref(), n.duration_s), (Some("Петрова Анна"), Some("Смирнов Алексей"), Some(250)));
        assert_eq!(n.element, Some(Element { id: "18221265".into(), kind: "contact".into(), name: None }));
        assert_eq!(n.click.unwrap().href.as_deref(), Some("https://example.amocrm.ru/contacts/detail/18221265"));
        assert_eq!(n.recording.unwrap().href.as_deref(), Some("https://example.com/dialog.mp3"));
        assert!(n.warnings.is_empty(), "{:?}", n.warnings);
    }

    #[test]
    fn seed_add_call_with_click_link_and_no_account() {
        let n = run(Method::AddCall, json!({"text": "Звонок от +7(999)888 55 33", "date": 1534084500, "from": "Петрова Анна", "to": "Смирнов Алексей", "click_link": "/contacts/add/?phone=9191234567"})).unwrap();
        let click = n.click.unwrap();
        assert_eq!((click.href, click.reason.as_deref()), (None, Some(links::NO_ACCOUNT_REASON)));
        assert_eq!(click.given, "/contacts/add/?phone=9191234567");
    }

    #[test]
    fn click_link_wins_over_card() {
        let n = run_with(Method::AddCall, json!({"text": "t", "element": {"id": 1, "type": "lead"}, "click_link": "https://crm.example/x"}), Some("https://a.amocrm.ru")).unwrap();
        assert_eq!(n.click.unwrap().href.as_deref(), Some("https://crm.example/x"));
        assert_eq!(n.card.unwrap().href.as_deref(), Some("https://a.amocrm.ru/leads/detail/1"));
    }

    #[test]
    fn extra_keys_are_kept_in_payload_not_displayed() {
        let n = run(Method::AddCall, json!({"text": "t", "header": "H", "name": "n", "element": {"id": "5", "type": "company", "company": {"x": 1}}})).unwrap();
        assert_eq!(n.header, None);
        assert_eq!(n.payload["header"], "H");
        assert_eq!(n.payload["element"]["company"]["x"], 1);
        assert_eq!(n.element.unwrap().kind, "company");
        assert!(n.warnings.is_empty());
    }

    #[test]
    fn string_numbers_and_number_strings() {
        let n = run(Method::AddCall, json!({"text": 79991234567u64, "from": 79876543210u64, "element": {"id": "18221265", "type": "Contacts"}, "duration": "250", "date": "1534084500"})).unwrap();
        assert_eq!(n.text.as_deref(), Some("79991234567"));
        assert_eq!(n.from.as_deref(), Some("79876543210"));
        assert_eq!(n.duration_s, Some(250));
        assert_eq!(n.date_ms, 1_534_084_500_000);
        assert_eq!(n.element.unwrap().id, "18221265");
    }

    #[test]
    fn dates_in_every_form() {
        let d = |v: Value| run(Method::ShowMessage, json!({"header": "h", "text": "t", "date": v})).unwrap();
        assert_eq!(d(json!(1534084500)).date_ms, 1_534_084_500_000);
        assert_eq!(d(json!(1534084500.25)).date_ms, 1_534_084_500_250);
        assert_eq!(d(json!(1534084500123u64)).date_ms, 1_534_084_500_123);
        assert_eq!(d(json!(1)).date_ms, 1000); // stale: kept as given
        assert_eq!(d(json!(4102444800u64)).date_ms, 4_102_444_800_000); // 2100: kept as given
        let n = d(json!("yesterday"));
        assert_eq!((n.date_ms, n.date_given, fields(&n)), (NOW, false, vec!["date"]));
        assert!(n.warnings[0].message.contains("yesterday"));
        let n = d(Value::Null);
        assert_eq!((n.date_ms, n.date_given, n.warnings.len()), (NOW, false, 0));
        assert_eq!(fields(&d(json!(-5))), vec!["date"]);
        assert_eq!(fields(&d(json!(1e300))), vec!["date"]);
        assert_eq!(fields(&d(json!({}))), vec!["date"]);
    }

    #[test]
    fn html_is_reduced_to_the_safe_subset() {
        let n = run(Method::ShowMessage, json!({"header": "<img src=x onerror=alert(1)>Hi", "text": "<script>alert(1)</script><b>bold</b><br><a href=\"javascript:x\">l</a>"})).unwrap();
        assert_eq!(n.header.as_deref(), Some("Hi"));
        assert_eq!(n.text.as_deref(), Some("<b>bold</b><br><a rel=\"noopener noreferrer nofollow\">l</a>"));
    }

    #[test]
    fn only_script_is_refused_as_empty() {
        let r = run(Method::ShowMessage, json!({"text": "<script>alert(1)</script>"})).unwrap_err();
        assert_eq!((r.code, r.field.as_str()), ("empty", "text"));
        assert!(r.message.contains("markup"));
        // The message names the field the refusal names.
        let r = run(Method::ShowNotification, json!({"text": {"header": "</a>"}})).unwrap_err();
        assert_eq!((r.code, r.field.as_str()), ("empty", "text.text"));
        assert!(r.message.contains("`text.text`"), "{}", r.message);
    }

    #[test]
    fn flat_show_notification() {
        let n = run(Method::ShowNotification, json!({"header": "Звонок", "text": "Набор", "type": "call"})).unwrap();
        assert_eq!((n.look, n.header.as_deref(), n.text.as_deref()), (Look::Call, Some("Звонок"), Some("Набор")));
    }

    #[test]
    fn show_notification_missing_or_unknown_type_is_a_message() {
        let n = run(Method::ShowNotification, json!({"text": {"header": "h", "text": "t"}})).unwrap();
        assert_eq!((n.look, fields(&n)), (Look::Message, vec!["type"]));
        let n = run(Method::ShowNotification, json!({"text": {"header": "h", "text": "t"}, "type": "sms"})).unwrap();
        assert_eq!((n.look, fields(&n)), (Look::Message, vec!["type"]));
        let n = run(Method::ShowNotification, json!({"text": {"header": "h", "text": "t"}, "type": " CALL "})).unwrap();
        assert_eq!(n.look, Look::Call);
    }

    #[test]
    fn add_call_unfolds_show_notification_shape() {
        let n = run(Method::AddCall, json!({"text": {"header": "Входящий", "text": "+7 999"}})).unwrap();
        assert_eq!((n.header.as_deref(), n.text.as_deref()), (Some("Входящий"), Some("+7 999")));
    }

    #[test]
    fn element_missing_empty_or_unknown_keeps_the_call() {
        let n = run(Method::AddCall, json!({"text": "t", "element": {}})).unwrap();
        assert_eq!((n.element, n.card, n.warnings.len()), (None, None, 0));
        let n = run(Method::AddCall, json!({"text": "t", "element": {"id": 1, "type": "task"}})).unwrap();
        assert_eq!((n.element.clone(), fields(&n)), (None, vec!["element.type"]));
        let n = run(Method::AddCall, json!({"text": "t", "element": {"type": "lead"}})).unwrap();
        assert_eq!(fields(&n), vec!["element.id"]);
        let n = run(Method::AddCall, json!({"text": "t", "element": "lead"})).unwrap();
        assert_eq!(fields(&n), vec!["element"]);
    }

    #[test]
    fn missing_required_beside_present_is_accepted_with_warning() {
        let n = run(Method::ShowMessage, json!({"header": "only header"})).unwrap();
        assert_eq!((n.text.clone(), fields(&n)), (None, vec!["text"]));
        let n = run(Method::ShowMessageError, json!({"text": "only text"})).unwrap();
        assert_eq!(fields(&n), vec!["header"]);
        let n = run(Method::ShowNotification, json!({"text": {"header": "h"}, "type": "error"})).unwrap();
        assert_eq!(fields(&n), vec!["text.text"]);
        let n = run(Method::AddError, json!({"header": "h"})).unwrap();
        assert_eq!(fields(&n), vec!["text"]);
        // add_error's header is optional: no warning for text alone.
        assert!(run(Method::AddError, json!({"text": "t"})).unwrap().warnings.is_empty());
    }

    #[test]
    fn refusals_name_the_field() {
        for (m, v, code, field) in [
            (Method::ShowMessage, json!({}), "empty", "text"),
            (Method::ShowMessage, json!({"header": "  ", "text": ""}), "empty", "text"),
            (Method::ShowNotification, json!({"text": {}, "type": "call"}), "empty", "text.text"),
            (Method::AddCall, json!({"header": "ignored on add_call", "from": "x"}), "empty", "text"),
            (Method::AddError, json!("text"), "not_object", "payload"),
            (Method::AddError, json!([1, 2]), "not_object", "payload"),
            (Method::AddError, Value::Null, "not_object", "payload"),
            (Method::ShowMessage, json!({"header": {"a": 1}, "text": [1]}), "empty", "text"),
        ] {
            let r = run(m, v.clone()).unwrap_err();
            assert_eq!((r.code, r.field.as_str()), (code, field), "{m:?} {v}");
            assert!(r.message.contains(field) || field == "payload", "{}", r.message);
        }
        let r = run(Method::AddError, json!(5)).unwrap_err();
        assert!(r.message.contains("add_error() expects an object") && r.message.contains("number 5"), "{}", r.message);
    }

    #[test]
    fn size_limit() {
        let ok = json!({"text": "x".repeat(MAX_PAYLOAD_BYTES - 20)});
        assert!(ok.to_string().len() <= MAX_PAYLOAD_BYTES);
        assert!(run(Method::AddError, ok).is_ok());
        let r = run(Method::AddError, json!({"text": "x".repeat(MAX_PAYLOAD_BYTES)})).unwrap_err();
        assert_eq!((r.code, r.field.as_str()), ("too_large", "payload"));
        assert!(r.message.contains("65536"));
    }

    #[test]
    fn invalid_json_is_refused() {
        let r = normalize(Method::ShowMessage, "{", Context { account: None, now_ms: NOW, id: "x".into() }).unwrap_err();
        assert_eq!(r.code, "invalid_json");
    }

    #[test]
    fn dangerous_links_and_icons_are_dropped_with_warnings() {
        let n = run_with(Method::ShowMessageError, json!({"header": "h", "text": "t", "link": "javascript:alert(1)"}), Some("https://a.amocrm.ru")).unwrap();
        assert_eq!((n.click.clone(), fields(&n)), (None, vec!["link"]));
        let n = run(Method::ShowMessage, json!({"header": "h", "text": "t", "icon": "data:image/svg+xml,<svg onload=alert(1)>"})).unwrap();
        assert_eq!((n.icon.clone(), fields(&n)), (None, vec!["icon"]));
        let n = run(Method::ShowMessage, json!({"header": "h", "text": "t", "icon": "/img/x.png"})).unwrap();
        assert_eq!((n.icon.clone(), fields(&n)), (None, vec!["icon"]));
        let n = run_with(Method::ShowMessage, json!({"header": "h", "text": "t", "icon": "/img/x.png"}), Some("https://a.amocrm.ru")).unwrap();
        assert_eq!(n.icon.as_deref(), Some("https://a.amocrm.ru/img/x.png"));
        let n = run_with(Method::AddCall, json!({"text": "t", "link": "file:///etc/passwd", "click_link": "vbscript:x"}), Some("https://a.amocrm.ru")).unwrap();
        assert_eq!((n.recording.clone(), n.click.clone(), fields(&n)), (None, None, vec!["click_link", "link"]));
    }

    #[test]
    fn wrong_types_are_ignored_with_warnings() {
        let n = run(Method::AddCall, json!({"text": "t", "from": {"x": 1}, "to": true, "duration": "long", "tag": [1]})).unwrap();
        let mut f = fields(&n);
        f.sort();
        assert_eq!(f, vec!["duration", "from", "tag", "to"]);
        assert_eq!(n.duration_s, None);
        assert_eq!(run(Method::AddCall, json!({"text": "t", "duration": 90.6})).unwrap().duration_s, Some(91));
        // Found by the property test under wine: the bound holds after rounding.
        assert_eq!(run(Method::AddCall, json!({"text": "t", "duration": 999_999_999.4})).unwrap().duration_s, Some(999_999_999));
        let n = run(Method::AddCall, json!({"text": "t", "duration": 999_999_999.5})).unwrap();
        assert_eq!((n.duration_s, n.warnings[0].field.as_str()), (None, "duration"));
    }

    #[test]
    fn tag_is_kept() {
        let n = run(Method::AddCall, json!({"text": "t", "tag": 79991234567u64})).unwrap();
        assert_eq!(n.tag.as_deref(), Some("79991234567"));
        let n = run(Method::AddCall, json!({"text": "t", "tag": "x".repeat(201)})).unwrap();
        assert_eq!((n.tag.clone(), fields(&n)), (None, vec!["tag"]));
    }

    #[test]
    fn methods_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("eval"), None);
    }
}

/// Property tests: generated payloads (the contract's fields with hostile and
/// wrong-typed values, nested objects, arbitrary JSON, arbitrary bytes)
/// through [`normalize`] for every method.
#[cfg(test)]
mod props {
    use super::*;
    use crate::core::html::props::{check_safe_html, markup};
    use crate::core::links::props::{account, link_text};
    use proptest::prelude::*;
    use serde_json::Number;

    /// Every field a refusal or a warning may name: the payload's documented
    /// fields (and their nested forms), `tag`, and the pseudo-field `payload`
    /// for the whole object.
    const FIELDS: &[&str] = &[
        "payload", "header", "text", "text.header", "text.text", "date", "icon", "link", "click_link", "type", "from", "to",
        "element", "element.id", "element.type", "element.name", "duration", "tag",
    ];
    const CODES: &[&str] = &["too_large", "invalid_json", "not_object", "empty"];
    const KEYS: &[&str] = &[
        "header", "text", "date", "icon", "link", "click_link", "type", "from", "to", "element", "duration", "tag", "name",
        "id", "__proto__", "",
    ];

    /// A scalar: hostile markup and links, numbers in every form (huge,
    /// negative, fractional, as strings, NaN-like), booleans and null.
    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => markup().prop_map(Value::String),
            2 => link_text().prop_map(Value::String),
            1 => proptest::sample::select(vec![
                "call", "error", " CALL ", "sms", "contact", "Leads", "company", "task", "NaN", "Infinity", "-Infinity",
                "1e309", "-0", "0x10", "1534084500", "1534084500123", "99999999999999999999999", "  ", "", "yesterday",
                "\u{0}", "\u{202e}evil", "1_000",
            ]).prop_map(|s| Value::String(s.to_owned())),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            1 => proptest::sample::select(vec![0.0, -1.0, 1e12, 1e12 + 1.0, 8.64e15, 8.64e15 + 1.0, 1e300, 1e9, 1e9 - 0.5, 4.5])
                .prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => Just(Value::Null),
        ]
    }

    /// Nested JSON whose objects use the contract's keys, and some others.
    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(
                    (prop_oneof![3 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => any::<String>()], inner),
                    0..6
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// A payload shaped like a call: some of the contract's fields, `text`
    /// sometimes in show_notification's shape, `element` sometimes an
    /// element, every value possibly hostile or of the wrong type.
    fn payload() -> impl Strategy<Value = Value> {
        let element = prop_oneof![
            2 => (value(), prop_oneof![proptest::sample::select(vec!["contact", "lead", "company", "Contacts", "task"]).prop_map(Value::from), value()], value())
                .prop_map(|(id, kind, name)| serde_json::json!({"id": id, "type": kind, "name": name})),
            1 => value(),
        ];
        let text = prop_oneof![
            3 => value(),
            1 => (value(), value()).prop_map(|(h, t)| serde_json::json!({"header": h, "text": t})),
        ];
        (
            proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..8),
            proptest::option::of(text),
            proptest::option::of(element),
        )
            .prop_map(|(kv, text, element)| {
                let mut o: Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                if let Some(t) = text {
                    o.insert("text".into(), t);
                }
                if let Some(e) = element {
                    o.insert("element".into(), e);
                }
                Value::Object(o)
            })
    }

    /// Raw input as the IPC could deliver it: a payload, any JSON, JSON cut
    /// short, arbitrary bytes (as the lossy text the command receives).
    fn raw() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => payload().prop_map(|v| v.to_string()),
            2 => value().prop_map(|v| v.to_string()),
            1 => (payload(), any::<usize>()).prop_map(|(v, cut)| {
                let s = v.to_string();
                let mut cut = cut % (s.len() + 1);
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s[..cut].to_owned()
            }),
            1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    }

    fn method() -> impl Strategy<Value = Method> {
        proptest::sample::select(Method::ALL.to_vec())
    }

    fn check_link(field: &str, link: &Option<Link>) -> Result<(), TestCaseError> {
        let Some(link) = link else { return Ok(()) };
        match (&link.href, &link.reason) {
            (Some(href), None) => {
                let url = links::openable(href).map_err(|e| TestCaseError::fail(format!("{field}: {e}")))?;
                prop_assert!(matches!(url.scheme(), "http" | "https"), "{}: {}", field, href);
            }
            (None, Some(reason)) => prop_assert!(!reason.is_empty()),
            _ => prop_assert!(false, "{}: {:?}", field, link),
        }
        Ok(())
    }

    fn check(method: Method, raw: &str, account: Option<&Url>) -> Result<(), TestCaseError> {
        let ctx = Context { account, now_ms: 1_700_000_000_000, id: "p".into() };
        match normalize(method, raw, ctx) {
            Ok(n) => {
                for (field, html) in [("header", &n.header), ("text", &n.text)] {
                    if let Some(html) = html {
                        prop_assert!(!html.is_empty(), "{} is Some but empty", field);
                        check_safe_html(html).map_err(|e| TestCaseError::fail(format!("{field}: {e}")))?;
                    }
                }
                prop_assert!(n.header.is_some() || n.text.is_some(), "accepted with nothing to show: {}", raw);
                for (field, link) in [("click", &n.click), ("card", &n.card), ("recording", &n.recording)] {
                    check_link(field, link)?;
                }
                if let Some(icon) = &n.icon {
                    let url = links::openable(icon).map_err(|e| TestCaseError::fail(format!("icon: {e}")))?;
                    prop_assert!(matches!(url.scheme(), "http" | "https"));
                }
                if n.date_given {
                    prop_assert!((0.0..=MAX_DATE_MS).contains(&(n.date_ms as f64)), "date {}", n.date_ms);
                } else {
                    prop_assert_eq!(n.date_ms, 1_700_000_000_000);
                }
                prop_assert!(n.duration_s.is_none_or(|d| d < 1_000_000_000));
                prop_assert!(n.tag.as_ref().is_none_or(|t| !t.is_empty() && t.chars().count() <= MAX_TAG_CHARS));
                if method != Method::AddCall {
                    prop_assert!(n.element.is_none() && n.card.is_none());
                }
                // Unknown keys and all: the payload is kept exactly as received.
                prop_assert_eq!(Some(n.payload), serde_json::from_str::<Value>(raw).ok());
                for w in &n.warnings {
                    prop_assert!(FIELDS.contains(&w.field.as_str()), "warning names {:?}: {}", w.field, w.message);
                    prop_assert!(!w.message.is_empty());
                }
            }
            Err(r) => {
                prop_assert!(CODES.contains(&r.code), "code {:?}", r.code);
                prop_assert!(!r.field.is_empty() && FIELDS.contains(&r.field.as_str()), "refusal names {:?}", r.field);
                prop_assert!(!r.message.is_empty());
                prop_assert!(r.field == "payload" || r.message.contains(&r.field), "{:?} not in {:?}", r.field, r.message);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn payloads_are_normalised_safely_or_refused_naming_a_field(m in method(), raw in raw(), account in account()) {
            check(m, &raw, account.as_ref())?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20, failure_persistence: None, ..ProptestConfig::default() })]

        /// Near and over the size limit: refused as `payload`, never cut.
        #[test]
        fn large_payloads(m in method(), piece in markup(), n in (MAX_PAYLOAD_BYTES - 64)..(MAX_PAYLOAD_BYTES + 64)) {
            let mut text = piece.repeat(n / piece.len().max(1) + 1);
            let mut cut = n.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            let raw = serde_json::json!({"text": text}).to_string();
            check(m, &raw, None)?;
        }
    }
}
