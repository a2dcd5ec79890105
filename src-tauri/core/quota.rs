//! How much each source may store in the history: bytes of payload per
//! rolling day, so a page that passes the call budget cannot fill the disk
//! (200 maximum-size rows a second are over a gigabyte an hour). Kept in
//! memory: a restart, which only the user can do, starts a new day.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Bytes a source may store per rolling day by default: far above a busy
/// call center's day (thousands of calls of a few KiB).
pub const PER_DAY: u64 = 100 << 20;
const HOUR_MS: i64 = 3_600_000;

pub struct Quota {
    per_day: u64,
    /// Per source: (hour since the epoch, bytes stored in it), oldest first.
    used: Mutex<HashMap<String, VecDeque<(i64, u64)>>>,
}

impl Default for Quota {
    fn default() -> Quota {
        Quota::new(PER_DAY)
    }
}

impl Quota {
    pub fn new(per_day: u64) -> Quota {
        Quota { per_day, used: Mutex::default() }
    }

    pub fn per_day(&self) -> u64 {
        self.per_day
    }

    /// Takes `bytes` for `source` at `now_ms` if the last 24 hours leave
    /// room; otherwise takes nothing and says how much was used.
    pub fn take(&self, source: &str, bytes: u64, now_ms: i64) -> Result<(), u64> {
        let hour = now_ms.div_euclid(HOUR_MS);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let hours = used.entry(source.to_owned()).or_default();
        while hours.front().is_some_and(|&(h, _)| h <= hour - 24) {
            hours.pop_front();
        }
        let total: u64 = hours.iter().map(|&(_, b)| b).sum();
        if total + bytes > self.per_day {
            return Err(total);
        }
        match hours.back_mut() {
            Some((h, b)) if *h == hour => *b += bytes,
            _ => hours.push_back((hour, bytes)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_has_its_own_rolling_day() {
        let q = Quota::new(1_000);
        let t0 = 1_700_000_000_000;
        assert_eq!(q.take("https://a.example", 600, t0), Ok(()));
        assert_eq!(q.take("https://a.example", 600, t0 + 1), Err(600), "over the day's bytes");
        assert_eq!(q.take("https://b.example", 900, t0 + 1), Ok(()), "another source is not charged");
        assert_eq!(q.take("https://a.example", 400, t0 + 2), Ok(()), "up to the limit exactly");
        assert_eq!(q.take("https://a.example", 1, t0 + 23 * HOUR_MS), Err(1_000));
        assert_eq!(q.take("https://a.example", 1_000, t0 + 25 * HOUR_MS), Ok(()), "a day later the bytes are free again");
    }
}
