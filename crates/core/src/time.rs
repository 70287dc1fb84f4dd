//! Instants of the API: RFC 3339 strings in UTC on the wire (`2026-12-05T14:00:00.123456Z`).
//!
//! Natively these are chrono's types. In browsers they are a small [`DateTime`] of milliseconds
//! since the Unix epoch, read and written by the page's own `Date`, so the web bundles carry no
//! calendar, parser or formatter of their own (about 7 KiB compressed). Both offer what the web
//! app uses: `Utc::now()`, `timestamp_millis()`, `Duration::days`, `num_seconds()`, ordering
//! and instant arithmetic.

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use chrono::{DateTime, Duration, Utc};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use browser::{DateTime, Duration, Utc};

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
        pub fn to_rfc3339(&self) -> String {
            String::from(js_sys::Date::new(&JsValue::from_f64(self.millis as f64)).to_iso_string())
        }

        /// Parses RFC 3339 (`2026-12-05T14:00:00.123456Z`, `...+01:00`). ECMAScript's date
        /// format (ECMA-262 §21.4.1.32) takes exactly three fraction digits, so the fraction
        /// is cut or padded to three before `Date.parse`. `None` when the browser cannot read
        /// it.
        pub fn parse_from_rfc3339(text: &str) -> Option<Self> {
            let text = text.to_ascii_uppercase();
            let text = match text.split_once('.') {
                Some((head, rest)) => {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    let (fraction, zone) = rest.split_at(digits);
                    let ms: String = fraction.chars().chain("000".chars()).take(3).collect();
                    format!("{head}.{ms}{zone}")
                }
                None => text,
            };
            let millis = js_sys::Date::parse(&text);
            millis.is_finite().then(|| Self::from_millis(millis as i64))
        }
    }

    impl Serialize for DateTime<Utc> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&self.to_rfc3339())
        }
    }

    impl<'de> Deserialize<'de> for DateTime<Utc> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            Self::parse_from_rfc3339(&text)
                .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
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
                millis: days * 86_400_000,
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
                millis: self.millis - earlier.millis,
            }
        }
    }

    impl std::ops::Sub<Duration> for DateTime<Utc> {
        type Output = DateTime<Utc>;
        fn sub(self, span: Duration) -> Self {
            Self::from_millis(self.millis - span.millis)
        }
    }
}
