//! History store benchmark (cargo bench --bench history), on a real file with
//! synchronous=FULL:
//! - one insert → committed: median / p99;
//! - a burst of 10,000 inserts from 8 threads: rows, commits, wall time;
//! - fill to 1,000,000 rows, then: mark all read (and the unread count right
//!   after), the store size (db + WAL after a checkpoint), search latency over
//!   200 queries (one- and two-letter prefixes, a word in half the rows), first
//!   page of `list` per filter, a deep keyset page;
//! - retention: 100,000 rows made 200 days old, pruned (keep 180 days) while
//!   one insert every 2 ms measures how long a write waits; space handed back.
//!
//! The fill uses `History::insert_batch` (1,000 rows per request, one commit
//! each) from 2 threads: the same writer, SQL, triggers and FTS indexing as
//! `insert`, only fewer fsyncs.

mod support;

use support::summary;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kolokol_lib::core::api::{normalize, Context, Method, Notification};
use kolokol_lib::channels::history::{store_bytes, Filter, History, IdleWaits, Query, Retention};

/// 1,000,000; KOLOKOL_BENCH_ROWS sets another size for a quick trial.
fn fill_to() -> usize {
    std::env::var("KOLOKOL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}
const BATCH: usize = 1_000;
const FILL_THREADS: usize = 2;

const FIRST: &[&str] = &[
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Светлана", "Татьяна", "Юлия", "Алексей", "Дмитрий",
    "Сергей", "Андрей", "Михаил", "Иван", "Николай", "Павел", "Артём", "Ivan", "John", "Maria", "Peter",
];
const LAST: &[&str] = &[
    "Петрова", "Иванова", "Смирнова", "Кузнецова", "Попова", "Соколова", "Лебедева", "Козлова", "Новикова",
    "Морозова", "Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
    "Морозов", "Волков", "Фёдоров", "Smith", "Müller", "García",
];
const WORDS: &[&str] = &[
    "сделка", "оплата", "счёт", "договор", "встреча", "задача", "клиент", "заказ", "доставка", "возврат",
    "скидка", "презентация", "отгрузка", "претензия", "поставка", "invoice", "meeting", "contract", "order",
    "сервер", "интеграция", "токен", "webhook", "таймаут", "лимит",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn phone(&mut self) -> String {
        format!("+7 9{:02} {:03}-{:02}-{:02}", self.next() % 100, self.next() % 1000, self.next() % 100, self.next() % 100)
    }
}

fn make(rng: &mut Rng, i: usize) -> Notification {
    let name = |r: &mut Rng| format!("{} {}", r.pick(LAST), r.pick(FIRST));
    let (method, v) = match rng.next() % 10 {
        0..=4 => (
            Method::AddCall,
            serde_json::json!({
                "text": format!("{} звонок {}", if rng.next() & 1 == 0 { "Входящий" } else { "Исходящий" }, rng.phone()),
                "from": name(rng), "to": name(rng), "duration": rng.next() % 900,
                "element": {"id": rng.next() % 10_000_000, "type": "contact"},
                "link": "https://records.example.com/r.mp3",
            }),
        ),
        5..=6 => (
            Method::AddError,
            serde_json::json!({
                "header": "Ошибка",
                "text": format!("<b>{}</b>: {} {} не выполнена, код {}", rng.pick(WORDS), rng.pick(WORDS), rng.pick(WORDS), rng.next() % 1000),
                "link": "/leads/detail/1",
            }),
        ),
        _ => (
            Method::ShowMessage,
            serde_json::json!({
                "header": format!("{} {}", rng.pick(WORDS), rng.pick(WORDS)),
                "text": format!("<p>{} {}: {} №{}</p>", name(rng), rng.pick(WORDS), rng.pick(WORDS), rng.next() % 100_000),
            }),
        ),
    };
    normalize(method, &v.to_string(), Context { account: None, now_ms: 1_700_000_000_000 + i as i64, id: format!("b-{i}") })
        .expect("generated payload is valid")
}

fn support_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn file_size(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn time_list(h: &History, q: &Query, runs: usize) -> (Vec<f64>, u64, bool, usize) {
    let mut v = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let p = h.list(q).expect("list");
        v.push(ms(t.elapsed()));
        last = Some(p);
    }
    let p = last.unwrap();
    (v, p.total, p.total_exact, p.rows.len())
}

fn main() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.sqlite3");
    let h = History::open(&path).expect("open");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next = 0usize;

    // 1. One insert at a time, each waiting for its fsync.
    let mut lat = Vec::new();
    for _ in 0..300 {
        let n = make(&mut rng, next);
        next += 1;
        let t = Instant::now();
        h.insert(&n).expect("insert");
        lat.push(ms(t.elapsed()));
    }
    summary("single insert -> committed (sync=FULL)", lat);

    // 2. Burst: 8 threads x 1,250 single inserts.
    let c0 = h.commits();
    let ns: Vec<Vec<Notification>> = (0..8)
        .map(|_| {
            (0..1250)
                .map(|_| {
                    next += 1;
                    make(&mut rng, next)
                })
                .collect()
        })
        .collect();
    let t = Instant::now();
    let threads: Vec<_> = ns
        .into_iter()
        .map(|chunk| {
            let h = h.clone();
            std::thread::spawn(move || {
                for n in &chunk {
                    h.insert(n).expect("insert");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let wall = t.elapsed();
    let stored = h.list(&Query::default()).unwrap().total;
    println!(
        "burst 10,000 inserts, 8 threads               rows stored={} (total {stored})  commits={}  wall={:.0} ms  ({:.0} rows/s)",
        10_000,
        h.commits() - c0,
        ms(wall),
        10_000.0 / wall.as_secs_f64()
    );

    // 3. Fill to 1,000,000 with insert_batch.
    let t = Instant::now();
    let c0 = h.commits();
    let fill = fill_to();
    let remaining = fill - stored as usize;
    let per_thread = remaining / FILL_THREADS;
    let base = Arc::new(next + 1);
    let threads: Vec<_> = (0..FILL_THREADS)
        .map(|k| {
            let h = h.clone();
            let base = base.clone();
            let count = if k == FILL_THREADS - 1 { remaining - per_thread * (FILL_THREADS - 1) } else { per_thread };
            std::thread::spawn(move || {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (k as u64 + 1));
                let start = *base + k * per_thread;
                let mut done = 0;
                while done < count {
                    let n = BATCH.min(count - done);
                    let batch: Vec<_> = (0..n).map(|j| make(&mut rng, start + done + j)).collect();
                    h.insert_batch(&batch).expect("insert_batch");
                    done += n;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let wall = t.elapsed();
    let total = h.list(&Query::default()).unwrap().total;
    println!(
        "fill via insert_batch({BATCH}) x{FILL_THREADS} threads   rows={total}  commits={}  wall={:.1} s  ({:.0} rows/s incl. normalize)",
        h.commits() - c0,
        wall.as_secs_f64(),
        (fill - stored as usize) as f64 / wall.as_secs_f64()
    );
    // Most of a real history is read; the newest rows are not.
    let t = Instant::now();
    let marked = h.mark_all_read().unwrap();
    let took = ms(t.elapsed());
    let t = Instant::now();
    let unread_after = h.unread_count().unwrap();
    let count_ms = ms(t.elapsed());
    let unread_page = h.list(&Query { filter: Filter::Unread, ..Query::default() }).unwrap();
    println!(
        "mark_all_read over {marked} rows                   {took:.2} ms; unread_count right after: {unread_after} ({count_ms:.2} ms), unread page: {} rows",
        unread_page.rows.len()
    );
    assert_eq!((unread_after, unread_page.rows.len()), (0, 0), "mark_all_read left unread rows");
    // 300 new, unread rows on top.
    let fresh: Vec<_> = (0..300).map(|i| make(&mut rng, 2_000_000 + i)).collect();
    h.insert_batch(&fresh).unwrap();
    assert_eq!(h.unread_count().unwrap(), 300);
    println!("file size after fill                          {:.1} MiB (db + wal + shm)", file_size(&path) as f64 / 1048576.0);
    let t = Instant::now();
    h.maintain().unwrap();
    println!(
        "store size at {total} rows (db + WAL after checkpoint)  {:.1} MiB  (index merge + checkpoint {:.0} ms)",
        store_bytes(&path) as f64 / 1048576.0,
        ms(t.elapsed())
    );
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        let mut st = c.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6").unwrap();
        let parts: Vec<String> = st
            .query_map([], |r| Ok(format!("{} {:.1}", r.get::<_, String>(0)?, r.get::<_, i64>(1)? as f64 / 1048576.0)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        println!("  where (MiB): {}", parts.join(", "));
    }

    // 4. Search: 200 varied queries, limit 50.
    let mut queries: Vec<String> = Vec::new();
    let mut qr = Rng(42);
    for i in 0..200 {
        let q = match i % 10 {
            0 => qr.pick(LAST).to_lowercase(),
            1 => qr.pick(LAST).chars().take(4).collect(),
            2 => format!("{} {}", qr.pick(LAST), qr.pick(FIRST)),
            3 => qr.pick(WORDS).to_owned(),
            4 => format!("{} {}", qr.pick(WORDS), qr.pick(WORDS)),
            5 => format!("9{:02}", qr.next() % 100),
            6 => format!("{:03}", qr.next() % 1000),
            7 => "звонок".into(),
            8 if i % 20 == 8 => format!("несуществующее{}", qr.next() % 100),
            // One-letter prefixes: every row has a word starting with most of these.
            8 => qr.pick(LAST).chars().take(1).collect(),
            _ => qr.pick(FIRST).chars().take(2).collect(),
        };
        queries.push(q);
    }
    let mut lat = Vec::new();
    let mut slowest = (0.0, String::new());
    let mut exact = 0;
    for q in &queries {
        let query = Query { search: Some(q.clone()), filter: Filter::All, before_seq: None, after_seq: None, limit: 50 };
        let t = Instant::now();
        let p = h.list(&query).expect("search");
        let d = ms(t.elapsed());
        exact += p.total_exact as usize;
        if d > slowest.0 {
            slowest = (d, q.clone());
        }
        lat.push(d);
    }
    summary("search, 200 queries, limit 50 (+ capped count)", lat);
    println!("  slowest query {:?}: {:.1} ms; {exact}/200 had an exact total (<= 1,000 hits)", slowest.1, slowest.0);
    for q in ["звонок", "п", "з", "9", "пе"] {
        let query = Query { search: Some(q.into()), filter: Filter::All, before_seq: None, after_seq: None, limit: 50 };
        let mut v: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                h.list(&query).expect("search");
                ms(t.elapsed())
            })
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("  {q:?}: median of 5 {:.1} ms, max {:.1} ms", v[2], v[4]);
    }
    let mut lat = Vec::new();
    for q in queries.iter().take(100) {
        let query = Query { search: Some(q.clone()), filter: Filter::Calls, before_seq: None, after_seq: None, limit: 50 };
        let t = Instant::now();
        h.list(&query).expect("search");
        lat.push(ms(t.elapsed()));
    }
    summary("search + filter calls, 100 queries", lat);

    // What an exact count would cost for the commonest word (why it is capped).
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for term in ["\"звонок\"*", "\"п\"*"] {
            let t = Instant::now();
            let n: i64 = c
                .query_row("SELECT count(*) FROM notifications_fts WHERE notifications_fts MATCH ?1", [term], |r| r.get(0))
                .unwrap();
            println!("  exact FTS count of {term:<12} {n:>8} hits in {:.0} ms (not done by list)", ms(t.elapsed()));
        }
    }

    // 5. First page and a deep page of list, per filter.
    for (name, filter) in [("all", Filter::All), ("calls", Filter::Calls), ("errors", Filter::Errors), ("unread", Filter::Unread)] {
        let (v, total, _, rows) = time_list(&h, &Query { filter, ..Query::default() }, 100);
        summary(&format!("list first page, filter {name} ({rows} rows of {total})"), v);
    }
    let mid = h.list(&Query { limit: 1, ..Query::default() }).unwrap().rows[0].seq / 2;
    for (name, filter) in [("all", Filter::All), ("calls", Filter::Calls), ("errors", Filter::Errors), ("unread", Filter::Unread)] {
        let (v, _, _, rows) = time_list(&h, &Query { filter, before_seq: Some(mid), ..Query::default() }, 100);
        summary(&format!("list page at seq {mid}, filter {name} ({rows} rows)"), v);
    }
    let mut v = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        h.unread_count().unwrap();
        v.push(ms(t.elapsed()));
    }
    summary("unread_count", v);

    // 6. Retention: the oldest 100,000 rows made 200 days old, then pruned to
    // 180 days by the writer between inserts (one every 2 ms, each timed).
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.busy_timeout(Duration::from_secs(30)).unwrap();
        let old = support_now_ms() - 200 * 86_400_000;
        c.execute(
            "UPDATE notifications SET created_ms = ?1, updated_ms = ?1 WHERE seq IN (SELECT seq FROM notifications ORDER BY seq LIMIT 100000)",
            [old],
        )
        .unwrap();
    }
    // The same load without pruning first, as long as pruning and handing
    // space back take here: what a write waits for anyway (fsync, idle index
    // merges) next to what pruning adds.
    h.take_idle_waits();
    let mut base = Vec::new();
    for i in 0..3000 {
        let n = make(&mut rng, 3_000_000 + i);
        let t = Instant::now();
        h.insert(&n).unwrap();
        base.push(ms(t.elapsed()));
        std::thread::sleep(Duration::from_millis(2));
        if i % 50 == 0 {
            h.stats().unwrap();
        }
    }
    let base_waits = h.take_idle_waits();
    let before_rows = h.stats().unwrap().rows;
    let before_bytes = store_bytes(&path);
    let t = Instant::now();
    h.set_retention(Retention { keep_days: 180, keep_rows: 0 }).unwrap();
    let mut during = Vec::new();
    let mut pruned_at = None;
    let mut i = 0;
    let free = |c: &rusqlite::Connection| -> i64 { c.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap() };
    let probe = rusqlite::Connection::open(&path).unwrap();
    loop {
        let n = make(&mut rng, 3_100_000 + i);
        i += 1;
        let ti = Instant::now();
        h.insert(&n).unwrap();
        during.push(ms(ti.elapsed()));
        std::thread::sleep(Duration::from_millis(2));
        if i % 50 == 0 {
            let rows = h.stats().unwrap().rows;
            if pruned_at.is_none() && rows + 100_000 <= before_rows + i as u64 {
                pruned_at = Some(t.elapsed());
            }
            if pruned_at.is_some() && free(&probe) == 0 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(600), "pruning did not finish in 10 minutes");
        }
    }
    let all_done = t.elapsed();
    let during_waits = h.take_idle_waits();
    summary("insert -> committed, no pruning (1 per 2 ms)", base);
    waits("  of which held up by idle work", base_waits);
    summary("insert -> committed, while pruning 100,000", during);
    waits("  of which held up by idle work", during_waits);
    h.maintain().unwrap();
    println!(
        "retention: 100,000 rows pruned in {:.1} s, space handed back after {:.1} s; {} inserts meanwhile; store {:.1} -> {:.1} MiB (db + WAL after checkpoint)",
        pruned_at.unwrap().as_secs_f64(),
        all_done.as_secs_f64(),
        i,
        before_bytes as f64 / 1048576.0,
        store_bytes(&path) as f64 / 1048576.0
    );

    drop(h);
    println!("file size at close                            {:.1} MiB (db + wal + shm)", file_size(&path) as f64 / 1048576.0);
    println!("bench wall time                               {:.0} s", started.elapsed().as_secs_f64());
}

/// The part of the inserts' time that the writer's idle work added
/// (`IdleWaits`): retention (pruning, handing space back, the checkpoint of
/// their pages) apart from index merging. The rest is the insert's own commit.
fn waits(label: &str, w: IdleWaits) {
    println!(
        "{label:<44} {} writes held up; longest by retention {:.1} ms, by index merging {:.1} ms; {} over 10 ms",
        w.waited,
        w.retention_max.as_secs_f64() * 1e3,
        w.merge_max.as_secs_f64() * 1e3,
        w.over_10ms
    );
}
