//! PostgreSQL parses and plans a statement sent unprepared on every execution: a
//! registration's writes cost the database about twice the CPU that way (docs/performance.md).

mod postgres {
    use crate::helpers::*;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use invitegate_server::storage::DbConn;

    #[derive(QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = Text)]
        statement: String,
    }

    /// With one pooled connection every statement of two registrations runs on it; each one
    /// the registration writes with, and the lone token lookup, is then prepared once there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_registrations_writes_and_token_lookup_stay_prepared() {
        let app = spawn_app_with(Backend::Postgres, |c| c.database_pool_size = 1).await;
        let admin = app.admin().await;
        for email in ["ann@example.com", "bob@example.com"] {
            let inv = admin.create_invitation(&email_req(email)).await.unwrap();
            let res = app
                .http
                .post(app.url("/api/v1/register"))
                .json(&register_req(email, Some(&inv.token)))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 201);
        }
        let prepared: Vec<String> = app
            .db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(
                    diesel::sql_query("SELECT statement FROM pg_prepared_statements")
                        .load::<Prepared>(pg)?
                        .into_iter()
                        .map(|p| p.statement)
                        .collect(),
                )
            })
            .await;
        // The registration's two audit events (the redemption, the new account) are one
        // two-row insert; creating the invitations wrote theirs with the one-row insert.
        for (start, rows) in [
            (r#"UPDATE "invitations" SET "uses""#, 1),
            (r#"INSERT INTO "users""#, 1),
            (r#"INSERT INTO "audit_events""#, 1),
            (r#"INSERT INTO "audit_events""#, 2),
            (r#"INSERT INTO "sessions""#, 1),
        ] {
            let found = prepared
                .iter()
                .filter(|s| s.starts_with(start) && s.matches("), (").count() + 1 == rows)
                .count();
            assert_eq!(
                found, 1,
                "{start}… of {rows} rows prepared once in {prepared:#?}"
            );
        }
        assert!(
            prepared
                .iter()
                .any(|s| s.contains(r#""invitations"."token_hash" = $1"#)),
            "the lone token lookup in {prepared:#?}"
        );
    }
}
