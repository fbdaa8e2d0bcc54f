//! Finding the record behind a reader's failure: when polars' CSV reader refuses a chunk, the
//! chunk's records are checked one by one so the error names the file, the line, the column
//! and what was expected (a record with another number of fields than the header, or bytes
//! that are not UTF-8), rather than the reader's own message.

use crate::chunks::Chunk;
use crate::error::IngestError;
use crate::layout::Layout;

/// The first record of `chunk` that no reader can take, as an error; `None` when every record
/// has the header's fields in valid UTF-8.
pub(crate) fn first_bad_record(chunk: &Chunk, layout: &Layout) -> Option<IngestError> {
    let body = &chunk.text[memchr::memchr(b'\n', &chunk.text)? + 1..];
    let expected = layout.header.len();
    let mut row = 0;
    let mut record_start = 0;
    let mut counted_to = 0;
    let mut quotes = 0usize;
    for newline in memchr::memchr_iter(b'\n', body) {
        if let Some(q) = layout.quote {
            quotes += memchr::memchr_iter(q, &body[counted_to..newline]).count();
            counted_to = newline;
        }
        // a newline inside quotes does not end the record
        if quotes % 2 == 1 {
            continue;
        }
        let record = &body[record_start..newline];
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        let error = |message: String| IngestError::BadRecord {
            path: chunk.file.to_path_buf(),
            line: chunk.lines.line(row),
            message,
        };
        let text = match std::str::from_utf8(record) {
            Ok(text) => text,
            Err(e) => {
                let before = &record[..e.valid_up_to()];
                let field = before.iter().filter(|b| **b == layout.separator).count();
                let column = layout.header.get(field).map_or("?", String::as_str);
                let bad = record[e.valid_up_to()];
                return Some(error(format!(
                    "column `{column}`: byte 0x{bad:02X} at byte {} of the line is not UTF-8; expected UTF-8 text",
                    e.valid_up_to() + 1
                )));
            }
        };
        let fields = count_fields(text.as_bytes(), layout.separator, layout.quote);
        if fields != expected {
            return Some(error(format!(
                "{fields} fields, expected {expected} (the header's: {})",
                crate::error::quote_list(&layout.header)
            )));
        }
        row += 1;
        record_start = newline + 1;
        counted_to = record_start;
        quotes = 0;
    }
    (quotes % 2 == 1).then(|| IngestError::BadRecord {
        path: chunk.file.to_path_buf(),
        line: chunk.lines.line(row),
        message: "a quote opened in this record is never closed; expected every quoted field \
            to end with a quote"
            .into(),
    })
}

/// The number of fields of a record: separators outside quotes, plus one.
fn count_fields(record: &[u8], separator: u8, quote: Option<u8>) -> usize {
    let Some(q) = quote.filter(|q| memchr::memchr(*q, record).is_some()) else {
        return memchr::memchr_iter(separator, record).count() + 1;
    };
    let mut quoted = false;
    let mut fields = 1;
    for &b in record {
        if b == q {
            quoted = !quoted;
        } else if b == separator && !quoted {
            fields += 1;
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_outside_quotes() {
        assert_eq!(count_fields(b"a,b,c", b',', Some(b'"')), 3);
        assert_eq!(count_fields(b"a,\"b,c\",d", b',', Some(b'"')), 3);
        assert_eq!(count_fields(b"a,\"b\"\"c\",d", b',', Some(b'"')), 3);
        assert_eq!(count_fields(b"a\t\"b\tc", b'\t', None), 3);
        assert_eq!(count_fields(b"", b',', None), 1);
    }
}
