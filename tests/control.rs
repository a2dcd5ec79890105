//! The control socket under attack, with the real app: a second local user
//! (created here with useradd) cannot reach it, and a name squatted by that user
//! before the app starts is neither served nor talked to — the app says so in its
//! log and tray, `kolokol status`/`send` name the squatted path and its owner, and
//! nothing reaches the squatter. Needs root (to create the user and switch to
//! it), useradd and python3; fails, never skips, without them.
#![cfg(target_os = "linux")]

mod support;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kolokol_lib::ingress::control::socket_name;
use serde_json::Value;

const INTRUDER: &str = "kolokol-intruder";

/// The second local user's uid and gid, created if missing.
fn intruder() -> (u32, u32) {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "tests/control.rs creates a second user and runs as it: run it as root");
    for tool in ["useradd", "python3"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap();
        assert!(found.status.success(), "{tool} is missing (apt-get install passwd python3; ./dev.sh test does it)");
    }
    let id = |what| Command::new("id").args([what, INTRUDER]).output().unwrap();
    if !id("-u").status.success() {
        let out = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", INTRUDER])
            .output()
            .unwrap();
        // Another test may have created it meanwhile.
        assert!(out.status.success() || id("-u").status.success(), "useradd: {}", String::from_utf8_lossy(&out.stderr));
    }
    let number = |what| String::from_utf8_lossy(&id(what).stdout).trim().parse().unwrap();
    (number("-u"), number("-g"))
}

/// A temp folder like /tmp (1777), the app's and the command line's TMPDIR,
/// and a data directory.
struct Scene {
    _tmp: tempfile::TempDir,
    tmpdir: PathBuf,
    data: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let tmpdir = tmp.path().join("tmp");
        std::fs::create_dir(&tmpdir).unwrap();
        std::fs::set_permissions(&tmpdir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).unwrap();
        Scene { _tmp: tmp, tmpdir, data }
    }

    /// Where this user's control socket for the data directory lives.
    fn folder(&self) -> PathBuf {
        self.tmpdir.join("kolokol-0")
    }

    fn socket(&self) -> PathBuf {
        self.folder().join(socket_name(&self.data))
    }

    fn env(&self, c: &mut Command) {
        c.env_remove("XDG_RUNTIME_DIR").env("TMPDIR", &self.tmpdir).envs([("LC_ALL", "C.UTF-8"), ("LANG", "C.UTF-8")]);
    }

    fn start(&self) -> App {
        let log = self.data.parent().unwrap().join("app.log");
        let mut c = Command::new(support::APP_BIN);
        self.env(&mut c);
        let child = c
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--minimized")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut app = App { child, log };
        app.wait_log("tray ready");
        app
    }

    /// `kolokol --data-dir DATA ARGS` as this user; how long it took.
    fn kolokol(&self, args: &[&str]) -> (Output, Duration) {
        let mut c = Command::new(support::APP_BIN);
        self.env(&mut c);
        let t = Instant::now();
        let out = c.arg("--data-dir").arg(&self.data).args(args).output().unwrap();
        (out, t.elapsed())
    }

    fn stored(&self) -> usize {
        let (out, _) = self.kolokol(&["history", "--json"]);
        assert!(out.status.success(), "history: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().len()
    }
}

/// The app under test, as a plain process with its log.
type App = support::Proc;

/// Runs a Python script as the intruder (setuid in the child, so killing it
/// kills the script).
fn as_intruder(script: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let (uid, gid) = intruder();
    let mut c = Command::new("python3");
    c.args(["-c", script]).uid(uid).gid(gid).env("HOME", "/");
    c
}

/// The intruder connects to `socket` and sends a `send` request; what happened.
fn intruder_sends(socket: &Path) -> String {
    let script = format!(
        r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
try:
    s.connect({socket:?})
except OSError as e:
    print("connect refused:", e); sys.exit(0)
try:
    s.sendall(b'{{"cmd":"send","method":"add_call","payload":"{{\\"text\\":\\"from the intruder\\"}}"}}\n')
    print("answer:", repr(s.recv(1000)))
except OSError as e:
    print("closed:", e)
"#,
        socket = socket.display().to_string()
    );
    let out = as_intruder(&script).output().unwrap();
    assert!(out.status.success(), "the intruder's script failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn assert_answers_within_a_second(scene: &Scene) -> Value {
    let (out, took) = scene.kolokol(&["status", "--json"]);
    assert!(out.status.success(), "status: {}", String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(1), "status took {took:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn another_user_cannot_reach_the_control_socket() {
    intruder();
    let scene = Scene::new();
    let app = scene.start();
    let st = assert_answers_within_a_second(&scene);
    assert_eq!(st["channels"]["control"]["available"], true, "{st}");
    assert_eq!(st["channels"]["control"]["endpoint"], scene.socket().display().to_string());
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&scene.folder()), 0o700);
    assert_eq!(mode(&scene.socket()), 0o600);

    // The folder keeps the intruder out.
    let said = intruder_sends(&scene.socket());
    assert!(said.starts_with("connect refused") && said.contains("Permission denied"), "{said}");

    // With the folder and the socket opened up (a mistake, or another program's
    // doing), the connection is still dropped: its uid is not ours.
    std::fs::set_permissions(scene.folder(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(scene.socket(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let said = intruder_sends(&scene.socket());
    assert!(said == "answer: b''" || said.starts_with("closed:"), "the intruder got an answer: {said}");
    // …and the user's own command line will not use a folder open to others.
    let (out, _) = scene.kolokol(&["status"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&scene.folder().display().to_string()) && err.contains("open to other users"), "{err}");
    std::fs::set_permissions(scene.folder(), std::fs::Permissions::from_mode(0o700)).unwrap();

    // An idle connection of the user's own does not hold anyone up.
    let _idle = std::os::unix::net::UnixStream::connect(scene.socket()).unwrap();
    // Nothing was stored from the intruder; the user's own send still goes through.
    let (out, took) = scene.kolokol(&["send", "add_error", r#"{"text":"mine"}"#]);
    assert!(out.status.success() && took < Duration::from_secs(1), "{took:?} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(scene.stored(), 1);
    assert_answers_within_a_second(&scene);
    assert!(app.log().contains("a connection from another user refused"), "{}", app.log());
}

#[test]
fn a_squatted_name_is_reported_not_used() {
    let (uid, _) = intruder();
    let scene = Scene::new();
    let got = scene.tmpdir.join("squatter-got");
    // Before Kolokol starts, the intruder makes the user's folder and listens at
    // the socket's name, open to all, writing down whatever arrives.
    let script = format!(
        r#"
import os, socket
folder, path, got = {folder:?}, {path:?}, {got:?}
os.mkdir(folder); os.chmod(folder, 0o777)
s = socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path, 0o777); s.listen(16)
open(got, "w").close(); os.chmod(got, 0o666)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(100000)
    except OSError:
        data = b""
    with open(got, "ab") as f:
        f.write(data)
    c.sendall(b'{{"running":true,"pid":1,"unread":0,"do_not_disturb":false,"channels":{{}}}}\n')
    c.close()
"#,
        folder = scene.folder().display().to_string(),
        path = scene.socket().display().to_string(),
        got = got.display().to_string(),
    );
    let mut squatter = as_intruder(&script).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = [0u8; 10];
    squatter.stdout.as_mut().unwrap().read_exact(&mut line).unwrap();
    assert_eq!(&line[..], b"listening\n");
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut squatter = Kill(squatter);

    let mut app = scene.start();
    app.wait_log("control channel unavailable");
    let log = app.log();
    let folder = scene.folder().display().to_string();
    assert!(log.contains(&folder) && log.contains(&format!("uid {uid}")), "the log names the folder and its owner:\n{log}");

    // The command line refuses to talk to the squatter, clearly and at once.
    let (out, took) = scene.kolokol(&["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&folder) && err.contains(&format!("uid {uid}")) && err.contains("squatting"), "{err}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (out, _) = scene.kolokol(&["status", "--json"]);
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["running"], false);
    assert!(st["reason"].as_str().unwrap().contains(&folder), "{st}");
    let (out, _) = scene.kolokol(&["send", "add_call", r#"{"text":"secret caller","from":"+7 999 000 00 00"}"#]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(squatter.0.try_wait().unwrap().is_none(), "the squatter still listens");
    assert_eq!(std::fs::read(&got).unwrap(), b"", "nothing reached the squatter");

    // Kolokol did not take the name over and still runs; its tray says so.
    assert_eq!(std::fs::symlink_metadata(scene.socket()).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap(), uid);
    assert!(app.child.try_wait().unwrap().is_none(), "Kolokol still runs:\n{}", app.log());
    assert_eq!(scene.stored(), 0);
    let menu = tray_menu(app.child.id());
    assert!(menu.contains("Command line unavailable: the folder") && menu.contains(&folder), "{menu}");
}

/// The tray's menu as a panel reads it over D-Bus (com.canonical.dbusmenu).
fn tray_menu(pid: u32) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for n in support::bus_names(u64::from(pid)) {
            let out = Command::new("timeout")
                .args(["2", "busctl", "--user", "call", "--", &n, &format!("{}/Menu", support::TRAY_PATH)])
                .args(["com.canonical.dbusmenu", "GetLayout", "iias", "0", "-1", "0"])
                .output()
                .unwrap();
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
        }
        assert!(Instant::now() < deadline, "no tray menu of pid {pid} on the session bus");
        std::thread::sleep(Duration::from_millis(200));
    }
}
