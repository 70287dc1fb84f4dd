//! Organisation domains: claimed once, public mail domains refused; `suggest` lets matching
//! accounts ask and owners or admins decide; `auto_join` admits sign-up without an invitation
//! and brings existing accounts in when they next sign in.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::{Client, Registration};
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{DomainPolicy, JoinRequestState, OrganizationRole};

both_backends!(
    domains_are_claimed_once_and_public_mail_domains_refused,
    a_suggest_domain_lets_matching_accounts_ask_and_admins_decide,
    an_auto_join_domain_admits_sign_up_and_existing_accounts_at_sign_in,
);

fn domain(d: &str, policy: DomainPolicy) -> AddDomainRequest {
    AddDomainRequest {
        domain: d.into(),
        policy,
    }
}

/// Registers `email` through an invitation into `org` with `role`.
async fn member_of(
    app: &TestApp,
    admin: &Client,
    org: &str,
    email: &str,
    role: OrganizationRole,
) -> Client {
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.into()),
            organization_role: Some(role),
            ..email_req(email)
        })
        .await
        .unwrap();
    match app
        .api
        .register(&register_req(email, Some(&inv.token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => app.api.with_bearer(&s.access_token),
        Registration::VerificationPending => panic!("email-bound invitations sign in at once"),
    }
}

async fn domains_are_claimed_once_and_public_mail_domains_refused(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;
    let globex = org(&admin, "Globex").await;
    let ann = member_of(
        &app,
        &admin,
        &acme.id,
        "ann@example.com",
        OrganizationRole::Admin,
    )
    .await;
    let bo = member_of(
        &app,
        &admin,
        &acme.id,
        "bo@example.com",
        OrganizationRole::Member,
    )
    .await;
    let (outsider, _) = app.member(&admin, "cy@example.com").await;
    let olive = member_of(
        &app,
        &admin,
        &acme.id,
        "olive@acme.example",
        OrganizationRole::Owner,
    )
    .await;

    // An owner claims the domain of their own address, and no other.
    let added = olive
        .add_organization_domain(&acme.id, &domain(" Acme.EXAMPLE", DomainPolicy::Suggest))
        .await
        .unwrap();
    assert_problem(
        olive
            .add_organization_domain(&acme.id, &domain("globex.example", DomainPolicy::AutoJoin))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_eq!(added.domain, "acme.example");
    assert_eq!(added.policy, DomainPolicy::Suggest);
    for (d, code) in [
        ("gmail.com", "public_email_domain"),
        ("not a domain", "invalid"),
    ] {
        let err = admin
            .add_organization_domain(&acme.id, &domain(d, DomainPolicy::AutoJoin))
            .await
            .unwrap_err();
        let invitegate_client::ClientError::Api { status, problem } = err else {
            panic!("{err:?}")
        };
        assert_eq!(status, 422);
        assert_eq!(problem.errors.as_ref().unwrap()["domain"], [code]);
    }
    assert_problem(
        admin
            .add_organization_domain(&globex.id, &domain("acme.example", DomainPolicy::Suggest))
            .await,
        409,
        ErrorCode::DomainTaken,
    );
    // Only owners (and instance administrators) claim domains; admins see and remove them;
    // members may not see them; non-members do not see the organisation at all.
    assert_problem(
        ann.add_organization_domain(&acme.id, &domain("acme.test", DomainPolicy::Suggest))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_eq!(ann.organization_domains(&acme.id).await.unwrap(), [added]);
    assert_problem(
        bo.organization_domains(&acme.id).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        outsider.organization_domains(&acme.id).await,
        404,
        ErrorCode::NotFound,
    );
    assert_problem(
        bo.remove_organization_domain(&acme.id, "acme.example")
            .await,
        403,
        ErrorCode::Forbidden,
    );
    ann.remove_organization_domain(&acme.id, "acme.example")
        .await
        .unwrap();
    assert_problem(
        ann.remove_organization_domain(&acme.id, "acme.example")
            .await,
        404,
        ErrorCode::NotFound,
    );
    // Released, the domain can be claimed by another organisation.
    admin
        .add_organization_domain(
            &globex.id,
            &domain("acme.example", DomainPolicy::InviteOnly),
        )
        .await
        .unwrap();
}

async fn a_suggest_domain_lets_matching_accounts_ask_and_admins_decide(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;
    admin
        .add_organization_domain(&acme.id, &domain("acme.example", DomainPolicy::Suggest))
        .await
        .unwrap();
    let (bo, _) = app.member(&admin, "bo@acme.example").await;
    let (cy, _) = app.member(&admin, "cy@other.example").await;
    let (dee, _) = app.member(&admin, "dee@acme.example").await;
    let plain = member_of(
        &app,
        &admin,
        &acme.id,
        "eve@acme.example",
        OrganizationRole::Member,
    )
    .await;
    let org_admin = member_of(
        &app,
        &admin,
        &acme.id,
        "ann@example.com",
        OrganizationRole::Admin,
    )
    .await;

    assert_eq!(
        bo.my_suggestions()
            .await
            .unwrap()
            .iter()
            .map(|o| &o.id)
            .collect::<Vec<_>>(),
        [&acme.id]
    );
    assert!(cy.my_suggestions().await.unwrap().is_empty());
    assert!(
        plain.my_suggestions().await.unwrap().is_empty(),
        "members are not asked again"
    );
    assert_problem(
        cy.request_to_join(&acme.id).await,
        403,
        ErrorCode::Forbidden,
    );

    // Asking several times at once makes one pending request, and never a 5xx.
    let asked = futures_util::future::join_all((0..8).map(|_| bo.request_to_join(&acme.id))).await;
    let ids: std::collections::HashSet<_> = asked.into_iter().map(|r| r.expect("202").id).collect();
    assert_eq!(ids.len(), 1);
    let asked = bo.request_to_join(&acme.id).await.unwrap();
    assert!(ids.contains(&asked.id));
    assert_eq!(asked.state, JoinRequestState::Pending);
    assert_eq!(
        bo.request_to_join(&acme.id).await.unwrap().id,
        asked.id,
        "asking again"
    );
    assert_problem(
        plain.join_requests(&acme.id).await,
        403,
        ErrorCode::Forbidden,
    );
    let pending = org_admin.join_requests(&acme.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].user.email, "bo@acme.example");
    // A member cannot decide; an owner or admin can, once.
    assert_problem(
        plain.approve_join_request(&acme.id, &asked.id).await,
        403,
        ErrorCode::Forbidden,
    );
    let m = admin
        .approve_join_request(&acme.id, &asked.id)
        .await
        .unwrap();
    assert_eq!(
        (m.user.email.as_str(), m.role),
        ("bo@acme.example", OrganizationRole::Member)
    );
    assert_problem(
        admin.reject_join_request(&acme.id, &asked.id).await,
        409,
        ErrorCode::JoinRequestNotPending,
    );
    assert_problem(
        bo.request_to_join(&acme.id).await,
        409,
        ErrorCode::AlreadyMember,
    );
    assert_eq!(bo.me().await.unwrap().memberships.len(), 1);

    let dees = dee.request_to_join(&acme.id).await.unwrap();
    let rejected = admin.reject_join_request(&acme.id, &dees.id).await.unwrap();
    assert_eq!(rejected.state, JoinRequestState::Rejected);
    assert!(admin.join_requests(&acme.id).await.unwrap().is_empty());
    assert!(dee.me().await.unwrap().memberships.is_empty());

    let audit = admin
        .list_audit_events(&AuditEventQuery {
            action: Some("membership.created".into()),
            target_id: Some(acme.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit
            .data
            .iter()
            .any(|e| e.details["basis"] == "domain" && e.details["user_id"] == m.user.id.as_str())
    );
}

async fn an_auto_join_domain_admits_sign_up_and_existing_accounts_at_sign_in(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let corp = org(&admin, "Corp").await;
    app.member(&admin, "eve@corp.example").await;
    // Without an auto_join domain, an address at corp.example needs an invitation.
    assert_problem(
        app.api
            .register(&register_req("new@corp.example", None))
            .await,
        403,
        ErrorCode::InvitationRequired,
    );
    admin
        .add_organization_domain(&corp.id, &domain("corp.example", DomainPolicy::AutoJoin))
        .await
        .unwrap();

    // Sign-up without an invitation: the emailed link proves the address, then the account
    // and the membership are made together.
    assert!(matches!(
        app.api
            .register(&register_req("new@corp.example", None))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    let token = app
        .link_token_for("new@corp.example", "/verify-email")
        .await;
    let s = app.api.confirm_email(&token, PASSWORD).await.unwrap();
    let me = app.api.with_bearer(&s.access_token).me().await.unwrap();
    assert_eq!(me.memberships.len(), 1);
    assert_eq!(me.memberships[0].organization.id, corp.id);
    assert_eq!(me.memberships[0].role, OrganizationRole::Member);
    assert_problem(
        app.api
            .register(&register_req("x@elsewhere.example", None))
            .await,
        403,
        ErrorCode::InvitationRequired,
    );

    // The account that existed before joins when it next signs in, once.
    let eve = app.api.login("eve@corp.example", PASSWORD).await.unwrap();
    let eve = app.api.with_bearer(&eve.access_token);
    assert_eq!(
        eve.me().await.unwrap().memberships[0].organization.id,
        corp.id
    );
    assert_eq!(
        admin.get_organization(&corp.id).await.unwrap().member_count,
        3
    );
    // Removed by an owner, Eve stays out however often she signs in: the domain does not
    // undo a removal.
    let eve_id = eve.me().await.unwrap().user.id;
    admin
        .remove_organization_member(&corp.id, &eve_id)
        .await
        .unwrap();
    app.api.login("eve@corp.example", PASSWORD).await.unwrap();
    assert!(eve.me().await.unwrap().memberships.is_empty());
    assert_eq!(
        admin.get_organization(&corp.id).await.unwrap().member_count,
        2
    );

    // A registration pending when the domain stops admitting does not complete.
    assert!(matches!(
        app.api
            .register(&register_req("late@corp.example", None))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    let token = app
        .link_token_for("late@corp.example", "/verify-email")
        .await;
    admin
        .remove_organization_domain(&corp.id, "corp.example")
        .await
        .unwrap();
    assert_problem(
        app.api.confirm_email(&token, PASSWORD).await,
        403,
        ErrorCode::InvitationRequired,
    );
    let joined = admin
        .list_audit_events(&AuditEventQuery {
            action: Some("membership.created".into()),
            target_id: Some(corp.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        joined
            .data
            .iter()
            .filter(|e| e.details["basis"] == "domain")
            .count(),
        2
    );
}
