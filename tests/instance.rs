//! The tray app as a process: one instance per data directory, a second launch
//! hands over to the first, another data directory is another instance.

mod support;

use std::process::Command;
use std::time::Duration;

use support::Proc;

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
