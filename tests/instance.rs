//! The tray app as a process: one instance per data directory, a second launch
//! hands over to the first, another data directory is another instance.

mod support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc {
    child: Child,
    log: std::path::PathBuf,
}

impl Proc {
    fn spawn(data_dir: &std::path::Path, log_name: &str, extra: &[&str]) -> Proc {
        let log = data_dir.parent().unwrap().join(log_name);
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new(support::APP_BIN)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(f)
            .spawn()
            .unwrap();
        Proc { child, log }
    }

    fn log(&self) -> String {
        let mut s = String::new();
        std::fs::File::open(&self.log).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    fn wait_log(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.log().contains(needle) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("kolokol exited ({status}) before logging {needle:?}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "no {needle:?} in:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
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

#[test]
fn one_instance_per_data_directory() {
    support::require_environment();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));

    let mut first = Proc::spawn(&a, "first.log", &[]);
    first.wait_log("workspace page loaded");

    let mut second = Proc::spawn(&a, "second.log", &["--minimized"]);
    let status = second.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "second launch: {status}\n{}", second.log());
    first.wait_log("second launch: focusing this instance");
    assert!(first.log().contains("--minimized"), "arguments handed over:\n{}", first.log());

    let mut other = Proc::spawn(&b, "other.log", &["--minimized"]);
    other.wait_log("tray ready");
    std::thread::sleep(Duration::from_millis(500));
    assert!(other.child.try_wait().unwrap().is_none(), "another data directory runs its own instance");
    assert!(first.child.try_wait().unwrap().is_none(), "the first instance still runs");
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let out = Command::new(support::APP_BIN).args(["open", "javascript:alert(1)"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not allowed") && err.contains("usage: kolokol"), "{err}");
}
