//! The PostgreSQL and SQLite migrations must describe one schema: the same tables with the
//! same columns and nullability (types are each backend's spelling).

use crate::helpers::*;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Integer, Text};
use invitegate_server::storage::DbConn;
use std::collections::BTreeSet;

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

type Columns = BTreeSet<(String, String, bool)>;

async fn columns(app: &TestApp) -> Columns {
    app.db(|conn| {
        Ok(match conn {
            DbConn::Pg(c) => sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                 is_nullable::text AS is_nullable FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
            )
            .load::<PgColumn>(c)?
            .into_iter()
            .map(|r| (r.table_name, r.column_name, r.is_nullable == "YES"))
            .collect(),
            // SQLite lets a primary key column hold NULL unless it says NOT NULL; the
            // application never writes one, so it counts as not null, as on PostgreSQL.
            DbConn::Sqlite(c) => sql_query(
                "SELECT m.name AS table_name, p.name AS column_name, p.\"notnull\" AS not_null, \
                 p.pk AS pk FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name <> '__diesel_schema_migrations'",
            )
            .load::<SqliteColumn>(c)?
            .into_iter()
            .map(|r| (r.table_name, r.column_name, r.not_null == 0 && r.pk == 0))
            .collect(),
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_migrate_to_the_same_tables_and_columns() {
    let pg = columns(&spawn_app(Backend::Postgres).await).await;
    let sqlite = columns(&spawn_app(Backend::Sqlite).await).await;
    assert!(pg.len() > 50, "the schema was read: {pg:?}");
    let only_pg: Vec<_> = pg.difference(&sqlite).collect();
    let only_sqlite: Vec<_> = sqlite.difference(&pg).collect();
    assert!(
        only_pg.is_empty() && only_sqlite.is_empty(),
        "(table, column, nullable) only on PostgreSQL: {only_pg:?}; only on SQLite: {only_sqlite:?}"
    );
}
