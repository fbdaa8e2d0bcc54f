//! [`Layout`]: a format's [`Description`] resolved against a config and a file's header: the
//! column names, separator, quoting, null tokens, time format, mapped columns and
//! missing-value policies every read path follows.

use crate::error::IngestError;
use crate::formats::{Description, FieldMap, HeaderRule, Part, description, fallback_missing};
use crate::spec::{MissingPolicy, SourceSpec, TimeFormat};
use std::path::Path;

/// A canonical column taken from a source column of this log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub canonical: &'static str,
    pub source: String,
    pub part: Part,
}

/// How the records of one log are read (the same for every file of a many-file log).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Column names in record order.
    pub header: Vec<String>,
    pub separator: u8,
    pub quote: Option<u8>,
    /// Tokens read as a missing value.
    pub nulls: Vec<String>,
    pub time: TimeFormat,
    pub mapping: Vec<Mapped>,
    /// Records are JSON objects, one per line.
    pub json: bool,
    description: &'static Description,
    /// The config's `missing:` entries.
    missing: Vec<(String, MissingPolicy)>,
}

/// A file's header lines, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderFound {
    pub names: Vec<String>,
    /// Bytes of header (and directive) lines before the first record.
    pub consumed: usize,
    /// Lines in those bytes.
    pub lines: u64,
    /// The separator the header announced (Zeek's `#separator`).
    pub separator: Option<u8>,
    /// Null tokens the header announced (Zeek's `#unset_field` and `#empty_field`).
    pub nulls: Vec<String>,
    /// The records are JSON lines.
    pub json: bool,
}

impl Layout {
    /// The layout of a log whose first file starts with `header`.
    pub(crate) fn resolve(
        spec: &SourceSpec,
        header: HeaderFound,
        path: &Path,
    ) -> Result<Self, IngestError> {
        let description = description(spec.format);
        let mut nulls = spec.null_tokens();
        for token in header.nulls {
            if !nulls.contains(&token) {
                nulls.push(token);
            }
        }
        let separator = header
            .separator
            .or(description.separator)
            .or(spec.separator.map(|s| s.0))
            .unwrap_or(b',');
        let time = description
            .time
            .map_or_else(|| spec.time_format.clone(), |t| t.format());
        let mapping = resolve_mapping(spec, description, &header.names, path)?;
        check_unique(&header.names, path)?;
        Ok(Self {
            header: header.names,
            separator,
            quote: if header.json { None } else { description.quote },
            nulls,
            time,
            mapping,
            json: header.json,
            description,
            missing: spec.missing.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        })
    }

    /// The mapped canonical column of `canonical`, if any.
    pub(crate) fn source_of(&self, canonical: &str) -> Option<&Mapped> {
        self.mapping.iter().find(|m| m.canonical == canonical)
    }

    /// The missing-value policy of a column: the config's entry for its source or canonical
    /// name, else the config's `default`, else the format's default, else [`fallback_missing`].
    pub(crate) fn missing_policy(
        &self,
        canonical: Option<&str>,
        source: &str,
        numeric: bool,
    ) -> MissingPolicy {
        let configured = |name: &str| {
            self.missing
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, p)| *p)
        };
        let named = configured(source)
            .or_else(|| canonical.and_then(configured))
            .or_else(|| configured("default"));
        let policy = named.unwrap_or_else(|| {
            self.description
                .missing
                .iter()
                .find(|(c, _)| Some(*c) == canonical || *c == source)
                .map_or_else(|| fallback_missing(numeric), |(_, p)| *p)
        });
        // a text column cannot read a missing value as 0; a number cannot stay missing
        match (policy, numeric) {
            (MissingPolicy::Zero, false) => MissingPolicy::Keep,
            (MissingPolicy::Keep, true) => MissingPolicy::Fail,
            (p, _) => p,
        }
    }

    /// The header as a line of the record text (what polars' reader is handed before each
    /// chunk): names joined by the separator, quoted where they hold it.
    pub(crate) fn header_line(&self) -> Vec<u8> {
        let sep = char::from(self.separator).to_string();
        let quoted: Vec<String> = self
            .header
            .iter()
            .map(|h| {
                if h.contains(self.separator as char) || h.contains('"') {
                    format!("\"{}\"", h.replace('"', "\"\""))
                } else {
                    h.clone()
                }
            })
            .collect();
        let mut line = quoted.join(&sep).into_bytes();
        line.push(b'\n');
        line
    }

    /// The format's default feature list, if it has one.
    pub(crate) fn default_features(&self) -> Option<&'static [&'static str]> {
        self.description.default_features
    }
}

/// Reads the header of a file starting with `head` (`eof`: `head` is the whole file). `None`
/// when more bytes are needed.
pub(crate) fn read_header(
    spec: &SourceSpec,
    head: &[u8],
    eof: bool,
    path: &Path,
) -> Result<Option<HeaderFound>, IngestError> {
    let description = description(spec.format);
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let found = read_header_after_bom(spec, description, &head[bom..], eof, path)?;
    Ok(found.map(|f| HeaderFound {
        consumed: f.consumed + bom,
        ..f
    }))
}

fn read_header_after_bom(
    spec: &SourceSpec,
    description: &Description,
    head: &[u8],
    eof: bool,
    path: &Path,
) -> Result<Option<HeaderFound>, IngestError> {
    let first = head.iter().position(|b| !b.is_ascii_whitespace());
    if description.json_lines && first.is_some_and(|i| head[i] == b'{') {
        return json_header(head, eof, path);
    }
    let separator = description
        .separator
        .or(spec.separator.map(|s| s.0))
        .unwrap_or(b',');
    let mut lines = LineReader { head, pos: 0, eof };
    let found = |names, consumed, lines, separator, nulls| {
        Ok(Some(HeaderFound {
            names,
            consumed,
            lines,
            separator,
            nulls,
            json: false,
        }))
    };
    match description.header {
        HeaderRule::FirstLine => {
            let Some(line) = lines.next_line() else {
                return Ok(None);
            };
            let text = header_text(line, path)?;
            found(
                split_fields(&text, separator, description.quote),
                lines.pos,
                1,
                None,
                vec![],
            )
        }
        HeaderRule::FirstLineIf { first, fields } => {
            let Some(line) = lines.next_line() else {
                return Ok(None);
            };
            let text = header_text(line, path)?;
            let names = split_fields(&text, separator, description.quote);
            if names.first().map(String::as_str) == Some(first) {
                found(names, lines.pos, 1, None, vec![])
            } else {
                let names = fields.iter().map(|f| f.to_string()).collect();
                found(names, 0, 0, None, vec![])
            }
        }
        HeaderRule::Positional(fields) => {
            let Some(line) = lines.next_line() else {
                return Ok(None);
            };
            let text = header_text(line, path)?;
            let count = split_fields(&text, separator, description.quote).len();
            let names = (0..count)
                .map(|i| {
                    fields
                        .get(i)
                        .map_or_else(|| format!("field_{}", i + 1), |f| f.to_string())
                })
                .collect();
            found(names, 0, 0, None, vec![])
        }
        HeaderRule::ZeekDirectives => zeek_header(&mut lines, path),
    }
}

/// Zeek's leading `#` lines: the separator (`#separator \x09`), the field names and the unset
/// and empty tokens.
fn zeek_header(
    lines: &mut LineReader<'_>,
    path: &Path,
) -> Result<Option<HeaderFound>, IngestError> {
    let mut separator = b'\t';
    let mut names = None;
    let mut nulls = Vec::new();
    let mut count = 0;
    loop {
        let at = lines.pos;
        let Some(line) = lines.next_line() else {
            return Ok(None);
        };
        if !line.starts_with(b"#") {
            lines.pos = at;
            break;
        }
        count += 1;
        let text = header_text(line, path)?;
        if let Some(value) = text.strip_prefix("#separator ") {
            separator = unescape_separator(value).ok_or_else(|| IngestError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "line {count}: `#separator {}`: expected one byte such as \\x09",
                    value.escape_debug()
                ),
            })?;
            continue;
        }
        let mut parts = text.split(char::from(separator));
        match parts.next() {
            Some("#fields") => names = Some(parts.map(String::from).collect::<Vec<_>>()),
            Some("#unset_field" | "#empty_field") => nulls.extend(parts.map(String::from)),
            _ => {}
        }
    }
    let names = names.ok_or_else(|| IngestError::Parse {
        path: path.to_path_buf(),
        message: "no `#fields` line before the first record; expected a Zeek ASCII log \
            (or JSON lines)"
            .into(),
    })?;
    Ok(Some(HeaderFound {
        names,
        consumed: lines.pos,
        lines: count,
        separator: Some(separator),
        nulls,
        json: false,
    }))
}

/// `\x09`-style escapes (Zeek writes its separator so) or one literal byte.
fn unescape_separator(value: &str) -> Option<u8> {
    match value.strip_prefix("\\x") {
        Some(hex) if hex.len() == 2 => u8::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None => (value.len() == 1).then(|| value.as_bytes()[0]),
    }
}

/// The keys of the JSON objects among the first records (in first-seen order): a record may
/// leave out a key (Zeek leaves out unset fields), so one record is not enough.
fn json_header(head: &[u8], eof: bool, path: &Path) -> Result<Option<HeaderFound>, IngestError> {
    const RECORDS: usize = 1000;
    let mut lines = LineReader { head, pos: 0, eof };
    let mut names: Vec<String> = Vec::new();
    let mut seen = 0;
    let mut line_no = 0;
    while seen < RECORDS {
        let Some(line) = lines.next_line() else {
            if eof {
                break;
            }
            return Ok(None);
        };
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)
            .map_err(|e| IngestError::Parse {
                path: path.to_path_buf(),
                message: format!("line {line_no}: expected a JSON object per line: {e}"),
            })?;
        for key in object.keys() {
            if !names.contains(key) {
                names.push(key.clone());
            }
        }
        seen += 1;
    }
    Ok(Some(HeaderFound {
        names,
        consumed: 0,
        lines: 0,
        separator: None,
        nulls: Vec::new(),
        json: true,
    }))
}

/// Lines of the head of a file.
struct LineReader<'a> {
    head: &'a [u8],
    pos: usize,
    eof: bool,
}

impl<'a> LineReader<'a> {
    /// The next line without its line end; `None` when the head ends before it does (unless at
    /// the end of the file).
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let rest = &self.head[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Some(rest[..i].strip_suffix(b"\r").unwrap_or(&rest[..i]))
            }
            None if self.eof && !rest.is_empty() => {
                self.pos = self.head.len();
                Some(rest)
            }
            None => None,
        }
    }
}

fn header_text(line: &[u8], path: &Path) -> Result<String, IngestError> {
    let text = std::str::from_utf8(line).map_err(|e| IngestError::Parse {
        path: path.to_path_buf(),
        message: format!("header is not UTF-8 text: {e}"),
    })?;
    if text.contains('\r') {
        return Err(IngestError::Parse {
            path: path.to_path_buf(),
            message: "line 1 holds carriage returns without line feeds: the line ends are CR \
                only; expected LF or CR LF line ends"
                .into(),
        });
    }
    if text.trim().is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            what: "header line is empty",
        });
    }
    Ok(text.to_string())
}

/// The fields of one line (quotes honoured when the format quotes).
pub(crate) fn split_fields(line: &str, separator: u8, quote: Option<u8>) -> Vec<String> {
    let separator = char::from(separator);
    let quote = quote.map(char::from);
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if Some(c) == quote && quoted && chars.peek() == Some(&c) => {
                field.push(c);
                chars.next();
            }
            c if Some(c) == quote => quoted = !quoted,
            c if c == separator && !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn resolve_mapping(
    spec: &SourceSpec,
    description: &Description,
    header: &[String],
    path: &Path,
) -> Result<Vec<Mapped>, IngestError> {
    let from_config: Vec<FieldMap>;
    let (fields, required) = match description.fields {
        Some(fields) => (fields, description.all_fields_required),
        None => {
            from_config = spec
                .columns
                .pairs()
                .into_iter()
                .map(|(canonical, source)| FieldMap {
                    canonical,
                    // leaked once per config column: the mapping is resolved once per run
                    source: Box::leak(source.to_string().into_boxed_str()),
                    part: Part::Whole,
                })
                .collect();
            (&from_config[..], true)
        }
    };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for f in fields {
        if header.iter().any(|h| h == f.source) {
            out.push(Mapped {
                canonical: f.canonical,
                source: f.source.to_string(),
                part: f.part,
            });
        } else if required && !missing.iter().any(|m| m == f.source) {
            missing.push(f.source.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            present: header.to_vec(),
        });
    }
    Ok(out)
}

fn check_unique(header: &[String], path: &Path) -> Result<(), IngestError> {
    for (second, name) in header.iter().enumerate() {
        if let Some(first) = header[..second].iter().position(|h| h == name) {
            return Err(IngestError::DuplicateHeader {
                path: path.to_path_buf(),
                column: name.clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Format;

    fn header(spec: &SourceSpec, text: &str) -> HeaderFound {
        read_header(spec, text.as_bytes(), true, Path::new("t"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn zeek_directives_give_the_fields_separator_and_null_tokens() {
        let spec = SourceSpec::new("t", Format::Zeek);
        let text = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
            #unset_field\t-\n#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n1.5\tC1\n";
        let got = header(&spec, text);
        assert_eq!(got.names, ["ts", "uid"]);
        assert_eq!(got.separator, Some(b'\t'));
        assert_eq!(got.nulls, ["(empty)", "-"]);
        assert_eq!(got.lines, 7);
        assert_eq!(&text[got.consumed..], "1.5\tC1\n");
        // a head that ends inside the directives needs more bytes
        let cut = &text[..40];
        assert!(
            read_header(&spec, cut.as_bytes(), false, Path::new("t"))
                .unwrap()
                .is_none()
        );
        let err = read_header(&spec, b"#path\tconn\n1\t2\n", true, Path::new("t")).unwrap_err();
        assert!(err.to_string().contains("no `#fields` line"), "{err}");
    }

    #[test]
    fn vpc_header_line_or_default_fields_and_alb_positions() {
        let spec = SourceSpec::new("t", Format::Vpcflow);
        let custom = header(
            &spec,
            "version srcaddr dstaddr bytes\n2 1.1.1.1 2.2.2.2 10\n",
        );
        assert_eq!(custom.names, ["version", "srcaddr", "dstaddr", "bytes"]);
        assert_eq!(custom.lines, 1);
        let plain = header(
            &spec,
            "2 123 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 40 1 2 ACCEPT OK\n",
        );
        assert_eq!(plain.names.len(), 14);
        assert_eq!(plain.consumed, 0);
        let spec = SourceSpec::new("t", Format::Alb);
        let got = header(
            &spec,
            "http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:80 \"GET / HTTP/1.1\" extra1 extra2\n",
        );
        assert_eq!(got.names.len(), 7);
        assert_eq!(got.names[4], "target:port");
        assert_eq!(got.names[6], "target_processing_time");
        let long = format!("{} x y\n", ["a"; 30].join(" "));
        assert_eq!(header(&spec, &long).names[31], "field_32");
    }

    #[test]
    fn missing_policies_resolve_config_then_format_defaults() {
        let mut spec = SourceSpec::new("t", Format::Zeek);
        let found = header(&spec, "#fields\tts\torig_bytes\tid.orig_h\tx\n1\t2\t3\t4\n");
        let layout = Layout::resolve(&spec, found.clone(), Path::new("t")).unwrap();
        use crate::canonical::*;
        assert_eq!(
            layout.missing_policy(Some(BYTES_IN), "orig_bytes", true),
            MissingPolicy::Zero
        );
        assert_eq!(
            layout.missing_policy(Some(START_TIME), "ts", true),
            MissingPolicy::Fail
        );
        assert_eq!(layout.missing_policy(None, "x", true), MissingPolicy::Fail);
        assert_eq!(
            layout.missing_policy(Some(SRC_IP), "id.orig_h", false),
            MissingPolicy::Keep
        );
        spec.missing
            .insert("orig_bytes".into(), MissingPolicy::Skip);
        spec.missing.insert("default".into(), MissingPolicy::Zero);
        let layout = Layout::resolve(&spec, found, Path::new("t")).unwrap();
        assert_eq!(
            layout.missing_policy(Some(BYTES_IN), "orig_bytes", true),
            MissingPolicy::Skip
        );
        assert_eq!(layout.missing_policy(None, "x", true), MissingPolicy::Zero);
        assert_eq!(layout.missing_policy(None, "x", false), MissingPolicy::Keep);
    }
}
