//! Command line: `kolokol [--minimized] [--data-dir DIR] [open PATH_OR_URL]`, and
//! the commands that need no window (`history`, `status`, `send`).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::control;
use crate::channels::history;

pub const USAGE: &str = "\
usage: kolokol [--minimized] [--data-dir DIR] [open PATH_OR_URL]
       kolokol [--data-dir DIR] history [--json] [--search Q] [--unread] [--limit N]
       kolokol [--data-dir DIR] status [--json]
       kolokol [--data-dir DIR] send METHOD 'JSON'
       kolokol pbx --server URL --account A (--queue Q | --agent A) ring CALL 'JSON'
       kolokol pbx … answered CALL AGENT [NAME] | ended CALL [--duration S] [--link URL]

  --minimized     start in the tray only, without the workspace window
  --data-dir DIR  keep settings and data in DIR (default: $KOLOKOL_DATA_DIR,
                  else the system's app data folder); one instance runs per DIR
  open PATH_OR_URL
                  load an http(s) page, a local .html file or an amoCRM widget
                  folder into the workspace (into the running instance if there
                  is one); it may call APP.notifications and nothing else. Local
                  targets reload when their files change; the Workbench window
                  shows every call
  history         print the stored notifications, newest first (works while
                  the app runs); --search uses full-text search
  status          the running instance: unread count, do-not-disturb, channels
  send            deliver a notification to the running instance, through the
                  same validation as a page (exit 1 and the reason if refused)
  pbx             publish a call event to the call center's NATS JetStream
                  (a PBX dialplan or script): validated as `send`, exit 0 once
                  the broker stored it, 1 refused, 3 the broker unreachable.
                  Also --user U (password in KOLOKOL_NATS_PASSWORD), a token in
                  KOLOKOL_NATS_TOKEN, --creds FILE, --tls-ca FILE, --id MSG_ID,
                  --method add_error
";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    History { json: bool, search: Option<String>, unread: bool, limit: u32 },
    Status { json: bool },
    Send { method: String, payload: String },
    Pbx(Box<super::pbx::Pbx>),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub minimized: bool,
    pub data_dir: Option<PathBuf>,
    /// As typed; resolved against the caller's folder by `target::parse`.
    pub open: Option<String>,
    pub help: bool,
    pub command: Option<Command>,
}

pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minimized" => out.minimized = true,
            "-h" | "--help" => out.help = true,
            "--data-dir" => out.data_dir = Some(it.next().ok_or("--data-dir needs a folder")?.into()),
            "open" => {
                let target = it.next().ok_or("open needs a URL, an .html file or a widget folder")?;
                // Addresses are checked here; paths once the caller's folder is known.
                let lower = target.trim().to_ascii_lowercase();
                if (lower.contains("://") && !lower.starts_with("file://")) || lower.starts_with("javascript:") || lower.starts_with("data:") {
                    let url = url::Url::parse(target.trim()).map_err(|e| format!("open: {target:?} is not a URL: {e}"))?;
                    crate::core::links::check_scheme(&url).map_err(|e| format!("open: {e}"))?;
                }
                out.open = Some(target);
            }
            "history" if out.command.is_none() => {
                let (mut json, mut search, mut unread, mut limit) = (false, None, false, 50);
                while let Some(a) = it.next() {
                    match a.as_str() {
                        "--json" => json = true,
                        "--unread" => unread = true,
                        "--search" => search = Some(it.next().ok_or("--search needs a text")?),
                        "--limit" => {
                            let n = it.next().ok_or("--limit needs a number")?;
                            limit = n.parse().map_err(|_| format!("--limit: {n:?} is not a number"))?;
                        }
                        "--data-dir" => out.data_dir = Some(it.next().ok_or("--data-dir needs a folder")?.into()),
                        other => return Err(format!("history: unknown argument {other:?}")),
                    }
                }
                out.command = Some(Command::History { json, search, unread, limit });
            }
            "status" if out.command.is_none() => {
                let mut json = false;
                for a in it.by_ref() {
                    match a.as_str() {
                        "--json" => json = true,
                        other => return Err(format!("status: unknown argument {other:?}")),
                    }
                }
                out.command = Some(Command::Status { json });
            }
            "send" if out.command.is_none() => {
                let method = it.next().ok_or("send needs a method, e.g. add_call")?;
                let payload = it.next().ok_or("send needs the payload as JSON, e.g. '{\"text\":\"hi\"}'")?;
                if let Some(extra) = it.next() {
                    return Err(format!("send: unexpected argument {extra:?} (quote the JSON as one argument)"));
                }
                out.command = Some(Command::Send { method, payload });
            }
            "pbx" if out.command.is_none() => out.command = Some(Command::Pbx(Box::new(super::pbx::parse(&mut it)?))),
            other => match other.strip_prefix("--data-dir=") {
                Some(dir) => out.data_dir = Some(dir.into()),
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    Ok(out)
}

/// One history row as a line of text for people: time (UTC), kind, who, what.
pub fn history_line(r: &history::Row) -> String {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(r.date_ms.max(0) as u64);
    let when = humantime::format_rfc3339_seconds(when).to_string();
    let who = match (&r.from, &r.to) {
        (Some(f), Some(t)) => format!("{f} → {t}  "),
        (Some(f), None) => format!("{f}  "),
        (None, Some(t)) => format!("→ {t}  "),
        _ => String::new(),
    };
    let plain = |h: &Option<String>| h.as_deref().map(|h| crate::core::html::to_text(h).replace('\n', " ")).unwrap_or_default();
    let what = [plain(&r.header), plain(&r.text)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(": ");
    printable(&format!("{when}  {:<5} {}{who}{what}", r.look, if r.read { " " } else { "*" }))
}

/// A line safe to print to a terminal: control characters (C0, DEL, C1: an
/// `ESC]52;…` in a caller's name would set the user's clipboard) and bidi
/// overrides (which reorder what follows) are shown as `\u{…}` escapes.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `kolokol history|status|send|pbx`: no window, exit code returned.
pub fn run(command: Command, data_dir: &Path) -> i32 {
    match command {
        Command::History { json, search, unread, limit } => {
            let reader = match history::History::open_readonly(&history::path_in(data_dir)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("kolokol: {e}");
                    return 1;
                }
            };
            // Pages of at most what the store serves at once, up to `limit` rows.
            let filter = if unread { history::Filter::Unread } else { history::Filter::All };
            let mut query = history::Query { search, filter, before_seq: None, after_seq: None, limit };
            let mut rows = Vec::new();
            let first = loop {
                match reader.list(&query) {
                    Ok(page) => {
                        let done = page.next_before_seq.is_none() || rows.len() + page.rows.len() >= limit as usize;
                        query.before_seq = page.next_before_seq;
                        query.limit = limit - (rows.len() + page.rows.len()).min(limit as usize) as u32;
                        rows.extend(page.rows);
                        if done || query.limit == 0 {
                            break (page.total, page.unread);
                        }
                    }
                    Err(e) => {
                        eprintln!("kolokol: {e}");
                        return 1;
                    }
                }
            };
            rows.truncate(limit as usize);
            if json {
                println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
            } else {
                for r in &rows {
                    println!("{}", history_line(r));
                }
                println!("({} shown of {}, {} unread)", rows.len(), first.0, first.1);
            }
            0
        }
        Command::Status { json } => status(json, data_dir),
        Command::Pbx(p) => super::pbx::run(*p),
        Command::Send { method, payload } => send(method, payload, data_dir),
    }
}

/// The commands `kolokol` answers itself with no more than the control socket:
/// `send` (a PBX's or a script's command for each call) and `status`. Any
/// other command is given back, for the app's binary to run.
pub fn run_light(command: Command, data_dir: &Path) -> Result<i32, Command> {
    match command {
        Command::Status { json } => Ok(status(json, data_dir)),
        Command::Send { method, payload } => Ok(send(method, payload, data_dir)),
        other => Err(other),
    }
}

fn status(json: bool, data_dir: &Path) -> i32 {
    match control::request(data_dir, &control::Request::Status) {
        Ok(v) if json => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            0
        }
        Ok(v) => {
            println!(
                "running (pid {}), {} unread, do not disturb: {}, toasts: {}",
                v["pid"], v["unread"], v["do_not_disturb"], v["channels"]["toast"]
            );
            println!("{}", crate::core::memory::describe(&v["memory"]));
            0
        }
        Err(e) => {
            if json {
                println!("{}", json!({ "running": false, "reason": e }));
            } else {
                eprintln!("kolokol: {e}");
            }
            3
        }
    }
}

fn send(method: String, payload: String, data_dir: &Path) -> i32 {
    match control::request(data_dir, &control::Request::Send { method: method.clone(), payload }) {
        Ok(v) if v.get("accepted").is_some() => {
            for w in v["accepted"]["warnings"].as_array().into_iter().flatten() {
                eprintln!("warning: {}: {}", w["field"].as_str().unwrap_or(""), w["message"].as_str().unwrap_or(""));
            }
            println!("{}", v["accepted"]);
            0
        }
        Ok(v) if v.get("refused").is_some() => {
            let r = &v["refused"];
            eprintln!(
                "kolokol: {method}() refused ({}): {}: {}",
                r["code"].as_str().unwrap_or(""),
                r["field"].as_str().unwrap_or(""),
                r["message"].as_str().unwrap_or("")
            );
            1
        }
        Ok(v) => {
            eprintln!("kolokol: {}", v["error"]);
            1
        }
        Err(e) => {
            eprintln!("kolokol: {e}");
            3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Args, String> {
        parse(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses() {
        assert_eq!(p(&[]).unwrap(), Args::default());
        let a = p(&["--minimized", "--data-dir", "/tmp/x", "open", "http://127.0.0.1:8080/a.html"]).unwrap();
        assert!(a.minimized);
        assert_eq!(a.data_dir, Some("/tmp/x".into()));
        assert_eq!(a.open.unwrap(), "http://127.0.0.1:8080/a.html");
        assert_eq!(p(&["open", "./widget"]).unwrap().open.as_deref(), Some("./widget"));
        assert_eq!(p(&["--data-dir=/y"]).unwrap().data_dir, Some("/y".into()));
    }

    #[test]
    fn subcommands() {
        assert_eq!(
            p(&["--data-dir", "/d", "history", "--json", "--search", "Петрова", "--unread", "--limit", "5"]).unwrap().command,
            Some(Command::History { json: true, search: Some("Петрова".into()), unread: true, limit: 5 })
        );
        assert_eq!(p(&["status", "--json"]).unwrap().command, Some(Command::Status { json: true }));
        assert_eq!(
            p(&["send", "add_call", r#"{"text":"t"}"#]).unwrap().command,
            Some(Command::Send { method: "add_call".into(), payload: r#"{"text":"t"}"#.into() })
        );
        assert!(p(&["send", "add_call"]).unwrap_err().contains("JSON"));
        assert!(p(&["history", "--limit", "x"]).unwrap_err().contains("--limit"));
    }

    #[test]
    fn refuses_clearly() {
        assert!(p(&["--bogus"]).unwrap_err().contains("--bogus"));
        assert!(p(&["open", "javascript:alert(1)"]).unwrap_err().contains("not allowed"));
        assert!(p(&["open", "ftp://x.org/"]).unwrap_err().contains("not allowed"));
        assert!(p(&["open"]).unwrap_err().contains("URL"));
        assert!(p(&["--data-dir"]).is_err());
    }

    #[test]
    fn history_lines_carry_no_terminal_controls() {
        let evil = "Петрова\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{9b}2J\u{202e}gpj.exe";
        assert_eq!(printable(evil), "Петрова\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}\\u{9b}2J\\u{202e}gpj.exe");
        assert_eq!(printable("→ Anna: 1:01 ok"), "→ Anna: 1:01 ok");
        let row = history::Row {
            seq: 1,
            id: "n".into(),
            method: "add_call".into(),
            look: "call".into(),
            header: None,
            text: Some("t\u{1b}[2J".into()),
            from: Some(evil.into()),
            to: Some("b\u{1b}[31m".into()),
            duration_s: None,
            date_ms: 0,
            created_ms: 0,
            updated_ms: 0,
            read: false,
            tag: None,
            source: String::new(),
            icon: None,
            click: None,
            card: None,
            recording: None,
            payload: serde_json::Value::Null,
        };
        let line = history_line(&row);
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("\\u{1b}]52"), "{line}");
    }
}
