//! Per-origin limit on API calls: a token bucket per origin (a reload or a
//! second page of the same site draws on the same one), generous enough that
//! a real burst (the center's 10,000-error benchmark) passes, small enough
//! that a runaway loop is refused cheaply, before any parsing. No Tauri here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::core::api::Refusal;

/// Calls a page may make at once.
pub const BURST: f64 = 12_000.0;
/// Calls per second a page may keep up after a burst (no real widget
/// notifies a person hundreds of times a second for long).
pub const PER_SECOND: f64 = 200.0;

struct Bucket {
    tokens: f64,
    at: Instant,
    /// Calls are being refused (logged once per episode, not per batch).
    limiting: bool,
}

/// What `take` allowed.
#[derive(Debug, PartialEq, Eq)]
pub struct Take {
    /// The first this many calls may go ahead.
    pub allowed: usize,
    /// This batch started a run of refusals.
    pub started_limiting: bool,
}

pub struct RateLimit {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The budget of `APP.notifications` calls: [`BURST`], then [`PER_SECOND`].
impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit::new(BURST, PER_SECOND)
    }
}

impl RateLimit {
    /// `burst` at once, then `per_second`, per key.
    pub fn new(burst: f64, per_second: f64) -> RateLimit {
        RateLimit { burst, per_second, buckets: Mutex::default() }
    }

    /// How many of `n` calls from `origin` may go ahead now (the first ones).
    pub fn take(&self, origin: &str, n: usize, now: Instant) -> Take {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(origin.to_owned()).or_insert(Bucket { tokens: self.burst, at: now, limiting: false });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_second).min(self.burst);
        b.at = now;
        let allowed = (b.tokens.floor() as usize).min(n);
        b.tokens -= allowed as f64;
        let started_limiting = allowed < n && !b.limiting;
        b.limiting = allowed < n;
        Take { allowed, started_limiting }
    }

}

pub fn refusal() -> Refusal {
    Refusal::new(
        "rate_limited",
        "page",
        format!(
            "pages of this origin made more than {BURST} calls at once (then at most {PER_SECOND} per second are \
             accepted; reloading does not refill the budget); the call was refused — is a loop sending notifications?"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_a_loop_is_cut_and_the_bucket_refills() {
        let r = RateLimit::default();
        let t0 = Instant::now();
        let n = |t: Take| t.allowed;
        assert_eq!(r.take("a", 10_000, t0), Take { allowed: 10_000, started_limiting: false }, "a real burst passes");
        assert_eq!(r.take("a", 100_000, t0), Take { allowed: 2_000, started_limiting: true }, "the rest of the burst, then nothing");
        assert_eq!(r.take("a", 1, t0), Take { allowed: 0, started_limiting: false }, "said once per episode");
        assert_eq!(n(r.take("b", 5, t0)), 5, "origins have their own buckets");
        assert_eq!(n(r.take("a", 5_000, t0 + Duration::from_millis(500))), 100, "refills at PER_SECOND");
        assert_eq!(n(r.take("a", 100_000, t0 + Duration::from_secs(3600))), BURST as usize, "never above BURST");
        assert_eq!(refusal().code, "rate_limited");
    }
}
