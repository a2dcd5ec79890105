//! "Missed while away": the agent is away while do-not-disturb is on or the
//! session is locked. When the last of those ends, what the center received
//! meanwhile is summed up once ("3 missed calls, 12 errors") instead of each
//! held toast being replayed. A pure state machine: the shell feeds it the
//! transitions and the history's newest seq, and shows what [`Away::end`] returns.

use serde::Serialize;

/// Why the agent counts as away; several can overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    DoNotDisturb,
    Locked,
}

impl Reason {
    fn bit(self) -> u8 {
        match self {
            Reason::DoNotDisturb => 1,
            Reason::Locked => 2,
        }
    }
}

/// An away period that has ended: rows after `after_seq` arrived during it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub after_seq: i64,
    pub since_ms: i64,
    pub until_ms: i64,
}

#[derive(Debug, Default)]
pub struct Away {
    reasons: u8,
    start: Option<(i64, i64)>,
}

impl Away {
    /// `reason` began; `last_seq` is the history's newest row now. Starting
    /// again while already away keeps the first start.
    pub fn begin(&mut self, reason: Reason, last_seq: i64, now_ms: i64) {
        if self.reasons == 0 {
            self.start = Some((last_seq, now_ms));
        }
        self.reasons |= reason.bit();
    }

    /// `reason` ended; when it was the last one, the period to summarise.
    pub fn end(&mut self, reason: Reason, now_ms: i64) -> Option<Period> {
        if self.reasons & reason.bit() == 0 {
            return None;
        }
        self.reasons &= !reason.bit();
        if self.reasons != 0 {
            return None;
        }
        self.start.take().map(|(after_seq, since_ms)| Period { after_seq, since_ms, until_ms: now_ms })
    }

    /// Sets `reason` to `on`, whatever it was: begins or ends as needed.
    pub fn set(&mut self, reason: Reason, on: bool, last_seq: i64, now_ms: i64) -> Option<Period> {
        if on {
            self.begin(reason, last_seq, now_ms);
            None
        } else {
            self.end(reason, now_ms)
        }
    }

    pub fn is_away(&self) -> bool {
        self.reasons != 0
    }

    /// The reasons in force.
    pub fn reasons(&self) -> Vec<Reason> {
        [Reason::DoNotDisturb, Reason::Locked].into_iter().filter(|r| self.reasons & r.bit() != 0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_period_from_the_first_start_to_the_last_end() {
        let mut a = Away::default();
        assert_eq!(a.end(Reason::DoNotDisturb, 5), None, "ending what never began is nothing");
        a.begin(Reason::DoNotDisturb, 10, 100);
        a.begin(Reason::Locked, 12, 150);
        assert_eq!(a.reasons(), vec![Reason::DoNotDisturb, Reason::Locked]);
        assert_eq!(a.end(Reason::DoNotDisturb, 200), None, "still locked");
        assert!(a.is_away());
        assert_eq!(a.end(Reason::Locked, 300), Some(Period { after_seq: 10, since_ms: 100, until_ms: 300 }));
        assert!(!a.is_away());
        assert_eq!(a.end(Reason::Locked, 301), None, "a second unlock is nothing");
    }

    #[test]
    fn repeated_begins_keep_the_first_start() {
        let mut a = Away::default();
        assert_eq!(a.set(Reason::Locked, true, 1, 10), None);
        assert_eq!(a.set(Reason::Locked, true, 7, 20), None);
        assert_eq!(a.set(Reason::Locked, false, 7, 30), Some(Period { after_seq: 1, since_ms: 10, until_ms: 30 }));
        // A new period starts afresh.
        a.set(Reason::DoNotDisturb, true, 9, 40);
        assert_eq!(a.set(Reason::DoNotDisturb, false, 9, 50), Some(Period { after_seq: 9, since_ms: 40, until_ms: 50 }));
    }
}
