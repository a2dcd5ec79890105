//! The desktop around the app, as a person and a window manager see it: its
//! top-level X windows (title, shown or not) and the close button (the
//! WM_DELETE_WINDOW message a window manager sends), through Xlib; its tray
//! menu as a panel reads and clicks it (com.canonical.dbusmenu); and its
//! process tree (WebKit's processes included) from /proc.
#![allow(dead_code)]

use std::ffi::CString;
use std::process::Command;
use std::os::raw::{c_int, c_long, c_uchar, c_uint, c_ulong};
use std::time::{Duration, Instant};

use x11_dl::xlib;

/// One top-level window of the app.
#[derive(Debug, Clone)]
pub struct XWindow {
    pub id: c_ulong,
    pub title: String,
    /// Mapped and viewable: on screen, not hidden.
    pub shown: bool,
}

unsafe extern "C" fn ignore_errors(_: *mut xlib::Display, _: *mut xlib::XErrorEvent) -> c_int {
    0
}

struct Conn {
    x: xlib::Xlib,
    d: *mut xlib::Display,
}

impl Conn {
    fn open() -> Conn {
        let x = xlib::Xlib::open().expect("libX11 (apt-get install libx11-6)");
        // A window may go away while it is read: its error is ignored, not fatal.
        unsafe { (x.XSetErrorHandler)(Some(ignore_errors)) };
        let d = unsafe { (x.XOpenDisplay)(std::ptr::null()) };
        assert!(!d.is_null(), "cannot open the X display {:?}", std::env::var("DISPLAY"));
        Conn { x, d }
    }

    fn atom(&self, name: &str) -> c_ulong {
        let n = CString::new(name).unwrap();
        unsafe { (self.x.XInternAtom)(self.d, n.as_ptr(), 0) }
    }

    /// A window property's bytes (8-bit) or longs (32-bit, as bytes of c_ulong).
    fn property(&self, w: c_ulong, name: &str) -> Option<(c_int, Vec<u8>, c_ulong)> {
        let (mut kind, mut format, mut n, mut after, mut data) = (0, 0, 0, 0, std::ptr::null_mut::<c_uchar>());
        let ok = unsafe {
            (self.x.XGetWindowProperty)(self.d, w, self.atom(name), 0, 4096, 0, 0, &mut kind, &mut format, &mut n, &mut after, &mut data)
        };
        if ok != 0 || data.is_null() {
            return None;
        }
        let bytes_per = match format {
            8 => 1,
            16 => 2,
            _ => std::mem::size_of::<c_ulong>(),
        };
        let v = unsafe { std::slice::from_raw_parts(data, n as usize * bytes_per).to_vec() };
        unsafe { (self.x.XFree)(data.cast()) };
        Some((format, v, n))
    }

    fn pid(&self, w: c_ulong) -> Option<u32> {
        let (format, v, n) = self.property(w, "_NET_WM_PID")?;
        (format == 32 && n >= 1).then(|| c_ulong::from_ne_bytes(v[..std::mem::size_of::<c_ulong>()].try_into().unwrap()) as u32)
    }

    fn title(&self, w: c_ulong) -> String {
        self.property(w, "_NET_WM_NAME")
            .or_else(|| self.property(w, "WM_NAME"))
            .map(|(_, v, _)| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }

    fn shown(&self, w: c_ulong) -> bool {
        let mut attrs: xlib::XWindowAttributes = unsafe { std::mem::zeroed() };
        unsafe { (self.x.XGetWindowAttributes)(self.d, w, &mut attrs) != 0 && attrs.map_state == xlib::IsViewable }
    }

    fn all(&self, w: c_ulong, out: &mut Vec<c_ulong>) {
        let (mut root, mut parent, mut children, mut n): (c_ulong, c_ulong, *mut c_ulong, c_uint) = (0, 0, std::ptr::null_mut(), 0);
        if unsafe { (self.x.XQueryTree)(self.d, w, &mut root, &mut parent, &mut children, &mut n) } == 0 || children.is_null() {
            return;
        }
        let list = unsafe { std::slice::from_raw_parts(children, n as usize).to_vec() };
        unsafe { (self.x.XFree)(children.cast()) };
        for c in list {
            out.push(c);
            self.all(c, out);
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        unsafe { (self.x.XCloseDisplay)(self.d) };
    }
}

/// GTK 3 probes the X display's GL visuals once, loading the GL driver (under
/// Xvfb, Mesa's llvmpipe with libLLVM), and keeps the answer in the root
/// window's `GDK_VISUALS` property: the GTK apps started after it read that
/// and load no GL driver. Whether the display holds that answer now.
pub fn gl_visuals_cached() -> bool {
    let c = Conn::open();
    c.property(unsafe { (c.x.XDefaultRootWindow)(c.d) }, "GDK_VISUALS").is_some_and(|(_, v, _)| !v.is_empty())
}

/// Forgets that answer, so that the next GTK app is the display's first.
pub fn forget_gl_visuals() {
    let c = Conn::open();
    unsafe {
        (c.x.XDeleteProperty)(c.d, (c.x.XDefaultRootWindow)(c.d), c.atom("GDK_VISUALS"));
        (c.x.XSync)(c.d, 0);
    }
}

/// The top-level windows of process `pid` (those with a title).
pub fn windows(pid: u32) -> Vec<XWindow> {
    let c = Conn::open();
    let mut ids = Vec::new();
    c.all(unsafe { (c.x.XDefaultRootWindow)(c.d) }, &mut ids);
    ids.into_iter()
        .filter(|w| c.pid(*w) == Some(pid))
        .map(|id| XWindow { id, title: c.title(id), shown: c.shown(id) })
        .filter(|w| !w.title.is_empty())
        .collect()
}

/// Waits until process `pid` shows a window titled `title`.
pub fn wait_shown(pid: u32, title: &str) -> XWindow {
    wait_shown_every(pid, title, Duration::from_millis(50))
}

/// [`wait_shown`], looking every `step` (a benchmark timing the window wants
/// a finer step than a test needs).
pub fn wait_shown_every(pid: u32, title: &str, step: Duration) -> XWindow {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(w) = windows(pid).into_iter().find(|w| w.title == title && w.shown) {
            return w;
        }
        assert!(Instant::now() < deadline, "no shown window {title:?} of pid {pid}: {:?}", windows(pid));
        std::thread::sleep(step);
    }
}

/// A person's click on the close button of the shown window titled `title`:
/// the WM_DELETE_WINDOW message a window manager sends.
pub fn close(pid: u32, title: &str) {
    let w = wait_shown(pid, title);
    let c = Conn::open();
    let mut ev: xlib::XEvent = unsafe { std::mem::zeroed() };
    let mut msg = xlib::XClientMessageEvent {
        type_: xlib::ClientMessage,
        serial: 0,
        send_event: 1,
        display: c.d,
        window: w.id,
        message_type: c.atom("WM_PROTOCOLS"),
        format: 32,
        data: xlib::ClientMessageData::new(),
    };
    msg.data.set_long(0, c.atom("WM_DELETE_WINDOW") as c_long);
    msg.data.set_long(1, xlib::CurrentTime as c_long);
    ev.client_message = msg;
    unsafe {
        (c.x.XSendEvent)(c.d, w.id, 0, xlib::NoEventMask, &mut ev);
        (c.x.XFlush)(c.d);
    }
}

/// WebKit's processes (web, network…) among the descendants of `pid`.
pub fn webkit_processes(pid: u32) -> Vec<kolokol_lib::core::memory::Process> {
    kolokol_lib::core::memory::tree(pid).expect("the app's process tree").processes.into_iter().filter(|p| p.name.starts_with("WebKit")).collect()
}

/// Waits until the app has exactly `web` WebKit web processes; returns all its WebKit processes.
pub fn wait_web_processes(app: &super::Proc, web: usize, what: &str) -> Vec<kolokol_lib::core::memory::Process> {
    let pid = app.child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = webkit_processes(pid);
        if all.iter().filter(|p| p.name.starts_with("WebKitWebProc")).count() == web {
            return all;
        }
        assert!(Instant::now() < deadline, "{what}: expected {web} WebKit web process(es), found {all:?}\n{}", app.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The tray's bus name and menu as a panel reads them. The bus name that
/// answered is remembered per pid: asking each of the app's other
/// connections first can cost their 2 s timeout (seen in the memory
/// benchmark's click timings).
pub fn tray_menu(pid: u32) -> (String, String) {
    static KNOWN: std::sync::Mutex<Vec<(u32, String)>> = std::sync::Mutex::new(Vec::new());
    let layout = |n: &str| {
        let out = Command::new("timeout")
            .args(["2", "busctl", "--user", "call", "--", n, &format!("{}/Menu", super::TRAY_PATH)])
            .args(["com.canonical.dbusmenu", "GetLayout", "iias", "0", "-1", "0"])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let known = KNOWN.lock().unwrap().iter().find(|(p, _)| *p == pid).map(|(_, n)| n.clone());
    if let Some(found) = known.and_then(|n| Some((n.clone(), layout(&n)?))) {
        return found;
    }
    let found = wait_until(30, "the tray menu on the session bus", || {
        super::bus_names(u64::from(pid)).into_iter().find_map(|n| Some((n.clone(), layout(&n)?)))
    });
    let mut known = KNOWN.lock().unwrap();
    known.retain(|(p, _)| *p != pid);
    known.push((pid, found.0.clone()));
    found
}

/// Clicks the tray item whose label starts with `label`, as a panel does;
/// returns when the click was sent (after the menu was read).
pub fn click_tray(pid: u32, label: &str) -> std::time::SystemTime {
    let (name, layout) = tray_menu(pid);
    let item = layout
        .split("(ia{sv}av) ")
        .find(|chunk| chunk.contains(&format!("\"label\" s \"{label}")))
        .unwrap_or_else(|| panic!("no tray item {label:?} in {layout}"));
    let id = item.split_whitespace().next().unwrap();
    let mut event = Command::new("busctl");
    event.args(["--user", "call", "--", &name, &format!("{}/Menu", super::TRAY_PATH), "com.canonical.dbusmenu", "Event", "isvu", id, "clicked", "s", "", "0"]);
    let sent = std::time::SystemTime::now();
    let out = event.output().unwrap();
    assert!(out.status.success(), "tray click: {}", String::from_utf8_lossy(&out.stderr));
    sent
}


/// Calls `f` until it gives something, for at most `secs` seconds.
pub fn wait_until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
