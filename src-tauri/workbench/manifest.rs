//! Checks an amoCRM widget folder (`manifest.json`, `script.js`, `i18n/`) before it is loaded, so a
//! developer sees every mistake at once, each naming its field. No Tauri here.

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

/// Where amoCRM can place a widget; each may carry the suffix `-0` or `-1`.
const LOCATIONS: [&str; 21] = [
    "lcard",
    "ccard",
    "comcard",
    "cucard",
    "llist",
    "clist",
    "culist",
    "tlist",
    "settings",
    "advanced_settings",
    "card_sdk",
    "catalogs",
    "digital_pipeline",
    "lead_sources",
    "widget_page",
    "mobile_card",
    "everywhere",
    "sms",
    "whatsapp_modal",
    "salesbot_designer",
    "tcard",
];
const LOCATION_SUFFIXES: [&str; 2] = ["0", "1"];
const SETTING_TYPES: [&str; 5] = ["text", "pass", "users", "users_lp", "custom"];
const INTERFACE_VERSION: i64 = 2;
/// Quoted values in messages are cut here: a message names a value, it does not reprint a file.
const MAX_QUOTED_CHARS: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The parsed manifest when it was valid JSON (even with problems), else None.
    pub manifest: Option<Value>,
    pub problems: Vec<Problem>,
    /// widget.code if present, else the folder name given; for widget settings storage keys.
    pub code: String,
    /// widget.name as written (may be an i18n key like "widget.name"), widget.version.
    pub name: Option<String>,
    pub version: Option<String>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Checks the text of manifest.json. `folder_name` is the widget folder's name.
pub fn check(text: &str, folder_name: &str) -> Checked {
    let mut report = Report::default();
    let manifest = parse_json(text, "manifest.json", &mut report);
    if let Some(manifest) = &manifest {
        check_manifest(manifest, &mut report);
    }
    let widget = manifest.as_ref().and_then(|m| m.get("widget"));
    let text_of = |key: &str| widget.and_then(|w| w.get(key)).and_then(Value::as_str);
    let code = text_of("code").filter(|c| !c.trim().is_empty()).unwrap_or(folder_name).to_owned();
    let name = text_of("name").filter(|n| !n.trim().is_empty()).map(str::to_owned);
    let version = text_of("version").map(str::to_owned);
    Checked { manifest, problems: report.0, code, name, version }
}

/// Reads `<folder>/manifest.json` and checks it, plus folder-level checks: missing manifest.json (error,
/// field "manifest.json"), missing script.js (error, field "script.js"), missing i18n/ folder or i18n files
/// named in widget.locale (warning, field "i18n" or "i18n/xx.json"), i18n JSON that does not parse (error,
/// field "i18n/xx.json"), and i18n keys the manifest uses ("widget.name", "settings.login") that an i18n
/// file lacks (warning, field "i18n/xx.json").
pub fn check_folder(folder: &Path) -> Checked {
    let folder_name = folder_name(folder);
    let failed = |message: String| Checked {
        manifest: None,
        problems: vec![Problem { severity: Severity::Error, field: "manifest.json".into(), message }],
        code: folder_name.clone(),
        name: None,
        version: None,
    };
    if !folder.is_dir() {
        return failed(format!("not found: {} is not a folder", folder.display()));
    }
    let mut checked = match read_text(folder, &folder.join("manifest.json")) {
        Ok(text) => check(&text, &folder_name),
        Err(Unreadable::Missing) => failed("is missing; every amoCRM widget has one at the top of its folder".into()),
        Err(Unreadable::Other(message)) => failed(message),
    };
    let mut report = Report(std::mem::take(&mut checked.problems));
    if !folder.join("script.js").is_file() {
        report.error("script.js", "is missing; amoCRM starts the widget from script.js at the top of its folder");
    }
    check_i18n(folder, checked.manifest.as_ref(), &mut report);
    check_tour(folder, checked.manifest.as_ref(), &mut report);
    checked.problems = report.0;
    checked
}

#[derive(Default)]
struct Report(Vec<Problem>);

impl Report {
    fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Error, field: field.into(), message: message.into() });
    }

    fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Warning, field: field.into(), message: message.into() });
    }
}

/// A value as a message names it: `the number 1`, `"1.0"`, `an object`.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => quote(s),
        Value::Array(a) if a.is_empty() => "an empty array".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn quote(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTED_CHARS {
        return Value::from(s).to_string();
    }
    let cut: String = s.chars().take(MAX_QUOTED_CHARS - 1).collect();
    Value::from(cut + "…").to_string()
}

/// Parses a JSON file's text; `field` names the file in problems.
fn parse_json(text: &str, field: &str, report: &mut Report) -> Option<Value> {
    // Windows editors add a BOM; strict parsers (amoCRM's among them) then reject the file. Said plainly, and
    // the rest is still checked.
    let body = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            report.error(
                field,
                "starts with a UTF-8 byte order mark (BOM), which JSON parsers reject; save it as UTF-8 without BOM",
            );
            rest
        }
        None => text,
    };
    if body.trim().is_empty() {
        report.error(field, "is empty; expected a JSON object");
        return None;
    }
    match serde_json::from_str(body) {
        Ok(v) => Some(v),
        Err(e) => {
            let full = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let what = full.strip_suffix(&position).unwrap_or(&full);
            report.error(field, format!("is not valid JSON: {what} at line {}, column {}", e.line(), e.column()));
            None
        }
    }
}

fn check_manifest(manifest: &Value, report: &mut Report) {
    let Some(root) = manifest.as_object() else {
        report.error(
            "manifest.json",
            format!("must be a JSON object with \"widget\" and \"locations\", got {}", describe(manifest)),
        );
        return;
    };
    match root.get("widget") {
        Some(Value::Object(widget)) => check_widget(widget, report),
        Some(other) => report.error("widget", format!("must be an object, got {}", describe(other))),
        None => report.error("widget", "is missing; expected an object with name, version and interface_version"),
    }
    check_locations(root.get("locations"), report);
    check_settings(root.get("settings"), report);
}

fn check_widget(widget: &Map<String, Value>, report: &mut Report) {
    match widget.get("name") {
        Some(Value::String(s)) if s.trim().is_empty() => report.error("widget.name", "must not be empty"),
        Some(Value::String(_)) => {}
        Some(other) => report.error(
            "widget.name",
            format!("must be a string (the name, or an i18n key such as \"widget.name\"), got {}", describe(other)),
        ),
        None => report.error("widget.name", "is missing; expected the name, or an i18n key such as \"widget.name\""),
    }

    // amoCRM takes any non-empty version ("0.95", even a number): a warning
    // says what the marketplace expects; only a missing one is refused.
    match widget.get("version") {
        Some(Value::String(s)) if is_version(s) => {}
        Some(Value::String(s)) if s.trim().is_empty() => {
            report.error("widget.version", "must not be empty; expected a version string like \"1.0.0\"")
        }
        Some(v @ (Value::String(_) | Value::Number(_))) => report.warning(
            "widget.version",
            format!("is {}; amoCRM accepts it, its marketplace expects three numbers like \"1.0.0\"", describe(v)),
        ),
        Some(other) => {
            report.error("widget.version", format!("must be a version string like \"1.0.0\", got {}", describe(other)))
        }
        None => report.error("widget.version", "is missing; expected a version string like \"1.0.0\""),
    }

    match widget.get("interface_version") {
        Some(Value::Number(n)) if n.as_i64() == Some(INTERFACE_VERSION) => {}
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => report.warning(
            "widget.interface_version",
            format!("is {n}; amoCRM accepts interface_version {INTERFACE_VERSION}"),
        ),
        Some(other) => report.warning(
            "widget.interface_version",
            format!("should be an integer (amoCRM's current is {INTERFACE_VERSION}), got {}", describe(other)),
        ),
        None => report.warning(
            "widget.interface_version",
            format!("is missing; amoCRM's current interface_version is {INTERFACE_VERSION}"),
        ),
    }

    match widget.get("description") {
        Some(Value::String(s)) if s.trim().is_empty() => report.warning("widget.description", "is empty"),
        Some(Value::String(_)) => {}
        Some(other) => report.warning("widget.description", format!("should be a string, got {}", describe(other))),
        None => report.warning(
            "widget.description",
            "is missing; amoCRM shows it in the widget's card (text, or an i18n key such as \"widget.description\")",
        ),
    }
    if let Some(v) = widget.get("short_description").filter(|v| !v.is_string()) {
        report.warning("widget.short_description", format!("should be a string, got {}", describe(v)));
    }

    if let Some(v) = widget.get("locale") {
        check_locale(v, report);
    }
    for key in ["init_once", "installation"] {
        if let Some(v) = widget.get(key).filter(|v| !v.is_boolean()) {
            report.warning(format!("widget.{key}"), format!("should be true or false, got {}", describe(v)));
        }
    }
    match widget.get("code") {
        Some(Value::String(s)) if s.trim().is_empty() => {
            report.warning("widget.code", "is empty; Kolokol uses the folder's name as the code")
        }
        Some(Value::String(_)) | None => {}
        Some(other) => report.warning(
            "widget.code",
            format!("should be a string, got {}; Kolokol uses the folder's name as the code", describe(other)),
        ),
    }
}

/// Digits separated by dots, at least three parts: "1.0.0", "2.10.3.1".
fn is_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A locale names the file `i18n/<locale>.json`, so anything that is not a plain code is suspect.
fn is_language_code(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_locale(locale: &Value, report: &mut Report) {
    let Some(items) = locale.as_array() else {
        report.warning(
            "widget.locale",
            format!("should be an array of language codes such as [\"ru\", \"en\"], got {}", describe(locale)),
        );
        return;
    };
    if items.is_empty() {
        report.warning(
            "widget.locale",
            "is empty; list the languages the widget has i18n files for, e.g. [\"ru\", \"en\"]",
        );
    }
    for (i, item) in items.iter().enumerate() {
        let field = format!("widget.locale[{i}]");
        match item {
            Value::String(s) if s.trim().is_empty() => report.warning(field, "is empty"),
            Value::String(s) if !is_language_code(s) => report
                .warning(field, format!("{} does not look like a language code such as \"ru\" or \"en\"", quote(s))),
            Value::String(_) => {}
            other => report.warning(field, format!("should be a language code such as \"ru\", got {}", describe(other))),
        }
    }
}

fn check_locations(locations: Option<&Value>, report: &mut Report) {
    const EXAMPLE: &str = "[\"ccard-1\", \"settings\"]";
    let items = match locations {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            report.error("locations", format!("is empty; list where the widget appears, such as {EXAMPLE}"));
            return;
        }
        Some(other) => {
            report.error(
                "locations",
                format!("must be an array of locations such as {EXAMPLE}, got {}", describe(other)),
            );
            return;
        }
        None => {
            report.error("locations", format!("is missing; expected an array of locations such as {EXAMPLE}"));
            return;
        }
    };
    // (what counts as the same location, its index, as written): "ccard-0" and "ccard-1" are one place.
    let mut seen: Vec<(String, usize, &str)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("locations[{i}]");
        let Some(location) = item.as_str() else {
            report.error(field, format!("must be a location name (a string), got {}", describe(item)));
            continue;
        };
        if location.trim().is_empty() {
            report.error(field, "must not be empty");
            continue;
        }
        let (base, suffix) = match location.split_once('-') {
            Some((base, suffix)) => (base, Some(suffix)),
            None => (location, None),
        };
        let same = if LOCATIONS.contains(&base) {
            if let Some(suffix) = suffix.filter(|s| !LOCATION_SUFFIXES.contains(s)) {
                report.warning(
                    field.as_str(),
                    format!(
                        "{} has the suffix \"-{suffix}\"; a location takes -0 or -1, e.g. \"{base}-1\"",
                        quote(location)
                    ),
                );
            }
            base.to_owned()
        } else {
            let lower = base.to_ascii_lowercase();
            let hint = if LOCATIONS.contains(&lower.as_str()) {
                format!(" (locations are lowercase: {})", quote(&location.to_ascii_lowercase()))
            } else {
                String::new()
            };
            report.warning(
                field.as_str(),
                format!("{} is not a known amoCRM location{hint}; known: {}", quote(location), LOCATIONS.join(", ")),
            );
            location.to_owned()
        };
        match seen.iter().find(|(s, _, _)| *s == same) {
            Some((_, j, first)) => report.warning(
                field,
                format!("{} repeats locations[{j}] ({}); list each location once", quote(location), quote(first)),
            ),
            None => seen.push((same, i, location)),
        }
    }
}

fn check_settings(settings: Option<&Value>, report: &mut Report) {
    match settings {
        // A widget without settings writes `[]` (PHP's empty array) or `{}`, or leaves the key out.
        None => {}
        Some(Value::Array(items)) if items.is_empty() => {}
        Some(Value::Object(entries)) => {
            for (key, entry) in entries {
                check_setting(key, entry, report);
            }
        }
        Some(other) => report.error(
            "settings",
            format!(
                "must be an object keyed by setting code, such as {{\"login\": {{\"name\": \"settings.login\", \
                 \"type\": \"text\"}}}}, got {}",
                describe(other)
            ),
        ),
    }
}

fn check_setting(key: &str, entry: &Value, report: &mut Report) {
    let field = format!("settings.{key}");
    let Some(entry) = entry.as_object() else {
        report.error(field, format!("must be an object with name and type, got {}", describe(entry)));
        return;
    };
    match entry.get("name") {
        Some(Value::String(s)) if s.trim().is_empty() => report.warning(format!("{field}.name"), "is empty"),
        Some(Value::String(_)) => {}
        Some(other) => report.warning(format!("{field}.name"), format!("should be a string, got {}", describe(other))),
        None => report.warning(
            format!("{field}.name"),
            format!("is missing; expected the label, or an i18n key such as \"settings.{key}\""),
        ),
    }
    let allowed = SETTING_TYPES.join(", ");
    match entry.get("type") {
        Some(Value::String(s)) if SETTING_TYPES.contains(&s.as_str()) => {}
        Some(Value::String(s)) => report.warning(
            format!("{field}.type"),
            format!("{} is not a setting type amoCRM knows (Kolokol shows a text field); expected one of: {allowed}", quote(s)),
        ),
        Some(other) => {
            report.warning(format!("{field}.type"), format!("should be one of: {allowed}; got {}", describe(other)))
        }
        None => report.warning(format!("{field}.type"), format!("is missing (Kolokol shows a text field); expected one of: {allowed}")),
    }
    if let Some(v) = entry.get("required").filter(|v| !v.is_boolean()) {
        report.warning(format!("{field}.required"), format!("should be true or false, got {}", describe(v)));
    }
}

fn folder_name(folder: &Path) -> String {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    // "." and ".." have no name of their own; their real path has.
    name(folder)
        .or_else(|| dunce::canonicalize(folder).ok().as_deref().and_then(name))
        .unwrap_or_else(|| folder.display().to_string())
}

enum Unreadable {
    Missing,
    Other(String),
}

/// A file of the widget folder, read only when it is inside the folder after
/// following links (a `manifest.json` linked to `~/.ssh/…` is not read: its
/// text would reach the page in env.json).
fn read_text(folder: &Path, path: &Path) -> Result<String, Unreadable> {
    if std::fs::symlink_metadata(path).is_ok() && crate::workbench::target::contained(folder, path).is_none() {
        return Err(Unreadable::Other(
            "is a link to a file outside the widget folder (or to a hidden one); Kolokol reads only the folder's own files"
                .into(),
        ));
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| Unreadable::Other("is not UTF-8 text; save it as UTF-8".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Unreadable::Missing),
        Err(e) => Err(Unreadable::Other(format!("cannot be read: {e}"))),
    }
}

/// Tour images named in `tour.tour_images` ({"ru": ["/images/tour_1_ru.png"]}):
/// amoCRM installs a widget without them, so a missing one is a warning.
fn check_tour(folder: &Path, manifest: Option<&Value>, report: &mut Report) {
    let Some(images) = manifest.and_then(|m| m.pointer("/tour/tour_images")).and_then(Value::as_object) else { return };
    for (lang, list) in images {
        for (i, item) in list.as_array().into_iter().flatten().enumerate() {
            let Some(rel) = item.as_str() else { continue };
            let inside = Path::new(rel.trim_start_matches('/'));
            let escapes = inside.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
            if escapes || !folder.join(inside).is_file() {
                report.warning(
                    format!("tour.tour_images.{lang}[{i}]"),
                    format!("{} is not in the widget folder; amoCRM shows the tour without it", quote(rel)),
                );
            }
        }
    }
}

/// The i18n files: present, parsed, and holding the keys the manifest uses.
fn check_i18n(folder: &Path, manifest: Option<&Value>, report: &mut Report) {
    let locales: Option<Vec<&str>> = manifest
        .and_then(|m| m.pointer("/widget/locale"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).filter(|s| is_language_code(s)).collect())
        .filter(|locales: &Vec<&str>| !locales.is_empty());
    let dir = folder.join("i18n");
    if !dir.is_dir() {
        let expected = match &locales {
            Some(locales) => {
                let files: Vec<String> = locales.iter().map(|l| format!("i18n/{l}.json")).collect();
                format!(" (widget.locale expects {})", files.join(", "))
            }
            None => String::new(),
        };
        report.warning("i18n", format!("folder is missing{expected}; amoCRM takes the widget's texts from it"));
        return;
    }

    // Files named by widget.locale; without a usable list, every i18n/*.json there is.
    let names: Vec<String> = match &locales {
        Some(locales) => {
            let mut names: Vec<String> = Vec::new();
            for name in locales.iter().map(|l| format!("{l}.json")) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names
        }
        None => {
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.ends_with(".json"))
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        }
    };
    let mut files: Vec<(String, Value)> = Vec::new();
    for name in names {
        let field = format!("i18n/{name}");
        let text = match read_text(folder, &dir.join(&name)) {
            Ok(text) => text,
            Err(Unreadable::Missing) => {
                let locale = name.trim_end_matches(".json");
                report.warning(field, format!("is missing; widget.locale lists {}", quote(locale)));
                continue;
            }
            Err(Unreadable::Other(message)) => {
                report.error(field, message);
                continue;
            }
        };
        match parse_json(&text, &field, report) {
            Some(v) if v.is_object() => files.push((field, v)),
            Some(v) => report.error(
                field,
                format!(
                    "must be a JSON object of texts such as {{\"widget\": {{\"name\": \"…\"}}}}, got {}",
                    describe(&v)
                ),
            ),
            None => {}
        }
    }

    let keys = i18n_keys(manifest);
    for (field, texts) in &files {
        for (used_by, key) in &keys {
            // "widget.*" and "settings.*" are amoCRM's key convention; other dotted text is a key only when
            // some file defines it, so a name like "Site.ru" stays a name.
            let is_key =
                key.starts_with("widget.") || key.starts_with("settings.") || files.iter().any(|(_, f)| lookup(f, key));
            if is_key && !lookup(texts, key) {
                report.warning(
                    field.as_str(),
                    format!("has no text for {} (used by {used_by}); amoCRM would show the key itself", quote(key)),
                );
            }
        }
    }
}

/// (field, value) of the manifest texts that look like i18n keys ("widget.name", "settings.login").
fn i18n_keys(manifest: Option<&Value>) -> Vec<(String, &str)> {
    let Some(manifest) = manifest else { return Vec::new() };
    let mut texts: Vec<(String, &str)> = Vec::new();
    for key in ["name", "description", "short_description"] {
        if let Some(s) = manifest.get("widget").and_then(|w| w.get(key)).and_then(Value::as_str) {
            texts.push((format!("widget.{key}"), s));
        }
    }
    if let Some(settings) = manifest.get("settings").and_then(Value::as_object) {
        for (key, entry) in settings {
            if let Some(s) = entry.get("name").and_then(Value::as_str) {
                texts.push((format!("settings.{key}.name"), s));
            }
        }
    }
    // A plain name like "Kolokol" or "Call log" is shown as written; only dotted identifiers are keys.
    texts.retain(|(_, s)| {
        s.split('.').count() >= 2
            && s.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
    });
    texts
}

/// Whether the nested path `a.b.c` leads to a string: amoCRM's i18n files nest objects by key part.
fn lookup(texts: &Value, key: &str) -> bool {
    key.split('.').try_fold(texts, |v, part| v.get(part)).is_some_and(Value::is_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const FOLDER: &str = "acme_caller";

    fn valid() -> Value {
        json!({
            "widget": {
                "name": "widget.name",
                "description": "widget.description",
                "short_description": "widget.short_description",
                "version": "1.0.3",
                "interface_version": 2,
                "init_once": false,
                "locale": ["ru", "en"],
                "installation": true,
                "support": {"link": "https://example.com/support", "email": "support@example.com"}
            },
            "locations": ["ccard-1", "lcard-1", "settings"],
            "tour": {"is_tour": false, "tour_images": {"ru": ["/images/tour_1_ru.png"]}},
            "settings": {
                "login": {"name": "settings.login", "type": "text", "required": true},
                "password": {"name": "settings.password", "type": "pass", "required": true}
            }
        })
    }

    /// The valid manifest with one change applied, checked.
    fn with(change: impl FnOnce(&mut Value)) -> Checked {
        let mut v = valid();
        change(&mut v);
        check(&v.to_string(), FOLDER)
    }

    fn set(v: &mut Value, pointer: &str, value: Value) {
        *v.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = value;
    }

    fn remove(v: &mut Value, pointer: &str) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent).and_then(Value::as_object_mut).unwrap().remove(key).unwrap();
    }

    /// The one problem reported, as (severity, field); its message is returned for closer looks.
    fn only(c: &Checked) -> (Severity, &str, &str) {
        assert_eq!(c.problems.len(), 1, "expected one problem, got {:#?}", c.problems);
        let p = &c.problems[0];
        (p.severity.clone(), p.field.as_str(), p.message.as_str())
    }

    fn fields(c: &Checked) -> Vec<(Severity, &str)> {
        c.problems.iter().map(|p| (p.severity.clone(), p.field.as_str())).collect()
    }

    use Severity::{Error, Warning};

    #[test]
    fn valid_manifest_has_no_problems() {
        let c = check(&serde_json::to_string_pretty(&valid()).unwrap(), FOLDER);
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        assert!(!c.has_errors());
        assert_eq!(c.manifest, Some(valid()));
        assert_eq!(c.code, FOLDER);
        assert_eq!(c.name.as_deref(), Some("widget.name"));
        assert_eq!(c.version.as_deref(), Some("1.0.3"));
    }

    #[test]
    fn minimal_manifest_needs_only_the_required_fields() {
        let text = r#"{"widget": {"name": "Kolokol", "description": "Calls", "version": "0.1.0",
            "interface_version": 2}, "locations": ["settings"]}"#;
        let c = check(text, FOLDER);
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        assert_eq!(c.name.as_deref(), Some("Kolokol"));
    }

    #[test]
    fn code_comes_from_widget_code_else_the_folder() {
        assert_eq!(with(|_| {}).code, FOLDER);
        let c = with(|v| v["widget"]["code"] = json!("acme_calls"));
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        assert_eq!(c.code, "acme_calls");
        let c = with(|v| v["widget"]["code"] = json!(17));
        assert_eq!(
            only(&c),
            (Warning, "widget.code", "should be a string, got the number 17; Kolokol uses the folder's name as the code")
        );
        assert_eq!(c.code, FOLDER);
        let c = with(|v| v["widget"]["code"] = json!(" "));
        assert_eq!(only(&c).1, "widget.code");
        assert_eq!(c.code, FOLDER);
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let text = "{\n  \"widget\": {\n    \"name\": \"widget.name\"\n    \"version\": \"1.0.0\"\n  }\n}\n";
        let c = check(text, FOLDER);
        let (severity, field, message) = only(&c);
        assert_eq!((severity, field), (Error, "manifest.json"));
        assert_eq!(message, "is not valid JSON: expected `,` or `}` at line 4, column 5");
        assert_eq!(c.manifest, None);
        assert_eq!((c.code.as_str(), c.name.clone(), c.version.clone()), (FOLDER, None, None));
        assert!(c.has_errors());

        let c = check("{\"widget\": {}, ", FOLDER);
        assert!(only(&c).2.contains("line 1, column 15"), "{:?}", c.problems);
    }

    #[test]
    fn empty_text_is_not_a_manifest() {
        for text in ["", "  \n"] {
            assert_eq!(only(&check(text, FOLDER)), (Error, "manifest.json", "is empty; expected a JSON object"));
        }
    }

    #[test]
    fn byte_order_mark_is_an_error_but_the_rest_is_checked() {
        let c = check(&format!("\u{feff}{}", valid()), FOLDER);
        let (severity, field, message) = only(&c);
        assert_eq!((severity, field), (Error, "manifest.json"));
        assert!(message.contains("byte order mark"), "{message}");
        assert_eq!(c.manifest, Some(valid()));
        assert_eq!(c.version.as_deref(), Some("1.0.3"));
    }

    #[test]
    fn top_level_must_be_an_object() {
        let c = check("[1, 2]", FOLDER);
        assert_eq!(
            only(&c),
            (Error, "manifest.json", "must be a JSON object with \"widget\" and \"locations\", got an array")
        );
        assert_eq!(c.manifest, Some(json!([1, 2])));
        assert_eq!(
            only(&check("\"widget\"", FOLDER)).2,
            "must be a JSON object with \"widget\" and \"locations\", got \"widget\""
        );
    }

    #[test]
    fn widget_is_required_and_an_object() {
        let c = with(|v| remove(v, "/widget"));
        assert_eq!(only(&c).0, Error);
        assert_eq!(only(&c).1, "widget");
        assert_eq!((c.name, c.version), (None, None));
        let c = with(|v| set(v, "/widget", json!("Kolokol")));
        assert_eq!(only(&c), (Error, "widget", "must be an object, got \"Kolokol\""));
    }

    #[test]
    fn name_is_a_required_non_empty_string() {
        let c = with(|v| remove(v, "/widget/name"));
        assert_eq!(only(&c).0, Error);
        assert_eq!(only(&c).1, "widget.name");
        assert_eq!(c.name, None);
        let c = with(|v| set(v, "/widget/name", json!("  ")));
        assert_eq!(only(&c), (Error, "widget.name", "must not be empty"));
        assert_eq!(c.name, None);
        let c = with(|v| set(v, "/widget/name", json!({"ru": "Колокол"})));
        assert_eq!(only(&c).1, "widget.name");
        assert!(only(&c).2.ends_with("got an object"), "{:?}", c.problems);
    }

    #[test]
    fn version_is_a_required_dotted_number_string() {
        // What amoCRM accepts is a warning: "0.95", even a number.
        let c = with(|v| set(v, "/widget/version", json!(1)));
        assert_eq!(
            only(&c),
            (Warning, "widget.version", "is the number 1; amoCRM accepts it, its marketplace expects three numbers like \"1.0.0\"")
        );
        assert_eq!(c.version, None);
        for odd in ["0.95", "1.0", "v1.0.0", "1.0.0-beta", "1..0", "1.0.0."] {
            let c = with(|v| set(v, "/widget/version", json!(odd)));
            assert_eq!((only(&c).0, only(&c).1), (Warning, "widget.version"), "{odd}");
            assert!(only(&c).2.starts_with(&format!("is {}", json!(odd))), "{odd}: {:?}", c.problems);
            assert_eq!(c.version.as_deref(), Some(odd), "as written");
        }
        for bad in [json!(""), json!(" "), json!(["1"]), json!(null)] {
            let c = with(|v| set(v, "/widget/version", bad.clone()));
            assert_eq!((only(&c).0, only(&c).1), (Error, "widget.version"), "{bad}");
        }
        for good in ["0.0.1", "10.20.30", "1.0.0.12"] {
            let c = with(|v| set(v, "/widget/version", json!(good)));
            assert!(c.problems.is_empty(), "{good}: {:#?}", c.problems);
        }
        let c = with(|v| remove(v, "/widget/version"));
        assert_eq!(only(&c), (Error, "widget.version", "is missing; expected a version string like \"1.0.0\""));
    }

    #[test]
    fn interface_version_is_a_required_integer_and_2_is_current() {
        let c = with(|v| set(v, "/widget/interface_version", json!(1)));
        assert_eq!(only(&c), (Warning, "widget.interface_version", "is 1; amoCRM accepts interface_version 2"));
        assert!(!c.has_errors());
        let c = with(|v| set(v, "/widget/interface_version", json!(3)));
        assert_eq!(only(&c).0, Warning);
        for (odd, got) in [(json!("2"), "\"2\""), (json!(2.5), "the number 2.5"), (json!(2.0), "the number 2.0")] {
            let c = with(|v| set(v, "/widget/interface_version", odd));
            let expected = format!("should be an integer (amoCRM's current is 2), got {got}");
            assert_eq!(only(&c), (Warning, "widget.interface_version", expected.as_str()));
        }
        let c = with(|v| remove(v, "/widget/interface_version"));
        assert_eq!((only(&c).0, only(&c).1), (Warning, "widget.interface_version"));
    }

    #[test]
    fn description_is_expected_and_descriptions_are_strings() {
        let c = with(|v| remove(v, "/widget/description"));
        assert_eq!((only(&c).0, only(&c).1), (Warning, "widget.description"));
        let c = with(|v| set(v, "/widget/description", json!("")));
        assert_eq!(only(&c), (Warning, "widget.description", "is empty"));
        let c = with(|v| set(v, "/widget/description", json!(["a"])));
        assert_eq!(only(&c), (Warning, "widget.description", "should be a string, got an array"));
        let c = with(|v| set(v, "/widget/short_description", json!(null)));
        assert_eq!(only(&c), (Warning, "widget.short_description", "should be a string, got null"));
        let c = with(|v| remove(v, "/widget/short_description"));
        assert!(c.problems.is_empty(), "optional: {:#?}", c.problems);
    }

    #[test]
    fn locale_is_an_array_of_non_empty_strings() {
        let c = with(|v| set(v, "/widget/locale", json!("ru")));
        assert_eq!(
            only(&c),
            (Warning, "widget.locale", "should be an array of language codes such as [\"ru\", \"en\"], got \"ru\"")
        );
        let c = with(|v| set(v, "/widget/locale", json!(["ru", "", 5])));
        assert_eq!(fields(&c), [(Warning, "widget.locale[1]"), (Warning, "widget.locale[2]")]);
        assert_eq!(c.problems[1].message, "should be a language code such as \"ru\", got the number 5");
        // A widget for one market only: no "ru" is no problem.
        let c = with(|v| set(v, "/widget/locale", json!(["es"])));
        assert!(!c.has_errors(), "{:#?}", c.problems);
        let c = with(|v| set(v, "/widget/locale", json!([])));
        assert_eq!((only(&c).0, only(&c).1), (Warning, "widget.locale"));
        let c = with(|v| set(v, "/widget/locale", json!(["ru", "ru"])));
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        let c = with(|v| set(v, "/widget/locale", json!(["ru", "../en"])));
        assert_eq!((only(&c).0, only(&c).1), (Warning, "widget.locale[1]"));
        let c = with(|v| remove(v, "/widget/locale"));
        assert!(c.problems.is_empty(), "optional: {:#?}", c.problems);
    }

    #[test]
    fn flags_are_booleans() {
        let c = with(|v| {
            set(v, "/widget/init_once", json!("false"));
            set(v, "/widget/installation", json!(1));
        });
        assert_eq!(fields(&c), [(Warning, "widget.init_once"), (Warning, "widget.installation")]);
        assert_eq!(c.problems[0].message, "should be true or false, got \"false\"");
        assert_eq!(c.problems[1].message, "should be true or false, got the number 1");
        let c = with(|v| {
            remove(v, "/widget/init_once");
            remove(v, "/widget/installation");
        });
        assert!(c.problems.is_empty(), "optional: {:#?}", c.problems);
    }

    #[test]
    fn locations_are_a_required_non_empty_array_of_strings() {
        let c = with(|v| remove(v, "/locations"));
        assert_eq!((only(&c).0, only(&c).1), (Error, "locations"));
        let c = with(|v| set(v, "/locations", json!([])));
        assert_eq!((only(&c).0, only(&c).1), (Error, "locations"));
        assert!(only(&c).2.starts_with("is empty"));
        let c = with(|v| set(v, "/locations", json!("ccard-1")));
        assert_eq!(
            only(&c),
            (Error, "locations", "must be an array of locations such as [\"ccard-1\", \"settings\"], got \"ccard-1\"")
        );
        let c = with(|v| set(v, "/locations", json!(["ccard-1", 7, "", "settings"])));
        assert_eq!(fields(&c), [(Error, "locations[1]"), (Error, "locations[2]")]);
        assert_eq!(c.problems[0].message, "must be a location name (a string), got the number 7");
    }

    #[test]
    fn every_known_location_is_accepted_with_or_without_a_suffix() {
        for suffix in ["", "-0", "-1"] {
            let all: Vec<String> = LOCATIONS.iter().map(|l| format!("{l}{suffix}")).collect();
            let c = with(|v| set(v, "/locations", json!(all)));
            assert!(c.problems.is_empty(), "{suffix:?}: {:#?}", c.problems);
        }
    }

    #[test]
    fn unknown_location_is_a_warning_naming_the_known_ones() {
        let c = with(|v| set(v, "/locations", json!(["ccard-1", "lcard-1", "deal_card"])));
        let (severity, field, message) = only(&c);
        assert_eq!((severity, field), (Warning, "locations[2]"));
        assert!(message.starts_with("\"deal_card\" is not a known amoCRM location; known: lcard, ccard,"), "{message}");
        assert!(message.ends_with("salesbot_designer, tcard"), "{message}");
        assert!(!c.has_errors());
        let c = with(|v| set(v, "/locations", json!(["CCard-1"])));
        assert!(only(&c).2.contains("(locations are lowercase: \"ccard-1\")"), "{:?}", c.problems);
    }

    #[test]
    fn duplicate_and_wrong_suffix_locations_are_warnings() {
        let c = with(|v| set(v, "/locations", json!(["ccard-1", "settings", "ccard-1", "settings"])));
        assert_eq!(fields(&c), [(Warning, "locations[2]"), (Warning, "locations[3]")]);
        assert_eq!(c.problems[0].message, "\"ccard-1\" repeats locations[0] (\"ccard-1\"); list each location once");
        // One place in two modes is a repeat as well.
        let c = with(|v| set(v, "/locations", json!(["lcard-0", "lcard-1"])));
        assert_eq!(
            only(&c),
            (Warning, "locations[1]", "\"lcard-1\" repeats locations[0] (\"lcard-0\"); list each location once")
        );
        let c = with(|v| set(v, "/locations", json!(["ccard-2", "lcard-"])));
        assert_eq!(fields(&c), [(Warning, "locations[0]"), (Warning, "locations[1]")]);
        assert_eq!(
            c.problems[0].message,
            "\"ccard-2\" has the suffix \"-2\"; a location takes -0 or -1, e.g. \"ccard-1\""
        );
    }

    #[test]
    fn settings_may_be_absent_or_empty() {
        for empty in [json!([]), json!({})] {
            let c = with(|v| set(v, "/settings", empty.clone()));
            assert!(c.problems.is_empty(), "{empty}: {:#?}", c.problems);
        }
        let c = with(|v| remove(v, "/settings"));
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        for bad in [json!([{"name": "x", "type": "text"}]), json!("login"), json!(null)] {
            let c = with(|v| set(v, "/settings", bad.clone()));
            assert_eq!((only(&c).0, only(&c).1), (Error, "settings"), "{bad}");
        }
    }

    #[test]
    fn every_setting_has_a_name_and_a_known_type() {
        let c = with(|v| set(v, "/settings/login/type", json!("checkbox")));
        assert_eq!(
            only(&c),
            (
                Warning,
                "settings.login.type",
                "\"checkbox\" is not a setting type amoCRM knows (Kolokol shows a text field); expected one of: text, pass, users, users_lp, custom"
            )
        );
        for kind in SETTING_TYPES {
            let c = with(|v| set(v, "/settings/login/type", json!(kind)));
            assert!(c.problems.is_empty(), "{kind}: {:#?}", c.problems);
        }
        let c = with(|v| set(v, "/settings/login/type", json!(1)));
        assert_eq!(only(&c).2, "should be one of: text, pass, users, users_lp, custom; got the number 1");
        let c = with(|v| remove(v, "/settings/password/type"));
        assert_eq!((only(&c).0, only(&c).1), (Warning, "settings.password.type"));
        let c = with(|v| remove(v, "/settings/login/name"));
        assert_eq!(
            only(&c),
            (Warning, "settings.login.name", "is missing; expected the label, or an i18n key such as \"settings.login\"")
        );
        let c = with(|v| set(v, "/settings/login/name", json!(false)));
        assert_eq!(only(&c), (Warning, "settings.login.name", "should be a string, got the boolean false"));
        let c = with(|v| set(v, "/settings/login", json!("text")));
        assert_eq!(only(&c), (Error, "settings.login", "must be an object with name and type, got \"text\""));
    }

    #[test]
    fn setting_required_is_an_optional_boolean() {
        let c = with(|v| set(v, "/settings/login/required", json!("yes")));
        assert_eq!(only(&c), (Warning, "settings.login.required", "should be true or false, got \"yes\""));
        let c = with(|v| remove(v, "/settings/login/required"));
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
    }

    #[test]
    fn unknown_sections_and_fields_are_no_problem() {
        let c = with(|v| {
            v["dp"] =
                json!({"settings": {"message": {"name": "dp.message", "type": "text"}}, "webhook_url": "https://x"});
            v["advanced"] = json!({"title": "advanced.title"});
            v["salesbot_designer"] = json!({"handler": {"name": "salesbot.handler", "settings": {}}});
            v["widget"]["future_flag"] = json!([1, 2]);
            v["settings"]["login"]["values"] = json!({"a": 1});
        });
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
    }

    #[test]
    fn all_problems_are_reported_in_order() {
        let text = r#"{
            "widget": {"name": "", "version": 1, "interface_version": "2", "locale": "ru", "init_once": "no"},
            "locations": ["ccard-1", "deal", "ccard-1", 3],
            "settings": {"login": {"type": "select", "required": 1}}
        }"#;
        let c = check(text, FOLDER);
        assert_eq!(
            fields(&c),
            [
                (Error, "widget.name"),
                (Warning, "widget.version"),
                (Warning, "widget.interface_version"),
                (Warning, "widget.description"),
                (Warning, "widget.locale"),
                (Warning, "widget.init_once"),
                (Warning, "locations[1]"),
                (Warning, "locations[2]"),
                (Error, "locations[3]"),
                (Warning, "settings.login.name"),
                (Warning, "settings.login.type"),
                (Warning, "settings.login.required"),
            ]
        );
        assert!(c.has_errors());
        assert!(c.manifest.is_some(), "valid JSON is kept even with problems");
        assert_eq!((c.name, c.version), (None, None));
    }

    #[test]
    fn problems_serialize_with_snake_case_severity() {
        let c = with(|v| set(v, "/widget/interface_version", json!(1)));
        let out = serde_json::to_value(&c).unwrap();
        assert_eq!(
            out["problems"],
            json!([{"severity": "warning", "field": "widget.interface_version",
                    "message": "is 1; amoCRM accepts interface_version 2"}])
        );
        assert_eq!(out["code"], json!(FOLDER));
        assert_eq!(serde_json::to_value(Severity::Error).unwrap(), json!("error"));
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(500);
        let c = with(|v| set(v, "/widget/version", json!(long)));
        assert!(only(&c).2.len() < 200, "{}", only(&c).2);
        assert!(only(&c).2.contains("…\""), "{}", only(&c).2);
    }

    // Folder checks, on real folders under the system temp dir.

    /// A folder removed when dropped; unique per process and call so tests can run in parallel.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("kolokol-manifest-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn texts(lang: &str) -> Value {
        let (name, login) = if lang == "ru" { ("Колокол", "Логин") } else { ("Kolokol", "Login") };
        json!({
            "widget": {"name": name, "description": "…", "short_description": "…"},
            "settings": {"login": login, "password": "…"}
        })
    }

    /// A complete, valid widget folder named acme_caller; returns the guard and the folder.
    fn widget() -> (Scratch, PathBuf) {
        let scratch = Scratch::new();
        let folder = scratch.0.join(FOLDER);
        write(&folder.join("manifest.json"), &serde_json::to_string_pretty(&valid()).unwrap());
        write(&folder.join("script.js"), "define(['jquery'], function ($) { return function () {}; });\n");
        write(&folder.join("i18n/ru.json"), &texts("ru").to_string());
        write(&folder.join("i18n/en.json"), &texts("en").to_string());
        write(&folder.join("images/tour_1_ru.png"), "png");
        (scratch, folder)
    }

    #[cfg(unix)]
    #[test]
    fn a_manifest_linked_out_of_the_folder_is_not_read() {
        let (scratch, folder) = widget();
        let outside = scratch.0.join("secret.json");
        write(&outside, &valid().to_string());
        fs::remove_file(folder.join("manifest.json")).unwrap();
        std::os::unix::fs::symlink(&outside, folder.join("manifest.json")).unwrap();
        let c = check_folder(&folder);
        assert_eq!(c.manifest, None, "the linked file's text is not kept");
        assert_eq!((&c.problems[0].severity, c.problems[0].field.as_str()), (&Error, "manifest.json"));
        assert!(c.problems[0].message.contains("outside the widget folder"), "{:?}", c.problems);
        fs::remove_file(folder.join("i18n/en.json")).unwrap();
        std::os::unix::fs::symlink(&outside, folder.join("i18n/en.json")).unwrap();
        fs::remove_file(folder.join("manifest.json")).unwrap();
        write(&folder.join("manifest.json"), &valid().to_string());
        let c = check_folder(&folder);
        assert!(c.problems.iter().any(|p| p.field == "i18n/en.json" && p.message.contains("outside")), "{:?}", c.problems);
    }

    #[test]
    fn missing_tour_images_are_warnings() {
        let (_scratch, folder) = widget();
        fs::remove_file(folder.join("images/tour_1_ru.png")).unwrap();
        let mut manifest = valid();
        manifest["tour"]["tour_images"]["en"] = json!(["/../../etc/passwd"]);
        write(&folder.join("manifest.json"), &manifest.to_string());
        let c = check_folder(&folder);
        assert_eq!(fields(&c), [(Warning, "tour.tour_images.en[0]"), (Warning, "tour.tour_images.ru[0]")]);
        assert!(!c.has_errors());
    }

    #[test]
    fn valid_folder_has_no_problems() {
        let (_scratch, folder) = widget();
        let c = check_folder(&folder);
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        assert_eq!(
            (c.code.as_str(), c.name.as_deref(), c.version.as_deref()),
            (FOLDER, Some("widget.name"), Some("1.0.3"))
        );
        assert_eq!(c.manifest, Some(valid()));
    }

    #[test]
    fn folder_name_is_the_code_even_through_a_trailing_slash() {
        let (_scratch, folder) = widget();
        let c = check_folder(Path::new(&format!("{}/", folder.display())));
        assert!(c.problems.is_empty(), "{:#?}", c.problems);
        assert_eq!(c.code, FOLDER);
        assert_eq!(folder_name(&folder.join(".")), FOLDER);
    }

    #[test]
    fn missing_manifest_is_an_error_and_the_rest_still_checked() {
        let (_scratch, folder) = widget();
        fs::remove_file(folder.join("manifest.json")).unwrap();
        let c = check_folder(&folder);
        assert_eq!(
            only(&c),
            (Error, "manifest.json", "is missing; every amoCRM widget has one at the top of its folder")
        );
        assert_eq!((c.manifest, c.code.as_str()), (None, FOLDER));

        fs::remove_file(folder.join("script.js")).unwrap();
        assert_eq!(fields(&check_folder(&folder)), [(Error, "manifest.json"), (Error, "script.js")]);
    }

    #[test]
    fn missing_folder_is_one_error() {
        let scratch = Scratch::new();
        let c = check_folder(&scratch.0.join("nowhere"));
        assert_eq!((only(&c).0, only(&c).1), (Error, "manifest.json"));
        assert!(only(&c).2.contains("is not a folder"));
        assert_eq!(c.code, "nowhere");
    }

    #[test]
    fn manifest_problems_come_first() {
        let (_scratch, folder) = widget();
        write(&folder.join("manifest.json"), "{\"widget\": ");
        fs::remove_file(folder.join("script.js")).unwrap();
        let c = check_folder(&folder);
        assert_eq!(fields(&c), [(Error, "manifest.json"), (Error, "script.js")]);
        assert!(c.problems[0].message.contains("line 1, column 11"), "{:?}", c.problems);
    }

    #[test]
    fn manifest_that_is_not_utf8_is_an_error() {
        let (_scratch, folder) = widget();
        fs::write(folder.join("manifest.json"), b"{\"widget\": \"\xff\"}").unwrap();
        assert_eq!(only(&check_folder(&folder)), (Error, "manifest.json", "is not UTF-8 text; save it as UTF-8"));
    }

    #[test]
    fn missing_script_is_an_error() {
        let (_scratch, folder) = widget();
        fs::remove_file(folder.join("script.js")).unwrap();
        let c = check_folder(&folder);
        assert_eq!((only(&c).0, only(&c).1), (Error, "script.js"));
        // A folder called script.js is no script.
        fs::create_dir(folder.join("script.js")).unwrap();
        assert_eq!(only(&check_folder(&folder)).1, "script.js");
    }

    #[test]
    fn missing_i18n_folder_is_a_warning_naming_the_files() {
        let (_scratch, folder) = widget();
        fs::remove_dir_all(folder.join("i18n")).unwrap();
        let c = check_folder(&folder);
        assert_eq!(
            only(&c),
            (
                Warning,
                "i18n",
                "folder is missing (widget.locale expects i18n/ru.json, i18n/en.json); \
                 amoCRM takes the widget's texts from it"
            )
        );
        assert!(!c.has_errors());
    }

    #[test]
    fn missing_locale_file_is_a_warning() {
        let (_scratch, folder) = widget();
        fs::remove_file(folder.join("i18n/en.json")).unwrap();
        assert_eq!(only(&check_folder(&folder)), (Warning, "i18n/en.json", "is missing; widget.locale lists \"en\""));
        // Listed twice, reported once.
        let mut manifest = valid();
        manifest["widget"]["locale"] = json!(["ru", "en", "en"]);
        write(&folder.join("manifest.json"), &manifest.to_string());
        assert_eq!(only(&check_folder(&folder)).1, "i18n/en.json");
    }

    #[test]
    fn bad_i18n_file_is_an_error() {
        let (_scratch, folder) = widget();
        write(&folder.join("i18n/en.json"), "{\n  \"widget\": {\"name\": \"Kolokol\",}\n}");
        let c = check_folder(&folder);
        let (severity, field, message) = only(&c);
        assert_eq!((severity, field), (Error, "i18n/en.json"));
        assert_eq!(message, "is not valid JSON: trailing comma at line 2, column 32");

        write(&folder.join("i18n/en.json"), "[\"Kolokol\"]");
        assert_eq!(only(&check_folder(&folder)).1, "i18n/en.json");
        write(&folder.join("i18n/en.json"), &format!("\u{feff}{}", texts("en")));
        assert_eq!(only(&check_folder(&folder)).1, "i18n/en.json");
    }

    #[test]
    fn missing_i18n_key_is_a_warning() {
        let (_scratch, folder) = widget();
        let mut en = texts("en");
        en["widget"].as_object_mut().unwrap().remove("description");
        en["settings"]["login"] = json!({"nested": "not a text"});
        write(&folder.join("i18n/en.json"), &en.to_string());
        let c = check_folder(&folder);
        assert_eq!(fields(&c), [(Warning, "i18n/en.json"), (Warning, "i18n/en.json")]);
        assert_eq!(
            c.problems[0].message,
            "has no text for \"widget.description\" (used by widget.description); amoCRM would show the key itself"
        );
        assert!(c.problems[1].message.contains("\"settings.login\" (used by settings.login.name)"), "{:?}", c.problems);
        assert!(!c.has_errors());
    }

    #[test]
    fn plain_names_need_no_i18n_text() {
        let (_scratch, folder) = widget();
        let mut manifest = valid();
        manifest["widget"]["name"] = json!("Kolokol");
        manifest["widget"]["description"] = json!("Shows calls. Fast.");
        manifest["widget"]["short_description"] = json!("Site.ru calls");
        write(&folder.join("manifest.json"), &manifest.to_string());
        write(&folder.join("i18n/en.json"), "{}");
        write(&folder.join("i18n/ru.json"), "{}");
        let c = check_folder(&folder);
        // Only the settings labels, which are still keys, are missing.
        assert_eq!(c.problems.len(), 4, "{:#?}", c.problems);
        assert!(c.problems.iter().all(|p| p.message.contains("\"settings.")), "{:#?}", c.problems);
    }

    #[test]
    fn custom_keys_count_when_some_file_has_them() {
        let (_scratch, folder) = widget();
        let mut manifest = valid();
        manifest["widget"]["name"] = json!("acme.title");
        write(&folder.join("manifest.json"), &manifest.to_string());
        let mut ru = texts("ru");
        ru["acme"] = json!({"title": "Колокол"});
        write(&folder.join("i18n/ru.json"), &ru.to_string());
        let c = check_folder(&folder);
        assert_eq!(only(&c).1, "i18n/en.json");
        assert!(only(&c).2.contains("\"acme.title\" (used by widget.name)"));
    }

    #[test]
    fn without_locale_every_i18n_file_is_checked() {
        let (_scratch, folder) = widget();
        let mut manifest = valid();
        manifest["widget"].as_object_mut().unwrap().remove("locale");
        write(&folder.join("manifest.json"), &manifest.to_string());
        write(&folder.join("i18n/de.json"), "{");
        write(&folder.join("i18n/README.md"), "not json");
        assert_eq!(fields(&check_folder(&folder)), [(Error, "i18n/de.json")]);
    }
}

/// Property tests: generated manifests (the real keys with values of every
/// type, nested, at every level) and arbitrary text through [`check`].
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "widget", "name", "description", "short_description", "version", "interface_version", "init_once", "locale",
        "installation", "code", "support", "locations", "settings", "type", "required", "tour", "login", "", "__proto__",
    ];
    /// Where every problem's field starts.
    const ROOTS: &[&str] = &["manifest.json", "widget", "locations", "settings"];

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            2 => proptest::sample::select(vec![
                "ccard-1", "ccard-0", "ccard-2", "CCARD", "lcard", "settings", "everywhere-1", "-", "-0", "1.0.0", "1.0",
                "2.10.3.1", "1..0", "ru", "en-US", "../x", "text", "pass", "users", "custom", "widget.name", "", "  ",
                "\u{feff}", "\u{0}", "ё",
            ]).prop_map(Value::from),
            2 => any::<String>().prop_map(Value::String),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            1 => proptest::sample::select(vec![2.0, 2.5, -2.0, 1e300]).prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => Just(Value::Null),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(
                    (prop_oneof![4 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => any::<String>()], inner),
                    0..7
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Text a manifest.json could hold: a generated manifest (pretty or not,
    /// sometimes with a BOM, sometimes cut short), or arbitrary text.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => (value(), any::<bool>(), any::<bool>()).prop_map(|(v, pretty, bom)| {
                let body = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
                if bom { format!("\u{feff}{body}") } else { body }
            }),
            1 => (value(), any::<prop::sample::Index>()).prop_map(|(v, at)| {
                let s = v.to_string();
                let cut = (0..=at.index(s.len() + 1)).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s[..cut].to_owned()
            }),
            1 => any::<String>(),
            1 => "[\\[\\]{}\",:0-9a-z \n]{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn every_problem_names_a_field(text in text(), folder in "[a-z_]{0,8}") {
            let c = check(&text, &folder);
            for p in &c.problems {
                prop_assert!(!p.field.is_empty(), "{:?}", p);
                prop_assert!(ROOTS.iter().any(|r| p.field.starts_with(r)), "{:?}", p);
                prop_assert!(!p.message.is_empty(), "{:?}", p);
            }
            prop_assert!(c.manifest.is_some() || c.has_errors(), "unparsed text without an error: {:?}", text);
            if c.manifest.as_ref().is_some_and(|m| !m.is_object()) {
                prop_assert!(c.problems.iter().any(|p| p.field == "manifest.json"));
            }
            // code: widget.code when it is a non-blank string, else the folder.
            prop_assert!(!c.code.is_empty() || folder.is_empty());
        }
    }
}
