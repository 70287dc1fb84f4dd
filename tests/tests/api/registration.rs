use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{ActorType, InvitationState, Role, SignupMode};

both_backends!(
    an_email_bound_invitation_signs_the_invitee_in,
    the_bound_email_must_match_after_normalisation,
    an_existing_account_is_never_signed_in_or_changed,
    domain_invitations_verify_the_email_first,
    sign_up_modes_and_the_allowlist,
    closing_sign_up_on_another_node_applies_to_the_next_registration,
    password_rules_apply_and_a_failed_attempt_keeps_the_token,
    verification_links_expire_and_work_once,
    the_owner_invitation_makes_the_first_administrator,
    a_new_owner_link_kills_the_previous_one,
);

async fn an_email_bound_invitation_signs_the_invitee_in(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let admin_id = admin.me().await.unwrap().user.id;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            role: Some(Role::Admin),
            ..Default::default()
        })
        .await
        .unwrap();
    let res = app
        .http
        .post(app.url("/api/v1/register"))
        .json(&RegisterRequest {
            display_name: Some("Ann".into()),
            ..register_req("ann@example.com", Some(&inv.token))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("invitegate_refresh=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session: SessionResponse = res.json().await.unwrap();
    assert_eq!(session.token_type, "Bearer");
    assert_eq!(session.user.role, Role::Admin);
    assert_eq!(session.user.display_name.as_deref(), Some("Ann"));
    assert_eq!(
        session.user.invitation_id.as_deref(),
        Some(inv.invitation.id.as_str())
    );
    let invited_by = session.user.invited_by.clone().unwrap();
    assert_eq!(
        (invited_by.kind, invited_by.id),
        (ActorType::User, admin_id)
    );
    let me = app
        .api
        .with_bearer(&session.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(me.user.email, "ann@example.com");
    assert_eq!(me.invite_quota.limit, None, "admins have no quota");
    let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!((got.state, got.uses), (InvitationState::Accepted, 1));
    assert!(got.accepted_at.is_some());
    let actions: Vec<String> = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            target_id: Some(String::from(&inv.invitation.id)),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"invitation.redeemed".to_string())
            && actions.contains(&"invitation.created".to_string()),
        "{actions:?}"
    );
}

async fn the_bound_email_must_match_after_normalisation(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("Ann@Example.com"))
        .await
        .unwrap();
    assert_problem(
        app.api
            .register(&register_req("eve@example.com", Some(&inv.token)))
            .await,
        403,
        ErrorCode::EmailMismatch,
    );
    assert_problem(
        app.api
            .register(&register_req("ann@example.com.evil.net", Some(&inv.token)))
            .await,
        403,
        ErrorCode::EmailMismatch,
    );
    assert_eq!(app.count_users().await, 1);
    match app
        .api
        .register(&register_req("  ANN@example.COM ", Some(&inv.token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => assert_eq!(s.user.email, "ann@example.com"),
        other => panic!("{other:?}"),
    }
    let rejected = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("registration.rejected")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rejected.data.len(), 2);
    assert_eq!(rejected.data[0].details["reason"], "email_mismatch");
}

async fn an_existing_account_is_never_signed_in_or_changed(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let open = admin
        .create_invitation(&CreateInvitationRequest {
            max_uses: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    for token in [&open.token, &domain.token] {
        let attempt = RegisterRequest {
            password: Some("attacker chosen password 1".into()),
            ..register_req("ANN@example.com", Some(token))
        };
        let res = app
            .http
            .post(app.url("/api/v1/register"))
            .json(&attempt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 202);
        assert!(res.headers().get("set-cookie").is_none());
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({"status": "verification_pending"})
        );
    }
    // The account is untouched: the old password works, the attacker's does not.
    assert_eq!(
        app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .user
            .id,
        ann.user.id
    );
    assert_problem(
        app.api
            .login("ann@example.com", "attacker chosen password 1")
            .await,
        401,
        ErrorCode::InvalidCredentials,
    );
    assert_eq!(app.count_users().await, 2);
    // The invitations were not used, and the owner was told by email.
    assert_eq!(
        admin
            .get_invitation(&open.invitation.id)
            .await
            .unwrap()
            .uses,
        0
    );
    let mails = app.emails().await;
    assert!(
        mails.iter().any(|m| m.contains("To: ann@example.com")
            && m.contains("Someone tried to create an account"))
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.contains("To: ann@example.com") && m.contains("/verify-email#token="))
    );
}

async fn domain_invitations_verify_the_email_first(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("partner.org".into()),
            max_uses: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_problem(
        app.api
            .register(&register_req("zoe@other.org", Some(&inv.token)))
            .await,
        403,
        ErrorCode::EmailMismatch,
    );
    assert!(matches!(
        app.api
            .register(&register_req("zoe@partner.org", Some(&inv.token)))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    assert_eq!(
        app.count_users().await,
        1,
        "no user row before the email is proven"
    );
    assert_eq!(
        admin.get_invitation(&inv.invitation.id).await.unwrap().uses,
        0
    );
    let token = app.link_token_for("zoe@partner.org", "/verify-email").await;
    let session = app.api.confirm_email(&token, PASSWORD).await.unwrap();
    assert_eq!(session.user.email, "zoe@partner.org");
    assert_eq!(
        session.user.invitation_id.as_deref(),
        Some(inv.invitation.id.as_str())
    );
    let partly = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!((partly.uses, partly.state), (1, InvitationState::Pending));
    assert!(
        partly.accepted_at.is_none(),
        "a use short of the last leaves the invitation open"
    );
    app.api
        .with_bearer(&session.access_token)
        .me()
        .await
        .unwrap();
}

async fn sign_up_modes_and_the_allowlist(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.invitation_whitelist_emails = vec!["friends.org".into(), "solo@example.net".into()]
    })
    .await;
    let admin = app.admin().await;
    assert_eq!(
        app.api.signup_policy().await.unwrap().mode,
        SignupMode::InviteOnly
    );
    assert_problem(
        app.api
            .register(&register_req("stranger@example.com", None))
            .await,
        403,
        ErrorCode::InvitationRequired,
    );
    for allowed in ["amy@friends.org", "solo@example.net"] {
        assert!(matches!(
            app.api
                .register(&register_req(allowed, None))
                .await
                .unwrap(),
            Registration::VerificationPending
        ));
        let token = app.link_token_for(allowed, "/verify-email").await;
        assert_eq!(
            app.api
                .confirm_email(&token, PASSWORD)
                .await
                .unwrap()
                .user
                .email,
            allowed
        );
    }
    admin
        .patch_settings(&SettingsPatch {
            signup_mode: Some(SignupMode::Open),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        app.api.signup_policy().await.unwrap().mode,
        SignupMode::Open
    );
    assert!(matches!(
        app.api
            .register(&register_req("stranger@example.com", None))
            .await
            .unwrap(),
        Registration::VerificationPending
    ));
    let pending = app
        .link_token_for("stranger@example.com", "/verify-email")
        .await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    admin
        .patch_settings(&SettingsPatch {
            signup_mode: Some(SignupMode::Closed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_problem(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await,
        403,
        ErrorCode::SignupClosed,
    );
    assert_problem(
        app.api.confirm_email(&pending, PASSWORD).await,
        403,
        ErrorCode::SignupClosed,
    );
    // Sign-in still works while sign-up is closed.
    app.api.login("owner@example.com", PASSWORD).await.unwrap();
    admin
        .patch_settings(&SettingsPatch {
            enable_invite_only: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_problem(
        app.api.confirm_email(&pending, PASSWORD).await,
        403,
        ErrorCode::InvitationRequired,
    );
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", Some(&inv.token)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
}

/// An invitation's lookup reads the sign-up mode in its own statement, so the mode is never
/// cached: a change made on another node applies to the next registration, whatever its token.
async fn closing_sign_up_on_another_node_applies_to_the_next_registration(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let peer = app.spawn_peer().await.with_bearer(&session.access_token);
    let fresh = admin
        .create_invitation(&email_req("fresh@example.com"))
        .await
        .unwrap();
    let used = admin
        .create_invitation(&email_req("used@example.com"))
        .await
        .unwrap();
    app.api
        .register(&register_req("used@example.com", Some(&used.token)))
        .await
        .unwrap();
    let mut forged = fresh.token.clone();
    forged.pop();
    forged.push(if fresh.token.ends_with('A') { 'B' } else { 'A' });
    let close = |mode| SettingsPatch {
        signup_mode: Some(mode),
        ..Default::default()
    };
    peer.patch_settings(&close(SignupMode::Closed))
        .await
        .unwrap();
    for (email, token) in [
        ("fresh@example.com", &fresh.token),
        ("used@example.com", &used.token),
        ("fresh@example.com", &forged),
    ] {
        assert_problem(
            app.api.register(&register_req(email, Some(token))).await,
            403,
            ErrorCode::SignupClosed,
        );
    }
    assert_eq!(app.count_users().await, 2, "nothing was written");
    peer.patch_settings(&close(SignupMode::InviteOnly))
        .await
        .unwrap();
    assert_problem(
        app.api
            .register(&register_req("fresh@example.com", Some(&forged)))
            .await,
        400,
        ErrorCode::InvalidInvitation,
    );
    assert!(matches!(
        app.api
            .register(&register_req("fresh@example.com", Some(&fresh.token)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
}

async fn password_rules_apply_and_a_failed_attempt_keeps_the_token(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("annabel@example.com"))
        .await
        .unwrap();
    let cases = [
        ("short pass", "too_short"),
        ("passwordpassword", "too_common"),
        ("1q2w3e4r5t6y7u8i9o0p", "too_common"),
        ("i am annabel and this is long", "contains_email"),
    ];
    for (password, code) in cases {
        let req = RegisterRequest {
            password: Some(password.into()),
            ..register_req("annabel@example.com", Some(&inv.token))
        };
        match app.api.register(&req).await {
            Err(invitegate_client::ClientError::Api {
                status: 422,
                problem,
            }) => {
                assert_eq!(
                    problem.errors.unwrap()["password"],
                    vec![code.to_string()],
                    "{password}"
                );
            }
            other => panic!("{password}: {other:?}"),
        }
    }
    let long = RegisterRequest {
        password: Some(format!("{}z", "correct horse battery staple ".repeat(5))),
        ..register_req("annabel@example.com", Some(&inv.token))
    };
    match app.api.register(&long).await {
        Err(invitegate_client::ClientError::Api {
            status: 422,
            problem,
        }) => assert_eq!(problem.errors.unwrap()["password"], vec!["too_long"]),
        other => panic!("{other:?}"),
    }
    let bad_email = RegisterRequest {
        email: "ann@example.com\r\nBcc: x@evil.net".into(),
        ..register_req("", None)
    };
    match app.api.register(&bad_email).await {
        Err(invitegate_client::ClientError::Api {
            status: 422,
            problem,
        }) => assert_eq!(problem.errors.unwrap()["email"], vec!["invalid"]),
        other => panic!("{other:?}"),
    }
    // 64 characters with spaces and no composition rules are accepted; nothing was used up before.
    assert_eq!(
        admin.get_invitation(&inv.invitation.id).await.unwrap().uses,
        0
    );
    let ok = RegisterRequest {
        password: Some("a sentence of sixty four characters is a fine password, isn't it".into()),
        ..register_req("annabel@example.com", Some(&inv.token))
    };
    assert_eq!(ok.password.as_deref().unwrap().chars().count(), 64);
    assert!(matches!(
        app.api.register(&ok).await.unwrap(),
        Registration::SignedIn(_)
    ));
    // The password is stored as argon2id with at least OWASP's parameters.
    let hash = app
        .db(|c| {
            use diesel::prelude::*;
            use invitegate_server::storage::schema::users::dsl::*;
            Ok(users
                .filter(email.eq("annabel@example.com"))
                .select(password_hash)
                .first::<String>(c)?)
        })
        .await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

async fn verification_links_expire_and_work_once(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.invitation_whitelist_emails = vec!["friends.org".into()]
    })
    .await;
    app.admin().await;
    app.api
        .register(&register_req("amy@friends.org", None))
        .await
        .unwrap();
    app.api
        .register(&register_req("bob@friends.org", None))
        .await
        .unwrap();
    let amy = app.link_token_for("amy@friends.org", "/verify-email").await;
    let bob = app.link_token_for("bob@friends.org", "/verify-email").await;
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::email_verifications::dsl::*;
        let past = invitegate_server::storage::now() - chrono::Duration::minutes(1);
        diesel::update(email_verifications.filter(email.eq("bob@friends.org")))
            .set(expires_at.eq(past))
            .execute(c)?;
        Ok(())
    })
    .await;
    assert_problem(
        app.api.confirm_email(&bob, PASSWORD).await,
        410,
        ErrorCode::TokenExpired,
    );
    app.api.confirm_email(&amy, PASSWORD).await.unwrap();
    assert_problem(
        app.api.confirm_email(&amy, PASSWORD).await,
        400,
        ErrorCode::InvalidToken,
    );
    assert_problem(
        app.api.confirm_email("garbage", PASSWORD).await,
        400,
        ErrorCode::InvalidToken,
    );
}

async fn the_owner_invitation_makes_the_first_administrator(b: Backend) {
    let app = spawn_app(b).await;
    let preview = app.api.verify_invitation(&app.owner_token).await.unwrap();
    assert_eq!(
        (preview.invitation.role, preview.invitation.email),
        (Role::Admin, None)
    );
    let admin = app.admin().await;
    let me = admin.me().await.unwrap();
    assert_eq!(me.user.role, Role::Admin);
    assert_problem(
        app.api
            .register(&register_req("second@example.com", Some(&app.owner_token)))
            .await,
        410,
        ErrorCode::InvitationUsed,
    );
    // Once an administrator exists, no new owner invitation is made.
    let again = invitegate_server::startup::bootstrap_owner_invitation(&app.state)
        .await
        .unwrap();
    assert!(again.is_none());
}

async fn a_new_owner_link_kills_the_previous_one(b: Backend) {
    let app = spawn_app(b).await;
    // A restart before anyone used the link prints a new one; only the newest works.
    let link = invitegate_server::startup::bootstrap_owner_invitation(&app.state)
        .await
        .unwrap()
        .expect("no admin yet");
    let fresh = link.split("#token=").nth(1).unwrap();
    assert_problem(
        app.api.verify_invitation(&app.owner_token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    assert!(matches!(
        app.api
            .register(&register_req("owner@example.com", Some(fresh)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
}
