//! The fake amoCRM account a widget sees in the workbench (`APP.constant(…)`,
//! `lang_id`, the current card), editable by its author, kept in
//! `profile.json`. No Tauri here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Where widgets are drawn in amoCRM (`APP.getWidgetsArea()`).
pub const AREAS: &[&str] = &[
    "lcard", "ccard", "comcard", "cucard", "llist", "clist", "culist", "tlist", "settings", "advanced_settings",
    "card_sdk", "widget_page", "everywhere",
];
/// `APP.getBaseEntity()`.
pub const ENTITIES: &[&str] = &["leads", "contacts", "companies", "customers", "todo", "catalogs"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub lang: String,
    pub area: String,
    pub entity: String,
    pub card_id: u64,
    pub user: Map<String, Value>,
    pub account: Map<String, Value>,
    pub managers: Map<String, Value>,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Default for Profile {
    fn default() -> Profile {
        Profile {
            lang: "ru".into(),
            area: "lcard".into(),
            entity: "leads".into(),
            card_id: 1001,
            user: object(json!({"id": 1, "name": "Иван Петров", "login": "ivan@example.com", "lang": "ru"})),
            account: object(json!({
                "id": 1234567, "subdomain": "example", "name": "Example",
                "currency": "RUB", "timezone": "Europe/Moscow"
            })),
            managers: object(json!({
                "1": {"id": 1, "title": "Иван Петров", "login": "ivan@example.com", "active": true, "is_admin": "Y"},
                "2": {"id": 2, "title": "Анна Смирнова", "login": "anna@example.com", "active": true, "is_admin": "N"}
            })),
        }
    }
}

impl Profile {
    /// Refuses a profile a widget could not have seen in amoCRM, naming the field.
    pub fn check(&self) -> Result<(), String> {
        if self.lang.len() != 2 || !self.lang.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(format!("lang: {:?} is not a two-letter language code such as \"ru\" or \"en\"", self.lang));
        }
        if !AREAS.contains(&self.area.as_str()) {
            return Err(format!("area: {:?} is not a widget area; one of {}", self.area, AREAS.join(", ")));
        }
        if !ENTITIES.contains(&self.entity.as_str()) {
            return Err(format!("entity: {:?} is not an entity; one of {}", self.entity, ENTITIES.join(", ")));
        }
        if !self.user.get("id").is_some_and(Value::is_u64) {
            return Err("user.id: a positive whole number is required".into());
        }
        if self.account.get("subdomain").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err("account.subdomain: a non-empty text is required".into());
        }
        if let Some((k, _)) = self.managers.iter().find(|(_, m)| !m.is_object()) {
            return Err(format!("managers.{k}: each manager is an object such as {{\"id\": 1, \"title\": \"…\"}}"));
        }
        Ok(())
    }
}

pub struct ProfileStore {
    path: PathBuf,
    current: std::sync::Mutex<Profile>,
}

impl ProfileStore {
    /// A missing or broken file gives the default profile (and says so in the log).
    pub fn load(data_dir: &Path) -> ProfileStore {
        let path = data_dir.join("profile.json");
        let current = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice::<Profile>(&b)
                .map_err(|e| e.to_string())
                .and_then(|p| p.check().map(|()| p))
                .unwrap_or_else(|e| {
                    tracing::warn!("{}: {e}; using the default profile", path.display());
                    Profile::default()
                }),
            Err(_) => Profile::default(),
        };
        ProfileStore { path, current: std::sync::Mutex::new(current) }
    }

    pub fn get(&self) -> Profile {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, p: Profile) -> Result<Profile, String> {
        p.check()?;
        crate::core::datadir::save_json(&self.path, &p)?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = p.clone();
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_persist() {
        let d = tempfile::tempdir().unwrap();
        let s = ProfileStore::load(d.path());
        assert_eq!(s.get(), Profile::default());
        assert!(Profile::default().check().is_ok());
        for (change, field) in [
            (json!({"lang": "russian"}), "lang"),
            (json!({"area": "desk"}), "area"),
            (json!({"entity": "deals"}), "entity"),
            (json!({"user": {"name": "no id"}}), "user.id"),
            (json!({"account": {"subdomain": ""}}), "account.subdomain"),
            (json!({"managers": {"7": 7}}), "managers.7"),
        ] {
            let mut v = serde_json::to_value(Profile::default()).unwrap();
            for (k, x) in change.as_object().unwrap() {
                v[k] = x.clone();
            }
            let p: Profile = serde_json::from_value(v).unwrap();
            let e = s.set(p).unwrap_err();
            assert!(e.starts_with(field), "{field}: {e}");
        }
        let p = Profile { area: "ccard".into(), entity: "contacts".into(), ..Profile::default() };
        s.set(p.clone()).unwrap();
        assert_eq!(ProfileStore::load(d.path()).get(), p);
        std::fs::write(d.path().join("profile.json"), "{broken").unwrap();
        assert_eq!(ProfileStore::load(d.path()).get(), Profile::default());
    }
}
