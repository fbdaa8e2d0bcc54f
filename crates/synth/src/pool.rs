//! Source-IP populations: the pool of regular (benign) clients with their traffic profiles,
//! one-off background-noise addresses, and attacker addresses.
//!
//! The country mix follows the seed file (US 113, CA 72, DE 28, AT 21, NL 18, AE 16, IL 14 of
//! 282 rows) plus a small share of other countries. Addresses are drawn from a few `/16`
//! prefixes per country in the style of the seed file (cloud-proxy ranges such as `165.225.*`);
//! they are synthetic and make no claim about real geolocation. Benign, noise and attacker
//! addresses use disjoint first octets, so an address never plays two roles.

use crate::rng::Sampler;
use std::collections::HashSet;

/// A country with its relative weight and the `/16` prefixes its addresses come from.
struct Country {
    code: [u8; 2],
    weight: f64,
    prefixes: &'static [[u8; 2]],
}

const BENIGN_COUNTRIES: &[Country] = &[
    Country {
        code: *b"US",
        weight: 113.0,
        prefixes: &[[165, 225], [136, 226], [155, 91], [104, 129]],
    },
    Country {
        code: *b"CA",
        weight: 72.0,
        prefixes: &[[165, 225], [136, 226]],
    },
    Country {
        code: *b"DE",
        weight: 28.0,
        prefixes: &[[165, 225], [147, 161]],
    },
    Country {
        code: *b"AT",
        weight: 21.0,
        prefixes: &[[147, 161]],
    },
    Country {
        code: *b"NL",
        weight: 18.0,
        prefixes: &[[165, 225], [185, 46]],
    },
    Country {
        code: *b"AE",
        weight: 16.0,
        prefixes: &[[147, 161], [94, 200]],
    },
    Country {
        code: *b"IL",
        weight: 14.0,
        prefixes: &[[94, 188]],
    },
    Country {
        code: *b"GB",
        weight: 5.0,
        prefixes: &[[147, 161], [81, 2]],
    },
    Country {
        code: *b"FR",
        weight: 3.0,
        prefixes: &[[165, 225], [90, 84]],
    },
    Country {
        code: *b"SG",
        weight: 2.0,
        prefixes: &[[136, 226]],
    },
    Country {
        code: *b"JP",
        weight: 2.0,
        prefixes: &[[165, 225], [126, 77]],
    },
    Country {
        code: *b"IN",
        weight: 2.0,
        prefixes: &[[165, 225], [106, 51]],
    },
];

const ATTACKER_COUNTRIES: &[Country] = &[
    Country {
        code: *b"RU",
        weight: 4.0,
        prefixes: &[[45, 141], [91, 240]],
    },
    Country {
        code: *b"CN",
        weight: 4.0,
        prefixes: &[[218, 92], [112, 85]],
    },
    Country {
        code: *b"US",
        weight: 3.0,
        prefixes: &[[45, 33], [193, 42]],
    },
    Country {
        code: *b"NL",
        weight: 2.0,
        prefixes: &[[193, 142], [5, 188]],
    },
    Country {
        code: *b"BR",
        weight: 1.0,
        prefixes: &[[177, 54]],
    },
    Country {
        code: *b"VN",
        weight: 1.0,
        prefixes: &[[113, 161]],
    },
    Country {
        code: *b"KR",
        weight: 1.0,
        prefixes: &[[211, 36]],
    },
    Country {
        code: *b"UA",
        weight: 1.0,
        prefixes: &[[62, 122]],
    },
];

/// Internet background noise (one-off scanners and crawlers like `65.49.1.*` in the seed file).
const NOISE_PREFIXES: &[[u8; 2]] = &[[65, 49], [192, 241], [198, 235], [167, 94]];

/// Traffic profile of one regular client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// IPv4 address as a big-endian `u32`.
    pub(crate) ip: u32,
    /// ISO country code.
    pub(crate) country: [u8; 2],
    /// Median `bytes_in` of this client's sessions.
    pub(crate) median_in: f64,
    /// Log-space spread of `bytes_in` around the median.
    pub(crate) sigma_in: f64,
    /// Typical `bytes_out / bytes_in`.
    pub(crate) ratio: f64,
    /// Log-space spread of the ratio.
    pub(crate) sigma_ratio: f64,
    /// A bulk-transfer client (megabytes in, a small out/in ratio).
    pub(crate) heavy: bool,
}

/// The regular clients plus a cumulative popularity table for weighted picking.
pub(crate) struct ClientPool {
    pub(crate) clients: Vec<Client>,
    pub(crate) cumulative: Vec<f64>,
}

/// An attacker (or one-off) address with its country.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Host {
    pub(crate) ip: u32,
    pub(crate) country: [u8; 2],
}

fn cumulative_weights(countries: &[Country]) -> Vec<f64> {
    countries
        .iter()
        .scan(0.0, |acc, c| {
            *acc += c.weight;
            Some(*acc)
        })
        .collect()
}

fn address(prefix: [u8; 2], rng: &mut Sampler) -> u32 {
    let low = rng.range(1, 0xfffe) as u32; // avoid .0.0 and .255.255
    (u32::from(prefix[0]) << 24) | (u32::from(prefix[1]) << 16) | low
}

impl Client {
    /// A regular (not heavy) client profile for `host`: median `bytes_in` log-normal around
    /// 12 kB, out/in ratio log-normal around 1.05.
    pub(crate) fn regular(host: Host, rng: &mut Sampler) -> Self {
        Client {
            ip: host.ip,
            country: host.country,
            median_in: rng.log_normal(12_000.0, 0.9).clamp(300.0, 2.0e6),
            sigma_in: rng.uniform(0.15, 0.7),
            ratio: rng.log_normal(1.05, 0.55).clamp(0.2, 5.0),
            sigma_ratio: rng.uniform(0.05, 0.4),
            heavy: false,
        }
    }

    /// The `(bytes_in, bytes_out)` of one of this client's sessions, unrounded and unclamped.
    #[inline]
    pub(crate) fn session_bytes(&self, rng: &mut Sampler) -> (f64, f64) {
        let bytes_in = self.median_in * crate::rng::exp(self.sigma_in * rng.normal());
        let ratio = self.ratio * crate::rng::exp(self.sigma_ratio * rng.normal());
        (bytes_in, bytes_in * ratio)
    }
}

impl ClientPool {
    /// Builds `n` distinct regular clients (`n >= 1`).
    ///
    /// About one client in fourteen is a "heavy" client (bulk transfers in the megabytes with a
    /// small, stable out/in ratio), like the two such addresses of the seed file.
    pub(crate) fn new(n: usize, rng: &mut Sampler) -> Self {
        let country_cum = cumulative_weights(BENIGN_COUNTRIES);
        let mut seen = HashSet::with_capacity(n);
        let mut clients = Vec::with_capacity(n);
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0.0;
        for i in 0..n {
            let country = &BENIGN_COUNTRIES[rng.weighted(&country_cum)];
            let ip = loop {
                let prefix = country.prefixes[rng.index(country.prefixes.len())];
                let ip = address(prefix, rng);
                if seen.insert(ip) {
                    break ip;
                }
            };
            // Deterministic share of heavy clients: the 7th of every 14 (none in tiny pools).
            let heavy = i % 14 == 6;
            let client = if heavy {
                Client {
                    ip,
                    country: country.code,
                    median_in: rng.log_uniform(1.0e6, 2.0e7),
                    sigma_in: rng.uniform(0.01, 0.25),
                    ratio: rng.uniform(0.02, 0.08),
                    sigma_ratio: rng.uniform(0.01, 0.15),
                    heavy: true,
                }
            } else {
                Client::regular(
                    Host {
                        ip,
                        country: country.code,
                    },
                    rng,
                )
            };
            clients.push(client);
            total += rng.log_normal(1.0, 0.6);
            cumulative.push(total);
        }
        Self {
            clients,
            cumulative,
        }
    }
}

/// A fresh one-off background-noise address (always US, like the seed file's `65.49.1.*`).
pub(crate) fn noise_host(rng: &mut Sampler) -> Host {
    let prefix = NOISE_PREFIXES[rng.index(NOISE_PREFIXES.len())];
    Host {
        ip: address(prefix, rng),
        country: *b"US",
    }
}

/// Hands out distinct attacker addresses.
pub(crate) struct AttackerPool {
    country_cum: Vec<f64>,
    seen: HashSet<u32>,
}

impl AttackerPool {
    /// An empty pool.
    pub(crate) fn new() -> Self {
        Self {
            country_cum: cumulative_weights(ATTACKER_COUNTRIES),
            seen: HashSet::new(),
        }
    }

    /// A new attacker address never handed out before.
    pub(crate) fn fresh(&mut self, rng: &mut Sampler) -> Host {
        let country = &ATTACKER_COUNTRIES[rng.weighted(&self.country_cum)];
        loop {
            let prefix = country.prefixes[rng.index(country.prefixes.len())];
            let ip = address(prefix, rng);
            if self.seen.insert(ip) {
                return Host {
                    ip,
                    country: country.code,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_octets(countries: &[Country]) -> HashSet<u8> {
        countries
            .iter()
            .flat_map(|c| c.prefixes.iter().map(|p| p[0]))
            .collect()
    }

    #[test]
    fn roles_use_disjoint_first_octets() {
        let benign = first_octets(BENIGN_COUNTRIES);
        let attack = first_octets(ATTACKER_COUNTRIES);
        let noise: HashSet<u8> = NOISE_PREFIXES.iter().map(|p| p[0]).collect();
        assert!(benign.is_disjoint(&attack));
        assert!(benign.is_disjoint(&noise));
        assert!(attack.is_disjoint(&noise));
    }

    #[test]
    fn pool_is_distinct_and_weighted() {
        let mut rng = Sampler::new(5, 0);
        let pool = ClientPool::new(500, &mut rng);
        let ips: HashSet<u32> = pool.clients.iter().map(|c| c.ip).collect();
        assert_eq!(ips.len(), 500);
        assert_eq!(pool.cumulative.len(), 500);
        assert!(pool.cumulative.windows(2).all(|w| w[0] < w[1]));
        let us = pool.clients.iter().filter(|c| &c.country == b"US").count();
        assert!((120..240).contains(&us), "US clients: {us}");
    }
}
