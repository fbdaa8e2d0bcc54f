//! Splits a CSV file into chunks of whole records, each parsed on its own, so that a log is
//! never held in memory as text all at once.
//!
//! A record ends at a newline outside double quotes (a quoted field may span lines). Blank
//! lines between records are dropped. Every chunk is handed to the CSV reader with the file's
//! header line in front, and knows the data-row index of its first record so that errors and
//! row ids stay those of the whole file.
//!
//! The file is read in large blocks; a block without a double quote has its records found by
//! a vectorised newline search, and runs of records are copied into the chunk at once. A
//! chunk's buffer can be handed back ([`CsvChunks::recycle`]) to be filled again, which spares
//! the kernel zeroing fresh pages for every chunk. The bytes are hashed (blake3) as they are
//! read, so a run's data fingerprint needs no second pass over the file.

use crate::error::IngestError;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes read from the file at a time.
const READ_BLOCK: usize = 4 << 20;

/// A run of whole records, with the header line in front.
pub(crate) struct Chunk {
    /// Header line + records (each ending in a newline), ready for the CSV reader.
    pub text: Vec<u8>,
    /// Data-row index (0-based) of the chunk's first record.
    pub first_row: u64,
    /// Records in the chunk.
    pub rows: usize,
}

/// Reads consecutive chunks of at most `rows_per_chunk` records.
pub(crate) struct CsvChunks {
    file: File,
    path: PathBuf,
    header: Vec<u8>,
    rows_per_chunk: usize,
    /// Records in the next chunk (below `rows_per_chunk` while ramping up, see
    /// [`CsvChunks::ramp_up_from`]).
    next_chunk_rows: usize,
    next_row: u64,
    /// Bytes read from the file; `buf[pos..]` is not yet in a chunk and starts a record.
    buf: Vec<u8>,
    pos: usize,
    /// Whether `buf[pos..]` holds a double quote.
    quoted: bool,
    /// The file has been read to its end.
    eof: bool,
    /// A chunk buffer handed back, to be filled again.
    spare: Option<Vec<u8>>,
    /// blake3 of the bytes read so far (boxed: the hasher state is about 2 KiB).
    hasher: Box<blake3::Hasher>,
}

impl CsvChunks {
    /// Opens `path` and reads its header line (the caller has checked it exists and is not
    /// empty).
    pub(crate) fn open(
        file: File,
        path: &Path,
        rows_per_chunk: usize,
    ) -> Result<Self, IngestError> {
        let mut chunks = Self {
            file,
            path: path.to_path_buf(),
            header: Vec::new(),
            rows_per_chunk: rows_per_chunk.max(1),
            next_chunk_rows: rows_per_chunk.max(1),
            next_row: 0,
            buf: Vec::new(),
            pos: 0,
            quoted: false,
            eof: false,
            spare: None,
            hasher: Box::new(blake3::Hasher::new()),
        };
        let header = loop {
            match chunks.record_end()? {
                Some(end) => break chunks.buf[..end].to_vec(),
                None if chunks.eof => break chunks.buf.clone(),
                None => chunks.refill()?,
            }
        };
        chunks.pos = header.len();
        chunks.header = header;
        if !chunks.header.ends_with(b"\n") {
            chunks.header.push(b'\n');
        }
        Ok(chunks)
    }

    /// Makes the first chunk `rows` records (if fewer than the chunk size) and each next one twice
    /// the last, up to the chunk size: a reader that converts a chunk while the next is read
    /// starts sooner.
    pub(crate) fn ramp_up_from(mut self, rows: usize) -> Self {
        self.next_chunk_rows = rows.clamp(1, self.rows_per_chunk);
        self
    }

    /// Hands back a chunk's buffer for the next chunk.
    pub(crate) fn recycle(&mut self, text: Vec<u8>) {
        self.spare = Some(text);
    }

    /// The next chunk, or `None` at the end of the file.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Chunk>, IngestError> {
        let mut text = self.spare.take().unwrap_or_default();
        text.clear();
        text.extend_from_slice(&self.header);
        let mut rows = 0;
        // records buf[run..pos] are kept and not yet copied into text
        let mut run = self.pos;
        let limit = self.next_chunk_rows;
        self.next_chunk_rows = limit.saturating_mul(2).min(self.rows_per_chunk);
        while rows < limit {
            let Some(end) = self.record_end()? else {
                text.extend_from_slice(&self.buf[run..self.pos]);
                if self.eof {
                    // a last record without a newline
                    let last = &self.buf[self.pos..];
                    if !is_blank(last) {
                        text.extend_from_slice(last);
                        text.push(b'\n');
                        rows += 1;
                    }
                    self.pos = self.buf.len();
                    run = self.pos;
                    break;
                }
                self.refill()?;
                run = self.pos;
                continue;
            };
            if is_blank(&self.buf[self.pos..end]) {
                text.extend_from_slice(&self.buf[run..self.pos]);
                run = end;
            } else {
                rows += 1;
            }
            self.pos = end;
        }
        text.extend_from_slice(&self.buf[run..self.pos]);
        if rows == 0 {
            self.spare = Some(text);
            return Ok(None);
        }
        let chunk = Chunk {
            text,
            first_row: self.next_row,
            rows,
        };
        self.next_row += rows as u64;
        Ok(Some(chunk))
    }

    /// The end (after its newline) of the record at `buf[pos..]`, if the buffer holds all of it.
    fn record_end(&self) -> Result<Option<usize>, IngestError> {
        let rest = &self.buf[self.pos..];
        if !self.quoted {
            return Ok(memchr::memchr(b'\n', rest).map(|i| self.pos + i + 1));
        }
        // a newline ends the record when the quotes before it are balanced
        let mut quotes = 0usize;
        let mut from = 0;
        for newline in memchr::memchr_iter(b'\n', rest) {
            quotes += memchr::memchr_iter(b'"', &rest[from..newline]).count();
            from = newline + 1;
            if quotes.is_multiple_of(2) {
                return Ok(Some(self.pos + newline + 1));
            }
        }
        Ok(None)
    }

    /// blake3 (hex) of the whole file, once it has been read to its end: the bytes the chunks
    /// came from, hashed as they were read.
    pub(crate) fn file_blake3(&self) -> Option<String> {
        self.eof
            .then(|| self.hasher.finalize().to_hex().to_string())
    }

    /// Drops the consumed bytes and appends the next block of the file.
    fn refill(&mut self) -> Result<(), IngestError> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        let before = self.buf.len();
        let read = (&mut self.file)
            .take(READ_BLOCK as u64)
            .read_to_end(&mut self.buf)
            .map_err(|source| IngestError::Open {
                path: self.path.clone(),
                source,
            })?;
        self.hasher.update(&self.buf[before..]);
        self.eof = read == 0;
        self.quoted = memchr::memchr(b'"', &self.buf).is_some();
        Ok(())
    }
}

/// A record of nothing but line ends.
fn is_blank(record: &[u8]) -> bool {
    record.iter().all(|b| matches!(b, b'\r' | b'\n'))
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
                String::from_utf8(chunk.text.clone()).unwrap(),
                chunk.first_row,
                chunk.rows,
            ));
            c.recycle(chunk.text);
        }
        // every byte read was hashed
        let whole = blake3::hash(content.as_bytes()).to_hex().to_string();
        assert_eq!(c.file_blake3(), Some(whole));
        out
    }

    #[test]
    fn ramped_chunks_double_up_to_the_chunk_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let content: String = std::iter::once("a\n".to_string())
            .chain((0..20).map(|i| format!("{i}\n")))
            .collect();
        std::fs::write(&path, content).unwrap();
        let mut c = CsvChunks::open(File::open(&path).unwrap(), &path, 8)
            .unwrap()
            .ramp_up_from(1);
        let mut sizes = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            assert_eq!(chunk.first_row, sizes.iter().sum::<usize>() as u64);
            sizes.push(chunk.rows);
        }
        assert_eq!(sizes, [1, 2, 4, 8, 5]);
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

    #[test]
    fn records_across_read_blocks() {
        // records (some quoted over lines, some blank) spanning several READ_BLOCKs
        let mut content = String::from("id,\"note\"\r\n");
        let mut want = Vec::new();
        let mut i = 0;
        while content.len() < 3 * READ_BLOCK {
            let record = match i % 5 {
                0 => format!("{i},\"two\nlines, \"\"quoted\"\"\"\r\n"),
                1 => format!("{i},{}\r\n", "x".repeat(i % 300)),
                _ => format!("{i},plain\n"),
            };
            content.push_str(&record);
            want.push(record.trim_end_matches(['\r', '\n']).to_string());
            if i % 97 == 0 {
                content.push_str("\r\n\n");
            }
            i += 1;
        }
        for per_chunk in [1000, 7919, usize::MAX] {
            let got = chunks(&content, per_chunk);
            let mut records = Vec::new();
            let mut next_row = 0;
            for (text, first_row, rows) in got {
                assert_eq!(first_row, next_row);
                next_row += rows as u64;
                let text = text.strip_prefix("id,\"note\"\r\n").expect("header first");
                // split the chunk back into records: a newline ends one when quotes balance
                let mut record = String::new();
                for line in text.split_inclusive('\n') {
                    record.push_str(line);
                    if record.matches('"').count().is_multiple_of(2) {
                        records.push(record.trim_end_matches(['\r', '\n']).to_string());
                        record.clear();
                    }
                }
                assert!(record.is_empty());
            }
            assert_eq!(records.len(), want.len(), "{per_chunk} per chunk");
            assert!(records == want, "{per_chunk} per chunk");
        }
    }
}
