//! The rules of registration on their own: display names, hashing failures, and whether a
//! pending registration may still complete.

use crate::auth::password::HashError;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::settings::RuntimeSettings;
use invitegate_core::FieldCode;
use invitegate_core::api::MAX_DISPLAY_NAME_LENGTH;
use invitegate_core::model::{RegistrationBasis as Basis, SignupMode};
use invitegate_core::{Email, ErrorCode};

/// A trimmed display name (absent when empty); a name over 100 characters or with control
/// characters adds a `display_name` field error.
pub(crate) fn parse_display_name(name: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty())?;
    if name.chars().count() > MAX_DISPLAY_NAME_LENGTH {
        errors
            .entry("display_name".into())
            .or_default()
            .push(FieldCode::TooLong);
    } else if name.chars().any(char::is_control) {
        errors
            .entry("display_name".into())
            .or_default()
            .push(FieldCode::Invalid);
    }
    Some(name.to_string())
}

/// The answer to a failed password hash: 503 when the hashing pool is full.
pub(super) fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Busy => ApiError::new(ErrorCode::Unavailable)
            .detail("Too many registrations at once. Try again in a moment."),
        HashError::Failed(cause) => ApiError::internal(cause),
    }
}

/// Whether a pending registration of `basis` (`invitation`, `allowlist`, `open`) may still
/// complete under `settings`: the mode may have closed, or the address left the allowlist.
pub(super) fn still_allowed(
    settings: &RuntimeSettings,
    basis: Basis,
    email: &str,
) -> ApiResult<()> {
    if settings.signup_mode == SignupMode::Closed {
        return Err(ApiError::new(ErrorCode::SignupClosed));
    }
    let allowed = match basis {
        Basis::Open => settings.signup_mode == SignupMode::Open,
        Basis::Allowlist => {
            settings.signup_mode == SignupMode::Open
                || Email::parse(email)
                    .map(|e| settings.allows(&e))
                    .unwrap_or(false)
        }
        // The domain may have lost its `auto_join` policy meanwhile: checked with the database
        // in the confirming transaction.
        Basis::Invitation | Basis::OrganizationDomain => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvitationRequired))
    }
}
