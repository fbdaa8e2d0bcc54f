//! Integration tests of `read_log` and `read_log_batches`: the real seed export, generic tables, and every bad-input case.

use polars::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use webthreat_ingest::{
    BadRowPolicy, ColumnMap, IngestError, LabelSpec, SourceSpec, canonical, read_log,
    read_log_batches,
};

const HEADER: &str = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,protocol,response.code,dst_port,dst_ip,rule_names,observation_name,source.meta,source.name,time,detection_types";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn seed() -> PathBuf {
    shared("cloudwatch/CloudWatch_Traffic_Web_Attack.csv")
}

fn row(bytes_in: &str, bytes_out: &str, start: &str, end: &str, ip: &str) -> String {
    format!(
        "{bytes_in},{bytes_out},{start},{end},{ip},US,HTTPS,200,443,10.0.0.1,r,o,AWS_VPC_Flow,prod,{start},waf_rule"
    )
}

fn good_row(ip: &str) -> String {
    row(
        "10",
        "20",
        "2024-04-25T23:00:00Z",
        "2024-04-25T23:10:00Z",
        ip,
    )
}

/// Writes a CloudWatch-style CSV (CRLF, no trailing newline) into a temp dir.
fn cloudwatch_file(dir: &tempfile::TempDir, rows: &[String]) -> PathBuf {
    let path = dir.path().join("log.csv");
    let mut text = HEADER.to_string();
    for r in rows {
        text.push_str("\r\n");
        text.push_str(r);
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn bad_value(err: IngestError) -> (webthreat_ingest::RowProblem, usize) {
    match err {
        IngestError::BadValue { first, others, .. } => (*first, others),
        other => panic!("expected BadValue, got {other}"),
    }
}

#[test]
fn reads_the_seed_export() {
    let t = read_log(&SourceSpec::cloudwatch(seed())).unwrap();
    assert_eq!(t.df.height(), 282);
    assert_eq!(t.source_rows, 282);
    assert!(t.rejected.is_empty());
    let bytes_in =
        t.df.column(canonical::BYTES_IN)
            .unwrap()
            .f64()
            .unwrap()
            .clone();
    assert_eq!(bytes_in.get(0), Some(5602.0));
    assert_eq!(bytes_in.min(), Some(40.0));
    assert_eq!(bytes_in.max(), Some(25_207_794.0));
    let start = t.df.column(canonical::START_TIME).unwrap();
    assert!(
        matches!(
            start.dtype(),
            DataType::Datetime(TimeUnit::Milliseconds, Some(_))
        ),
        "{:?}",
        start.dtype()
    );
    let ms = start.cast(&DataType::Int64).unwrap().i64().unwrap().get(0);
    assert_eq!(ms, Some(1_714_086_000_000));
    let ports =
        t.df.column(canonical::DST_PORT)
            .unwrap()
            .i64()
            .unwrap()
            .clone();
    assert_eq!(ports.get(281), Some(443));
    assert_eq!(
        t.df.column(canonical::SRC_IP).unwrap().n_unique().unwrap(),
        28
    );
    // the last row is read although the file has no trailing newline
    let ips =
        t.df.column(canonical::SRC_IP)
            .unwrap()
            .str()
            .unwrap()
            .clone();
    assert!(ips.get(281).is_some_and(|ip| !ip.ends_with('\r')));
    let constant = t.constant_columns().unwrap();
    for c in [
        "protocol",
        "response.code",
        "dst_port",
        "dst_ip",
        "rule_names",
        "detection_types",
    ] {
        assert!(
            constant.iter().any(|k| k == c),
            "{c} should be constant: {constant:?}"
        );
    }
    assert!(!t.has_labels());
}

#[test]
fn missing_file_is_an_open_error_naming_the_path() {
    let err = read_log(&SourceSpec::cloudwatch("/no/such/file.csv")).unwrap_err();
    assert!(matches!(err, IngestError::Open { .. }));
    assert!(err.to_string().contains("/no/such/file.csv"));
}

#[test]
fn empty_file_and_header_only_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let err = read_log(&SourceSpec::cloudwatch(&empty)).unwrap_err();
    assert!(err.to_string().contains("file is empty"), "{err}");
    let header_only = cloudwatch_file(&dir, &[]);
    let err = read_log(&SourceSpec::cloudwatch(&header_only)).unwrap_err();
    assert!(err.to_string().contains("no data rows"), "{err}");
}

#[test]
fn missing_columns_are_all_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("few.csv");
    std::fs::write(&path, "bytes_in,src_ip\n1,1.2.3.4\n").unwrap();
    let err = read_log(&SourceSpec::cloudwatch(&path)).unwrap_err();
    match &err {
        IngestError::MissingColumns { missing, .. } => assert_eq!(
            missing,
            &[
                "bytes_out",
                "creation_time",
                "end_time",
                "dst_ip",
                "dst_port",
                "protocol",
                "src_ip_country_code"
            ]
        ),
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("`creation_time`"));
}

#[test]
fn duplicate_header_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.csv");
    std::fs::write(&path, "a,b,a\n1,2,3\n").unwrap();
    let err = read_log(&SourceSpec::table(&path)).unwrap_err();
    match err {
        IngestError::DuplicateHeader {
            column,
            first,
            second,
            ..
        } => {
            assert_eq!((column.as_str(), first, second), ("a", 1, 3));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn unparseable_timestamp_names_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[
            good_row("1.1.1.1"),
            row("1", "2", "yesterday", "2024-04-25T23:10:00Z", "2.2.2.2"),
        ],
    );
    let err = read_log(&SourceSpec::cloudwatch(&path)).unwrap_err();
    let text = err.to_string();
    let (first, others) = bad_value(err);
    assert_eq!(
        (first.row, first.line, first.column.as_str()),
        (1, 3, "creation_time")
    );
    assert_eq!(first.value, "yesterday");
    assert_eq!(others, 0);
    assert!(
        text.contains("log.csv") && text.contains("line 3") && text.contains("ISO-8601"),
        "{text}"
    );
}

#[test]
fn negative_bytes_and_non_numeric_numbers_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[
            row(
                "-5",
                "2",
                "2024-04-25T23:00:00Z",
                "2024-04-25T23:10:00Z",
                "1.1.1.1",
            ),
            row(
                "7",
                "lots",
                "2024-04-25T23:00:00Z",
                "2024-04-25T23:10:00Z",
                "1.1.1.1",
            ),
        ],
    );
    let err = read_log(&SourceSpec::cloudwatch(&path)).unwrap_err();
    assert!(err.to_string().contains("and 1 more bad row"), "{err}");
    let (first, others) = bad_value(err);
    assert_eq!(
        (first.row, first.column.as_str(), first.value.as_str()),
        (0, "bytes_in", "-5")
    );
    assert!(first.expected.contains("non-negative"));
    assert_eq!(others, 1);
}

#[test]
fn end_before_start_is_an_error_on_end_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[row(
            "1",
            "2",
            "2024-04-25T23:10:00Z",
            "2024-04-25T23:00:00Z",
            "1.1.1.1",
        )],
    );
    let (first, _) = bad_value(read_log(&SourceSpec::cloudwatch(&path)).unwrap_err());
    assert_eq!(first.column, "end_time");
    assert!(
        first.expected.contains("2024-04-25T23:10:00Z"),
        "{}",
        first.expected
    );
}

#[test]
fn reversed_times_are_found_beside_unparsed_ones() {
    // an unparsed timestamp leaves a null in its column; the order check still finds the
    // reversed row after it, and reports its raw end value
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[
            good_row("1.1.1.1"),
            row("1", "1", "yesterday", "2024-04-25T23:10:00Z", "2.2.2.2"),
            row(
                "1",
                "1",
                "2024-04-25T23:10:00Z",
                "2024-04-25T23:09:59Z",
                "3.3.3.3",
            ),
        ],
    );
    let mut spec = SourceSpec::cloudwatch(&path);
    spec.on_bad_rows = BadRowPolicy::Skip;
    let t = read_log(&spec).unwrap();
    assert_eq!(t.df.height(), 1);
    let found: Vec<(u64, &str, &str)> = t
        .rejected
        .iter()
        .flat_map(|r| {
            r.problems
                .iter()
                .map(move |p| (r.row, p.column.as_str(), p.value.as_str()))
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (1, "creation_time", "yesterday"),
            (2, "end_time", "2024-04-25T23:09:59Z")
        ]
    );
}

#[test]
fn skip_rejects_bad_rows_with_every_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[
            good_row("1.1.1.1"),
            row(
                "x",
                "-1",
                "2024-04-25T23:00:00Z",
                "2024-04-25T23:10:00Z",
                "2.2.2.2",
            ),
            good_row("3.3.3.3"),
            row(
                "1",
                "1",
                "2024-04-25T23:10:00Z",
                "2024-04-25T23:09:59Z",
                "4.4.4.4",
            ),
        ],
    );
    let mut spec = SourceSpec::cloudwatch(&path);
    spec.on_bad_rows = BadRowPolicy::Skip;
    let t = read_log(&spec).unwrap();
    assert_eq!(t.df.height(), 2);
    assert_eq!(t.source_rows, 4);
    let rows: Vec<u64> = t.rejected.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![1, 3]);
    assert_eq!(t.rejected[0].problems.len(), 2);
    let kept: Vec<u64> =
        t.df.column(canonical::ROW_ID)
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
    assert_eq!(kept, vec![0, 2]);
}

#[test]
fn skip_with_every_row_bad_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = cloudwatch_file(
        &dir,
        &[row(
            "x",
            "1",
            "2024-04-25T23:00:00Z",
            "2024-04-25T23:10:00Z",
            "1.1.1.1",
        )],
    );
    let mut spec = SourceSpec::cloudwatch(&path);
    spec.on_bad_rows = BadRowPolicy::Skip;
    assert!(matches!(
        read_log(&spec),
        Err(IngestError::AllRowsRejected { rows: 1, .. })
    ));
}

#[test]
fn bench_table_reads_numeric_columns_and_labels() {
    let mut spec = SourceSpec::table(shared("bench/thyroid.csv"));
    spec.label = Some(LabelSpec::Column("label".into()));
    let t = read_log(&spec).unwrap();
    assert_eq!(t.df.height(), 3772);
    let labels =
        t.df.column(canonical::LABEL)
            .unwrap()
            .bool()
            .unwrap()
            .clone();
    assert_eq!(labels.sum(), Some(93));
    assert!(t.df.column("f0").unwrap().dtype().is_float());
    assert!(t.text_columns.is_empty());
}

#[test]
fn string_labels_map_through_config() {
    let mut spec = SourceSpec::table(shared("netsec/unsw-nb15_1_sampled.csv"));
    spec.label = Some(LabelSpec::Mapped {
        column: "label".into(),
        anomaly: Some(vec!["Malicious".into()]),
        normal: Some(vec!["Benign".into()]),
    });
    spec.columns = ColumnMap {
        bytes_in: Some("sbytes".into()),
        bytes_out: Some("dbytes".into()),
        protocol: Some("proto".into()),
        ..ColumnMap::default()
    };
    let t = read_log(&spec).unwrap();
    assert_eq!(t.df.height(), 7000);
    let labels =
        t.df.column(canonical::LABEL)
            .unwrap()
            .bool()
            .unwrap()
            .clone();
    assert_eq!(labels.sum(), Some(204));
    assert!(t.has(canonical::BYTES_IN) && t.has(canonical::PROTOCOL));
    assert!(t.is_text_column("state") && !t.has("state"));
    assert!(t.df.column("dur").unwrap().dtype().is_float());
}

#[test]
fn unknown_label_value_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "x,label\n1,0\n2,maybe\n").unwrap();
    let mut spec = SourceSpec::table(&path);
    spec.label = Some(LabelSpec::Column("label".into()));
    let (first, _) = bad_value(read_log(&spec).unwrap_err());
    assert_eq!((first.row, first.value.as_str()), (1, "maybe"));
}

#[test]
fn mapping_onto_an_existing_name_is_a_collision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "sbytes,bytes_in\n1,2\n").unwrap();
    let mut spec = SourceSpec::table(&path);
    spec.columns.bytes_in = Some("sbytes".into());
    assert!(matches!(
        read_log(&spec),
        Err(IngestError::NameCollision { .. })
    ));
}

#[test]
fn required_numeric_column_with_text_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "a,b\n1,x\n2,3\n").unwrap();
    let mut spec = SourceSpec::table(&path);
    spec.numeric = vec!["b".into()];
    let (first, _) = bad_value(read_log(&spec).unwrap_err());
    assert_eq!(
        (first.row, first.column.as_str(), first.value.as_str()),
        (0, "b", "x")
    );
    // without the requirement, the mixed column is kept as text
    let t = read_log(&SourceSpec::table(&path)).unwrap();
    let names: Vec<&str> = t.text_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["b"]);
}

#[test]
fn csv_and_parquet_round_trip_to_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    write!(f, "start,end,ip,port,sent,got,label\n2024-01-01T00:00:00Z,2024-01-01T00:00:05Z,1.2.3.4,80,10,20,true\n2024-01-01T00:01:00Z,2024-01-01T00:01:00Z,5.6.7.8,443,0,1.5,false\n").unwrap();
    drop(f);
    let mut spec = SourceSpec::table(&csv);
    spec.label = Some(LabelSpec::Column("label".into()));
    spec.columns = ColumnMap {
        start_time: Some("start".into()),
        end_time: Some("end".into()),
        src_ip: Some("ip".into()),
        dst_port: Some("port".into()),
        bytes_in: Some("got".into()),
        bytes_out: Some("sent".into()),
        ..ColumnMap::default()
    };
    let from_csv = read_log(&spec).unwrap();
    let parquet = dir.path().join("t.parquet");
    let mut raw = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut raw)
        .unwrap();
    spec.path = parquet;
    let from_parquet = read_log(&spec).unwrap();
    assert!(
        from_csv.df.equals_missing(&from_parquet.df),
        "{}\n{}",
        from_csv.df,
        from_parquet.df
    );
    assert_eq!(from_csv.df.height(), 2);
}

#[test]
fn batches_match_the_whole_read_and_keep_file_rows() {
    let spec = SourceSpec::cloudwatch(seed());
    let whole = read_log(&spec).unwrap();
    let batches: Vec<webthreat_ingest::LogTable> = read_log_batches(&spec, 50)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.len(), 6);
    assert_eq!(batches[5].source_rows, 32);
    let mut joined = batches[0].df.clone();
    for b in &batches[1..] {
        joined.vstack_mut(&b.df).unwrap();
    }
    assert!(joined.equals(&whole.df));
    // constant-column summaries merge to the whole file's
    let mut merged = batches[0].column_summaries().unwrap();
    for b in &batches[1..] {
        for (m, s) in merged.iter_mut().zip(b.column_summaries().unwrap()) {
            m.distinct.merge(&s.distinct);
        }
    }
    assert_eq!(merged, whole.column_summaries().unwrap());

    // a bad value in a later batch is reported with its row in the file
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<String> = (0..200).map(|i| good_row(&format!("10.0.0.{i}"))).collect();
    for bad in [101, 130, 170] {
        rows[bad] = row(
            "12",
            "oops",
            "2024-04-25T23:00:00Z",
            "2024-04-25T23:10:00Z",
            "9.9.9.9",
        );
    }
    let path = cloudwatch_file(&dir, &rows);
    let mut spec = SourceSpec::cloudwatch(&path);
    let mut batches = read_log_batches(&spec, 50).unwrap();
    assert!(batches.next().unwrap().is_ok());
    assert!(batches.next().unwrap().is_ok());
    let err = batches.next().unwrap().unwrap_err();
    // the count of further bad rows covers only the rows read, and the message says so
    let message = err.to_string();
    assert!(
        message.contains("and 1 more bad row up to data row 149, where reading in batches stopped"),
        "{message}"
    );
    let (first, others) = bad_value(err);
    assert_eq!(
        (first.row, first.line, first.value.as_str(), others),
        (101, 103, "oops", 1)
    );
    // skipping: the batch comes back without the row, the reject keeps the file row
    spec.on_bad_rows = BadRowPolicy::Skip;
    let third = read_log_batches(&spec, 50)
        .unwrap()
        .nth(2)
        .unwrap()
        .unwrap();
    assert_eq!((third.df.height(), third.source_rows), (48, 50));
    assert_eq!(third.rejected[0].row, 101);
}
