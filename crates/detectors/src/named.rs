//! Field names in the deserialization errors of model files.
//!
//! serde reports a bad value inside a struct without saying which field it was in (`invalid
//! type: null, expected a finite number written as a string`). Model fields that a tampered or
//! truncated file may get wrong are therefore read through [`field`] (one field) or
//! [`indexed`] (one element of a list), which prefix the error with the field's name, so a
//! message reads `model: trees[3]: value: `inf` is not a finite number at line 1 column 812`.

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// `err` with `path: ` in front. serde_json appends the position to an error as it leaves each
/// value; that suffix is dropped here and added back, once, by the enclosing value.
pub(crate) fn in_field<E: de::Error>(path: impl fmt::Display, err: E) -> E {
    let text = err.to_string();
    E::custom(format_args!("{path}: {}", without_position(&text)))
}

/// `text` without serde_json's ` at line L column C` suffix.
fn without_position(text: &str) -> &str {
    const AT: &str = " at line ";
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(at) = text.rfind(AT)
        && let Some((line, column)) = text[at + AT.len()..].split_once(" column ")
        && digits(line)
        && digits(column)
    {
        return &text[..at];
    }
    text
}

/// Deserializes with `inner`, naming `name` in any error.
pub(crate) fn field<'de, D, T>(
    deserializer: D,
    name: &str,
    inner: impl FnOnce(D) -> Result<T, D::Error>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    inner(deserializer).map_err(|e| in_field(name, e))
}

/// A list whose element errors name the element (`name[i]: ...`).
pub(crate) fn indexed<'de, D, T>(deserializer: D, name: &'static str) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T> {
        name: &'static str,
        item: PhantomData<T>,
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a list of {}", self.name)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // the capacity is a hint from the input: bounded
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            loop {
                match seq.next_element::<T>() {
                    Ok(Some(item)) => out.push(item),
                    Ok(None) => return Ok(out),
                    Err(e) => {
                        return Err(in_field(format_args!("{}[{}]", self.name, out.len()), e));
                    }
                }
            }
        }
    }
    // a value that is no list fails with "expected a list of <name>"
    deserializer.deserialize_seq(V {
        name,
        item: PhantomData,
    })
}

/// Declares deserializer functions that name their field in errors, for
/// `#[serde(deserialize_with = "...")]`:
/// `named_fields! { fn_name: Type = "field" via path::to::deserialize; }` (`via` defaults to
/// `Type`'s own `Deserialize`).
macro_rules! named_fields {
    ($($fn_name:ident: $ty:ty = $name:literal $(via $inner:path)?;)*) => {
        $(
            fn $fn_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                $crate::named::field(d, $name, $crate::named::named_fields!(@inner $ty $(, $inner)?))
            }
        )*
    };
    (@inner $ty:ty) => { <$ty as serde::Deserialize>::deserialize };
    (@inner $ty:ty, $inner:path) => { $inner };
}
pub(crate) use named_fields;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(deserialize_with = "de_value")]
        value: Vec<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(deserialize_with = "de_items")]
        items: Vec<Inner>,
    }

    named_fields! {
        de_value: Vec<f64> = "value" via crate::exact_f64::vec::deserialize;
    }

    fn de_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Inner>, D::Error> {
        indexed(d, "items")
    }

    #[test]
    fn errors_name_the_path_with_one_position() {
        let err = serde_json::from_str::<Outer>(
            r#"{"items": [{"value": ["1"]}, {"value": ["2", "inf"]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("items[1]: value: `inf` is not a finite number at line 1"),
            "{err}"
        );
        assert_eq!(err.matches(" at line ").count(), 1, "{err}");
        let err = serde_json::from_str::<Outer>(r#"{"items": [{"value": [null]}]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("items[0]: value: invalid type"), "{err}");
        assert_eq!(without_position("x at line 3 column 4"), "x");
        assert_eq!(without_position("x at line three"), "x at line three");
    }
}
