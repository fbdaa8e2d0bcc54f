//! Address networks: [`PrefixTable`], a longest-prefix-match table over IPv4 and IPv6 CIDRs,
//! and [`NetworkSet`], a set of networks such as the internal networks of a site.
//!
//! The table is two `prefix-trie` maps, one per address family. Prefixes are kept in their
//! canonical form: host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`, as lists often write
//! it) and an IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is stored as the IPv4 network
//! it maps (`10.0.0.0/8`). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as dual-stack
//! servers log IPv4 clients) is looked up as the IPv4 address it carries.

use crate::error::IntelError;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A value per network, found by longest-prefix match: the most specific network that holds
/// an address. Lookups take a trie walk of at most 32 (IPv4) or 128 (IPv6) bits.
#[derive(Clone)]
pub struct PrefixTable<V> {
    v4: PrefixMap<Ipv4Net, V>,
    v6: PrefixMap<Ipv6Net, V>,
}

impl<V> Default for PrefixTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for PrefixTable<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> PrefixTable<V> {
    /// An empty table.
    pub fn new() -> Self {
        PrefixTable {
            v4: PrefixMap::new(),
            v6: PrefixMap::new(),
        }
    }

    /// Sets the value of `net` (made canonical, see the module docs) and returns the value it
    /// replaces, if the table held that network already.
    pub fn insert(&mut self, net: IpNet, value: V) -> Option<V> {
        match canonical(net) {
            IpNet::V4(net) => self.v4.insert(net, value),
            IpNet::V6(net) => self.v6.insert(net, value),
        }
    }

    /// The value of exactly `net` (made canonical), not of a network holding it.
    pub fn get(&self, net: IpNet) -> Option<&V> {
        match canonical(net) {
            IpNet::V4(net) => self.v4.get(&net),
            IpNet::V6(net) => self.v6.get(&net),
        }
    }

    /// The value of exactly `net` (made canonical), to change it.
    pub fn get_mut(&mut self, net: IpNet) -> Option<&mut V> {
        match canonical(net) {
            IpNet::V4(net) => self.v4.get_mut(&net),
            IpNet::V6(net) => self.v6.get_mut(&net),
        }
    }

    /// The most specific network holding `ip`, and its value. An IPv4-mapped IPv6 address is
    /// looked up among the IPv4 networks first, then among the IPv6 networks (`::/0`,
    /// `::ffff:0:0/96` and the like still hold it).
    #[inline]
    pub fn longest_match(&self, ip: IpAddr) -> Option<(IpNet, &V)> {
        match ip {
            IpAddr::V4(v4) => self.longest_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.longest_v4(v4).or_else(|| self.longest_v6(v6)),
                None => self.longest_v6(v6),
            },
        }
    }

    /// Every network holding `ip` with its value, the most specific first.
    pub fn matches(&self, ip: IpAddr) -> Vec<(IpNet, &V)> {
        let mut found: Vec<(IpNet, &V)> = Vec::new();
        let v6 = match ip {
            IpAddr::V4(v4) => {
                self.cover_v4(v4, &mut found);
                None
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    self.cover_v4(v4, &mut found);
                }
                Some(v6)
            }
        };
        // IPv4 networks of a mapped address are more specific than any IPv6 network that
        // also holds it: keep them first, each family sorted longest first.
        found.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        if let Some(v6) = v6 {
            let start = found.len();
            found.extend(
                self.v6
                    .cover(&Ipv6Net::from(v6))
                    .map(|(net, value)| (IpNet::V6(net), value)),
            );
            found[start..].sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        }
        found
    }

    /// Whether some network holds `ip`.
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.longest_match(ip).is_some()
    }

    /// How many networks the table holds.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether the table holds no network.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Every network and its value: IPv4 networks, then IPv6 networks, each in address order
    /// (a network before the networks it holds).
    pub fn iter(&self) -> impl Iterator<Item = (IpNet, &V)> {
        self.v4
            .iter()
            .map(|(net, value)| (IpNet::V4(net), value))
            .chain(self.v6.iter().map(|(net, value)| (IpNet::V6(net), value)))
    }

    #[inline]
    fn longest_v4(&self, ip: Ipv4Addr) -> Option<(IpNet, &V)> {
        self.v4
            .get_lpm(&Ipv4Net::from(ip))
            .map(|(net, value)| (IpNet::V4(net), value))
    }

    #[inline]
    fn longest_v6(&self, ip: Ipv6Addr) -> Option<(IpNet, &V)> {
        self.v6
            .get_lpm(&Ipv6Net::from(ip))
            .map(|(net, value)| (IpNet::V6(net), value))
    }

    fn cover_v4<'a>(&'a self, ip: Ipv4Addr, found: &mut Vec<(IpNet, &'a V)>) {
        found.extend(
            self.v4
                .cover(&Ipv4Net::from(ip))
                .map(|(net, value)| (IpNet::V4(net), value)),
        );
    }
}

/// `net` with its host bits cleared, and an IPv4-mapped IPv6 network (inside `::ffff:0:0/96`)
/// as the IPv4 network it maps.
pub fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V4(v4) => IpNet::V4(v4.trunc()),
        IpNet::V6(v6) => {
            let v6 = v6.trunc();
            match (v6.prefix_len().checked_sub(96), v6.addr().to_ipv4_mapped()) {
                (Some(len), Some(v4)) => match Ipv4Net::new(v4, len) {
                    Ok(v4) => IpNet::V4(v4),
                    Err(_) => IpNet::V6(v6),
                },
                _ => IpNet::V6(v6),
            }
        }
    }
}

/// Reads a network as lists write it: a CIDR (`192.0.2.0/24`, `2001:db8::/32`, host bits
/// allowed and cleared) or a bare address (a /32 or /128), with surrounding whitespace. `None`
/// for anything else, including an address with a zone (`fe80::1%eth0`).
pub fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if text.contains('/') {
        text.parse::<IpNet>().ok().map(canonical)
    } else {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| canonical(IpNet::from(ip)))
    }
}

/// A set of networks, asked whether it holds an address. Built from a config's list of
/// CIDRs and addresses, or [`NetworkSet::private`].
#[derive(Clone, Debug, Default)]
pub struct NetworkSet {
    table: PrefixTable<()>,
}

/// The networks of [`NetworkSet::private`], IPv4 then IPv6.
const PRIVATE: [&str; 8] = [
    "10.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

impl NetworkSet {
    /// The set of `list`'s networks; each element is a CIDR or a bare address (see
    /// [`parse_net`]). The first element that is neither is an error naming its position and
    /// value.
    pub fn parse(list: &[String]) -> Result<NetworkSet, IntelError> {
        let mut table = PrefixTable::new();
        for (i, text) in list.iter().enumerate() {
            let net = parse_net(text).ok_or_else(|| IntelError::Network {
                index: i + 1,
                value: text.clone(),
            })?;
            table.insert(net, ());
        }
        Ok(NetworkSet { table })
    }

    /// The networks that are internal by default: traffic between such addresses stays on a
    /// site, or on one host, and never crosses the internet.
    ///
    /// - `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`: the private IPv4 ranges of RFC 1918;
    /// - `fc00::/7`: IPv6 unique local addresses (RFC 4193), IPv6's private ranges;
    /// - `169.254.0.0/16` and `fe80::/10`: link-local addresses (RFC 3927, RFC 4291), valid
    ///   only on one link (DHCP-less hosts, cloud instance metadata at 169.254.169.254);
    /// - `127.0.0.0/8` and `::1/128`: loopback (RFC 1122, RFC 4291), the host itself.
    ///
    /// Carrier-grade NAT space (`100.64.0.0/10`), documentation and benchmarking ranges are
    /// left out: they are not a site's own networks, and a log showing them is worth a look.
    pub fn private() -> NetworkSet {
        let mut table = PrefixTable::new();
        for cidr in PRIVATE {
            if let Some(net) = parse_net(cidr) {
                table.insert(net, ());
            }
        }
        NetworkSet { table }
    }

    /// Whether one of the networks holds `ip` (an IPv4-mapped IPv6 address as its IPv4 address).
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.table.contains(ip)
    }

    /// The networks in canonical CIDR form, IPv4 then IPv6, each in address order.
    pub fn cidrs(&self) -> Vec<String> {
        self.table.iter().map(|(net, ())| net.to_string()).collect()
    }

    /// How many networks the set holds.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the set holds no network.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn net(text: &str) -> IpNet {
        parse_net(text).unwrap()
    }

    #[test]
    fn host_bits_are_cleared_and_mapped_networks_become_ipv4() {
        assert_eq!(net("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(net(" 192.0.2.7 ").to_string(), "192.0.2.7/32");
        assert_eq!(net("2001:db8::1/32").to_string(), "2001:db8::/32");
        assert_eq!(net("::ffff:10.9.8.7/104").to_string(), "10.0.0.0/8");
        assert_eq!(net("::ffff:0:0/96").to_string(), "0.0.0.0/0");
        assert_eq!(net("::ffff:0:0/95").to_string(), "::fffe:0:0/95");
    }

    #[test]
    fn not_networks_are_refused() {
        for text in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0",
            "10.0.0.256",
            "fe80::1%eth0",
            "10.0.0.0/8 x",
            "010.0.0.1",
            "10.0.0.0/",
            "/8",
        ] {
            assert_eq!(parse_net(text), None, "{text:?}");
        }
    }

    #[test]
    fn longest_prefix_wins_and_slash_zero_holds_its_family_only() {
        let mut table = PrefixTable::new();
        table.insert(net("0.0.0.0/0"), "any4");
        table.insert(net("10.0.0.0/8"), "ten");
        table.insert(net("10.1.0.0/16"), "ten-one");
        table.insert(net("10.1.2.3/32"), "host");
        assert_eq!(table.len(), 4);
        let at = |s: &str| table.longest_match(ip(s)).map(|(n, v)| (n.to_string(), *v));
        assert_eq!(at("10.1.2.3"), Some(("10.1.2.3/32".into(), "host")));
        assert_eq!(at("10.1.2.4"), Some(("10.1.0.0/16".into(), "ten-one")));
        assert_eq!(at("10.2.0.0"), Some(("10.0.0.0/8".into(), "ten")));
        assert_eq!(at("8.8.8.8"), Some(("0.0.0.0/0".into(), "any4")));
        assert_eq!(at("::ffff:10.1.2.3"), Some(("10.1.2.3/32".into(), "host")));
        assert_eq!(at("2001:db8::1"), None, "an IPv4 /0 holds no IPv6 address");
        let all: Vec<String> = table
            .matches(ip("10.1.2.3"))
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(
            all,
            ["10.1.2.3/32", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]
        );
    }

    #[test]
    fn ipv6_prefixes_and_mapped_addresses() {
        let mut table = PrefixTable::new();
        table.insert(net("::/0"), 0);
        table.insert(net("2001:db8::/32"), 32);
        table.insert(net("2001:db8::1/128"), 128);
        table.insert(net("192.0.2.0/24"), 24);
        let at = |s: &str| table.longest_match(ip(s)).map(|(_, v)| *v);
        assert_eq!(at("2001:db8::1"), Some(128));
        assert_eq!(at("2001:db8::2"), Some(32));
        assert_eq!(at("2001:db9::"), Some(0));
        assert_eq!(at("::ffff:192.0.2.9"), Some(24));
        assert_eq!(
            at("::ffff:198.51.100.1"),
            Some(0),
            "a mapped address is IPv6 too"
        );
        assert_eq!(at("198.51.100.1"), None);
        let all: Vec<i32> = table
            .matches(ip("::ffff:192.0.2.9"))
            .iter()
            .map(|(_, v)| **v)
            .collect();
        assert_eq!(all, [24, 0]);
    }

    #[test]
    fn the_private_set_and_its_display() {
        let private = NetworkSet::private();
        for inside in [
            "10.0.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(private.contains(ip(inside)), "{inside}");
        }
        for outside in ["172.32.0.1", "8.8.8.8", "100.64.0.1", "2001:db8::1", "::2"] {
            assert!(!private.contains(ip(outside)), "{outside}");
        }
        assert_eq!(private.cidrs(), PRIVATE);
    }

    #[test]
    fn a_network_list_names_the_bad_element() {
        let list = vec![
            "10.0.0.0/8".to_string(),
            "10.1.2.3/16".into(),
            "intranet\u{1b}[2J".into(),
        ];
        let err = NetworkSet::parse(&list).unwrap_err().to_string();
        assert!(err.contains("element 3"), "{err}");
        assert!(err.contains("intranet\\u{1b}[2J"), "{err}");
        let set = NetworkSet::parse(&list[..2]).unwrap();
        assert_eq!(set.cidrs(), ["10.0.0.0/8", "10.1.0.0/16"]);
    }
}
