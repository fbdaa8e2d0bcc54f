//! Integration tests of the native formats on small fixtures written from each format's
//! documentation (tests/fixtures), and of many-file and compressed logs.

use polars::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use webthreat_ingest::{
    Format, IngestError, LabelSpec, LogTable, MissingPolicy, SourceSpec, canonical, read_log,
    read_log_batches,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn floats(t: &LogTable, column: &str) -> Vec<Option<f64>> {
    t.df.column(column).unwrap().f64().unwrap().iter().collect()
}

fn texts(t: &LogTable, column: &str) -> Vec<Option<String>> {
    let c = t.df.column(column).unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|v| v.map(String::from))
        .collect()
}

fn ints(t: &LogTable, column: &str) -> Vec<Option<i64>> {
    let c = t.df.column(column).unwrap().cast(&DataType::Int64).unwrap();
    c.i64().unwrap().iter().collect()
}

fn bad_value(err: IngestError) -> webthreat_ingest::RowProblem {
    match err {
        IngestError::BadValue { first, .. } => *first,
        other => panic!("expected BadValue, got {other}"),
    }
}

#[test]
fn zeek_tsv_maps_conn_fields_and_fills_unset_ones() {
    let t = read_log(&SourceSpec::new(fixture("zeek_conn.log"), Format::Zeek)).unwrap();
    assert_eq!((t.rows(), t.rejected.len()), (3, 0));
    assert_eq!(
        floats(&t, canonical::BYTES_IN),
        [Some(244.0), Some(0.0), Some(35.0)]
    );
    assert_eq!(
        floats(&t, canonical::PACKETS_OUT),
        [Some(4.0), Some(0.0), Some(1.0)]
    );
    assert_eq!(
        ints(&t, canonical::DST_PORT),
        [Some(88), Some(449), Some(53)]
    );
    assert_eq!(ints(&t, canonical::SRC_PORT)[0], Some(49159));
    assert_eq!(texts(&t, canonical::SERVICE)[1], None);
    assert_eq!(texts(&t, canonical::CONN_STATE)[1].as_deref(), Some("S0"));
    // ts in epoch seconds to ms; the end is ts + duration (a missing duration reads as 0)
    let start = ints(&t, canonical::START_TIME);
    let end = ints(&t, canonical::END_TIME);
    assert_eq!(start[0], Some(1_541_117_137_618));
    assert_eq!(end[0], Some(1_541_117_137_618 + 14));
    assert_eq!(end[1], start[1]);
    let zeroed: Vec<(&str, u64)> = t
        .missing
        .iter()
        .filter(|m| m.policy == MissingPolicy::Zero)
        .map(|m| (m.column.as_str(), m.count))
        .collect();
    assert_eq!(
        zeroed,
        [("duration", 1), ("orig_bytes", 1), ("resp_bytes", 1)]
    );
    // unmapped text (uid, history) is only summarised; `(empty)` is a null token
    assert!(t.is_text_column("history"));
}

#[test]
fn zeek_json_lines_read_as_the_tsv_log() {
    let tsv = read_log(&SourceSpec::new(fixture("zeek_conn.log"), Format::Zeek)).unwrap();
    let json = read_log(&SourceSpec::new(fixture("zeek_conn.json"), Format::Zeek)).unwrap();
    for column in tsv.df.get_column_names() {
        let (a, b) = (
            tsv.df.column(column).unwrap(),
            json.df.column(column).unwrap(),
        );
        assert!(a.equals_missing(b), "{column}: {a:?} vs {b:?}");
    }
    assert_eq!(tsv.missing, json.missing);
}

#[test]
fn zeek_errors_name_file_line_column_value_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("zeek_conn.log")).unwrap();
    std::fs::write(dir.path().join("a.log"), &text).unwrap();
    // the third record of the second file has a port that is not one
    let bad = text.replace("\t53\tudp", "\t53x\tudp");
    std::fs::write(dir.path().join("b.log"), bad).unwrap();
    let err = read_log(&SourceSpec::new(dir.path(), Format::Zeek)).unwrap_err();
    let message = err.to_string();
    let p = bad_value(err);
    assert_eq!(p.file.as_path(), dir.path().join("b.log"));
    assert_eq!((p.line, p.row), (11, 5));
    assert_eq!((p.column.as_str(), p.value.as_str()), ("id.resp_p", "53x"));
    assert!(
        message.contains(
            "b.log: line 11 (data row 5), column `id.resp_p`: value `53x`: expected an integer port"
        ),
        "{message}"
    );
    // a missing time fails by default, naming the policy that would accept it
    let no_time = text.replace("1541117141.500000", "-");
    std::fs::write(dir.path().join("b.log"), no_time).unwrap();
    let p = bad_value(read_log(&SourceSpec::new(dir.path(), Format::Zeek)).unwrap_err());
    assert_eq!(
        (p.line, p.column.as_str(), p.value.as_str()),
        (11, "ts", "-")
    );
    assert!(
        p.expected.contains("epoch seconds") && p.expected.contains("missing"),
        "{}",
        p.expected
    );
}

#[test]
fn vpc_default_fields_and_nodata_records_are_rejected_not_dropped() {
    let t = read_log(&SourceSpec::new(
        fixture("vpc_default.log"),
        Format::Vpcflow,
    ))
    .unwrap();
    assert_eq!(t.source_rows, 5);
    assert_eq!(t.rows(), 3);
    // the NODATA / SKIPDATA records' missing values are not counted as filled in
    assert!(t.missing.is_empty(), "{:?}", t.missing);
    let rejected: Vec<(u64, u64)> = t
        .rejected
        .iter()
        .map(|r| (r.row, r.problems[0].line))
        .collect();
    assert_eq!(rejected, [(2, 3), (3, 4)]);
    assert!(t.rejected.iter().all(|r| r.problems.iter().all(|p| p.skip)));
    assert_eq!(
        texts(&t, canonical::SRC_IP)[1].as_deref(),
        Some("172.31.9.69")
    );
    assert_eq!(texts(&t, canonical::ACTION)[1].as_deref(), Some("REJECT"));
    assert_eq!(
        floats(&t, canonical::BYTES_IN),
        [Some(4249.0), Some(4249.0), Some(336.0)]
    );
    assert_eq!(ints(&t, canonical::START_TIME)[0], Some(1_418_530_010_000));
    assert_eq!(ints(&t, canonical::END_TIME)[0], Some(1_418_530_070_000));
}

#[test]
fn vpc_custom_field_list_from_the_header_line() {
    let t = read_log(&SourceSpec::new(fixture("vpc_custom.log"), Format::Vpcflow)).unwrap();
    assert_eq!((t.source_rows, t.rows(), t.rejected.len()), (3, 2, 1));
    assert_eq!(t.rejected[0].problems[0].line, 4);
    assert_eq!(ints(&t, canonical::DST_PORT), [Some(5001), Some(43416)]);
    assert_eq!(floats(&t, canonical::PACKETS_IN), [Some(8.0), Some(7.0)]);
    assert_eq!(floats(&t, canonical::BYTES_IN), [Some(568.0), Some(376.0)]);
}

#[test]
fn alb_quoted_fields_and_address_port_pairs() {
    let mut spec = SourceSpec::new(fixture("alb.log"), Format::Alb);
    spec.numeric = vec!["elb_status_code".into()];
    let t = read_log(&spec).unwrap();
    assert_eq!((t.rows(), t.rejected.len()), (3, 0));
    assert_eq!(
        texts(&t, canonical::SRC_IP),
        [
            Some("192.168.131.39".into()),
            Some("2001:db8::1".into()),
            Some("10.0.1.252".into())
        ]
    );
    assert_eq!(
        ints(&t, canonical::SRC_PORT),
        [Some(2817), Some(2817), Some(48160)]
    );
    // no target: the address stays missing, the port reads as 0
    assert_eq!(texts(&t, canonical::DST_IP)[1], None);
    assert_eq!(
        ints(&t, canonical::DST_PORT),
        [Some(80), Some(0), Some(9000)]
    );
    assert_eq!(
        floats(&t, "elb_status_code"),
        [Some(200.0), Some(460.0), Some(200.0)]
    );
    assert_eq!(
        floats(&t, canonical::BYTES_OUT),
        [Some(366.0), Some(0.0), Some(257.0)]
    );
    let start = ints(&t, canonical::START_TIME);
    let end = ints(&t, canonical::END_TIME);
    assert_eq!(end[0].unwrap() - start[0].unwrap(), 11_822);
    // the quoted user agent with spaces is one field: the record has 30 named fields
    assert!(t.is_text_column("user_agent") && t.is_text_column("conn_trace_id"));
}

#[test]
fn a_zeek_derived_csv_with_epoch_times_missing_values_and_mixed_case_labels() {
    let mut spec = SourceSpec::table(fixture("zeek_derived.csv"));
    spec.columns.start_time = Some("ts".into());
    spec.columns.duration = Some("duration".into());
    spec.columns.bytes_in = Some("orig_bytes".into());
    spec.columns.bytes_out = Some("resp_bytes".into());
    spec.columns.dst_port = Some("dport".into());
    spec.columns.service = Some("service".into());
    spec.label =
        Some(LabelSpec::mapped("Label".into(), None, Some(vec!["normal".into()])).unwrap());
    let t = read_log(&spec).unwrap();
    assert_eq!((t.rows(), t.rejected.len()), (4, 0));
    let labels: Vec<Option<bool>> =
        t.df.column("label")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
    assert_eq!(labels, [Some(false), Some(true), Some(false), Some(true)]);
    assert_eq!(
        floats(&t, canonical::BYTES_IN),
        [Some(244.0), Some(0.0), Some(35.0), Some(0.0)]
    );
    assert_eq!(ints(&t, canonical::START_TIME)[3], Some(1_541_117_142_000));
    // `missing: skip` rejects the rows instead, into the rejects list, with `on_bad_rows: fail`
    spec.missing
        .insert("orig_bytes".into(), MissingPolicy::Skip);
    let t = read_log(&spec).unwrap();
    let rejected: Vec<(u64, &str)> = t
        .rejected
        .iter()
        .map(|r| (r.problems[0].line, r.problems[0].value.as_str()))
        .collect();
    assert_eq!(rejected, [(3, ""), (5, "-")]);
    // `fail` stops at the first
    spec.missing
        .insert("orig_bytes".into(), MissingPolicy::Fail);
    let p = bad_value(read_log(&spec).unwrap_err());
    assert_eq!(
        (p.line, p.column.as_str(), p.value.as_str()),
        (3, "orig_bytes", "")
    );
}

#[test]
fn compressed_and_split_logs_read_as_the_one_file() {
    let whole = read_log(&SourceSpec::new(fixture("zeek_conn.log"), Format::Zeek)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("zeek_conn.log")).unwrap();
    let gz = dir.path().join("conn.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zst = dir.path().join("conn.zst");
    std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
    // split: the directives repeated in each file, records shared out
    let split = dir.path().join("split");
    std::fs::create_dir(&split).unwrap();
    let (head, records): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('#'));
    for (i, part) in records.chunks(2).enumerate() {
        let body: Vec<&str> = head.iter().copied().chain(part.iter().copied()).collect();
        std::fs::write(split.join(format!("conn.{i}.log")), body.join("\n") + "\n").unwrap();
    }
    let glob = split.join("conn.*.log");
    for (path, same_bytes) in [
        (gz, true),
        (zst, true),
        (split.clone(), false),
        (glob, false),
    ] {
        let t = read_log(&SourceSpec::new(&path, Format::Zeek)).unwrap();
        assert!(t.df.equals_missing(&whole.df), "{}", path.display());
        assert_eq!(t.missing, whole.missing);
        // the fingerprint is of the decoded bytes: a compressed copy has the plain file's
        assert_eq!(
            t.file_blake3 == whole.file_blake3,
            same_bytes,
            "{}",
            path.display()
        );
    }
    // batches of every format, across files
    let batches: Vec<LogTable> = read_log_batches(&SourceSpec::new(&split, Format::Zeek), 1)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(batches.len(), 3);
    let ids: Vec<u64> = batches
        .iter()
        .flat_map(|b| {
            b.df.column("row_id")
                .unwrap()
                .u64()
                .unwrap()
                .into_no_null_iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[test]
fn every_native_format_streams_in_batches_like_a_whole_read() {
    for (name, format) in [
        ("zeek_conn.log", Format::Zeek),
        ("zeek_conn.json", Format::Zeek),
        ("vpc_default.log", Format::Vpcflow),
        ("vpc_custom.log", Format::Vpcflow),
        ("alb.log", Format::Alb),
    ] {
        let spec = SourceSpec::new(fixture(name), format);
        let whole = read_log(&spec).unwrap();
        let mut rows = 0;
        let mut rejected = 0;
        for batch in read_log_batches(&spec, 2).unwrap() {
            let batch = batch.unwrap();
            let ids = batch.df.column("row_id").unwrap().u64().unwrap().clone();
            let want = whole
                .df
                .column("row_id")
                .unwrap()
                .u64()
                .unwrap()
                .slice(rows as i64, batch.rows());
            assert!(ids.equal_missing(&want).all(), "{name}");
            rows += batch.rows();
            rejected += batch.rejected.len();
        }
        assert_eq!(
            (rows, rejected),
            (whole.rows(), whole.rejected.len()),
            "{name}"
        );
    }
}

#[test]
fn a_file_with_other_columns_in_a_many_file_log_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("vpc_custom.log"), dir.path().join("1.log")).unwrap();
    std::fs::copy(fixture("vpc_default.log"), dir.path().join("2.log")).unwrap();
    let err = read_log(&SourceSpec::new(dir.path(), Format::Vpcflow))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2.log") && err.contains("differ"), "{err}");
}
