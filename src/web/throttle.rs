//! Sign-in throttling: a password guesser is slowed per account and per
//! client address, whichever runs out first. governor's keyed GCRA limiters
//! do the bookkeeping.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

pub struct LoginThrottle {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<String>,
}

/// Keyed limiters keep one cell per key; past this many they are pruned of
/// keys that have fully recovered.
const PRUNE_ABOVE: usize = 10_000;

impl LoginThrottle {
    /// `per_user` and `per_ip` attempts per minute, each allowed as a burst.
    pub fn new(per_user: u32, per_ip: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        LoginThrottle {
            per_user: DefaultKeyedRateLimiter::keyed(quota(per_user)),
            per_ip: DefaultKeyedRateLimiter::keyed(quota(per_ip)),
        }
    }

    /// Ok when an attempt may go ahead, else the seconds to wait.
    pub fn check(&self, username: &str, ip: &str) -> Result<(), u64> {
        for (limiter, key) in [(&self.per_ip, ip), (&self.per_user, username)] {
            if limiter.len() > PRUNE_ABOVE {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&key.to_owned()) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(wait.as_secs().max(1));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_quota_is_refused_with_a_wait() {
        let throttle = LoginThrottle::new(3, 100);
        for _ in 0..3 {
            assert!(throttle.check("admin", "127.0.0.1").is_ok());
        }
        let wait = throttle.check("admin", "127.0.0.1").unwrap_err();
        assert!((1..=60).contains(&wait));
        // Another account from the same address is not punished for it.
        assert!(throttle.check("alice", "127.0.0.1").is_ok());
    }
}
