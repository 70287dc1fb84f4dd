//! The stable machine codes of API problem responses (RFC 9457 `code` member).
//!
//! The UI maps each code to a message with [`ErrorCode::message`]; never rename a variant's
//! string, third parties match on it.

use crate::model::{UnknownValue, string_enum};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

string_enum! {
    /// Why a field of a 422 problem was refused: the values of `errors` (field name → codes).
    /// The UI words each one for people.
    FieldCode {
        /// Not of the expected form (an email, a domain, a cursor, a known name...).
        Invalid => "invalid",
        /// A list that needs at least one entry is empty.
        Empty => "empty",
        /// Missing, and needed here.
        Required => "required",
        /// More entries than allowed.
        TooMany => "too_many",
        /// A number outside its documented range.
        OutOfRange => "out_of_range",
        /// Shorter than the minimum (passwords: NIST SP 800-63B rev. 4 §3.1.1.2).
        TooShort => "too_short",
        /// Longer than the maximum.
        TooLong => "too_long",
        /// On the common-password blocklist (NIST SP 800-63B rev. 4 §3.1.1.2).
        TooCommon => "too_common",
        /// Contains the account's email local part.
        ContainsEmail => "contains_email",
        /// `email_domain` given together with `email`.
        ConflictsWithEmail => "conflicts_with_email",
        /// `enable_invite_only` contradicts `signup_mode` in the same change.
        ConflictsWithSignupMode => "conflicts_with_signup_mode",
        /// An email-bound invitation allows exactly one use.
        MustBe1ForEmail => "must_be_1_for_email",
        /// `send_email` needs an `email` to send to.
        RequiresEmail => "requires_email",
        /// A webhook URL that resolves to a private or special-purpose address.
        PrivateAddress => "private_address",
        /// A public mail domain (gmail.com, outlook.com, ...) cannot belong to an organisation.
        PublicEmailDomain => "public_email_domain",
        /// A redirect URI over `http` on a public host, or a scheme that is neither web nor a
        /// native app's reverse-domain scheme (RFC 8252 §7.1).
        InsecureScheme => "insecure_scheme",
        /// A redirect URI with a fragment or a wildcard: only exact URIs can be registered
        /// (RFC 9700 §2.1).
        NotExact => "not_exact",
    }
}

macro_rules! error_codes {
    ($($variant:ident => $text:tt, $status:literal, $title:literal, $message:literal;)+) => {
        /// A stable snake_case error code with its default HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode { $(#[doc = $message] #[serde(rename = $text)] $variant),+ }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];
            /// The wire string.
            pub fn as_str(self) -> &'static str { match self { $(ErrorCode::$variant => $text),+ } }
            /// The HTTP status this code is returned with.
            pub fn status(self) -> u16 { match self { $(ErrorCode::$variant => $status),+ } }
            /// The problem `title`: short, constant per code.
            pub fn title(self) -> &'static str { match self { $(ErrorCode::$variant => $title),+ } }
            /// A sentence for people, shown by the UI.
            pub fn message(self) -> &'static str { match self { $(ErrorCode::$variant => $message),+ } }
            /// Parses a wire string.
            pub fn from_code(s: &str) -> Option<Self> { match s { $($text => Some(ErrorCode::$variant),)+ _ => None } }
        }
    };
}

error_codes! {
    BadRequest => "bad_request", 400, "Bad request", "The request could not be understood.";
    InvalidJson => "invalid_json", 400, "Malformed JSON", "The request body is not valid JSON of the expected shape.";
    InvalidInvitation => "invalid_invitation", 400, "Invalid invitation", "This invitation link is not valid. Check that you copied the whole link.";
    UnknownClient => "unknown_client", 400, "Unknown client", "This sign-in link names an app that is not registered here. Go back to the app and try again, or tell its administrator.";
    RedirectUriMismatch => "redirect_uri_mismatch", 400, "Redirect URI not registered", "This sign-in link would send you to an address the app did not register. Go back to the app and tell its administrator.";
    InvalidToken => "invalid_token", 400, "Invalid token", "This link is not valid. Check that you copied the whole link.";
    Unauthenticated => "unauthenticated", 401, "Unauthenticated", "Please sign in.";
    InvalidCredentials => "invalid_credentials", 401, "Invalid credentials", "The email or password is incorrect.";
    Forbidden => "forbidden", 403, "Forbidden", "You are not allowed to do this.";
    InvitationRequired => "invitation_required", 403, "Invitation required", "Sign-up is by invitation only. Ask a member for an invitation.";
    SignupClosed => "signup_closed", 403, "Sign-up closed", "Sign-up is closed at the moment.";
    EmailMismatch => "email_mismatch", 403, "Email mismatch", "This invitation was sent to a different email address.";
    InviteQuotaExceeded => "invite_quota_exceeded", 403, "Invitation quota exceeded", "You have used all your invitations.";
    AccountDisabled => "account_disabled", 403, "Account disabled", "This account is disabled.";
    NotFound => "not_found", 404, "Not found", "Not found.";
    MethodNotAllowed => "method_not_allowed", 405, "Method not allowed", "This method is not allowed here.";
    EmailRegistered => "email_registered", 409, "Email already registered", "This email address already has an account.";
    InvitationPending => "invitation_pending", 409, "Invitation pending", "This email address already has a pending invitation.";
    InvitationNotPending => "invitation_not_pending", 409, "Invitation not pending", "Only pending invitations can be changed.";
    SlugTaken => "slug_taken", 409, "Slug taken", "Another organisation already uses this short name.";
    LastAdmin => "last_admin", 409, "Last administrator", "Invitegate needs an active administrator: make someone else administrator first.";
    LastOwner => "last_owner", 409, "Last owner", "An organisation needs an owner: make someone else owner first.";
    AlreadyMember => "already_member", 409, "Already a member", "This person is already a member of the organisation.";
    DomainTaken => "domain_taken", 409, "Domain taken", "Another organisation already has this email domain.";
    JoinRequestNotPending => "join_request_not_pending", 409, "Request already decided", "This request to join was already approved or rejected.";
    InvitationExpired => "invitation_expired", 410, "Invitation expired", "This invitation has expired. Ask for a new one.";
    InvitationRevoked => "invitation_revoked", 410, "Invitation revoked", "This invitation was revoked.";
    InvitationDeclined => "invitation_declined", 410, "Invitation declined", "This invitation was declined. Ask for a new one if you change your mind.";
    InvitationUsed => "invitation_used", 410, "Invitation used", "This invitation has already been used.";
    TokenExpired => "token_expired", 410, "Token expired", "This link has expired. Ask for a new one.";
    PayloadTooLarge => "payload_too_large", 413, "Payload too large", "The request is too large.";
    UnsupportedMediaType => "unsupported_media_type", 415, "Unsupported media type", "Send JSON with Content-Type: application/json.";
    ValidationFailed => "validation_failed", 422, "Validation failed", "Some fields are not valid.";
    RateLimited => "rate_limited", 429, "Too many requests", "Too many attempts. Wait a moment and try again.";
    Internal => "internal", 500, "Internal server error", "Something went wrong on our side.";
    Unavailable => "unavailable", 503, "Service unavailable", "The service is temporarily unavailable. Try again shortly.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert_eq!(ErrorCode::from_code(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
