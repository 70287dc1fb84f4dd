//! Invite trees: who an account brought in, transitively, and revoking a whole branch at once
//! (when an invitation reached the wrong hands, everything that came through it goes too).

use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, invite_tree, users};
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    INVITE_TREE_MAX, InviteTree, InviteTreeNode, InviteTreeRevoked, MemberUser,
};
use invitegate_core::model::{ActorRef, Role};
use std::collections::{HashMap, HashSet};

/// The branch of account `id`: the root, then depth-first the accounts each brought in (oldest
/// first), at most 500. Errors: 404 `not_found`.
pub async fn tree(state: &AppState, id: String) -> ApiResult<InviteTree> {
    let (rows, truncated, pending) = state
        .db(move |conn| {
            let (rows, truncated) = invite_tree::branch(conn, &id, INVITE_TREE_MAX)?
                .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
            let ids: Vec<String> = rows.iter().map(|(u, _)| u.id.clone()).collect();
            let pending = invite_tree::pending_counts(conn, &ids, storage::now())?;
            Ok((rows, truncated, pending))
        })
        .await?;
    Ok(InviteTree {
        nodes: depth_first(rows, &pending),
        truncated,
    })
}

/// `rows` (root first, each account after the one it came through) in depth-first order.
fn depth_first(
    rows: Vec<(UserRow, Option<String>)>,
    pending: &HashMap<String, i64>,
) -> Vec<InviteTreeNode> {
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    for (n, (_, parent)) in rows.iter().enumerate().skip(1) {
        if let Some(parent) = parent {
            children.entry(parent.clone()).or_default().push(n);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut stack = vec![(0_usize, 0_u32)];
    while let Some((n, depth)) = stack.pop() {
        let (row, parent) = &rows[n];
        if let Some(kids) = children.get(&row.id) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
        out.push(InviteTreeNode {
            user: MemberUser {
                id: row.id.clone(),
                email: row.email.clone(),
                display_name: row.display_name.clone(),
            },
            parent_id: parent.clone(),
            depth,
            role: row.role(),
            created_at: row.created_at.and_utc(),
            disabled: row.disabled_at.is_some(),
            pending_invitations: pending.get(&row.id).copied().unwrap_or(0).max(0) as u64,
        });
    }
    out
}

/// Revokes the branch of account `id`, in one transaction: every account in it (the root
/// included, however large the branch) is disabled as `POST /users/{id}/disable` does — its
/// sessions end, its pending invitations and the keys it made (with theirs) are revoked — and
/// audited `user.disabled` with `{"branch_of": id}`. Accounts already disabled are left as
/// they are. The walk goes level by level, each level's invitations revoked before the next is
/// read, so a registration racing with it either lands in the next level or is refused.
/// Errors (the transaction then changes nothing): 403 `forbidden` when the caller's own
/// account is in the branch, or an administrator's is without `may_manage_admins`; 404
/// `not_found`; 409 `last_admin` when no active administrator would remain.
pub async fn revoke(
    state: &AppState,
    id: String,
    actor: ActorRef,
    own_id: Option<String>,
    may_manage_admins: bool,
    meta: &RequestMeta,
) -> ApiResult<InviteTreeRevoked> {
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let mut admins = users::lock_active_admins(conn)?;
                let root = users::find(conn, &id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                let now = storage::now();
                let mut done = InviteTreeRevoked {
                    accounts_disabled: 0,
                    invitations_revoked: 0,
                };
                let mut seen = HashSet::from([root.id.clone()]);
                let mut level = vec![root];
                while !level.is_empty() {
                    for user in &level {
                        if own_id.as_deref() == Some(user.id.as_str()) {
                            return Err(ApiError::new(ErrorCode::Forbidden)
                                .detail("Your own account is in this branch."));
                        }
                        if user.role() == Role::Admin && user.disabled_at.is_none() {
                            if !may_manage_admins {
                                return Err(ApiError::new(ErrorCode::Forbidden).detail(
                                    "The branch holds an administrator: it needs the `admin` scope.",
                                ));
                            }
                            admins -= 1;
                            if admins < 1 {
                                return Err(ApiError::new(ErrorCode::LastAdmin));
                            }
                        }
                        let disabled = super::service::disable_in_tx(
                            conn,
                            &user.id,
                            &actor,
                            Some(&id),
                            now,
                            &meta,
                        )?;
                        if let Some(revoked) = disabled {
                            done.accounts_disabled += 1;
                            done.invitations_revoked += revoked as u64;
                        }
                    }
                    let ids: Vec<String> = level.iter().map(|u| u.id.clone()).collect();
                    level = invite_tree::invitees(conn, &ids)?
                        .into_iter()
                        .map(|(u, _)| u)
                        .filter(|u| seen.insert(u.id.clone()))
                        .collect();
                }
                Ok(done)
            })
        })
        .await
}
