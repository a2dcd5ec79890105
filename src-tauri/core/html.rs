//! The safe HTML subset of `header` and `text`: links, paragraphs, line breaks,
//! bold and italic. Everything else is reduced to its text; script and style
//! contents are dropped. ammonia does the parsing so nothing here is hand-rolled.

use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.tags(HashSet::from(["a", "p", "br", "b", "strong", "i", "em"]))
        .generic_attributes(HashSet::new())
        .tag_attributes([("a", HashSet::from(["href"]))].into())
        .url_schemes(HashSet::from(["http", "https"]))
        // Relative hrefs stay as given; the app resolves them against the
        // account address when the link is clicked.
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean_content_tags(HashSet::from(["script", "style"]));
    b
});

/// Sanitises widget-supplied HTML to the safe subset.
pub fn clean(input: &str) -> String {
    CLEANER.clean(input).to_string().trim().to_owned()
}

/// True when `href` (as the DOM reports it) is the href of a link in `html`
/// produced by [`clean`]: the serializer escapes `&`, `"` and no-break spaces.
pub fn has_href(html: &str, href: &str) -> bool {
    let escaped = href.replace('&', "&amp;").replace('"', "&quot;").replace('\u{a0}', "&nbsp;");
    html.contains(&format!("href=\"{escaped}\""))
}

/// The text of safe HTML produced by [`clean`], for toasts, search and the
/// CLI: `<br>` and paragraphs become line breaks, inline tags vanish without
/// splitting words (`<b>Пет</b>рович`), entities (named and numeric) are
/// decoded; lines are trimmed and blank ones dropped.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            // To the end of the tag, stepping over quoted attribute values.
            let mut quote = None;
            let mut end = rest.len();
            for (j, c) in rest.char_indices().skip(1) {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '>') => {
                        end = j + 1;
                        break;
                    }
                    _ => {}
                }
            }
            let name: String = rest[1..end]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if !matches!(name.as_str(), "a" | "b" | "i" | "em" | "strong") {
                out.push('\n');
            }
            rest = &rest[end..];
        } else {
            let (c, len) = entity(rest).unwrap_or(('&', 1));
            out.push(c);
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Decodes the entity at the start of `s` ("&amp;" …): the char and the bytes used.
fn entity(s: &str) -> Option<(char, usize)> {
    // Bytes, not a str slice: the 12th byte may fall inside a character.
    let semi = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..semi];
    let c = match body {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let code = match body.strip_prefix('#')?.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => body.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, semi + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_safe_subset() {
        let s = clean(r#"<p>Call <b>now</b><br><i>ok</i> <strong>s</strong> <em>e</em> <a href="https://x.org/a?b=1&c=2">l</a></p>"#);
        assert_eq!(
            s,
            r#"<p>Call <b>now</b><br><i>ok</i> <strong>s</strong> <em>e</em> <a href="https://x.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">l</a></p>"#
        );
        assert!(has_href(&s, "https://x.org/a?b=1&c=2"));
        assert!(!has_href(&s, "https://evil.org/"));
    }

    #[test]
    fn drops_script_and_handlers() {
        let s = clean(r#"<script>window.pwned=1</script><img src=x onerror="window.pwned=2">Hi <span onclick="x()">there</span>"#);
        assert_eq!(s, "Hi there");
    }

    #[test]
    fn drops_dangerous_hrefs_but_keeps_text() {
        let s = clean(r#"<a href="javascript:alert(1)">click</a> <a href="data:text/html,x">d</a>"#);
        assert!(!s.contains("javascript") && !s.contains("data:"), "{s}");
        assert!(s.contains("click") && s.contains(">d<"), "{s}");
    }

    #[test]
    fn frames_styles_and_forms_are_reduced_to_text() {
        let s = clean(r#"<iframe src="https://x.org"></iframe><style>*{display:none}</style><form><button>b</button></form><div style="color:red">t</div>"#);
        assert_eq!(s, "bt");
    }

    #[test]
    fn relative_hrefs_pass_through() {
        let s = clean(r#"<a href="/contacts/detail/1">c</a>"#);
        assert!(has_href(&s, "/contacts/detail/1"), "{s}");
    }

    #[test]
    fn to_text_reads_the_safe_subset() {
        assert_eq!(to_text(&clean("<p>Call <b>now</b></p><p>a &lt; b &amp; c<br>next</p>")), "Call now\na < b & c\nnext");
        assert_eq!(to_text("Звонок от <i>Анны</i>, <b>Пет</b>рович"), "Звонок от Анны, Петрович");
        assert_eq!(to_text("&#1047;&#x432;&quot;&apos;&bogus; & ;"), "Зв\"'&bogus; & ;");
        assert_eq!(to_text(r#"<a href="x>y">l</a>"#), "l");
    }

    #[test]
    fn to_text_of_an_entity_before_multibyte_text() {
        // Found by the fuzzer (fuzz/ html): "&&ｽ" cleans to "&amp;&amp;ｽ", whose
        // 12th byte is inside "ｽ"; to_text sliced there and panicked. Any text
        // with <, > or & followed by Cyrillic did the same.
        assert_eq!(to_text(&clean("&&ｽ")), "&&ｽ");
        assert_eq!(to_text(&clean("Сумма < миллиона")), "Сумма < миллиона");
        assert_eq!(to_text("&ююююююю;"), "&ююююююю;");
    }

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(clean("a < b & c"), "a &lt; b &amp; c");
    }
}
