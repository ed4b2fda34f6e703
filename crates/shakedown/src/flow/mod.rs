//! Connections: the canonical 5-tuple key, the ends of a connection, and how the client is decided.
//!
//! Sits between frame decoding ([`crate::decode`]) and per-connection tracking in the
//! [`crate::Dissector`]. The client is the SYN sender; without a SYN, the peer of the SYN-ACK sender;
//! else the sender of the first ClientHello or X.224 Connection Request; else, meanwhile, the end with
//! the higher port.

mod table;

pub(crate) use table::FlowTable;

use std::fmt;
use std::net::IpAddr;

/// One end of a TCP connection: address and port.
///
/// ```
/// use shakedown::Endpoint;
/// let v4 = Endpoint::new("10.0.0.1".parse().unwrap(), 3389);
/// let v6 = Endpoint::new("::1".parse().unwrap(), 443);
/// assert_eq!((v4.to_string(), v6.to_string()), ("10.0.0.1:3389".into(), "[::1]:443".into()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its parts.
    pub fn new(ip: IpAddr, port: u16) -> Self {
        Endpoint { ip, port }
    }
}

/// `ip:port`, IPv6 as `[addr]:port` (SCHEMA.md).
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(a) => {
                let mut text = Ipv4Text::of(a);
                text.push(b':');
                text.number(self.port);
                f.write_str(text.as_str())
            }
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// An IPv4 address in dotted decimal, plus room for `:port`, built on the stack and written in one
/// piece. Every verdict's record and filter name its addresses, and `Ipv4Addr`'s own `Display`
/// writes seven pieces through the formatting machinery (into JSON, each piece is also scanned for
/// escapes on its own).
pub(crate) struct Ipv4Text {
    bytes: [u8; 21],
    len: usize,
}

impl Ipv4Text {
    /// `a` as `d.d.d.d`.
    pub(crate) fn of(a: std::net::Ipv4Addr) -> Self {
        let mut text = Ipv4Text {
            bytes: [0; 21],
            len: 0,
        };
        for (i, octet) in a.octets().into_iter().enumerate() {
            if i > 0 {
                text.push(b'.');
            }
            text.number(u16::from(octet));
        }
        text
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Appends `n` in decimal.
    fn number(&mut self, n: u16) {
        for &d in crate::digits::decimal(n, &mut [0; 5]) {
            self.push(d);
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// How the client end of a connection was decided (SCHEMA.md `client_inferred_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientInference {
    /// The client sent the first SYN.
    Syn,
    /// No SYN was captured; the client is the peer of the SYN-ACK sender.
    SynAck,
    /// No handshake was captured; the client sent the first ClientHello or X.224 Connection Request.
    Hello,
    /// Nothing else told; the client is the end with the higher port.
    Port,
}

display_as_str!(ClientInference);

impl ClientInference {
    /// The SCHEMA.md name: `syn`, `syn_ack`, `hello`, `port`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientInference::Syn => "syn",
            ClientInference::SynAck => "syn_ack",
            ClientInference::Hello => "hello",
            ClientInference::Port => "port",
        }
    }
}

/// The canonical key of a TCP connection: both endpoints, smaller first, so both directions meet.
///
/// Kept as plain numbers (an address as a 128-bit number in two halves, an IPv4 one in the low 32
/// bits, with `v6` false), not as [`Endpoint`]s: an [`IpAddr`] is a tag byte then the address, at
/// odd offsets in a key, and reading a key just built from those pieces (to hash it, compare it,
/// copy it into a batch) stalled the CPU on every segment. Endpoints order as their numbers do, so
/// "smaller first" is the order of [`Endpoint`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FlowKey {
    v6: bool,
    lo: [u64; 2],
    lo_port: u16,
    hi: [u64; 2],
    hi_port: u16,
}

/// One side of a [`FlowKey`]: an address as two halves of a 128-bit number, and a port.
type Side = ([u64; 2], u16);

/// An address as two halves of a 128-bit number (IPv4 in the low 32 bits).
fn number(ip: IpAddr) -> [u64; 2] {
    match ip {
        IpAddr::V4(a) => [0, u64::from(a.to_bits())],
        IpAddr::V6(a) => {
            let n = a.to_bits();
            [(n >> 64) as u64, n as u64]
        }
    }
}

impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.lo[0]);
        h.write_u64(self.lo[1]);
        h.write_u64(self.hi[0]);
        h.write_u64(self.hi[1]);
        h.write_u64(
            u64::from(self.lo_port) | u64::from(self.hi_port) << 16 | u64::from(self.v6) << 32,
        );
    }
}

impl FlowKey {
    /// The key of a decoded segment's connection (the same for both directions).
    pub(crate) fn of(seg: &crate::decode::TcpSegment<'_>) -> Self {
        FlowKey::of_sent(seg).0
    }

    /// [`FlowKey::of`], and whether the segment's sender is the key's first endpoint.
    pub(crate) fn of_sent(seg: &crate::decode::TcpSegment<'_>) -> (Self, bool) {
        let src = (number(seg.src), seg.src_port);
        let dst = (number(seg.dst), seg.dst_port);
        let v6 = seg.src.is_ipv6();
        let from_lo = src <= dst;
        let key = if from_lo {
            FlowKey::sides(v6, src, dst)
        } else {
            FlowKey::sides(v6, dst, src)
        };
        (key, from_lo)
    }

    fn sides(v6: bool, (lo, lo_port): Side, (hi, hi_port): Side) -> Self {
        FlowKey {
            v6,
            lo,
            lo_port,
            hi,
            hi_port,
        }
    }

    /// A hash of the key that spreads connections evenly over a few shares (all 64 bits depend on
    /// every part of the key, the high ones most), cheaper than the tables' hasher: for choosing
    /// the thread that tracks a connection, by the high bits (see `parallel::share_of`).
    pub(crate) fn spread(&self) -> u64 {
        let ports =
            u64::from(self.lo_port) | u64::from(self.hi_port) << 16 | u64::from(self.v6) << 32;
        let mut h = self.lo[0]
            ^ self.lo[1].rotate_left(16)
            ^ self.hi[0].rotate_left(32)
            ^ self.hi[1].rotate_left(48)
            ^ ports.wrapping_mul(0x2545_f491_4f6c_dd1d);
        h = (h ^ (h >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }

    /// Sender and receiver of a segment of this connection, given whether the sender is the
    /// key's first endpoint (as [`FlowKey::of_sent`] tells).
    pub(crate) fn ends(&self, from_lo: bool) -> (Endpoint, Endpoint) {
        let (lo, hi) = (
            self.endpoint(self.lo, self.lo_port),
            self.endpoint(self.hi, self.hi_port),
        );
        if from_lo { (lo, hi) } else { (hi, lo) }
    }

    fn endpoint(&self, [high, low]: [u64; 2], port: u16) -> Endpoint {
        let ip = if self.v6 {
            IpAddr::V6(std::net::Ipv6Addr::from_bits(
                u128::from(high) << 64 | u128::from(low),
            ))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::from_bits(low as u32))
        };
        Endpoint::new(ip, port)
    }

    #[cfg(test)]
    pub(crate) fn new(src: Endpoint, dst: Endpoint) -> Self {
        let v6 = src.ip.is_ipv6();
        let (src, dst) = ((number(src.ip), src.port), (number(dst.ip), dst.port));
        if src <= dst {
            FlowKey::sides(v6, src, dst)
        } else {
            FlowKey::sides(v6, dst, src)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_written_as_the_standard_library_writes_them() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut addresses = vec![
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [10, 0, 0, 1],
            [1, 22, 103, 9],
        ];
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            addresses.push((x as u32).to_be_bytes());
        }
        for (i, a) in addresses.into_iter().enumerate() {
            let ip = std::net::Ipv4Addr::from(a);
            let port = [0, 1, 9, 10, 99, 100, 443, 3389, 50000, u16::MAX][i % 10];
            let e = Endpoint::new(IpAddr::V4(ip), port);
            assert_eq!(e.to_string(), format!("{ip}:{port}"));
            assert_eq!(Ipv4Text::of(ip).as_str(), ip.to_string());
        }
    }

    #[test]
    fn keys_give_back_their_endpoints_smaller_first() {
        let pairs = [
            ("10.0.0.1:50000", "10.0.0.2:443"),
            ("10.0.0.2:443", "10.0.0.1:50000"),
            ("10.0.0.1:443", "10.0.0.1:50000"),
            ("255.255.255.255:1", "0.0.0.0:65535"),
            ("[::1]:443", "[fe80::1]:50000"),
            ("[ffff::ffff]:3389", "[::ffff:10.0.0.1]:3389"),
        ];
        for (a, b) in pairs {
            let (a, b): (std::net::SocketAddr, std::net::SocketAddr) =
                (a.parse().unwrap(), b.parse().unwrap());
            let (a, b) = (
                Endpoint::new(a.ip(), a.port()),
                Endpoint::new(b.ip(), b.port()),
            );
            let key = FlowKey::new(a, b);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            assert_eq!(key.ends(true), (lo, hi));
            assert_eq!(key.ends(false), (hi, lo));
        }
    }

    /// Connections that differ little (one server, consecutive client ports; consecutive client
    /// addresses) spread evenly over a few shares by the high bits of [`FlowKey::spread`].
    #[test]
    fn similar_keys_spread_evenly() {
        let server = Endpoint::new("192.0.2.10".parse().unwrap(), 443);
        let v6_server = Endpoint::new("2001:db8::10".parse().unwrap(), 3389);
        let families: [Vec<FlowKey>; 3] = [
            (0..6000u16)
                .map(|p| {
                    FlowKey::new(
                        Endpoint::new("10.0.0.1".parse().unwrap(), 40000 + p),
                        server,
                    )
                })
                .collect(),
            (0..6000u32)
                .map(|a| {
                    let ip = std::net::Ipv4Addr::from_bits(0x0a00_0000 + a);
                    FlowKey::new(Endpoint::new(IpAddr::V4(ip), 50000), server)
                })
                .collect(),
            (0..6000u128)
                .map(|a| {
                    let ip = std::net::Ipv6Addr::from_bits(0xfd00_u128 << 112 | a);
                    FlowKey::new(Endpoint::new(IpAddr::V6(ip), 50000), v6_server)
                })
                .collect(),
        ];
        for keys in &families {
            for n in [2u64, 3, 7] {
                let mut seen = vec![0usize; n as usize];
                for k in keys {
                    seen[((u128::from(k.spread()) * u128::from(n)) >> 64) as usize] += 1;
                }
                let even = keys.len() / n as usize;
                assert!(
                    seen.iter().all(|&c| c.abs_diff(even) < even / 10),
                    "{n} shares: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn key_is_symmetric() {
        let a = Endpoint::new("10.0.0.1".parse().unwrap(), 50000);
        let b = Endpoint::new("10.0.0.2".parse().unwrap(), 443);
        assert_eq!(FlowKey::new(a, b), FlowKey::new(b, a));
        assert_ne!(
            FlowKey::new(a, b),
            FlowKey::new(a, Endpoint { port: 444, ..b })
        );
    }
}
