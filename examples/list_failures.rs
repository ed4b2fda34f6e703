//! Lists the failed handshakes of a capture, one line each, with the cause and who hung up.
//!
//! ```sh
//! cargo run -p shakedown-examples --example list_failures -- tests/fixtures/rdp/seed-handshake-failure.pcap
//! ```

use std::ops::ControlFlow;
use std::path::PathBuf;

use shakedown::{Config, Sink, Verdict};

/// Prints failures as they are judged, without keeping them.
struct PrintFailures(usize);

impl Sink for PrintFailures {
    fn verdict(&mut self, v: Verdict) -> ControlFlow<()> {
        if v.is_failure() {
            self.0 += 1;
            let closer = v
                .closed_by
                .map(|(side, kind)| format!("{side} {}", kind.as_str()))
                .unwrap_or_else(|| "nobody".into());
            println!(
                "#{} {} -> {}  {}  closed by {closer}: {}",
                v.conn, v.client, v.server, v.cause.code, v.cause.explanation
            );
        }
        ControlFlow::Continue(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: list_failures CAPTURE")?
        .into();
    let mut reader = shakedown::capture::open(&path)?;
    let mut sink = PrintFailures(0);
    let summary = shakedown::analyze(&mut reader, &Config::default(), &mut sink)?;
    println!(
        "{} failures among {} connections",
        sink.0, summary.connections
    );
    Ok(())
}
