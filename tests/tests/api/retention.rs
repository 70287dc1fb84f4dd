//! Nothing is kept for ever, and nothing is deleted while it can still matter: the scheduled
//! jobs delete audit events past `audit_retention_days` and sessions that ended that long ago,
//! links once used or 30 days after they expired unused, and keep everything else.

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
    for _ in 0..2 {
        app.api.login("owner@example.com", PASSWORD).await.unwrap();
    }
    for _ in 0..4 {
        app.api
            .request_password_reset("owner@example.com")
            .await
            .unwrap();
    }
    // Of the two sign-ins, one ended 31 days ago and one yesterday; of the four reset links,
    // one expired 31 days ago, one yesterday, one was used and one is live.
    let days_ago = |d: i64| storage::now() - chrono::Duration::days(d);
    let (gone_session, kept_session, gone_links, kept_links) = app
        .db(move |c| {
            use storage::schema::password_resets::dsl as r;
            use storage::schema::sessions::dsl as s;
            let signed_in: Vec<String> = s::sessions
                .select(s::id)
                .order(s::created_at.desc())
                .limit(2)
                .load(c)?;
            for (id, days) in signed_in.iter().zip([31, 1]) {
                diesel::update(s::sessions.find(id))
                    .set(s::expires_at.eq(days_ago(days)))
                    .execute(c)?;
            }
            let links: Vec<String> = r::password_resets
                .select(r::id)
                .order(r::created_at.asc())
                .load(c)?;
            // Each request used up the links before it; the first two are made unused again.
            for (id, days) in links.iter().zip([31, 1]) {
                diesel::update(r::password_resets.find(id))
                    .set((
                        r::expires_at.eq(days_ago(days)),
                        r::consumed_at.eq(None::<chrono::NaiveDateTime>),
                    ))
                    .execute(c)?;
            }
            Ok((
                signed_in[0].clone(),
                signed_in[1].clone(),
                vec![links[0].clone(), links[2].clone()],
                vec![links[1].clone(), links[3].clone()],
            ))
        })
        .await;
    let state = || {
        app.db(|c| {
            use storage::schema::{audit_events as a, password_resets as r, sessions as s};
            let cutoff = storage::now() - chrono::Duration::days(30);
            let old: i64 = a::table
                .filter(a::occurred_at.lt(cutoff))
                .count()
                .get_result(c)?;
            let recent: i64 = a::table.count().get_result::<i64>(c)? - old;
            let sessions: Vec<String> = s::table.select(s::id).load(c)?;
            let links: Vec<String> = r::table.select(r::id).load(c)?;
            Ok((old, recent, sessions, links))
        })
    };
    let (old, recent, sessions, links) = state().await;
    assert!(old > 0 && recent > 0, "{old} old, {recent} recent");
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert_eq!(links.len(), 4);

    invitegate_server::jobs::run_once(&app.state).await.unwrap();

    let (old, recent_after, sessions, links) = state().await;
    assert_eq!(old, 0, "events past the retention are deleted");
    assert!(recent_after >= recent, "recent events stay");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(!sessions.contains(&gone_session));
    assert!(
        sessions.contains(&kept_session),
        "a session that ended yesterday still vouches for its client"
    );
    for id in &gone_links {
        assert!(!links.contains(id), "used, or expired 31 days ago: deleted");
    }
    for id in &kept_links {
        assert!(links.contains(id), "live, or expired yesterday: kept");
    }
}
