//! JSON lines: each record one JSON object, its keys the columns. Values become the text they
//! would have in a delimited log (strings as they are, numbers as written, booleans as
//! `true`/`false`, arrays such as Zeek's sets joined with commas); a key a record leaves out,
//! or a JSON `null`, is a missing value. Every record is checked: a line that is not an object,
//! or a key the log's first records did not have, is an error naming its line.

use crate::chunks::Chunk;
use crate::error::IngestError;
use crate::layout::Layout;
use polars::prelude::*;
use serde_json::Value;

/// The records of a JSON-lines chunk as all-string columns, in header order.
pub(crate) fn read_chunk(chunk: &Chunk, layout: &Layout) -> Result<DataFrame, IngestError> {
    let header = &layout.header;
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(chunk.rows); header.len()];
    let body = match memchr::memchr(b'\n', &chunk.text) {
        Some(i) => &chunk.text[i + 1..],
        None => &[][..],
    };
    let mut row = 0;
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let error = |message: String| IngestError::Parse {
            path: chunk.file.to_path_buf(),
            message: format!("line {}: {message}", chunk.lines.line(row)),
        };
        let object: serde_json::Map<String, Value> = serde_json::from_slice(line)
            .map_err(|e| error(format!("expected a JSON object: {e}")))?;
        for column in &mut columns {
            column.push(None);
        }
        for (key, value) in object {
            let Some(at) = header.iter().position(|h| *h == key) else {
                return Err(error(format!(
                    "key `{}` is not among the keys of the log's first records ({}); \
                     expected the same keys in every record",
                    key.escape_debug(),
                    header.join(", ")
                )));
            };
            columns[at][row] = text(value);
        }
        row += 1;
    }
    if row != chunk.rows {
        return Err(IngestError::Parse {
            path: chunk.file.to_path_buf(),
            message: format!("expected {} JSON records, found {row}", chunk.rows),
        });
    }
    let columns: Vec<Column> = header
        .iter()
        .zip(columns)
        .map(|(name, values)| {
            StringChunked::from_iter_options(name.as_str().into(), values.into_iter()).into_column()
        })
        .collect();
    DataFrame::new(row, columns).map_err(|e| IngestError::Polars {
        path: chunk.file.to_path_buf(),
        message: e.to_string(),
    })
}

/// A JSON value as the text of a delimited field (`None` for null).
fn text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(
            items
                .into_iter()
                .map(|v| text(v).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        ),
        object @ Value::Object(_) => Some(object.to_string()),
    }
}
