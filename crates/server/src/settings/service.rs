//! Reading and changing the settings; a change is one transaction with its audit event and
//! takes effect at once on every process sharing the database.

use super::RuntimeSettings;
use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage;
use invitegate_core::api::{SettingsPatch, SettingsView};
use invitegate_core::model::{ActorRef, AuditAction};

/// Loads the settings in force: a read of the few rows of `settings`, on SQLite on the calling
/// worker when a connection is free ([`AppState::db_read`]); never cached, so a change made by
/// another process applies to the next request.
pub async fn current(state: &AppState) -> ApiResult<RuntimeSettings> {
    let config = state.config.clone();
    state
        .db_read(move |conn| Ok(RuntimeSettings::load(conn, &config)?))
        .await
}

/// Applies `patch` and audits the before and after views. Errors: 422 with one entry per
/// invalid field (`out_of_range`, `too_many`, `invalid`, `conflicts_with_signup_mode`).
pub async fn update(
    state: &AppState,
    patch: SettingsPatch,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<SettingsView> {
    let config = state.config.clone();
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let before = RuntimeSettings::load(conn, &config)?;
                let after = before.patched(&patch).map_err(ApiError::fields)?;
                after.save(conn)?;
                AuditEntry::success(AuditAction::SettingsUpdated)
                    .actor(Some(actor))
                    .target("settings", "settings")
                    .details(serde_json::json!({"before": before.view(), "after": after.view()}))
                    .write(conn, &meta)?;
                Ok(after.view())
            })
        })
        .await
}
