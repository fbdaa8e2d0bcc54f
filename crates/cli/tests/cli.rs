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

/// `score --follow` on a log written in bursts and rotated once: alerts come on stdout as JSON
/// lines while it runs, SIGTERM stops it cleanly (exit 0, the run committed), and its scores
/// are those of a batch `score` of the same rows.
#[test]
fn follow_prints_alerts_as_the_log_grows_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(seed_csv()).unwrap();
    let (header, rows) = seed.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let fitted = json(&webthreat(
        dir.path(),
        &["scan", seed_csv().to_str().unwrap(), "--json"],
    ));
    let experiment = fitted["runs"][0]["experiment"]
        .as_str()
        .unwrap()
        .to_string();

    let live = dir.path().join("live.csv");
    let append = |path: &Path, text: String| {
        let mut f = (std::fs::OpenOptions::new().create(true).append(true))
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    let lines = |part: &[&str]| part.iter().map(|r| format!("{r}\n")).collect::<String>();
    append(&live, format!("{header}\n{}", lines(&rows[..60])));

    let mut child = Command::new(env!("CARGO_BIN_EXE_webthreat"))
        .current_dir(dir.path())
        .args([
            "score",
            "--run",
            &experiment,
            "--follow",
            "live.csv",
            "--poll-ms",
            "50",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (send, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            send.send(line.unwrap()).unwrap();
        }
    });
    let mut alerts = Vec::new();
    let mut wait_for_alerts = |at_least: usize| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while alerts.len() < at_least {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => alerts.push(line),
                Err(_) => panic!("{} alerts within 10 s, expected {at_least}", alerts.len()),
            }
        }
        alerts.len()
    };
    // bursts, a rotation by rename, more bursts into the new file
    append(&live, lines(&rows[60..150]));
    let seen = wait_for_alerts(1);
    std::fs::rename(&live, dir.path().join("live.csv.1")).unwrap();
    append(&live, format!("{header}\n{}", lines(&rows[150..220])));
    append(&live, lines(&rows[220..]));

    // the batch score of the same rows says how many alerts to expect
    let batch = json(&webthreat(
        dir.path(),
        &[
            "score",
            "--run",
            &experiment,
            seed_csv().to_str().unwrap(),
            "--json",
        ],
    ));
    let batch_dir = dir.path().join(batch["runs"][0]["dir"].as_str().unwrap());
    let expected = std::fs::read_to_string(batch_dir.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert!(
        expected > seen,
        "{expected} alerts in all, {seen} after the first bursts"
    );
    wait_for_alerts(expected);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let followed_dir = dir.path().join(stderr.lines().last().unwrap());
    for line in &alerts {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(alert["event"]["kind"], "alert");
    }
    let written = std::fs::read_to_string(followed_dir.join("alerts.jsonl")).unwrap();
    assert_eq!(written.lines().collect::<Vec<_>>(), alerts);
    let sorted = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join("scores.csv")).unwrap();
        let mut rows: Vec<String> = text.lines().map(String::from).collect();
        rows.sort();
        rows
    };
    assert_eq!(sorted(&followed_dir), sorted(&batch_dir));
}
