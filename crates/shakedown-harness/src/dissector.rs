//! The whole engine: frames built from the input fed to a `Dissector`, then `finish()`, draining
//! every event (verdicts rendered as JSON lines).
//!
//! Input (a small structured generator, so the fuzzer reaches TLS/RDP inside real TCP flows):
//! - byte 0: config bits: 0 protocol events; 1-2 max_connections (∞, 2, 8, 64); 3 tiny buffers;
//!   4 short idle timeout.
//! - 4 connection slots, each `[client port u16 LE][server port u16 LE]`.
//! - ops, each starting with a byte `c`:
//!   - `c >= 0xe0`: a raw frame of link type `c & 0x0f` (from the supported list),
//!     `[len u16 LE][bytes]`;
//!   - else an Ethernet/IPv4/TCP frame of slot `c & 3`, from the server if bit 2, sequence number
//!     by bits 3-4 (0: next in order, 1: next + i8 delta, 2: absolute u32, 3: next, ack 0), then
//!     `[flags][time step][len u16 LE][payload]`.

use shakedown::capture::{Frame, LinkType};
use shakedown::{Config, Dissector, Event, Timestamp};

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8().unwrap_or(0), self.u8().unwrap_or(0)])
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

struct Slot {
    ports: [u16; 2],
    next: [u32; 2],
}

/// An Ethernet/IPv4/TCP frame (the fields a TCP segment needs, spelled out).
#[allow(clippy::too_many_arguments)]
fn tcp_frame(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    id: u16,
) -> Vec<u8> {
    let payload = &payload[..payload.len().min(65535 - 40)];
    let mut f = Vec::with_capacity(54 + payload.len());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let total = (40 + payload.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6] = 0x40; // DF
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src);
    ip[16..20].copy_from_slice(&dst);
    let mut sum = 0u32;
    for w in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Runs the target on `data`; returns the verdicts given.
pub fn run(data: &[u8]) -> u64 {
    let mut input = Input(data);
    let bits = input.u8().unwrap_or(0);
    let mut config = Config {
        protocol_events: bits & 1 != 0,
        max_connections: [1_000_000, 2, 8, 64][usize::from((bits >> 1) & 3)],
        ..Config::default()
    };
    if bits & 8 != 0 {
        config.max_stream_buffer = 4096;
        config.max_total_buffer = 16384;
        config.max_handshake_message = 512;
        config.max_timeline = 4;
    }
    if bits & 16 != 0 {
        config.idle_timeout_ns = 1_000_000_000;
    }
    let mut slots: Vec<Slot> = (0..4u32)
        .map(|i| Slot {
            ports: [input.u16(), input.u16()],
            next: [1000 + i * 7919, 500_000 + i * 104_729],
        })
        .collect();
    let mut dissector = Dissector::new(config);
    let mut ts = 1_600_000_000_000_000_000i64;
    let mut index = 0u64;
    let mut id = 0u16;
    let mut verdicts = 0u64;
    let drain = |d: &mut Dissector, verdicts: &mut u64| {
        while let Some(ev) = d.poll_event() {
            match ev {
                Event::Verdict(v) => {
                    *verdicts += 1;
                    std::hint::black_box(shakedown::json::line(&v, "fuzz"));
                }
                other => {
                    std::hint::black_box(format!("{other:?}"));
                }
            }
        }
    };
    while let Some(c) = input.u8() {
        index += 1;
        id = id.wrapping_add(1);
        let (link_type, bytes) = if c >= 0xe0 {
            let n = usize::from(input.u16());
            (
                crate::LINK_TYPES[usize::from(c & 0x0f)],
                input.bytes(n).to_vec(),
            )
        } else {
            let slot = &mut slots[usize::from(c & 3)];
            let dir = usize::from((c >> 2) & 1);
            let mode = (c >> 3) & 3;
            let seq = match mode {
                1 => slot.next[dir].wrapping_add(input.u8().unwrap_or(0) as i8 as u32),
                2 => input.u32(),
                _ => slot.next[dir],
            };
            let ack = if mode == 3 { 0 } else { slot.next[1 - dir] };
            let flags = input.u8().unwrap_or(0x18);
            let step = input.u8().unwrap_or(1);
            ts += if step == 0xff {
                3_600_000_000_000
            } else {
                i64::from(step) * 10_000_000
            };
            let n = usize::from(input.u16());
            let payload = input.bytes(n);
            let i = c & 3;
            let client = [192, 0, 2, 1 + i];
            let server = [198, 51, 100, 1];
            let frame = if dir == 0 {
                tcp_frame(
                    client,
                    server,
                    slot.ports[0],
                    slot.ports[1],
                    seq,
                    ack,
                    flags,
                    payload,
                    id,
                )
            } else {
                tcp_frame(
                    server,
                    client,
                    slot.ports[1],
                    slot.ports[0],
                    seq,
                    ack,
                    flags,
                    payload,
                    id,
                )
            };
            let used = payload.len().min(65535 - 40) as u32 + u32::from(flags & 0x03 != 0);
            slot.next[dir] = seq.wrapping_add(used);
            (LinkType::ETHERNET, frame)
        };
        let frame = Frame {
            index,
            ts: Timestamp(ts),
            link_type,
            interface: 0,
            data: &bytes,
            orig_len: bytes.len() as u32,
        };
        dissector.handle_frame(&frame);
        drain(&mut dissector, &mut verdicts);
    }
    dissector.finish();
    drain(&mut dissector, &mut verdicts);
    let summary = dissector.summary();
    assert_eq!(summary.frames, index);
    assert!(
        verdicts <= summary.connections,
        "{verdicts} verdicts for {} connections",
        summary.connections
    );
    // Everything was concluded: no more events after the end.
    assert!(dissector.poll_event().is_none());
    verdicts
}
