//! Microphone and camera for softphone widgets: only the amoCRM account's own
//! origin may ask; the agent's answer to Kolokol's prompt is remembered per
//! origin in `permissions.json`; every other origin is denied without asking.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use url::Url;

use crate::core::links;

/// What a page asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Microphone,
    Camera,
    /// Both at once (`getUserMedia({audio: true, video: true})`).
    MicrophoneAndCamera,
}

impl Device {
    pub fn from_flags(audio: bool, video: bool) -> Device {
        match (audio, video) {
            (true, true) => Device::MicrophoneAndCamera,
            (false, true) => Device::Camera,
            _ => Device::Microphone,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Device::Microphone => "microphone",
            Device::Camera => "camera",
            Device::MicrophoneAndCamera => "microphone+camera",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
    /// Ask the agent (and remember the answer).
    Ask,
}

pub struct PermissionStore {
    path: PathBuf,
    /// "origin device" -> allowed
    answers: Mutex<BTreeMap<String, bool>>,
}

fn entry(origin: &str, device: Device) -> String {
    format!("{origin} {}", device.key())
}

impl PermissionStore {
    pub fn load(dir: &Path) -> PermissionStore {
        let path = dir.join("permissions.json");
        let answers = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        PermissionStore { path, answers: Mutex::new(answers) }
    }

    /// What to do with `page`'s request for `device`.
    pub fn decide(&self, page: &str, account: Option<&Url>, device: Device) -> Decision {
        let origin = links::origin_of(page);
        let Some(account) = account else {
            return Decision::Deny(format!("{origin}: no account address is set; only the account's pages may use the {}", device.key()));
        };
        if origin != account.origin().ascii_serialization() {
            return Decision::Deny(format!("{origin} is not the account ({}); denied the {}", account.origin().ascii_serialization(), device.key()));
        }
        match self.answers.lock().unwrap_or_else(|e| e.into_inner()).get(&entry(&origin, device)) {
            Some(true) => Decision::Allow,
            Some(false) => Decision::Deny(format!("{origin}: the {} was blocked earlier", device.key())),
            None => Decision::Ask,
        }
    }

    /// The agent's answer for `page`'s origin, saved.
    pub fn remember(&self, page: &str, device: Device, allow: bool) -> Result<(), String> {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.insert(entry(&links::origin_of(page), device), allow);
        crate::core::datadir::save_json(&self.path, &*answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_account_asks_and_answers_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let account = Url::parse("https://a.amocrm.ru").unwrap();
        let p = PermissionStore::load(dir.path());
        let page = "https://a.amocrm.ru/leads/detail/1";
        assert_eq!(p.decide(page, Some(&account), Device::Microphone), Decision::Ask);
        assert!(matches!(p.decide("https://evil.example/", Some(&account), Device::Microphone), Decision::Deny(r) if r.contains("evil.example")));
        assert!(matches!(p.decide(page, None, Device::Microphone), Decision::Deny(_)));
        p.remember(page, Device::Microphone, true).unwrap();
        p.remember(page, Device::Camera, false).unwrap();
        let again = PermissionStore::load(dir.path());
        assert_eq!(again.decide("https://a.amocrm.ru/", Some(&account), Device::Microphone), Decision::Allow);
        assert!(matches!(again.decide(page, Some(&account), Device::Camera), Decision::Deny(r) if r.contains("blocked earlier")));
        assert_eq!(again.decide(page, Some(&account), Device::MicrophoneAndCamera), Decision::Ask);
        assert_eq!(Device::from_flags(true, false), Device::Microphone);
    }
}
