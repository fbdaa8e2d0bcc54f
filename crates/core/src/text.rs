//! Making untrusted, log-derived text safe to show.
//!
//! A log value is attacker-controlled. Shown raw on a terminal, a control character can move
//! the cursor, clear the screen or set the window title (`ESC [2J`, `ESC ]0;title BEL`); in a
//! report, a bidirectional formatting character (U+202E RIGHT-TO-LEFT OVERRIDE...) can make
//! text read differently from what it is. [`visible`] replaces every such character by a
//! visible escape in the style of [`char::escape_unicode`] (`\u{1b}`), so a value always shows
//! as one line of inert text. Output-specific escaping (HTML, Markdown, CSV) comes after it.

use std::borrow::Cow;

/// True for the characters [`visible`] escapes: the Unicode control characters (general
/// category Cc: C0 U+0000..U+001F including TAB, LF and CR, DEL U+007F, C1 U+0080..U+009F)
/// and the bidirectional formatting characters (property Bidi_Control: U+061C, U+200E,
/// U+200F, U+202A..U+202E, U+2066..U+2069).
pub fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character of [`must_escape`] replaced by its `\u{...}` escape (ESC
/// becomes `\u{1b}`, U+202E `\u{202e}`); everything else, including a backslash, is kept.
/// Borrows `text` when nothing needs escaping (the common case does not allocate).
pub fn visible(text: &str) -> Cow<'_, str> {
    // Printable ASCII, the usual content of a log field, needs no look at characters.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(text);
    }
    let Some(first) = text.find(must_escape) else {
        return Cow::Borrowed(text);
    };
    // `\u{1b}` is 6 bytes for 1
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if must_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_are_made_visible() {
        assert_eq!(visible("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(visible("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(visible("\0"), "\\u{0}");
        assert_eq!(visible("x\u{7f}"), "x\\u{7f}");
        // C1: U+009B is a one-character CSI on some terminals
        assert_eq!(visible("\u{9b}31m"), "\\u{9b}31m");
    }

    #[test]
    fn line_breaks_and_tabs_are_controls_too() {
        assert_eq!(visible("a\tb\nc\rd"), "a\\u{9}b\\u{a}c\\u{d}d");
    }

    #[test]
    fn bidirectional_formatting_is_made_visible() {
        assert_eq!(visible("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            let shown = visible(&c.to_string()).into_owned();
            assert_eq!(shown, c.escape_unicode().to_string());
            assert!(shown.is_ascii(), "{shown}");
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "",
            "10.0.0.1",
            "GET /index.html?q=a\\b HTTP/1.1",
            "Zürich",
            "東京",
            "naïve – “quoted” ✓ 😀",
            // neighbours of the escaped ranges stay
            "\u{a0}\u{200D}\u{2029}\u{206A}\u{202F}",
        ] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn output_has_nothing_left_to_escape() {
        let hostile: String = (0u32..0x2100).filter_map(char::from_u32).collect();
        let shown = visible(&hostile);
        assert!(!shown.chars().any(must_escape));
        assert!(matches!(visible(&shown), Cow::Borrowed(_)));
    }
}
