//! How the server delivers the web app (no browser needed).

use crate::harness::{spawn_web_app, web_dir};
use crate::helpers::{Backend, spawn_app};

/// The name of the file in `dir` (under the built app) that starts with `prefix` and ends with
/// `ext`.
fn file_in(dir: &str, prefix: &str, ext: &str) -> String {
    std::fs::read_dir(web_dir().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(prefix) && n.ends_with(ext))
        .unwrap_or_else(|| panic!("no {dir}/{prefix}*{ext}"))
}

fn asset(prefix: &str, ext: &str) -> String {
    file_in("assets", prefix, ext)
}

/// `assets/app-<hash>/`, the folder of the app's modules, and the file in it that starts with
/// `prefix` and ends with `ext`, as a path under `assets/`.
fn app_module(prefix: &str, ext: &str) -> String {
    let folder = asset("app-", "");
    let name = file_in(&format!("assets/{folder}"), prefix, ext);
    format!("{folder}/{name}")
}

#[tokio::test]
async fn the_app_shell_answers_every_client_route_with_a_strict_csp() {
    let app = spawn_web_app(Backend::Sqlite).await;
    for path in ["/", "/invite", "/admin/users", "/some/unknown/page"] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers().clone();
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "nothing inline or third-party: {csp}"
        );
        let body = res.text().await.unwrap();
        assert!(
            body.contains("/assets/boot-"),
            "{path}: the shell loads the app"
        );
    }
    let head = app.http.head(app.url("/login")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let api = app.http.get(app.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(api.status(), 404, "API paths never fall back to the app");
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_wasm_has_its_type() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let wasm = app
        .http
        .get(app.url(&format!("/assets/{}", app_module("app_bg", ".wasm"))))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let gz = app
        .http
        .get(app.url(&format!("/assets/{}", app_module("app", ".js"))))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        gz.headers()["content-encoding"],
        "gzip",
        "compressed on the wire"
    );
    let missing = app
        .http
        .get(app.url("/assets/app-0000/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        404,
        "a missing asset is not the app shell"
    );
}

#[tokio::test]
async fn bundles_are_sent_precompressed_to_clients_that_accept_it() {
    use std::io::Read as _;
    let app = spawn_web_app(Backend::Sqlite).await;
    for (dir, name) in [
        ("assets", app_module("app_bg", ".wasm")),
        ("assets", app_module("split_console", ".wasm")),
        ("assets", asset("widget-", ".wasm")),
        ("embed", "invitegate-embed.js".to_string()),
    ] {
        let path = web_dir().join(dir).join(&name);
        let original = std::fs::read(&path).unwrap();
        let get = |accept: &'static str| {
            app.http
                .get(app.url(&format!("/{dir}/{name}")))
                .header("accept-encoding", accept)
                .send()
        };
        for (accept, encoding, twin) in [
            ("br, gzip", "br", "br"),
            ("gzip", "gzip", "gz"),
            ("br;q=0, gzip", "gzip", "gz"),
        ] {
            let res = get(accept).await.unwrap();
            assert_eq!(res.status(), 200, "{name} {accept}");
            let h = res.headers().clone();
            assert_eq!(h["content-encoding"], encoding, "{name} {accept}");
            assert!(
                h.get_all("vary")
                    .iter()
                    .any(|v| v.to_str().unwrap().contains("accept-encoding")),
                "{name}: caches keep one copy per encoding"
            );
            if name.ends_with(".wasm") {
                assert_eq!(h["content-type"], "application/wasm", "{name} {accept}");
            }
            let body = res.bytes().await.unwrap();
            let file = std::fs::read(format!("{}.{twin}", path.display())).unwrap();
            assert!(
                body[..] == file[..],
                "{name} {accept}: the file built ahead"
            );
            if name.ends_with(".wasm") {
                assert!(body.len() < original.len() / 2, "{name} {accept}: smaller");
            }
            if encoding == "gzip" {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut plain)
                    .unwrap();
                assert!(plain == original, "{name}: decodes to the bundle");
            }
        }
        let identity = get("identity").await.unwrap();
        assert!(identity.headers().get("content-encoding").is_none());
        assert!(identity.bytes().await.unwrap()[..] == original[..]);
    }
}

#[tokio::test]
async fn the_widget_loads_from_any_origin() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let res = app
        .http
        .get(app.url("/embed/invitegate-embed.js"))
        .header("origin", "https://partner.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("export async function mount_registration"));
    assert!(
        body.contains("../assets/widget-") && !body.contains("../assets/app-"),
        "other sites load the widget build, not the whole console"
    );
    let wasm = app
        .http
        .get(app.url(&format!("/assets/{}", asset("widget-", ".wasm"))))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn without_a_built_app_the_api_still_runs_and_the_page_says_so() {
    let app = spawn_app(Backend::Sqlite).await;
    let body = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("cargo xtask web"), "{body}");
}
