//! The runs index: `<store>/index.html`, one self-contained page listing every run of every
//! experiment (one row per run and detector) with its id, start time, mode, config hash, data,
//! rows, flagged count and metrics, linking to each run's `report.html`.
//!
//! The page is rewritten after every committed run (`driver::finish`) and on demand
//! (`xtask list --html`), atomically: written to a temp file in the store root, then renamed
//! over `index.html`, so a browser or a concurrent reader never sees half a page. It is
//! deterministic: the same runs give the same bytes (no clock but the runs' own times).
//!
//! Self-contained and inert: inline CSS and one small inline script (sorting by a column
//! header, filtering by a text box), both allowed by their sha256 hashes in a
//! Content-Security-Policy with `default-src 'none'`, so nothing else runs or loads. Every text
//! taken from a run (experiment and detector names, paths, notes, errors) is HTML-escaped, and
//! link targets are percent-encoded. Without the script the table is still complete, in
//! experiment and id order. A run that cannot be read is named below the table.

use crate::compare::{self, RunListing};
use crate::error::ExperimentError;
use crate::outputs::DetectorMetricsFile;
use crate::store::RunStore;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use webthreat_report::html_escape;

/// The index page's file name in the store root.
pub const INDEX_FILE: &str = "index.html";

/// Each run's report, linked from its rows.
const REPORT_FILE: &str = "report.html";

/// The page's one inline script: sorting by a header's button (numbers numerically, missing
/// values last either way, ties in page order) and filtering rows by the words of a text box
/// (each word within one cell of the row).
/// Its sha256 is [`SCRIPT_SHA256`] (a unit test checks it): edit both together.
const SCRIPT: &str = r#"(function () {
  'use strict';
  var table = document.getElementById('runs');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = table.tHead.rows[0].cells;
  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  // each row's text, cell by cell: a word matches within one cell, never across two
  var texts = rows.map(function (row) {
    return Array.prototype.map.call(row.cells, function (c) { return c.textContent; })
      .join('\n').toLowerCase();
  });
  function key(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent;
    if (!numeric) return v.toLowerCase();
    return v === '' ? NaN : Number(v);
  }
  function sortBy(col) {
    var th = heads[col];
    var numeric = th.getAttribute('data-type') === 'num';
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var keyed = rows.map(function (row, i) {
      return { row: row, i: i, v: key(row, col, numeric) };
    });
    keyed.sort(function (a, b) {
      var c;
      if (numeric && (isNaN(a.v) || isNaN(b.v))) {
        c = isNaN(a.v) - isNaN(b.v);
      } else {
        c = dir * (a.v < b.v ? -1 : a.v > b.v ? 1 : 0);
      }
      return c || a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
  }
  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (row, i) {
      var keep = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      row.hidden = !keep;
      if (keep) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' rows shown';
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    var button = th.querySelector('button');
    if (button) button.addEventListener('click', function () { sortBy(col); });
  });
  filter.addEventListener('input', applyFilter);
  applyFilter();
})();
"#;

/// `sha256-` and the base64 sha256 of [`SCRIPT`], as the CSP names it.
const SCRIPT_SHA256: &str = "sha256-XrN8LWE9+crKMVWwkfB9EUNnANE9v3avcvUZVlGWs9c=";

/// The page's inline style sheet; its sha256 is [`STYLE_SHA256`] (checked by a unit test).
const STYLE: &str = "body{font:14px/1.35 sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:left;vertical-align:top}\
th{background:#f0f0f0;white-space:nowrap}\
th button{font:inherit;font-weight:bold;background:none;border:0;padding:0;cursor:pointer;color:inherit}\
th[aria-sort=ascending] button::after{content:\" \\25B2\"}\
th[aria-sort=descending] button::after{content:\" \\25BC\"}\
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
td.nowrap{white-space:nowrap}\
tbody tr:nth-child(even) td{background:#fafafa}\
td.path{min-width:14em;max-width:30em;overflow-wrap:anywhere}\
code{font-size:0.9em}\
.muted{color:#666;font-size:0.9em}\
.wide{overflow-x:auto}\
[hidden]{display:none!important}\
#filter{width:24em;max-width:100%}";

/// `sha256-` and the base64 sha256 of [`STYLE`].
const STYLE_SHA256: &str = "sha256-kHdOnv/lZSvu/gbuWo32vmspF/GbcNIChLv7Vzr9AbA=";

/// The column headers and whether each sorts numerically.
const COLUMNS: [(&str, bool); 15] = [
    ("experiment", false),
    ("run", true),
    ("started (UTC)", false),
    ("mode", false),
    ("config", false),
    ("data", false),
    ("data blake3", false),
    ("rows", true),
    ("detector", false),
    ("flagged", true),
    ("roc_auc", true),
    ("pr_auc", true),
    ("f1", true),
    ("notes", false),
    ("report", false),
];

/// Writes `<store>/index.html` from every run in the store (atomically: a temp file in the
/// store root renamed over the page) and returns its path. A run that cannot be read is named
/// on the page rather than failing it.
pub fn write_index(store: &RunStore) -> Result<PathBuf, ExperimentError> {
    let root = store.root();
    std::fs::create_dir_all(root).map_err(|error| ExperimentError::Io {
        path: root.to_path_buf(),
        error,
    })?;
    let html = render_index(store)?;
    let path = root.join(INDEX_FILE);
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

/// The index page of every run in `store` (what [`write_index`] writes).
pub fn render_index(store: &RunStore) -> Result<String, ExperimentError> {
    let (listings, unreadable) = compare::list(store, None)?;
    Ok(render(&listings, &unreadable))
}

/// Writes `bytes` to a temp file beside `path` (a name the run store never lists: it starts
/// with `.`, and is unique per process and call) and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExperimentError> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{INDEX_FILE}.{}-{}.tmp",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| ExperimentError::Io { path, error }
    };
    if let Err(e) = std::fs::write(&tmp, bytes).map_err(io(&tmp)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        io(path)(error)
    })
}

fn render(listings: &[RunListing], unreadable: &[String]) -> String {
    let experiments = {
        let mut names: Vec<&str> = listings.iter().map(|l| l.run.experiment.as_str()).collect();
        names.dedup();
        names.len()
    };
    let rows: usize = listings
        .iter()
        .map(|l| l.metrics.detectors.len().max(1))
        .sum();
    let mut out = String::with_capacity(4096 + rows * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src '{STYLE_SHA256}'; script-src '{SCRIPT_SHA256}'; base-uri 'none'; \
         form-action 'none'\">"
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>webthreat runs</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>webthreat runs</h1>"
    );
    let _ = writeln!(
        out,
        "<p>{} of {} in this store, one row per run and detector, in experiment and run order. \
         Click a column header to sort by it (again to reverse); type in the filter to show only \
         the rows holding every word. Metrics of repeated runs are the mean &plusmn; sd over \
         their seeds.</p>",
        plural(listings.len(), "run"),
        plural(experiments, "experiment"),
    );
    let _ = writeln!(
        out,
        "<p><label for=\"filter\">Filter</label> <input id=\"filter\" type=\"search\" \
         autocomplete=\"off\" spellcheck=\"false\" placeholder=\"e.g. iforest score\"> \
         <span id=\"shown\" class=\"muted\" aria-live=\"polite\">{}</span></p>",
        plural(rows, "row")
    );
    out.push_str("<div class=\"wide\">\n<table id=\"runs\">\n<thead><tr>");
    for (name, numeric) in COLUMNS {
        let (class, kind) = match numeric {
            true => (" class=\"num\"", " data-type=\"num\""),
            false => ("", ""),
        };
        let _ = write!(
            out,
            "<th{class}{kind}><button type=\"button\">{name}</button></th>"
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for listing in listings {
        run_rows(&mut out, listing);
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    if listings.is_empty() {
        out.push_str(
            "<p>No runs yet: <code>cargo xtask run configs/iforest.yaml</code> makes one.</p>\n",
        );
    }
    if !unreadable.is_empty() {
        out.push_str("<h2>Runs that could not be read</h2>\n<ul>\n");
        for problem in unreadable {
            let _ = writeln!(out, "<li>{}</li>", html_escape(problem));
        }
        out.push_str("</ul>\n");
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The rows of one run: one per detector (one with empty detector cells if it has none).
fn run_rows(out: &mut String, listing: &RunListing) {
    let (run, record, metrics) = (&listing.run, &listing.record, &listing.metrics);
    let id = run
        .id
        .parse::<u64>()
        .map_or(String::new(), |n| n.to_string());
    let hash_prefix = record.data_blake3.get(..12).unwrap_or(&record.data_blake3);
    // a scoring run names the run whose models it used by its last two path parts (usually
    // `<experiment>/<id>`); the whole path is the tooltip
    let mode = match &record.source_run {
        Some(source) => format!(
            "{}<br><span class=\"muted\" title=\"{}\">models of {}</span>",
            html_escape(&record.mode),
            html_escape(source),
            html_escape(&last_parts(source, 2))
        ),
        None => html_escape(&record.mode),
    };
    let notes = match record.notes.len() {
        0 => String::new(),
        n => {
            let mut cell = format!("<details><summary>{}</summary><ul>", plural(n, "note"));
            for note in &record.notes {
                let _ = write!(cell, "<li>{}</li>", html_escape(note));
            }
            cell.push_str("</ul></details>");
            cell
        }
    };
    let report = match run.dir.join(REPORT_FILE).is_file() {
        true => format!(
            "<a href=\"{}/{}/{REPORT_FILE}\">report</a>",
            html_escape(&percent_encode(&run.experiment)),
            html_escape(&percent_encode(&run.id))
        ),
        false => "<span class=\"muted\">no report.html</span>".to_string(),
    };
    let run_cells = format!(
        "<td class=\"nowrap\">{}</td><td class=\"num\" data-v=\"{id}\">{}</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{mode}</td>\
         <td><code>{}</code></td><td class=\"path\">{}</td><td><code>{}</code></td>\
         <td class=\"num\" data-v=\"{rows}\">{rows}</td>",
        html_escape(&run.experiment),
        html_escape(&run.id),
        html_escape(&record.started_at),
        html_escape(&record.config_hash),
        html_escape(&record.data_path),
        html_escape(hash_prefix),
        rows = metrics.rows,
    );
    let tail = format!("<td>{notes}</td><td>{report}</td>");
    if metrics.detectors.is_empty() {
        let _ = writeln!(
            out,
            "<tr>{run_cells}<td></td><td class=\"num\" data-v=\"\"></td>{}{}{}{tail}</tr>",
            metric_cell(None, None),
            metric_cell(None, None),
            metric_cell(None, None)
        );
    }
    for (name, d) in &metrics.detectors {
        let detector = match *name == d.kind {
            true => html_escape(name),
            false => format!(
                "{} <span class=\"muted\">({})</span>",
                html_escape(name),
                html_escape(&d.kind)
            ),
        };
        let _ = writeln!(
            out,
            "<tr>{run_cells}<td>{detector}</td><td class=\"num\" data-v=\"{flagged}\">{flagged}</td>{}{}{}{tail}</tr>",
            metric(d, "roc_auc"),
            metric(d, "pr_auc"),
            metric(d, "f1"),
            flagged = d.flagged,
        );
    }
}

/// A metric cell: the value (the mean with repeats, `± sd` beside it), sorted by the value.
fn metric(d: &DetectorMetricsFile, name: &str) -> String {
    let sd = d.repeats.and(d.spread.get(&format!("{name}_sd")).copied());
    metric_cell(d.metric(name), sd)
}

fn metric_cell(value: Option<f64>, sd: Option<f64>) -> String {
    match (
        value.filter(|v| v.is_finite()),
        sd.filter(|v| v.is_finite()),
    ) {
        (None, _) => "<td class=\"num\" data-v=\"\">-</td>".to_string(),
        (Some(v), None) => format!("<td class=\"num\" data-v=\"{v}\">{v:.4}</td>"),
        (Some(v), Some(sd)) => {
            format!("<td class=\"num\" data-v=\"{v}\">{v:.4} &plusmn; {sd:.4}</td>")
        }
    }
}

/// The last `n` components of a path, joined by `/`.
fn last_parts(path: &str, n: usize) -> String {
    let parts: Vec<String> = Path::new(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts[parts.len().saturating_sub(n)..].join("/")
}

fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// One path segment for a relative URL: every byte but ASCII letters, digits and `-._~` as
/// `%XX` (so `?`, `#`, `/`, `%` and quotes in a directory name cannot change the link).
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};
    use std::fs;
    use webthreat_report::base64_encode;

    fn csp_hash(text: &str) -> String {
        format!("sha256-{}", base64_encode(&Sha256::digest(text.as_bytes())))
    }

    #[test]
    fn the_csp_allows_exactly_the_inline_script_and_style() {
        assert_eq!(SCRIPT_SHA256, csp_hash(SCRIPT), "update SCRIPT_SHA256");
        assert_eq!(STYLE_SHA256, csp_hash(STYLE), "update STYLE_SHA256");
        let root = tempfile::tempdir().unwrap();
        let html = render_index(&RunStore::new(root.path())).unwrap();
        // the page holds the script and style verbatim, once each, and its policy names them
        let between = |open: &str, close: &str| {
            assert_eq!(html.matches(open).count(), 1, "{open}");
            let start = html.find(open).unwrap() + open.len();
            let end = start + html[start..].find(close).unwrap();
            html[start..end].to_string()
        };
        assert_eq!(csp_hash(&between("<script>", "</script>")), SCRIPT_SHA256);
        assert_eq!(csp_hash(&between("<style>", "</style>")), STYLE_SHA256);
        let csp = between("http-equiv=\"Content-Security-Policy\" content=\"", "\"");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(
            csp.contains(&format!("script-src '{SCRIPT_SHA256}'")),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("style-src '{STYLE_SHA256}'")),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        // nothing else that would need the policy's leave: no inline handlers, styles or URLs
        for forbidden in [
            " style=", " onclick", " onload", "http://", "https://", "src=",
        ] {
            assert!(!html.contains(forbidden), "{forbidden}");
        }
        assert!(html.contains("No runs yet"));
    }

    /// A run directory with the given `run.json` fields and detectors' metrics.
    fn fake_run(root: &Path, experiment: &str, id: &str, data_path: &str, notes: &[&str]) {
        let dir = root.join(experiment).join(id);
        fs::create_dir_all(&dir).unwrap();
        let record = serde_json::json!({
            "id": id, "experiment": experiment, "mode": "fit", "source_run": null,
            "started_at": "2024-04-26T10:00:00Z", "finished_at": "2024-04-26T10:00:01Z",
            "stage_seconds": {"ingest": 0.0, "features": 0.0, "fit": 0.0, "score": 0.0, "report": 0.0},
            "tool_version": "0.1.0", "data_path": data_path, "data_rows": 10,
            "rejected_rows": 0, "data_blake3": "0123456789abcdef0123", "config_hash": "aaaabbbbcccc",
            "seed": 42, "threads": 2, "notes": notes,
        });
        fs::write(dir.join("run.json"), record.to_string()).unwrap();
        let metrics = serde_json::json!({
            "rows": 10, "rejected_rows": 0,
            "detectors": {
                "<b>det</b>": {"kind": "zscore", "flagged": 3, "threshold": 1.0, "roc_auc": 0.75},
                "iforest": {"kind": "iforest", "flagged": 12, "threshold": 0.5, "roc_auc": 0.9,
                    "pr_auc": 0.5, "f1": 0.25, "repeats": 3, "roc_auc_sd": 0.0125,
                    "per_seed": [{"seed": 42, "roc_auc": 0.9}]},
            },
        });
        fs::write(dir.join("metrics.json"), metrics.to_string()).unwrap();
        fs::write(dir.join(REPORT_FILE), "<html></html>").unwrap();
    }

    #[test]
    fn hostile_names_paths_and_notes_are_escaped_and_links_encoded() {
        let root = tempfile::tempdir().unwrap();
        let hostile_exp = "x\"><img src=x onerror=alert(1)>#?";
        fake_run(
            root.path(),
            hostile_exp,
            "0001",
            "/logs/<script>alert('p')</script>&\u{1b}[2J.csv",
            &["</td></tr><script>alert(2)</script>", "plain note"],
        );
        fake_run(root.path(), "plain", "0007", "data/sample.csv", &[]);
        // a damaged run is named, not fatal
        let bad = root.path().join("plain").join("0008");
        fs::create_dir_all(&bad).unwrap();
        fs::write(bad.join("run.json"), "{ not json <script>").unwrap();

        let store = RunStore::new(root.path());
        let path = write_index(&store).unwrap();
        assert_eq!(path, root.path().join(INDEX_FILE));
        let html = fs::read_to_string(&path).unwrap();
        // one script element, ours; no markup from the runs
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains('\u{1b}'));
        assert!(
            html.contains("&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt;&amp;\\u{1b}[2J.csv")
        );
        assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(html.contains("&lt;b&gt;det&lt;/b&gt; <span class=\"muted\">(zscore)</span>"));
        assert!(html.contains("x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;#?</td>"));
        // the link's target is the encoded directory name, which exists
        assert!(html.contains(
            "<a href=\"x%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%23%3F/0001/report.html\">"
        ));
        assert!(html.contains("<a href=\"plain/0007/report.html\">"));
        // rows per run and detector, metrics with their spread, the damaged run named
        assert_eq!(html.matches("<tr><td class=\"nowrap\">").count(), 4);
        assert!(html.contains("data-v=\"0.9\">0.9000 &plusmn; 0.0125</td>"));
        assert!(html.contains("data-v=\"\">-</td>"));
        assert!(html.contains("<h2>Runs that could not be read</h2>"));
        assert!(html.contains("plain/0008: not listed:"));
        assert!(html.contains("2 runs of 2 experiments"));
        // the script replaces the row count with `n of 4 rows shown`
        assert!(html.contains("aria-live=\"polite\">4 rows</span>"));
        // the same runs give the same bytes; no temp file is left beside the page
        assert_eq!(
            fs::read_to_string(write_index(&store).unwrap()).unwrap(),
            html
        );
        let left: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(percent_encode("iforest-score_1.2~"), "iforest-score_1.2~");
        assert_eq!(percent_encode("a b/%é"), "a%20b%2F%25%C3%A9");
    }
}
