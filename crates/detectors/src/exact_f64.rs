//! Bit-exact JSON encoding of model floats.
//!
//! serde_json parses floats "best effort" unless its `float_roundtrip` feature is on, so a
//! number written and read back may differ in the last bit. Model parameters (tree thresholds,
//! network weights, training statistics) must survive a save/load unchanged so that a loaded
//! model scores bit-identically. They are therefore written as strings in Rust's shortest
//! round-trip notation (`{:?}`, e.g. `"0.1"`, `"1e-7"`) and read back with `str::parse`, which
//! is correctly rounded.

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};
use std::fmt;

fn parse(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("`{text}` is not a finite number"))
    }
}

/// `#[serde(with = "exact_f64::scalar")]` for one `f64`.
pub mod scalar {
    use super::*;

    /// Writes the value as a shortest round-trip string.
    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{value:?}"))
    }

    /// Reads a value written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a finite number written as a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// `#[serde(with = "exact_f64::vec")]` for a `Vec<f64>`.
pub mod vec {
    use super::*;

    /// Writes the values as a sequence of shortest round-trip strings.
    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for value in values {
            seq.serialize_element(&format!("{value:?}"))?;
        }
        seq.end()
    }

    /// Reads values written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<f64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of finite numbers written as strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(text) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    out.push(parse(&text).map_err(de::Error::custom)?);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super::scalar")]
        one: f64,
        #[serde(with = "super::vec")]
        many: Vec<f64>,
    }

    #[test]
    fn awkward_floats_round_trip_bit_exactly() {
        let many = vec![
            0.1,
            1.0 / 3.0,
            -2.2250738585072014e-308,
            5e-324,
            1.7976931348623157e308,
            0.30000000000000004,
            123456.789e-17,
            -0.0,
        ];
        let holder = Holder {
            one: std::f64::consts::PI,
            many,
        };
        let json = serde_json::to_string(&holder).unwrap();
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.one.to_bits(), holder.one.to_bits());
        for (a, b) in back.many.iter().zip(&holder.many) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn non_numbers_are_rejected() {
        let err = serde_json::from_str::<Holder>(r#"{"one":"abc","many":[]}"#).unwrap_err();
        assert!(err.to_string().contains("`abc` is not a number"), "{err}");
        let err = serde_json::from_str::<Holder>(r#"{"one":"1","many":["NaN"]}"#).unwrap_err();
        assert!(err.to_string().contains("not a finite number"), "{err}");
    }
}
