//! The formats of list files analysts download, and the one parser per format that turns a
//! file's text into entries (a network and the text shown for it).
//!
//! - `plain`: one address or CIDR per line; `#` starts a comment (a whole line or the rest of
//!   one, kept as the entry's note); blank lines are skipped.
//! - `netset`: FireHOL's `.netset`/`.ipset` files: the same syntax, with `#` header lines
//!   giving the list's maintainer, source and update time.
//! - `spamhaus_drop`: Spamhaus DROP/EDROP text (`1.10.16.0/20 ; SBL256894`, `;` comment
//!   lines; the SBL id is the note) and the JSON-lines form
//!   (`{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}` per line, closed by a
//!   `{"type":"metadata",...}` line, which is skipped).
//! - `abusech_csv`: abuse.ch CSV exports (Feodo Tracker `ipblocklist.csv` and the like): `#`
//!   comment lines, a header line naming the columns (quoted or not; a header written as the
//!   last `#` comment line before the rows is taken too), then one row per entry. The address
//!   column is chosen by name; a `malware` column, when there is one, is the note.
//!
//! Every line that is not a comment must hold an entry: a malformed one is an error naming the
//! file, the line, the value and what was expected, never skipped.

use crate::error::IntelError;
use crate::networks::parse_net;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::path::Path;
use webthreat_core::text::visible;

/// The format of a list file (`format:` of a list spec; `auto` by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListFormat {
    /// Decide by the content: see [`detect`].
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// One address or CIDR per line, `#` comments.
    #[serde(rename = "plain")]
    Plain,
    /// FireHOL `.netset`: the plain syntax with `#` header comments.
    #[serde(rename = "netset")]
    Netset,
    /// Spamhaus DROP/EDROP, text (`cidr ; SBL id`) or JSON lines.
    #[serde(rename = "spamhaus_drop")]
    SpamhausDrop,
    /// abuse.ch CSV with a header line; the address column chosen by name.
    #[serde(rename = "abusech_csv")]
    AbuseChCsv,
}

impl ListFormat {
    /// The YAML name of the format.
    pub fn name(self) -> &'static str {
        match self {
            ListFormat::Auto => "auto",
            ListFormat::Plain => "plain",
            ListFormat::Netset => "netset",
            ListFormat::SpamhausDrop => "spamhaus_drop",
            ListFormat::AbuseChCsv => "abusech_csv",
        }
    }
}

impl std::fmt::Display for ListFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of a list file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The network, canonical (host bits cleared).
    pub prefix: IpNet,
    /// The address or CIDR as written, followed by the entry's note in parentheses when it has
    /// one (`1.10.16.0/20 (SBL256894)`, `192.0.2.7 (Dridex)`); control and bidirectional
    /// characters are escaped.
    pub text: String,
    /// The line of the file, counted from 1.
    pub line: usize,
}

/// The longest line a list may have, in bytes (a list line is one address and a short note;
/// longer lines are refused so a hostile file cannot make notes of any size).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Which format `text` is, decided by its first line that is neither blank nor a `#` comment:
/// a line starting with `;` (DROP's header comments) or `{` (DROP's JSON lines), or holding a
/// `;` field before any `#`, is `spamhaus_drop`; a line starting with `"` or holding a `,`
/// before any `#` (a CSV header or row) is `abusech_csv`; anything else, or no such line, is
/// `netset` when the file name ends in `.netset` or `.ipset` and `plain` otherwise.
pub fn detect(path: &Path, text: &str) -> ListFormat {
    let first = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'));
    // A plain list's trailing `# comment` may hold any character: look before it only.
    fn before_comment(line: &str) -> &str {
        line.split_once('#').map_or(line, |(head, _)| head)
    }
    match first {
        Some(line) if line.starts_with(';') || line.starts_with('{') => ListFormat::SpamhausDrop,
        Some(line) if line.starts_with('"') => ListFormat::AbuseChCsv,
        Some(line) if before_comment(line).contains(';') => ListFormat::SpamhausDrop,
        Some(line) if before_comment(line).contains(',') => ListFormat::AbuseChCsv,
        _ => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext.eq_ignore_ascii_case("netset") || ext.eq_ignore_ascii_case("ipset") {
                ListFormat::Netset
            } else {
                ListFormat::Plain
            }
        }
    }
}

/// Parses a list file's `text` in `format` (`Auto` detected first); `column` names the
/// address column of an abuse.ch CSV file. Returns the format used and the entries in file
/// order.
pub fn parse(
    path: &Path,
    text: &str,
    format: ListFormat,
    column: Option<&str>,
) -> Result<(ListFormat, Vec<ListEntry>), IntelError> {
    let format = match format {
        ListFormat::Auto => detect(path, text),
        other => other,
    };
    let lines = Lines::new(path, text);
    let entries = match format {
        ListFormat::Auto | ListFormat::Plain | ListFormat::Netset => parse_plain(lines)?,
        ListFormat::SpamhausDrop => parse_drop(lines)?,
        ListFormat::AbuseChCsv => parse_csv(lines, column)?,
    };
    Ok((format, entries))
}

/// The lines of a file with their numbers, `\r` of CRLF endings removed, each checked
/// against [`MAX_LINE_BYTES`].
struct Lines<'a> {
    path: &'a Path,
    inner: std::iter::Enumerate<std::str::Lines<'a>>,
}

impl<'a> Lines<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Lines {
            path,
            inner: text.lines().enumerate(),
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<(usize, &'a str), IntelError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (i, line) = self.inner.next()?;
        if line.len() > MAX_LINE_BYTES {
            let head: String = line.chars().take(40).collect();
            return Some(Err(line_error(
                self.path,
                i + 1,
                &format!("{head}..."),
                &format!("a line of at most {MAX_LINE_BYTES} bytes"),
            )));
        }
        Some(Ok((i + 1, line)))
    }
}

fn line_error(path: &Path, line: usize, value: &str, expected: &str) -> IntelError {
    IntelError::Line {
        path: path.to_path_buf(),
        line,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

const NETWORK: &str = "an IP address or a CIDR such as 192.0.2.0/24";

fn entry(prefix: IpNet, written: &str, note: &str, line: usize) -> ListEntry {
    let written = written.trim();
    let note = note.trim();
    let text = if note.is_empty() {
        visible(written).into_owned()
    } else {
        format!("{} ({})", visible(written), visible(note))
    };
    ListEntry { prefix, text, line }
}

fn parse_plain(lines: Lines<'_>) -> Result<Vec<ListEntry>, IntelError> {
    let path = lines.path;
    let mut entries = Vec::new();
    for next in lines {
        let (n, line) = next?;
        let (value, note) = line.split_once('#').unwrap_or((line, ""));
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let prefix = parse_net(value).ok_or_else(|| line_error(path, n, value, NETWORK))?;
        entries.push(entry(prefix, value, note, n));
    }
    Ok(entries)
}

/// A DROP JSON line: an entry, or the closing metadata record.
#[derive(Deserialize)]
struct DropRecord {
    #[serde(rename = "type")]
    kind: Option<String>,
    cidr: Option<String>,
    sblid: Option<String>,
}

fn parse_drop(lines: Lines<'_>) -> Result<Vec<ListEntry>, IntelError> {
    let path = lines.path;
    let mut entries = Vec::new();
    for next in lines {
        let (n, line) = next?;
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if line.starts_with('{') {
            const JSON: &str = "a JSON object with a \"cidr\" field (Spamhaus DROP JSON)";
            let record: DropRecord =
                serde_json::from_str(line).map_err(|_| line_error(path, n, line, JSON))?;
            if record.kind.as_deref() == Some("metadata") {
                continue;
            }
            let cidr = record.cidr.ok_or_else(|| line_error(path, n, line, JSON))?;
            let prefix = parse_net(&cidr).ok_or_else(|| line_error(path, n, &cidr, NETWORK))?;
            entries.push(entry(
                prefix,
                &cidr,
                record.sblid.as_deref().unwrap_or(""),
                n,
            ));
        } else {
            let (value, note) = line.split_once(';').unwrap_or((line, ""));
            let value = value.trim();
            let prefix = parse_net(value).ok_or_else(|| {
                line_error(path, n, value, "a CIDR, then `; SBL id` (Spamhaus DROP)")
            })?;
            entries.push(entry(prefix, value, note, n));
        }
    }
    Ok(entries)
}

/// Splits one CSV line into fields: `,` separates, a field starting with `"` is quoted (a
/// doubled `""` inside it is one `"`), fields are trimmed of spaces outside quotes. `None`
/// when a quote is not closed or text follows a closing quote.
fn split_csv(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        let (field, after) = if let Some(quoted) = trimmed.strip_prefix('"') {
            let mut field = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                if c != '"' {
                    field.push(c);
                } else if quoted[i + 1..].starts_with('"') {
                    field.push('"');
                    chars.next();
                } else {
                    break i + 1;
                }
            };
            let after = quoted[end..].trim_start_matches([' ', '\t']);
            if !(after.is_empty() || after.starts_with(',')) {
                return None;
            }
            (field, after)
        } else {
            let end = trimmed.find(',').unwrap_or(trimmed.len());
            (trimmed[..end].trim_end().to_string(), &trimmed[end..])
        };
        fields.push(field);
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Some(fields),
        }
    }
}

/// Whether a header column name is an address column by default: `ip`, `dst_ip`,
/// `ip_address`, or a name ending in `_ip` (case-insensitive).
fn is_address_column(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "ip" || name == "dst_ip" || name == "ip_address" || name.ends_with("_ip")
}

fn quoted_names(header: &[String]) -> String {
    header
        .iter()
        .map(|name| format!("`{}`", visible(name)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_csv(mut lines: Lines<'_>, column: Option<&str>) -> Result<Vec<ListEntry>, IntelError> {
    const ROW: &str = "a CSV row (fields separated by `,`, quotes closed)";
    let path = lines.path;
    // The header: the first line that is not a comment, unless it holds an address field (a
    // row); then the last comment line before it, when it has as many fields as the row.
    let mut last_comment: Option<(usize, String)> = None;
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut first_row: Option<(usize, &str, Vec<String>)> = None;
    for next in lines.by_ref() {
        let (n, line) = next?;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            last_comment = Some((n, comment.trim().to_string()));
            continue;
        }
        let fields = split_csv(trimmed).ok_or_else(|| line_error(path, n, trimmed, ROW))?;
        if fields.iter().any(|field| parse_net(field).is_some()) {
            let from_comment = last_comment
                .as_ref()
                .and_then(|(cn, text)| Some((*cn, split_csv(text)?)))
                .filter(|(_, names)| names.len() == fields.len() && names.len() > 1);
            let Some(found) = from_comment else {
                return Err(IntelError::Header {
                    path: path.to_path_buf(),
                    line: n,
                    message: "no CSV header line naming the columns before the first row"
                        .to_string(),
                });
            };
            header = Some(found);
            first_row = Some((n, trimmed, fields));
        } else {
            header = Some((n, fields));
        }
        break;
    }
    let Some((header_line, names)) = header else {
        return Ok(Vec::new());
    };
    let wanted = match column {
        Some(column) => names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| IntelError::Header {
                path: path.to_path_buf(),
                line: header_line,
                message: format!(
                    "no column named `{}` (`column:`); the columns are {}",
                    visible(column),
                    quoted_names(&names)
                ),
            })?,
        None => names
            .iter()
            .position(|name| is_address_column(name))
            .ok_or_else(|| IntelError::Header {
                path: path.to_path_buf(),
                line: header_line,
                message: format!(
                    "no address column (`ip`, `dst_ip`, `ip_address` or a name ending in `_ip`; \
                     or name one with `column:`); the columns are {}",
                    quoted_names(&names)
                ),
            })?,
    };
    let note_column = names
        .iter()
        .position(|name| name.eq_ignore_ascii_case("malware"));
    let expected = format!(
        "{NETWORK} in column `{}` (field {})",
        visible(&names[wanted]),
        wanted + 1
    );
    let mut entries = Vec::new();
    let mut take = |n: usize, line: &str, fields: Vec<String>| -> Result<(), IntelError> {
        let Some(value) = fields.get(wanted) else {
            return Err(line_error(path, n, line, &expected));
        };
        let prefix = parse_net(value).ok_or_else(|| line_error(path, n, value, &expected))?;
        let note = note_column
            .and_then(|c| fields.get(c))
            .map_or("", String::as_str);
        entries.push(entry(prefix, value, note, n));
        Ok(())
    };
    if let Some((n, line, fields)) = first_row {
        take(n, line, fields)?;
    }
    for next in lines {
        let (n, line) = next?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = split_csv(trimmed).ok_or_else(|| line_error(path, n, trimmed, ROW))?;
        take(n, trimmed, fields)?;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_with_quotes() {
        let split = |s: &str| split_csv(s);
        assert_eq!(
            split(r#""a","b""c",d , "e" "#).unwrap(),
            ["a", "b\"c", "d", "e"]
        );
        assert_eq!(split("a,,b").unwrap(), ["a", "", "b"]);
        assert_eq!(split(r#""a,b",c"#).unwrap(), ["a,b", "c"]);
        assert_eq!(split(r#""unclosed,b"#), None);
        assert_eq!(split(r#""a"x,b"#), None);
    }

    #[test]
    fn address_columns_by_name() {
        for name in ["ip", "IP", "dst_ip", "ip_address", "src_ip", "c2_ip"] {
            assert!(is_address_column(name), "{name}");
        }
        for name in ["ipaddr", "dst_port", "ip_version", "first_seen_utc"] {
            assert!(!is_address_column(name), "{name}");
        }
    }

    #[test]
    fn detection_by_first_data_line() {
        let p = Path::new("list.txt");
        assert_eq!(detect(p, "# x\n1.2.3.4\n"), ListFormat::Plain);
        assert_eq!(
            detect(Path::new("a.netset"), "# x\n1.2.3.0/24\n"),
            ListFormat::Netset
        );
        assert_eq!(
            detect(p, "; DROP\n1.2.3.0/24 ; SBL1\n"),
            ListFormat::SpamhausDrop
        );
        assert_eq!(detect(p, "1.2.3.0/24 ; SBL1\n"), ListFormat::SpamhausDrop);
        assert_eq!(
            detect(p, "{\"cidr\":\"1.2.3.0/24\"}\n"),
            ListFormat::SpamhausDrop
        );
        assert_eq!(
            detect(p, "# x\n\"ip\",\"malware\"\n"),
            ListFormat::AbuseChCsv
        );
        assert_eq!(detect(p, "# ip,port\n1.2.3.4,80\n"), ListFormat::AbuseChCsv);
        assert_eq!(detect(p, ""), ListFormat::Plain);
        assert_eq!(
            detect(p, "1.2.3.4 # scanner; see a, b\n"),
            ListFormat::Plain
        );
    }

    #[test]
    fn a_header_in_the_last_comment_line_is_taken() {
        let text = "# abuse.ch\n# ip_address,port,malware\n192.0.2.1,443,QakBot\n";
        let (format, entries) = parse(Path::new("c.csv"), text, ListFormat::Auto, None).unwrap();
        assert_eq!(format, ListFormat::AbuseChCsv);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].text, "192.0.2.1 (QakBot)");
        assert_eq!(entries[0].line, 3);
    }

    #[test]
    fn overlong_lines_are_refused() {
        let text = format!("1.2.3.4\n{}\n", "9".repeat(MAX_LINE_BYTES + 1));
        let err = parse(Path::new("l.txt"), &text, ListFormat::Plain, None).unwrap_err();
        assert!(err.to_string().starts_with("l.txt:2: `9999"), "{err}");
    }
}
