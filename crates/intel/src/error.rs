//! The one error type of the crate, [`IntelError`]: every failure to read a list file, a
//! network list or a GeoIP database.
//!
//! List files and databases are downloaded from the internet and their content is
//! attacker-controlled, so every value (and path) an error quotes goes through
//! [`webthreat_core::text::visible`]: a control or bidirectional character shows as a `\u{..}`
//! escape and cannot act on the terminal or the report that shows the message.

use std::path::{Path, PathBuf};
use thiserror::Error;
use webthreat_core::text::visible;

/// Why a list, a network list or a GeoIP database could not be loaded.
#[derive(Debug, Error)]
pub enum IntelError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", shown(path))]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// One line of a list file holds something other than what its format expects.
    #[error("{}:{line}: `{}`: expected {expected}", shown(path), visible(value))]
    Line {
        /// The list file.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// The offending value as read (escaped when shown).
        value: String,
        /// What the format expects there.
        expected: String,
    },
    /// An abuse.ch CSV file has no header line naming its columns, or none of the columns
    /// is the address column.
    #[error("{}:{line}: {message}", shown(path))]
    Header {
        /// The list file.
        path: PathBuf,
        /// The line of the header (or of the first row when no header was found).
        line: usize,
        /// What is wrong, with the column names quoted.
        message: String,
    },
    /// An element of a network list (such as the `internal_networks` of a config) is neither
    /// an address nor a CIDR.
    #[error(
        "network list, element {index}: `{}`: expected an IP address or a CIDR such as 10.0.0.0/8",
        visible(value)
    )]
    Network {
        /// The element's position, counted from 1.
        index: usize,
        /// The offending value as given.
        value: String,
    },
    /// Two lists have the same name (the name identifies a list in hits and reports).
    #[error(
        "two intel lists are named `{}` ({} and {}): give one a `name:`",
        visible(name),
        shown(first),
        shown(second)
    )]
    DuplicateName {
        /// The shared name.
        name: String,
        /// The first list's file.
        first: PathBuf,
        /// The second list's file.
        second: PathBuf,
    },
    /// A MaxMind database could not be opened or read.
    #[error("{}: not a usable MaxMind database: {}", shown(path), visible(message))]
    Geo {
        /// The database file.
        path: PathBuf,
        /// The reader's reason.
        message: String,
    },
}

/// A path as it may be shown: lossy UTF-8, control and bidirectional characters escaped.
pub(crate) fn shown(path: &Path) -> String {
    visible(&path.to_string_lossy()).into_owned()
}
