//! Placeholder (replaced by the capture reader on merge).
use crate::Timestamp;
/// Link-layer header type (tcpdump LINKTYPE_ value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);
#[allow(missing_docs)]
impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const NFLOG: LinkType = LinkType(239);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}
/// One captured packet.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Position in the capture, from 0.
    pub index: u64,
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Link-layer header type of `data`.
    pub link_type: LinkType,
    /// Capture interface (pcapng interface id; 0 for pcap).
    pub interface: u32,
    /// The captured bytes (possibly cut by the snap length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
}
