//! Link-layer header types (tcpdump.org `LINKTYPE_*` values) as found in pcap file headers and pcapng
//! Interface Description Blocks. The capture reader stamps every [`Frame`](super::Frame) with one; the
//! decode step picks its link-layer stripper by it.

use std::fmt;

/// Link-layer header type of a frame: a tcpdump.org `LINKTYPE_` value (pcap: the header's `LinkType`
/// field, draft-ietf-opsawg-pcap §4; pcapng: the IDB's `LinkType`, RFC draft-ietf-opsawg-pcapng §4.2).
///
/// An open newtype: any value is kept and printed, known ones by name.
///
/// ```
/// use shakedown::capture::LinkType;
/// assert_eq!(LinkType::ETHERNET.to_string(), "ETHERNET");
/// assert_eq!(LinkType(147).to_string(), "linktype 147");
/// assert!(LinkType(12).is_raw_ip());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the *capturing host's* byte order, then IP.
    pub const NULL: LinkType = LinkType(0);
    /// IEEE 802.3 Ethernet (and DIX Ethernet II).
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP (RFC 1661), with the optional HDLC-like framing.
    pub const PPP: LinkType = LinkType(9);
    /// Raw IP as some old captures write it: `DLT_RAW` is 12 on most systems, and Wireshark reads 12
    /// as raw IPv4/IPv6 (the packet starts with the IP header), as shakedown does.
    pub const RAW_OLD: LinkType = LinkType(12);
    /// Raw IP as OpenBSD's `DLT_RAW` (14) leaks into some captures; read as raw IP like 12 and 101.
    pub const RAW_OPENBSD: LinkType = LinkType(14);
    /// Raw IP: the packet starts with an IPv4 or IPv6 header (version nibble tells which).
    pub const RAW: LinkType = LinkType(101);
    /// IEEE 802.11 wireless LAN.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: a 4-byte address family in network byte order, then IP.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (`tcpdump -i any` before libpcap 1.10): 16-byte SLL header.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// IEEE 802.11 with a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Raw IPv4: the packet starts with an IPv4 header.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6: the packet starts with an IPv6 header.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter NFLOG: a 4-byte header then TLVs, one of which carries the IP packet.
    pub const NFLOG: LinkType = LinkType(239);
    /// Wireshark's exported PDUs (tags then a PDU of a named protocol).
    pub const WIRESHARK_UPPER_PDU: LinkType = LinkType(252);
    /// Linux "cooked" capture v2 (`tcpdump -i any` since libpcap 1.10): 20-byte SLL2 header.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The tcpdump.org name without its `LINKTYPE_` prefix, for the values shakedown knows.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            9 => "PPP",
            12 => "RAW_OLD",
            14 => "RAW_OPENBSD",
            101 => "RAW",
            105 => "IEEE802_11",
            108 => "LOOP",
            113 => "LINUX_SLL",
            127 => "IEEE802_11_RADIOTAP",
            228 => "IPV4",
            229 => "IPV6",
            239 => "NFLOG",
            252 => "WIRESHARK_UPPER_PDU",
            276 => "LINUX_SLL2",
            _ => return None,
        })
    }

    /// Whether frames of this type start directly with an IPv4 or IPv6 header (101, and the old 12 and
    /// 14 that some systems wrote for `DLT_RAW`).
    pub fn is_raw_ip(&self) -> bool {
        matches!(self.0, 12 | 14 | 101)
    }
}

/// Prints the name (`ETHERNET`) or, for values shakedown does not know, `linktype N`.
impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "linktype {}", self.0),
        }
    }
}
