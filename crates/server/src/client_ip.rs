//! The client's address behind trusted proxies, and the key a per-client limit counts under.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// Proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges (`10.0.0.0/8`,
/// `2001:db8::/32`; a bare address is a single-host range).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses configuration entries; the first entry that is neither an address nor a CIDR
    /// range is the error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted (then the peer is always the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` (IPv4-mapped IPv6 read as IPv4) is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` carrying these `X-Forwarded-For` header
    /// lines: the peer itself unless it is trusted; otherwise the lines are joined in order and
    /// walked from the right, skipping trusted proxies, and the first untrusted address is the
    /// client (MDN, X-Forwarded-For, "Security and privacy concerns"). An entry that is not an
    /// address stops the walk at the last trusted hop, which is then the client.
    pub fn client_ip<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let joined: Vec<&str> = forwarded.collect();
        let joined = joined.join(",");
        let mut client = peer;
        for hop in joined.rsplit(',') {
            match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
                Ok(ip) if self.contains(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }
}

/// The key a per-client limit counts under: an IPv4 address, or an IPv6 address's /64, since
/// one IPv6 subscriber usually holds a whole /64 (security.md, "Limits hold across nodes").
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_ranges_and_every_header_line_count() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8::1"]).unwrap();
        assert!(t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("::ffff:10.1.1.1")));
        assert!(!t.contains(ip("11.0.0.1")));
        // Not trusted: the header is ignored.
        assert_eq!(
            t.client_ip(ip("198.51.100.7"), ["1.2.3.4"].into_iter()),
            ip("198.51.100.7")
        );
        // Two lines are one list: the forged left-most entry of the first line never wins.
        let lines = ["6.6.6.6, 203.0.113.9", "10.0.0.2"];
        assert_eq!(
            t.client_ip(ip("10.0.0.1"), lines.into_iter()),
            ip("203.0.113.9")
        );
        // Only proxies: the left-most proxy is the client.
        assert_eq!(
            t.client_ip(ip("10.0.0.1"), ["10.0.0.3"].into_iter()),
            ip("10.0.0.3")
        );
        // Garbage from the client stops the walk at the last trusted hop.
        assert_eq!(
            t.client_ip(ip("10.0.0.1"), ["not-an-ip, 10.0.0.4"].into_iter()),
            ip("10.0.0.4")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.internal"]).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    fn hop() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| IpAddr::from(b).to_string()),
            (0u8..=255).prop_map(|b| format!("10.0.0.{b}")),
            any::<[u16; 8]>().prop_map(|s| IpAddr::from(s).to_string()),
            "[^,]{0,20}",
        ]
    }

    proptest! {
        /// Any header: no panic; the answer is the peer or one of the header's addresses; and
        /// an untrusted address the proxy appended last always wins over what the client sent.
        #[test]
        fn any_forwarded_header_yields_a_listed_address(
            lines in proptest::collection::vec(proptest::collection::vec(hop(), 0..5), 0..4),
            last in any::<[u8; 4]>(),
        ) {
            let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
            let peer = ip("10.0.0.1");
            let lines: Vec<String> = lines.iter().map(|l| l.join(", ")).collect();
            let got = t.client_ip(peer, lines.iter().map(String::as_str));
            let listed: Vec<IpAddr> = lines
                .iter()
                .flat_map(|l| l.split(','))
                .filter_map(|h| h.trim().parse::<IpAddr>().ok())
                .map(|a| a.to_canonical())
                .collect();
            prop_assert!(got == peer || listed.contains(&got));
            let client = IpAddr::from(last);
            prop_assume!(!t.contains(client));
            let mut with_client = lines.clone();
            with_client.push(client.to_string());
            prop_assert_eq!(t.client_ip(peer, with_client.iter().map(String::as_str)), client);
        }
    }
}
