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

/// The refusal of a query string that is not an [`OutboxListQuery`]: 422 `status` `invalid`
/// when the status is not one of the three, a plain 422 otherwise.
pub fn query_error(raw: &str) -> ApiError {
    let bad_status = raw.split('&').any(|pair| {
        pair.strip_prefix("status=")
            .is_some_and(|v| !v.is_empty() && v.parse::<OutboxStatus>().is_err())
    });
    if bad_status {
        ApiError::field("status", FieldCode::Invalid)
    } else {
        ApiError::new(ErrorCode::ValidationFailed).detail("Invalid query parameters.")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_status_names_its_field_and_other_bad_queries_do_not() {
        let named = query_error("status=lost");
        assert_eq!(named.code, ErrorCode::ValidationFailed);
        assert_eq!(
            named.errors.unwrap()["status"],
            [invitegate_core::FieldCode::Invalid]
        );
        let plain = query_error("limit=many");
        assert_eq!(plain.code, ErrorCode::ValidationFailed);
        assert!(plain.errors.is_none());
        assert!(query_error("status=dead&bogus=1").errors.is_none());
    }
}
