//! Human messages for every API error code and field error.

use invitegate_client::ClientError;
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    MAX_DISPLAY_NAME_LENGTH, MAX_EXPIRY_DAYS, MAX_INVITATION_USES, MAX_NOTE_LENGTH,
};

/// `100000` as `100,000`.
fn thousands(n: i32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Password policy figures shown next to password fields (from `GET /signup-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fewest characters.
    pub min: u32,
    /// Most characters.
    pub max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min: invitegate_core::password::DEFAULT_MIN_LENGTH as u32,
            max: invitegate_core::password::DEFAULT_MAX_LENGTH as u32,
        }
    }
}

/// One field error code as a sentence.
pub fn field_message(field: &str, code: &str, limits: Limits) -> String {
    let field = if field == "new_password" {
        "password"
    } else {
        field
    };
    match (field, code) {
        ("password", "too_short") => format!(
            "The password is too short: use at least {} characters.",
            limits.min
        ),
        ("password", "too_long") => {
            format!("The password is too long: use at most {} characters.", limits.max)
        }
        ("password", "too_common") => {
            "This password is too common or too easy to guess. Choose a longer, less predictable one (a few unrelated words work well).".into()
        }
        ("password", "contains_email") => {
            "The password must not contain your email address.".into()
        }
        ("email", _) => "Enter a valid email address, like name@example.com.".into(),
        ("email_domain", _) => "Enter a domain, like example.com.".into(),
        ("display_name", _) => {
            format!("The name can have at most {MAX_DISPLAY_NAME_LENGTH} characters.")
        }
        ("note", _) => format!("The note can have at most {MAX_NOTE_LENGTH} characters."),
        ("expires_in_days", _) => {
            format!("The expiry must be between 1 and {MAX_EXPIRY_DAYS} days.")
        }
        ("max_uses", _) => format!(
            "Uses must be between 1 and {} (1 for an email invitation).",
            thousands(MAX_INVITATION_USES)
        ),
        ("url", _) => "Enter a public https:// URL.".into(),
        (f, "insecure_scheme") if f.ends_with("redirect_uris") => {
            "Use https:// (http:// only on localhost, 127.0.0.1 or [::1]), or an app scheme like com.example.app:/callback.".into()
        }
        (f, "not_exact") if f.ends_with("redirect_uris") => {
            "Give exact addresses: no #fragment and no * wildcard.".into()
        }
        ("organization", "not_found") => {
            "No organisation has this slug: check the spelling, or create it first.".into()
        }
        ("organization_role", _) => "The organisation role must be owner, admin or member.".into(),
        ("organization_id", _) => "This organisation does not exist or is not yours.".into(),
        (f, c) => format!("{}: {}", f.replace('_', " "), c.replace('_', " ")),
    }
}

/// The message to show for a failed call.
pub fn describe(e: &ClientError, limits: Limits) -> String {
    match e {
        ClientError::Api { problem, .. } => {
            if let Some(errors) = &problem.errors {
                let msgs: Vec<String> = errors
                    .iter()
                    .flat_map(|(f, codes)| codes.iter().map(move |c| field_message(f, c, limits)))
                    .collect();
                if !msgs.is_empty() {
                    return msgs.join(" ");
                }
            }
            match ErrorCode::from_code(&problem.code) {
                Some(ErrorCode::RateLimited) => {
                    "Too many attempts. Wait a minute, then try again.".into()
                }
                Some(ErrorCode::InvitationUsed) => {
                    "This invitation has already been used. If it was you, sign in instead.".into()
                }
                Some(ErrorCode::InvitationRevoked) => {
                    "This invitation was withdrawn by the person who sent it. Ask them for a new one.".into()
                }
                Some(ErrorCode::EmailMismatch) => {
                    "This invitation was sent to a different email address. Use the address the invitation was sent to, or ask for an invitation for this one.".into()
                }
                Some(code) => code.message().into(),
                None => problem
                    .detail
                    .clone()
                    .unwrap_or_else(|| problem.title.clone()),
            }
        }
        ClientError::Http(_) => {
            "Could not reach the server. Check your connection and try again.".into()
        }
    }
}
