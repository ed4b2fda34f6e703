//! Lists the failed handshakes of a capture, one line each, with the cause and who hung up.
//!
//! ```sh
//! cargo run -p shakedown-examples --example list_failures -- tests/fixtures/rdp/seed-handshake-failure.pcap
//! ```

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use shakedown::{AnalyzeError, Config, Sink, Verdict};

/// Writes failures as they are judged, without keeping them; a write error stops the analysis and
/// comes back from `analyze` as `AnalyzeError::Sink`.
struct PrintFailures<W: Write> {
    out: W,
    failures: usize,
}

impl<W: Write> Sink for PrintFailures<W> {
    type Error = io::Error;

    fn verdict(&mut self, v: Verdict) -> io::Result<ControlFlow<()>> {
        if v.is_failure() {
            self.failures += 1;
            let closer = v
                .closed_by
                .map(|(side, kind)| format!("{side} {kind}"))
                .unwrap_or_else(|| "nobody".into());
            writeln!(
                self.out,
                "#{} {} -> {}  {}  closed by {closer}: {}",
                v.conn, v.client, v.server, v.cause.code, v.cause.explanation
            )?;
        }
        Ok(ControlFlow::Continue(()))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: list_failures CAPTURE")?
        .into();
    let mut reader = shakedown::capture::open(&path)?;
    let mut sink = PrintFailures {
        out: io::stdout().lock(),
        failures: 0,
    };
    let summary = match shakedown::analyze(&mut reader, &Config::default(), &mut sink) {
        Ok(summary) => summary,
        // Whoever read the output went away: nothing more to say.
        Err(AnalyzeError::Sink(e)) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    writeln!(
        sink.out,
        "{} failures among {} connections",
        sink.failures, summary.connections
    )?;
    Ok(())
}
