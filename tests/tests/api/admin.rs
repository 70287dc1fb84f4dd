use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{Scope, SignupMode};

both_backends!(
    api_keys_are_scoped_shown_once_and_revocable,
    settings_are_validated_and_audited,
    the_audit_log_filters_exports_and_holds_no_secrets,
    users_are_listed_and_disabled,
);

async fn api_keys_are_scoped_shown_once_and_revocable(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let created = admin
        .create_api_key(&CreateApiKeyRequest {
            name: "seed script".into(),
            scopes: vec![Scope::InvitationsWrite],
        })
        .await
        .unwrap();
    assert!(created.key.starts_with("igk_"));
    assert!(created.key.starts_with(&created.api_key.prefix));
    let listed = serde_json::to_string(&admin.list_api_keys().await.unwrap()).unwrap();
    assert!(!listed.contains(&created.key), "keys are shown once");
    let key = app.api.with_bearer(&created.key);
    key.create_invitation(&CreateInvitationRequest {
        email: Some("a@example.com".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_problem(
        key.list_users(&Default::default()).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        key.list_audit_events(&Default::default()).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        key.create_api_key(&CreateApiKeyRequest {
            name: "x".into(),
            scopes: vec![Scope::Admin],
        })
        .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(key.me().await, 403, ErrorCode::Forbidden);
    let all = app.api_key(&admin, &[Scope::Admin]).await;
    all.list_users(&Default::default()).await.unwrap();
    all.settings().await.unwrap();
    assert_problem(
        admin
            .create_api_key(&CreateApiKeyRequest {
                name: " ".into(),
                scopes: vec![Scope::Admin],
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        admin
            .create_api_key(&CreateApiKeyRequest {
                name: "none".into(),
                scopes: vec![],
            })
            .await,
        422,
        ErrorCode::ValidationFailed,
    );
    admin.revoke_api_key(&created.api_key.id).await.unwrap();
    assert_problem(
        key.list_invitations(&Default::default()).await,
        401,
        ErrorCode::Unauthenticated,
    );
    let actions: Vec<String> = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            target_id: Some(String::from(&created.api_key.id)),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, vec!["api_key.revoked", "api_key.created"]);
}

async fn settings_are_validated_and_audited(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let initial = admin.settings().await.unwrap();
    assert_eq!(
        initial,
        SettingsView {
            enable_invite_only: true,
            signup_mode: SignupMode::InviteOnly,
            invite_link_expiry: 7,
            max_invites_per_user: 5,
            invitation_whitelist_emails: vec![]
        }
    );
    let changed = admin
        .patch_settings(&SettingsPatch {
            invite_link_expiry: Some(14),
            invitation_whitelist_emails: Some(vec!["Example.COM".into(), "boss@corp.io".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(changed.invite_link_expiry, 14);
    assert_eq!(
        changed.invitation_whitelist_emails,
        vec!["example.com", "boss@corp.io"]
    );
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("a@x.org".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let days = (inv.invitation.expires_at - inv.invitation.created_at).num_days();
    assert_eq!(days, 14);
    for bad in [
        SettingsPatch {
            invite_link_expiry: Some(0),
            ..Default::default()
        },
        SettingsPatch {
            invitation_whitelist_emails: Some(vec!["not a domain".into()]),
            ..Default::default()
        },
        SettingsPatch {
            enable_invite_only: Some(true),
            signup_mode: Some(SignupMode::Open),
            ..Default::default()
        },
    ] {
        assert_problem(
            admin.patch_settings(&bad).await,
            422,
            ErrorCode::ValidationFailed,
        );
    }
    assert_eq!(
        admin.settings().await.unwrap(),
        changed,
        "a rejected patch changes nothing"
    );
    let events = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("settings.updated")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
    assert_eq!(events.data[0].details["after"]["invite_link_expiry"], 14);
    let (member, _) = app.member(&admin, "m@example.com").await;
    assert_problem(member.settings().await, 403, ErrorCode::Forbidden);
}

async fn the_audit_log_filters_exports_and_holds_no_secrets(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = admin
        .create_api_key(&CreateApiKeyRequest {
            name: "k".into(),
            scopes: vec![Scope::AuditRead],
        })
        .await
        .unwrap();
    let session = match app
        .api
        .register(&register_req("ann@example.com", Some(&inv.token)))
        .await
        .unwrap()
    {
        invitegate_client::Registration::SignedIn(s) => s,
        _ => unreachable!(),
    };
    let _ = app
        .api
        .login("ann@example.com", "wrong password here!")
        .await;
    let reader = app.api.with_bearer(&key.key);
    let failures = reader
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            outcome: Some("failure".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        failures
            .data
            .iter()
            .all(|e| e.outcome == invitegate_core::model::Outcome::Failure)
    );
    assert!(failures.data.iter().any(|e| e.action == "login.failed"));
    let first = reader
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let second = reader
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            limit: Some(2),
            cursor: Some(String::from(first.next_cursor.as_deref().unwrap())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(second.data[0].occurred_at <= first.data[1].occurred_at);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert!(
        reader
            .list_audit_events(&invitegate_core::api::AuditEventQuery {
                since: Some(future.parse().unwrap()),
                ..Default::default()
            })
            .await
            .unwrap()
            .data
            .is_empty()
    );
    let jsonl = reader
        .export_audit_events(&invitegate_core::api::AuditEventQuery {
            format: Some(invitegate_core::api::ExportFormat::Jsonl),
            ..Default::default()
        })
        .await
        .unwrap();
    let all = reader
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(jsonl.lines().count(), all.data.len());
    for line in jsonl.lines() {
        serde_json::from_str::<AuditEvent>(line).unwrap();
    }
    let csv = reader
        .export_audit_events(&invitegate_core::api::AuditEventQuery {
            format: Some(invitegate_core::api::ExportFormat::Csv),
            action: Some(String::from("invitation.created")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(csv.starts_with("id,occurred_at,action,outcome"));
    assert_eq!(
        csv.lines().count(),
        3,
        "header, the owner invitation and ann's: {csv}"
    );
    for secret in [
        inv.token.as_str(),
        key.key.as_str(),
        session.access_token.as_str(),
        PASSWORD,
        &app.owner_token,
    ] {
        assert!(!jsonl.contains(secret), "the audit log contains a secret");
    }
}

async fn users_are_listed_and_disabled(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, mia) = app.member(&admin, "mia@example.com").await;
    app.member(&admin, "max@example.com").await;
    let page = admin
        .list_users(&invitegate_core::api::UserListQuery {
            email: Some(String::from("MIA")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].id, mia.user.id);
    assert_eq!(
        admin
            .list_users(&Default::default())
            .await
            .unwrap()
            .data
            .len(),
        3
    );
    let disabled = admin.disable_user(&mia.user.id).await.unwrap();
    assert!(disabled.disabled_at.is_some());
    assert_problem(
        admin
            .disable_user("01a20000-0000-7000-8000-000000000000")
            .await,
        404,
        ErrorCode::NotFound,
    );
    let me = admin.me().await.unwrap();
    assert_problem(
        admin.disable_user(&me.user.id).await,
        403,
        ErrorCode::Forbidden,
    );
}
