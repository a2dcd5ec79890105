//! Command line: `kolokol [--minimized] [--data-dir DIR] [open URL]`. No Tauri here.

use std::path::PathBuf;

use url::Url;

pub const USAGE: &str = "\
usage: kolokol [--minimized] [--data-dir DIR] [open URL]

  --minimized     start in the tray only, without the workspace window
  --data-dir DIR  keep settings and data in DIR (default: $KOLOKOL_DATA_DIR,
                  else the system's app data folder); one instance runs per DIR
  open URL        load an http(s) page into the workspace; it may call
                  APP.notifications and nothing else
";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub minimized: bool,
    pub data_dir: Option<PathBuf>,
    pub open: Option<Url>,
    pub help: bool,
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
                let target = it.next().ok_or("open needs a URL")?;
                let url = Url::parse(&target).map_err(|e| format!("open: {target:?} is not a URL: {e}"))?;
                crate::links::check_scheme(&url).map_err(|e| format!("open: {e}"))?;
                out.open = Some(url);
            }
            other => match other.strip_prefix("--data-dir=") {
                Some(dir) => out.data_dir = Some(dir.into()),
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    Ok(out)
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
        assert_eq!(a.open.unwrap().as_str(), "http://127.0.0.1:8080/a.html");
        assert_eq!(p(&["--data-dir=/y"]).unwrap().data_dir, Some("/y".into()));
    }

    #[test]
    fn refuses_clearly() {
        assert!(p(&["--bogus"]).unwrap_err().contains("--bogus"));
        assert!(p(&["open", "file:///etc/passwd"]).unwrap_err().contains("not allowed"));
        assert!(p(&["open"]).unwrap_err().contains("URL"));
        assert!(p(&["--data-dir"]).is_err());
    }
}
