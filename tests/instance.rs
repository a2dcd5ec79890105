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

/// `kolokol` runs the commands and the tray-only app itself and links no
/// WebKit, so neither a PBX's `kolokol send` nor the app in the tray loads
/// it; starting the app with a target hands over to `kolokol-ui` beside it,
/// which links WebKit and answers with its own refusal.
#[test]
fn the_command_links_no_webkit_and_hands_the_app_over() {
    let needs = |bin: &str| {
        let out = Command::new("ldd").arg(bin).output().expect("ldd (libc-bin)");
        assert!(out.status.success(), "ldd {bin}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let command = needs(support::APP_BIN);
    assert!(!command.contains("libwebkit2gtk") && !command.contains("libjavascriptcoregtk"), "kolokol links:\n{command}");
    assert!(needs(env!("CARGO_BIN_EXE_kolokol-ui")).contains("libwebkit2gtk"), "kolokol-ui links WebKit");

    // A folder that is not there is refused by the app, which resolves
    // targets after logging its start: so the hand-over happened.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(support::APP_BIN)
        .args(["--data-dir", tmp.path().to_str().unwrap(), "open", "./no-such-widget-folder"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("starting") && err.contains("kolokol: open:") && err.contains("no-such-widget-folder"), "{err}");
    // Refused before anything was written: no history, no settings.
    let written: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(written.is_empty(), "{written:?}");
}
