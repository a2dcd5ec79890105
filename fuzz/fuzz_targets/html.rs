//! The HTML subset. `clean` promises (html.rs): only a, p, br, b, strong, i
//! and em survive; the only attributes are `href` on links (http, https or
//! relative) and the `rel` it adds; script and style contents are dropped.
//! So its output, read token by token as a browser's tokenizer would, must
//! hold no other tag, no `<script`, no `on…=` or other attribute, and no href
//! whose scheme is not http(s) (`javascript:` included). The words
//! "javascript:" or "onclick=" may still appear as escaped text, which is
//! harmless, so the check is on the markup, not on the bare string.
//! `to_text` must not panic on its own output's input or on any other text.
#![no_main]

use kolokol_lib::core::html::{clean, to_text};
use libfuzzer_sys::fuzz_target;
use url::Url;

const TAGS: [&str; 7] = ["a", "p", "br", "b", "strong", "i", "em"];
const REL: &str = "noopener noreferrer nofollow";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let out = clean(input);
    check_markup(&out, input);
    assert!(!out.to_ascii_lowercase().contains("<script"), "{input:?} -> {out:?}");
    let _ = to_text(&out);
    let _ = to_text(input);
});

fn check_markup(out: &str, input: &str) {
    let ctx = || format!("clean({input:?}) = {out:?}");
    let mut rest = out;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let closing = rest.starts_with('/');
        if closing {
            rest = &rest[1..];
        }
        assert!(rest.starts_with(|c: char| c.is_ascii_alphabetic()), "markup that is not a tag: {}", ctx());
        let name_len = rest.find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>').unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        assert!(TAGS.contains(&name.as_str()), "tag <{name}>: {}", ctx());
        rest = &rest[name_len..];
        // Attributes, as the HTML tokenizer splits them, up to the tag's end.
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if let Some(r) = rest.strip_prefix('>') {
                rest = r;
                break;
            }
            assert!(!rest.is_empty(), "unterminated tag: {}", ctx());
            assert!(!closing, "attribute on a closing tag: {}", ctx());
            let n = rest.find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>' || c == '=').unwrap_or(rest.len());
            let attr = rest[..n].to_ascii_lowercase();
            rest = &rest[n..];
            let mut value = String::new();
            let after_ws = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
            if let Some(v) = after_ws.strip_prefix('=') {
                let v = v.trim_start_matches(|c: char| c.is_ascii_whitespace());
                let (raw, r) = match v.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let end = v[1..].find(q).unwrap_or_else(|| panic!("unterminated value: {}", ctx()));
                        (&v[1..1 + end], &v[end + 2..])
                    }
                    _ => {
                        let end = v.find(|c: char| c.is_ascii_whitespace() || c == '>').unwrap_or(v.len());
                        (&v[..end], &v[end..])
                    }
                };
                value = decode(raw);
                rest = r;
            }
            assert!(!attr.starts_with("on"), "event handler {attr}: {}", ctx());
            match (name.as_str(), attr.as_str()) {
                ("a", "href") => check_href(&value, &ctx),
                ("a", "rel") => assert_eq!(value, REL, "{}", ctx()),
                _ => panic!("attribute {attr} on <{name}>: {}", ctx()),
            }
        }
    }
}

/// What a browser does with an href before it looks at the scheme: entities
/// decoded, tabs and newlines removed, C0 controls and spaces trimmed.
fn check_href(value: &str, ctx: &dyn Fn() -> String) {
    let v: String = value.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let v = v.trim_matches(|c: char| c <= ' ').to_ascii_lowercase();
    for bad in ["javascript:", "vbscript:", "data:"] {
        assert!(!v.starts_with(bad), "href {value:?}: {}", ctx());
    }
    if let Ok(url) = Url::parse(&v) {
        assert!(matches!(url.scheme(), "http" | "https"), "href {value:?}: {}", ctx());
    }
}

/// Character references in an attribute value: the named ones html5ever's
/// serializer writes, and numeric ones.
fn decode(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let semi = rest.find(';').filter(|&s| s <= 12);
        let decoded = semi.and_then(|s| {
            let body = &rest[1..s];
            let c = match body {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "nbsp" => Some('\u{a0}'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                _ => {
                    let n = body.strip_prefix('#')?;
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, s + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
