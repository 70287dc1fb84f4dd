//! The invitation rules on their own, without a database: parsing a create request, who may
//! create what, the state machine, and which redemptions sign in at once.

use super::rules::{Binding, authorize_create, may_manage, parse_create};
use crate::auth::Principal;
use crate::settings::RuntimeSettings;
use crate::storage::models::{ApiKeyRow, InvitationRow, UserRow};
use chrono::{Duration, NaiveDateTime};
use invitegate_core::ErrorCode;
use invitegate_core::api::CreateInvitationRequest;
use invitegate_core::model::{ActorType, InvitationState, Role, Scope, SignupMode};

fn settings() -> RuntimeSettings {
    RuntimeSettings {
        signup_mode: SignupMode::InviteOnly,
        invite_link_expiry: 7,
        max_invites_per_user: 5,
        allowlist: vec![],
    }
}

fn t0() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000, 0)
        .unwrap()
        .naive_utc()
}

fn user(role: Role) -> Principal {
    Principal::User {
        user: Box::new(UserRow {
            id: format!("{role}-1"),
            email: format!("{role}@example.com"),
            display_name: None,
            password_hash: String::new(),
            role,
            created_at: t0(),
            disabled_at: None,
            invited_by_type: None,
            invited_by_id: None,
            invitation_id: None,
            invitation_serial: 0,
        }),
        session_id: "s".into(),
    }
}

fn key(scopes: &str) -> Principal {
    Principal::ApiKey(Box::new(ApiKeyRow {
        id: "key-1".into(),
        name: "seed".into(),
        prefix: "igk_abcd".into(),
        key_hash: String::new(),
        scopes: scopes.into(),
        created_at: t0(),
        created_by: None,
        last_used_at: None,
        revoked_at: None,
    }))
}

fn invitation(email: Option<&str>, max_uses: i32) -> InvitationRow {
    InvitationRow {
        id: "inv-1".into(),
        token_hash: String::new(),
        email: email.map(String::from),
        pending_email: email.map(String::from),
        email_domain: None,
        role: Role::Member,
        max_uses,
        uses: 0,
        expires_at: t0() + Duration::days(7),
        created_at: t0(),
        accepted_at: None,
        revoked_at: None,
        inviter_type: ActorType::User,
        inviter_id: "member-1".into(),
        note: None,
        bootstrap: false,
        reminded_at: None,
        expired_at: None,
        email_proof_required: false,
        organization_id: None,
        organization_role: None,
        declined_at: None,
        client_id: None,
        delivered_at: None,
        opened_at: None,
    }
}

fn errors_of(req: CreateInvitationRequest) -> Vec<(String, Vec<String>)> {
    parse_create(&req, &settings())
        .err()
        .map(|e| {
            e.into_iter()
                .map(|(f, codes)| (f, codes.iter().map(|c| c.to_string()).collect()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_create_request_is_parsed_into_its_binding_with_the_settings_defaults() {
    let new = parse_create(
        &CreateInvitationRequest {
            email: Some(" Ann@Example.COM ".into()),
            ..Default::default()
        },
        &settings(),
    )
    .unwrap();
    assert!(matches!(&new.binding, Binding::Email(e) if e.as_str() == "ann@example.com"));
    assert_eq!(
        (new.max_uses, new.expires_in_days, new.role),
        (1, 7, Role::Member)
    );
    assert!(
        new.send_email,
        "email-bound invitations are emailed by default"
    );
    let open = parse_create(&CreateInvitationRequest::default(), &settings()).unwrap();
    assert_eq!(open.binding, Binding::Open);
    assert!(!open.send_email);
}

#[test]
fn contradictory_or_out_of_range_create_requests_name_every_field() {
    let errors = errors_of(CreateInvitationRequest {
        email: Some("ann@example.com".into()),
        email_domain: Some("example.com".into()),
        max_uses: Some(3),
        expires_in_days: Some(0),
        note: Some("bell\u{7}".into()),
        ..Default::default()
    });
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["email_domain", "expires_in_days", "max_uses", "note"]
    );
    assert_eq!(
        errors_of(CreateInvitationRequest {
            send_email: Some(true),
            ..Default::default()
        }),
        [("send_email".to_string(), vec!["requires_email".to_string()])]
    );
}

#[test]
fn members_invite_one_address_as_members_and_only_admins_grant_admin() {
    let email_member = parse_create(
        &CreateInvitationRequest {
            email: Some("friend@example.com".into()),
            ..Default::default()
        },
        &settings(),
    )
    .unwrap();
    let open = parse_create(&CreateInvitationRequest::default(), &settings()).unwrap();
    let admin_invite = parse_create(
        &CreateInvitationRequest {
            role: Some(Role::Admin),
            ..Default::default()
        },
        &settings(),
    )
    .unwrap();
    assert!(authorize_create(&user(Role::Member), &email_member).is_ok());
    let refused = authorize_create(&user(Role::Member), &open).unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    assert!(authorize_create(&key("invitations:write"), &open).is_ok());
    assert!(authorize_create(&key("invitations:write"), &admin_invite).is_err());
    assert!(authorize_create(&key("admin"), &admin_invite).is_ok());
    assert!(authorize_create(&user(Role::Admin), &admin_invite).is_ok());
    assert!(authorize_create(&key("invitations:read"), &email_member).is_err());
}

#[test]
fn the_state_machine_puts_revoked_first_then_accepted_then_expired() {
    let mut inv = invitation(Some("ann@example.com"), 1);
    assert_eq!(inv.state(t0()), InvitationState::Pending);
    assert_eq!(
        inv.state(t0() + Duration::days(8)),
        InvitationState::Expired
    );
    inv.uses = 1;
    assert_eq!(
        inv.state(t0() + Duration::days(8)),
        InvitationState::Accepted,
        "an accepted invitation stays accepted after its expiry"
    );
    inv.revoked_at = Some(t0());
    assert_eq!(inv.state(t0()), InvitationState::Revoked);
    let mut multi = invitation(None, 3);
    multi.uses = 2;
    assert_eq!(multi.state(t0()), InvitationState::Pending);
}

#[test]
fn only_a_token_that_reached_the_invitee_alone_signs_in_at_once() {
    let mut inv = invitation(Some("ann@example.com"), 1);
    assert!(inv.signs_in_at_once());
    inv.email_proof_required = true;
    assert!(
        !inv.signs_in_at_once(),
        "a member's invitation proves the email first"
    );
    let open = invitation(None, 5);
    assert!(!open.signs_in_at_once());
    let owner = InvitationRow {
        bootstrap: true,
        ..invitation(None, 1)
    };
    assert!(owner.signs_in_at_once());
}

#[test]
fn an_invitation_is_managed_by_its_member_or_a_scoped_caller() {
    let inv = invitation(Some("ann@example.com"), 1);
    assert!(may_manage(
        &user(Role::Member),
        &inv,
        Scope::InvitationsWrite
    ));
    let other = InvitationRow {
        inviter_id: "someone-else".into(),
        ..inv.clone()
    };
    assert!(!may_manage(
        &user(Role::Member),
        &other,
        Scope::InvitationsWrite
    ));
    assert!(may_manage(
        &key("invitations:read"),
        &other,
        Scope::InvitationsRead
    ));
    assert!(!may_manage(
        &key("invitations:read"),
        &other,
        Scope::InvitationsWrite
    ));
}
