//! On PostgreSQL a registration with an invitation outside any organisation is written in one
//! statement when nothing else joins in (docs/performance.md); otherwise, and on SQLite, the
//! transaction writes it. Either way the account must come out the same.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{DomainPolicy, InvitationState, OrganizationRole};

both_backends!(
    an_auto_join_domain_adds_the_membership_to_an_invited_account,
    an_address_invited_before_it_had_an_account_changes_nothing,
);

/// The domain's membership is what the one statement leaves out: the transaction must write it.
async fn an_auto_join_domain_adds_the_membership_to_an_invited_account(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let corp = org(&admin, "Corp").await;
    admin
        .add_organization_domain(
            &corp.id,
            &AddDomainRequest {
                domain: "corp.example".into(),
                policy: DomainPolicy::AutoJoin,
            },
        )
        .await
        .unwrap();
    let (ann, _) = app.member(&admin, "ann@corp.example").await;
    let me = ann.me().await.unwrap();
    assert_eq!(me.memberships.len(), 1, "{me:?}");
    assert_eq!(me.memberships[0].organization.id, corp.id);
    assert_eq!(me.memberships[0].role, OrganizationRole::Member);
    let (bob, _) = app.member(&admin, "bob@elsewhere.example").await;
    assert!(bob.me().await.unwrap().memberships.is_empty());
}

/// An email-bound invitation signs in at once, but the address got an account meanwhile (by
/// the allowlist): its unique violation must undo the use of the invitation, whichever way
/// the registration is written, and the owner is told instead.
async fn an_address_invited_before_it_had_an_account_changes_nothing(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.invitation_whitelist_emails = vec!["ann@example.com".into()]
    })
    .await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", None))
            .await
            .unwrap(),
        invitegate_client::Registration::VerificationPending
    ));
    let link = app.link_token_for("ann@example.com", "/verify-email").await;
    let ann = app.api.confirm_email(&link, PASSWORD).await.unwrap();
    let res = app
        .http
        .post(app.url("/api/v1/register"))
        .json(&RegisterRequest {
            password: Some("attacker chosen password 1".into()),
            ..register_req("ann@example.com", Some(&inv.token))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert!(res.headers().get("set-cookie").is_none());
    let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!((got.uses, got.state), (0, InvitationState::Pending));
    assert_eq!(app.count_users().await, 2);
    let signed_in = app.api.login("ann@example.com", PASSWORD).await.unwrap();
    assert_eq!(signed_in.user.id, ann.user.id);
    assert_problem(
        app.api
            .login("ann@example.com", "attacker chosen password 1")
            .await,
        401,
        ErrorCode::InvalidCredentials,
    );
    let sessions = app
        .db(move |c| {
            use diesel::prelude::*;
            use invitegate_server::storage::schema::sessions::dsl as s;
            Ok(s::sessions
                .filter(s::user_id.eq(&ann.user.id))
                .count()
                .get_result::<i64>(c)?)
        })
        .await;
    assert_eq!(
        sessions, 2,
        "the confirmation's and the sign-in's, none from the invitation"
    );
}

mod postgres_only {
    use crate::helpers::*;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    use invitegate_core::api::*;
    use invitegate_server::storage::DbConn;

    #[derive(QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = Text)]
        statement: String,
        #[diesel(sql_type = BigInt)]
        runs: i64,
    }

    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Text)]
        rows: String,
    }

    /// Everything the registration wrote for the account at `email`, as JSON, with its ids,
    /// address and times replaced by what they stand for.
    const WRITTEN: &str = r#"
        SELECT json_build_object(
            'user', (SELECT json_build_object('display_name', display_name, 'role', role,
                        'disabled_at', disabled_at, 'invited_by', invited_by_type || ':' || invited_by_id,
                        'serial', invitation_serial, 'argon2id', password_hash LIKE '$argon2id$%',
                        'created_now', created_at > now() at time zone 'utc' - interval '1 minute')
                     FROM users WHERE id = u.id),
            'invitation', (SELECT json_build_object('uses', uses, 'accepted', accepted_at IS NOT NULL,
                               'pending_email', pending_email, 'user_created_at_acceptance',
                               accepted_at BETWEEN u.created_at - interval '1 second' AND u.created_at + interval '1 second')
                           FROM invitations WHERE id = u.invitation_id),
            'sessions', (SELECT json_agg(json_build_object('ttl', expires_at - created_at,
                             'unused', last_used_at = created_at, 'previous', previous_refresh_token_hash,
                             'revoked_at', revoked_at, 'ip', ip, 'user_agent', user_agent,
                             'refresh_hash_len', length(refresh_token_hash)))
                         FROM sessions WHERE user_id = u.id),
            'events', (SELECT json_agg(json_build_object('action', action, 'outcome', outcome,
                           'actor', actor_type, 'target', target_type || ':' ||
                               replace(replace(target_id, u.id, 'USER'), u.invitation_id, 'INVITATION'),
                           'ip', ip, 'user_agent', user_agent,
                           'details', replace(replace(replace(details, u.id, 'USER'), u.invitation_id, 'INVITATION'), u.email, 'EMAIL'))
                           ORDER BY id)
                       FROM audit_events WHERE actor_id = u.id),
            'outbox', (SELECT COUNT(*) FROM outbox WHERE kind = 'webhook')
        )::text AS rows
        FROM users u WHERE u.email = $1"#;

    async fn register(app: &TestApp, admin: &invitegate_client::Client, email: &str) {
        let inv = admin.create_invitation(&email_req(email)).await.unwrap();
        let res = app
            .http
            .post(app.url("/api/v1/register"))
            .header("user-agent", "registration-statement-test")
            .json(&RegisterRequest {
                display_name: Some("Someone".into()),
                ..register_req(email, Some(&inv.token))
            })
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    }

    /// How often each statement starting with one of `starts` ran on the app's one connection.
    async fn runs(app: &TestApp, starts: [&'static str; 2]) -> [i64; 2] {
        let prepared = app
            .db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(diesel::sql_query(
                    "SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements",
                )
                .load::<Prepared>(pg)?)
            })
            .await;
        starts.map(|start| {
            prepared
                .iter()
                .filter(|p| p.statement.starts_with(start))
                .map(|p| p.runs)
                .sum()
        })
    }

    async fn written(app: &TestApp, email: &'static str) -> serde_json::Value {
        let text = app
            .db(move |c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(diesel::sql_query(WRITTEN)
                    .bind::<Text, _>(email)
                    .get_result::<Written>(pg)?
                    .rows)
            })
            .await;
        serde_json::from_str(&text).unwrap()
    }

    /// Ann's registration is the one statement; a webhook endpoint (subscribed to nothing a
    /// registration says) sends Bob's through the transaction. Both must write the same.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_one_statement_writes_what_the_transaction_writes() {
        let app = spawn_app_with(Backend::Postgres, |c| {
            c.database_pool_size = 1;
            c.webhook_allow_private_targets = true;
        })
        .await;
        let admin = app.admin().await;
        let starts = [
            r#"WITH inv AS (UPDATE "invitations""#,
            r#"INSERT INTO "users""#,
        ];
        let before = runs(&app, starts).await;
        register(&app, &admin, "ann@example.com").await;
        let after_ann = runs(&app, starts).await;
        assert_eq!(
            [after_ann[0] - before[0], after_ann[1] - before[1]],
            [1, 0],
            "ann: the one statement only"
        );
        admin
            .create_webhook(&CreateWebhookRequest {
                url: "http://127.0.0.1:9/hooks".into(),
                events: vec!["invitation.revoked".into()],
            })
            .await
            .unwrap();
        register(&app, &admin, "bob@example.com").await;
        let after_bob = runs(&app, starts).await;
        assert_eq!(
            [after_bob[0] - after_ann[0], after_bob[1] - after_ann[1]],
            [1, 1],
            "bob: the one statement refused, then the transaction"
        );
        register(&app, &admin, "carol@example.com").await;
        let after_carol = runs(&app, starts).await;
        assert_eq!(
            [after_carol[0] - after_bob[0], after_carol[1] - after_bob[1]],
            [0, 1],
            "carol: the endpoint is known, the transaction at once"
        );

        let ann = written(&app, "ann@example.com").await;
        let bob = written(&app, "bob@example.com").await;
        assert_eq!(ann, bob);
        // What both wrote, spelled out once.
        assert_eq!(ann["user"]["display_name"], "Someone");
        assert_eq!(ann["user"]["argon2id"], true);
        assert_eq!(ann["user"]["created_now"], true);
        assert_eq!(ann["invitation"]["uses"], 1);
        assert_eq!(ann["invitation"]["accepted"], true);
        assert_eq!(ann["invitation"]["user_created_at_acceptance"], true);
        assert_eq!(ann["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(
            ann["sessions"][0]["user_agent"],
            "registration-statement-test"
        );
        assert_eq!(ann["sessions"][0]["unused"], true);
        let actions: Vec<_> = ann["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["invitation.redeemed", "registration.succeeded"]);
        assert_eq!(ann["events"][1]["target"], "user:USER");
        assert_eq!(
            ann["outbox"], 0,
            "no endpoint wants a registration's events"
        );

        // Both acceptances are counted, as reading the invitations would count them.
        let funnel = admin
            .insights_funnel(&InsightsQuery::default())
            .await
            .unwrap();
        assert_eq!((funnel.created, funnel.accepted), (3, 3));
    }

    /// The statement writes only for an invitation outside any organisation, whoever calls it:
    /// one into an organisation is refused and stays unused (its membership is the
    /// transaction's to write).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_one_statement_refuses_an_invitation_into_an_organisation() {
        use invitegate_server::storage;
        use invitegate_server::storage::registrations::{AtOnce, InvitedAccount, insert_at_once};
        let app = spawn_app(Backend::Postgres).await;
        let admin = app.admin().await;
        let acme = org(&admin, "Acme").await;
        let inv = admin
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some(acme.id),
                ..email_req("ann@example.com")
            })
            .await
            .unwrap();
        let id = inv.invitation.id.clone();
        let outcome = app
            .db(move |c| {
                let now = storage::now();
                let (user, events, session) = invited_account_rows("ann@example.com", &id);
                let account = InvitedAccount {
                    invitation_id: &id,
                    now,
                    email_domain: "example.com",
                    user: &user,
                    events: &events,
                    session: &session,
                };
                Ok(insert_at_once(c, &[account])?)
            })
            .await;
        assert_eq!(
            outcome,
            AtOnce {
                written: vec![],
                webhooks: false
            }
        );
        let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
        assert_eq!(got.uses, 0);
        assert_eq!(app.count_users().await, 1);
    }
}
