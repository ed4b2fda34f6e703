//! Builds a custom summary from protocol events: which TLS versions clients offered at most, and which
//! alerts each side sent, using the sans-IO `Dissector` directly.
//!
//! ```sh
//! cargo run -p shakedown-examples --example custom_summary -- tests/fixtures/tls/no-shared-cipher.pcap
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use shakedown::tls::TlsEvent;
use shakedown::{Config, Dissector, Event, ProtocolEventKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: custom_summary CAPTURE")?
        .into();
    let mut reader = shakedown::capture::open(&path)?;
    let mut dissector = Dissector::new(Config {
        protocol_events: true,
        ..Config::default()
    });
    let mut offered: BTreeMap<String, u64> = BTreeMap::new();
    let mut alerts: BTreeMap<String, u64> = BTreeMap::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut tally = |event: Event| match event {
        Event::Protocol(p) => match p.kind {
            ProtocolEventKind::Tls(TlsEvent::ClientHello(ch)) => {
                *offered.entry(ch.highest_version().to_string()).or_default() += 1;
            }
            ProtocolEventKind::Tls(TlsEvent::Alert(a)) => {
                let what = a
                    .description
                    .map_or_else(|| "encrypted".to_string(), |d| d.to_string());
                *alerts.entry(format!("{} sent {what}", p.from)).or_default() += 1;
            }
            _ => {}
        },
        Event::Verdict(v) => *outcomes.entry(v.outcome.as_str()).or_default() += 1,
        _ => {}
    };
    while let Some(frame) = reader.next_frame()? {
        dissector.handle_frame(&frame);
        while let Some(e) = dissector.poll_event() {
            tally(e);
        }
    }
    dissector.finish();
    while let Some(e) = dissector.poll_event() {
        tally(e);
    }
    println!("highest version offered by clients: {offered:?}");
    println!("alerts: {alerts:?}");
    println!("outcomes: {outcomes:?}");
    Ok(())
}
