//! Registration and email verification.
//!
//! - Email-bound invitations (and the bootstrap owner invitation) prove the address: the
//!   redemption, the user insert, the session and the audit events commit together (201).
//! - Domain and open invitations, allowlisted emails and open mode must prove the address
//!   first: the registration waits in `email_verifications` (no user row exists) and the link
//!   emailed completes it (202, then 201 on confirmation).
//! - An address that already has an account gets the same 202, and its owner an email; no one
//!   is signed in and nothing about the account changes (Discourse CVE-2022-39356).

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::password::HashError;
use crate::auth::session::{self, SignedIn};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::Json;
use crate::invitations::service::{resolve_token, state_error};
use crate::mail;
use crate::ratelimit::{self, ClientLimit};
use crate::settings::{self, RuntimeSettings};
use crate::state::AppState;
use crate::storage::models::{InvitationRow, UserRow, VerificationRow};
use crate::storage::{self, DbConn, invitations, users, verifications};
use crate::tokens::{Purpose, hash_token};
use actix_web::{HttpResponse, post, web};
use invitegate_core::api::{
    ConfirmEmailRequest, MAX_DISPLAY_NAME_LENGTH, Problem, RegisterRequest,
    ResendVerificationRequest, SessionResponse, StatusResponse,
};
use invitegate_core::model::{AuditAction, Role, SignupMode};
use invitegate_core::password::{self, PasswordIssue, PasswordPolicy};
use invitegate_core::{Email, ErrorCode};

/// Why an account may be created without a verification email, or why one is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    Invitation,
    Allowlist,
    Open,
}

impl Basis {
    fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Allowlist => "allowlist",
            Self::Open => "open",
        }
    }
}

/// The password policy in force.
pub fn policy(state: &AppState) -> PasswordPolicy {
    PasswordPolicy {
        min_length: state.config.password_min_length,
        max_length: state.config.password_max_length,
    }
}

/// Checks a password against the policy and the common-password list: every issue found.
pub fn password_issues(
    state: &AppState,
    password: &str,
    email: Option<&Email>,
) -> Vec<PasswordIssue> {
    let mut issues = policy(state).check(password, email.map(|e| e.local_part()));
    if !issues.contains(&PasswordIssue::TooLong)
        && state
            .common_passwords
            .contains(&password::normalize(password).to_lowercase())
    {
        issues.push(PasswordIssue::TooCommon);
    }
    issues
}

fn parse_display_name(name: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty())?;
    if name.chars().count() > MAX_DISPLAY_NAME_LENGTH {
        errors
            .entry("display_name".into())
            .or_default()
            .push("too_long".into());
    } else if name.chars().any(char::is_control) {
        errors
            .entry("display_name".into())
            .or_default()
            .push("invalid".into());
    }
    Some(name.to_string())
}

fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Busy => ApiError::new(ErrorCode::Unavailable)
            .detail("Too many registrations at once. Try again in a moment."),
        HashError::Failed(cause) => ApiError::internal(cause),
    }
}

enum Outcome {
    SignedIn(Box<UserRow>, String, String),
    Pending,
    ExistingAccount,
}

/// Creates an account (201, signed in) or starts email verification (202). See the module docs.
#[utoipa::path(
    operation_id = "register",
    tag = "registration",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in (email-bound invitation); sets the refresh cookie", body = SessionResponse),
        (status = 202, description = "`verification_pending`: check your email (also when the address already has an account)", body = StatusResponse),
        (status = 400, description = "`invalid_invitation`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`invitation_required`, `signup_closed` or `email_mismatch`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked` or `invitation_used`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field errors: `email`: `invalid`; `password`: `too_short`, `too_long`, `too_common`, `contains_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let result = (state.limits)
        .guarded(
            &state,
            ClientLimit::AuthFailures,
            &meta,
            register_inner(&state, &meta, req),
            |e| {
                let entry = AuditEntry::failure(AuditAction::RegistrationRejected)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidInvitation)
            },
        )
        .await?;
    match result {
        Outcome::SignedIn(user, sid, refresh) => Ok(account_created(&state, &user, &sid, &refresh)),
        Outcome::Pending | Outcome::ExistingAccount => {
            state.outbox_wakeup.notify_one();
            Ok(HttpResponse::Accepted().json(StatusResponse {
                status: "verification_pending".into(),
            }))
        }
    }
}

/// The password of a request that sets one: 422 `password`: `required` when absent, else the
/// policy's codes; the NFKC-normalised password when it passes.
fn parse_password(
    state: &AppState,
    password: Option<&str>,
    email: &Email,
    errors: &mut FieldErrors,
) -> Option<String> {
    let Some(password) = password else {
        errors.insert("password".into(), vec!["required".into()]);
        return None;
    };
    let issues = password_issues(state, password, Some(email));
    if issues.is_empty() {
        Some(password::normalize(password))
    } else {
        errors.insert(
            "password".into(),
            issues.iter().map(|i| i.code().to_string()).collect(),
        );
        None
    }
}

async fn register_inner(
    state: &web::Data<AppState>,
    meta: &RequestMeta,
    req: RegisterRequest,
) -> ApiResult<Outcome> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(&req.email).ok();
    if email.is_none() {
        errors.insert("email".into(), vec!["invalid".into()]);
    }
    let display_name = parse_display_name(req.display_name.as_deref(), &mut errors);
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(ApiError::fields(errors));
    };
    let settings = settings::current(state).await?;
    if settings.signup_mode == SignupMode::Closed {
        return Err(ApiError::new(ErrorCode::SignupClosed));
    }
    let invitation = match req.invite_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => Some(resolve_token(state, token).await?),
        None => None,
    };
    // Only an invitation that proves the address takes the password here; every other case
    // ignores it, so nobody can pre-register someone else's address with their own password.
    match invitation {
        Some(inv) => {
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
                let password = parse_password(state, req.password.as_deref(), &email, &mut errors)
                    .ok_or_else(|| ApiError::fields(errors))?;
                let hash = state.hasher.hash(password).await.map_err(hash_error)?;
                create_now(state, meta, email, display_name, hash, inv).await
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
        None => {
            let basis = match settings.signup_mode {
                SignupMode::Open => Basis::Open,
                _ if settings.allows(&email) => Basis::Allowlist,
                _ => return Err(ApiError::new(ErrorCode::InvitationRequired)),
            };
            // Each 202 sends an email: the per-client limit of email-sending requests applies.
            state.limits.hit(ClientLimit::EmailRequests, meta)?;
            start_verification(state, meta, email, display_name, basis, None).await
        }
    }
}

/// The account being created: its address, name and password hash.
struct NewAccount<'a> {
    email: &'a str,
    display_name: Option<String>,
    password_hash: String,
}

/// Inserts the user for a redeemed invitation, with its session and audit events.
fn insert_user(
    conn: &mut DbConn,
    state: &AppState,
    meta: &RequestMeta,
    account: NewAccount<'_>,
    invitation: Option<&InvitationRow>,
    basis: Basis,
) -> Result<(UserRow, session::NewSession), diesel::result::Error> {
    let NewAccount {
        email,
        display_name,
        password_hash,
    } = account;
    let user = UserRow {
        id: storage::new_id(),
        email: email.to_string(),
        display_name,
        password_hash,
        role: invitation
            .map(|i| i.role())
            .unwrap_or(Role::Member)
            .as_str()
            .into(),
        created_at: storage::now(),
        disabled_at: None,
        invited_by_type: invitation.map(|i| i.inviter_type.clone()),
        invited_by_id: invitation.map(|i| i.inviter_id.clone()),
        invitation_id: invitation.map(|i| i.id.clone()),
        invitation_serial: 0,
    };
    users::insert(conn, &user)?;
    let actor = Some(invitegate_core::model::ActorRef {
        kind: invitegate_core::model::ActorType::User,
        id: user.id.clone(),
    });
    if let Some(inv) = invitation {
        AuditEntry::success(AuditAction::InvitationRedeemed)
            .actor(actor.clone())
            .target("invitation", inv.id.clone())
            .details(serde_json::json!({"user_id": user.id, "inviter": inv.inviter()}))
            .write(conn, meta)?;
    }
    AuditEntry::success(AuditAction::RegistrationSucceeded)
        .actor(actor)
        .target("user", user.id.clone())
        .details(serde_json::json!({"email": user.email, "role": user.role, "basis": basis.as_str(), "invitation_id": user.invitation_id}))
        .write(conn, meta)?;
    let new_session = session::new_session(state, &user.id, meta);
    session::insert(conn, &new_session)?;
    Ok((user, new_session))
}

enum TxError {
    Api(ApiError),
    Existing,
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        if storage::is_unique_violation(&e) {
            Self::Existing
        } else {
            Self::Api(e.into())
        }
    }
}

impl From<ApiError> for TxError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// Takes one use of the invitation with the guarded statement; when the guard refuses, the
/// error says why (used, expired, revoked).
fn take_use(conn: &mut DbConn, id: &str, now: chrono::NaiveDateTime) -> Result<(), TxError> {
    if invitations::redeem(conn, id, now)?.is_some() {
        return Ok(());
    }
    let current = invitations::find(conn, id)?;
    let err = current
        .and_then(|c| state_error(c.state(now)))
        .unwrap_or_else(|| ApiError::new(ErrorCode::InvalidInvitation));
    Err(TxError::Api(err))
}

/// Redeems first, so that of N concurrent redemptions of a single-use token exactly one
/// proceeds and the others see `invitation_used`; a failure after it rolls the use back.
async fn create_now(
    state: &web::Data<AppState>,
    meta: &RequestMeta,
    email: Email,
    display_name: Option<String>,
    hash: String,
    inv: InvitationRow,
) -> ApiResult<Outcome> {
    let st = state.clone().into_inner();
    let m = meta.clone();
    let e = email.as_str().to_string();
    let result = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| -> Result<_, TxError> {
                let now = storage::now();
                take_use(conn, &inv.id, now)?;
                if users::email_exists(conn, &e)? {
                    return Err(TxError::Existing);
                }
                let account = NewAccount {
                    email: &e,
                    display_name,
                    password_hash: hash,
                };
                Ok(insert_user(
                    conn,
                    &st,
                    &m,
                    account,
                    Some(&inv),
                    Basis::Invitation,
                )?)
            }))
        })
        .await?;
    match result {
        Ok((user, s)) => Ok(Outcome::SignedIn(Box::new(user), s.row.id, s.refresh_token)),
        Err(TxError::Api(e)) => Err(e),
        Err(TxError::Existing) => notify_existing(state, meta, email).await,
    }
}

async fn notify_existing(
    state: &web::Data<AppState>,
    meta: &RequestMeta,
    email: Email,
) -> ApiResult<Outcome> {
    let m = meta.clone();
    let notice = state
        .templates
        .existing_account(email.as_str(), &state.login_link(email.as_str()));
    let st = state.clone().into_inner();
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
    Ok(Outcome::ExistingAccount)
}

async fn start_verification(
    state: &web::Data<AppState>,
    meta: &RequestMeta,
    email: Email,
    display_name: Option<String>,
    basis: Basis,
    invitation_id: Option<String>,
) -> ApiResult<Outcome> {
    let token = state.keys.issue(Purpose::EmailVerification);
    let url = state.link("/verify-email", &token);
    let hours = state.config.email_verification_ttl_hours;
    let message = state.templates.verification(email.as_str(), &url, hours);
    let m = meta.clone();
    let e = email.as_str().to_string();
    let st = state.clone().into_inner();
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
                    basis: basis.as_str().into(),
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
        Ok(()) => Ok(Outcome::Pending),
        Err(TxError::Api(e)) => Err(e),
        Err(TxError::Existing) => notify_existing(state, meta, email).await,
    }
}

fn still_allowed(settings: &RuntimeSettings, basis: &str, email: &str) -> ApiResult<()> {
    if settings.signup_mode == SignupMode::Closed {
        return Err(ApiError::new(ErrorCode::SignupClosed));
    }
    let allowed = match basis {
        "open" => settings.signup_mode == SignupMode::Open,
        "allowlist" => {
            settings.signup_mode == SignupMode::Open
                || Email::parse(email)
                    .map(|e| settings.allows(&e))
                    .unwrap_or(false)
        }
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvitationRequired))
    }
}

/// Completes a registration whose email had to be proven: whoever holds the emailed link
/// chooses the password here, on an explicit submit (security.md, pre-hijacking); the account
/// is created, the invitation (if any) redeemed and the session started in one transaction.
/// A missing or weak password creates nothing and leaves the link usable.
#[utoipa::path(
    operation_id = "confirmEmailVerification",
    tag = "registration",
    request_body = ConfirmEmailRequest,
    responses(
        (status = 201, description = "Account created and signed in; sets the refresh cookie", body = SessionResponse),
        (status = 400, description = "`invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`signup_closed` or `invitation_required` (settings changed since)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_registered`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`, or the invitation can no longer be used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field errors: `password`: `required`, `too_short`, `too_long`, `too_common`, `contains_email`; `display_name`: `too_long`, `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/email-verifications/confirm")]
pub async fn confirm_email(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<ConfirmEmailRequest>,
) -> ApiResult<HttpResponse> {
    let (user, sid, refresh) = (state.limits)
        .guarded(
            &state,
            ClientLimit::AuthFailures,
            &meta,
            confirm_inner(&state, &meta, body.into_inner()),
            |e| {
                let entry = AuditEntry::failure(AuditAction::EmailVerified)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidToken)
            },
        )
        .await?;
    Ok(account_created(&state, &user, &sid, &refresh))
}

/// 201 with the session body and refresh cookie of a new account.
fn account_created(state: &AppState, user: &UserRow, sid: &str, refresh: &str) -> HttpResponse {
    state
        .metrics
        .events
        .with_label_values(&["registration.succeeded", "success"])
        .inc();
    let SignedIn { body, cookie } = session::signed_in(state, user, sid, refresh);
    HttpResponse::Created().cookie(cookie).json(body)
}

async fn confirm_inner(
    state: &web::Data<AppState>,
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
        errors.insert("password".into(), vec!["required".into()]);
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
    still_allowed(&settings, &row.basis, &row.email)?;
    let email = Email::parse(&row.email).map_err(|_| ApiError::internal("stored email invalid"))?;
    let password = parse_password(state, req.password.as_deref(), &email, &mut errors)
        .ok_or_else(|| ApiError::fields(errors))?;
    let password_hash = state.hasher.hash(password).await.map_err(hash_error)?;
    let display_name = display_name.or_else(|| row.display_name.clone());
    let st = state.clone().into_inner();
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
                let basis = match row.basis.as_str() {
                    "allowlist" => Basis::Allowlist,
                    "open" => Basis::Open,
                    _ => Basis::Invitation,
                };
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

/// Sends the verification link of a pending registration again, with a new token (the old
/// link stops working). Always 202 with the same body, whether or not such a registration
/// exists, so it reveals nothing about accounts.
#[utoipa::path(
    operation_id = "resendEmailVerification",
    tag = "registration",
    request_body = ResendVerificationRequest,
    responses(
        (status = 202, description = "`accepted`, whether or not a registration is pending", body = StatusResponse),
        (status = 422, description = "`email`: `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (per IP and per address)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/email-verifications/resend")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<ResendVerificationRequest>,
) -> ApiResult<HttpResponse> {
    let email = state.limits.email_request(&meta, &body.email)?;
    let token = state.keys.issue(Purpose::EmailVerification);
    let url = state.link("/verify-email", &token);
    let hours = state.config.email_verification_ttl_hours;
    let message = state.templates.verification(email.as_str(), &url, hours);
    let st = state.clone().into_inner();
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
    Ok(HttpResponse::Accepted().json(StatusResponse {
        status: "accepted".into(),
    }))
}
