//! Start at login: the system's entry (an XDG autostart file, a Windows `Run`
//! value, a macOS launch agent) that starts this data directory's instance
//! into the tray. It names the `kolokol` command, not the window app it hands
//! over to, so the entry survives whatever `kolokol` starts; inside an
//! AppImage, the AppImage.

use std::path::Path;

use auto_launch::{AutoLaunch, AutoLaunchBuilder};

use super::datadir;

pub struct LoginItem(AutoLaunch);

impl LoginItem {
    /// The entry of the instance on `data_dir`, starting `program`.
    pub fn new(data_dir: &Path, is_default: bool, program: &Path) -> Result<LoginItem, String> {
        let (name, args) = datadir::login_entry(data_dir, is_default);
        let program = match std::env::var_os("APPIMAGE") {
            Some(image) if cfg!(target_os = "linux") => image.to_string_lossy().into_owned(),
            _ => program.display().to_string(),
        };
        // The entry is one command line on Linux and Windows: a program under
        // a folder with spaces (a user's name, an AppImage's folder) stays one word.
        let program = datadir::login_word(&program, datadir::Quoting::HERE);
        AutoLaunchBuilder::new().set_app_name(&name).set_app_path(&program).set_args(&args).build().map(LoginItem).map_err(|e| e.to_string())
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_enabled().unwrap_or(false)
    }

    /// Turns the entry on when it is off, off when it is on.
    pub fn toggle(&self) -> Result<(), String> {
        let result = if self.is_enabled() { self.0.disable() } else { self.0.enable() };
        match result {
            // Windows: removing a `Run` value that is not there fails; it is off either way.
            Err(auto_launch::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r.map_err(|e| e.to_string()),
        }
    }
}
