//! pcapng files (draft-ietf-opsawg-pcapng): a sequence of blocks `type, length, body, length`, grouped
//! in sections that each start with a Section Header Block (SHB, §4.1) giving the section's byte
//! order and resetting its interface table; Interface Description Blocks (IDB, §4.2) append to that
//! table; packets come in Enhanced Packet Blocks (EPB, §4.3), Simple Packet Blocks (SPB, §4.4, always
//! interface 0) or the obsolete Packet Block (PB, Appendix A). Decryption Secrets Blocks (DSB,
//! §4.7) holding a TLS key log are read into an [`EmbeddedKeys`] kept for the whole file (not reset
//! by a new section: secrets belong to connections, not to interfaces), each block's secrets for
//! the frames after it. Every other block is skipped.
//!
//! Block framing is done here (see `input` for why not pcap-parser's `PcapNGReader`). SHB and IDB
//! bodies go through pcap-parser's parsers; the `if_tsresol` unit and the `if_tsoffset` value are
//! computed here because pcap-parser 0.17's `build_ts_resolution` rejects every power-of-2
//! resolution (it compares the byte with its flag bit to 63) and its `if_tsoffset` is always read
//! little-endian. Packet blocks are read here too: five fixed fields, and pcap-parser's EPB parser
//! would allocate an options vector per packet.

use std::io::Read;

use pcap_parser::{
    OptionCode, parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
    parse_sectionheaderblock,
};

use super::pcap::{Record, RecordFrame};
use super::{
    ByteOrder, CaptureDescription, CaptureError, CaptureFormat, CaptureReader, FrameMeta,
    InterfaceInfo, LinkType, MAX_BLOCK_BYTES, MAX_EMBEDDED_KEY_LOG_BYTES,
    MAX_INTERFACES_PER_SECTION, SecretsBlockCounts, State, Step,
};
use crate::Timestamp;
use crate::decrypt::EmbeddedKeys;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const PB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const DSB: u32 = 0x0000_000A;

/// DSB secrets type of an NSS key log (§4.7: `TLSK`).
const SECRETS_TLS_KEY_LOG: u32 = 0x544C_534B;

/// Smallest DSB: type, length, secrets type, secrets length, length.
const DSB_MIN: usize = 20;

/// Smallest SHB: type, length, byte-order magic, version, section length, length.
const SHB_MIN: usize = 28;

/// One interface of the current section.
#[derive(Debug, Clone)]
struct NgInterface {
    link_type: LinkType,
    snaplen: u32,
    units_per_sec: u64,
    offset_secs: i64,
    global_id: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct NgState {
    order: ByteOrder,
    interfaces: Vec<NgInterface>,
    /// Time of the previous frame, given to SPBs (which carry none).
    last_ts: Timestamp,
}

/// A block's name for messages (no allocation for the known ones: it is worked out for every
/// block).
fn block_name(t: u32) -> std::borrow::Cow<'static, str> {
    match t {
        SHB => "section header".into(),
        IDB => "interface description".into(),
        PB => "packet".into(),
        SPB => "simple packet".into(),
        EPB => "enhanced packet".into(),
        DSB => "decryption secrets".into(),
        5 => "interface statistics".into(),
        4 => "name resolution".into(),
        _ => format!("0x{t:08x}").into(),
    }
}

/// What the Decryption Secrets Blocks read so far held: the TLS key logs, each block's secrets for
/// the frames after it, and counts. Carried from block to block like the description (and from
/// stretch to stretch); clones share the key log (the reader, the walks of its stretches and the
/// analysis of its frames all see the same one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Embedded {
    pub(crate) keys: EmbeddedKeys,
    pub(crate) counts: SecretsBlockCounts,
}

impl Embedded {
    /// Takes the secrets of one DSB of `secrets_type`, which came before frame `next_frame`.
    fn add(&mut self, secrets_type: u32, secrets: &[u8], next_frame: u64) {
        if secrets_type != SECRETS_TLS_KEY_LOG {
            self.counts.other += 1;
            return;
        }
        // Some writers count the block's zero padding in the secrets length; NULs are no text.
        let end = secrets.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let text = secrets.get(..end).unwrap_or_default();
        let total = self
            .counts
            .tls_key_log_bytes
            .saturating_add(text.len() as u64);
        if total > MAX_EMBEDDED_KEY_LOG_BYTES as u64 {
            self.counts.over_limit += 1;
            return;
        }
        self.counts.tls_key_logs += 1;
        self.counts.tls_key_log_bytes = total;
        self.keys.add(text, next_frame);
    }
}

/// Byte order given by an SHB's byte-order magic (§4.1: `0x1A2B3C4D` as written by the writer).
fn bom_order(bom: &[u8]) -> Option<ByteOrder> {
    match bom {
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(ByteOrder::Little),
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(ByteOrder::Big),
        _ => None,
    }
}

/// Timestamp units per second for an `if_tsresol` byte (§4.2): top bit clear, a negative power of
/// 10; set, a negative power of 2. `None` when the unit does not fit in 64 bits.
pub(crate) fn ts_units(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    }
}

/// Converts a pcapng timestamp to nanoseconds since the epoch, exactly (integer arithmetic; the
/// result is rounded down to the nanosecond for resolutions finer than that), saturating.
pub(crate) fn ng_timestamp(raw: u64, units_per_sec: u64, offset_secs: i64) -> Timestamp {
    let units = u128::from(units_per_sec.max(1));
    let raw = u128::from(raw);
    let ns = (raw / units) * 1_000_000_000 + (raw % units) * 1_000_000_000 / units;
    let total = i128::try_from(ns)
        .unwrap_or(i128::MAX)
        .saturating_add(i128::from(offset_secs) * 1_000_000_000);
    Timestamp(
        i64::try_from(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX))).unwrap_or(i64::MAX),
    )
}

impl<R: Read> CaptureReader<R> {
    /// Checks the first SHB thoroughly enough to give a clear error, then leaves it in the window for
    /// [`Self::pcapng_step`] to read as the start of section 1.
    pub(super) fn read_pcapng_header(&mut self) -> Result<(), CaptureError> {
        let got = self
            .window
            .fill(&mut self.source, 12)
            .map_err(|e| self.header_io_error(e))?;
        let d = self.window.data();
        if !got {
            return Err(CaptureError::TruncatedHeader {
                format: "pcapng",
                need: SHB_MIN as u64,
                have: d.len() as u64,
            });
        }
        let Some(order) = d.get(8..12).and_then(bom_order) else {
            return Err(CaptureError::BadHeader {
                format: "pcapng",
                reason: "the section header's byte-order magic is not 0x1a2b3c4d in either order"
                    .into(),
            });
        };
        let len = order.u32_at(d, 4).unwrap_or(0);
        if (len as usize) < SHB_MIN || len % 4 != 0 {
            return Err(CaptureError::BadHeader {
                format: "pcapng",
                reason: format!("the section header claims an impossible length of {len} bytes"),
            });
        }
        if len as usize > MAX_BLOCK_BYTES {
            return Err(CaptureError::BlockTooLarge {
                size: u64::from(len),
                limit: MAX_BLOCK_BYTES,
            });
        }
        let got = self
            .window
            .fill(&mut self.source, len as usize)
            .map_err(|e| self.header_io_error(e))?;
        let d = self.window.data();
        if !got {
            return Err(CaptureError::TruncatedHeader {
                format: "pcapng",
                need: u64::from(len),
                have: d.len() as u64,
            });
        }
        let (major, minor) = match d.get(..len as usize).map(parse_sectionheaderblock) {
            Some(Ok((_, shb))) => (shb.major_version, shb.minor_version),
            _ => {
                return Err(CaptureError::BadHeader {
                    format: "pcapng",
                    reason: "the section header block is malformed".into(),
                });
            }
        };
        if major != 1 {
            return Err(CaptureError::UnsupportedVersion {
                format: "pcapng",
                major,
                minor,
            });
        }
        let desc = &mut self.description;
        desc.format = CaptureFormat::PcapNg;
        desc.byte_order = order;
        desc.version = (major, minor);
        self.state = State::PcapNg(NgState {
            order,
            interfaces: Vec::new(),
            last_ts: Timestamp::ZERO,
        });
        Ok(())
    }

    pub(super) fn pcapng_step(&mut self) -> Result<Step, CaptureError> {
        // Out of `self` while the window is filled (put back below unless the reading ends).
        let State::PcapNg(mut st) = std::mem::replace(&mut self.state, State::Done) else {
            return Ok(Step::End);
        };
        let mut want = 8;
        loop {
            let complete = match self.need(want) {
                Ok(complete) => complete,
                Err(e) => {
                    self.state = State::PcapNg(st);
                    return Err(e);
                }
            };
            let record = st.block(
                self.window.data(),
                !complete,
                &mut self.description,
                &mut self.embedded,
                self.frames.saturating_add(1),
            );
            match record {
                Record::Need(n) => want = n,
                Record::End => return Ok(Step::End),
                Record::Damaged(reason) => return Ok(self.truncate(reason)),
                Record::Skipped(len) => {
                    self.state = State::PcapNg(st);
                    self.window.consume(len);
                    return Ok(Step::Skipped);
                }
                Record::Frame(r) => {
                    self.state = State::PcapNg(st);
                    let at = self.window.start() + r.header;
                    self.window.consume(r.len);
                    return Ok(Step::Frame(FrameMeta { at, ..r.meta }));
                }
            }
        }
    }
}

impl NgState {
    /// Reads the block at the start of `data`, updating the section's state (and `desc`, the
    /// capture's description) as the blocks before it left them; `at_end` says that no bytes
    /// follow `data` (the input ended). The one reading of pcapng blocks, whether the capture is
    /// read front to back or in stretches: a damaged file ends at the same block with the same
    /// reason either way. Never asks for more than [`MAX_BLOCK_BYTES`]. A Decryption Secrets Block
    /// is read into `secrets` once whole (never when more bytes are asked for first), for the
    /// frames from `next_frame` (the number the next packet gets) on.
    pub(crate) fn block(
        &mut self,
        data: &[u8],
        at_end: bool,
        desc: &mut CaptureDescription,
        secrets: &mut Embedded,
        next_frame: u64,
    ) -> Record {
        let need = |n: usize, what: &dyn Fn(usize) -> String| {
            if data.len() >= n {
                None
            } else if at_end {
                Some(Record::Damaged(what(data.len())))
            } else {
                Some(Record::Need(n))
            }
        };
        if data.is_empty() && at_end {
            return Record::End;
        }
        if let Some(r) = need(8, &|have| {
            format!("the input ends inside a block header ({have} of 8 bytes)")
        }) {
            return r;
        }
        let btype = self.order.u32_at(data, 0).unwrap_or(0);
        let (order, min_len) = if btype == SHB {
            if let Some(r) = need(12, &|have| {
                format!("the input ends inside a section header ({have} of 12 bytes)")
            }) {
                return r;
            }
            match data.get(8..12).and_then(bom_order) {
                Some(o) => (o, SHB_MIN),
                None => {
                    return Record::Damaged(
                        "a section header has an unknown byte-order magic: the file is damaged from here"
                            .into(),
                    );
                }
            }
        } else {
            (self.order, 12)
        };
        let len = order.u32_at(data, 4).unwrap_or(0);
        let name = block_name(btype);
        if (len as usize) < min_len || len % 4 != 0 {
            return Record::Damaged(format!(
                "a {name} block claims an impossible length of {len} bytes: the file is damaged from here"
            ));
        }
        if len as usize > MAX_BLOCK_BYTES {
            return Record::Damaged(format!(
                "a {name} block claims {len} bytes, more than the {MAX_BLOCK_BYTES}-byte limit: the file is damaged from here"
            ));
        }
        let len = len as usize;
        if let Some(r) = need(len, &|have| {
            format!("the input ends inside a {name} block ({have} of {len} bytes)")
        }) {
            return r;
        }
        let block = data.get(..len).unwrap_or_default();
        let trailer = order.u32_at(block, len - 4).unwrap_or(0);
        if trailer as usize != len {
            return Record::Damaged(format!(
                "a {name} block's two length fields disagree ({len} and {trailer}): the file is damaged from here"
            ));
        }
        match btype {
            SHB => self.section(block, order, desc),
            IDB => self.interface(block, order, desc),
            EPB | SPB | PB => self.packet(btype, block, order),
            DSB => decryption_secrets(block, order, secrets, next_frame),
            // Unknown, statistics, name resolution, custom...: not packets.
            _ => Record::Skipped(len),
        }
    }

    fn section(&mut self, block: &[u8], order: ByteOrder, desc: &mut CaptureDescription) -> Record {
        let version = match parse_sectionheaderblock(block) {
            Ok((_, shb)) => (shb.major_version, shb.minor_version),
            Err(_) => {
                return Record::Damaged(
                    "a section header block is malformed: the file is damaged from here".into(),
                );
            }
        };
        if version.0 != 1 {
            return Record::Damaged(format!(
                "a section has unsupported pcapng version {}.{}",
                version.0, version.1
            ));
        }
        desc.sections = desc.sections.saturating_add(1);
        if order != desc.byte_order {
            desc.mixed_byte_order = true;
        }
        self.order = order;
        self.interfaces.clear();
        Record::Skipped(block.len())
    }

    fn interface(
        &mut self,
        block: &[u8],
        order: ByteOrder,
        desc: &mut CaptureDescription,
    ) -> Record {
        let parsed = match order {
            ByteOrder::Little => parse_interfacedescriptionblock_le(block),
            ByteOrder::Big => parse_interfacedescriptionblock_be(block),
        };
        let Ok((_, idb)) = parsed else {
            return Record::Damaged(
                "an interface description block is malformed: the file is damaged from here".into(),
            );
        };
        let offset_secs = idb
            .options
            .iter()
            .find(|o| o.code == OptionCode::IfTsoffset)
            .and_then(|o| o.value().get(..8))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, |b| match order {
                ByteOrder::Little => i64::from_le_bytes(b),
                ByteOrder::Big => i64::from_be_bytes(b),
            });
        let tsresol = idb.if_tsresol;
        let link_type = LinkType(u32::from(idb.linktype.0 as u16));
        let snaplen = idb.snaplen;
        let Some(units_per_sec) = ts_units(tsresol) else {
            return Record::Damaged(format!(
                "an interface has an unusable timestamp resolution (if_tsresol 0x{tsresol:02x})"
            ));
        };
        if self.interfaces.len() >= MAX_INTERFACES_PER_SECTION {
            return Record::Damaged(format!(
                "a section describes more than {MAX_INTERFACES_PER_SECTION} interfaces"
            ));
        }
        let section = desc.sections.saturating_sub(1);
        let global_id = desc.push_interface(InterfaceInfo {
            id: 0,
            section,
            link_type,
            snaplen,
            ts_units_per_sec: units_per_sec,
            ts_offset_secs: offset_secs,
        });
        self.interfaces.push(NgInterface {
            link_type,
            snaplen,
            units_per_sec,
            offset_secs,
            global_id,
        });
        Record::Skipped(block.len())
    }

    fn packet(&mut self, btype: u32, block: &[u8], order: ByteOrder) -> Record {
        let len = block.len();
        let field = |off| order.u32_at(block, off).unwrap_or(0);
        // (interface, raw timestamp or None, caplen, orig_len, data offset in the block)
        let (if_id, raw_ts, caplen, orig_len, data_off) = match btype {
            EPB | PB => {
                if len < 32 {
                    return Record::Damaged(format!(
                        "a {} block is too short ({len} bytes): the file is damaged from here",
                        block_name(btype)
                    ));
                }
                let if_id = if btype == EPB {
                    field(8)
                } else {
                    u32::from(order.u16_at(block, 8).unwrap_or(0))
                };
                let raw = (u64::from(field(12)) << 32) | u64::from(field(16));
                (if_id, Some(raw), field(20), field(24), 28)
            }
            _ => {
                // SPB (§4.4): interface 0, no timestamp; caplen = min(orig len, snaplen, room).
                let orig = field(8);
                let room = u32::try_from(len - 16).unwrap_or(u32::MAX);
                let snap = self.interfaces.first().map_or(0, |i| i.snaplen);
                let cap = if snap == 0 {
                    orig.min(room)
                } else {
                    orig.min(room).min(snap)
                };
                (0, None, cap, orig, 12)
            }
        };
        let Some(iface) = self.interfaces.get(if_id as usize) else {
            let n = self.interfaces.len();
            return Record::Damaged(format!(
                "a {} block refers to interface {if_id}, but its section describes {n}: the file is damaged from here",
                block_name(btype)
            ));
        };
        if caplen as usize > len - data_off - 4 {
            return Record::Damaged(format!(
                "a {} block claims {caplen} captured bytes, more than it holds: the file is damaged from here",
                block_name(btype)
            ));
        }
        let ts = match raw_ts {
            Some(raw) => ng_timestamp(raw, iface.units_per_sec, iface.offset_secs),
            None => self.last_ts,
        };
        let meta = FrameMeta {
            at: 0,
            len: caplen as usize,
            ts,
            link_type: iface.link_type,
            interface: iface.global_id,
            orig_len,
        };
        self.last_ts = ts;
        Record::Frame(RecordFrame {
            header: data_off,
            len,
            meta,
        })
    }
}

/// A Decryption Secrets Block (§4.7): secrets type, secrets length, the secrets (padded to 4
/// bytes), options. The secrets must fit between the fixed fields and the trailing length; a
/// block claiming more is damage, as a packet block claiming more captured bytes than it holds.
fn decryption_secrets(
    block: &[u8],
    order: ByteOrder,
    found: &mut Embedded,
    next_frame: u64,
) -> Record {
    let len = block.len();
    if len < DSB_MIN {
        return Record::Damaged(format!(
            "a decryption secrets block is too short ({len} bytes): the file is damaged from here"
        ));
    }
    let secrets_type = order.u32_at(block, 8).unwrap_or(0);
    let secrets_len = order.u32_at(block, 12).unwrap_or(0) as usize;
    let Some(secrets) = block
        .get(16..)
        .and_then(|rest| rest.get(..secrets_len))
        .filter(|_| secrets_len <= len - DSB_MIN)
    else {
        return Record::Damaged(format!(
            "a decryption secrets block claims {secrets_len} bytes of secrets, more than it holds: the file is damaged from here"
        ));
    };
    found.add(secrets_type, secrets, next_frame);
    Record::Skipped(len)
}
