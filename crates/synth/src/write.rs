//! Allocation-free formatting of CSV fields into a reused byte buffer.

pub(crate) use webthreat_core::decimal::push_u64;

/// Appends a dotted-quad IPv4 address given as a big-endian `u32`.
#[inline]
pub(crate) fn push_ipv4(buf: &mut Vec<u8>, ip: u32) {
    for (k, octet) in ip.to_be_bytes().into_iter().enumerate() {
        if k > 0 {
            buf.push(b'.');
        }
        push_u64(buf, u64::from(octet));
    }
}

/// Builds an IPv4 `u32` from its four octets.
pub(crate) const fn ipv4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_and_addresses() {
        let mut buf = Vec::new();
        for v in [0, 7, 10, 12_990, u64::MAX] {
            buf.clear();
            push_u64(&mut buf, v);
            assert_eq!(buf, v.to_string().as_bytes());
        }
        buf.clear();
        push_ipv4(&mut buf, ipv4(10, 138, 69, 97));
        assert_eq!(buf, b"10.138.69.97");
        buf.clear();
        push_ipv4(&mut buf, ipv4(0, 255, 0, 1));
        assert_eq!(buf, b"0.255.0.1");
    }
}
