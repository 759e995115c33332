//! The delay before a retry, for every service that retries by hand: exponential from a
//! first delay, doubling per retry up to a cap, with equal jitter (half of the delay fixed,
//! the other half random). Jitter keeps many clients that failed together from retrying
//! together; keeping half fixed means none retries much sooner than its schedule says.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Doublings after which any cap is reached (2^128 ns is far beyond `Duration::MAX`), so
/// huge retry numbers cost no more than this.
const MAX_DOUBLINGS: usize = 128;

/// A retry schedule: `first · 2^(retry − 1)`, at most `cap`, then jittered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry, before jitter.
    pub first: Duration,
    /// No delay grows past this, before jitter.
    pub cap: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, cap: Duration) -> Self {
        Backoff { first, cap }
    }

    /// The delay before retry `retry` (1-based; 0 counts as 1), without jitter.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = usize::try_from(retry.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(MAX_DOUBLINGS);
        ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .without_max_times()
            .build()
            .nth(doublings)
            .map_or(self.cap, whole_micros)
            .min(self.cap)
    }

    /// The delay before retry `retry` (1-based): uniformly within
    /// `[ceiling / 2, ceiling)`, where `ceiling` is [`Backoff::ceiling`].
    pub fn delay(&self, retry: u32) -> Duration {
        let half = self.ceiling(retry) / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

/// backon doubles in `f32` seconds; whole microseconds drop the rounding noise, so a
/// schedule from 20 ms reads 40 ms, 80 ms, ... rather than a nanosecond off.
fn whole_micros(d: Duration) -> Duration {
    let micros = u64::from(d.subsec_nanos().saturating_add(500) / 1000);
    Duration::from_secs(d.as_secs()).saturating_add(Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_from_first_and_stops_at_cap() {
        let b = Backoff::new(20 * MS, 1000 * MS);
        let ceilings: Vec<Duration> = (1..=8).map(|n| b.ceiling(n)).collect();
        assert_eq!(
            ceilings,
            [20, 40, 80, 160, 320, 640, 1000, 1000].map(|ms| ms * MS)
        );
        assert_eq!(b.ceiling(0), 20 * MS);
        assert_eq!(b.ceiling(u32::MAX), 1000 * MS);
    }

    #[test]
    fn a_cap_below_first_wins() {
        let b = Backoff::new(Duration::from_secs(5), Duration::from_secs(2));
        assert_eq!(b.ceiling(1), Duration::from_secs(2));
        assert_eq!(b.ceiling(9), Duration::from_secs(2));
    }

    #[test]
    fn delays_stay_within_half_and_all_of_the_ceiling() {
        let b = Backoff::new(500 * MS, Duration::from_secs(30));
        for retry in 1..=12 {
            let ceiling = b.ceiling(retry);
            for _ in 0..200 {
                let d = b.delay(retry);
                assert!(
                    d >= ceiling / 2 && d <= ceiling,
                    "retry {retry}: {d:?} outside [{:?}, {ceiling:?}]",
                    ceiling / 2
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_over_the_upper_half() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..400).map(|_| b.delay(3)).collect();
        let (lo, hi) = (Duration::from_secs(2), Duration::from_secs(4));
        assert!(delays.iter().all(|d| *d >= lo && *d <= hi));
        // 400 uniform draws over [2 s, 4 s): both quarters of the range are hit.
        assert!(delays.iter().any(|d| *d < lo + 500 * MS));
        assert!(delays.iter().any(|d| *d > lo + 1500 * MS));
        assert!(delays.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn zero_first_delay_never_waits() {
        let b = Backoff::new(Duration::ZERO, Duration::from_secs(1));
        assert_eq!(b.delay(1), Duration::ZERO);
        assert_eq!(b.delay(10), Duration::ZERO);
    }
}
