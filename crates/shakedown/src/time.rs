//! Capture time. The engine never reads the operating system's clock: every instant it knows comes from a
//! capture's packet timestamps, carried as [`Timestamp`] (nanoseconds since the Unix epoch).

use std::fmt;

/// An instant taken from a capture: nanoseconds since 1970-01-01T00:00:00Z (negative before it).
///
/// ```
/// use shakedown::Timestamp;
/// let t = Timestamp::from_secs_nanos(1_579_293_816, 559_976_000);
/// assert_eq!(t.to_string(), "2020-01-17T20:43:36.559976Z");
/// assert_eq!(Timestamp::from_secs_nanos(0, 2_500_000).millis_since(Timestamp::ZERO), 2.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The Unix epoch.
    pub const ZERO: Timestamp = Timestamp(0);

    /// Builds a timestamp from whole seconds and a nanosecond fraction, saturating on overflow.
    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Timestamp {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// The nanosecond part within the second, `0..1e9`.
    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive modulus is in 0..1e9, which fits in u32.
        u32::try_from(self.0.rem_euclid(1_000_000_000)).unwrap_or(0)
    }

    /// Seconds since the epoch as a float (for display and arithmetic with other tools' epochs).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Milliseconds from `earlier` to `self` (negative if `self` is earlier), as SCHEMA.md writes durations.
    pub fn millis_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1e6
    }

    /// Nanoseconds from `earlier` to `self`, saturating.
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Formats as RFC 3339 UTC with microseconds, e.g. `2020-01-17T20:43:36.559976Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.secs();
        let micros = self.subsec_nanos() / 1_000;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hour, min, sec) = (sod / 3600, (sod % 3600) / 60, sod % 60);
        // Every JSON record carries a few timestamps, so they are written by hand; nanoseconds in an
        // i64 always give a year from 1677 to 2262, and `write!` below is only a safety net.
        if let Ok(year) = u32::try_from(y)
            && year <= 9999
        {
            let mut buf = *b"0000-00-00T00:00:00.000000Z";
            put_digits(&mut buf[0..4], year);
            put_digits(&mut buf[5..7], m);
            put_digits(&mut buf[8..10], d);
            // Hours, minutes and seconds of the day are below 60; micros below 1e6.
            put_digits(&mut buf[11..13], hour as u32);
            put_digits(&mut buf[14..16], min as u32);
            put_digits(&mut buf[17..19], sec as u32);
            put_digits(&mut buf[20..26], micros);
            if let Ok(s) = std::str::from_utf8(&buf) {
                return f.write_str(s);
            }
        }
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{hour:02}:{min:02}:{sec:02}.{micros:06}Z"
        )
    }
}

/// Writes `v` in decimal into all of `out`, zero-padded on the left (`v` must fit).
fn put_digits(out: &mut [u8], mut v: u32) {
    for digit in out.iter_mut().rev() {
        // `v % 10` is a single digit.
        *digit = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is in 1..=31 and m in 1..=12 by construction.
    (y, m as u32, d as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date; the inverse of `civil_from_days`.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// Builds a UTC timestamp from a calendar date and time of day (used for certificate validity).
    pub fn from_utc(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Timestamp {
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
        Timestamp::from_secs_nanos(secs, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_micros() {
        assert_eq!(Timestamp::ZERO.to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp::from_secs_nanos(951_782_400, 999_999_999).to_string(),
            "2000-02-29T00:00:00.999999Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn formats_by_hand_as_fmt_would() {
        let by_fmt = |t: Timestamp| {
            let secs = t.secs();
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let sod = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
                sod / 3600,
                (sod % 3600) / 60,
                sod % 60,
                t.subsec_nanos() / 1_000
            )
        };
        // Nanoseconds in an i64 span the years 1677 to 2262; walk all of it, and its ends.
        let step = 92_233_720_368_547 + 7_919;
        let mut t = i64::MIN;
        while let Some(next) = t.checked_add(step) {
            assert_eq!(Timestamp(t).to_string(), by_fmt(Timestamp(t)));
            t = next;
        }
        for t in [i64::MIN, i64::MAX, -1, 0, 1, 951_782_400_999_999_999] {
            assert_eq!(Timestamp(t).to_string(), by_fmt(Timestamp(t)));
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            Timestamp::from_utc(2020, 1, 17, 20, 43, 36).secs(),
            1_579_293_816
        );
    }
}
