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
    dir.canonicalize().unwrap_or(dir)
}

/// Creates the data folder, or tightens an existing one, so that only its
/// owner can enter it: it holds callers' names and numbers. Files already in
/// it lose group and other access (the history creates its own files 0600).
/// The process umask is left alone: browsers and players the app starts
/// inherit it. Not followed: symbolic links inside it.
pub fn create_private(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)?.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else { continue };
            let mode = meta.permissions().mode() & 0o7777;
            if !meta.file_type().is_symlink() && mode & 0o077 != 0 {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode & 0o700))?;
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        // Windows: the user's profile folder already carries a per-user ACL.
        std::fs::create_dir_all(dir)
    }
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_folder_and_its_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        // A folder left readable by an earlier version, with a readable history in it.
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("history.sqlite3"), b"x").unwrap();
        std::fs::set_permissions(dir.join("history.sqlite3"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir(dir.join("cache")).unwrap();
        std::fs::set_permissions(dir.join("cache"), std::fs::Permissions::from_mode(0o775)).unwrap();
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, b"not ours to change").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();

        create_private(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("history.sqlite3")), 0o600);
        assert_eq!(mode(&dir.join("cache")), 0o700);
        assert_eq!(mode(&outside), 0o644, "a link's target is left alone");
        // A new, nested folder.
        let fresh = tmp.path().join("a/b/kolokol");
        create_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }
}
