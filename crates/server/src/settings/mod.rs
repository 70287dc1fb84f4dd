//! Runtime settings: the sign-up mode and the seed's options. Start-up configuration gives the
//! defaults; values saved through `PATCH /api/v1/settings` override them and are shared by
//! every process on the database.

mod model;
pub mod service;

pub use model::{MAX_ALLOWLIST, RuntimeSettings};
pub use service::current;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Json;
use crate::http::RequestMeta;
use crate::state::AppState;
use actix_web::{HttpResponse, get, patch, web};
use invitegate_core::api::{Problem, SettingsPatch, SettingsView};
use invitegate_core::model::Scope;

/// Current settings.
#[utoipa::path(
    operation_id = "getSettings",
    tag = "settings",
    security(("bearer" = ["settings:write"])),
    responses(
        (status = 200, description = "Settings in force", body = SettingsView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `settings:write`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<SettingsView>> {
    principal.require(Scope::SettingsWrite)?;
    Ok(web::Json(service::current(&state).await?.view()))
}

/// Changes settings; takes effect at once on every process.
#[utoipa::path(
    operation_id = "updateSettings",
    tag = "settings",
    security(("bearer" = ["settings:write"])),
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "Settings in force after the change", body = SettingsView),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `settings:write`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/settings")]
pub async fn patch_settings(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<SettingsPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::SettingsWrite)?;
    let view = service::update(&state, body.into_inner(), principal.actor(), &meta).await?;
    Ok(HttpResponse::Ok().json(view))
}
