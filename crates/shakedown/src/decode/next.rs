//! What the link strip (`decode::link`) and the layer walk (`decode::walk`) hand each other: the
//! next header to decode, and PPP, which both meet (as a link type, and after PPPoE or enhanced
//! GRE). Kept apart so that `walk` imports `link` and neither imports the other back.

use super::{Skip, TcpSegment};

/// The next header to decode, over bytes that start with it.
pub(super) enum Next<'a> {
    /// An Ethernet II (or 802.3) header.
    Ethernet(&'a [u8]),
    /// A payload identified by an EtherType.
    EtherType(u16, &'a [u8]),
    /// An IP header of either version (by its first nibble).
    Ip(&'a [u8]),
    /// An IPv4 header.
    Ipv4(&'a [u8]),
    /// An IPv6 header.
    Ipv6(&'a [u8]),
    /// Walk finished.
    Done(TcpSegment<'a>),
}

/// PPP (RFC 1661 §2) after PPPoE, enhanced GRE or as a link type: optional address/control
/// (RFC 1662), a 1- or 2-byte protocol (protocol field compression), IPv4 0x21 or IPv6 0x57; any
/// other protocol (LCP, compressed or encrypted data) is `NonIp` with the PPP protocol number.
pub(super) fn ppp(d: &[u8], short: Skip) -> Result<Next<'_>, Skip> {
    let d = match d {
        [0xFF, 0x03, rest @ ..] => rest,
        _ => d,
    };
    let (proto, rest) = match d {
        [lo, rest @ ..] if lo & 1 == 1 => (u16::from(*lo), rest),
        [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
        _ => return Err(short),
    };
    match proto {
        0x21 => Ok(Next::Ipv4(rest)),
        0x57 => Ok(Next::Ipv6(rest)),
        _ => Err(Skip::NonIp { ethertype: proto }),
    }
}
