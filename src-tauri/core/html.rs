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
        // Contents a browser never shows; the parser reads those of iframe,
        // noembed, noframes, noscript and title as raw text, so keeping them
        // would show their markup as text.
        .clean_content_tags(HashSet::from(["script", "style", "iframe", "noembed", "noframes", "noscript", "title"]));
    b
});

/// Sanitises widget-supplied HTML to the safe subset.
pub fn clean(input: &str) -> String {
    let once = pass(input);
    if !once.contains('<') {
        return once;
    }
    // The webview parses the output again, and some trees do not survive
    // their own serialisation (a link nested in a link, which the removal of
    // an <object> between them leaves, comes back as two links): a second
    // pass cleans the tree the webview will build, so what was checked is
    // what is shown, and clean(clean(x)) == clean(x).
    pass(&once)
}

fn pass(input: &str) -> String {
    // A leading U+FEFF is dropped by the parser as a byte order mark, so one
    // left at the start of the output would not survive a second clean.
    CLEANER.clean(input).to_string().trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_owned()
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
        // A `&` within 12 bytes of a multi-byte character (here 'о', bytes 11..13).
        assert_eq!(to_text(&clean("AT&T Звонок")), "AT&T Звонок");
        assert_eq!(to_text("&ￊౝA000מּ"), "&ￊౝA000מּ");
    }

    #[test]
    fn contents_never_shown_are_dropped_not_shown_as_text() {
        let s = clean(r#"<iframe src="https://x.org"><a href="data:text/html,x">d</a></iframe>ok"#);
        assert_eq!(s, "ok");
        for tag in ["noscript", "noembed", "noframes", "title"] {
            assert_eq!(clean(&format!("<{tag}><b>x</b></{tag}>")), "", "{tag}");
        }
    }

    #[test]
    fn clean_output_cleans_to_itself() {
        // A link nested in a link (the <object> between them removed) would be
        // parsed back as two links; a leading U+FEFF as a byte order mark.
        let s = clean(r#"<a><object data=x><a href="javascript:alert(1)">j</a>"#);
        assert_eq!(s, r#"<a rel="noopener noreferrer nofollow"></a><a rel="noopener noreferrer nofollow">j</a>"#);
        for input in [r#"<a><object data=x><a href="javascript:alert(1)">j</a>"#, "</em>\u{feff}", "<b></b>\u{feff}x"] {
            assert_eq!(clean(&clean(input)), clean(input), "{input:?}");
        }
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

/// Property tests: generated markup, hostile and arbitrary, through [`clean`]
/// and [`to_text`]. Case counts are set here and listed in the README.
#[cfg(test)]
pub(crate) mod props {
    use super::*;
    use proptest::prelude::*;

    /// Pieces hostile markup is built from: active elements, handlers,
    /// dangerous and odd URLs, raw-text and foreign-content tricks, entities,
    /// broken tags, and the allowed subset itself.
    pub(crate) const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>", "<SCRIPT SRC=//x.example/a.js></SCRIPT>", "<script>", "</script>",
        "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<svg><a xlink:href=\"javascript:x\">s</a></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<iframe src=\"https://x.org\">",
        "</iframe>", "<iframe srcdoc=\"<script>x</script>\">", "<object data=x>", "<embed src=x>", "<frameset>",
        "<frame src=x>", "<noscript>", "</noscript>", "<noembed>", "<xmp>", "<textarea>", "<title>", "<plaintext>",
        "<style>*{display:none}</style>", "<style>", "<link rel=stylesheet href=x>", "<meta http-equiv=refresh content=0;url=x>",
        "<base href=\"javascript:x//\">", "<form action=x><button formaction=x>b</button></form>", "<input autofocus onfocus=x>",
        "<a href=\"javascript:alert(1)\">j</a>", "<a href=\" JaVaScRiPt:alert(1)\">j</a>", "<a href=\"java\tscript:x\">t</a>",
        "<a href=\"&#106;avascript:x\">e</a>", "<a href=\"data:text/html,<script>x</script>\">d</a>",
        "<a href=\"vbscript:x\">v</a>", "<a href=\"file:///etc/passwd\">f</a>", "<a href=\"tauri://localhost/\">t</a>",
        "<a href=\"//evil.example/x\">p</a>", "<a href=\"/contacts/detail/1\">c</a>", "<a href=\"?q=1\">q</a>",
        "<a href=\"https://x.org/a?b=1&c=2\">ok</a>", "<a href=\"http://x.org\" onclick=\"x()\" target=_blank rel=opener>h</a>",
        "<a href=https://x.org title=\"t\" style=\"x\">u</a>", "<a href=\"http:///x\">n</a>", "<a href=\"https://[::1\">b</a>",
        "<a>", "</a>", "<a href=\"", "<p>", "</p>", "<p onclick=x>", "<br>", "<br/>", "</br>", "<b>", "</b>", "<strong>",
        "<i>", "<em class=x>", "</em>", "<div style=\"background:url(javascript:x)\">", "<span>", "<table><tr><td>",
        "<!--", "-->", "<!-- <script>x</script> -->", "<![CDATA[<script>x</script>]]>", "<?xml x?>", "<!DOCTYPE html>",
        "&lt;script&gt;", "&amp;", "&nbsp;", "&#0;", "&#x110000;", "&bogus;", "&", "<", ">", "\"", "'", "=", "/",
        "javascript:", "on", "onerror=", "\u{0}", "\u{a0}", "\u{200b}", "\u{202e}", "\u{feff}", "\r\n", "\t", " ",
        "Звонок", "ё", "😀", "text",
    ];

    /// Markup made of hostile pieces, arbitrary text, or both.
    pub(crate) fn markup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => proptest::sample::select(HOSTILE).prop_map(str::to_owned),
            1 => any::<String>(),
            1 => "[<>/=\"' a-z:&#;0-9]{0,12}",
        ];
        prop_oneof![
            4 => proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat()),
            1 => any::<String>(),
        ]
    }

    /// The rule ammonia applies to `href` (and the one [`clean`] asks for):
    /// an absolute http(s) URL, or a relative one left for the app to resolve.
    fn href_allowed(href: &str) -> bool {
        match url::Url::parse(href) {
            Ok(u) => matches!(u.scheme(), "http" | "https"),
            Err(e) => e == url::ParseError::RelativeUrlWithoutBase,
        }
    }

    /// Decodes the escapes the serializer writes in attribute values.
    fn unescape_attr(v: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = v;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            let (c, len) = [("&amp;", '&'), ("&quot;", '"'), ("&nbsp;", '\u{a0}'), ("&lt;", '<'), ("&gt;", '>')]
                .iter()
                .find(|(e, _)| rest.starts_with(e))
                .map(|(e, c)| (*c, e.len()))
                .ok_or_else(|| format!("bare & in attribute value {v:?}"))?;
            out.push(c);
            rest = &rest[len..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Reads `html` as the serializer writes it and fails on anything outside
    /// the subset: a tag other than a, p, br, b, strong, i, em; an attribute
    /// other than `href` (and ammonia's fixed `rel`) on `a`; an href that is
    /// not http(s) or relative; a `<` or `>` or bare `&` in text (which would
    /// mean the reader and the browser could disagree about what is markup).
    pub(crate) fn check_safe_html(html: &str) -> Result<(), String> {
        const TAGS: [&str; 7] = ["a", "p", "br", "b", "strong", "i", "em"];
        const REL: &str = "noopener noreferrer nofollow";
        let lower = html.to_ascii_lowercase();
        // Text is escaped, so these can only be markup. (`javascript:` may be
        // text; as an href it is caught below.)
        for bad in ["<script", "<style", "<iframe", "<img", "<svg", "<!--"] {
            if lower.contains(bad) {
                return Err(format!("{bad:?} in {html:?}"));
            }
        }
        let mut rest = html;
        while !rest.is_empty() {
            let Some(i) = rest.find(['<', '>', '&']) else { break };
            rest = &rest[i..];
            if rest.starts_with('>') {
                return Err(format!("bare > in text of {html:?}"));
            }
            if rest.starts_with('&') {
                let ok = ["&amp;", "&nbsp;", "&lt;", "&gt;", "&quot;"].iter().find(|e| rest.starts_with(**e));
                let e = ok.ok_or_else(|| format!("bare & in text of {html:?}"))?;
                rest = &rest[e.len()..];
                continue;
            }
            let end = rest.find('>').ok_or_else(|| format!("unclosed tag in {html:?}"))?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if !TAGS.contains(&name) || name == "br" {
                    return Err(format!("end tag </{name}> in {html:?}"));
                }
                continue;
            }
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if !TAGS.contains(&name) {
                return Err(format!("tag <{name}> in {html:?}"));
            }
            while !attrs.is_empty() {
                let (attr, after) = attrs.split_once("=\"").ok_or_else(|| format!("attribute without value in <{tag}>"))?;
                let close = after.find('"').ok_or_else(|| format!("unterminated value in <{tag}>"))?;
                let value = unescape_attr(&after[..close])?;
                attrs = after[close + 1..].strip_prefix(' ').unwrap_or(&after[close + 1..]);
                match (name, attr) {
                    ("a", "href") if href_allowed(&value) => {}
                    ("a", "href") => return Err(format!("href {value:?} is neither http(s) nor relative")),
                    ("a", "rel") if value == REL => {}
                    _ => return Err(format!("attribute {attr}={value:?} on <{name}> in {html:?}")),
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn clean_output_is_only_the_subset(input in markup()) {
            let out = clean(&input);
            if let Err(e) = check_safe_html(&out) {
                return Err(TestCaseError::fail(format!("{e}\ninput: {input:?}")));
            }
        }

        #[test]
        fn clean_is_idempotent(input in markup()) {
            let once = clean(&input);
            prop_assert_eq!(clean(&once), once, "input: {:?}", input);
        }

        #[test]
        fn to_text_never_panics_and_leaves_no_tag(input in markup()) {
            // Arbitrary text, not only clean output: to_text must not panic on either.
            let _ = to_text(&input);
            let text = to_text(&clean(&input));
            // A `<` in the text is text the widget wrote: escaped (an entity,
            // CDATA in svg/math), or inside an element whose content a browser
            // shows as text (xmp, textarea, plaintext). A tag never survives as one.
            let lower = input.to_ascii_lowercase();
            let literal = ["<xmp", "<textarea", "<plaintext", "<![cdata["];
            if !input.contains('&') && !literal.iter().any(|t| lower.contains(t)) {
                prop_assert!(!text.to_ascii_lowercase().contains("<script"), "{:?} -> {:?}", input, text);
            }
        }
    }
}
