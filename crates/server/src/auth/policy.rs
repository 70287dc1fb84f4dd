//! The password policy in force (NIST SP 800-63B rev. 4: length, the common-password list, no
//! local part of the email), applied wherever a password is chosen.

use crate::error::FieldErrors;
use crate::state::AppState;
use invitegate_core::Email;
use invitegate_core::FieldCode;
use invitegate_core::password::{self, PasswordIssue, PasswordPolicy};

/// The password policy in force.
pub fn policy(state: &AppState) -> PasswordPolicy {
    PasswordPolicy {
        min_length: state.config.password_min_length,
        max_length: state.config.password_max_length,
    }
}

/// Checks a password against the policy and the common-password list: every issue found.
pub fn password_issues(
    state: &AppState,
    password: &str,
    email: Option<&Email>,
) -> Vec<PasswordIssue> {
    let mut issues = policy(state).check(password, email.map(|e| e.local_part()));
    if !issues.contains(&PasswordIssue::TooLong)
        && state
            .common_passwords
            .contains(&password::normalize(password).to_lowercase())
    {
        issues.push(PasswordIssue::TooCommon);
    }
    issues
}

/// The password of a request that sets one: 422 `password`: `required` when absent, else the
/// policy's codes; the NFKC-normalised password when it passes.
pub fn parse_new_password(
    state: &AppState,
    password: Option<&str>,
    email: &Email,
    errors: &mut FieldErrors,
) -> Option<String> {
    let Some(password) = password else {
        errors.insert("password".into(), vec![FieldCode::Required]);
        return None;
    };
    let issues = password_issues(state, password, Some(email));
    if issues.is_empty() {
        Some(password::normalize(password))
    } else {
        errors.insert("password".into(), issues.iter().map(|i| i.code()).collect());
        None
    }
}

/// The password typed at a sign-in or a re-check, as it is verified: NFKC-normalised, or empty
/// when it is over four times the longest allowed (refused after the same hashing work, so a
/// megabyte of text costs no more than a wrong password).
pub fn sign_in_candidate(state: &AppState, given: &str) -> String {
    if given.len() > state.config.password_max_length * 4 {
        String::new()
    } else {
        password::normalize(given)
    }
}
