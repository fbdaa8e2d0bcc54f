//! The `webthreat` binary as a user runs it: from another directory, `--version`, `scan` with
//! `--json` (one JSON document on stdout, nothing else), the exit codes, and `--json` on
//! `list`, `show`, `compare` and `score`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed_csv() -> PathBuf {
    repo().join("../shared/data/cloudwatch/CloudWatch_Traffic_Web_Attack.csv")
}

/// Runs `webthreat args...` in `dir`.
fn webthreat(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_webthreat"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn version_names_the_build_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = webthreat(dir.path(), &["--version"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("webthreat 0."), "{text}");
    assert!(
        text.contains(" (") && text.trim_end().ends_with(')'),
        "{text}"
    );
}

#[test]
fn scan_works_from_another_directory_and_prints_one_json_document() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed_csv();
    let out = webthreat(dir.path(), &["scan", seed.to_str().unwrap(), "--json"]);
    let doc = json(&out);
    let run = &doc["runs"][0];
    assert_eq!(run["experiment"], "scan-CloudWatch_Traffic_Web_Attack");
    assert_eq!(run["rows"], 282);
    assert_eq!(run["detectors"][0]["name"], "iforest");
    assert_eq!(run["detectors"][0]["flagged"], 15);
    let run_dir = dir.path().join(run["dir"].as_str().unwrap());
    assert!(
        run_dir.join("report.html").is_file(),
        "{}",
        run_dir.display()
    );
    assert_eq!(doc["dir"], run["dir"]);

    // the run is listed, shown and scored again, each as one JSON document
    let listed = json(&webthreat(dir.path(), &["list", "--json"]));
    assert_eq!(listed["runs"][0]["metrics"]["rows"], 282);
    let shown = json(&webthreat(
        dir.path(),
        &["show", "scan-CloudWatch_Traffic_Web_Attack", "--json"],
    ));
    assert!(shown["report_md"].as_str().unwrap().starts_with("# "));
    let scored = json(&webthreat(
        dir.path(),
        &[
            "score",
            "--run",
            "scan-CloudWatch_Traffic_Web_Attack",
            seed.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(scored["runs"][0]["detectors"][0]["flagged"], 15);
    let again = json(&webthreat(
        dir.path(),
        &["scan", seed.to_str().unwrap(), "--json", "--set", "seed=7"],
    ));
    assert_eq!(again["runs"][0]["id"], "0002");
    let compared = json(&webthreat(
        dir.path(),
        &["compare", "scan-CloudWatch_Traffic_Web_Attack", "--json"],
    ));
    assert_eq!(compared["parameters"][0]["key"], "seed");
    assert_eq!(compared["runs"].as_array().unwrap().len(), 2);
}

#[test]
fn exit_codes_tell_usage_errors_from_errors_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let usage = webthreat(dir.path(), &["scan", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2));
    let error = webthreat(dir.path(), &["scan", "missing.csv"]);
    assert_eq!(error.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&error.stderr);
    assert!(
        stderr.starts_with("Error: ") && stderr.contains("missing.csv"),
        "{stderr}"
    );
    let seed = seed_csv();
    let flagged = webthreat(dir.path(), &["scan", seed.to_str().unwrap(), "--exit-code"]);
    assert_eq!(flagged.status.code(), Some(3));
    let plain = webthreat(dir.path(), &["scan", seed.to_str().unwrap()]);
    assert_eq!(plain.status.code(), Some(0));
    let last = String::from_utf8(plain.stdout).unwrap();
    assert!(
        last.trim_end()
            .ends_with("scan-CloudWatch_Traffic_Web_Attack/0002"),
        "{last}"
    );
}

#[test]
fn completions_are_printed_for_the_shells() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = webthreat(dir.path(), &["completions", shell]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("scan") && text.contains("exit-code"),
            "{shell}"
        );
    }
}
