//! A real headless Chromium driven over WebDriver (Debian's chromedriver), one per test, plus
//! the helpers the browser tests share: waiting for text, typing, axe-core audits, screenshots.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app_with};

/// The built web app (`cargo xtask web`); `cargo xtask test` passes its location.
pub fn web_dir() -> PathBuf {
    let dir = std::env::var_os("INVITEGATE_TEST_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist"));
    assert!(
        dir.join("index.html").exists(),
        "the web app is not built at {}: run `cargo xtask web` (or `cargo xtask test`, which builds it)",
        dir.display()
    );
    dir
}

/// A server with the web app.
pub async fn spawn_web_app(backend: Backend) -> TestApp {
    spawn_web_app_with(backend, |_| {}).await
}

/// A server with the web app and a configuration tweak.
pub async fn spawn_web_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut invitegate_server::config::Config),
) -> TestApp {
    let dir = web_dir();
    spawn_app_with(backend, move |c| {
        c.web_dir = dir;
        tweak(c);
    })
    .await
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A Chromium session; the driver process ends with it.
pub struct Browser {
    pub c: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    name: String,
    shots: u32,
}

impl Drop for Browser {
    /// Ends chromedriver and the Chromium it started (its process group): a test that fails
    /// before [`Browser::close`] would otherwise leave a dozen Chromium processes running on
    /// the machine.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

const WAIT: Duration = Duration::from_secs(20);

impl Browser {
    /// Starts chromedriver and a headless Chromium window of `width`×900 CSS pixels.
    /// `name` prefixes this test's screenshots.
    pub async fn start(name: &str, width: u32) -> Browser {
        Self::start_with(name, width, &[]).await
    }

    /// [`Browser::start`] with more Chromium switches (`--force-dark-mode` for the dark theme).
    pub async fn start_with(name: &str, width: u32, switches: &[&str]) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver (apt-get install chromium-driver; `cargo xtask test` installs it)",
            );
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--lang=en-GB".into(),
            format!("--window-size={width},900"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(switches.iter().map(|s| s.to_string()));
        let mut options = json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": args,
        });
        // A window is never narrower than about 500 px: a phone's width needs the device
        // emulation, or a "375 px" test would look at 485.
        if width < 500 {
            options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": 800, "pixelRatio": 2.0}});
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let deadline = Instant::now() + WAIT;
        let c = loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("chromedriver did not start: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            c,
            driver,
            _profile: profile,
            name: name.into(),
            shots: 0,
        }
    }

    /// Opens `url` and waits for the app to render (`<main>` without the boot placeholder).
    pub async fn open(&self, url: &str) {
        self.c.goto(url).await.expect("navigates");
    }

    /// Whether the page has fetched a resource whose URL contains `part` (the browser's
    /// resource timing entries).
    pub async fn loaded(&self, part: &str) -> bool {
        let names = self
            .c
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .expect("resource timing");
        names
            .as_array()
            .expect("a list")
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains(part)))
    }

    /// Waits until the page's text contains `text`; returns the body text.
    pub async fn wait_text(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let body = self.body_text().await;
            if body.contains(text) {
                return body;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {text:?}; the page shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's visible text.
    pub async fn body_text(&self) -> String {
        match self.c.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits for an element.
    pub async fn el(&self, css: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// The current value of the input or textarea `css`.
    pub async fn value(&self, css: &str) -> String {
        self.el(css)
            .await
            .prop("value")
            .await
            .expect("reads value")
            .unwrap_or_default()
    }

    /// Replaces the value of the input `css` by typing `text` (real key events).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        el.clear().await.expect("clears");
        el.send_keys(text).await.expect("types");
    }

    /// Clicks the first button whose text is exactly `label`.
    pub async fn click_button(&self, label: &str) {
        let xpath = format!("//button[normalize-space(.)='{label}']");
        let el = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label:?}: {e}"));
        el.click().await.expect("clicks");
    }

    /// Clicks the element `xpath` finds (a button within a given row, say).
    pub async fn click_xpath(&self, xpath: &str) {
        let el = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("nothing at {xpath:?}: {e}"));
        el.click().await.expect("clicks");
    }

    /// Clicks the link whose text is exactly `label`.
    pub async fn click_link(&self, label: &str) {
        let xpath = format!("//a[normalize-space(.)='{label}']");
        let el = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no link {label:?}: {e}"));
        el.click().await.expect("clicks");
    }

    /// Waits until the address bar's path is `path`.
    pub async fn wait_path(&self, path: &str) -> url::Url {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.c.current_url().await.expect("url");
            if url.path() == path {
                return url;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected to be on {path}, still on {url}; page:\n{}",
                    self.body_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the element `id`, once it exists (an SVG `<desc>` is not rendered, so it is
    /// no "visible text" for WebDriver).
    pub async fn text_of(&self, id: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self
                .c
                .execute(
                    "const e = document.getElementById(arguments[0]); return e && e.textContent;",
                    vec![json!(id)],
                )
                .await
                .expect("script runs");
            if let Some(s) = v.as_str() {
                return s.to_string();
            }
            assert!(Instant::now() < deadline, "no #{id} on the page");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs axe-core on the page and fails on any serious or critical violation.
    pub async fn audit(&self, screen: &str) {
        let violations = self.violations().await;
        assert!(
            violations.is_empty(),
            "{screen}: accessibility violations:\n{}",
            violations.join("\n")
        );
    }

    /// axe-core's serious and critical violations on the page, one line each.
    pub async fn violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("browser/node_modules/axe-core/axe.min.js"),
        )
        .expect("axe-core is installed (npm ci in tests/browser; `cargo xtask test` does it)");
        self.c.execute(&axe, vec![]).await.expect("axe loads");
        let found = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(r => done(
                   r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))
                 ), e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe runs");
        serde_json::from_value(found).expect("list")
    }

    /// Saves a PNG of the page under `target/screenshots/`, then audits it with axe.
    pub async fn screen(&mut self, screen: &str) {
        self.shots += 1;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let png = self.c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(
            dir.join(format!("{}-{:02}-{screen}.png", self.name, self.shots)),
            png,
        );
        self.audit(screen).await;
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self.c.clone().close().await;
    }
}

/// A partner site on another origin (`http://localhost:<port>`) that serves one page.
pub struct HostSite {
    /// The site's origin, for `cors_allowed_origins`.
    pub origin: String,
    listener: TcpListener,
}

impl HostSite {
    /// Reserves the site's address, so its origin is known before the page is.
    pub fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("address").port();
        Self {
            origin: format!("http://localhost:{port}"),
            listener,
        }
    }

    /// Answers every request with `page` (HTML) from a background thread.
    pub fn serve(self, page: String) {
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in self.listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    page.len(),
                    page
                );
            }
        });
    }
}

/// A partner page that mounts the widget from `api` with `token` and `redirect_to`, and shows
/// every `invitegate:*` event that bubbles up to its `<main>` in `<pre id="events">` (kept in
/// the tab's session storage, so the page it redirects to shows them too).
pub fn widget_events_page(api: &str, token: &str, redirect_to: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Partner site</title></head>\
         <body><main><h1>Join our community</h1><div id=\"signup\"></div><pre id=\"events\"></pre></main>\
         <script type=\"module\">\
         const show = () => {{ document.getElementById(\"events\").textContent = sessionStorage.getItem(\"events\") || \"\"; }};\
         const log = e => {{ sessionStorage.setItem(\"events\", (sessionStorage.getItem(\"events\") || \"\") + e.type + \" \" + JSON.stringify(e.detail) + \"\\n\"); show(); }};\
         show();\
         const main = document.querySelector(\"main\");\
         main.addEventListener(\"invitegate:registered\", log);\
         main.addEventListener(\"invitegate:error\", log);\
         if (location.pathname === \"/\") {{\
           import(\"{api}/embed/invitegate-embed.js\").then(m => m.mount_registration(document.getElementById(\"signup\"), {{ apiBase: \"{api}\", token: \"{token}\", redirectTo: \"{redirect_to}\" }}));\
         }}\
         </script></body></html>"
    )
}

/// A partner page that mounts the registration widget from `api` with `token`.
pub fn widget_page(api: &str, token: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Partner site</title></head>\
         <body><main><h1>Join our community</h1><div id=\"signup\"></div></main>\
         <script type=\"module\">\
         import {{ mount_registration }} from \"{api}/embed/invitegate-embed.js\";\
         await mount_registration(document.getElementById(\"signup\"), {{ apiBase: \"{api}\", token: \"{token}\" }});\
         </script></body></html>"
    )
}
