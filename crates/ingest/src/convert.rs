//! Validating and typing the columns of one raw part of a source (a CSV chunk or a whole
//! Parquet file): mapped columns, times, labels and numeric columns become canonical typed
//! columns, every other column is summarised.

use crate::canonical::{self, END_TIME, LABEL, ROW_ID, START_TIME};
use crate::converted::Converted;
use crate::error::IngestError;
use crate::spec::{Format, SourceSpec};
use crate::summary::{ColumnSummary, Distinct, summarize};
use crate::validate::{self, NumberKind, Problems};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Validates and types the columns of one raw part whose first row is data row `first_row`.
/// `header` names the source's columns in order: those of `raw`, and the text columns already
/// reduced to `summaries`. `labels_read`: a Boolean label column of `raw` holds labels the plain
/// reader parsed already (a Parquet file's Boolean column is parsed as text, like any other).
pub(crate) fn convert(
    raw: DataFrame,
    header: &[String],
    summaries: Vec<(String, Distinct)>,
    spec: &SourceSpec,
    first_row: u64,
    labels_read: bool,
) -> Result<Converted, IngestError> {
    let path = spec.path.as_path();
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mapping = spec.mapping();
    check_columns(spec, &mapping, header, path)?;

    let height = raw.height();
    let mut problems = Problems::starting_at(first_row);
    let mut out: Vec<Column> = Vec::with_capacity(header.len() + 1);
    let mut mapped_sources = Vec::new();
    // the mapped columns and the label are validated in parallel, each with its own problems,
    // joined in the order a serial pass reports them in: mapped columns, times, label
    let validate_mapped = || {
        mapping
            .par_iter()
            .map(|(canonical_name, source)| {
                let mut problems = Problems::starting_at(first_row);
                let col = raw.column(source)?;
                let mapped = match *canonical_name {
                    canonical::BYTES_IN | canonical::BYTES_OUT => Mapped::Column(
                        validate::numbers(
                            col,
                            source,
                            NumberKind::NonNegative,
                            canonical_name,
                            &mut problems,
                        )?
                        .into_column(),
                    ),
                    canonical::DST_PORT => Mapped::Column(
                        validate::ports(col, source, canonical_name, &mut problems)?.into_column(),
                    ),
                    canonical::START_TIME | canonical::END_TIME => {
                        Mapped::Times(validate::timestamps(col, source, &mut problems)?)
                    }
                    other => Mapped::Column(validate::string_column(col, other)?),
                };
                Ok((mapped, problems))
            })
            .collect::<Vec<PolarsResult<(Mapped, Problems)>>>()
    };
    let validate_labels = || -> PolarsResult<Option<(Column, Problems)>> {
        let Some(label) = &spec.label else {
            return Ok(None);
        };
        let mut problems = Problems::starting_at(first_row);
        let col = raw.column(label.column())?;
        if labels_read && col.dtype() == &DataType::Boolean {
            return Ok(Some((col.clone().with_name(LABEL.into()), problems)));
        }
        let v = validate::labels(col, label, &mut problems)?;
        Ok(Some((Column::new(LABEL.into(), v), problems)))
    };
    let (validated, labels) = rayon::join(validate_mapped, validate_labels);
    let mut times: BTreeMap<&str, (Int64Chunked, &str)> = BTreeMap::new();
    for ((canonical_name, source), validated) in mapping.iter().zip(validated) {
        let (mapped, found) = validated.map_err(polars_err)?;
        problems.list.extend(found.list);
        mapped_sources.push(source.to_string());
        match mapped {
            Mapped::Column(c) => out.push(c),
            Mapped::Times(v) => {
                times.insert(canonical_name, (v, source));
            }
        }
    }
    if let (Some((start, start_src)), Some((end, end_src))) =
        (times.get(START_TIME), times.get(END_TIME))
    {
        let end_col = raw.column(end_src).map_err(polars_err)?;
        validate::check_order(start, end, end_col, end_src, start_src, &mut problems)
            .map_err(polars_err)?;
    }
    for (name, (values, _)) in times {
        // unparsed values (each a problem) read as 0
        let ms = if values.null_count() > 0 {
            values.fill_null_with_values(0).map_err(polars_err)?
        } else {
            values
        };
        let datetimes = ms
            .with_name(name.into())
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
        out.push(datetimes.into_column());
    }
    if let (Some(label), Some((v, found))) = (&spec.label, labels.map_err(polars_err)?) {
        mapped_sources.push(label.column().to_string());
        problems.list.extend(found.list);
        out.push(v);
    }

    let mut text_columns = Vec::new();
    let mut summaries = summaries.into_iter().peekable();
    for name in header {
        if mapped_sources.contains(name) {
            continue;
        }
        if let Some((_, distinct)) = summaries.next_if(|(n, _)| n == name) {
            text_columns.push(ColumnSummary {
                name: name.clone(),
                distinct,
            });
            continue;
        }
        let col = raw.column(name).map_err(polars_err)?;
        let wanted = spec.numeric.contains(name);
        let auto = spec.format == Format::Table
            && spec.numeric.is_empty()
            && validate::looks_numeric(col).map_err(polars_err)?;
        if wanted || auto {
            let v = validate::numbers(col, name, NumberKind::Any, name, &mut problems)
                .map_err(polars_err)?;
            out.push(v.into_column());
        } else {
            text_columns.push(ColumnSummary {
                name: name.clone(),
                distinct: summarize(col).map_err(polars_err)?,
            });
        }
    }
    drop(raw);
    let row_ids: Vec<u64> = (first_row..first_row + height as u64).collect();
    out.insert(
        0,
        UInt64Chunked::from_vec(ROW_ID.into(), row_ids).into_column(),
    );
    let df = DataFrame::new(height, out).map_err(polars_err)?;
    Ok(Converted {
        df,
        path: path.to_path_buf(),
        first_row,
        rows: height,
        problems: problems.list,
        text_columns,
    })
}

/// A validated mapped column: typed, or timestamps (typed after the start/end order check).
enum Mapped {
    Column(Column),
    Times(Int64Chunked),
}

fn check_columns(
    spec: &SourceSpec,
    mapping: &[(&'static str, String)],
    header: &[String],
    path: &Path,
) -> Result<(), IngestError> {
    let mut required: Vec<&str> = mapping.iter().map(|(_, s)| s.as_str()).collect();
    if let Some(label) = &spec.label {
        required.push(label.column());
    }
    required.extend(spec.numeric.iter().map(String::as_str));
    let mut missing: Vec<String> = Vec::new();
    for r in required {
        if !header.iter().any(|h| h == r) && !missing.iter().any(|m| m == r) {
            missing.push(r.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            present: header.to_vec(),
        });
    }
    let label_column = spec.label.as_ref().map(|l| l.column());
    let targets = mapping
        .iter()
        .map(|(c, s)| (*c, s.as_str()))
        .chain(label_column.map(|l| (LABEL, l)));
    for (canonical_name, source) in targets {
        let taken = header.iter().any(|h| h == canonical_name)
            && !mapping.iter().any(|(_, s)| s == canonical_name)
            && label_column != Some(canonical_name);
        if source != canonical_name && taken {
            return Err(IngestError::NameCollision {
                path: path.to_path_buf(),
                column: source.to_string(),
                canonical: canonical_name.to_string(),
            });
        }
    }
    Ok(())
}
