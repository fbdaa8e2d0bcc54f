//! Following a log that keeps growing, as `tail -F` does: the bytes of one file (or of standard
//! input) as they are written, across rotations, until asked to stop.
//!
//! A followed file is read like any other file of a log ([`crate::chunks::RecordChunks`] cuts
//! it into records), through a reader that never ends on its own:
//! - when it has handed out every byte written so far it says so once (`WouldBlock`), so that
//!   the records read up to there are parsed and scored without waiting for more;
//! - asked again, it waits (polling every [`Follow::poll`]) for more bytes, for the path to name
//!   another file (renamed away and created anew) or a shorter one (truncated), or for the stop
//!   flag; a rotated file is read to its end first, then the path is opened anew and its header
//!   read again (it must name the same columns);
//! - standard input ends at its end of file, or at the stop flag.

use crate::error::IngestError;
use crate::files::{Encoding, sniff};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, sync_channel};
use std::time::Duration;

/// The path that names standard input.
pub const STDIN: &str = "-";

/// How a growing log is followed.
#[derive(Debug, Clone)]
pub struct Follow {
    /// Set (by a signal handler, say) to stop: what was read is handed out and the log ends.
    pub stop: Arc<AtomicBool>,
    /// How long to wait before looking again for more bytes, a rotation or the stop flag.
    pub poll: Duration,
}

impl Follow {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The files of a followed log: the one path, opened anew after every rotation.
pub(crate) struct Followed {
    path: PathBuf,
    follow: Follow,
}

impl Followed {
    pub(crate) fn new(path: &Path, follow: Follow) -> Self {
        Self {
            path: path.to_path_buf(),
            follow,
        }
    }

    /// The path errors name (`stdin` for standard input).
    pub(crate) fn display_path(&self) -> PathBuf {
        if self.is_stdin() {
            PathBuf::from("stdin")
        } else {
            self.path.clone()
        }
    }

    fn is_stdin(&self) -> bool {
        self.path.as_os_str() == STDIN
    }

    /// The first reader: standard input, or the file once it exists.
    pub(crate) fn first(&self) -> Result<Box<dyn Read + Send>, IngestError> {
        if self.is_stdin() {
            return Ok(Box::new(StdinTail::start(self.follow.clone())));
        }
        Ok(self
            .open_when_there()?
            .map(|tail| Box::new(tail) as Box<dyn Read + Send>)
            .unwrap_or_else(|| Box::new(io::empty())))
    }

    /// The reader after the last one ended: the path opened anew when it was rotated, `None`
    /// when the log has ended (stopped, or standard input closed).
    pub(crate) fn next(&self) -> Result<Option<Box<dyn Read + Send>>, IngestError> {
        if self.is_stdin() || self.follow.stopped() {
            return Ok(None);
        }
        Ok(self
            .open_when_there()?
            .map(|tail| Box::new(tail) as Box<dyn Read + Send>))
    }

    /// True when the log ended because it was asked to stop (a record it was in the middle of
    /// is unfinished, not ended).
    pub(crate) fn stopped(&self) -> bool {
        self.follow.stopped()
    }

    /// Waits for the path to name a regular file and opens it; `None` if stopped first.
    fn open_when_there(&self) -> Result<Option<TailFile>, IngestError> {
        let open_err = |source| IngestError::Open {
            path: self.path.clone(),
            source,
        };
        loop {
            if self.follow.stopped() {
                return Ok(None);
            }
            match File::open(&self.path) {
                Ok(file) => {
                    let metadata = file.metadata().map_err(open_err)?;
                    if !metadata.is_file() {
                        return Err(IngestError::Parse {
                            path: self.path.clone(),
                            message: "not a regular file; follow a log file, or `-` for \
                                standard input"
                                .into(),
                        });
                    }
                    if metadata.len() > 0 && sniff(&self.path)? != Encoding::Plain {
                        return Err(IngestError::Parse {
                            path: self.path.clone(),
                            message: "compressed or Parquet; a followed log must be plain text \
                                (decompress it into a pipe and follow `-`)"
                                .into(),
                        });
                    }
                    return Ok(Some(TailFile {
                        identity: identity(&metadata),
                        file,
                        path: self.path.clone(),
                        read: 0,
                        caught_up: false,
                        follow: self.follow.clone(),
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    std::thread::sleep(self.follow.poll)
                }
                Err(e) => return Err(open_err(e)),
            }
        }
    }
}

/// What tells one file from another behind the same path.
#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
fn identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    // without inodes, a rotation shows only as a file shorter than what was read
    let _ = metadata;
    (0, 0)
}

/// One file behind the followed path, read as it grows.
struct TailFile {
    file: File,
    path: PathBuf,
    identity: (u64, u64),
    /// Bytes read from it.
    read: u64,
    /// The last read found nothing new (and said so).
    caught_up: bool,
    follow: Follow,
}

impl TailFile {
    /// True when the path now names another file, or this one made shorter than what was read.
    fn rotated(&self) -> bool {
        match std::fs::metadata(&self.path) {
            Ok(now) => identity(&now) != self.identity || now.len() < self.read,
            // renamed away, not yet created anew: read on what was opened
            Err(_) => false,
        }
    }
}

impl Read for TailFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.read += n as u64;
                self.caught_up = false;
                return Ok(n);
            }
            if !self.caught_up {
                self.caught_up = true;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if self.follow.stopped() {
                return Ok(0);
            }
            if self.rotated() {
                // what was written to the old file before the rotation was seen
                let n = self.file.read(buf)?;
                self.read += n as u64;
                return Ok(n);
            }
            std::thread::sleep(self.follow.poll);
        }
    }
}

/// Standard input, read on a thread of its own so that waiting for it can see the stop flag.
struct StdinTail {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// The part of the last block not yet handed out.
    block: Vec<u8>,
    at: usize,
    caught_up: bool,
    follow: Follow,
}

impl StdinTail {
    fn start(follow: Follow) -> Self {
        let (send, blocks) = sync_channel(4);
        std::thread::spawn(move || {
            let mut stdin = io::stdin().lock();
            loop {
                let mut block = vec![0; 1 << 16];
                let got = stdin.read(&mut block);
                let end = matches!(got, Ok(0) | Err(_));
                let sent = send.send(got.map(|n| {
                    block.truncate(n);
                    block
                }));
                if end || sent.is_err() {
                    return;
                }
            }
        });
        Self {
            blocks,
            block: Vec::new(),
            at: 0,
            caught_up: false,
            follow,
        }
    }

    fn hand_out(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        n
    }
}

impl Read for StdinTail {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.block.len() {
                self.caught_up = false;
                return Ok(self.hand_out(buf));
            }
            let next = match self.blocks.try_recv() {
                Ok(block) => Some(block),
                Err(TryRecvError::Disconnected) => return Ok(0),
                Err(TryRecvError::Empty) if !self.caught_up => {
                    self.caught_up = true;
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Err(TryRecvError::Empty) => None,
            };
            let block = match next {
                Some(block) => block,
                None if self.follow.stopped() => return Ok(0),
                None => match self.blocks.recv_timeout(self.follow.poll) {
                    Ok(block) => block,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return Ok(0),
                },
            };
            let block = block?;
            if block.is_empty() {
                return Ok(0);
            }
            (self.block, self.at) = (block, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::follow_log;
    use crate::spec::SourceSpec;
    use std::io::Write;
    use std::sync::mpsc::channel;

    fn append(path: &Path, text: &str) {
        let mut f = (std::fs::OpenOptions::new().create(true).append(true))
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Where a follow stopped mid-record: file, line, bytes.
    type Unfinished = Option<(PathBuf, u64, usize)>;

    /// Follows `path` on a thread, sending the row ids of every batch; returns the stop flag,
    /// the receiver and the thread (which returns the unfinished record, if any).
    fn follow(
        path: &Path,
    ) -> (
        Arc<AtomicBool>,
        Receiver<Vec<u64>>,
        std::thread::JoinHandle<Unfinished>,
    ) {
        let stop = Arc::new(AtomicBool::new(false));
        let follow = Follow {
            stop: Arc::clone(&stop),
            poll: Duration::from_millis(10),
        };
        let (send, batches) = channel();
        let spec = SourceSpec::table(path);
        let thread = std::thread::spawn(move || {
            let mut log = follow_log(&spec, 1000, follow).unwrap();
            for table in log.by_ref() {
                let table = table.unwrap();
                let ids = table.df.column("row_id").unwrap().u64().unwrap();
                send.send(ids.into_no_null_iter().collect()).unwrap();
            }
            (log.unfinished()).map(|(p, line, bytes)| (p.to_path_buf(), line, bytes))
        });
        (stop, batches, thread)
    }

    fn next(batches: &Receiver<Vec<u64>>) -> Vec<u64> {
        batches.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn rows_come_as_written_across_a_truncation_and_a_half_record_is_unfinished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        append(&path, "a,b\n1,2\n3,4\n");
        let (stop, batches, thread) = follow(&path);
        assert_eq!(next(&batches), [0, 1]);
        // a record written in two parts comes once whole
        append(&path, "5,");
        std::thread::sleep(Duration::from_millis(50));
        append(&path, "6\n");
        assert_eq!(next(&batches), [2]);
        // copytruncate: the file starts again, header first
        std::fs::write(&path, "a,b\n7,8\n").unwrap();
        assert_eq!(next(&batches), [3]);
        append(&path, "9,1");
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::SeqCst);
        let unfinished = thread.join().unwrap();
        assert_eq!(unfinished, Some((path, 3, 3)));
    }

    #[test]
    fn a_rotated_file_must_name_the_same_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        append(&path, "a,b\n1,2\n");
        let stop = Arc::new(AtomicBool::new(false));
        let follow = Follow {
            stop: Arc::clone(&stop),
            poll: Duration::from_millis(10),
        };
        let mut log = follow_log(&SourceSpec::table(&path), 1000, follow).unwrap();
        assert_eq!(log.next().unwrap().unwrap().rows(), 1);
        std::fs::rename(&path, dir.path().join("t.csv.1")).unwrap();
        append(&path, "a,c\n1,2\n");
        let err = log.next().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("differ from those of the log's first file"),
            "{err}"
        );
    }
}
