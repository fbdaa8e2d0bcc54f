//! Parsing one CSV chunk into a [`Converted`] part: by the plain reader ([`crate::plain`]) when
//! the chunk is plain and its typed values are valid, else by polars' CSV reader.

use crate::canonical::{self, END_TIME, START_TIME};
use crate::chunks::Chunk;
use crate::convert::convert;
use crate::converted::Converted;
use crate::error::IngestError;
use crate::plain::{self, PlainChunk, ReadAs};
use crate::raw::{parse_csv, parse_error};
use crate::spec::{Format, SourceSpec};
use crate::validate::{self, NumberKind};
use polars::prelude::*;

/// Columns polars may type while reading a CSV chunk: byte counts and plain numeric columns
/// as Float64, the port as Int64.
fn typed_columns(spec: &SourceSpec) -> Vec<(String, DataType)> {
    let mut out: Vec<(String, DataType)> = Vec::new();
    for (canonical_name, source) in spec.mapping() {
        match canonical_name {
            canonical::BYTES_IN | canonical::BYTES_OUT => out.push((source, DataType::Float64)),
            canonical::DST_PORT => out.push((source, DataType::Int64)),
            _ => {}
        }
    }
    let label = spec.label.as_ref().map(|l| l.column());
    for name in &spec.numeric {
        if !out.iter().any(|(n, _)| n == name) && Some(name.as_str()) != label {
            out.push((name.clone(), DataType::Float64));
        }
    }
    out
}

/// Parses a chunk: directly when it is plain CSV ([`plain`]) and its typed values are all
/// valid, else with its numeric columns typed by polars when every value of them is valid, else
/// as all-string columns (so that each bad value is reported with its raw text).
pub(crate) fn convert_chunk(chunk: &Chunk, spec: &SourceSpec) -> Result<Converted, IngestError> {
    convert_chunk_via(chunk, spec, true)
}

/// [`convert_chunk`]; `plain`: whether the plain reader may be tried (tests compare both).
fn convert_chunk_via(
    chunk: &Chunk,
    spec: &SourceSpec,
    plain: bool,
) -> Result<Converted, IngestError> {
    let path = spec.path.as_path();
    let typed = typed_columns(spec);
    if let Some(direct) = plain.then(|| read_plain(chunk, spec, &typed)).flatten() {
        return convert(
            direct.df,
            &direct.header,
            direct.summaries,
            spec,
            chunk.first_row,
            true,
        );
    }
    let fast = parse_csv(&chunk.text, &typed)
        .ok()
        .filter(|df| df.height() == chunk.rows && typed_values_valid(df, spec, &typed));
    let df = match fast {
        Some(df) => df,
        None => parse_csv(&chunk.text, &[]).map_err(|e| parse_error(path, e))?,
    };
    if df.height() != chunk.rows {
        return Err(IngestError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "expected {} records from data row {} but the CSV reader found {}",
                chunk.rows,
                chunk.first_row,
                df.height()
            ),
        });
    }
    let header = column_names(&df);
    convert(df, &header, Vec::new(), spec, chunk.first_row, false)
}

/// The chunk read by [`plain::read`]: typed columns as polars would type them, mapped columns as
/// strings, the label parsed into booleans (unless a mapped column reads it too), the rest
/// summarised. `None` when it declines or a typed value is not valid, and when unlisted numeric
/// columns must be detected (which needs their values).
fn read_plain(
    chunk: &Chunk,
    spec: &SourceSpec,
    typed: &[(String, DataType)],
) -> Option<PlainChunk> {
    if spec.format == Format::Table && spec.numeric.is_empty() {
        return None;
    }
    let mapping = spec.mapping();
    let time_source = |canonical_name: &str| {
        mapping
            .iter()
            .find(|(c, _)| *c == canonical_name)
            .map(|(_, source)| source.as_str())
    };
    let (start, end) = (time_source(START_TIME), time_source(END_TIME));
    let kept: Vec<&str> = mapping.iter().map(|(_, source)| source.as_str()).collect();
    let direct = plain::read(&chunk.text, chunk.rows, |name| {
        match typed.iter().find(|(n, _)| n == name) {
            Some((_, DataType::Int64)) => ReadAs::Int,
            Some(_) => ReadAs::Float,
            None if Some(name) == start || Some(name) == end => ReadAs::Time,
            None => match &spec.label {
                Some(label) if label.column() == name && !kept.contains(&name) => {
                    ReadAs::Label(label)
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
    (ordered && typed_values_valid(&direct.df, spec, typed)).then_some(direct)
}

/// Whether every row of `df` has both Datetimes and its `end` not before its `start` (`None`
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

/// True when the typed columns have no nulls and only acceptable values.
fn typed_values_valid(df: &DataFrame, spec: &SourceSpec, typed: &[(String, DataType)]) -> bool {
    let port = spec
        .mapping()
        .into_iter()
        .find(|(c, _)| *c == canonical::DST_PORT)
        .map(|(_, s)| s);
    typed.iter().all(|(name, _)| {
        let Ok(col) = df.column(name) else {
            return false;
        };
        if col.null_count() > 0 {
            return false;
        }
        let kind = if port.as_deref() == Some(name.as_str()) {
            NumberKind::Port
        } else if spec
            .mapping()
            .iter()
            .any(|(c, s)| s == name && matches!(*c, canonical::BYTES_IN | canonical::BYTES_OUT))
        {
            NumberKind::NonNegative
        } else {
            NumberKind::Any
        };
        validate::all_accepted(col, kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LabelSpec;
    use std::path::{Path, PathBuf};

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel)
    }

    /// `text` (header line first) as a chunk whose first record is data row `first_row`.
    fn chunk(text: &str, first_row: u64) -> Chunk {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let rows = text.lines().count() - 1;
        Chunk {
            text: text.into_bytes(),
            first_row,
            rows,
        }
    }

    /// Reads `text` both ways and checks that the parts are equal; returns whether the plain
    /// reader took it.
    fn same_both_ways(text: &str, spec: &SourceSpec) -> bool {
        let direct = read_plain(&chunk(text, 7), spec, &typed_columns(spec)).is_some();
        let a = convert_chunk_via(&chunk(text, 7), spec, true);
        let b = convert_chunk_via(&chunk(text, 7), spec, false);
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
            anomaly,
            normal,
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
            (vec![row("1", "\"US\"", "a", "x")], false),
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
