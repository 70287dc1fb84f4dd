//! Security headers, Content-Security-Policy and caching for every response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

/// The web app's Content-Security-Policy: its own origin only; `'wasm-unsafe-eval'` lets it
/// compile its WebAssembly (CSP Level 3), nothing inline, no third-party origins.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether the service is reached over https (then responses carry HSTS); registered as
/// `web::Data<HeaderPolicy>`.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPolicy {
    /// `public_base_url` starts with `https://`.
    pub https: bool,
}

/// Middleware: security headers on every response (`nosniff`, `no-referrer`, `DENY` framing,
/// HSTS under https), the Content-Security-Policy and caching of each kind of path, and the
/// cross-origin headers of the widget's static files.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = PathKind::of(req.path());
    let https = req
        .app_data::<web::Data<HeaderPolicy>>()
        .is_some_and(|p| p.https);
    let mut res = next.call(req).await?;
    let immutable = path == PathKind::Assets && res.status().is_success();
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    // Static files of the app: the widget loads them from other sites' pages.
    if matches!(path, PathKind::Embed | PathKind::Assets) {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
    }
    let (cache, csp) = if path == PathKind::Api {
        ("no-store", "default-src 'none'; frame-ancestors 'none'")
    } else if path == PathKind::Docs {
        (
            "no-cache",
            // Swagger UI sets inline styles, but runs no inline script: none is allowed.
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
    } else if immutable {
        ("public, max-age=31536000, immutable", PAGE_CSP)
    } else if path == PathKind::Embed {
        ("public, max-age=300", PAGE_CSP)
    } else {
        ("no-cache", PAGE_CSP)
    };
    if immutable || !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    Ok(res)
}

/// The kinds of path whose headers differ, read before the request is handed on (no copy of
/// the path per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    Api,
    Docs,
    Embed,
    Assets,
    Page,
}

impl PathKind {
    fn of(path: &str) -> Self {
        if path.starts_with("/api/") {
            Self::Api
        } else if path.starts_with("/docs") {
            Self::Docs
        } else if path.starts_with("/embed/") {
            Self::Embed
        } else if path.starts_with("/assets/") {
            Self::Assets
        } else {
            Self::Page
        }
    }
}
