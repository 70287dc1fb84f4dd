//! Instants of the API: RFC 3339 strings in UTC on the wire (`2026-12-05T14:00:00.123456Z`).
//!
//! Natively these are chrono's types. In browsers they are a small [`DateTime`] of milliseconds
//! since the Unix epoch, read and written by the page's own `Date`, so the web bundles carry no
//! calendar, parser or formatter of their own (about 9 KiB compressed). Both offer what the web
//! app uses: `Utc::now()`, `timestamp_millis()`, `Duration::days`, `num_seconds()`, ordering,
//! and subtracting an instant or a span from an instant.

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use chrono::{DateTime, Duration, Utc};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use browser::{DateTime, Duration, Utc};

/// An RFC 3339 date-time (§5.6: `2026-12-05T14:00:00.123456Z`, `...+01:00`, either case) in
/// the form ECMAScript's `Date.parse` reads the same in every browser (ECMA-262 §21.4.1.32:
/// upper case, exactly three fraction digits); `None` for anything else, so a browser's own
/// lenient fallback formats are never reached.
#[cfg_attr(
    not(all(target_arch = "wasm32", target_os = "unknown")),
    allow(dead_code)
)]
fn ecmascript_form(text: &str) -> Option<String> {
    let text = text.to_ascii_uppercase();
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let shaped = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shaped {
        return None;
    }
    let (seconds, rest) = text.split_at(19);
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            r.split_at(n)
        }
        None => ("", rest),
    };
    let z = zone.as_bytes();
    let zoned = zone == "Z"
        || (z.len() == 6
            && matches!(z[0], b'+' | b'-')
            && z[1..3].iter().all(u8::is_ascii_digit)
            && z[3] == b':'
            && z[4..6].iter().all(u8::is_ascii_digit));
    if !zoned {
        return None;
    }
    let ms: String = fraction.chars().chain("000".chars()).take(3).collect();
    Some(format!("{seconds}.{ms}{zone}"))
}

#[cfg(test)]
mod tests {
    use super::ecmascript_form;

    #[test]
    fn rfc3339_times_are_rewritten_for_date_parse() {
        for (input, expected) in [
            ("2026-12-05T14:00:00Z", "2026-12-05T14:00:00.000Z"),
            ("2026-12-05t14:00:00.1z", "2026-12-05T14:00:00.100Z"),
            ("2026-12-05T14:00:00.123456Z", "2026-12-05T14:00:00.123Z"),
            (
                "2026-12-05T14:00:00.123456789+01:00",
                "2026-12-05T14:00:00.123+01:00",
            ),
            ("2026-12-05T14:00:00-05:30", "2026-12-05T14:00:00.000-05:30"),
        ] {
            assert_eq!(ecmascript_form(input).as_deref(), Some(expected), "{input}");
        }
        for input in [
            "2026-12-05T14:00:00",
            "2026-12-05 14:00:00Z",
            "2026-12-05T14:00:00.Z",
            "2026-12-05T14:00Z",
            "Sat, 05 Dec 2026 14:00:00 GMT",
            "2026-12-05T14:00:00+0100",
            "",
        ] {
            assert_eq!(ecmascript_form(input), None, "{input}");
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod browser {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::marker::PhantomData;
    use wasm_bindgen::JsValue;

    /// The UTC time scale, the only one of the API.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct Utc;

    impl Utc {
        /// The browser's clock, to the millisecond.
        pub fn now() -> DateTime<Utc> {
            DateTime::from_millis(js_sys::Date::now() as i64)
        }
    }

    /// An instant, to the millisecond (finer fractions of the wire form are dropped).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct DateTime<Tz> {
        millis: i64,
        zone: PhantomData<Tz>,
    }

    impl DateTime<Utc> {
        fn from_millis(millis: i64) -> Self {
            Self {
                millis,
                zone: PhantomData,
            }
        }

        /// Milliseconds since 1970-01-01T00:00:00Z.
        pub fn timestamp_millis(&self) -> i64 {
            self.millis
        }

        /// The RFC 3339 form with three fraction digits (`Date.prototype.toISOString`).
        fn iso(&self) -> String {
            String::from(js_sys::Date::new(&JsValue::from_f64(self.millis as f64)).to_iso_string())
        }

        /// Reads RFC 3339 through [`super::ecmascript_form`] and `Date.parse`.
        fn parse(text: &str) -> Option<Self> {
            let millis = js_sys::Date::parse(&super::ecmascript_form(text)?);
            millis.is_finite().then(|| Self::from_millis(millis as i64))
        }
    }

    impl Serialize for DateTime<Utc> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&self.iso())
        }
    }

    impl<'de> Deserialize<'de> for DateTime<Utc> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
        }
    }

    /// A span of time, to the millisecond; negative when the end is earlier.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct Duration {
        millis: i64,
    }

    impl Duration {
        /// `days` whole days of 86,400 s.
        pub fn days(days: i64) -> Self {
            Self {
                millis: days
                    .checked_mul(86_400_000)
                    .expect("a span within ±292 million years"),
            }
        }

        /// Whole seconds, rounded toward zero.
        pub fn num_seconds(&self) -> i64 {
            self.millis / 1000
        }
    }

    impl std::ops::Sub for DateTime<Utc> {
        type Output = Duration;
        fn sub(self, earlier: Self) -> Duration {
            Duration {
                millis: self.millis.saturating_sub(earlier.millis),
            }
        }
    }

    impl std::ops::Sub<Duration> for DateTime<Utc> {
        type Output = DateTime<Utc>;
        fn sub(self, span: Duration) -> Self {
            Self::from_millis(self.millis.saturating_sub(span.millis))
        }
    }
}
