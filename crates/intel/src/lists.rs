//! Threat-intelligence lists: [`ListSpec`] (one `intel:` entry of an experiment config),
//! [`IntelList`] (one list file loaded) and [`Intel`] (every list, looked up by address).
//!
//! A list is a blocklist (addresses to flag) or an allowlist (addresses never to flag, such as
//! a site's own scanners or a CDN). When an address is on both, the allowlist wins:
//! [`Intel::lookup`] and [`Intel::blocked`] answer with the allowlist's verdict, so a flag is
//! suppressed, while [`Intel::lookup_all`] still returns every hit for a caller that wants to
//! show both.

use crate::error::IntelError;
use crate::formats::{self, ListEntry, ListFormat};
use crate::networks::PrefixTable;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Whether a list names addresses to flag or addresses never to flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// Addresses to flag (known scanners, botnet controllers, hijacked networks).
    #[default]
    Block,
    /// Addresses never to flag; wins over any blocklist.
    Allow,
}

impl ListKind {
    /// The YAML name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Block => "block",
            ListKind::Allow => "allow",
        }
    }
}

impl std::fmt::Display for ListKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One list to load: an entry under `intel:` in the experiment config.
///
/// ```yaml
/// intel:
///   - path: lists/firehol_level1.netset
///   - path: lists/ipblocklist.csv
///     name: feodo
///     format: abusech_csv
///     column: dst_ip
///   - path: lists/our-scanners.txt
///     kind: allow
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The list file.
    pub path: PathBuf,
    /// The list's name in hits and reports; by default the file's stem (`drop` for
    /// `drop.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Blocklist (default) or allowlist.
    #[serde(default)]
    pub kind: ListKind,
    /// The file's format; by default decided by its content.
    #[serde(default)]
    pub format: ListFormat,
    /// The address column of an abuse.ch CSV file, by header name; by default the first of
    /// `ip`, `dst_ip`, `ip_address` or a name ending in `_ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl ListSpec {
    /// A blocklist spec of `path` with every default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ListSpec {
            path: path.into(),
            name: None,
            kind: ListKind::Block,
            format: ListFormat::Auto,
            column: None,
        }
    }

    /// The list's name: `name`, or the file's stem.
    pub fn list_name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => self
                .path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.to_string_lossy().into_owned()),
        }
    }
}

/// One list file, loaded.
#[derive(Clone, Debug)]
pub struct IntelList {
    /// The list's name (see [`ListSpec::name`]).
    pub name: String,
    /// Blocklist or allowlist.
    pub kind: ListKind,
    /// The format the file was read in (`Auto` resolved).
    pub format: ListFormat,
    /// The list file.
    pub path: PathBuf,
    /// How many entries the file holds.
    pub entries: usize,
    /// blake3 of the file's bytes, hex.
    pub hash: String,
    items: Vec<ListEntry>,
}

impl IntelList {
    /// Reads and parses `spec.path`. A line that is not an entry of the format is an error
    /// naming the file, the line, the value and what was expected.
    pub fn load(spec: &ListSpec) -> Result<IntelList, IntelError> {
        let bytes = std::fs::read(&spec.path).map_err(|source| IntelError::Io {
            path: spec.path.clone(),
            source,
        })?;
        Self::from_bytes(spec, &bytes)
    }

    /// Parses a list file's `bytes` as `spec` says (`spec.path` names the file in errors).
    pub fn from_bytes(spec: &ListSpec, bytes: &[u8]) -> Result<IntelList, IntelError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| start + i);
            IntelError::Line {
                path: spec.path.clone(),
                line,
                value: String::from_utf8_lossy(&bytes[start..end.min(start + 200)]).into_owned(),
                expected: "UTF-8 text".to_string(),
            }
        })?;
        let (format, items) =
            formats::parse(&spec.path, text, spec.format, spec.column.as_deref())?;
        Ok(IntelList {
            name: spec.list_name(),
            kind: spec.kind,
            format,
            path: spec.path.clone(),
            entries: items.len(),
            hash: blake3::hash(bytes).to_hex().to_string(),
            items,
        })
    }

    /// The entries in file order.
    pub fn items(&self) -> &[ListEntry] {
        &self.items
    }
}

/// One list entry that holds an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntelHit<'a> {
    /// The list's name.
    pub list: &'a str,
    /// Blocklist or allowlist.
    pub kind: ListKind,
    /// The entry as written, with its note (SBL id, malware family) in parentheses.
    pub entry: &'a str,
    /// The entry's network, canonical.
    pub prefix: IpNet,
}

/// Where an entry is: list index and entry index in that list.
type EntryRef = (u32, u32);

/// Every list, looked up by address. Lookups are two longest-prefix matches (allowlists, then
/// blocklists) in tries, far above a million per second.
#[derive(Clone, Debug, Default)]
pub struct Intel {
    lists: Vec<IntelList>,
    /// Per network, the entries that name it, in list order then file order.
    allow: PrefixTable<Vec<EntryRef>>,
    block: PrefixTable<Vec<EntryRef>>,
    hash: String,
}

impl Intel {
    /// Loads every list of `specs`, in order. List names must differ.
    pub fn load(specs: &[ListSpec]) -> Result<Intel, IntelError> {
        let lists = specs
            .iter()
            .map(IntelList::load)
            .collect::<Result<Vec<_>, _>>()?;
        Intel::from_lists(lists)
    }

    /// Builds the lookup tables over lists already loaded. List names must differ.
    pub fn from_lists(lists: Vec<IntelList>) -> Result<Intel, IntelError> {
        let mut hasher = blake3::Hasher::new();
        for (i, list) in lists.iter().enumerate() {
            if let Some(first) = lists[..i].iter().find(|other| other.name == list.name) {
                return Err(IntelError::DuplicateName {
                    name: list.name.clone(),
                    first: first.path.clone(),
                    second: list.path.clone(),
                });
            }
            hasher.update(list.hash.as_bytes());
        }
        let mut allow = PrefixTable::new();
        let mut block = PrefixTable::new();
        for (l, list) in lists.iter().enumerate() {
            let table: &mut PrefixTable<Vec<EntryRef>> = match list.kind {
                ListKind::Allow => &mut allow,
                ListKind::Block => &mut block,
            };
            for (e, item) in list.items.iter().enumerate() {
                let at = (index(l), index(e));
                match table.get_mut(item.prefix) {
                    // One entry per list and network: a list naming a network twice is one hit.
                    Some(refs) if refs.iter().any(|&(other, _)| other == at.0) => {}
                    Some(refs) => refs.push(at),
                    None => {
                        table.insert(item.prefix, vec![at]);
                    }
                }
            }
        }
        let hash = if lists.is_empty() {
            String::new()
        } else {
            hasher.finalize().to_hex().to_string()
        };
        Ok(Intel {
            lists,
            allow,
            block,
            hash,
        })
    }

    /// The lists, in the order given.
    pub fn lists(&self) -> &[IntelList] {
        &self.lists
    }

    /// Whether no list was given.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The verdict for `ip`: the most specific allowlist entry holding it if there is one
    /// (allow wins), else the most specific blocklist entry, else `None`. Among lists naming
    /// the same network, the first list given wins.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Option<IntelHit<'_>> {
        self.allowed_by(ip).or_else(|| self.block_hit(ip))
    }

    /// Every entry of every list holding `ip`: the most specific network first; among entries
    /// of one network, allowlists and blocklists in the order the lists were given.
    pub fn lookup_all(&self, ip: IpAddr) -> Vec<IntelHit<'_>> {
        let mut found: Vec<(IpNet, EntryRef)> = Vec::new();
        for table in [&self.allow, &self.block] {
            for (net, refs) in table.matches(ip) {
                found.extend(refs.iter().map(|&r| (net, r)));
            }
        }
        // A mapped IPv6 address may match IPv4 and IPv6 networks: IPv4 ones are the more
        // specific (see `PrefixTable::matches`).
        found.sort_by_key(|&(net, r)| {
            (
                matches!(net, IpNet::V6(_)),
                std::cmp::Reverse(net.prefix_len()),
                r,
            )
        });
        found.into_iter().map(|(net, r)| self.hit(net, r)).collect()
    }

    /// Whether an allowlist holds `ip`.
    #[inline]
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        self.allow.contains(ip)
    }

    /// The most specific blocklist entry holding `ip`, unless an allowlist holds it too (then
    /// `None`: the address is not to be flagged).
    #[inline]
    pub fn blocked(&self, ip: IpAddr) -> Option<IntelHit<'_>> {
        if self.is_allowed(ip) {
            None
        } else {
            self.block_hit(ip)
        }
    }

    /// blake3 over the lists' file hashes in the order given (each file's blake3, so file
    /// boundaries count), hex; empty when no list was given. Recorded by a run to say which
    /// lists it used.
    pub fn content_hash(&self) -> String {
        self.hash.clone()
    }

    fn allowed_by(&self, ip: IpAddr) -> Option<IntelHit<'_>> {
        let (net, refs) = self.allow.longest_match(ip)?;
        Some(self.hit(net, *refs.first()?))
    }

    fn block_hit(&self, ip: IpAddr) -> Option<IntelHit<'_>> {
        let (net, refs) = self.block.longest_match(ip)?;
        Some(self.hit(net, *refs.first()?))
    }

    fn hit(&self, prefix: IpNet, (l, e): EntryRef) -> IntelHit<'_> {
        let list = &self.lists[l as usize];
        IntelHit {
            list: &list.name,
            kind: list.kind,
            entry: &list.items[e as usize].text,
            prefix,
        }
    }
}

/// An index as stored in the tables (lists hold far fewer than 2^32 entries: a file of that
/// many lines would not fit in memory first).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Reads an address from a log value: surrounding whitespace is ignored, and an IPv6 address
/// may be in brackets (`[2001:db8::1]`). `None` when the value is not one address.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse().ok()
}

/// The path of `spec` resolved against `base` when relative (a config's directory).
pub fn resolve(spec: &ListSpec, base: &Path) -> ListSpec {
    let mut spec = spec.clone();
    if spec.path.is_relative() {
        spec.path = base.join(&spec.path);
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(name: &str, kind: ListKind, text: &str) -> IntelList {
        let spec = ListSpec {
            name: Some(name.into()),
            kind,
            ..ListSpec::new(format!("{name}.txt"))
        };
        IntelList::from_bytes(&spec, text.as_bytes()).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        parse_ip(text).unwrap()
    }

    #[test]
    fn parse_ip_is_tolerant_of_whitespace_and_brackets() {
        assert_eq!(parse_ip(" 10.0.0.1\t"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            parse_ip("[2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip("10.0.0.1:80"), None);
        assert_eq!(parse_ip("-"), None);
        assert_eq!(parse_ip(""), None);
    }

    #[test]
    fn allow_wins_but_every_hit_is_returned() {
        let intel = Intel::from_lists(vec![
            list(
                "drop",
                ListKind::Block,
                "192.0.2.0/24 # hijacked\n198.51.100.0/24\n",
            ),
            list("scanners", ListKind::Allow, "192.0.2.10\n"),
            list("feodo", ListKind::Block, "192.0.2.10 # Dridex\n"),
        ])
        .unwrap();
        let scanner = ip("192.0.2.10");
        let hit = intel.lookup(scanner).unwrap();
        assert_eq!(
            (hit.list, hit.kind, hit.entry),
            ("scanners", ListKind::Allow, "192.0.2.10")
        );
        assert!(intel.is_allowed(scanner));
        assert_eq!(intel.blocked(scanner), None);
        let all: Vec<(&str, &str)> = intel
            .lookup_all(scanner)
            .iter()
            .map(|h| (h.list, h.entry))
            .collect();
        assert_eq!(
            all,
            [
                ("scanners", "192.0.2.10"),
                ("feodo", "192.0.2.10 (Dridex)"),
                ("drop", "192.0.2.0/24 (hijacked)")
            ]
        );
        let other = intel.blocked(ip("192.0.2.11")).unwrap();
        assert_eq!(
            (other.list, other.entry),
            ("drop", "192.0.2.0/24 (hijacked)")
        );
        assert_eq!(other.prefix.to_string(), "192.0.2.0/24");
        assert_eq!(intel.lookup(ip("203.0.113.1")), None);
        assert!(intel.lookup_all(ip("203.0.113.1")).is_empty());
    }

    #[test]
    fn the_first_list_naming_a_network_wins_and_duplicates_count_once() {
        let intel = Intel::from_lists(vec![
            list("a", ListKind::Block, "10.0.0.0/8\n10.1.2.3/8\n"),
            list("b", ListKind::Block, "10.0.0.0/8 # b's note\n"),
        ])
        .unwrap();
        assert_eq!(intel.lists()[0].entries, 2);
        assert_eq!(intel.lookup(ip("10.9.9.9")).unwrap().list, "a");
        let all: Vec<&str> = intel
            .lookup_all(ip("10.9.9.9"))
            .iter()
            .map(|h| h.list)
            .collect();
        assert_eq!(all, ["a", "b"]);
    }

    #[test]
    fn list_names_must_differ() {
        let err = Intel::from_lists(vec![
            list("x", ListKind::Block, "10.0.0.0/8\n"),
            list("x", ListKind::Allow, "10.0.0.1\n"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("two intel lists are named `x`"),
            "{err}"
        );
    }

    #[test]
    fn content_hash_depends_on_bytes_and_order() {
        let a = || list("a", ListKind::Block, "10.0.0.0/8\n");
        let b = || list("b", ListKind::Block, "10.0.0.0/9\n");
        let ab = Intel::from_lists(vec![a(), b()]).unwrap().content_hash();
        let ba = Intel::from_lists(vec![b(), a()]).unwrap().content_hash();
        assert_eq!(
            ab,
            Intel::from_lists(vec![a(), b()]).unwrap().content_hash()
        );
        assert_ne!(ab, ba);
        assert_eq!(ab.len(), 64);
        assert_eq!(Intel::from_lists(vec![]).unwrap().content_hash(), "");
    }

    #[test]
    fn non_utf8_is_an_error_at_its_line() {
        let spec = ListSpec::new("bad.txt");
        let err = IntelList::from_bytes(&spec, b"10.0.0.1\n10.0.\xff.1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad.txt:2: `10.0.\u{fffd}.1`: expected UTF-8 text"
        );
    }

    #[test]
    fn spec_names_default_to_the_file_stem() {
        assert_eq!(ListSpec::new("lists/drop.txt").list_name(), "drop");
        assert_eq!(
            ListSpec::new("firehol_level1.netset").list_name(),
            "firehol_level1"
        );
        let spec = resolve(&ListSpec::new("l/a.txt"), Path::new("/cfg"));
        assert_eq!(spec.path, Path::new("/cfg/l/a.txt"));
    }
}
