//! The HTTP exchange under [`Client`](crate::Client): `reqwest` on native targets; in browsers
//! (pages and workers) the global `fetch`, so the WebAssembly bundles carry no HTTP stack, URL
//! parser or header map of their own (about a sixth of the registration widget's download).

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use imp::HttpError;
pub(crate) use imp::{Http, Request, Response};

/// An HTTP method of the API (RFC 9110 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Method(&'static str);

impl Method {
    pub const GET: Method = Method("GET");
    pub const POST: Method = Method("POST");
    pub const PATCH: Method = Method("PATCH");
    pub const DELETE: Method = Method("DELETE");
}

/// `201 Created` (RFC 9110 §15.3.2).
pub(crate) const CREATED: u16 = 201;
/// `202 Accepted` (RFC 9110 §15.3.3).
pub(crate) const ACCEPTED: u16 = 202;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    /// A failed exchange: no response (connection, TLS, timeout) or a body that is not the
    /// expected JSON.
    pub type HttpError = reqwest::Error;
    pub type Http = reqwest::Client;

    pub fn new_http() -> Result<Http, HttpError> {
        // Idle connections are dropped before the server's keep-alive (actix: 5 s) closes
        // them, so a request never goes out on a connection the server is closing right then.
        reqwest::Client::builder()
            .cookie_store(true)
            .pool_idle_timeout(std::time::Duration::from_secs(4))
            .build()
    }

    pub fn status_of(e: &HttpError) -> Option<u16> {
        e.status().map(|s| s.as_u16())
    }

    pub struct Request(reqwest::RequestBuilder);

    impl Request {
        pub fn new(http: &Http, method: Method, url: String) -> Self {
            let method = reqwest::Method::from_bytes(method.0.as_bytes()).expect("a method token");
            Self(http.request(method, url))
        }
        pub fn header(self, name: &'static str, value: &str) -> Self {
            Self(self.0.header(name, value))
        }
        pub fn bearer(self, credential: &str) -> Self {
            Self(self.0.bearer_auth(credential))
        }
        pub fn query<Q: Serialize + ?Sized>(self, query: &Q) -> Self {
            Self(self.0.query(query))
        }
        pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Self {
            Self(self.0.json(body))
        }
        pub async fn send(self) -> Result<Response, HttpError> {
            Ok(Response(self.0.send().await?))
        }
    }

    pub struct Response(reqwest::Response);

    impl Response {
        pub fn status(&self) -> u16 {
            self.0.status().as_u16()
        }
        pub async fn text(self) -> Result<String, HttpError> {
            self.0.text().await
        }
        pub async fn json<T: DeserializeOwned>(self) -> Result<T, HttpError> {
            self.0.json().await
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        /// The global `fetch` (WHATWG Fetch §5.6): `window.fetch` in pages, `self.fetch` in
        /// workers.
        #[wasm_bindgen(js_name = fetch)]
        fn global_fetch(input: &str, init: &web_sys::RequestInit) -> js_sys::Promise;
    }

    /// Aborts the request when the future awaiting it is dropped (a page left, a newer search
    /// typed), as reqwest did; disarmed once the response has arrived.
    struct AbortOnDrop(Option<web_sys::AbortController>);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            if let Some(controller) = self.0.take() {
                controller.abort();
            }
        }
    }

    /// A failed exchange in a browser: no response (network, CORS, an aborted page) or a body
    /// that is not the expected JSON. Its text is the browser's or the decoder's message.
    #[derive(Debug)]
    pub struct HttpError(String);

    impl std::fmt::Display for HttpError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for HttpError {}

    fn js(e: JsValue) -> HttpError {
        let message = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "the request failed".into());
        HttpError(message)
    }

    /// The browser keeps cookies and connections: nothing to hold.
    #[derive(Debug, Clone, Default)]
    pub struct Http;

    pub fn new_http() -> Result<Http, HttpError> {
        Ok(Http)
    }

    pub fn status_of(_: &HttpError) -> Option<u16> {
        None
    }

    pub struct Request {
        method: Method,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: Option<String>,
        error: Option<HttpError>,
    }

    impl Request {
        pub fn new(_: &Http, method: Method, url: String) -> Self {
            Self {
                method,
                url,
                headers: Vec::new(),
                body: None,
                error: None,
            }
        }
        pub fn header(mut self, name: &'static str, value: &str) -> Self {
            self.headers.push((name, value.to_owned()));
            self
        }
        pub fn bearer(self, credential: &str) -> Self {
            self.header("Authorization", &format!("Bearer {credential}"))
        }
        pub fn query<Q: Serialize + ?Sized>(mut self, query: &Q) -> Self {
            match serde_urlencoded::to_string(query) {
                Ok(q) if q.is_empty() => {}
                Ok(q) => {
                    self.url
                        .push(if self.url.contains('?') { '&' } else { '?' });
                    self.url.push_str(&q);
                }
                Err(e) => self.error = Some(HttpError(e.to_string())),
            }
            self
        }
        pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
            match serde_json::to_string(body) {
                Ok(b) => self.body = Some(b),
                Err(e) => self.error = Some(HttpError(e.to_string())),
            }
            self.header("Content-Type", "application/json")
        }
        pub async fn send(self) -> Result<Response, HttpError> {
            if let Some(e) = self.error {
                return Err(e);
            }
            let init = web_sys::RequestInit::new();
            init.set_method(self.method.0);
            let headers = web_sys::Headers::new().map_err(js)?;
            for (name, value) in &self.headers {
                headers.set(name, value).map_err(js)?;
            }
            init.set_headers(&headers);
            if let Some(body) = &self.body {
                init.set_body(&JsValue::from_str(body));
            }
            let controller = web_sys::AbortController::new().map_err(js)?;
            init.set_signal(Some(&controller.signal()));
            let mut abort = AbortOnDrop(Some(controller));
            let res = JsFuture::from(global_fetch(&self.url, &init))
                .await
                .map_err(js)?;
            abort.0 = None;
            Ok(Response(res.unchecked_into()))
        }
    }

    pub struct Response(web_sys::Response);

    impl Response {
        pub fn status(&self) -> u16 {
            self.0.status()
        }
        pub async fn text(self) -> Result<String, HttpError> {
            let text = JsFuture::from(self.0.text().map_err(js)?)
                .await
                .map_err(js)?;
            Ok(text.as_string().unwrap_or_default())
        }
        pub async fn json<T: DeserializeOwned>(self) -> Result<T, HttpError> {
            serde_json::from_str(&self.text().await?).map_err(|e| HttpError(e.to_string()))
        }
    }
}

pub(crate) use imp::{new_http, status_of};
