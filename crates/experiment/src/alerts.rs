//! `alerts.jsonl`: what a run found, one JSON object per line, for a SIEM or a script. Field
//! names are those of the Elastic Common Schema (ECS) where it has them, as nested objects;
//! the rest is under `webthreat`.
//!
//! Three kinds of alert, told apart by `event.dataset`:
//! - `webthreat.row`: a row flagged by at least one detector (after allowlist suppression),
//!   once however many detectors flag it: `rule.name` is the one with the highest severity
//!   (the first in config order on a tie), `webthreat.detectors` lists every flagging
//!   detector with its score, threshold, severity and explaining features;
//! - `webthreat.intel`: an address of a row on a blocklist (one alert per matching side; none
//!   for a row with an allowlisted address when flags of such rows are suppressed), with ECS
//!   `threat.indicator`;
//! - `webthreat.beacon`: a pair of the beacon analysis scored above the beacon detector's
//!   threshold (the default 0.7 when a `beacon_score` feature asked for the analysis without
//!   the detector), with its score and components, as `beacons.csv` flags it.
//!
//! Row and intel alerts are written batch by batch in row order while the batches are scored
//! (never all in memory), beacon alerts after them. The JSON is written by serde_json, so any
//! log content gives valid JSON; characters that could act on a terminal or reorder text
//! (DEL, C1 controls, bidirectional formatting, U+2028/U+2029, which some readers take for a
//! line end) are written as `\u` escapes too, so a line reads as what it is and stays one line
//! for any reader. No value depends on the clock: the same config and data give the same
//! bytes (only `webthreat.run`, the run id the store allocates, differs between reruns).
//!
//! An explanation's typical value is the median of its feature over the reference rows, as the
//! report shows it: those the detectors were fitted on, known before scoring; or, for
//! `score --run`, a seeded sample of the scored rows, known only once every batch is scored.
//! Those runs write their alerts to a pending file with the typical values left `null`, and
//! fill them in at the end, line by line (see [`fill_typical`]).

use crate::accumulate::{BatchView, Hit, LogUnits, explain_rows};
use crate::config::ExperimentConfig;
use crate::error::ExperimentError;
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use webthreat_beacon::{BeaconPair, DEFAULT_THRESHOLD};
use webthreat_core::text::must_escape;
use webthreat_detectors::FittedDetector;
use webthreat_features::{LogColumns, PairKey, PairScores};
use webthreat_ingest::timestamp::format_epoch_ms;
use webthreat_intel::parse_ip;
use webthreat_report::{FeatureExplanation, Unit};

/// The file of a run directory.
pub(crate) const ALERTS_FILE: &str = "alerts.jsonl";
/// Where a run whose typical values come last writes its alerts until then.
const PENDING_FILE: &str = "alerts.jsonl.pending";
/// `event.risk_score` of an intel alert: an address on a blocklist.
const INTEL_RISK: f64 = 100.0;
/// Rows whose alerts one task formats; a group of such blocks (a few per thread) is formatted
/// in parallel and written in row order, bounding the text held at once.
const BLOCK_ROWS: usize = 512;

/// One alert, in the order its fields are written.
#[derive(Serialize)]
struct Alert<'a> {
    #[serde(rename = "@timestamp", skip_serializing_if = "Option::is_none")]
    timestamp: Option<Cow<'a, str>>,
    event: Event,
    rule: Rule<'a>,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    source: Endpoint<'a>,
    #[serde(skip_serializing_if = "Endpoint::is_empty")]
    destination: Endpoint<'a>,
    #[serde(skip_serializing_if = "Network::is_empty")]
    network: Cow<'a, Network>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threat: Option<Threat<'a>>,
    webthreat: Details<'a>,
}

/// ECS `event`.
#[derive(Serialize)]
struct Event {
    kind: &'static str,
    module: &'static str,
    dataset: &'static str,
    risk_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

impl Event {
    fn alert(dataset: &'static str, risk_score: f64) -> Self {
        Self {
            kind: "alert",
            module: "webthreat",
            dataset,
            risk_score: rounded(risk_score, 1).unwrap_or(0.0),
            start: None,
            end: None,
        }
    }
}

/// ECS `rule`.
#[derive(Serialize)]
struct Rule<'a> {
    name: &'a str,
}

/// ECS `source` or `destination`: `ip` when the log's address is one (normalized), else the
/// address as written under `address`.
#[derive(Serialize, Default)]
struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

impl<'a> Endpoint<'a> {
    fn new(address: Option<&'a str>, port: Option<u16>) -> Self {
        // an IPv4 address that parses as it is was written as it is displayed (the parser
        // takes exactly four decimal octets without leading zeros): no copy to make
        let ip = address.and_then(|a| match a.parse::<Ipv4Addr>() {
            Ok(_) => Some(Cow::Borrowed(a)),
            Err(_) => parse_ip(a).map(|ip| Cow::Owned(ip.to_string())),
        });
        Self {
            address: address.filter(|_| ip.is_none()),
            ip,
            port,
        }
    }

    fn is_empty(&self) -> bool {
        self.ip.is_none() && self.address.is_none() && self.port.is_none()
    }
}

/// ECS `network`: a protocol the log names goes to `transport` (with its IANA number) when it
/// is a transport (`tcp`, `6`), else, lowercased, to `protocol` (`https`).
#[derive(Serialize, Default, Clone)]
struct Network {
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iana_number: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
}

/// IP protocols by IANA number and by name (lowercase, as ECS writes `network.transport`).
const TRANSPORTS: [(&str, &str); 9] = [
    ("1", "icmp"),
    ("2", "igmp"),
    ("6", "tcp"),
    ("17", "udp"),
    ("47", "gre"),
    ("50", "esp"),
    ("51", "ah"),
    ("58", "ipv6-icmp"),
    ("132", "sctp"),
];

impl Network {
    fn of(protocol: Option<&str>) -> Self {
        // Zeek writes `unknown_transport` for a protocol it does not know
        let unknown = |p: &str| matches!(p, "" | "-" | "unknown_transport");
        let Some(text) = protocol.map(str::trim).filter(|p| !unknown(p)) else {
            return Self::default();
        };
        let lower = text.to_lowercase();
        let name = if lower == "icmpv6" {
            "ipv6-icmp"
        } else {
            &lower
        };
        match TRANSPORTS.iter().find(|(n, t)| *n == name || *t == name) {
            Some(&(number, transport)) => Self {
                transport: Some(transport),
                iana_number: Some(number),
                protocol: None,
            },
            None => Self {
                protocol: Some(lower),
                ..Self::default()
            },
        }
    }

    fn is_empty(&self) -> bool {
        self.transport.is_none() && self.protocol.is_none()
    }
}

/// ECS `threat`.
#[derive(Serialize)]
struct Threat<'a> {
    indicator: Indicator<'a>,
}

/// ECS `threat.indicator` of an address.
#[derive(Serialize)]
struct Indicator<'a> {
    ip: String,
    #[serde(rename = "type")]
    kind: &'static str,
    provider: &'a str,
    description: &'a str,
}

/// The `webthreat` object.
#[derive(Serialize)]
struct Details<'a> {
    run: &'a str,
    experiment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    detectors: Vec<Flag<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    side: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beacon: Option<Beacon>,
}

/// One detector's flag of a row.
#[derive(Serialize)]
struct Flag<'a> {
    name: &'a str,
    kind: &'a str,
    score: Option<f64>,
    threshold: Option<f64>,
    severity: Option<f64>,
    features: Vec<Explained<'a>>,
}

/// A feature behind a flag, in the units of the log.
#[derive(Serialize)]
struct Explained<'a> {
    feature: Cow<'a, str>,
    actual: Option<f64>,
    /// `None` is written as `null`; a pending line's typical values are all `null` until
    /// [`fill_typical`].
    typical: Option<f64>,
    unit: Unit,
}

/// A flagged beacon pair.
#[derive(Serialize)]
struct Beacon {
    score: Option<f64>,
    threshold: Option<f64>,
    connections: u64,
    interval_skew: Option<f64>,
    interval_dispersion: Option<f64>,
    size_regularity: Option<f64>,
    count: Option<f64>,
    coverage: Option<f64>,
    median_interval_s: Option<f64>,
}

/// `v` rounded to `decimals` (as `scores.csv` and `metrics.json` write values), or as it is
/// when that would overflow; `None` (JSON `null`) when it is not finite.
fn rounded(v: f64, decimals: i32) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    let p = 10f64.powi(decimals);
    let r = (v * p).round() / p;
    Some(if r.is_finite() { r } else { v })
}

/// `@timestamp` texts, the same as [`format_epoch_ms`] writes, with the date of the last day
/// seen written once (the rows of a block mostly fall on one day).
#[derive(Default)]
struct Stamps {
    /// The day of `date`, in days since the epoch.
    day: Option<i64>,
    /// The text of that day up to and including the `T`.
    date: String,
    /// The last text.
    text: String,
}

impl Stamps {
    /// The text of `ms` milliseconds since the epoch.
    fn of(&mut self, ms: i64) -> &str {
        let secs = ms.div_euclid(1000);
        let (day, of_day, millis) = (
            secs.div_euclid(86_400),
            secs.rem_euclid(86_400),
            ms.rem_euclid(1000),
        );
        if self.day != Some(day) {
            let date = day.checked_mul(86_400_000).map(format_epoch_ms);
            match date.as_deref().and_then(|d| Some(&d[..=d.find('T')?])) {
                Some(date) => {
                    self.date.clear();
                    self.date.push_str(date);
                    self.day = Some(day);
                }
                None => {
                    self.day = None;
                    self.text = format_epoch_ms(ms);
                    return &self.text;
                }
            }
        }
        // `{:02}` and `{:03}` of numbers below 100 and 1000
        fn digits(text: &mut String, n: i64, width: u32) {
            for k in (0..width).rev() {
                text.push(char::from(b'0' + (n / 10i64.pow(k) % 10) as u8));
            }
        }
        let text = &mut self.text;
        text.clear();
        text.push_str(&self.date);
        digits(text, of_day / 3600, 2);
        text.push(':');
        digits(text, of_day % 3600 / 60, 2);
        text.push(':');
        digits(text, of_day % 60, 2);
        if millis != 0 {
            text.push('.');
            digits(text, millis, 3);
        }
        text.push('Z');
        &self.text
    }
}

/// The scored features, each with how its values are shown.
#[derive(Default)]
struct Features {
    names: Vec<String>,
    units: Vec<LogUnits>,
}

impl Features {
    fn new(names: &[String]) -> Self {
        Self {
            names: names.to_vec(),
            units: names.iter().map(|n| LogUnits::of(n)).collect(),
        }
    }
}

/// The facts every alert of a run carries, and how its rows are explained.
struct Facts {
    run: String,
    experiment: String,
    explain_features: usize,
    suppress_allowed: bool,
    /// Typical values (medians of the reference rows) in the order of the scored features;
    /// `None` until the end of the run when they come from the scored rows.
    typical: Option<Vec<f64>>,
}

/// `alerts.jsonl`, written batch by batch.
pub(crate) struct AlertsWriter {
    dir: PathBuf,
    /// `alerts.jsonl`, or the pending file while the typical values are unknown.
    path: PathBuf,
    out: BufWriter<File>,
    facts: Facts,
    /// The features of the scored rows and how each is shown (known from the first batch).
    features: Features,
    /// Text buffers of formatted blocks, filled again instead of allocated anew.
    spare: Vec<Vec<u8>>,
}

impl AlertsWriter {
    /// Creates the file in the run directory `dir` of the run `run` of `config`; `typical`:
    /// the features' typical values when known before scoring (else they are filled in by
    /// [`AlertsWriter::finish`]).
    pub(crate) fn create(
        dir: &Path,
        run: &str,
        config: &ExperimentConfig,
        typical: Option<Vec<f64>>,
    ) -> Result<Self, ExperimentError> {
        let path = dir.join(match typical {
            Some(_) => ALERTS_FILE,
            None => PENDING_FILE,
        });
        let file = File::create(&path).map_err(io_err(&path))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, file),
            path,
            facts: Facts {
                run: run.to_string(),
                experiment: config.name.clone(),
                explain_features: config.report.explain_features,
                suppress_allowed: config.intel.suppress_allowed,
                typical,
            },
            features: Features::default(),
            spare: Vec::new(),
        })
    }

    /// Appends the alerts of a scored batch (flags of allowlisted rows already removed): its
    /// flagged rows and its rows' blocklisted addresses, in row order.
    pub(crate) fn write(&mut self, batch: &BatchView<'_>) -> Result<(), ExperimentError> {
        if self.features.names.is_empty() {
            self.features = Features::new(batch.raw.names());
        }
        let rows: Vec<usize> = (0..batch.raw.n_rows())
            .filter(|&i| {
                batch.scores.iter().any(|d| d.flags[i])
                    || intel_hits(&self.facts, batch, i)
                        .iter()
                        .any(Option::is_some)
            })
            .collect();
        let networks: Vec<Network> = match &batch.columns.protocol_of_row {
            Some(p) if !rows.is_empty() => (p.names.iter()).map(|n| Network::of(Some(n))).collect(),
            _ => Vec::new(),
        };
        let group = BLOCK_ROWS * 4 * rayon::current_num_threads();
        let context = Context {
            facts: &self.facts,
            features: &self.features,
            networks: &networks,
        };
        for rows in rows.chunks(group) {
            let mut buffers = std::mem::take(&mut self.spare);
            let blocks: Vec<&[usize]> = rows.chunks(BLOCK_ROWS).collect();
            buffers.resize_with(blocks.len(), Vec::new);
            let texts: Vec<Result<Vec<u8>, ExperimentError>> = blocks
                .into_par_iter()
                .zip(buffers)
                .map(|(block, mut text)| {
                    text.clear();
                    block_alerts(&mut text, &context, batch, block)?;
                    Ok(text)
                })
                .collect();
            for text in texts {
                let text = text?;
                self.out.write_all(&text).map_err(io_err(&self.path))?;
                self.spare.push(text);
            }
        }
        Ok(())
    }

    /// Writes what is buffered to the file, and returns its path (a followed log's alerts are
    /// read as they come).
    pub(crate) fn flush(&mut self) -> Result<&Path, ExperimentError> {
        self.out.flush().map_err(io_err(&self.path))?;
        Ok(&self.path)
    }

    /// Fills in the typical values (`typical`, in the order of the scored features) when they
    /// were not known, appends an alert per flagged pair of the beacon analysis (`beacon`: the
    /// run's beacon detector, whose threshold and severity apply), and flushes the file.
    pub(crate) fn finish(
        mut self,
        typical: &[f64],
        pairs: Option<&PairScores>,
        beacon: Option<&FittedDetector>,
    ) -> Result<(), ExperimentError> {
        self.out.flush().map_err(io_err(&self.path))?;
        let mut out = match self.facts.typical {
            Some(_) => self.out,
            None => {
                let path = self.dir.join(ALERTS_FILE);
                let file = File::create(&path).map_err(io_err(&path))?;
                let mut out = BufWriter::with_capacity(1 << 16, file);
                let pending = File::open(&self.path).map_err(io_err(&self.path))?;
                let mut pending = BufReader::new(pending);
                let mut line = String::new();
                loop {
                    line.clear();
                    let read = pending.read_line(&mut line).map_err(io_err(&self.path))?;
                    if read == 0 {
                        break;
                    }
                    let filled = fill_typical(line.trim_end_matches('\n'), |j| {
                        let units = self.features.units.get(j)?;
                        rounded(units.value(*typical.get(j)?), 6)
                    })
                    .ok_or_else(|| {
                        ExperimentError::Report(format!(
                            "{}: a pending alert is malformed",
                            self.path.display()
                        ))
                    })?;
                    out.write_all(filled.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(io_err(&path))?;
                }
                std::fs::remove_file(&self.path).map_err(io_err(&self.path))?;
                self.path = path;
                out
            }
        };
        if let Some(pairs) = pairs {
            let threshold = beacon.map_or(DEFAULT_THRESHOLD, FittedDetector::threshold);
            let mut text = Vec::new();
            for pair in pairs.table.pairs().iter().filter(|p| p.score > threshold) {
                text.clear();
                let alert = beacon_alert(&self.facts, pair, beacon, threshold);
                write_line(&mut text, &alert, None)?;
                out.write_all(&text).map_err(io_err(&self.path))?;
            }
        }
        out.flush().map_err(io_err(&self.path))
    }
}

/// The blocklist hits of row `i`'s source and destination (none for a row with an
/// allowlisted address when such rows are never flagged).
fn intel_hits<'b>(
    facts: &Facts,
    batch: &BatchView<'b>,
    i: usize,
) -> [Option<(&'static str, u32, &'b Hit)>; 2] {
    let (Some(hits), Some(a)) = (batch.hits, batch.columns.addresses.as_ref()) else {
        return [None, None];
    };
    let (s, d) = (a.src[i], a.dst[i]);
    if facts.suppress_allowed && (hits.allowed(s) || hits.allowed(d)) {
        return [None, None];
    }
    let blocked = |side, k| Some((side, k, hits.of(k).filter(|h| !h.allow)?));
    [blocked("source", s), blocked("destination", d)]
}

/// What the alerts of a batch's rows are made from, besides the batch.
struct Context<'a> {
    facts: &'a Facts,
    features: &'a Features,
    /// The `network` of each protocol of the batch (`LogColumns::protocol_of_row` codes).
    networks: &'a [Network],
}

/// Appends the alerts of `rows` of the batch, in order; each flagging detector explains all
/// the rows it flags at once.
fn block_alerts(
    text: &mut Vec<u8>,
    context: &Context<'_>,
    batch: &BatchView<'_>,
    rows: &[usize],
) -> Result<(), ExperimentError> {
    let facts = context.facts;
    let mut explained = (0..batch.scores.len())
        .map(|k| {
            let flagged: Vec<usize> = (rows.iter().copied())
                .filter(|&i| batch.scores[k].flags[i])
                .collect();
            Ok(explain_rows(batch, k, &flagged, facts.explain_features)?.into_iter())
        })
        .collect::<Result<Vec<_>, ExperimentError>>()?;
    let mut stamps = Stamps::default();
    for &i in rows {
        let mut explain = |k: usize| explained[k].next().unwrap_or_default();
        row_alerts(text, context, &mut stamps, batch, i, &mut explain)?;
    }
    Ok(())
}

/// Appends the alerts of row `i` of the batch: its row alert when a detector flags it, then
/// an intel alert per blocklisted address; `explain(k)`: detector `k`'s explanation of the row.
fn row_alerts(
    text: &mut Vec<u8>,
    context: &Context<'_>,
    stamps: &mut Stamps,
    batch: &BatchView<'_>,
    i: usize,
    explain: &mut dyn FnMut(usize) -> Vec<FeatureExplanation>,
) -> Result<(), ExperimentError> {
    let (facts, features) = (context.facts, context.features);
    let columns = batch.columns;
    let addresses = columns.addresses.as_ref();
    let stamp = columns.start_ms.as_ref().map(|ms| stamps.of(ms[i]));
    let timestamp = || stamp.map(Cow::Borrowed);
    let (src, dst) = match addresses {
        Some(a) => (a.name(a.src[i]), a.name(a.dst[i])),
        None => (None, None),
    };
    let endpoints = || {
        (
            Endpoint::new(src, LogColumns::port(columns.src_port.as_deref(), i)),
            Endpoint::new(dst, LogColumns::port(columns.dst_port.as_deref(), i)),
        )
    };
    let network = || {
        let code = columns.protocol_of_row.as_ref().and_then(|p| p.rows.get(i));
        match code.and_then(|&c| context.networks.get(c as usize)) {
            Some(network) => Cow::Borrowed(network),
            None => Cow::Owned(Network::default()),
        }
    };
    let row = Some(batch.raw.row_ids()[i]);

    let flagging: Vec<usize> = (0..batch.scores.len())
        .filter(|&k| batch.scores[k].flags[i])
        .collect();
    // the highest severity; the first in config order on a tie
    let top = flagging.iter().copied().reduce(|best, k| {
        match batch.scores[k].severity[i] > batch.scores[best].severity[i] {
            true => k,
            false => best,
        }
    });
    if let Some(top) = top {
        let mut fills = Vec::new();
        let detectors = flagging
            .iter()
            .map(|&k| {
                let (model, d) = (&batch.detectors[k], &batch.scores[k]);
                let explained = explain(k)
                    .into_iter()
                    .map(|x| {
                        let j = features.names.iter().position(|f| *f == x.feature);
                        let (units, feature) = match j {
                            Some(j) => {
                                let units = &features.units[j];
                                (Cow::Borrowed(units), Cow::Borrowed(units.feature.as_str()))
                            }
                            None => {
                                let units = LogUnits::of(&x.feature);
                                let feature = Cow::Owned(units.feature.clone());
                                (Cow::Owned(units), feature)
                            }
                        };
                        let typical = match &facts.typical {
                            Some(typical) => j
                                .and_then(|j| typical.get(j))
                                .and_then(|t| rounded(units.value(*t), 6)),
                            None => {
                                fills.push(j);
                                None
                            }
                        };
                        Explained {
                            actual: rounded(units.value(x.actual), 6),
                            typical,
                            unit: units.unit,
                            feature,
                        }
                    })
                    .collect();
                Flag {
                    name: model.name(),
                    kind: model.kind(),
                    score: rounded(d.scores[i], 6),
                    threshold: rounded(model.threshold(), 6),
                    severity: rounded(d.severity[i], 1),
                    features: explained,
                }
            })
            .collect();
        let (source, destination) = endpoints();
        let alert = Alert {
            timestamp: timestamp(),
            event: Event::alert("webthreat.row", batch.scores[top].severity[i]),
            rule: Rule {
                name: batch.detectors[top].name(),
            },
            source,
            destination,
            network: network(),
            threat: None,
            webthreat: Details {
                run: &facts.run,
                experiment: &facts.experiment,
                row,
                detectors,
                side: None,
                beacon: None,
            },
        };
        let fills = facts.typical.is_none().then_some(&fills[..]);
        write_line(text, &alert, fills)?;
    }
    for (side, k, hit) in intel_hits(facts, batch, i).into_iter().flatten() {
        let Some(ip) = addresses.and_then(|a| a.name(k)).and_then(parse_ip) else {
            continue;
        };
        let (source, destination) = endpoints();
        let alert = Alert {
            timestamp: timestamp(),
            event: Event::alert("webthreat.intel", INTEL_RISK),
            rule: Rule { name: "intel" },
            source,
            destination,
            network: network(),
            threat: Some(Threat {
                indicator: Indicator {
                    ip: ip.to_string(),
                    kind: if ip.is_ipv4() {
                        "ipv4-addr"
                    } else {
                        "ipv6-addr"
                    },
                    provider: &hit.name,
                    description: &hit.entry,
                },
            }),
            webthreat: Details {
                run: &facts.run,
                experiment: &facts.experiment,
                row,
                detectors: Vec::new(),
                side: Some(side),
                beacon: None,
            },
        };
        let fills = facts.typical.is_none().then_some(&[][..]);
        write_line(text, &alert, fills)?;
    }
    Ok(())
}

/// The alert of a flagged beacon pair: risk score the beacon detector's severity of its score
/// (the score x 100 without one).
fn beacon_alert<'a>(
    facts: &'a Facts,
    pair: &'a BeaconPair<PairKey>,
    detector: Option<&'a FittedDetector>,
    threshold: f64,
) -> Alert<'a> {
    let (src, dst, port) = &pair.key;
    let c = &pair.components;
    let risk = detector.map_or(pair.score * 100.0, |d| d.severity(pair.score));
    let (first, last) = (
        format_epoch_ms(pair.first_ms),
        format_epoch_ms(pair.last_ms),
    );
    Alert {
        timestamp: Some(Cow::Owned(last.clone())),
        event: Event {
            start: Some(first),
            end: Some(last),
            ..Event::alert("webthreat.beacon", risk)
        },
        rule: Rule {
            name: detector.map_or("beacon_score", FittedDetector::name),
        },
        source: Endpoint::new(Some(src), None),
        destination: Endpoint::new(Some(dst), u16::try_from(*port).ok()),
        network: Cow::Owned(Network::default()),
        threat: None,
        webthreat: Details {
            run: &facts.run,
            experiment: &facts.experiment,
            row: None,
            detectors: Vec::new(),
            side: None,
            beacon: Some(Beacon {
                score: rounded(pair.score, 6),
                threshold: rounded(threshold, 6),
                connections: pair.connections,
                interval_skew: rounded(c.interval_skew, 6),
                interval_dispersion: rounded(c.interval_dispersion, 6),
                size_regularity: rounded(c.size_regularity, 6),
                count: rounded(c.count, 6),
                coverage: rounded(c.coverage, 6),
                median_interval_s: rounded(pair.median_interval_s, 6),
            }),
        },
    }
}

/// The typical value of an explanation yet to be filled in.
const HOLE: &str = "\"typical\":null";

/// Appends `alert` as one line of JSON; `fills`, for a pending line: the feature column of
/// each explanation's typical value (`None`: it stays `null`), written before the JSON and a
/// tab.
fn write_line(
    text: &mut Vec<u8>,
    alert: &Alert<'_>,
    fills: Option<&[Option<usize>]>,
) -> Result<(), ExperimentError> {
    if let Some(fills) = fills {
        let cells: Vec<String> = (fills.iter())
            .map(|j| j.map_or("-".to_string(), |j| j.to_string()))
            .collect();
        text.extend_from_slice(cells.join(",").as_bytes());
        text.push(b'\t');
    }
    let mut serializer = serde_json::Serializer::with_formatter(&mut *text, InertText);
    alert
        .serialize(&mut serializer)
        .map_err(|e| ExperimentError::Report(format!("alert: {e}")))?;
    text.push(b'\n');
    Ok(())
}

/// A pending line (`fills<TAB>json`) with its typical values filled in: the n-th `null`
/// typical value becomes `typical(j)` of the n-th fill's feature column `j`. serde_json
/// escapes every quote inside a string, so `"typical":null` occurs in the JSON only as that
/// key and its value. `None` for a line that is not a pending line.
fn fill_typical(line: &str, typical: impl Fn(usize) -> Option<f64>) -> Option<String> {
    let (fills, mut rest) = line.split_once('\t')?;
    let mut out = String::with_capacity(rest.len() + 16);
    for fill in fills.split(',').filter(|f| !f.is_empty()) {
        let j: Option<usize> = match fill {
            "-" => None,
            j => Some(j.parse().ok()?),
        };
        let at = rest.find(HOLE)?;
        out.push_str(&rest[..at]);
        out.push_str("\"typical\":");
        let value = serde_json::to_string(&j.and_then(&typical)).ok()?;
        out.push_str(&value);
        rest = &rest[at + HOLE.len()..];
    }
    out.push_str(rest);
    Some(out)
}

/// serde_json's compact format, with every character that could act on a terminal or reorder
/// text (beyond the C0 controls serde_json escapes itself), and the Unicode line and paragraph
/// separators, written as `\u` escapes: the same string to a JSON reader.
struct InertText;

impl serde_json::ser::Formatter for InertText {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // the usual case: printable ASCII (serde_json has escaped the C0 controls already)
        if fragment.bytes().all(|b| b < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some(at) = rest.find(|c| must_escape(c) || matches!(c, '\u{2028}' | '\u{2029}')) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |error| ExperimentError::Io {
        path: path.to_path_buf(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(alert: &Alert<'_>) -> String {
        let mut text = Vec::new();
        write_line(&mut text, alert, None).unwrap();
        String::from_utf8(text).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            run: "0001".into(),
            experiment: "t".into(),
            explain_features: 3,
            suppress_allowed: true,
            typical: None,
        }
    }

    fn intel_alert<'a>(facts: &'a Facts, address: &'a str, entry: &'a str) -> Alert<'a> {
        Alert {
            timestamp: Some(Cow::Owned(format_epoch_ms(1_714_086_000_000))),
            event: Event::alert("webthreat.intel", INTEL_RISK),
            rule: Rule { name: "intel" },
            source: Endpoint::new(Some(address), Some(51_234)),
            destination: Endpoint::default(),
            network: Cow::Owned(Network::of(Some(entry))),
            threat: Some(Threat {
                indicator: Indicator {
                    ip: "192.0.2.1".into(),
                    kind: "ipv4-addr",
                    provider: entry,
                    description: entry,
                },
            }),
            webthreat: Details {
                run: &facts.run,
                experiment: &facts.experiment,
                row: Some(7),
                detectors: Vec::new(),
                side: Some("source"),
                beacon: None,
            },
        }
    }

    #[test]
    fn an_alert_is_one_line_of_ecs_json() {
        let facts = facts();
        let line = json(&intel_alert(&facts, "192.0.2.1", "TCP"));
        assert_eq!(
            line,
            "{\"@timestamp\":\"2024-04-25T23:00:00Z\",\"event\":{\"kind\":\"alert\",\
             \"module\":\"webthreat\",\"dataset\":\"webthreat.intel\",\"risk_score\":100.0},\
             \"rule\":{\"name\":\"intel\"},\"source\":{\"ip\":\"192.0.2.1\",\"port\":51234},\
             \"network\":{\"transport\":\"tcp\",\"iana_number\":\"6\"},\"threat\":{\"indicator\":\
             {\"ip\":\"192.0.2.1\",\"type\":\"ipv4-addr\",\"provider\":\"TCP\",\"description\":\
             \"TCP\"}},\"webthreat\":{\"run\":\"0001\",\"experiment\":\"t\",\"row\":7,\
             \"side\":\"source\"}}\n"
        );
    }

    #[test]
    fn hostile_text_stays_one_inert_line_of_the_same_string() {
        let facts = facts();
        let hostile = "1.2.3.4\"}\n{\"x\":\u{1b}[31m\u{7}\u{0}\u{7f}\u{9b}\u{202e}\u{2066}\u{2028}\u{2029}\\\r\t";
        let line = json(&intel_alert(&facts, hostile, hostile));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        // nothing but printable ASCII: every other character here is one that is escaped
        assert!(
            line.trim_end().bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{line}"
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        // not an address: kept as written under `address`, not `ip`
        assert_eq!(value["source"]["address"], hostile);
        assert!(value["source"].get("ip").is_none());
        assert_eq!(value["threat"]["indicator"]["description"], hostile);
        assert_eq!(value["network"]["protocol"], hostile.trim().to_lowercase());
    }

    #[test]
    fn other_text_stays_utf8() {
        let facts = facts();
        let line = json(&intel_alert(&facts, "naïve 日本 \u{1F600}", "x"));
        assert!(
            line.contains("\"address\":\"naïve 日本 \u{1F600}\""),
            "{line}"
        );
        // an escaped character is written as its UTF-16 unit
        let line = json(&intel_alert(&facts, "a\u{202e}b", "x"));
        assert!(line.contains("\"address\":\"a\\u202eb\""), "{line}");
    }

    #[test]
    fn protocols_map_to_ecs_transport_or_protocol() {
        let of = |p: &str| serde_json::to_value(Network::of(Some(p))).unwrap();
        assert_eq!(
            of("TCP"),
            serde_json::json!({"transport": "tcp", "iana_number": "6"})
        );
        assert_eq!(
            of("17"),
            serde_json::json!({"transport": "udp", "iana_number": "17"})
        );
        assert_eq!(
            of("icmpv6"),
            serde_json::json!({"transport": "ipv6-icmp", "iana_number": "58"})
        );
        assert_eq!(of("HTTPS"), serde_json::json!({"protocol": "https"}));
        for unknown in ["-", " ", "unknown_transport"] {
            assert!(Network::of(Some(unknown)).is_empty(), "{unknown}");
        }
        assert!(Network::of(None).is_empty());
    }

    #[test]
    fn addresses_are_normalized_ips_or_kept_as_written() {
        let e = Endpoint::new(Some("[2001:DB8::1]"), Some(443));
        assert_eq!(
            (e.ip.as_deref(), e.address, e.port),
            (Some("2001:db8::1"), None, Some(443))
        );
        let e = Endpoint::new(Some("host.example"), None);
        assert_eq!((e.ip, e.address), (None, Some("host.example")));
        assert!(Endpoint::new(None, None).is_empty());
    }

    /// A row alert of two flags whose features have the typical values `typical`.
    fn row_alert<'a>(facts: &'a Facts, typical: &[Option<f64>; 3]) -> Alert<'a> {
        let explained = |j: usize| Explained {
            feature: Cow::Owned(format!("f{j}")),
            actual: Some(1.5),
            typical: typical[j],
            unit: Unit::Bytes,
        };
        let flag = |name, features| Flag {
            name,
            kind: "zscore",
            score: Some(0.25),
            threshold: Some(0.125),
            severity: Some(99.5),
            features,
        };
        Alert {
            webthreat: Details {
                detectors: vec![
                    flag("a", vec![explained(0), explained(1)]),
                    flag("\"typical\":null", vec![explained(2)]),
                ],
                side: None,
                ..intel_alert(facts, "10.0.0.1", "tcp").webthreat
            },
            threat: None,
            ..intel_alert(facts, "10.0.0.1", "tcp")
        }
    }

    #[test]
    fn pending_typical_values_are_filled_in_as_if_known_when_written() {
        let facts = facts();
        let known = [Some(1e21), None, Some(0.1 + 0.2)];
        let direct = json(&row_alert(&facts, &known));
        // the same alert written before its typical values were known: features 3, 1 and 0
        // of the scored features; the second one has none
        let mut pending = Vec::new();
        let holes = row_alert(&facts, &[None, None, None]);
        write_line(&mut pending, &holes, Some(&[Some(3), None, Some(0)])).unwrap();
        let pending = String::from_utf8(pending).unwrap();
        assert!(pending.starts_with("3,-,0\t{"), "{pending}");
        let medians = [Some(0.1 + 0.2), None, None, Some(1e21)];
        let filled = fill_typical(pending.trim_end(), |j| medians[j]).unwrap();
        assert_eq!(filled + "\n", direct);
        assert!(direct.contains("\"typical\":1e+21"), "{direct}");
        // not pending lines
        assert_eq!(fill_typical("{}", |_| None), None);
        assert_eq!(fill_typical("0\t{}", |_| None), None);
    }

    #[test]
    fn stamps_are_the_texts_of_format_epoch_ms() {
        let mut stamps = Stamps::default();
        let day = 86_400_000;
        let mut times: Vec<i64> = vec![0, -1, 1, 999, 1000, -1000, day - 1, day, -day, -day - 1];
        // a run of rows within days, across days and years, both sides of the epoch
        let mut t = 1_714_000_000_000i64;
        for k in 0..20_000i64 {
            t += (k * 7_919) % 3_600_001 - 1_000_000;
            times.extend([
                t,
                -t,
                t - t.rem_euclid(1000),
                253_402_300_799_999 - k * 12_345,
            ]);
        }
        for ms in times {
            assert_eq!(stamps.of(ms), format_epoch_ms(ms), "{ms}");
        }
    }

    #[test]
    fn ipv4_addresses_that_parse_as_written_are_written_so() {
        for text in ["0.0.0.0", "10.138.69.97", "255.255.255.255", "1.2.3.4"] {
            let ip: Ipv4Addr = text.parse().unwrap();
            assert_eq!(ip.to_string(), text);
            assert!(
                matches!(Endpoint::new(Some(text), None).ip, Some(Cow::Borrowed(t)) if t == text)
            );
        }
        // not the written form: normalized through parse_ip, or no address at all
        for (text, ip) in [
            (" 1.2.3.4", Some("1.2.3.4")),
            ("[1.2.3.4]", Some("1.2.3.4")),
            ("01.2.3.4", None),
            ("1.2.3.04", None),
            ("256.1.1.1", None),
        ] {
            assert!(text.parse::<Ipv4Addr>().is_err(), "{text}");
            assert_eq!(Endpoint::new(Some(text), None).ip.as_deref(), ip, "{text}");
        }
    }

    #[test]
    fn values_are_rounded_as_the_other_files_write_them_and_never_overflow() {
        assert_eq!(rounded(0.123_456_789, 6), Some(0.123_457));
        assert_eq!(rounded(87.349, 1), Some(87.3));
        assert_eq!(rounded(1.2e308, 6), Some(1.2e308));
        assert_eq!(rounded(f64::NAN, 6), None);
        assert_eq!(rounded(f64::INFINITY, 1), None);
    }
}
