//! Verifying an invitation writes no transaction of its own: its audit events are stored in
//! batches, every one of them, and all of them by a flush (which a clean shutdown does).

use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;

both_backends!(every_verification_is_audited_once_the_batch_is_stored);

async fn every_verification_is_audited_once_the_batch_is_stored(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let results = join_all((0..40).map(|_| app.api.verify_invitation(&inv.token))).await;
    assert!(results.iter().all(Result::is_ok));
    app.state.audit.flush().await;
    let invitation = inv.invitation.id.clone();
    let stored = app
        .db(move |c| {
            use diesel::prelude::*;
            use invitegate_server::storage::schema::audit_events::dsl::*;
            Ok(audit_events
                .filter(action.eq("invitation.verified"))
                .filter(outcome.eq("success"))
                .filter(target_id.eq(invitation))
                .count()
                .get_result::<i64>(c)?)
        })
        .await;
    assert_eq!(stored, 40, "one event per verification, none lost");
}
