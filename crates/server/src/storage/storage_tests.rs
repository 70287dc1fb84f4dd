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

/// Member number `i`, made now.
fn user(i: usize) -> models::UserRow {
    models::UserRow {
        id: format!("user-{i}"),
        email: format!("seed-{i}@example.com"),
        display_name: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: invitegate_core::model::Role::Member,
        created_at: now(),
        disabled_at: None,
        invited_by_type: None,
        invited_by_id: None,
        invitation_id: None,
        invitation_serial: 0,
    }
}

/// Users and audit events bind `None` as NULL, so on SQLite a batch of them is one statement
/// with a parameter per column and row: seeding's and the audit writer's batches stay under
/// SQLite's 32,766, and every row lands.
#[test]
fn batches_of_users_and_audit_events_insert_whole_on_sqlite() {
    let mut conn = sqlite_in_memory();
    let now = now();
    let users: Vec<models::UserRow> = (0..3_500).map(user).collect();
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

/// A migrated SQLite database in a file of its own (WAL needs one): its connection manager,
/// and the folder that holds it.
fn sqlite_file() -> (ConnectionManager, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let manager = ConnectionManager::new(&url).unwrap();
    run_migrations(&mut manager.establish().unwrap()).unwrap();
    (manager, dir)
}

/// A migrated SQLite database in memory.
fn sqlite_in_memory() -> DbConn {
    let mut conn = ConnectionManager::new("sqlite://:memory:")
        .unwrap()
        .establish()
        .unwrap();
    run_migrations(&mut conn).unwrap();
    conn
}

/// On SQLite a write transaction takes the write lock as it begins instead of by writing a
/// row: one that only reads (a background job with nothing to do) adds nothing to the WAL,
/// so an idle server writes nothing to disk.
#[test]
fn a_write_transaction_that_writes_nothing_leaves_the_wal_as_it_was() {
    let (manager, dir) = sqlite_file();
    let mut conn = manager.establish().unwrap();
    let wal = dir.path().join("test.db-wal");
    let wal_len = || std::fs::metadata(&wal).unwrap().len();
    // Frames not yet checkpointed: the next write appends (a WAL whose frames were all copied
    // back may start over from its beginning).
    write_tx(&mut conn, bump_write_lock).unwrap();
    let before = wal_len();
    let counted: i64 = write_tx(&mut conn, |c| schema::users::table.count().get_result(c)).unwrap();
    assert_eq!(counted, 0);
    assert_eq!(wal_len(), before, "nothing written, nothing in the WAL");
    write_tx(&mut conn, bump_write_lock).unwrap();
    assert!(wal_len() > before, "a write lands in the WAL");
}

/// A write transaction holds the write lock from its start, before it has written anything:
/// one that reads first can never fail with `SQLITE_BUSY` on the upgrade to writing, as
/// another connection's write would make it.
#[test]
fn a_write_transaction_holds_the_write_lock_from_its_start() {
    let (manager, _dir) = sqlite_file();
    let (mut conn, mut other) = (manager.establish().unwrap(), manager.establish().unwrap());
    other.batch_execute("PRAGMA busy_timeout = 0").unwrap();
    write_tx(&mut conn, |c| {
        let _: i64 = schema::users::table.count().get_result(c)?;
        let refused = other.batch_execute("BEGIN IMMEDIATE");
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("locked")),
            "{refused:?}"
        );
        users::insert_many(c, &[user(1)])
    })
    .unwrap();
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    timeout: i32,
}

/// How long `conn` waits for another connection's lock, in milliseconds.
fn busy_timeout_ms(conn: &mut DbConn) -> u32 {
    let DbConn::Sqlite(conn) = conn else {
        panic!("a SQLite connection");
    };
    let set = diesel::sql_query("PRAGMA busy_timeout").get_result::<BusyTimeout>(conn);
    set.unwrap().timeout as u32
}

/// A write transaction that must not wait (one an HTTP worker runs) is handed back unrun while
/// another connection holds the write lock, instead of waiting for it; the connection waits
/// again as every connection does afterwards, and runs it once the lock is free.
#[test]
fn a_write_transaction_that_must_not_wait_is_handed_back_while_the_lock_is_taken() {
    let (manager, _dir) = sqlite_file();
    let mut conn = manager.connect().unwrap();
    let mut other = manager.establish().unwrap();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        other.batch_execute("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        // Had the transaction below waited for the lock, it would get it here and run.
        let _ = released.recv_timeout(Duration::from_secs(5));
        other.batch_execute("COMMIT").unwrap();
    });
    is_locked.recv().unwrap();
    let insert = |c: &mut DbConn| users::insert_many(c, &[user(1)]);
    let refused = try_write_tx(&mut conn, insert);
    release.send(()).unwrap();
    holder.join().unwrap();
    let Err(insert) = refused else {
        panic!("ran while another connection held the write lock");
    };
    assert_eq!(busy_timeout_ms(&mut conn), BUSY_TIMEOUT_MS);
    let counted: DbResult<i64> = try_write_tx(&mut conn, |c| {
        insert(c)?;
        schema::users::table.count().get_result(c)
    })
    .unwrap_or_else(|_| panic!("refused with the lock free"));
    assert_eq!(counted.unwrap(), 1);
}

/// A SQLite connection marked suspect gets its busy timeout set again at its next checkout,
/// in case a transaction that must not wait could not restore it.
#[test]
fn checkout_of_a_suspect_connection_sets_its_busy_timeout_again() {
    let (manager, _dir) = sqlite_file();
    let mut conn = manager.connect().unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 0").unwrap();
    conn.report(false);
    manager.is_valid(&mut conn).unwrap();
    assert_eq!(busy_timeout_ms(&mut conn), BUSY_TIMEOUT_MS);
}

/// A failed write transaction leaves nothing behind: its rows are gone and the connection is
/// out of the transaction, so the next one commits for every reader to see.
#[test]
fn a_failed_write_transaction_ends_its_transaction() {
    use diesel::connection::TransactionManager;
    let (manager, _dir) = sqlite_file();
    let (mut conn, mut reader) = (manager.establish().unwrap(), manager.establish().unwrap());
    let failed: DbResult<()> = write_tx(&mut conn, |c| {
        users::insert_many(c, &[user(1)])?;
        Err(rollback())
    });
    assert!(failed.is_err_and(|e| is_rollback(&e)));
    type Manager = <DbConn as diesel::Connection>::TransactionManager;
    let depth = Manager::transaction_manager_status_mut(&mut conn).transaction_depth();
    assert_eq!(depth, Ok(None));
    write_tx(&mut conn, |c| users::insert_many(c, &[user(2)])).unwrap();
    let ids: Vec<String> = schema::users::table
        .select(schema::users::id)
        .load(&mut reader)
        .unwrap();
    assert_eq!(ids, ["user-2"]);
}

/// A write transaction inside another is a savepoint: its failure undoes only its own writes,
/// and the outer one commits the rest.
#[test]
fn a_write_transaction_inside_another_rolls_back_alone() {
    let (manager, _dir) = sqlite_file();
    let mut conn = manager.establish().unwrap();
    write_tx(&mut conn, |c| {
        users::insert_many(c, &[user(1)])?;
        let inner: DbResult<()> = write_tx(c, |c| {
            users::insert_many(c, &[user(2)])?;
            Err(rollback())
        });
        assert!(inner.is_err_and(|e| is_rollback(&e)));
        DbResult::Ok(())
    })
    .unwrap();
    let ids: Vec<String> = schema::users::table
        .select(schema::users::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(ids, ["user-1"]);
}

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct IndexListing {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    partial: i32,
}

/// The previous refresh tokens' index leaves out the sessions that have none (every new one)
/// and still serves the lookups of a reused token, alone or beside the current one.
#[test]
fn lookups_of_a_previous_refresh_token_use_its_partial_index() {
    let mut conn = sqlite_in_memory();
    let partial = diesel::sql_query("PRAGMA index_list(sessions)")
        .load::<IndexListing>(&mut conn)
        .unwrap()
        .into_iter()
        .any(|i| i.name == "sessions_previous_refresh_token_hash" && i.partial == 1);
    assert!(partial, "sessions without a previous token are left out");
    for filter in [
        "previous_refresh_token_hash = ?",
        "refresh_token_hash = ? OR previous_refresh_token_hash = ?",
    ] {
        let plan: Vec<String> = diesel::sql_query(format!(
            "EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE {filter}"
        ))
        .load::<PlanStep>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|s| s.detail)
        .collect();
        assert!(
            plan.iter()
                .any(|s| s.contains("USING INDEX sessions_previous_refresh_token_hash")),
            "{filter}: {plan:?}"
        );
    }
}
