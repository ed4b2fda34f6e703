//! `shakedown summary PATH...`: one overview of many captures. Folders are walked recursively and
//! every regular file is tried as a capture (recognised by content, not name; other files are
//! skipped quietly and counted). Files are analysed `-j N` at once (one thread each, see
//! [`crate::pool`]); each file's verdicts are folded into a [`Tally`] of counts, and the tallies
//! are summed in the files' order, so the output does not depend on N.
//!
//! The report: counts by outcome and by cause; the servers (ip:port) and clients (ip) with the
//! most failures; for those servers, what their clients offered in failed handshakes next to what
//! the servers chose in completed ones; the most common JA3 and JA4 fingerprints among failures.
//! As aligned text, or with `--json` as one JSON object. Exit status as for the main command.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::{Map, Value, json};
use shakedown::capture::CaptureError;
use shakedown::json::version_name;
use shakedown::tls::CipherSuite;
use shakedown::{Config, Sink, Verdict};

use crate::Status;
use crate::columns::Columns;
use crate::report::plural;

/// How many servers, clients and fingerprints are listed.
const TOP: usize = 10;
/// How many offered suites and chosen parameters are listed per server.
const TOP_SUITES: usize = 5;

/// Summarise the TLS failures of many captures: counts by outcome and cause, the servers and
/// clients with the most failures, what they offered and chose, common fingerprints.
#[derive(Debug, Parser)]
#[command(name = "shakedown summary", bin_name = "shakedown summary", version, after_help = EXAMPLES)]
pub(crate) struct SummaryArgs {
    /// Capture files or folders (searched recursively; files are recognised by content).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Write one JSON object instead of the text report (see docs/SCHEMA.md).
    #[arg(long)]
    json: bool,
    /// Also write the records of the connections counted to a Parquet file, file after file (as
    /// `shakedown --parquet` does; see docs/SCHEMA.md).
    #[arg(long, value_name = "FILE")]
    parquet: Option<PathBuf>,
    /// Files analysed at once (default: all cores).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Memory caps and timeouts, as for the main command.
    #[command(flatten)]
    limits: crate::limits::Limits,
    // Last: the help heading of a flattened group goes on to the end of the list.
    /// Which connections are counted (default: all of them).
    #[command(flatten)]
    select: crate::filter::Selection,
}

const EXAMPLES: &str = "Examples:
  shakedown summary /var/captures            every capture below the folder
  shakedown summary -j 2 a.pcap b.pcapng.gz  two files, two at once
  shakedown summary --json dir | jq .servers one JSON object
  shakedown summary --port 3389 --failed dir only failed connections on port 3389
  shakedown summary --parquet all.parquet dir   the same, and every record into a Parquet file

Filters (--failed, --conn, --cause, --host, --port) select the connections counted, as for the main
command; the exit status counts only those. The --json object is described in docs/SCHEMA.md.

Exit status: 0 no failure found, 1 failures found, 2 a file could not be read.";

/// What one server saw: its failures and what was offered to it and what it chose.
#[derive(Debug, Default, Clone)]
struct ServerTally {
    connections: u64,
    failures: u64,
    causes: BTreeMap<String, u64>,
    /// Highest version of the ClientHello of each failed handshake.
    offered_versions: BTreeMap<String, u64>,
    /// Failed handshakes whose ClientHello offered each suite.
    offered_suites: BTreeMap<String, u64>,
    /// Failed handshakes with a ClientHello.
    failed_hellos: u64,
    /// Completed handshakes by (version, suite) the server chose.
    chosen: BTreeMap<(String, String), u64>,
}

/// Failed handshakes sharing a client fingerprint.
#[derive(Debug, Default, Clone)]
struct Fingerprint {
    /// The JA3 string (empty for JA4, which is its own text).
    full: String,
    failures: u64,
    causes: BTreeMap<String, u64>,
}

impl Fingerprint {
    fn merge(&mut self, o: Fingerprint) {
        if self.full.is_empty() {
            self.full = o.full;
        }
        self.failures += o.failures;
        for (k, n) in o.causes {
            add(&mut self.causes, k, n);
        }
    }

    /// The most common cause and its count, as `cause (n)`.
    fn top_cause(&self) -> String {
        ranked(&self.causes, |c| *c)
            .into_iter()
            .next()
            .map(|(c, n)| format!("{c} ({n})"))
            .unwrap_or_default()
    }
}

/// Counts over any number of verdicts; sums of tallies are independent of order.
#[derive(Debug, Default, Clone)]
struct Tally {
    connections: u64,
    failures: u64,
    outcomes: BTreeMap<&'static str, u64>,
    causes: BTreeMap<&'static str, u64>,
    servers: BTreeMap<String, ServerTally>,
    /// Per client address: (connections, failures).
    clients: BTreeMap<String, (u64, u64)>,
    /// JA3 MD5 → (JA3 string, failures).
    /// JA3 MD5 → its string and the failed handshakes with it.
    ja3: BTreeMap<String, Fingerprint>,
    /// JA4 → the failed handshakes with it.
    ja4: BTreeMap<String, Fingerprint>,
    /// Connections the filters left out.
    unselected: u64,
}

fn add<K: Ord>(m: &mut BTreeMap<K, u64>, k: K, n: u64) {
    *m.entry(k).or_default() += n;
}

fn suite_name(c: CipherSuite) -> String {
    crate::report::suite_name(c)
}

impl Tally {
    fn add_verdict(&mut self, v: &Verdict) {
        let failed = v.is_failure();
        self.connections += 1;
        self.failures += u64::from(failed);
        add(&mut self.outcomes, v.outcome.as_str(), 1);
        add(&mut self.causes, v.cause.code.as_str(), 1);
        let client = self.clients.entry(v.client.ip.to_string()).or_default();
        client.0 += 1;
        client.1 += u64::from(failed);
        let server = self.servers.entry(v.server.to_string()).or_default();
        server.connections += 1;
        let tls = v.tls.as_ref();
        if failed {
            server.failures += 1;
            add(&mut server.causes, v.cause.code.as_str().to_string(), 1);
            if let Some(ch) = tls.and_then(|t| t.client_hello.as_ref()) {
                server.failed_hellos += 1;
                add(
                    &mut server.offered_versions,
                    version_name(ch.highest_version()),
                    1,
                );
                // Real suites only, as the reports count them: no GREASE, no signalling value.
                let mut suites = crate::report::Offer::of(ch).suites;
                suites.sort();
                suites.dedup();
                for s in suites {
                    add(&mut server.offered_suites, s, 1);
                }
                let ja3 = ch.ja3();
                let one = |full: String| Fingerprint {
                    full,
                    failures: 1,
                    causes: BTreeMap::from([(v.cause.code.as_str().to_string(), 1)]),
                };
                self.ja3.entry(ja3.hash).or_default().merge(one(ja3.full));
                self.ja4
                    .entry(ch.ja4())
                    .or_default()
                    .merge(one(String::new()));
            }
        } else if let Some(sh) = tls.and_then(|t| t.server_hello.as_ref())
            && v.outcome == shakedown::Outcome::Completed
        {
            add(
                &mut server.chosen,
                (version_name(sh.version), suite_name(sh.cipher_suite)),
                1,
            );
        }
    }

    fn merge(&mut self, o: Tally) {
        self.connections += o.connections;
        self.failures += o.failures;
        self.unselected += o.unselected;
        for (k, n) in o.outcomes {
            add(&mut self.outcomes, k, n);
        }
        for (k, n) in o.causes {
            add(&mut self.causes, k, n);
        }
        for (k, (c, f)) in o.clients {
            let e = self.clients.entry(k).or_default();
            e.0 += c;
            e.1 += f;
        }
        for (k, s) in o.servers {
            let e = self.servers.entry(k).or_default();
            e.connections += s.connections;
            e.failures += s.failures;
            e.failed_hellos += s.failed_hellos;
            for (k, n) in s.causes {
                add(&mut e.causes, k, n);
            }
            for (k, n) in s.offered_versions {
                add(&mut e.offered_versions, k, n);
            }
            for (k, n) in s.offered_suites {
                add(&mut e.offered_suites, k, n);
            }
            for (k, n) in s.chosen {
                add(&mut e.chosen, k, n);
            }
        }
        for (k, f) in o.ja3 {
            self.ja3.entry(k).or_default().merge(f);
        }
        for (k, f) in o.ja4 {
            self.ja4.entry(k).or_default().merge(f);
        }
    }
}

/// Entries by count (descending), then key (ascending): a deterministic "most common" order.
fn ranked<K: Clone + Ord, V: Clone>(m: &BTreeMap<K, V>, count: impl Fn(&V) -> u64) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by(|a, b| count(&b.1).cmp(&count(&a.1)).then_with(|| a.0.cmp(&b.0)));
    v
}

/// What happened to one file.
enum FileResult {
    /// Analysed; `truncated` if the capture was cut short, `error` if reading stopped on an error,
    /// `warnings` what the capture's own key log gave to warn about (lines, each ending in `\n`).
    Analysed {
        truncated: bool,
        error: Option<String>,
        warnings: String,
    },
    /// Not a capture (unknown magic bytes, or empty): skipped quietly.
    Skipped,
    /// Could not be read.
    Error(String),
}

/// Counts the selected verdicts (and keeps their records for the Parquet file, when wanted).
struct TallySink<'a> {
    tally: &'a mut Tally,
    select: &'a crate::filter::Selection,
    columns: Option<&'a mut Columns<'static>>,
    capture: &'a str,
}

impl Sink for TallySink<'_> {
    /// A record could not be added to the columns (`--parquet`).
    type Error = shakedown_arrow::Error;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        if !self.select.matches(&verdict) {
            self.tally.unselected += 1;
            return Ok(ControlFlow::Continue(()));
        }
        self.tally.add_verdict(&verdict);
        if let Some(columns) = &mut self.columns {
            columns.push(&verdict, self.capture)?;
        }
        Ok(ControlFlow::Continue(()))
    }
}

fn analyse(
    path: &Path,
    config: &Config,
    select: &crate::filter::Selection,
    tally: &mut Tally,
    columns: Option<&mut Columns<'static>>,
) -> FileResult {
    let mut reader = match shakedown::capture::open(path) {
        Ok(r) => r,
        Err(CaptureError::NotACapture { .. } | CaptureError::Empty) => return FileResult::Skipped,
        Err(e) => return FileResult::Error(e.to_string()),
    };
    let capture = path.display().to_string();
    let mut sink = TallySink {
        tally,
        select,
        columns,
        capture: &capture,
    };
    let analysed = shakedown::analyze(&mut reader, config, &mut sink);
    // Files are analysed side by side: the warnings wait to be written in the files' order.
    let mut warnings = Vec::new();
    crate::limits::warn_embedded_keys("shakedown", &capture, &reader, &mut warnings);
    let warnings = String::from_utf8_lossy(&warnings).into_owned();
    match analysed {
        Ok(s) => FileResult::Analysed {
            truncated: s.truncation.is_some(),
            error: None,
            warnings,
        },
        Err(e) => FileResult::Analysed {
            truncated: false,
            error: Some(e.to_string()),
            warnings,
        },
    }
}

/// Every regular file under `paths` (folders recursively, in name order; symbolic links to files
/// followed, to folders not, so a link loop cannot trap the walk), sorted and deduplicated. Paths
/// that do not exist are returned as errors.
fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, &mut errors),
            Ok(m) if m.is_file() => files.push(p.clone()),
            Ok(_) => {}
            Err(e) => errors.push((p.clone(), format!("cannot open: {e}"))),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.to_path_buf(), format!("cannot read folder: {e}")));
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            walk(&path, files, errors);
        } else if kind.is_file()
            || (kind.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()))
        {
            files.push(path);
        }
    }
}

/// `shakedown summary ...` (`args` starts with the program name, then `summary`).
pub(crate) fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let args = match SummaryArgs::try_parse_from(args.into_iter().skip(1)) {
        Ok(a) => a,
        Err(e) => return crate::clap_exit(&e, out, err),
    };
    let jobs = crate::jobs_or_cores(args.jobs);
    let (files, mut errors) = discover(&args.paths);
    let mut config = args.limits.config();
    if !args.limits.load_keys(&mut config, err) {
        return Status::Error;
    }
    let mut parquet = match args
        .parquet
        .as_deref()
        .map(crate::columns::create)
        .transpose()
    {
        Ok(p) => p,
        Err(e) => {
            let path = args.parquet.as_deref().unwrap_or(Path::new(""));
            let _ = writeln!(err, "shakedown: {}: {e}", path.display());
            return Status::Error;
        }
    };
    let keep = args.parquet.is_some();
    let mut parquet_failed = None;
    let mut total = Tally::default();
    let mut results = Vec::with_capacity(files.len());
    let analyse_one = |path: &PathBuf| {
        let mut tally = Tally::default();
        let mut columns = match keep.then(Columns::in_memory).transpose() {
            Ok(c) => c,
            Err(e) => return (FileResult::Error(e.to_string()), tally, Vec::new()),
        };
        let mut result = analyse(path, &config, &args.select, &mut tally, columns.as_mut());
        let batches = match columns {
            Some(columns) => columns.into_batches().unwrap_or_else(|e| {
                let warnings = match &mut result {
                    FileResult::Analysed { warnings, .. } => std::mem::take(warnings),
                    _ => String::new(),
                };
                result = FileResult::Analysed {
                    truncated: false,
                    error: Some(e.to_string()),
                    warnings,
                };
                Vec::new()
            }),
            None => Vec::new(),
        };
        (result, tally, batches)
    };
    // The pool hands results over in the files' order, so the Parquet rows are written in that
    // order as each file is done (at most a few files per thread wait in memory).
    crate::pool::in_order(&files, jobs, analyse_one, |(result, tally, batches)| {
        total.merge(tally);
        results.push(result);
        if let Some(file) = parquet.as_mut()
            && parquet_failed.is_none()
        {
            parquet_failed = batches
                .iter()
                .try_for_each(|batch| file.write_batch(batch))
                .err();
        }
        ControlFlow::Continue(())
    });
    if let (Some(file), Some(path)) = (parquet, &args.parquet) {
        if let Some(e) = parquet_failed {
            errors.push((path.clone(), e.to_string()));
        } else if !crate::columns::finish(file, path, err) {
            return Status::Error;
        }
    }
    let mut files_seen = FileCounts::default();
    let mut warnings = Vec::new();
    for (path, r) in files.iter().cloned().zip(results) {
        match r {
            FileResult::Analysed {
                truncated,
                error,
                warnings: keys,
            } => {
                files_seen.captures += 1;
                warnings.extend(keys.lines().map(str::to_string));
                files_seen.truncated += u64::from(truncated);
                if truncated {
                    warnings.push(format!(
                        "shakedown: {}: warning: the capture is cut short",
                        path.display()
                    ));
                }
                if let Some(e) = error {
                    errors.push((path, e));
                }
            }
            FileResult::Skipped => files_seen.skipped += 1,
            FileResult::Error(e) => {
                files_seen.unreadable += 1;
                errors.push((path, e));
            }
        }
    }
    errors.sort();
    for w in &warnings {
        let _ = writeln!(err, "{w}");
    }
    for (p, e) in &errors {
        let _ = writeln!(err, "shakedown: {}: {e}", p.display());
    }
    let written = if args.json {
        writeln!(out, "{}", to_json(&total, &files_seen, &errors))
    } else {
        text(out, &total, &files_seen)
    };
    if let Err(e) = written.and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(err, "shakedown: writing the output: {e}");
        return Status::Error;
    }
    if !errors.is_empty() {
        Status::Error
    } else if total.failures > 0 {
        Status::Failures
    } else {
        Status::NoFailure
    }
}

#[derive(Debug, Default)]
struct FileCounts {
    captures: u64,
    skipped: u64,
    unreadable: u64,
    truncated: u64,
}

/// Outcomes in a fixed order (failures first), then any others.
fn outcomes(t: &Tally) -> Vec<(&'static str, u64)> {
    let order = ["failed", "incomplete", "completed", "not_tls"];
    let mut v: Vec<_> = order
        .iter()
        .map(|o| (*o, t.outcomes.get(o).copied().unwrap_or(0)))
        .collect();
    v.extend(
        t.outcomes
            .iter()
            .filter(|(k, _)| !order.contains(k))
            .map(|(k, n)| (*k, *n)),
    );
    v
}

fn top_servers(t: &Tally) -> Vec<(String, ServerTally)> {
    let mut v = ranked(&t.servers, |s| s.failures);
    v.retain(|(_, s)| s.failures > 0);
    v.truncate(TOP);
    v
}

fn top_clients(t: &Tally) -> Vec<(String, (u64, u64))> {
    let mut v = ranked(&t.clients, |c| c.1);
    v.retain(|(_, c)| c.1 > 0);
    v.truncate(TOP);
    v
}

fn top_fingerprints(m: &BTreeMap<String, Fingerprint>) -> Vec<(String, Fingerprint)> {
    let mut v = ranked(m, |f| f.failures);
    v.truncate(TOP);
    v
}

fn top<K: Clone + Ord>(m: &BTreeMap<K, u64>, n: usize) -> Vec<(K, u64)> {
    let mut v = ranked(m, |c| *c);
    v.truncate(n);
    v
}

fn to_json(t: &Tally, f: &FileCounts, errors: &[(PathBuf, String)]) -> Value {
    let mut outcome_map = Map::new();
    for (k, n) in outcomes(t) {
        outcome_map.insert(k.into(), n.into());
    }
    let mut cause_map = Map::new();
    for (k, n) in ranked(&t.causes, |c| *c) {
        cause_map.insert(k.into(), n.into());
    }
    let servers: Vec<Value> = top_servers(t)
        .into_iter()
        .map(|(k, s)| {
            json!({
                "server": k,
                "connections": s.connections,
                "failures": s.failures,
                "causes": ranked(&s.causes, |c| *c).into_iter().map(|(c, n)| json!({"cause": c, "count": n})).collect::<Vec<_>>(),
                "offered": {
                    "client_hellos": s.failed_hellos,
                    "highest_versions": ranked(&s.offered_versions, |c| *c).into_iter().map(|(v, n)| json!({"version": v, "count": n})).collect::<Vec<_>>(),
                    "suites": top(&s.offered_suites, TOP_SUITES).into_iter().map(|(v, n)| json!({"suite": v, "count": n})).collect::<Vec<_>>(),
                },
                "chosen_when_completed": top(&s.chosen, TOP_SUITES).into_iter().map(|((v, c), n)| json!({"version": v, "suite": c, "count": n})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let clients: Vec<Value> = top_clients(t)
        .into_iter()
        .map(|(k, (c, fl))| json!({"client": k, "connections": c, "failures": fl}))
        .collect();
    let causes = |f: &Fingerprint| -> Vec<Value> {
        ranked(&f.causes, |c| *c)
            .into_iter()
            .map(|(c, n)| json!({"cause": c, "count": n}))
            .collect()
    };
    let ja3: Vec<Value> = top_fingerprints(&t.ja3)
        .into_iter()
        .map(|(h, f)| json!({"ja3_hash": h, "ja3": f.full, "count": f.failures, "causes": causes(&f)}))
        .collect();
    let ja4: Vec<Value> = top_fingerprints(&t.ja4)
        .into_iter()
        .map(|(k, f)| json!({"ja4": k, "count": f.failures, "causes": causes(&f)}))
        .collect();
    json!({
        "schema": shakedown::json::SCHEMA_VERSION,
        "files": {
            "captures": f.captures,
            "skipped_not_captures": f.skipped,
            "unreadable": f.unreadable,
            "cut_short": f.truncated,
        },
        "connections": t.connections,
        "unselected": t.unselected,
        "failures": t.failures,
        "outcomes": outcome_map,
        "causes": cause_map,
        "servers": servers,
        "clients": clients,
        "fingerprints": { "ja3": ja3, "ja4": ja4 },
        "errors": errors.iter().map(|(p, e)| json!({"file": p.display().to_string(), "error": e})).collect::<Vec<_>>(),
    })
}

/// Writes a header and rows as aligned columns; `align` has one letter per column, `l` (left) or
/// `r` (right, for numbers). The last column is not padded on the right.
fn table(
    out: &mut dyn Write,
    align: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut s = String::from(" ");
        for (i, ((c, w), a)) in cells.iter().zip(&width).zip(align.chars()).enumerate() {
            let pad = " ".repeat(w.saturating_sub(c.chars().count()));
            s.push(' ');
            if a == 'r' {
                s.push_str(&pad);
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&pad);
                }
            }
            s.push(' ');
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header))?;
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    Ok(())
}

fn text(out: &mut dyn Write, t: &Tally, f: &FileCounts) -> io::Result<()> {
    let selected = if t.unselected > 0 {
        format!(" selected (of {})", t.connections + t.unselected)
    } else {
        String::new()
    };
    writeln!(
        out,
        "{}, {}{selected}, {} failed",
        plural(f.captures, "capture"),
        plural(t.connections, "connection"),
        t.failures
    )?;
    if f.skipped + f.unreadable + f.truncated > 0 {
        writeln!(
            out,
            "  ({} skipped, {} unreadable, {} cut short)",
            plural(f.skipped, "other file"),
            f.unreadable,
            plural(f.truncated, "capture")
        )?;
    }
    writeln!(out, "\nOutcomes")?;
    let rows: Vec<Vec<String>> = outcomes(t)
        .into_iter()
        .map(|(k, n)| vec![k.to_string(), n.to_string()])
        .collect();
    table(out, "lr", &["OUTCOME", "CONNECTIONS"], &rows)?;
    writeln!(out, "\nCauses")?;
    let rows: Vec<Vec<String>> = ranked(&t.causes, |c| *c)
        .into_iter()
        .map(|(k, n)| vec![k.to_string(), n.to_string()])
        .collect();
    table(out, "lr", &["CAUSE", "CONNECTIONS"], &rows)?;
    let servers = top_servers(t);
    if servers.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nServers with the most failures")?;
    let rows: Vec<Vec<String>> = servers
        .iter()
        .map(|(k, s)| {
            let cause = ranked(&s.causes, |c| *c)
                .into_iter()
                .next()
                .map(|(c, n)| format!("{c} ({n})"))
                .unwrap_or_default();
            vec![
                k.clone(),
                s.failures.to_string(),
                s.connections.to_string(),
                cause,
            ]
        })
        .collect();
    table(
        out,
        "lrrl",
        &["SERVER", "FAILED", "CONNECTIONS", "TOP CAUSE"],
        &rows,
    )?;
    writeln!(out, "\nClients with the most failures")?;
    let rows: Vec<Vec<String>> = top_clients(t)
        .into_iter()
        .map(|(k, (c, fl))| vec![k, fl.to_string(), c.to_string()])
        .collect();
    table(out, "lrr", &["CLIENT", "FAILED", "CONNECTIONS"], &rows)?;
    writeln!(
        out,
        "\nWhat failing servers were offered (failed handshakes) and chose (completed ones)"
    )?;
    let counted = |v: Vec<(String, u64)>| -> String {
        if v.is_empty() {
            return "-".into();
        }
        v.into_iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (k, s) in &servers {
        writeln!(out, "  {k}")?;
        writeln!(
            out,
            "    offered versions: {} (in {})",
            counted(ranked(&s.offered_versions, |c| *c)),
            plural(s.failed_hellos, "ClientHello")
        )?;
        writeln!(
            out,
            "    offered suites:   {}",
            counted(top(&s.offered_suites, TOP_SUITES))
        )?;
        let chosen: Vec<(String, u64)> = top(&s.chosen, TOP_SUITES)
            .into_iter()
            .map(|((v, c), n)| (format!("{v} {c}"), n))
            .collect();
        let chosen = if chosen.is_empty() {
            "(no completed handshake)".to_string()
        } else {
            counted(chosen)
        };
        writeln!(out, "    chose:            {chosen}")?;
    }
    if !t.ja4.is_empty() {
        writeln!(out, "\nFingerprints among failures")?;
        let rows = |m: &BTreeMap<String, Fingerprint>| -> Vec<Vec<String>> {
            top_fingerprints(m)
                .into_iter()
                .map(|(k, f)| vec![k, f.failures.to_string(), f.top_cause()])
                .collect()
        };
        table(out, "lrl", &["JA3", "FAILED", "TOP CAUSE"], &rows(&t.ja3))?;
        writeln!(out)?;
        table(out, "lrl", &["JA4", "FAILED", "TOP CAUSE"], &rows(&t.ja4))?;
    }
    Ok(())
}
