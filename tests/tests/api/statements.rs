//! PostgreSQL parses and plans a statement sent unprepared on every execution: a
//! registration's writes cost the database about twice the CPU that way (docs/performance.md).
//! A prepared one keeps a generic plan, made from whatever the table's statistics said then.

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

    /// With one pooled connection every statement of four registrations runs on it: two in
    /// the one statement, two (a webhook endpoint present) in the transaction. Each statement
    /// a registration writes with, and the lone token lookup, is then prepared once there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_registrations_writes_and_token_lookup_stay_prepared() {
        let app = spawn_app_with(Backend::Postgres, |c| {
            c.database_pool_size = 1;
            c.webhook_allow_private_targets = true;
        })
        .await;
        let admin = app.admin().await;
        for email in [
            "ann@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
        ] {
            if email == "carol@example.com" {
                admin
                    .create_webhook(&invitegate_core::api::CreateWebhookRequest {
                        url: "http://127.0.0.1:9/hooks".into(),
                        events: vec!["invitation.revoked".into()],
                    })
                    .await
                    .unwrap();
            }
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
        // In the transaction the registration's two audit events (the redemption, the new
        // account) are one two-row insert; creating the invitations wrote theirs with the
        // one-row insert.
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
        let one_statement = r#"WITH inv AS (UPDATE "invitations" SET "uses""#;
        assert_eq!(
            prepared
                .iter()
                .filter(|s| s.starts_with(one_statement))
                .count(),
            1,
            "the one statement prepared once in {prepared:#?}"
        );
        assert!(
            prepared
                .iter()
                .any(|s| s.contains(r#""invitations"."token_hash" = $1"#)),
            "the lone token lookup in {prepared:#?}"
        );
    }

    #[derive(QueryableByName)]
    struct Batched {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        params: i32,
    }

    #[derive(QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// Verifications read together are prepared statements (one per padded batch size), and
    /// their generic plans find each token by the unique index, before and after the table is
    /// analyzed (`token_hash = ANY($n)` was at times planned as a read of the whole table for
    /// every batch).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verifications_read_together_find_each_token_by_its_index() {
        let app = spawn_app_with(Backend::Postgres, |c| c.database_pool_size = 1).await;
        let admin = app.admin().await;
        let tokens = invite_in_bulk(&admin, "guest", 400).await;
        app.state.background.settled().await;
        let api = &app.api;
        for round in tokens.chunks(40).take(3) {
            let verified =
                futures_util::future::join_all(round.iter().map(|t| api.verify_invitation(t)));
            for v in verified.await {
                v.unwrap();
            }
        }
        let largest = app.state.token_lookups.as_ref().map(|l| l.largest_batch());
        assert!(largest > Some(1), "largest batch {largest:?}");
        // Its generic plan with no statistics (as before autovacuum's first visit; the bulk
        // creation had the table analysed, so they are removed here), then once they count every
        // row.
        for analyze in [false, true] {
            let plan: Vec<String> = app
                .db(move |c| {
                    let DbConn::Pg(pg) = c else {
                        panic!("a PostgreSQL connection")
                    };
                    let batched = diesel::sql_query(
                        "SELECT name, cardinality(parameter_types) AS params \
                         FROM pg_prepared_statements WHERE statement LIKE '%FROM unnest(%'",
                    )
                    .load::<Batched>(pg)?;
                    assert!(!batched.is_empty(), "a prepared statement reads batches");
                    if analyze {
                        diesel::sql_query("ANALYZE invitations").execute(pg)?;
                    } else {
                        diesel::sql_query(
                            "DELETE FROM pg_statistic WHERE starelid = 'invitations'::regclass",
                        )
                        .execute(pg)?;
                        diesel::sql_query(
                            "UPDATE pg_class SET reltuples = -1, relpages = 0 \
                             WHERE oid = 'invitations'::regclass",
                        )
                        .execute(pg)?;
                    }
                    Ok(pg.transaction(|pg| {
                        diesel::sql_query("SET LOCAL plan_cache_mode = force_generic_plan")
                            .execute(pg)?;
                        batched
                            .iter()
                            .map(|Batched { name, params }| {
                                let nulls = vec!["NULL"; *params as usize].join(", ");
                                let plan =
                                    diesel::sql_query(format!("EXPLAIN EXECUTE {name}({nulls})"))
                                        .load::<PlanLine>(pg)?;
                                Ok(plan
                                    .into_iter()
                                    .map(|p| p.line)
                                    .collect::<Vec<_>>()
                                    .join("\n"))
                            })
                            .collect::<QueryResult<Vec<String>>>()
                    })?)
                })
                .await;
            for plan in plan {
                assert!(
                    plan.contains("Index Scan using invitations_token_hash_key on invitations"),
                    "analyzed: {analyze}\n{plan}"
                );
                assert!(
                    !plan.contains("Seq Scan on invitations"),
                    "analyzed: {analyze}\n{plan}"
                );
            }
        }
    }

    #[derive(QueryableByName)]
    struct PlanCounts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        generic_plans: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        custom_plans: i64,
    }

    /// A batch of token lookups is planned once, not on every execution: its statement keeps
    /// the generic plan after PostgreSQL's five custom ones (each batch planned afresh cost the
    /// database twice what executing it did). Padding the batch up to its statement's size
    /// finds nothing more: three tokens, three invitations, and an unknown one among them is
    /// left out. An empty batch finds nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_of_token_lookups_keeps_its_generic_plan() {
        use invitegate_server::storage::invitations::find_previewed_by_token_hashes;
        use invitegate_server::tokens::hash_token;
        let app = spawn_app_with(Backend::Postgres, |c| c.database_pool_size = 1).await;
        let admin = app.admin().await;
        let tokens = invite_in_bulk(&admin, "guest", 3).await;
        app.state.background.settled().await;
        let mut hashes: Vec<String> = tokens.iter().map(|t| hash_token(t)).collect();
        assert_eq!(hashes.len(), 3);
        let (found, unknown, counts) = app
            .db(move |c| {
                let found = (0..12)
                    .map(|_| find_previewed_by_token_hashes(c, &hashes))
                    .collect::<QueryResult<Vec<_>>>()?;
                hashes[2] = hash_token("never.issued");
                let unknown = find_previewed_by_token_hashes(c, &hashes)?;
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                let counts = diesel::sql_query(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
                     WHERE statement LIKE '%FROM unnest(%'",
                )
                .load::<PlanCounts>(pg)?;
                assert!(find_previewed_by_token_hashes(c, &[])?.is_empty());
                Ok((found, unknown, counts))
            })
            .await;
        for batch in &found {
            let mut emails: Vec<_> = batch.iter().map(|p| p.row.email.clone()).collect();
            emails.sort();
            let want = [
                "guest0@example.com",
                "guest1@example.com",
                "guest2@example.com",
            ];
            assert_eq!(emails, want.map(|e| Some(e.to_string())));
        }
        assert_eq!(unknown.len(), 2, "the unknown token finds nothing");
        assert_eq!(counts.len(), 1, "one statement for batches of three");
        let PlanCounts {
            generic_plans,
            custom_plans,
        } = counts[0];
        assert!(
            custom_plans <= 5 && generic_plans >= 8,
            "13 executions: {generic_plans} generic plans, {custom_plans} custom ones"
        );
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    /// The previous refresh tokens' index leaves out the sessions that have none (every new
    /// one: a registration writes one index entry less) and still serves the lookups of a
    /// reused token, alone or beside the current one, with the generic plan a prepared
    /// statement keeps (sequential scans off: a lookup that could not use it reads the table).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lookups_of_a_previous_refresh_token_use_its_partial_index() {
        let app = spawn_app_with(Backend::Postgres, |c| c.database_pool_size = 1).await;
        let (partial, plans) = app
            .db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                let partial = diesel::sql_query(
                    "SELECT count(*) AS n FROM pg_indexes WHERE indexname = \
                     'sessions_previous_refresh_token_hash' \
                     AND indexdef LIKE '%WHERE (previous_refresh_token_hash IS NOT NULL)'",
                )
                .get_result::<Count>(pg)?
                .n;
                let plans = pg.transaction(|pg| {
                    for setting in [
                        "plan_cache_mode = force_generic_plan",
                        "enable_seqscan = off",
                    ] {
                        diesel::sql_query(format!("SET LOCAL {setting}")).execute(pg)?;
                    }
                    let mut plans = Vec::new();
                    for (name, filter) in [
                        ("previous_only", "previous_refresh_token_hash = $1"),
                        (
                            "current_or_previous",
                            "refresh_token_hash = $1 OR previous_refresh_token_hash = $1",
                        ),
                    ] {
                        diesel::sql_query(format!(
                            "PREPARE {name}(text) AS SELECT id FROM sessions WHERE {filter}"
                        ))
                        .execute(pg)?;
                        let lines = diesel::sql_query(format!("EXPLAIN EXECUTE {name}('x')"))
                            .load::<PlanLine>(pg)?;
                        plans.push(lines.into_iter().map(|l| l.line).collect::<Vec<_>>());
                        diesel::sql_query(format!("DEALLOCATE {name}")).execute(pg)?;
                    }
                    diesel::QueryResult::Ok(plans)
                })?;
                Ok((partial, plans))
            })
            .await;
        assert_eq!(partial, 1, "sessions without a previous token are left out");
        for plan in plans {
            assert!(
                plan.iter()
                    .any(|l| l.contains("sessions_previous_refresh_token_hash")),
                "{plan:#?}"
            );
        }
    }

    /// The funnel's count trigger reads each changed invitation through
    /// `invitation_count_change`: inlined into the trigger's statement, not called (a called
    /// SQL function is parsed and planned again on every run of the trigger).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_count_change_is_inlined_into_the_triggers_statement() {
        let app = spawn_app(Backend::Postgres).await;
        let plan: Vec<String> = app
            .db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(diesel::sql_query(
                    "EXPLAIN SELECT c.* FROM invitations i, LATERAL invitation_count_change(1, \
                     i.delivered_at, i.opened_at, i.uses, i.revoked_at, i.declined_at, \
                     i.expired_at) c",
                )
                .load::<PlanLine>(pg)?
                .into_iter()
                .map(|l| l.line)
                .collect())
            })
            .await;
        assert!(
            !plan.iter().any(|l| l.contains("Function Scan")),
            "{plan:#?}"
        );
        assert!(plan[0].contains("Seq Scan on invitations"), "{plan:#?}");
    }

    #[derive(QueryableByName)]
    struct Compression {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        method: Option<String>,
    }

    /// The emails a bulk creation queues are compressed with lz4 where the server has it (this
    /// machine's does): pglz took 4 % of the machine in a bulk creation of 10,000.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_emails_are_compressed_with_lz4() {
        // A mail server that answers slowly keeps the emails queued whole: a sent one keeps
        // only its address and subject.
        let delay = crate::smtp::Delay(std::time::Duration::from_secs(20));
        let sink = crate::smtp::SmtpSink::start_slow("127.0.0.1:0", delay).await;
        let app = spawn_app_with(Backend::Postgres, |c| {
            c.smtp_url = Some(format!("smtp://{}", sink.addr))
        })
        .await;
        let admin = app.admin().await;
        invite_in_bulk(&admin, "lz4-", 3).await;
        let methods: Vec<Option<String>> = app
            .db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(diesel::sql_query(
                    "SELECT pg_column_compression(payload) AS method FROM outbox \
                     WHERE payload LIKE '%lz4-%'",
                )
                .load::<Compression>(pg)?
                .into_iter()
                .map(|r| r.method)
                .collect())
            })
            .await;
        assert_eq!(methods, vec![Some("lz4".to_string()); 3]);
    }

    #[derive(QueryableByName)]
    struct Analyses {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        analyze_count: i64,
    }

    /// A bulk creation (one call, all its chunks) has `invitations` analysed, beside its
    /// answer, when the table was never analysed or when it adds more than autovacuum's rule
    /// allows (50 rows + 10 % of the rows last counted), and not for a small one: without
    /// statistics the redemption's statement read every invitation without an organisation
    /// instead of its own by the key (docs/performance.md).
    /// Counted by `analyze_count`, which autovacuum's analyses leave alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_creation_analyses_the_invitations_it_changes_much() {
        let app = spawn_app(Backend::Postgres).await;
        let admin = app.admin().await;
        let analyses = || {
            app.db(|c| {
                let DbConn::Pg(pg) = c else {
                    panic!("a PostgreSQL connection")
                };
                Ok(diesel::sql_query(
                    "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'invitations'",
                )
                .get_result::<Analyses>(pg)?
                .analyze_count)
            })
        };
        let before = analyses().await;
        let rehearsed = admin
            .bulk_create_invitations(&invitegate_core::api::BulkCreateRequest {
                invitations: (0..300)
                    .map(|i| email_req(&format!("first{i}@example.com")))
                    .collect(),
                dry_run: true,
            })
            .await
            .unwrap();
        assert_eq!(rehearsed.summary.created, 300);
        assert_eq!(
            analyses().await,
            before,
            "a dry run writes nothing to analyse"
        );
        // The analysis runs beside the answer: each step waits for the server's background
        // work before counting.
        let settled = || app.state.background.settled();
        invite_in_bulk(&admin, "first", 300).await;
        settled().await;
        assert_eq!(analyses().await, before + 1, "never analysed: 300 rows");
        invite_in_bulk(&admin, "second", 20).await;
        settled().await;
        assert_eq!(
            analyses().await,
            before + 1,
            "20 rows after ~300: not stale"
        );
        invite_in_bulk(&admin, "third", 200).await;
        settled().await;
        assert_eq!(analyses().await, before + 2, "200 rows after ~320: stale");
    }
}
