//! Account lifecycle (issue 11, item 3): an administrator enables, changes and deletes
//! accounts; a person changes their password, sees and ends their sessions, exports their
//! data and deletes their account; the last active administrator always stays.

use crate::both_backends;
use crate::helpers::*;
use crate::webhooks::receiver;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{OrganizationRole, Role, Scope};

const NEW_PASSWORD: &str = "a different long passphrase";

async fn events(admin: &invitegate_client::Client, action: &str, target: &str) -> Vec<AuditEvent> {
    admin
        .list_audit_events(&AuditEventQuery {
            action: Some(action.into()),
            target_id: Some(target.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
}

/// Disable, enable, promote, rename: each takes effect and is audited; what disabling revoked
/// stays revoked; a `users:write` key cannot bring an administrator back or change roles.
async fn an_admin_enables_and_changes_accounts(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (ann, session) = app.member(&owner, "ann@example.com").await;
    let ann_id = session.user.id.clone();
    let sent = ann
        .create_invitation(&email_req("friend@example.com"))
        .await
        .unwrap();

    owner.disable_user(&ann_id).await.unwrap();
    assert_problem(
        app.api.login("ann@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    let enabled = owner.enable_user(&ann_id).await.unwrap();
    assert!(enabled.disabled_at.is_none());
    app.api.login("ann@example.com", PASSWORD).await.unwrap();
    assert_problem(
        app.api.verify_invitation(&sent.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    assert_eq!(events(&owner, "user.enabled", &ann_id).await.len(), 1);

    let changed = owner
        .update_user(
            &ann_id,
            &UpdateUserRequest {
                role: Some(Role::Admin),
                display_name: Some("Ann Lee".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.role, changed.display_name.as_deref()),
        (Role::Admin, Some("Ann Lee"))
    );
    let ann = app.api.with_bearer(
        &app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .access_token,
    );
    ann.list_users(&Default::default()).await.unwrap();
    let ann_key = app.api_key(&ann, &[Scope::Admin]).await;
    let ann_invite = ann
        .create_invitation(&CreateInvitationRequest {
            role: Some(Role::Admin),
            ..email_req("second-admin@example.com")
        })
        .await
        .unwrap();
    let to = |role| UpdateUserRequest {
        role: Some(role),
        ..Default::default()
    };
    owner.update_user(&ann_id, &to(Role::Member)).await.unwrap();
    // Demoted: no admin authority is left, through the session, the key or the invitation.
    assert_problem(
        ann.list_users(&Default::default()).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        ann_key.list_users(&Default::default()).await,
        401,
        ErrorCode::Unauthenticated,
    );
    assert_problem(
        app.api.verify_invitation(&ann_invite.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    owner.update_user(&ann_id, &to(Role::Admin)).await.unwrap();
    let role_events = events(&owner, "user.role_changed", &ann_id).await;
    assert_eq!(role_events.len(), 3);
    assert_eq!(role_events[1].details["from"], "admin");
    assert_eq!(role_events[1].details["to"], "member");
    assert_eq!(role_events[1].details["api_keys_revoked"], 1);
    assert_problem(
        owner
            .update_user(
                &ann_id,
                &UpdateUserRequest {
                    display_name: Some("x".repeat(101)),
                    ..Default::default()
                },
            )
            .await,
        422,
        ErrorCode::ValidationFailed,
    );

    let key = app.api_key(&owner, &[Scope::UsersWrite]).await;
    assert_problem(key.disable_user(&ann_id).await, 403, ErrorCode::Forbidden);
    owner.disable_user(&ann_id).await.unwrap();
    assert_problem(key.enable_user(&ann_id).await, 403, ErrorCode::Forbidden);
    assert_problem(
        key.update_user(
            &ann_id,
            &UpdateUserRequest {
                role: Some(Role::Member),
                ..Default::default()
            },
        )
        .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(key.delete_user(&ann_id).await, 403, ErrorCode::Forbidden);
    assert_problem(
        owner.enable_user("no-such-user").await,
        404,
        ErrorCode::NotFound,
    );
}

/// Deleting an account ends its sessions, revokes its pending invitations, frees its email for
/// a new invitation, and leaves audit events with its id but without its email.
async fn a_deleted_account_is_gone_but_its_id_stays_in_the_audit_log(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (ann, session) = app.member(&owner, "ann@example.com").await;
    let ann_id = session.user.id;
    let sent = ann
        .create_invitation(&email_req("friend@example.com"))
        .await
        .unwrap();
    let _ = app.api.login("ann@example.com", "not the password").await;

    owner.delete_user(&ann_id).await.unwrap();
    let users = owner.list_users(&Default::default()).await.unwrap().data;
    assert!(users.iter().all(|u| u.id != ann_id));
    assert_eq!(events(&owner, "user.deleted", &ann_id).await.len(), 1);
    let log = owner
        .list_audit_events(&AuditEventQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert!(
        log.iter()
            .any(|e| e.actor.as_ref().is_some_and(|a| a.id == ann_id))
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("ann@example.com"), "{text}");
    assert!(text.contains("[deleted]"));

    // Afterwards (a sign-in typed with the address is a new event, and keeps it).
    assert_problem(ann.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(
        app.api.login("ann@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    assert_problem(
        app.api.verify_invitation(&sent.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    owner
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    assert_problem(owner.delete_user(&ann_id).await, 404, ErrorCode::NotFound);
    let owner_id = owner.me().await.unwrap().user.id;
    assert_problem(
        owner.delete_user(&owner_id).await,
        403,
        ErrorCode::Forbidden,
    );
}

/// The last active administrator cannot be demoted, disabled or deleted, not even when two
/// administrators demote each other at the same moment.
async fn the_last_admin_stays(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let owner_id = owner.me().await.unwrap().user.id;
    let demote = UpdateUserRequest {
        role: Some(Role::Member),
        ..Default::default()
    };
    assert_problem(
        owner.update_user(&owner_id, &demote).await,
        409,
        ErrorCode::LastAdmin,
    );
    assert_problem(
        owner.delete_my_account(PASSWORD).await,
        409,
        ErrorCode::LastAdmin,
    );
    let key = app.api_key(&owner, &[Scope::UsersWrite]).await;
    assert_problem(key.disable_user(&owner_id).await, 403, ErrorCode::Forbidden);
    let key = app.api_key(&owner, &[Scope::Admin]).await;
    assert_problem(key.disable_user(&owner_id).await, 409, ErrorCode::LastAdmin);

    for round in 0..3 {
        let email = format!("deputy{round}@example.com");
        let inv = owner
            .create_invitation(&CreateInvitationRequest {
                role: Some(Role::Admin),
                ..email_req(&email)
            })
            .await
            .unwrap();
        let deputy = match app
            .api
            .register(&register_req(&email, Some(&inv.token)))
            .await
            .unwrap()
        {
            invitegate_client::Registration::SignedIn(s) => s,
            _ => unreachable!(),
        };
        let deputy_client = app.api.with_bearer(&deputy.access_token);
        let (a, b2) = tokio::join!(
            owner.update_user(&deputy.user.id, &demote),
            deputy_client.update_user(&owner_id, &demote)
        );
        // The loser is refused: 409 `last_admin`, or 403 when the other's demotion landed
        // before its own request was authorised.
        let succeeded = [a.is_ok(), b2.is_ok()].iter().filter(|x| **x).count();
        assert_eq!(succeeded, 1, "{a:?} {b2:?}");
        let admins = owner_or_deputy_admins(&app).await;
        assert_eq!(admins, 1, "round {round}: {a:?} {b2:?}");
        if b2.is_ok() {
            // The deputy is the admin now: hand it back for the next round.
            deputy_client
                .update_user(
                    &owner_id,
                    &UpdateUserRequest {
                        role: Some(Role::Admin),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            owner.update_user(&deputy.user.id, &demote).await.unwrap();
        }
    }
}

async fn owner_or_deputy_admins(app: &TestApp) -> i64 {
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::users::dsl as u;
        Ok(u::users
            .filter(u::role.eq(Role::Admin))
            .filter(u::disabled_at.is_null())
            .count()
            .get_result::<i64>(c)?)
    })
    .await
}

/// Changing the password needs the current one, follows the policy, ends every other session
/// and keeps this one.
async fn changing_the_password_ends_the_other_sessions(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (here, _) = app.member(&owner, "ann@example.com").await;
    let elsewhere = app.api.with_bearer(
        &app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .access_token,
    );

    assert_problem(
        here.change_password("wrong password", NEW_PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    let weak = here.change_password(PASSWORD, "short").await.unwrap_err();
    match weak {
        invitegate_client::ClientError::Api {
            status: 422,
            problem,
        } => {
            assert!(problem.errors.unwrap().contains_key("new_password"))
        }
        other => panic!("{other:?}"),
    }
    let fresh = here.change_password(PASSWORD, NEW_PASSWORD).await.unwrap();
    // Every session ends, this one too; the answer is a new session.
    assert_problem(here.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(elsewhere.me().await, 401, ErrorCode::Unauthenticated);
    let here = app.api.with_bearer(&fresh.access_token);
    assert_eq!(here.my_sessions().await.unwrap().len(), 1);
    assert_problem(
        app.api.login("ann@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    app.api
        .login("ann@example.com", NEW_PASSWORD)
        .await
        .unwrap();
    let ann_id = here.me().await.unwrap().user.id;
    let changed = events(&owner, "user.password_changed", &ann_id).await;
    assert_eq!(
        changed
            .iter()
            .filter(|e| e.details["other_sessions_ended"] == 1)
            .count(),
        1
    );
}

/// A person sees their live sessions (the current one marked) and ends another; someone
/// else's session id is not found.
async fn sessions_are_listed_and_ended(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (here, _) = app.member(&owner, "ann@example.com").await;
    let other = app.api.with_bearer(
        &app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .access_token,
    );
    let list = here.my_sessions().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    let other_id = list.iter().find(|s| !s.current).unwrap().id.clone();

    assert_problem(
        owner.end_my_session(&other_id).await,
        404,
        ErrorCode::NotFound,
    );
    other.me().await.unwrap();
    here.end_my_session(&other_id).await.unwrap();
    assert_problem(other.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(
        here.end_my_session(&other_id).await,
        404,
        ErrorCode::NotFound,
    );
    let list = here.my_sessions().await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].current);
    let ann_id = here.me().await.unwrap().user.id;
    let revoked = owner
        .list_audit_events(&AuditEventQuery {
            action: Some("session.revoked".into()),
            actor_id: Some(ann_id),
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert_eq!(revoked[0].target.as_ref().unwrap().id, other_id);
    let key = app.api_key(&owner, &[Scope::Admin]).await;
    assert_problem(key.my_sessions().await, 403, ErrorCode::Forbidden);
}

/// The export is a download holding the account, its invitations both ways and its events.
async fn the_export_holds_what_is_kept_about_me(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (ann, session) = app.member(&owner, "ann@example.com").await;
    ann.create_invitation(&email_req("friend@example.com"))
        .await
        .unwrap();
    let export = ann.export_my_data().await.unwrap();
    assert_eq!(export.user.email, "ann@example.com");
    assert_eq!(export.invitations_sent.len(), 1);
    assert_eq!(
        export.invitations_sent[0].email.as_deref(),
        Some("friend@example.com")
    );
    assert_eq!(
        export.invitations_received[0].id,
        session.user.invitation_id.clone().unwrap()
    );
    assert_eq!(export.sessions.len(), 1);
    assert!(
        export
            .audit_events
            .iter()
            .any(|e| e.action == "registration.succeeded")
    );
    let raw = reqwest::Client::new()
        .get(app.url("/api/v1/me/export"))
        .bearer_auth(&session.access_token)
        .send()
        .await
        .unwrap();
    assert!(
        raw.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
}

/// Deleting one's own account needs the password; afterwards the address can be invited again.
async fn a_person_deletes_their_account_with_the_password(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let (ann, _) = app.member(&owner, "ann@example.com").await;
    assert_problem(
        ann.delete_my_account("not my password").await,
        401,
        ErrorCode::InvalidCredentials,
    );
    ann.me().await.unwrap();
    ann.delete_my_account(PASSWORD).await.unwrap();
    assert_problem(ann.me().await, 401, ErrorCode::Unauthenticated);
    app.member(&owner, "ann@example.com").await;
}

/// The last owner of an organisation that still has other members is not deleted (by an
/// administrator or by themselves) until someone else owns it or they are alone in it.
async fn the_last_owner_of_an_organisation_with_members_stays(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let owner_id = owner.me().await.unwrap().user.id;
    let org = owner
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for (email, role) in [
        ("olive@example.com", OrganizationRole::Owner),
        ("ann@example.com", OrganizationRole::Member),
    ] {
        let inv = owner
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some(org.clone()),
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
            invitegate_client::Registration::SignedIn(s) => {
                ids.push((s.user.id.clone(), app.api.with_bearer(&s.access_token)))
            }
            _ => unreachable!(),
        }
    }
    owner
        .remove_organization_member(&org, &owner_id)
        .await
        .unwrap();
    let (olive_id, olive) = &ids[0];
    assert_problem(owner.delete_user(olive_id).await, 409, ErrorCode::LastOwner);
    assert_problem(
        olive.delete_my_account(PASSWORD).await,
        409,
        ErrorCode::LastOwner,
    );
    olive.me().await.unwrap();
    owner
        .remove_organization_member(&org, &ids[1].0)
        .await
        .unwrap();
    owner.delete_user(olive_id).await.unwrap();
}

/// Each lifecycle event reaches a webhook subscribed to it.
async fn lifecycle_events_reach_webhooks(b: Backend) {
    let (url, got) = receiver(0).await;
    let app = spawn_app_with(b, |c| c.webhook_allow_private_targets = true).await;
    let owner = app.admin().await;
    let wanted = [
        "user.enabled",
        "user.role_changed",
        "user.deleted",
        "user.password_changed",
        "session.revoked",
    ];
    owner
        .create_webhook(&CreateWebhookRequest {
            url,
            events: wanted.iter().map(|s| s.to_string()).collect(),
        })
        .await
        .unwrap();
    let (_, session) = app.member(&owner, "ann@example.com").await;
    let id = session.user.id;
    owner.disable_user(&id).await.unwrap();
    owner.enable_user(&id).await.unwrap();
    let ann = app.api.with_bearer(
        &app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .access_token,
    );
    app.api.login("ann@example.com", PASSWORD).await.unwrap();
    let ann = app.api.with_bearer(
        &ann.change_password(PASSWORD, NEW_PASSWORD)
            .await
            .unwrap()
            .access_token,
    );
    app.api
        .login("ann@example.com", NEW_PASSWORD)
        .await
        .unwrap();
    let third_id = ann
        .my_sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|s| !s.current)
        .unwrap()
        .id;
    ann.end_my_session(&third_id).await.unwrap();
    owner
        .update_user(
            &id,
            &UpdateUserRequest {
                role: Some(Role::Admin),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    owner.delete_user(&id).await.unwrap();
    let types = eventually("the five lifecycle events", || {
        let got = got.clone();
        async move {
            let types: Vec<String> = got
                .lock()
                .unwrap()
                .iter()
                .map(|r| {
                    serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            wanted
                .iter()
                .all(|w| types.iter().any(|t| t == w))
                .then_some(types)
        }
    })
    .await;
    assert_eq!(types.len(), wanted.len(), "{types:?}");
}

both_backends!(
    an_admin_enables_and_changes_accounts,
    a_deleted_account_is_gone_but_its_id_stays_in_the_audit_log,
    the_last_admin_stays,
    changing_the_password_ends_the_other_sessions,
    sessions_are_listed_and_ended,
    the_export_holds_what_is_kept_about_me,
    a_person_deletes_their_account_with_the_password,
    lifecycle_events_reach_webhooks,
    the_last_owner_of_an_organisation_with_members_stays,
);
