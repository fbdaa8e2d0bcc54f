//! Deserialization of values written as a number or the keyword `auto` (`max_samples`,
//! `max_features`, `contamination`).

use serde::Deserializer;
use serde::de::{self, Visitor};
use std::fmt;

/// Reads an integer (`from_int`), a float (`from_float`) or the string `auto` (`auto`);
/// anything else is an error that says `expecting`.
pub(crate) fn number_or_auto<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    auto: T,
    from_int: fn(u64) -> T,
    from_float: fn(f64) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T> {
        expecting: &'static str,
        auto: Option<T>,
        from_int: fn(u64) -> T,
        from_float: fn(f64) -> T,
    }
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Ok((self.from_int)(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            u64::try_from(v)
                .map(self.from_int)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Ok((self.from_float)(v))
        }
        fn visit_str<E: de::Error>(mut self, v: &str) -> Result<T, E> {
            match self.auto.take() {
                Some(auto) if v == "auto" => Ok(auto),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }
    deserializer.deserialize_any(V {
        expecting,
        auto: Some(auto),
        from_int,
        from_float,
    })
}
