//! Splits a CSV file into chunks of whole records, each parsed on its own, so that a log is
//! never held in memory as text all at once.
//!
//! A record ends at a newline outside double quotes (a quoted field may span lines). Blank
//! lines between records are dropped. Every chunk is handed to the CSV reader with the file's
//! header line in front, and knows the data-row index of its first record so that errors and
//! row ids stay those of the whole file.

use crate::error::IngestError;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Bytes read from the file at a time.
const READ_BUFFER: usize = 1 << 20;

/// A run of whole records, with the header line in front.
pub(crate) struct Chunk {
    /// Header line + records, ready for the CSV reader.
    pub text: Vec<u8>,
    /// Data-row index (0-based) of the chunk's first record.
    pub first_row: u64,
    /// Records in the chunk.
    pub rows: usize,
}

/// Reads consecutive chunks of at most `rows_per_chunk` records.
pub(crate) struct CsvChunks {
    reader: BufReader<File>,
    path: PathBuf,
    header: Vec<u8>,
    rows_per_chunk: usize,
    next_row: u64,
    /// Capacity for the next chunk (the last chunk's size plus a margin).
    last_len: usize,
}

impl CsvChunks {
    /// Opens `path` and reads its header line (the caller has checked it exists and is not
    /// empty).
    pub(crate) fn open(
        file: File,
        path: &Path,
        rows_per_chunk: usize,
    ) -> Result<Self, IngestError> {
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        let mut header = Vec::new();
        read_record(&mut reader, &mut header, path)?;
        if !header.ends_with(b"\n") {
            header.push(b'\n');
        }
        Ok(Self {
            reader,
            path: path.to_path_buf(),
            header,
            rows_per_chunk: rows_per_chunk.max(1),
            next_row: 0,
            last_len: 0,
        })
    }

    /// The next chunk, or `None` at the end of the file.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Chunk>, IngestError> {
        // records are read straight into the chunk, sized like the previous one
        let mut text = Vec::with_capacity(self.last_len.max(self.header.len()));
        text.extend_from_slice(&self.header);
        let mut rows = 0;
        while rows < self.rows_per_chunk {
            let start = text.len();
            if read_record(&mut self.reader, &mut text, &self.path)? == 0 {
                break;
            }
            if text[start..].iter().all(|b| matches!(b, b'\r' | b'\n')) {
                text.truncate(start);
                continue;
            }
            if !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        self.last_len = text.len() + text.len() / 16;
        let chunk = Chunk {
            text,
            first_row: self.next_row,
            rows,
        };
        self.next_row += rows as u64;
        Ok(Some(chunk))
    }
}

/// Appends one record (one or more lines while a quote is open) to `out`; returns the bytes
/// read, 0 at the end of the file.
fn read_record(
    reader: &mut BufReader<File>,
    out: &mut Vec<u8>,
    path: &Path,
) -> Result<usize, IngestError> {
    let mut total = 0;
    let mut quotes = 0usize;
    loop {
        let start = out.len();
        let n = reader
            .read_until(b'\n', out)
            .map_err(|source| IngestError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        total += n;
        quotes += out[start..].iter().filter(|&&b| b == b'"').count();
        if n == 0 || quotes.is_multiple_of(2) {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(content: &str, per_chunk: usize) -> Vec<(String, u64, usize)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, content).unwrap();
        let mut c = CsvChunks::open(File::open(&path).unwrap(), &path, per_chunk).unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            out.push((
                String::from_utf8(chunk.text).unwrap(),
                chunk.first_row,
                chunk.rows,
            ));
        }
        out
    }

    #[test]
    fn chunks_repeat_the_header_and_count_rows() {
        let got = chunks("a,b\r\n1,2\r\n3,4\r\n5,6", 2);
        assert_eq!(
            got,
            vec![
                ("a,b\r\n1,2\r\n3,4\r\n".to_string(), 0, 2),
                ("a,b\r\n5,6\n".to_string(), 2, 1)
            ]
        );
    }

    #[test]
    fn quoted_newlines_stay_in_one_record_and_blank_lines_are_dropped() {
        let got = chunks("a,b\n\"x\ny\",1\n\n2,3\n", 1);
        assert_eq!(
            got,
            vec![
                ("a,b\n\"x\ny\",1\n".to_string(), 0, 1),
                ("a,b\n2,3\n".to_string(), 1, 1)
            ]
        );
    }

    #[test]
    fn header_only_gives_no_chunk() {
        assert!(chunks("a,b\n", 10).is_empty());
    }
}
