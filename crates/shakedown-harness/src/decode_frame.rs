//! Arbitrary bytes as frames of one link type through `Decoder::decode`.
//!
//! Input: byte 0 picks the link type (from the types shakedown supports, plus one unknown); then
//! frames, each `[ts step: u8][len: u16 LE][len bytes]` (the last one takes what is left). Several
//! frames share one decoder so IP fragment reassembly (and its caps and timeout) is exercised.

use shakedown::capture::Frame;
use shakedown::decode::{Decoded, Decoder};
use shakedown::{Config, Timestamp};

/// Runs the target on `data`; returns the TCP segments decoded.
pub fn run(data: &[u8]) -> usize {
    let Some((&pick, mut rest)) = data.split_first() else {
        return 0;
    };
    let link_type = crate::LINK_TYPES[usize::from(pick) % crate::LINK_TYPES.len()];
    // Small caps so the fragment limits are reachable from small inputs.
    let config = Config {
        max_fragment_sets: 4,
        max_fragment_bytes: 1 << 16,
        fragment_timeout_ns: 1_000_000_000,
        ..Config::default()
    };
    let mut decoder = Decoder::new(&config);
    let mut ts = 0i64;
    let mut index = 0u64;
    let mut tcp = 0usize;
    while !rest.is_empty() {
        let (step, len, body) = match rest {
            [step, a, b, body @ ..] => (*step, usize::from(u16::from_le_bytes([*a, *b])), body),
            _ => (0, rest.len(), rest),
        };
        let len = len.min(body.len());
        let (frame_bytes, tail) = body.split_at(len);
        rest = if len == 0 && body.len() == rest.len() {
            &[]
        } else {
            tail
        };
        // Steps of 0..=255 tenths of a second: some frames cross the fragment timeout.
        ts += i64::from(step) * 100_000_000;
        index += 1;
        let frame = Frame {
            index,
            ts: Timestamp(ts),
            link_type,
            interface: 0,
            data: frame_bytes,
            orig_len: u32::try_from(frame_bytes.len()).unwrap_or(u32::MAX),
        };
        match decoder.decode(&frame) {
            Decoded::Tcp(seg) => {
                tcp += 1;
                let _ = (seg.is_cut(), seg.seq_len(), seg.flags.syn());
                assert!(
                    seg.payload.len() as u64
                        <= u64::from(seg.wire_payload_len).max(seg.payload.len() as u64)
                );
                std::hint::black_box(seg.payload);
            }
            Decoded::Skipped(skip) => {
                let _ = (skip.kind(), skip.is_anomaly(), format!("{skip:?}"));
            }
        }
        assert!(decoder.fragments_pending() <= config.max_fragment_sets);
        assert!(decoder.fragment_bytes() <= config.max_fragment_bytes);
    }
    let _ = decoder.fragments_expired();
    tcp
}
