//! The running instance's control channel, for `kolokol status` and
//! `kolokol send`: one JSON request line, one JSON answer line, named after the
//! data directory so each data directory has its own. No Tauri here.
//!
//! Only the user running Kolokol may use it:
//! - Linux and macOS: a socket file (mode 0600) in a private per-user folder —
//!   `$XDG_RUNTIME_DIR` when it is ours with mode 0700, else `kolokol-<uid>` in
//!   the temp folder, created 0700. A folder or socket file that belongs to
//!   someone else, or a folder open to others, is refused, never taken over
//!   (the name is squatted); a stale socket of ours is reclaimed. Each
//!   connection's peer uid (SO_PEERCRED, getpeereid) must be ours, and the
//!   command line checks the same of the instance before sending anything.
//! - Windows: a named pipe whose DACL grants only the current user, created as
//!   the first instance of its name (a pipe someone else created first is
//!   refused); the command line checks that the pipe's server runs as the same
//!   user.
//!
//! Each connection has a thread of its own, at most [`MAX_CONNECTIONS`] at a
//! time (beyond that a connection is closed at once), and a request must arrive
//! within [`REQUEST_DEADLINE`] (Unix), so an idle or slow client holds up
//! nobody else. The command line gives up after [`CLIENT_TIMEOUT`].

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    Send { method: String, payload: String },
    /// A second launch of the app on this data folder: its arguments (the
    /// program's name first) and its folder, for relative paths.
    Launch { argv: Vec<String>, cwd: String },
}

/// The answer to `send`: what was accepted and where it went, or why not.
pub fn send_answer(result: &Result<crate::core::router::Accepted, crate::core::api::Refusal>) -> Value {
    match result {
        Ok(a) => json!({ "accepted": { "id": a.id, "seq": a.seq, "channels": a.channels, "warnings": a.notification.warnings } }),
        Err(r) => json!({ "refused": r }),
    }
}

/// Largest request line read; a payload is at most 64 KiB as JSON, escaped once more.
pub const MAX_LINE: u64 = 512 * 1024;
/// Connections served at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 16;
/// Each read and write of a connection (Unix).
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole request line must have arrived by then (Unix).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// How long `kolokol status`/`send` wait to connect and for the answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The control channel's name for a data directory (the socket file's name,
/// or the pipe's).
pub fn socket_name(data_dir: &Path) -> String {
    format!("kolokol-{:016x}.sock", crate::core::datadir::hash(data_dir))
}

type Handler = Arc<dyn Fn(Request) -> Value + Send + Sync>;

/// A serving control channel.
#[derive(Debug, Clone)]
pub struct Control {
    /// The socket path or the pipe name.
    pub endpoint: String,
    gate: Gate,
}

/// Connections being answered, and whether new ones are still read.
#[derive(Debug, Clone, Default)]
struct Gate {
    active: Arc<AtomicUsize>,
    closed: Arc<std::sync::atomic::AtomicBool>,
}

impl Control {
    /// Stops reading new requests (their connections are closed unread, so
    /// the command line asks again) and waits for those being answered.
    /// Before this process hands the channel over to another (`resident`).
    pub fn close(&self) {
        self.gate.closed.store(true, Ordering::SeqCst);
        let until = std::time::Instant::now() + REQUEST_DEADLINE + IO_TIMEOUT;
        while self.gate.active.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Serves requests, each connection on a thread of its own; `handle` answers
/// each one. `Err` says why this instance has no control channel (naming the
/// path and, when the name is squatted, its owner).
pub fn serve(data_dir: &Path, handle: impl Fn(Request) -> Value + Send + Sync + 'static) -> Result<Control, String> {
    sys::serve(data_dir, Arc::new(handle))
}

/// Asks the instance running on `data_dir`. `Err` when none runs there, when
/// it does not answer in time, or when the name is held by someone else.
pub fn request(data_dir: &Path, req: &Request) -> Result<Value, String> {
    sys::request(data_dir, req)
}

/// Counts the connections being served; the slot is freed when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// `None` when the channel is closed or serves enough connections already.
    fn take(gate: &Gate) -> Option<Slot> {
        let active = &gate.active;
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let slot = Slot(active.clone());
        // Checked after counting, so `close` either sees this connection or it is refused.
        (!gate.closed.load(Ordering::SeqCst)).then_some(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads one request line from `conn` and writes the answer.
fn answer<S: Read + Write>(conn: S, handle: &Handler) {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    let answer = match (&mut reader).take(MAX_LINE).read_line(&mut line) {
        Ok(n) if n as u64 >= MAX_LINE && !line.ends_with('\n') => {
            json!({ "error": format!("request refused: longer than {} KiB", MAX_LINE / 1024) })
        }
        Ok(_) => match serde_json::from_str::<Request>(&line) {
            Ok(req) => handle(req),
            Err(e) => json!({ "error": format!("bad request: {e}") }),
        },
        Err(e) => json!({ "error": format!("cannot read the request: {e}") }),
    };
    let mut conn = reader.into_inner();
    let _ = writeln!(conn, "{answer}");
}

/// Writes the request and reads the answer (timeouts are the caller's).
fn exchange<S: Read + Write>(conn: S, req: &Request, endpoint: &str) -> Result<Value, String> {
    let mut conn = BufReader::new(conn);
    let line = serde_json::to_string(req).map_err(|e| e.to_string())?;
    let silent = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("Kolokol at {endpoint} did not answer within {} s", CLIENT_TIMEOUT.as_secs())
        }
        // Still in the listener's queue when its process handed over (exec
        // closes the listener, and the kernel resets what it queued): never
        // read, so asked again. A request that was read is answered first.
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => format!("{UNREAD}: Kolokol at {endpoint}: {e}"),
        _ => format!("Kolokol at {endpoint}: {e}"),
    };
    writeln!(conn.get_mut(), "{line}").map_err(silent)?;
    let mut answer = String::new();
    if conn.read_line(&mut answer).map_err(silent)? == 0 {
        return Err(format!("{UNREAD}: Kolokol at {endpoint} closed the connection"));
    }
    serde_json::from_str(&answer).map_err(|e| format!("unreadable answer from Kolokol: {e}"))
}

/// The request was closed unread: the instance is handing its channel over,
/// so the command line asks again (see [`HANDOVER_WAIT`]).
const UNREAD: &str = "not read";

/// How long the command line keeps asking while the instance hands its
/// channel from one process to the other (tray only ⇄ windows): the socket
/// is there but nobody listens for the moment, or a request was closed unread.
pub const HANDOVER_WAIT: Duration = Duration::from_secs(3);

#[cfg(unix)]
mod sys {
    use std::fs;
    use std::io::{self, ErrorKind, Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use super::*;

    /// sockaddr_un holds 104 bytes on macOS, 108 on Linux, the NUL included.
    const MAX_SOCKET_PATH: usize = 100;

    pub fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// The uid of the process at the other end (for a client: the one that
    /// listened; for the server: the one that connected).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn peer_uid(s: &UnixStream) -> io::Result<u32> {
        let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: a valid socket, and a buffer of the size passed.
        let r = unsafe {
            libc::getsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&mut cred as *mut libc::ucred).cast(),
                &mut len,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(cred.uid)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn peer_uid(s: &UnixStream) -> io::Result<u32> {
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: a valid socket and two out-parameters.
        if unsafe { libc::getpeereid(s.as_raw_fd(), &mut uid, &mut gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(uid)
    }

    /// The per-user folder of the control sockets: `$XDG_RUNTIME_DIR` when it
    /// is ours and private, else `kolokol-<uid>` in the temp folder (in /tmp
    /// when that path would be too long for a socket).
    pub fn folder() -> PathBuf {
        if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()).map(PathBuf::from) {
            if d.is_absolute() && d.as_os_str().len() + 30 <= MAX_SOCKET_PATH && check_folder(&d).is_ok() {
                return d;
            }
        }
        let name = format!("kolokol-{}", euid());
        let dir = std::env::temp_dir().join(&name);
        if dir.is_absolute() && dir.as_os_str().len() + 30 <= MAX_SOCKET_PATH {
            dir
        } else {
            Path::new("/tmp").join(name)
        }
    }

    /// The folder is a real folder (not a link), ours, closed to others.
    pub fn check_folder(dir: &Path) -> Result<(), String> {
        let m = fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let me = euid();
        if m.uid() != me {
            return Err(format!(
                "the folder {} belongs to uid {}, not to you (uid {me}): someone else may be squatting Kolokol's command line",
                dir.display(),
                m.uid()
            ));
        }
        if !m.file_type().is_dir() {
            return Err(format!("{} is not a folder", dir.display()));
        }
        if m.mode() & 0o077 != 0 {
            return Err(format!(
                "the folder {} is open to other users (mode {:o}, needs 0700)",
                dir.display(),
                m.mode() & 0o7777
            ));
        }
        Ok(())
    }

    /// Binds `name` in `dir` (created 0700 if missing), refusing what is
    /// someone else's and reclaiming a stale socket of ours.
    pub fn listen_in(dir: &Path, name: &str) -> Result<(UnixListener, PathBuf), String> {
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create the folder {}: {e}", dir.display())),
        }
        check_folder(dir)?;
        let path = dir.join(name);
        let me = euid();
        match fs::symlink_metadata(&path) {
            Ok(m) if m.uid() != me => {
                return Err(format!(
                    "{} belongs to uid {}, not to you (uid {me}): someone else holds Kolokol's command line name",
                    path.display(),
                    m.uid()
                ))
            }
            Ok(m) if !m.file_type().is_socket() => return Err(format!("{} exists and is not a socket", path.display())),
            Ok(_) => match UnixStream::connect(&path) {
                Ok(s) => {
                    let who = peer_uid(&s).map(|u| format!("uid {u}")).unwrap_or_else(|_| "an unknown user".into());
                    return Err(format!("{} is already served by another process ({who})", path.display()));
                }
                // Replaced below, never removed first: see `bind_private`.
                Err(_) => tracing::info!(path = %path.display(), "reclaiming a stale control socket"),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        let listener = bind_private(dir, name)?;
        Ok((listener, path))
    }

    /// Binds under a name of this process's, makes it private, then renames
    /// it over `name`. A stale socket is thus replaced, never removed first:
    /// while the app hands over (exec, then bind again) the path always
    /// exists, so the command line waits for the new listener (`request_in`)
    /// instead of hearing "not running" in the gap.
    fn bind_private(dir: &Path, name: &str) -> Result<UnixListener, String> {
        let path = dir.join(name);
        // Short, so that it fits where `name` fits (sockaddr_un).
        static BOUND: AtomicUsize = AtomicUsize::new(0);
        let temp = dir.join(format!(".{}.{}", std::process::id(), BOUND.fetch_add(1, Ordering::Relaxed)));
        // Left by a crashed process that had this pid.
        let _ = fs::remove_file(&temp);
        let listener = UnixListener::bind(&temp).map_err(|e| format!("cannot listen at {}: {e}", temp.display()))?;
        let placed = fs::set_permissions(&temp, fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot make {} private: {e}", temp.display()))
            .and_then(|()| fs::rename(&temp, &path).map_err(|e| format!("cannot listen at {}: {e}", path.display())));
        if let Err(e) = placed {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        Ok(listener)
    }

    pub fn serve(data_dir: &Path, handle: Handler) -> Result<Control, String> {
        serve_in(&folder(), &socket_name(data_dir), handle)
    }

    pub fn serve_in(dir: &Path, name: &str, handle: Handler) -> Result<Control, String> {
        let (listener, path) = listen_in(dir, name)?;
        let endpoint = path.display().to_string();
        let gate = Gate::default();
        let active = gate.clone();
        let me = euid();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    let conn = match conn {
                        Ok(c) => c,
                        Err(e) => {
                            // Out of descriptors and the like: do not spin.
                            tracing::debug!("control: accept failed: {e}");
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            continue;
                        }
                    };
                    match peer_uid(&conn) {
                        Ok(uid) if uid == me => {}
                        Ok(uid) => {
                            tracing::warn!(uid, "control: a connection from another user refused");
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!("control: a connection refused, its user is unknown: {e}");
                            continue;
                        }
                    }
                    let Some(slot) = Slot::take(&active) else {
                        tracing::debug!("control: closed, or {MAX_CONNECTIONS} connections already served; one closed");
                        continue;
                    };
                    let handle = handle.clone();
                    let spawned = std::thread::Builder::new().name("control-conn".into()).spawn(move || {
                        let _slot = slot;
                        answer(Timed::new(conn), &handle);
                    });
                    if let Err(e) = spawned {
                        tracing::warn!("control: cannot start a connection thread: {e}");
                    }
                }
            })
            .map_err(|e| format!("cannot start the control thread: {e}"))?;
        Ok(Control { endpoint, gate })
    }

    /// A connection whose reads end by a deadline and whose writes time out.
    struct Timed {
        s: UnixStream,
        until: Instant,
    }

    impl Timed {
        fn new(s: UnixStream) -> Timed {
            let _ = s.set_write_timeout(Some(IO_TIMEOUT));
            Timed { s, until: Instant::now() + REQUEST_DEADLINE }
        }
    }

    impl Read for Timed {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let left = self.until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(ErrorKind::TimedOut, "the request took too long"));
            }
            self.s.set_read_timeout(Some(left.min(IO_TIMEOUT)))?;
            self.s.read(buf)
        }
    }

    impl Write for Timed {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.s.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.s.flush()
        }
    }

    pub fn request(data_dir: &Path, req: &Request) -> Result<Value, String> {
        request_in(&folder(), &socket_name(data_dir), &data_dir.display().to_string(), req)
    }

    /// Connects to `name` in `dir` if it is ours, served by a process of ours.
    pub fn connect_in(dir: &Path, name: &str, label: &str) -> Result<UnixStream, String> {
        let path = dir.join(name);
        let not_running = |why: String| format!("Kolokol is not running for {label} ({why})");
        match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_running(format!("no folder {}", dir.display()))),
            _ => check_folder(dir).map_err(|e| format!("refusing to use the control socket: {e}"))?,
        }
        let me = euid();
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_running(format!("no socket {}", path.display()))),
            Err(e) => return Err(format!("{}: {e}", path.display())),
            Ok(m) if m.uid() != me => {
                return Err(format!(
                    "refusing to talk to {}: it belongs to uid {}, not to you (uid {me}); someone else may be squatting Kolokol's command line",
                    path.display(),
                    m.uid()
                ))
            }
            Ok(m) if !m.file_type().is_socket() => return Err(format!("{} is not a socket", path.display())),
            Ok(_) => {}
        }
        // Connecting blocks when a hung instance's backlog is full: on a thread, with a limit.
        let (tx, rx) = std::sync::mpsc::channel();
        let target = path.clone();
        std::thread::spawn(move || {
            let _ = tx.send(UnixStream::connect(&target));
        });
        let conn = match rx.recv_timeout(CLIENT_TIMEOUT) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) => {
                return Err(not_running(format!("nothing listens at {}", path.display())))
            }
            Ok(Err(e)) => return Err(format!("cannot connect to {}: {e}", path.display())),
            Err(_) => {
                return Err(format!(
                    "Kolokol at {} did not accept the connection within {} s",
                    path.display(),
                    CLIENT_TIMEOUT.as_secs()
                ))
            }
        };
        match peer_uid(&conn) {
            Ok(uid) if uid == me => Ok(conn),
            Ok(uid) => Err(format!(
                "refusing to talk to {}: it is served by uid {uid}, not by you (uid {me}); someone else may be squatting Kolokol's command line",
                path.display()
            )),
            Err(e) => Err(format!("refusing to talk to {}: its owner is unknown ({e})", path.display())),
        }
    }

    /// Asks again for [`HANDOVER_WAIT`] while the socket exists but nobody
    /// listens (a stale socket fails only after that) or the request was
    /// closed unread; never after a request was read.
    pub fn request_in(dir: &Path, name: &str, label: &str, req: &Request) -> Result<Value, String> {
        let until = Instant::now() + HANDOVER_WAIT;
        loop {
            let result = connect_in(dir, name, label).and_then(|conn| {
                let _ = conn.set_read_timeout(Some(CLIENT_TIMEOUT));
                let _ = conn.set_write_timeout(Some(CLIENT_TIMEOUT));
                exchange(conn, req, &dir.join(name).display().to_string())
            });
            let again = match &result {
                Err(e) => e.starts_with(UNREAD) || (e.contains("nothing listens") && dir.join(name).exists()),
                Ok(_) => false,
            };
            if !again || Instant::now() >= until {
                return result;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[cfg(windows)]
mod sys {
    use std::ffi::c_void;
    use std::path::Path;

    use interprocess::local_socket::prelude::*;
    use interprocess::local_socket::{GenericNamespaced, ListenerOptions, Stream};
    use interprocess::os::windows::local_socket::ListenerOptionsExt;
    use interprocess::os::windows::security_descriptor::SecurityDescriptor;
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    use windows_sys::Win32::Security::{EqualSid, GetTokenInformation, TokenUser, TOKEN_QUERY, TOKEN_USER};
    use windows_sys::Win32::System::Threading::{
        GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
    };

    use super::*;

    /// The user a process runs as, as its TOKEN_USER buffer.
    fn process_user(process: HANDLE) -> std::io::Result<Vec<u8>> {
        let mut token: HANDLE = std::ptr::null_mut();
        // SAFETY: a process handle and an out-parameter; the token is closed below.
        if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut len = 0u32;
        // SAFETY: asks for the size first, then fills a buffer of that size.
        unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len) };
        let mut buf = vec![0u8; len as usize];
        let ok = unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
        let err = std::io::Error::last_os_error();
        unsafe { CloseHandle(token) };
        if ok == 0 {
            return Err(err);
        }
        Ok(buf)
    }

    fn sid_of(user: &[u8]) -> *mut c_void {
        // SAFETY: `user` is a TOKEN_USER filled by GetTokenInformation.
        unsafe { (*(user.as_ptr() as *const TOKEN_USER)).User.Sid }
    }

    fn current_user() -> std::io::Result<Vec<u8>> {
        // SAFETY: the pseudo-handle of this process.
        process_user(unsafe { GetCurrentProcess() })
    }

    fn sid_string(user: &[u8]) -> std::io::Result<String> {
        let mut s: *mut u16 = std::ptr::null_mut();
        // SAFETY: a valid SID; the string is freed with LocalFree.
        if unsafe { ConvertSidToStringSidW(sid_of(user), &mut s) } == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let text = unsafe { widestring::U16CStr::from_ptr_str(s) }.to_string_lossy();
        unsafe { LocalFree(s.cast()) };
        Ok(text)
    }

    /// Whether process `pid` runs as the same user as this one.
    fn same_user(pid: u32) -> std::io::Result<bool> {
        let me = current_user()?;
        // SAFETY: the handle is closed below.
        let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        if process.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let other = process_user(process);
        unsafe { CloseHandle(process) };
        let other = other?;
        // SAFETY: two valid SIDs.
        Ok(unsafe { EqualSid(sid_of(&me), sid_of(&other)) } != 0)
    }

    fn pipe(name: &str) -> String {
        format!(r"\\.\pipe\{name}")
    }

    pub fn serve(data_dir: &Path, handle: Handler) -> Result<Control, String> {
        let name = socket_name(data_dir);
        let endpoint = pipe(&name);
        let sid = current_user().and_then(|u| sid_string(&u)).map_err(|e| format!("cannot read the current user: {e}"))?;
        let sddl = widestring::U16CString::from_str(format!("D:P(A;;GA;;;{sid})")).map_err(|e| e.to_string())?;
        let sd = SecurityDescriptor::deserialize(&sddl).map_err(|e| format!("cannot build the pipe's access list: {e}"))?;
        let listener = ListenerOptions::new()
            .name(name.to_ns_name::<GenericNamespaced>().map_err(|e| e.to_string())?)
            .security_descriptor(sd)
            .create_sync()
            .map_err(|e| format!("{endpoint} is taken by another process, perhaps another user's ({e})"))?;
        let gate = Gate::default();
        let active = gate.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    let ours = conn.peer_creds().ok().and_then(|c| c.pid()).map(|pid| same_user(pid).unwrap_or(false));
                    if ours != Some(true) {
                        tracing::warn!("control: a connection from another user refused");
                        continue;
                    }
                    let Some(slot) = Slot::take(&active) else { continue };
                    let handle = handle.clone();
                    let _ = std::thread::Builder::new().name("control-conn".into()).spawn(move || {
                        let _slot = slot;
                        answer(conn, &handle);
                    });
                }
            })
            .map_err(|e| format!("cannot start the control thread: {e}"))?;
        Ok(Control { endpoint, gate })
    }

    pub fn request(data_dir: &Path, req: &Request) -> Result<Value, String> {
        let name = socket_name(data_dir);
        let endpoint = pipe(&name);
        let ns = name.to_ns_name::<GenericNamespaced>().map_err(|e| e.to_string())?.into_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Stream::connect(ns));
        });
        let conn = match rx.recv_timeout(CLIENT_TIMEOUT) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(format!("Kolokol is not running for {} ({e})", data_dir.display())),
            Err(_) => return Err(format!("Kolokol at {endpoint} did not accept the connection within {} s", CLIENT_TIMEOUT.as_secs())),
        };
        let pid = conn.peer_creds().ok().and_then(|c| c.pid());
        match pid.map(same_user) {
            Some(Ok(true)) => {}
            _ => return Err(format!("refusing to talk to {endpoint}: it is not served by you; someone else may be squatting Kolokol's command line")),
        }
        // No read timeout on a pipe here: the answer is awaited on a thread.
        let req = req.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let at = endpoint.clone();
        std::thread::spawn(move || {
            let _ = tx.send(exchange(conn, &req, &at));
        });
        rx.recv_timeout(CLIENT_TIMEOUT)
            .unwrap_or_else(|_| Err(format!("Kolokol at {endpoint} did not answer within {} s", CLIENT_TIMEOUT.as_secs())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_not_running() {
        let dir = tempfile::tempdir().unwrap();
        assert!(request(dir.path(), &Request::Status).unwrap_err().contains("not running"));
        let c = serve(dir.path(), |req| match req {
            Request::Status => serde_json::json!({ "unread": 3 }),
            Request::Send { method, payload } => serde_json::json!({ "method": method, "len": payload.len() }),
            Request::Launch { argv, .. } => serde_json::json!({ "argv": argv }),
        })
        .unwrap();
        assert!(c.endpoint.contains(&socket_name(dir.path())), "{c:?}");
        assert_eq!(request(dir.path(), &Request::Status).unwrap()["unread"], 3);
        let a = request(dir.path(), &Request::Send { method: "add_call".into(), payload: "{\"text\":\"t\"}".into() }).unwrap();
        assert_eq!((a["method"].as_str(), a["len"].as_u64()), (Some("add_call"), Some(12)));
    }

    #[cfg(unix)]
    mod unix {
        use std::io::{Read, Write};
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        use std::os::unix::net::{UnixListener, UnixStream};
        use std::time::{Duration, Instant};

        use super::super::sys::*;
        use super::super::*;

        const NAME: &str = "kolokol-test.sock";

        fn status_handler() -> Handler {
            Arc::new(|req| match req {
                Request::Status => json!({ "unread": 7 }),
                Request::Send { payload, .. } => json!({ "len": payload.len() }),
                Request::Launch { .. } => json!({ "launched": true }),
            })
        }

        /// A folder of ours, 0700.
        fn private() -> tempfile::TempDir {
            let dir = tempfile::tempdir().unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
            dir
        }

        /// A private folder with a server in it.
        fn served() -> tempfile::TempDir {
            let dir = private();
            serve_in(dir.path(), NAME, status_handler()).unwrap();
            dir
        }

        fn status_within(dir: &std::path::Path, limit: Duration) -> Value {
            let t = Instant::now();
            let v = request_in(dir, NAME, "test", &Request::Status).unwrap();
            assert!(t.elapsed() < limit, "status took {:?}", t.elapsed());
            v
        }

        #[test]
        fn socket_and_folder_are_private() {
            let dir = served();
            let m = std::fs::metadata(dir.path().join(NAME)).unwrap();
            assert_eq!(m.mode() & 0o777, 0o600);
            assert_eq!(m.uid(), euid());
            // A folder Kolokol creates itself is 0700.
            let parent = tempfile::tempdir().unwrap();
            let mine = parent.path().join("kolokol-me");
            serve_in(&mine, NAME, status_handler()).unwrap();
            assert_eq!(std::fs::metadata(&mine).unwrap().mode() & 0o777, 0o700);
            assert_eq!(status_within(&mine, Duration::from_secs(1))["unread"], 7);
        }

        #[test]
        fn an_idle_client_does_not_block_status() {
            let dir = served();
            let path = dir.path().join(NAME);
            // Connected, sends nothing, stays.
            let _idle = UnixStream::connect(&path).unwrap();
            let _half = {
                let mut s = UnixStream::connect(&path).unwrap();
                s.write_all(b"{\"cmd\":").unwrap();
                s
            };
            for _ in 0..3 {
                assert_eq!(status_within(dir.path(), Duration::from_secs(1))["unread"], 7);
            }
        }

        #[test]
        fn an_idle_client_is_dropped_after_the_deadline() {
            let dir = served();
            let mut idle = UnixStream::connect(dir.path().join(NAME)).unwrap();
            idle.set_read_timeout(Some(REQUEST_DEADLINE + Duration::from_secs(3))).unwrap();
            let t = Instant::now();
            let mut answer = String::new();
            idle.read_to_string(&mut answer).unwrap();
            assert!(t.elapsed() <= REQUEST_DEADLINE + Duration::from_secs(1), "{:?}", t.elapsed());
            assert!(answer.contains("cannot read the request"), "{answer}");
        }

        #[test]
        fn connections_beyond_the_cap_are_closed_at_once() {
            let dir = served();
            let path = dir.path().join(NAME);
            let held: Vec<UnixStream> = (0..MAX_CONNECTIONS).map(|_| UnixStream::connect(&path).unwrap()).collect();
            std::thread::sleep(Duration::from_millis(200));
            // One more: closed without an answer, at once.
            let mut extra = UnixStream::connect(&path).unwrap();
            extra.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let t = Instant::now();
            let _ = writeln!(extra, "{{\"cmd\":\"status\"}}");
            let mut got = String::new();
            let _ = extra.read_to_string(&mut got);
            assert!(got.is_empty() && t.elapsed() < Duration::from_secs(1), "{got:?} after {:?}", t.elapsed());
            // Once they go, the next status is answered.
            drop(held);
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                match request_in(dir.path(), NAME, "test", &Request::Status) {
                    Ok(v) => break assert_eq!(v["unread"], 7),
                    Err(e) => assert!(Instant::now() < deadline, "{e}"),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        #[test]
        fn a_request_over_the_limit_is_refused() {
            let dir = served();
            let s = UnixStream::connect(dir.path().join(NAME)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let big = format!(
                "{{\"cmd\":\"send\",\"method\":\"add_call\",\"payload\":\"{}\"}}\n",
                "x".repeat(MAX_LINE as usize + 10)
            );
            // The server stops reading at the limit; the rest of the write may fail.
            let writer = {
                let mut s = s.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = s.write_all(big.as_bytes());
                })
            };
            let mut answer = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(&s), &mut answer);
            assert!(answer.contains("longer than 512 KiB"), "{answer}");
            drop(s);
            writer.join().unwrap();
            assert_eq!(status_within(dir.path(), Duration::from_secs(1))["unread"], 7);
        }

        #[test]
        fn a_stale_socket_is_reclaimed() {
            let dir = private();
            drop(UnixListener::bind(dir.path().join(NAME)).unwrap()); // the file stays, nobody listens
            assert!(dir.path().join(NAME).exists());
            assert!(request_in(dir.path(), NAME, "test", &Request::Status).unwrap_err().contains("not running"));
            serve_in(dir.path(), NAME, status_handler()).unwrap();
            assert_eq!(status_within(dir.path(), Duration::from_secs(1))["unread"], 7);
        }

        /// The app hands over by exec and binds again: a command line asking
        /// meanwhile must find the socket (and wait), never "not running".
        #[test]
        fn a_reclaimed_socket_never_goes_missing() {
            use std::sync::atomic::AtomicBool;
            let dir = private();
            let path = dir.path().join(NAME);
            drop(listen_in(dir.path(), NAME).unwrap());
            let done = Arc::new(AtomicBool::new(false));
            let watcher = {
                let (done, path) = (done.clone(), path.clone());
                std::thread::spawn(move || {
                    let mut missing = 0;
                    while !done.load(Ordering::SeqCst) {
                        missing += usize::from(std::fs::symlink_metadata(&path).is_err());
                    }
                    missing
                })
            };
            for _ in 0..500 {
                drop(listen_in(dir.path(), NAME).unwrap()); // each time stale, reclaimed
            }
            done.store(true, Ordering::SeqCst);
            assert_eq!(watcher.join().unwrap(), 0, "the socket was missing while reclaimed");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(left, vec![std::ffi::OsString::from(NAME)], "no temporary name is left behind");
        }

        #[test]
        fn a_live_socket_is_not_taken_over() {
            let dir = served();
            let e = serve_in(dir.path(), NAME, status_handler()).unwrap_err();
            assert!(e.contains(&dir.path().join(NAME).display().to_string()) && e.contains("already served"), "{e}");
            assert_eq!(status_within(dir.path(), Duration::from_secs(1))["unread"], 7);
        }

        #[test]
        fn a_folder_open_to_others_is_refused() {
            let dir = private();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            let e = serve_in(dir.path(), NAME, status_handler()).unwrap_err();
            assert!(e.contains(&dir.path().display().to_string()) && e.contains("open to other users"), "{e}");
            assert!(!dir.path().join(NAME).exists());
            let e = request_in(dir.path(), NAME, "test", &Request::Status).unwrap_err();
            assert!(e.contains("open to other users"), "{e}");
            // A link is not a folder, even to a private one.
            let parent = tempfile::tempdir().unwrap();
            let link = parent.path().join("link");
            std::os::unix::fs::symlink(served().keep(), &link).unwrap();
            let e = serve_in(&link, NAME, status_handler()).unwrap_err();
            assert!(e.contains("not a folder"), "{e}");
        }

        /// Another user's folder or socket (needs root to make one).
        #[test]
        fn what_another_user_owns_is_refused() {
            if euid() != 0 {
                eprintln!("not root: another user's files cannot be made here; the loose-mode cases cover the checks");
                return;
            }
            let nobody = 65534;
            let dir = private();
            std::os::unix::fs::chown(dir.path(), Some(nobody), None).unwrap();
            let e = serve_in(dir.path(), NAME, status_handler()).unwrap_err();
            assert!(e.contains(&dir.path().display().to_string()) && e.contains("uid 65534"), "{e}");
            let e = request_in(dir.path(), NAME, "test", &Request::Status).unwrap_err();
            assert!(e.contains("uid 65534") && e.contains("squatting"), "{e}");

            // Our folder, someone else's socket in it: neither served nor talked to.
            let dir = private();
            let _squatter = UnixListener::bind(dir.path().join(NAME)).unwrap();
            std::os::unix::fs::lchown(dir.path().join(NAME), Some(nobody), None).unwrap();
            let e = serve_in(dir.path(), NAME, status_handler()).unwrap_err();
            assert!(e.contains(&dir.path().join(NAME).display().to_string()) && e.contains("uid 65534"), "{e}");
            let e = request_in(dir.path(), NAME, "test", &Request::Send { method: "add_call".into(), payload: "{}".into() })
                .unwrap_err();
            assert!(e.contains("refusing to talk") && e.contains("uid 65534"), "{e}");
        }

        #[test]
        fn a_connection_from_another_uid_is_dropped() {
            if euid() != 0 {
                eprintln!("not root: cannot connect as another user here (tests/control.rs does, as a real second user)");
                return;
            }
            // A child that connects as uid 65534 and sends a request: closed unanswered.
            let dir = served();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
            std::fs::set_permissions(dir.path().join(NAME), std::fs::Permissions::from_mode(0o666)).unwrap();
            let script = format!(
                "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.settimeout(3)\ns.connect({:?})\ntry:\n s.sendall(b'{{\"cmd\":\"status\"}}\\n')\n r=s.recv(100)\nexcept (BrokenPipeError, ConnectionResetError):\n r=b''\nsys.stdout.write(repr(r))",
                dir.path().join(NAME).display().to_string()
            );
            let out = std::process::Command::new("python3")
                .args(["-c", &script])
                .uid(65534)
                .gid(65534)
                .output()
                .expect("python3");
            let said = String::from_utf8_lossy(&out.stdout);
            assert_eq!(said, "b''", "another user got {said:?}; stderr: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
            assert_eq!(status_within(dir.path(), Duration::from_secs(1))["unread"], 7);
        }

        use std::os::unix::process::CommandExt;
    }
}
