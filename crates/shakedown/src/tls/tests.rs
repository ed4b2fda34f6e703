//! Scenario tests of the TLS layer over real handshakes (fixtures recorded by `testdata/gen.py`) and
//! hand-built records.

use super::*;
use crate::Side;

/// Chunks of a fixture: (sender, bytes) in capture order.
fn fixture(text: &str) -> Vec<(Side, Vec<u8>)> {
    text.lines()
        .filter_map(|l| {
            let (d, hex) = l.split_once(' ')?;
            let side = if d == "C" { Side::Client } else { Side::Server };
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16).unwrap())
                .collect();
            Some((side, bytes))
        })
        .collect()
}

const TLS12_RSA: &str = include_str!("testdata/tls12_rsa.txt");
const TLS12_UNKNOWN_CA: &str = include_str!("testdata/tls12_unknown_ca.txt");
const TLS13_HRR_EC: &str = include_str!("testdata/tls13_hrr_ec.txt");
const TLS13_ED25519: &str = include_str!("testdata/tls13_ed25519.txt");

fn run(chunks: &[(Side, Vec<u8>)]) -> (Vec<(Side, TlsEvent)>, TlsConnection) {
    let mut conn = TlsConnection::new(1 << 16);
    let mut all = Vec::new();
    for (side, bytes) in chunks {
        let mut out = Vec::new();
        conn.feed(*side, bytes, &mut out);
        all.extend(out.into_iter().map(|e| (*side, e)));
    }
    (all, conn)
}

#[test]
fn dump() {
    for f in [TLS12_RSA, TLS12_UNKNOWN_CA, TLS13_HRR_EC, TLS13_ED25519] {
        let (ev, _) = run(&fixture(f));
        for e in ev {
            println!("{e:?}");
        }
        println!("----");
    }
}
