//! What the workspace can open (an http(s) address, a local HTML file, a
//! widget folder), the recent list, and how a local target's files are served:
//! only files inside its folder, with their MIME type. No Tauri here.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::workbench::manifest::{self, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Start,
    Playground,
    Url,
    File,
    Widget,
}

/// What the user asked to open, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Url(Url),
    /// A local HTML file (absolute).
    File(PathBuf),
    /// A widget folder (absolute).
    Widget(PathBuf),
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Url(_) => Kind::Url,
            Spec::File(_) => Kind::File,
            Spec::Widget(_) => Kind::Widget,
        }
    }

    /// The text that opens it again (the recent list, the toolbar).
    pub fn input(&self) -> String {
        match self {
            Spec::Url(u) => u.to_string(),
            Spec::File(p) | Spec::Widget(p) => p.display().to_string(),
        }
    }

    pub fn title(&self) -> String {
        match self {
            Spec::Url(u) => u.host_str().map_or_else(|| u.to_string(), |h| format!("{h}{}", u.path().trim_end_matches('/'))),
            Spec::File(p) | Spec::Widget(p) => {
                p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
            }
        }
    }
}

/// Reads what a user typed (toolbar, `kolokol open`): an http(s) address, a
/// path to an .html file, or a widget folder (relative paths from `cwd`).
pub fn parse(input: &str, cwd: &Path) -> Result<Spec, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("type an http(s) address, a path to an .html file or a widget folder".into());
    }
    let lower = input.to_ascii_lowercase();
    let path = if lower.starts_with("file://") {
        Url::parse(input)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| format!("{input:?} is not a file address this system can open"))?
    } else if lower.contains("://") || lower.starts_with("javascript:") || lower.starts_with("data:") {
        let url = Url::parse(input).map_err(|e| format!("{input:?} is not an address: {e}"))?;
        crate::core::links::check_scheme(&url)?;
        return Ok(Spec::Url(url));
    } else if let Some(rest) = input.strip_prefix("~/") {
        dirs::home_dir().ok_or("no home folder to expand ~ in")?.join(rest)
    } else if lower.starts_with("localhost:") || lower.starts_with("127.0.0.1:") {
        // A dev server typed without its scheme.
        return Ok(Spec::Url(Url::parse(&format!("http://{input}")).map_err(|e| e.to_string())?));
    } else {
        cwd.join(input)
    };
    let path = dunce::canonicalize(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.is_dir() {
        if path.join("manifest.json").is_file() || path.join("script.js").is_file() {
            return Ok(Spec::Widget(path));
        }
        if path.join("index.html").is_file() {
            return Ok(Spec::File(path.join("index.html")));
        }
        return Err(format!(
            "{} is not a widget folder (no manifest.json or script.js) and has no index.html",
            path.display()
        ));
    }
    if path.file_name().is_some_and(|n| n == "manifest.json" || n == "script.js") {
        return Ok(Spec::Widget(path.parent().map(Path::to_path_buf).unwrap_or(path)));
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm" | "xhtml") => Ok(Spec::File(path)),
        _ => Err(format!(
            "{} cannot be opened: only .html files, widget folders and http(s) addresses",
            path.display()
        )),
    }
}

/// What the workspace shows, as the workbench window sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub kind: Kind,
    pub input: String,
    pub url: String,
    pub title: String,
    pub problems: Vec<Problem>,
    pub watching: bool,
    /// For a local target: which files its page can read, in words.
    pub reads: Option<String>,
}

/// The problems of a widget folder, as the host page and the toolbar show them.
pub fn widget_check(folder: &Path) -> manifest::Checked {
    manifest::check_folder(folder)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentItem {
    pub kind: Kind,
    pub input: String,
    pub title: String,
    pub opened_ms: i64,
}

pub const RECENT: usize = 10;

/// The recent list, newest first, kept in `recent.json`.
pub struct Recent {
    path: PathBuf,
    items: std::sync::Mutex<Vec<RecentItem>>,
}

impl Recent {
    pub fn load(data_dir: &Path) -> Recent {
        let path = data_dir.join("recent.json");
        let items = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Recent { path, items: std::sync::Mutex::new(items) }
    }

    pub fn list(&self) -> Vec<RecentItem> {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn add(&self, spec: &Spec, now_ms: i64) -> Result<Vec<RecentItem>, String> {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let input = spec.input();
        items.retain(|i| i.input != input);
        items.insert(0, RecentItem { kind: spec.kind(), input, title: spec.title(), opened_ms: now_ms });
        items.truncate(RECENT);
        crate::core::datadir::save_json(&self.path, &*items)?;
        Ok(items.clone())
    }
}

/// The file under `root` that `rel` (a URL path, percent-encoded) names, if
/// it is inside `root` after resolving links and neither it nor a folder on
/// its way is hidden (`.ssh`, `.env`, `.git`). `None`: not found or refused.
pub fn resolve_file(root: &Path, rel: &str) -> Option<PathBuf> {
    let decoded = percent_decode(rel)?;
    let mut path = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) if is_hidden(p) => return None,
            Component::Normal(p) => path.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    contained(root, &path)
}

/// `path` resolved (links followed), if it is a file inside `root` with no
/// hidden name between the two. Every file a target's page can get goes
/// through here, `manifest.json` and the i18n files included.
pub fn contained(root: &Path, path: &Path) -> Option<PathBuf> {
    let real = dunce::canonicalize(path).ok()?;
    let root = dunce::canonicalize(root).ok()?;
    let inside = real.strip_prefix(&root).ok()?;
    let hidden = inside.components().any(|c| matches!(c, Component::Normal(p) if is_hidden(p)));
    (!hidden && real.is_file()).then_some(real)
}

/// Whether a change at `path` (under the watched `root`) can change what the
/// target's page gets, so that it is worth a reload: not inside a hidden
/// folder or file (never served, `.git` included), dependency folders or
/// editor backups, and not under `own` — what Kolokol itself writes (its data
/// folder, its log when redirected into the folder), which would otherwise
/// reload the page on every write to the history or every log line, for ever.
pub fn reload_worthy(root: &Path, own: &[PathBuf], path: &Path) -> bool {
    if own.iter().any(|o| path.starts_with(o)) {
        return false;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let name = rel.to_string_lossy();
    !rel.components().any(|c| matches!(c, Component::Normal(p) if is_hidden(p) || p == "node_modules"))
        && !name.ends_with('~')
        && !name.ends_with(".swp")
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The languages a widget folder has texts for: `i18n/<lang>.json`, sorted.
pub fn i18n_files(folder: &Path) -> Vec<String> {
    let dir = folder.join("i18n");
    let mut langs: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| contained(folder, &e.path()).is_some())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned))
                .filter(|l| !l.is_empty() && !l.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    langs.sort();
    langs
}

/// What a local HTML file's page may read: its folder, unless that folder is
/// the home folder or one above it (then only the file itself and the folder
/// named after it, as browsers save pages: `page.html` with `page_files/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileScope {
    pub folder: PathBuf,
    /// `None`: the whole folder (hidden files aside).
    pub only: Option<Vec<String>>,
}

impl FileScope {
    pub fn of(file: &Path, home: Option<&Path>) -> FileScope {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
        let real = dunce::canonicalize(&folder).unwrap_or_else(|_| folder.clone());
        let home = home.map(|h| dunce::canonicalize(h).unwrap_or_else(|_| h.to_path_buf()));
        let wide = home.as_deref().is_some_and(|h| h.starts_with(&real)) || real.parent().is_none();
        let only = wide.then(|| {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let stem = file.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            vec![name, format!("{stem}/"), format!("{stem}_files/")]
        });
        FileScope { folder, only }
    }

    /// The file `rel` (a URL path under the page's folder) names, if this scope lets the page read it.
    pub fn resolve(&self, rel: &str) -> Option<PathBuf> {
        if let Some(only) = &self.only {
            let decoded = percent_decode(rel)?;
            let rel = decoded.trim_start_matches('/');
            let allowed = only.iter().any(|o| if o.ends_with('/') { rel.starts_with(o.as_str()) } else { rel == o });
            if !allowed {
                return None;
            }
        }
        resolve_file(&self.folder, rel)
    }

    /// In words, for the workbench: which folder the page can read.
    pub fn describe(&self) -> String {
        match &self.only {
            None => format!("{} (the whole folder, hidden files aside)", self.folder.display()),
            Some(only) => format!(
                "only {} in {}: a page in the home folder (or above it) does not get the folder",
                only.join(", "),
                self.folder.display()
            ),
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('\0')).then_some(s)
}

pub fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("xhtml") => "application/xhtml+xml",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("twig" | "txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff") => "font/woff",
        Some("woff2") => "font/woff2",
        Some("ttf") => "font/ttf",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// Where the webview serves a custom scheme's pages (the app's own and the
/// `kolokol:` scheme): `<scheme>://localhost/`, except on Windows, whose
/// WebView2 has no custom schemes: Tauri serves them at
/// `http://<scheme>.localhost/` there.
pub fn scheme_base(scheme: &str, windows: bool) -> Url {
    let base = if windows { format!("http://{scheme}.localhost/") } else { format!("{scheme}://localhost/") };
    Url::parse(&base).expect("a valid scheme address")
}

/// The host a local target is served under: its own origin
/// (`kolokol://t<16 hex>/`), derived from its folder, so two targets never
/// share storage and a target keeps its storage from one run to the next.
/// FNV-1a of the folder's path: stable across builds and Rust versions.
pub fn target_host(folder: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in folder.to_string_lossy().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("t{h:016x}")
}

/// Where a local target's pages are: `kolokol://<target host>/`. Windows'
/// WebView2 serves custom schemes only as `http://<scheme>.localhost/`, one
/// origin for every target there.
pub fn target_base(scheme: &str, folder: &Path, windows: bool) -> Url {
    if windows {
        return scheme_base(scheme, true);
    }
    Url::parse(&format!("{scheme}://{}/", target_host(folder))).expect("a valid target address")
}

/// Is `url` one of Kolokol's own pages (ui/, served from the app's scheme)?
/// The trusted windows (workbench, history) may go nowhere else: a page
/// there would get their commands.
pub fn is_app_page(url: &Url, windows: bool) -> bool {
    let base = scheme_base("tauri", windows);
    url.scheme() == base.scheme() && url.host_str() == base.host_str() && url.port() == base.port()
}

/// The CSP of every page served from a local target: its own files, images
/// and media from http(s), Kolokol's IPC, nothing else. `unsafe-eval` stays
/// for widgets' template engines (underscore's `_.template`); inline script
/// and inline event handlers are blocked.
pub const TARGET_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; media-src 'self' http: https:; \
connect-src 'self' ipc: http://ipc.localhost; font-src 'self' data:; object-src 'none'; frame-src 'none'; \
base-uri 'self'; form-action 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_files_reload_the_page() {
        let root = Path::new("/w/widget");
        let own = [PathBuf::from("/w/widget/data"), PathBuf::from("/w/widget/kolokol.log")];
        let worthy = |p: &str| reload_worthy(root, &own, Path::new(p));
        assert!(worthy("/w/widget/script.js"));
        assert!(worthy("/w/widget/i18n/ru.json"));
        assert!(!worthy("/w/widget/data/history.sqlite3-wal"), "Kolokol's own data folder");
        assert!(!worthy("/w/widget/kolokol.log"), "Kolokol's own log");
        assert!(worthy("/w/widget/kolokol.log.js"));
        assert!(!worthy("/w/widget/.git/index"));
        assert!(!worthy("/w/widget/.idea/workspace.xml"));
        assert!(!worthy("/w/widget/.env"));
        assert!(!worthy("/w/widget/node_modules/x/index.js"));
        assert!(!worthy("/w/widget/script.js~"));
        assert!(!worthy("/w/widget/.script.js.swp"));
        // The data folder elsewhere does not hide the widget's files.
        assert!(reload_worthy(root, &[PathBuf::from("/home/a/.local/share/kolokol")], Path::new("/w/widget/data/x.js")));
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let w = d.path().join("my widget");
        std::fs::create_dir_all(w.join("i18n")).unwrap();
        std::fs::write(w.join("manifest.json"), "{}").unwrap();
        std::fs::write(w.join("script.js"), "define([], function () {});").unwrap();
        std::fs::write(w.join("i18n/ru.json"), "{}").unwrap();
        std::fs::create_dir_all(d.path().join("site")).unwrap();
        std::fs::write(d.path().join("site/index.html"), "<p>").unwrap();
        std::fs::write(d.path().join("page.HTML"), "<p>").unwrap();
        std::fs::write(d.path().join("notes.txt"), "x").unwrap();
        std::fs::create_dir_all(d.path().join("empty")).unwrap();
        std::fs::write(d.path().join("secret"), "s").unwrap();
        d
    }

    #[test]
    fn reads_what_people_type() {
        let d = tree();
        let root = dunce::canonicalize(d.path()).unwrap();
        let p = |s: &str| parse(s, d.path());
        assert_eq!(p("https://example.amocrm.ru/leads").unwrap(), Spec::Url(Url::parse("https://example.amocrm.ru/leads").unwrap()));
        assert_eq!(p("localhost:5173").unwrap(), Spec::Url(Url::parse("http://localhost:5173/").unwrap()));
        assert_eq!(p("my widget").unwrap(), Spec::Widget(root.join("my widget")));
        assert_eq!(p("./my widget/manifest.json").unwrap(), Spec::Widget(root.join("my widget")));
        assert_eq!(p(&format!(" {}/page.HTML ", root.display())).unwrap(), Spec::File(root.join("page.HTML")));
        let file_url = Url::from_file_path(root.join("page.HTML")).unwrap();
        assert_eq!(p(file_url.as_str()).unwrap(), Spec::File(root.join("page.HTML")));
        assert_eq!(p("site").unwrap(), Spec::File(root.join("site/index.html")));
        for (bad, says) in [
            ("", "type an http"),
            ("javascript:alert(1)", "javascript"),
            ("ftp://x.org/", "ftp"),
            ("notes.txt", "only .html files"),
            ("empty", "not a widget folder"),
            ("missing.html", "missing.html"),
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.to_lowercase().contains(says), "{bad:?} → {e}");
        }
        assert_eq!(p("my widget").unwrap().title(), "my widget");
        assert_eq!(p("https://a.b/c/").unwrap().title(), "a.b/c");
    }

    #[test]
    fn serves_only_files_inside_the_folder() {
        let d = tree();
        let w = d.path().join("my widget");
        assert!(resolve_file(&w, "/i18n/ru.json").is_some());
        assert!(resolve_file(&w, "i18n%2Fru.json").is_some());
        assert!(resolve_file(&d.path().join("site"), "index.html").is_some());
        for bad in ["../secret", "/../secret", "i18n/../../secret", "%2e%2e/secret", "i18n", "nope.js", "%zz", "a%00b"] {
            assert!(resolve_file(&w, bad).is_none(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("secret"), w.join("link")).unwrap();
            assert!(resolve_file(&w, "link").is_none(), "a link out of the folder is not followed");
        }
        // Hidden files and folders are never served, by name or through a link.
        std::fs::create_dir_all(w.join(".ssh")).unwrap();
        std::fs::write(w.join(".ssh/id_ed25519"), "key").unwrap();
        std::fs::write(w.join(".env"), "TOKEN=1").unwrap();
        for bad in [".ssh/id_ed25519", ".env", "%2Essh/id_ed25519", "i18n/../.env"] {
            assert!(resolve_file(&w, bad).is_none(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(w.join(".env"), w.join("env.txt")).unwrap();
            assert!(resolve_file(&w, "env.txt").is_none(), "a link to a hidden file");
        }
        assert_eq!(i18n_files(&w), ["ru"]);
        assert_eq!(mime(Path::new("a/script.JS")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("x")), "application/octet-stream");
    }

    #[test]
    fn a_page_in_the_home_folder_reads_only_itself_and_its_own_folder() {
        let d = tree();
        let home = d.path();
        std::fs::create_dir_all(home.join("page_files")).unwrap();
        std::fs::write(home.join("page_files/a.css"), "p{}").unwrap();
        let scope = FileScope::of(&home.join("page.HTML"), Some(home));
        assert!(scope.only.is_some(), "{scope:?}");
        assert!(scope.resolve("page.HTML").is_some());
        assert!(scope.resolve("page_files/a.css").is_some());
        for bad in ["secret", "notes.txt", "site/index.html", "page_files/../secret"] {
            assert!(scope.resolve(bad).is_none(), "{bad}");
        }
        assert!(scope.describe().starts_with("only page.HTML, page/, page_files/ in"), "{}", scope.describe());
        // A folder above home: the same; a folder of its own: the whole folder.
        assert!(FileScope::of(&home.join("page.HTML"), Some(&home.join("site"))).only.is_some());
        let site = FileScope::of(&home.join("site/index.html"), Some(home));
        assert_eq!(site.only, None);
        assert!(site.resolve("index.html").is_some());
        assert!(FileScope::of(Path::new("/x.html"), None).only.is_some(), "the root folder");
    }

    #[test]
    fn every_target_folder_has_its_own_origin_and_trusted_windows_stay_home() {
        let a = target_base("kolokol", Path::new("/home/u/widget-a"), false);
        let b = target_base("kolokol", Path::new("/home/u/widget-b"), false);
        assert_ne!(a.origin(), b.origin());
        assert_eq!(a, target_base("kolokol", Path::new("/home/u/widget-a"), false), "stable");
        assert_eq!(a.as_str(), "kolokol://t59162bd292b7f62c/", "FNV-1a, the same in every build");
        assert_eq!(target_base("kolokol", Path::new("/x"), true).as_str(), "http://kolokol.localhost/");
        for ok in ["tauri://localhost/workbench.html", "tauri://localhost/history.html?x=1"] {
            assert!(is_app_page(&Url::parse(ok).unwrap(), false), "{ok}");
        }
        for bad in ["kolokol://localhost/__kolokol/host.html", "https://example.com/", "tauri://evil/", "file:///etc/passwd"] {
            assert!(!is_app_page(&Url::parse(bad).unwrap(), false), "{bad}");
        }
        assert!(is_app_page(&Url::parse("http://tauri.localhost/workbench.html").unwrap(), true));
    }

    #[test]
    fn custom_schemes_are_spelled_per_system() {
        let page = |windows| scheme_base("kolokol", windows).join("/page/a%20b.html").unwrap().to_string();
        assert_eq!(page(false), "kolokol://localhost/page/a%20b.html");
        assert_eq!(page(true), "http://kolokol.localhost/page/a%20b.html");
        assert_eq!(scheme_base("kolokol", true).join("/__kolokol/host.html").unwrap().path(), "/__kolokol/host.html");
        // The system this runs on: the spelling its webview uses.
        let here = scheme_base("kolokol", cfg!(windows));
        assert_eq!(here.scheme(), if cfg!(windows) { "http" } else { "kolokol" });
        assert_eq!(here.host_str(), Some(if cfg!(windows) { "kolokol.localhost" } else { "localhost" }));
    }

    #[test]
    fn recent_list_is_newest_first_without_repeats() {
        let d = tempfile::tempdir().unwrap();
        let r = Recent::load(d.path());
        for i in 0..12 {
            r.add(&Spec::Url(Url::parse(&format!("https://h{i}.example/")).unwrap()), i).unwrap();
        }
        r.add(&Spec::Url(Url::parse("https://h5.example/").unwrap()), 99).unwrap();
        let items = Recent::load(d.path()).list();
        assert_eq!(items.len(), RECENT);
        assert_eq!((items[0].title.as_str(), items[0].opened_ms), ("h5.example", 99));
        assert_eq!(items.iter().filter(|i| i.title == "h5.example").count(), 1);
        assert_eq!(items[1].title, "h11.example");
    }
}
