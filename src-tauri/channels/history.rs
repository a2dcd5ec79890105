//! Durable notification history: one SQLite file in WAL mode with
//! `synchronous=FULL`, so a row whose insert has returned survives a crash or a
//! power loss. Every write goes through one writer thread that commits in
//! groups (one fsync for all requests waiting at that moment); reads use their
//! own connections, which WAL lets run alongside the writer. No Tauri here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::api::{now_ms, Look, Notification};
use crate::core::links::Link;

/// Most requests one commit takes: bounds how long the first caller of a busy
/// group waits for the others.
const MAX_GROUP: usize = 1024;
/// Largest page `list` returns.
pub const MAX_LIMIT: u32 = 500;
/// Search words used at most; the rest are ignored (each one costs an FTS term lookup).
const MAX_SEARCH_TERMS: usize = 16;
/// A search matching more rows than this reports `total` as this many with
/// `total_exact = false` ("1000+"): the hits are counted from the same walk
/// that finds the first page, newest first, and a walk past a thousand hits
/// of a common word costs more than the page itself (tests/bench_history.rs).
pub const SEARCH_COUNT_CAP: u64 = 1_000;
/// Up to this many unread rows, an unread list or search walks the unread
/// rows (partial index on `rev`) instead of every row or every search hit.
/// (Small in tests, so both paths run.)
const UNREAD_SCAN_MAX: u64 = if cfg!(test) { 10 } else { 20_000 };
/// Retention: longest a pruning step holds the writer, and most rows it deletes.
const PRUNE_STEP: Duration = Duration::from_millis(3);
const PRUNE_BATCH: usize = if cfg!(test) { 7 } else { 2_000 };
/// Pages one incremental-vacuum step hands back (4 KiB each).
const VACUUM_STEP_PAGES: i64 = if cfg!(test) { 8 } else { 64 };
/// Search-index pages one idle merge step writes (about 4 KiB each); see
/// `merge_step`. One: where the merged segments hold many deleted rows'
/// entries, a step reads many pages for each it writes. Measured at a
/// million rows (tests/bench_history.rs): one page took up to 6 ms while
/// pruning (four pages up to 13 ms), up to 30 ms during the bulk fill.
const MERGE_STEP_PAGES: i64 = 1;
/// How often the age limit is looked at again (rows age while nobody writes).
const RETENTION_RECHECK: Duration = Duration::from_secs(3600);
/// Largest stored body inflated on read (a payload is at most 64 KiB as JSON).
const MAX_BODY: usize = 4 << 20;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 4;
/// The writer's page cache, in KiB (a negative `cache_size`).
const WRITER_CACHE_KIB: i64 = -512;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- public types

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    pub seq: i64,
    /// The id of the notification this one replaced (same `tag`); its row,
    /// `seq` included, now holds the new notification.
    pub replaced_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    #[default]
    All,
    /// look = "call"
    Calls,
    /// look = "error"
    Errors,
    Unread,
}

/// One page of the history, newest first. Keyset paging: pass the last row's
/// `seq` (or `Page::next_before_seq`) as `before_seq` for the next page.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Query {
    pub search: Option<String>,
    pub filter: Filter,
    pub before_seq: Option<i64>,
    /// Only rows written after this seq ("what arrived while you were away").
    pub after_seq: Option<i64>,
    /// Clamped to 1..=MAX_LIMIT.
    pub limit: u32,
}

impl Default for Query {
    fn default() -> Self {
        Query { search: None, filter: Filter::All, before_seq: None, after_seq: None, limit: 50 }
    }
}

/// What the center received after a given row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Arrived {
    pub calls: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub rows: Vec<Row>,
    /// Rows matching search + filter (all pages). Exact without a search;
    /// with a search it is "at least `total`" when `total_exact` is false:
    /// counting stops at SEARCH_COUNT_CAP (the window shows "1000+").
    pub total: u64,
    pub total_exact: bool,
    /// Unread rows in the whole history.
    pub unread: u64,
    /// `before_seq` for the next page; None on the last page.
    pub next_before_seq: Option<i64>,
}

/// How long rows are kept. Rows older than `keep_days` (by their last write)
/// and the oldest rows beyond `keep_rows` are pruned by the writer in small
/// steps when it has nothing else to do; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub keep_days: u32,
    pub keep_rows: u64,
}

impl Retention {
    pub const FOREVER: Retention = Retention { keep_days: 0, keep_rows: 0 };
}

/// The store's size and retention, for the history window's footer.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub rows: u64,
    /// The database file plus its WAL, in bytes.
    pub bytes: u64,
    pub keep_days: u32,
    pub keep_rows: u64,
    /// When the oldest kept row was stored; None when there is none.
    pub oldest_ms: Option<i64>,
}

/// What a maintenance pass did (`History::maintain`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Maintained {
    pub pruned: usize,
    pub vacuumed_pages: usize,
    /// Search-index merge steps that found work.
    pub merge_steps: usize,
}

/// A stored notification as the history window shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub seq: i64,
    pub id: String,
    pub method: String,
    pub look: String,
    /// Safe HTML, as normalised.
    pub header: Option<String>,
    /// Safe HTML, as normalised.
    pub text: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub duration_s: Option<u64>,
    pub date_ms: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub read: bool,
    pub tag: Option<String>,
    /// Who sent it (see `Notification::source`); empty for rows older than sources.
    pub source: String,
    pub icon: Option<String>,
    pub click: Option<Link>,
    pub card: Option<Link>,
    pub recording: Option<Link>,
    /// The payload exactly as received.
    pub payload: Value,
}

/// The history with its writer. Cheap to clone; the writer thread stops (and
/// is joined) when the last clone is dropped.
#[derive(Clone)]
pub struct History {
    inner: Arc<Inner>,
}

/// Read-only access, for the CLI while the app (the writer) runs.
#[derive(Clone)]
pub struct HistoryReader {
    pool: Arc<ReadPool>,
}

struct Inner {
    reader: HistoryReader,
    tx: Option<Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    commits: Arc<AtomicU64>,
    waits: Arc<Mutex<IdleWaits>>,
    retention: Mutex<Retention>,
    checkpointer: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the writer loop; joining closes its connection.
        self.tx.take();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
        if let Some((stop, h)) = self.checkpointer.take() {
            drop(stop);
            let _ = h.join();
        }
    }
}

/// How often the checkpointer folds the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Checkpoints on a connection and thread of their own: a PASSIVE checkpoint
/// does not hold the write lock, so the copy and its fsync never sit in a
/// write's commit (the writer's automatic checkpoint is off; see
/// `configure_writer`), except in long bursts.
fn run_checkpointer(path: PathBuf, stop: Receiver<()>) {
    let conn = match Connection::open(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("history checkpointer: cannot open {}: {e}", path.display());
            return;
        }
    };
    let _ = conn.busy_timeout(Duration::from_millis(200));
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!("history checkpoint: {e}");
        }
    }
}

// ------------------------------------------------------------------- History

impl History {
    /// Opens (creating if needed) the history at `path`, brings its schema up
    /// to date and starts the writer thread.
    pub fn open(path: &Path) -> Result<History, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("history: cannot create the folder {}: {e}", dir.display()))?;
        }
        // Private from the first byte: SQLite gives its -wal and -shm files
        // the database file's mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("history: cannot create {}: {e}", path.display()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(path, e))?;
        configure_writer(&conn).map_err(|e| format!("history: cannot open {}: {e}", path.display()))?;
        migrate(&mut conn, MIGRATIONS.len()).map_err(|e| format!("history: {}: {e}", path.display()))?;
        incremental_vacuum_on(&conn).map_err(|e| format!("history: {}: {e}", path.display()))?;

        let commits = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::channel();
        let counter = commits.clone();
        let waits = Arc::new(Mutex::new(IdleWaits::default()));
        let writer_waits = waits.clone();
        let writer = std::thread::Builder::new()
            .name("kolokol-history-writer".into())
            .spawn(move || run_writer(conn, rx, counter, writer_waits))
            .map_err(|e| format!("history: cannot start the writer thread: {e}"))?;
        let reader = HistoryReader { pool: Arc::new(ReadPool::new(path)) };
        let (stop, stopped) = mpsc::channel();
        let owned = path.to_owned();
        let checkpointer = std::thread::Builder::new()
            .name("kolokol-history-checkpoint".into())
            .spawn(move || run_checkpointer(owned, stopped))
            .map_err(|e| format!("history: cannot start the checkpoint thread: {e}"))?;
        Ok(History {
            inner: Arc::new(Inner {
                reader,
                tx: Some(tx),
                writer: Some(writer),
                commits,
                waits,
                retention: Mutex::new(Retention::FOREVER),
                checkpointer: Some((stop, checkpointer)),
            }),
        })
    }

    /// Read-only access to an existing, up-to-date history (no writer thread,
    /// no migration): the CLI uses it while the app holds the writer.
    pub fn open_readonly(path: &Path) -> Result<HistoryReader, String> {
        if !path.exists() {
            return Err(format!("history: there is no history at {}", path.display()));
        }
        let reader = HistoryReader { pool: Arc::new(ReadPool::new(path)) };
        let version = reader.pool.with(|c| c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)))?;
        let latest = MIGRATIONS.len() as i64;
        if version < latest {
            return Err(format!(
                "history: {} has schema v{version}, older than v{latest}; start Kolokol once to upgrade it",
                path.display()
            ));
        }
        if version > latest {
            return Err(newer_err(path, version));
        }
        Ok(reader)
    }

    /// Stores `n` and returns once its row is committed to disk.
    pub fn insert(&self, n: &Notification) -> Result<Stored, String> {
        self.insert_batch(std::slice::from_ref(n))?
            .pop()
            .ok_or_else(|| "history: the writer returned no row".to_owned())
    }

    /// Stores all of `ns` in one commit, all or nothing (imports, bulk fills).
    pub fn insert_batch(&self, ns: &[Notification]) -> Result<Vec<Stored>, String> {
        let rows = ns.iter().map(Prepared::new).collect::<Result<Vec<_>, _>>()?;
        match self.write(Op::Insert(rows))? {
            Reply::Stored(s) => Ok(s),
            _ => Err("history: unexpected reply from the writer".into()),
        }
    }

    /// Marks these rows read; returns how many were unread.
    pub fn mark_read(&self, seqs: &[i64]) -> Result<usize, String> {
        self.changed(Op::MarkRead(seqs.to_vec()))
    }

    /// Marks every row committed before the call as read, in O(1): the read
    /// mark moves to the newest row's `rev` and the unread counts move to
    /// the read ones; no row is rewritten. Returns how many were unread.
    pub fn mark_all_read(&self) -> Result<usize, String> {
        self.changed(Op::MarkAllRead)
    }

    /// Sets the retention; the writer prunes towards it in small steps
    /// between writes (and looks again every hour).
    pub fn set_retention(&self, r: Retention) -> Result<(), String> {
        *self.inner.retention.lock().unwrap_or_else(|e| e.into_inner()) = r;
        self.changed(Op::Retention(r)).map(|_| ())
    }

    pub fn retention(&self) -> Retention {
        *self.inner.retention.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the pruning and space reclaiming that the writer otherwise does
    /// when idle, to the end, one small step per request (writes keep
    /// flowing between steps), then checkpoints the WAL into the file.
    pub fn maintain(&self) -> Result<Maintained, String> {
        let steps = |op: fn() -> Op| -> Result<usize, String> {
            let mut total = 0;
            loop {
                match self.write(op())? {
                    Reply::Step(n, more) => {
                        total += n;
                        if !more {
                            return Ok(total);
                        }
                    }
                    _ => return Err("history: unexpected reply from the writer".into()),
                }
            }
        };
        // Merging and pruning free pages; the vacuum, last, hands them all back.
        let merge_steps = steps(|| Op::MergeStep)?;
        let pruned = steps(|| Op::PruneStep)?;
        let done = Maintained { pruned, vacuumed_pages: steps(|| Op::VacuumStep)?, merge_steps };
        self.changed(Op::Checkpoint)?;
        Ok(done)
    }

    /// Size and retention of the store.
    pub fn stats(&self) -> Result<Stats, String> {
        self.inner.reader.stats(self.retention())
    }

    pub fn list(&self, q: &Query) -> Result<Page, String> {
        self.inner.reader.list(q)
    }

    pub fn unread_count(&self) -> Result<u64, String> {
        self.inner.reader.unread_count()
    }

    /// The newest row's seq (0 for an empty history): where "while away" starts.
    pub fn last_seq(&self) -> Result<i64, String> {
        self.inner.reader.last_seq()
    }

    /// Calls and errors written after `after_seq`.
    pub fn arrived_after(&self, after_seq: i64) -> Result<Arrived, String> {
        self.inner.reader.arrived_after(after_seq)
    }

    pub fn get(&self, seq: i64) -> Result<Option<Row>, String> {
        self.inner.reader.get(seq)
    }

    /// Transactions the writer has committed since `open`.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// How long idle work held writes up since the last call; resets it.
    pub fn take_idle_waits(&self) -> IdleWaits {
        std::mem::take(&mut *self.inner.waits.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn reader(&self) -> &HistoryReader {
        &self.inner.reader
    }

    fn changed(&self, op: Op) -> Result<usize, String> {
        match self.write(op)? {
            Reply::Changed(n) => Ok(n),
            _ => Err("history: unexpected reply from the writer".into()),
        }
    }

    fn write(&self, op: Op) -> Result<Reply, String> {
        let (reply, answer) = mpsc::sync_channel(1);
        let tx = self.inner.tx.as_ref().ok_or("history: the writer is closed")?;
        tx.send(Request { op, reply, sent: std::time::Instant::now() }).map_err(|_| "history: the writer thread has stopped".to_owned())?;
        answer.recv().map_err(|_| "history: the writer thread stopped before answering".to_owned())?
    }
}

// ------------------------------------------------------------------- reading

impl HistoryReader {
    pub fn list(&self, q: &Query) -> Result<Page, String> {
        let limit = q.limit.clamp(1, MAX_LIMIT) as i64;
        let before = q.before_seq.unwrap_or(i64::MAX);
        self.pool.with(|c| {
            // One read transaction: rows, counts and the terms a prefix is
            // expanded to come from the same snapshot.
            let tx = c.unchecked_transaction()?;
            let mut failed = None;
            let search = q.search.as_deref().and_then(|s| {
                fts_query_with(s, |w| {
                    expand_prefix(&tx, w).unwrap_or_else(|e| {
                        failed = Some(e);
                        None
                    })
                })
            });
            if let Some(e) = failed {
                return Err(e);
            }
            let search = search.map(|m| match q.filter {
                // The look filter joins the FTS query (see v2_search).
                Filter::Calls => format!("look : \"call\" AND {m}"),
                Filter::Errors => format!("look : \"error\" AND {m}"),
                Filter::All | Filter::Unread => m,
            });
            let unread = count_from_counts(&tx, Filter::Unread)?;
            // One row more than asked tells whether there is a next page.
            let want = limit + 1;
            let few_unread = q.filter == Filter::Unread && unread <= UNREAD_SCAN_MAX;
            let (seqs, total, total_exact): (Vec<i64>, u64, bool) = match &search {
                None => {
                    let sql = match q.filter {
                        Filter::All => "SELECT seq FROM notifications WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
                        // The look is a column of the search index: one term, read
                        // newest first (no index of its own on the table).
                        Filter::Calls => {
                            "SELECT rowid FROM notifications_fts WHERE notifications_fts MATCH 'look : \"call\"' \
                             AND rowid < ?1 ORDER BY rowid DESC LIMIT ?2"
                        }
                        Filter::Errors => {
                            "SELECT rowid FROM notifications_fts WHERE notifications_fts MATCH 'look : \"error\"' \
                             AND rowid < ?1 ORDER BY rowid DESC LIMIT ?2"
                        }
                        // Few unread rows: the partial index holds them (and the rows
                        // read one by one are not in it); sort those few by seq.
                        Filter::Unread if few_unread => {
                            "SELECT seq FROM notifications INDEXED BY notifications_unread \
                             WHERE read = 0 AND rev > (SELECT upto FROM read_mark) AND seq < ?1 \
                             ORDER BY seq DESC LIMIT ?2"
                        }
                        // Many: they are the newest rows; walk seq down and skip the read ones.
                        Filter::Unread => {
                            "SELECT seq FROM notifications WHERE +read = 0 AND +rev > (SELECT upto FROM read_mark) \
                             AND seq < ?1 ORDER BY seq DESC LIMIT ?2"
                        }
                    };
                    (seqs_of(&tx, sql, params![before, want])?, count_from_counts(&tx, q.filter)?, true)
                }
                Some(m) if few_unread => {
                    // Few unread rows: walk them and ask FTS about each, rather
                    // than walking every hit of a common word.
                    let hit = "EXISTS (SELECT 1 FROM notifications_fts WHERE notifications_fts MATCH ?3 \
                               AND notifications_fts.rowid = n.seq)";
                    let from = "FROM notifications AS n INDEXED BY notifications_unread \
                                WHERE n.read = 0 AND n.rev > (SELECT upto FROM read_mark)";
                    let seqs = seqs_of(
                        &tx,
                        &format!("SELECT n.seq {from} AND n.seq < ?1 AND {hit} ORDER BY n.seq DESC LIMIT ?2"),
                        params![before, want, m],
                    )?;
                    let sql = format!("SELECT count(*) {from} AND {}", hit.replace("?3", "?1"));
                    let n: i64 = tx.prepare_cached(&sql)?.query_row([m], |r| r.get(0))?;
                    (seqs, n.max(0) as u64, true)
                }
                Some(m) => {
                    // Hits newest first, straight from the FTS index (rowid = seq);
                    // the first SEARCH_COUNT_CAP + 1 of them give the count too.
                    let (join, unread_only) = if q.filter == Filter::Unread {
                        (
                            "CROSS JOIN notifications AS n ON n.seq = notifications_fts.rowid",
                            "AND n.read = 0 AND n.rev > (SELECT upto FROM read_mark)",
                        )
                    } else {
                        ("", "")
                    };
                    let sql = format!(
                        "SELECT notifications_fts.rowid FROM notifications_fts {join} \
                         WHERE notifications_fts MATCH ?1 AND notifications_fts.rowid < ?2 {unread_only} \
                         ORDER BY notifications_fts.rowid DESC LIMIT ?3"
                    );
                    let cap = SEARCH_COUNT_CAP as i64 + 1;
                    let mut hits = seqs_of(&tx, &sql, params![m, i64::MAX, cap.max(want)])?;
                    let n = hits.len() as u64;
                    let seqs = if q.before_seq.is_none() {
                        hits.truncate(want as usize);
                        hits
                    } else {
                        seqs_of(&tx, &sql, params![m, before, want])?
                    };
                    (seqs, n.min(SEARCH_COUNT_CAP), n <= SEARCH_COUNT_CAP)
                }
            };
            // A lower bound: the rows come newest first, so the range simply
            // ends early; its count is a short walk of the range itself.
            let (seqs, total, total_exact) = match q.after_seq {
                None => (seqs, total, total_exact),
                Some(after) => {
                    let seqs: Vec<i64> = seqs.into_iter().filter(|&s| s > after).collect();
                    let n = match (&search, q.filter) {
                        (None, Filter::All) => count_sql(&tx, "SELECT count(*) FROM notifications WHERE seq > ?1", params![after])?,
                        (None, Filter::Calls) => count_sql(&tx, "SELECT count(*) FROM notifications WHERE look = 'call' AND seq > ?1", params![after])?,
                        (None, Filter::Errors) => count_sql(&tx, "SELECT count(*) FROM notifications WHERE look = 'error' AND seq > ?1", params![after])?,
                        (None, Filter::Unread) => count_sql(
                            &tx,
                            "SELECT count(*) FROM notifications WHERE seq > ?1 AND read = 0 AND rev > (SELECT upto FROM read_mark)",
                            params![after],
                        )?,
                        (Some(m), _) => count_sql(
                            &tx,
                            "SELECT count(*) FROM notifications_fts WHERE notifications_fts MATCH ?1 AND rowid > ?2",
                            params![m, after],
                        )?,
                    };
                    (seqs, n, search.is_none() || q.filter != Filter::Unread)
                }
            };
            let mut rows = Vec::with_capacity(seqs.len());
            {
                let mut st = tx.prepare_cached(&format!("SELECT {ROW_COLS} FROM notifications AS n WHERE n.seq = ?1"))?;
                for seq in &seqs {
                    if let Some(r) = st.query_row([seq], read_row).optional()? {
                        rows.push(r);
                    }
                }
            }
            let next_before_seq = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| r.seq)
            } else {
                None
            };
            Ok(Page { rows, total, total_exact, unread, next_before_seq })
        })
    }

    pub fn unread_count(&self) -> Result<u64, String> {
        self.pool.with(|c| count_from_counts(c, Filter::Unread))
    }

    pub fn last_seq(&self) -> Result<i64, String> {
        self.pool.with(|c| c.prepare_cached("SELECT coalesce(max(seq), 0) FROM notifications")?.query_row([], |r| r.get(0)))
    }

    pub fn arrived_after(&self, after_seq: i64) -> Result<Arrived, String> {
        self.pool.with(|c| {
            let mut a = Arrived::default();
            let mut st = c.prepare_cached("SELECT look, count(*) FROM notifications WHERE seq > ?1 GROUP BY look")?;
            let mut rows = st.query([after_seq])?;
            while let Some(r) = rows.next()? {
                let (look, n): (String, i64) = (r.get(0)?, r.get(1)?);
                match look.as_str() {
                    "call" => a.calls += n.max(0) as u64,
                    _ => a.errors += n.max(0) as u64,
                }
            }
            Ok(a)
        })
    }

    /// One row by its seq.
    pub fn get(&self, seq: i64) -> Result<Option<Row>, String> {
        self.pool.with(|c| {
            c.prepare_cached(&format!("SELECT {ROW_COLS} FROM notifications AS n WHERE n.seq = ?1"))?
                .query_row([seq], read_row)
                .optional()
        })
    }

    /// Rows, size on disk (db + WAL) and the given retention.
    pub fn stats(&self, retention: Retention) -> Result<Stats, String> {
        let (rows, oldest_ms) = self.pool.with(|c| {
            let rows = count_from_counts(c, Filter::All)?;
            let oldest: Option<i64> = c
                .prepare_cached("SELECT created_ms FROM notifications ORDER BY seq LIMIT 1")?
                .query_row([], |r| r.get(0))
                .optional()?;
            Ok((rows, oldest))
        })?;
        Ok(Stats { rows, bytes: store_bytes(&self.pool.path), keep_days: retention.keep_days, keep_rows: retention.keep_rows, oldest_ms })
    }
}

/// The size of the database file and its WAL.
pub fn store_bytes(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn count_sql(c: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql]) -> rusqlite::Result<u64> {
    let n: i64 = c.prepare_cached(sql)?.query_row(p, |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

fn seqs_of(c: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql]) -> rusqlite::Result<Vec<i64>> {
    let mut st = c.prepare_cached(sql)?;
    let v = st.query_map(p, |r| r.get(0))?.collect();
    v
}

/// A row is read when marked so one by one, or written before the read mark
/// (see `mark_all_read`).
const ROW_COLS: &str = "n.seq, n.id, n.method, n.look, n.tag, n.date_ms, n.created_ms, n.updated_ms, \
                        (n.read = 1 OR n.rev <= (SELECT upto FROM read_mark)), n.source, n.body";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let body: Vec<u8> = r.get(10)?;
    let (data, payload) = unpack_body(&body);
    let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
    // Link is Serialize only; rebuilt from its stored JSON by hand.
    let link = |k: &str| {
        let l = data.get(k)?;
        let f = |f: &str| l.get(f).and_then(Value::as_str).map(str::to_owned);
        Some(Link { given: f("given")?, href: f("href"), reason: f("reason") })
    };
    Ok(Row {
        seq: r.get(0)?,
        id: r.get(1)?,
        method: r.get(2)?,
        look: r.get(3)?,
        tag: r.get(4)?,
        date_ms: r.get(5)?,
        created_ms: r.get(6)?,
        updated_ms: r.get(7)?,
        read: r.get::<_, i64>(8)? != 0,
        header: s("header"),
        text: s("text"),
        from: s("from"),
        to: s("to"),
        icon: s("icon"),
        source: r.get(9)?,
        duration_s: data.get("duration_s").and_then(Value::as_u64),
        click: link("click"),
        card: link("card"),
        recording: link("recording"),
        payload,
    })
}

// ---------------------------------------------------------------------- body

/// Format byte of a body: raw deflate of `u32 LE length of data` + data +
/// payload, continuing a stream primed with BODY_DICT. Both JSON texts go
/// through one stream, so the text they share is stored once; the
/// dictionary holds what every row repeats (keys, link reasons), so a row
/// stores a reference to it. BODY_DICT never changes for this format byte.
const BODY_DEFLATE_DICT1: u8 = 1;

const BODY_DICT: &[u8] = concat!(
    r#"{"date":,"header":"Ошибка","click_link":"/contacts/detail/","link":"/leads/detail/","tag":"","icon":"https://"#,
    r#"{"card":{"given":"/contacts/detail/","href":"https://","reason":"relative link: set the account address in Kolokol's settings to open it"},"#,
    r#""click":{"given":"/leads/detail/","href":"https://","reason":"relative link: set the account address in Kolokol's settings to open it"},"#,
    r#""date_given":true,"date_given":false,"duration_s":,"element":{"id":"","type":"lead"},"type":"company"},"type":"contact"},"#,
    r#""from":"","header":"","recording":{"given":"https://","href":"https://"},"text":"","to":"","warnings":[{"field":"","message":""}]}"#,
    r#"{"duration":,"element":{"id":,"type":"contact"},"from":"","link":"https://","text":"Входящий звонок +7 ","to":""}"#
)
.as_bytes();

fn body_compressor() -> miniz_oxide::deflate::core::CompressorOxide {
    use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
    // Raw deflate (negative window bits), level 6, default strategy.
    CompressorOxide::new(create_comp_flags_from_zip_params(6, -15, 0))
}

/// The deflate stream of BODY_DICT up to a sync flush: every body continues it.
fn body_prefix() -> &'static [u8] {
    static PREFIX: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        use miniz_oxide::deflate::core::{compress, TDEFLFlush};
        let mut d = body_compressor();
        let mut out = vec![0u8; BODY_DICT.len() + 1024];
        let (_, _, n) = compress(&mut d, BODY_DICT, &mut out, TDEFLFlush::Sync);
        out.truncate(n);
        out
    })
}

/// The normalised notification as JSON without the fields that have columns
/// (id, method, look, tag, source, date_ms) and without the payload, nulls left out.
fn data_json(mut data: Value) -> String {
    if let Value::Object(o) = &mut data {
        for k in ["payload", "id", "method", "look", "tag", "source", "date_ms"] {
            o.remove(k);
        }
        o.retain(|_, v| !v.is_null());
    }
    data.to_string()
}

fn pack_body(data: &str, payload: &str) -> Vec<u8> {
    use miniz_oxide::deflate::core::{compress, TDEFLFlush};
    let mut raw = Vec::with_capacity(4 + data.len() + payload.len());
    raw.extend_from_slice(&(data.len() as u32).to_le_bytes());
    raw.extend_from_slice(data.as_bytes());
    raw.extend_from_slice(payload.as_bytes());
    let mut d = body_compressor();
    let mut out = vec![0u8; BODY_DICT.len() + raw.len() + raw.len() / 8 + 1024];
    let (_, _, skip) = compress(&mut d, BODY_DICT, &mut out, TDEFLFlush::Sync);
    debug_assert_eq!(&out[..skip], body_prefix());
    let (_, _, n) = compress(&mut d, &raw, &mut out[skip..], TDEFLFlush::Finish);
    let mut body = Vec::with_capacity(1 + n);
    body.push(BODY_DEFLATE_DICT1);
    body.extend_from_slice(&out[skip..skip + n]);
    body
}

/// (normalised fields, payload). A body that cannot be read gives Null
/// fields and the reason as the payload, rather than hiding the row.
fn unpack_body(body: &[u8]) -> (Value, Value) {
    let raw = match body.split_first() {
        Some((&BODY_DEFLATE_DICT1, rest)) => {
            let stream = [body_prefix(), rest].concat();
            miniz_oxide::inflate::decompress_to_vec_with_limit(&stream, MAX_BODY + BODY_DICT.len())
                .map_err(|e| format!("unreadable body: {e:?}"))
                .and_then(|mut v| match v.starts_with(BODY_DICT) {
                    true => Ok(v.split_off(BODY_DICT.len())),
                    false => Err("body without its dictionary".to_owned()),
                })
        }
        _ => Err("unknown body format".to_owned()),
    };
    let split = raw.and_then(|raw| {
        let n = raw.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).ok_or("short body")?;
        let data = raw.get(4..4 + n).ok_or("short body")?;
        Ok((String::from_utf8_lossy(data).into_owned(), String::from_utf8_lossy(&raw[4 + n..]).into_owned()))
    });
    match split {
        Ok((data, payload)) => (
            serde_json::from_str(&data).unwrap_or(Value::Null),
            // A payload that no longer parses is still shown, as a string.
            serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
        ),
        Err(e) => (Value::Null, Value::String(format!("history: {e}"))),
    }
}

/// Counts kept by triggers in `counts` (one row per look × read): O(1) at any size.
fn count_from_counts(c: &Connection, f: Filter) -> rusqlite::Result<u64> {
    let sql = match f {
        Filter::All => "SELECT coalesce(sum(n), 0) FROM counts",
        Filter::Calls => "SELECT coalesce(sum(n), 0) FROM counts WHERE look = 'call'",
        Filter::Errors => "SELECT coalesce(sum(n), 0) FROM counts WHERE look = 'error'",
        Filter::Unread => "SELECT coalesce(sum(n), 0) FROM counts WHERE read = 0",
    };
    let n: i64 = c.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn new(path: &Path) -> ReadPool {
        ReadPool { path: path.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    fn with<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R, String> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| open_err(&self.path, e))?;
                c.busy_timeout(BUSY_TIMEOUT).map_err(|e| open_err(&self.path, e))?;
                c
            }
        };
        let result = f(&conn).map_err(|e| format!("history: reading {}: {e}", self.path.display()));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

// ------------------------------------------------------------------- writing

/// A notification turned into column values on the caller's thread (the
/// body compressed there too), so the writer spends its time in SQLite only.
struct Prepared {
    id: String,
    method: &'static str,
    look: &'static str,
    tag: Option<String>,
    source: String,
    date_ms: i64,
    body: Vec<u8>,
    fts: [String; 4],
}

impl Prepared {
    fn new(n: &Notification) -> Result<Prepared, String> {
        let data = serde_json::to_value(n).map_err(|e| format!("history: cannot serialise notification: {e}"))?;
        Ok(Prepared {
            id: n.id.clone(),
            method: n.method.as_str(),
            look: look_str(n.look),
            tag: n.tag.clone(),
            source: n.source.clone(),
            date_ms: n.date_ms,
            body: pack_body(&data_json(data), &n.payload.to_string()),
            fts: search_columns(n.header.as_deref(), n.text.as_deref(), n.from.as_deref(), n.to.as_deref()),
        })
    }
}

enum Op {
    Insert(Vec<Prepared>),
    MarkRead(Vec<i64>),
    MarkAllRead,
    Retention(Retention),
    /// One pruning step; replies how many rows it deleted.
    PruneStep,
    /// One incremental-vacuum step; replies how many pages it handed back.
    VacuumStep,
    /// One search-index merge step; replies 1 if it found work.
    MergeStep,
    Checkpoint,
    /// Runs SQL on the writer connection (fault injection in tests).
    #[cfg(test)]
    Exec(String),
}

enum Reply {
    Stored(Vec<Stored>),
    Changed(usize),
    /// A maintenance step: what it did, whether there is more.
    Step(usize, bool),
}

struct Request {
    op: Op,
    reply: SyncSender<Result<Reply, String>>,
    /// When the caller sent it, to tell how long idle work held it up.
    sent: std::time::Instant,
}

/// Idle work a write can wait for: one unit at most (see `run_writer`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Idle {
    /// Pruning or handing space back, or the checkpoint of their pages.
    Retention = 0,
    /// Merging the search index, or the checkpoint of its pages.
    Merge = 1,
}

/// How long writes were held up by the writer's idle work, since the last
/// `History::take_idle_waits`: the part of a write's time that retention and
/// index merging add. A write is held up by the unit under way when it was
/// sent, and, when its commit also syncs pages that idle work wrote without
/// syncing, by that whole commit (an overstatement: it includes the write's
/// own work).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IdleWaits {
    /// The longest hold-up by retention work (pruning, handing space back).
    pub retention_max: Duration,
    /// The longest hold-up by index merging.
    pub merge_max: Duration,
    /// Writes held up at all, and those held up more than 10 ms by either.
    pub waited: u64,
    pub over_10ms: u64,
}

impl IdleWaits {
    fn record(&mut self, retention: Duration, merge: Duration) {
        if retention.is_zero() && merge.is_zero() {
            return;
        }
        self.retention_max = self.retention_max.max(retention);
        self.merge_max = self.merge_max.max(merge);
        self.waited += 1;
        self.over_10ms += u64::from(retention.max(merge) > Duration::from_millis(10));
    }
}

/// The writer's own state besides its connection: retention and where
/// pruning has got to.
struct Writer {
    conn: Connection,
    retention: Retention,
    /// Rows up to this seq have been looked at by the age limit (rows kept
    /// there were rewritten since, by a tag).
    pruned_to: i64,
    /// Pruning or vacuuming is not finished: done in steps while idle.
    pending: bool,
    /// Idle work (of this kind) wrote to the WAL since the writer last checkpointed.
    unfolded: Option<Idle>,
    /// The search index may have segments to merge (rows were written).
    merging: bool,
    next_check: std::time::Instant,
    /// The last unit of idle work: when it ran, what it was for.
    last_idle: Option<(std::time::Instant, std::time::Instant, Idle)>,
    waits: Arc<Mutex<IdleWaits>>,
}

fn run_writer(conn: Connection, rx: Receiver<Request>, commits: Arc<AtomicU64>, waits: Arc<Mutex<IdleWaits>>) {
    let mut w = Writer {
        conn,
        retention: Retention::FOREVER,
        pruned_to: 0,
        pending: false,
        unfolded: None,
        merging: true,
        next_check: std::time::Instant::now() + RETENTION_RECHECK,
        last_idle: None,
        waits,
    };
    loop {
        // Idle with work pending: one small step, then look for requests
        // again, so a write waits for one step at most.
        let first = if w.unfolded.is_some() || w.merging || w.pending {
            match rx.try_recv() {
                Ok(r) => r,
                Err(mpsc::TryRecvError::Empty) => {
                    idle_step(&mut w);
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        } else {
            let wait = w.next_check.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(wait) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    w.next_check = std::time::Instant::now() + RETENTION_RECHECK;
                    w.pruned_to = 0;
                    w.pending = w.retention != Retention::FOREVER;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        };
        // Everything already waiting joins this commit.
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        // What idle work added: the rest of the unit under way when a request
        // was sent, and this commit if it also syncs idle work's pages.
        let carried = w.unfolded;
        let committing = std::time::Instant::now();
        let results = commit_group(&mut w, &group, &commits);
        let commit = committing.elapsed();
        {
            let mut waits = w.waits.lock().unwrap_or_else(|e| e.into_inner());
            for r in &group {
                let mut by = [Duration::ZERO; 2];
                if let Some((began, ended, kind)) = w.last_idle.filter(|(_, ended, _)| r.sent < *ended) {
                    by[kind as usize] += ended - r.sent.max(began);
                }
                if let Some(kind) = carried {
                    by[kind as usize] += commit;
                }
                waits.record(by[Idle::Retention as usize], by[Idle::Merge as usize]);
            }
        }
        w.merging |= group.iter().any(|r| matches!(r.op, Op::Insert(_)));
        for (req, res) in group.into_iter().zip(results) {
            let _ = req.reply.send(res);
        }
    }
    // Fold the WAL back into the main file on a clean shutdown.
    let _ = w.conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
}

/// One unit of idle work: fold the previous unit's pages into the database,
/// else merge the search index (it keeps searches fast while rows arrive),
/// else prune, else hand space back.
///
/// The writer checkpoints its own idle work, one unit's pages at a time:
/// units run back to back, so the checkpointer thread never finds the WAL
/// fully folded at the start of one, the WAL then never restarts and passes
/// the automatic checkpoint's size, and every later commit (an agent's call
/// among them) copies and fsyncs whatever the last units wrote.
fn idle_step(w: &mut Writer) {
    let began = std::time::Instant::now();
    let kind = if let Some(kind) = w.unfolded.take() {
        if let Err(e) = w.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!("history: checkpoint after idle work failed: {e}");
        }
        kind
    } else if w.merging {
        match merge_step(&mut w.conn) {
            Ok(s) => (w.merging, w.unfolded) = (s.more, (s.done > 0).then_some(Idle::Merge)),
            Err(e) => {
                tracing::warn!("history: {e}");
                w.merging = false;
            }
        }
        Idle::Merge
    } else {
        match maintenance_step(w) {
            Ok(s) => (w.pending, w.unfolded) = (s.more, (s.done > 0 || s.more).then_some(Idle::Retention)),
            Err(e) => {
                tracing::warn!("history maintenance: {e}");
                w.pending = false;
            }
        }
        Idle::Retention
    };
    w.last_idle = Some((began, std::time::Instant::now(), kind));
}

/// One maintenance step: prune, else hand space back.
fn maintenance_step(w: &mut Writer) -> Result<Step, String> {
    let pruned = prune_step(w)?;
    if pruned.more {
        return Ok(pruned);
    }
    vacuum_step(&mut w.conn)
}

/// Deletes a small batch of rows the retention no longer keeps, in its own
/// transaction, for at most PRUNE_STEP. Not fsynced at its commit
/// (synchronous=NORMAL for it): losing a deletion to a power cut only means
/// pruning again; the next write's commit syncs it anyway.
fn prune_step(w: &mut Writer) -> Result<Step, String> {
    let r = w.retention;
    if r == Retention::FOREVER {
        return Ok(Step { done: 0, more: false });
    }
    let started = std::time::Instant::now();
    let now = now_ms();
    // The cursor moves even when nothing is deleted: a step that only
    // skipped rows kept by a rewrite is progress too.
    let before = w.pruned_to;
    let pruned_to = &mut w.pruned_to;
    let run = |conn: &mut Connection| -> rusqlite::Result<usize> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deleted = 0;
        {
            let mut del = tx.prepare_cached("DELETE FROM notifications WHERE seq = ?1")?;
            // Beyond the row limit: the oldest rows, whatever their age.
            if r.keep_rows > 0 {
                let total = count_from_counts(&tx, Filter::All)?;
                let excess = total.saturating_sub(r.keep_rows).min(PRUNE_BATCH as u64) as i64;
                if excess > 0 {
                    let seqs = seqs_of(&tx, "SELECT seq FROM notifications ORDER BY seq LIMIT ?1", params![excess])?;
                    for seq in seqs {
                        deleted += del.execute([seq])?;
                        if started.elapsed() >= PRUNE_STEP {
                            break;
                        }
                    }
                }
            }
            // Older than the age limit: rows are stored in seq order, so the
            // walk stops at the first row stored after the cutoff; a row
            // rewritten since (same tag) is younger and stays.
            // At least one row per step when none was deleted above: a step
            // that ran out of time before its first row (a loaded machine)
            // would otherwise report "nothing more", and pruning would stop.
            if r.keep_days > 0 && deleted < PRUNE_BATCH && (deleted == 0 || started.elapsed() < PRUNE_STEP) {
                let cutoff = now - i64::from(r.keep_days) * 86_400_000;
                let mut st = tx.prepare_cached(
                    "SELECT seq, created_ms, updated_ms FROM notifications WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let batch: Vec<(i64, i64, i64)> = st
                    .query_map(params![*pruned_to, (PRUNE_BATCH - deleted) as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect::<Result<_, _>>()?;
                for (seq, created, updated) in batch {
                    if created >= cutoff {
                        break;
                    }
                    if updated < cutoff {
                        deleted += del.execute([seq])?;
                    }
                    *pruned_to = seq;
                    if started.elapsed() >= PRUNE_STEP {
                        break;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(deleted)
    };
    let deleted = unsynced(&mut w.conn, run).map_err(|e| format!("pruning failed: {e}"))?;
    Ok(Step { done: deleted, more: deleted > 0 || w.pruned_to != before })
}

/// Merges search-index segments for about MERGE_STEP_PAGES pages, where a
/// level holds enough of them (FTS5's `usermerge`, 4). The index's automatic
/// merge is off (schema v6): it ran inside the commit of whichever write
/// crossed its threshold, and at a million rows that write waited 10-15 ms.
/// A level that still fills up during a long burst is merged at once
/// (`crisismerge`, 16), as before. Not fsynced: a merge lost to a power cut
/// is only done again.
fn merge_step(c: &mut Connection) -> Result<Step, String> {
    let before = c.total_changes();
    unsynced(c, |c| c.execute("INSERT INTO notifications_fts (notifications_fts, rank) VALUES ('merge', ?1)", [MERGE_STEP_PAGES]))
        .map_err(|e| format!("merging the search index failed: {e}"))?;
    // FTS5 documents it: two or more changes mean the command merged something.
    let worked = c.total_changes() - before >= 2;
    Ok(Step { done: worked as usize, more: worked })
}

/// Runs idle work whose commits are not fsynced (synchronous=NORMAL), then
/// puts back the FULL that every acknowledged write relies on, whatever the
/// work returned: losing such work to a power cut only means doing it again,
/// and the next write's commit syncs it anyway.
fn unsynced<T>(c: &mut Connection, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    c.pragma_update(None, "synchronous", "NORMAL")?;
    let done = work(c);
    c.pragma_update(None, "synchronous", "FULL").and(done)
}

/// What one maintenance step did, and whether another may do more.
struct Step {
    done: usize,
    more: bool,
}

/// Hands up to VACUUM_STEP_PAGES free pages back to the file system
/// (auto_vacuum=INCREMENTAL); the file shrinks at the next checkpoint.
fn vacuum_step(c: &mut Connection) -> Result<Step, String> {
    let failed = |e: rusqlite::Error| format!("incremental vacuum failed: {e}");
    let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0)).map_err(failed)?;
    if free == 0 {
        return Ok(Step { done: 0, more: false });
    }
    let n = free.min(VACUUM_STEP_PAGES);
    unsynced(c, |c| c.execute_batch(&format!("PRAGMA incremental_vacuum({n})"))).map_err(failed)?;
    Ok(Step { done: n as usize, more: true })
}

/// Runs every request of the group in one transaction, each in its own
/// savepoint (one bad request fails alone), and commits once. No caller hears
/// "ok" before that commit has returned. Maintenance requests run on their
/// own, outside the group's transaction.
fn commit_group(w: &mut Writer, group: &[Request], commits: &AtomicU64) -> Vec<Result<Reply, String>> {
    let fail_all = |msg: String| group.iter().map(|_| Err(msg.clone())).collect::<Vec<_>>();
    if group.iter().any(|r| matches!(r.op, Op::PruneStep | Op::VacuumStep | Op::MergeStep | Op::Checkpoint | Op::Retention(_))) {
        // Rare (settings, tests, the bench): each request alone, in order.
        return group
            .iter()
            .map(|req| match &req.op {
                Op::Retention(r) => {
                    w.retention = *r;
                    w.pruned_to = 0;
                    w.pending = *r != Retention::FOREVER;
                    Ok(Reply::Changed(0))
                }
                Op::PruneStep => prune_step(w).map(|s| Reply::Step(s.done, s.more)),
                Op::VacuumStep => vacuum_step(&mut w.conn).map(|s| Reply::Step(s.done, s.more)),
                Op::MergeStep => merge_step(&mut w.conn).map(|s| Reply::Step(s.done, s.more)),
                Op::Checkpoint => w
                    .conn
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .map(|_| Reply::Changed(0))
                    .map_err(|e| format!("history: checkpoint failed: {e}")),
                _ => commit_group(w, std::slice::from_ref(req), commits).pop().unwrap_or(Err("history: no reply".into())),
            })
            .collect();
    }
    let now = now_ms();
    let conn = &mut w.conn;
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => return fail_all(format!("history: cannot start a write: {e}")),
    };
    let mut results = Vec::with_capacity(group.len());
    for req in group {
        let res = (|| {
            let sp = tx.savepoint()?;
            let r = apply(&sp, &req.op, now)?;
            sp.commit()?;
            Ok(r)
        })()
        .map_err(|e: rusqlite::Error| format!("history: write failed: {e}"));
        results.push(res);
        // Some errors (disk full, I/O) make SQLite roll back the whole
        // transaction; what came before is then gone too.
        if tx.is_autocommit() {
            return fail_all(format!(
                "history: write failed and was rolled back: {}",
                results.last().and_then(|r| r.as_ref().err()).cloned().unwrap_or_default()
            ));
        }
    }
    match tx.commit() {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
            results
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            tracing::error!("history commit failed: {e}");
            fail_all(format!("history: commit failed, nothing was stored: {e}"))
        }
    }
}

/// The unread test of a row, given the read mark.
const UNREAD: &str = "read = 0 AND rev > (SELECT upto FROM read_mark)";

fn apply(c: &Connection, op: &Op, now: i64) -> rusqlite::Result<Reply> {
    match op {
        Op::Insert(rows) => rows.iter().map(|p| insert_one(c, p, now)).collect::<Result<_, _>>().map(Reply::Stored),
        Op::MarkRead(seqs) => {
            let mut st = c.prepare_cached(&format!("UPDATE notifications SET read = 1 WHERE seq = ?1 AND {UNREAD}"))?;
            let mut n = 0;
            for s in seqs {
                n += st.execute([s])?;
            }
            Ok(Reply::Changed(n))
        }
        Op::MarkAllRead => {
            // O(1): the mark moves past every row written so far; counts
            // follow (unread → read per look). Rows are not touched.
            let unread = count_from_counts(c, Filter::Unread)?;
            c.execute_batch(
                "UPDATE read_mark SET upto = last_rev;
                 INSERT INTO counts (look, read, n) SELECT look, 1, n FROM counts WHERE read = 0 AND n > 0
                 ON CONFLICT (look, read) DO UPDATE SET n = n + excluded.n;
                 UPDATE counts SET n = 0 WHERE read = 0;",
            )?;
            Ok(Reply::Changed(unread as usize))
        }
        #[cfg(test)]
        Op::Exec(sql) => c.execute_batch(sql).map(|_| Reply::Changed(0)),
        Op::Retention(_) | Op::PruneStep | Op::VacuumStep | Op::MergeStep | Op::Checkpoint => Ok(Reply::Changed(0)),
    }
}

/// A write's `rev`, after `BUMP_REV`: above every row's and above the read
/// mark, so a new or rewritten row is unread.
const NEXT_REV: &str = "(SELECT last_rev FROM read_mark)";
const BUMP_REV: &str = "UPDATE read_mark SET last_rev = last_rev + 1";

fn insert_one(c: &Connection, p: &Prepared, now: i64) -> rusqlite::Result<Stored> {
    let index = |seq: i64| -> rusqlite::Result<()> {
        c.prepare_cached(
            "INSERT INTO notifications_fts (rowid, fts_header, fts_text, fts_from, fts_to, look) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![seq, p.fts[0], p.fts[1], p.fts[2], p.fts[3], p.look])?;
        Ok(())
    };
    if let Some(tag) = &p.tag {
        // A tag is the sender's own: another source's same tag is another row.
        let old: Option<(i64, String)> = c
            .prepare_cached("SELECT seq, id FROM notifications WHERE source = ?1 AND tag = ?2")?
            .query_row(params![p.source, tag], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((seq, old_id)) = old {
            // Same tag: the row becomes the new notification, unread again (a
            // new rev); seq stays so the row keeps its place and the UI can
            // update it by seq.
            c.prepare_cached(BUMP_REV)?.execute([])?;
            c.prepare_cached(&format!(
                "UPDATE notifications SET id = ?2, method = ?3, look = ?4, date_ms = ?5, updated_ms = ?6, read = 0, \
                 rev = {NEXT_REV}, body = ?7 WHERE seq = ?1"
            ))?
            .execute(params![seq, p.id, p.method, p.look, p.date_ms, now, p.body])?;
            c.prepare_cached("DELETE FROM notifications_fts WHERE rowid = ?1")?.execute([seq])?;
            index(seq)?;
            return Ok(Stored { seq, replaced_id: Some(old_id) });
        }
    }
    c.prepare_cached(BUMP_REV)?.execute([])?;
    c.prepare_cached(&format!(
        "INSERT INTO notifications (id, method, look, tag, source, date_ms, created_ms, updated_ms, read, rev, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 0, {NEXT_REV}, ?8)"
    ))?
    .execute(params![p.id, p.method, p.look, p.tag, p.source, p.date_ms, now, p.body])?;
    let seq = c.last_insert_rowid();
    index(seq)?;
    Ok(Stored { seq, replaced_id: None })
}

/// Freed pages go back to the file system in steps (`vacuum_step`) rather
/// than staying in the file: auto_vacuum=INCREMENTAL. A file made without it
/// (before v5) is rewritten once by VACUUM to switch, at the first open.
fn incremental_vacuum_on(c: &Connection) -> Result<(), String> {
    let mode: i64 = c.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).map_err(|e| e.to_string())?;
    if mode == 2 {
        return Ok(());
    }
    c.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
        .map_err(|e| format!("cannot switch to incremental vacuum: {e}"))
}

fn configure_writer(c: &Connection) -> Result<(), String> {
    let mode: String = (|| {
        c.busy_timeout(BUSY_TIMEOUT)?;
        let mode = c.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        // FULL: the WAL is fsynced at every commit, so an acknowledged row survives power loss.
        c.pragma_update(None, "synchronous", "FULL")?;
        // Keep the WAL file from staying huge after a burst.
        c.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        // Checkpoints are the checkpointer thread's; the writer checkpoints
        // in a commit only when the WAL passes 32 MiB anyway (a long burst,
        // during which a PASSIVE checkpoint from outside never catches up and
        // the WAL would otherwise only grow).
        c.pragma_update(None, "wal_autocheckpoint", 8192)?;
        // The writer appends, so the pages it needs are few; SQLite's default
        // (2 MB) only filled up with pages it wrote once, for the app's lifetime.
        c.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        Ok(mode)
    })()
    .map_err(|e: rusqlite::Error| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("journal_mode is {mode}; WAL could not be enabled"));
    }
    Ok(())
}

// ---------------------------------------------------------------- migrations

type Migration = fn(&Transaction<'_>) -> rusqlite::Result<()>;

/// The schema's history, in order; `PRAGMA user_version` is how many have run.
/// Append only: never edit a step that has shipped.
const MIGRATIONS: &[Migration] = &[v1_table, v2_search, v3_counts, v4_source, v5_compact, v6_merge_when_idle];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Runs the pending steps up to `target` in one IMMEDIATE transaction, so two
/// processes opening at once cannot both migrate.
fn migrate(conn: &mut Connection, target: usize) -> Result<(), String> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| format!("cannot lock for migration: {e}"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| format!("cannot read the schema version: {e}"))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(format!(
            "schema v{version} is newer than this Kolokol understands (v{}); update Kolokol",
            MIGRATIONS.len()
        ));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().take(target).skip(version.max(0) as usize) {
        step(&tx).map_err(|e| format!("migration to v{} failed: {e}", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(|e| format!("cannot record schema v{}: {e}", i + 1))?;
    }
    tx.commit().map_err(|e| format!("cannot commit the migration: {e}"))
}

/// v1: the table and the indexes paging needs.
fn v1_table(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE notifications (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: UI and paging key
            id         TEXT NOT NULL,
            method     TEXT NOT NULL,
            look       TEXT NOT NULL,
            tag        TEXT,
            date_ms    INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            read       INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
            data       TEXT NOT NULL, -- the normalised Notification as JSON, payload left out
            payload    TEXT NOT NULL  -- the payload exactly as received, as JSON
        );
        CREATE UNIQUE INDEX notifications_tag ON notifications(tag) WHERE tag IS NOT NULL;
        CREATE INDEX notifications_look ON notifications(look, seq);
        CREATE INDEX notifications_unread ON notifications(seq) WHERE read = 0;",
    )
}

/// v2: full-text search. Plain-text copies of header/text (tags stripped) and
/// from/to are columns of the table, indexed by an external-content FTS5 table
/// kept in step by triggers; existing rows are backfilled.
fn v2_search(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE notifications ADD COLUMN fts_header TEXT NOT NULL DEFAULT '';
         ALTER TABLE notifications ADD COLUMN fts_text TEXT NOT NULL DEFAULT '';
         ALTER TABLE notifications ADD COLUMN fts_from TEXT NOT NULL DEFAULT '';
         ALTER TABLE notifications ADD COLUMN fts_to TEXT NOT NULL DEFAULT '';",
    )?;
    {
        let mut read = tx.prepare("SELECT seq, data FROM notifications")?;
        let mut write = tx.prepare(
            "UPDATE notifications SET fts_header = ?2, fts_text = ?3, fts_from = ?4, fts_to = ?5 WHERE seq = ?1",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let data: Value = serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or(Value::Null);
            let s = |k: &str| data.get(k).and_then(Value::as_str);
            let f = search_columns(s("header"), s("text"), s("from"), s("to"));
            write.execute(params![seq, f[0], f[1], f[2], f[3]])?;
        }
    }
    tx.execute_batch(
        "-- `look` is indexed too, so a search with the calls/errors filter is one
        -- FTS query instead of a row-by-row check of every hit.
        CREATE VIRTUAL TABLE notifications_fts USING fts5(
            fts_header, fts_text, fts_from, fts_to, look,
            content = 'notifications', content_rowid = 'seq',
            tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO notifications_fts(notifications_fts) VALUES ('rebuild');
        CREATE TRIGGER notifications_fts_ai AFTER INSERT ON notifications BEGIN
            INSERT INTO notifications_fts(rowid, fts_header, fts_text, fts_from, fts_to, look)
            VALUES (new.seq, new.fts_header, new.fts_text, new.fts_from, new.fts_to, new.look);
        END;
        CREATE TRIGGER notifications_fts_ad AFTER DELETE ON notifications BEGIN
            INSERT INTO notifications_fts(notifications_fts, rowid, fts_header, fts_text, fts_from, fts_to, look)
            VALUES ('delete', old.seq, old.fts_header, old.fts_text, old.fts_from, old.fts_to, old.look);
        END;
        -- Only a change of the indexed text re-indexes; marking read does not.
        CREATE TRIGGER notifications_fts_au AFTER UPDATE OF fts_header, fts_text, fts_from, fts_to, look ON notifications BEGIN
            INSERT INTO notifications_fts(notifications_fts, rowid, fts_header, fts_text, fts_from, fts_to, look)
            VALUES ('delete', old.seq, old.fts_header, old.fts_text, old.fts_from, old.fts_to, old.look);
            INSERT INTO notifications_fts(rowid, fts_header, fts_text, fts_from, fts_to, look)
            VALUES (new.seq, new.fts_header, new.fts_text, new.fts_from, new.fts_to, new.look);
        END;",
    )
}

/// v3: row counts per look × read kept by triggers, so totals and the unread
/// badge cost the same at a million rows as at ten.
fn v3_counts(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE counts (
            look TEXT NOT NULL,
            read INTEGER NOT NULL,
            n    INTEGER NOT NULL,
            PRIMARY KEY (look, read)
        ) WITHOUT ROWID;
        INSERT INTO counts (look, read, n) SELECT look, read, count(*) FROM notifications GROUP BY look, read;
        CREATE TRIGGER notifications_counts_ai AFTER INSERT ON notifications BEGIN
            INSERT INTO counts (look, read, n) VALUES (new.look, new.read, 1)
            ON CONFLICT (look, read) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER notifications_counts_ad AFTER DELETE ON notifications BEGIN
            UPDATE counts SET n = n - 1 WHERE look = old.look AND read = old.read;
        END;
        CREATE TRIGGER notifications_counts_au AFTER UPDATE OF look, read ON notifications
        WHEN old.look IS NOT new.look OR old.read IS NOT new.read BEGIN
            UPDATE counts SET n = n - 1 WHERE look = old.look AND read = old.read;
            INSERT INTO counts (look, read, n) VALUES (new.look, new.read, 1)
            ON CONFLICT (look, read) DO UPDATE SET n = n + 1;
        END;",
    )
}

/// v4: each row's source (a page's origin, `cli`), and tags unique per
/// source, so one sender's tag never rewrites another's row. Older rows keep
/// the empty source.
fn v4_source(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE notifications ADD COLUMN source TEXT NOT NULL DEFAULT '';
         DROP INDEX notifications_tag;
         CREATE UNIQUE INDEX notifications_source_tag ON notifications(source, tag) WHERE tag IS NOT NULL;",
    )
}

/// v5: a compact store at a million rows.
/// - The normalised fields and the raw payload are one deflated `body`
///   (text they share is stored once); the plain-text search columns are
///   gone: the FTS table is contentless (`contentless_delete=1`), written by
///   the writer itself, its rows deleted by a trigger.
/// - Prefix indexes for one and two characters, so a short prefix reads one
///   doclist instead of merging every word it starts.
/// - No index on `look`: the calls/errors lists read the look column of the
///   search index, newest first.
/// - Read state by a mark: a row is read when `read = 1` or its `rev` (write
///   order; a rewrite by tag gets a new one) is at or below `read_mark.upto`,
///   so marking everything read moves the mark instead of rewriting rows.
///   `counts` counts that state.
///
/// Rows are carried over in seq order with the table rebuilt (seq and the
/// AUTOINCREMENT high-water mark kept).
/// A v4 row as v5 carries it over: seq, the columns kept, data, payload, the search columns.
type V4Row = (i64, [rusqlite::types::Value; 9], String, String, [String; 4]);

fn v5_compact(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DROP TRIGGER notifications_fts_ai;
         DROP TRIGGER notifications_fts_ad;
         DROP TRIGGER notifications_fts_au;
         DROP TRIGGER notifications_counts_ai;
         DROP TRIGGER notifications_counts_ad;
         DROP TRIGGER notifications_counts_au;
         DROP TABLE notifications_fts;
         CREATE TABLE notifications_v5 (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: UI and paging key
            id         TEXT NOT NULL,
            method     TEXT NOT NULL,
            look       TEXT NOT NULL,
            tag        TEXT,
            source     TEXT NOT NULL DEFAULT '',
            date_ms    INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            read       INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
            rev        INTEGER NOT NULL, -- write order; see read_mark
            body       BLOB NOT NULL     -- deflate(normalised fields + payload), see pack_body
         );
         CREATE VIRTUAL TABLE notifications_fts USING fts5(
            fts_header, fts_text, fts_from, fts_to, look,
            content = '', contentless_delete = 1, prefix = '1 2',
            tokenize = 'unicode61 remove_diacritics 2'
         );
         -- One row: rows with rev <= upto are read; last_rev is the newest rev given.
         -- Pruning deletes from the oldest (largest) segments: no merge of a whole
         -- segment inside a commit once a tenth of it is deleted (a write would wait
         -- for it); their space comes back when those segments are merged anyway.
         INSERT INTO notifications_fts (notifications_fts, rank) VALUES ('deletemerge', 0);
         -- The index's terms, one row per occurrence: a seek finds the next term (expand_prefix).
         CREATE VIRTUAL TABLE notifications_vocab USING fts5vocab(notifications_fts, instance);
         CREATE TABLE read_mark (upto INTEGER NOT NULL, last_rev INTEGER NOT NULL);
         INSERT INTO read_mark (upto, last_rev) VALUES (0, 0);",
    )?;
    {
        let mut read = tx.prepare(
            "SELECT seq, id, method, look, tag, source, date_ms, created_ms, updated_ms, read, data, payload, \
             fts_header, fts_text, fts_from, fts_to FROM notifications WHERE seq > ?1 ORDER BY seq LIMIT 10000",
        )?;
        let mut write = tx.prepare(
            "INSERT INTO notifications_v5 (seq, id, method, look, tag, source, date_ms, created_ms, updated_ms, read, rev, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?1, ?11)",
        )?;
        let mut index = tx.prepare(
            "INSERT INTO notifications_fts (rowid, fts_header, fts_text, fts_from, fts_to, look) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut last = 0i64;
        loop {
            // In chunks, so the table read is not the table written.
            let chunk: Vec<V4Row> = read
                .query_map([last], |r| {
                    Ok((
                        r.get(0)?,
                        [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?],
                        r.get(10)?,
                        r.get(11)?,
                        [r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?],
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let Some(end) = chunk.last().map(|c| c.0) else { break };
            for (seq, cols, data, payload, fts) in &chunk {
                let data = data_json(serde_json::from_str(data).unwrap_or(Value::Null));
                let [id, method, look, tag, source, date, created, updated, read] = cols;
                write.execute(params![seq, id, method, look, tag, source, date, created, updated, read, pack_body(&data, payload)])?;
                index.execute(params![seq, fts[0], fts[1], fts[2], fts[3], look])?;
            }
            last = end;
        }
    }
    let high: Option<i64> =
        tx.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'notifications'", [], |r| r.get(0)).optional()?;
    tx.execute_batch(
        "DROP TABLE notifications;
         ALTER TABLE notifications_v5 RENAME TO notifications;
         CREATE UNIQUE INDEX notifications_source_tag ON notifications(source, tag) WHERE tag IS NOT NULL;
         -- Unread candidates (rows marked read one by one leave it); rev > the mark is the rest of the test.
         CREATE INDEX notifications_unread ON notifications(rev) WHERE read = 0;
         UPDATE read_mark SET last_rev = coalesce((SELECT max(seq) FROM notifications), 0);
         DELETE FROM counts;
         INSERT INTO counts (look, read, n) SELECT look, read, count(*) FROM notifications GROUP BY look, read;
         CREATE TRIGGER notifications_fts_ad AFTER DELETE ON notifications BEGIN
            DELETE FROM notifications_fts WHERE rowid = old.seq;
         END;
         CREATE TRIGGER notifications_counts_ai AFTER INSERT ON notifications BEGIN
            INSERT INTO counts (look, read, n)
            VALUES (new.look, new.read = 1 OR new.rev <= (SELECT upto FROM read_mark), 1)
            ON CONFLICT (look, read) DO UPDATE SET n = n + 1;
         END;
         CREATE TRIGGER notifications_counts_ad AFTER DELETE ON notifications BEGIN
            UPDATE counts SET n = n - 1
            WHERE look = old.look AND read = (old.read = 1 OR old.rev <= (SELECT upto FROM read_mark));
         END;
         CREATE TRIGGER notifications_counts_au AFTER UPDATE OF look, read, rev ON notifications BEGIN
            UPDATE counts SET n = n - 1
            WHERE look = old.look AND read = (old.read = 1 OR old.rev <= (SELECT upto FROM read_mark));
            INSERT INTO counts (look, read, n)
            VALUES (new.look, new.read = 1 OR new.rev <= (SELECT upto FROM read_mark), 1)
            ON CONFLICT (look, read) DO UPDATE SET n = n + 1;
         END;",
    )?;
    if let Some(high) = high {
        tx.execute("UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'notifications'", [high])?;
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'notifications', ?1 \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'notifications')",
            [high],
        )?;
    }
    Ok(())
}

/// The search index no longer merges inside commits: the writer merges it
/// between requests instead (`merge_step`).
fn v6_merge_when_idle(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute("INSERT INTO notifications_fts (notifications_fts, rank) VALUES ('automerge', 0)", [])?;
    Ok(())
}

// ------------------------------------------------------------------- helpers

fn look_str(l: Look) -> &'static str {
    match l {
        Look::Message => "message",
        Look::Error => "error",
        Look::Call => "call",
    }
}

/// The indexed text of a notification. The FTS columns hold exactly this, so
/// triggers can delete what was indexed.
fn search_columns(header: Option<&str>, text: Option<&str>, from: Option<&str>, to: Option<&str>) -> [String; 4] {
    [
        fold(&header.map(crate::core::html::to_text).unwrap_or_default()),
        fold(&text.map(crate::core::html::to_text).unwrap_or_default()),
        fold(from.unwrap_or_default()),
        fold(to.unwrap_or_default()),
    ]
}

/// ё is written as е more often than not, and unicode61's remove_diacritics
/// leaves Cyrillic alone: fold it on both sides of the search.
fn fold(s: &str) -> String {
    s.replace('ё', "е").replace('Ё', "Е")
}

/// Turns what the user typed into an FTS5 query that cannot be a syntax error:
/// each whitespace-separated word becomes a quoted string (quotes doubled)
/// with prefix match, all words required. Words without a letter or digit
/// are dropped; None when nothing is left (no search). NUL separates words
/// like a space: FTS5 reads the query as C text, and a NUL inside a quoted
/// string would end the query there, unterminated.
pub fn fts_query(input: &str) -> Option<String> {
    fts_query_with(input, |_| None)
}

/// `fts_query`, with `expand` offered every word: Some(terms) replaces the
/// word's prefix match by those whole terms (see `expand_prefix`).
fn fts_query_with(input: &str, mut expand: impl FnMut(&str) -> Option<Vec<String>>) -> Option<String> {
    let quote = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
    let mut grouped = false;
    let terms: Vec<String> = input
        .split(|c: char| c.is_whitespace() || c == '\0')
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_SEARCH_TERMS)
        .map(|w| {
            let w = fold(w);
            match expand(&w) {
                Some(terms) => {
                    grouped = true;
                    format!("({})", terms.iter().map(|t| quote(t)).collect::<Vec<_>>().join(" OR "))
                }
                None => format!("{}*", quote(&w)),
            }
        })
        .collect();
    // A group needs an explicit AND beside it (implicit AND joins phrases only).
    let and = if grouped { " AND " } else { " " };
    // Only the text columns: `look` is for filters.
    (!terms.is_empty()).then(|| format!("{{fts_header fts_text fts_from fts_to}} : ({})", terms.join(and)))
}

/// Most whole terms a prefix is replaced by.
const MAX_EXPANSION: usize = 8;

/// A prefix match of three or more letters merges the doclists of every
/// term it starts into one list in memory before the first hit comes out:
/// for a word in half the rows, the whole of that word's list each time. When
/// the prefix starts few terms, they are asked for by name instead (an OR of
/// whole terms is read newest first, hit by hit). The terms come from the
/// index's vocabulary, one seek each. Only for words the tokenizer keeps as
/// they are (lowercase letters and digits, Latin or Cyrillic), so the word
/// is a term's own spelling; one- and two-letter prefixes have prefix indexes.
fn expand_prefix(c: &Connection, word: &str) -> rusqlite::Result<Option<Vec<String>>> {
    let simple = |ch: char| ch.is_ascii_digit() || ch.is_ascii_lowercase() || ('а'..='я').contains(&ch);
    if word.chars().count() < 3 || !word.chars().all(simple) {
        return Ok(None);
    }
    let mut st = c.prepare_cached("SELECT term FROM notifications_vocab WHERE term >= ?1 LIMIT 1")?;
    let mut terms = vec![word.to_owned()];
    // The next term after `from`: U+0001 sorts before every letter and digit.
    let mut from = format!("{word}\u{1}");
    loop {
        let next: Option<String> = st.query_row([&from], |r| r.get(0)).optional()?;
        match next {
            Some(t) if t.starts_with(word) => {
                if terms.len() > MAX_EXPANSION {
                    return Ok(None);
                }
                from = format!("{t}\u{1}");
                terms.push(t);
            }
            _ => return Ok(Some(terms)),
        }
    }
}

fn open_err(path: &Path, e: rusqlite::Error) -> String {
    format!("history: cannot open {}: {e}", path.display())
}

fn newer_err(path: &Path, version: i64) -> String {
    format!(
        "history: {} has schema v{version}, newer than this Kolokol understands (v{}); update Kolokol",
        path.display(),
        MIGRATIONS.len()
    )
}

/// The file in a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("history.sqlite3")
}

/// The router's store: a call is acknowledged once its row is committed.
impl crate::core::router::Store for History {
    fn store_batch(&self, ns: &[Notification]) -> Result<Vec<i64>, String> {
        self.insert_batch(ns).map(|s| s.into_iter().map(|s| s.seq).collect())
    }
}

/// The history as the router's store, or why it could not be opened: center
/// calls are then refused with that reason.
pub struct StoreOrReason(pub Result<History, String>);

impl crate::core::router::Store for StoreOrReason {
    fn store_batch(&self, ns: &[Notification]) -> Result<Vec<i64>, String> {
        match &self.0 {
            Ok(h) => crate::core::router::Store::store_batch(h, ns),
            Err(e) => Err(format!("history unavailable: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::{normalize, Context, Method};
    use serde_json::json;
    use std::collections::HashSet;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::atomic::AtomicUsize;

    static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

    fn note(method: Method, v: Value) -> Notification {
        let id = format!("n-{}-{}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::Relaxed));
        normalize(method, &v.to_string(), Context { account: None, now_ms: 1_700_000_000_000, id }).unwrap()
    }

    fn msg(text: &str) -> Notification {
        note(Method::ShowMessage, json!({"header": "h", "text": text}))
    }

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        (dir, path)
    }

    fn q(search: Option<&str>, filter: Filter) -> Query {
        Query { search: search.map(str::to_owned), filter, before_seq: None, after_seq: None, limit: 50 }
    }

    fn integrity(path: &Path) {
        let c = Connection::open(path).unwrap();
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        // The FTS index agrees with its content table.
        c.execute("INSERT INTO notifications_fts(notifications_fts, rank) VALUES ('integrity-check', 1)", []).unwrap();
    }

    /// The `data` and `payload` columns as builds before v5 wrote them.
    fn v4_data(n: &Notification) -> (String, String) {
        let mut data = serde_json::to_value(n).unwrap();
        if let Value::Object(o) = &mut data {
            o.remove("payload");
            o.retain(|_, v| !v.is_null());
        }
        (data.to_string(), n.payload.to_string())
    }

    fn search_ids(h: &History, s: &str) -> Vec<String> {
        h.list(&q(Some(s), Filter::All)).unwrap().rows.into_iter().map(|r| r.id).collect()
    }

    /// "What arrived while you were away": the rows after a seq, their counts
    /// by kind, with filters and search, and paging that ends at the bound.
    #[test]
    fn rows_after_a_seq_and_what_arrived() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        assert_eq!(h.last_seq().unwrap(), 0);
        let call = |t: &str| note(Method::AddCall, json!({"text": t, "from": "+7 1"}));
        let err = |t: &str| note(Method::AddError, json!({"text": t}));
        h.insert_batch(&[call("before one"), err("before two")]).unwrap();
        let mark = h.last_seq().unwrap();
        assert_eq!(h.arrived_after(mark).unwrap(), Arrived::default());
        let mut away = vec![call("away alpha"), call("away beta"), call("away gamma")];
        away.extend((0..12).map(|i| err(&format!("away error {i}"))));
        h.insert_batch(&away).unwrap();
        assert_eq!(h.arrived_after(mark).unwrap(), Arrived { calls: 3, errors: 12 });
        let after = |filter, search: Option<&str>, limit| Query { after_seq: Some(mark), limit, ..q(search, filter) };
        let all = h.list(&after(Filter::All, None, 50)).unwrap();
        assert_eq!((all.rows.len(), all.total, all.next_before_seq), (15, 15, None));
        assert!(all.rows.iter().all(|r| r.seq > mark));
        let calls = h.list(&after(Filter::Calls, None, 50)).unwrap();
        assert_eq!((calls.rows.len(), calls.total), (3, 3));
        let found = h.list(&after(Filter::All, Some("alpha"), 50)).unwrap();
        assert_eq!((found.rows.len(), found.total), (1, 1));
        assert!(h.list(&after(Filter::All, Some("before"), 50)).unwrap().rows.is_empty());
        // Pages of 10: the second ends at the bound, with no page after it.
        let p1 = h.list(&after(Filter::All, None, 10)).unwrap();
        assert_eq!(p1.rows.len(), 10);
        let p2 = h.list(&Query { before_seq: p1.next_before_seq, ..after(Filter::All, None, 10) }).unwrap();
        assert_eq!((p2.rows.len(), p2.next_before_seq), (5, None));
        h.mark_all_read().unwrap();
        assert_eq!(h.list(&after(Filter::Unread, None, 50)).unwrap().total, 0);
    }

    #[test]
    fn the_writer_keeps_a_small_page_cache() {
        let (_d, path) = temp();
        let c = Connection::open(&path).unwrap();
        let default: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0)).unwrap();
        configure_writer(&c).unwrap();
        let set: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0)).unwrap();
        assert_eq!((set, default), (WRITER_CACHE_KIB, -2000), "the writer's cache, against SQLite's default");
    }

    #[test]
    fn opens_empty_file_at_latest_schema_in_wal() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!((v, mode.as_str()), (SCHEMA_VERSION as i64, "wal"));
        let p = h.list(&Query::default()).unwrap();
        assert_eq!((p.rows.len(), p.total, p.unread, p.next_before_seq), (0, 0, 0, None));
        drop(h);
        // Reopening runs no step twice.
        let h = History::open(&path).unwrap();
        h.insert(&msg("x")).unwrap();
        drop(h);
        integrity(&path);
    }

    #[test]
    fn migrates_from_v1_with_rows() {
        let (_d, path) = temp();
        let ns = [
            note(Method::AddCall, json!({"text": "Звонок от <b>+7 999</b>", "from": "Петрова Анна", "to": "Смирнов", "tag": "call-1"})),
            note(Method::ShowMessageError, json!({"header": "Ошибка", "text": "Сервер <i>недоступен</i>"})),
            msg("plain old row"),
        ];
        {
            // A v1 file as an old build left it, rows included.
            let mut c = Connection::open(&path).unwrap();
            configure_writer(&c).unwrap();
            migrate(&mut c, 1).unwrap();
            let tx = c.transaction().unwrap();
            for n in &ns {
                let p = Prepared::new(n).unwrap();
                let (data, payload) = v4_data(n);
                tx.execute(
                    "INSERT INTO notifications (id, method, look, tag, date_ms, created_ms, updated_ms, read, data, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, 0, ?6, ?7)",
                    params![p.id, p.method, p.look, p.tag, p.date_ms, data, payload],
                )
                .unwrap();
            }
            tx.execute("UPDATE notifications SET read = 1 WHERE look = 'message'", []).unwrap();
            tx.commit().unwrap();
            assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), 1);
        }
        let err = History::open_readonly(&path).err().unwrap();
        assert!(err.contains("older"), "{err}");

        let h = History::open(&path).unwrap();
        let p = h.list(&Query::default()).unwrap();
        assert_eq!((p.total, p.unread, p.rows.len()), (3, 2, 3));
        assert_eq!(search_ids(&h, "петрова"), vec![ns[0].id.clone()]);
        assert_eq!(search_ids(&h, "недоступ"), vec![ns[1].id.clone()]);
        assert_eq!(search_ids(&h, "999"), vec![ns[0].id.clone()]);
        assert_eq!(h.list(&q(None, Filter::Calls)).unwrap().total, 1);
        // The old row's tag still replaces.
        let s = h.insert(&note(Method::AddCall, json!({"text": "Звонок завершён", "tag": "call-1"}))).unwrap();
        assert_eq!(s.replaced_id.as_deref(), Some(ns[0].id.as_str()));
        assert!(search_ids(&h, "петрова").is_empty());
        assert_eq!(h.list(&Query::default()).unwrap().total, 3);
        drop(h);
        integrity(&path);
        assert!(History::open_readonly(&path).is_ok());
    }

    /// A store filled by the v4 schema (rows of every look, tags, sources,
    /// read and unread, a deleted newest row) is carried to v5: every field of
    /// every row reads back as a store that never was v4 would give it, search,
    /// counts and tags still work, and no seq is reused.
    #[test]
    fn migrates_from_v4_with_rows() {
        let (_d, path) = temp();
        let fresh_dir = tempfile::tempdir().unwrap();
        let link = url::Url::parse("https://a.amocrm.ru").unwrap();
        let ctx = |id: &str| Context { account: Some(&link), now_ms: 1_700_000_000_000, id: id.into() };
        let mut ns = [
            normalize(Method::AddCall, &json!({"text": "Звонок от <b>+7 999</b> &amp; Ёлкин", "from": "Петрова Анна", "to": "Смирнов",
                "duration": 61, "tag": "call-1", "element": {"id": 5, "type": "lead"}, "link": "https://r.example/1.mp3",
                "click_link": "/contacts/1", "unknown": {"k": [1, 2]}}).to_string(), ctx("v4-a")).unwrap(),
            normalize(Method::ShowMessageError, &json!({"header": "Ошибка", "text": "Сервер <i>недоступен</i>", "link": "/leads/2"}).to_string(), ctx("v4-b")).unwrap(),
            normalize(Method::ShowMessage, &json!({"header": "<b>h</b>", "text": "plain old row", "date": 1534084500, "icon": "https://x.org/i.png"}).to_string(), ctx("v4-c")).unwrap(),
            normalize(Method::AddError, &json!({"text": "deleted before the upgrade"}).to_string(), ctx("v4-d")).unwrap(),
        ];
        ns[0].source = "https://a.amocrm.ru".into();
        ns[1].source = "cli".into();
        {
            let mut c = Connection::open(&path).unwrap();
            configure_writer(&c).unwrap();
            migrate(&mut c, 4).unwrap();
            let tx = c.transaction().unwrap();
            for (i, n) in ns.iter().enumerate() {
                let p = Prepared::new(n).unwrap();
                let (data, payload) = v4_data(n);
                tx.execute(
                    "INSERT INTO notifications (id, method, look, tag, date_ms, created_ms, updated_ms, read, data, payload,
                     fts_header, fts_text, fts_from, fts_to, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    params![p.id, p.method, p.look, p.tag, p.date_ms, 1000 + i as i64, 2000 + i as i64, (i == 2) as i64, data, payload,
                            p.fts[0], p.fts[1], p.fts[2], p.fts[3], p.source],
                )
                .unwrap();
            }
            tx.execute("DELETE FROM notifications WHERE id = 'v4-d'", []).unwrap();
            tx.commit().unwrap();
            assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), 4);
        }
        // The same notifications stored by v5 from the start, for comparison.
        let fresh = History::open(&path_in(fresh_dir.path())).unwrap();
        for n in &ns[..3] {
            fresh.insert(n).unwrap();
        }
        fresh.mark_read(&[3]).unwrap();

        let h = History::open(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), SCHEMA_VERSION as i64);
        assert_eq!(c.pragma_query_value(None, "auto_vacuum", |r| r.get::<_, i64>(0)).unwrap(), 2);
        assert_eq!(automerge(&c), 0, "v6: the index merges between writes, not in them");
        let p = h.list(&Query::default()).unwrap();
        assert_eq!((p.total, p.unread, p.rows.len()), (3, 2, 3));
        let want = fresh.list(&Query::default()).unwrap();
        for (i, (got, want)) in p.rows.iter().zip(&want.rows).enumerate() {
            let (mut got, mut want) = (serde_json::to_value(got).unwrap(), serde_json::to_value(want).unwrap());
            let seq = 3 - i as i64;
            assert_eq!((got["seq"].as_i64(), got["created_ms"].as_i64(), got["updated_ms"].as_i64()),
                       (Some(seq), Some(1000 + seq - 1), Some(2000 + seq - 1)));
            for k in ["created_ms", "updated_ms"] {
                got.as_object_mut().unwrap().remove(k);
                want.as_object_mut().unwrap().remove(k);
            }
            assert_eq!(got, want, "row {seq}");
        }
        let a = &p.rows[2];
        assert_eq!((a.source.as_str(), a.tag.as_deref(), a.duration_s), ("https://a.amocrm.ru", Some("call-1"), Some(61)));
        assert_eq!(a.payload["unknown"]["k"], json!([1, 2]));
        assert_eq!(a.click.as_ref().and_then(|l| l.href.as_deref()), Some("https://a.amocrm.ru/contacts/1"));
        assert_eq!(search_ids(&h, "петрова"), vec!["v4-a".to_owned()]);
        assert_eq!(search_ids(&h, "елкин"), vec!["v4-a".to_owned()]);
        assert_eq!(search_ids(&h, "недоступ"), vec!["v4-b".to_owned()]);
        assert_eq!(search_ids(&h, "п"), vec!["v4-a".to_owned()]);
        assert_eq!(search_ids(&h, "p"), vec!["v4-c".to_owned()]);
        assert!(search_ids(&h, "deleted").is_empty());
        assert_eq!(h.list(&q(Some("звонок"), Filter::Calls)).unwrap().total, 1);
        assert_eq!(h.list(&q(None, Filter::Errors)).unwrap().total, 1);
        assert_eq!(h.list(&q(None, Filter::Unread)).unwrap().rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 1]);
        // The tag still replaces within its source; seq 4 (deleted) is not reused.
        let mut again = note(Method::AddCall, json!({"text": "Звонок завершён", "tag": "call-1"}));
        again.source = "https://a.amocrm.ru".into();
        assert_eq!(h.insert(&again).unwrap(), Stored { seq: 1, replaced_id: Some("v4-a".into()) });
        assert_eq!(h.insert(&msg("after the upgrade")).unwrap().seq, 5);
        assert!(search_ids(&h, "петрова").is_empty());
        drop(h);
        integrity(&path);
        assert!(History::open_readonly(&path).is_ok());
    }

    /// Counts as the triggers keep them, against a recount of every row.
    fn counts_agree(path: &Path) {
        let c = Connection::open(path).unwrap();
        let kept: Vec<(String, i64, i64)> = c
            .prepare("SELECT look, read, n FROM counts WHERE n != 0 ORDER BY look, read")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let real: Vec<(String, i64, i64)> = c
            .prepare(
                "SELECT look, (read = 1 OR rev <= (SELECT upto FROM read_mark)) AS r, count(*) FROM notifications
                 GROUP BY look, r ORDER BY look, r",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept, real);
    }

    /// Mark all read moves the read mark; single reads, tag rewrites of old
    /// rows and new rows all stay right, counts agree, and all of it
    /// survives closing and reopening the store.
    #[test]
    fn read_mark_and_single_reads_survive_a_restart() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let old: Vec<i64> = (0..30).map(|i| h.insert(&msg(&format!("old {i}"))).unwrap().seq).collect();
        let tagged = h.insert(&note(Method::AddCall, json!({"text": "first", "tag": "t-1"}))).unwrap().seq;
        assert_eq!(h.mark_read(&old[..3]).unwrap(), 3);
        assert_eq!(h.mark_all_read().unwrap(), 28);
        assert_eq!(h.unread_count().unwrap(), 0);
        assert_eq!(h.mark_all_read().unwrap(), 0);
        assert_eq!(h.mark_read(&[old[5]]).unwrap(), 0, "already read by the mark");
        counts_agree(&path);
        let new: Vec<i64> = (0..12).map(|i| h.insert(&msg(&format!("new {i}"))).unwrap().seq).collect();
        // A tag rewrite makes an old row unread again, in its place.
        assert_eq!(h.insert(&note(Method::AddCall, json!({"text": "second", "tag": "t-1"}))).unwrap().seq, tagged);
        assert_eq!(h.mark_read(&[new[0]]).unwrap(), 1);
        assert_eq!(h.unread_count().unwrap(), 12);
        counts_agree(&path);
        let check = |h: &History| {
            // Both unread plans (UNREAD_SCAN_MAX is 10 in tests): 12 unread rows, then 9.
            let unread: Vec<i64> = h.list(&Query { limit: 100, ..q(None, Filter::Unread) }).unwrap().rows.iter().map(|r| r.seq).collect();
            let mut want: Vec<i64> = new[1..].iter().copied().chain([tagged]).collect();
            want.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(unread, want);
            let all = h.list(&Query { limit: 100, ..Query::default() }).unwrap();
            assert_eq!((all.total, all.unread), (43, 12));
            for r in &all.rows {
                assert_eq!(r.read, !want.contains(&r.seq), "seq {}", r.seq);
            }
            assert_eq!(h.list(&q(Some("new"), Filter::Unread)).unwrap().total, 11);
            assert_eq!(h.list(&q(Some("second"), Filter::Unread)).unwrap().total, 1);
            assert_eq!(h.list(&q(Some("old"), Filter::Unread)).unwrap().total, 0);
        };
        check(&h);
        drop(h);
        let h = History::open(&path).unwrap();
        check(&h);
        assert_eq!(h.mark_read(&[new[1], new[2], new[3]]).unwrap(), 3);
        check_few(&h, 9);
        drop(h);
        let h = History::open(&path).unwrap();
        check_few(&h, 9);
        assert_eq!(h.mark_all_read().unwrap(), 9);
        drop(h);
        let h = History::open(&path).unwrap();
        assert_eq!(h.unread_count().unwrap(), 0);
        assert!(h.list(&q(None, Filter::Unread)).unwrap().rows.is_empty());
        assert!(h.list(&Query { limit: 100, ..Query::default() }).unwrap().rows.iter().all(|r| r.read));
        counts_agree(&path);
        drop(h);
        integrity(&path);
    }

    fn check_few(h: &History, n: u64) {
        let p = h.list(&Query { limit: 100, ..q(None, Filter::Unread) }).unwrap();
        assert_eq!((p.total, p.unread, p.rows.len() as u64), (n, n, n));
        assert!(p.rows.iter().all(|r| !r.read));
    }

    fn automerge(c: &Connection) -> i64 {
        c.query_row("SELECT v FROM notifications_fts_config WHERE k = 'automerge'", [], |r| r.get(0)).unwrap()
    }

    /// Search-index segments: FTS5 keys a segment's pages by its id shifted
    /// past page number, height and flag bits (rowids below that are the
    /// index's own records).
    fn segments(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT count(DISTINCT id >> 37) FROM notifications_fts_data WHERE id >= 1 << 37", [], |r| r.get(0))
            .unwrap()
    }

    /// Each single insert writes a segment; no commit merges them (automerge
    /// is off), the writer does between requests, and search still finds
    /// every row.
    #[test]
    fn the_search_index_is_merged_between_writes() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        assert_eq!(automerge(&Connection::open(&path).unwrap()), 0);
        for i in 0..40 {
            h.insert(&msg(&format!("слово{i} common"))).unwrap();
        }
        h.maintain().unwrap();
        // Unmerged, 40 segments would be 8 at level 0 and 2 at level 1 (each 16
        // merged in a write); merged in fours, at most 3 wait at each level.
        let n = segments(&path);
        assert!((1..=6).contains(&n), "{n} segments after 40 single inserts");
        assert_eq!(h.maintain().unwrap().merge_steps, 0, "nothing left to merge");
        assert_eq!(h.list(&q(Some("common"), Filter::All)).unwrap().total, 40);
        assert_eq!(search_ids(&h, "слово17").len(), 1);
        drop(h);
        integrity(&path);
    }

    /// Rows older than the limit go (with their search entries), newer and
    /// rewritten ones stay, counts follow, and the file shrinks.
    #[test]
    fn waits_for_idle_work_are_told_apart_by_kind() {
        let mut w = IdleWaits::default();
        let ms = Duration::from_millis;
        w.record(ms(0), ms(3));
        w.record(ms(12), ms(0));
        w.record(ms(4), ms(1));
        w.record(ms(0), ms(0));
        assert_eq!(
            w,
            IdleWaits { retention_max: Duration::from_millis(12), merge_max: Duration::from_millis(3), waited: 3, over_10ms: 1 }
        );
    }

    #[test]
    fn writes_during_pruning_count_their_hold_up() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let filler = "слово ".repeat(100);
        let batch: Vec<_> = (0..3000).map(|i| msg(&format!("row{i} {filler}"))).collect();
        let last = h.insert_batch(&batch).unwrap().last().unwrap().seq;
        let old = now_ms() - 200 * 86_400_000;
        h.write(Op::Exec(format!("UPDATE notifications SET created_ms = {old}, updated_ms = {old} WHERE seq <= {last}")))
            .map(|_| ())
            .unwrap();
        h.maintain().unwrap();
        h.take_idle_waits();
        h.set_retention(Retention { keep_days: 180, keep_rows: 0 }).unwrap();
        // Writes keep arriving while the writer prunes between them.
        let t = std::time::Instant::now();
        let mut i = 0;
        while h.stats().unwrap().rows > i {
            assert!(t.elapsed() < Duration::from_secs(30), "idle pruning did not happen");
            h.insert(&msg(&format!("new{i}"))).unwrap();
            i += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        let waits = h.take_idle_waits();
        assert!(waits.waited > 0 && waits.retention_max > Duration::ZERO, "no write waited for pruning: {waits:?}");
        assert!(waits.retention_max < Duration::from_secs(2), "{waits:?}");
        assert_eq!(h.take_idle_waits().waited, 0, "taking the figures resets them");
    }

    #[test]
    fn retention_prunes_old_rows_and_the_file_shrinks() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let filler = "слово ".repeat(300);
        let batch: Vec<_> = (0..400).map(|i| msg(&format!("row{i} {filler} {i}"))).collect();
        let seqs: Vec<i64> = h.insert_batch(&batch).unwrap().into_iter().map(|s| s.seq).collect();
        let tagged = h.insert(&note(Method::AddCall, json!({"text": "old call", "tag": "kept"}))).unwrap().seq;
        h.mark_read(&seqs[..10]).unwrap();
        let day = 86_400_000i64;
        let now = now_ms();
        // 300 rows (and the tagged one) stored 200 days ago; the tagged one rewritten today.
        h.write(Op::Exec(format!(
            "UPDATE notifications SET created_ms = {c}, updated_ms = {c} WHERE seq <= {last};
             UPDATE notifications SET created_ms = {c}, updated_ms = {u} WHERE seq = {tagged};",
            c = now - 200 * day,
            u = now,
            last = seqs[299]
        )))
        .map(|_| ())
        .unwrap();
        h.maintain().unwrap();
        let before = store_bytes(&path);
        assert_eq!(h.maintain().unwrap(), Maintained::default(), "nothing to do without a retention");
        h.set_retention(Retention { keep_days: 180, keep_rows: 0 }).unwrap();
        // The writer starts on its own when idle; maintain() finishes the job.
        let done = h.maintain().unwrap();
        assert!(done.pruned <= 300, "{done:?}");
        let p = h.list(&Query { limit: 500, ..Query::default() }).unwrap();
        assert_eq!((p.total, p.unread, p.rows.len()), (101, 101, 101));
        assert!(p.rows.iter().all(|r| r.seq > seqs[299] || r.seq == tagged));
        assert!(search_ids(&h, "row5").is_empty() && search_ids(&h, "row299").is_empty());
        assert_eq!(search_ids(&h, "row300").len(), 1);
        assert_eq!(h.list(&q(Some("слово"), Filter::All)).unwrap().total, 100);
        counts_agree(&path);
        let after = store_bytes(&path);
        // The rows' pages come back; the search index keeps the deleted rows'
        // entries (hidden by tombstones) until its segments merge (deletemerge=0).
        assert!(after < before, "the file did not shrink: {before} -> {after} bytes");
        let st = h.stats().unwrap();
        assert_eq!((st.rows, st.keep_days, st.bytes), (101, 180, after));
        // A row limit: the oldest go first, whatever their age; the writer
        // does it on its own when idle.
        h.set_retention(Retention { keep_days: 180, keep_rows: 40 }).unwrap();
        let t = std::time::Instant::now();
        while h.stats().unwrap().rows > 40 {
            assert!(t.elapsed() < Duration::from_secs(20), "idle pruning did not happen");
            std::thread::sleep(Duration::from_millis(20));
        }
        let p = h.list(&Query { limit: 500, ..Query::default() }).unwrap();
        assert_eq!(p.rows.len(), 40);
        assert_eq!(p.rows.last().unwrap().seq, seqs[361]);
        counts_agree(&path);
        drop(h);
        integrity(&path);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let (_d, path) = temp();
        drop(History::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(History::open(&path).err().unwrap().contains("newer"));
        assert!(History::open_readonly(&path).err().unwrap().contains("newer"));
        assert!(History::open_readonly(&path.with_extension("missing")).err().unwrap().contains("no history"));
    }

    #[test]
    fn search_cyrillic_case_prefix_and_html() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let a = h.insert(&note(Method::AddCall, json!({"text": "Звонок от +7(999)888 55 33", "from": "Петрова Анна", "to": "Смирнов Алексей"}))).unwrap();
        let b = h.insert(&note(Method::ShowMessage, json!({"header": "<b>Внимание</b>", "text": "<p>Соединение</p><p>установлено</p> &amp; Ёлка <a href=\"https://x.org/?a=1&b=2\">ссылка</a>"}))).unwrap();
        let c = h.insert(&msg("Café crème, <b>Пет</b>рович")).unwrap();
        let ids = |s: &str| -> Vec<i64> { h.list(&q(Some(s), Filter::All)).unwrap().rows.iter().map(|r| r.seq).collect() };
        assert_eq!(ids("петрова"), vec![a.seq]);
        assert_eq!(ids("ПЕТРОВА анна"), vec![a.seq]);
        assert_eq!(ids("петр"), vec![c.seq, a.seq]); // prefix; newest first
        assert_eq!(ids("смирнов"), vec![a.seq]); // `to`
        assert_eq!(ids("888"), vec![a.seq]);
        assert_eq!(ids("+7(999)888"), vec![a.seq]); // phrase of 7 999 888
        assert_eq!(ids("внимание"), vec![b.seq]); // header with tags stripped
        assert_eq!(ids("соединение установлено"), vec![b.seq]);
        assert_eq!(ids("елка"), vec![b.seq]); // ё folds to е
        assert_eq!(ids("ЁЛК"), vec![b.seq]);
        assert_eq!(ids("cafe creme"), vec![c.seq]); // diacritics removed
        assert_eq!(ids("петрович"), vec![c.seq]); // inline tags do not split words
        assert!(ids("https").is_empty()); // attributes are not text
        assert!(ids("b").is_empty()); // nor tag names
        assert!(ids("call").is_empty() && ids("message").is_empty()); // nor the indexed look
        assert!(ids("петрова смирнова").is_empty()); // every word required
        let p = h.list(&q(Some("петр"), Filter::All)).unwrap();
        assert_eq!((p.total, p.total_exact), (2, true));
    }

    /// A prefix of three or more letters asked as whole terms finds exactly
    /// what the prefix match finds.
    #[test]
    fn prefix_expansion_finds_what_the_prefix_finds() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let many: String = (0..12).map(|i| format!("абв{i} ")).collect();
        for t in [
            "Входящий звонок", "звонками", "звонокX", "Петров", "Петрова Анна", "петровна", "йогурт йод", "9330 93312 933",
            many.as_str(), "Café crème", "cafeteria", "Ёлкин", "call", "ab-cd abc", "звонок",
        ] {
            h.insert(&msg(t)).unwrap();
        }
        let c = Connection::open(&path).unwrap();
        let plain = |s: &str| -> Vec<i64> {
            let m = fts_query(s).unwrap();
            c.prepare("SELECT rowid FROM notifications_fts WHERE notifications_fts MATCH ?1 ORDER BY rowid DESC")
                .unwrap()
                .query_map([m], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        for s in ["звонок", "ЗВОН", "звонокx", "петров", "петр", "йог", "йод", "933", "9330", "абв", "абв1", "caf", "cafe",
                  "елк", "ёлк", "cal", "abc", "ab-cd", "звонок петров", "нет"] {
            let got: Vec<i64> = h.list(&q(Some(s), Filter::All)).unwrap().rows.iter().map(|r| r.seq).collect();
            assert_eq!(got, plain(s), "{s:?}");
        }
        let expanded = h.reader().pool.with(|c| Ok(fts_query_with("звонок", |w| expand_prefix(c, w).unwrap()))).unwrap();
        assert_eq!(expanded.as_deref(), Some("{fts_header fts_text fts_from fts_to} : ((\"звонок\" OR \"звонокx\"))"));
        let kept = h.reader().pool.with(|c| Ok(fts_query_with("абв", |w| expand_prefix(c, w).unwrap()))).unwrap();
        assert_eq!(kept.as_deref(), Some("{fts_header fts_text fts_from fts_to} : (\"абв\"*)"), "more than 8 terms stay a prefix");
        drop(h);
        integrity(&path);
    }

    #[test]
    fn hostile_search_text_never_errors() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        h.insert(&msg("NEAR quote \"x\" star* minus-sign AND OR NOT")).unwrap();
        for s in [
            "", " ", "\"", "\"\"", "\"abc", "*", "**", "a*", "*a", "NEAR(", "NEAR(a b", "NEAR", "-", "-a", "a -b", "AND",
            "OR", "NOT", "a OR", "(", ")", "a:b", "fts_text:x", "{a b}", "^a", "a + b", "'", "\\", "\u{0301}", "\u{0}",
            "a\"b", "'; DROP TABLE notifications; --", "*NEAR(\"", "ё*", "%", "_", "0\u{0}", "a\u{0}b",
        ] {
            for f in [Filter::All, Filter::Unread] {
                let p = h.list(&Query { search: Some(s.into()), filter: f, before_seq: Some(i64::MAX), after_seq: None, limit: 10 });
                assert!(p.is_ok(), "{s:?}: {p:?}");
            }
        }
        // Empty or punctuation-only search is no search.
        assert_eq!(h.list(&q(Some(" * - "), Filter::All)).unwrap().rows.len(), 1);
        // Operators are words.
        assert_eq!(h.list(&q(Some("NEAR"), Filter::All)).unwrap().rows.len(), 1);
        assert_eq!(h.list(&q(Some("minus-sign"), Filter::All)).unwrap().rows.len(), 1);
        assert_eq!(h.list(&q(Some("\"x\""), Filter::All)).unwrap().rows.len(), 1);
        assert_eq!(
            fts_query("a\"b NEAR( *"),
            Some("{fts_header fts_text fts_from fts_to} : (\"a\"\"b\"* \"NEAR(\"*)".into())
        );
        assert_eq!(fts_query("a\u{0}b"), Some("{fts_header fts_text fts_from fts_to} : (\"a\"* \"b\"*)".into()));
        drop(h);
        integrity(&path);
    }

    #[test]
    fn nul_inside_a_search_word() {
        // Found by the fuzzer (fuzz/ fts_query): "t\0" became the query
        // `"t\0"*`, which FTS5 refused ("unterminated string"), so the search
        // failed instead of finding anything.
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        h.insert(&msg("tea time")).unwrap();
        assert_eq!(fts_query("t\0"), fts_query("t"));
        assert_eq!(fts_query("tea\0time"), fts_query("tea time"));
        for s in ["t\0", "\0t", "tea\0time", "a\0\"b\0"] {
            for f in [Filter::All, Filter::Calls, Filter::Errors, Filter::Unread] {
                let p = h.list(&Query { search: Some(s.into()), filter: f, before_seq: None, after_seq: None, limit: 10 });
                assert!(p.is_ok(), "{s:?} {f:?}: {p:?}");
            }
        }
        assert_eq!(h.list(&q(Some("tea\0time"), Filter::All)).unwrap().rows.len(), 1);
    }

    #[test]
    fn filters_paging_and_read_state() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let mut seqs = Vec::new();
        for i in 0..25 {
            let n = match i % 3 {
                0 => note(Method::AddCall, json!({"text": format!("call {i}")})),
                1 => note(Method::AddError, json!({"text": format!("error {i}")})),
                _ => msg(&format!("message {i}")),
            };
            seqs.push(h.insert(&n).unwrap().seq);
        }
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(h.unread_count().unwrap(), 25);

        // Keyset paging walks everything newest first, with no overlap.
        for (filter, expect) in [(Filter::All, 25), (Filter::Calls, 9), (Filter::Errors, 8)] {
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let p = h.list(&Query { search: None, filter, before_seq: before, after_seq: None, limit: 4 }).unwrap();
                assert_eq!((p.total, p.unread), (expect, 25));
                seen.extend(p.rows.iter().map(|r| r.seq));
                match p.next_before_seq {
                    Some(s) => before = Some(s),
                    None => break,
                }
            }
            assert_eq!(seen.len() as u64, expect, "{filter:?}");
            assert!(seen.windows(2).all(|w| w[0] > w[1]));
        }
        let calls = h.list(&q(None, Filter::Calls)).unwrap();
        assert!(calls.rows.iter().all(|r| r.look == "call" && r.method == "add_call"));
        assert!(h.list(&q(None, Filter::Errors)).unwrap().rows.iter().all(|r| r.look == "error"));
        // Filter and search together, paged.
        let p = h.list(&Query { search: Some("call".into()), filter: Filter::Calls, before_seq: None, after_seq: None, limit: 5 }).unwrap();
        assert_eq!((p.rows.len(), p.total, p.next_before_seq), (5, 9, Some(p.rows[4].seq)));
        let p2 = h.list(&Query { search: Some("call".into()), filter: Filter::Calls, before_seq: p.next_before_seq, after_seq: None, limit: 5 }).unwrap();
        assert_eq!((p2.rows.len(), p2.next_before_seq), (4, None));
        assert!(h.list(&q(Some("call"), Filter::Errors)).unwrap().rows.is_empty());

        // Read state.
        assert_eq!(h.mark_read(&[seqs[0], seqs[1], seqs[1], 999_999]).unwrap(), 2);
        assert_eq!(h.mark_read(&[seqs[0]]).unwrap(), 0);
        assert_eq!(h.unread_count().unwrap(), 23);
        let unread = h.list(&Query { limit: 100, ..q(None, Filter::Unread) }).unwrap();
        assert_eq!((unread.total, unread.rows.len()), (23, 23));
        assert!(unread.rows.iter().all(|r| !r.read && r.seq != seqs[0] && r.seq != seqs[1]));
        let all = h.list(&Query { limit: 100, ..Query::default() }).unwrap();
        assert_eq!(all.rows.iter().filter(|r| r.read).count(), 2);
        assert_eq!(h.list(&q(Some("call"), Filter::Unread)).unwrap().total, 8);
        assert_eq!(h.mark_all_read().unwrap(), 23);
        assert_eq!(h.mark_all_read().unwrap(), 0);
        assert_eq!(h.unread_count().unwrap(), 0);
        assert_eq!(h.list(&q(None, Filter::Unread)).unwrap().rows.len(), 0);
        assert_eq!(h.list(&Query::default()).unwrap().total, 25);
        // Search among few unread rows (the other plan, below UNREAD_SCAN_MAX).
        let fresh = h.insert(&note(Method::AddCall, json!({"text": "call fresh"}))).unwrap();
        h.insert(&msg("message fresh")).unwrap();
        let p = h.list(&q(Some("call"), Filter::Unread)).unwrap();
        assert_eq!((p.total, p.rows.len(), p.rows[0].seq), (1, 1, fresh.seq));
        assert_eq!(h.list(&q(Some("fresh"), Filter::Unread)).unwrap().total, 2);
        assert_eq!(h.list(&q(Some("fresh"), Filter::Calls)).unwrap().total, 1);
        assert_eq!(h.list(&Query { before_seq: Some(fresh.seq), ..q(Some("fresh"), Filter::Unread) }).unwrap().total, 2);
        assert!(h.list(&Query { before_seq: Some(fresh.seq), ..q(Some("fresh"), Filter::Unread) }).unwrap().rows.is_empty());
        // Limit is clamped.
        assert_eq!(h.list(&Query { limit: 0, ..Query::default() }).unwrap().rows.len(), 1);
        drop(h);
        integrity(&path);
    }

    #[test]
    fn row_keeps_fields_and_raw_payload() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let n = normalize(
            Method::AddCall,
            &json!({"text": "Звонок", "date": 1534084500, "from": "Петрова", "to": "Смирнов", "duration": 250,
                    "element": {"id": 5, "type": "lead", "extra": [1]}, "link": "https://example.com/d.mp3",
                    "click_link": "/contacts/1", "unknown": {"k": true}})
            .to_string(),
            Context { account: Some(&url::Url::parse("https://a.amocrm.ru").unwrap()), now_ms: 1, id: "raw-1".into() },
        )
        .unwrap();
        h.insert(&n).unwrap();
        let r = h.list(&Query::default()).unwrap().rows.remove(0);
        assert_eq!((r.id.as_str(), r.method.as_str(), r.look.as_str()), ("raw-1", "add_call", "call"));
        assert_eq!((r.text.as_deref(), r.header), (Some("Звонок"), None));
        assert_eq!((r.from.as_deref(), r.to.as_deref(), r.duration_s), (Some("Петрова"), Some("Смирнов"), Some(250)));
        assert_eq!(r.date_ms, 1_534_084_500_000);
        assert!(!r.read && r.created_ms > 0 && r.created_ms == r.updated_ms);
        assert_eq!(r.payload, n.payload);
        assert_eq!(r.payload["unknown"]["k"], true);
        assert_eq!((r.click, r.card, r.recording), (n.click.clone(), n.card.clone(), n.recording.clone()));
        assert_eq!(n.click.unwrap().href.as_deref(), Some("https://a.amocrm.ru/contacts/1"));
        let got = h.get(r.seq).unwrap().unwrap();
        assert_eq!((got.id.as_str(), &got.payload), ("raw-1", &n.payload));
        assert!(h.get(r.seq + 1).unwrap().is_none());
        // The payload is stored once, not inside the normalised JSON too, and
        // the body is compressed: the raw text is not in the file as such.
        let c = Connection::open(&path).unwrap();
        let body: Vec<u8> = c.query_row("SELECT body FROM notifications", [], |r| r.get(0)).unwrap();
        let (data, payload) = unpack_body(&body);
        assert!(data.get("unknown").is_none() && data.get("warnings").is_some() && data.get("id").is_none());
        assert_eq!(payload, n.payload);
        assert!(!String::from_utf8_lossy(&body).contains("Петрова"));
        // Row serialises for the UI.
        let v = serde_json::to_value(h.list(&Query::default()).unwrap()).unwrap();
        assert_eq!(v["rows"][0]["payload"]["unknown"]["k"], true);
        let back: Query = serde_json::from_value(json!({"filter": "calls", "search": "x"})).unwrap();
        assert_eq!((back.filter, back.limit), (Filter::Calls, 50));
    }

    #[cfg(unix)]
    #[test]
    fn its_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        h.insert(&msg("a caller's number")).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let f = PathBuf::from(format!("{}{suffix}", path.display()));
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }

    #[test]
    fn tag_replaces_in_place() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let first = note(Method::AddCall, json!({"text": "Входящий звонок", "from": "Петрова", "tag": "call-42"}));
        let a = h.insert(&first).unwrap();
        assert_eq!(a.replaced_id, None);
        let other = h.insert(&msg("between")).unwrap();
        h.mark_read(&[a.seq]).unwrap();
        let second = note(Method::AddCall, json!({"text": "Звонок завершён", "from": "Сидоров", "tag": "call-42", "duration": 61}));
        let b = h.insert(&second).unwrap();
        assert_eq!(b, Stored { seq: a.seq, replaced_id: Some(first.id.clone()) });
        let p = h.list(&Query::default()).unwrap();
        assert_eq!((p.total, p.unread), (2, 2));
        let r = p.rows.iter().find(|r| r.seq == a.seq).unwrap();
        assert_eq!((r.id.as_str(), r.text.as_deref(), r.read, r.duration_s), (second.id.as_str(), Some("Звонок завершён"), false, Some(61)));
        assert!(r.updated_ms >= r.created_ms);
        assert_eq!(p.rows[0].seq, other.seq); // the row keeps its place
        // The index follows the new content.
        assert!(search_ids(&h, "петрова").is_empty());
        assert_eq!(search_ids(&h, "сидоров"), vec![second.id.clone()]);
        // Same tag twice in one batch (one transaction): still one row.
        let batch = h
            .insert_batch(&[
                note(Method::AddCall, json!({"text": "t1", "tag": "call-7"})),
                note(Method::AddCall, json!({"text": "t2", "tag": "call-7"})),
            ])
            .unwrap();
        assert_eq!(batch[0].seq, batch[1].seq);
        assert!(batch[1].replaced_id.is_some());
        assert_eq!(h.list(&Query::default()).unwrap().total, 3);
        drop(h);
        integrity(&path);
    }

    /// A tag belongs to its source: another page reusing it (a phone number,
    /// say) adds a row of its own and leaves the first source's row alone.
    #[test]
    fn a_tag_is_scoped_to_its_source() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let from = |source: &str, text: &str| Notification {
            source: source.into(),
            ..note(Method::AddCall, json!({"text": text, "from": "+7 999 123", "tag": "+79991234567"}))
        };
        let crm = h.insert(&from("https://a.amocrm.ru", "Входящий от Петровой")).unwrap();
        let evil = h.insert(&from("https://evil.example", "Звонок завершён")).unwrap();
        assert_ne!(evil.seq, crm.seq);
        assert_eq!(evil.replaced_id, None);
        let again = h.insert(&from("https://a.amocrm.ru", "Разговор 1:01")).unwrap();
        assert_eq!(again.seq, crm.seq, "the same source still replaces its own row");
        let rows = h.list(&Query::default()).unwrap().rows;
        assert_eq!(rows.len(), 2);
        let mine = rows.iter().find(|r| r.seq == crm.seq).unwrap();
        assert_eq!((mine.source.as_str(), mine.text.as_deref()), ("https://a.amocrm.ru", Some("Разговор 1:01")));
        let theirs = rows.iter().find(|r| r.seq == evil.seq).unwrap();
        assert_eq!((theirs.source.as_str(), theirs.text.as_deref()), ("https://evil.example", Some("Звонок завершён")));
        drop(h);
        integrity(&path);
    }

    #[test]
    fn concurrent_inserts_commit_in_groups() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        h.insert(&msg(&format!("thread {t} row {i}"))).unwrap();
                    }
                })
            })
            .collect();
        // Reads run while the writer works.
        for _ in 0..20 {
            h.list(&q(Some("thread"), Filter::All)).unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        let p = h.list(&Query::default()).unwrap();
        assert_eq!((p.total, p.unread), (1600, 1600));
        let commits = h.commits();
        assert!(commits < 1600, "commits = {commits}");
        eprintln!("8 threads x 200 inserts: {commits} commits");
        let seqs: HashSet<i64> = Connection::open(&path)
            .unwrap()
            .prepare("SELECT seq FROM notifications")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(seqs.len(), 1600);
        drop(h);
        integrity(&path);
    }

    #[test]
    fn write_failure_is_an_error_and_the_writer_recovers() {
        let (_d, path) = temp();
        let h = History::open(&path).unwrap();
        let before = h.insert(&msg("before the disk fills")).unwrap();
        // Disk full: the file may not grow past its current size.
        let pages: i64 = Connection::open(&path).unwrap().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        h.write(Op::Exec(format!("PRAGMA max_page_count = {pages}"))).map(|_| ()).unwrap();
        let big = "x".repeat(60_000);
        let mut failed = None;
        for _ in 0..10 {
            if let Err(e) = h.insert(&msg(&big)) {
                failed = Some(e);
                break;
            }
        }
        let e = failed.expect("an insert must fail once the file cannot grow");
        assert!(e.starts_with("history: ") && e.contains("full"), "{e}");
        // Other callers in later groups are unaffected once space is back.
        h.write(Op::Exec("PRAGMA max_page_count = 1073741823".into())).map(|_| ()).unwrap();
        let after = h.insert(&msg("after")).unwrap();
        assert!(after.seq > before.seq);
        assert!(h.list(&q(Some("before"), Filter::All)).unwrap().rows.len() == 1);
        // A failing request fails alone within its group.
        h.write(Op::Exec("CREATE TRIGGER refuse BEFORE INSERT ON notifications WHEN new.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END;".into()))
            .map(|_| ())
            .unwrap();
        let bad = normalize(Method::ShowMessage, r#"{"text":"bad"}"#, Context { account: None, now_ms: 1, id: "bad".into() }).unwrap();
        let e = h.insert(&bad).unwrap_err();
        assert!(e.contains("refused"), "{e}");
        h.insert(&msg("fine")).unwrap();
        drop(h);
        integrity(&path);
    }

    const CRASH_ENV: &str = "KOLOKOL_HISTORY_CRASH_DB";
    const CRASH_CHILD: &str = "channels::history::tests::crash_child";

    /// Child half of `acknowledged_rows_survive_sigkill`: inserts from a few
    /// threads forever, printing each id once `insert` has returned.
    #[test]
    fn crash_child() {
        let Some(path) = std::env::var_os(CRASH_ENV) else { return };
        let h = History::open(Path::new(&path)).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    // Bounded, in case the parent died without killing us.
                    for i in 0..20_000 {
                        let n = note(Method::AddCall, json!({"text": format!("crash {t} {i}"), "from": "Петрова"}));
                        h.insert(&n).unwrap();
                        println!("ACK {}", n.id);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn acknowledged_rows_survive_sigkill() {
        let (_d, path) = temp();
        let exe = std::env::current_exe().unwrap();
        let mut acked_total = 0;
        for round in 0..25 {
            let mut child = Command::new(&exe)
                .args(["--exact", CRASH_CHILD, "--nocapture", "--test-threads", "1"])
                .env(CRASH_ENV, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let want = 3 + (round * 37) % 120;
            let mut acked = Vec::new();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            while acked.len() < want {
                match lines.next() {
                    Some(Ok(l)) => {
                        if let Some(id) = l.strip_prefix("ACK ") {
                            acked.push(id.to_owned());
                        }
                    }
                    _ => break,
                }
            }
            // SIGKILL: no destructors, no clean close. Wine fails to kill a
            // child that is already exiting (ERROR_INTERNAL_ERROR); it is gone all the same.
            if let Err(e) = child.kill() {
                let gone = (0..100).any(|_| {
                    std::thread::sleep(Duration::from_millis(20));
                    child.try_wait().is_ok_and(|s| s.is_some())
                });
                assert!(gone, "cannot kill the writer: {e}");
            }
            child.wait().unwrap();
            assert_eq!(acked.len(), want, "round {round}: the child stopped early");

            integrity(&path);
            let h = History::open(&path).unwrap();
            let c = Connection::open(&path).unwrap();
            let ids: HashSet<String> = c
                .prepare("SELECT id FROM notifications")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for id in &acked {
                assert!(ids.contains(id), "round {round}: acknowledged {id} is missing");
            }
            assert!(h.list(&q(Some("петрова"), Filter::All)).unwrap().total > 0);
            acked_total += acked.len();
        }
        eprintln!("25 SIGKILL rounds, {acked_total} acknowledged rows all present");
    }
}

/// Property test: whatever is typed into the search box, the real store
/// answers it; fts_query never builds a query FTS5 rejects.
#[cfg(test)]
mod props {
    use super::*;
    use crate::core::api::{normalize, Context, Method};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::json;

    /// FTS5 query syntax and what trips it: operators, quotes, column
    /// filters, prefix and initial-token marks, parentheses, NUL, ё.
    const SYNTAX: &[&str] = &[
        "AND", "OR", "NOT", "NEAR", "NEAR(", "NEAR(a b, 2)", "and", "\"", "\"\"", "'", "*", "^", ":", "(", ")", "{", "}",
        "+", "-", ",", ".", "\u{0}", "a\u{0}b", "\u{0}\"", "fts_text:", "look:", "look : \"call\"", "{fts_from}:", "rank",
        "ё", "Ёлка", "звонок", "Петрова", "+7(999)", "a*b", "\"a\"*", "x:y", "\u{301}", "\u{200b}", "\u{a0}", "\u{3000}",
        "\u{feff}", "😀", "①", "ǅ",
    ];

    fn search() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => proptest::sample::select(SYNTAX).prop_map(str::to_owned),
            1 => any::<String>(),
            1 => "[a-zа-я0-9]{1,6}",
        ];
        let gap = proptest::sample::select(vec!["", " ", "  ", "\t", "\n", "\u{a0}", "\u{3000}"]);
        prop_oneof![
            4 => proptest::collection::vec((piece, gap), 0..10)
                .prop_map(|v| v.into_iter().map(|(p, g)| format!("{p}{g}")).collect::<String>()),
            1 => any::<String>(),
        ]
    }

    fn filter() -> impl Strategy<Value = Filter> {
        proptest::sample::select(vec![Filter::All, Filter::Calls, Filter::Errors, Filter::Unread])
    }

    /// A store with rows of every look, some read; `unread` decides which
    /// of the two unread-search plans runs (UNREAD_SCAN_MAX is 10 in tests).
    fn store(dir: &Path, unread: usize) -> History {
        let h = History::open(&path_in(dir)).unwrap();
        for i in 0..unread + 3 {
            let (m, v) = match i % 3 {
                0 => (Method::AddCall, json!({"text": format!("Звонок от <b>Петрова</b> {i}"), "from": "+7(999)888", "to": "Ёлкин"})),
                1 => (Method::AddError, json!({"header": "Ошибка", "text": format!("NEAR AND \"quoted\" {i}")})),
                _ => (Method::ShowMessage, json!({"header": "h", "text": format!("a*b x:y {i}")})),
            };
            let n = normalize(m, &v.to_string(), Context { account: None, now_ms: 1_700_000_000_000, id: format!("p{i}") }).unwrap();
            h.insert(&n).unwrap();
        }
        h.mark_read(&[1, 2, 3]).unwrap();
        h
    }

    #[test]
    fn every_search_is_answered() {
        let dir = tempfile::tempdir().unwrap();
        let (few, many) = (dir.path().join("few"), dir.path().join("many"));
        std::fs::create_dir_all(&few).unwrap();
        std::fs::create_dir_all(&many).unwrap();
        let stores = [store(&few, 5), store(&many, 15)];
        let mut runner = TestRunner::new(Config { cases: 500, failure_persistence: None, ..Config::default() });
        runner
            .run(&(search(), filter()), |(s, filter)| {
                let query = fts_query(&s);
                let has_word = s.split(|c: char| c.is_whitespace() || c == '\0').any(|w| w.chars().any(char::is_alphanumeric));
                prop_assert_eq!(query.is_some(), has_word, "{:?} -> {:?}", s, query);
                for h in &stores {
                    let q = Query { search: Some(s.clone()), filter, before_seq: None, after_seq: None, limit: 5 };
                    let page = h.list(&q).map_err(|e| TestCaseError::fail(format!("{s:?} ({filter:?}) -> {query:?}: {e}")))?;
                    prop_assert!(page.total >= page.rows.len() as u64);
                }
                Ok(())
            })
            .unwrap();
    }
}

