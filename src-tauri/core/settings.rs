//! User settings, kept as `settings.json` in the data directory. No Tauri here.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Origin of the amoCRM account, e.g. `https://example.amocrm.ru`:
    /// relative links and card addresses resolve against it.
    pub account_url: Option<String>,
    /// Start in the tray only, as `--minimized` does.
    pub start_minimized: bool,
    /// Closing the workspace while it holds a page the agent relies on (the
    /// amoCRM account, a widget) hides it: the page keeps running and its
    /// calls keep arriving. Off: closing it ends the page and frees its memory.
    /// Kolokol's own start page is always closed for good.
    pub keep_pages_running: bool,
    /// "auto" (the system locale), "ru" or "en".
    pub language: String,
    /// Do not disturb: no toasts. Storage and the tray count never stop.
    pub do_not_disturb: bool,
    /// Calls still raise a toast under do-not-disturb (an agent must not miss one).
    pub calls_break_through: bool,
    /// A page's own `APP.notifications` (amoCRM's, which feeds its server-side
    /// center, email and push) is not called; only Kolokol's channels are.
    /// Off by default: Kolokol augments the page, it does not replace it.
    pub kolokol_only: bool,
    /// History rows are kept this many days after their last write; 0 keeps them forever.
    pub history_keep_days: u32,
    /// At most this many history rows are kept (the oldest go first); 0 means no limit.
    pub history_keep_rows: u64,
    /// The loopback HTTP ingress (`ingress/http`): off by default.
    pub http_ingress: bool,
    /// Its port on 127.0.0.1 (0: any free port, shown by `status --json`).
    pub http_port: u16,
    /// The call center's fleet (`ingress/fleet`): off until configured.
    pub fleet: crate::ingress::fleet::FleetConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            account_url: None,
            start_minimized: false,
            keep_pages_running: true,
            language: "auto".into(),
            do_not_disturb: false,
            calls_break_through: true,
            kolokol_only: false,
            history_keep_days: 180,
            history_keep_rows: 0,
            http_ingress: false,
            http_port: crate::ingress::http::DEFAULT_PORT,
            fleet: Default::default(),
        }
    }
}

/// Validates an account address as typed by a person: the scheme may be left
/// out (https is assumed); only the origin is kept.
pub fn normalize_account(input: &str) -> Result<Option<Url>, String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let with_scheme = if input.contains("://") { input.to_owned() } else { format!("https://{input}") };
    let url = Url::parse(&with_scheme).map_err(|e| format!("{input:?} is not a web address: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{input:?} must be an http(s) address such as https://example.amocrm.ru"));
    }
    Url::parse(&url.origin().ascii_serialization()).map(Some).map_err(|e| e.to_string())
}

pub struct SettingsStore {
    path: PathBuf,
    current: RwLock<Settings>,
}

impl SettingsStore {
    /// Loads `settings.json` from `dir`. A missing file means defaults; an
    /// unreadable one is kept aside as `settings.json.bad` rather than lost.
    pub fn load(dir: &Path) -> SettingsStore {
        let path = dir.join("settings.json");
        let current = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), "settings unreadable ({e}); defaults used, file kept as settings.json.bad");
                let _ = std::fs::rename(&path, dir.join("settings.json.bad"));
                Settings::default()
            }),
            Err(_) => Settings::default(),
        };
        SettingsStore { path, current: RwLock::new(current) }
    }

    pub fn get(&self) -> Settings {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn account(&self) -> Option<Url> {
        let s = self.get();
        normalize_account(s.account_url.as_deref()?).ok().flatten()
    }

    /// Validates and saves (write to a temporary file, then rename, so a crash
    /// never leaves half a file). Returns what was stored.
    pub fn set(&self, mut new: Settings) -> Result<Settings, String> {
        new.account_url = normalize_account(new.account_url.as_deref().unwrap_or(""))
            .map_err(|e| format!("account_url: {e}"))?
            .map(|u| u.origin().ascii_serialization());
        if !matches!(new.language.as_str(), "auto" | "ru" | "en") {
            return Err(format!("language: {:?} is not one of auto, ru, en", new.language));
        }
        if new.history_keep_days > 36_500 {
            return Err(format!("history_keep_days: {} is more than 100 years; 0 keeps rows forever", new.history_keep_days));
        }
        new.fleet.check()?;
        crate::core::datadir::save_json(&self.path, &new)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = new.clone();
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_addresses() {
        let n = |s| normalize_account(s).map(|o| o.map(|u| u.origin().ascii_serialization()));
        assert_eq!(n("example.amocrm.ru"), Ok(Some("https://example.amocrm.ru".into())));
        assert_eq!(n(" https://example.amocrm.ru/leads/ "), Ok(Some("https://example.amocrm.ru".into())));
        assert_eq!(n("http://localhost:8080"), Ok(Some("http://localhost:8080".into())));
        assert_eq!(n(""), Ok(None));
        assert!(n("javascript://x").is_err());
        assert!(n("file:///etc").is_err());
        assert!(n("https://").is_err());
    }

    #[test]
    fn store_round_trips_and_survives_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = SettingsStore::load(dir.path());
        assert_eq!(s.get(), Settings::default());
        let saved = s.set(Settings { account_url: Some("example.amocrm.ru/x".into()), start_minimized: true, ..Default::default() }).unwrap();
        assert_eq!(saved.account_url.as_deref(), Some("https://example.amocrm.ru"));
        assert_eq!(SettingsStore::load(dir.path()).get(), saved);
        assert_eq!(s.account().unwrap().as_str(), "https://example.amocrm.ru/");
        assert!(s.set(Settings { account_url: Some("ftp://x".into()), ..Default::default() }).unwrap_err().starts_with("account_url:"));
        assert!(s.set(Settings { language: "de".into(), ..Default::default() }).unwrap_err().starts_with("language:"));
        // Files from before a setting existed still load, with its default.
        std::fs::write(dir.path().join("settings.json"), br#"{"account_url":null}"#).unwrap();
        assert!(SettingsStore::load(dir.path()).get().calls_break_through);
        assert_eq!((SettingsStore::load(dir.path()).get().history_keep_days, SettingsStore::load(dir.path()).get().history_keep_rows), (180, 0));
        assert!(s.set(Settings { history_keep_days: 40_000, ..Default::default() }).unwrap_err().starts_with("history_keep_days:"));

        std::fs::write(dir.path().join("settings.json"), b"{not json").unwrap();
        assert_eq!(SettingsStore::load(dir.path()).get(), Settings::default());
        assert!(dir.path().join("settings.json.bad").exists());
    }
}
