//! The command-line front end of shakedown: flags, running the engine over each capture, and the
//! text and JSON Lines renderers. The binary `shakedown` only calls [`run`].
//!
//! Exit status (like `diff`): 0 when no failed handshake was found, 1 when at least one was, 2 when
//! an input could not be read (the other inputs are still analysed). Ctrl-C or SIGTERM while piped
//! input streams ends the reading with the same statuses, for what was read.
//!
//! Subcommands: `live` (capture from network interfaces, verdicts as they are decided; with the
//! default `live` feature), `extract` (the packets of selected connections into a pcapng file),
//! `completions` and `manpage` (generated from these clap definitions).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod color;
mod columns;
mod completions;
mod extract;
pub mod filter;
mod frame_owner;
mod html;
pub mod limits;
#[cfg(feature = "live")]
mod live;
pub mod output;
mod owned_frame;
mod parallel_json;
mod piped;
mod pool;
mod progress;
mod report;
pub mod save;
mod status;
mod stream;
mod summary;
mod text;
mod watch;

use std::ffi::OsString;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::Parser;
use shakedown::{Config, Sink, Verdict};

use color::Palette;
use columns::{Columns, ParquetFile};
use filter::Selection;
use limits::Limits;

/// Why each TLS handshake in a packet capture died: who hung up, with what, when, and why.
#[derive(Debug, Parser)]
#[command(name = "shakedown", version, after_help = EXAMPLES)]
pub struct Args {
    /// Capture files (pcap or pcapng, optionally gzip- or zstd-compressed); `-` reads standard input.
    /// Input that is not a regular file (`-` from a pipe, a named pipe) streams: see `--stream`.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Write one JSON object per connection (JSON Lines, see docs/SCHEMA.md) instead of the report.
    #[arg(long)]
    pub json: bool,
    /// After each capture's records, write one JSON summary record (`"record": "summary"`: frames,
    /// what was skipped by kind, caps hit, truncation). Implies `--json`.
    #[arg(long)]
    pub summary_json: bool,
    /// Write the connection records to a Parquet file (their JSON fields as columns, see
    /// docs/SCHEMA.md) instead of the report, as the captures are read; with `--json`, both.
    #[arg(long, value_name = "FILE")]
    pub parquet: Option<PathBuf>,
    /// Show every connection in detail, completed ones too (the default details only the others).
    #[arg(long)]
    pub all: bool,
    /// Colour, quiet and width of the text (shared with `shakedown live`).
    #[command(flatten)]
    pub output: output::OutputOptions,
    /// Threads (default: one per core): several captures are analysed side by side; a big one has
    /// its reading, decoding and connections shared among them (compressed input and standard
    /// input take one more thread, cutting the stream into stretches). The output is the same for
    /// every N (the connection caps are shared among the threads).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Write each verdict the moment its connection is judged (as decided) instead of in the order
    /// of first packets: JSON lines flushed one by one, or each failure's block then the summary
    /// line (no table). First-packet order is for files; as-decided is for captures still being
    /// written: `shakedown live` always, and input that is not a regular file (`-` from a pipe, a
    /// named pipe) by default, where the wall clock also tells the time while the input is idle.
    /// One thread.
    #[arg(long, conflicts_with = "no_stream")]
    pub stream: bool,
    /// Read piped input (`-` from a pipe, a named pipe) like a file: verdicts in first-packet
    /// order, the text report with its table at the end, on several threads. (`--parquet` does
    /// this by itself: its file is written from whole captures.)
    #[arg(long)]
    pub no_stream: bool,
    /// Seconds a closed connection (both FINs, or an RST) stays quiet before it is judged, so late
    /// retransmissions and ACKs still count (default 2 of capture time for files, 0.5 of wall
    /// time for piped input, as `shakedown live`: a verdict within a second of its last packet).
    #[arg(long, value_name = "SECS")]
    pub linger: Option<f64>,
    /// Keep only the failures: `--save-failures DIR` and its caps.
    #[command(flatten)]
    pub save: save::SaveOptions,
    // Last: the help heading of a flattened group goes on to the end of the list.
    /// Which connections the report shows and `--json` writes (default: all of them).
    #[command(flatten)]
    pub select: Selection,
    /// Memory caps and timeouts.
    #[command(flatten)]
    pub limits: Limits,
}

const EXAMPLES: &str = "Examples:
  shakedown capture.pcapng                 failures first, each with a timeline, cause and hints
  shakedown --all rdp.pcap.gz              every connection in detail
  shakedown --json *.pcap | jq .cause      JSON Lines, one record per connection
  shakedown --parquet conns.parquet *.pcap the same records as a Parquet file (DuckDB, Spark)
  tcpdump -U -w - port 3389 | shakedown -  a running capture: each verdict as it is decided
  shakedown --failed --port 3389 cap.pcap  only failed connections on port 3389
  shakedown --host 10.1.0.0/16 --cause no_shared_cipher --json cap.pcap
  shakedown --color always cap.pcap | less -R

Filters (--failed, --conn, --cause, --host, --port) combine with AND across kinds and OR within a
kind (--port 443 --port 3389); they select the connections detailed, listed and written as JSON,
and the exit status counts only those.

Subcommands:
  shakedown live -i eth0 tcp port 443                        watch an interface, verdicts as decided
  shakedown extract --failed -o failures.pcapng CAPTURE...   the packets of the selected connections
  shakedown summary DIR-or-FILES...                          counts, worst servers, offers, fingerprints
  shakedown report --html out.html CAPTURE...                one HTML page with a ladder diagram each
  shakedown completions bash|zsh|fish|powershell|elvish      a shell completion script
  shakedown manpage > shakedown.1                           the man page (roff)
(`shakedown SUBCOMMAND --help` for more; a capture named like a subcommand can be given as ./NAME.)

Verdicts come in the order of the connections' first packets, which suits files. A capture that is
still being written (standard input from a pipe such as `tcpdump -U --immediate-mode -w -`, a
named pipe) streams instead, as --stream does for a file and `shakedown live` always: each verdict
is written (and flushed) as soon as its connection is judged, and while no packet comes the wall
clock tells the time, so a closed connection is judged 2 s after its last packet without waiting
for more; Ctrl-C or SIGTERM ends the reading, judges the open connections (incomplete) and writes
the summary, with the exit status below. --no-stream reads piped input like a file (so does
--parquet). --save-failures DIR writes each failed or incomplete connection's packets to its own
pcapng file in DIR as it is judged.

On a terminal the report fits its width (COLUMNS, else the terminal's); --wide keeps whole lines.
The records (--json, --summary-json, --parquet, summary --json) are described in docs/SCHEMA.md.

Exit status: 0 no failure found, 1 failures found, 2 an input could not be read. A capture cut short
is not an error: its interrupted handshakes are incomplete, not failed.";

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
    /// The status when nothing went wrong: whether failures were found.
    pub fn found(failures: bool) -> Status {
        if failures {
            Status::Failures
        } else {
            Status::NoFailure
        }
    }

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
/// `out` and problems to `err`. `out` is taken not to be a terminal (so `--color auto` means no
/// colour); the binary calls [`run_on`].
///
/// The first argument may name a subcommand; without one, the captures are analysed and reported.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> Status
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_on(args, out, err, false)
}

/// [`run`], told whether `out` is a terminal (which `--color auto` needs to know, and which fits
/// the text report to the terminal's width: see [`terminal_width`]).
pub fn run_on<I, T>(
    args: I,
    out: &mut dyn Write,
    err: &mut dyn Write,
    out_is_terminal: bool,
) -> Status
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Subcommands: `shakedown NAME ...` runs the module of that name with the remaining arguments.
    match args.get(1).and_then(|a| a.to_str()) {
        Some("report") => html::run(args, out, err),
        Some("summary") => summary::run(args, out, err),
        Some("extract") => extract::run(args, out, err),
        #[cfg(feature = "live")]
        Some("live") => live::run(args, out, err, out_is_terminal),
        #[cfg(not(feature = "live"))]
        Some("live") => {
            let _ = writeln!(
                err,
                "shakedown: this build cannot capture live (it was built without the `live` feature, i.e. without libpcap); capture with `tcpdump -w FILE` and read the file"
            );
            Status::Error
        }
        Some("completions") => completions::completions(args, out, err),
        Some("manpage") => completions::manpage(args, out, err),
        _ => analyze_command(args, out, err, out_is_terminal),
    }
}

/// Shows a clap error or `--help`/`--version` text: help on `out` (so `shakedown --help | less`
/// works), errors on `err`.
pub(crate) fn clap_exit(e: &clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    if e.use_stderr() {
        let _ = write!(err, "{}", e.render());
        Status::Error
    } else {
        // A closed pipe (`--help | head -1`) is not an error either.
        let _ = write!(out, "{}", e.render()).and_then(|()| out.flush());
        Status::NoFailure
    }
}

/// The threads `-j` asked for, else one per core.
pub(crate) fn jobs_or_cores(jobs: Option<u16>) -> usize {
    jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    )
}

/// Writes generated text to `out`; a broken pipe is fine, another write error is reported.
pub(crate) fn write_all_or_status(out: &mut dyn Write, err: &mut dyn Write, buf: &[u8]) -> Status {
    match out.write_all(buf).and_then(|()| out.flush()) {
        Ok(()) => Status::NoFailure,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Status::NoFailure,
        Err(e) => {
            let _ = writeln!(err, "shakedown: writing the output: {e}");
            Status::Error
        }
    }
}

/// `shakedown [OPTIONS] CAPTURE...`: the report (or JSON Lines) of every connection.
fn analyze_command(
    args: Vec<OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    out_is_terminal: bool,
) -> Status {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => return clap_exit(&e, out, err),
    };
    let paint = args.output.palette(out_is_terminal);
    let layout = args.output.layout(out_is_terminal);
    let mut config = args.limits.config();
    if !args.limits.load_keys(&mut config, err) {
        return Status::Error;
    }
    if let Some(secs) = args.linger {
        config.closed_linger_ns = (secs.max(0.0) * 1e9) as i64;
    }
    let mut saver = match &args.save.save_failures {
        Some(dir) => match save::Saver::open(&args.save, dir, &config) {
            Ok(s) => Some(s),
            Err(e) => {
                let _ = writeln!(err, "shakedown: --save-failures {}: {e}", dir.display());
                return Status::Error;
            }
        },
        None => None,
    };
    if args.stream && args.parquet.is_some() {
        let _ = writeln!(
            err,
            "shakedown: --parquet and --stream: the Parquet file is written from whole captures; drop --stream"
        );
        return Status::Error;
    }
    let mut parquet = match args.parquet.as_deref().map(columns::create).transpose() {
        Ok(p) => p,
        Err(e) => {
            let path = args.parquet.as_deref().unwrap_or(Path::new(""));
            let _ = writeln!(err, "shakedown: {}: {e}", path.display());
            return Status::Error;
        }
    };
    let status = analyze_captures(
        &args,
        &config,
        paint,
        layout,
        &mut parquet,
        &mut saver,
        out,
        err,
    );
    match (parquet, &args.parquet) {
        (Some(file), Some(path)) => {
            if columns::finish(file, path, err) {
                status
            } else {
                Status::Error
            }
        }
        _ => status,
    }
}

/// Analyses and reports every capture of `args` (into `parquet` too, and failures into `saver`,
/// when given).
#[allow(clippy::too_many_arguments)]
fn analyze_captures(
    args: &Args,
    config: &Config,
    paint: Palette,
    layout: text::Layout,
    parquet: &mut Option<ParquetFile>,
    saver: &mut Option<save::Saver>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    let mut failures = false;
    let mut errors = false;
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let show_progress = progress::wanted(args.output.quiet);
    let jobs = jobs_or_cores(args.jobs);
    // Streaming and saving failures read each capture on one thread, frame by frame.
    let one_by_one = args.stream || saver.is_some();
    // Piped input streams too, unless told not to.
    let streams = |path: &Path| {
        args.stream || (!args.no_stream && args.parquet.is_none() && piped::is_piped(path))
    };
    let captures = &args.captures;
    let mut i = 0;
    while i < captures.len() {
        // Small captures side by side, one thread each; a big one (or standard input) alone, its
        // connections shared among the threads. Output stays in the order given.
        let run = if jobs > 1 && !one_by_one {
            captures[i..].iter().take_while(|p| side_by_side(p)).count()
        } else {
            0
        };
        let done = if run >= 2 {
            let files = &captures[i..i + run];
            i += run;
            many_captures(
                files, args, config, paint, layout, jobs, parquet, &mut out, err,
            )
        } else {
            let path = &captures[i];
            i += 1;
            let mut done = one_capture(
                path,
                args,
                config,
                paint,
                layout,
                jobs,
                streams(path),
                show_progress,
                parquet.as_mut().map(Columns::File),
                saver.as_mut(),
                &mut out,
                err,
            );
            if done.end.is_none() {
                // Anything written so far goes out before the next capture's work.
                done.end = flush_failure(&mut out);
            }
            done
        };
        failures |= done.failures;
        errors |= done.error;
        if done.interrupted {
            // Ctrl-C or SIGTERM: the captures after this one are not read.
            i = captures.len();
        }
        match done.end {
            Some(End::BrokenPipe) => return Status::found(failures),
            Some(End::WriteFailed(e)) => {
                let _ = writeln!(err, "shakedown: writing the output: {e}");
                return Status::Error;
            }
            None => {}
        }
    }
    if let Err(e) = out.flush() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Status::found(failures);
        }
        let _ = writeln!(err, "shakedown: writing the output: {e}");
        return Status::Error;
    }
    if let (Some(s), Some(dir)) = (&saver, &args.save.save_failures)
        && !args.output.quiet
    {
        let _ = writeln!(err, "shakedown: {}", s.saved_phrase(dir));
    }
    if errors {
        Status::Error
    } else {
        Status::found(failures)
    }
}

/// The width of the terminal standard output goes to: `COLUMNS` when it holds a number (a user's
/// override, as for `ls`), else what the terminal says, else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0)))
        .unwrap_or(80)
}

/// Captures smaller than this are analysed side by side (one thread each) when there are several.
const SIDE_BY_SIDE_MAX: u64 = 64 << 20;

/// Whether a capture is a regular file small enough to be analysed beside others.
fn side_by_side(path: &std::path::Path) -> bool {
    path.as_os_str() != "-"
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() < SIDE_BY_SIDE_MAX)
}

/// Why a run stops before its last capture.
enum End {
    /// Whoever read the output went away: stop quietly.
    BrokenPipe,
    /// The output could not be written.
    WriteFailed(io::Error),
}

/// What one capture (or a run of them) gave.
#[derive(Default)]
struct Done {
    failures: bool,
    error: bool,
    end: Option<End>,
    /// Its records for the Parquet file, when they were kept in memory.
    batches: Vec<shakedown_arrow::RecordBatch>,
    /// Ctrl-C or SIGTERM ended its reading.
    interrupted: bool,
}

fn write_failure(e: io::Error) -> End {
    if e.kind() == io::ErrorKind::BrokenPipe {
        End::BrokenPipe
    } else {
        End::WriteFailed(e)
    }
}

fn flush_failure(out: &mut impl Write) -> Option<End> {
    out.flush().err().map(write_failure)
}

/// Analyses several small captures on `jobs` threads (one each), each into memory, and writes
/// their outputs in the order given as they become ready.
#[allow(clippy::too_many_arguments)]
fn many_captures<W: Write>(
    files: &[PathBuf],
    args: &Args,
    config: &Config,
    paint: Palette,
    layout: text::Layout,
    jobs: usize,
    parquet: &mut Option<ParquetFile>,
    out: &mut W,
    err: &mut dyn Write,
) -> Done {
    let mut total = Done::default();
    let analyse = |path: &PathBuf| {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let columns = match args.parquet.as_ref().map(|_| Columns::in_memory()) {
            Some(Err(error)) => {
                let done = Done {
                    end: Some(End::WriteFailed(io::Error::other(error))),
                    ..Done::default()
                };
                return (o, e, done);
            }
            Some(Ok(columns)) => Some(columns),
            None => None,
        };
        let done = one_capture(
            path, args, config, paint, layout, 1, false, false, columns, None, &mut o, &mut e,
        );
        (o, e, done)
    };
    pool::in_order(files, jobs, analyse, |(o, e, done)| {
        total.failures |= done.failures;
        total.error |= done.error;
        let end = done
            .end
            .or_else(|| out.write_all(&o).err().map(write_failure))
            .or_else(|| flush_failure(out))
            .or_else(|| {
                let file = parquet.as_mut()?;
                let error = done
                    .batches
                    .iter()
                    .find_map(|b| file.write_batch(b).err())?;
                Some(End::WriteFailed(io::Error::other(error)))
            });
        let _ = err.write_all(&e);
        match end {
            Some(end) => {
                total.end = Some(end);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    });
    total
}

/// Analyses one capture with `jobs` threads (or, when it `streams`, frame by frame with verdicts
/// as decided), writing its report or JSON lines to `out` and its warnings and errors to `err`.
#[allow(clippy::too_many_arguments)]
fn one_capture<W: Write>(
    path: &std::path::Path,
    args: &Args,
    config: &Config,
    paint: Palette,
    layout: text::Layout,
    jobs: usize,
    streams: bool,
    show_progress: bool,
    columns: Option<Columns<'_>>,
    mut saver: Option<&mut save::Saver>,
    out: &mut W,
    err: &mut dyn Write,
) -> Done {
    let name = path.display().to_string();
    if let Some(s) = saver.as_deref_mut() {
        s.start_capture(&name, config);
    }
    if streams {
        return stream::one_capture(path, args, config, paint, layout, saver, out, err);
    }
    let mut done = Done::default();
    let (mut reader, bar) = match progress::open(path, show_progress) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "shakedown: {name}: {e}");
            done.error = true;
            return done;
        }
    };
    let mut sink = Collect::new(args, &name, out, jobs, columns);
    let result = match saver {
        Some(saver) => {
            stream::analyze_saving(&mut reader, config, saver, &args.select, &mut sink, err)
        }
        None => shakedown::analyze_parallel(&mut reader, config, jobs, &mut sink),
    };
    progress::done(bar);
    done.failures = sink.failures;
    let mut collected = std::mem::take(&mut sink.collected);
    let columns = sink.columns.take().map(Columns::into_batches);
    drop(sink);
    if let Err(shakedown::AnalyzeError::Sink(e)) = result {
        // Writing a JSON line failed, or a record could not be added to the columns.
        done.end = Some(write_failure(e));
        return done;
    }
    match columns {
        Some(Err(e)) => {
            done.end = Some(End::WriteFailed(io::Error::other(e)));
            return done;
        }
        Some(Ok(batches)) => done.batches = batches,
        None => {}
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "shakedown: {name}: {e}");
            done.error = true;
            return done;
        }
    };
    limits::warn_embedded_keys("shakedown", &name, &reader, err);
    if let Some(t) = &summary.truncation {
        let _ = writeln!(
            err,
            "shakedown: {name}: warning: the capture is cut short ({}) at byte {} after {} frames; connections still open there are marked incomplete",
            t.reason, t.byte_offset, t.frames_read
        );
    }
    if args.summary_json {
        let line = shakedown::json::summary_line(&summary, &name);
        done.end = writeln!(out, "{line}").err().map(write_failure);
    } else if args.report_wanted() {
        let written = text::report(out, &name, &mut collected, &summary, args, paint, layout);
        if is_broken_pipe(&written) {
            done.end = Some(End::BrokenPipe);
        }
    }
    done
}

fn is_broken_pipe(r: &io::Result<()>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::BrokenPipe)
}

impl Args {
    /// Whether the text report is written: not when the records go out as JSON or Parquet.
    fn report_wanted(&self) -> bool {
        !self.json && !self.summary_json && self.parquet.is_none()
    }
}

/// Streams JSON lines (and Parquet rows) as verdicts arrive; keeps verdicts for the text report.
struct Collect<'a, W: Write> {
    json: bool,
    /// The records as columns (`--parquet`).
    columns: Option<Columns<'a>>,
    /// Whether verdicts are kept for the text report.
    report: bool,
    capture: &'a str,
    out: &'a mut W,
    all: bool,
    select: &'a Selection,
    collected: text::Collected,
    failures: bool,
    /// Threads to write many JSON lines at once on (see [`Collect::verdicts`]).
    jobs: usize,
}

impl<'a, W: Write> Collect<'a, W> {
    fn new(
        args: &'a Args,
        capture: &'a str,
        out: &'a mut W,
        jobs: usize,
        columns: Option<Columns<'a>>,
    ) -> Self {
        Collect {
            json: args.json || args.summary_json,
            columns,
            report: args.report_wanted(),
            capture,
            out,
            all: args.all,
            select: &args.select,
            collected: text::Collected::default(),
            failures: false,
            jobs,
        }
    }

    /// Keeps a verdict the filters select (counting the others); says whether it was kept.
    fn select(&mut self, verdict: &Verdict) -> bool {
        if self.select.is_active() && !self.select.matches(verdict) {
            self.collected.counts.unselected += 1;
            return false;
        }
        self.failures |= verdict.is_failure();
        true
    }

    /// Adds a selected verdict's record to the columns, if wanted (an error of the columns is
    /// reported as the output's).
    fn add_columns(&mut self, verdict: &Verdict) -> io::Result<()> {
        if let Some(columns) = &mut self.columns {
            columns
                .push(verdict, self.capture)
                .map_err(io::Error::other)?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Collect<'_, W> {
    /// Writing a JSON line failed (a closed pipe stays [`io::ErrorKind::BrokenPipe`]).
    type Error = io::Error;

    fn verdict(&mut self, verdict: Verdict) -> io::Result<ControlFlow<()>> {
        // Filters narrow everything: the detail, the table, the JSON lines and the exit status.
        if !self.select(&verdict) {
            return Ok(ControlFlow::Continue(()));
        }
        self.add_columns(&verdict)?;
        if self.json {
            shakedown::json::write_line(self.out, &verdict, self.capture)?;
        }
        if self.report {
            self.collected.add(verdict, self.all);
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Many verdicts at once (those held for order until a long first connection ended): their
    /// JSON lines are written by `jobs` threads, in order.
    fn verdicts(&mut self, mut verdicts: Vec<Verdict>) -> io::Result<ControlFlow<()>> {
        if !self.json || verdicts.len() < parallel_json::MIN_VERDICTS {
            for verdict in verdicts {
                if self.verdict(verdict)?.is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            return Ok(ControlFlow::Continue(()));
        }
        verdicts.retain(|v| self.select(v));
        for verdict in &verdicts {
            self.add_columns(verdict)?;
        }
        parallel_json::write_lines(self.out, verdicts, self.capture, self.jobs)?;
        Ok(ControlFlow::Continue(()))
    }
}
