//! Bulk creation: a result per row, a summary, and a dry run. Rows are processed in chunks,
//! one transaction per chunk, each chunk created a set at a time ([`super::batch`]); one bad
//! row never spoils the others.

use super::rules::{self, Binding, CreateError, Inviter};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::settings::{self, RuntimeSettings};
use crate::state::AppState;
use crate::storage;
use invitegate_core::FieldCode;
use invitegate_core::api::{
    BulkCreateRequest, BulkCreateResponse, BulkResult, BulkStatus, BulkSummary,
    CreateInvitationRequest, MAX_BULK_ITEMS,
};
use invitegate_core::model::Role;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Most bytes in a bulk body (10,000 rows).
pub const BULK_LIMIT: usize = 8 * 1024 * 1024;

/// Rows per transaction. On PostgreSQL 1,000: each chunk costs a fixed set of statements and a
/// commit, and a call of 10,000 rows took 1.38 s in chunks of 1,000 against 1.74 s in chunks
/// of 200 on 2 cores (docs/performance.md). Other writers wait for a chunk (about 0.1 s) only
/// where they meet its rows: an invitation to one of its addresses, the inviter's own row (its
/// quota use), the mailbox budgets it counts. On SQLite 200: a chunk holds the database's one
/// write lock, which every registration's commit waits for.
pub fn chunk_rows(backend: storage::Backend) -> usize {
    match backend {
        storage::Backend::Postgres => 1000,
        storage::Backend::Sqlite => 200,
    }
}

fn row(index: usize, email: Option<String>, status: BulkStatus) -> BulkResult {
    BulkResult {
        index,
        email,
        status,
        invitation: None,
        token: None,
        url: None,
        error: None,
    }
}

/// How a dry run's transaction ends: always rolled back, with the rows it would have made.
enum DryRun {
    Done(Vec<BulkResult>),
    Failed(ApiError),
}

impl From<storage::DbError> for DryRun {
    fn from(e: storage::DbError) -> Self {
        Self::Failed(e.into())
    }
}

/// A dry run's result: what would be created, without the invitation and link that were not.
fn without_links(r: BulkResult) -> BulkResult {
    BulkResult {
        invitation: None,
        token: None,
        url: None,
        ..r
    }
}

/// Processes rows `(index, body)`; `seen` carries the emails of earlier rows across chunks so
/// a repeated address is `already_invited`.
pub async fn process_chunk(
    state: &Arc<AppState>,
    inviter: &Inviter,
    settings: &RuntimeSettings,
    items: Vec<(usize, CreateInvitationRequest)>,
    dry_run: bool,
    meta: &RequestMeta,
    seen: &mut HashSet<String>,
) -> ApiResult<Vec<BulkResult>> {
    let mut results = Vec::with_capacity(items.len());
    // The valid rows, by index, and what they ask for.
    let (mut indices, mut news) = (Vec::new(), Vec::new());
    for (index, body) in items {
        let given = body.email.clone().or(body.email_domain.clone());
        match rules::parse_create(&body, settings) {
            Err(errors) => results.push(BulkResult {
                error: Some(
                    errors
                        .into_iter()
                        .map(|(f, codes)| (f, codes.iter().map(|c| c.to_string()).collect()))
                        .collect(),
                ),
                ..row(index, given, BulkStatus::Invalid)
            }),
            Ok(new) => {
                if let Binding::Email(e) = &new.binding
                    && !seen.insert(e.as_str().to_string())
                {
                    results.push(row(index, Some(e.to_string()), BulkStatus::AlreadyInvited));
                    continue;
                }
                indices.push(index);
                news.push(new);
            }
        }
    }
    let st = state.clone();
    let inviter = inviter.clone();
    let meta = meta.clone();
    let processed = state
        .db(move |conn| {
            let now = storage::now();
            let work = |conn: &mut storage::DbConn| -> Result<Vec<BulkResult>, ApiError> {
                let outcomes = super::batch::create_many_in_tx(conn, &st, &inviter, &news, &meta)?;
                let mut organizations = HashMap::new();
                let mut out = Vec::with_capacity(news.len());
                for ((index, new), created) in indices.iter().zip(&news).zip(outcomes) {
                    let email = match &new.binding {
                        Binding::Email(e) => Some(e.as_str().to_string()),
                        Binding::Domain(d) => Some(d.clone()),
                        Binding::Open => None,
                    };
                    out.push(match created {
                        Ok((inv, token)) => {
                            if let Some(id) = &inv.organization_id
                                && !organizations.contains_key(id)
                            {
                                let org = storage::invitations::organization_of(conn, &inv)?;
                                organizations.insert(id.clone(), org);
                            }
                            let org = inv
                                .organization_id
                                .as_ref()
                                .and_then(|id| organizations[id].as_ref());
                            BulkResult {
                                invitation: Some(inv.to_api_in(now, org)),
                                url: Some(st.link("/invite", &token)),
                                token: Some(token),
                                ..row(*index, email, BulkStatus::Created)
                            }
                        }
                        Err(CreateError::EmailRegistered | CreateError::AlreadyMember) => {
                            row(*index, email, BulkStatus::AlreadyRegistered)
                        }
                        Err(CreateError::InvitationPending(_)) => {
                            row(*index, email, BulkStatus::AlreadyInvited)
                        }
                        Err(CreateError::OrganizationNotFound) => BulkResult {
                            error: Some(
                                [("organization_id".to_string(), vec!["invalid".to_string()])]
                                    .into(),
                            ),
                            ..row(*index, email, BulkStatus::Invalid)
                        },
                        Err(CreateError::ClientNotFound) => BulkResult {
                            error: Some(
                                [("client_id".to_string(), vec!["invalid".to_string()])].into(),
                            ),
                            ..row(*index, email, BulkStatus::Invalid)
                        },
                        Err(
                            e @ (CreateError::QuotaExceeded
                            | CreateError::OrganizationForbidden
                            | CreateError::InviterInactive
                            | CreateError::Db(_)),
                        ) => return Err(e.into()),
                    });
                }
                Ok(out)
            };
            if !dry_run {
                return storage::write_tx(conn, work);
            }
            // A dry run is the real run of the chunk rolled back, so it reports what the run
            // would (unknown organisations, addresses taken meanwhile), minus the links.
            match storage::write_tx(conn, |conn| -> Result<(), DryRun> {
                Err(DryRun::Done(work(conn).map_err(DryRun::Failed)?))
            }) {
                Err(DryRun::Done(rows)) => Ok(rows.into_iter().map(without_links).collect()),
                Err(DryRun::Failed(e)) => Err(e),
                Ok(()) => unreachable!("a dry run always rolls back"),
            }
        })
        .await?;
    let created = processed
        .iter()
        .filter(|r| r.status == BulkStatus::Created)
        .count();
    results.extend(processed);
    results.sort_by_key(|r| r.index);
    if !dry_run {
        state.outbox_wakeup.notify_one();
        state
            .metrics
            .events
            .with_label_values(&["invitation.created", "success"])
            .inc_by(created as u64);
    }
    Ok(results)
}

/// After `created` invitations were committed, has `invitations` analysed when its statistics
/// are stale ([`storage::invitations::statistics_stale`]). Whether they are is read now (one
/// catalogue row); the `ANALYZE` runs in the background ([`AppState::background`]), so a
/// call's answer does not wait for it (about 0.2 s of a 10,000-row call on 2 cores,
/// docs/performance.md) while the CSV import waits for it before it exits. A bulk creation
/// that follows before it is over may ask for another, which `SKIP_LOCKED` skips while the
/// first runs. Failures are logged.
pub async fn refresh_statistics_in_background(state: &Arc<AppState>, created: usize) {
    if created == 0 {
        return;
    }
    let stale = state
        .db(move |conn| Ok(storage::invitations::statistics_stale(conn, created)?))
        .await;
    match stale {
        Ok(false) => {}
        Ok(true) => {
            let owned = state.clone();
            state.background.spawn(async move {
                let analysed = owned
                    .db(|conn| Ok(storage::invitations::analyze(conn)?))
                    .await;
                if let Err(e) = analysed {
                    tracing::warn!(code = ?e.code, "bulk creation: invitations not analysed");
                }
            });
        }
        Err(e) => {
            tracing::warn!(code = ?e.code, "bulk creation: invitations' statistics not read")
        }
    }
}

/// Totals of a result list.
pub fn summarize(results: &[BulkResult]) -> BulkSummary {
    let mut s = BulkSummary::default();
    for r in results {
        match r.status {
            BulkStatus::Created => s.created += 1,
            BulkStatus::AlreadyInvited => s.already_invited += 1,
            BulkStatus::AlreadyRegistered => s.already_registered += 1,
            BulkStatus::Invalid => s.invalid += 1,
        }
    }
    s
}

/// Creates up to 10,000 invitations, one transaction per [`chunk_rows`] rows, each chunk a set at a
/// time ([`super::batch`]);
/// with `dry_run` each chunk runs and is rolled back (a member's quota use does not carry from one
/// chunk of a dry run to the next). Errors: 422 `invitations` `empty` / `too_many`, 403
/// `forbidden` (one admin row refuses the whole batch), 429 `rate_limited`. On PostgreSQL a
/// creation that changes the table much has it analysed beside its answer
/// ([`refresh_statistics_in_background`]).
/// A chunk that fails ends the call: the chunks before it stay created. Chunks are
/// [`chunk_rows`] long, so a member's call that runs past their quota keeps more rows on SQLite
/// (chunks of 200) than on PostgreSQL (1,000) before the 403.
pub async fn create_all(
    state: &Arc<AppState>,
    principal: &Principal,
    body: BulkCreateRequest,
    meta: &RequestMeta,
) -> ApiResult<BulkCreateResponse> {
    if body.invitations.is_empty() {
        return Err(ApiError::field("invitations", FieldCode::Empty));
    }
    if body.invitations.len() > MAX_BULK_ITEMS {
        return Err(ApiError::field("invitations", FieldCode::TooMany));
    }
    if body
        .invitations
        .iter()
        .any(|i| !principal.may_grant(i.role.unwrap_or(Role::Member)))
    {
        return Err(rules::forbidden_role());
    }
    crate::ratelimit::take_invitation(state, &principal.actor().id).await?;
    let settings = settings::current(state).await?;
    let inviter = Inviter::of(principal, &settings);
    let mut seen = HashSet::new();
    let mut results = Vec::with_capacity(body.invitations.len());
    let mut items = body.invitations.into_iter().enumerate().peekable();
    while items.peek().is_some() {
        let chunk: Vec<_> = items.by_ref().take(chunk_rows(state.backend)).collect();
        results.extend(
            process_chunk(
                state,
                &inviter,
                &settings,
                chunk,
                body.dry_run,
                meta,
                &mut seen,
            )
            .await?,
        );
    }
    let summary = summarize(&results);
    if !body.dry_run {
        refresh_statistics_in_background(state, summary.created).await;
    }
    Ok(BulkCreateResponse {
        results,
        summary,
        dry_run: body.dry_run,
    })
}
