//! Tests of GeoIP/ASN lookups on two small MaxMind databases made by `mmdb_writer` (a
//! City-shaped one and an ASN one) and committed in tests/fixtures.

mod mmdb_writer;

use mmdb_writer::Value::{self, Double, Map, Str, U32};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use webthreat_intel::{Geo, GeoDb, GeoInfo, IntelError, parse_ip};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn country(code: &'static str) -> Value {
    Map(vec![("iso_code", Str(code))])
}

/// The City-shaped database: `country`, `registered_country`, `city` and `location` as in
/// GeoLite2-City records (only the first two are read).
fn city_db() -> Vec<u8> {
    mmdb_writer::write(
        "GeoLite2-City",
        &[
            (
                "192.0.2.0",
                24,
                Map(vec![
                    (
                        "city",
                        Map(vec![("names", Map(vec![("en", Str("Berlin"))]))]),
                    ),
                    ("country", country("DE")),
                    (
                        "location",
                        Map(vec![
                            ("latitude", Double(52.5)),
                            ("longitude", Double(13.4)),
                        ]),
                    ),
                    ("registered_country", country("DE")),
                ]),
            ),
            // Only a registered country (as for some anycast and satellite networks).
            (
                "198.51.100.0",
                25,
                Map(vec![("registered_country", country("US"))]),
            ),
            ("203.0.113.0", 24, Map(vec![("country", country("JP"))])),
            ("2001:db8::", 32, Map(vec![("country", country("FR"))])),
        ],
    )
}

fn asn_db() -> Vec<u8> {
    let asn = |number: u32, org: &'static str| {
        Map(vec![
            ("autonomous_system_number", U32(number)),
            ("autonomous_system_organization", Str(org)),
        ])
    };
    mmdb_writer::write(
        "GeoLite2-ASN",
        &[
            ("192.0.2.0", 24, asn(64496, "Example Transit \u{1b}[31m")),
            ("203.0.113.128", 25, asn(64511, "Documentation Net")),
            ("2001:db8:1::", 48, asn(65551, "IPv6 Example")),
        ],
    )
}

#[test]
fn fixtures_are_what_the_generator_writes() {
    for (name, bytes) in [("geo-city.mmdb", city_db()), ("geo-asn.mmdb", asn_db())] {
        let path = fixture(name);
        if std::env::var_os("WEBTHREAT_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert!(bytes.len() < 4096, "{name}: {} bytes", bytes.len());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: regenerate with WEBTHREAT_WRITE_FIXTURES=1"
        );
        // The reader's own full check of tree, data section and metadata.
        maxminddb::Reader::from_source(bytes)
            .unwrap()
            .verify()
            .unwrap();
    }
}

fn ip(text: &str) -> IpAddr {
    parse_ip(text).unwrap()
}

fn info(country: Option<&str>, asn: Option<u32>, as_org: Option<&str>) -> GeoInfo {
    GeoInfo {
        country: country.map(str::to_string),
        asn,
        as_org: as_org.map(str::to_string),
    }
}

#[test]
fn one_database_answers_what_it_holds() {
    let city = GeoDb::open(fixture("geo-city.mmdb")).unwrap();
    assert_eq!(city.database_type(), "GeoLite2-City");
    assert_eq!(city.lookup(ip("192.0.2.9")), info(Some("DE"), None, None));
    assert_eq!(
        city.lookup(ip("::ffff:192.0.2.9")),
        info(Some("DE"), None, None)
    );
    assert_eq!(
        city.lookup(ip("198.51.100.5")),
        info(Some("US"), None, None),
        "registered country"
    );
    assert_eq!(city.lookup(ip("198.51.100.200")), GeoInfo::default());
    assert_eq!(
        city.lookup(ip("2001:db8:ffff::1")),
        info(Some("FR"), None, None)
    );
    assert_eq!(city.lookup(ip("2001:db9::1")), GeoInfo::default());

    let asn = GeoDb::open(fixture("geo-asn.mmdb")).unwrap();
    assert_eq!(asn.database_type(), "GeoLite2-ASN");
    assert_eq!(
        asn.lookup(ip("192.0.2.200")),
        info(None, Some(64496), Some("Example Transit \\u{1b}[31m")),
        "control characters of the organization are escaped"
    );
    assert_eq!(
        asn.lookup(ip("2001:db8:1::5")),
        info(None, Some(65551), Some("IPv6 Example"))
    );
}

#[test]
fn country_and_asn_databases_together() {
    let geo = Geo::open(
        Some(&fixture("geo-city.mmdb")),
        Some(&fixture("geo-asn.mmdb")),
    )
    .unwrap();
    assert_eq!(
        geo.lookup(ip("203.0.113.200")),
        info(Some("JP"), Some(64511), Some("Documentation Net"))
    );
    assert_eq!(geo.lookup(ip("203.0.113.5")), info(Some("JP"), None, None));
    assert_eq!(
        geo.lookup(ip("2001:db8:1::5")),
        info(Some("FR"), Some(65551), Some("IPv6 Example"))
    );
    assert_eq!(geo.lookup(ip("8.8.8.8")), GeoInfo::default());
    assert!(Geo::default().is_empty());
    assert_eq!(Geo::default().lookup(ip("192.0.2.1")), GeoInfo::default());
}

#[test]
fn a_file_that_is_no_database_is_an_error() {
    let err = GeoDb::open(fixture("plain.txt")).unwrap_err();
    assert!(matches!(err, IntelError::Geo { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("plain.txt: not a usable MaxMind database"),
        "{err}"
    );
    let err = GeoDb::open(fixture("missing.mmdb")).unwrap_err();
    assert!(matches!(err, IntelError::Io { .. }), "{err:?}");
}
