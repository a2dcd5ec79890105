//! Whether the user's session is locked, for "missed while away"
//! (`core::away`). Linux: systemd-logind's `LockedHint` on the session this
//! process runs in, which screen lockers set; read once, then followed.
//! Elsewhere, and where there is no logind, it says why not.

/// Starts following the lock state; `on_change(locked)` runs on a thread of
/// its own for every change. Returns what is watched, or why nothing is.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn watch(on_change: impl Fn(bool) + Send + 'static) -> Result<String, String> {
    use zbus::blocking::{Connection, Proxy};
    use zbus::zvariant::OwnedObjectPath;

    const LOGIND: &str = "org.freedesktop.login1";
    let conn = Connection::system().map_err(|e| format!("no system D-Bus, so no logind: {e}"))?;
    let manager = Proxy::new(&conn, LOGIND, "/org/freedesktop/login1", "org.freedesktop.login1.Manager")
        .map_err(|e| format!("logind: {e}"))?;
    // This process's session; started outside one (autostart under some
    // desktops), the user's graphical session.
    let path: OwnedObjectPath = match manager.call("GetSessionByPID", &(std::process::id())) {
        Ok(p) => p,
        Err(by_pid) => {
            let user = Proxy::new(&conn, LOGIND, "/org/freedesktop/login1/user/self", "org.freedesktop.login1.User")
                .map_err(|e| format!("logind: {e}"))?;
            let (_, display): (String, OwnedObjectPath) = user
                .get_property("Display")
                .map_err(|e| format!("logind knows no session of this process ({by_pid}) nor a display session: {e}"))?;
            if display.as_str() == "/" {
                return Err(format!("logind knows no session of this process ({by_pid}) and the user has no display session"));
            }
            display
        }
    };
    let described = format!("logind {}", path.as_str());
    let session = Proxy::new(&conn, LOGIND, path, "org.freedesktop.login1.Session").map_err(|e| format!("logind: {e}"))?;
    // Probe once here, so a logind without LockedHint (older than 230) is
    // reported instead of silently never firing.
    let locked: bool = session.get_property("LockedHint").map_err(|e| format!("logind has no LockedHint: {e}"))?;
    std::thread::Builder::new()
        .name("kolokol-session-lock".into())
        .spawn(move || {
            let _conn = conn;
            let mut last = locked;
            if locked {
                on_change(true);
            }
            for change in session.receive_property_changed::<bool>("LockedHint") {
                match change.get() {
                    Ok(now) if now != last => {
                        last = now;
                        on_change(now);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("logind LockedHint: {e}"),
                }
            }
            tracing::warn!("logind stopped reporting the session's lock state");
        })
        .map_err(|e| e.to_string())?;
    Ok(described)
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn watch(_on_change: impl Fn(bool) + Send + 'static) -> Result<String, String> {
    Err(format!(
        "not on this system ({}): only do-not-disturb starts a \"missed while away\" period",
        std::env::consts::OS
    ))
}
