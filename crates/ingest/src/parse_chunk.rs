//! Parsing one chunk of records into a [`Converted`] part: by the plain reader
//! ([`crate::plain`]) when the chunk is plain and its typed values are valid, by the JSON-lines
//! reader for JSON records, else by polars' CSV reader.

use crate::canonical::{self, END_TIME, START_TIME};
use crate::chunks::Chunk;
use crate::convert::convert;
use crate::converted::Converted;
use crate::diagnose;
use crate::error::IngestError;
use crate::formats::Part;
use crate::json_lines;
use crate::layout::Layout;
use crate::plain::{self, PlainChunk, ReadAs};
use crate::raw::{parse_delimited, parse_error};
use crate::spec::{Format, MissingPolicy, SourceSpec};
use crate::validate::{self, NumberKind, Origin};
use polars::prelude::*;

/// A typed column of a chunk: its name, type, what it must hold and whether the plain reader
/// may read a null token in it (its missing-value policy reads it as 0).
struct Typed {
    name: String,
    dtype: DataType,
    kind: NumberKind,
    nulls_ok: bool,
}

/// Columns the readers may type: counts, durations and plain numeric columns as Float64,
/// ports as Int64.
fn typed_columns(spec: &SourceSpec, layout: &Layout) -> Vec<Typed> {
    let mut out: Vec<Typed> = Vec::new();
    // only a value read as 0 needs no report of the token as written
    let nulls_ok = |canonical: Option<&str>, source: &str| {
        layout.missing_policy(canonical, source, true) == MissingPolicy::Zero
    };
    for m in &layout.mapping {
        if m.part != Part::Whole || out.iter().any(|t| t.name == m.source) {
            continue;
        }
        let (dtype, kind) = if canonical::QUANTITIES.contains(&m.canonical) {
            (DataType::Float64, NumberKind::NonNegative)
        } else if canonical::PORTS.contains(&m.canonical) {
            (DataType::Int64, NumberKind::Port)
        } else {
            continue;
        };
        out.push(Typed {
            name: m.source.clone(),
            dtype,
            kind,
            nulls_ok: nulls_ok(Some(m.canonical), &m.source),
        });
    }
    let label = spec.label.as_ref().map(|l| l.column());
    for name in &spec.numeric {
        if !out.iter().any(|t| &t.name == name) && Some(name.as_str()) != label {
            out.push(Typed {
                name: name.clone(),
                dtype: DataType::Float64,
                kind: NumberKind::Any,
                nulls_ok: nulls_ok(None, name),
            });
        }
    }
    out
}

/// Parses a chunk: JSON lines by [`json_lines`]; otherwise directly when it is plain
/// ([`plain`]) and its typed values are all valid, else with its numeric columns typed by
/// polars when every value of them is valid, else as all-string columns (so that each bad
/// value is reported with its raw text).
pub(crate) fn convert_chunk(
    chunk: &Chunk,
    spec: &SourceSpec,
    layout: &Layout,
) -> Result<Converted, IngestError> {
    convert_chunk_via(chunk, spec, layout, true)
}

/// [`convert_chunk`]; `plain`: whether the plain reader may be tried (tests compare both).
fn convert_chunk_via(
    chunk: &Chunk,
    spec: &SourceSpec,
    layout: &Layout,
    plain: bool,
) -> Result<Converted, IngestError> {
    let path = chunk.file.as_path();
    let origin = Origin {
        first_row: chunk.first_row,
        file: chunk.file.clone(),
        lines: chunk.lines.clone(),
    };
    if layout.json {
        let df = json_lines::read_chunk(chunk, layout)?;
        return convert(df, &layout.header, Vec::new(), spec, layout, &origin, false);
    }
    let typed = typed_columns(spec, layout);
    if let Some(direct) = plain
        .then(|| read_plain(chunk, spec, layout, &typed))
        .flatten()
    {
        return convert(
            direct.df,
            &direct.header,
            direct.summaries,
            spec,
            layout,
            &origin,
            true,
        );
    }
    // polars' reader fills a short record with nulls: records are checked before it reads
    if let Some(e) = diagnose::first_bad_record(chunk, layout) {
        return Err(e);
    }
    let as_polars: Vec<(String, DataType)> = typed
        .iter()
        .map(|t| (t.name.clone(), t.dtype.clone()))
        .collect();
    let fast = parse_delimited(&chunk.text, &as_polars, layout)
        .ok()
        .filter(|df| df.height() == chunk.rows && typed_values_valid(df, &typed, false));
    let df = match fast {
        Some(df) => df,
        None => parse_delimited(&chunk.text, &[], layout).map_err(|e| {
            diagnose::first_bad_record(chunk, layout).unwrap_or_else(|| parse_error(path, e))
        })?,
    };
    if df.height() != chunk.rows {
        if let Some(e) = diagnose::first_bad_record(chunk, layout) {
            return Err(e);
        }
        return Err(IngestError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "expected {} records from line {} but the CSV reader found {}",
                chunk.rows,
                chunk.lines.line(0),
                df.height()
            ),
        });
    }
    let header = column_names(&df);
    convert(df, &header, Vec::new(), spec, layout, &origin, false)
}

/// The chunk read by [`plain::read`]: typed columns as polars would type them, mapped columns as
/// strings, the label parsed into booleans (unless a mapped column reads it too), the rest
/// summarised. `None` when it declines or a typed value is not valid, and when unlisted numeric
/// columns must be detected (which needs their values).
fn read_plain(
    chunk: &Chunk,
    spec: &SourceSpec,
    layout: &Layout,
    typed: &[Typed],
) -> Option<PlainChunk> {
    if spec.format == Format::Table && spec.numeric.is_empty() {
        return None;
    }
    let time_source =
        |canonical_name: &str| layout.source_of(canonical_name).map(|m| m.source.as_str());
    let (start, end) = (time_source(START_TIME), time_source(END_TIME));
    // a row `missing: skip` may reject can hold anything in its label (a VPC NODATA record
    // holds `-`): labels are then read as text and checked beside the row's other problems
    let labels_as_text = (layout.mapping.iter())
        .any(|m| layout.missing_policy(Some(m.canonical), &m.source, false) == MissingPolicy::Skip);
    let kept: Vec<&str> = (layout.mapping.iter().map(|m| m.source.as_str()))
        .chain(spec.text.iter().map(String::as_str))
        .collect();
    let syntax = plain::Syntax {
        separator: layout.separator,
        quote: layout.quote,
        nulls: &layout.nulls,
    };
    let direct = plain::read(&chunk.text, chunk.rows, syntax, |name| {
        match typed.iter().find(|t| t.name == name) {
            Some(t) if t.dtype == DataType::Int64 => ReadAs::Int { nulls: t.nulls_ok },
            Some(t) => ReadAs::Float { nulls: t.nulls_ok },
            None if Some(name) == start || Some(name) == end => ReadAs::Time(&layout.time),
            None => match &spec.label {
                Some(label) if label.column() == name && !kept.contains(&name) => {
                    if labels_as_text {
                        ReadAs::Text
                    } else {
                        ReadAs::Label(label)
                    }
                }
                _ if kept.contains(&name) => ReadAs::Text,
                _ => ReadAs::Summary,
            },
        }
    })?;
    // an end before its start is reported with the raw text, which only the polars path keeps
    let ordered = match (start, end) {
        (Some(start), Some(end)) => ends_not_before_starts(&direct.df, start, end)?,
        _ => true,
    };
    (ordered && typed_values_valid(&direct.df, typed, true)).then_some(direct)
}

/// Whether every row of `df` has both Datetimes and its `end` not before its start (`None`
/// on a polars error).
fn ends_not_before_starts(df: &DataFrame, start: &str, end: &str) -> Option<bool> {
    let millis = |name: &str| df.column(name).ok()?.cast(&DataType::Int64).ok();
    let (start, end) = (millis(start)?, millis(end)?);
    let (start, end) = (start.i64().ok()?, end.i64().ok()?);
    Some(
        start.null_count() == 0
            && end.null_count() == 0
            && validate::reversed_rows(start, end).is_empty(),
    )
}

pub(crate) fn column_names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// True when the typed columns hold only acceptable values, and nulls only where a null token
/// is acceptable and `nulls_read` (the plain reader nulls only null tokens; polars' reader also
/// nulls what it cannot parse, so its nulls are not trusted).
fn typed_values_valid(df: &DataFrame, typed: &[Typed], nulls_read: bool) -> bool {
    typed.iter().all(|t| {
        let Ok(col) = df.column(&t.name) else {
            return false;
        };
        if col.null_count() > 0 && !(nulls_read && t.nulls_ok) {
            return false;
        }
        validate::all_accepted(&col.drop_nulls(), t.kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LabelSpec;
    use std::path::{Path, PathBuf};

    #[test]
    fn zeek_records_read_the_same_both_ways_with_missing_values_filled() {
        let spec = SourceSpec::new("t.log", Format::Zeek);
        let text = "ts\tid.orig_h\tid.resp_p\tduration\torig_bytes\tresp_bytes\tservice\thistory\n\
            1541117137.618695\t172.16.9.233\t88\t0.013561\t244\t292\tkrb_tcp\tShADdFar\n\
            1541117138.000001\t172.16.9.233\t449\t-\t-\t-\t-\tS\n";
        assert!(same_both_ways(text, &spec));
        let (c, layout) = chunk(text, 0, &spec);
        let got = convert_chunk(&c, &spec, &layout).unwrap();
        let bytes = got.df.column("bytes_in").unwrap().f64().unwrap().clone();
        assert_eq!(bytes.into_no_null_iter().collect::<Vec<_>>(), [244.0, 0.0]);
        let end = got
            .df
            .column("end_time")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        assert_eq!(end.i64().unwrap().get(0), Some(1_541_117_137_618 + 14));
        assert_eq!(end.i64().unwrap().get(1), Some(1_541_117_138_000));
        let service = got.df.column("service").unwrap();
        assert_eq!(service.null_count(), 1);
        assert!(got.problems.is_empty());
        let zeroed: Vec<(String, Vec<u64>)> = got
            .fills
            .iter()
            .map(|m| (m.column.clone(), m.rows.clone()))
            .collect();
        assert!(
            zeroed.contains(&("orig_bytes".into(), vec![1])),
            "{zeroed:?}"
        );
    }

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel)
    }

    /// `text` (header line first) as a chunk whose first record is data row `first_row`, and
    /// its layout.
    fn chunk(text: &str, first_row: u64, spec: &SourceSpec) -> (Chunk, Layout) {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let rows = text.lines().count() - 1;
        let path = Path::new("t.csv");
        // a chunk starts with the header line a log's header lines resolve to
        let head = match spec.format {
            Format::Zeek => format!("#fields\t{text}"),
            _ => text.clone(),
        };
        let header = crate::layout::read_header(spec, head.as_bytes(), true, path)
            .unwrap()
            .unwrap();
        let layout = Layout::resolve(spec, header, path).unwrap();
        let mut lines = crate::chunks::LineMap::default();
        lines.note(0, 2);
        let chunk = Chunk {
            text: text.into_bytes(),
            first_row,
            rows,
            file: std::sync::Arc::new(path.to_path_buf()),
            lines,
        };
        (chunk, layout)
    }

    /// Reads `text` both ways and checks that the parts are equal; returns whether the plain
    /// reader took it.
    fn same_both_ways(text: &str, spec: &SourceSpec) -> bool {
        let (c, layout) = chunk(text, 7, spec);
        chunk_same_both_ways(&c, &layout, spec)
    }

    /// A whole log (header lines included) as one chunk, as the chunk reader cuts it.
    fn chunk_of_log(log: &str, spec: &SourceSpec) -> (Chunk, Layout) {
        let path = Path::new("t.log");
        let header = crate::layout::read_header(spec, log.as_bytes(), true, path)
            .unwrap()
            .unwrap();
        let consumed = header.consumed;
        let layout = Layout::resolve(spec, header, path).unwrap();
        let mut text = layout.header_line();
        let mut rows = 0;
        for line in log[consumed..].lines() {
            if !line.starts_with('#') && !line.is_empty() {
                text.extend_from_slice(line.as_bytes());
                text.push(b'\n');
                rows += 1;
            }
        }
        let mut lines = crate::chunks::LineMap::default();
        lines.note(0, 1);
        let file = std::sync::Arc::new(path.to_path_buf());
        let chunk = Chunk {
            text,
            first_row: 0,
            rows,
            file,
            lines,
        };
        (chunk, layout)
    }

    #[test]
    fn the_plain_reader_takes_the_native_formats_and_equals_polars() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for (name, format) in [
            ("zeek_conn.log", Format::Zeek),
            ("vpc_default.log", Format::Vpcflow),
            ("vpc_custom.log", Format::Vpcflow),
            ("alb.log", Format::Alb),
        ] {
            let mut spec = SourceSpec::new(fixtures.join(name), format);
            if format == Format::Alb {
                spec.numeric = vec!["elb_status_code".into()];
            }
            let log = std::fs::read_to_string(fixtures.join(name)).unwrap();
            let (c, layout) = chunk_of_log(&log, &spec);
            assert!(chunk_same_both_ways(&c, &layout, &spec), "{name}");
        }
    }

    fn chunk_same_both_ways(c: &Chunk, layout: &Layout, spec: &SourceSpec) -> bool {
        let (c, layout) = (c, layout);
        let direct = read_plain(c, spec, layout, &typed_columns(spec, layout)).is_some();
        let a = convert_chunk_via(c, spec, layout, true);
        let b = convert_chunk_via(c, spec, layout, false);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert!(a.df.equals_missing(&b.df), "{}\nvs\n{}", a.df, b.df);
                assert_eq!(a.rows, b.rows);
                assert_eq!(a.text_columns, b.text_columns);
                assert_eq!(a.problems, b.problems);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{:?} vs {:?}", a.err(), b.err()),
        }
        direct
    }

    #[test]
    fn plain_reader_equals_the_polars_reader_on_the_shared_logs() {
        let seed = shared("cloudwatch/CloudWatch_Traffic_Web_Attack.csv");
        let text = std::fs::read_to_string(&seed).unwrap();
        assert!(same_both_ways(&text, &SourceSpec::cloudwatch(&seed)));

        // a table with a mapped column, typed columns and labels as names
        let unsw = shared("netsec/unsw-nb15_1_sampled.csv");
        let mut spec = SourceSpec::table(&unsw);
        spec.columns.bytes_in = Some("sbytes".into());
        spec.numeric = vec!["dur".into(), "Sload".into(), "sttl".into()];
        let (anomaly, normal) = (vec!["Malicious".into()], vec!["Benign".into()]);
        let column = "label".to_string();
        spec.label = Some(LabelSpec::Mapped {
            column,
            anomaly: Some(anomaly),
            normal: Some(normal),
        });
        let text = std::fs::read_to_string(&unsw).unwrap();
        assert!(same_both_ways(&text, &spec));
        // detecting numeric columns needs their values: the polars reader
        spec.numeric.clear();
        assert!(!same_both_ways(&text, &spec));
    }

    #[test]
    fn plain_reader_equals_the_polars_reader_on_edge_cases() {
        const HEADER: &str = "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code,protocol,dst_port,dst_ip,note,flag,label";
        let spec = SourceSpec {
            label: Some(LabelSpec::Column("label".into())),
            ..SourceSpec::cloudwatch("t.csv")
        };
        let row = |bytes_in: &str, country: &str, note: &str, flag: &str| {
            format!(
                "{bytes_in},2e3,2024-04-25T23:00:00Z,2024-04-25T23:10:00Z,1.2.3.4,{country},HTTPS,443,10.0.0.1,{note},{flag},0"
            )
        };
        let labelled = |label: &str| {
            let row = row("1", "US", "a", "x");
            format!("{},{label}", row.strip_suffix(",0").unwrap())
        };
        let cases: Vec<(Vec<String>, bool)> = vec![
            // CRLF is handled by both; empty mapped text is null, empty summaries are null
            (
                vec![row("10", "US", "", "x"), row("0012.50", "", "", "x")],
                true,
            ),
            (
                vec![row("1e2", "US", "a", ""), row("3", "US", "b", "")],
                true,
            ),
            // not plain: both give the polars reader's answer or error
            (vec![row("-1", "US", "a", "x")], false),
            (vec![row("+1", "US", "a", "x")], false),
            (vec![row("", "US", "a", "x")], false),
            // a quoted field is read directly; an escaped quote is left to polars
            (vec![row("1", "\"US\"", "a", "x")], true),
            (vec![row("1", "\"U\"\"S\"", "a", "x")], false),
            (vec![row("1", "US", "a", "x") + ",extra"], false),
            // long integers take the general number parser
            (vec![row("12345678901234567", "US", "a", "x")], true),
            // labels are parsed as the spec says; one it does not know: the polars path
            (
                vec![labelled("TRUE"), labelled(" 0"), labelled("1.0")],
                true,
            ),
            (vec![labelled("1"), labelled("maybe")], false),
            // an end before its start, or a timestamp the parser rejects: the polars path
            (
                vec![
                    row("1", "US", "a", "x")
                        .replace("23:00:00Z,2024-04-25T23:10", "23:10:00Z,2024-04-25T23:00"),
                ],
                false,
            ),
            (
                vec![row("1", "US", "a", "x").replace("2024-04-25T23:00:00Z", "yesterday")],
                false,
            ),
        ];
        for (rows, plain) in cases {
            for eol in ["\n", "\r\n"] {
                let text = format!("{HEADER}{eol}{}{eol}", rows.join(eol));
                assert_eq!(same_both_ways(&text, &spec), plain, "{text}");
            }
        }
    }
}
