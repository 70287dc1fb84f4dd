//! What ends with a session or an account (issue 11, item 3): the OpenID Connect grants made in
//! an ended session, and every row that points at a deleted account.

use crate::both_backends;
use crate::helpers::*;
use crate::oidc_support::*;
use crate::webhooks::receiver;
use diesel::prelude::*;
use invitegate_core::api::*;
use invitegate_core::model::OrganizationRole;
use invitegate_server::storage::schema::{
    audit_events as a, memberships as m, oauth_grants as g, outbox as o, password_resets as r,
    sessions as s,
};
use openidconnect::OAuth2TokenResponse;

both_backends!(
    ending_a_session_or_changing_the_password_ends_the_app_grants_made_in_it,
    a_deleted_account_leaves_nothing_that_points_at_it,
);

async fn userinfo_status(app: &TestApp, token: &str) -> u16 {
    app.http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn ending_a_session_or_changing_the_password_ends_the_app_grants_made_in_it(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (here, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let other = app.api.login("ann@example.com", PASSWORD).await.unwrap();

    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let here_tokens = exchange(&rp, &code, Some(verifier)).await.unwrap();
    let (code, _, verifier) = code_for(&app, &rp, &other.access_token, &["offline_access"]).await;
    let other_tokens = exchange(&rp, &code, Some(verifier)).await.unwrap();
    assert_eq!(
        userinfo_status(&app, other_tokens.access_token().secret()).await,
        200
    );

    let other_id = here
        .my_sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|s| !s.current)
        .unwrap()
        .id;
    here.end_my_session(&other_id).await.unwrap();
    assert_eq!(
        userinfo_status(&app, other_tokens.access_token().secret()).await,
        401
    );
    assert!(
        rp.refresh(other_tokens.refresh_token().unwrap())
            .await
            .is_err()
    );
    assert_eq!(
        userinfo_status(&app, here_tokens.access_token().secret()).await,
        200
    );

    here.change_password(PASSWORD, "a different long passphrase")
        .await
        .unwrap();
    assert_eq!(
        userinfo_status(&app, here_tokens.access_token().secret()).await,
        401
    );
    assert!(
        rp.refresh(here_tokens.refresh_token().unwrap())
            .await
            .is_err()
    );
}

async fn a_deleted_account_leaves_nothing_that_points_at_it(b: Backend) {
    let (url, _) = receiver(0).await;
    let app = spawn_app_with(b, |c| c.webhook_allow_private_targets = true).await;
    let admin = app.admin().await;
    admin
        .create_webhook(&CreateWebhookRequest {
            url,
            events: vec!["*".into()],
        })
        .await
        .unwrap();
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.clone()),
            organization_role: Some(OrganizationRole::Member),
            ..email_req("ann@example.com")
        })
        .await
        .unwrap();
    let ann = match app
        .api
        .register(&register_req("ann@example.com", Some(&inv.token)))
        .await
        .unwrap()
    {
        invitegate_client::Registration::SignedIn(s) => s,
        _ => unreachable!(),
    };
    let id = ann.user.id.clone();
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let tokens = exchange(&rp, &code, Some(verifier)).await.unwrap();
    app.api
        .request_password_reset("ann@example.com")
        .await
        .unwrap();
    app.emails().await;

    admin.delete_user(&id).await.unwrap();

    let uid = id.clone();
    let left = app
        .db(move |c| {
            let sessions: i64 = s::table.filter(s::user_id.eq(&uid)).count().get_result(c)?;
            let memberships: i64 = m::table.filter(m::user_id.eq(&uid)).count().get_result(c)?;
            let resets: i64 = r::table.filter(r::user_id.eq(&uid)).count().get_result(c)?;
            let grants: i64 = g::table.filter(g::user_id.eq(&uid)).count().get_result(c)?;
            let payloads: i64 = o::table
                .filter(o::payload.like("%ann@example.com%"))
                .count()
                .get_result(c)?;
            let audit: i64 = a::table
                .filter(a::details.like("%ann@example.com%"))
                .count()
                .get_result(c)?;
            Ok([sessions, memberships, resets, grants, payloads, audit])
        })
        .await;
    assert_eq!(
        left, [0; 6],
        "sessions, memberships, resets, grants, payloads, audit"
    );
    assert_eq!(
        userinfo_status(&app, tokens.access_token().secret()).await,
        401
    );
    let removed = admin
        .list_audit_events(&AuditEventQuery {
            action: Some("membership.removed".into()),
            target_id: Some(org),
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert_eq!(removed[0].details["reason"], "account_deleted");
    assert_eq!(removed[0].details["user_id"], id.as_str());
}
