//! `shakedown live -i IFACE [FILTER...]`: capture from network interfaces through libpcap and write
//! each verdict the moment its connection is judged, until Ctrl-C or SIGTERM.
//!
//! One capture thread per interface reads packets (libpcap in immediate mode, a short read timeout
//! so it notices the end) and sends copies through one bounded channel to this thread, which owns
//! the engine ([`crate::stream::Driver`]): a full channel makes the capture threads wait, and the
//! kernel then drops (and counts) what does not fit in its buffer, rather than memory growing. When
//! no packet comes, the engine is told the wall clock at least every [`TICK`] (minus [`MARGIN`], for
//! packets still on their way), so closed and idle connections are judged without more traffic;
//! verdicts come out as decided ([`shakedown::VerdictOrder::AsDecided`]) and closed connections
//! linger `--linger` (0.5 s) rather than the files' 2 s.
//!
//! On Ctrl-C or SIGTERM the captures stop, the packets already captured are analysed, every open
//! connection is judged (`incomplete` when its handshake was under way) and the summary written,
//! with the packets the kernel dropped (libpcap's statistics). A second Ctrl-C quits at once.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use clap::Parser;
use shakedown::capture::{Frame, LinkType};
use shakedown::{CaptureDrops, InterfaceDrops, Timestamp, VerdictOrder};

use crate::color::Palette;
use crate::filter::Selection;
use crate::limits::{Limits, bytes};
use crate::output::OutputOptions;
use crate::report::plural;
use crate::save::{SaveOptions, Saver};
use crate::status::{Figures, StatusLine};
use crate::stream::{Driver, Printer, warn_save_errors};
use crate::watch::{MARGIN, TICK, interrupted_flag, wall_clock};
use crate::{Status, text};

/// libpcap's read timeout: how soon a capture thread notices the end when no packet comes.
const READ_TIMEOUT_MS: i32 = 50;
/// Packets in flight from the capture threads to the analysis.
const CHANNEL_PACKETS: usize = 8192;
/// How often the capture threads read libpcap's drop counts.
const STATS_EVERY: Duration = Duration::from_millis(250);

/// Watch network interfaces: a verdict for each TCP connection the moment it is judged.
///
/// Captures through libpcap (root or the CAP_NET_RAW capability), analyses as packets arrive and
/// writes each verdict as soon as its connection is judged (as decided, not in first-packet
/// order): JSON lines flushed one by one, or in text each failed or incomplete connection's block.
/// Ctrl-C or SIGTERM ends it: every open connection is judged and the summary written.
#[derive(Debug, Parser)]
#[command(name = "shakedown live", bin_name = "shakedown live", after_help = EXAMPLES)]
pub(crate) struct LiveArgs {
    /// Interface to capture on (`any`: all of them, on Linux); repeatable, one capture thread each,
    /// all feeding one analysis.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        required_unless_present = "list_interfaces"
    )]
    pub interfaces: Vec<String>,
    /// A capture filter in tcpdump's syntax (pcap-filter(7)), e.g. `tcp port 443`; the words are
    /// joined with spaces.
    #[arg(value_name = "FILTER", trailing_var_arg = true)]
    pub filter: Vec<String>,
    /// List the interfaces libpcap can capture on, and exit.
    #[arg(long)]
    pub list_interfaces: bool,
    /// Put the interfaces in promiscuous mode (off by default: this host's own traffic).
    #[arg(long)]
    pub promisc: bool,
    /// Bytes kept of each packet (default: whole packets).
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = 262_144,
          value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub snaplen: u32,
    /// The kernel's capture buffer per interface (suffixes K, M, G); past it packets are dropped
    /// and counted.
    #[arg(long, value_name = "BYTES", value_parser = bytes, default_value = "16M")]
    pub buffer_size: usize,
    /// Seconds a closed connection (both FINs, or an RST) stays quiet before it is judged, so late
    /// retransmissions and ACKs still count.
    #[arg(long, value_name = "SECS", default_value_t = crate::watch::WATCH_LINGER_SECS)]
    pub linger: f64,
    /// JSON Lines (docs/SCHEMA.md), one per connection, flushed as each is judged; the summary goes
    /// to standard error.
    #[arg(long)]
    pub json: bool,
    /// At the end, one JSON summary record, with the packets the kernel and the interfaces
    /// dropped (`capture_drops`, docs/SCHEMA.md); implies `--json`.
    #[arg(long)]
    pub summary_json: bool,
    /// Print every connection's block in text, completed ones too.
    #[arg(long)]
    pub all: bool,
    /// Colour, quiet and width of the text (as for the main command).
    #[command(flatten)]
    pub output: OutputOptions,
    /// Keep only the failures.
    #[command(flatten)]
    pub save: SaveOptions,
    /// Which connections are written.
    #[command(flatten)]
    pub select: Selection,
    /// Memory caps and timeouts.
    #[command(flatten)]
    pub limits: Limits,
}

const EXAMPLES: &str = "Examples:
  sudo shakedown live -i eth0 tcp port 443          failures as they happen, with a status line
  sudo shakedown live -i any --json | jq .cause     JSON Lines, flushed per connection
  sudo shakedown live -i eth0 -i eth1 --failed --save-failures /var/tmp/tls-failures
  shakedown live --list-interfaces

Needs root or the CAP_NET_RAW capability (once: sudo setcap cap_net_raw,cap_net_admin+eip
\"$(command -v shakedown)\"). Verdicts come as each connection is judged: a closed connection after
--linger seconds of quiet, an idle one after --idle-timeout; first-packet order is for files.
Ctrl-C or SIGTERM ends the capture: open connections are judged (incomplete) and the summary is
written, with the packets the kernel dropped.

Exit status: 0 no failed handshake seen, 1 failures seen (after Ctrl-C or SIGTERM), 2 an interface
could not be opened (missing, no privilege, a capture filter that does not compile) or failed
while capturing, or the arguments were wrong.";

/// `shakedown live ...` with `args` as given (the first two are the program and `live`).
pub(crate) fn run(
    args: Vec<OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    out_is_terminal: bool,
) -> Status {
    let args = match LiveArgs::try_parse_from(args.into_iter().skip(1)) {
        Ok(a) => a,
        Err(e) => return crate::clap_exit(&e, out, err),
    };
    if args.list_interfaces {
        return list_interfaces(out, err);
    }
    let filter = args.filter.join(" ");
    let mut captures = Vec::new();
    for name in &args.interfaces {
        match open(name, &args, &filter) {
            Ok(c) => captures.push(c),
            Err(message) => {
                let _ = writeln!(err, "shakedown live: {message}");
                return Status::Error;
            }
        }
    }
    let mut config = args.limits.config();
    if !args.limits.load_keys(&mut config, err) {
        return Status::Error;
    }
    config.verdict_order = VerdictOrder::AsDecided;
    config.closed_linger_ns = (args.linger.max(0.0) * 1e9) as i64;
    let mut saver = match &args.save.save_failures {
        Some(dir) => match Saver::open(&args.save, dir, &config) {
            Ok(s) => Some(s),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "shakedown live: --save-failures {}: {e}",
                    dir.display()
                );
                return Status::Error;
            }
        },
        None => None,
    };
    let interrupted = interrupted_flag();
    interrupted.store(false, Ordering::SeqCst);
    let name = format!("live:{}", args.interfaces.join(","));
    if let Some(s) = saver.as_mut() {
        s.start_capture(&name, &config);
    }
    let paint = args.output.palette(out_is_terminal);
    let layout = args.output.layout(out_is_terminal);
    let json = args.json || args.summary_json;
    let stderr_terminal = std::io::stderr().is_terminal();
    let mut status = StatusLine::new(
        stderr_terminal && !args.output.quiet,
        terminal_size::terminal_size_of(std::io::stderr()).map_or(80, |(w, _)| usize::from(w.0)),
    );
    if !args.output.quiet {
        let _ = writeln!(
            err,
            "shakedown live: capturing on {}{}; Ctrl-C ends it",
            args.interfaces.join(", "),
            if filter.is_empty() {
                String::new()
            } else {
                format!(" ({filter})")
            }
        );
    }
    let mut printer = Printer::new(json, args.all, &name, &args.select, paint, layout);
    let mut driver = Driver::new(&config, saver.as_mut(), &args.select);
    let stop = Arc::new(AtomicBool::new(false));
    let drops: Arc<Vec<Drops>> = Arc::new(captures.iter().map(|_| Drops::default()).collect());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(CHANNEL_PACKETS);
    let started = Instant::now();
    let mut threads = Vec::new();
    // A capture thread may wait in libpcap for the next packet however long none comes (its read
    // timeout is not kept by every Linux capture mechanism): at the end it is woken by
    // `pcap_breakloop`.
    let mut breakers = Vec::new();
    for (i, mut capture) in captures.into_iter().enumerate() {
        breakers.push(capture.breakloop_handle());
        let (tx, stop, drops) = (tx.clone(), Arc::clone(&stop), Arc::clone(&drops));
        let iface = args.interfaces.get(i).cloned().unwrap_or_default();
        threads.push(std::thread::spawn(move || {
            if let Some(d) = drops.get(i) {
                capture_loop(capture, i, &iface, &tx, &stop, d);
            }
        }));
    }
    drop(tx);
    let mut session = Session {
        out,
        err,
        printer: &mut printer,
        status: &mut status,
        drops: &drops,
        started,
        frames: 0,
        failed_interfaces: false,
        output_gone: None,
    };
    session.run(&mut driver, &rx, &interrupted, &stop, &breakers);
    for t in threads {
        let _ = t.join();
    }
    session.end(&mut driver, &args, &name)
}

/// Packets the kernel or the interface dropped on one interface, as libpcap counts them.
#[derive(Default)]
struct Drops {
    dropped: AtomicU64,
    if_dropped: AtomicU64,
}

/// The drop counts of the interfaces (named in the order they were opened), for the summary.
fn capture_drops(interfaces: &[String], drops: &[Drops]) -> CaptureDrops {
    CaptureDrops::new(
        interfaces
            .iter()
            .zip(drops)
            .map(|(name, d)| {
                InterfaceDrops::new(
                    name.as_str(),
                    d.dropped.load(Ordering::Relaxed),
                    d.if_dropped.load(Ordering::Relaxed),
                )
            })
            .collect(),
    )
}

/// What a capture thread sends.
enum Msg {
    /// A packet of interface `iface`.
    Packet {
        iface: u32,
        link_type: LinkType,
        ts: Timestamp,
        orig_len: u32,
        data: Vec<u8>,
    },
    /// Capturing on an interface failed; its thread has ended.
    Failed { iface: String, error: String },
}

/// Reads packets from `capture` until `stop` (and a `pcap_breakloop`), sending each, then what the
/// kernel still holds; keeps `drops` up to date.
fn capture_loop(
    capture: pcap::Capture<pcap::Active>,
    i: usize,
    iface: &str,
    tx: &SyncSender<Msg>,
    stop: &AtomicBool,
    drops: &Drops,
) {
    let mut reader = Reader {
        link_type: LinkType(u32::try_from(capture.get_datalink().0).unwrap_or(u32::MAX)),
        capture,
        iface: u32::try_from(i).unwrap_or(u32::MAX),
        counted: pcap::Stat {
            received: 0,
            dropped: 0,
            if_dropped: 0,
        },
    };
    let mut last_stats = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let msg = match reader.capture.next_packet() {
            Ok(p) => Some(message(reader.link_type, reader.iface, &p)),
            Err(pcap::Error::TimeoutExpired) => None,
            // `pcap_breakloop`: the end.
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                let _ = tx.send(Msg::Failed {
                    iface: iface.to_string(),
                    error: e.to_string(),
                });
                reader.update_stats(drops);
                return;
            }
        };
        if let Some(msg) = msg
            && tx.send(msg).is_err()
        {
            return;
        }
        if last_stats.elapsed() >= STATS_EVERY {
            reader.update_stats(drops);
            last_stats = Instant::now();
        }
    }
    // What was captured before the end still counts: read what the kernel holds without waiting.
    reader.update_stats(drops);
    let Reader {
        capture,
        link_type,
        iface: iface_no,
        counted,
    } = reader;
    let Ok(capture) = capture.setnonblock() else {
        return;
    };
    let mut reader = Reader {
        capture,
        link_type,
        iface: iface_no,
        counted,
    };
    // Bounded: a busy interface never runs dry.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until
        && let Ok(p) = reader.capture.next_packet()
    {
        if tx.send(message(link_type, iface_no, &p)).is_err() {
            return;
        }
    }
    reader.update_stats(drops);
}

/// A copy of packet `p` of interface `iface` (of `link_type`) to send.
fn message(link_type: LinkType, iface: u32, p: &pcap::Packet<'_>) -> Msg {
    // `time_t` and `suseconds_t` are not 64 bits everywhere.
    #[allow(clippy::useless_conversion)]
    let ts = Timestamp::from_secs_nanos(
        i64::from(p.header.ts.tv_sec),
        u32::try_from(p.header.ts.tv_usec)
            .unwrap_or(0)
            .saturating_mul(1000),
    );
    Msg::Packet {
        iface,
        link_type,
        ts,
        orig_len: p.header.len,
        data: p.data.to_vec(),
    }
}

/// One interface's capture and what its statistics said last.
struct Reader {
    capture: pcap::Capture<pcap::Active>,
    link_type: LinkType,
    iface: u32,
    counted: pcap::Stat,
}

impl Reader {
    /// Adds what libpcap's drop counters grew by since the last call to `drops`.
    fn update_stats(&mut self, drops: &Drops) {
        let Ok(now) = self.capture.stats() else {
            return;
        };
        // The counters are 32 bits: add what they grew by, across a wrap.
        drops.dropped.fetch_add(
            u64::from(now.dropped.wrapping_sub(self.counted.dropped)),
            Ordering::Relaxed,
        );
        drops.if_dropped.fetch_add(
            u64::from(now.if_dropped.wrapping_sub(self.counted.if_dropped)),
            Ordering::Relaxed,
        );
        self.counted = now;
    }
}

/// The analysis thread's state while capturing.
struct Session<'s, 'a> {
    out: &'s mut dyn Write,
    err: &'s mut dyn Write,
    printer: &'s mut Printer<'a>,
    status: &'s mut StatusLine,
    drops: &'s [Drops],
    started: Instant,
    frames: u64,
    failed_interfaces: bool,
    /// Set when standard output could not be written (a closed pipe ends the capture quietly).
    output_gone: Option<std::io::Error>,
}

impl Session<'_, '_> {
    /// Takes packets until Ctrl-C/SIGTERM, every capture has ended, or the output is gone; then
    /// stops the captures and takes what they still send.
    fn run(
        &mut self,
        driver: &mut Driver<'_>,
        rx: &Receiver<Msg>,
        interrupted: &AtomicBool,
        stop: &AtomicBool,
        breakers: &[pcap::BreakLoop],
    ) {
        let mut last_tick = Instant::now();
        loop {
            let wait = TICK.saturating_sub(last_tick.elapsed());
            let open = match rx.recv_timeout(wait) {
                Ok(msg) => {
                    self.take(driver, msg);
                    true
                }
                Err(RecvTimeoutError::Timeout) => true,
                Err(RecvTimeoutError::Disconnected) => false,
            };
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                let _ = driver.advance(wall_clock(MARGIN), &mut *self.printer);
                self.show(driver);
            }
            self.write_out(driver);
            if !open || interrupted.load(Ordering::SeqCst) || self.output_gone.is_some() {
                break;
            }
        }
        stop.store(true, Ordering::SeqCst);
        for b in breakers {
            b.breakloop();
        }
        // The capture threads end at once; what they send meanwhile is analysed too.
        while let Ok(msg) = rx.recv_timeout(Duration::from_secs(5)) {
            self.take(driver, msg);
            self.write_out(driver);
        }
    }

    /// Handles one message of a capture thread.
    fn take(&mut self, driver: &mut Driver<'_>, msg: Msg) {
        match msg {
            Msg::Packet {
                iface,
                link_type,
                ts,
                orig_len,
                data,
            } => {
                self.frames += 1;
                let frame = Frame {
                    index: self.frames,
                    ts,
                    link_type,
                    interface: iface,
                    data: &data,
                    orig_len,
                };
                let _ = driver.frame(&frame, &mut *self.printer);
            }
            Msg::Failed { iface, error } => {
                self.status.clear(self.err);
                let _ = writeln!(
                    self.err,
                    "shakedown live: capturing on {iface} failed: {error}"
                );
                self.failed_interfaces = true;
            }
        }
    }

    /// Writes out the verdicts printed so far (clearing the status line first) and the save
    /// errors.
    fn write_out(&mut self, driver: &mut Driver<'_>) {
        let errors = driver.take_errors();
        if !errors.is_empty() {
            self.status.clear(self.err);
            for e in errors {
                let _ = writeln!(self.err, "shakedown live: warning: saving a failure: {e}");
            }
        }
        if self.printer.pending.is_empty() || self.output_gone.is_some() {
            return;
        }
        self.status.clear(self.err);
        if let Err(e) = self.printer.write_out(self.out) {
            self.output_gone = Some(e);
        }
        self.show(driver);
    }

    fn figures(&self, driver: &Driver<'_>) -> Figures {
        let summary = driver.summary();
        Figures {
            elapsed: self.started.elapsed(),
            packets: summary.frames,
            connections: summary.connections,
            failed: self.printer.failed_causes.clone(),
            incomplete: self.printer.incomplete,
            dropped: self
                .drops
                .iter()
                .map(|d| d.dropped.load(Ordering::Relaxed) + d.if_dropped.load(Ordering::Relaxed))
                .sum(),
        }
    }

    fn show(&mut self, driver: &Driver<'_>) {
        let figures = self.figures(driver);
        self.status.update(self.err, &figures);
    }

    /// Judges every open connection, writes the rest and the summary; the exit status.
    fn end(mut self, driver: &mut Driver<'_>, args: &LiveArgs, name: &str) -> Status {
        if self.output_gone.is_none() {
            let _ = driver.finish(&mut *self.printer);
            warn_save_errors(driver, self.err);
            self.write_out(driver);
        }
        self.status.clear(self.err);
        let failures = self.printer.failures;
        match self.output_gone.take() {
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Status::found(failures);
            }
            Some(e) => {
                let _ = writeln!(self.err, "shakedown live: writing the output: {e}");
                return Status::Error;
            }
            None => {}
        }
        let mut summary = driver.summary().clone();
        let drops = capture_drops(&args.interfaces, self.drops);
        let (dropped, if_dropped) = (drops.dropped, drops.if_dropped);
        summary.capture_drops = Some(drops);
        let mut text = Vec::new();
        let paint = Palette::new(false);
        let layout = text::Layout::default();
        let _ = text::head(
            &mut text,
            name,
            &self.printer.counts,
            args.select.is_active(),
            paint,
            layout,
        );
        if !args.output.quiet {
            let _ = text::footer(&mut text, &summary, paint, layout);
        }
        let _ = writeln!(
            text,
            "capture: {:.1} s, {} dropped by the kernel, {if_dropped} by the interface",
            self.started.elapsed().as_secs_f64(),
            plural(dropped, "packet"),
        );
        if let (Some(s), Some(dir)) = (driver.saver(), &args.save.save_failures) {
            let _ = writeln!(text, "{}", s.saved_phrase(dir));
        }
        let written = if args.json || args.summary_json {
            let _ = self.err.write_all(&text);
            if args.summary_json {
                let line = shakedown::json::summary_line(&summary, name);
                writeln!(self.out, "{line}").and_then(|()| self.out.flush())
            } else {
                Ok(())
            }
        } else {
            text.insert(0, b'\n');
            self.out.write_all(&text).and_then(|()| self.out.flush())
        };
        match written {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                let _ = writeln!(self.err, "shakedown live: writing the output: {e}");
                return Status::Error;
            }
            _ => {}
        }
        if self.failed_interfaces {
            Status::Error
        } else {
            Status::found(failures)
        }
    }
}

/// Opens interface `name` as asked, with `filter`; a message naming the fix when it cannot be.
fn open(name: &str, args: &LiveArgs, filter: &str) -> Result<pcap::Capture<pcap::Active>, String> {
    // Asking which interfaces exist needs no privilege: a missing one is named as such even for
    // a user who could not capture anyway.
    if let Ok(devices) = pcap::Device::list()
        && !devices.iter().any(|d| d.name == name)
    {
        return Err(format!(
            "no interface `{name}` (`shakedown live --list-interfaces` lists them{})",
            if cfg!(target_os = "linux") {
                "; `-i any` captures on all"
            } else {
                ""
            }
        ));
    }
    let inactive = pcap::Capture::from_device(name).map_err(|e| format!("{name}: {e}"))?;
    let mut capture = inactive
        .promisc(args.promisc)
        .snaplen(i32::try_from(args.snaplen).unwrap_or(262_144))
        .immediate_mode(true)
        .timeout(READ_TIMEOUT_MS)
        .buffer_size(i32::try_from(args.buffer_size).unwrap_or(i32::MAX))
        .open()
        .map_err(|e| open_error(name, &e))?;
    if !filter.is_empty() {
        capture.filter(filter, true).map_err(|e| {
            format!(
                "the capture filter `{filter}` does not compile: {} (its syntax is tcpdump's, see pcap-filter(7); e.g. `tcp port 443`)",
                pcap_message(&e)
            )
        })?;
    }
    Ok(capture)
}

/// libpcap's own words, without the crate's prefix.
fn pcap_message(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Why opening `name` failed, with the fix.
fn open_error(name: &str, e: &pcap::Error) -> String {
    let message = pcap_message(e);
    let lower = message.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        format!(
            "capturing on {name} needs root or the CAP_NET_RAW capability ({message}): run it with sudo, or give the binary the capability once: sudo setcap cap_net_raw,cap_net_admin+eip \"$(command -v shakedown)\""
        )
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        format!("no interface `{name}` ({message}); `shakedown live --list-interfaces` lists them")
    } else if lower.contains("not up") {
        format!("interface {name} is down ({message}): bring it up first (ip link set {name} up)")
    } else {
        format!("cannot capture on {name}: {message}")
    }
}

/// `--list-interfaces`: one line per interface libpcap knows.
fn list_interfaces(out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let devices = match pcap::Device::list() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(
                err,
                "shakedown live: cannot list the interfaces: {}",
                pcap_message(&e)
            );
            return Status::Error;
        }
    };
    let mut text = String::new();
    for d in devices {
        let mut flags = Vec::new();
        if d.flags.is_up() {
            flags.push("up");
        }
        if d.flags.is_running() {
            flags.push("running");
        }
        if d.flags.is_loopback() {
            flags.push("loopback");
        }
        if d.flags.is_wireless() {
            flags.push("wireless");
        }
        let addresses: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
        text.push_str(&d.name);
        if let Some(desc) = &d.desc {
            text.push_str(&format!("  {desc}"));
        }
        if !addresses.is_empty() {
            text.push_str(&format!("  {}", addresses.join(" ")));
        }
        if !flags.is_empty() {
            text.push_str(&format!("  ({})", flags.join(", ")));
        }
        text.push('\n');
    }
    crate::write_all_or_status(out, err, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gets_each_interface_s_drops_and_their_sums() {
        let drops = [Drops::default(), Drops::default()];
        drops[0].dropped.store(5, Ordering::Relaxed);
        drops[1].dropped.store(2, Ordering::Relaxed);
        drops[1].if_dropped.store(3, Ordering::Relaxed);
        let names = ["eth0".to_string(), "eth1".to_string()];
        let d = capture_drops(&names, &drops);
        assert_eq!((d.dropped, d.if_dropped), (7, 3));
        assert_eq!(
            d.interfaces,
            [
                InterfaceDrops::new("eth0", 5, 0),
                InterfaceDrops::new("eth1", 2, 3)
            ]
        );
    }
}
