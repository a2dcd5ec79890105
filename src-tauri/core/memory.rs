//! The app's own memory, as a support desk reads it from `kolokol status
//! --json`: the proportional set size (PSS) of the app's process tree — the
//! app and its descendants (WebKit's web and network processes) — so shared
//! libraries count once across the tree. Linux reads `/proc`; elsewhere the
//! figure is `null` with the reason. No Tauri here.

use serde::Serialize;
use serde_json::{json, Value};

/// One process of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: u32,
    /// Its `comm` (at most 15 bytes on Linux: `WebKitWebProces`).
    pub name: String,
    pub pss_kib: u64,
    pub rss_kib: u64,
    /// Pages no other process maps now (Private_Clean + Private_Dirty); like
    /// PSS it reads lower while other programs map the same libraries.
    pub private_kib: u64,
}

/// A process and its descendants, with their sums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    pub pss_kib: u64,
    pub rss_kib: u64,
    pub private_kib: u64,
    pub processes: Vec<Process>,
}

impl Tree {
    /// How many of the tree's processes are WebKit's (web, network, GPU…).
    pub fn webkit_processes(&self) -> usize {
        self.processes.iter().filter(|p| p.name.starts_with("WebKit")).count()
    }
}

/// `Pss:`, `Rss:` and `Private_Clean:` + `Private_Dirty:` (KiB) of a `/proc/PID/smaps_rollup` text.
pub fn parse_rollup(text: &str) -> Option<(u64, u64, u64)> {
    let field = |name: &str| text.lines().find_map(|l| kib(l, name));
    Some((field("Pss:")?, field("Rss:")?, field("Private_Clean:").unwrap_or(0) + field("Private_Dirty:").unwrap_or(0)))
}

/// PSS (KiB) of a `/proc/PID/smaps` text summed by what the mappings hold:
/// each file by its name, `[heap]`, `[stack]` and the like by theirs, and
/// anonymous memory in three kinds. Growth must be compared by kind: a
/// mapping that grows gets a new address range, so a comparison mapping by
/// mapping reads it as one mapping gone and another new (the 2026-12-07
/// "one thread's malloc arena +12 MiB" was such a reading).
pub fn pss_by_kind(smaps: &str) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut kind: Option<String> = None;
    for line in smaps.lines() {
        if let Some(pss) = kib(line, "Pss:") {
            if let Some(k) = &kind {
                *out.entry(k.clone()).or_insert(0) += pss;
            }
            continue;
        }
        // A mapping's header: "start-end perms offset dev inode [name]".
        let mut f = line.split(' ');
        let (Some(range), Some(perms)) = (f.next(), f.next()) else { continue };
        let Some(Ok(start)) = range.split_once('-').map(|(s, _)| u64::from_str_radix(s, 16)) else { continue };
        let name = line.splitn(6, ' ').nth(5).unwrap_or("").trim();
        kind = Some(if !name.is_empty() {
            name.rsplit('/').next().unwrap_or(name).to_owned()
        } else if perms.contains('x') {
            "anonymous, executable (JIT code)".to_owned()
        } else if start % (64 << 20) == 0 && perms.starts_with("rw") {
            // glibc reserves each thread arena 64 MiB-aligned.
            "anonymous, 64 MiB-aligned (malloc's thread arenas)".to_owned()
        } else {
            "anonymous".to_owned()
        });
    }
    out
}

/// The KiB of a `Name:   123 kB` line of smaps, if the line is that field.
fn kib(line: &str, name: &str) -> Option<u64> {
    line.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// The parent pid in a `/proc/PID/stat` text (its name may hold spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `root` and every process descending from it in `(pid, ppid)` pairs, root first.
pub fn descendants(root: u32, pairs: &[(u32, u32)]) -> Vec<u32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        let children: Vec<u32> =
            pairs.iter().filter(|(pid, ppid)| *ppid == parent && !out.contains(pid)).map(|(pid, _)| *pid).collect();
        out.extend(children);
        i += 1;
    }
    out
}

/// The tree of process `root`, measured now.
#[cfg(target_os = "linux")]
pub fn tree(root: u32) -> Result<Tree, String> {
    let proc_dir = std::path::Path::new("/proc");
    let entries = std::fs::read_dir(proc_dir).map_err(|e| format!("cannot list /proc: {e}"))?;
    let pairs: Vec<(u32, u32)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parse_ppid(&std::fs::read_to_string(proc_dir.join(format!("{pid}/stat"))).ok()?)?)))
        .collect();
    let mut processes = Vec::new();
    for pid in descendants(root, &pairs) {
        let dir = proc_dir.join(pid.to_string());
        // A process that ended meanwhile is no longer part of the tree.
        let rollup = match std::fs::read_to_string(dir.join("smaps_rollup")) {
            Ok(t) => t,
            Err(e) if pid == root => return Err(format!("cannot read /proc/{pid}/smaps_rollup: {e}")),
            Err(_) => continue,
        };
        let Some((pss_kib, rss_kib, private_kib)) = parse_rollup(&rollup) else {
            if pid == root {
                return Err(format!("/proc/{pid}/smaps_rollup has no Pss/Rss lines"));
            }
            continue;
        };
        let name = std::fs::read_to_string(dir.join("comm")).map(|s| s.trim_end().to_owned()).unwrap_or_default();
        processes.push(Process { pid, name, pss_kib, rss_kib, private_kib });
    }
    Ok(Tree {
        pss_kib: processes.iter().map(|p| p.pss_kib).sum(),
        rss_kib: processes.iter().map(|p| p.rss_kib).sum(),
        private_kib: processes.iter().map(|p| p.private_kib).sum(),
        processes,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn tree(_root: u32) -> Result<Tree, String> {
    Err("the process tree's PSS is measured on Linux only (from /proc/PID/smaps_rollup)".into())
}

/// The `memory` part of `kolokol status --json`: sums and processes, or
/// `null` figures and why there are none.
pub fn status(root: u32) -> Value {
    match tree(root) {
        Ok(t) => json!({
            "pss_kib": t.pss_kib,
            "rss_kib": t.rss_kib,
            "private_kib": t.private_kib,
            "webkit_processes": t.webkit_processes(),
            "processes": t.processes,
        }),
        Err(reason) => json!({ "pss_kib": null, "rss_kib": null, "reason": reason }),
    }
}

/// One line for `kolokol status` from the `memory` part of its answer.
pub fn describe(memory: &Value) -> String {
    match (memory["pss_kib"].as_u64(), memory["processes"].as_array()) {
        (Some(pss), Some(procs)) => format!(
            "memory: {:.1} MiB PSS over {} process{} ({} of WebKit)",
            pss as f64 / 1024.0,
            procs.len(),
            if procs.len() == 1 { "" } else { "es" },
            memory["webkit_processes"].as_u64().unwrap_or(0)
        ),
        _ => format!("memory: not measured: {}", memory["reason"].as_str().unwrap_or("no figure in the answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_and_stat_are_parsed() {
        let rollup = "55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:              123456 kB\nPss:               65432 kB\nPss_Dirty:  100 kB\nPrivate_Clean:   2000 kB\nPrivate_Dirty:     500 kB\n";
        assert_eq!(parse_rollup(rollup), Some((65432, 123456, 2500)));
        assert_eq!(parse_rollup("Rss: 1 kB\n"), None);
        assert_eq!(parse_ppid("4242 (Web (Content) x) S 17 4242 1 0"), Some(17));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn smaps_are_summed_by_kind() {
        let smaps = "\
55d000000000-55d000100000 rw-p 00000000 00:00 0                          [heap]
Rss:                1024 kB
Pss:                1000 kB
7f0000000000-7f0000200000 rw-p 00000000 00:00 0 
Pss:                 300 kB
7f0004100000-7f0004200000 rw-p 00000000 00:00 0 
Pss:                  20 kB
7f0008001000-7f0008002000 rwxp 00000000 00:00 0 
Pss:                   4 kB
7f1000000000-7f1000100000 r-xp 00000000 08:01 42   /usr/lib/x86_64-linux-gnu/libjavascriptcoregtk-4.1.so.0.9.11
Pss:                5000 kB
7f1000200000-7f1000300000 r--p 00100000 08:01 42   /usr/lib/x86_64-linux-gnu/libjavascriptcoregtk-4.1.so.0.9.11
Pss:                 100 kB
7f2000000000-7f2000100000 rw-s 00000000 00:01 7    /SYSV00000000 (deleted)
Pss:                  50 kB
VmFlags: rd wr mr mw me ac sd
";
        let k = pss_by_kind(smaps);
        assert_eq!(k["[heap]"], 1000);
        assert_eq!(k["anonymous, 64 MiB-aligned (malloc's thread arenas)"], 300);
        assert_eq!(k["anonymous"], 20);
        assert_eq!(k["anonymous, executable (JIT code)"], 4);
        assert_eq!(k["libjavascriptcoregtk-4.1.so.0.9.11"], 5100);
        assert_eq!(k["SYSV00000000 (deleted)"], 50);
        assert_eq!(k.len(), 6);
        assert!(pss_by_kind("garbage\nPss: 5 kB\n").is_empty());
    }

    #[test]
    fn status_line() {
        let v = json!({ "pss_kib": 61_440, "processes": [{}, {}, {}], "webkit_processes": 2 });
        assert_eq!(describe(&v), "memory: 60.0 MiB PSS over 3 processes (2 of WebKit)");
        assert_eq!(describe(&json!({ "pss_kib": null, "reason": "Linux only" })), "memory: not measured: Linux only");
        assert_eq!(describe(&Value::Null), "memory: not measured: no figure in the answer");
    }

    #[test]
    fn descendants_follow_the_parents_only() {
        let pairs = [(1, 0), (10, 1), (11, 10), (12, 10), (13, 11), (20, 1), (21, 20)];
        assert_eq!(descendants(10, &pairs), vec![10, 11, 12, 13]);
        assert_eq!(descendants(99, &pairs), vec![99]);
        // A loop in the table does not hang it.
        assert_eq!(descendants(5, &[(5, 6), (6, 5)]), vec![5, 6]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_its_child_are_measured() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let t = tree(std::process::id()).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(t.processes[0].pid, std::process::id());
        assert!(t.processes.iter().any(|p| p.pid == child.id() && p.name == "sleep"), "{t:?}");
        assert!(t.pss_kib > 0 && t.rss_kib >= t.pss_kib && t.pss_kib >= t.private_kib && t.private_kib > 0, "{t:?}");
        assert_eq!(t.webkit_processes(), 0);
        assert!(tree(u32::MAX).is_err());
        assert_eq!(status(u32::MAX)["pss_kib"], Value::Null);
    }
}
