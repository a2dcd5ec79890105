//! Where a page's download lands: the user's Downloads folder, under the name
//! the page suggested made safe (no folders, no hidden or device names), never
//! over an existing file ("report (1).pdf").

use std::path::{Path, PathBuf};

/// Extensions a click must not run: the toast shows such a file in its folder.
pub const RUNNABLE: [&str; 22] = [
    "exe", "msi", "bat", "cmd", "com", "scr", "pif", "ps1", "vbs", "vbe", "js", "jse", "wsf", "hta", "lnk", "jar", "sh", "run",
    "desktop", "appimage", "app", "command",
];

/// The longest file name kept (bytes); longer ones are cut before the extension.
const MAX_NAME: usize = 120;

/// A safe file name from what the page or the URL suggested.
pub fn safe_name(suggested: &str) -> String {
    // Only the last path segment, whatever the separator.
    let last = suggested.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        // Bidi overrides would show "evil\u{202e}gpj.exe" as "evilexe.jpg".
        .map(|c| if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).to_owned();
    // Windows' device names are refused as file names whatever the extension.
    let stem = trimmed.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4 && (stem.starts_with("COM") || stem.starts_with("LPT")) && stem.as_bytes()[3].is_ascii_digit());
    let name = if trimmed.is_empty() || reserved { format!("download{}", if reserved { format!("-{trimmed}") } else { String::new() }) } else { trimmed };
    cut(&name)
}

fn cut(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if name.len() - i <= 16 => name.split_at(i),
        _ => (name, ""),
    };
    let mut end = MAX_NAME - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

/// `dir/name`, or `dir/name (1)`, `(2)`… when taken.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    (1..10_000)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{stem} ({}){ext}", uuid::Uuid::new_v4().simple())))
}

/// The Downloads folder: the platform's (XDG `DOWNLOAD`, the Windows and macOS
/// known folder), else `~/Downloads`.
pub fn folder() -> Option<PathBuf> {
    dirs::download_dir().or_else(|| dirs::home_dir().map(|h| h.join("Downloads")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("Запись звонка.mp3"), "Запись звонка.mp3");
        assert_eq!(safe_name("../../.ssh/authorized_keys"), "authorized_keys");
        assert_eq!(safe_name("C:\\Windows\\evil.exe"), "evil.exe");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name("a<b>c:d|e?.txt"), "a_b_c_d_e_.txt");
        assert_eq!(safe_name("name\u{202e}gpj.exe"), "name_gpj.exe");
        assert_eq!(safe_name(""), "download");
        assert_eq!(safe_name("..."), "download");
        assert_eq!(safe_name("CON.txt"), "download-CON.txt");
        assert_eq!(safe_name("com1"), "download-com1");
        let long = format!("{}.pdf", "я".repeat(200));
        let s = safe_name(&long);
        assert!(s.len() <= MAX_NAME && s.ends_with(".pdf"), "{s}");
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unique_path(dir.path(), "a.txt"), dir.path().join("a.txt"));
        std::fs::write(dir.path().join("a.txt"), "1").unwrap();
        assert_eq!(unique_path(dir.path(), "a.txt"), dir.path().join("a (1).txt"));
        std::fs::write(dir.path().join("a (1).txt"), "2").unwrap();
        assert_eq!(unique_path(dir.path(), "a.txt"), dir.path().join("a (2).txt"));
        std::fs::write(dir.path().join("noext"), "3").unwrap();
        assert_eq!(unique_path(dir.path(), "noext"), dir.path().join("noext (1)"));
    }
}
