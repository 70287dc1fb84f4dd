use super::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

/// `.cargo/config.toml` builds the bundled SQLite with the query planner stability guarantee
/// and without memory statistics: without the first, every cached statement with a `LIMIT ?`
/// (diesel's `.first()`) was recompiled on each execution.
#[test]
fn the_bundled_sqlite_keeps_cached_plans_and_no_allocation_statistics() {
    let manager = ConnectionManager::new("sqlite://:memory:").unwrap();
    let DbConn::Sqlite(mut conn) = manager.establish().unwrap() else {
        panic!("a SQLite connection");
    };
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        assert!(
            options.iter().any(|o| o == wanted),
            "{wanted} in {options:?}"
        );
    }
}

/// A connection is asked `SELECT 1` at checkout only when its last reported good use is
/// older than [`TRUSTED_FOR`] or its last user saw a server error; returning it to the pool
/// renews nothing by itself.
#[test]
fn checkout_checks_idle_and_suspect_connections_only() {
    let manager = ConnectionManager::new("sqlite://:memory:").unwrap();
    let mut conn = manager.connect().unwrap();
    conn.known_good_at = std::time::Instant::now();
    let fresh = conn.known_good_at;
    assert!(manager.is_valid(&mut conn).is_ok());
    assert_eq!(conn.known_good_at, fresh, "trusted: not asked");

    conn.known_good_at -= TRUSTED_FOR * 2;
    let aged = conn.known_good_at;
    assert!(!manager.has_broken(&mut conn));
    assert_eq!(
        conn.known_good_at, aged,
        "going back to the pool renews nothing"
    );
    assert!(manager.is_valid(&mut conn).is_ok());
    assert!(
        conn.known_good_at > aged,
        "idle past the window: asked, and trusted again"
    );

    conn.report(false);
    let before = conn.known_good_at;
    conn.report(true);
    assert_eq!(
        conn.known_good_at, before,
        "a suspect is not trusted on its user's word"
    );
    assert!(manager.is_valid(&mut conn).is_ok());
    assert!(!conn.suspect, "a suspect that answered is trusted again");
    assert!(conn.known_good_at > before);

    conn.known_good_at -= TRUSTED_FOR * 2;
    conn.report(true);
    assert!(
        conn.known_good_at.elapsed() < TRUSTED_FOR,
        "a reported good use renews"
    );
}

/// Users and audit events bind `None` as NULL, so on SQLite a batch of them is one statement
/// with a parameter per column and row: seeding's and the audit writer's batches stay under
/// SQLite's 32,766, and every row lands.
#[test]
fn batches_of_users_and_audit_events_insert_whole_on_sqlite() {
    let manager = ConnectionManager::new("sqlite://:memory:").unwrap();
    let mut conn = manager.establish().unwrap();
    run_migrations(&mut conn).unwrap();
    let now = now();
    let users: Vec<models::UserRow> = (0..3_500)
        .map(|i| models::UserRow {
            id: format!("user-{i}"),
            email: format!("seed-{i}@example.com"),
            display_name: None,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: invitegate_core::model::Role::Member,
            created_at: now,
            disabled_at: None,
            invited_by_type: None,
            invited_by_id: None,
            invitation_id: None,
            invitation_serial: 0,
        })
        .collect();
    let events: Vec<audit::AuditRow> = (0..3_500)
        .map(|i| audit::AuditRow {
            id: format!("event-{i}"),
            occurred_at: now,
            action: "invitation.verified".into(),
            outcome: "success".into(),
            actor_type: None,
            actor_id: None,
            target_type: Some("invitation".into()),
            target_id: Some(format!("inv-{i}")),
            ip: None,
            user_agent: None,
            details: "{}".into(),
        })
        .collect();
    write_tx(&mut conn, |c| {
        users::insert_many(c, &users)?;
        audit::insert_many(c, &events)
    })
    .unwrap();
    use schema::{audit_events, users as u};
    let counted: (i64, i64) = (
        u::table.count().get_result(&mut conn).unwrap(),
        audit_events::table.count().get_result(&mut conn).unwrap(),
    );
    assert_eq!(counted, (3_500, 3_500));
}
