//! Threat-intel matches of a batch's addresses ([`AddressHits`]: which list entry holds each
//! distinct address, and whether it is allowlisted), and their tally over the run as the
//! report's [`IntelSection`].

use std::collections::BTreeMap;
use webthreat_features::Addresses;
use webthreat_intel::{Intel, ListKind, parse_ip};
use webthreat_report::{IntelListSummary, IntelMatchRow, IntelSection};

/// Matched addresses listed in the report.
const TOP_MATCHES: usize = 50;
/// Distinct (address, side, entry) matches tallied at most.
const MAX_MATCHES: usize = 100_000;

/// One list entry that holds an address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Hit {
    /// Index of the list in the run's intel lists.
    pub list: usize,
    /// The list's name.
    pub name: String,
    /// An allowlist entry (else a blocklist entry).
    pub allow: bool,
    /// The entry as written, with its note.
    pub entry: String,
}

/// The intel hit of each distinct address of a batch (allowlists win).
pub(crate) struct AddressHits {
    hits: Vec<Option<Hit>>,
}

impl AddressHits {
    /// Looks up every distinct address of `addresses` once.
    pub(crate) fn new(addresses: &Addresses, intel: &Intel) -> Self {
        let hits = addresses
            .names
            .iter()
            .map(|ip| {
                let hit = intel.lookup(parse_ip(ip)?)?;
                Some(Hit {
                    list: intel.lists().iter().position(|l| l.name == hit.list)?,
                    name: hit.list.to_string(),
                    allow: hit.kind == ListKind::Allow,
                    entry: hit.entry.to_string(),
                })
            })
            .collect();
        Self { hits }
    }

    /// The hit of address index `k` ([`Addresses::NONE`] has none).
    pub(crate) fn of(&self, k: u32) -> Option<&Hit> {
        self.hits.get(k as usize)?.as_ref()
    }

    /// Whether address index `k` is allowlisted.
    pub(crate) fn allowed(&self, k: u32) -> bool {
        self.of(k).is_some_and(|h| h.allow)
    }

    /// `list: entry` of address index `k`, for a cell of `scores.csv` (empty without a hit).
    pub(crate) fn cell(&self, k: u32) -> String {
        self.of(k)
            .map(|h| format!("{}: {}", h.name, h.entry))
            .unwrap_or_default()
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    rows: u64,
    flagged: u64,
}

/// Matches over the run.
#[derive(Debug, Default)]
pub(crate) struct IntelTally {
    /// Per (address, side, hit).
    matches: BTreeMap<(String, &'static str, Hit), Counts>,
    /// Rows that matched each list (a row counts once per list).
    list_rows: BTreeMap<usize, u64>,
    /// Matches not tallied because of [`MAX_MATCHES`].
    dropped: u64,
    /// Flags removed because an address was allowlisted.
    pub suppressed_flags: u64,
}

impl IntelTally {
    /// Folds a batch (`flagged`: flagged by any detector, after suppression).
    pub(crate) fn add(&mut self, addresses: &Addresses, hits: &AddressHits, flagged: &[bool]) {
        for (i, (&s, &d)) in addresses.src.iter().zip(&addresses.dst).enumerate() {
            let mut lists: Vec<usize> = Vec::new();
            for (side, k) in [("source", s), ("destination", d)] {
                let Some(hit) = hits.of(k) else { continue };
                lists.push(hit.list);
                let key = (
                    addresses.name(k).unwrap_or_default().to_string(),
                    side,
                    hit.clone(),
                );
                if self.matches.len() >= MAX_MATCHES && !self.matches.contains_key(&key) {
                    self.dropped += 1;
                    continue;
                }
                let c = self.matches.entry(key).or_default();
                c.rows += 1;
                c.flagged += u64::from(flagged[i]);
            }
            lists.dedup();
            for list in lists {
                *self.list_rows.entry(list).or_default() += 1;
            }
        }
    }

    /// The report section (every list, the addresses with most rows first) and a note when
    /// matches were not tallied.
    pub(crate) fn finish(self, intel: &Intel) -> (IntelSection, Option<String>) {
        let lists = (intel.lists().iter().enumerate())
            .map(|(k, l)| IntelListSummary {
                name: l.name.clone(),
                kind: l.kind.name().to_string(),
                entries: l.entries as u64,
                matched_rows: self.list_rows.get(&k).copied().unwrap_or(0),
            })
            .collect();
        let mut matches: Vec<IntelMatchRow> = (self.matches.into_iter())
            .map(|((ip, side, hit), c)| IntelMatchRow {
                ip,
                side: side.to_string(),
                list: hit.name,
                kind: (if hit.allow {
                    ListKind::Allow
                } else {
                    ListKind::Block
                })
                .name()
                .to_string(),
                entry: hit.entry,
                rows: c.rows,
                flagged: c.flagged,
            })
            .collect();
        // most rows first; the map's order breaks ties
        matches.sort_by_key(|m| std::cmp::Reverse(m.rows));
        matches.truncate(TOP_MATCHES);
        let note = (self.dropped > 0).then(|| {
            format!(
                "threat intel: {} matches beyond the first {MAX_MATCHES} distinct addresses were not tallied",
                self.dropped
            )
        });
        let section = IntelSection {
            lists,
            matches,
            suppressed_flags: self.suppressed_flags,
        };
        (section, note)
    }
}
