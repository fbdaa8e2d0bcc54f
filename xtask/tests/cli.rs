//! The command line as a user meets it: errors print their causes escaped, without a
//! backtrace whatever `RUST_BACKTRACE` says, and exit 1; absurd thread counts are refused;
//! `list --html` writes the runs index.

use std::process::Command;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

#[test]
fn errors_print_escaped_causes_and_no_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log.csv");
    let sample = std::fs::read_to_string("../data/sample.csv").unwrap();
    let mut lines: Vec<String> = sample.lines().take(30).map(String::from).collect();
    lines[5] = lines[5].replacen(|c: char| c.is_ascii_digit(), "\u{1b}[2J\u{7}", 1);
    std::fs::write(&data, lines.join("\n")).unwrap();
    let out = xtask()
        .args(["run", "configs/iforest.yaml", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.path())
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("Caused by:") && stderr.contains("line 6"),
        "{stderr}"
    );
    assert!(stderr.contains("\\u{1b}[2J\\u{7}"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
}

#[test]
fn absurd_thread_counts_are_refused() {
    let out = xtask()
        .args(["--threads", "100000", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--threads") && stderr.contains("1..=1024"),
        "{stderr}"
    );
}

#[test]
fn list_html_writes_the_runs_index_and_prints_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("experiments");
    let out = xtask()
        .args(["list", "--html", "--out"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = store.join("index.html");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        page.display().to_string()
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("No runs yet"), "{html}");
    // the page covers every experiment: naming one is a usage error
    let out = xtask()
        .args(["list", "iforest", "--html", "--out"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
