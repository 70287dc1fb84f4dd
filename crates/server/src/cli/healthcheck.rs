//! `invitegate healthcheck`: whether the server on this host answers `GET /readyz` with 200.
//! For container health checks: the runtime image has no curl, and `/dev/tcp` exists in bash
//! but not in the `/bin/sh` (dash) a Docker `HEALTHCHECK` runs under.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;
use url::Url;

/// The readiness URL of a server bound to `bind` (`host:port`): a wildcard address
/// (`0.0.0.0`, `[::]`) is reached through the loopback address of its family.
pub fn default_url(bind: &str) -> anyhow::Result<Url> {
    let addr: SocketAddr = bind
        .parse()
        .map_err(|_| anyhow::anyhow!("`bind` {bind:?} is not an address and port"))?;
    if addr.port() == 0 {
        anyhow::bail!("`bind` {bind:?} picks a free port: pass --url");
    }
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(Url::parse(&format!(
        "http://{}/readyz",
        SocketAddr::new(ip, addr.port())
    ))?)
}

/// `Ok` when `url` (plain `http://`) answers 200 within `timeout` (for the connection to each
/// address the host resolves to, and again for the answer); otherwise why not (refused, timed
/// out, another status).
pub fn check(url: &Url, timeout: Duration) -> anyhow::Result<()> {
    if url.scheme() != "http" {
        anyhow::bail!("only http:// URLs are checked (the server itself speaks plain HTTP)");
    }
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("the URL has no host"))?;
    let mut last = anyhow::anyhow!("{host} does not resolve");
    let mut connected = None;
    for addr in url.socket_addrs(|| Some(80))? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                connected = Some(stream);
                break;
            }
            Err(e) => last = e.into(),
        }
    }
    let mut stream = connected.ok_or(last)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: invitegate-healthcheck\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
        if head[..read].contains(&b'\n') {
            break;
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        anyhow::bail!(
            "{url} answered {:?}",
            status_line.lines().next().unwrap_or_default()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_checked_on_loopback() {
        let url = |bind| default_url(bind).unwrap().to_string();
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/readyz");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/readyz");
        assert_eq!(url("10.0.0.5:9000"), "http://10.0.0.5:9000/readyz");
        assert!(default_url("localhost:8080").is_err());
        assert!(default_url("0.0.0.0:0").is_err());
    }

    #[test]
    fn other_schemes_and_closed_ports_fail() {
        let https = Url::parse("https://127.0.0.1:1/readyz").unwrap();
        assert!(check(&https, Duration::from_secs(1)).is_err());
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let closed = Url::parse(&format!("http://127.0.0.1:{port}/readyz")).unwrap();
        assert!(check(&closed, Duration::from_secs(1)).is_err());
    }
}
