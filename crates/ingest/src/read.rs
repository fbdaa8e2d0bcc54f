//! [`read_log`] and [`read_log_batches`]: the ingest entry points.

use crate::chunks::RecordChunks;
use crate::convert::convert;
use crate::converted::Converted;
use crate::error::IngestError;
use crate::follow::{Follow, Followed};
use crate::layout::Layout;
use crate::log_table::LogTable;
use crate::parse_chunk::{column_names, convert_chunk};
use crate::raw::{RawSource, no_rows, open_source};
use crate::spec::SourceSpec;
use crate::validate::Origin;
use std::sync::Arc;

/// Data rows parsed at a time when a whole log is read: bounds the text held in memory. Two
/// chunk buffers take turns (one read while the other is converted), so their size is memory
/// the kernel must supply (PERFORMANCE.md has the measurements behind the size).
const WHOLE_FILE_CHUNK_ROWS: usize = 1 << 17;

/// Data rows of the first chunk of a whole log (each next chunk doubles, up to
/// [`WHOLE_FILE_CHUNK_ROWS`]).
const FIRST_CHUNK_ROWS: usize = 1 << 15;

/// Reads and validates a whole log.
pub fn read_log(spec: &SourceSpec) -> Result<LogTable, IngestError> {
    let path = spec.path.as_path();
    let mut parts = Vec::new();
    let mut file_blake3 = None;
    match open_source(spec, WHOLE_FILE_CHUNK_ROWS)? {
        RawSource::Parquet { df, layout, file } => {
            let header = column_names(&df);
            let origin = Origin {
                first_row: 0,
                file: Arc::new(file),
                // a Parquet row's "line" is its 1-based row number
                lines: crate::chunks::LineMap::numbered(1),
            };
            parts.push(convert(
                df,
                &header,
                Vec::new(),
                spec,
                &layout,
                &origin,
                false,
            )?);
        }
        RawSource::Records(chunks) => {
            let layout = Arc::clone(chunks.layout());
            // the next chunk is read while this one is converted; small chunks first, so that
            // converting starts soon
            let mut chunks = (*chunks).ramp_up_from(FIRST_CHUNK_ROWS);
            let mut next = chunks.next_chunk()?;
            while let Some(chunk) = next {
                let (part, following) = rayon::join(
                    || convert_chunk(&chunk, spec, &layout),
                    || chunks.next_chunk(),
                );
                parts.push(part?);
                chunks.recycle(chunk.text);
                next = following?;
            }
            file_blake3 = chunks.data_blake3();
        }
    }
    let whole = Converted::concat(parts, path)?.ok_or_else(|| no_rows(path))?;
    let mut table = whole.into_table(spec, false)?;
    table.file_blake3 = file_blake3;
    Ok(table)
}

/// Reads a text log in batches of at most `batch_rows` data rows, each validated on its own
/// (row ids and error lines stay those of the whole log). Memory is bounded by the batch size,
/// whatever the log's size. With `on_bad_rows: fail` the first batch holding a bad value ends
/// the iteration with its error; with `skip`, a batch may come back with no rows.
pub fn read_log_batches(spec: &SourceSpec, batch_rows: usize) -> Result<LogBatches, IngestError> {
    match open_source(spec, batch_rows)? {
        RawSource::Records(chunks) => Ok(LogBatches {
            spec: spec.clone(),
            layout: Arc::clone(chunks.layout()),
            chunks: *chunks,
            any: false,
        }),
        RawSource::Parquet { file, .. } => Err(IngestError::Parse {
            path: file,
            message: "batch reading supports text logs only; read Parquet without batches".into(),
        }),
    }
}

/// Follows a growing text log (one file, or `-` for standard input) as `tail -F` does, in
/// batches of at most `batch_rows` data rows: a batch comes as soon as the rows written so far
/// are read, and the iteration ends when `follow.stop` is set (or standard input closes). Row
/// ids count on across rotations; every file's header must name the first one's columns.
pub fn follow_log(
    spec: &SourceSpec,
    batch_rows: usize,
    follow: Follow,
) -> Result<LogBatches, IngestError> {
    let chunks = RecordChunks::follow(spec, Followed::new(&spec.path, follow), batch_rows)?;
    Ok(LogBatches {
        spec: spec.clone(),
        layout: Arc::clone(chunks.layout()),
        chunks,
        any: false,
    })
}

/// Iterator over the validated batches of a text log, see [`read_log_batches`] and
/// [`follow_log`].
pub struct LogBatches {
    spec: SourceSpec,
    layout: Arc<Layout>,
    chunks: RecordChunks,
    any: bool,
}

impl LogBatches {
    /// The format's default feature list, if it has one.
    pub fn default_features(&self) -> Option<&'static [&'static str]> {
        self.layout.default_features()
    }

    /// A followed log stopped in the middle of a record: its file, line and the bytes of it
    /// read (never parsed).
    pub fn unfinished(&self) -> Option<(&std::path::Path, u64, usize)> {
        self.chunks.unfinished()
    }

    /// blake3 (hex) of every byte read, once the log has ended.
    pub fn data_blake3(&self) -> Option<String> {
        self.chunks.data_blake3()
    }
}

impl Iterator for LogBatches {
    type Item = Result<LogTable, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = match self.chunks.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) if self.any => return None,
            Ok(None) => {
                self.any = true;
                return Some(Err(no_rows(&self.spec.path)));
            }
            Err(e) => return Some(Err(e)),
        };
        self.any = true;
        let table = convert_chunk(&chunk, &self.spec, &self.layout)
            .and_then(|c| c.into_table(&self.spec, true));
        self.chunks.recycle(chunk.text);
        Some(table)
    }
}

/// blake3 (hex) of a log's decoded bytes, every file in order: the same fingerprint a whole
/// read computes as it goes.
pub fn data_blake3(spec: &SourceSpec) -> Result<String, IngestError> {
    let mut hasher = blake3::Hasher::new();
    for file in crate::files::log_files(&spec.path)? {
        let io = |source| IngestError::Open {
            path: file.clone(),
            source,
        };
        if crate::files::sniff(&file)? == crate::files::Encoding::Parquet {
            hasher
                .update_reader(std::fs::File::open(&file).map_err(io)?)
                .map_err(io)?;
        } else {
            hasher
                .update_reader(crate::files::open_text(&file)?)
                .map_err(io)?;
        }
    }
    Ok(hasher.finalize().to_hex().to_string())
}
