//! The files of a log: one file, every file of a directory, or the files a glob pattern
//! matches, in path order; each opened through a gzip or zstd decoder when its first bytes say
//! it is compressed (whatever its name).

use crate::error::IngestError;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The files of the log at `path`, in a stable (byte-wise path) order.
pub(crate) fn log_files(path: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let text = path.to_string_lossy();
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| IngestError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            let name = entry.file_name();
            // hidden files (editor swap files, .DS_Store) are not part of a log
            if name.to_string_lossy().starts_with('.') || !entry.path().is_file() {
                continue;
            }
            files.push(entry.path());
        }
        files.sort();
        if files.is_empty() {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
                what: "directory holds no log files",
            });
        }
        return Ok(files);
    }
    if !path.exists() && text.contains(['*', '?', '[']) {
        let pattern = glob::glob(&text).map_err(|e| IngestError::Parse {
            path: path.to_path_buf(),
            message: format!("bad glob pattern: {e}"),
        })?;
        let mut files = Vec::new();
        for entry in pattern {
            let file = entry.map_err(|e| IngestError::Open {
                path: e.path().to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })?;
            if file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
                what: "glob pattern matches no file",
            });
        }
        return Ok(files);
    }
    Ok(vec![path.to_path_buf()])
}

/// How a file's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Plain,
    Gzip,
    Zstd,
    Parquet,
}

/// The encoding of a file, from its first bytes.
pub(crate) fn sniff(path: &Path) -> Result<Encoding, IngestError> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(source) => {
                return Err(IngestError::Open {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(match &magic[..got] {
        [0x1f, 0x8b, ..] => Encoding::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Encoding::Zstd,
        b"PAR1" => Encoding::Parquet,
        _ => Encoding::Plain,
    })
}

/// The decoded bytes of a text file.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn Read + Send>, IngestError> {
    let open_err = |source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    };
    let encoding = sniff(path)?;
    let file = File::open(path).map_err(open_err)?;
    Ok(match encoding {
        Encoding::Plain => Box::new(file),
        // a gzip file may hold several members (concatenated .gz files)
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        ))),
        Encoding::Zstd => Box::new(zstd::stream::read::Decoder::new(file).map_err(open_err)?),
        Encoding::Parquet => {
            return Err(IngestError::Parse {
                path: path.to_path_buf(),
                message: "a Parquet file cannot be one of many files or streamed; \
                    read it alone without --batch-rows"
                    .into(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn directories_and_globs_list_files_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.log", "a.log", "c.txt", ".hidden"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(log_files(dir.path()).unwrap()),
            ["a.log", "b.log", "c.txt"]
        );
        let glob = dir.path().join("*.log");
        assert_eq!(names(log_files(&glob).unwrap()), ["a.log", "b.log"]);
        let none = dir.path().join("*.gz");
        assert!(
            log_files(&none)
                .unwrap_err()
                .to_string()
                .contains("matches no file")
        );
    }

    #[test]
    fn compressed_files_are_told_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"a,b\n1,2\n".repeat(1000);
        let gz = dir.path().join("log.csv");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        let mut bytes = enc.finish().unwrap();
        // two members, as `cat a.gz b.gz` gives
        bytes.extend_from_slice(&bytes.clone());
        std::fs::write(&gz, &bytes).unwrap();
        let mut got = Vec::new();
        open_text(&gz).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, [text.clone(), text.clone()].concat());
        let zst = dir.path().join("log.zst");
        std::fs::write(&zst, zstd::encode_all(&text[..], 1).unwrap()).unwrap();
        let mut got = Vec::new();
        open_text(&zst).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, text);
    }
}
