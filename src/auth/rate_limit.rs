//! Counts failed logins per key (client id, source address) in fixed windows, so guessing
//! client secrets is slowed to a handful per minute. In-memory: each replica limits its own
//! traffic, which is enough against guessing 256-bit secrets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window_secs: u64) -> Self {
        FailureLimiter {
            max_failures,
            window: Duration::from_secs(window_secs),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` until the key's window ends when it has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    pub fn record_failure(&self, key: &str) {
        self.record_failure_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some((start, count)) if *count >= self.max_failures => {
                let ends = *start + self.window;
                if ends > now {
                    Err(((ends - now).as_millis().div_ceil(1000) as u64).max(1))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    fn record_failure_at(&self, key: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget windows that have ended.
            let window = self.window;
            windows.retain(|_, (start, _)| *start + window > now);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if entry.0 + self.window <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let limiter = FailureLimiter::new(3, 60);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("k", t0).is_ok());
            limiter.record_failure_at("k", t0);
        }
        assert_eq!(limiter.check_at("k", t0), Err(60));
        assert_eq!(limiter.check_at("k", t0 + Duration::from_secs(50)), Err(10));
        assert!(limiter.check_at("other", t0).is_ok());
        assert!(limiter.check_at("k", t0 + Duration::from_secs(60)).is_ok());
        limiter.record_failure_at("k", t0 + Duration::from_secs(61));
        assert!(limiter.check_at("k", t0 + Duration::from_secs(61)).is_ok());
    }
}
