//! The FTS query builder: whatever a person types, `fts_query` yields either
//! nothing or a query SQLite FTS5 accepts. Checked twice: as a MATCH (alone
//! and with each look filter, as `History::list` builds them) against an
//! in-memory FTS5 table of the store's shape and tokenizer, and through the
//! real `History::list` on a store in a temporary folder, opened once.
#![no_main]

use std::sync::{LazyLock, Mutex};

use kolokol_lib::channels::history::{fts_query, Filter, History, Query};
use kolokol_lib::core::api::{normalize, Context, Method};
use libfuzzer_sys::fuzz_target;
use rusqlite::Connection;

static FTS: LazyLock<Mutex<Connection>> = LazyLock::new(|| {
    let c = Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE VIRTUAL TABLE notifications_fts USING fts5(
            fts_header, fts_text, fts_from, fts_to, look,
            tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO notifications_fts VALUES ('Входящий звонок', 'Петрович, перезвонить', '+7 495 123-45-67', '', 'call');
        INSERT INTO notifications_fts VALUES ('Error', 'near \"x\" * minus-sign', 'a\"b', 'NEAR', 'error');",
    )
    .unwrap();
    Mutex::new(c)
});

static HISTORY: LazyLock<History> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("kolokol-fuzz-fts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = History::open(&dir.join("history.sqlite3")).unwrap();
    for (i, (method, raw)) in [
        (Method::AddCall, r#"{"text": "Петрович, перезвонить", "from": "+7 495 123-45-67"}"#),
        (Method::AddError, r#"{"header": "Error", "text": "near \"x\" * minus-sign"}"#),
        (Method::ShowMessage, r#"{"header": "Ёлка", "text": "<b>NEAR</b> AND OR NOT"}"#),
    ]
    .into_iter()
    .enumerate()
    {
        let n = normalize(method, raw, Context { account: None, now_ms: 1_700_000_000_000, id: format!("fuzz-{i}") })
            .unwrap();
        h.insert(&n).unwrap();
    }
    h
});

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Some(m) = fts_query(input) else {
        assert!(!input.split_whitespace().any(|w| w.chars().any(char::is_alphanumeric)), "{input:?}: no query");
        return;
    };
    {
        let db = FTS.lock().unwrap();
        for q in [m.clone(), format!("look : \"call\" AND {m}"), format!("look : \"error\" AND {m}")] {
            let run = || -> rusqlite::Result<i64> {
                db.query_row("SELECT count(*) FROM notifications_fts WHERE notifications_fts MATCH ?1", [&q], |r| r.get(0))
            };
            run().unwrap_or_else(|e| panic!("fts_query({input:?}) = {q:?}: FTS5 refused it: {e}"));
        }
    }
    for filter in [Filter::All, Filter::Calls, Filter::Errors, Filter::Unread] {
        let q = Query { search: Some(input.to_owned()), filter, ..Default::default() };
        HISTORY.list(&q).unwrap_or_else(|e| panic!("History::list({input:?}, {filter:?}) = {e}"));
    }
});
