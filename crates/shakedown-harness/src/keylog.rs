//! Arbitrary bytes as NSS key log text: parsed whole, and again in two texts split at a line end,
//! and checked against a plain model of the format (each line three fields; a kept label, 64 hex
//! digits, a secret of a length the label allows; the later line wins).
//!
//! Checks: every line is counted exactly once; the kept entries are the new secret lines; the
//! listed malformed lines are the first ones, in order; every secret the model keeps is found with
//! its bytes, and nothing else is; splitting the text changes nothing but line numbers; `Debug`
//! shows no secret.

use std::collections::HashMap;

use shakedown::decrypt::{KeyLog, Label, MAX_LISTED_MALFORMED};

/// Runs the target on `data`; returns the secrets kept.
pub fn run(data: &[u8]) -> usize {
    let log = KeyLog::from_bytes(data);
    let c = log.counts();
    assert_eq!(
        c.lines,
        c.skipped + c.secrets + c.ignored + c.malformed,
        "every line is one kind: {c:?}"
    );
    assert_eq!(c.dropped, 0, "a fuzz input is far below the cap");
    assert_eq!(log.entries() as u64, c.secrets - c.replaced - c.dropped);
    assert_eq!(log.is_empty(), log.entries() == 0);
    let listed = log.malformed_lines();
    assert_eq!(
        listed.len() as u64,
        c.malformed.min(MAX_LISTED_MALFORMED as u64)
    );
    assert!(listed.windows(2).all(|w| w[0].line < w[1].line));
    assert!(
        listed
            .iter()
            .all(|m| m.source == 0 && m.line >= 1 && m.line <= c.lines)
    );

    let model = model(data);
    assert_eq!(
        log.entries(),
        model.len(),
        "the model keeps what the log keeps"
    );
    for ((random, label), secret) in &model {
        let found = log.secret(random, *label).map(|s| s.as_bytes());
        assert_eq!(found, Some(&secret[..]), "{label}");
        let all = log.secrets(random).expect("a random with a secret");
        assert_eq!(all.by_label(*label).map(|s| s.as_bytes()), found);
    }

    // The same text as two (a key log concatenated from two files): the same secrets and counts.
    let cut = data
        .iter()
        .take(data.len() / 2)
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let (first, second) = data.split_at(cut);
    let mut two = KeyLog::new();
    two.add(first);
    two.add(second);
    assert_eq!(two.texts(), 2);
    // A byte-order mark is skipped at the start of a text only: a cut just before one changes
    // that line.
    if !second.starts_with(BOM) {
        assert_eq!(two.counts(), c, "split at {cut}");
        assert_eq!(two.entries(), log.entries());
        for ((random, label), secret) in &model {
            assert_eq!(
                two.secret(random, *label).map(|s| s.as_bytes()),
                Some(&secret[..])
            );
        }
    }

    let shown = format!("{log:?} {two:?}");
    for secret in model.values() {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&hex), "Debug shows a secret");
    }
    log.entries()
}

/// A UTF-8 byte-order mark, which a text may start with.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The secrets a key log keeps, by the plainest reading of the format.
fn model(data: &[u8]) -> HashMap<([u8; 32], Label), Vec<u8>> {
    let mut kept = HashMap::new();
    let data = data.strip_prefix(BOM).unwrap_or(data);
    for line in data.split(|&b| b == b'\n') {
        let fields: Vec<&[u8]> = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        let [label, random, secret] = fields[..] else {
            continue;
        };
        let Some(label) = std::str::from_utf8(label).ok().and_then(Label::from_name) else {
            continue;
        };
        let (Some(random), Some(secret)) = (unhex(random), unhex(secret)) else {
            continue;
        };
        let Ok(random) = <[u8; 32]>::try_from(random) else {
            continue;
        };
        if label.accepts_len(secret.len()) {
            kept.insert((random, label), secret);
        }
    }
    kept
}

fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    // Checked first: `from_str_radix` would take a sign (`+f`).
    if !hex.len().is_multiple_of(2) || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let text = std::str::from_utf8(hex).ok()?;
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    /// Inputs where a careless model or implementation would part ways.
    #[test]
    fn edge_inputs() {
        let r = "ab".repeat(32);
        let m = "cd".repeat(48);
        let inputs = [
            String::new(),
            "\n\n#\r\n".into(),
            format!("\u{feff}CLIENT_RANDOM {r} {m}\n"),
            format!("CLIENT_RANDOM {r} {m}\n\u{feff}CLIENT_RANDOM {r} {m}\n"),
            format!("CLIENT_RANDOM {r} +{}\n", &m[1..]),
            format!(
                "CLIENT_RANDOM {r} {m}\r\nCLIENT_RANDOM {r} {}\r\n",
                "EF".repeat(48)
            ),
            format!(
                "SERVER_TRAFFIC_SECRET_0 {r} {}\tjunk\nEXPORTER_SECRET x",
                "01".repeat(32)
            ),
        ];
        let kept: Vec<usize> = inputs.iter().map(|i| super::run(i.as_bytes())).collect();
        assert_eq!(kept, [0, 0, 1, 1, 0, 1, 0]);
    }

    /// Without cargo-fuzz: texts made of key log pieces (labels, hex of every interesting length,
    /// separators, a mark, comments), a deterministic generator, the same checks.
    #[test]
    fn generated_texts_pass_the_checks() {
        let whole_line = format!("\nCLIENT_RANDOM {} {}\n", "3".repeat(64), "4".repeat(96));
        let traffic_line = format!(
            "SERVER_TRAFFIC_SECRET_0 {} {}",
            "3".repeat(64),
            "5".repeat(64)
        );
        let pieces: [&[u8]; 18] = [
            whole_line.as_bytes(),
            traffic_line.as_bytes(),
            b"CLIENT_RANDOM",
            b"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            b"SERVER_TRAFFIC_SECRET_0",
            b"EXPORTER_SECRET",
            b" ",
            b"\t",
            b"\n",
            b"\r\n",
            b"#",
            b"\xef\xbb\xbf",
            b"zz",
            b"+f",
            &[b'a'; 64],
            &[b'B'; 96],
            &[b'3'; 64],
            &[b'c'; 63],
        ];
        let mut x: u32 = 0x2545_f491;
        let mut kept = 0;
        for _ in 0..3000 {
            let mut text = Vec::new();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            for _ in 0..(x >> 27) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                text.extend_from_slice(pieces[(x >> 16) as usize % pieces.len()]);
            }
            kept += super::run(&text);
        }
        assert!(kept > 0, "some texts keep secrets");
    }
}
