//! Counts failed logins per key (a client id from one source, a source) in fixed windows, so
//! guessing client secrets is slowed to a handful per minute. In-memory: each replica limits
//! its own traffic, which is enough against guessing 256-bit secrets. Keys are small and made
//! by the caller from parsed values (`login_keys`), and windows that ended are purged once per
//! window, so memory stays bounded by the traffic of one window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    windows: Mutex<Windows>,
}

struct Windows {
    by_key: HashMap<String, (Instant, u32)>,
    last_purge: Option<Instant>,
}

/// The keys a login attempt counts against: its source (an IPv6 source by its /64, which one
/// host usually holds whole) and its client id from that source. Per client id *and* source,
/// not per client id alone: client ids are not secret, and a count per id let anyone lock an
/// identity out (D11). The id is the parsed UUID, so other spellings of it share its count
/// (D12); a client id that is not a UUID counts against its source only (D6).
pub fn login_keys(client_id: Option<uuid::Uuid>, peer: std::net::IpAddr) -> Vec<String> {
    let source = match peer {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    let mut keys = vec![format!("peer:{source}")];
    if let Some(id) = client_id {
        keys.push(format!("client:{id}@{source}"));
    }
    keys
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window_secs: u64) -> Self {
        FailureLimiter {
            max_failures,
            window: Duration::from_secs(window_secs),
            windows: Mutex::new(Windows {
                by_key: HashMap::new(),
                last_purge: None,
            }),
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
        match windows.by_key.get(key) {
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
        // Once per window, forget the windows that have ended.
        let window = self.window;
        if windows.last_purge.is_none_or(|at| at + window <= now) {
            windows.by_key.retain(|_, (start, _)| *start + window > now);
            windows.last_purge = Some(now);
        }
        let entry = windows.by_key.entry(key.to_string()).or_insert((now, 0));
        if entry.0 + self.window <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

impl FailureLimiter {
    /// How many keys are counted now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_key
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn ended_windows_are_purged_once_a_window_has_passed() {
        let limiter = FailureLimiter::new(3, 60);
        let t0 = Instant::now();
        for i in 0..1000 {
            limiter.record_failure_at(&format!("k{i}"), t0);
        }
        assert_eq!(limiter.len(), 1000);
        limiter.record_failure_at("late", t0 + Duration::from_secs(61));
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn login_keys_use_the_parsed_id_and_the_source() {
        let id: uuid::Uuid = "6f1d8a0e-8a6e-4b8e-9f3a-2a1b3c4d5e6f".parse().unwrap();
        let v4: std::net::IpAddr = "127.0.4.1".parse().unwrap();
        assert_eq!(
            login_keys(Some(id), v4),
            vec![
                "peer:127.0.4.1".to_string(),
                format!("client:{id}@127.0.4.1")
            ]
        );
        assert_eq!(login_keys(None, v4), vec!["peer:127.0.4.1".to_string()]);
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(login_keys(None, a), login_keys(None, b));
        let mapped: std::net::IpAddr = "::ffff:127.0.4.1".parse().unwrap();
        assert_eq!(login_keys(None, mapped), login_keys(None, v4));
    }
}
