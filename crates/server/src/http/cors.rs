//! Cross-origin access to the API.

use actix_web::http::header;

/// CORS for the API: only `origins` (`cors_allowed_origins`), with credentials (the refresh
/// cookie), the methods and headers the API uses, preflights cached for an hour.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .supports_credentials()
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
