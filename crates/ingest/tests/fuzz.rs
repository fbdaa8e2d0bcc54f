//! Fuzz-style tests of the reader (proptest, a bounded number of cases): any byte-level
//! mutation of a valid log of each format is read, or fails with an error naming the file
//! (and, for a bad value or record, its line); never a panic, a hang or an unbounded read.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use webthreat_ingest::{Format, IngestError, LabelSpec, SourceSpec, read_log, read_log_batches};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The header and first rows of the bundled sample (a CloudWatch export with labels).
fn cloudwatch_sample() -> Vec<u8> {
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample.csv")).unwrap();
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').take(21).collect();
    lines.join(&b'\n')
}

/// One edit: replace, insert or delete a byte at a position (taken modulo the length).
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // bytes that matter to the readers are drawn more often than others
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            b',', b'\t', b' ', b'"', b'\n', b'\r', b'-', b'#', b'{', 0u8, 0xFF
        ]),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match *e {
            Edit::Replace(at, b) if !bytes.is_empty() => bytes[at % n] = b,
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at % n);
            }
            _ => {}
        }
    }
    bytes
}

fn spec(path: &Path, case: usize) -> SourceSpec {
    let (format, label) = match case {
        0 => (Format::Cloudwatch, Some("label")),
        1 => (Format::Zeek, None),
        2 => (Format::Vpcflow, None),
        _ => (Format::Alb, None),
    };
    let mut spec = SourceSpec::new(path, format);
    spec.label = label.map(|l| LabelSpec::Column(l.into()));
    spec
}

fn base(case: usize) -> Vec<u8> {
    match case {
        0 => cloudwatch_sample(),
        1 => std::fs::read(fixture("zeek_conn.log")).unwrap(),
        2 => std::fs::read(fixture("vpc_custom.log")).unwrap(),
        _ => std::fs::read(fixture("alb.log")).unwrap(),
    }
}

fn check_error(e: &IngestError, path: &Path) {
    let message = e.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    if matches!(
        e,
        IngestError::BadValue { .. } | IngestError::BadRecord { .. }
    ) {
        assert!(message.contains("line "), "{message}");
    }
    assert!(message.len() < 10_000, "a {} byte message", message.len());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // a fixed seed: CI runs the same cases every time (change it to explore others)
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_logs_read_or_fail_with_a_located_error(
        case in 0usize..4,
        edits in prop::collection::vec(edit(), 1..12),
        batch in prop::option::of(1usize..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, apply(base(case), &edits)).unwrap();
        let spec = spec(&path, case);
        let clock = Instant::now();
        match batch {
            None => {
                if let Err(e) = read_log(&spec) {
                    check_error(&e, &path);
                }
            }
            Some(rows) => match read_log_batches(&spec, rows) {
                Err(e) => check_error(&e, &path),
                Ok(batches) => {
                    for b in batches {
                        if let Err(e) = b {
                            check_error(&e, &path);
                            break;
                        }
                    }
                }
            },
        }
        prop_assert!(clock.elapsed() < Duration::from_secs(2));
    }
}
