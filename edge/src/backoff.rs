//! Retry pacing while the gateway cannot be reached: doubling from a short first wait to a cap, so a
//! restarted gateway is found quickly and a long outage is not hammered.

use std::time::Duration;

/// Consecutive failures and the wait before the next attempt.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// 500 ms, 1 s, 2 s, … up to 30 s.
    pub fn new() -> Self {
        Self::with(Duration::from_millis(500), Duration::from_secs(30))
    }

    pub fn with(first: Duration, max: Duration) -> Self {
        Self { first, max, failures: 0 }
    }

    /// One more failure: how long to wait before trying again.
    pub fn next_wait(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(31));
        self.failures = self.failures.saturating_add(1);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// A success: the next failure waits the first wait again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_start_over_after_a_success() {
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..9).map(|_| b.next_wait().as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        for _ in 0..100 {
            assert_eq!(b.next_wait(), Duration::from_secs(30));
        }
        b.reset();
        assert_eq!(b.next_wait(), Duration::from_millis(500));
    }
}
