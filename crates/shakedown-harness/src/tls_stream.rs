//! Arbitrary bytes as the two directions of a TLS connection.
//!
//! Input: byte 0 picks the handshake-message cap; then ops. An op byte `c`:
//! `c >= 0xf0`: a gap of `missing` bytes on side `c & 1` (`missing` = next u16 LE, or, with bit 1 set,
//! next u32 LE shifted left by 16 — huge gaps); otherwise a chunk for side `c & 1` of length next u16 LE
//! (clamped to what is left).

use shakedown::Side;
use shakedown::tls::{TlsConnection, TlsEvent};

const CAPS: [usize; 4] = [1 << 20, 16 << 10, 1024, 64];

fn side(c: u8) -> Side {
    if c & 1 == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

/// Runs the target on `data`; returns every event produced, in order.
pub fn run(data: &[u8]) -> Vec<TlsEvent> {
    let Some((&cap, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    let mut conn = TlsConnection::new(CAPS[usize::from(cap) % CAPS.len()]);
    let mut out: Vec<TlsEvent> = Vec::new();
    let mut events = 0usize;
    let mut all: Vec<TlsEvent> = Vec::new();
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        if c >= 0xf0 {
            let missing = if c & 2 == 0 {
                let (n, t) = take_u16(rest);
                rest = t;
                u64::from(n)
            } else {
                let (n, t) = take_u32(rest);
                rest = t;
                u64::from(n) << 16
            };
            conn.gap(side(c), missing, &mut out);
        } else {
            let (n, t) = take_u16(rest);
            let n = usize::from(n).min(t.len());
            let (chunk, t) = t.split_at(n);
            rest = t;
            conn.feed(side(c), chunk, &mut out);
        }
        // Events are bounded by the bytes fed: a runaway producer is a bug.
        events += out.len();
        assert!(
            events <= 4 * data.len() + 64,
            "{events} events from {} bytes",
            data.len()
        );
        for e in out.drain(..) {
            std::hint::black_box(format!("{e:?}"));
            all.push(e);
        }
    }
    let _ = (
        conn.version(),
        conn.is_protected(Side::Client),
        conn.is_stopped(Side::Server),
    );
    assert!(conn.bytes_fed(Side::Client) + conn.bytes_fed(Side::Server) <= data.len() as u64);
    all
}

fn take_u16(b: &[u8]) -> (u16, &[u8]) {
    match b {
        [x, y, t @ ..] => (u16::from_le_bytes([*x, *y]), t),
        [x] => (u16::from(*x), &[]),
        [] => (0, &[]),
    }
}

fn take_u32(b: &[u8]) -> (u32, &[u8]) {
    match b {
        [a, b2, c, d, t @ ..] => (u32::from_le_bytes([*a, *b2, *c, *d]), t),
        _ => (0, &[]),
    }
}
