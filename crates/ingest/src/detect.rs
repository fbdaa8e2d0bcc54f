//! Which format a log is in, from the first lines of its first file (decoded when gzip or
//! zstd): what `webthreat scan` uses when no format is given.

use crate::error::IngestError;
use crate::files::{Encoding, log_files, open_text, sniff};
use crate::spec::Format;
use std::io::Read;
use std::path::Path;

/// The bytes looked at: enough for a header and a few records.
const PEEK_BYTES: u64 = 64 * 1024;

/// The format of the log at `path` (a file, a directory or a glob): Zeek (`#separator` or
/// `#fields` directives, or JSON lines with `id.orig_h`), VPC Flow Logs (a header starting with
/// `version` and naming `srcaddr`), ALB access logs (a record starting with the request type
/// and an ISO-8601 time), a CloudWatch export (its header's `bytes_in`, `creation_time`,
/// `src_ip`), and any other CSV, TSV, JSON-lines or Parquet file as a table.
pub fn detect_format(path: &Path) -> Result<Format, IngestError> {
    let files = log_files(path)?;
    let Some(first) = files.first() else {
        return Err(IngestError::Parse {
            path: path.to_path_buf(),
            message: "no log file found there".into(),
        });
    };
    if sniff(first)? == Encoding::Parquet {
        return Ok(Format::Table);
    }
    let mut head = Vec::new();
    open_text(first)?
        .take(PEEK_BYTES)
        .read_to_end(&mut head)
        .map_err(|source| IngestError::Open {
            path: first.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&head);
    let line = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    Ok(format_of_first_line(line))
}

fn format_of_first_line(line: &str) -> Format {
    if line.starts_with("#separator") || line.starts_with("#fields") {
        return Format::Zeek;
    }
    if line.starts_with('{') {
        return if line.contains("\"id.orig_h\"") {
            Format::Zeek
        } else {
            Format::Table
        };
    }
    let mut words = line.split(' ');
    let first = words.next().unwrap_or_default();
    if first == "version" && line.split(' ').any(|w| w == "srcaddr") {
        return Format::Vpcflow;
    }
    let looks_like_time = |w: &str| {
        let b = w.as_bytes();
        b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && w.ends_with('Z')
    };
    if matches!(first, "http" | "https" | "h2" | "grpcs" | "ws" | "wss")
        && words.next().is_some_and(looks_like_time)
    {
        return Format::Alb;
    }
    let header: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
    if ["bytes_in", "creation_time", "src_ip"]
        .iter()
        .all(|c| header.contains(c))
    {
        return Format::Cloudwatch;
    }
    Format::Table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_name_their_format() {
        let cases = [
            ("#separator \\x09", Format::Zeek),
            (
                r#"{"ts":1541117137.1,"uid":"C1","id.orig_h":"172.16.9.5"}"#,
                Format::Zeek,
            ),
            (r#"{"a": 1, "b": 2}"#, Format::Table),
            (
                "version account-id interface-id srcaddr dstaddr srcport",
                Format::Vpcflow,
            ),
            (
                "https 2024-04-25T23:10:00.000000Z app/web-lb/50dc 1.2.3.4:5 10.0.0.1:443",
                Format::Alb,
            ),
            (
                "bytes_in,bytes_out,creation_time,end_time,src_ip,src_ip_country_code",
                Format::Cloudwatch,
            ),
            ("dur,proto,sbytes,dbytes,label", Format::Table),
            ("", Format::Table),
        ];
        for (line, format) in cases {
            assert_eq!(format_of_first_line(line), format, "{line}");
        }
    }

    #[test]
    fn the_bundled_samples_are_recognised_compressed_or_not() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (file, format) in [
            ("data/sample.csv", Format::Cloudwatch),
            ("data/sample.zeek.log", Format::Zeek),
            ("data/sample.vpcflow.log", Format::Vpcflow),
            ("data/sample.alb.log.gz", Format::Alb),
        ] {
            assert_eq!(detect_format(&root.join(file)).unwrap(), format, "{file}");
        }
    }
}
