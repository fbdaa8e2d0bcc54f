//! GeoIP and ASN lookups over MaxMind DB (`.mmdb`) files with the `maxminddb` crate:
//! [`GeoDb`] is one database, [`Geo`] a country database and an ASN database used together.
//!
//! The fields read are those of MaxMind's GeoLite2/GeoIP2 schemas: `country.iso_code` (falling
//! back to `registered_country.iso_code`, which City and Country databases also carry) from a
//! Country or City database, and `autonomous_system_number` /
//! `autonomous_system_organization` from an ASN database. Any other field is ignored, so a
//! database of any of these types (or one record carrying all the fields) serves.

use crate::error::IntelError;
use maxminddb::Reader;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use webthreat_core::text::visible;

/// What the databases know of an address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 code of the country (`DE`).
    pub country: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Autonomous system organization (control and bidirectional characters escaped).
    pub as_org: Option<String>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

/// The fields read from a record; the rest of it is skipped.
#[derive(Deserialize)]
struct Record {
    country: Option<Country>,
    registered_country: Option<Country>,
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<String>,
}

/// One MaxMind database, read into memory.
pub struct GeoDb {
    path: PathBuf,
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("path", &self.path)
            .field("database_type", &self.database_type())
            .finish()
    }
}

impl GeoDb {
    /// Opens the database at `path` (read whole into memory; its metadata checked).
    pub fn open(path: impl AsRef<Path>) -> Result<GeoDb, IntelError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| IntelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, bytes)
    }

    /// The database of a file's `bytes` (`path` names it in errors and reports).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<GeoDb, IntelError> {
        let reader = Reader::from_source(bytes).map_err(|e| IntelError::Geo {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(GeoDb {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// The database's type from its metadata (`GeoLite2-Country`, `GeoLite2-ASN`...).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The database's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the database knows of `ip`; an IPv4-mapped IPv6 address is looked up as its IPv4
    /// address. An address the database does not hold, an IPv6 address in an IPv4-only
    /// database, and a record the reader cannot decode all give an empty [`GeoInfo`] (see
    /// [`GeoDb::try_lookup`] to tell them apart).
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        self.try_lookup(ip).unwrap_or_default()
    }

    /// As [`GeoDb::lookup`], with a damaged record or an IPv6 address in an IPv4-only database
    /// as an error.
    pub fn try_lookup(&self, ip: IpAddr) -> Result<GeoInfo, IntelError> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        let error = |e: maxminddb::MaxMindDbError| IntelError::Geo {
            path: self.path.clone(),
            message: format!("looking up {ip}: {e}"),
        };
        let found = self.reader.lookup(ip).map_err(error)?;
        let Some(record) = found.decode::<Record>().map_err(error)? else {
            return Ok(GeoInfo::default());
        };
        let country = record
            .country
            .and_then(|c| c.iso_code)
            .or_else(|| record.registered_country.and_then(|c| c.iso_code))
            .map(|code| visible(&code).into_owned());
        Ok(GeoInfo {
            country,
            asn: record.autonomous_system_number,
            as_org: record
                .autonomous_system_organization
                .map(|org| visible(&org).into_owned()),
        })
    }
}

/// A country database and an ASN database, either optional; a lookup merges their answers
/// (country from the country database, AS number and organization from the ASN database,
/// each falling back to the other database when only one is given or it lacks the field).
#[derive(Debug, Default)]
pub struct Geo {
    /// A GeoLite2/GeoIP2 Country or City database.
    pub country: Option<GeoDb>,
    /// A GeoLite2/GeoIP2 ASN database.
    pub asn: Option<GeoDb>,
}

impl Geo {
    /// Opens the databases given.
    pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<Geo, IntelError> {
        Ok(Geo {
            country: country.map(GeoDb::open).transpose()?,
            asn: asn.map(GeoDb::open).transpose()?,
        })
    }

    /// What the databases know of `ip`.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let from_country = self.country.as_ref().map(|db| db.lookup(ip));
        let from_asn = self.asn.as_ref().map(|db| db.lookup(ip));
        match (from_country, from_asn) {
            (None, None) => GeoInfo::default(),
            (Some(one), None) | (None, Some(one)) => one,
            (Some(c), Some(a)) => GeoInfo {
                country: c.country.or(a.country),
                asn: a.asn.or(c.asn),
                as_org: a.as_org.or(c.as_org),
            },
        }
    }

    /// Whether no database was given.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }
}
