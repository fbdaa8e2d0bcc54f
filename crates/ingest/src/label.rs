//! [`LabelSpec`]: the ground-truth column and which of its values mean an anomaly.

use crate::spec::LabelVisitor;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The ground-truth column and how its values map to anomaly / normal. Values are matched
/// ignoring ASCII case and surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSpec {
    /// Just the column name: values 0/1 or true/false (1/true = anomaly).
    Column(String),
    /// Column plus value lists: `{column: label, anomaly: [Malicious], normal: [Benign]}`.
    /// With one list only, every other value belongs to the other class.
    Mapped {
        /// Column name.
        column: String,
        /// Values meaning anomaly (`None`: every value not in `normal`).
        anomaly: Option<Vec<String>>,
        /// Values meaning normal (`None`: every value not in `anomaly`).
        normal: Option<Vec<String>>,
    },
}

impl LabelSpec {
    /// A mapped spec; at least one list must be given, and no value may be in both.
    pub fn mapped(
        column: String,
        anomaly: Option<Vec<String>>,
        normal: Option<Vec<String>>,
    ) -> Result<Self, String> {
        if anomaly.is_none() && normal.is_none() {
            return Err(format!(
                "label column `{column}`: give `anomaly: [values]`, `normal: [values]` or both"
            ));
        }
        if let (Some(a), Some(n)) = (&anomaly, &normal)
            && let Some(both) = a
                .iter()
                .find(|v| n.iter().any(|w| w.eq_ignore_ascii_case(v)))
        {
            return Err(format!(
                "label column `{column}`: value `{both}` is listed as both anomaly and normal"
            ));
        }
        Ok(LabelSpec::Mapped {
            column,
            anomaly,
            normal,
        })
    }

    /// The label column's name.
    pub fn column(&self) -> &str {
        match self {
            LabelSpec::Column(c) | LabelSpec::Mapped { column: c, .. } => c,
        }
    }

    /// Parses one raw label value; `None` when it is not a recognised value.
    pub fn parse(&self, raw: &str) -> Option<bool> {
        let raw = raw.trim();
        // ASCII case is ignored, without a lowercased copy per value
        let listed = |words: &[String]| words.iter().any(|w| raw.eq_ignore_ascii_case(w.trim()));
        match self {
            LabelSpec::Column(_) => {
                let is = |words: [&str; 3]| words.iter().any(|w| raw.eq_ignore_ascii_case(w));
                if is(["1", "true", "1.0"]) {
                    Some(true)
                } else if is(["0", "false", "0.0"]) {
                    Some(false)
                } else {
                    None
                }
            }
            LabelSpec::Mapped {
                anomaly, normal, ..
            } => match (anomaly, normal) {
                (Some(a), _) if listed(a) => Some(true),
                (_, Some(n)) if listed(n) => Some(false),
                // one list only: everything else is the other class (an empty value is not a
                // label)
                (None, Some(_)) if !raw.is_empty() => Some(true),
                (Some(_), None) if !raw.is_empty() => Some(false),
                _ => None,
            },
        }
    }

    /// Human description of the accepted values, for error messages.
    pub fn expected(&self) -> String {
        match self {
            LabelSpec::Column(_) => "a label 0/1 or true/false".into(),
            LabelSpec::Mapped {
                anomaly: Some(a),
                normal: Some(n),
                ..
            } => format!("a label in anomaly {a:?} or normal {n:?} (any case)"),
            LabelSpec::Mapped { .. } => "a non-empty label".into(),
        }
    }
}

impl Serialize for LabelSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LabelSpec::Column(c) => s.serialize_str(c),
            LabelSpec::Mapped {
                column,
                anomaly,
                normal,
            } => {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("column", column)?;
                if let Some(a) = anomaly {
                    map.serialize_entry("anomaly", a)?;
                }
                if let Some(n) = normal {
                    map.serialize_entry("normal", n)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for LabelSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LabelVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_labels_ignore_ascii_case_and_surrounding_space() {
        let spec = LabelSpec::Column("label".into());
        for (raw, want) in [
            ("1", Some(true)),
            ("TRUE", Some(true)),
            (" True ", Some(true)),
            ("1.0", Some(true)),
            ("0", Some(false)),
            ("False", Some(false)),
            ("0.0\t", Some(false)),
            ("yes", None),
            ("", None),
            ("2", None),
            ("1.00", None),
        ] {
            assert_eq!(spec.parse(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn mapped_labels_ignore_case_and_one_list_means_the_rest_is_the_other_class() {
        let both = LabelSpec::mapped(
            "l".into(),
            Some(vec!["Malicious".into()]),
            Some(vec!["Benign".into()]),
        )
        .unwrap();
        assert_eq!(both.parse("malicious"), Some(true));
        assert_eq!(both.parse(" BENIGN"), Some(false));
        assert_eq!(both.parse("other"), None);
        let normal_only = LabelSpec::mapped("l".into(), None, Some(vec!["normal".into()])).unwrap();
        assert_eq!(normal_only.parse("Normal"), Some(false));
        assert_eq!(normal_only.parse("neptune"), Some(true));
        assert_eq!(normal_only.parse(""), None);
        let anomaly_only =
            LabelSpec::mapped("l".into(), Some(vec!["attack".into()]), None).unwrap();
        assert_eq!(anomaly_only.parse("ATTACK"), Some(true));
        assert_eq!(anomaly_only.parse("web"), Some(false));
        assert!(LabelSpec::mapped("l".into(), None, None).is_err());
        let clash = LabelSpec::mapped("l".into(), Some(vec!["x".into()]), Some(vec!["X".into()]));
        assert!(clash.unwrap_err().contains("both"));
    }

    #[test]
    fn config_forms_parse_and_round_trip_with_errors_naming_the_keys() {
        for yaml in [
            "label",
            "{column: label, normal: [normal]}",
            "{column: label, anomaly: [a, b], normal: [c]}",
        ] {
            let spec: LabelSpec = serde_yaml::from_str(yaml).unwrap();
            let back = serde_yaml::to_string(&spec).unwrap();
            assert_eq!(serde_yaml::from_str::<LabelSpec>(&back).unwrap(), spec);
        }
        let err = serde_yaml::from_str::<LabelSpec>("{column: l, normals: [x]}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `normals`"), "{err}");
        let err = serde_yaml::from_str::<LabelSpec>("{column: l}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("anomaly: [values]"), "{err}");
    }
}
