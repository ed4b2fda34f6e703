//! `--save-failures DIR`: each failed or incomplete connection's packets written as its own pcapng
//! file the moment it is judged, so a capture left running keeps only what is worth opening.
//!
//! Every frame is decoded here too (as `extract` does) to find its connection's endpoints, and a
//! copy is held in a bounded buffer of that connection: its first packets, then a ring of its last
//! ones ([`SaveOptions::save_failures_max_packets`] in all); what did not fit is counted. When the engine hands
//! out a verdict, the buffer's packets within the verdict's frame range are taken (later ones belong
//! to a new connection on the same ports) and, for a failure or an incomplete handshake that the
//! filters select, written to `DIR` with their original timestamps, bytes and link types. The
//! deciding frame (the last evidence frame, else the last packet) carries the verdict's cause as
//! its packet comment; the section comment says what the file holds and what was not kept.
//!
//! Memory is bounded by [`SaveOptions::save_failures_buffer`]: past it, the buffers of the connections that have
//! been open longest are given up (a long connection is seldom a failed handshake) and their
//! packets counted as not kept. Files are bounded by count and bytes: past either, the oldest files
//! in `DIR` (by name, which sorts by time) are removed, those of earlier runs included.
//!
//! With key logs (`--keylog` files, or the capture's own Decryption Secrets Blocks), a file also
//! carries the secrets of its connection: the key log lines of its ClientHello random, as the
//! analysis used them, in a Decryption Secrets Block before its packets, so Wireshark, TShark and
//! shakedown decrypt the file alone. No other connection's secrets go into it.
//!
//! The fragments of an IP datagram are held aside (within the decoder's fragment caps) until the
//! frame that completes the datagram names its connection; then they join that connection's
//! packets, in front of it, so a saved file reassembles as the capture did.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use shakedown::capture::{Frame, LinkType, PcapNgWriter, WriteError};
use shakedown::decode::{DatagramId, Decoder};
use shakedown::verdict::{Outcome, Step};
use shakedown::{Config, Endpoint, Timestamp, Verdict};
use zeroize::Zeroize;

use crate::filter::Selection;
use crate::frame_owner::{Owner, Pair, owner, pair};
use crate::limits::bytes;
use crate::owned_frame::OwnedFrame;
use crate::report::plural;

/// The flags of `--save-failures`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Saving failures")]
pub struct SaveOptions {
    /// Write each failed or incomplete connection (that the filters select) as its own pcapng file
    /// in DIR when it is judged: original timestamps and link types, the cause as a comment on the
    /// deciding packet, names that sort by time (`20261207T093512.123Z_CLIENT-PORT_SERVER-PORT_CAUSE.pcapng`);
    /// with key logs (`--keylog`, or the capture's own), the connection's secrets too, so the file
    /// decrypts alone. Each capture file is then read on one thread, frame by frame.
    #[arg(long, value_name = "DIR")]
    pub save_failures: Option<PathBuf>,
    /// Packets kept per connection: its first three quarters, then the last quarter as a ring;
    /// what did not fit is counted in the file's comment.
    #[arg(long, value_name = "N", default_value_t = 400, value_parser = clap::value_parser!(u32).range(4..))]
    pub save_failures_max_packets: u32,
    /// Files kept in DIR; past it the oldest are removed.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub save_failures_max_files: u32,
    /// Bytes of files kept in DIR; past it the oldest are removed (suffixes K, M, G).
    #[arg(long, value_name = "BYTES", value_parser = bytes, default_value = "1G")]
    pub save_failures_max_bytes: usize,
    /// Memory for the packets held until their connections are judged; past it the buffers of the
    /// longest-open connections are given up.
    #[arg(long, value_name = "BYTES", value_parser = bytes, default_value = "64M")]
    pub save_failures_buffer: usize,
}

/// Bytes a held packet costs besides its data (its place in the buffer, the allocation).
const PACKET_OVERHEAD: usize = 64;

/// A connection's endpoints, lower first.
type Key = Pair;

/// A copy of one frame.
type Packet = OwnedFrame;

/// Bytes a held packet costs.
fn cost(packet: &Packet) -> usize {
    packet.data.len() + PACKET_OVERHEAD
}

/// Copies of the fragments of IP datagrams not yet complete, by datagram, until the frame that
/// completes one names its connection. Bounded like the decoder's reassembly (`max_fragment_sets`
/// datagrams, `max_fragment_bytes`): past either, the oldest datagram's fragments go (the decoder
/// gives up datagrams too, and does not say which).
struct HeldFragments {
    /// Each datagram's fragments, with the generation of its entry in `order`.
    sets: HashMap<DatagramId, (u64, Vec<Packet>)>,
    /// Datagrams by age; an entry whose generation no longer matches its set is stale.
    order: VecDeque<(u64, DatagramId)>,
    next_generation: u64,
    bytes: usize,
    max_sets: usize,
    max_bytes: usize,
}

impl HeldFragments {
    fn new(config: &Config) -> Self {
        HeldFragments {
            sets: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
            bytes: 0,
            max_sets: config.max_fragment_sets.max(1),
            max_bytes: config.max_fragment_bytes,
        }
    }

    /// Holds `packet`, a fragment of datagram `id`.
    fn hold(&mut self, id: DatagramId, packet: Packet) {
        self.bytes += cost(&packet);
        let generation = self.next_generation;
        let (g, set) = self.sets.entry(id).or_insert((generation, Vec::new()));
        if *g == generation {
            self.next_generation += 1;
            self.order.push_back((generation, id));
        }
        set.push(packet);
        while self.sets.len() > self.max_sets || self.bytes > self.max_bytes {
            let Some((generation, oldest)) = self.order.pop_front() else {
                break;
            };
            if self
                .sets
                .get(&oldest)
                .is_some_and(|(g, _)| *g == generation)
            {
                drop(self.take(oldest));
            }
        }
        // Stale entries (datagrams completed) cannot outnumber the live ones by much.
        if self.order.len() > 2 * self.sets.len() + 64 {
            let sets = &self.sets;
            self.order
                .retain(|(generation, id)| sets.get(id).is_some_and(|(g, _)| g == generation));
        }
    }

    /// Drops every fragment held.
    fn clear(&mut self) {
        self.sets.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Takes the fragments held of datagram `id` (none if it holds none).
    fn take(&mut self, id: DatagramId) -> Vec<Packet> {
        let Some((_, set)) = self.sets.remove(&id) else {
            return Vec::new();
        };
        self.bytes -= set.iter().map(cost).sum::<usize>();
        set
    }
}

/// Frames not kept of one endpoint pair: how many, and the first and last frame numbers.
#[derive(Debug, Clone, Copy, Default)]
struct Dropped {
    count: u64,
    first: u64,
    last: u64,
}

impl Dropped {
    fn add(&mut self, index: u64) {
        if self.count == 0 {
            self.first = index;
        }
        self.count += 1;
        self.last = index;
    }
}

/// The packets held for one endpoint pair.
struct Buffer {
    /// When the buffer was made (for giving up the oldest first).
    seq: u64,
    head: Vec<Packet>,
    tail: VecDeque<Packet>,
    dropped: Dropped,
    /// Given up under the memory cap: nothing more is held until the connection is judged.
    given_up: bool,
}

/// Writes the packets of failed connections to a folder, within caps.
pub(crate) struct Saver {
    dir: PathBuf,
    head_max: usize,
    tail_max: usize,
    max_files: usize,
    max_bytes: u64,
    buffer_max: usize,
    decoder: Decoder,
    fragments: HeldFragments,
    buffers: HashMap<Key, Buffer>,
    /// Buffers by age, for giving up the oldest.
    ages: BTreeMap<u64, Key>,
    next_seq: u64,
    held: usize,
    /// Files in the folder (ours, by name: time order) and their sizes.
    files: BTreeMap<String, u64>,
    file_bytes: u64,
    /// What was done, for the summary.
    pub(crate) counts: SaveCounts,
    /// The capture the frames come from (for the comments).
    source: String,
    /// The analysis's key logs ([`Saver::use_keys_of`]), when it has any: each file gets its
    /// connection's secrets from them.
    keys: Option<Config>,
}

/// What a [`Saver`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SaveCounts {
    /// Files written.
    pub written: u64,
    /// Old files removed to stay within the caps.
    pub removed: u64,
    /// Connection buffers given up under the memory cap.
    pub given_up: u64,
    /// Files that could not be written.
    pub errors: u64,
}

/// Why a connection's file could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    /// Creating or writing the file failed.
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: WriteError,
    },
}

impl Saver {
    /// A saver writing to `dir` (created if missing), counting the files already there that look
    /// like ours towards the caps.
    pub(crate) fn open(options: &SaveOptions, dir: &Path, config: &Config) -> io::Result<Saver> {
        std::fs::create_dir_all(dir)?;
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_our_name(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
                files.insert(name, entry.metadata().map_or(0, |m| m.len()));
            }
        }
        let max = options.save_failures_max_packets as usize;
        let tail_max = (max / 4).max(1);
        let mut saver = Saver {
            dir: dir.to_path_buf(),
            head_max: max - tail_max,
            tail_max,
            max_files: options.save_failures_max_files as usize,
            max_bytes: options.save_failures_max_bytes as u64,
            buffer_max: options.save_failures_buffer,
            decoder: Decoder::new(config),
            fragments: HeldFragments::new(config),
            buffers: HashMap::new(),
            ages: BTreeMap::new(),
            next_seq: 0,
            held: 0,
            file_bytes: files.values().sum(),
            files,
            counts: SaveCounts::default(),
            source: String::new(),
            keys: None,
        };
        saver.rotate(None);
        Ok(saver)
    }

    /// Names the capture the next frames come from (frame numbers start again with each).
    pub(crate) fn start_capture(&mut self, source: &str, config: &Config) {
        self.source = source.to_string();
        self.decoder = Decoder::new(config);
        self.fragments = HeldFragments::new(config);
        self.clear();
    }

    /// Takes the key logs of the analysis the verdicts come from (`config` as its dissector has it,
    /// with the capture's own keys): each file written gets its connection's secrets from them.
    pub(crate) fn use_keys_of(&mut self, config: &Config) {
        self.keys =
            (config.key_log.is_some() || config.embedded_keys.is_some()).then(|| config.clone());
    }

    /// The key log lines of `v`'s ClientHello random, as the analysis looked them up (at its
    /// ServerHello, else at its last frame); `None` without key logs or secrets for it.
    fn key_log_lines(&self, v: &Verdict) -> Option<Vec<u8>> {
        let config = self.keys.as_ref()?;
        let random = v.tls.as_ref()?.client_hello.as_ref()?.random?;
        let frame = v
            .timeline
            .iter()
            .find(|e| matches!(e.step, Step::ServerHello { .. }))
            .map_or(v.end.frame, |e| e.at.frame);
        let secrets = config.secrets(&random, frame)?;
        let mut lines = Vec::new();
        secrets.write_key_log(&random, &mut lines);
        Some(lines)
    }

    /// Holds a copy of `frame` for its connection, if it is a TCP segment (or a fragment of one,
    /// held aside until its datagram is complete).
    pub(crate) fn frame(&mut self, frame: &Frame<'_>) {
        let (key, fragments) = match owner(&mut self.decoder, frame) {
            Owner::Segment { pair, completes } => (
                pair,
                completes
                    .map(|id| self.fragments.take(id))
                    .unwrap_or_default(),
            ),
            Owner::Fragment(id) => return self.fragments.hold(id, OwnedFrame::of(frame)),
            Owner::Abandoned(id) => return drop(self.fragments.take(id)),
            Owner::None => return,
        };
        let seq = self.next_seq;
        let buffer = self.buffers.entry(key).or_insert_with(|| Buffer {
            seq,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: Dropped::default(),
            given_up: false,
        });
        if buffer.seq == seq {
            self.next_seq += 1;
            self.ages.insert(seq, key);
        }
        for packet in fragments.into_iter().chain([OwnedFrame::of(frame)]) {
            if buffer.given_up {
                buffer.dropped.add(packet.index);
                continue;
            }
            self.held += cost(&packet);
            if buffer.head.len() < self.head_max {
                buffer.head.push(packet);
            } else {
                buffer.tail.push_back(packet);
                if buffer.tail.len() > self.tail_max
                    && let Some(old) = buffer.tail.pop_front()
                {
                    self.held -= cost(&old);
                    buffer.dropped.add(old.index);
                }
            }
        }
        self.give_up_oldest();
    }

    /// Gives up the buffers of the longest-open connections while more than the cap is held.
    fn give_up_oldest(&mut self) {
        while self.held > self.buffer_max {
            let Some((_, key)) = self.ages.pop_first() else {
                break;
            };
            let Some(buffer) = self.buffers.get_mut(&key) else {
                continue;
            };
            for p in buffer.head.drain(..).chain(buffer.tail.drain(..)) {
                self.held -= cost(&p);
                buffer.dropped.add(p.index);
            }
            buffer.given_up = true;
            self.counts.given_up += 1;
        }
    }

    /// A verdict came out: takes its connection's packets and, for a failed or incomplete
    /// connection that `select` keeps, writes them to a new file (returned).
    pub(crate) fn judged(
        &mut self,
        v: &Verdict,
        select: &Selection,
    ) -> Result<Option<PathBuf>, SaveError> {
        let (packets, dropped) = self.take(v);
        let wanted = matches!(v.outcome, Outcome::Failed | Outcome::Incomplete)
            && (!select.is_active() || select.matches(v));
        if !wanted {
            return Ok(None);
        }
        match self.write(v, &packets, dropped) {
            Ok(path) => {
                self.counts.written += 1;
                Ok(Some(path))
            }
            Err(e) => {
                self.counts.errors += 1;
                Err(e)
            }
        }
    }

    /// `saved: 2 failed connections to DIR, 1 older file removed to stay within the caps`.
    pub(crate) fn saved_phrase(&self, dir: &Path) -> String {
        let c = self.counts;
        let mut line = format!(
            "saved: {} to {}",
            plural(c.written, "failed or incomplete connection"),
            dir.display()
        );
        if c.removed > 0 {
            line.push_str(&format!(
                ", {} removed to stay within the caps",
                plural(c.removed, "older file")
            ));
        }
        if c.given_up > 0 {
            line.push_str(&format!(
                ", the packets of {} given up under the memory cap",
                plural(c.given_up, "connection")
            ));
        }
        if c.errors > 0 {
            line.push_str(&format!(", {} not written", plural(c.errors, "file")));
        }
        line
    }

    /// Removes the packets of `v`'s frame range from its endpoints' buffer (dropping the buffer
    /// when nothing later is left) and returns them with what was not kept of them.
    fn take(&mut self, v: &Verdict) -> (Vec<Packet>, Dropped) {
        let key = pair(v.client, v.server);
        let Some(mut buffer) = self.buffers.remove(&key) else {
            return (Vec::new(), Dropped::default());
        };
        self.ages.remove(&buffer.seq);
        let end = v.end.frame;
        let mut mine = Vec::new();
        let mut later = Vec::new();
        for p in buffer.head.drain(..).chain(buffer.tail.drain(..)) {
            self.held -= cost(&p);
            if p.index <= end {
                // Earlier than its first frame would be a connection judged before: none is left.
                mine.push(p);
            } else {
                later.push(p);
            }
        }
        let dropped = if buffer.dropped.count > 0 && buffer.dropped.first <= end {
            buffer.dropped
        } else {
            Dropped::default()
        };
        if !later.is_empty() {
            // A new connection on the same endpoints began before this one was judged.
            let seq = self.next_seq;
            self.next_seq += 1;
            let mut rest = Buffer {
                seq,
                head: Vec::new(),
                tail: VecDeque::new(),
                dropped: Dropped::default(),
                given_up: false,
            };
            for p in later {
                self.held += cost(&p);
                if rest.head.len() < self.head_max {
                    rest.head.push(p);
                } else {
                    rest.tail.push_back(p);
                }
            }
            self.ages.insert(seq, key);
            self.buffers.insert(key, rest);
        }
        (mine, dropped)
    }

    /// Drops every buffer (the capture is over).
    pub(crate) fn clear(&mut self) {
        self.buffers.clear();
        self.ages.clear();
        self.held = 0;
        self.fragments.clear();
    }

    fn write(
        &mut self,
        v: &Verdict,
        packets: &[Packet],
        dropped: Dropped,
    ) -> Result<PathBuf, SaveError> {
        let name = self.unused_name(&file_name(v));
        let path = self.dir.join(&name);
        let fail = |source: WriteError| SaveError::Write {
            path: path.clone(),
            source,
        };
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| fail(e.into()))?;
        let kept = packets.len();
        let mut comment = format!(
            "shakedown: connection {} of {}, {} → {}: {} {} ({}). {kept} packet{} of the connection kept",
            v.conn,
            self.source,
            v.client,
            v.server,
            v.outcome.as_str(),
            v.cause.code,
            v.cause.explanation,
            if kept == 1 { "" } else { "s" },
        );
        if dropped.count > 0 {
            comment.push_str(&format!(
                "; {} not kept (frames {} to {}: over the {}-packet or memory cap)",
                dropped.count,
                dropped.first,
                dropped.last,
                self.head_max + self.tail_max
            ));
        }
        let mut secrets = self.key_log_lines(v);
        if let Some(lines) = &secrets {
            let n = lines.iter().filter(|b| **b == b'\n').count() as u64;
            comment.push_str(&format!(
                "; with the {} of its client random (a Decryption Secrets Block), so the file decrypts by itself",
                plural(n, "key log line")
            ));
        }
        comment.push('.');
        let mut w = PcapNgWriter::with_section_comment(
            BufWriter::with_capacity(64 * 1024, file),
            Some(&comment),
        )
        .map_err(fail)?;
        if let Some(lines) = &mut secrets {
            let written = w.write_tls_key_log(lines);
            lines.zeroize();
            written.map_err(fail)?;
        }
        let deciding = v
            .cause
            .evidence
            .iter()
            .map(|e| e.at.frame)
            .max()
            .unwrap_or(v.end.frame);
        let mut interfaces: HashMap<(u32, LinkType), u32> = HashMap::new();
        for p in packets {
            let ifc = match interfaces.get(&(p.interface, p.link_type)) {
                Some(i) => *i,
                None => {
                    let i = w.add_interface(p.link_type, 0).map_err(fail)?;
                    interfaces.insert((p.interface, p.link_type), i);
                    i
                }
            };
            let mut note = format!("frame {} of {}", p.index, self.source);
            if p.index == deciding {
                note.push_str(&format!(
                    "; shakedown: {} {}: {}",
                    v.outcome.as_str(),
                    v.cause.code,
                    v.cause.explanation
                ));
            }
            w.write_packet_with_comment(ifc, p.ts, &p.data, p.orig_len, &note)
                .map_err(fail)?;
        }
        w.finish().map_err(fail)?;
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.files.insert(name.clone(), size);
        self.file_bytes += size;
        self.rotate(Some(&name));
        Ok(path)
    }

    /// `name`, or `name` with `_2`, `_3`, ... before the extension if a file of that name exists.
    fn unused_name(&self, name: &str) -> String {
        let stem = name.trim_end_matches(".pcapng");
        let mut candidate = name.to_string();
        let mut n = 2;
        while self.files.contains_key(&candidate) || self.dir.join(&candidate).exists() {
            candidate = format!("{stem}_{n}.pcapng");
            n += 1;
        }
        candidate
    }

    /// Removes the oldest files while more than the caps are kept (never `keep`, the file just
    /// written).
    fn rotate(&mut self, keep: Option<&str>) {
        while self.files.len() > self.max_files || self.file_bytes > self.max_bytes {
            let Some(oldest) = self
                .files
                .keys()
                .find(|n| Some(n.as_str()) != keep)
                .cloned()
            else {
                break;
            };
            let size = self.files.remove(&oldest).unwrap_or(0);
            self.file_bytes = self.file_bytes.saturating_sub(size);
            if std::fs::remove_file(self.dir.join(&oldest)).is_ok() {
                self.counts.removed += 1;
            }
        }
    }
}

/// `20261207T093512.123Z_10.0.0.1-51514_10.0.0.2-443_no_shared_cipher.pcapng`: the connection's
/// first packet (UTC, milliseconds), its client and server, its cause. IPv6 colons become dots.
pub(crate) fn file_name(v: &Verdict) -> String {
    format!(
        "{}_{}_{}_{}.pcapng",
        compact_time(v.start.ts),
        endpoint(v.client),
        endpoint(v.server),
        v.cause.code
    )
}

/// `2026-12-07T09:35:12.123456Z` as `20261207T093512.123Z`.
fn compact_time(ts: Timestamp) -> String {
    let full = ts.to_string();
    let (date_time, fraction) = full.split_once('.').unwrap_or((&full, "000000Z"));
    let digits: String = date_time
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}.{}Z", fraction.get(..3).unwrap_or("000"))
}

fn endpoint(e: Endpoint) -> String {
    format!("{}-{}", e.ip.to_string().replace(':', "."), e.port)
}

/// Whether a file name is one [`file_name`] makes: `YYYYMMDDTHHMMSS.mmmZ_..._....pcapng`.
fn is_our_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 21
        && name.ends_with(".pcapng")
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'.'
        && b[16..19].iter().all(u8::is_ascii_digit)
        && &b[19..21] == b"Z_"
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        save: SaveOptions,
    }

    fn options(extra: &[&str]) -> SaveOptions {
        let mut args = vec!["x", "--save-failures", "unused"];
        args.extend_from_slice(extra);
        Cli::parse_from(args).save
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/tls")
            .join(name)
    }

    /// Runs a fixture through the engine with `saver`; its verdicts.
    fn run(saver: &mut Saver, name: &str) -> Vec<Verdict> {
        let config = Config::default();
        let path = fixture(name);
        saver.start_capture(name, &config);
        let mut reader = shakedown::capture::open(&path).expect("fixture");
        let mut verdicts: Vec<Verdict> = Vec::new();
        let mut err = Vec::new();
        crate::stream::analyze_saving(
            &mut reader,
            &config,
            saver,
            &Selection::default(),
            &mut verdicts,
            &mut err,
        )
        .expect("reads");
        assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
        verdicts
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The frames of a written file, by their comments: (comment, timestamp).
    fn frames_of(path: &Path) -> Vec<(u64, Timestamp)> {
        let mut reader = shakedown::capture::open(path).expect("written file opens");
        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame().expect("reads") {
            frames.push((f.index, f.ts));
        }
        frames
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shakedown-save-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_failure_is_written_whole_and_a_completed_connection_not_at_all() {
        let dir = temp_dir("whole");
        let mut saver = Saver::open(&options(&[]), &dir, &Config::default()).unwrap();
        let failed = run(&mut saver, "no-shared-cipher.pcap");
        let ok = run(&mut saver, "gnutls-tls13-ok.pcap");
        assert_eq!(ok[0].outcome, Outcome::Completed);
        let names = files(&dir);
        assert_eq!(names, [file_name(&failed[0])]);
        assert!(names[0].ends_with("_127.0.0.1-56464_127.0.0.1-4452_no_shared_cipher.pcapng"));
        let written = frames_of(&dir.join(&names[0]));
        assert_eq!(
            written.len() as u64,
            failed[0].packets.client + failed[0].packets.server
        );
        // Read back by the engine: the same verdict.
        let mut again = Vec::new();
        let mut r = shakedown::capture::open(&dir.join(&names[0])).unwrap();
        shakedown::analyze(&mut r, &Config::default(), &mut again).unwrap();
        assert_eq!(
            (again[0].outcome, again[0].cause.code),
            (failed[0].outcome, failed[0].cause.code)
        );
        assert_eq!(saver.counts.written, 1);
        assert_eq!(saver.held, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_fragments_of_a_datagram_are_saved_with_its_connection() {
        // A real router split the server's full-sized segments into two IP fragments each; the
        // capture (filtered on the hosts) holds this one connection and nothing else.
        let name = "../net/fragments-at-client.pcap";
        let dir = temp_dir("fragments");
        let mut saver = Saver::open(&options(&[]), &dir, &Config::default()).unwrap();
        let failed = run(&mut saver, name);
        assert_eq!(failed.len(), 1);
        let names = files(&dir);
        assert_eq!(names, [file_name(&failed[0])]);
        let written = frames_of(&dir.join(&names[0]));
        let original = frames_of(&fixture(name));
        // Every frame, the fragments held for reassembly included, with its time, in order.
        assert_eq!(written, original);
        assert!(
            written.len() as u64 > failed[0].packets.client + failed[0].packets.server,
            "fragments are frames beyond the connection's segments"
        );
        // Read back alone, the file reassembles as the capture did: the same verdict and the
        // server's certificate flight whole.
        let mut again = Vec::new();
        let mut r = shakedown::capture::open(&dir.join(&names[0])).unwrap();
        shakedown::analyze(&mut r, &Config::default(), &mut again).unwrap();
        assert_eq!(
            (again[0].outcome, again[0].cause.code, again[0].stage),
            (failed[0].outcome, failed[0].cause.code, failed[0].stage)
        );
        assert_eq!(again[0].bytes, failed[0].bytes);
        assert_eq!(saver.fragments.bytes, 0, "nothing left held");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_first_packets_and_the_last_are_kept_and_the_rest_counted() {
        let dir = temp_dir("cap");
        let mut saver = Saver::open(
            &options(&["--save-failures-max-packets", "4"]),
            &dir,
            &Config::default(),
        )
        .unwrap();
        let v = run(&mut saver, "no-shared-cipher.pcap");
        let names = files(&dir);
        let bytes = std::fs::read(dir.join(&names[0])).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let total = v[0].packets.client + v[0].packets.server;
        // Three first packets and the last one.
        assert!(
            text.contains(&format!(
                "4 packets of the connection kept; {} not kept (frames 4 to {}:",
                total - 4,
                total - 1
            )),
            "{text}"
        );
        let kept = frames_of(&dir.join(&names[0]));
        assert_eq!(kept.len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_cause_is_the_comment_of_the_deciding_frame() {
        let dir = temp_dir("comment");
        let mut saver = Saver::open(&options(&[]), &dir, &Config::default()).unwrap();
        let v = run(&mut saver, "no-shared-cipher.pcap");
        let deciding = v[0]
            .cause
            .evidence
            .iter()
            .map(|e| e.at.frame)
            .max()
            .unwrap();
        let bytes = std::fs::read(dir.join(&files(&dir)[0])).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let marker = format!(
            "frame {deciding} of no-shared-cipher.pcap; shakedown: failed no_shared_cipher: "
        );
        assert_eq!(text.matches(&marker).count(), 1, "{text}");
        assert_eq!(text.matches("; shakedown: ").count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn past_the_file_cap_the_oldest_files_go_those_of_earlier_runs_included() {
        let dir = temp_dir("rotate");
        std::fs::create_dir_all(&dir).unwrap();
        // An earlier run's file (older than any fixture) and a file that is not ours.
        let old = "20000101T000000.000Z_10.0.0.1-1_10.0.0.2-443_server_reset.pcapng";
        std::fs::write(dir.join(old), b"x").unwrap();
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        let mut saver = Saver::open(
            &options(&["--save-failures-max-files", "2"]),
            &dir,
            &Config::default(),
        )
        .unwrap();
        let a = run(&mut saver, "no-shared-cipher.pcap");
        assert_eq!(saver.counts.removed, 0);
        let b = run(&mut saver, "server-rst-after-hello.pcap");
        let c = run(&mut saver, "expired-cert.pcap");
        assert!(a[0].start.ts < b[0].start.ts && b[0].start.ts < c[0].start.ts);
        let mut expect = vec![file_name(&b[0]), file_name(&c[0]), "notes.txt".to_string()];
        expect.sort();
        assert_eq!(files(&dir), expect);
        assert_eq!(saver.counts.removed, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn under_the_memory_cap_the_longest_open_buffers_are_given_up() {
        let dir = temp_dir("memory");
        let mut saver = Saver::open(
            &options(&["--save-failures-buffer", "1K"]),
            &dir,
            &Config::default(),
        )
        .unwrap();
        run(&mut saver, "no-shared-cipher.pcap");
        assert!(saver.counts.given_up >= 1);
        let bytes = std::fs::read(dir.join(&files(&dir)[0])).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("not kept"));
        assert_eq!(saver.held, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_sort_by_time_and_are_recognised() {
        assert_eq!(
            compact_time(Timestamp::from_secs_nanos(1_796_636_112, 123_456_789)),
            "20261207T093512.123Z"
        );
        let a = format!(
            "{}_10.0.0.1-51514_10.0.0.2-443_no_shared_cipher.pcapng",
            compact_time(Timestamp::from_secs_nanos(1_796_636_112, 0))
        );
        let b = format!(
            "{}_10.0.0.1-51514_10.0.0.2-443_no_shared_cipher.pcapng",
            compact_time(Timestamp::from_secs_nanos(1_796_636_113, 0))
        );
        assert!(a < b);
        assert!(is_our_name(&a) && is_our_name(&b));
        assert!(!is_our_name("notes.txt") && !is_our_name("20261207T093512.pcapng"));
        let v6 = Endpoint::new("2001:db8::1".parse().unwrap(), 443);
        assert_eq!(endpoint(v6), "2001.db8..1-443");
    }
}
