//! Organisations (issue 12, first part): management, isolation, roles, the last owner, who may
//! invite into one, and new accounts joining through an organisation invitation.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::{Acceptance, Client, Registration};
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::OrganizationRole;

both_backends!(
    an_administrator_creates_an_organisation_and_owns_it,
    a_new_account_joins_through_an_organisation_invitation,
    non_members_see_nothing_and_members_see_their_own,
    roles_follow_who_governs_and_the_last_owner_stays,
    who_may_invite_into_an_organisation,
    concurrent_demotions_leave_an_owner,
    an_existing_account_signs_in_and_accepts,
    concurrent_accepts_make_one_membership,
    declining_ends_the_invitation_and_returns_the_quota,
    a_signed_in_account_accepts_by_the_token_of_its_link,
);

fn org_req(name: &str) -> CreateOrganizationRequest {
    CreateOrganizationRequest {
        name: name.into(),
        ..Default::default()
    }
}

fn role(r: OrganizationRole) -> UpdateMembershipRequest {
    UpdateMembershipRequest { role: r }
}

/// An organisation invitation for `email` as `as_role`, created by `by` and registered.
async fn join(
    app: &TestApp,
    by: &Client,
    org: &str,
    email: &str,
    as_role: OrganizationRole,
) -> (Client, SessionResponse) {
    let inv = by
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.into()),
            organization_role: Some(as_role),
            ..email_req(email)
        })
        .await
        .expect("invitation");
    match app
        .api
        .register(&register_req(email, Some(&inv.token)))
        .await
        .expect("registers")
    {
        Registration::SignedIn(s) => (app.api.with_bearer(&s.access_token), *s),
        Registration::VerificationPending => panic!("email-bound invitations sign in at once"),
    }
}

async fn an_administrator_creates_an_organisation_and_owns_it(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&org_req("  Acme Rockets & Co. "))
        .await
        .unwrap();
    assert_eq!(
        (org.name.as_str(), org.slug.as_str()),
        ("Acme Rockets & Co.", "acme-rockets-co")
    );
    assert_eq!(org.member_count, 1);
    assert!(org.members_can_invite);
    let me = admin.me().await.unwrap();
    assert_eq!(me.memberships.len(), 1);
    assert_eq!(me.memberships[0].organization.id, org.id);
    assert_eq!(me.memberships[0].role, OrganizationRole::Owner);

    assert_problem(
        admin
            .create_organization(&CreateOrganizationRequest {
                slug: Some("acme-rockets-co".into()),
                ..org_req("Other")
            })
            .await,
        409,
        ErrorCode::SlugTaken,
    );
    for bad in [
        org_req("   "),
        CreateOrganizationRequest {
            slug: Some("Not A Slug".into()),
            ..org_req("Fine")
        },
    ] {
        assert_problem(
            admin.create_organization(&bad).await,
            422,
            ErrorCode::ValidationFailed,
        );
    }
    let renamed = admin
        .update_organization(
            &org.id,
            &UpdateOrganizationRequest {
                name: Some("Acme".into()),
                members_can_invite: Some(false),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.slug.as_str()),
        ("Acme", "acme-rockets-co")
    );
    assert!(!renamed.members_can_invite);
    let audit = admin
        .list_audit_events(&AuditEventQuery {
            target_id: Some(org.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = audit.data.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "organization.created",
        "membership.created",
        "organization.updated",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn a_new_account_joins_through_an_organisation_invitation(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            organization_role: Some(OrganizationRole::Admin),
            ..email_req("ann@example.com")
        })
        .await
        .unwrap();
    let shown = inv
        .invitation
        .organization
        .clone()
        .expect("the invitation names it");
    assert_eq!(
        (shown.id.as_str(), shown.slug.as_str()),
        (org.id.as_str(), "acme")
    );
    assert_eq!(
        inv.invitation.organization_role,
        Some(OrganizationRole::Admin)
    );
    let preview = app.api.verify_invitation(&inv.token).await.unwrap();
    assert_eq!(preview.invitation.organization.unwrap().name, "Acme");

    let ann = match app
        .api
        .register(&register_req("ann@example.com", Some(&inv.token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => app.api.with_bearer(&s.access_token),
        Registration::VerificationPending => panic!("email-bound invitations sign in at once"),
    };
    let me = ann.me().await.unwrap();
    assert_eq!(me.memberships.len(), 1);
    assert_eq!(me.memberships[0].organization.name, "Acme");
    assert_eq!(me.memberships[0].role, OrganizationRole::Admin);
    assert_eq!(
        me.memberships[0].invited_by.as_ref().map(|a| a.id.as_str()),
        Some(inv.invitation.inviter.id.as_str())
    );
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        2
    );
    let actions: Vec<String> = admin
        .list_audit_events(&Default::default())
        .await
        .unwrap()
        .data
        .into_iter()
        .map(|e| e.action)
        .collect();
    let newest = |a: &str| actions.iter().position(|x| x == a).expect(a);
    assert!(
        newest("registration.succeeded") < newest("membership.created")
            && newest("membership.created") < newest("invitation.redeemed"),
        "newest first, in the order they happened: {actions:?}"
    );

    // A domain invitation into the organisation: the member joins once the address is proven.
    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            ..domain_req("corp.example", 5)
        })
        .await
        .unwrap();
    assert!(matches!(
        app.api
            .register(&register_req("bo@corp.example", Some(&domain.token)))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        2
    );
    let token = app.link_token_for("bo@corp.example", "/verify-email").await;
    let session = app
        .api
        .confirm_email(&token, "a long enough passphrase")
        .await
        .unwrap();
    let bo = app.api.with_bearer(&session.access_token);
    let me = bo.me().await.unwrap();
    assert_eq!(me.memberships[0].role, OrganizationRole::Member);
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        3
    );

    // An unknown organisation creates nothing.
    assert_problem(
        admin
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some("no-such-org".into()),
                ..email_req("cy@example.com")
            })
            .await,
        404,
        ErrorCode::NotFound,
    );
}

async fn non_members_see_nothing_and_members_see_their_own(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let acme = admin.create_organization(&org_req("Acme")).await.unwrap();
    let globex = admin.create_organization(&org_req("Globex")).await.unwrap();
    let (ann, _) = join(
        &app,
        &admin,
        &acme.id,
        "ann@example.com",
        OrganizationRole::Member,
    )
    .await;
    let (outsider, _) = app.member(&admin, "out@example.com").await;

    let mine = ann.list_organizations(&Default::default()).await.unwrap();
    assert_eq!(
        mine.data.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        [acme.id.as_str()]
    );
    assert!(ann.get_organization(&acme.id).await.is_ok());
    assert_eq!(
        ann.organization_members(&acme.id, &Default::default())
            .await
            .unwrap()
            .data
            .len(),
        2
    );
    for (client, id) in [(&ann, &globex.id), (&outsider, &acme.id)] {
        assert_problem(client.get_organization(id).await, 404, ErrorCode::NotFound);
        assert_problem(
            client.organization_members(id, &Default::default()).await,
            404,
            ErrorCode::NotFound,
        );
    }
    assert!(
        outsider
            .list_organizations(&Default::default())
            .await
            .unwrap()
            .data
            .is_empty()
    );
    let glob = OrganizationListQuery {
        q: Some("GLOB".into()),
        ..Default::default()
    };
    assert_eq!(admin.list_organizations(&glob).await.unwrap().data.len(), 1);
    assert_problem(
        ann.create_organization(&org_req("Mine")).await,
        403,
        ErrorCode::Forbidden,
    );
}

async fn roles_follow_who_governs_and_the_last_owner_stays(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let owner_id = admin.me().await.unwrap().user.id;
    let (ann, ann_s) = join(
        &app,
        &admin,
        &org.id,
        "ann@example.com",
        OrganizationRole::Admin,
    )
    .await;
    let (bo, bo_s) = join(
        &app,
        &admin,
        &org.id,
        "bo@example.com",
        OrganizationRole::Member,
    )
    .await;

    // Members change nothing; admins manage members but not owners.
    assert_problem(
        bo.update_organization_member(&org.id, &ann_s.user.id, &role(OrganizationRole::Member))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        bo.update_organization(
            &org.id,
            &UpdateOrganizationRequest {
                name: Some("Mine".into()),
                ..Default::default()
            },
        )
        .await,
        403,
        ErrorCode::Forbidden,
    );
    let promoted = ann
        .update_organization_member(&org.id, &bo_s.user.id, &role(OrganizationRole::Admin))
        .await
        .unwrap();
    assert_eq!(promoted.role, OrganizationRole::Admin);
    assert_problem(
        ann.update_organization_member(&org.id, &bo_s.user.id, &role(OrganizationRole::Owner))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        ann.remove_organization_member(&org.id, &owner_id).await,
        403,
        ErrorCode::Forbidden,
    );

    // The only owner can neither step down nor leave.
    assert_problem(
        admin
            .update_organization_member(&org.id, &owner_id, &role(OrganizationRole::Member))
            .await,
        409,
        ErrorCode::LastOwner,
    );
    assert_problem(
        admin.remove_organization_member(&org.id, &owner_id).await,
        409,
        ErrorCode::LastOwner,
    );
    // With a second owner, the first may go.
    admin
        .update_organization_member(&org.id, &ann_s.user.id, &role(OrganizationRole::Owner))
        .await
        .unwrap();
    admin
        .remove_organization_member(&org.id, &owner_id)
        .await
        .unwrap();
    assert!(admin.me().await.unwrap().memberships.is_empty());
    // A member leaves on their own.
    bo.remove_organization_member(&org.id, &bo_s.user.id)
        .await
        .unwrap();
    assert_problem(bo.get_organization(&org.id).await, 404, ErrorCode::NotFound);
    assert_eq!(ann.get_organization(&org.id).await.unwrap().member_count, 1);
}

async fn who_may_invite_into_an_organisation(b: Backend) {
    let app = spawn_app_with(b, |c| c.max_invites_per_user = 1).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let (org_admin, _) = join(
        &app,
        &admin,
        &org.id,
        "ann@example.com",
        OrganizationRole::Admin,
    )
    .await;
    let (member, _) = join(
        &app,
        &admin,
        &org.id,
        "bo@example.com",
        OrganizationRole::Member,
    )
    .await;
    let (outsider, _) = app.member(&admin, "out@example.com").await;
    let into = |email: &str, r: OrganizationRole| CreateInvitationRequest {
        organization_id: Some(org.id.clone()),
        organization_role: Some(r),
        ..email_req(email)
    };

    // An organisation admin invites without a quota (two, past the instance quota of one).
    for email in ["c1@example.com", "c2@example.com"] {
        org_admin
            .create_invitation(&into(email, OrganizationRole::Member))
            .await
            .unwrap();
    }
    assert_problem(
        org_admin
            .create_invitation(&into("c3@example.com", OrganizationRole::Owner))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    // A member invites as `member` only, from their quota.
    assert_problem(
        member
            .create_invitation(&into("d1@example.com", OrganizationRole::Admin))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    member
        .create_invitation(&into("d2@example.com", OrganizationRole::Member))
        .await
        .unwrap();
    assert_problem(
        member
            .create_invitation(&into("d3@example.com", OrganizationRole::Member))
            .await,
        403,
        ErrorCode::InviteQuotaExceeded,
    );
    // Not a member: the organisation does not exist for them.
    assert_problem(
        outsider
            .create_invitation(&into("e1@example.com", OrganizationRole::Member))
            .await,
        404,
        ErrorCode::NotFound,
    );
    // When members may not invite, they cannot.
    admin
        .update_organization(
            &org.id,
            &UpdateOrganizationRequest {
                members_can_invite: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (member2, _) = join(
        &app,
        &admin,
        &org.id,
        "fe@example.com",
        OrganizationRole::Member,
    )
    .await;
    assert_problem(
        member2
            .create_invitation(&into("f1@example.com", OrganizationRole::Member))
            .await,
        403,
        ErrorCode::Forbidden,
    );
}

async fn concurrent_demotions_leave_an_owner(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let owner_id = admin.me().await.unwrap().user.id;
    let (ann, ann_s) = join(
        &app,
        &admin,
        &org.id,
        "ann@example.com",
        OrganizationRole::Owner,
    )
    .await;
    // Each owner steps down at the same moment: one may, the other is the last owner.
    let demote = role(OrganizationRole::Member);
    let (a, b2) = tokio::join!(
        admin.update_organization_member(&org.id, &owner_id, &demote),
        ann.update_organization_member(&org.id, &ann_s.user.id, &demote),
    );
    let outcomes = [a.is_ok(), b2.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b2:?}");
    let failed = if a.is_err() {
        a.map(|_| ())
    } else {
        b2.map(|_| ())
    };
    assert_problem(failed, 409, ErrorCode::LastOwner);
    let members = admin
        .organization_members(&org.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        members
            .data
            .iter()
            .filter(|m| m.role == OrganizationRole::Owner)
            .count(),
        1
    );
}

async fn an_existing_account_signs_in_and_accepts(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let (ann, ann_s) = app.member(&admin, "ann@example.com").await;
    let (bo, _) = app.member(&admin, "bo@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            organization_role: Some(OrganizationRole::Admin),
            ..email_req("ann@example.com")
        })
        .await
        .expect("an organisation invitation may go to an existing account");
    // The owner is told to sign in; registering with the token changes nothing.
    assert!(
        app.emails()
            .await
            .iter()
            .any(|m| m.contains("To: ann@example.com")
                && m.contains("/login?login_hint=ann%40example.com")),
        "a sign-in-to-accept email went to ann"
    );
    let users = app.count_users().await;
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    assert_eq!(app.count_users().await, users);

    let mine = ann.my_invitations().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].organization.as_ref().unwrap().name, "Acme");
    assert_eq!(mine[0].inviter_name.as_deref(), Some("owner@example.com"));
    assert!(bo.my_invitations().await.unwrap().is_empty());
    // Someone else's invitation does not exist for another account.
    assert_problem(
        bo.accept_invitation(&inv.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );

    let membership = ann.accept_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(membership.role, OrganizationRole::Admin);
    assert_eq!(membership.user.id, ann_s.user.id);
    assert_eq!(ann.me().await.unwrap().memberships.len(), 1);
    assert!(ann.my_invitations().await.unwrap().is_empty());
    assert_problem(
        ann.accept_invitation(&inv.invitation.id).await,
        409,
        ErrorCode::AlreadyMember,
    );
    // Inviting a member again says so.
    assert_problem(
        admin
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some(org.id.clone()),
                ..email_req("ann@example.com")
            })
            .await,
        409,
        ErrorCode::AlreadyMember,
    );
    // Without an organisation, an existing account is still not invitable.
    assert_problem(
        admin.create_invitation(&email_req("bo@example.com")).await,
        409,
        ErrorCode::EmailRegistered,
    );
    let audit = admin
        .list_audit_events(&AuditEventQuery {
            target_id: Some(inv.invitation.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.data.iter().any(|e| e.action == "invitation.accepted"));
}

async fn concurrent_accepts_make_one_membership(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let (ann, _) = app.member(&admin, "ann@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            ..email_req("ann@example.com")
        })
        .await
        .unwrap();
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (ann, id) = (ann.clone(), inv.invitation.id.clone());
        attempts.spawn(async move { ann.accept_invitation(&id).await });
    }
    let results = attempts.join_all().await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.into_iter().filter(|r| r.is_err()) {
        let status = match r {
            Err(invitegate_client::ClientError::Api { status, .. }) => status,
            other => panic!("{other:?}"),
        };
        assert!([409, 410].contains(&status), "no 5xx: {status}");
    }
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        2
    );
}

async fn declining_ends_the_invitation_and_returns_the_quota(b: Backend) {
    let app = spawn_app_with(b, |c| c.max_invites_per_user = 1).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let (inviter, _) = join(
        &app,
        &admin,
        &org.id,
        "ann@example.com",
        OrganizationRole::Member,
    )
    .await;
    let (bo, _) = app.member(&admin, "bo@example.com").await;
    let (cy, _) = app.member(&admin, "cy@example.com").await;
    let into = |email: &str| CreateInvitationRequest {
        organization_id: Some(org.id.clone()),
        ..email_req(email)
    };
    let inv = inviter
        .create_invitation(&into("bo@example.com"))
        .await
        .unwrap();
    assert_problem(
        inviter.create_invitation(&into("dee@example.com")).await,
        403,
        ErrorCode::InviteQuotaExceeded,
    );
    assert_problem(
        cy.decline_invitation(&inv.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );

    let declined = bo.decline_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(
        declined.state,
        invitegate_core::model::InvitationState::Declined
    );
    assert_problem(
        bo.decline_invitation(&inv.invitation.id).await,
        409,
        ErrorCode::InvitationNotPending,
    );
    // Its link is dead, it cannot be accepted, and it is no longer offered.
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationDeclined,
    );
    assert_problem(
        bo.accept_invitation(&inv.invitation.id).await,
        410,
        ErrorCode::InvitationDeclined,
    );
    assert!(bo.my_invitations().await.unwrap().is_empty());
    // The inviter's quota place is back.
    inviter
        .create_invitation(&into("dee@example.com"))
        .await
        .unwrap();
    let listed = admin
        .list_invitations(&InvitationListQuery {
            state: Some(invitegate_core::model::InvitationState::Declined),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        listed
            .data
            .iter()
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>(),
        [inv.invitation.id.as_str()]
    );
    let revoked = admin
        .list_invitations(&InvitationListQuery {
            state: Some(invitegate_core::model::InvitationState::Revoked),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(revoked.data.is_empty());
}

async fn a_signed_in_account_accepts_by_the_token_of_its_link(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin.create_organization(&org_req("Acme")).await.unwrap();
    let (ann, ann_s) = app.member(&admin, "ann@example.com").await;
    let (bo, _) = app.member(&admin, "bo@corp.example").await;
    let (cy, _) = app.member(&admin, "cy@example.com").await;
    let into = |req: CreateInvitationRequest| CreateInvitationRequest {
        organization_id: Some(org.id.clone()),
        ..req
    };

    // Addressed to the account: accepted by its link's token.
    let to_ann = admin
        .create_invitation(&into(email_req("ann@example.com")))
        .await
        .unwrap();
    // Another account holding that link cannot join with it: the address it names is sent a
    // proof-of-ownership link instead, and the invitation stays intact.
    assert!(matches!(
        cy.accept_invitation_by_token(&to_ann.token).await.unwrap(),
        Acceptance::VerificationPending
    ));
    app.api
        .verify_invitation(&to_ann.token)
        .await
        .expect("still pending");
    ann.accept_invitation_by_token(&to_ann.token)
        .await
        .unwrap()
        .member()
        .expect("joins");

    // A domain invitation: accounts at the domain only.
    let corp = admin
        .create_invitation(&into(domain_req("corp.example", 5)))
        .await
        .unwrap();
    assert_problem(
        cy.accept_invitation_by_token(&corp.token).await,
        403,
        ErrorCode::EmailMismatch,
    );
    // Without the token, an invitation that is not bound to the account's address is not theirs.
    assert_problem(
        bo.accept_invitation(&corp.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );
    let m = bo
        .accept_invitation_by_token(&corp.token)
        .await
        .unwrap()
        .member()
        .expect("joins");
    assert_eq!(m.organization.id, org.id);

    // An open one: whoever holds the link, and only with the link.
    let open = admin
        .create_invitation(&into(CreateInvitationRequest {
            max_uses: Some(3),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_problem(
        cy.accept_invitation(&open.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );
    cy.accept_invitation_by_token(&open.token)
        .await
        .unwrap()
        .member()
        .expect("joins");
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        4
    );

    // Forged tokens, invitations into no organisation, and malformed bodies.
    assert_problem(
        ann.accept_invitation_by_token("forged").await,
        400,
        ErrorCode::InvalidInvitation,
    );
    let plain = admin
        .create_invitation(&email_req("dee@example.com"))
        .await
        .unwrap();
    assert_problem(
        ann.accept_invitation_by_token(&plain.token).await,
        404,
        ErrorCode::NotFound,
    );
    let res = app
        .http
        .post(app.url("/api/v1/invitations/accept"))
        .bearer_auth(&ann_s.access_token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}
