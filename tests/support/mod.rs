//! Harness for the end-to-end tests and the benchmark: the real app binary in a
//! real WebKit webview, driven through tauri-driver and WebKitWebDriver.
//! Missing pieces of the environment fail loudly; nothing is skipped.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod desktop;
pub mod nats;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

pub const APP_BIN: &str = env!("CARGO_BIN_EXE_kolokol");

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The pieces a real webview test needs, or a panic that says what is missing.
pub fn require_environment() -> (PathBuf, PathBuf) {
    let mut missing = Vec::new();
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        missing.push("an X display (DISPLAY): run the tests through ./dev.sh test, which starts Xvfb");
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        missing.push("a D-Bus session (DBUS_SESSION_BUS_ADDRESS): ./dev.sh test runs them in dbus-run-session");
    }
    let driver = std::env::var_os("TAURI_DRIVER")
        .map(PathBuf::from)
        .or_else(|| which("tauri-driver"))
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/tauri-driver")).filter(|p| p.is_file()));
    if driver.is_none() {
        missing.push("tauri-driver: cargo install tauri-driver --locked (./dev.sh test does it)");
    }
    let native = which("WebKitWebDriver").or_else(|| Some(PathBuf::from("/usr/bin/WebKitWebDriver")).filter(|p| p.is_file()));
    if native.is_none() {
        missing.push("WebKitWebDriver: apt-get install webkit2gtk-driver (./dev.sh test does it)");
    }
    if !missing.is_empty() {
        panic!("end-to-end tests cannot run here; missing:\n  - {}", missing.join("\n  - "));
    }
    (driver.unwrap(), native.unwrap())
}

/// One benchmark line: count, median, p95, p99 and max of `v` (milliseconds).
pub fn summary(name: &str, mut v: Vec<f64>) {
    if v.is_empty() {
        println!("{name:<44} no samples");
        return;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<44} n={:<5} median={:>8.3} ms  p95={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        v.len(),
        pct(0.5),
        pct(0.95),
        pct(0.99),
        v[v.len() - 1]
    );
}

pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` free ports, all different: each is held until all are chosen (one
/// after another, the system may hand out a port it just took back).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// Serves tests/fixtures over http on 127.0.0.1 so pages load as remote origins.
pub struct Fixtures {
    pub origin: String,
}

impl Fixtures {
    pub fn serve() -> Fixtures {
        Fixtures::serve_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
    }

    /// Serves another folder of the repository (the benchmark serves ui/ to Chromium).
    pub fn serve_dir(root: PathBuf) -> Fixtures {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || serve_one(stream, &root));
            }
        });
        Fixtures { origin }
    }

    pub fn url(&self, page: &str) -> String {
        format!("{}/{page}", self.origin)
    }
}

fn serve_one(mut stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/");
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        n => n,
    };
    let file = if name.contains("..") { None } else { std::fs::read(root.join(name)).ok() };
    let (status, body, ctype) = match file {
        Some(b) => {
            let ctype = match name.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("json") => "application/json",
                _ => "text/html; charset=utf-8",
            };
            ("200 OK", b, ctype)
        }
        None => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(&body);
}

/// One app instance with its own data directory, under its own tauri-driver.
pub struct App {
    pub client: Client,
    pub data_dir: tempfile::TempDir,
    driver: Child,
}

impl App {
    pub async fn start(extra_args: &[&str]) -> App {
        App::start_env(extra_args, &[]).await
    }

    /// As [`App::start`], with extra environment for the app (it inherits the
    /// driver's environment).
    pub async fn start_env(extra_args: &[&str], env: &[(&str, &str)]) -> App {
        App::start_in(tempfile::tempdir().unwrap(), extra_args, env).await
    }

    /// As [`App::start`], with these settings (JSON) already saved.
    pub async fn start_with_settings(settings: Value, extra_args: &[&str]) -> App {
        let data_dir = tempfile::tempdir().unwrap();
        std::fs::write(data_dir.path().join("settings.json"), settings.to_string()).unwrap();
        App::start_in(data_dir, extra_args, &[]).await
    }

    /// As [`App::start_env`], in a data folder of the caller's (kept from an earlier run).
    pub async fn start_in(data_dir: tempfile::TempDir, extra_args: &[&str], env: &[(&str, &str)]) -> App {
        let (driver_bin, native) = require_environment();
        // Two ports that differ: a CI run once got the same port for both, and
        // tauri-driver forwarded the session request to itself.
        let [port, native_port] = free_ports::<2>();
        let log = std::fs::File::create(data_dir.path().join("driver.log")).unwrap();
        let mut driver = Command::new(driver_bin)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            // Kolokol's own strings follow the locale; tests read the English ones.
            .envs([("LC_ALL", "C.UTF-8"), ("LANG", "C.UTF-8")])
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start tauri-driver");
        // Both ports: tauri-driver listens at once and forwards the session
        // request to WebKitWebDriver, which it started just before; a request
        // that arrives before that one listens is dropped (IncompleteMessage).
        let deadline = Instant::now() + Duration::from_secs(20);
        for (who, p) in [("tauri-driver", port), ("WebKitWebDriver", native_port)] {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(Instant::now() < deadline, "{who} did not listen on {p}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let mut args = vec!["--data-dir".to_string(), data_dir.path().display().to_string()];
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let mut caps = serde_json::Map::new();
        // No browserName: tauri-driver picks the native driver itself.
        caps.insert("tauri:options".into(), json!({ "application": APP_BIN, "args": args }));
        let client = match ClientBuilder::native().capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => client,
            Err(e) => {
                // No App owns the driver yet to stop it.
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("WebDriver session with the app: {e:?}");
            }
        };
        // Benchmarks run scripts of tens of seconds; the default is 30 s.
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(Some(Duration::from_secs(300)), None, None))
            .await
            .expect("set the script timeout");
        let app = App { client, data_dir, driver };
        app.wait_for("document.readyState === 'complete' && !!(window.APP && APP.notifications)").await;
        app
    }

    /// Runs `body` as an async function in the page; its return value comes back.
    pub async fn js(&self, body: &str) -> Value {
        let script = format!(
            "const __done = arguments[arguments.length - 1];\n(async () => {{ {body} }})().then(__done, (e) => __done({{ __thrown: String(e) + (e && e.stack ? ' | ' + e.stack : '') }}));"
        );
        let v = self.client.execute_async(&script, vec![]).await.expect("script ran");
        if let Some(t) = v.get("__thrown") {
            panic!("page script threw: {t}");
        }
        v
    }

    /// A person's click at the centre of the element `element` (a JS
    /// expression) finds: WebDriver actions make trusted events, unlike a
    /// script's `el.click()`.
    pub async fn click(&self, element: &str) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
        let at = self
            .js(&format!("const e = ({element}); if (!e) throw new Error('nothing to click'); const r = e.getBoundingClientRect(); return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];"))
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo { duration: None, x, y })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(mouse).await.expect("a WebDriver click");
    }

    /// Presses `key` with `modifier` held (WebDriver key codes, e.g.
    /// "\u{E009}" Control, "\u{E00A}" Alt): trusted key events, as a person's.
    pub async fn chord(&self, modifier: Option<&str>, key: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".into());
        let m = modifier.and_then(|m| m.chars().next());
        let k = key.chars().next().expect("a key");
        if let Some(m) = m {
            keys = keys.then(KeyAction::Down { value: m });
        }
        keys = keys.then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
        if let Some(m) = m {
            keys = keys.then(KeyAction::Up { value: m });
        }
        self.client.perform_actions(keys).await.expect("WebDriver key actions");
    }

    pub async fn wait_for(&self, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = self.client.execute(&format!("return !!({condition});"), vec![]).await.map(|v| v == json!(true)).unwrap_or(false);
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {condition}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The handle of a window other than `not` (the workbench, the history), once there is one.
    pub async fn other_window(&self, not: &fantoccini::wd::WindowHandle) -> fantoccini::wd::WindowHandle {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(h) = self.client.windows().await.unwrap().into_iter().find(|h| h != not) {
                return h;
            }
            assert!(Instant::now() < deadline, "no second window opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every popup in the overlay, newest first.
    pub async fn popups(&self) -> Vec<Value> {
        let v = self.js(POPUPS_JS).await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// Stops the app and hands its data folder back, for another run in it.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap())
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        // A failed test shows the end of the app's log (the driver's log
        // holds it), which goes with its temporary folder.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.data_dir.path().join("driver.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- the app's log, last lines ---\n{}", lines[lines.len().saturating_sub(80)..].join("\n"));
        }
    }
}

pub const POPUPS_JS: &str = r#"
const host = document.querySelector('kolokol-overlay');
if (!host || !host.shadowRoot) return [];
const part = (p, name) => { const e = p.querySelector(`[data-part="${name}"]`); return e ? e.textContent : null; };
const html = (p, name) => { const e = p.querySelector(`[data-part="${name}"]`); return e ? e.innerHTML : null; };
const more = host.shadowRoot.querySelector('[data-part="more"]');
return [...host.shadowRoot.querySelectorAll('.popup')].map((p) => ({
  method: p.dataset.method, look: p.dataset.look, id: p.dataset.id, tag: p.dataset.tag ?? null,
  hidden: p.hidden, header: part(p, 'header'), text: part(p, 'text'), text_html: html(p, 'text'),
  header_html: html(p, 'header'), from: part(p, 'from'), to: part(p, 'to'), duration: part(p, 'duration'),
  note: part(p, 'link-note'), clickable: p.classList.contains('clickable'),
  role: p.getAttribute('role'), live: p.parentElement.getAttribute('aria-live'),
  more: more && !more.hidden ? more.textContent : null,
  buttons: [...p.querySelectorAll('button')].map((b) => b.dataset.action),
}));
"#;

/// A private D-Bus session bus with no service activation: nothing on it owns
/// org.freedesktop.Notifications, and nothing can be started to own it.
pub struct PrivateBus {
    pub address: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    pub fn start() -> PrivateBus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt-get install dbus)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed no address: {address:?}");
        PrivateBus { address, child, _dir: dir }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app as a plain process (no WebDriver), its log in a file.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// `kolokol --data-dir DIR EXTRA…`, logging to `log_name` beside DIR.
    pub fn spawn(data_dir: &Path, log_name: &str, extra: &[&str]) -> Proc {
        let log = data_dir.parent().unwrap().join(log_name);
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new(APP_BIN)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(f)
            .spawn()
            .unwrap();
        Proc { child, log }
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::open(&self.log).unwrap(), &mut s).unwrap();
        s
    }

    pub fn wait_log(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.log().contains(needle) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("kolokol exited ({status}) before logging {needle:?}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "no {needle:?} in:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "still running after {within:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the tray's StatusNotifierItem lives on the session bus.
pub const TRAY_PATH: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_kolokol";

/// The session-bus connections of process `pid`.
pub fn bus_names(pid: u64) -> Vec<String> {
    let list = Command::new("busctl").args(["--user", "list", "--no-legend"]).output().expect("busctl");
    String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let name = cols.next()?;
            (cols.next()? == pid.to_string()).then(|| name.to_owned())
        })
        .collect()
}
