//! Requests to URLs an administrator gave (webhooks): only to globally reachable addresses,
//! unless `webhook_allow_private_targets` is set.
//!
//! The address checked is the address connected to: the HTTP client resolves host names
//! through [`GlobalOnlyResolver`], which drops every non-global address, so DNS rebinding
//! (one answer for the check, another for the connection) cannot reach an internal host.
//! [`check_target`] also refuses literal addresses (which no resolver sees) and gives the
//! administrator a reason when the endpoint is created.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Most characters in a target URL.
pub const MAX_URL_LENGTH: usize = 2000;

/// The IANA special-purpose ranges (IPv4 and IPv6 Special-Purpose Address Registries,
/// RFC 6890) and the documentation and multicast ranges: never a webhook target. IPv4-mapped
/// (`::ffff:0:0/96`) and NAT64 (`64:ff9b::/96`) forms are judged by the IPv4 address they
/// embed, or refused outright.
static NOT_GLOBAL: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ]
    .iter()
    .map(|n| n.parse().expect("a valid range"))
    .collect()
});

/// Whether `ip` is globally reachable: in none of the special-purpose ranges, with an
/// IPv4-mapped IPv6 address judged as the IPv4 address it carries.
pub fn is_global(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    !NOT_GLOBAL.iter().any(|net| net.contains(&ip))
}

/// A DNS resolver for outbound requests: the system's answer with every non-global address
/// dropped; an error when none is left. With `allow_private`, every address is kept.
#[derive(Debug, Clone, Copy)]
pub struct GlobalOnlyResolver {
    /// Keep non-global addresses too (`webhook_allow_private_targets`).
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GlobalOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_global(a.ip()))
                .collect();
            if found.is_empty() {
                return Err("the host has no globally reachable address".into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for outbound requests: resolves through [`GlobalOnlyResolver`], ignores
/// `HTTP(S)_PROXY`, 10-second timeout, no redirects (a redirect could lead to a private
/// address).
pub fn http_client(allow_private: bool) -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a bundled crypto provider; use ring, which lettre uses too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .dns_resolver(Arc::new(GlobalOnlyResolver { allow_private }))
        // Through a proxy the proxy would resolve the name, past the resolver above.
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Checks a target URL: scheme, length, no credentials, and (unless `allow_private`) that the
/// host — a literal address or every address its name resolves to now — is global. The error
/// is a sentence for the administrator.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), String> {
    if url.len() > MAX_URL_LENGTH || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL is too long or contains spaces".into());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "the URL is not valid".to_string())?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("the URL must start with https:// or http://".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL needs a host and no credentials".into());
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err("the URL needs a host and no credentials".into());
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, 0))
            .await
            .map_err(|_| "the host does not resolve".to_string())?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err("the host does not resolve".into());
    }
    if !allow_private && addrs.iter().any(|ip| !is_global(*ip)) {
        return Err("the host is a loopback or private address (set webhook_allow_private_targets to allow)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn every_special_purpose_range_is_refused() {
        for ip in [
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.170",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "::ffff:93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
        ] {
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn the_resolver_hands_out_no_loopback_address() {
        let strict = GlobalOnlyResolver {
            allow_private: false,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());
        let lenient = GlobalOnlyResolver {
            allow_private: true,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let addrs: Vec<_> = lenient.resolve(name).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    /// A name that resolves to loopback (as a rebinding DNS answer would at delivery time)
    /// is never connected to, though a server listens there.
    #[tokio::test]
    async fn the_client_never_connects_to_a_name_that_resolves_privately() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let url = format!("http://localhost:{port}/hook");
        let strict = http_client(false).unwrap().get(&url).send().await;
        assert!(strict.is_err(), "connected to a private address");
        assert!(!accepted.is_finished());
        let _ = http_client(true)
            .unwrap()
            .get(&url)
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        assert!(accepted.await.unwrap(), "allowed, it does connect");
    }

    #[tokio::test]
    async fn literal_private_addresses_and_credentials_are_refused() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://[::ffff:169.254.169.254]/",
            "http://user:pw@example.com/",
            "ftp://example.com/",
        ] {
            assert!(check_target(url, false).await.is_err(), "{url}");
        }
        assert!(check_target("http://127.0.0.1:9/hook", true).await.is_ok());
    }
}
