//! Validating and typing the columns of one raw part of a source (a CSV chunk or a whole
//! Parquet file): mapped columns, times, labels and numeric columns become canonical typed
//! columns, every other column is summarised.

use crate::canonical::{self, DURATION, END_TIME, LABEL, ROW_ID, START_TIME};
use crate::converted::{Converted, MissingFill};
use crate::error::IngestError;
use crate::formats::Part;
use crate::layout::{Layout, Mapped as MappedColumn};
use crate::spec::{Format, MissingPolicy, SourceSpec};
use crate::summary::{ColumnSummary, Distinct, summarize};
use crate::validate::{self, Missing, NumberKind, Origin, Problems};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Validates and types the columns of one raw part of a log (`origin` says where it is from).
/// `header` names the source's columns in order: those of `raw`, and the text columns already
/// reduced to `summaries`. `labels_read`: a Boolean label column of `raw` holds labels the plain
/// reader parsed already (a Parquet file's Boolean column is parsed as text, like any other).
pub(crate) fn convert(
    raw: DataFrame,
    header: &[String],
    summaries: Vec<(String, Distinct)>,
    spec: &SourceSpec,
    layout: &Layout,
    origin: &Origin,
    labels_read: bool,
) -> Result<Converted, IngestError> {
    let path = origin.file.as_path();
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    check_columns(spec, layout, header, path)?;

    let height = raw.height();
    let mut problems = Problems::new(origin);
    let mut fills: Vec<MissingFill> = Vec::new();
    let mut out: Vec<Column> = Vec::with_capacity(header.len() + 2);
    let mut mapped_sources: Vec<String> = Vec::new();
    // the mapped columns and the label are validated in parallel, each with its own problems,
    // joined in the order a serial pass reports them in: mapped columns, times, label
    let validate_mapped = || {
        layout
            .mapping
            .par_iter()
            .map(|m| {
                let mut problems = Problems::new(origin);
                let mapped = map_column(&raw, m, layout, &mut problems)?;
                Ok((mapped, problems.list, (problems.zeroed, problems.kept)))
            })
            .collect::<Vec<PolarsResult<(Mapped, _, _)>>>()
    };
    let validate_labels = || -> PolarsResult<Option<(Column, Vec<_>)>> {
        let Some(label) = &spec.label else {
            return Ok(None);
        };
        let mut problems = Problems::new(origin);
        let col = raw.column(label.column())?;
        if labels_read && col.dtype() == &DataType::Boolean {
            return Ok(Some((col.clone().with_name(LABEL.into()), problems.list)));
        }
        let v = validate::labels(col, label, &mut problems)?;
        Ok(Some((Column::new(LABEL.into(), v), problems.list)))
    };
    let (validated, labels) = rayon::join(validate_mapped, validate_labels);
    let mut times: BTreeMap<&str, (Int64Chunked, &str)> = BTreeMap::new();
    let mut duration: Option<Float64Chunked> = None;
    for (m, validated) in layout.mapping.iter().zip(validated) {
        let (mapped, found, (zeroed, kept)) = validated.map_err(polars_err)?;
        problems.list.extend(found);
        for (policy, rows) in [(MissingPolicy::Zero, zeroed), (MissingPolicy::Keep, kept)] {
            if !rows.is_empty() {
                fills.push(MissingFill {
                    column: m.source.clone(),
                    canonical: Some(m.canonical),
                    policy,
                    rows,
                });
            }
        }
        if !mapped_sources.contains(&m.source) {
            mapped_sources.push(m.source.clone());
        }
        match mapped {
            Mapped::Column(c) => {
                if m.canonical == DURATION {
                    duration = Some(c.f64().map_err(polars_err)?.clone());
                }
                out.push(c)
            }
            Mapped::Times(v) => {
                times.insert(m.canonical, (v, &m.source));
            }
        }
    }
    // a duration without an end time gives the end time
    if let (Some((start, _)), None, Some(duration)) =
        (times.get(START_TIME), times.get(END_TIME), &duration)
    {
        let end: Int64Chunked = start
            .iter()
            .zip(duration.iter())
            .map(|(s, d)| match (s, d) {
                (Some(s), Some(d)) if d.is_finite() => Some(s + (d * 1000.0).round() as i64),
                _ => s,
            })
            .collect();
        let source = layout.source_of(DURATION).map_or("", |m| m.source.as_str());
        times.insert(END_TIME, (end, source));
    }
    if let (Some((start, start_src)), Some((end, end_src))) =
        (times.get(START_TIME), times.get(END_TIME))
        && layout.source_of(END_TIME).is_some()
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
        problems.list.extend(found);
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
        if spec.text.contains(name) {
            let missing = Missing {
                policy: layout.missing_policy(None, name, false),
                nulls: &layout.nulls,
            };
            out.push(
                validate::string_column(col, name, name, missing, &mut problems)
                    .map_err(polars_err)?,
            );
            let kept = std::mem::take(&mut problems.kept);
            if !kept.is_empty() {
                fills.push(MissingFill {
                    column: name.clone(),
                    canonical: None,
                    policy: MissingPolicy::Keep,
                    rows: kept,
                });
            }
            continue;
        }
        let wanted = spec.numeric.contains(name);
        let auto = spec.format == Format::Table
            && spec.numeric.is_empty()
            && validate::looks_numeric(col, &layout.nulls).map_err(polars_err)?;
        if wanted || auto {
            let missing = Missing {
                policy: layout.missing_policy(None, name, true),
                nulls: &layout.nulls,
            };
            let v = validate::numbers(col, name, NumberKind::Any, name, missing, &mut problems)
                .map_err(polars_err)?;
            let zeroed = std::mem::take(&mut problems.zeroed);
            if !zeroed.is_empty() {
                fills.push(MissingFill {
                    column: name.clone(),
                    canonical: None,
                    policy: MissingPolicy::Zero,
                    rows: zeroed,
                });
            }
            out.push(v.into_column());
        } else {
            text_columns.push(ColumnSummary {
                name: name.clone(),
                distinct: summarize(col).map_err(polars_err)?,
            });
        }
    }
    drop(raw);
    let first_row = origin.first_row;
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
        fills,
    })
}

/// Validates one mapped column.
fn map_column(
    raw: &DataFrame,
    m: &MappedColumn,
    layout: &Layout,
    problems: &mut Problems,
) -> PolarsResult<Mapped> {
    let canonical_name = m.canonical;
    let source = m.source.as_str();
    let whole = raw.column(source)?;
    let part;
    let col = match m.part {
        Part::Whole => whole,
        Part::Host | Part::Port => {
            part = validate::host_port_part(
                whole,
                source,
                m.part == Part::Port,
                &layout.nulls,
                problems,
            )?;
            &part
        }
    };
    let numeric = canonical::QUANTITIES.contains(&canonical_name)
        || canonical::PORTS.contains(&canonical_name)
        || canonical::TIMES.contains(&canonical_name);
    let missing = Missing {
        policy: layout.missing_policy(Some(canonical_name), source, numeric),
        nulls: &layout.nulls,
    };
    Ok(if canonical::QUANTITIES.contains(&canonical_name) {
        let kind = if canonical_name == DURATION {
            NumberKind::Seconds
        } else {
            NumberKind::NonNegative
        };
        Mapped::Column(
            validate::numbers(col, source, kind, canonical_name, missing, problems)?.into_column(),
        )
    } else if canonical::PORTS.contains(&canonical_name) {
        Mapped::Column(
            validate::ports(col, source, canonical_name, missing, problems)?.into_column(),
        )
    } else if canonical::TIMES.contains(&canonical_name) {
        Mapped::Times(validate::timestamps(
            col,
            source,
            &layout.time,
            missing,
            problems,
        )?)
    } else {
        Mapped::Column(validate::string_column(
            col,
            source,
            canonical_name,
            missing,
            problems,
        )?)
    })
}

/// A validated mapped column: typed, or timestamps (typed after the start/end order check).
enum Mapped {
    Column(Column),
    Times(Int64Chunked),
}

/// The source columns a log read under `spec` must have: the mapped ones, the label, and the
/// numeric and text columns the features read (every other column is only summarised).
pub(crate) fn required_columns<'a>(spec: &'a SourceSpec, layout: &'a Layout) -> Vec<&'a str> {
    let mut required: Vec<&str> = layout.mapping.iter().map(|m| m.source.as_str()).collect();
    if let Some(label) = &spec.label {
        required.push(label.column());
    }
    required.extend(spec.numeric.iter().map(String::as_str));
    required.extend(spec.text.iter().map(String::as_str));
    required
}

fn check_columns(
    spec: &SourceSpec,
    layout: &Layout,
    header: &[String],
    path: &Path,
) -> Result<(), IngestError> {
    let required = required_columns(spec, layout);
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
    let targets = layout
        .mapping
        .iter()
        .map(|m| (m.canonical, m.source.as_str()))
        .chain(label_column.map(|l| (LABEL, l)));
    for (canonical_name, source) in targets {
        let taken = header.iter().any(|h| h == canonical_name)
            && !layout.mapping.iter().any(|m| m.source == canonical_name)
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
