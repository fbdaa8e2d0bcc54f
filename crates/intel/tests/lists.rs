//! Integration tests of the list formats on small fixtures written from each format's
//! documentation (tests/fixtures), of Auto detection, of errors on malformed lines, of
//! allow-vs-block precedence and of lookup speed.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use webthreat_intel::{
    Intel, IntelError, IntelList, ListFormat, ListKind, ListSpec, NetworkSet, parse_ip,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn spec(name: &str, format: ListFormat) -> ListSpec {
    ListSpec {
        format,
        ..ListSpec::new(fixture(name))
    }
}

fn load(name: &str, format: ListFormat) -> IntelList {
    IntelList::load(&spec(name, format)).unwrap()
}

fn texts(list: &IntelList) -> Vec<(String, String, usize)> {
    list.items()
        .iter()
        .map(|e| (e.prefix.to_string(), e.text.clone(), e.line))
        .collect()
}

fn ip(text: &str) -> IpAddr {
    parse_ip(text).unwrap()
}

fn owned(rows: &[(&str, &str, usize)]) -> Vec<(String, String, usize)> {
    rows.iter()
        .map(|&(p, t, l)| (p.to_string(), t.to_string(), l))
        .collect()
}

#[test]
fn plain_list_with_comments_and_blank_lines() {
    let list = load("plain.txt", ListFormat::Plain);
    assert_eq!(
        (list.name.as_str(), list.kind, list.entries),
        ("plain", ListKind::Block, 5)
    );
    assert_eq!(
        texts(&list),
        owned(&[
            ("192.0.2.7/32", "192.0.2.7", 4),
            (
                "198.51.100.0/24",
                "198.51.100.0/24 (hosting range used by the crawler)",
                5
            ),
            (
                "203.0.113.0/28",
                "203.0.113.9/28 (written with host bits set: 203.0.113.0/28)",
                6
            ),
            ("2001:db8:bad::/48", "2001:db8:bad::/48", 8),
            ("2001:db8::dead/128", "2001:db8::dead (single IPv6 host)", 9),
        ])
    );
}

#[test]
fn firehol_netset() {
    let list = load("level1.netset", ListFormat::Netset);
    assert_eq!(list.entries, 4);
    assert_eq!(list.items()[0].line, 21);
    assert_eq!(list.items()[3].text, "203.0.113.200");
    let intel = Intel::from_lists(vec![list]).unwrap();
    assert_eq!(intel.lookup(ip("0.1.2.3")).unwrap().entry, "0.0.0.0/8");
    assert_eq!(
        intel
            .lookup(ip("198.19.255.255"))
            .unwrap()
            .prefix
            .to_string(),
        "198.18.0.0/15"
    );
    assert_eq!(intel.lookup(ip("192.0.2.127")), None);
}

#[test]
fn spamhaus_drop_text_and_json() {
    let text = load("drop.txt", ListFormat::SpamhausDrop);
    assert_eq!(
        texts(&text),
        owned(&[
            ("192.0.2.0/24", "192.0.2.0/24 (SBL000001)", 5),
            ("198.51.100.64/26", "198.51.100.64/26 (SBL000002)", 6),
            ("203.0.113.0/24", "203.0.113.0/24 (SBL000003)", 7),
        ])
    );
    let json = load("drop.json", ListFormat::SpamhausDrop);
    assert_eq!(
        texts(&json),
        owned(&[
            ("192.0.2.0/24", "192.0.2.0/24 (SBL000001)", 1),
            ("2001:db8:bad::/48", "2001:db8:bad::/48 (SBL000004)", 2),
        ])
    );
}

#[test]
fn abusech_csv_by_default_column_and_named_column() {
    let feodo = load("ipblocklist.csv", ListFormat::AbuseChCsv);
    assert_eq!(
        texts(&feodo),
        owned(&[
            ("192.0.2.50/32", "192.0.2.50 (QakBot)", 9),
            ("198.51.100.77/32", "198.51.100.77 (Dridex)", 10),
            ("203.0.113.99/32", "203.0.113.99 (TrickBot)", 11),
        ])
    );

    let err = IntelList::load(&spec("threats.csv", ListFormat::Auto)).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, IntelError::Header { line: 2, .. }),
        "{message}"
    );
    assert!(message.contains("no address column"), "{message}");
    assert!(message.contains("`host`"), "{message}");

    let named = IntelList::load(&ListSpec {
        column: Some("host".into()),
        ..spec("threats.csv", ListFormat::Auto)
    })
    .unwrap();
    assert_eq!(named.entries, 2);
    assert_eq!(named.items()[1].text, "2001:db8::60 (Emotet)");

    let err = IntelList::load(&ListSpec {
        column: Some("nope".into()),
        ..spec("threats.csv", ListFormat::AbuseChCsv)
    })
    .unwrap_err();
    assert!(err.to_string().contains("no column named `nope`"), "{err}");
}

#[test]
fn auto_detection_chooses_each_format() {
    for (name, format) in [
        ("plain.txt", ListFormat::Plain),
        ("level1.netset", ListFormat::Netset),
        ("drop.txt", ListFormat::SpamhausDrop),
        ("drop.json", ListFormat::SpamhausDrop),
        ("ipblocklist.csv", ListFormat::AbuseChCsv),
    ] {
        let auto = load(name, ListFormat::Auto);
        assert_eq!(auto.format, format, "{name}");
        assert_eq!(texts(&auto), texts(&load(name, format)), "{name}");
    }
}

/// The error of loading `name` in `format`, with its display.
fn load_error(name: &str, format: ListFormat) -> (IntelError, String) {
    let err = IntelList::load(&spec(name, format)).unwrap_err();
    let shown = err.to_string();
    (err, shown)
}

#[test]
fn malformed_lines_name_file_line_and_escaped_value() {
    let (err, shown) = load_error("bad-plain.txt", ListFormat::Auto);
    assert!(
        matches!(&err, IntelError::Line { line: 2, value, .. } if value == "192.0.2.\u{1b}2J"),
        "{err:?}"
    );
    let path = fixture("bad-plain.txt").display().to_string();
    assert_eq!(
        shown,
        format!(
            "{path}:2: `192.0.2.\\u{{1b}}2J`: expected an IP address or a CIDR such as 192.0.2.0/24"
        )
    );
    assert!(!shown.contains('\u{1b}'));

    let (_, shown) = load_error("bad-drop.txt", ListFormat::Auto);
    assert!(
        shown.ends_with(
            "bad-drop.txt:3: `192.0.2.0/33`: expected a CIDR, then `; SBL id` (Spamhaus DROP)"
        ),
        "{shown}"
    );

    let (_, shown) = load_error("bad-abusech.csv", ListFormat::Auto);
    assert!(
        shown.ends_with(
            "bad-abusech.csv:3: `not-an-ip\\u{1b}]0;pwned\\u{7}`: expected an IP address or a \
             CIDR such as 192.0.2.0/24 in column `dst_ip` (field 1)"
        ),
        "{shown}"
    );

    // A format forced on the wrong file fails at its first line that is not an entry.
    let (_, shown) = load_error("drop.txt", ListFormat::Plain);
    assert!(
        shown.contains("drop.txt:1: `; Spamhaus DROP List"),
        "{shown}"
    );
    let (_, shown) = load_error("ipblocklist.csv", ListFormat::Plain);
    assert!(
        shown.contains("ipblocklist.csv:8: `\"first_seen_utc\",\"dst_ip\""),
        "{shown}"
    );

    let err = IntelList::load(&ListSpec::new(fixture("missing.txt"))).unwrap_err();
    assert!(matches!(err, IntelError::Io { .. }), "{err:?}");
}

#[test]
fn malformed_json_drop_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drop.json");
    std::fs::write(&path, "{\"cidr\":\"192.0.2.0/24\"}\n{\"sblid\":\"SBL9\"}\n").unwrap();
    let err = IntelList::load(&ListSpec::new(&path))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with(":2: `{\"sblid\":\"SBL9\"}`: expected a JSON object with a \"cidr\" field (Spamhaus DROP JSON)"), "{err}");
    std::fs::write(&path, "{\"cidr\":\"192.0.2.0/24\"\n").unwrap();
    let err = IntelList::load(&ListSpec::new(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains(":1: "), "{err}");
}

fn all_lists() -> Intel {
    Intel::load(&[
        ListSpec::new(fixture("drop.txt")),
        ListSpec::new(fixture("ipblocklist.csv")),
        ListSpec::new(fixture("level1.netset")),
        ListSpec {
            name: Some("drop6".into()),
            ..ListSpec::new(fixture("drop.json"))
        },
        ListSpec {
            kind: ListKind::Allow,
            name: Some("ours".into()),
            ..ListSpec::new(fixture("allow.txt"))
        },
    ])
    .unwrap()
}

#[test]
fn allow_wins_over_block_and_every_hit_is_listed() {
    let intel = all_lists();
    assert_eq!(intel.lists().len(), 5);

    // 192.0.2.7 is on DROP (192.0.2.0/24) and on the allowlist.
    let scanner = ip("192.0.2.7");
    let verdict = intel.lookup(scanner).unwrap();
    assert_eq!(
        (verdict.list, verdict.kind, verdict.entry),
        ("ours", ListKind::Allow, "192.0.2.7 (our scanner)")
    );
    assert!(intel.is_allowed(scanner));
    assert_eq!(intel.blocked(scanner), None);
    let all: Vec<(&str, ListKind, String)> = intel
        .lookup_all(scanner)
        .iter()
        .map(|h| (h.list, h.kind, h.prefix.to_string()))
        .collect();
    assert_eq!(
        all,
        [
            ("ours", ListKind::Allow, "192.0.2.7/32".to_string()),
            ("drop", ListKind::Block, "192.0.2.0/24".to_string()),
            ("drop6", ListKind::Block, "192.0.2.0/24".to_string()),
        ]
    );

    // The Feodo host inside the DROP /24: the longest prefix wins.
    let c2 = intel.blocked(ip("192.0.2.50")).unwrap();
    assert_eq!((c2.list, c2.entry), ("ipblocklist", "192.0.2.50 (QakBot)"));
    // Inside DROP's /24 and the netset's /25: the /25.
    assert_eq!(intel.lookup(ip("192.0.2.200")).unwrap().list, "level1");
    // IPv6, and IPv4 written as a mapped IPv6 address.
    assert_eq!(intel.blocked(ip("2001:db8:bad::1")).unwrap().list, "drop6");
    assert!(intel.is_allowed(ip("2001:db8::dead")));
    assert_eq!(
        intel.blocked(ip("::ffff:203.0.113.99")).unwrap().entry,
        "203.0.113.99 (TrickBot)"
    );
    assert_eq!(intel.lookup(ip("8.8.8.8")), None);
    assert_eq!(intel.content_hash().len(), 64);
    assert_eq!(intel.content_hash(), all_lists().content_hash());
}

#[test]
fn specs_read_from_yaml_with_defaults_and_unknown_keys_refused() {
    let specs: Vec<ListSpec> = serde_yaml::from_str(
        "- path: lists/drop.txt\n\
         - path: lists/ipblocklist.csv\n  name: feodo\n  kind: block\n  format: abusech_csv\n  column: dst_ip\n\
         - path: ours.txt\n  kind: allow\n  format: spamhaus_drop\n\
         - path: a.netset\n  format: netset\n\
         - path: b.txt\n  format: plain\n",
    )
    .unwrap();
    assert_eq!(specs[0], ListSpec::new("lists/drop.txt"));
    assert_eq!(specs[1].name.as_deref(), Some("feodo"));
    assert_eq!(specs[1].format, ListFormat::AbuseChCsv);
    assert_eq!(specs[1].column.as_deref(), Some("dst_ip"));
    assert_eq!(
        (specs[2].kind, specs[2].format),
        (ListKind::Allow, ListFormat::SpamhausDrop)
    );
    assert_eq!(specs[3].format, ListFormat::Netset);
    assert_eq!(specs[4].format, ListFormat::Plain);
    let back: Vec<ListSpec> =
        serde_yaml::from_str(&serde_yaml::to_string(&specs).unwrap()).unwrap();
    assert_eq!(back, specs);

    let err = serde_yaml::from_str::<ListSpec>("path: a.txt\nkinds: allow\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `kinds`"), "{err}");
    let err = serde_yaml::from_str::<ListSpec>("path: a.txt\nformat: csv\n").unwrap_err();
    assert!(err.to_string().contains("unknown variant `csv`"), "{err}");
}

#[test]
fn network_sets_from_config_values() {
    let set = NetworkSet::parse(&[
        "10.1.2.3/8".to_string(),
        "2001:db8::1".into(),
        " 192.0.2.1 ".into(),
    ])
    .unwrap();
    assert_eq!(
        set.cidrs(),
        ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::1/128"]
    );
    assert!(set.contains(ip("::ffff:10.200.0.1")));
    assert!(!set.contains(ip("2001:db8::2")));
    assert!(NetworkSet::private().contains(ip("fd12:3456::1")));
}

#[test]
fn lookups_are_fast() {
    // A blocklist of 20,000 networks (/16../32 over the IPv4 space, seeded arithmetic), then a
    // million lookups; a loose bound that only a per-lookup scan would miss.
    let mut text = String::new();
    let mut x: u32 = 0x9E37_79B9;
    for i in 0..20_000u32 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let len = 16 + i % 17;
        text.push_str(&format!("{}/{len}\n", std::net::Ipv4Addr::from(x)));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, text).unwrap();
    let intel = Intel::load(&[ListSpec::new(&path)]).unwrap();
    assert_eq!(intel.lists()[0].entries, 20_000);

    let start = std::time::Instant::now();
    let mut hits = 0usize;
    let mut y: u32 = 12345;
    for _ in 0..1_000_000 {
        y = y.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
        if intel.lookup(IpAddr::from(y.to_be_bytes())).is_some() {
            hits += 1;
        }
    }
    let elapsed = start.elapsed();
    assert!(hits > 0);
    assert!(elapsed.as_secs_f64() < 2.0, "1e6 lookups took {elapsed:?}");
    eprintln!("1e6 lookups: {elapsed:?}, {hits} hits");
}
