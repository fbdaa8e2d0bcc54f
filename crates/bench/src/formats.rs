//! Ingest per native format (issue 17): the same generated rows as a CloudWatch CSV, a Zeek
//! `conn.log`, a VPC Flow log, an ALB access log and a gzip copy of the Zeek log, each read by
//! our `read_log`, by pandas and by python polars in the same invocation.
//!
//! Our side records the bytes on disk and the decoded bytes of every file, so that formats of
//! different line lengths compare per decoded byte: the per-byte ratio of a format is its
//! seconds per decoded byte over the CloudWatch CSV's, measured in the same run (target of issue
//! 17: at most [`PER_BYTE_TARGET`]). For the gzip file the pure decompression of the same file
//! to a sink is timed as well, so that `gzip read - plain read` can be set against
//! `decompression alone` (target: the first at most the second, within [`GZIP_NOISE`]).

use crate::error::BenchError;
use crate::peer::PeerFormats;
use crate::report::{Target, fmt_ratio, fmt_secs, human_rows};
use crate::stats::{median, time_reps};
use serde::Serialize;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use webthreat_ingest::{Format, LabelSpec, SourceSpec, read_log};
use webthreat_synth::OutputFormat;

/// Largest allowed ratio of a native format's seconds per decoded byte to the CloudWatch CSV's.
pub const PER_BYTE_TARGET: f64 = 1.5;

/// Relative slack on the gzip check: `gzip read - plain read <= (1 + GZIP_NOISE) x
/// decompression alone` counts as met (the three medians each carry run-to-run noise).
pub const GZIP_NOISE: f64 = 0.1;

/// One file of the per-format table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// The CloudWatch CSV of the main benchmark (the per-byte baseline).
    Cloudwatch,
    /// Zeek `conn.log` (TSV with `#` directives).
    Zeek,
    /// The Zeek log, gzip-compressed.
    ZeekGzip,
    /// VPC Flow log with a header line (and NODATA records).
    Vpcflow,
    /// ALB access log (double-quoted fields, no header).
    Alb,
}

impl Case {
    /// Every case, in table order.
    pub const ALL: [Case; 5] = [
        Case::Cloudwatch,
        Case::Zeek,
        Case::ZeekGzip,
        Case::Vpcflow,
        Case::Alb,
    ];

    /// The name in the table, in `bench.json` and given to the peer.
    pub const fn name(self) -> &'static str {
        match self {
            Case::Cloudwatch => "cloudwatch",
            Case::Zeek => "zeek",
            Case::ZeekGzip => "zeek.gz",
            Case::Vpcflow => "vpcflow",
            Case::Alb => "alb",
        }
    }

    /// The format our reader is told.
    pub const fn format(self) -> Format {
        match self {
            Case::Cloudwatch => Format::Cloudwatch,
            Case::Zeek | Case::ZeekGzip => Format::Zeek,
            Case::Vpcflow => Format::Vpcflow,
            Case::Alb => Format::Alb,
        }
    }

    /// The generator's format.
    pub const fn output(self) -> OutputFormat {
        match self {
            Case::Cloudwatch => OutputFormat::Cloudwatch,
            Case::Zeek | Case::ZeekGzip => OutputFormat::Zeek,
            Case::Vpcflow => OutputFormat::VpcFlow,
            Case::Alb => OutputFormat::Alb,
        }
    }

    /// Whether the file is the gzip copy of another case's file.
    pub const fn gzip(self) -> bool {
        matches!(self, Case::ZeekGzip)
    }

    /// The ground-truth field of the generated log as our reader names it: ALB logs have no
    /// header and our reader knows the 30 documented fields, so the generator's two extra
    /// fields `label attack_type` come out as `field_31`, `field_32`.
    pub const fn label_column(self) -> &'static str {
        match self {
            Case::Alb => "field_31",
            _ => "label",
        }
    }

    /// The source spec of the benchmark: labeled by the ground-truth field every generated
    /// format carries, with the format's default numeric columns (ALB: also `elb_status_code`,
    /// one of its default features that is not a canonical column).
    pub fn spec(self, path: &Path) -> SourceSpec {
        let mut spec = SourceSpec::new(path, self.format());
        spec.label = Some(LabelSpec::Column(self.label_column().into()));
        if self == Case::Alb {
            spec.numeric = vec!["elb_status_code".into()];
        }
        spec
    }
}

/// `<out>/data/<format>-<rows>-seed<seed>.<ext>` (`.gz` appended for the gzip copy),
/// generated when missing: the generator is deterministic, so an existing file is the same
/// data. The CloudWatch path is the main benchmark's CSV.
pub fn data_file(out: &Path, case: Case, rows: usize, seed: u64) -> Result<PathBuf, BenchError> {
    let dir = out.join("data");
    std::fs::create_dir_all(&dir).map_err(BenchError::io(&dir))?;
    let format = case.output();
    let plain = dir.join(format!(
        "{}-{rows}-seed{seed}.{}",
        format.as_str(),
        format.extension()
    ));
    if !plain.is_file() {
        eprintln!("bench: generating {}", plain.display());
        let config = webthreat_synth::GenConfig {
            rows,
            seed,
            format,
            ..webthreat_synth::GenConfig::default()
        };
        let tmp = partial(&plain);
        let file = File::create(&tmp).map_err(BenchError::io(&tmp))?;
        webthreat_synth::generate(&config, BufWriter::new(file))
            .map_err(BenchError::ours("gen-data"))?;
        std::fs::rename(&tmp, &plain).map_err(BenchError::io(&plain))?;
    }
    if !case.gzip() {
        return Ok(plain);
    }
    let mut name = plain.clone().into_os_string();
    name.push(".gz");
    let gz = PathBuf::from(name);
    if !gz.is_file() {
        eprintln!("bench: compressing {}", gz.display());
        let tmp = partial(&gz);
        let mut input = File::open(&plain).map_err(BenchError::io(&plain))?;
        let file = File::create(&tmp).map_err(BenchError::io(&tmp))?;
        let mut enc =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
        std::io::copy(&mut input, &mut enc).map_err(BenchError::io(&tmp))?;
        let mut out = enc.finish().map_err(BenchError::io(&tmp))?;
        std::io::Write::flush(&mut out).map_err(BenchError::io(&tmp))?;
        drop(out);
        std::fs::rename(&tmp, &gz).map_err(BenchError::io(&gz))?;
    }
    Ok(gz)
}

fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// A file of one case at one size.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFile {
    /// [`Case::name`].
    pub format: &'static str,
    /// Its path.
    pub path: PathBuf,
    /// Bytes on disk.
    pub bytes_on_disk: u64,
    /// Bytes after decompression (the same as on disk for a plain file).
    pub decoded_bytes: u64,
}

/// Our read of one file.
#[derive(Debug, Clone, Serialize)]
pub struct OursRead {
    /// The file.
    #[serde(flatten)]
    pub file: CaseFile,
    /// Data rows in the source (before rejection).
    pub source_rows: usize,
    /// Rows kept.
    pub rows: usize,
    /// Rows rejected (VPC NODATA records).
    pub rejected: usize,
    /// Seconds of each repetition of `read_log`.
    pub seconds: Vec<f64>,
}

/// Everything our side measured on one size.
#[derive(Debug, Clone, Serialize)]
pub struct OursFormats {
    /// Generated rows.
    pub rows: usize,
    /// One read per case.
    pub reads: Vec<OursRead>,
    /// Seconds of each repetition of decompressing the gzip file to a sink
    /// (`MultiGzDecoder` + `io::copy` to `io::sink()`).
    pub gzip_decompress_seconds: Vec<f64>,
}

impl OursFormats {
    /// Our read of a case.
    pub fn read(&self, case: Case) -> Option<&OursRead> {
        self.reads.iter().find(|r| r.file.format == case.name())
    }
}

/// Reads `path` to a sink (through a gzip decoder for `gzip`), returning the decoded bytes.
/// For a plain file this also brings it into the page cache before it is timed.
pub fn decode_to_sink(path: &Path, gzip: bool) -> Result<u64, BenchError> {
    let file = File::open(path).map_err(BenchError::io(path))?;
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        )))
    } else {
        Box::new(file)
    };
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(BenchError::io(path))
}

/// Generates (or finds) the files of every case for `rows` rows.
pub fn case_files(out: &Path, rows: usize, seed: u64) -> Result<Vec<CaseFile>, BenchError> {
    Case::ALL
        .iter()
        .map(|&case| {
            let path = data_file(out, case, rows, seed)?;
            let bytes_on_disk = std::fs::metadata(&path)
                .map_err(BenchError::io(&path))?
                .len();
            let decoded_bytes = decode_to_sink(&path, case.gzip())?;
            Ok(CaseFile {
                format: case.name(),
                path,
                bytes_on_disk,
                decoded_bytes,
            })
        })
        .collect()
}

/// Times `read_log` on every file, `reps` repetitions each, and the gzip file's decompression
/// alone.
pub fn measure_ours(
    files: &[CaseFile],
    rows: usize,
    reps: usize,
) -> Result<OursFormats, BenchError> {
    let mut reads = Vec::new();
    let mut gzip_decompress_seconds = Vec::new();
    for file in files {
        let case = Case::ALL
            .into_iter()
            .find(|c| c.name() == file.format)
            .ok_or_else(|| BenchError::Options(format!("unknown format {}", file.format)))?;
        let spec = case.spec(&file.path);
        let (seconds, table) =
            time_reps(reps, |_| read_log(&spec)).map_err(|e| BenchError::Ours {
                stage: "ingest per format",
                message: format!("{}: {e}", file.format),
            })?;
        reads.push(OursRead {
            file: file.clone(),
            source_rows: table.source_rows,
            rows: table.rows(),
            rejected: table.rejected.len(),
            seconds,
        });
        drop(table);
        if case.gzip() {
            (gzip_decompress_seconds, _) = time_reps(reps, |_| decode_to_sink(&file.path, true))?;
        }
    }
    Ok(OursFormats {
        rows,
        reads,
        gzip_decompress_seconds,
    })
}

/// `(seconds / bytes) / (base_seconds / base_bytes)`: how many times longer a byte takes than
/// a byte of the baseline.
pub fn per_byte_ratio(seconds: f64, bytes: u64, base_seconds: f64, base_bytes: u64) -> f64 {
    (seconds / bytes as f64) / (base_seconds / base_bytes as f64)
}

/// One line of the per-format table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatRow {
    /// [`Case::name`].
    pub format: String,
    /// Generated rows.
    pub rows: usize,
    /// Bytes on disk.
    pub bytes_on_disk: u64,
    /// Decoded bytes.
    pub decoded_bytes: u64,
    /// Our median seconds.
    pub ours_s: f64,
    /// Ours, seconds per decoded byte over the CloudWatch CSV's in this run.
    pub per_byte_vs_cloudwatch: Option<f64>,
    /// pandas' median seconds.
    pub pandas_s: Option<f64>,
    /// python polars' median seconds.
    pub polars_s: Option<f64>,
}

impl FormatRow {
    /// Our throughput, decoded MB (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.decoded_bytes as f64 / 1e6 / self.ours_s
    }

    /// pandas / ours: how many times faster we are.
    pub fn pandas_ratio(&self) -> Option<f64> {
        self.pandas_s.map(|p| p / self.ours_s)
    }

    /// polars / ours: how many times faster we are.
    pub fn polars_ratio(&self) -> Option<f64> {
        self.polars_s.map(|p| p / self.ours_s)
    }
}

/// The gzip check of one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GzipRow {
    /// Generated rows.
    pub rows: usize,
    /// Median seconds of our read of the plain Zeek log.
    pub plain_s: f64,
    /// Median seconds of our read of its gzip copy.
    pub gzip_s: f64,
    /// Median seconds of decompressing the gzip copy to a sink.
    pub decompress_s: f64,
}

impl GzipRow {
    /// `gzip read - plain read`.
    pub fn overhead_s(&self) -> f64 {
        self.gzip_s - self.plain_s
    }

    /// Whether the overhead is at most the decompression alone, within [`GZIP_NOISE`].
    pub fn within(&self) -> bool {
        self.overhead_s() <= (1.0 + GZIP_NOISE) * self.decompress_s
    }
}

/// The table rows of one size: our medians, the per-byte ratios against this size's CloudWatch
/// read, and the peer's medians when it ran.
pub fn rows_for_size(ours: &OursFormats, peer: Option<&PeerFormats>) -> Vec<FormatRow> {
    let base = ours
        .read(Case::Cloudwatch)
        .map(|r| (median(&r.seconds), r.file.decoded_bytes));
    ours.reads
        .iter()
        .map(|r| {
            let ours_s = median(&r.seconds);
            let theirs = peer.and_then(|p| p.read(r.file.format));
            FormatRow {
                format: r.file.format.into(),
                rows: ours.rows,
                bytes_on_disk: r.file.bytes_on_disk,
                decoded_bytes: r.file.decoded_bytes,
                ours_s,
                per_byte_vs_cloudwatch: base
                    .map(|(s, b)| per_byte_ratio(ours_s, r.file.decoded_bytes, s, b)),
                pandas_s: theirs.map(|t| median(&t.pandas)),
                polars_s: theirs.and_then(|t| t.polars.as_deref()).map(median),
            }
        })
        .collect()
}

/// The gzip check of one size, when both Zeek files and the decompression were measured.
pub fn gzip_for_size(ours: &OursFormats) -> Option<GzipRow> {
    let plain = ours.read(Case::Zeek)?;
    let gzip = ours.read(Case::ZeekGzip)?;
    if ours.gzip_decompress_seconds.is_empty() {
        return None;
    }
    Some(GzipRow {
        rows: ours.rows,
        plain_s: median(&plain.seconds),
        gzip_s: median(&gzip.seconds),
        decompress_s: median(&ours.gzip_decompress_seconds),
    })
}

/// The targets of issue 17 at the largest size: every plain native format within
/// [`PER_BYTE_TARGET`] of CloudWatch per byte, and the gzip overhead.
pub fn targets(rows: &[FormatRow], gzip: &[GzipRow]) -> Vec<Target> {
    let Some(n) = rows.iter().map(|r| r.rows).max() else {
        return Vec::new();
    };
    let size = human_rows(n);
    let mut out = Vec::new();
    for case in [Case::Zeek, Case::Vpcflow, Case::Alb] {
        let ratio = rows
            .iter()
            .find(|r| r.rows == n && r.format == case.name())
            .and_then(|r| r.per_byte_vs_cloudwatch);
        out.push(Target {
            target: format!(
                "{} ingest at {size} rows: <= {PER_BYTE_TARGET}x CloudWatch's seconds per decoded byte",
                case.name()
            ),
            measured: ratio.map_or("not measured".into(), |r| format!("{}x", fmt_ratio(r))),
            met: ratio.map(|r| r <= PER_BYTE_TARGET),
        });
    }
    let g = gzip.iter().find(|g| g.rows == n);
    out.push(Target {
        target: format!(
            "zeek.gz at {size} rows: gzip read - plain read <= decompression alone \
             (+{:.0}% noise)",
            GZIP_NOISE * 100.0
        ),
        measured: g.map_or("not measured".into(), |g| {
            format!(
                "{} s - {} s = {} s vs {} s",
                fmt_secs(g.gzip_s),
                fmt_secs(g.plain_s),
                fmt_secs(g.overhead_s()),
                fmt_secs(g.decompress_s)
            )
        }),
        met: g.map(GzipRow::within),
    });
    out
}

/// The per-format section of `bench.md`.
#[derive(Debug, Clone, Serialize)]
pub struct FormatsReport {
    /// Python, pandas and polars versions of the peer (none when it did not run).
    pub peer_versions: Option<crate::peer::FormatPeerVersions>,
    /// Why python polars is missing, when it is.
    pub polars_note: Option<String>,
    /// The table.
    pub rows: Vec<FormatRow>,
    /// The gzip check per size.
    pub gzip: Vec<GzipRow>,
    /// Targets of issue 17.
    pub targets: Vec<Target>,
    /// Every repetition of our side.
    pub ours: Vec<OursFormats>,
    /// Every repetition of the peer.
    pub peer: Vec<PeerFormats>,
}

impl FormatsReport {
    /// Pairs both sides' measurements of every size.
    pub fn new(ours: Vec<OursFormats>, peer: Vec<PeerFormats>) -> Self {
        let mut rows = Vec::new();
        let mut gzip = Vec::new();
        for o in &ours {
            let p = peer.iter().find(|p| p.rows == o.rows);
            rows.extend(rows_for_size(o, p));
            gzip.extend(gzip_for_size(o));
        }
        let targets = targets(&rows, &gzip);
        Self {
            peer_versions: peer.first().map(|p| p.versions.clone()),
            polars_note: peer.iter().find_map(|p| p.polars_error.clone()),
            rows,
            gzip,
            targets,
            ours,
            peer,
        }
    }

    /// The section as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from("\n## Ingest per format\n\n");
        s.push_str(
            "The same generated rows in each format, read whole: ours is `read_log` (labeled, \
             the format's default numeric columns; ALB also `elb_status_code`) on polars' and \
             rayon's default pools; pandas is `read_csv` plus the time columns converted as ours \
             does (CloudWatch and ALB ISO-8601 strings, Zeek `ts` epoch float seconds, VPC \
             `start`/`end` epoch seconds), single-threaded; python polars the same with \
             `pl.read_csv` on its default pool. MB/s: decoded bytes (10^6) per second. Per byte \
             vs CloudWatch: our seconds per decoded byte over the CloudWatch CSV's in this run \
             (target <= 1.5x). `pandas/ours`, `polars/ours`: how many times faster ours is.\n",
        );
        if let Some(v) = &self.peer_versions {
            let _ = writeln!(
                s,
                "Peer: Python {}, pandas {}, polars {}.",
                v.python,
                v.pandas,
                v.polars.as_deref().unwrap_or("not installed")
            );
        }
        if let Some(note) = &self.polars_note {
            let _ = writeln!(s, "python polars: {note}");
        }
        s.push('\n');
        s.push_str(&table_markdown(&self.rows));
        if !self.gzip.is_empty() {
            s.push_str(
                "\n### gzip: our read of `zeek.gz` against the plain log and decompression alone\n\n\
                 Decompression alone: the same file through flate2's `MultiGzDecoder` into \
                 `io::sink()`, one thread, same run.\n\n",
            );
            s.push_str(&gzip_markdown(&self.gzip));
        }
        s.push_str("\n### Targets (issue 17)\n\n| target | measured | met |\n|---|---|---|\n");
        for t in &self.targets {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                t.target,
                t.measured,
                match t.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "-",
                }
            );
        }
        s
    }
}

/// The per-format table alone, as Markdown.
pub fn table_markdown(rows: &[FormatRow]) -> String {
    let mut s = String::from(
        "| format | rows | MiB on disk | MiB decoded | ours s | ours MB/s | per byte vs CloudWatch | pandas s | pandas/ours | polars s | polars/ours |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let x = |r: f64| format!("{}x", fmt_ratio(r));
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {} | {:.0} | {} | {} | {} | {} | {} |",
            r.format,
            human_rows(r.rows),
            mib(r.bytes_on_disk),
            mib(r.decoded_bytes),
            fmt_secs(r.ours_s),
            r.mb_per_s(),
            opt(r.per_byte_vs_cloudwatch.map(x)),
            opt(r.pandas_s.map(fmt_secs)),
            opt(r.pandas_ratio().map(x)),
            opt(r.polars_s.map(fmt_secs)),
            opt(r.polars_ratio().map(x)),
        );
    }
    s
}

/// The gzip table alone, as Markdown.
pub fn gzip_markdown(rows: &[GzipRow]) -> String {
    let mut s = String::from(
        "| rows | plain read s | gzip read s | gzip - plain s | decompression alone s | overhead / decompression | within |\n\
         |---:|---:|---:|---:|---:|---:|---|\n",
    );
    for g in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2} | {} |",
            human_rows(g.rows),
            fmt_secs(g.plain_s),
            fmt_secs(g.gzip_s),
            fmt_secs(g.overhead_s()),
            fmt_secs(g.decompress_s),
            g.overhead_s() / g.decompress_s,
            if g.within() { "yes" } else { "**no**" }
        );
    }
    s
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::{FormatPeerVersions, PeerFormatRead};

    fn read(case: Case, decoded: u64, seconds: &[f64]) -> OursRead {
        OursRead {
            file: CaseFile {
                format: case.name(),
                path: PathBuf::from(format!("/data/{}", case.name())),
                bytes_on_disk: if case.gzip() { decoded / 8 } else { decoded },
                decoded_bytes: decoded,
            },
            source_rows: 1000,
            rows: 1000,
            rejected: 0,
            seconds: seconds.to_vec(),
        }
    }

    fn sample() -> OursFormats {
        const MB: u64 = 1_000_000;
        OursFormats {
            rows: 1_000_000,
            reads: vec![
                read(Case::Cloudwatch, 200 * MB, &[0.5, 0.4, 0.6]),
                read(Case::Zeek, 100 * MB, &[0.3, 0.2]),
                read(Case::ZeekGzip, 100 * MB, &[0.5]),
                read(Case::Vpcflow, 50 * MB, &[0.1]),
                read(Case::Alb, 400 * MB, &[2.0]),
            ],
            gzip_decompress_seconds: vec![0.25, 0.35],
        }
    }

    #[test]
    fn per_byte_ratio_compares_seconds_per_byte() {
        // twice the time on half the bytes: four times as long per byte
        assert_eq!(per_byte_ratio(1.0, 50, 0.5, 100), 4.0);
        assert_eq!(per_byte_ratio(0.5, 100, 0.5, 100), 1.0);
        assert_eq!(per_byte_ratio(1.0, 400, 2.0, 200), 0.25);
    }

    #[test]
    fn rows_take_medians_and_ratios_against_cloudwatch() {
        let peer = PeerFormats {
            versions: FormatPeerVersions {
                python: "3.11.7".into(),
                pandas: "3.1.1".into(),
                polars: Some("2.1.0".into()),
            },
            polars_error: None,
            rows: 1_000_000,
            reads: vec![PeerFormatRead {
                format: "zeek".into(),
                rows: 1000,
                pandas: vec![1.0, 2.0, 3.0],
                polars: Some(vec![0.5]),
            }],
        };
        let rows = rows_for_size(&sample(), Some(&peer));
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].format, "cloudwatch");
        assert_eq!(rows[0].ours_s, 0.5);
        assert_eq!(rows[0].per_byte_vs_cloudwatch, Some(1.0));
        assert_eq!(rows[0].mb_per_s(), 400.0);
        let zeek = &rows[1];
        assert_eq!(zeek.ours_s, 0.25);
        // 0.25 s / 100 MB against 0.5 s / 200 MB
        assert_eq!(zeek.per_byte_vs_cloudwatch, Some(1.0));
        assert_eq!(zeek.pandas_s, Some(2.0));
        assert_eq!(zeek.pandas_ratio(), Some(8.0));
        assert_eq!(zeek.polars_ratio(), Some(2.0));
        assert_eq!(rows[3].per_byte_vs_cloudwatch, Some(0.8));
        assert_eq!(rows[4].per_byte_vs_cloudwatch, Some(2.0));
        assert_eq!(rows[4].pandas_s, None);

        let t = targets(&rows, &[gzip_for_size(&sample()).unwrap()]);
        assert_eq!(t.len(), 4);
        assert_eq!((t[0].measured.as_str(), t[0].met), ("1.00x", Some(true)));
        assert_eq!((t[1].measured.as_str(), t[1].met), ("0.80x", Some(true)));
        assert_eq!((t[2].measured.as_str(), t[2].met), ("2.00x", Some(false)));
        assert_eq!(t[3].met, Some(true));
    }

    #[test]
    fn gzip_overhead_is_set_against_decompression() {
        let g = gzip_for_size(&sample()).unwrap();
        assert_eq!((g.plain_s, g.gzip_s, g.decompress_s), (0.25, 0.5, 0.3));
        assert_eq!(g.overhead_s(), 0.25);
        assert!(g.within());
        let slow = GzipRow {
            gzip_s: 0.6,
            ..g.clone()
        };
        // 0.35 s of overhead against 0.3 s of decompression: beyond the 10% of noise
        assert!(!slow.within());
        let mut without = sample();
        without.gzip_decompress_seconds.clear();
        assert_eq!(gzip_for_size(&without), None);
    }

    #[test]
    fn tables_render_fixed_input() {
        let rows = rows_for_size(&sample(), None);
        let md = table_markdown(&rows[..2]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("| format | rows | MiB on disk |"));
        assert_eq!(
            lines[2],
            "| cloudwatch | 1M | 190.7 | 190.7 | 0.5000 | 400 | 1.00x | - | - | - | - |"
        );
        assert_eq!(
            lines[3],
            "| zeek | 1M | 95.4 | 95.4 | 0.2500 | 400 | 1.00x | - | - | - | - |"
        );
        let g = gzip_markdown(&[gzip_for_size(&sample()).unwrap()]);
        assert_eq!(
            g.lines().nth(2),
            Some("| 1M | 0.2500 | 0.5000 | 0.2500 | 0.3000 | 0.83 | yes |")
        );
        let report = FormatsReport::new(vec![sample()], Vec::new());
        let md = report.markdown();
        assert!(md.starts_with("\n## Ingest per format\n"));
        assert!(md.contains("### Targets (issue 17)"));
        assert!(md.contains("| alb ingest at 1M rows: <= 1.5x"));
    }

    #[test]
    fn cases_read_their_format_with_labels() {
        let spec = Case::Alb.spec(Path::new("x.log"));
        assert_eq!(spec.format, Format::Alb);
        assert_eq!(spec.numeric, ["elb_status_code"]);
        assert_eq!(spec.label, Some(LabelSpec::Column("field_31".into())));
        assert!(Case::ZeekGzip.spec(Path::new("x")).numeric.is_empty());
        assert_eq!(Case::ZeekGzip.format(), Format::Zeek);
        assert!(
            Case::ALL
                .iter()
                .all(|c| c.spec(Path::new("x")).label.is_some())
        );
    }

    #[test]
    fn generated_files_are_cached_and_the_gzip_copy_decodes_to_the_plain_log() {
        let out = std::env::temp_dir().join(format!(
            "webthreat-bench-formats-test-{}",
            std::process::id()
        ));
        let files = case_files(&out, 300, 7).unwrap();
        assert_eq!(files.len(), Case::ALL.len());
        let zeek = &files[1];
        let gz = &files[2];
        assert!(gz.path.to_string_lossy().ends_with("zeek-300-seed7.log.gz"));
        assert_eq!(gz.decoded_bytes, zeek.bytes_on_disk);
        assert!(gz.bytes_on_disk < zeek.bytes_on_disk);
        assert!(files[0].path.ends_with("data/cloudwatch-300-seed7.csv"));
        let modified = std::fs::metadata(&gz.path).unwrap().modified().unwrap();
        let again = case_files(&out, 300, 7).unwrap();
        assert_eq!(
            std::fs::metadata(&again[2].path)
                .unwrap()
                .modified()
                .unwrap(),
            modified
        );
        let ours = measure_ours(&files, 300, 1).unwrap();
        for r in &ours.reads {
            assert_eq!(r.source_rows, r.rows + r.rejected, "{}", r.file.format);
        }
        assert_eq!(ours.read(Case::Alb).unwrap().rows, 300);
        assert_eq!(ours.gzip_decompress_seconds.len(), 1);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
