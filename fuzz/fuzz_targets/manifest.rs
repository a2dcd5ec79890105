//! The manifest checker on any text (as read from a widget's manifest.json):
//! no panic, every problem names a field and says something, and a manifest
//! that is not JSON is reported as such.
#![no_main]

use kolokol_lib::workbench::manifest::{check, Severity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let checked = check(text, "widget");
    for p in &checked.problems {
        assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
    }
    if checked.manifest.is_none() {
        assert!(checked.problems.iter().any(|p| p.severity == Severity::Error), "unparsed manifest without an error");
    }
    assert!(!checked.code.is_empty());
    serde_json::to_string(&checked).unwrap();
});
