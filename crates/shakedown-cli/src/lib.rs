//! The command-line front end of shakedown: flags, running the engine over each capture, and the
//! text and JSON Lines renderers. The binary `shakedown` only calls [`run`].
//!
//! Exit status (like `diff`): 0 when no failed handshake was found, 1 when at least one was, 2 when
//! an input could not be read (the other inputs are still analysed).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod html;
mod summary;
mod text;

use std::ffi::OsString;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use clap::Parser;
use shakedown::{Config, Sink, Verdict};

/// Why each TLS handshake in a packet capture died: who hung up, with what, when, and why.
#[derive(Debug, Parser)]
#[command(name = "shakedown", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Args {
    /// Capture files (pcap or pcapng, optionally gzip- or zstd-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Write one JSON object per connection (JSON Lines, see SCHEMA.md) instead of the report.
    #[arg(long)]
    pub json: bool,
    /// After each capture's records, write one JSON summary record (`"record": "summary"`: frames,
    /// what was skipped by kind, caps hit, truncation). Implies `--json`.
    #[arg(long)]
    pub summary_json: bool,
    /// Show every connection in detail, completed ones too (the default details only the others).
    #[arg(long)]
    pub all: bool,
    /// Leave out the per-connection table and the summary footer of the text report.
    #[arg(long, short)]
    pub quiet: bool,
    /// Live connections tracked at once; the longest idle is evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_connections)]
    pub max_connections: usize,
    /// Seconds of capture time after which a quiet connection is judged.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle_timeout: u64,
}

const EXAMPLES: &str = "Examples:
  shakedown capture.pcapng                 failures first, each with a timeline, cause and hints
  shakedown --all rdp.pcap.gz              every connection in detail
  shakedown --json *.pcap | jq .cause      JSON Lines, one record per connection
  tcpdump -w - port 3389 | shakedown -     read standard input

Exit status: 0 no failure found, 1 failures found, 2 an input could not be read.";

/// The outcome of a run, as an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No failed handshake was found.
    NoFailure,
    /// At least one failed handshake was found.
    Failures,
    /// An input could not be read, or the arguments were wrong.
    Error,
}

impl Status {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Status::NoFailure => 0,
            Status::Failures => 1,
            Status::Error => 2,
        }
    }
}

/// Runs shakedown with command-line `args` (the first is the program name), writing the report to
/// `out` and problems to `err`.
///
/// The first argument may name a subcommand; without one, the captures are analysed and reported.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> Status
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Subcommands: `shakedown NAME ...` runs the module of that name with the remaining arguments.
    match args.get(1).and_then(|a| a.to_str()) {
        Some("report") => html::run(args, out, err),
        Some("summary") => summary::run(args, out, err),
        _ => analyze_command(args, out, err),
    }
}

/// `shakedown [OPTIONS] CAPTURE...`: the report (or JSON Lines) of every connection.
fn analyze_command(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = write!(err, "{}", e.render());
            return if e.use_stderr() {
                Status::Error
            } else {
                Status::NoFailure
            };
        }
    };
    let config = Config {
        max_connections: args.max_connections,
        idle_timeout_ns: i64::try_from(args.idle_timeout.saturating_mul(1_000_000_000))
            .unwrap_or(i64::MAX),
        ..Config::default()
    };
    let mut failures = false;
    let mut errors = false;
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    for path in &args.captures {
        let name = path.display().to_string();
        let mut reader = match shakedown::capture::open(path) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "shakedown: {name}: {e}");
                errors = true;
                continue;
            }
        };
        let mut sink = Collect::new(&args, &name, &mut out);
        let result = shakedown::analyze(&mut reader, &config, &mut sink);
        failures |= sink.failures;
        let broken_pipe = sink.broken_pipe;
        let mut collected = std::mem::take(&mut sink.collected);
        drop(sink);
        if broken_pipe {
            return if failures {
                Status::Failures
            } else {
                Status::NoFailure
            };
        }
        let summary = match result {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "shakedown: {name}: {e}");
                errors = true;
                continue;
            }
        };
        if let Some(t) = &summary.truncation {
            let _ = writeln!(
                err,
                "shakedown: {name}: warning: the capture is cut short ({}) at byte {} after {} frames; connections still open there are marked incomplete",
                t.reason, t.byte_offset, t.frames_read
            );
        }
        if args.json || args.summary_json {
            if args.summary_json {
                let line = shakedown::json::summary_record(&summary, &name).to_string();
                if let Err(e) = writeln!(out, "{line}") {
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return if failures {
                            Status::Failures
                        } else {
                            Status::NoFailure
                        };
                    }
                    let _ = writeln!(err, "shakedown: writing the output: {e}");
                    return Status::Error;
                }
            }
        } else {
            let written = text::report(&mut out, &name, &mut collected, &summary, &args);
            if is_broken_pipe(&written) {
                return if failures {
                    Status::Failures
                } else {
                    Status::NoFailure
                };
            }
        }
    }
    if let Err(e) = out.flush() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return if failures {
                Status::Failures
            } else {
                Status::NoFailure
            };
        }
        let _ = writeln!(err, "shakedown: writing the output: {e}");
        return Status::Error;
    }
    if errors {
        Status::Error
    } else if failures {
        Status::Failures
    } else {
        Status::NoFailure
    }
}

fn is_broken_pipe(r: &io::Result<()>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::BrokenPipe)
}

/// Streams JSON lines as verdicts arrive; keeps verdicts for the text report.
struct Collect<'a, W: Write> {
    json: bool,
    capture: &'a str,
    out: &'a mut W,
    all: bool,
    collected: text::Collected,
    failures: bool,
    broken_pipe: bool,
}

impl<'a, W: Write> Collect<'a, W> {
    fn new(args: &Args, capture: &'a str, out: &'a mut W) -> Self {
        Collect {
            json: args.json || args.summary_json,
            capture,
            out,
            all: args.all,
            collected: text::Collected::default(),
            failures: false,
            broken_pipe: false,
        }
    }
}

impl<W: Write> Sink for Collect<'_, W> {
    fn verdict(&mut self, verdict: Verdict) -> ControlFlow<()> {
        self.failures |= verdict.is_failure();
        if self.json {
            let line = shakedown::json::line(&verdict, self.capture);
            if let Err(e) = writeln!(self.out, "{line}") {
                self.broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
                return ControlFlow::Break(());
            }
        } else {
            self.collected.add(verdict, self.all);
        }
        ControlFlow::Continue(())
    }
}
