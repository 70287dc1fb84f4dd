//! Redirect URIs: what may be registered, and how a request's URI is matched — as an exact
//! string, no case folding, prefix or wildcard (RFC 9700 §2.1, OAuth 2.0 Security BCP; the
//! pitfalls behind CVE-2020-15233/15234 and CVE-2024-8883). The one relaxation is the port of
//! a loopback IP literal, which a native app picks at run time (RFC 8252 §7.3).

/// Why a URI cannot be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriRejection {
    /// Not an absolute URI, or over 2,000 characters.
    Malformed,
    /// Has a fragment (RFC 6749 §3.1.2), or a wildcard.
    NotExact,
    /// `http` on a host other than the loopback, or another scheme without a dot (neither web
    /// nor a native app's reverse-domain private-use scheme, RFC 8252 §7.1).
    InsecureScheme,
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => *d == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Checks that `uri` may be registered as a redirect URI: absolute, without a fragment or a
/// `*`, `https`, `http` on a loopback host, or a private-use scheme with a dot in it. Hosts
/// are ASCII: the URL parser is built without IDNA mapping (it keeps Unicode tables out of the
/// web bundles), so an internationalised domain is registered in its `xn--` form.
pub fn check_redirect_uri(uri: &str) -> Result<(), UriRejection> {
    if uri.contains('#') || uri.contains('*') {
        return Err(UriRejection::NotExact);
    }
    // The URL parser drops tabs and newlines silently; a stored URI must be what was checked.
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UriRejection::Malformed);
    }
    let parsed = url::Url::parse(uri).map_err(|_| UriRejection::Malformed)?;
    if uri.len() > 2000 || uri.trim() != uri {
        return Err(UriRejection::Malformed);
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if parsed.host().as_ref().is_some_and(is_loopback_host) => Ok(()),
        "http" | "https" => Err(UriRejection::InsecureScheme),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(UriRejection::InsecureScheme),
    }
}

/// Checks a web URI (`initiate_login_uri`): `https`, or `http` on a loopback host.
pub fn check_web_uri(uri: &str) -> Result<(), UriRejection> {
    check_redirect_uri(uri)?;
    match uri.split_once(':') {
        Some(("https" | "http", _)) => Ok(()),
        _ => Err(UriRejection::InsecureScheme),
    }
}

/// `uri` without the port of a loopback IP literal (`http://127.0.0.1:PORT` or
/// `http://[::1]:PORT`), or `None` when it is not such a URI.
fn without_loopback_port(uri: &str) -> Option<String> {
    for prefix in ["http://127.0.0.1", "http://[::1]"] {
        let Some(rest) = uri.strip_prefix(prefix) else {
            continue;
        };
        let rest = match rest.strip_prefix(':') {
            Some(port) => {
                let digits = port.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return None;
                }
                &port[digits..]
            }
            None => rest,
        };
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            return Some(format!("{prefix}{rest}"));
        }
    }
    None
}

/// Whether the request's `given` redirect URI is one of `registered`: equal as strings, or
/// differing only in the port of a loopback IP literal (RFC 8252 §7.3).
pub fn matches(registered: &[String], given: &str) -> bool {
    registered.iter().any(|r| {
        r == given
            || without_loopback_port(r)
                .is_some_and(|r| without_loopback_port(given).is_some_and(|g| g == r))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_strings_match_except_a_loopback_ip_port() {
        let reg = vec![
            "https://app.example.com/cb".to_string(),
            "http://127.0.0.1/native".to_string(),
            "http://localhost:8080/dev".to_string(),
        ];
        assert!(matches(&reg, "https://app.example.com/cb"));
        for bad in [
            "https://APP.example.com/cb",
            "https://app.example.com/CB",
            "https://app.example.com/cb/",
            "https://app.example.com/cb/more",
            "https://app.example.com/cb?x=1",
            "https://app.example.com:443/cb",
            "https://app.example.com.evil.example/cb",
            "http://localhost.evil.example:8080/dev",
            "http://localhost:8081/dev",
            "http://127.0.0.1:5000/other",
            "http://127.0.0.1.evil.example/native",
            "http://127.0.0.1:5000@evil.example/native",
        ] {
            assert!(!matches(&reg, bad), "{bad}");
        }
        assert!(matches(&reg, "http://127.0.0.1:53211/native"));
        assert!(matches(&reg, "http://127.0.0.1/native"));
        assert!(matches(&reg, "http://localhost:8080/dev"));
    }

    #[test]
    fn registration_takes_web_loopback_and_native_schemes_only() {
        for ok in [
            "https://app.example.com/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_redirect_uri("http://app.example.com/cb"),
            Err(UriRejection::InsecureScheme)
        );
        assert_eq!(
            check_redirect_uri("myapp:/cb"),
            Err(UriRejection::InsecureScheme)
        );
        assert_eq!(
            check_redirect_uri("javascript:alert(1)"),
            Err(UriRejection::InsecureScheme)
        );
        assert_eq!(
            check_redirect_uri("https://app.example.com/cb#x"),
            Err(UriRejection::NotExact)
        );
        assert_eq!(
            check_redirect_uri("https://*.example.com/cb"),
            Err(UriRejection::NotExact)
        );
        assert_eq!(check_redirect_uri("/cb"), Err(UriRejection::Malformed));
        assert_eq!(
            check_redirect_uri("https://a.example/cb\nhttp://evil.example/cb"),
            Err(UriRejection::Malformed)
        );
        assert_eq!(
            check_redirect_uri("https://a.example/c\tb"),
            Err(UriRejection::Malformed)
        );
        assert_eq!(
            check_redirect_uri("https://bücher.example/cb"),
            Err(UriRejection::Malformed),
            "Unicode hosts only in their xn-- form"
        );
        assert_eq!(
            check_redirect_uri("https://xn--bcher-kva.example/cb"),
            Ok(())
        );
        assert_eq!(
            check_web_uri("com.example.app:/login"),
            Err(UriRejection::InsecureScheme)
        );
    }
}
