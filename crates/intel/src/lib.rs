//! Threat intelligence for webthreat: lists of known-bad (and known-good) addresses, the
//! networks of a site, and optional GeoIP/ASN lookups.
//!
//! - [`networks`]: [`PrefixTable`] (longest-prefix match over IPv4 and IPv6 CIDRs) and
//!   [`NetworkSet`] (the internal networks, [`NetworkSet::private`] by default).
//! - [`formats`]: the list file formats ([`ListFormat`]: plain, FireHOL netset, Spamhaus
//!   DROP text and JSON, abuse.ch CSV) and their parsers.
//! - [`lists`]: [`ListSpec`] (a config entry), [`IntelList`] (one file), [`Intel`] (every list,
//!   looked up per address; allowlists win over blocklists).
//! - [`geo`]: [`GeoDb`] and [`Geo`] over MaxMind `.mmdb` databases (country, ASN).
//!
//! List files and databases are attacker-controlled: errors name the file and line and quote
//! values through [`webthreat_core::text::visible`]; entry notes are stored escaped the same
//! way. Nothing here is random or depends on the order of a hash map.

pub mod error;
pub mod formats;
pub mod geo;
pub mod lists;
pub mod networks;

pub use error::IntelError;
pub use formats::{ListEntry, ListFormat};
pub use geo::{Geo, GeoDb, GeoInfo};
pub use lists::{Intel, IntelHit, IntelList, ListKind, ListSpec, parse_ip};
pub use networks::{NetworkSet, PrefixTable, parse_net};
