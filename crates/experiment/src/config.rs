//! The experiment config: YAML schema, defaults, `--set` overrides and validation.
//!
//! Unknown keys and wrong types are errors that name the key and, when the YAML is read as
//! written, its line and column (serde_yaml's location).

use crate::error::ExperimentError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use webthreat_detectors::DetectorConfig;
use webthreat_features::{DEFAULT_WINDOW_SECONDS, Scaling};
use webthreat_ingest::SourceSpec;
use webthreat_intel::{ListKind, ListSpec};

/// A whole experiment, as written in `configs/*.yaml` (defaults filled in after parsing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Experiment name: runs go to `experiments/<name>/`.
    pub name: String,
    /// Every random choice derives from it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The log to analyse.
    pub data: SourceSpec,
    /// Feature names; omitted means the format's default list, or for `format: table` every
    /// numeric column that is not an identity, a port, a time or the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Columns never used as features (such as a score derived from the label).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features_exclude: Vec<String>,
    /// Window length of per-source aggregate features, in seconds.
    #[serde(default = "default_window")]
    pub window_seconds: u64,
    /// Feature scaling before detection.
    #[serde(default)]
    pub scaling: Scaling,
    /// Detectors to fit and compare.
    pub detectors: Vec<DetectorConfig>,
    /// Fits of every detector, with seeds `seed .. seed + repeat - 1`: the metrics are their
    /// mean (with sd, min and max); scores, flags and explanations come from the first seed.
    #[serde(default = "default_repeat", skip_serializing_if = "is_one")]
    pub repeat: usize,
    /// Config keys (the paths `--set` takes) and the values to try: one run per combination,
    /// and a summary ranking them.
    #[serde(default, skip_serializing_if = "Sweep::is_empty")]
    pub sweep: Sweep,
    /// Data sets to run the experiment on (each sets `data.path`, and any keys under `set:`):
    /// one run per data set, and a summary of detectors × data sets with average ranks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suite: Vec<SuiteEntry>,
    /// The metric a sweep or suite summary ranks by.
    #[serde(default, skip_serializing_if = "RankBy::is_default")]
    pub rank_by: RankBy,
    /// What the detectors are fitted on, when not every row of the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitOptions>,
    /// Threat-intel block- and allowlists and optional GeoIP/ASN databases.
    #[serde(default, skip_serializing_if = "IntelOptions::is_empty")]
    pub intel: IntelOptions,
    /// Report options.
    #[serde(default)]
    pub report: ReportOptions,
    /// Process the log in batches with bounded memory (logs larger than memory); omitted, the
    /// whole log is read at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<StreamingOptions>,
}

/// The `sweep:` section: dotted config keys mapped to the values to try, in the written order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sweep(pub serde_yaml::Mapping);

impl Sweep {
    /// True when nothing is swept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One data set of a `suite:`: a path, or a path with a name and other keys set for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SuiteEntry {
    /// The data set's `data.path`; its name is the file name without extensions.
    Path(PathBuf),
    /// A data set with its own keys.
    Detailed {
        /// The data set's `data.path`.
        path: PathBuf,
        /// Its name in the summary (default: the file name without extensions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Config keys set for this data set only (the paths `--set` takes).
        #[serde(default, skip_serializing_if = "serde_yaml::Mapping::is_empty")]
        set: serde_yaml::Mapping,
    },
}

/// The metric summaries rank by (higher is better for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// ROC AUC.
    #[default]
    RocAuc,
    /// Average precision.
    PrAuc,
    /// Precision of the flags.
    Precision,
    /// Recall of the flags.
    Recall,
    /// F1 of the flags.
    F1,
}

impl RankBy {
    /// Its `metrics.json` name.
    pub fn as_str(self) -> &'static str {
        match self {
            RankBy::RocAuc => "roc_auc",
            RankBy::PrAuc => "pr_auc",
            RankBy::Precision => "precision",
            RankBy::Recall => "recall",
            RankBy::F1 => "f1",
        }
    }

    fn is_default(&self) -> bool {
        *self == RankBy::default()
    }
}

/// The `fit:` section: the rows the scaler, the detectors and their thresholds are fitted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitOptions {
    /// A training log, read as `data` is (same format and keys); without it, the scored log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// `normal`: fit on the rows labeled normal only (novelty detection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<FitLabel>,
    /// Fit on the rows starting before this time (ISO-8601 UTC); without `data`, only the rows
    /// from it on are scored and evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

/// The label of the rows `fit.label` fits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitLabel {
    /// The rows labeled normal.
    Normal,
}

impl FitOptions {
    /// `before` in Unix milliseconds (checked by [`ExperimentConfig::validate`]).
    pub fn before_ms(&self) -> Option<i64> {
        self.before
            .as_deref()
            .and_then(webthreat_ingest::timestamp::parse_epoch_ms)
    }
}

/// The `intel:` section: lists matched against every row's source and destination address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelOptions {
    /// Block- and allowlists (`path`, optional `name`, `kind: block | allow`, `format`,
    /// `column`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<ListSpec>,
    /// Whether a row with an allowlisted address is never flagged, by any detector.
    #[serde(default = "default_true")]
    pub suppress_allowed: bool,
    /// MaxMind `.mmdb` databases: country (GeoLite2-Country or -City) and ASN
    /// (GeoLite2-ASN), each optional; adds country and ASN columns to `scores.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geoip: Option<GeoOptions>,
}

impl Default for IntelOptions {
    fn default() -> Self {
        Self {
            lists: Vec::new(),
            suppress_allowed: true,
            geoip: None,
        }
    }
}

impl IntelOptions {
    /// True when the section asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.geoip.is_none()
    }
}

/// MaxMind databases of the `intel.geoip` key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoOptions {
    /// A GeoLite2-Country or GeoLite2-City database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<PathBuf>,
    /// A GeoLite2-ASN database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<PathBuf>,
}

/// Batch processing of a log larger than memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamingOptions {
    /// Data rows read, featurized and scored at a time.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// Rows sampled uniformly from the whole log (a seeded hash of the row id picks them) to
    /// fit the scaler, the detectors and their thresholds.
    #[serde(default = "default_fit_rows")]
    pub fit_rows: usize,
}

impl Default for StreamingOptions {
    fn default() -> Self {
        Self {
            batch_rows: default_batch_rows(),
            fit_rows: default_fit_rows(),
        }
    }
}

fn default_batch_rows() -> usize {
    100_000
}
fn default_fit_rows() -> usize {
    100_000
}

/// Report options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportOptions {
    /// Flagged rows listed in the report (highest score first).
    #[serde(default = "default_top")]
    pub top_flagged: usize,
    /// Top explaining features shown per flagged row.
    #[serde(default = "default_explain")]
    pub explain_features: usize,
    /// Whether to draw plots (PNG + SVG).
    #[serde(default = "default_true")]
    pub plots: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            top_flagged: default_top(),
            explain_features: default_explain(),
            plots: true,
        }
    }
}

/// The most seeds `repeat` may ask for.
pub const REPEAT_LIMIT: usize = 100;

fn default_repeat() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn default_seed() -> u64 {
    42
}
fn default_window() -> u64 {
    DEFAULT_WINDOW_SECONDS
}
fn default_top() -> usize {
    50
}
fn default_explain() -> usize {
    3
}
fn default_true() -> bool {
    true
}

impl ExperimentConfig {
    /// Reads a config file, applies `--set key=value` overrides and an optional data path.
    pub fn load(
        path: &Path,
        overrides: &[String],
        data: Option<&Path>,
    ) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
            path: path.to_path_buf(),
            error: source,
        })?;
        let mut config =
            Self::parse(&text, overrides).map_err(|message| ExperimentError::Config {
                path: path.to_path_buf(),
                message,
            })?;
        if let Some(data) = data {
            if !config.suite.is_empty() {
                return Err(ExperimentError::Config {
                    path: path.to_path_buf(),
                    message: "suite: the config names its data sets; run it without --data".into(),
                });
            }
            config.data.path = data.to_path_buf();
        }
        if let Err(message) = config.validate() {
            // a value out of range is named with its line, as a parse error is
            let key = config.invalid_key(&message);
            let set = key.as_ref().is_some_and(|k| {
                overrides
                    .iter()
                    .any(|o| o.split('=').next() == Some(k.as_str()))
            });
            let place = match key.as_deref().and_then(|k| line_of(&text, k)) {
                _ if set => " (set by --set)".to_string(),
                Some(line) => format!(" at line {line}"),
                None => String::new(),
            };
            return Err(ExperimentError::Config {
                path: path.to_path_buf(),
                message: format!("{message}{place}"),
            });
        }
        Ok(config)
    }

    /// The dotted key (`detectors.0.n_estimators`) a [`validate`](Self::validate) message is
    /// about, when it names one.
    fn invalid_key(&self, message: &str) -> Option<String> {
        if let Some(rest) = message.strip_prefix("detectors[") {
            let (index, _) = rest.split_once(']')?;
            let i: usize = index.parse().ok()?;
            let key = self.detectors.get(i).and_then(|d| match d.validate() {
                Err(webthreat_detectors::DetectorError::InvalidConfig { key, .. }) => Some(key),
                _ => None,
            });
            return Some(match key {
                Some(key) => format!("detectors.{i}.{key}"),
                None => format!("detectors.{i}"),
            });
        }
        let top = message.split([':', ' ']).next()?;
        [
            "name",
            "features",
            "streaming",
            "detectors",
            "intel",
            "fit",
            "repeat",
            "sweep",
            "suite",
        ]
        .contains(&top)
        .then(|| top.to_string())
    }

    /// Parses YAML text with overrides; the error is a human message with key and line.
    pub fn parse(text: &str, overrides: &[String]) -> Result<Self, String> {
        if overrides.is_empty() {
            return serde_yaml::from_str(text).map_err(|e| e.to_string());
        }
        let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        for o in overrides {
            apply_override(&mut value, o)?;
        }
        serde_yaml::from_value(value).map_err(|e| {
            // serde_yaml names no key here: name the overrides instead
            let set: Vec<String> = overrides.iter().map(|o| format!("`{o}`")).collect();
            format!("after --set {}: {e}", set.join(", "))
        })
    }

    /// Checks what serde cannot: names, detector parameters, feature names.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || self.name.starts_with(['.', '-'])
        {
            return Err(format!(
                "name: `{}` must be non-empty, not start with `.` or `-`, and use only letters, digits, `-`, `_`, `.` (it names a directory)",
                webthreat_core::text::visible(&self.name)
            ));
        }
        if self.name == crate::compare::COMPARISONS_DIR {
            return Err(format!(
                "name: `{}` is where `compare` writes its comparisons; choose another name",
                self.name
            ));
        }
        if self.detectors.is_empty() {
            return Err("detectors: list at least one detector".into());
        }
        if self.suite.is_empty() && self.data.path.as_os_str().is_empty() {
            return Err(
                "data: `path` names the log to analyse (or list data sets under `suite:`)".into(),
            );
        }
        if self.is_plan() {
            crate::plan::variants(self)?;
            return Ok(());
        }
        let mut names: Vec<String> = Vec::new();
        for (i, d) in self.detectors.iter().enumerate() {
            d.validate()
                .map_err(|e| format!("detectors[{i}] ({}): {e}", d.name()))?;
            let name = d.name().to_string();
            if names.contains(&name) {
                return Err(format!(
                    "detectors[{i}]: name `{name}` is used twice; give one of them a `name:`"
                ));
            }
            names.push(name);
        }
        if !(1..=REPEAT_LIMIT).contains(&self.repeat) {
            return Err(format!(
                "repeat: is {}: expected 1 to {REPEAT_LIMIT} seeds",
                self.repeat
            ));
        }
        if self.repeat > 1 && (self.streaming.is_some() || self.fit.is_some()) {
            return Err(
                "repeat: repeated fits are compared on the rows they were fitted on, which a `streaming` or `fit` section makes other rows; remove one of them".into(),
            );
        }
        if let Some(fit) = &self.fit {
            if let Some(before) = &fit.before
                && fit.before_ms().is_none()
            {
                return Err(format!(
                    "fit: before `{}`: expected an ISO-8601 UTC timestamp like 2024-04-25T23:00:00Z",
                    webthreat_core::text::visible(before)
                ));
            }
            if self.detectors.iter().any(|d| d.kind() == "beacon")
                || (self.features.iter().flatten()).any(|f| f.trim() == "beacon_score")
            {
                return Err(
                    "fit: a beacon analysis scores the pairs of the log it is given; it cannot be fitted on other rows (remove `fit:` or the beacon detector)".into(),
                );
            }
        }
        let kinds = |kind: &str| self.detectors.iter().filter(|d| d.kind() == kind).count();
        if kinds("beacon") > 1 {
            return Err(
                "detectors: one `kind: beacon` per run (its pair analysis gives the beacon_score feature); use `--set` or another run for other parameters".into(),
            );
        }
        let reads_intel = kinds("intel") > 0
            || (self.features.iter().flatten()).any(|f| f.trim() == "intel_match");
        if reads_intel && self.intel.lists.iter().all(|l| l.kind != ListKind::Block) {
            return Err(
                "intel: `kind: intel` and the intel_match feature need at least one blocklist under `intel: lists:`".into(),
            );
        }
        if let Some(features) = &self.features {
            let spec = webthreat_features::FeatureSpec::new(features.clone(), self.window_seconds)
                .map_err(|e| format!("features: {e}"))?;
            let window = spec.window_features();
            if self.streaming.is_some() && !window.is_empty() {
                return Err(format!(
                    "features: {} aggregate over a source's time window, which needs the whole log at once; remove them or the `streaming` section",
                    window.join(", ")
                ));
            }
        }
        if let Some(s) = &self.streaming
            && (s.batch_rows == 0 || s.fit_rows == 0)
        {
            return Err(format!(
                "streaming: batch_rows ({}) and fit_rows ({}) must be at least 1",
                s.batch_rows, s.fit_rows
            ));
        }
        Ok(())
    }

    /// True when the config expands into several runs (a `sweep` or a `suite`).
    pub fn is_plan(&self) -> bool {
        !self.sweep.is_empty() || !self.suite.is_empty()
    }

    /// The resolved config as YAML (defaults filled in), for the run directory.
    pub fn to_yaml(&self) -> Result<String, ExperimentError> {
        serde_yaml::to_string(self).map_err(|e| ExperimentError::Config {
            path: PathBuf::from("config.yaml"),
            message: e.to_string(),
        })
    }
}

/// The 1-based line of a dotted key (`detectors.0.n_estimators`) in block-style YAML, if it is
/// written there (a key given in flow style `{...}` or not written at all has none).
fn line_of(text: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let is_item = |l: &str| l.trim_start().starts_with("- ");
    // a line's content column: after a sequence dash, the content starts two further
    let column = |l: &str| if is_item(l) { indent(l) + 2 } else { indent(l) };
    fn content(l: &str) -> &str {
        l.trim_start().trim_start_matches("- ")
    }
    // the lines [from, to) hold the value being searched, its entries at column >= `at`
    let (mut from, mut to, mut at) = (0, lines.len(), 0);
    let mut line = None;
    for seg in key.split('.') {
        let (start, level) = match seg.parse::<usize>() {
            Ok(i) => {
                let dash = (from..to)
                    .filter(|&n| is_item(lines[n]) && indent(lines[n]) >= at)
                    .map(|n| indent(lines[n]))
                    .min()?;
                let start = (from..to)
                    .filter(|&n| is_item(lines[n]) && indent(lines[n]) == dash)
                    .nth(i)?;
                (start, dash)
            }
            Err(_) => {
                let start = (from..to).find(|&n| {
                    column(lines[n]) >= at && content(lines[n]).starts_with(&format!("{seg}:"))
                })?;
                (start, column(lines[start]))
            }
        };
        // the value runs to the next line at its level or shallower
        let end = (start + 1..to)
            .find(|&m| !lines[m].trim().is_empty() && indent(lines[m]) <= level)
            .unwrap_or(to);
        line = Some(start + 1);
        (from, to, at) = (start, end, level + 1);
    }
    line
}

/// Applies `a.b.0.c=value` to a YAML value; `value` is parsed as YAML (so numbers stay numbers).
fn apply_override(root: &mut serde_yaml::Value, assignment: &str) -> Result<(), String> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("--set `{assignment}`: expected key=value, e.g. seed=7"))?;
    let new: serde_yaml::Value = serde_yaml::from_str(raw)
        .map_err(|e| format!("--set `{assignment}`: value is not valid YAML: {e}"))?;
    set_key(root, key, new)
}

/// Sets the dotted key `a.b.0.c` of a YAML value (creating mappings on the way, never list
/// items).
pub(crate) fn set_key(
    root: &mut serde_yaml::Value,
    key: &str,
    new: serde_yaml::Value,
) -> Result<(), String> {
    let mut node = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (depth, part) in parts.iter().enumerate() {
        let last = depth + 1 == parts.len();
        node = match node {
            serde_yaml::Value::Mapping(map) => {
                let k = serde_yaml::Value::String(part.to_string());
                if last {
                    map.insert(k, new);
                    return Ok(());
                }
                map.entry(k)
                    .or_insert_with(|| serde_yaml::Value::Mapping(Default::default()))
            }
            serde_yaml::Value::Sequence(seq) => {
                let i: usize = part.parse().map_err(|_| {
                    format!("--set `{key}`: `{part}` indexes a list, expected a number")
                })?;
                let len = seq.len();
                let slot = seq.get_mut(i).ok_or_else(|| {
                    format!("--set `{key}`: index {i} is out of range (the list has {len})")
                })?;
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            _ => {
                return Err(format!(
                    "--set `{key}`: `{}` is not a mapping or list",
                    parts[..depth].join(".")
                ));
            }
        };
    }
    Err(format!("--set `{key}`: empty key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "name: t\ndata:\n  path: x.csv\ndetectors:\n  - kind: iforest\n";

    #[test]
    fn defaults_are_filled_in() {
        let c = ExperimentConfig::parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.seed, 42);
        assert_eq!(c.window_seconds, 600);
        assert_eq!(c.scaling, Scaling::Standard);
        assert_eq!(c.report.top_flagged, 50);
        c.validate().unwrap();
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let text = "name: t\nsed: 4\ndata:\n  path: x.csv\ndetectors: []\n";
        let err = ExperimentConfig::parse(text, &[]).unwrap_err();
        assert!(err.contains("sed") && err.contains("line 2"), "{err}");
        let text = "name: t\ndata:\n  path: x.csv\n  formt: table\ndetectors: []\n";
        let err = ExperimentConfig::parse(text, &[]).unwrap_err();
        assert!(err.contains("formt") && err.contains("line 4"), "{err}");
    }

    #[test]
    fn out_of_range_values_name_the_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        let text = "name: t\ndata:\n  path: x.csv\ndetectors:\n  - kind: zscore\n  - kind: iforest\n    contamination: 0.1\n    n_estimators: 1000000000\n";
        std::fs::write(&path, text).unwrap();
        let err = ExperimentConfig::load(&path, &[], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("n_estimators") && err.contains("at line 8"),
            "{err}"
        );
        let set = ["detectors.1.n_estimators=2000000000".to_string()];
        let err = ExperimentConfig::load(&path, &set, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("(set by --set)"), "{err}");
        std::fs::write(
            &path,
            "name: -x\ndata:\n  path: x.csv\ndetectors:\n  - kind: zscore\n",
        )
        .unwrap();
        let err = ExperimentConfig::load(&path, &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at line 1"), "{err}");
        assert_eq!(
            line_of("a:\n  b:\n    - x: 1\n    - y: 2\n      z: 3\n", "a.b.1.z"),
            Some(5)
        );
        assert_eq!(line_of("a: {b: 1}\n", "a.b"), None);
    }

    #[test]
    fn wrong_types_name_the_key_and_line() {
        let text = "name: t\nseed: many\ndata:\n  path: x.csv\ndetectors: []\n";
        let err = ExperimentConfig::parse(text, &[]).unwrap_err();
        assert!(err.contains("seed") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn overrides_set_nested_keys_and_list_items() {
        let c = ExperimentConfig::parse(
            MINIMAL,
            &[
                "seed=7".into(),
                "data.format=table".into(),
                "name=other".into(),
            ],
        )
        .unwrap();
        assert_eq!((c.seed, c.name.as_str()), (7, "other"));
        assert_eq!(c.data.format, webthreat_ingest::Format::Table);
        assert!(ExperimentConfig::parse(MINIMAL, &["detectors.3.x=1".into()]).is_err());
        assert!(ExperimentConfig::parse(MINIMAL, &["seed".into()]).is_err());
    }

    #[test]
    fn validation_rejects_bad_names_and_duplicate_detectors() {
        let mut c = ExperimentConfig::parse(MINIMAL, &[]).unwrap();
        c.name = "../escape".into();
        assert!(c.validate().is_err());
        let twice =
            "name: t\ndata:\n  path: x.csv\ndetectors:\n  - kind: zscore\n  - kind: zscore\n";
        let err = ExperimentConfig::parse(twice, &[])
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.contains("used twice"), "{err}");
    }

    #[test]
    fn resolved_config_round_trips() {
        let c = ExperimentConfig::parse(MINIMAL, &[]).unwrap();
        let again = ExperimentConfig::parse(&c.to_yaml().unwrap(), &[]).unwrap();
        assert_eq!(c, again);
    }
}
