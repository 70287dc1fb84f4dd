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

/// A connection is asked `SELECT 1` at checkout only when it has been idle past
/// [`TRUSTED_FOR`] or its last user saw a server error.
#[test]
fn checkout_checks_idle_and_suspect_connections_only() {
    let manager = ConnectionManager::new("sqlite://:memory:").unwrap();
    let mut conn = manager.connect().unwrap();
    assert!(manager.is_valid(&mut conn).is_ok());
    conn.mark_suspect();
    assert!(conn.suspect);
    assert!(manager.is_valid(&mut conn).is_ok());
    assert!(!conn.suspect, "a connection that answered is trusted again");
    conn.known_good_at -= TRUSTED_FOR * 2;
    let before = conn.known_good_at;
    assert!(!manager.has_broken(&mut conn));
    assert!(
        conn.known_good_at > before,
        "an error-free use renews the trust"
    );
    conn.mark_suspect();
    let before = conn.known_good_at;
    assert!(!manager.has_broken(&mut conn));
    assert_eq!(conn.known_good_at, before, "a suspect use does not");
}
