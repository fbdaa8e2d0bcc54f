//! Records the commit this crate is built from (`WEBTHREAT_BUILD_COMMIT`, with `-dirty` when the
//! work tree had uncommitted changes), so that a run names the tool's own version without
//! looking at whatever repository the analyst runs it in.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]);
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let value = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=WEBTHREAT_BUILD_COMMIT={value}");
    // rebuilt when HEAD moves or the index changes (a commit, a checkout, `git add`). Paths come
    // from `--git-path`, which knows that a linked worktree keeps HEAD and its index apart but
    // its branches in the common git dir; only existing files are named, as cargo reruns the
    // script on every build while a named file is missing (a packed branch has no file of its
    // own: `packed-refs` holds it).
    let mut watched = vec![
        "HEAD".to_string(),
        "index".to_string(),
        "packed-refs".to_string(),
    ];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && std::path::Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
