//! The registration rules on their own: which pending registrations may still complete, and
//! display names.

use super::rules::{parse_display_name, still_allowed};
use crate::error::FieldErrors;
use crate::settings::RuntimeSettings;
use invitegate_core::model::{RegistrationBasis as Basis, SignupMode};
use invitegate_core::{ErrorCode, FieldCode};

fn settings(mode: SignupMode, allowlist: &[&str]) -> RuntimeSettings {
    RuntimeSettings {
        signup_mode: mode,
        invite_link_expiry: 7,
        max_invites_per_user: 5,
        allowlist: allowlist.iter().map(|s| s.to_string()).collect(),
    }
}

fn code(r: crate::error::ApiResult<()>) -> Option<ErrorCode> {
    r.err().map(|e| e.code)
}

#[test]
fn a_pending_registration_completes_only_while_its_basis_still_holds() {
    let invite_only = settings(SignupMode::InviteOnly, &["corp.example"]);
    assert_eq!(
        code(still_allowed(
            &invite_only,
            Basis::Invitation,
            "a@x.example"
        )),
        None
    );
    assert_eq!(
        code(still_allowed(
            &invite_only,
            Basis::Allowlist,
            "a@corp.example"
        )),
        None
    );
    assert_eq!(
        code(still_allowed(&invite_only, Basis::Allowlist, "a@x.example")),
        Some(ErrorCode::InvitationRequired),
        "the address left the allowlist"
    );
    assert_eq!(
        code(still_allowed(&invite_only, Basis::Open, "a@x.example")),
        Some(ErrorCode::InvitationRequired),
        "open sign-up ended"
    );
    let open = settings(SignupMode::Open, &[]);
    assert_eq!(
        code(still_allowed(&open, Basis::Allowlist, "a@x.example")),
        None
    );
    let closed = settings(SignupMode::Closed, &["corp.example"]);
    for &basis in Basis::ALL {
        assert_eq!(
            code(still_allowed(&closed, basis, "a@corp.example")),
            Some(ErrorCode::SignupClosed),
            "{basis}"
        );
    }
}

#[test]
fn display_names_are_trimmed_bounded_and_free_of_control_characters() {
    let mut errors = FieldErrors::new();
    assert_eq!(
        parse_display_name(Some("  Ann  "), &mut errors).as_deref(),
        Some("Ann")
    );
    assert_eq!(parse_display_name(Some("   "), &mut errors), None);
    assert!(errors.is_empty());
    parse_display_name(Some("a\u{0}b"), &mut errors);
    assert_eq!(errors["display_name"], [FieldCode::Invalid]);
    let mut errors = FieldErrors::new();
    parse_display_name(Some(&"x".repeat(101)), &mut errors);
    assert_eq!(errors["display_name"], [FieldCode::TooLong]);
}
