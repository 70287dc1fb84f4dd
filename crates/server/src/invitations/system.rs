//! Administrator invitations the system makes rather than a person: the owner invitation of
//! a fresh install, and the command line's.

use super::rules::{self, Binding, Inviter, NewInvitation};
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::{self, invitations};
use invitegate_core::Email;
use invitegate_core::model::Role;
use std::sync::Arc;

/// An administrator invitation made by the system rather than by a person.
#[derive(Debug, Clone)]
pub enum AdminInvitation {
    /// While no active administrator exists: a fresh single-use invitation bound to no email
    /// (whoever holds the server's console is the operator); an older unused one is revoked
    /// first, so only the newest printed link works.
    Owner,
    /// From the command line: a single-use invitation for `email`, valid `days` days.
    ForEmail {
        /// The invitee.
        email: Email,
        /// Lifetime in days.
        days: i64,
    },
}

/// Creates `kind` in one transaction and returns its link; `None` for [`AdminInvitation::Owner`]
/// when an administrator exists. Errors: 409 `email_registered` / `invitation_pending` for an
/// address that has an account or a pending invitation.
pub async fn admin_invitation(
    state: &Arc<AppState>,
    kind: AdminInvitation,
) -> ApiResult<Option<String>> {
    let st = state.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (binding, expires_in_days, bootstrap) = match kind {
                    AdminInvitation::Owner => {
                        if storage::users::active_admin_exists(conn)? {
                            return Ok(None);
                        }
                        invitations::revoke_unused_bootstrap(conn, storage::now())?;
                        (Binding::Open, st.config.invite_link_expiry, true)
                    }
                    AdminInvitation::ForEmail { email, days } => {
                        (Binding::Email(email), days, false)
                    }
                };
                let new = NewInvitation {
                    binding,
                    role: Role::Admin,
                    max_uses: 1,
                    expires_in_days,
                    note: None,
                    send_email: false,
                    organization: None,
                    client_id: None,
                };
                let system = Inviter::system();
                let (_, token) = rules::create_in_tx(
                    conn,
                    &st,
                    &system,
                    &new,
                    bootstrap,
                    &RequestMeta::default(),
                )
                .map_err(ApiError::from)?;
                Ok(Some(st.link("/invite", &token)))
            })
        })
        .await
}
