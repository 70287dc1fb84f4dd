//! The rules of the delivery queue as administrators use it.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::models::OutboxRow;
use crate::storage::{self, outbox};
use invitegate_core::ErrorCode;
use invitegate_core::FieldCode;
use invitegate_core::model::OutboxStatus;

/// The newest `limit` items (1 to 500, default 50) with `status` (`pending`, `sent` or `dead`;
/// absent means all). Errors: 422 `limit` `out_of_range`.
pub async fn list(
    state: &AppState,
    status: Option<OutboxStatus>,
    limit: Option<u32>,
) -> ApiResult<Vec<OutboxRow>> {
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", FieldCode::OutOfRange));
    }
    state
        .db(move |conn| Ok(outbox::list(conn, status, i64::from(limit))?))
        .await
}

/// Queues item `id` again for an immediate attempt, with a fresh set of attempts. Errors: 404
/// `not_found`.
pub async fn retry(state: &AppState, id: String) -> ApiResult<()> {
    state
        .db(move |conn| {
            if outbox::requeue(conn, &id, None, storage::now())? {
                Ok(())
            } else {
                Err(ApiError::new(ErrorCode::NotFound))
            }
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(())
}
