//! When a rotation is next due: Infisical's `calculateNextRotationAt`, in whole UTC days at
//! `rotateAtUtc` (or, in development mode, minutes and seconds).

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateAt {
    pub hours: u32,
    pub minutes: u32,
}

/// The longest `rotationInterval` the API accepts: 100 years of days. Infisical sets no
/// bound; without one a large value overflows the date arithmetic.
pub const MAX_INTERVAL: i64 = 36_500;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub auto_rotation: bool,
    pub interval: i64,
    pub rotate_at: RotateAt,
    /// Development mode: the interval counts minutes, `rotate_at.minutes` is the second.
    pub dev_mode: bool,
}

impl Schedule {
    /// The next due time after a rotation (or an attempt) ending at `last_rotated_at`.
    /// `failed`: the last attempt failed, so retry the next day (minute) at the rotate time.
    pub fn next(
        &self,
        last_rotated_at: DateTime<Utc>,
        failed: bool,
        manual: bool,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if !self.auto_rotation {
            return None;
        }
        if failed {
            return Some(self.tomorrow_at(now));
        }
        let base = self.anchor(last_rotated_at);
        // Infisical pads one unit after a manual rotation at or after the rotate time, so the
        // credential lives a full interval.
        let padded = manual && last_rotated_at >= base;
        let units = self.interval.saturating_add(i64::from(padded));
        // The API bounds the interval (MAX_INTERVAL), so this never overflows for a row it
        // wrote; a row that does gets no next date rather than a panic.
        let step = if self.dev_mode {
            Duration::try_minutes(units)
        } else {
            Duration::try_days(units)
        }?;
        base.checked_add_signed(step)
    }

    /// The rotate time on the same day (minute in dev mode) as `t`.
    fn anchor(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        if self.dev_mode {
            let second = self.rotate_at.minutes.min(59);
            t.with_second(second)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t)
        } else {
            let time = NaiveTime::from_hms_opt(
                self.rotate_at.hours.min(23),
                self.rotate_at.minutes.min(59),
                0,
            )
            .unwrap_or_default();
            t.date_naive().and_time(time).and_utc()
        }
    }

    fn tomorrow_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.dev_mode {
            self.anchor(now) + Duration::minutes(1)
        } else {
            self.anchor(now) + Duration::days(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn weekly_at_nine() -> Schedule {
        Schedule {
            auto_rotation: true,
            interval: 7,
            rotate_at: RotateAt {
                hours: 9,
                minutes: 0,
            },
            dev_mode: false,
        }
    }

    #[test]
    fn worked_example_of_the_reference() {
        let s = weekly_at_nine();
        let now = at("2025-03-10T14:37:12Z");
        // Created after the rotate time: a padding day.
        assert_eq!(
            s.next(now, false, true, now),
            Some(at("2025-03-18T09:00:00Z"))
        );
        // Created before it: none.
        let early = at("2025-03-10T06:00:00Z");
        assert_eq!(
            s.next(early, false, true, early),
            Some(at("2025-03-17T09:00:00Z"))
        );
        // Scheduled success at 09:00:04: not manual, no padding.
        let run = at("2025-03-18T09:00:04Z");
        assert_eq!(
            s.next(run, false, false, run),
            Some(at("2025-03-25T09:00:00Z"))
        );
        // Manual rotation at 10:00.
        let manual = at("2025-03-20T10:00:00Z");
        assert_eq!(
            s.next(manual, false, true, manual),
            Some(at("2025-03-28T09:00:00Z"))
        );
        // Failure: tomorrow at the rotate time.
        let failed = at("2025-03-28T09:00:20Z");
        assert_eq!(
            s.next(at("2025-03-20T10:00:00Z"), true, false, failed),
            Some(at("2025-03-29T09:00:00Z"))
        );
        // Disabled: never.
        let off = Schedule {
            auto_rotation: false,
            ..s
        };
        assert_eq!(off.next(now, false, true, now), None);
    }

    #[test]
    fn edges_of_months_years_and_the_day() {
        let s = Schedule {
            interval: 1,
            ..weekly_at_nine()
        };
        let t = at("2024-02-28T10:00:00Z");
        assert_eq!(
            s.next(t, false, false, t),
            Some(at("2024-02-29T09:00:00Z")),
            "leap day"
        );
        let t = at("2025-12-31T08:00:00Z");
        assert_eq!(
            s.next(t, false, false, t),
            Some(at("2026-01-01T09:00:00Z")),
            "year end"
        );
        let late = Schedule {
            interval: 30,
            rotate_at: RotateAt {
                hours: 23,
                minutes: 59,
            },
            ..s
        };
        let t = at("2025-01-31T23:59:00Z");
        assert_eq!(
            late.next(t, false, true, t),
            Some(at("2025-03-03T23:59:00Z")),
            "at exactly the rotate time counts as after"
        );
        let t = at("2025-01-31T23:58:59Z");
        assert_eq!(
            late.next(t, false, true, t),
            Some(at("2025-03-02T23:59:00Z"))
        );
        let t = at("2025-12-31T23:59:30Z");
        assert_eq!(
            late.next(at("2025-12-01T00:00:00Z"), true, false, t),
            Some(at("2026-01-01T23:59:00Z"))
        );
    }

    #[test]
    fn an_interval_past_the_calendar_gives_no_date_instead_of_a_panic() {
        let now = at("2026-12-02T10:00:00Z");
        for interval in [100_000_000, i64::from(i32::MAX), i64::MAX] {
            let s = Schedule {
                interval,
                ..weekly_at_nine()
            };
            assert_eq!(s.next(now, false, true, now), None, "{interval}");
        }
        let s = Schedule {
            interval: MAX_INTERVAL,
            ..weekly_at_nine()
        };
        assert!(s.next(now, false, true, now).is_some());
    }

    #[test]
    fn development_mode_counts_minutes() {
        let s = Schedule {
            auto_rotation: true,
            interval: 2,
            rotate_at: RotateAt {
                hours: 0,
                minutes: 30,
            },
            dev_mode: true,
        };
        let t = at("2025-03-10T14:37:45Z");
        assert_eq!(s.next(t, false, true, t), Some(at("2025-03-10T14:40:30Z")));
        let t = at("2025-03-10T14:37:10Z");
        assert_eq!(s.next(t, false, false, t), Some(at("2025-03-10T14:39:30Z")));
        assert_eq!(s.next(t, true, false, t), Some(at("2025-03-10T14:38:30Z")));
    }
}
