//! The hostile corpus (`tests/hostile/`, plus large files generated here): every file ends
//! quickly with a correct run or an error naming the file, the line, the column and the value,
//! never with a hang, an abort, a raw control character on the terminal or a run left behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use webthreat_experiment::ExperimentError;
use webthreat_tests::{config, read, run_in};

fn corpus(name: &str) -> PathBuf {
    Path::new("tests/hostile").join(name)
}

/// Runs the seed config on `data` in a fresh store (kept until the outcome is dropped); checks
/// the time limit and, on failure, that nothing was left in the store.
fn run(data: &Path) -> Result<Outcome, ExperimentError> {
    let store = tempfile::tempdir().unwrap();
    let c = config("iforest.yaml", &["report.plots=true"], Some(data));
    let clock = Instant::now();
    let out = run_in(store.path(), &c, true);
    let took = clock.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "{}: {took:?}",
        data.display()
    );
    if out.is_err() {
        let left: Vec<_> = std::fs::read_dir(store.path())
            .unwrap()
            .flatten()
            .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{}: left {left:?}", data.display());
    }
    out.map(|run| Outcome { run, _store: store })
}

/// A finished run and the store it is in.
#[derive(Debug)]
struct Outcome {
    run: webthreat_experiment::RunOutcome,
    _store: tempfile::TempDir,
}

impl std::ops::Deref for Outcome {
    type Target = webthreat_experiment::RunOutcome;

    fn deref(&self) -> &Self::Target {
        &self.run
    }
}

/// The error of a run that must fail, with every control and bidi character checked away.
fn error(name: &str) -> String {
    let data = corpus(name);
    let message = format!("{:#}", anyhow_like(run(&data).expect_err(name)));
    assert!(message.contains(name), "{name}: {message}");
    assert!(
        !message
            .chars()
            .any(|c| (c.is_control() && c != '\n') || is_bidi(c)),
        "{name}: raw control characters in {message:?}"
    );
    message
}

fn anyhow_like(e: ExperimentError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn malformed_records_name_file_line_column_and_what_was_expected() {
    let m = error("extra_field.csv");
    assert!(
        m.contains("line 51") && m.contains("19 fields, expected 18"),
        "{m}"
    );
    let m = error("invalid_utf8.csv");
    assert!(
        m.contains("line 51") && m.contains("column `src_ip`") && m.contains("0xFF"),
        "{m}"
    );
    let m = error("cr_only.csv");
    assert!(m.contains("CR") && m.contains("line 1"), "{m}");
    let m = error("unterminated_quote.csv");
    assert!(m.contains("line 51") && m.contains("never closed"), "{m}");
    let m = error("nul_bytes.csv");
    assert!(m.contains("line 51"), "{m}");
    // line numbers count a blank line and a quoted line break
    let m = error("blank_and_quoted_lines.csv");
    assert!(
        m.contains("line 53 (data row 49)") && m.contains("`twelve`"),
        "{m}"
    );
}

#[test]
fn log_values_reach_the_terminal_escaped() {
    let m = error("terminal_escape_value.csv");
    assert!(m.contains("line 51") && m.contains("\\u{1b}[2J"), "{m}");
    let m = error("terminal_escape_header.csv");
    assert!(m.contains("bytes\\u{1b}[2J_in\\u{202e}"), "{m}");
}

/// Whether the forest flagged data row `row` (`scores.csv`).
fn flagged(dir: &Path, row: u64) -> Option<bool> {
    let scores = read(dir, "scores.csv");
    let mut lines = scores.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let flag = header.iter().position(|h| *h == "iforest_flag")?;
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[0] == row.to_string())
        .map(|f| f[flag] == "1")
}

#[test]
fn extreme_values_neither_hang_nor_hide_nor_wrap() {
    // 1.2e308 in one row: the run ends (plots included) and flags that row
    let out = run(&corpus("huge_bytes.csv")).unwrap();
    assert_eq!(flagged(&out.dir, 49), Some(true));
    // two such rows: a clear error or a run that flags both, never an overflowed scale
    match run(&corpus("two_huge_bytes.csv")) {
        Ok(out) => {
            for row in [49, 50] {
                assert_eq!(flagged(&out.dir, row), Some(true), "row {row}");
            }
        }
        Err(e) => {
            let m = anyhow_like(e);
            assert!(m.contains("bytes_in") && !m.contains("inf"), "{m}");
        }
    }
    // two rows of one source with 1e19 bytes each: the per-IP total is exact, not wrapped
    let out = run(&corpus("wrapped_total.csv")).unwrap();
    let report = read(&out.dir, "report.md");
    assert!(
        !report.contains("1553255926290448384"),
        "wrapped total in report"
    );
    // 1e19 + 1e19 + the 11968 bytes of that address's third row
    assert!(report.contains("| 20000000000000011968 |"), "{report}");
}

#[test]
fn control_and_bidi_characters_in_text_are_escaped_in_every_output() {
    let out = run(&corpus("bidi_and_controls_in_text.csv")).unwrap();
    for file in ["report.md", "report.html", "scores.csv", "alerts.jsonl"] {
        let text = read(&out.dir, file);
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi(c)),
            "{file}"
        );
    }
    for entry in std::fs::read_dir(out.dir.join("plots")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read_to_string(entry.path()).unwrap();
            assert!(
                !svg.chars()
                    .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi(c))
            );
        }
    }
}

/// Every line of `alerts.jsonl` of the run in `dir`, parsed: one JSON object per line, the
/// file nothing but printable ASCII and line ends (the logs here hold no other non-ASCII text
/// than control and bidi characters, which are `\u` escapes).
fn alert_lines(dir: &Path) -> Vec<serde_json::Value> {
    let text = read(dir, "alerts.jsonl");
    assert!(
        text.bytes()
            .all(|b| (0x20..0x7f).contains(&b) || b == b'\n'),
        "{text}"
    );
    assert!(text.is_empty() || text.ends_with('\n'));
    (text.lines())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON value: {e}: {line}"));
            assert!(value.is_object(), "{line}");
            value
        })
        .collect()
}

#[test]
fn alerts_stay_one_valid_json_object_per_line_whatever_the_log_holds() {
    // three rows, flagged for their bytes, whose source, destination and protocol hold quotes,
    // line breaks (in quoted fields), control bytes, bidi overrides and JSON of their own; an
    // intel list entry and list name that do too
    let data = corpus("control_bytes_in_alerted_fields.csv");
    let store = tempfile::tempdir().unwrap();
    let lists = tempfile::tempdir().unwrap();
    let list = lists.path().join("block.txt");
    std::fs::write(
        &list,
        "147.161.64.100 # \"}]} \u{1b}[2J\u{7}\u{202e}evil \\ {\"x\":1}\n",
    )
    .unwrap();
    let set = [
        format!(
            "intel.lists=[{{path: {}, name: \"bl\\\"ock\\u202e\\u001b\"}}]",
            list.display()
        ),
        "detectors.0.contamination=0.1".to_string(),
    ];
    let set: Vec<&str> = set.iter().map(String::as_str).collect();
    let c = config("iforest.yaml", &set, Some(&data));
    let out = run_in(store.path(), &c, true).unwrap();
    let alerts = alert_lines(&out.dir);
    let text = std::fs::read_to_string(&data).unwrap();
    let (source, destination) = (
        "1.2.3.4\"}\n{\"@timestamp\":\"forged\"",
        "\\\"}]}\u{7f}\u{9b}",
    );
    assert!(text.contains(&source.replace('"', "\"\"")));
    let rows: Vec<&serde_json::Value> = (alerts.iter())
        .filter(|a| a["event"]["dataset"] == "webthreat.row")
        .collect();
    assert_eq!(rows.len(), out.detectors[0].flagged);
    // the hostile values arrive as they were written, as JSON strings
    let addresses: Vec<&str> = (rows.iter())
        .filter_map(|a| a["source"]["address"].as_str())
        .collect();
    assert_eq!(addresses.len(), 3, "{rows:?}");
    assert!(addresses.contains(&source), "{addresses:?}");
    assert!(
        rows.iter()
            .any(|a| a["destination"]["address"] == destination)
    );
    assert!(
        rows.iter()
            .any(|a| a["network"]["protocol"] == "ht\u{1b}[31mtp\u{7}")
    );
    // the blocklisted source's rows each give an intel alert with the entry as written
    let intel: Vec<&serde_json::Value> = (alerts.iter())
        .filter(|a| a["event"]["dataset"] == "webthreat.intel")
        .collect();
    let matched = text
        .lines()
        .filter(|l| l.contains(",147.161.64.100,"))
        .count();
    assert!(matched > 0);
    assert_eq!(intel.len(), matched);
    for a in intel {
        let indicator = &a["threat"]["indicator"];
        assert_eq!(indicator["ip"], "147.161.64.100");
        assert_eq!(indicator["provider"], "bl\"ock\u{202e}\u{1b}");
        // (the intel reader keeps an entry's note with its control characters made visible)
        assert_eq!(
            indicator["description"],
            "147.161.64.100 (\"}]} \\u{1b}[2J\\u{7}\\u{202e}evil \\ {\"x\":1})"
        );
    }
}

/// Peak resident memory of this process so far, bytes (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn large_hostile_files_end_fast_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let header = std::fs::read("tests/hostile/huge_bytes.csv").unwrap();
    let header = &header[..header.iter().position(|b| *b == b'\n').unwrap() + 1];
    let size = 100 << 20;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "no_line_end.csv",
            [header.to_vec(), vec![b'7'; size]].concat(),
        ),
        ("nul.csv", vec![0u8; size]),
        (
            "open_quote.csv",
            [header.to_vec(), b"\"".to_vec(), vec![b'x'; size]].concat(),
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        drop(bytes);
        let before = peak_rss();
        let m = anyhow_like(run(&path).expect_err(name));
        assert!(m.contains(name) && m.contains("line"), "{name}: {m}");
        assert!(m.len() < 2_000, "{name}: a {} byte message", m.len());
        if let (Some(before), Some(after)) = (before, peak_rss()) {
            let grown = after.saturating_sub(before);
            assert!(
                grown < 2 * size as u64 + (64 << 20),
                "{name}: peak grew by {grown} bytes"
            );
        }
    }
}

#[test]
fn edited_models_are_refused_and_loaded_ones_range_checked() {
    let store = tempfile::tempdir().unwrap();
    let out = run_in(
        store.path(),
        &config("iforest.yaml", &["report.plots=false"], None),
        false,
    )
    .unwrap();
    let features = out.dir.join("models/features.json");
    let original = std::fs::read_to_string(&features).unwrap();
    let edited = original.replace("\"window_seconds\": 600", "\"window_seconds\": 0");
    assert_ne!(edited, original);
    std::fs::write(&features, &edited).unwrap();
    let score = |store: &Path| {
        webthreat_experiment::score_with_run(&out.dir, Path::new("data/sample.csv"), store, None)
    };
    let m = anyhow_like(score(store.path()).expect_err("edited model"));
    assert!(
        m.contains("features.json") && m.contains("edited after the run"),
        "{m}"
    );
    // with run.json's hash edited too, the loaded values are still checked
    let run_json = out.dir.join("run.json");
    let record = std::fs::read_to_string(&run_json).unwrap();
    let old_hash = blake3::hash(original.as_bytes()).to_hex().to_string();
    let new_hash = blake3::hash(edited.as_bytes()).to_hex().to_string();
    std::fs::write(&run_json, record.replace(&old_hash, &new_hash)).unwrap();
    let m = anyhow_like(score(store.path()).expect_err("window 0"));
    assert!(m.contains("window_seconds must be at least 1"), "{m}");
    // the untouched run scores
    std::fs::write(&features, &original).unwrap();
    std::fs::write(&run_json, record).unwrap();
    score(store.path()).unwrap();
}

#[test]
fn the_store_survives_damage_and_names_stay_apart() {
    let store = tempfile::tempdir().unwrap();
    let c = config("iforest.yaml", &["report.plots=true"], None);
    let first = run_in(store.path(), &c, false).unwrap();
    let second = run_in(store.path(), &c, false).unwrap();
    // run.json names the tool's build, not the analyst's repository (unless asked)
    let record = read(&first.dir, "run.json");
    assert!(
        record.contains("\"tool_commit\"") && !record.contains("\"git_commit\""),
        "{record}"
    );
    assert!(!first.dir.join("git.diff").exists());
    // one damaged run.json: list names it and lists the rest
    std::fs::write(first.dir.join("run.json"), "{ not json").unwrap();
    let s = webthreat_experiment::RunStore::new(store.path());
    let (listed, unreadable) = webthreat_experiment::compare::list(&s, None).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        unreadable.len() == 1 && unreadable[0].contains("iforest/0001"),
        "{unreadable:?}"
    );
    // a comparison is never written into a run
    let plot = second.dir.join("plots/roc_curves.png");
    let before = std::fs::read(&plot).ok();
    let runs = ["iforest/0001".to_string(), "iforest/0002".to_string()];
    let e = webthreat_experiment::compare::compare(&s, &runs, &second.dir).unwrap_err();
    assert!(e.to_string().contains("is a run directory"), "{e}");
    assert_eq!(std::fs::read(&plot).ok(), before);
    // the comparisons directory and option-like names are not experiment names
    for name in ["comparisons", "-rf"] {
        let set = [format!("name={name}")];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::copy("configs/iforest.yaml", &path).unwrap();
        let e = webthreat_experiment::ExperimentConfig::load(&path, &set, None).unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
    }
}
