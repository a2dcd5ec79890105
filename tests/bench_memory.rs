//! Memory benchmark, run with ./dev.sh bench (release build, real WebKit,
//! Xvfb, dunst): the PSS and RSS sums and the process count of the app's whole
//! process tree (the app and its WebKit processes, from /proc/PID/smaps_rollup)
//! in each state an agent's PC sees over a day, and Chromium's `--app` mode
//! on the same page in the same run:
//! - tray only (started `--minimized`) as the X display's first GTK app,
//!   which loads the GL driver to probe the display's GL visuals;
//! - the workspace with the start page, opened from the tray;
//! - + the history window, opened from the tray;
//! - after closing the history window;
//! - after 50 more open/close cycles of the history window;
//! - tray only again, after closing every window;
//! - tray only, started after another GTK app (GTK then reads the probe's
//!   answer from the root window and loads no GL driver), as on a desktop
//!   whose own GTK apps ran first;
//! - Chromium `--app` on the start page (served over http), its own profile.
//!
//! Each state is measured after it has settled (SETTLE). `KOLOKOL_BENCH_RUNS=N`
//! repeats the whole sequence N times (default 1) and adds a median table.
//! No figure is asserted: machines are noisy; the README keeps the medians.

mod support;

/// Reads /proc and X11: Linux only.
#[cfg(target_os = "linux")]
mod bench {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use kolokol_lib::core::memory::{self, Tree};
    use super::support;
    use support::desktop::{self, click_tray, wait_until};
    use support::Proc;

    const SETTLE: Duration = Duration::from_secs(8);
    const HISTORY: &str = "Kolokol — History";
    const WORKSPACE: &str = "Kolokol";
    const CYCLES: usize = 50;

    struct Row {
        name: &'static str,
        pss_kib: u64,
        rss_kib: u64,
        private_kib: u64,
        processes: usize,
    }

    impl Row {
        fn of(name: &'static str, t: &Tree) -> Row {
            Row { name, pss_kib: t.pss_kib, rss_kib: t.rss_kib, private_kib: t.private_kib, processes: t.processes.len() }
        }
    }

    fn mib(kib: u64) -> f64 {
        kib as f64 / 1024.0
    }

    /// WebKit processes on this machine outside the tree of `pid`: they share
    /// WebKit's libraries, which lowers the tree's PSS (not its private memory).
    fn others(pid: u32) -> usize {
        let mine: Vec<u32> = memory::tree(pid).map(|t| t.processes.iter().map(|p| p.pid).collect()).unwrap_or_default();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| !mine.contains(p))
            .filter(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.starts_with("WebKit")))
            .count()
    }

    fn measure(name: &'static str, pid: u32) -> Row {
        std::thread::sleep(SETTLE);
        let shared = others(pid);
        if shared > 0 {
            println!("  (note: {shared} other WebKit processes run on this machine; they share libraries, so PSS reads lower than alone)");
        }
        let t = memory::tree(pid).expect("the process tree");
        let row = Row::of(name, &t);
        let names: Vec<String> = t.processes.iter().map(|p| format!("{}={:.0}", p.name, mib(p.pss_kib))).collect();
        println!(
            "  {:<44} PSS {:>7.1} MiB  RSS {:>7.1} MiB  private {:>7.1} MiB  processes {:>2}   ({})",
            name,
            mib(row.pss_kib),
            mib(row.rss_kib),
            mib(row.private_kib),
            row.processes,
            names.join(", ")
        );
        row
    }

    /// Each process of the tree (by pid, with its name): its PSS by kind of mapping.
    type Kinds = Vec<(u32, String, std::collections::BTreeMap<String, u64>)>;

    fn kinds(root: u32) -> Kinds {
        let t = memory::tree(root).expect("the process tree");
        t.processes
            .iter()
            .filter_map(|p| Some((p.pid, p.name.clone(), memory::pss_by_kind(&std::fs::read_to_string(format!("/proc/{}/smaps", p.pid)).ok()?))))
            .collect()
    }

    /// Where the growth is: per process, the kinds of memory that moved by
    /// 0.5 MiB or more between two readings, largest first.
    fn print_growth_by_kind(before: &Kinds, after: &Kinds) {
        for (pid, name, b) in after {
            let empty = Default::default();
            let a = before.iter().find(|(p, ..)| p == pid).map_or(&empty, |(_, _, k)| k);
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let mut moved: Vec<(i64, &str)> = keys
                .into_iter()
                .map(|k| (b.get(k).copied().unwrap_or(0) as i64 - a.get(k).copied().unwrap_or(0) as i64, k.as_str()))
                .filter(|(d, _)| d.abs() >= 512)
                .collect();
            moved.sort_by_key(|(d, _)| -d.abs());
            let all: i64 = b.values().sum::<u64>() as i64 - a.values().sum::<u64>() as i64;
            let list: Vec<String> = moved.iter().map(|(d, k)| format!("{k} {:+.1}", *d as f64 / 1024.0)).collect();
            println!("  {name} (pid {pid}) {:+.1} MiB PSS by kind: {}", all as f64 / 1024.0, if list.is_empty() { "none moved 0.5 MiB".into() } else { list.join("; ") });
        }
    }

    fn web_processes(pid: u32) -> usize {
        desktop::webkit_processes(pid).iter().filter(|p| p.name.starts_with("WebKitWebProc")).count()
    }

    fn wait_web(pid: u32, n: usize, what: &str) {
        wait_until(60, what, || (web_processes(pid) == n).then_some(()));
    }

    /// Opens the history window from the tray; how long from the click's
    /// D-Bus call (after the menu was read) until it is on screen. Polled
    /// every 2 ms: `desktop::wait_shown`'s 50 ms steps made this read either
    /// about 11 or about 61 ms.
    fn open_history(pid: u32) -> Duration {
        let sent = click_tray(pid, "History");
        desktop::wait_shown_every(pid, HISTORY, Duration::from_millis(2));
        sent.elapsed().unwrap_or_default()
    }

    fn close_history(pid: u32, web_after: usize) {
        desktop::close(pid, HISTORY);
        wait_until(60, "the history window gone", || desktop::windows(pid).iter().all(|w| w.title != HISTORY).then_some(()));
        wait_web(pid, web_after, "the history window's web process gone");
    }

    /// Clicks "Open workspace" in the tray and waits for the `nth` "workspace
    /// page loaded" in the app's log; the milliseconds from the click's D-Bus
    /// call to that line, both on the wall clock (the log's own timestamp, so
    /// neither reading the menu nor polling the log is counted).
    fn open_workspace(app: &Proc, pid: u32, nth: usize) -> f64 {
        open_workspace_phases(app, pid, nth)[PHASES.len() - 1].unwrap_or_default()
    }

    /// What the window app logs on its way from the hand-over to the page,
    /// in order; the last one is the figure.
    const PHASES: [(&str, &str); 5] = [
        ("exec → starting", "starting"),
        ("control channel", "control channel ready"),
        ("tray", "tray ready"),
        ("window created", "workspace window created"),
        ("page loaded", "workspace page loaded"),
    ];

    /// Tray click → each of `PHASES` of the `nth` hand-over, in ms from the
    /// click's D-Bus call to the log line's own time stamp (`None`: not logged).
    fn open_workspace_phases(app: &Proc, pid: u32, nth: usize) -> Vec<Option<f64>> {
        let sent = click_tray(pid, "Open workspace");
        wait_until(60, "the workspace page loaded", || app.log().lines().filter(|l| l.contains("workspace page loaded")).nth(nth - 1).map(|_| ()));
        // The window app's lines since the nth hand-over began (the tray-only
        // app logs "starting" and "tray ready" too, with `tray_only` in them).
        let log = app.log();
        let ui: Vec<&str> = log.lines().filter(|l| !l.contains("tray_only")).collect();
        // Not found would read an earlier hand-over's steps, page loaded included.
        let begin = ui
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(" starting"))
            .map(|(i, _)| i)
            .nth(nth - 1)
            .unwrap_or_else(|| panic!("no \"starting\" of hand-over {nth} in the window app's log:\n{log}"));
        PHASES
            .iter()
            .map(|(_, marker)| {
                let line = ui[begin..].iter().find(|l| l.contains(marker))?;
                let stamp = line.split_whitespace().next().unwrap_or_default();
                let at = humantime::parse_rfc3339(stamp).unwrap_or_else(|e| panic!("no timestamp in the log line {line:?}: {e}"));
                Some(at.duration_since(sent).unwrap_or_default().as_secs_f64() * 1e3)
            })
            .collect()
    }

    /// `cargo bench --bench memory -- handover [N]`: the tray-only app's
    /// hand-over alone, N times (default 10): tray click → workspace page
    /// loaded, then the workspace closed and the app back in the tray.
    fn handover(n: usize) {
        let (_tmp, data) = data_folder();
        let mut app = Proc::spawn(&data, "app.log", &["--minimized"]);
        app.wait_log("tray ready");
        let pid = app.child.id();
        let mut times = Vec::new();
        let mut phases: Vec<Vec<f64>> = vec![Vec::new(); PHASES.len()];
        for i in 1..=n {
            let seen = open_workspace_phases(&app, pid, i);
            let ms = seen[PHASES.len() - 1].unwrap_or_default();
            let steps: Vec<String> = PHASES.iter().zip(&seen).filter_map(|((name, _), at)| Some(format!("{name} {:.0}", (*at)?))).collect();
            println!("  tray click → workspace page loaded {ms:>7.0} ms ({})", steps.join(", "));
            for (all, at) in phases.iter_mut().zip(seen) {
                all.extend(at);
            }
            times.push(ms);
            desktop::wait_shown(pid, WORKSPACE);
            std::thread::sleep(Duration::from_secs(1));
            desktop::close(pid, WORKSPACE);
            wait_until(60, "the hand-back to the tray-only app", || (app.log().lines().filter(|l| l.contains("tray_only") && l.contains("tray ready")).count() > i).then_some(()));
            wait_until(60, "the WebKit processes gone", || desktop::webkit_processes(pid).is_empty().then_some(()));
            std::thread::sleep(Duration::from_secs(1));
        }
        click_tray(pid, "Quit");
        app.wait_exit(Duration::from_secs(20));
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("tray click → workspace page loaded, {n} hand-overs: median {:.0} ms (min {:.0}, max {:.0})", median(times), sorted[0], sorted[n - 1]);
        let steps: Vec<String> = PHASES.iter().zip(phases).filter(|(_, v)| !v.is_empty()).map(|((name, _), v)| format!("{name} {:.0}", median(v))).collect();
        println!("  medians from the click: {}", steps.join(", "));
    }

    /// A fresh data folder (in English) inside a temporary directory that
    /// lives as long as the returned guard.
    fn data_folder() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("settings.json"), r#"{"language":"en"}"#).unwrap();
        (tmp, data)
    }

    /// The history window opened from the tray and closed, its web process gone.
    fn history_cycle(pid: u32) {
        open_history(pid);
        wait_web(pid, 2, "the history window's web process");
        close_history(pid, 1);
    }

    /// Started `--minimized` with a fresh data folder, waited for its tray.
    fn start_in_tray(data: &Path, times: &mut Vec<(String, f64)>, what: &str) -> Proc {
        let mut app = Proc::spawn(data, "app.log", &["--minimized"]);
        app.wait_log("tray ready");
        let ready = app.log().lines().find_map(|l| l.split("tray_ready_ms=").nth(1)?.split_whitespace().next()?.parse::<f64>().ok());
        if let Some(ms) = ready {
            times.push((format!("start → tray ready, {what}"), ms));
        }
        app
    }

    fn kolokol_run(run: usize) -> (Vec<Row>, Vec<(String, f64)>) {
        let (_tmp, data) = data_folder();
        let mut rows = Vec::new();
        let mut times = Vec::new();
        // Kolokol as the display's first GTK app (an agent's login may start
        // it first), the GL driver loaded; the second start below reads the
        // answer the first one left.
        desktop::forget_gl_visuals();
        let mut app = start_in_tray(&data, &mut times, "first GTK app");
        let pid = app.child.id();
        println!("run {run}: Kolokol (pid {pid})");
        rows.push(measure("tray only (--minimized), first GTK app", pid));

        times.push(("tray click → workspace page loaded".to_owned(), open_workspace(&app, pid, 1)));
        desktop::wait_shown(pid, WORKSPACE);
        rows.push(measure("workspace, start page", pid));

        times.push(("tray click → history window shown".to_owned(), open_history(pid).as_secs_f64() * 1e3));
        wait_web(pid, 2, "the history window's web process");
        rows.push(measure("workspace + history window", pid));

        close_history(pid, 1);
        rows.push(measure("after closing the history window", pid));

        (0..CYCLES).for_each(|_| history_cycle(pid));
        rows.push(measure("after 50 history open/close cycles", pid));

        desktop::close(pid, WORKSPACE);
        wait_web(pid, 0, "the workspace's web process gone");
        rows.push(measure("tray only, after closing every window", pid));
        click_tray(pid, "Quit");
        app.wait_exit(Duration::from_secs(20));

        assert!(desktop::gl_visuals_cached(), "GTK left no GDK_VISUALS on the root window: the second start would probe GL again");
        let (_tmp2, data2) = data_folder();
        let mut again = start_in_tray(&data2, &mut times, "after another GTK app");
        let pid = again.child.id();
        rows.push(measure("tray only (--minimized), after another GTK app", pid));
        desktop::tray_menu(pid);
        click_tray(pid, "Quit");
        again.wait_exit(Duration::from_secs(20));
        (rows, times)
    }

    /// `-- cycles`: the history window opened and closed 200 times with the
    /// workspace open; the app's own PSS (and the tree's) after every 25, to
    /// tell a leak (linear) from caches filling up (levelling off).
    /// `KOLOKOL_BENCH_ATTACH_S=N` waits N s after the first 5 cycles, its pid
    /// printed, for a profiler to attach (`heaptrack -p PID`), and N s before
    /// it quits, to read /proc/PID/smaps.
    fn cycles() {
        let (_tmp, data) = data_folder();
        let mut app = Proc::spawn(&data, "app.log", &["--minimized"]);
        app.wait_log("tray ready");
        let pid = app.child.id();
        click_tray(pid, "Open workspace");
        desktop::wait_shown(pid, WORKSPACE);
        (0..5).for_each(|_| history_cycle(pid));
        let attach: Option<u64> = std::env::var("KOLOKOL_BENCH_ATTACH_S").ok().and_then(|s| s.parse().ok());
        if let Some(s) = attach {
            println!("cycles: attach to pid {pid} now ({s} s)");
            std::thread::sleep(Duration::from_secs(s));
        }
        let own = |pid| memory::tree(pid).ok().and_then(|t| t.processes.iter().find(|p| p.pid == pid).map(|p| p.pss_kib)).unwrap_or(0);
        std::thread::sleep(SETTLE);
        let (app0, tree0) = (own(pid), memory::tree(pid).unwrap().pss_kib);
        println!("cycles: after 5 cycles: the app {:.1} MiB, the tree {:.1} MiB", mib(app0), mib(tree0));
        for n in (25..=200).step_by(25) {
            (0..25).for_each(|_| history_cycle(pid));
            std::thread::sleep(SETTLE);
            let (a, t) = (own(pid), memory::tree(pid).unwrap().pss_kib);
            println!(
                "cycles: after {:>3} more: the app {:.1} MiB ({:+.1}), the tree {:.1} MiB ({:+.1})",
                n,
                mib(a),
                mib(a) - mib(app0),
                mib(t),
                mib(t) - mib(tree0)
            );
        }
        if let Some(s) = attach {
            println!("cycles: done; quitting in {s} s");
            std::thread::sleep(Duration::from_secs(s));
        }
        click_tray(pid, "Quit");
        app.wait_exit(Duration::from_secs(60));
    }

    /// A page in the workspace that calls APP.notifications 20,000 times over
    /// 10 minutes (show_message, add_call, add_error in turn: popups, history,
    /// toasts, tray), measured every 2 minutes, then once the calls stopped
    /// and a minute later. Goal: PSS growth ≤ 10 % (the 10-minute reading).
    /// `widget`: the page is opened as a local target (`kolokol open`, the
    /// workbench window with its call log beside it); otherwise it is the
    /// account's page, served over http, as an agent has amoCRM open.
    /// `KOLOKOL_BENCH_MINUTES=N` (even) runs N minutes at the same rate (A/B trials;
    /// the goal is read on the full 10).
    fn growth(widget: bool) {
        let minutes: u64 = std::env::var("KOLOKOL_BENCH_MINUTES").ok().and_then(|s| s.parse().ok()).filter(|&m| m >= 2 && m % 2 == 0).unwrap_or(10);
        let calls = 2_000 * minutes as usize;
        let (tmp, data) = data_folder();
        let folder = tmp.path().join("page");
        std::fs::create_dir(&folder).unwrap();
        let page = folder.join("calls.html");
        std::fs::write(&page, "<!doctype html><title>calls</title><script src=\"calls.js\"></script>").unwrap();
        std::fs::write(
            folder.join("calls.js"),
            format!(
                r#"addEventListener("load", () => setTimeout(() => {{
  const N = APP.notifications, every = {every};
  let i = 0;
  const tick = setInterval(() => {{
    if (i >= {calls}) return clearInterval(tick);
    const k = i++;
    if (k % 3 === 0) N.show_message({{ header: "Message " + k, text: "Client card updated" }});
    else if (k % 3 === 1) N.add_call({{ text: "Call from +7 999 " + (1000000 + k), from: "Caller " + k, to: "Agent", duration: k % 600, element: {{ id: k, type: "contact" }} }});
    else N.add_error({{ header: "Error", text: "Task " + k + " not created: contact not found" }});
  }}, every);
}}, {settle}));"#,
                every = minutes * 60_000 / calls as u64,
                settle = SETTLE.as_millis() + 2_000,
            ),
        )
        .unwrap();
        let server;
        let mut app = if widget {
            Proc::spawn(&data, "app.log", &["open", page.to_str().unwrap()])
        } else {
            std::fs::copy(&page, folder.join("index.html")).unwrap();
            server = support::Fixtures::serve_dir(folder.clone());
            std::fs::write(data.join("settings.json"), serde_json::json!({ "language": "en", "account_url": server.origin }).to_string()).unwrap();
            Proc::spawn(&data, "app.log", &[])
        };
        app.wait_log("workspace page loaded");
        let pid = app.child.id();
        let what = if widget { "a widget page opened with `kolokol open`" } else { "the account's page" };
        println!("growth: Kolokol (pid {pid}), {calls} calls over {minutes} minutes from {what} in the workspace");
        let first = measure("before the calls", pid);
        let kinds_before = kinds(pid);
        let t0 = Instant::now();
        let mut last = first.pss_kib;
        for m in (2..=minutes).step_by(2) {
            std::thread::sleep(Duration::from_secs(m * 60).saturating_sub(t0.elapsed() + SETTLE));
            let row = measure(if m == minutes { "at the end" } else { "every 2 minutes" }, pid);
            last = row.pss_kib;
        }
        print_growth_by_kind(&kinds_before, &kinds(pid));
        // The page's timer runs a little behind its schedule: wait for its
        // last calls (up to a minute) before counting what was stored.
        let expected = calls - calls.div_ceil(3);
        let stored = || {
            let out = Command::new(support::APP_BIN).arg("--data-dir").arg(&data).args(["history", "--json", "--limit", "20000"]).output().unwrap();
            serde_json::from_slice::<serde_json::Value>(&out.stdout).map(|v| v.as_array().map_or(0, Vec::len)).unwrap_or(0)
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut stored_now = stored();
        while stored_now < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(2));
            stored_now = stored();
        }
        let stored = stored_now;
        let pct = |kib: u64| (kib as f64 / first.pss_kib as f64 - 1.0) * 100.0;
        // The 10-minute reading is taken while the last calls are still being
        // drawn (frames in flight); these two show what stays once they stop.
        let after = measure("after the last call", pid).pss_kib;
        std::thread::sleep(Duration::from_secs(60).saturating_sub(SETTLE));
        let minute = measure("a minute after the last call", pid).pss_kib;
        println!(
            "  PSS {:.0} → {:.0} MiB: {:+.1} % over {minutes} minutes ({stored} rows in the history, of {} add_call/add_error sent)",
            mib(first.pss_kib),
            mib(last),
            pct(last),
            expected
        );
        println!(
            "  once the calls stopped: {:.0} MiB ({:+.1} %), a minute later {:.0} MiB ({:+.1} %)",
            mib(after),
            pct(after),
            mib(minute),
            pct(minute)
        );
        click_tray(pid, "Quit");
        app.wait_exit(Duration::from_secs(20));
    }

    fn chromium_bin() -> PathBuf {
        ["chromium", "chromium-browser"]
            .iter()
            .filter_map(|n| std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(n)).find(|p| p.is_file()))
            .next()
            .expect("chromium: apt-get install chromium (./dev.sh bench does it)")
    }

    fn chromium_run(page: &str) -> Row {
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            format!("--app={page}"),
            format!("--user-data-dir={}", profile.path().display()),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--window-size=1100,760".into(),
        ];
        // Chromium refuses to run as root with its sandbox (a container's CI user).
        if unsafe { libc::geteuid() } == 0 {
            args.push("--no-sandbox".into());
        }
        let mut child = Command::new(chromium_bin()).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chromium");
        let row = measure("Chromium --app, start page", child.id());
        let _ = child.kill();
        let _ = child.wait();
        row
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    pub fn main() {
        support::require_environment();
        // `cargo bench --bench memory -- growth`: the 10-minute run alone.
        if std::env::args().skip(1).any(|a| a == "growth") {
            return growth(false);
        }
        if std::env::args().skip(1).any(|a| a == "growth-widget") {
            return growth(true);
        }
        if std::env::args().skip(1).any(|a| a == "cycles") {
            return cycles();
        }
        let mut args = std::env::args().skip_while(|a| a != "handover");
        if args.next().is_some() {
            return handover(args.next().and_then(|n| n.parse().ok()).unwrap_or(10).max(1));
        }
        let runs: usize = std::env::var("KOLOKOL_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        println!(
            "kolokol memory benchmark ({} build, {runs} run(s), each state measured {} s after it is reached)",
            if cfg!(debug_assertions) { "debug" } else { "release" },
            SETTLE.as_secs()
        );
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let server = support::Fixtures::serve_dir(ui);
        let page = server.url("index.html");
        let mut all: Vec<Vec<Row>> = Vec::new();
        let mut all_times: Vec<Vec<(String, f64)>> = Vec::new();
        for run in 1..=runs {
            let (mut rows, times) = kolokol_run(run);
            println!("run {run}: Chromium --app on {page}");
            rows.push(chromium_run(&page));
            let ratio = rows[1].pss_kib as f64 / rows.last().unwrap().pss_kib as f64;
            let leak = rows[4].pss_kib as i64 - rows[3].pss_kib as i64;
            println!("  workspace / Chromium (PSS): {ratio:.2}×; 50 cycles changed PSS by {:+.1} MiB", leak as f64 / 1024.0);
            for (name, ms) in &times {
                println!("  {name:<44} {ms:>7.0} ms");
            }
            all.push(rows);
            all_times.push(times);
        }
        println!("\nmedians of {runs} run(s):");
        println!("| configuration | PSS | RSS | private | processes |\n| --- | --- | --- | --- | --- |");
        for i in 0..all[0].len() {
            let pss = median(all.iter().map(|r| mib(r[i].pss_kib)).collect());
            let rss = median(all.iter().map(|r| mib(r[i].rss_kib)).collect());
            let private = median(all.iter().map(|r| mib(r[i].private_kib)).collect());
            let procs = median(all.iter().map(|r| r[i].processes as f64).collect());
            println!("| {} | {pss:.0} MiB | {rss:.0} MiB | {private:.0} MiB | {procs} |", all[0][i].name);
        }
        let ratio = median(all.iter().map(|r| r[1].pss_kib as f64 / r.last().unwrap().pss_kib as f64).collect());
        let leak = median(all.iter().map(|r| (r[4].pss_kib as f64 - r[3].pss_kib as f64) / 1024.0).collect());
        let ratio_private = median(all.iter().map(|r| r[1].private_kib as f64 / r.last().unwrap().private_kib as f64).collect());
        println!("| workspace ÷ Chromium | {ratio:.2}× | | {ratio_private:.2}× | |");
        println!("| PSS change over 50 history open/close cycles | {leak:+.1} MiB | | | |");
        for (i, (name, _)) in all_times[0].iter().enumerate() {
            println!("| {name} | {:.0} ms | | | |", median(all_times.iter().filter_map(|t| t.get(i).map(|x| x.1)).collect()));
        }
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    bench::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("the memory benchmark reads /proc and X11: it runs on Linux only");
}
