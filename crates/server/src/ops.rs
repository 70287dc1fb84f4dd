//! Operational endpoints and the public sign-up policy.

use crate::auth::policy::policy;
use crate::error::ApiResult;
use crate::settings;
use crate::state::AppState;
use crate::storage;
use actix_web::{HttpResponse, get, web};
use invitegate_core::api::SignupPolicy;

/// Who may sign up and the password length rules, for forms.
#[utoipa::path(
    operation_id = "getSignupPolicy",
    tag = "registration",
    responses((status = 200, description = "The sign-up policy", body = SignupPolicy))
)]
#[get("/signup-policy")]
pub async fn signup_policy(state: web::Data<AppState>) -> ApiResult<web::Json<SignupPolicy>> {
    let s = settings::current(&state).await?;
    let p = policy(&state);
    Ok(web::Json(SignupPolicy {
        mode: s.signup_mode,
        password_min_length: p.min_length as u32,
        password_max_length: p.max_length as u32,
        product_name: state.config.product_name.clone(),
    }))
}

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers and every migration is applied; 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let ready = web::block(move || match pool.get() {
        Ok(mut conn) => {
            let ready = storage::migrations_complete(&mut conn);
            conn.report(ready);
            ready
        }
        Err(_) => false,
    })
    .await
    .unwrap_or(false);
    if ready {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}

/// Prometheus metrics in the text exposition format, the funnel gauges refreshed at most every
/// 30 seconds (waiting at most 2 s for the database). With `metrics_token` configured, 401
/// unless the request carries `Authorization: Bearer <metrics_token>` (compared in constant
/// time).
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(expected) = &state.config.metrics_token {
        let given = crate::auth::bearer(&req).unwrap_or_default();
        let same: bool = subtle_eq(given.as_bytes(), expected.as_bytes());
        if !same {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"metrics\""))
                .content_type("text/plain")
                .body("metrics_token required");
        }
    }
    // A slow or unreachable database leaves the last figures in place rather than holding
    // up the scrape (and every other metric with it).
    if state.metrics.funnel_due()
        && let Ok(period) = crate::insights::service::period(&Default::default())
    {
        let refresh = crate::insights::service::funnel(&state, period);
        match tokio::time::timeout(std::time::Duration::from_secs(2), refresh).await {
            Ok(Ok(f)) => state.metrics.set_funnel(&f),
            Ok(Err(e)) => {
                state.metrics.funnel_failed();
                tracing::warn!(error = %e, "the funnel gauges could not be refreshed");
            }
            Err(_) => {
                state.metrics.funnel_failed();
                tracing::warn!("the funnel gauges were not refreshed within 2 s");
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// Constant-time equality of two byte strings (length leaks, contents do not).
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
