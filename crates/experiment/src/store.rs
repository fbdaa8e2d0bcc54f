//! The run store: `experiments/<experiment>/<run-id>/`, versioned and atomic.
//!
//! Run ids are four-digit, zero-padded, sortable and never reused: an id is reserved by creating
//! `experiments/<experiment>/.ids/<id>` with `create_new` (atomic, so concurrent runs cannot
//! collide), and reservations are never deleted. A run is written into
//! `experiments/<experiment>/.tmp-<id>/` and renamed to `<id>/` only when complete; a run that
//! fails or panics removes its temp directory. One that is killed (Ctrl-C, SIGKILL) leaves a
//! `.tmp-*` directory that is never listed as a run; the reservation records the owner's
//! `pid@host`, and the next run of the experiment on the same host removes temp directories
//! whose owner is no longer running (Linux: `/proc/<pid>` gone or a zombie).

use crate::error::ExperimentError;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

const IDS: &str = ".ids";
const TMP_PREFIX: &str = ".tmp-";

/// Where runs live.
#[derive(Debug, Clone)]
pub struct RunStore {
    root: PathBuf,
}

/// A run being written; dropped without [`PendingRun::commit`], it removes its files.
#[derive(Debug)]
pub struct PendingRun {
    id: String,
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// A completed run on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// Experiment name.
    pub experiment: String,
    /// Run id.
    pub id: String,
    /// Run directory.
    pub dir: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}

impl RunStore {
    /// A store rooted at `root` (usually `experiments/`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reserves the next run id of an experiment and creates its temp directory.
    pub fn begin(&self, experiment: &str) -> Result<PendingRun, ExperimentError> {
        let exp_dir = self.root.join(experiment);
        let ids = exp_dir.join(IDS);
        fs::create_dir_all(&ids).map_err(io_err(&ids))?;
        remove_abandoned(&exp_dir)?;
        let mut next = highest_id(&ids)? + 1;
        loop {
            let id = format!("{next:04}");
            let marker = ids.join(&id);
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&marker)
            {
                Ok(mut file) => {
                    if let Some(owner) = owner_tag(std::process::id()) {
                        file.write_all(owner.as_bytes()).map_err(io_err(&marker))?;
                    }
                    let target = exp_dir.join(&id);
                    if target.exists() {
                        next += 1;
                        continue;
                    }
                    let tmp = exp_dir.join(format!("{TMP_PREFIX}{id}"));
                    fs::create_dir(&tmp).map_err(io_err(&tmp))?;
                    return Ok(PendingRun {
                        id,
                        tmp,
                        target,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => next += 1,
                Err(e) => return Err(io_err(&marker)(e)),
            }
        }
    }

    /// Completed runs, of one experiment or of all, sorted by experiment then id.
    pub fn runs(&self, experiment: Option<&str>) -> Result<Vec<RunRef>, ExperimentError> {
        let experiments = match experiment {
            Some(e) => vec![e.to_string()],
            None => {
                if !self.root.exists() {
                    return Ok(Vec::new());
                }
                let mut names: Vec<String> = read_dir_names(&self.root)?
                    .into_iter()
                    .filter(|n| !n.starts_with('.') && self.root.join(n).is_dir())
                    .collect();
                names.sort();
                names
            }
        };
        let mut out = Vec::new();
        for exp in experiments {
            let dir = self.root.join(&exp);
            if !dir.is_dir() {
                continue;
            }
            let mut ids: Vec<String> = read_dir_names(&dir)?
                .into_iter()
                .filter(|n| is_run_id(n) && dir.join(n).join("run.json").is_file())
                .collect();
            ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
            out.extend(ids.into_iter().map(|id| RunRef {
                experiment: exp.clone(),
                dir: dir.join(&id),
                id,
            }));
        }
        Ok(out)
    }

    /// Resolves a run argument: a run directory, `experiment/id`, or an experiment (all its runs).
    pub fn resolve(&self, arg: &str) -> Result<Vec<RunRef>, ExperimentError> {
        let as_path = Path::new(arg);
        if as_path.join("run.json").is_file() {
            let id = file_name(as_path);
            let experiment = as_path.parent().map(file_name).unwrap_or_default();
            return Ok(vec![RunRef {
                experiment,
                id,
                dir: as_path.to_path_buf(),
            }]);
        }
        if let Some((exp, id)) = arg.split_once('/')
            && let Some(run) = self.runs(Some(exp))?.into_iter().find(|r| r.id == id)
        {
            return Ok(vec![run]);
        }
        let runs = self.runs(Some(arg))?;
        if runs.is_empty() {
            return Err(ExperimentError::NoSuchRun {
                arg: arg.to_string(),
                root: self.root.clone(),
            });
        }
        Ok(runs)
    }
}

impl PendingRun {
    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The temp directory to write into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Where the run will live once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the finished run into place and returns its directory.
    pub fn commit(mut self) -> Result<PathBuf, ExperimentError> {
        fs::rename(&self.tmp, &self.target).map_err(io_err(&self.target))?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for PendingRun {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `pid@host` of a process of this host, when the host name is known (Linux).
fn owner_tag(pid: u32) -> Option<String> {
    let host = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(format!("{pid}@{}", host.trim()))
}

/// Whether process `pid` of this host is alive: it has `/proc/<pid>/stat` and is not a zombie
/// (a killed process whose parent has not reaped it yet).
fn is_running(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state ...`; comm may hold spaces and parentheses, the state follows the last `)`
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// Removes the `.tmp-<id>` directories of runs whose owner (recorded in `.ids/<id>`) ran on
/// this host and is no longer running. Directories without a readable owner are kept.
fn remove_abandoned(exp_dir: &Path) -> Result<(), ExperimentError> {
    for name in read_dir_names(exp_dir)? {
        let Some(id) = name.strip_prefix(TMP_PREFIX) else {
            continue;
        };
        let Ok(owner) = fs::read_to_string(exp_dir.join(IDS).join(id)) else {
            continue;
        };
        let Some((pid, _)) = owner.split_once('@') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let same_host = owner_tag(pid).is_some_and(|tag| tag == owner);
        if same_host && !is_running(pid) {
            let tmp = exp_dir.join(&name);
            match fs::remove_dir_all(&tmp) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(io_err(&tmp)(e)),
                _ => {}
            }
        }
    }
    Ok(())
}

fn highest_id(ids: &Path) -> Result<u64, ExperimentError> {
    Ok(read_dir_names(ids)?
        .iter()
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .unwrap_or(0))
}

fn read_dir_names(dir: &Path) -> Result<Vec<String>, ExperimentError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn is_run_id(name: &str) -> bool {
    name.len() >= 4 && name.bytes().all(|b| b.is_ascii_digit())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(store: &RunStore, exp: &str) -> PathBuf {
        let run = store.begin(exp).unwrap();
        fs::write(run.dir().join("run.json"), "{}").unwrap();
        run.commit().unwrap()
    }

    #[test]
    fn ids_are_sequential_sortable_and_never_reused() {
        let root = tempfile::tempdir().unwrap();
        let store = RunStore::new(root.path());
        assert!(finish(&store, "e").ends_with("e/0001"));
        let failed = store.begin("e").unwrap();
        assert_eq!(failed.id(), "0002");
        let tmp = failed.dir().to_path_buf();
        drop(failed);
        assert!(!tmp.exists(), "an uncommitted run leaves nothing behind");
        assert!(finish(&store, "e").ends_with("e/0003"));
        let ids: Vec<String> = store
            .runs(Some("e"))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec!["0001", "0003"]);
    }

    #[test]
    fn temp_dirs_of_dead_runs_are_removed_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let store = RunStore::new(root.path());
        // a run of this (live) process, left unfinished as a kill would leave it
        let live = store.begin("k").unwrap();
        let live_tmp = live.dir().to_path_buf();
        std::mem::forget(live);
        // a run whose owner has exited: the pid of a finished child
        let dead = store.begin("k").unwrap();
        let dead_tmp = dead.dir().to_path_buf();
        let marker = root.path().join("k").join(IDS).join(dead.id());
        std::mem::forget(dead);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let Some(tag) = owner_tag(gone) else {
            return; // no /proc: nothing is ever removed
        };
        fs::write(&marker, tag).unwrap();
        finish(&store, "k");
        assert!(live_tmp.exists(), "a running owner's temp dir is kept");
        assert!(!dead_tmp.exists(), "a dead owner's temp dir is removed");
        let _ = fs::remove_dir_all(live_tmp);
    }

    #[test]
    fn concurrent_reservations_get_distinct_ids() {
        let root = tempfile::tempdir().unwrap();
        let store = RunStore::new(root.path());
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| finish(&store, "c"))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut names: Vec<_> = dirs.iter().map(|d| file_name(d)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 8);
        assert_eq!(store.runs(None).unwrap().len(), 8);
    }

    #[test]
    fn resolve_accepts_paths_ids_and_experiments() {
        let root = tempfile::tempdir().unwrap();
        let store = RunStore::new(root.path());
        let first = finish(&store, "r");
        finish(&store, "r");
        assert_eq!(store.resolve("r").unwrap().len(), 2);
        assert_eq!(store.resolve("r/0002").unwrap()[0].id, "0002");
        assert_eq!(
            store.resolve(first.to_str().unwrap()).unwrap()[0].id,
            "0001"
        );
        assert!(store.resolve("nope").is_err());
    }
}
