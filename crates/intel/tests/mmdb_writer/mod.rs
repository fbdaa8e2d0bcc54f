//! A minimal writer of MaxMind DB (format version 2.0) files, written from the published
//! specification (<https://maxmind.github.io/MaxMind-DB/>), to make the small test databases in
//! `tests/fixtures/` (`geo.rs` checks that the committed files are what this writes, and
//! rewrites them when `WEBTHREAT_WRITE_FIXTURES=1`: run
//! `cargo test -p webthreat-intel --release --test geo -- fixtures_are` so no other test reads
//! a file being written).
//!
//! It writes an IPv6 tree (IPv4 networks at `::a.b.c.d/96+len`) with 24-bit records: one
//! search-tree node is two 3-byte big-endian records (left = bit 0, right = bit 1); a record
//! equal to the node count means "no data", a larger one points into the data section at
//! `record - node_count - 16`. Then come 16 zero bytes, the data section (one record per
//! network), and the metadata marker `\xAB\xCD\xEFMaxMind.com` followed by the metadata map.

use std::net::IpAddr;

/// A value of the MaxMind DB data section (only the types the fixtures need).
#[derive(Clone, Debug)]
pub enum Value {
    Str(&'static str),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'static str, Value)>),
    Array(Vec<Value>),
}

/// The type number of a control byte whose type is in the next byte (types 8 and up).
const EXTENDED: u8 = 0;
const STRING: u8 = 2;
const DOUBLE: u8 = 3;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

/// A control byte (and extended-type byte, and size bytes) for `kind` and `size`.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec())
    };
    if kind <= 7 {
        out.push((kind << 5) | bits);
    } else {
        out.push((EXTENDED << 5) | bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

/// An unsigned integer in as few big-endian bytes as it needs (zero in none).
fn unsigned(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    control(out, kind, bytes.len() - first);
    out.extend(&bytes[first..]);
}

pub fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            control(out, STRING, s.len());
            out.extend(s.as_bytes());
        }
        Value::Double(x) => {
            control(out, DOUBLE, 8);
            out.extend(x.to_be_bytes());
        }
        Value::U16(x) => unsigned(out, UINT16, &x.to_be_bytes()),
        Value::U32(x) => unsigned(out, UINT32, &x.to_be_bytes()),
        Value::U64(x) => unsigned(out, UINT64, &x.to_be_bytes()),
        Value::Map(pairs) => {
            control(out, MAP, pairs.len());
            for (key, value) in pairs {
                encode(out, &Value::Str(key));
                encode(out, value);
            }
        }
        Value::Array(items) => {
            control(out, ARRAY, items.len());
            for item in items {
                encode(out, item);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// Writes a database of `database_type` holding `networks` (address, prefix length, record);
/// networks must not overlap.
pub fn write(database_type: &'static str, networks: &[(&str, u8, Value)]) -> Vec<u8> {
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    let mut data = Vec::new();
    for (address, len, value) in networks {
        let (bits, len): (u128, u8) = match address.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + len),
            IpAddr::V6(v6) => (u128::from(v6), *len),
        };
        assert!(len > 0 && len <= 128);
        let offset = data.len();
        encode(&mut data, value);
        let mut node = 0;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth == len - 1 {
                assert!(
                    nodes[node][bit] == Record::Empty,
                    "{address}/{len} overlaps"
                );
                nodes[node][bit] = Record::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(next) => next,
                    Record::Empty => {
                        nodes.push([Record::Empty; 2]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Record::Node(next);
                        next
                    }
                    Record::Data(_) => panic!("{address}/{len} is inside another network"),
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => count,
                Record::Node(next) => next,
                Record::Data(offset) => count + 16 + offset,
            };
            out.extend(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    let metadata = Value::Map(vec![
        ("binary_format_major_version", Value::U16(2)),
        ("binary_format_minor_version", Value::U16(0)),
        // Fixed, so the file is reproducible: 2025-01-06T00:00:00Z.
        ("build_epoch", Value::U64(1_736_121_600)),
        ("database_type", Value::Str(database_type)),
        (
            "description",
            Value::Map(vec![("en", Value::Str("webthreat test database"))]),
        ),
        ("ip_version", Value::U16(6)),
        ("languages", Value::Array(vec![Value::Str("en")])),
        ("node_count", Value::U32(count as u32)),
        ("record_size", Value::U16(24)),
    ]);
    encode(&mut out, &metadata);
    out
}
