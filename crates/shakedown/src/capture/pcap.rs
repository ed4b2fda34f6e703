//! libpcap files (draft-ietf-opsawg-pcap): a 24-byte file header, then records of a 16-byte header
//! and the captured bytes. Also Alexey Kuznetzov's "modified" format (magic `a1b2cd34`), whose record
//! header has 8 more bytes (ifindex, protocol, packet type, padding).
//!
//! Hand-written rather than pcap-parser's `parse_pcap_header`/`parse_pcap_frame*`: pcap-parser knows
//! the modified format only in little-endian order, and a record's length must be checked against a
//! bound *before* waiting for its bytes (a damaged length would otherwise look like a 4 GB record).

use std::io::Read;

use super::{
    ByteOrder, CaptureError, CaptureFormat, CaptureReader, FrameMeta, InterfaceInfo, LinkType,
    MAX_BLOCK_BYTES, State, Step,
};
use crate::Timestamp;

/// File header size (§4).
const FILE_HEADER: usize = 24;

/// Wireshark's default largest packet (`WTAP_MAX_PACKET_SIZE_STANDARD`): a record larger than this
/// and than the snaplen is taken as damage, as Wireshark does.
const STANDARD_MAX_PACKET: u32 = 262_144;

/// The pcap "LinkType and additional information" field keeps the link type in its low bits; the
/// top bits may carry an FCS length (§4, bits 28-31 and 26).
const LINKTYPE_MASK: u32 = 0x03FF_FFFF;

#[derive(Debug, Clone, Copy)]
pub(crate) struct PcapState {
    order: ByteOrder,
    /// Nanoseconds per timestamp fraction unit: 1000 (µs) or 1 (ns).
    frac_ns: u32,
    /// Record header size: 16, or 24 for the modified format.
    record_header: usize,
    link_type: LinkType,
    /// Largest acceptable captured length.
    max_caplen: u32,
}

impl<R: Read> CaptureReader<R> {
    pub(super) fn read_pcap_header(&mut self, magic: [u8; 4]) -> Result<(), CaptureError> {
        let (order, nanos, modified) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (ByteOrder::Little, false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (ByteOrder::Big, false, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (ByteOrder::Little, true, false),
            [0xa1, 0xb2, 0x3c, 0x4d] => (ByteOrder::Big, true, false),
            [0x34, 0xcd, 0xb2, 0xa1] => (ByteOrder::Little, false, true),
            [0xa1, 0xb2, 0xcd, 0x34] => (ByteOrder::Big, false, true),
            _ => return Err(CaptureError::NotACapture { magic }),
        };
        let complete = self
            .window
            .fill(&mut self.source, FILE_HEADER)
            .map_err(|e| self.header_io_error(e))?;
        let h = self.window.data();
        if !complete {
            return Err(CaptureError::TruncatedHeader {
                format: "pcap",
                need: FILE_HEADER as u64,
                have: h.len() as u64,
            });
        }
        let field = |off| order.u32_at(h, off).unwrap_or(0);
        let major = order.u16_at(h, 4).unwrap_or(0);
        let minor = order.u16_at(h, 6).unwrap_or(0);
        let snaplen = field(16);
        let link_type = LinkType(field(20) & LINKTYPE_MASK);
        // libpcap and Wireshark read only major version 2 (1.x files predate the current header).
        if major != 2 {
            return Err(CaptureError::UnsupportedVersion {
                format: "pcap",
                major,
                minor,
            });
        }
        self.window.consume(FILE_HEADER);
        let max_caplen = snaplen.max(STANDARD_MAX_PACKET).min(MAX_BLOCK_BYTES as u32);
        let units = if nanos { 1_000_000_000 } else { 1_000_000 };
        let d = &mut self.description;
        d.format = if modified {
            CaptureFormat::ModifiedPcap
        } else {
            CaptureFormat::Pcap
        };
        d.byte_order = order;
        d.version = (major, minor);
        d.sections = 1;
        d.push_interface(InterfaceInfo {
            id: 0,
            section: 0,
            link_type,
            snaplen,
            ts_units_per_sec: units,
            ts_offset_secs: 0,
        });
        self.state = State::Pcap(PcapState {
            order,
            frac_ns: if nanos { 1 } else { 1000 },
            record_header: if modified { 24 } else { 16 },
            link_type,
            max_caplen,
        });
        Ok(())
    }

    pub(super) fn pcap_step(&mut self) -> Result<Step, CaptureError> {
        let State::Pcap(st) = &self.state else {
            return Ok(Step::End);
        };
        let st = *st;
        let record = self.frames + 1;
        let mut want = st.record_header;
        loop {
            let complete = self.need(want)?;
            match st.record(self.window.data(), !complete, record) {
                Record::Need(n) => want = n,
                Record::End => return Ok(Step::End),
                Record::Damaged(reason) => return Ok(self.truncate(reason)),
                Record::Frame(r) => {
                    let at = self.window.start() + r.header;
                    self.window.consume(r.len);
                    return Ok(Step::Frame(FrameMeta { at, ..r.meta }));
                }
                // Not given by a pcap record.
                Record::Skipped(len) => self.window.consume(len),
            }
        }
    }
}

/// What the bytes at a record's (or pcapng block's) start hold.
pub(crate) enum Record {
    /// A whole packet record: its header's size and the frame (`at` relative to the packet bytes:
    /// 0).
    Frame(RecordFrame),
    /// A whole record of this many bytes that is not a packet (pcapng: a section header, an
    /// interface description, statistics...).
    Skipped(usize),
    /// At least this many bytes from the record's start are needed to tell.
    Need(usize),
    /// A clean end: no bytes left.
    End,
    /// The file is cut short or damaged here, and why (for [`super::Truncation::reason`]).
    Damaged(String),
}

/// A whole packet record found by [`PcapState::record`] (or a pcapng packet block).
pub(crate) struct RecordFrame {
    /// Size of the record header (the packet bytes follow it).
    pub(crate) header: usize,
    /// Size of the whole record.
    pub(crate) len: usize,
    /// The frame; `at` is 0 (its bytes start `header` bytes into the record).
    pub(crate) meta: FrameMeta,
}

impl PcapState {
    /// Reads the record at the start of `data`, packet record number `record`; `at_end` says that
    /// no bytes follow `data` (the input ended). Never asks for more than a record header plus
    /// the largest acceptable captured length.
    #[inline]
    pub(crate) fn record(&self, data: &[u8], at_end: bool, record: u64) -> Record {
        let hlen = self.record_header;
        if data.len() < hlen {
            let have = data.len();
            return match (at_end, have) {
                (false, _) => Record::Need(hlen),
                (true, 0) => Record::End,
                (true, _) => Record::Damaged(format!(
                    "the input ends inside the header of packet record {record} ({have} of {hlen} bytes)"
                )),
            };
        }
        let order = self.order;
        let field = |off| order.u32_at(data, off).unwrap_or(0);
        let (ts_sec, ts_frac, caplen, orig_len) = (field(0), field(4), field(8), field(12));
        let max_caplen = self.max_caplen;
        if caplen > max_caplen {
            return Record::Damaged(format!(
                "packet record {record} claims a {caplen}-byte packet, bigger than the maximum of \
                 {max_caplen}: the file is damaged from here"
            ));
        }
        let total = hlen + caplen as usize;
        if data.len() < total {
            let have = data.len();
            return if at_end {
                Record::Damaged(format!(
                    "the input ends inside packet record {record} ({have} of {total} bytes)"
                ))
            } else {
                Record::Need(total)
            };
        }
        // ts_sec is unsigned (§5: pcap timestamps run to 2106), as Wireshark reads it.
        // Cannot overflow: (2^32 - 1) * 10^9 + (2^32 - 1) * 1000 < 2^63.
        let ts = i64::from(ts_sec) * 1_000_000_000 + i64::from(ts_frac) * i64::from(self.frac_ns);
        Record::Frame(RecordFrame {
            header: hlen,
            len: total,
            meta: FrameMeta {
                at: 0,
                len: caplen as usize,
                ts: Timestamp(ts),
                link_type: self.link_type,
                interface: 0,
                orig_len,
            },
        })
    }
}
