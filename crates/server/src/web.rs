//! Serves the built web app: `index.html` for `/` and every client-side route, hashed assets
//! under `/assets/` (cached for a year, immutable), the embeddable widget under `/embed/`
//! (short cache, readable from any origin so other sites can load it).

use std::path::{Path, PathBuf};

use actix_web::{HttpResponse, web};

/// The loaded app shell.
#[derive(Debug, Clone)]
pub struct WebApp {
    dir: PathBuf,
    index: Option<web::Bytes>,
}

impl WebApp {
    /// Reads `<dir>/index.html`; an absent app is not an error (the API still works).
    pub fn load(dir: &Path) -> Self {
        let index = std::fs::read(dir.join("index.html"))
            .ok()
            .map(web::Bytes::from);
        if index.is_none() {
            tracing::warn!(dir = %dir.display(), "web app not built (run `cargo xtask web`); serving the API only");
        }
        Self {
            dir: dir.to_path_buf(),
            index,
        }
    }

    /// True when the app was found.
    pub fn is_built(&self) -> bool {
        self.index.is_some()
    }

    /// Registers `/assets` and `/embed` when the app is built. Files are sent as their
    /// precompressed `.br` or `.gz` twin (written by `cargo xtask web`) to clients that accept
    /// one, so the server never compresses the bundles per request.
    pub fn services(&self, cfg: &mut web::ServiceConfig) {
        if self.is_built() {
            cfg.service(
                actix_files::Files::new("/assets", self.dir.join("assets"))
                    .use_last_modified(false)
                    .prefer_utf8(true)
                    .try_compressed(),
            )
            .service(
                actix_files::Files::new("/embed", self.dir.join("embed"))
                    .prefer_utf8(true)
                    .try_compressed(),
            );
        }
    }

    /// The page for `/` and client-side routes.
    pub fn shell(&self) -> HttpResponse {
        match &self.index {
            Some(body) => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(body.clone()),
            None => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(PLACEHOLDER_PAGE),
        }
    }
}

const PLACEHOLDER_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Invitegate</title></head>\
<body><main><h1>Invitegate</h1><p>The registration service is running, but the web app was not \
built (<code>cargo xtask web</code>, or <code>web_dir</code> points elsewhere). The \
<a href=\"/docs/\">API documentation</a> is available.</p></main></body></html>";
