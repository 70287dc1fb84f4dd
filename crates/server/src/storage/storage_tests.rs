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
