//! Where an instance keeps its data, and the names derived from that folder
//! (single-instance D-Bus id, control socket, login entry).

use std::path::{Path, PathBuf};

/// The app's identifier, final since the first release: tauri.conf.json's
/// `identifier`, the default data folder's name (as Tauri's app_data_dir()
/// names it), the Windows AppUserModelID, the macOS bundle id, and the root of
/// the single-instance D-Bus names and the login entries.
pub const IDENTIFIER: &str = "ru.kolokol.desktop";

/// The identifier before the first release (it ended in `.app`, the macOS
/// bundle extension). Its data folder is moved to [`IDENTIFIER`]'s once.
const OLD_IDENTIFIER: &str = "ru.kolokol.app";

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
/// because the single-instance lock depends on it. A folder of the old
/// identifier is moved there first (see [`adopt_old`]).
pub fn default() -> PathBuf {
    let dir = adopt_old(&dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")));
    canonical(&dir)
}

/// The data folder in `base` (the system's data folder): `IDENTIFIER`, after
/// moving the old identifier's folder there when only that one exists, so
/// settings, history and recent targets are kept. Should the move fail (on
/// Windows, while an old build still has its files open), the old folder is
/// used as it is this time and the move is tried again at the next start.
pub fn adopt_old(base: &Path) -> PathBuf {
    let new = base.join(IDENTIFIER);
    let old = base.join(OLD_IDENTIFIER);
    if new.exists() || !old.is_dir() {
        return new;
    }
    match std::fs::rename(&old, &new) {
        Ok(()) => {
            tracing::info!(from = %old.display(), to = %new.display(), "data folder moved to the final identifier");
            new
        }
        // Another instance starting at the same moment moved it.
        Err(_) if new.exists() => new,
        Err(e) => {
            tracing::warn!("cannot move {} to {}: {e}; using it where it is", old.display(), new.display());
            old
        }
    }
}

/// The absolute, link-free spelling of an existing path, `path` itself when
/// it cannot be resolved. On Windows without the `\\?\` prefix that
/// `std::fs::canonicalize` adds (where a plain path is possible): that prefix
/// breaks `/`-joined names and confuses people reading messages.
pub fn canonical(path: &Path) -> PathBuf {
    dunce::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
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
/// Writes `value` as JSON to a temporary file beside `path`, then renames it
/// over `path`, so a crash never leaves half a file (settings, zoom, answers…).
pub fn save_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot save {}: {e}", path.display()))
}

pub fn hash(data_dir: &Path) -> u64 {
    fnv1a(data_dir.to_string_lossy().as_bytes())
}

/// The single-instance plugin's D-Bus id (Linux): one per data directory.
pub fn dbus_id(data_dir: &Path) -> String {
    format!("{IDENTIFIER}.d{:016x}", hash(data_dir))
}

/// The name of this data directory's instance: [`IDENTIFIER`] for the default
/// folder, the identifier and the folder's hash for any other. It names the
/// login entry, and on Windows and macOS it is the identifier Tauri runs
/// under, because the single-instance plugin keys on the identifier there (a
/// mutex, a socket) rather than on the D-Bus id.
pub fn instance_name(data_dir: &Path, is_default: bool) -> String {
    if is_default {
        IDENTIFIER.to_string()
    } else {
        format!("{IDENTIFIER}.d{:016x}", hash(data_dir))
    }
}

/// The login entry that starts this data directory's instance at login: its
/// name (XDG autostart file, Windows `Run` value, macOS launch agent; see
/// [`instance_name`]) and the arguments.
pub fn login_entry(data_dir: &Path, is_default: bool) -> (String, Vec<String>) {
    let mut args = vec!["--minimized".to_string()];
    if !is_default {
        args.push("--data-dir".into());
        args.push(login_word(&data_dir.display().to_string(), Quoting::HERE));
    }
    (instance_name(data_dir, is_default), args)
}

/// How a login entry keeps its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// A Windows `Run` value: one string, `exe args…` joined by spaces.
    Windows,
    /// An XDG autostart file's `Exec` key: one string, quoted as the Desktop
    /// Entry spec says, inside a desktop-file string value.
    DesktopEntry,
    /// A macOS launch agent: each argument is an element of its own.
    Apart,
}

impl Quoting {
    pub const HERE: Quoting = if cfg!(windows) {
        Quoting::Windows
    } else if cfg!(target_os = "macos") {
        Quoting::Apart
    } else {
        Quoting::DesktopEntry
    };
}

/// One word (the program or an argument) of a login entry's command line,
/// quoted so that a folder with spaces or odd characters stays one word.
pub fn login_word(arg: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::Windows if arg.contains([' ', '\t']) => {
            // A trailing backslash would escape the closing quote: double it.
            let tail = arg.len() - arg.trim_end_matches('\\').len();
            format!("\"{arg}{}\"", "\\".repeat(tail))
        }
        Quoting::DesktopEntry => {
            // `%` starts a field code even inside quotes.
            let arg = arg.replace('%', "%%");
            const RESERVED: &[char] = &[' ', '\t', '\n', '\r', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`'];
            if !arg.contains(RESERVED) {
                return arg;
            }
            let mut quoted = String::from("\"");
            for c in arg.chars() {
                if matches!(c, '"' | '`' | '$' | '\\') {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            // The key's value is a desktop-file string, whose own escapes come on top.
            quoted.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t").replace('\r', "\\r")
        }
        _ => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_data_folder_is_moved_once_with_its_history() {
        let base = tempfile::tempdir().unwrap();
        let old = base.path().join(OLD_IDENTIFIER);
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("history.sqlite3"), b"rows").unwrap();
        std::fs::write(old.join("settings.json"), b"{}").unwrap();

        let dir = adopt_old(base.path());
        assert_eq!(dir, base.path().join(IDENTIFIER));
        assert_eq!(std::fs::read(dir.join("history.sqlite3")).unwrap(), b"rows");
        assert!(dir.join("settings.json").is_file());
        assert!(!old.exists(), "moved, not copied");

        // Once: a later old folder (an old build started again) is left alone.
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("history.sqlite3"), b"other").unwrap();
        assert_eq!(adopt_old(base.path()), dir);
        assert_eq!(std::fs::read(dir.join("history.sqlite3")).unwrap(), b"rows");
        assert_eq!(std::fs::read(old.join("history.sqlite3")).unwrap(), b"other");
    }

    #[test]
    fn without_an_old_folder_the_new_one_is_named() {
        let base = tempfile::tempdir().unwrap();
        assert_eq!(adopt_old(base.path()), base.path().join(IDENTIFIER));
        assert!(!base.path().join(IDENTIFIER).exists(), "created by the app, not here");
        // A file of the old name is not a data folder.
        std::fs::write(base.path().join(OLD_IDENTIFIER), b"x").unwrap();
        assert_eq!(adopt_old(base.path()), base.path().join(IDENTIFIER));
        assert!(base.path().join(OLD_IDENTIFIER).is_file());
    }

    #[test]
    fn the_identifier_is_tauri_conf_json_s() {
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], IDENTIFIER);
        assert!(!IDENTIFIER.ends_with(".app"), "the macOS bundle extension");
    }

    #[test]
    fn names_follow_the_identifier_and_the_folder() {
        let (a, b) = (Path::new("/data/a"), Path::new("/data/b"));
        assert_eq!(dbus_id(a), format!("ru.kolokol.desktop.d{:016x}", hash(a)));
        assert_ne!(dbus_id(a), dbus_id(b));
        // D-Bus: elements of letters, digits and `_`, none starting with a digit.
        for element in dbus_id(a).split('.') {
            assert!(element.chars().next().is_some_and(|c| c.is_ascii_alphabetic()), "{element}");
            assert!(element.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{element}");
        }
        assert_eq!(login_entry(a, true), ("ru.kolokol.desktop".into(), vec!["--minimized".into()]));
        let (name, args) = login_entry(a, false);
        assert_eq!(name, format!("ru.kolokol.desktop.d{:016x}", hash(a)));
        assert_eq!(args, ["--minimized", "--data-dir", &a.display().to_string()]);
        assert_ne!(login_entry(b, false).0, name);
        assert_eq!(instance_name(a, true), IDENTIFIER);
        assert_eq!(instance_name(a, false), name);
    }

    #[test]
    fn a_windows_login_entry_quotes_a_folder_with_spaces() {
        let w = |a| login_word(a, Quoting::Windows);
        assert_eq!(w(r"C:\Users\Анна\Kolokol"), r"C:\Users\Анна\Kolokol");
        assert_eq!(w(r"C:\Users\Анна Петрова\data"), r#""C:\Users\Анна Петрова\data""#);
        assert_eq!(w(r"C:\a b\"), r#""C:\a b\\""#);
        assert_eq!(login_word("/Users/a b/data", Quoting::Apart), "/Users/a b/data");
    }

    #[test]
    fn an_xdg_login_entry_quotes_as_the_desktop_entry_spec_says() {
        let x = |a| login_word(a, Quoting::DesktopEntry);
        assert_eq!(x("/home/anna/.local/share/ru.kolokol.desktop"), "/home/anna/.local/share/ru.kolokol.desktop");
        assert_eq!(x("/home/Анна Петрова/data"), r#""/home/Анна Петрова/data""#);
        assert_eq!(x("/srv/100%"), "/srv/100%%");
        // Inside the quotes `"`, `` ` ``, `$` and `\` take a backslash; the
        // file's string escapes then double every backslash.
        assert_eq!(x(r#"/a "b" $HOME\c"#), r#""/a \\"b\\" \\$HOME\\\\c""#);
        assert_eq!(x("/a\nb"), r#""/a\nb""#);
    }

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

#[cfg(all(test, unix))]
mod private_tests {
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
