//! Email addresses, parsed at the edge.

use std::fmt;

/// Longest address accepted, in octets (RFC 5321 §4.5.3.1.3 path limit minus the brackets).
pub const MAX_EMAIL_LENGTH: usize = 254;
const MAX_LOCAL_PART: usize = 64;

/// An email address normalised for identity comparisons: trimmed and lower-cased, so that
/// `" Ann@Example.COM "` and `"ann@example.com"` are the same account (Discourse PR #17173).
///
/// Accepts `local@domain` with a dot-atom local part (RFC 5322 §3.2.3, without quoted strings or
/// comments) of at most 64 octets and a domain of LDH labels with at least one dot. Control
/// characters (CR/LF included) and whitespace inside the address are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an [`Email`]; its API field code is always `invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

impl Email {
    /// Parses and normalises `input`. Errors: [`InvalidEmail`].
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let s = crate::text::lowercase(input.trim());
        if s.is_empty() || s.len() > MAX_EMAIL_LENGTH {
            return Err(InvalidEmail);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(InvalidEmail)?;
        if local.is_empty() || local.len() > MAX_LOCAL_PART || !is_dot_atom(local) {
            return Err(InvalidEmail);
        }
        if !is_domain(domain) {
            return Err(InvalidEmail);
        }
        Ok(Self(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or_default()
    }

    /// The domain after the `@`, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Consumes the address into its normalised string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom(s: &str) -> bool {
    s.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// A domain name of LDH labels (RFC 1035 §2.3.1) with at least two labels, e.g. `example.com`.
pub fn is_domain(s: &str) -> bool {
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    s.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Normalises an email domain (`" Example.COM "` → `example.com`), or `None` when invalid.
pub fn parse_domain(input: &str) -> Option<String> {
    let d = crate::text::lowercase(input.trim().trim_start_matches('@'));
    is_domain(&d).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn refuses_malformed_and_injected_addresses() {
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "a b@example.com",
            "ann@example.com\r\nBcc: x@y.z",
            "ann@@example.com",
            "ann..b@example.com",
            "ann@-example.com",
            "ann@exa_mple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn splits_local_part_and_domain() {
        let e = Email::parse("first.last+tag@sub.example.org").unwrap();
        assert_eq!(e.local_part(), "first.last+tag");
        assert_eq!(e.domain(), "sub.example.org");
    }
}
