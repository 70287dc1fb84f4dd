//! Nothing is kept for ever: the scheduled jobs delete audit events past
//! `audit_retention_days`, ended sessions and expired links, and keep everything else.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use invitegate_server::storage;

both_backends!(the_jobs_delete_what_is_past_its_time_and_nothing_else);

async fn the_jobs_delete_what_is_past_its_time_and_nothing_else(b: Backend) {
    let app = spawn_app_with(b, |c| c.audit_retention_days = 30).await;
    let admin = app.admin().await;
    // Everything so far is made 31 days old; what follows is recent.
    app.db(|c| {
        use storage::schema::audit_events::dsl::*;
        let old = storage::now() - chrono::Duration::days(31);
        Ok(diesel::update(audit_events)
            .set(occurred_at.eq(old))
            .execute(c)?)
    })
    .await;
    admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    app.api.login("owner@example.com", PASSWORD).await.unwrap();
    for _ in 0..2 {
        app.api
            .request_password_reset("owner@example.com")
            .await
            .unwrap();
    }
    // The second session and one of the two reset links ended yesterday.
    let yesterday = storage::now() - chrono::Duration::days(1);
    let ended = app
        .db(move |c| {
            use storage::schema::sessions::dsl::*;
            let newest: String = sessions.select(id).order(created_at.desc()).first(c)?;
            diesel::update(sessions.find(&newest))
                .set(expires_at.eq(yesterday))
                .execute(c)?;
            use storage::schema::password_resets::dsl as r;
            let first: String = r::password_resets
                .select(r::id)
                .order(r::created_at.asc())
                .first(c)?;
            diesel::update(r::password_resets.find(&first))
                .set(r::expires_at.eq(yesterday))
                .execute(c)?;
            Ok(newest)
        })
        .await;
    let counts = || {
        app.db(|c| {
            use storage::schema::{audit_events as a, password_resets as r, sessions as s};
            let cutoff = storage::now() - chrono::Duration::days(30);
            let old: i64 = a::table
                .filter(a::occurred_at.lt(cutoff))
                .count()
                .get_result(c)?;
            let recent: i64 = a::table.count().get_result::<i64>(c)? - old;
            let sessions: Vec<String> = s::table.select(s::id).load(c)?;
            let resets: i64 = r::table.count().get_result(c)?;
            Ok((old, recent, sessions, resets))
        })
    };
    let (old, recent, sessions, resets) = counts().await;
    assert!(old > 0 && recent > 0, "{old} old, {recent} recent");
    assert!(
        sessions.contains(&ended) && sessions.len() == 2,
        "{sessions:?}"
    );
    assert_eq!(resets, 2);

    invitegate_server::jobs::run_once(&app.state).await.unwrap();

    let (old_after, recent_after, sessions_after, resets_after) = counts().await;
    assert_eq!(old_after, 0, "events past the retention are deleted");
    assert!(recent_after >= recent, "recent events stay");
    assert_eq!(sessions_after.len(), 1, "{sessions_after:?}");
    assert!(!sessions_after.contains(&ended));
    assert_eq!(resets_after, 1, "the live reset link stays");
}
