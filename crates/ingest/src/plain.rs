//! A direct reader for the common chunk: one whose records are lines and whose fields are split
//! at the layout's single-byte separator, a field in quotes (when the format quotes) being what
//! the quotes enclose. It builds only the columns the analysis uses (numbers
//! parsed here) and reduces every other column to its constant-column summary by comparing each
//! value with the first, without building it.
//!
//! Whatever it is not sure about makes it decline: a quote other than a pair around a whole
//! field (an escaped quote, a quote inside a field, a quoted line break or empty field), a
//! byte-order mark,
//! a carriage return that is not before a newline, invalid UTF-8, a record with another number
//! of fields than the header, a typed value that is not in plain decimal syntax (or a null
//! token where the column's missing-value policy is `fail`), a timestamp the log's time
//! format does not accept, or a label its [`LabelSpec`] does not recognise.
//! A declined chunk goes to the polars CSV reader, so the values read and the errors reported
//! do not depend on which path read it.
//! Accepted numbers are converted by the standard library's correctly rounded parser (integers
//! of up to 15 digits, which convert exactly, directly), as polars' reader converts them, so
//! both paths give the same bits.

use crate::layout::split_fields;
use crate::spec::{LabelSpec, TimeFormat};
use crate::split::Separators;
use crate::summary::Distinct;
use polars::prelude::*;
use rayon::prelude::*;

/// How one column of a chunk is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadAs<'s> {
    /// Float64 (plain decimal syntax, optional exponent); a null token is null when
    /// `nulls` allows it.
    Float { nulls: bool },
    /// Int64 (optional minus sign, digits); a null token as for `Float`.
    Int { nulls: bool },
    /// String; an empty field is null (null tokens are left to the missing-value policy).
    Text,
    /// A timestamp, as milliseconds since the epoch in a Datetime column.
    Time(&'s TimeFormat),
    /// Ground truth, parsed by the spec ([`LabelSpec::parse`]) into a Boolean column (one byte
    /// per label, not parsed again later).
    Label(&'s LabelSpec),
    /// Not built, only summarised (see [`Distinct`]).
    Summary,
}

/// A chunk read directly.
pub(crate) struct PlainChunk {
    /// The header's column names, in order.
    pub header: Vec<String>,
    /// The columns read as Float, Int or Text, in header order.
    pub df: DataFrame,
    /// The summarised columns, in header order.
    pub summaries: Vec<(String, Distinct)>,
}

/// How fields are written: the separator, the quote (if the format quotes) and the null tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax<'a> {
    pub separator: u8,
    pub quote: Option<u8>,
    pub nulls: &'a [String],
}

/// Records per piece read on one thread, at least.
const PIECE_ROWS: usize = 8192;

/// Reads `text` (a header line, then `rows` records each ending in a newline), each column
/// as `read_as` says; `None` when the chunk is not plain (see the module doc).
pub(crate) fn read<'s>(
    text: &[u8],
    rows: usize,
    syntax: Syntax<'_>,
    read_as: impl Fn(&str) -> ReadAs<'s>,
) -> Option<PlainChunk> {
    if text.starts_with(b"\xEF\xBB\xBF") {
        return None;
    }
    let header_end = memchr::memchr(b'\n', text)?;
    // the records are checked the same way by their pieces
    if !lone_carriage_returns_absent(&text[..=header_end]) {
        return None;
    }
    let header_line = std::str::from_utf8(&text[..header_end]).ok()?;
    let header = split_fields(
        header_line.strip_suffix('\r').unwrap_or(header_line),
        syntax.separator,
        syntax.quote,
    );
    let plan: Vec<ReadAs<'s>> = header.iter().map(|h| read_as(h)).collect();
    let body = &text[header_end + 1..];
    if !body.is_empty() && !body.ends_with(b"\n") {
        return None;
    }
    let names: Vec<PlSmallStr> = header.iter().map(|h| h.as_str().into()).collect();
    // records per piece, estimated from its share of the bytes (the vectors grow if it is
    // short, and capacity beyond what is written is never touched)
    let capacity = |piece: &[u8]| piece.len() * rows / body.len().max(1) * 9 / 8 + 16;
    let pieces: Vec<Option<Piece<'_>>> = split_at_lines(body, rows)
        .into_par_iter()
        .map(|piece| Piece::read(piece, capacity(piece), &plan, &names, syntax))
        .collect();
    let mut pieces = pieces.into_iter();
    let mut whole = pieces.next()??;
    for piece in pieces {
        whole.append(piece?).ok()?;
    }
    if whole.rows != rows {
        return None;
    }
    let mut columns = Vec::new();
    let mut summaries = Vec::new();
    for (name, values) in header.iter().zip(whole.columns) {
        match values {
            Values::Built(c) => columns.push(c),
            Values::Summary(s) => summaries.push((name.clone(), s.finish())),
        }
    }
    let df = DataFrame::new(rows, columns).ok()?;
    Some(PlainChunk {
        header,
        df,
        summaries,
    })
}

/// Cuts `body` after newlines into about equal pieces of at least [`PIECE_ROWS`] records.
fn split_at_lines(body: &[u8], rows: usize) -> Vec<&[u8]> {
    let count = (rows / PIECE_ROWS).clamp(1, 4 * rayon::current_num_threads());
    let target = body.len().div_ceil(count).max(1);
    let mut pieces = Vec::with_capacity(count);
    let mut rest = body;
    while !rest.is_empty() {
        let from = target.min(rest.len() - 1);
        let cut = memchr::memchr(b'\n', &rest[from..]).map_or(rest.len(), |i| from + i + 1);
        let (piece, later) = rest.split_at(cut);
        pieces.push(piece);
        rest = later;
    }
    pieces
}

/// The values of one column in a piece (built on the piece's thread; pieces are joined as
/// chunks, without copying).
enum Values<'a> {
    Built(Column),
    Summary(Summary<'a>),
}

/// A column being read in a piece.
enum Builder<'a> {
    Float(Numbers<f64>),
    Int(Numbers<i64>),
    /// The values so far, how they are parsed, and the last text parsed with its value (rows
    /// of an export mostly repeat the timestamp before them, which is then not parsed again).
    Time(Numbers<i64>, &'a TimeFormat, Option<(&'a str, i64)>),
    /// The labels so far, how they are parsed, and the last text parsed with its label.
    Label(Vec<bool>, &'a LabelSpec, Option<(&'a str, bool)>),
    Text(StringChunkedBuilder),
    Summary(Summary<'a>),
}

/// The values of a numeric column so far, and which are null (`None` until the first null).
struct Numbers<T> {
    values: Vec<T>,
    valid: Option<Vec<bool>>,
    /// Whether a null token may be read (else it declines the chunk).
    nulls: bool,
}

impl<T: Default + Copy> Numbers<T> {
    fn new(capacity: usize, nulls: bool) -> Self {
        Self {
            values: Vec::with_capacity(capacity),
            valid: None,
            nulls,
        }
    }

    #[inline]
    fn push(&mut self, v: T) {
        self.values.push(v);
        if let Some(valid) = &mut self.valid {
            valid.push(true);
        }
    }

    /// Pushes a null; `None` when the column takes none.
    fn push_null(&mut self) -> Option<()> {
        if !self.nulls {
            return None;
        }
        let valid = self
            .valid
            .get_or_insert_with(|| vec![true; self.values.len()]);
        valid.push(false);
        self.values.push(T::default());
        Some(())
    }

    fn finish<P>(self, name: PlSmallStr) -> ChunkedArray<P>
    where
        P: PolarsNumericType<Native = T>,
    {
        match self.valid {
            None => ChunkedArray::from_vec(name, self.values),
            Some(valid) => ChunkedArray::from_iter_options(
                name,
                self.values
                    .into_iter()
                    .zip(valid)
                    .map(|(v, ok)| ok.then_some(v)),
            ),
        }
    }
}

/// A summarised column so far: its first value (`None` before the first row; an empty field
/// is `Some("")`, read as null) and whether another value was seen.
#[derive(Default)]
struct Summary<'a> {
    first: Option<&'a str>,
    varied: bool,
}

impl<'a> Summary<'a> {
    fn add(&mut self, value: &'a str) {
        match self.first {
            None => self.first = Some(value),
            Some(first) => self.varied = self.varied || !same_text(first, value),
        }
    }

    fn finish(self) -> Distinct {
        match self.first {
            _ if self.varied => Distinct::Many,
            Some(v) if !v.is_empty() => Distinct::One(Some(v.to_string())),
            _ => Distinct::One(None),
        }
    }
}

/// `a == b`, with texts of 4 to 32 bytes compared as two overlapping words each (fixed-size
/// loads) rather than by a call to `memcmp`: most fields compared while reading are that short,
/// and for them the call costs more than the comparison.
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    macro_rules! words {
        ($word:ty) => {{
            const W: usize = std::mem::size_of::<$word>();
            let at = |s: &[u8], i: usize| <$word>::from_le_bytes(s[i..i + W].try_into().unwrap());
            at(a, 0) == at(b, 0) && at(a, n - W) == at(b, n - W)
        }};
    }
    match n {
        4..=8 => words!(u32),
        9..=16 => words!(u64),
        17..=32 => words!(u128),
        _ => a == b,
    }
}

/// Runs of two or more consecutive columns whose values a row may repeat from the row before
/// without being read again: summarised columns (a value seen before leaves the summary as it
/// is) and timestamps (the last value is pushed again). Exports mostly repeat such columns, and
/// a run's bytes compared with the row before in one go cost less than finding and comparing
/// its fields one by one.
struct Repeats<'a> {
    /// The run starting at each field (as the range of its fields), if any.
    starts: Vec<Option<std::ops::Range<usize>>>,
    /// The first field of the run each field ends, if it ends one.
    ends: Vec<Option<usize>>,
    /// Per run, by its first field: where its text starts in the current row, and its text in
    /// the row before with the separator after it.
    texts: Vec<(usize, &'a [u8])>,
}

impl<'a> Repeats<'a> {
    fn new(plan: &[ReadAs<'_>]) -> Self {
        let repeatable = |how: &ReadAs<'_>| matches!(how, ReadAs::Summary | ReadAs::Time(_));
        let mut starts = vec![None; plan.len()];
        let mut ends = vec![None; plan.len()];
        let mut first = 0;
        while first < plan.len() {
            let len = plan[first..].iter().take_while(|h| repeatable(h)).count();
            if len >= 2 {
                starts[first] = Some(first..first + len);
                ends[first + len - 1] = Some(first);
            }
            first += len.max(1);
        }
        Self {
            starts,
            ends,
            texts: vec![(0, &[][..]); plan.len()],
        }
    }

    /// Notes the field just read, `upto_end` being the text up to its separator.
    #[inline]
    fn field_read(&mut self, field: usize, upto_end: &'a [u8]) {
        if let Some(first) = self.ends[field] {
            let (from, text) = &mut self.texts[first];
            *text = &upto_end[*from..];
        }
    }

    /// The run starting at `field`, at `start` in `bytes`, when its text and the separator after
    /// it are those of the row before (the text then takes [`Repeats::len`] bytes).
    #[inline]
    fn repeated(
        &mut self,
        field: usize,
        bytes: &[u8],
        start: usize,
    ) -> Option<std::ops::Range<usize>> {
        let run = self.starts.get(field)?.as_ref()?;
        let (from, text) = &mut self.texts[field];
        *from = start;
        (!text.is_empty() && bytes[start..].starts_with(text)).then(|| run.clone())
    }

    /// The length of the text of the run starting at `field`, with its separator.
    fn len(&self, field: usize) -> usize {
        self.texts[field].1.len()
    }
}

/// The columns of consecutive records.
struct Piece<'a> {
    columns: Vec<Values<'a>>,
    rows: usize,
}

impl<'a> Piece<'a> {
    /// Reads the records of `piece` (whole lines, about `capacity` of them); `None` if one is
    /// not plain.
    fn read(
        piece: &'a [u8],
        capacity: usize,
        plan: &[ReadAs<'a>],
        names: &[PlSmallStr],
        syntax: Syntax<'_>,
    ) -> Option<Piece<'a>> {
        if !lone_carriage_returns_absent(piece) {
            return None;
        }
        let Syntax {
            separator,
            quote,
            nulls,
        } = syntax;
        // quotes are looked for field by field only in a piece that has one
        let quote = quote.filter(|q| memchr::memchr(*q, piece).is_some());
        let piece = std::str::from_utf8(piece).ok()?;
        let mut columns: Vec<Builder<'a>> = plan
            .iter()
            .zip(names)
            .map(|(how, name)| match how {
                ReadAs::Float { nulls } => Builder::Float(Numbers::new(capacity, *nulls)),
                ReadAs::Int { nulls } => Builder::Int(Numbers::new(capacity, *nulls)),
                ReadAs::Time(format) => Builder::Time(Numbers::new(capacity, false), format, None),
                ReadAs::Label(spec) => Builder::Label(Vec::with_capacity(capacity), spec, None),
                ReadAs::Text => Builder::Text(StringChunkedBuilder::new(name.clone(), capacity)),
                ReadAs::Summary => Builder::Summary(Summary::default()),
            })
            .collect();
        let bytes = piece.as_bytes();
        let mut runs = Repeats::new(plan);
        let mut separators = Separators::new(bytes, separator);
        let is_null = |v: &str| nulls.iter().any(|n| n == v);
        let mut field = 0;
        let mut start = 0;
        let mut rows = 0;
        loop {
            let (end, quoted) = match quote {
                Some(q) if bytes.get(start) == Some(&q) => {
                    let (end, inner) = quoted_field(bytes, start, q, &mut separators)?;
                    (end, Some(&piece[inner]))
                }
                _ => match separators.next() {
                    Some(end) => (end, None),
                    None => break,
                },
            };
            let line_end = bytes[end] == b'\n';
            let value = match quoted {
                Some(inner) => inner,
                None => {
                    let value = &piece[start..end];
                    // a quote inside a field: the other reader's reading of it is not ours to
                    // guess
                    if quote.is_some_and(|q| memchr::memchr(q, value.as_bytes()).is_some()) {
                        return None;
                    }
                    if line_end {
                        value.strip_suffix('\r').unwrap_or(value)
                    } else {
                        value
                    }
                }
            };
            match columns.get_mut(field)? {
                Builder::Float(v) => match parse_float(value) {
                    Some(x) => v.push(x),
                    None if is_null(value) => v.push_null()?,
                    None => return None,
                },
                Builder::Int(v) => match parse_int(value) {
                    Some(x) => v.push(x),
                    None if is_null(value) => v.push_null()?,
                    None => return None,
                },
                Builder::Time(v, format, last) => {
                    v.push(parse_cached(last, value, |text| format.parse(text))?);
                }
                Builder::Label(v, spec, last) => {
                    v.push(parse_cached(last, value, |text| spec.parse(text))?);
                }
                // null tokens stay text: the missing-value policy reports them as written
                Builder::Text(v) if value.is_empty() => v.append_null(),
                Builder::Text(v) => v.append_value(value),
                Builder::Summary(s) => s.add(value),
            }
            runs.field_read(field, &bytes[..=end]);
            start = end + 1;
            if line_end {
                if field + 1 != columns.len() {
                    return None;
                }
                field = 0;
                rows += 1;
            } else {
                field += 1;
            }
            // fields that repeat the row before are not split or read again
            while let Some(run) = runs.repeated(field, bytes, start) {
                for column in &mut columns[run.clone()] {
                    if let Builder::Time(v, _, Some((_, ms))) = column {
                        v.push(*ms);
                    }
                }
                start += runs.len(field);
                separators.skip_to(start);
                if bytes[start - 1] == b'\n' {
                    if run.end != columns.len() {
                        return None;
                    }
                    field = 0;
                    rows += 1;
                } else {
                    field = run.end;
                }
            }
        }
        let columns = columns
            .into_iter()
            .zip(names)
            .map(|(b, name)| match b {
                // from_vec moves the values in (Column::new would copy them)
                Builder::Float(v) => {
                    Values::Built(v.finish::<Float64Type>(name.clone()).into_column())
                }
                Builder::Int(v) => Values::Built(v.finish::<Int64Type>(name.clone()).into_column()),
                Builder::Time(v, _, _) => Values::Built(
                    v.finish::<Int64Type>(name.clone())
                        .into_datetime(TimeUnit::Milliseconds, None)
                        .into_column(),
                ),
                Builder::Label(v, _, _) => {
                    Values::Built(BooleanChunked::from_slice(name.clone(), &v).into_column())
                }
                Builder::Text(v) => Values::Built(v.finish().into_column()),
                Builder::Summary(s) => Values::Summary(s),
            })
            .collect();
        Some(Piece { columns, rows })
    }

    /// Appends the next piece's records.
    fn append(&mut self, next: Piece<'a>) -> PolarsResult<()> {
        self.rows += next.rows;
        for (mine, theirs) in self.columns.iter_mut().zip(next.columns) {
            match (mine, theirs) {
                (Values::Built(a), Values::Built(b)) => {
                    a.append_owned(b)?;
                }
                (Values::Summary(a), Values::Summary(b)) => {
                    if let Some(first) = b.first {
                        a.add(first);
                    }
                    a.varied |= b.varied;
                }
                _ => unreachable!("pieces follow one plan"),
            }
        }
        Ok(())
    }
}

/// `value` parsed, or the last value's result again when `value` repeats its text (columns of
/// an export mostly repeat the row before); `last` then holds this value and its result.
fn parse_cached<'a, T: Copy>(
    last: &mut Option<(&'a str, T)>,
    value: &'a str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    match *last {
        Some((text, parsed)) if same_text(text, value) => Some(parsed),
        _ => {
            let parsed = parse(value)?;
            *last = Some((value, parsed));
            Some(parsed)
        }
    }
}

/// Whether `lines` (whole lines) hold no carriage return other than one before a newline.
fn lone_carriage_returns_absent(lines: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', lines).all(|i| lines.get(i + 1) == Some(&b'\n'))
}

/// The field at `start` in quotes `q`: the position of the separator or line end after it
/// (the separators are moved past it) and the range of what the quotes enclose. `None` for a
/// field the other reader may read differently: an escaped or stray quote, an empty quoted
/// field, a line break inside, or anything but a separator or line end after the closing quote.
fn quoted_field(
    bytes: &[u8],
    start: usize,
    q: u8,
    separators: &mut Separators<'_>,
) -> Option<(usize, std::ops::Range<usize>)> {
    let close = start + 1 + memchr::memchr(q, &bytes[start + 1..])?;
    let inner = start + 1..close;
    if inner.is_empty() || memchr::memchr(b'\n', &bytes[inner.clone()]).is_some() {
        return None;
    }
    separators.skip_to(close + 1);
    let end = separators.next()?;
    let gap = &bytes[close + 1..end];
    let line_end_after = gap.is_empty() || (gap == b"\r" && bytes[end] == b'\n');
    line_end_after.then_some((end, inner))
}

/// Digits of an integer that converts to f64 exactly (below 2^53) by `as`.
const EXACT_DIGITS: usize = 15;

/// `-?digits(.digits)?([eE][+-]?digits)?` as f64; `None` for anything else.
fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    let sign = usize::from(b[0] == b'-');
    if i == b.len() && i - sign <= EXACT_DIGITS {
        // a short integer: exact, so the same value the general parser gives
        let magnitude = b[sign..]
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64;
        return Some(if sign == 1 { -magnitude } else { magnitude });
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

/// `-?digits` as i64; `None` for anything else (or out of range).
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_only() {
        for (s, want) in [
            ("0", Some(0.0)),
            ("-12", Some(-12.0)),
            ("1.5", Some(1.5)),
            ("2e3", Some(2000.0)),
            ("-2.50E-1", Some(-0.25)),
            ("007", Some(7.0)),
            ("-0", Some(-0.0)),
            ("999999999999999", Some(999_999_999_999_999.0)),
            ("12345678901234567890", Some(12_345_678_901_234_567_890.0)),
        ] {
            assert_eq!(
                parse_float(s).map(f64::to_bits),
                want.map(f64::to_bits),
                "{s}"
            );
        }
        for s in [
            "", "-", "+1", " 1", "1 ", ".5", "5.", "1e", "1e+", "inf", "NaN", "0x10", "1,0",
        ] {
            assert_eq!(parse_float(s), None, "{s}");
        }
        // integers on the short path give the general parser's bits
        let mut n: u64 = 1;
        while n < 10u64.pow(17) {
            for m in [n - 1, n, n + 7, n * 3 + 1] {
                for text in [m.to_string(), format!("-{m}"), format!("00{m}")] {
                    let want = text.parse::<f64>().unwrap().to_bits();
                    assert_eq!(parse_float(&text).map(f64::to_bits), Some(want), "{text}");
                }
            }
            n *= 10;
        }
        assert_eq!(parse_int("443"), Some(443));
        assert_eq!(parse_int("-1"), Some(-1));
        for s in ["", "-", "+1", "1.0", "99999999999999999999", " 1"] {
            assert_eq!(parse_int(s), None, "{s}");
        }
    }

    static ISO: TimeFormat = TimeFormat::Iso8601;

    fn plan(name: &str) -> ReadAs<'static> {
        match name {
            "x" => ReadAs::Float { nulls: false },
            "n" => ReadAs::Float { nulls: true },
            "p" => ReadAs::Int { nulls: false },
            "s" => ReadAs::Text,
            "t" | "u" => ReadAs::Time(&ISO),
            _ => ReadAs::Summary,
        }
    }

    static NULLS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| ["", "-"].map(String::from).to_vec());

    fn syntax(separator: u8, nulls: &[String]) -> Syntax<'_> {
        Syntax {
            separator,
            quote: Some(b'"'),
            nulls,
        }
    }

    #[test]
    fn quoted_fields_are_what_the_quotes_enclose() {
        let text = b"s q c\nGET \"a b\" \"x\"\nPUT \"c;d\" y\r\n";
        let got = read(text, 2, syntax(b' ', &NULLS), |name| match name {
            "c" => ReadAs::Summary,
            _ => ReadAs::Text,
        })
        .expect("plain");
        let q = got.df.column("q").unwrap().str().unwrap().clone();
        assert_eq!((q.get(0), q.get(1)), (Some("a b"), Some("c;d")));
        assert_eq!(got.summaries[0].1, Distinct::Many);
        // escaped, stray or empty quotes, quoted line breaks: declined
        for text in [
            &b"s q\nGET \"a\"\"b\"\n"[..],
            b"s q\nGET a\"b\n",
            b"s q\nGET \"\"\n",
            b"s q\nGET \"a\"b\n",
        ] {
            assert!(
                read(text, 1, syntax(b' ', &NULLS), |_| ReadAs::Text).is_none(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    fn read_csv<'s>(
        text: &[u8],
        rows: usize,
        how: impl Fn(&str) -> ReadAs<'s>,
    ) -> Option<PlainChunk> {
        read(text, rows, syntax(b',', &NULLS), how)
    }

    #[test]
    fn other_separators_and_null_tokens() {
        let text = b"x\tn\ts\n1\t-\t-\n2\t3.5\ta,b\n";
        let got = read(text, 2, syntax(b'\t', &NULLS), plan).expect("plain");
        let n = got.df.column("n").unwrap().f64().unwrap();
        assert_eq!(n.get(0), None);
        assert_eq!(n.get(1), Some(3.5));
        let s = got.df.column("s").unwrap().str().unwrap();
        // a null token in text stays as written, for the missing-value policy to see
        assert_eq!((s.get(0), s.get(1)), (Some("-"), Some("a,b")));
        // a null token where the policy fails declines the chunk (the other path reports it)
        assert!(read(b"x\tn\n-\t1\n", 1, syntax(b'\t', &NULLS), plan).is_none());
    }

    #[test]
    fn reads_columns_and_summaries() {
        let text = b"x,p,s,c,v,e\r\n1.5,80,a,k,1,\r\n2,443,,k,2,\r\n";
        let got = read_csv(text, 2, plan).expect("plain");
        assert_eq!(got.header, ["x", "p", "s", "c", "v", "e"]);
        assert_eq!(got.df.column("x").unwrap().f64().unwrap().get(1), Some(2.0));
        assert_eq!(got.df.column("p").unwrap().i64().unwrap().get(1), Some(443));
        let s = got.df.column("s").unwrap();
        assert_eq!(s.str().unwrap().get(0), Some("a"));
        assert_eq!(s.null_count(), 1);
        assert_eq!(
            got.summaries,
            vec![
                ("c".to_string(), Distinct::One(Some("k".into()))),
                ("v".to_string(), Distinct::Many),
                ("e".to_string(), Distinct::One(None)),
            ]
        );
    }

    #[test]
    fn fields_repeating_the_row_before_are_read_as_they_are() {
        // t..d and the trailing e,f are runs; rows repeat them whole, in part, or with another
        // line end
        let text = b"x,t,u,c,d,s,e,f\n\
            1,2024-01-01T00:00:00Z,2024-01-01T00:10:00Z,k,m,a,z,q\r\n\
            2,2024-01-01T00:00:00Z,2024-01-01T00:10:00Z,k,m,b,z,q\r\n\
            3,2024-01-01T00:00:00Z,2024-01-01T00:20:00Z,k,m,c,z,q\n\
            4,2024-01-01T00:00:00Z,2024-01-01T00:20:00Z,k,n,d,z,w\n\
            5,2024-01-01T00:00:00Z,2024-01-01T00:20:00Z,k,n,e,z,w\n";
        let got = read_csv(text, 5, plan).expect("plain");
        let millis = |name: &str| -> Vec<i64> {
            let c = got.df.column(name).unwrap().cast(&DataType::Int64).unwrap();
            c.i64().unwrap().into_no_null_iter().collect()
        };
        let start = 1_704_067_200_000;
        assert_eq!(millis("t"), [start; 5]);
        let minute = 60_000;
        assert_eq!(
            millis("u"),
            [10, 10, 20, 20, 20].map(|m| start + m * minute)
        );
        let s = got.df.column("s").unwrap();
        let s: Vec<Option<&str>> = (0..5).map(|i| s.str().unwrap().get(i)).collect();
        assert_eq!(s, ["a", "b", "c", "d", "e"].map(Some));
        let one = |v: &str| Distinct::One(Some(v.into()));
        assert_eq!(
            got.summaries,
            vec![
                ("c".to_string(), one("k")),
                ("d".to_string(), Distinct::Many),
                ("e".to_string(), one("z")),
                ("f".to_string(), Distinct::Many),
            ]
        );
    }

    #[test]
    fn declines_what_it_is_not_sure_about() {
        for text in [
            &b"x,c\n\"1\"\"\",a\n"[..], // an escaped quote
            b"\xEF\xBB\xBFx,c\n1,a\n",  // byte-order mark
            b"x,c\n1,a,b\n",            // too many fields
            b"x,c\n1\n",                // too few
            b"x,c\n1,\xFF\n",           // invalid UTF-8
            b"x,c\n,a\n",               // empty number
            b"x,c\n1e,a\n",             // not a plain number
            b"x,c\n1,a",                // no final newline
        ] {
            assert!(
                read_csv(text, 1, plan).is_none(),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        // the row count must match
        assert!(read_csv(b"x,c\n1,a\n", 2, plan).is_none());
    }

    #[test]
    fn labels_are_parsed_as_their_spec_says_or_the_chunk_is_declined() {
        let column = LabelSpec::Column("l".into());
        let mapped = LabelSpec::Mapped {
            column: "l".into(),
            anomaly: Some(vec!["attack".into()]),
            normal: Some(vec!["benign".into()]),
        };
        let plan_with = |spec| {
            move |name: &str| {
                if name == "l" {
                    ReadAs::Label(spec)
                } else {
                    plan(name)
                }
            }
        };
        let labels = |got: PlainChunk| -> Vec<bool> {
            let l = got.df.column("l").unwrap();
            l.bool().unwrap().iter().map(Option::unwrap).collect()
        };
        let text = b"x,l\n1,1\n2,TRUE\n3,0\n4,0.0\n5, false\n";
        let got = read_csv(text, 5, plan_with(&column)).expect("plain");
        assert_eq!(labels(got), [true, true, false, false, false]);
        let text = b"x,l\n1,attack\n2,benign\n3,benign\n";
        let got = read_csv(text, 3, plan_with(&mapped)).expect("plain");
        assert_eq!(labels(got), [true, false, false]);
        // a value the spec does not know, or none, leaves the chunk to the polars path, which
        // reports it
        for (text, spec) in [
            (&b"x,l\n1,1\n2,yes\n"[..], &column),
            (b"x,l\n1,1\n2,\n", &column),
            (b"x,l\n1,attack\n2,1\n", &mapped),
        ] {
            assert!(read_csv(text, 2, plan_with(spec)).is_none());
        }
    }

    #[test]
    fn same_text_is_equality() {
        let texts: Vec<String> = (0..=40)
            .flat_map(|n| {
                let base = "x".repeat(n);
                // a difference at the first, a middle and the last byte
                let mut variants = vec![base.clone()];
                for at in [0, n / 2, n.saturating_sub(1)] {
                    if n > 0 {
                        let mut v = base.clone().into_bytes();
                        v[at] = b'y';
                        variants.push(String::from_utf8(v).unwrap());
                    }
                }
                variants
            })
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn pieces_join_in_order() {
        let rows = 3 * PIECE_ROWS + 5;
        let mut text = String::from("x,c,v\n");
        for i in 0..rows {
            text.push_str(&format!(
                "{i},same,{}\n",
                if i == rows - 1 { "b" } else { "a" }
            ));
        }
        let got = read_csv(text.as_bytes(), rows, plan).expect("plain");
        let x: Vec<f64> = got
            .df
            .column("x")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(x, (0..rows).map(|i| i as f64).collect::<Vec<_>>());
        assert_eq!(
            got.summaries,
            vec![
                ("c".to_string(), Distinct::One(Some("same".into()))),
                ("v".to_string(), Distinct::Many),
            ]
        );
    }
}
