use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{InvitationState, Role, Scope};
use invitegate_server::tokens::Purpose;

both_backends!(
    verify_shows_the_invitation_and_never_consumes_it,
    bad_tokens_get_one_identical_response,
    a_token_of_another_purpose_is_refused,
    resend_kills_the_old_token,
    revoke_kills_the_token_and_is_idempotent,
    expired_invitations_are_refused,
    disabling_the_inviter_revokes_their_invitations,
    creation_conflicts_are_reported,
    members_invite_within_their_quota_only,
    list_filters_and_paginates,
    bulk_reports_each_row_and_dry_run_creates_nothing,
    links_come_from_public_base_url_not_the_host_header,
    the_invitation_email_carries_the_link,
    jobs_mark_expiry_and_send_one_reminder,
);

async fn verify_shows_the_invitation_and_never_consumes_it(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            note: Some("Welcome!".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(inv.invitation.state, InvitationState::Pending);
    assert_eq!(
        inv.url,
        format!("{}/invite#token={}", app.address, inv.token)
    );
    for _ in 0..3 {
        let v = app.api.verify_invitation(&inv.token).await.unwrap();
        assert_eq!(v.invitation.email.as_deref(), Some("ann@example.com"));
        assert_eq!(
            v.invitation.inviter_display_name.as_deref(),
            Some("owner@example.com")
        );
        assert_eq!(v.invitation.role, Role::Member);
    }
    let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!((got.uses, got.state), (0, InvitationState::Pending));
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationUsed,
    );
}

async fn bad_tokens_get_one_identical_response(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let mut forged = inv.token.clone();
    forged.pop();
    forged.push(if inv.token.ends_with('A') { 'B' } else { 'A' });
    let unknown = app.state.keys.issue(Purpose::Invitation);
    let mut bodies = Vec::new();
    for token in [
        "",
        "garbage",
        "a.b.c",
        &forged,
        &unknown,
        &"x".repeat(10_000),
    ] {
        let res = app
            .http
            .post(app.url("/api/v1/invitations/verify"))
            .json(&serde_json::json!({"token": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "token {:.20}", token);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        bodies.push(res.text().await.unwrap());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "responses differ: {bodies:?}"
    );
    assert!(bodies[0].contains("\"code\":\"invalid_invitation\""));
    // Past the body size bound the request is refused before it is read.
    let res = app
        .http
        .post(app.url("/api/v1/invitations/verify"))
        .json(&serde_json::json!({"token": "x".repeat(100_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
}

async fn a_token_of_another_purpose_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("example.org".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(
        app.api
            .register(&register_req("zoe@example.org", Some(&domain.token)))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    let verification = app.link_token_for("zoe@example.org", "/verify-email").await;
    // An email-verification token is not an invitation, and an invitation token does not verify an email.
    assert_problem(
        app.api.verify_invitation(&verification).await,
        400,
        ErrorCode::InvalidInvitation,
    );
    assert_problem(
        app.api
            .register(&register_req("zoe@example.org", Some(&verification)))
            .await,
        400,
        ErrorCode::InvalidInvitation,
    );
    assert_problem(
        app.api.confirm_email(&domain.token, PASSWORD).await,
        400,
        ErrorCode::InvalidToken,
    );
    // A token minted for password resets under the same key is refused too.
    let reset = app.state.keys.issue(Purpose::PasswordReset);
    assert_problem(
        app.api.confirm_email(&reset, PASSWORD).await,
        400,
        ErrorCode::InvalidToken,
    );
    // The right purpose works.
    app.api
        .confirm_email(&verification, PASSWORD)
        .await
        .unwrap();
}

async fn resend_kills_the_old_token(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let first = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let second = admin
        .resend_invitation(
            &first.invitation.id,
            &ResendInvitationRequest {
                expires_in_days: Some(3),
            },
        )
        .await
        .unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(second.invitation.id, first.invitation.id);
    assert!(second.invitation.expires_at < first.invitation.expires_at);
    assert_problem(
        app.api.verify_invitation(&first.token).await,
        400,
        ErrorCode::InvalidInvitation,
    );
    assert_problem(
        app.api
            .register(&register_req("ann@example.com", Some(&first.token)))
            .await,
        400,
        ErrorCode::InvalidInvitation,
    );
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", Some(&second.token)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
    assert_problem(
        admin
            .resend_invitation(&first.invitation.id, &ResendInvitationRequest::default())
            .await,
        409,
        ErrorCode::InvitationNotPending,
    );
    // An expired invitation can be resent: the expiry restarts.
    let old = admin
        .create_invitation(&email_req("late@example.com"))
        .await
        .unwrap();
    app.expire_invitation(&old.invitation.id).await;
    assert_problem(
        app.api.verify_invitation(&old.token).await,
        410,
        ErrorCode::InvitationExpired,
    );
    let renewed = admin
        .resend_invitation(&old.invitation.id, &ResendInvitationRequest::default())
        .await
        .unwrap();
    assert_eq!(renewed.invitation.state, InvitationState::Pending);
    app.api.verify_invitation(&renewed.token).await.unwrap();
}

async fn revoke_kills_the_token_and_is_idempotent(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let revoked = admin.revoke_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(revoked.state, InvitationState::Revoked);
    assert!(revoked.revoked_at.is_some());
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    assert_problem(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await,
        410,
        ErrorCode::InvitationRevoked,
    );
    let again = admin.revoke_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    assert_problem(
        admin
            .resend_invitation(&inv.invitation.id, &ResendInvitationRequest::default())
            .await,
        409,
        ErrorCode::InvitationNotPending,
    );
    // The address is free again.
    admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    // Accepted invitations cannot be revoked.
    let used = admin
        .create_invitation(&email_req("bob@example.com"))
        .await
        .unwrap();
    app.api
        .register(&register_req("bob@example.com", Some(&used.token)))
        .await
        .unwrap();
    assert_problem(
        admin.revoke_invitation(&used.invitation.id).await,
        409,
        ErrorCode::InvitationNotPending,
    );
    assert_problem(
        admin
            .revoke_invitation("01a20000-0000-7000-8000-000000000000")
            .await,
        404,
        ErrorCode::NotFound,
    );
}

async fn expired_invitations_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    app.expire_invitation(&inv.invitation.id).await;
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationExpired,
    );
    assert_problem(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await,
        410,
        ErrorCode::InvitationExpired,
    );
    assert_eq!(
        admin
            .get_invitation(&inv.invitation.id)
            .await
            .unwrap()
            .state,
        InvitationState::Expired
    );
    assert_eq!(app.count_users().await, 1);
    // An expired invitation no longer blocks a new one for the address.
    admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
}

async fn disabling_the_inviter_revokes_their_invitations(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (member, session) = app.member(&admin, "mia@example.com").await;
    let inv = member
        .create_invitation(&email_req("friend@example.com"))
        .await
        .unwrap();
    admin.disable_user(&session.user.id).await.unwrap();
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    assert_problem(member.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(
        app.api.login("mia@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    let events = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("user.disabled")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
}

async fn creation_conflicts_are_reported(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    assert_problem(
        admin
            .create_invitation(&email_req("OWNER@example.com"))
            .await,
        409,
        ErrorCode::EmailRegistered,
    );
    let first = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    match admin
        .create_invitation(&email_req(" Ann@Example.com "))
        .await
    {
        Err(invitegate_client::ClientError::Api {
            status: 409,
            problem,
        }) => {
            assert_eq!(problem.code, "invitation_pending");
            assert_eq!(
                problem.invitation_id.as_deref(),
                Some(first.invitation.id.as_str())
            );
        }
        other => panic!("expected invitation_pending, got {other:?}"),
    }
    let bad = CreateInvitationRequest {
        email: Some("ann@example.com".into()),
        max_uses: Some(3),
        ..Default::default()
    };
    assert_problem(
        admin.create_invitation(&bad).await,
        422,
        ErrorCode::ValidationFailed,
    );
    let both = CreateInvitationRequest {
        email: Some("x@example.com".into()),
        email_domain: Some("example.com".into()),
        ..Default::default()
    };
    assert_problem(
        admin.create_invitation(&both).await,
        422,
        ErrorCode::ValidationFailed,
    );
    let far = CreateInvitationRequest {
        expires_in_days: Some(366),
        ..Default::default()
    };
    assert_problem(
        admin.create_invitation(&far).await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        app.api.create_invitation(&email_req("x@example.com")).await,
        401,
        ErrorCode::Unauthenticated,
    );
    let reader = app.api_key(&admin, &[Scope::InvitationsRead]).await;
    assert_problem(
        reader.create_invitation(&email_req("x@example.com")).await,
        403,
        ErrorCode::Forbidden,
    );
    let writer = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let by_key = writer
        .create_invitation(&email_req("x@example.com"))
        .await
        .unwrap();
    assert_eq!(
        by_key.invitation.inviter.kind,
        invitegate_core::model::ActorType::ApiKey
    );
}

async fn members_invite_within_their_quota_only(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    admin
        .patch_settings(&SettingsPatch {
            max_invites_per_user: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let (member, _) = app.member(&admin, "mia@example.com").await;
    let me = member.me().await.unwrap();
    assert_eq!(
        (
            me.invite_quota.limit,
            me.invite_quota.used,
            me.invite_quota.remaining
        ),
        (Some(2), 0, Some(2))
    );
    let domain = CreateInvitationRequest {
        email_domain: Some("example.com".into()),
        ..Default::default()
    };
    assert_problem(
        member.create_invitation(&domain).await,
        403,
        ErrorCode::Forbidden,
    );
    let as_admin = CreateInvitationRequest {
        email: Some("boss@example.com".into()),
        role: Some(Role::Admin),
        ..Default::default()
    };
    assert_problem(
        member.create_invitation(&as_admin).await,
        403,
        ErrorCode::Forbidden,
    );
    let a = member
        .create_invitation(&email_req("a@example.com"))
        .await
        .unwrap();
    member
        .create_invitation(&email_req("b@example.com"))
        .await
        .unwrap();
    assert_problem(
        member.create_invitation(&email_req("c@example.com")).await,
        403,
        ErrorCode::InviteQuotaExceeded,
    );
    assert_eq!(member.me().await.unwrap().invite_quota.remaining, Some(0));
    // Revoking gives the invitation back; accepted ones keep counting.
    member.revoke_invitation(&a.invitation.id).await.unwrap();
    let c = member
        .create_invitation(&email_req("c@example.com"))
        .await
        .unwrap();
    app.api
        .register(&register_req("c@example.com", Some(&c.token)))
        .await
        .unwrap();
    assert_problem(
        member.create_invitation(&email_req("d@example.com")).await,
        403,
        ErrorCode::InviteQuotaExceeded,
    );
    // Members see only their own invitations and cannot touch others'.
    let theirs = admin
        .create_invitation(&email_req("other@example.com"))
        .await
        .unwrap();
    assert_problem(
        member.revoke_invitation(&theirs.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );
    let mine = member.list_invitations(&Default::default()).await.unwrap();
    assert_eq!(mine.data.len(), 3);
    assert!(mine.data.iter().all(|i| i.inviter.id == me.user.id));
    assert_problem(
        member.list_users(&Default::default()).await,
        403,
        ErrorCode::Forbidden,
    );
}

async fn list_filters_and_paginates(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            admin
                .create_invitation(&email_req(&format!("user{i}@example.com")))
                .await
                .unwrap()
                .invitation
                .id,
        );
    }
    admin.revoke_invitation(&ids[1]).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = invitegate_core::api::InvitationListQuery {
            limit: Some(2),
            state: Some(invitegate_core::model::InvitationState::Pending),
            cursor: cursor.clone(),
            ..Default::default()
        };
        let page = admin.list_invitations(&q).await.unwrap();
        seen.extend(page.data.iter().map(|i| i.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<_> = ids.iter().filter(|i| **i != ids[1]).cloned().collect();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, no duplicates, no gaps");
    let revoked = admin
        .list_invitations(&invitegate_core::api::InvitationListQuery {
            state: Some("revoked".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        revoked
            .data
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>(),
        vec![ids[1].clone()]
    );
    let search = admin
        .list_invitations(&invitegate_core::api::InvitationListQuery {
            email: Some(String::from("USER3")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(search.data.len(), 1);
    assert_eq!(search.data[0].email.as_deref(), Some("user3@example.com"));
    assert_problem(
        admin
            .list_invitations(&invitegate_core::api::InvitationListQuery {
                limit: Some(501),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        admin
            .list_invitations(&invitegate_core::api::InvitationListQuery {
                cursor: Some(String::from("not-a-cursor")),
                ..Default::default()
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        admin
            .get_with_raw_query::<invitegate_core::api::Page<Invitation>>(
                "/invitations",
                &[("state", "bogus")],
            )
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
}

async fn bulk_reports_each_row_and_dry_run_creates_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    admin
        .create_invitation(&email_req("pending@example.com"))
        .await
        .unwrap();
    let rows = vec![
        email_req("new1@example.com"),
        email_req("not an email"),
        email_req("pending@example.com"),
        email_req("owner@example.com"),
        email_req("NEW1@example.com"),
        CreateInvitationRequest {
            email_domain: Some("partner.org".into()),
            max_uses: Some(10),
            ..Default::default()
        },
    ];
    let before = app.count_invitations().await;
    let dry = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows.clone(),
            dry_run: true,
        })
        .await
        .unwrap();
    assert_eq!(app.count_invitations().await, before);
    assert!(dry.results.iter().all(|r| r.token.is_none()));
    let real = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows,
            dry_run: false,
        })
        .await
        .unwrap();
    for result in [&dry, &real] {
        let statuses: Vec<BulkStatus> = result.results.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            vec![
                BulkStatus::Created,
                BulkStatus::Invalid,
                BulkStatus::AlreadyInvited,
                BulkStatus::AlreadyRegistered,
                BulkStatus::AlreadyInvited,
                BulkStatus::Created
            ]
        );
        assert_eq!(
            result.summary,
            BulkSummary {
                created: 2,
                already_invited: 2,
                already_registered: 1,
                invalid: 1
            }
        );
        assert_eq!(
            result.results[1].error.as_ref().unwrap()["email"],
            vec!["invalid".to_string()]
        );
    }
    assert_eq!(app.count_invitations().await, before + 2);
    let token = real.results[0].token.clone().unwrap();
    app.api.verify_invitation(&token).await.unwrap();
    let member_key = app.api_key(&admin, &[Scope::InvitationsRead]).await;
    assert_problem(
        member_key
            .bulk_create_invitations(&BulkCreateRequest {
                invitations: vec![],
                dry_run: true,
            })
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        admin
            .bulk_create_invitations(&BulkCreateRequest {
                invitations: vec![],
                dry_run: true,
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    let too_many = vec![CreateInvitationRequest::default(); MAX_BULK_ITEMS + 1];
    assert_problem(
        admin
            .bulk_create_invitations(&BulkCreateRequest {
                invitations: too_many,
                dry_run: true,
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
}

async fn links_come_from_public_base_url_not_the_host_header(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.public_base_url = Some("https://invite.example.com/".into())
    })
    .await;
    let admin_session = match app
        .api
        .register(&register_req("owner@example.com", Some(&app.owner_token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => s,
        _ => unreachable!(),
    };
    let res = app
        .http
        .post(app.url("/api/v1/invitations"))
        .bearer_auth(&admin_session.access_token)
        .header("Host", "evil.example.net")
        .header("X-Forwarded-Host", "evil.example.net")
        .json(&email_req("ann@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let body: InvitationWithToken = res.json().await.unwrap();
    assert!(
        body.url
            .starts_with("https://invite.example.com/invite#token="),
        "{}",
        body.url
    );
    let mail = app
        .emails()
        .await
        .into_iter()
        .find(|m| m.contains("To: ann@example.com"))
        .unwrap();
    assert!(mail.contains("https://invite.example.com/invite#token="));
    assert!(!mail.contains("evil.example.net"));
}

async fn the_invitation_email_carries_the_link(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            note: Some("See you inside".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let token = app.link_token_for("ann@example.com", "/invite").await;
    assert_eq!(token, inv.token);
    let mail = app
        .emails()
        .await
        .into_iter()
        .find(|m| m.contains("To: ann@example.com"))
        .unwrap();
    assert!(mail.contains("owner@example.com invited you"));
    assert!(mail.contains("See you inside"));
    assert!(mail.contains("multipart/alternative"));
    // No email when asked not to send one.
    admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("quiet@example.com".into()),
            send_email: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        !app.emails()
            .await
            .iter()
            .any(|m| m.contains("To: quiet@example.com"))
    );
}

async fn jobs_mark_expiry_and_send_one_reminder(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let soon = admin
        .create_invitation(&email_req("soon@example.com"))
        .await
        .unwrap();
    let gone = admin
        .create_invitation(&email_req("gone@example.com"))
        .await
        .unwrap();
    let target = soon.invitation.id.clone();
    app.db(move |c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::invitations::dsl::*;
        let now = invitegate_server::storage::now();
        diesel::update(invitations.filter(id.eq(target)))
            .set((
                created_at.eq(now - chrono::Duration::days(6)),
                expires_at.eq(now + chrono::Duration::hours(1)),
            ))
            .execute(c)?;
        Ok(())
    })
    .await;
    app.expire_invitation(&gone.invitation.id).await;
    let (expired, reminded) = invitegate_server::jobs::run_once(&app.state).await.unwrap();
    assert_eq!((expired, reminded), (1, 1));
    assert_eq!(
        invitegate_server::jobs::run_once(&app.state).await.unwrap(),
        (0, 0),
        "once only"
    );
    let events = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("invitation.expired")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
    assert_eq!(
        events.data[0].target.as_ref().unwrap().id,
        gone.invitation.id
    );
    // The reminder's link replaces the first one; the expiry is unchanged.
    let mail = app
        .emails()
        .await
        .into_iter()
        .rev()
        .find(|m| m.contains("To: soon@example.com"))
        .unwrap();
    assert!(
        mail.contains("Reminder: owner@example.com invited you"),
        "{mail}"
    );
    let token = app.link_token_for("soon@example.com", "/invite").await;
    assert_ne!(token, soon.token);
    assert_problem(
        app.api.verify_invitation(&soon.token).await,
        400,
        ErrorCode::InvalidInvitation,
    );
    app.api.verify_invitation(&token).await.unwrap();
    // The expired invitation's address is free again.
    admin
        .create_invitation(&email_req("gone@example.com"))
        .await
        .unwrap();
}
