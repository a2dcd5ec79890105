//! Where an instance keeps its data, and the names derived from that folder
//! (single-instance D-Bus id, control socket, login entry).

use std::path::{Path, PathBuf};

/// `--data-dir`, else `$KOLOKOL_DATA_DIR`, else the default.
pub fn choose(explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    if let Some(d) = std::env::var_os("KOLOKOL_DATA_DIR").filter(|d| !d.is_empty()) {
        return d.into();
    }
    default()
}

/// The folder Tauri's own app_data_dir() names, known before Tauri starts
/// because the single-instance lock depends on it.
pub fn default() -> PathBuf {
    let dir = dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ru.kolokol.app");
    canonical(&dir)
}

/// The absolute, link-free spelling of an existing path, `path` itself when
/// it cannot be resolved. On Windows without the `\\?\` prefix that
/// `std::fs::canonicalize` adds (where a plain path is possible): that prefix
/// breaks `/`-joined names and confuses people reading messages.
pub fn canonical(path: &Path) -> PathBuf {
    dunce::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Stable across builds (unlike `DefaultHasher`), so two builds of Kolokol
/// agree on which instance owns a data directory.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// [`fnv1a`] of the folder's path: the part of every per-instance name.
pub fn hash(data_dir: &Path) -> u64 {
    fnv1a(data_dir.to_string_lossy().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_carry_no_verbatim_prefix() {
        let d = tempfile::tempdir().unwrap();
        let c = canonical(d.path());
        assert!(c.is_absolute());
        assert!(!c.display().to_string().starts_with(r"\\?\"), "{}", c.display());
        // `/`-joined names work under it (they do not under `\\?\`).
        std::fs::create_dir_all(c.join("site")).unwrap();
        std::fs::write(c.join("site").join("index.html"), "<p>").unwrap();
        assert!(c.join("site/index.html").is_file());
        assert_eq!(canonical(Path::new("/no/such/folder")), Path::new("/no/such/folder"));
    }
}
