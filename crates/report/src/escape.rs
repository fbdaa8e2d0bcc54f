//! Escaping of untrusted, log-derived strings for HTML, Markdown and CSV, plus a small
//! base64 encoder for embedding PNG plots in the self-contained HTML report.
//!
//! Each escaper first makes control and bidirectional characters visible with
//! [`webthreat_core::text::visible`] (ESC becomes `\u{1b}`), so a value shows as one line of
//! inert text that cannot act on a terminal showing the file or reorder the text around it.

use std::borrow::Cow;
use webthreat_core::text::visible;

/// Escapes `& < > " '` so the text is inert inside HTML element content and quoted attributes,
/// after [`visible`].
pub fn html_escape(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes text safe inside a Markdown table cell or inline text: control and bidirectional
/// characters (line breaks included) are made [`visible`], then HTML-significant characters
/// become entities (so `<script>` renders as text) and Markdown inline syntax characters and
/// `|` are backslash-escaped (so `\u{1b}` is written `\\u{1b}`, shown `\u{1b}`).
pub fn markdown_escape(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Prepares one text cell for a CSV file opened in a spreadsheet: control and bidirectional
/// characters are made [`visible`] (so a cell is one line, without tab, CR or LF), then a cell
/// starting with `=`, `+`, `-` or `@` gets a leading `'` (so it is not evaluated as a
/// formula), and a cell containing a comma or double quote is wrapped in double quotes with
/// inner quotes doubled. Meant for text cells; write numbers directly. Borrows `text` when it
/// needs none of this.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    match visible(text) {
        Cow::Borrowed(text) => spreadsheet_cell(text),
        Cow::Owned(text) => Cow::Owned(spreadsheet_cell(&text).into_owned()),
    }
}

/// [`csv_cell`] after [`visible`]. The tab, CR and LF it still tests for cannot occur after
/// [`visible`]; they are kept so this stays right on its own.
fn spreadsheet_cell(text: &str) -> Cow<'_, str> {
    let formula_like = matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    // the leading `'` adds nothing that needs quoting
    // a fold, not `any`: without an early exit the test of every byte is branch-free
    let needs_quotes = text.bytes().fold(false, |any, b| {
        any | matches!(b, b',' | b'"' | b'\n' | b'\r')
    });
    let cell = if formula_like {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    };
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", cell.replace('"', "\"\"")))
    } else {
        cell
    }
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with `=` padding) of `bytes`.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let triple = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let sextet = |shift: u32| BASE64_ALPHABET[((triple >> shift) & 0x3f) as usize] as char;
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_neutralises_markup() {
        assert_eq!(
            html_escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(html_escape("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn markdown_escape_neutralises_tables_and_markup() {
        assert_eq!(markdown_escape("a|b c"), "a\\|b c");
        assert_eq!(
            markdown_escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            markdown_escape("[x](http://e) *b*"),
            "\\[x\\](http://e) \\*b\\*"
        );
        assert_eq!(markdown_escape("bytes_in"), "bytes\\_in");
    }

    #[test]
    fn csv_cell_blocks_formulas_and_quotes() {
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@cmd"), "'@cmd");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
        assert_eq!(csv_cell("10.0.0.1"), "10.0.0.1");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn control_and_bidi_characters_are_made_visible_in_every_format() {
        let text = "a\u{1b}[2J\u{7}<b>\u{202E}c";
        assert_eq!(html_escape(text), "a\\u{1b}[2J\\u{7}&lt;b&gt;\\u{202e}c");
        assert_eq!(
            markdown_escape(text),
            "a\\\\u{1b}\\[2J\\\\u{7}&lt;b&gt;\\\\u{202e}c"
        );
        assert_eq!(csv_cell(text), "a\\u{1b}[2J\\u{7}<b>\\u{202e}c");
        // one line, one cell: line breaks and tabs are escaped before any quoting
        assert_eq!(markdown_escape("a|b\nc"), "a\\|b\\\\u{a}c");
        assert_eq!(csv_cell("a\r\nb"), "a\\u{d}\\u{a}b");
        assert_eq!(csv_cell("\tx"), "\\u{9}x");
        assert_eq!(csv_cell("=1\u{0}"), "'=1\\u{0}");
        assert_eq!(csv_cell("\u{85},\""), "\"\\u{85},\"\"\"");
    }

    /// The escapers as they were before control and bidirectional characters were escaped.
    mod before {
        pub fn html_escape(text: &str) -> String {
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    _ => out.push(c),
                }
            }
            out
        }

        pub fn markdown_escape(text: &str) -> String {
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if c.is_control() => out.push(' '),
                    _ => out.push(c),
                }
            }
            out
        }

        pub fn csv_cell(text: &str) -> String {
            let formula_like = matches!(
                text.as_bytes().first(),
                Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
            );
            let needs_quotes = text
                .bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
            let cell = if formula_like {
                format!("'{text}")
            } else {
                text.to_string()
            };
            if needs_quotes {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell
            }
        }
    }

    #[test]
    fn text_without_control_or_bidi_characters_escapes_as_before() {
        let mut texts: Vec<String> = [
            "",
            "10.0.0.1",
            "<script>alert(\"x\" & 'y')</script>",
            "=SUM(A1),\"q\"",
            "-2",
            "bytes_in|[x](y) *b* `c` #d ~e! \\f",
            "Zürich 東京 naïve – “q” 😀 \u{a0}\u{200D}\u{2028}",
        ]
        .map(String::from)
        .to_vec();
        // every character of the first planes that is not escaped, alone and between others
        texts.extend(
            (0u32..0x3000)
                .filter_map(char::from_u32)
                .filter(|&c| !webthreat_core::text::must_escape(c))
                .flat_map(|c| [c.to_string(), format!("a{c}b,")]),
        );
        for text in &texts {
            assert_eq!(html_escape(text), before::html_escape(text), "{text:?}");
            assert_eq!(
                markdown_escape(text),
                before::markdown_escape(text),
                "{text:?}"
            );
            assert_eq!(csv_cell(text), before::csv_cell(text), "{text:?}");
        }
        assert!(matches!(csv_cell("10.0.0.1"), Cow::Borrowed(_)));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64_encode(input.as_bytes()), expected, "{input}");
        }
        assert_eq!(base64_encode(&[0xff, 0xfe, 0xfd]), "//79");
    }
}
