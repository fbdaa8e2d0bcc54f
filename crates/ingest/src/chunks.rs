//! Splits a log (one or many files, each decoded as it is read) into chunks of whole records,
//! each parsed on its own, so that a log is never held in memory as text all at once.
//!
//! A record ends at a newline outside quotes (when the format quotes, a quoted field may span
//! lines). Blank lines, and comment lines of formats that have them, are dropped between
//! records. Every chunk holds the records of one file with the log's header line in front
//! (what the CSV reader expects), knows the data-row index of its first record so that row ids
//! stay those of the whole log, and maps its records to their line numbers in that file.
//!
//! A file is read in large blocks; a block without a quote has its records found by a
//! vectorised newline search, and runs of records are copied into the chunk at once. A chunk's
//! buffer can be handed back ([`RecordChunks::recycle`]) to be filled again, which spares the
//! kernel zeroing fresh pages for every chunk. The decoded bytes are hashed (blake3) as they
//! are read, so a run's data fingerprint needs no second pass over the files.

use crate::error::IngestError;
use crate::files::open_text;
use crate::follow::Followed;
use crate::layout::{HeaderFound, Layout, read_header};
use crate::spec::SourceSpec;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read from a file at a time.
const READ_BLOCK: usize = 4 << 20;

/// Line numbers of a chunk's records: `(record index, line)` wherever a record does not start
/// on the line after the one before it ended (the first record always has an entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LineMap {
    starts: Vec<(usize, u64)>,
}

impl LineMap {
    /// Records numbered as lines from `first_line` on (a table without lines: Parquet, Arrow).
    pub(crate) fn numbered(first_line: u64) -> Self {
        Self {
            starts: vec![(0, first_line)],
        }
    }

    /// 1-based line of the chunk's record `index`.
    pub(crate) fn line(&self, index: usize) -> u64 {
        let at = self.starts.partition_point(|(i, _)| *i <= index);
        let (i, line) = self.starts[at.saturating_sub(1)];
        line + (index - i) as u64
    }

    pub(crate) fn note(&mut self, index: usize, line: u64) {
        let expected = self.starts.last().map(|_| self.line(index));
        if expected != Some(line) {
            self.starts.push((index, line));
        }
    }
}

/// A run of whole records of one file, with the header line in front.
pub(crate) struct Chunk {
    /// Header line + records (each ending in a newline), ready for the CSV reader.
    pub text: Vec<u8>,
    /// Data-row index (0-based) of the chunk's first record.
    pub first_row: u64,
    /// Records in the chunk.
    pub rows: usize,
    /// The file the records are from.
    pub file: Arc<PathBuf>,
    /// Their line numbers in it.
    pub lines: LineMap,
}

/// The files of a log after the first.
enum Files {
    /// Listed when the log was opened, still to be read.
    Listed(std::vec::IntoIter<PathBuf>),
    /// One followed path, opened anew after a rotation.
    Followed(Followed),
}

/// Reads consecutive chunks of at most `rows_per_chunk` records.
pub(crate) struct RecordChunks {
    spec: SourceSpec,
    /// Set once the first file's header is read.
    layout: Option<Arc<Layout>>,
    /// The quote and comment bytes of the format.
    quote: Option<u8>,
    comment: Option<u8>,
    header_line: Vec<u8>,
    /// Where the next file comes from.
    files: Files,
    reader: Box<dyn Read + Send>,
    file: Arc<PathBuf>,
    rows_per_chunk: usize,
    /// Records in the next chunk (below `rows_per_chunk` while ramping up, see
    /// [`RecordChunks::ramp_up_from`]).
    next_chunk_rows: usize,
    next_row: u64,
    /// Bytes read from the file; `buf[pos..]` is not yet in a chunk and starts a record.
    buf: Vec<u8>,
    pos: usize,
    /// Line number of `buf[pos]`.
    line: u64,
    /// Whether `buf[pos..]` holds a quote.
    quoted: bool,
    /// The current file has been read to its end.
    eof: bool,
    /// The last read found every byte written so far read (a followed log only).
    caught_up: bool,
    /// A followed log stopped in the middle of a record: its file, line and bytes.
    unfinished: Option<(Arc<PathBuf>, u64, usize)>,
    /// Every file has been read to its end.
    done: bool,
    /// A chunk buffer handed back, to be filled again.
    spare: Option<Vec<u8>>,
    /// blake3 of the bytes read so far (boxed: the hasher state is about 2 KiB).
    hasher: Box<blake3::Hasher>,
}

impl RecordChunks {
    /// Opens the first file of the log `spec` names and reads its header.
    pub(crate) fn open(
        spec: &SourceSpec,
        files: Vec<PathBuf>,
        rows_per_chunk: usize,
    ) -> Result<Self, IngestError> {
        let mut files = files.into_iter();
        let first = files.next().expect("a log has at least one file");
        let reader = open_text(&first)?;
        Self::start(spec, first, reader, Files::Listed(files), rows_per_chunk)
    }

    /// Follows a growing log (see [`crate::follow`]): a chunk is handed out as soon as the
    /// records written so far are read, without waiting for `rows_per_chunk` of them; the log
    /// ends when the follow is stopped (or standard input closes).
    pub(crate) fn follow(
        spec: &SourceSpec,
        followed: Followed,
        rows_per_chunk: usize,
    ) -> Result<Self, IngestError> {
        let reader = followed.first()?;
        let path = followed.display_path();
        Self::start(
            spec,
            path,
            reader,
            Files::Followed(followed),
            rows_per_chunk,
        )
    }

    fn start(
        spec: &SourceSpec,
        first: PathBuf,
        reader: Box<dyn Read + Send>,
        files: Files,
        rows_per_chunk: usize,
    ) -> Result<Self, IngestError> {
        let mut chunks = Self {
            spec: spec.clone(),
            layout: None,
            quote: crate::formats::description(spec.format).quote,
            comment: crate::formats::description(spec.format).comment,
            header_line: Vec::new(),
            files,
            reader,
            file: Arc::new(first),
            rows_per_chunk: rows_per_chunk.max(1),
            next_chunk_rows: rows_per_chunk.max(1),
            next_row: 0,
            buf: Vec::new(),
            pos: 0,
            line: 1,
            quoted: false,
            eof: false,
            caught_up: false,
            unfinished: None,
            done: false,
            spare: None,
            hasher: Box::new(blake3::Hasher::new()),
        };
        let header = chunks.file_header()?;
        let layout = Layout::resolve(spec, header, &chunks.file)?;
        chunks.header_line = layout.header_line();
        chunks.quote = layout.quote;
        chunks.layout = Some(Arc::new(layout));
        Ok(chunks)
    }

    /// Where a followed log stopped in the middle of a record: its file, line and the bytes
    /// written of it (not parsed: the rest of it was never read).
    pub(crate) fn unfinished(&self) -> Option<(&Path, u64, usize)> {
        (self.unfinished.as_ref()).map(|(file, line, bytes)| (file.as_path(), *line, *bytes))
    }

    /// How the log's records are read.
    pub(crate) fn layout(&self) -> &Arc<Layout> {
        self.layout.as_ref().expect("set when the log is opened")
    }

    /// Reads the current file's header lines and moves past them.
    fn file_header(&mut self) -> Result<HeaderFound, IngestError> {
        loop {
            if self.buf.is_empty() && self.eof {
                return Err(IngestError::Empty {
                    path: self.file.to_path_buf(),
                    what: "file is empty",
                });
            }
            let found = read_header(&self.spec, &self.buf, self.eof, &self.file)?;
            match found {
                Some(found) => {
                    self.pos = found.consumed;
                    self.line = 1 + found.lines;
                    return Ok(found);
                }
                None if self.eof => {
                    return Err(IngestError::Empty {
                        path: self.file.to_path_buf(),
                        what: "no data rows",
                    });
                }
                None => {
                    self.refill()?;
                    self.check_record_length()?;
                }
            }
        }
    }

    /// Fails when the record at `pos` has run past the longest a record may be without ending
    /// (memory and time stay bounded whatever the file holds: a missing line end, a file of NUL
    /// bytes, a quote never closed).
    fn check_record_length(&self) -> Result<(), IngestError> {
        let rest = &self.buf[self.pos..];
        let limit = self.spec.max_record_bytes;
        if (rest.len() as u64) <= limit || self.record_end().is_some() {
            return Ok(());
        }
        let unclosed_quote = self.quote.is_some_and(|q| {
            let prefix = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
            memchr::memchr_iter(q, prefix).count() % 2 == 1
        });
        Err(IngestError::RecordTooLong {
            path: self.file.to_path_buf(),
            line: self.line,
            limit,
            unclosed_quote,
        })
    }

    /// Moves on to the next file; `false` when there is none. Its header must name the
    /// columns the first file's did.
    fn next_file(&mut self) -> Result<bool, IngestError> {
        let next = match &mut self.files {
            Files::Listed(later) => match later.next() {
                Some(path) => Some((open_text(&path)?, path)),
                None => None,
            },
            Files::Followed(followed) => followed
                .next()?
                .map(|reader| (reader, followed.display_path())),
        };
        let Some((reader, next)) = next else {
            self.done = true;
            return Ok(false);
        };
        self.reader = reader;
        self.file = Arc::new(next);
        self.buf.clear();
        self.pos = 0;
        self.eof = false;
        let header = self.file_header()?;
        let layout = self.layout();
        let expected = &layout.header;
        if !header.json && header.names != *expected || header.json != layout.json {
            return Err(IngestError::Parse {
                path: self.file.to_path_buf(),
                message: format!(
                    "its columns ({}) differ from those of the log's first file ({})",
                    header.names.join(", "),
                    expected.join(", ")
                ),
            });
        }
        Ok(true)
    }

    /// Makes the first chunk `rows` records (if fewer than the chunk size) and each next one
    /// twice the last, up to the chunk size: a reader that converts a chunk while the next is
    /// read starts sooner.
    pub(crate) fn ramp_up_from(mut self, rows: usize) -> Self {
        self.next_chunk_rows = rows.clamp(1, self.rows_per_chunk);
        self
    }

    /// Hands back a chunk's buffer for the next chunk.
    pub(crate) fn recycle(&mut self, text: Vec<u8>) {
        self.spare = Some(text);
    }

    /// The next chunk, or `None` after the last record of the last file.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Chunk>, IngestError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(chunk) = self.chunk_of_this_file()? {
                return Ok(Some(chunk));
            }
            if !self.next_file()? {
                return Ok(None);
            }
        }
    }

    /// The next chunk of the current file, or `None` at its end.
    fn chunk_of_this_file(&mut self) -> Result<Option<Chunk>, IngestError> {
        let mut text = self.spare.take().unwrap_or_default();
        text.clear();
        text.extend_from_slice(&self.header_line);
        let mut rows = 0;
        let mut lines = LineMap::default();
        // records buf[run..pos] are kept and not yet copied into text
        let mut run = self.pos;
        let limit = self.next_chunk_rows;
        let comment = self.comment;
        while rows < limit {
            let Some(end) = self.record_end() else {
                text.extend_from_slice(&self.buf[run..self.pos]);
                if self.eof {
                    // a last record without a newline (unfinished when a follow stopped it)
                    let last = &self.buf[self.pos..];
                    let stopped = matches!(&self.files, Files::Followed(f) if f.stopped());
                    if stopped && !last.is_empty() {
                        let file = Arc::clone(&self.file);
                        self.unfinished = Some((file, self.line, last.len()));
                    } else if !is_skipped(last, comment) {
                        lines.note(rows, self.line);
                        text.extend_from_slice(last);
                        text.push(b'\n');
                        rows += 1;
                    }
                    self.pos = self.buf.len();
                    run = self.pos;
                    break;
                }
                if self.caught_up && rows > 0 {
                    // a followed log: score what has been written so far
                    run = self.pos;
                    break;
                }
                self.refill()?;
                self.check_record_length()?;
                run = self.pos;
                continue;
            };
            let record = &self.buf[self.pos..end];
            let newlines = if self.quoted {
                memchr::memchr_iter(b'\n', record).count() as u64
            } else {
                1
            };
            if is_skipped(record, comment) {
                text.extend_from_slice(&self.buf[run..self.pos]);
                run = end;
            } else {
                lines.note(rows, self.line);
                rows += 1;
            }
            self.line += newlines;
            self.pos = end;
        }
        text.extend_from_slice(&self.buf[run..self.pos]);
        if rows == 0 {
            self.spare = Some(text);
            return Ok(None);
        }
        self.next_chunk_rows = limit.saturating_mul(2).min(self.rows_per_chunk);
        let chunk = Chunk {
            text,
            first_row: self.next_row,
            rows,
            file: Arc::clone(&self.file),
            lines,
        };
        self.next_row += rows as u64;
        Ok(Some(chunk))
    }

    /// The end (after its newline) of the record at `buf[pos..]`, if the buffer holds all of it.
    fn record_end(&self) -> Option<usize> {
        let rest = &self.buf[self.pos..];
        let quote = match self.quote {
            Some(q) if self.quoted => q,
            _ => return memchr::memchr(b'\n', rest).map(|i| self.pos + i + 1),
        };
        // a newline ends the record when the quotes before it are balanced
        let mut quotes = 0usize;
        let mut from = 0;
        for newline in memchr::memchr_iter(b'\n', rest) {
            quotes += memchr::memchr_iter(quote, &rest[from..newline]).count();
            from = newline + 1;
            if quotes.is_multiple_of(2) {
                return Some(self.pos + newline + 1);
            }
        }
        None
    }

    /// blake3 (hex) of the log's decoded bytes, once every file has been read to its end.
    pub(crate) fn data_blake3(&self) -> Option<String> {
        self.done
            .then(|| self.hasher.finalize().to_hex().to_string())
    }

    /// Drops the consumed bytes and appends the next block of the file.
    fn refill(&mut self) -> Result<(), IngestError> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        let before = self.buf.len();
        // a followed file says when every byte written so far is read (what it read before
        // saying so is in `buf`)
        let read = match (&mut self.reader)
            .take(READ_BLOCK as u64)
            .read_to_end(&mut self.buf)
        {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            read => Some(read.map_err(|source| IngestError::Open {
                path: self.file.to_path_buf(),
                source,
            })?),
        };
        self.hasher.update(&self.buf[before..]);
        self.caught_up = read.is_none();
        self.eof = read == Some(0);
        self.quoted = self
            .quote
            .is_some_and(|q| memchr::memchr(q, &self.buf).is_some());
        Ok(())
    }
}

/// A record of nothing but line ends, or a comment line.
fn is_skipped(record: &[u8], comment: Option<u8>) -> bool {
    record.iter().all(|b| matches!(b, b'\r' | b'\n'))
        || comment.is_some_and(|c| record.first() == Some(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Format;

    fn chunks_of(spec: &SourceSpec, per_chunk: usize) -> Vec<(String, u64, usize, Vec<u64>)> {
        let files = crate::files::log_files(&spec.path).unwrap();
        let mut c = RecordChunks::open(spec, files, per_chunk).unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            let lines = (0..chunk.rows).map(|i| chunk.lines.line(i)).collect();
            out.push((
                String::from_utf8(chunk.text.clone()).unwrap(),
                chunk.first_row,
                chunk.rows,
                lines,
            ));
            c.recycle(chunk.text);
        }
        assert!(c.data_blake3().is_some());
        out
    }

    fn chunks(content: &str, per_chunk: usize) -> Vec<(String, u64, usize, Vec<u64>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, content).unwrap();
        let got = chunks_of(&SourceSpec::table(&path), per_chunk);
        // every byte read was hashed
        let files = crate::files::log_files(&path).unwrap();
        let mut c = RecordChunks::open(&SourceSpec::table(&path), files, per_chunk).unwrap();
        while c.next_chunk().unwrap().is_some() {}
        let whole = blake3::hash(content.as_bytes()).to_hex().to_string();
        assert_eq!(c.data_blake3(), Some(whole));
        got
    }

    #[test]
    fn ramped_chunks_double_up_to_the_chunk_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let content: String = std::iter::once("a\n".to_string())
            .chain((0..20).map(|i| format!("{i}\n")))
            .collect();
        std::fs::write(&path, content).unwrap();
        let spec = SourceSpec::table(&path);
        let mut c = RecordChunks::open(&spec, vec![path.clone()], 8)
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
    fn chunks_repeat_the_header_and_count_rows_and_lines() {
        let got = chunks("a,b\r\n1,2\r\n3,4\r\n5,6", 2);
        assert_eq!(
            got,
            vec![
                ("a,b\n1,2\r\n3,4\r\n".to_string(), 0, 2, vec![2, 3]),
                ("a,b\n5,6\n".to_string(), 2, 1, vec![4])
            ]
        );
    }

    #[test]
    fn quoted_newlines_stay_in_one_record_and_blank_lines_are_dropped() {
        let got = chunks("a,b\n\"x\ny\",1\n\n2,3\n", 1);
        assert_eq!(
            got,
            vec![
                ("a,b\n\"x\ny\",1\n".to_string(), 0, 1, vec![2]),
                ("a,b\n2,3\n".to_string(), 1, 1, vec![5])
            ]
        );
    }

    #[test]
    fn header_only_gives_no_chunk() {
        assert!(chunks("a,b\n", 10).is_empty());
    }

    #[test]
    fn zeek_comment_lines_are_skipped_and_files_follow_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let head = "#separator \\x09\n#fields\tts\tx\n#types\ttime\tcount\n";
        std::fs::write(
            dir.path().join("1.log"),
            format!("{head}1\t\"a\n2\t-\n#close\tx\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("2.log"), format!("{head}3\t4\n")).unwrap();
        let spec = SourceSpec::new(dir.path(), Format::Zeek);
        let got = chunks_of(&spec, 10);
        assert_eq!(
            got,
            vec![
                ("ts\tx\n1\t\"a\n2\t-\n".to_string(), 0, 2, vec![4, 5]),
                ("ts\tx\n3\t4\n".to_string(), 2, 1, vec![4]),
            ]
        );
        std::fs::write(dir.path().join("3.log"), "#fields\tts\ty\n5\t6\n").unwrap();
        let files = crate::files::log_files(dir.path()).unwrap();
        let mut c = RecordChunks::open(&spec, files, 10).unwrap();
        let err = loop {
            match c.next_chunk() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the third file's header differs"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("3.log") && err.contains("differ"), "{err}");
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
            for (text, first_row, rows, _) in got {
                assert_eq!(first_row, next_row);
                next_row += rows as u64;
                let text = text.strip_prefix("id,note\n").expect("header first");
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
