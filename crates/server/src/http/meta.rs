//! Where a request came from: the client address behind trusted proxies and the user agent.

use crate::client_ip::TrustedProxies;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::{Ready, ready};
use std::net::IpAddr;

/// Where a request came from: the client IP (from `X-Forwarded-For` only when the peer is a
/// trusted proxy) and its user agent (at most 512 characters).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client IP.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// The metadata of `req`, with the trusted proxies the application registered as
    /// `web::Data<TrustedProxies>` (none: the peer is the client).
    pub fn of(req: &HttpRequest) -> Self {
        let none = TrustedProxies::default();
        let trusted = req
            .app_data::<web::Data<TrustedProxies>>()
            .map_or(&none, |t| t.get_ref());
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Self {
            ip: client_ip(req, trusted),
            user_agent,
        }
    }

    /// The client IP, or 0.0.0.0 when unknown (rate limits need a key).
    pub fn ip_or_unspecified(&self) -> IpAddr {
        self.ip.unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

/// The client address (see [`TrustedProxies::client_ip`]).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if trusted.is_empty() {
        return Some(peer.to_canonical());
    }
    // Lossy, not skipped: a proxy appends the real client to the line the client sent, so a
    // line with one non-ASCII byte from the client must still be walked.
    let lines: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Some(trusted.client_ip(peer, lines.iter().map(String::as_str)))
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}
