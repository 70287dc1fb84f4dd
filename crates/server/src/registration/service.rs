//! Registration and email verification: the rules and their transactions.
//!
//! - Email-bound invitations (and the bootstrap owner invitation) prove the address: the
//!   redemption, the user insert, the session and the audit events commit together (201).
//! - Domain and open invitations, allowlisted emails and open mode must prove the address
//!   first: the registration waits in `email_verifications` (no user row exists) and the link
//!   emailed completes it (202, then 201 on confirmation).
//! - An address that already has an account gets the same 202, and its owner an email; no one
//!   is signed in and nothing about the account changes (Discourse CVE-2022-39356).

use super::accounts::{NewAccount, TxError, insert_user, take_use};
use super::group_commit::{GroupCommit, Grouped, Registration, write_alone};
use super::rules::{hash_error, parse_display_name, still_allowed};
use crate::audit_trail::AuditEntry;
use crate::auth::policy::parse_new_password;
use crate::auth::session::NewSession;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::RequestMeta;
use crate::invitations::rules as invitation_rules;
use crate::mail;
use crate::organization_domains::service as domains;
use crate::ratelimit::{self, ClientLimit};
use crate::settings::{self, RuntimeSettings};
use crate::state::AppState;
use crate::storage::invitations::Previewed;
use crate::storage::models::{UserRow, VerificationRow};
use crate::storage::{self, invitations, users, verifications};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::FieldCode;
use invitegate_core::api::{ConfirmEmailRequest, RegisterRequest};
use invitegate_core::model::{AuditAction, RegistrationBasis as Basis, SignupMode};
use invitegate_core::{Email, ErrorCode};
use std::sync::Arc;

/// What a registration did.
pub enum RegisterOutcome {
    /// The account exists and is signed in (the invitation proved the address): the user, the
    /// session id and its refresh token.
    SignedIn(Box<UserRow>, String, String),
    /// A verification link went to the address; the password is chosen from it.
    VerificationSent,
    /// The address has an account: its owner was emailed, nothing changed.
    ExistingAccount,
}

/// Registers: the invitation (or the sign-up mode) decides between creating the account now
/// and sending a verification link. Failures are counted against the client and audited
/// (`registration.rejected`); an invalid invitation token counts as a failed attempt. An
/// account created at once is written with others queued on `group` ([`GroupCommit`]).
pub async fn register(
    state: &Arc<AppState>,
    group: &Arc<GroupCommit>,
    meta: &RequestMeta,
    req: RegisterRequest,
) -> ApiResult<RegisterOutcome> {
    (state.limits)
        .guarded(
            state,
            ClientLimit::AuthFailures,
            meta,
            register_unguarded(state, group, meta, req),
            |e| {
                let entry = AuditEntry::failure(AuditAction::RegistrationRejected)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidInvitation)
            },
        )
        .await
}

async fn register_unguarded(
    state: &Arc<AppState>,
    group: &Arc<GroupCommit>,
    meta: &RequestMeta,
    req: RegisterRequest,
) -> ApiResult<RegisterOutcome> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(&req.email).ok();
    if email.is_none() {
        errors.insert("email".into(), vec![FieldCode::Invalid]);
    }
    let display_name = parse_display_name(req.display_name.as_deref(), &mut errors);
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(ApiError::fields(errors));
    };
    let token = req.invite_token.as_deref().filter(|t| !t.is_empty());
    let grounds = Grounds::read(state, token).await?;
    if grounds.signup_mode(state) == SignupMode::Closed {
        return Err(ApiError::new(ErrorCode::SignupClosed));
    }
    // Only an invitation that proves the address takes the password here; every other case
    // ignores it, so nobody can pre-register someone else's address with their own password.
    match grounds {
        Grounds::Invitation(found) => {
            let inv = invitation_rules::usable(*found)?.row;
            if let Some(bound) = &inv.email
                && bound != email.as_str()
            {
                return Err(ApiError::new(ErrorCode::EmailMismatch));
            }
            if let Some(domain) = &inv.email_domain
                && domain != email.domain()
            {
                return Err(ApiError::new(ErrorCode::EmailMismatch));
            }
            if inv.signs_in_at_once() {
                let password =
                    parse_new_password(state, req.password.as_deref(), &email, &mut errors)
                        .ok_or_else(|| ApiError::fields(errors))?;
                let hashed = group.hashing();
                let password_hash = state.hasher.hash(password).await.map_err(hash_error)?;
                let registration = Registration {
                    state: state.clone(),
                    meta: meta.clone(),
                    email: email.clone(),
                    display_name,
                    password_hash,
                    invitation: inv,
                };
                let grouped = group.write(hashed, registration).await?;
                create_now(state, meta, email, grouped).await
            } else {
                state.limits.hit(ClientLimit::EmailRequests, meta)?;
                start_verification(
                    state,
                    meta,
                    email,
                    display_name,
                    Basis::Invitation,
                    Some(inv.id),
                )
                .await
            }
        }
        Grounds::Settings(_) if token.is_some() => Err(ApiError::new(ErrorCode::InvalidInvitation)),
        Grounds::Settings(settings) => {
            let basis = match settings.signup_mode {
                SignupMode::Open => Basis::Open,
                _ if settings.allows(&email) => Basis::Allowlist,
                _ if domain_admits(state, &email).await? => Basis::OrganizationDomain,
                _ => return Err(ApiError::new(ErrorCode::InvitationRequired)),
            };
            // Each 202 sends an email: the per-client limit of email-sending requests applies.
            state.limits.hit(ClientLimit::EmailRequests, meta)?;
            start_verification(state, meta, email, display_name, basis, None).await
        }
    }
}

/// What a registration goes on: the invitation its token names, whose lookup read the sign-up
/// mode in the same statement, or, without a token or when the token names no invitation,
/// the settings in force (one read).
enum Grounds {
    Invitation(Box<Previewed>),
    Settings(RuntimeSettings),
}

impl Grounds {
    async fn read(state: &AppState, token: Option<&str>) -> ApiResult<Self> {
        if let Some(token) = token
            && let Some(found) = invitation_rules::find(state, token).await?
        {
            return Ok(Self::Invitation(Box::new(found)));
        }
        Ok(Self::Settings(settings::current(state).await?))
    }

    fn signup_mode(&self, state: &AppState) -> SignupMode {
        match self {
            Self::Invitation(found) => {
                RuntimeSettings::signup_mode_of(&state.config, found.signup_mode.as_deref())
            }
            Self::Settings(settings) => settings.signup_mode,
        }
    }
}

/// Finishes a registration that signs in at once from what its group commit did; one the
/// group did not write is written alone here. The use is taken first, so that of N concurrent
/// redemptions of a single-use token exactly one proceeds and the others see
/// `invitation_used`; a failure after it rolls the use back.
async fn create_now(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    email: Email,
    grouped: Grouped,
) -> ApiResult<RegisterOutcome> {
    let written = match grouped {
        Grouped::Written(user, session) => Ok((*user, *session)),
        Grouped::Refused(e) => Err(e),
        Grouped::Alone(r) => state.db_write(move |conn| write_alone(conn, &r)).await?,
    };
    match written {
        Ok((user, s)) => Ok(signed_in(user, s)),
        Err(TxError::Api(e)) => Err(e),
        Err(TxError::Existing) => notify_existing(state, meta, email).await,
    }
}

fn signed_in(user: UserRow, session: NewSession) -> RegisterOutcome {
    RegisterOutcome::SignedIn(Box::new(user), session.row.id, session.refresh_token)
}

async fn notify_existing(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    email: Email,
) -> ApiResult<RegisterOutcome> {
    let m = meta.clone();
    let notice = state
        .templates
        .existing_account(email.as_str(), &state.login_link(email.as_str()));
    let st = state.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if ratelimit::email_budget(conn, &st, &notice.to, ratelimit::EmailClass::Account)? {
                    mail::enqueue(conn, &notice)?;
                }
                AuditEntry::failure(AuditAction::RegistrationRejected)
                    .details(
                        serde_json::json!({"reason": "existing_account", "email": email.as_str()}),
                    )
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(RegisterOutcome::ExistingAccount)
}

async fn start_verification(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    email: Email,
    display_name: Option<String>,
    basis: Basis,
    invitation_id: Option<String>,
) -> ApiResult<RegisterOutcome> {
    let token = state.keys.issue(Purpose::EmailVerification);
    let url = state.link("/verify-email", &token);
    let hours = state.config.email_verification_ttl_hours;
    let message = state.templates.verification(email.as_str(), &url, hours);
    let m = meta.clone();
    let e = email.as_str().to_string();
    let st = state.clone();
    let result = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| -> Result<_, TxError> {
                if users::email_exists(conn, &e)? {
                    return Err(TxError::Existing);
                }
                let now = storage::now();
                let row = VerificationRow {
                    id: storage::new_id(),
                    token_hash: hash_token(&token),
                    email: e.clone(),
                    display_name,
                    invitation_id: invitation_id.clone(),
                    basis,
                    created_at: now,
                    expires_at: now + chrono::Duration::hours(hours),
                    consumed_at: None,
                };
                verifications::insert(conn, &row)?;
                if ratelimit::email_budget(conn, &st, &e, ratelimit::EmailClass::Account)? {
                    mail::enqueue(conn, &message)?;
                }
                AuditEntry::success(AuditAction::RegistrationPending)
                    .target("email_verification", row.id.clone())
                    .details(serde_json::json!({"email": e, "basis": basis.as_str(), "invitation_id": invitation_id}))
                    .write(conn, &m)?;
                Ok(())
            }))
        })
        .await?;
    match result {
        Ok(()) => Ok(RegisterOutcome::VerificationSent),
        Err(TxError::Api(e)) => Err(e),
        Err(TxError::Existing) => notify_existing(state, meta, email).await,
    }
}

/// Completes a verified registration with the password chosen on the link's page (never
/// before the address is proven: security.md, pre-hijacking): the user, the session id and its
/// refresh token. Failures are counted against the client and audited; a token this server
/// never issued counts as a failed attempt.
pub async fn confirm(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    body: ConfirmEmailRequest,
) -> ApiResult<(UserRow, String, String)> {
    (state.limits)
        .guarded(
            state,
            ClientLimit::AuthFailures,
            meta,
            confirm_unguarded(state, meta, body),
            |e| {
                let entry = AuditEntry::failure(AuditAction::EmailVerified)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidToken)
            },
        )
        .await
}

async fn confirm_unguarded(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    req: ConfirmEmailRequest,
) -> ApiResult<(UserRow, String, String)> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken);
    state
        .keys
        .verify(Purpose::EmailVerification, &req.token)
        .map_err(|_| invalid())?;
    let mut errors = FieldErrors::new();
    let display_name = parse_display_name(req.display_name.as_deref(), &mut errors);
    if req.password.is_none() {
        errors.insert("password".into(), vec![FieldCode::Required]);
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let hash = hash_token(&req.token);
    let row = state
        .db(move |conn| Ok(verifications::find_by_token_hash(conn, &hash)?))
        .await?
        .filter(|r| r.consumed_at.is_none())
        .ok_or_else(invalid)?;
    if row.expires_at <= storage::now() {
        return Err(ApiError::new(ErrorCode::TokenExpired));
    }
    let settings = settings::current(state).await?;
    still_allowed(&settings, row.basis, &row.email)?;
    let email = Email::parse(&row.email).map_err(|_| ApiError::internal("stored email invalid"))?;
    let password = parse_new_password(state, req.password.as_deref(), &email, &mut errors)
        .ok_or_else(|| ApiError::fields(errors))?;
    let password_hash = state.hasher.hash(password).await.map_err(hash_error)?;
    let display_name = display_name.or_else(|| row.display_name.clone());
    let st = state.clone();
    let m = meta.clone();
    let result = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| -> Result<_, TxError> {
                let now = storage::now();
                if !verifications::consume(conn, &row.id, &row.token_hash, now)? {
                    return Err(TxError::Api(ApiError::new(ErrorCode::InvalidToken)));
                }
                let invitation = match &row.invitation_id {
                    Some(id) => {
                        take_use(conn, id, now)?;
                        invitations::find(conn, id)?
                    }
                    None => None,
                };
                let basis = row.basis;
                if basis == Basis::OrganizationDomain && !domains::admits(conn, &email)? {
                    return Err(TxError::Api(ApiError::new(ErrorCode::InvitationRequired)));
                }
                AuditEntry::success(AuditAction::EmailVerified)
                    .target("email_verification", row.id.clone())
                    .details(serde_json::json!({"email": row.email}))
                    .write(conn, &m)?;
                let account = NewAccount {
                    email: &row.email,
                    display_name,
                    password_hash,
                };
                Ok(insert_user(
                    conn,
                    &st,
                    &m,
                    account,
                    invitation.as_ref(),
                    basis,
                )?)
            }))
        })
        .await?;
    match result {
        Ok((user, s)) => Ok((user, s.row.id, s.refresh_token)),
        Err(TxError::Api(e)) => Err(e),
        Err(TxError::Existing) => Err(ApiError::new(ErrorCode::EmailRegistered)),
    }
}

/// Sends the verification link of a pending registration of `email` again with a new token (the
/// old link stops working); does nothing when there is none or the address has an account.
/// Errors: 422 `email` `invalid`, 429 `rate_limited` (per client).
pub async fn resend_verification(
    state: &Arc<AppState>,
    meta: &RequestMeta,
    email: &str,
) -> ApiResult<()> {
    let email = state.limits.email_request(meta, email)?;
    let token = state.keys.issue(Purpose::EmailVerification);
    let url = state.link("/verify-email", &token);
    let hours = state.config.email_verification_ttl_hours;
    let message = state.templates.verification(email.as_str(), &url, hours);
    let st = state.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if users::email_exists(conn, email.as_str())? {
                    return Ok(());
                }
                if let Some(row) = verifications::latest_open_for_email(conn, email.as_str())?
                    && ratelimit::email_budget(
                        conn,
                        &st,
                        email.as_str(),
                        ratelimit::EmailClass::Account,
                    )?
                {
                    let expires_at = storage::now() + chrono::Duration::hours(hours);
                    if verifications::replace_token(conn, &row.id, &hash_token(&token), expires_at)?
                    {
                        mail::enqueue(conn, &message)?;
                    }
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(())
}

/// Whether an organisation's `auto_join` domain admits `email` without an invitation.
async fn domain_admits(state: &AppState, email: &Email) -> ApiResult<bool> {
    let email = email.clone();
    state
        .db(move |conn| Ok(domains::admits(conn, &email)?))
        .await
}
