//! [`read_log`] and [`read_log_batches`]: the ingest entry points.

use crate::chunks::CsvChunks;
use crate::convert::convert;
use crate::converted::Converted;
use crate::error::IngestError;
use crate::log_table::LogTable;
use crate::parse_chunk::{column_names, convert_chunk};
use crate::raw::{RawSource, no_rows, open_source};
use crate::spec::SourceSpec;

/// Data rows parsed at a time when a whole log is read: bounds the CSV text held in memory.
/// Two chunk buffers take turns (one read while the other is converted), so their size is
/// memory the kernel must supply (PERFORMANCE.md has the measurements behind the size).
const WHOLE_FILE_CHUNK_ROWS: usize = 1 << 17;

/// Data rows of the first chunk of a whole log (each next chunk doubles, up to
/// [`WHOLE_FILE_CHUNK_ROWS`]).
const FIRST_CHUNK_ROWS: usize = 1 << 15;

/// Reads and validates a whole log.
pub fn read_log(spec: &SourceSpec) -> Result<LogTable, IngestError> {
    let path = spec.path.as_path();
    let mut parts = Vec::new();
    let mut file_blake3 = None;
    match open_source(path, WHOLE_FILE_CHUNK_ROWS)? {
        RawSource::Parquet(df) => {
            let header = column_names(&df);
            parts.push(convert(df, &header, Vec::new(), spec, 0, false)?);
        }
        RawSource::Csv(chunks) => {
            // the next chunk is read while this one is converted; small chunks first, so that
            // converting starts soon
            let mut chunks = chunks.ramp_up_from(FIRST_CHUNK_ROWS);
            let mut next = chunks.next_chunk()?;
            while let Some(chunk) = next {
                let (part, following) =
                    rayon::join(|| convert_chunk(&chunk, spec), || chunks.next_chunk());
                parts.push(part?);
                chunks.recycle(chunk.text);
                next = following?;
            }
            file_blake3 = chunks.file_blake3();
        }
    }
    let whole = Converted::concat(parts, path)?.ok_or_else(|| no_rows(path))?;
    let mut table = whole.into_table(spec, false)?;
    table.file_blake3 = file_blake3;
    Ok(table)
}

/// Reads a CSV log in batches of at most `batch_rows` data rows, each validated on its own
/// (row ids and error rows stay those of the whole file). Memory is bounded by the batch size,
/// whatever the file's size. With `on_bad_rows: fail` the first batch holding a bad value ends
/// the iteration with its error; with `skip`, a batch may come back with no rows.
pub fn read_log_batches(spec: &SourceSpec, batch_rows: usize) -> Result<LogBatches, IngestError> {
    match open_source(&spec.path, batch_rows)? {
        RawSource::Csv(chunks) => Ok(LogBatches {
            spec: spec.clone(),
            chunks,
            any: false,
        }),
        RawSource::Parquet(_) => Err(IngestError::Parse {
            path: spec.path.clone(),
            message: "batch reading supports CSV files only; read Parquet without batches".into(),
        }),
    }
}

/// Iterator over the validated batches of a CSV log, see [`read_log_batches`].
pub struct LogBatches {
    spec: SourceSpec,
    chunks: CsvChunks,
    any: bool,
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
        let table = convert_chunk(&chunk, &self.spec).and_then(|c| c.into_table(&self.spec, true));
        self.chunks.recycle(chunk.text);
        Some(table)
    }
}
