//! [`Entities`]: who each row of a [`crate::FeatureMatrix`] belongs to (source IP, destination
//! port, aggregation window), the keys of the per-entity summaries in reports.
//!
//! The keys are stored by column, 16 bytes per row: each distinct source IP once, with a
//! 32-bit index per row, ports as 32-bit numbers and window starts as 64-bit seconds. A row
//! without a key holds a marker that no real key takes (see the constants below), so that no
//! per-row option costs space.

use thiserror::Error;

/// The index a row without a source IP holds.
const NO_IP: u32 = u32::MAX;
/// The port a row without a destination port holds.
const NO_PORT: u32 = u32::MAX;
/// The window a row without a start time holds.
const NO_WINDOW: i64 = i64::MIN;

/// A key that [`Entities`] cannot store.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EntityError {
    /// A destination port outside 0..=65535.
    #[error("destination port {port} at row {row} is outside 0..=65535")]
    Port {
        /// The row (0-based, in the matrix).
        row: usize,
        /// The value.
        port: i64,
    },
    /// A window start equal to the marker of "no window" (i64::MIN).
    #[error("window start {start} at row {row} is out of range")]
    Window {
        /// The row (0-based, in the matrix).
        row: usize,
        /// The value.
        start: i64,
    },
    /// More distinct source IPs than 32-bit indexes.
    #[error("more than {} distinct source IPs", u32::MAX)]
    TooManyIps,
    /// Key columns of different lengths.
    #[error("an entity key column has {got} rows, expected {rows}")]
    Rows {
        /// Length of the shorter column.
        got: usize,
        /// Rows of the longest column.
        rows: usize,
    },
    /// A source IP index beyond the distinct IPs.
    #[error("source IP index {index} at row {row}, but there are {ips} distinct IPs")]
    IpIndex {
        /// The row (0-based, in the matrix).
        row: usize,
        /// The index.
        index: u32,
        /// Distinct IPs.
        ips: usize,
    },
}

/// Entity keys of every row, or of none (a source without IPs, ports or times).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities {
    /// Distinct source IPs, indexed by `ip_of_row`.
    ips: Vec<Box<str>>,
    /// Per row, an index into `ips` or [`Entities::NO_IP`]; empty when the source has no IPs.
    ip_of_row: Vec<u32>,
    /// Per row, a [`Entities::port_code`]; empty when the source has no ports.
    port_of_row: Vec<u32>,
    /// Per row, a [`Entities::window_code`]; empty when time is unknown.
    window_of_row: Vec<i64>,
    rows: usize,
}

impl Entities {
    /// The IP index of a row without a source IP.
    pub const NO_IP: u32 = NO_IP;

    /// Keys from per-row columns, each empty (the source has no such key) or one entry per
    /// row: indexes into `ips` (or [`Entities::NO_IP`]), [`Entities::port_code`]s and
    /// [`Entities::window_code`]s.
    pub fn new(
        ips: Vec<Box<str>>,
        ip_of_row: Vec<u32>,
        port_of_row: Vec<u32>,
        window_of_row: Vec<i64>,
    ) -> Result<Self, EntityError> {
        if ips.len() >= NO_IP as usize {
            return Err(EntityError::TooManyIps);
        }
        let lengths = [ip_of_row.len(), port_of_row.len(), window_of_row.len()];
        let rows = lengths.into_iter().max().unwrap_or(0);
        if let Some(&got) = lengths.iter().find(|&&n| n != 0 && n != rows) {
            return Err(EntityError::Rows { got, rows });
        }
        if let Some(row) = ip_of_row
            .iter()
            .position(|&id| id != NO_IP && id as usize >= ips.len())
        {
            return Err(EntityError::IpIndex {
                row,
                index: ip_of_row[row],
                ips: ips.len(),
            });
        }
        Ok(Self {
            ips,
            ip_of_row,
            port_of_row,
            window_of_row,
            rows,
        })
    }

    /// The stored code of row `row`'s destination port (0..=65535), u32::MAX for none.
    pub fn port_code(row: usize, port: Option<i64>) -> Result<u32, EntityError> {
        match port {
            None => Ok(NO_PORT),
            Some(p) => u16::try_from(p)
                .map(u32::from)
                .map_err(|_| EntityError::Port { row, port: p }),
        }
    }

    /// The stored code of row `row`'s window start: the start itself, or i64::MIN for none.
    pub fn window_code(row: usize, start: Option<i64>) -> Result<i64, EntityError> {
        match start {
            None => Ok(NO_WINDOW),
            Some(NO_WINDOW) => Err(EntityError::Window {
                row,
                start: NO_WINDOW,
            }),
            Some(w) => Ok(w),
        }
    }

    /// Whether no row has keys.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Rows with keys (0 when none has).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// The distinct source IPs, indexed by [`Entities::src_ip_index`].
    pub fn ips(&self) -> &[Box<str>] {
        &self.ips
    }

    /// Index of row `row`'s source IP in [`Entities::ips`].
    pub fn src_ip_index(&self, row: usize) -> Option<usize> {
        self.ip_of_row
            .get(row)
            .filter(|&&id| id != NO_IP)
            .map(|&id| id as usize)
    }

    /// Row `row`'s source IP.
    pub fn src_ip(&self, row: usize) -> Option<&str> {
        self.src_ip_index(row).map(|i| &*self.ips[i])
    }

    /// Row `row`'s destination port.
    pub fn dst_port(&self, row: usize) -> Option<u16> {
        self.port_of_row
            .get(row)
            .filter(|&&p| p != NO_PORT)
            .map(|&p| p as u16)
    }

    /// Start of row `row`'s aggregation window (seconds since the Unix epoch).
    pub fn window_start(&self, row: usize) -> Option<i64> {
        self.window_of_row
            .get(row)
            .copied()
            .filter(|&w| w != NO_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(
        ips: &[&str],
        ip_of_row: &[Option<u32>],
        ports: &[Option<i64>],
        windows: &[Option<i64>],
    ) -> Result<Entities, EntityError> {
        let ports = ports
            .iter()
            .enumerate()
            .map(|(r, &p)| Entities::port_code(r, p));
        let windows = windows
            .iter()
            .enumerate()
            .map(|(r, &w)| Entities::window_code(r, w));
        Entities::new(
            ips.iter().map(|&ip| ip.into()).collect(),
            ip_of_row
                .iter()
                .map(|id| id.unwrap_or(Entities::NO_IP))
                .collect(),
            ports.collect::<Result<_, _>>()?,
            windows.collect::<Result<_, _>>()?,
        )
    }

    #[test]
    fn keys_round_trip_with_missing_values() {
        let e = keys(
            &["10.0.0.1", "10.0.0.2"],
            &[Some(1), None, Some(0)],
            &[Some(0), Some(65535), None],
            &[Some(-5), None, Some(1_714_086_000)],
        )
        .unwrap();
        assert_eq!(e.len(), 3);
        let rows: Vec<_> = (0..3)
            .map(|r| (e.src_ip(r), e.dst_port(r), e.window_start(r)))
            .collect();
        assert_eq!(
            rows,
            [
                (Some("10.0.0.2"), Some(0), Some(-5)),
                (None, Some(65535), None),
                (Some("10.0.0.1"), None, Some(1_714_086_000)),
            ]
        );
        assert_eq!(e.src_ip_index(0), Some(1));
    }

    #[test]
    fn columns_may_be_missing_and_no_columns_means_no_keys() {
        let ports = keys(&[], &[], &[Some(80), Some(443)], &[]).unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!((ports.src_ip(0), ports.dst_port(1)), (None, Some(443)));
        assert_eq!(ports.window_start(0), None);
        let none = keys(&[], &[], &[], &[]).unwrap();
        assert!(none.is_empty());
        assert_eq!(none.src_ip(0), None);
    }

    #[test]
    fn keys_that_cannot_be_stored_are_errors() {
        for port in [-1, 65536] {
            assert_eq!(
                keys(&[], &[], &[Some(port)], &[]),
                Err(EntityError::Port { row: 0, port })
            );
        }
        assert!(matches!(
            keys(&[], &[], &[], &[None, Some(i64::MIN)]),
            Err(EntityError::Window { row: 1, .. })
        ));
        assert_eq!(
            keys(&[], &[], &[None], &[None, None]),
            Err(EntityError::Rows { got: 1, rows: 2 })
        );
        assert_eq!(
            keys(&["a"], &[Some(0), Some(1)], &[], &[]),
            Err(EntityError::IpIndex {
                row: 1,
                index: 1,
                ips: 1
            })
        );
    }
}
