//! What an analysis counted besides verdicts: frames, what was skipped and why, caps hit.

use std::collections::BTreeMap;

use crate::Timestamp;
use crate::capture::Truncation;
use crate::decode::SkipKind;

/// Counters of one analysis. Nothing the dissector drops goes uncounted here.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// Frames read from the capture.
    pub frames: u64,
    /// Captured bytes of those frames.
    pub captured_bytes: u64,
    /// Frames the capture holds fewer bytes of than were on the wire (cut by its snap length).
    pub cut_frames: u64,
    /// The most bytes kept of a cut frame: the capture's snap length, as far as the cut frames
    /// show it (0 when no frame was cut).
    pub snap_len: u32,
    /// Frames that gave a TCP segment.
    pub tcp_segments: u64,
    /// Frames that gave none, by kind (`not_tcp`, `unsupported_link_type`, `truncated_ipv4`, ...).
    pub skipped: BTreeMap<SkipKind, u64>,
    /// TCP connections seen.
    pub connections: u64,
    /// Connections ended early because the live-connection cap was reached.
    pub evicted: u64,
    /// Connections ended because they were idle too long (capture time).
    pub expired: u64,
    /// New connections on a 5-tuple whose previous connection had closed.
    pub port_reuse: u64,
    /// Frames that were a packet captured a second time (the same TCP segment with the same IP
    /// identification within a millisecond: `tcpdump -i any` across a bridge, Windows pktmon's
    /// per-component copies). Each is left out, as if the capture held it once.
    pub duplicate_frames: u64,
    /// The most connections live at once.
    pub peak_connections: u64,
    /// The most out-of-order bytes buffered at once over all connections.
    pub peak_buffered: u64,
    /// Times the overall reassembly budget was exhausted.
    pub budget_hits: u64,
    /// The most verdicts held back at once to keep first-packet order.
    pub pending_verdicts_peak: u64,
    /// Connections passed over because too many verdicts waited for them
    /// ([`crate::Config::max_pending_verdicts`]): each one's verdict came after verdicts of
    /// connections that started later.
    pub out_of_order: u64,
    /// Frames whose timestamp was earlier than an earlier frame's.
    pub backwards_timestamps: u64,
    /// Time of the first frame.
    pub first_ts: Option<Timestamp>,
    /// Latest frame time.
    pub last_ts: Option<Timestamp>,
    /// Set when the capture ended inside a record (or at a corrupt one).
    pub truncation: Option<Truncation>,
    /// Packets a live capture lost before they could be analysed, as the capturing program
    /// counted them (libpcap's statistics, in `shakedown live`). The engine never sets it: it
    /// sees only the frames it is given. `None` when nobody counted (a capture file).
    pub capture_drops: Option<CaptureDrops>,
}

/// Packets a live capture lost before they reached the analysis (SCHEMA.md summary record
/// `capture_drops`): in all, and per interface, as libpcap's `pcap_stats` counts them.
///
/// ```
/// use shakedown::{CaptureDrops, InterfaceDrops};
/// let drops = CaptureDrops::new(vec![
///     InterfaceDrops::new("eth0", 12, 0),
///     InterfaceDrops::new("eth1", 3, 1),
/// ]);
/// assert_eq!((drops.dropped, drops.if_dropped), (15, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureDrops {
    /// Packets dropped because there was no room for them in the capture buffer (the kernel's),
    /// summed over the interfaces (`ps_drop`).
    pub dropped: u64,
    /// Packets the network interface or its driver dropped, summed over the interfaces
    /// (`ps_ifdrop`; not every platform counts them).
    pub if_dropped: u64,
    /// The same per interface, in the order they were given.
    pub interfaces: Vec<InterfaceDrops>,
}

impl CaptureDrops {
    /// The drops of these interfaces, with their sums.
    pub fn new(interfaces: Vec<InterfaceDrops>) -> CaptureDrops {
        CaptureDrops {
            dropped: interfaces.iter().map(|i| i.dropped).sum(),
            if_dropped: interfaces.iter().map(|i| i.if_dropped).sum(),
            interfaces,
        }
    }
}

/// One interface's share of [`CaptureDrops`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InterfaceDrops {
    /// The interface's name (`eth0`, `any`).
    pub interface: String,
    /// Packets dropped for lack of room in the capture buffer.
    pub dropped: u64,
    /// Packets the interface or its driver dropped.
    pub if_dropped: u64,
}

impl InterfaceDrops {
    /// `interface`'s drop counts.
    pub fn new(interface: impl Into<String>, dropped: u64, if_dropped: u64) -> InterfaceDrops {
        InterfaceDrops {
            interface: interface.into(),
            dropped,
            if_dropped,
        }
    }
}

impl Summary {
    /// Takes what the shards tracked and what putting the verdicts in order saw.
    pub(crate) fn set_tracking(&mut self, t: super::shard::Tracking, order: &super::order::Order) {
        let c = t.counts;
        (
            self.connections,
            self.evicted,
            self.expired,
            self.port_reuse,
        ) = (c.connections, c.evicted, c.expired, c.port_reuse);
        self.duplicate_frames = c.duplicates;
        self.peak_buffered = t.peak_buffered;
        self.budget_hits = t.budget_hits;
        self.peak_connections = order.peak_live;
        self.pending_verdicts_peak = order.peak_waiting;
        self.out_of_order = order.out_of_order;
    }

    /// Frames skipped for a reason worth reporting ([`SkipKind::is_anomaly`]): not for ordinary
    /// traffic that is not TCP (other IP protocols, ARP, ...) nor for fragments held for
    /// reassembly.
    pub fn anomalies(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|(k, _)| k.is_anomaly())
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Layer, Skip};

    #[test]
    fn anomalies_leave_out_ordinary_traffic_and_held_fragments() {
        let mut s = Summary::default();
        for (skip, n) in [
            (Skip::NonIp { ethertype: 0x0806 }, 5), // ARP
            (Skip::NotTcp { ip_proto: 17 }, 3),
            (Skip::NonIpFamily { family: 7 }, 1),
            (Skip::FragmentHeld, 4),
            (Skip::Malformed(Layer::Tcp), 2),
            (Skip::Truncated(Layer::Ipv4), 1),
        ] {
            *s.skipped.entry(skip.kind()).or_insert(0) += n;
        }
        assert_eq!(s.anomalies(), 3);
        // Counted by kind, listed by name.
        let names: Vec<&str> = s.skipped.keys().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "fragment_held",
                "malformed_tcp",
                "non_ip",
                "non_ip_family",
                "not_tcp",
                "truncated_ipv4"
            ]
        );
    }
}
