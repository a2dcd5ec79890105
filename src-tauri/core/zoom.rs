//! Page zoom remembered per origin (Ctrl +, Ctrl −, Ctrl 0), as browsers do:
//! `zoom.json` in the data directory, the steps Chromium uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The zoom levels Ctrl +/− step through.
pub const STEPS: [f64; 13] = [0.5, 0.67, 0.75, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0];
/// Origins remembered; beyond this the file stops growing (new ones are not saved).
const MAX_ORIGINS: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    In,
    Out,
    Reset,
}

impl Change {
    /// The browser action's name as the init script sends it.
    pub fn parse(s: &str) -> Option<Change> {
        match s {
            "zoom_in" => Some(Change::In),
            "zoom_out" => Some(Change::Out),
            "zoom_reset" => Some(Change::Reset),
            _ => None,
        }
    }
}

pub struct ZoomStore {
    path: PathBuf,
    levels: Mutex<BTreeMap<String, f64>>,
}

impl ZoomStore {
    /// Reads `zoom.json` in `dir`; a missing or unreadable file is no zoom anywhere.
    pub fn load(dir: &Path) -> ZoomStore {
        let path = dir.join("zoom.json");
        let levels: BTreeMap<String, f64> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let levels = levels.into_iter().filter(|(_, z)| STEPS.contains(z)).collect();
        ZoomStore { path, levels: Mutex::new(levels) }
    }

    /// The level for `origin` (1.0 when none was set).
    pub fn get(&self, origin: &str) -> f64 {
        self.levels.lock().unwrap_or_else(|e| e.into_inner()).get(origin).copied().unwrap_or(1.0)
    }

    /// Applies `change` for `origin`, saves, and returns the new level.
    pub fn change(&self, origin: &str, change: Change) -> Result<f64, String> {
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let now = levels.get(origin).copied().unwrap_or(1.0);
        let i = STEPS.iter().position(|&z| z == now).unwrap_or(5);
        let next = match change {
            Change::In => STEPS[(i + 1).min(STEPS.len() - 1)],
            Change::Out => STEPS[i.saturating_sub(1)],
            Change::Reset => 1.0,
        };
        if next == 1.0 {
            levels.remove(origin);
        } else if levels.contains_key(origin) || levels.len() < MAX_ORIGINS {
            levels.insert(origin.to_owned(), next);
        }
        crate::core::datadir::save_json(&self.path, &*levels)?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_per_origin_saved_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let z = ZoomStore::load(dir.path());
        let a = "https://a.amocrm.ru";
        assert_eq!(z.get(a), 1.0);
        assert_eq!(z.change(a, Change::In).unwrap(), 1.1);
        assert_eq!(z.change(a, Change::In).unwrap(), 1.25);
        assert_eq!(z.change("http://127.0.0.1:8080", Change::Out).unwrap(), 0.9);
        for _ in 0..20 {
            z.change(a, Change::In).unwrap();
        }
        assert_eq!(z.get(a), 3.0, "at most the last step");
        // Remembered across a restart.
        let again = ZoomStore::load(dir.path());
        assert_eq!((again.get(a), again.get("http://127.0.0.1:8080"), again.get("https://b.example")), (3.0, 0.9, 1.0));
        assert_eq!(again.change(a, Change::Reset).unwrap(), 1.0);
        assert!(!std::fs::read_to_string(dir.path().join("zoom.json")).unwrap().contains("amocrm"), "reset forgets it");
        for _ in 0..20 {
            again.change("http://127.0.0.1:8080", Change::Out).unwrap();
        }
        assert_eq!(again.get("http://127.0.0.1:8080"), 0.5, "at least the first step");
    }

    #[test]
    fn a_broken_file_or_odd_levels_are_no_zoom() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("zoom.json"), br#"{"https://a.org": 1e9, "https://b.org": 1.5}"#).unwrap();
        let z = ZoomStore::load(dir.path());
        assert_eq!((z.get("https://a.org"), z.get("https://b.org")), (1.0, 1.5));
        std::fs::write(dir.path().join("zoom.json"), b"not json").unwrap();
        assert_eq!(ZoomStore::load(dir.path()).get("https://b.org"), 1.0);
        assert_eq!(Change::parse("zoom_in"), Some(Change::In));
        assert_eq!(Change::parse("print"), None);
    }
}
