//! The layout's rule that the compiler cannot see: only `src-tauri/shell/`
//! touches Tauri. No other file may name the `tauri` crates (or `wry`, `tao`,
//! which Tauri is built on), nor reach into the shell (`crate::shell`), so the
//! core, the channels, the ingress paths and the workbench's logic keep
//! building and testing without a display. Files are tokenised with
//! proc-macro2: comments and strings do not count, code inside macros does.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The build script is tauri-build's (it generates the app's context and
/// access control); it runs before the crate is compiled, not inside it.
const EXEMPT: &[&str] = &["src-tauri/build.rs"];

/// One forbidden name: its line and what was named.
#[derive(Debug, PartialEq)]
struct Leak {
    line: usize,
    name: String,
}

fn forbidden(name: &str) -> bool {
    matches!(name, "tauri" | "wry" | "tao") || name.starts_with("tauri_")
}

/// Forbidden names in Rust source `src`, in order.
fn leaks(src: &str) -> Result<Vec<Leak>, String> {
    let tokens = TokenStream::from_str(src).map_err(|e| format!("cannot tokenise: {e}"))?;
    let mut out = Vec::new();
    walk(tokens, &mut out);
    Ok(out)
}

fn walk(tokens: TokenStream, out: &mut Vec<Leak>) {
    // The last three tokens at this level, to see `crate :: shell` / `super :: shell`.
    let mut last: [String; 3] = Default::default();
    for tt in tokens {
        let text = match &tt {
            TokenTree::Ident(i) => {
                let name = i.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                let into_shell = name == "shell" && last[1] == ":" && last[2] == ":" && matches!(last[0].as_str(), "crate" | "super");
                if forbidden(&name) || into_shell {
                    let named = if into_shell { format!("{}::shell", last[0]) } else { name.clone() };
                    out.push(Leak { line: i.span().start().line, name: named });
                }
                name
            }
            TokenTree::Punct(p) => p.as_char().to_string(),
            TokenTree::Group(g) => {
                walk(g.stream(), out);
                match g.delimiter() {
                    Delimiter::None => String::new(),
                    _ => "()".into(),
                }
            }
            TokenTree::Literal(_) => "\"\"".into(),
        };
        last = [last[1].clone(), last[2].clone(), text];
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_shell_names_tauri() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src-tauri"), &mut files);
    let shell = root.join("src-tauri/shell");
    let checked: Vec<_> = files
        .into_iter()
        .filter(|p| !p.starts_with(&shell))
        .filter(|p| !EXEMPT.iter().any(|e| p == &root.join(e)))
        .collect();
    // Guard against a path mistake that would make this test check nothing.
    for folder in ["core", "channels", "ingress", "workbench"] {
        assert!(checked.iter().any(|p| p.starts_with(root.join("src-tauri").join(folder))), "no Rust files found in src-tauri/{folder}/");
    }
    let mut problems = Vec::new();
    for path in &checked {
        let rel = path.strip_prefix(root).unwrap_or(path).display().to_string();
        let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        match leaks(&src) {
            Ok(found) => {
                for l in found {
                    let text = src.lines().nth(l.line.saturating_sub(1)).unwrap_or("").trim();
                    problems.push(format!("{rel}:{}: names `{}` outside src-tauri/shell/: {text}", l.line, l.name));
                }
            }
            Err(e) => problems.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "only src-tauri/shell/ may touch Tauri; move this code into the shell or pass it what it needs:\n{}",
        problems.join("\n")
    );
    println!("layout: {} files outside src-tauri/shell/ name no Tauri crate", checked.len());
}

#[test]
fn the_check_finds_what_it_should_and_nothing_else() {
    let src = r#"//! Talks about tauri in a comment: fine.
use serde::Serialize;
use tauri::AppHandle;
const S: &str = "tauri::command wry tao"; // strings are fine
fn f() { let _ = tauri_plugin_opener::init(); }
#[doc = "tauri"]
fn g() -> crate::shell::state::AppState { todo!() }
fn h() { let shell = 1; my::shell::x(); m!(wry::x); }
/* block comment: tao */
fn i(app: r#tauri::AppHandle) {}
"#;
    let found = leaks(src).unwrap();
    let got: Vec<(usize, &str)> = found.iter().map(|l| (l.line, l.name.as_str())).collect();
    assert_eq!(got, vec![(3, "tauri"), (5, "tauri_plugin_opener"), (7, "crate::shell"), (8, "wry"), (10, "tauri")]);
    assert!(leaks("fn broken( {").is_err(), "unparsable files are reported, not skipped");
}
