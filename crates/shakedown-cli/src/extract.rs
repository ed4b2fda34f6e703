//! `shakedown extract`: the packets of the selected connections (failed ones, a cause, a host, ...)
//! copied into a new pcapng file, so a huge capture shrinks to what is worth opening in Wireshark.
//!
//! Each capture is read twice. The first pass runs the engine and keeps, for each selected verdict,
//! its canonical endpoint pair and its frame range (first and last frame): the pair alone would also
//! take an earlier or later connection that reused the same ports. The second pass decodes every
//! frame again and copies those whose TCP endpoints and frame number fall in a selected range,
//! retransmissions included, in capture order, with their original timestamps (nanoseconds), bytes,
//! wire lengths and link types: one Interface Description Block per distinct (capture, interface,
//! link type). Each packet carries a pcapng comment (`opt_comment`, Wireshark's `frame.comment`)
//! naming its frame number in the original and that capture, `frame 8 of day1.pcap`: frame numbers
//! start again at 1 in the new file, so a report of the new file (whose Wireshark filters count its
//! own frames) can be matched back to the original. IP fragments are held until their datagram is complete and then copied with it if its
//! connection is selected (frames behind a held fragment wait, so the order stays); fragments whose
//! datagram never completes within the engine's fragment timeout are left out.
//!
//! Standard input cannot be read twice, so `-` as a capture is refused with a clear message (save
//! it to a file first); `-o -` writes the pcapng file to standard output.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::Parser;
use shakedown::capture::{Frame, InterfaceInfo, LinkType, PcapNgWriter, WriteError};
use shakedown::decode::{DatagramId, Decoder};
use shakedown::{Config, Sink, Timestamp, Verdict};

use crate::Status;
use crate::filter::Selection;
use crate::frame_owner::{Owner, Pair, owner, pair};
use crate::owned_frame::OwnedFrame;
use crate::report::plural;

/// Copy the packets of the selected connections into a new pcapng file.
///
/// Selects connections like the report does (filters of different kinds combine with AND,
/// repeated ones with OR); at least one filter, or --all, is required.
#[derive(Debug, Parser)]
#[command(name = "shakedown extract", bin_name = "shakedown extract", after_help = EXAMPLES)]
pub(crate) struct ExtractArgs {
    /// Capture files (pcap or pcapng, optionally gzip- or zstd-compressed). Each is read twice, so
    /// standard input (`-`) is not accepted: save it to a file first.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// The pcapng file to write; `-` writes it to standard output.
    #[arg(short, long, value_name = "OUT.pcapng")]
    pub output: PathBuf,
    /// Every TCP connection.
    #[arg(long)]
    pub all: bool,
    /// Say nothing when all went well.
    #[arg(long, short)]
    pub quiet: bool,
    /// An NSS key log (SSLKEYLOGFILE) to judge the connections with, as the report does;
    /// repeatable. Keys a pcapng capture carries are used as well, without this.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
    // Last: the help heading of a flattened group goes on to the end of the list.
    #[command(flatten)]
    pub select: Selection,
}

const EXAMPLES: &str = "Examples:
  shakedown extract --failed -o failures.pcapng big.pcapng.gz
  shakedown extract --cause no_shared_cipher --port 3389 -o rdp.pcapng day1.pcap day2.pcap
  shakedown extract --conn 3 -o - capture.pcap | wireshark -k -i -

Exit status: 0 connections were extracted, 1 none matched, 2 an input or the output failed.";

/// Frame ranges of the selected connections, by canonical endpoint pair.
type Ranges = HashMap<Pair, Vec<(u64, u64)>>;

/// First pass: keeps only what the second pass needs of each selected verdict.
struct Select<'a> {
    args: &'a ExtractArgs,
    ranges: Ranges,
    connections: u64,
    packets: u64,
}

impl Sink for Select<'_> {
    type Error = std::convert::Infallible;

    fn verdict(&mut self, v: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        if self.args.all || self.args.select.matches(&v) {
            self.ranges
                .entry(pair(v.client, v.server))
                .or_default()
                .push((v.start.frame, v.end.frame));
            self.connections += 1;
            self.packets += v.packets.client + v.packets.server;
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// `shakedown extract ...` with `args` as given (the first two are the program and `extract`).
pub(crate) fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let args = match ExtractArgs::try_parse_from(args.into_iter().skip(1)) {
        Ok(a) => a,
        Err(e) => return crate::clap_exit(&e, out, err),
    };
    if !args.all && !args.select.is_active() {
        let _ = writeln!(
            err,
            "shakedown extract: say which connections to extract: --failed, --conn N, --cause CODE, --host IP, --port P, or --all"
        );
        return Status::Error;
    }
    let to_stdout = args.output.as_os_str() == "-";
    if !to_stdout && let Some(same) = args.captures.iter().find(|c| same_file(c, &args.output)) {
        let _ = writeln!(
            err,
            "shakedown extract: the output {} is also an input",
            same.display()
        );
        return Status::Error;
    }
    let mut config = Config::default();
    if !crate::limits::load_key_logs(&args.keylog, &mut config, err) {
        return Status::Error;
    }
    // `out` carries the pcapng data with `-o -`, else the closing summary.
    let mut out = Some(out);
    let sink: Box<dyn Write + '_> = if to_stdout && let Some(o) = out.take() {
        Box::new(BufWriter::with_capacity(256 * 1024, o))
    } else {
        match File::create(&args.output) {
            Ok(f) => Box::new(BufWriter::with_capacity(256 * 1024, f)),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "shakedown extract: {}: cannot create: {e}",
                    args.output.display()
                );
                return Status::Error;
            }
        }
    };
    let mut writer = match PcapNgWriter::new(sink) {
        Ok(w) => w,
        Err(e) => return output_error(err, &args.output, &e),
    };
    let mut errors = false;
    let mut connections = 0u64;
    // Output interface for each (capture, interface, link type).
    let mut interfaces: HashMap<(usize, u32, LinkType), u32> = HashMap::new();
    for (ci, path) in args.captures.iter().enumerate() {
        let name = path.display().to_string();
        if path.as_os_str() == "-" {
            let _ = writeln!(
                err,
                "shakedown extract: -: standard input cannot be read twice; save it to a file first (e.g. tcpdump -w capture.pcap)"
            );
            errors = true;
            continue;
        }
        // First pass: which connections, by endpoints and frame range.
        let mut select = Select {
            args: &args,
            ranges: Ranges::new(),
            connections: 0,
            packets: 0,
        };
        let first = shakedown::capture::open(path).and_then(|mut r| {
            let summary = shakedown::analyze(&mut r, &config, &mut select)?;
            crate::limits::warn_embedded_keys("shakedown extract", &name, &r, err);
            Ok((summary, r.description().interfaces.clone()))
        });
        let described = match first {
            Ok((summary, described)) => {
                if let Some(t) = &summary.truncation {
                    let _ = writeln!(
                        err,
                        "shakedown extract: {name}: warning: the capture is cut short ({}) after {} frames",
                        t.reason, t.frames_read
                    );
                }
                described
            }
            Err(e) => {
                let _ = writeln!(err, "shakedown extract: {name}: {e}");
                errors = true;
                continue;
            }
        };
        if select.connections == 0 {
            continue;
        }
        connections += select.connections;
        // Second pass: copy the frames of those connections.
        let mut reader = match shakedown::capture::open(path) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "shakedown extract: {name}: {e}");
                errors = true;
                continue;
            }
        };
        let mut decoder = Decoder::new(&config);
        let mut copy = Copier {
            writer: &mut writer,
            interfaces: &mut interfaces,
            described: &described,
            capture: ci,
            source: &name,
            queue: VecDeque::new(),
            queued_bytes: 0,
        };
        let mut written = 0u64;
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let _ = writeln!(err, "shakedown extract: {name}: {e}");
                    errors = true;
                    break;
                }
            };
            let wanted = match owner(&mut decoder, &frame) {
                Owner::Segment { pair, completes } => {
                    let wanted = select
                        .ranges
                        .get(&pair)
                        .is_some_and(|rs| rs.iter().any(|(a, b)| (*a..=*b).contains(&frame.index)));
                    if let Some(id) = completes {
                        // The segment completes a fragmented datagram: its fragments go with it.
                        copy.settle(id, wanted);
                    }
                    wanted
                }
                Owner::Fragment(id) => {
                    copy.hold(&frame, Fate::Undecided, Some(id));
                    false
                }
                // Thrown away by the decoder: the datagram never completes.
                Owner::Abandoned(id) => {
                    copy.settle(id, false);
                    false
                }
                Owner::None => false,
            };
            if wanted {
                written += 1;
                if copy.queue.is_empty() {
                    if let Err(e) = copy.emit(&frame) {
                        return output_error(err, &args.output, &e);
                    }
                } else {
                    copy.hold(&frame, Fate::Keep, None);
                }
            }
            copy.expire(
                frame.ts,
                config.fragment_timeout_ns,
                config.max_fragment_bytes,
            );
            if let Err(e) = copy.flush() {
                return output_error(err, &args.output, &e);
            }
        }
        copy.expire(Timestamp(i64::MAX), 0, 0);
        if let Err(e) = copy.flush() {
            return output_error(err, &args.output, &e);
        }
        if written != select.packets {
            // The engine counts every TCP segment of a connection (a fragmented datagram once), as
            // this pass does; a difference means the two passes saw different bytes (the file
            // changed in between).
            let _ = writeln!(
                err,
                "shakedown extract: {name}: warning: copied {written} frames where the analysis counted {}",
                select.packets
            );
        }
    }
    let frames = writer.packets();
    if let Err(e) = writer.finish() {
        return output_error(err, &args.output, &e);
    }
    if !args.quiet {
        let report: &mut dyn Write = match out {
            Some(o) => o,
            None => err,
        };
        let _ = writeln!(
            report,
            "shakedown extract: {}, {} written to {}",
            plural(connections, "connection"),
            plural(frames, "frame"),
            args.output.display()
        );
    }
    if errors {
        Status::Error
    } else if connections == 0 {
        Status::Failures
    } else {
        Status::NoFailure
    }
}

/// What becomes of a frame held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// An IP fragment whose datagram is not complete yet.
    Undecided,
    /// To be written (a fragment of a selected connection, or a selected frame behind a fragment).
    Keep,
    /// Not to be written.
    Drop,
}

/// A frame kept back, with its own copy of the bytes.
struct Held {
    copy: OwnedFrame,
    fate: Fate,
    /// The datagram an undecided fragment belongs to.
    datagram: Option<DatagramId>,
}

/// Second pass: writes selected frames in capture order. IP fragments are held until the datagram
/// they belong to is complete (then kept if its connection is selected) or given up (timeout, or
/// the memory bound); while one is held, later frames wait behind it so the order stays.
struct Copier<'a, W: Write> {
    writer: &'a mut PcapNgWriter<W>,
    interfaces: &'a mut HashMap<(usize, u32, LinkType), u32>,
    described: &'a [InterfaceInfo],
    capture: usize,
    /// The capture's name as given, for the packet comments.
    source: &'a str,
    queue: VecDeque<Held>,
    queued_bytes: usize,
}

impl<W: Write> Copier<'_, W> {
    /// Writes a frame on the output interface of its (capture, interface, link type).
    fn emit(&mut self, frame: &Frame<'_>) -> Result<(), WriteError> {
        let slot = (self.capture, frame.interface, frame.link_type);
        let ifc = match self.interfaces.get(&slot) {
            Some(i) => *i,
            None => {
                let snaplen = self
                    .described
                    .iter()
                    .find(|i| i.id == frame.interface)
                    .map_or(0, |i| i.snaplen);
                let i = self.writer.add_interface(frame.link_type, snaplen)?;
                self.interfaces.insert(slot, i);
                i
            }
        };
        // Frame numbers start again at 1 in the new file; the comment keeps where each came from.
        let comment = format!("frame {} of {}", frame.index, self.source);
        self.writer.write_frame_with_comment(ifc, frame, &comment)
    }

    fn hold(&mut self, frame: &Frame<'_>, fate: Fate, datagram: Option<DatagramId>) {
        self.queued_bytes += frame.data.len();
        self.queue.push_back(Held {
            copy: OwnedFrame::of(frame),
            fate,
            datagram,
        });
    }

    /// Datagram `id` is complete (or given up): its held fragments are kept when `wanted`, else
    /// dropped.
    fn settle(&mut self, id: DatagramId, wanted: bool) {
        for h in &mut self.queue {
            if h.fate == Fate::Undecided && h.datagram == Some(id) {
                h.fate = if wanted { Fate::Keep } else { Fate::Drop };
            }
        }
    }

    /// Gives up fragments older than `timeout_ns` before `now`, then the oldest ones while the
    /// queue holds more than `max_bytes`.
    fn expire(&mut self, now: Timestamp, timeout_ns: i64, max_bytes: usize) {
        for h in &mut self.queue {
            if h.fate == Fate::Undecided && now.nanos_since(h.copy.ts) > timeout_ns {
                h.fate = Fate::Drop;
            }
        }
        if self.queued_bytes > max_bytes {
            let mut excess = self.queued_bytes - max_bytes;
            for h in &mut self.queue {
                if excess == 0 {
                    break;
                }
                if h.fate == Fate::Undecided {
                    h.fate = Fate::Drop;
                    excess = excess.saturating_sub(h.copy.data.len());
                }
            }
        }
    }

    /// Writes or drops the decided frames at the front of the queue.
    fn flush(&mut self) -> Result<(), WriteError> {
        while let Some(front) = self.queue.front() {
            if front.fate == Fate::Undecided {
                break;
            }
            if let Some(h) = self.queue.pop_front() {
                self.queued_bytes -= h.copy.data.len();
                if h.fate == Fate::Keep {
                    self.emit(&h.copy.frame())?;
                }
            }
        }
        Ok(())
    }
}

fn output_error(err: &mut dyn Write, output: &Path, e: &WriteError) -> Status {
    if let WriteError::Io { source } = e
        && source.kind() == io::ErrorKind::BrokenPipe
    {
        // `-o - | head -c 100`: the reader has all it wanted; not an error.
        return Status::NoFailure;
    }
    let _ = writeln!(err, "shakedown extract: {}: {e}", output.display());
    Status::Error
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
