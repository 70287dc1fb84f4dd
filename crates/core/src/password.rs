//! Password policy per NIST SP 800-63B rev. 4 §3.1.1.2: a minimum length (15 by default for
//! single-factor use), at least 64 characters accepted, no composition rules, NFKC
//! normalisation, and a blocklist of common passwords (checked by the server, which ships it).

/// Default minimum length in Unicode code points (NIST SP 800-63B rev. 4 §3.1.1.2).
pub const DEFAULT_MIN_LENGTH: usize = 15;
/// Default maximum length in Unicode code points; checked before hashing.
pub const DEFAULT_MAX_LENGTH: usize = 128;
/// The smallest maximum an operator may configure (NIST: at least 64 must be accepted).
pub const MIN_ALLOWED_MAX_LENGTH: usize = 64;

/// Length bounds of the password policy, in Unicode code points after NFKC normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest code points accepted.
    pub min_length: usize,
    /// Most code points accepted.
    pub max_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: DEFAULT_MIN_LENGTH,
            max_length: DEFAULT_MAX_LENGTH,
        }
    }
}

/// A rule a password breaks; serialised as its snake_case API field code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordIssue {
    /// Shorter than the policy's minimum.
    TooShort,
    /// Longer than the policy's maximum.
    TooLong,
    /// On the common-password blocklist.
    TooCommon,
    /// Contains the local part of the account's email address.
    ContainsEmail,
}

impl PasswordIssue {
    /// The field code used in 422 problem responses.
    pub fn code(self) -> crate::FieldCode {
        match self {
            Self::TooShort => crate::FieldCode::TooShort,
            Self::TooLong => crate::FieldCode::TooLong,
            Self::TooCommon => crate::FieldCode::TooCommon,
            Self::ContainsEmail => crate::FieldCode::ContainsEmail,
        }
    }
}

/// NFKC-normalises a password (NIST SP 800-63B rev. 4 §3.1.1.2). Never truncates, never folds case.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub fn normalize(password: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    password.nfkc().collect()
}

/// NFKC-normalises a password (NIST SP 800-63B rev. 4 §3.1.1.2) with the browser's
/// `String.prototype.normalize`, so the web bundles carry no Unicode tables of their own. The
/// browser only previews the policy; the server normalises again and decides.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub fn normalize(password: &str) -> String {
    js_sys::JsString::from(password)
        .normalize("NFKC")
        .as_string()
        .unwrap_or_else(|| password.to_string())
}

impl PasswordPolicy {
    /// Checks the rules that need no blocklist: length (counted in code points after NFKC) and
    /// the email's local part (case-insensitive, only when it has at least 3 characters).
    /// Returns every issue found; an empty vector means acceptable so far.
    pub fn check(&self, password: &str, email_local_part: Option<&str>) -> Vec<PasswordIssue> {
        let mut issues = Vec::new();
        // A very long input is refused before normalisation work grows with it.
        if password.len() > self.max_length * 4 {
            return vec![PasswordIssue::TooLong];
        }
        let normalized = normalize(password);
        let length = normalized.chars().count();
        if length < self.min_length {
            issues.push(PasswordIssue::TooShort);
        }
        if length > self.max_length {
            issues.push(PasswordIssue::TooLong);
        }
        if is_repetitive(&normalized) {
            issues.push(PasswordIssue::TooCommon);
        }
        if let Some(local) = email_local_part
            && local.chars().count() >= 3
            && crate::text::lowercase(&normalized).contains(&crate::text::lowercase(local))
        {
            issues.push(PasswordIssue::ContainsEmail);
        }
        issues
    }
}

/// Whether the password is one shorter unit repeated at least twice, ignoring case
/// (`passwordpassword`, `abcabcabcabcabc`): NIST SP 800-63B rev. 4 §3.1.1.2 lists repetitive
/// values among those to refuse.
pub fn is_repetitive(password: &str) -> bool {
    let chars: Vec<char> = crate::text::lowercase(password).chars().collect();
    let n = chars.len();
    (1..=n / 2).any(|p| n.is_multiple_of(p) && chars.chunks(p).all(|c| c == &chars[..p]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_code_points_after_nfkc() {
        let p = PasswordPolicy {
            min_length: 4,
            max_length: 64,
        };
        // "ﬀ" (U+FB00) normalises to "ff": two code points.
        assert!(p.check("ﬀxy", None).is_empty());
        assert_eq!(p.check("abc", None), vec![PasswordIssue::TooShort]);
        assert_eq!(
            p.check(&format!("{}x", "é".repeat(64)), None),
            vec![PasswordIssue::TooLong]
        );
    }

    #[test]
    fn accepts_64_characters_and_spaces_without_composition_rules() {
        let p = PasswordPolicy::default();
        assert!(p.check("correct horse battery staple", None).is_empty());
        let sixty_four = "all lower case, no digits, spaces allowed: sixty-four characters";
        assert_eq!(sixty_four.chars().count(), 64);
        assert!(p.check(sixty_four, None).is_empty());
    }

    #[test]
    fn rejects_repeated_units() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("passwordPASSWORD", None),
            vec![PasswordIssue::TooCommon]
        );
        assert_eq!(
            p.check(&"ab".repeat(10), None),
            vec![PasswordIssue::TooCommon]
        );
        assert!(p.check("password password", None).is_empty());
    }

    #[test]
    fn rejects_the_email_local_part() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("my name is Annabel and this is long", Some("annabel")),
            vec![PasswordIssue::ContainsEmail]
        );
    }
}
