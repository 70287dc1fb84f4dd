//! What answers when no route does: a 404 problem for the API, static files and other methods;
//! the web app's shell for every other GET (the app routes on the client).

use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use invitegate_core::ErrorCode;

/// The default service.
pub async fn not_found(req: HttpRequest, web_app: web::Data<crate::web::WebApp>) -> HttpResponse {
    if req.path().starts_with("/api/")
        || req.path().starts_with("/assets/")
        || req.path().starts_with("/embed/")
        || !matches!(
            *req.method(),
            actix_web::http::Method::GET | actix_web::http::Method::HEAD
        )
    {
        return actix_web::ResponseError::error_response(&ApiError::new(ErrorCode::NotFound));
    }
    web_app.shell()
}
