//! `shakedown report --html FILE CAPTURE...`: one self-contained HTML page (inline CSS, inline SVG,
//! a few lines of inline script, no external assets) with the summary of each capture and, for each
//! failing or incomplete connection, a ladder diagram of its handshake, the cause, hints, Schannel
//! events, the RDP/TLS facts and the Wireshark filter.
//!
//! It sits beside the text renderer at the end of the data flow: the engine's verdicts come in through
//! a [`Sink`]; every string that came from a capture (SNI, cookie, certificate names, ...) goes through
//! [`escape`] before it reaches the page.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use clap::Parser;
use shakedown::tls::AlertLevel;
use shakedown::verdict::{EvidenceKind, Outcome, Step, TimelineEntry, Verdict};
use shakedown::{Side, Sink, Summary};

use crate::Status;
use crate::filter::Selection;
use crate::report::{Counts, NoteKind, Notes, Offer, plural};

const CSS: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/script.js");

/// Connections drawn in detail per capture; beyond it the page says how many were left out (a page
/// with thousands of diagrams helps nobody; the JSON output has them all).
const MAX_DETAILED: usize = 500;

/// Write an HTML report with a ladder diagram of each failing handshake.
#[derive(Debug, Parser)]
#[command(
    name = "shakedown report",
    bin_name = "shakedown report",
    about = "Write one self-contained HTML page: the summary, then a ladder diagram, the cause, hints, Schannel events and the Wireshark filter of each failing connection.",
    after_help = "Examples:
  shakedown report --html out.html capture.pcapng
  shakedown report --html all.html --all rdp.pcap.gz other.pcap

Filters (--failed, --conn, --cause, --host, --port) select the connections counted and drawn, as for
the main command; the exit status counts only those.

Exit status: 0 no failure found, 1 failures found, 2 an input or the output could not be used."
)]
pub(crate) struct ReportArgs {
    /// Where to write the page (`-` for standard output).
    #[arg(long, value_name = "FILE", required = true)]
    html: PathBuf,
    /// Detail every connection, completed ones too (the default details failed and incomplete ones).
    #[arg(long)]
    all: bool,
    /// Capture files (pcap or pcapng, optionally gzip- or zstd-compressed); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// Memory caps and timeouts.
    #[command(flatten)]
    limits: crate::limits::Limits,
    // Last: the help heading of a flattened group goes on to the end of the list.
    /// Which connections the page shows and counts (default: all of them).
    #[command(flatten)]
    select: Selection,
}

/// What the page keeps of one capture.
#[derive(Default)]
struct CaptureReport {
    name: String,
    error: Option<String>,
    summary: Option<Summary>,
    counts: Counts,
    detailed: Vec<Verdict>,
    omitted: u64,
}

impl CaptureReport {
    fn failures(&self) -> u64 {
        self.counts.failed()
    }
}

/// Collects verdicts as the engine hands them out.
struct Gather<'a> {
    report: &'a mut CaptureReport,
    all: bool,
    select: &'a Selection,
}

impl Sink for Gather<'_> {
    type Error = std::convert::Infallible;

    fn verdict(&mut self, v: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        let r = &mut *self.report;
        if self.select.is_active() && !self.select.matches(&v) {
            r.counts.unselected += 1;
            return Ok(ControlFlow::Continue(()));
        }
        r.counts.add(&v);
        if self.all || matches!(v.outcome, Outcome::Failed | Outcome::Incomplete) {
            if r.detailed.len() < MAX_DETAILED {
                r.detailed.push(v);
            } else {
                r.omitted += 1;
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Runs `shakedown report ...`; `args` starts with the program name, then `report`.
pub(crate) fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let args = match ReportArgs::try_parse_from(args.into_iter().skip(1)) {
        Ok(a) => a,
        Err(e) => return crate::clap_exit(&e, out, err),
    };
    let mut config = args.limits.config();
    if !args.limits.load_keys(&mut config, err) {
        return Status::Error;
    }
    let mut errors = false;
    let mut reports = Vec::new();
    for path in &args.captures {
        let mut report = CaptureReport {
            name: path.display().to_string(),
            ..CaptureReport::default()
        };
        match shakedown::capture::open(path) {
            Err(e) => report.error = Some(e.to_string()),
            Ok(mut reader) => {
                let mut sink = Gather {
                    report: &mut report,
                    all: args.all,
                    select: &args.select,
                };
                match shakedown::analyze(&mut reader, &config, &mut sink) {
                    Ok(s) => report.summary = Some(s),
                    Err(e) => report.error = Some(e.to_string()),
                }
                crate::limits::warn_embedded_keys("shakedown", &report.name, &reader, err);
            }
        }
        if let Some(e) = &report.error {
            let _ = writeln!(err, "shakedown: {}: {e}", report.name);
            errors = true;
        }
        if let Some(t) = report.summary.as_ref().and_then(|s| s.truncation.as_ref()) {
            let _ = writeln!(
                err,
                "shakedown: {}: warning: the capture is cut short ({}) at byte {} after {} frames; connections still open there are marked incomplete",
                report.name, t.reason, t.byte_offset, t.frames_read
            );
        }
        report
            .detailed
            .sort_by_key(|v| (crate::report::rank(v), v.conn));
        reports.push(report);
    }
    let page = render(&reports, args.all);
    let failures: u64 = reports.iter().map(CaptureReport::failures).sum();
    let target = args.html.display().to_string();
    let written = if args.html.as_os_str() == "-" {
        out.write_all(page.as_bytes()).and_then(|()| out.flush())
    } else {
        std::fs::write(&args.html, page.as_bytes())
    };
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return status(errors, failures);
        }
        let _ = writeln!(err, "shakedown: writing {target}: {e}");
        return Status::Error;
    }
    if args.html.as_os_str() != "-" {
        let _ = writeln!(
            out,
            "shakedown: wrote {target} ({}, {})",
            plural(reports.len() as u64, "capture"),
            plural(failures, "failed connection")
        );
    }
    status(errors, failures)
}

fn status(errors: bool, failures: u64) -> Status {
    if errors {
        Status::Error
    } else if failures > 0 {
        Status::Failures
    } else {
        Status::NoFailure
    }
}

/// Escapes text for HTML element content and quoted attribute values (also inside inline SVG).
///
/// `&`, `<`, `>`, `"` and `'` become character references; control characters other than tab and
/// newline (which HTML treats as parse errors, and which have no business in a report) become U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
fn render(reports: &[CaptureReport], all: bool) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"shakedown {}\">\n\
         <title>shakedown report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&names.join(", "))
    );
    let _ = write!(
        h,
        "<header>\n<h1>shakedown report</h1>\n<p>Why each TLS handshake in {} died: who hung up, with \
         what, when, and the probable cause. {} Times in the diagrams are milliseconds from each \
         connection's first SYN (or first packet).</p>\n</header>\n<main>\n",
        plural(reports.len() as u64, "capture"),
        if all {
            "Every connection is shown in detail."
        } else {
            "Failed and incomplete connections are shown in detail."
        }
    );
    summary_section(&mut h, reports);
    for (i, r) in reports.iter().enumerate() {
        capture_section(&mut h, i, r);
    }
    let _ = write!(
        h,
        "</main>\n<footer>\n<p class=\"note\">Made by shakedown {}. It does not decrypt traffic; \
         TLS 1.3 alerts after the ServerHello are seen only as short protected records.</p>\n\
         </footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn summary_section(h: &mut String, reports: &[CaptureReport]) {
    h.push_str(
        "<section aria-labelledby=\"summary\">\n<h2 id=\"summary\">Summary</h2>\n<div class=\"scroll\" role=\"region\" aria-label=\"Summary table\" tabindex=\"0\">\n<table class=\"summary\">\n\
         <caption class=\"note\">Connections per capture by outcome, causes, and what was skipped</caption>\n\
         <thead><tr><th scope=\"col\">Capture</th><th scope=\"col\" class=\"num\">Connections</th>\
         <th scope=\"col\" class=\"num\">Failed</th><th scope=\"col\" class=\"num\">Incomplete</th>\
         <th scope=\"col\" class=\"num\">Completed</th><th scope=\"col\" class=\"num\">Not TLS</th>\
         <th scope=\"col\" class=\"num\">Frames</th><th scope=\"col\">Causes</th>",
    );
    // The notes column only when some capture has something to say (skipped, cut, capped, unreadable).
    let with_notes = reports.iter().any(|r| !notes(r).is_empty());
    if with_notes {
        h.push_str("<th scope=\"col\">Notes</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let row = |h: &mut String, head: String, c: &Counts, frames: String, notes: Option<String>| {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{head}</th><td class=\"num\">{}</td>",
            c.total()
        );
        for n in c.outcomes {
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        let _ = writeln!(
            h,
            "<td class=\"num\">{frames}</td><td>{}</td>{}</tr>",
            causes_list(c),
            notes.map_or_else(String::new, |n| format!("<td>{n}</td>"))
        );
    };
    for (i, r) in reports.iter().enumerate() {
        let frames = r
            .summary
            .as_ref()
            .map_or_else(|| "–".to_string(), |s| s.frames.to_string());
        row(
            h,
            format!("<a href=\"#cap-{i}\">{}</a>", escape(&r.name)),
            &r.counts,
            frames,
            with_notes.then(|| notes(r).join("<br>")),
        );
    }
    if reports.len() > 1 {
        let mut counts = Counts::default();
        let mut frames = 0u64;
        for r in reports {
            counts.merge(&r.counts);
            frames += r.summary.as_ref().map_or(0, |s| s.frames);
        }
        row(
            h,
            "All captures".into(),
            &counts,
            frames.to_string(),
            with_notes.then(String::new),
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// Causes other than `none`, most frequent first, as `code ×n` lines.
fn causes_list(c: &Counts) -> String {
    let list = c.causes_ranked();
    if list.is_empty() {
        return "<span class=\"note\">none</span>".into();
    }
    list.iter()
        .map(|(c, n)| format!("<code>{}</code>&nbsp;×{n}", escape(c.as_str())))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// What was skipped, cut, duplicated or capped in a capture, as HTML fragments: the report
/// model's sentences, as the text report's footer says them.
fn notes(r: &CaptureReport) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(e) = &r.error {
        notes.push(format!(
            "<span class=\"error\">could not be read: {}</span>",
            escape(e)
        ));
    }
    if let Some(s) = &r.summary {
        for note in Notes::of(s).0 {
            let text = escape(&note.text);
            match note.kind {
                // The frame counts are columns of the table; only what was skipped is a note.
                NoteKind::Frames => {
                    if let Some((_, skipped)) = note.text.split_once("; skipped: ") {
                        notes.push(format!("skipped: {}", escape(skipped)));
                    }
                }
                NoteKind::Duplicates => notes.push(format!("note: {text}")),
                NoteKind::Caps => {
                    notes.push(format!("<span class=\"warning\">caps: {text}</span>"));
                }
                NoteKind::Cut => notes.push(format!("<span class=\"warning\">note: {text}</span>")),
                NoteKind::Truncated => {
                    notes.push(format!("<span class=\"warning\">warning: {text}</span>"));
                }
            }
        }
    }
    if r.omitted > 0 {
        notes.push(format!(
            "{} more not drawn (limit {MAX_DETAILED}; use --json for all)",
            plural(r.omitted, "connection")
        ));
    }
    notes
}

fn capture_section(h: &mut String, i: usize, r: &CaptureReport) {
    let _ = write!(
        h,
        "<section aria-labelledby=\"cap-{i}\">\n<h2 id=\"cap-{i}\">Capture {}</h2>\n",
        escape(&r.name)
    );
    if let Some(e) = &r.error {
        let _ = writeln!(
            h,
            "<p class=\"error\">This capture could not be read completely: {}</p>",
            escape(e)
        );
    }
    if let Some(s) = &r.summary {
        // The same sentences as the text report's header and footer line.
        let frames = Notes::of(s)
            .0
            .into_iter()
            .find(|n| n.kind == NoteKind::Frames)
            .map_or_else(String::new, |n| n.text);
        let _ = writeln!(
            h,
            "<p>{}: {}. {}.</p>",
            r.counts.connections_phrase(false),
            r.counts.outcomes_phrase(),
            escape(&frames)
        );
    }
    for n in notes(r) {
        let _ = writeln!(h, "<p>{n}</p>");
    }
    if r.detailed.is_empty() {
        h.push_str("<p>No connection to show in detail.</p>\n");
    } else {
        h.push_str("<nav aria-label=\"Connections in this capture\"><ul>\n");
        for v in &r.detailed {
            let _ = writeln!(
                h,
                "<li><a href=\"#c{i}-{}\">Connection {}</a>: {} <code>{}</code> {} → {}</li>",
                v.conn,
                v.conn,
                v.outcome.as_str(),
                v.cause.code,
                escape(&v.client.to_string()),
                escape(&v.server.to_string())
            );
        }
        h.push_str("</ul></nav>\n");
        for v in &r.detailed {
            connection(h, i, v);
        }
    }
    h.push_str("</section>\n");
}

fn connection(h: &mut String, cap: usize, v: &Verdict) {
    let id = format!("c{cap}-{}", v.conn);
    let outcome = v.outcome.as_str();
    let _ = write!(
        h,
        "<article class=\"conn\" aria-labelledby=\"{id}\">\n<h3 id=\"{id}\">Connection {}: \
         <span class=\"badge {outcome}\">{}</span> <code>{}</code></h3>\n",
        v.conn,
        outcome.to_uppercase(),
        v.cause.code
    );
    let origin = v.tcp.syn.unwrap_or(v.start).ts;
    let closed = v.closed_by.map_or_else(
        || "nobody closed it".to_string(),
        |(side, kind)| {
            format!(
                "first closed by the {side} with {}",
                kind.as_str().to_uppercase()
            )
        },
    );
    let _ = writeln!(
        h,
        "<p>{} → {} ({}), last stage <code>{}</code>; frames {}–{}, {:.3} ms; {}{}.</p>",
        escape(&v.client.to_string()),
        escape(&v.server.to_string()),
        crate::report::protocol(v),
        v.stage.as_str(),
        v.start.frame,
        v.end.frame,
        v.end.ts.millis_since(origin),
        closed,
        if v.unfinished {
            "; still open when the capture ended"
        } else {
            ""
        }
    );
    ladder(h, &id, v);
    let _ = writeln!(
        h,
        "<h4>Why <span class=\"confidence {c}\">{c}</span></h4>\n<p>{}</p>",
        escape(&v.cause.explanation),
        c = v.cause.confidence
    );
    evidence(h, v);
    if !v.cause.hints.is_empty() {
        h.push_str("<h4>Hints</h4>\n<ul>\n");
        for hint in &v.cause.hints {
            let _ = writeln!(h, "<li>{}</li>", escape(hint));
        }
        h.push_str("</ul>\n");
    }
    schannel(h, v);
    details(h, v);
    let _ = write!(
        h,
        "<h4>Wireshark filter</h4>\n<pre><code id=\"{id}-filter\">{}</code></pre>\n\
         <button type=\"button\" class=\"copy\" data-target=\"{id}-filter\" hidden>Copy filter</button>\
         <span class=\"status\" role=\"status\" aria-live=\"polite\"></span>\n</article>\n",
        escape(&v.wireshark_filter)
    );
}

/// The packets the cause rests on, as a list (the ladder marks the same arrows).
fn evidence(h: &mut String, v: &Verdict) {
    if v.cause.evidence.is_empty() {
        return;
    }
    h.push_str("<p class=\"evidence\">Shown by: ");
    for (n, e) in v.cause.evidence.iter().enumerate() {
        let who = e
            .side
            .map_or_else(String::new, |s| format!(" from the {s}"));
        let _ = write!(
            h,
            "{}frame {} ({}{}{})",
            if n > 0 { "; " } else { "" },
            e.at.frame,
            escape(&e.what.to_string()),
            if crate::report::decrypted_evidence(v, e) {
                DECRYPTED_BADGE
            } else {
                ""
            },
            who
        );
    }
    h.push_str(".</p>\n");
}

fn schannel(h: &mut String, v: &Verdict) {
    let Some(first) = v.cause.schannel_event else {
        return;
    };
    h.push_str(
        "<h4>Schannel events</h4>\n<p class=\"note\">What a Windows peer would write to its System log \
         (source Schannel).</p>\n<table>\n<thead><tr><th scope=\"col\">Event</th>\
         <th scope=\"col\">Logged by</th><th scope=\"col\">Alert</th><th scope=\"col\">Message</th>\
         </tr></thead>\n<tbody>\n",
    );
    for (n, e) in std::iter::once(&first)
        .chain(v.cause.related_events.iter())
        .enumerate()
    {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}{}</td><td>the Windows {}</td><td>{}</td><td>{}</td></tr>",
            e.id,
            if n == 0 { " (main)" } else { "" },
            e.logged_by,
            e.alert_code.map_or_else(String::new, |a| a.to_string()),
            escape(e.message)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// One `<dt>`/`<dd>` pair; `value` is already HTML.
fn fact(h: &mut String, name: &str, value: &str) {
    let _ = writeln!(h, "<dt>{name}</dt><dd>{value}</dd>");
}

fn details(h: &mut String, v: &Verdict) {
    let tls = v.tls.as_ref();
    if v.rdp.is_none() && tls.is_none() && v.alerts.is_empty() {
        return;
    }
    h.push_str("<h4>RDP and TLS details</h4>\n<dl class=\"facts\">\n");
    if let Some(rdp) = &v.rdp {
        if let Some(c) = &rdp.cookie {
            fact(
                h,
                "RDP cookie",
                &format!("<code>{}</code>", escape(c.trim_end())),
            );
        }
        if let Some(t) = &rdp.routing_token {
            fact(
                h,
                "RDP routing token",
                &format!("<code>{}</code>", escape(t.trim_end())),
            );
        }
        let requested = rdp.requested.map_or_else(
            || "no RDP_NEG_REQ (a legacy client: standard RDP security)".to_string(),
            |p| p.names().join(", "),
        );
        fact(h, "Requested protocols", &escape(&requested));
        let answer = match (rdp.failure, rdp.selected, rdp.confirmed) {
            (Some(f), _, _) => format!("RDP_NEG_FAILURE {f}"),
            (None, Some(p), _) => p.selected_name(),
            (None, None, true) => "confirmed without a protocol".to_string(),
            (None, None, false) => "no Connection Confirm seen".to_string(),
        };
        fact(h, "Selected protocol", &escape(&answer));
        if !rdp.anomalies.is_empty() {
            fact(h, "RDP anomalies", &escape(&rdp.anomalies.join("; ")));
        }
        if let Some(c) = &rdp.credssp {
            fact(h, "CredSSP (decrypted)", &escape(&c.to_string()));
        }
    }
    if let Some(ch) = tls.and_then(|t| t.client_hello.as_ref()) {
        let mut versions = format!(
            "up to {} (record {}, legacy_version {}",
            ch.highest_version(),
            ch.record_version,
            ch.legacy_version
        );
        if !ch.supported_versions.is_empty() {
            let list: Vec<String> = ch
                .supported_versions
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = write!(versions, ", supported_versions {}", list.join(", "));
        }
        versions.push(')');
        if ch.sslv2_format {
            versions.push_str(", SSLv2-compatible format");
        }
        fact(h, "ClientHello version", &escape(&versions));
        fact(
            h,
            "SNI",
            &ch.sni.as_deref().map_or_else(
                || "<span class=\"note\">none</span>".to_string(),
                |s| format!("<code>{}</code>", escape(s)),
            ),
        );
        if !ch.alpn.is_empty() {
            fact(h, "ALPN", &escape(&ch.alpn.join(", ")));
        }
        let offer = Offer::of(ch);
        let mut list = format!(
            "<details><summary>{} offered{}</summary><ol class=\"mono\">",
            offer.count_phrase(),
            escape(&offer.signalling_phrase())
        );
        for s in &offer.suites {
            let _ = write!(list, "<li>{}</li>", escape(s));
        }
        list.push_str("</ol></details>");
        fact(h, "Cipher suites", &list);
    }
    if let Some(hrr) = tls.and_then(|t| t.hello_retry_request.as_ref()) {
        fact(
            h,
            "HelloRetryRequest",
            &escape(&format!("{} {}", hrr.version, hrr.cipher_suite)),
        );
    }
    if let Some(sh) = tls.and_then(|t| t.server_hello.as_ref()) {
        fact(
            h,
            "ServerHello",
            &escape(&format!("{} {}", sh.version, sh.cipher_suite)),
        );
    }
    if let Some(c) = tls.and_then(|t| t.certificate.as_ref()) {
        let mut cert = format!(
            "subject <code>{}</code>, issued by <code>{}</code>",
            escape(&c.subject),
            escape(&c.issuer)
        );
        if let Some(k) = &c.key_type {
            let _ = write!(cert, ", key {}", escape(&k.to_string()));
        }
        let nb = c.not_before.map_or_else(|| "?".into(), |t| t.to_string());
        let na = c.not_after.map_or_else(|| "?".into(), |t| t.to_string());
        let _ = write!(
            cert,
            ", valid {} to {}, {} in chain",
            escape(&nb),
            escape(&na),
            c.chain_len
        );
        if c.self_signed {
            cert.push_str(", self-signed");
        }
        if !c.dns_names.is_empty() {
            let _ = write!(cert, ", DNS names {}", escape(&c.dns_names.join(", ")));
        }
        fact(h, "Server certificate", &cert);
    }
    if let Some(t) = tls {
        if t.certificate_requested {
            fact(
                h,
                "Client certificate",
                if t.client_sent_certificate {
                    "requested by the server; the client sent a Certificate message"
                } else {
                    "requested by the server; the client sent none"
                },
            );
        }
        if !t.anomalies.is_empty() {
            let list: Vec<String> = t.anomalies.iter().map(|a| a.to_string()).collect();
            fact(h, "TLS anomalies", &escape(&list.join("; ")));
        }
    }
    if !v.alerts.is_empty() {
        let list: Vec<String> = v
            .alerts
            .iter()
            .map(|a| {
                let what = match (a.alert.level, a.alert.description) {
                    (Some(l), Some(d)) => format!("{l} {d}"),
                    _ if a.inferred => "probable encrypted alert (inferred)".to_string(),
                    _ => "encrypted alert".to_string(),
                };
                format!("{what} from the {} (frame {})", a.from, a.at.frame)
            })
            .collect();
        fact(h, "Alerts", &escape(&list.join("; ")));
    }
    h.push_str("</dl>\n");
}

/// The badge of a step read from a record decrypted with a key log, after its words.
const DECRYPTED_BADGE: &str = " <span class=\"decrypted\" title=\"read from a record decrypted with a key log\">🔓 decrypted</span>";

/// How an arrow is drawn, by what the step is (never by its label).
fn kind(e: &TimelineEntry) -> &'static str {
    match e.step {
        Step::Alert { .. } if e.step.alert_level() == Some(AlertLevel::WARNING) => "warn",
        // Fatal, encrypted or inferred: in practice each ends the handshake.
        Step::Alert { .. } => "fatal",
        Step::Rst => "reset",
        Step::Fin => "close",
        Step::Gap { .. } => "gap",
        _ => "plain",
    }
}

/// Whether a timeline step is one of the packets the cause rests on.
fn is_evidence(v: &Verdict, e: &TimelineEntry) -> bool {
    v.cause
        .evidence
        .iter()
        .any(|ev| ev.at.frame == e.at.frame && ev.what == EvidenceKind::Step(e.step))
}

/// The label of an arrow: the step and its repeat count, cut to fit between the lanes.
fn label(e: &TimelineEntry) -> (String, String) {
    let full = if e.count > 1 {
        format!("{} ×{}", e.step, e.count)
    } else {
        e.step.to_string()
    };
    let short = crate::report::fit(&full, 68);
    (full, short)
}

/// The ladder diagram: client and server lanes, one arrow per timeline step, as inline SVG (drawn
/// here so the page needs no script to show it and prints as it looks), followed by the same steps
/// as a table for those who cannot see the picture.
fn ladder(h: &mut String, id: &str, v: &Verdict) {
    if v.timeline.is_empty() {
        return;
    }
    const WIDTH: u32 = 900;
    const CX: u32 = 210;
    const SX: u32 = 820;
    const TOP: u32 = 96;
    const STEP: u32 = 38;
    let origin = v.tcp.syn.unwrap_or(v.start).ts;
    let rows = v.timeline.len() as u32 + u32::from(v.timeline_omitted > 0);
    let height = TOP + rows * STEP + 8;
    let client = escape(&v.client.to_string());
    let server = escape(&v.server.to_string());
    let steps: Vec<String> = v
        .timeline
        .iter()
        .map(|e| {
            let dir = match e.from {
                Side::Client => "client to server",
                Side::Server => "server to client",
            };
            format!(
                "{:.3} ms, {dir}: {}{}",
                e.at.ts.millis_since(origin),
                label(e).0,
                if e.decrypted { " (decrypted)" } else { "" }
            )
        })
        .collect();
    let _ = write!(
        h,
        "<figure>\n<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         aria-labelledby=\"{id}-lt {id}-ld\">\n\
         <title id=\"{id}-lt\">Ladder diagram of connection {conn}: client {client}, server {server}</title>\n\
         <desc id=\"{id}-ld\">{desc}</desc>\n",
        conn = v.conn,
        desc = escape(&steps.join("; "))
    );
    // Lane heads and lanes.
    for (x, who, ep) in [(CX, "Client", &client), (SX, "Server", &server)] {
        let _ = write!(
            h,
            "<g class=\"lanehead\"><rect x=\"{}\" y=\"8\" width=\"150\" height=\"46\" rx=\"6\"/>\
             <text x=\"{x}\" y=\"27\" text-anchor=\"middle\">{who}</text>\
             <text class=\"ep\" x=\"{x}\" y=\"45\" text-anchor=\"middle\">{ep}</text></g>\n\
             <line class=\"lane\" x1=\"{x}\" y1=\"54\" x2=\"{x}\" y2=\"{}\"/>\n",
            x - 75,
            height - 4
        );
    }
    let _ = writeln!(
        h,
        "<text class=\"time\" x=\"12\" y=\"80\">ms (frame)</text>\n"
    );
    let mid = (CX + SX) / 2;
    for (n, e) in v.timeline.iter().enumerate() {
        let y = TOP + n as u32 * STEP + 12;
        let k = kind(e);
        let decisive = is_evidence(v, e);
        let (full, short) = label(e);
        let t = e.at.ts.millis_since(origin);
        let (x1, x2, tip) = match e.from {
            Side::Client => (
                CX,
                SX - 12,
                format!("{SX},{y} {},{} {},{}", SX - 12, y - 6, SX - 12, y + 6),
            ),
            Side::Server => (
                SX,
                CX + 12,
                format!("{CX},{y} {},{} {},{}", CX + 12, y - 6, CX + 12, y + 6),
            ),
        };
        let _ = write!(
            h,
            "<g class=\"ev {k}{}{}\"><title>{} ms, frame {}, {} → {}: {}{}{}</title>",
            if decisive { " evidence" } else { "" },
            if e.decrypted { " decrypted" } else { "" },
            format_args!("{t:.3}"),
            e.at.frame,
            e.from,
            match e.from {
                Side::Client => "server",
                Side::Server => "client",
            },
            escape(&full),
            if e.decrypted {
                " (decrypted with a key log)"
            } else {
                ""
            },
            if decisive {
                " (evidence of the cause)"
            } else {
                ""
            }
        );
        if decisive {
            // A marker in the margin beside the time: the arrows the cause rests on.
            let _ = write!(h, "<circle class=\"mark\" cx=\"6\" cy=\"{}\" r=\"4\"/>", y);
        }
        if k == "fatal" {
            let _ = write!(
                h,
                "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                CX + 2,
                y - 27,
                SX - CX - 4,
                STEP - 2
            );
        }
        let _ = writeln!(
            h,
            "<text class=\"time\" x=\"12\" y=\"{ty}\">{t:.3} <tspan font-size=\"11\">({frame})</tspan></text>\
             <line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"/><polygon points=\"{tip}\"/>\
             <text class=\"label\" x=\"{mid}\" y=\"{ly}\" text-anchor=\"middle\">{}{}</text></g>",
            escape(&short),
            if e.decrypted {
                " <tspan class=\"lock\">🔓</tspan>"
            } else {
                ""
            },
            ty = y + 4,
            ly = y - 7,
            frame = e.at.frame
        );
    }
    if v.timeline_omitted > 0 {
        let y = TOP + v.timeline.len() as u32 * STEP + 12;
        let _ = writeln!(
            h,
            "<text class=\"time\" x=\"{mid}\" y=\"{y}\" text-anchor=\"middle\">… {} more not drawn</text>",
            plural(v.timeline_omitted, "step")
        );
    }
    let _ = write!(
        h,
        "</svg>\n<figcaption>Connection {}: each arrow is one step, sent from the lane it starts at; \
         times are ms from the first SYN, frame numbers as in Wireshark. Fatal alerts are red on a \
         tinted band, FIN dashed, RST dotted; a dot in the margin marks the packets the cause rests on.{}</figcaption>\n</figure>",
        v.conn,
        if v.timeline.iter().any(|e| e.decrypted) {
            " 🔓 marks the steps read from records decrypted with a key log."
        } else {
            ""
        }
    );
    // The same steps as a table (also what a screen reader or a text browser gets).
    h.push_str(
        "<details><summary>Steps as a table</summary>\n<table>\n<thead><tr>\
         <th scope=\"col\" class=\"num\">ms</th><th scope=\"col\" class=\"num\">Frame</th>\
         <th scope=\"col\">From</th><th scope=\"col\">Step</th></tr></thead>\n<tbody>\n",
    );
    for e in &v.timeline {
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{:.3}</td><td class=\"num\">{}</td><td>{}</td><td>{}{}</td></tr>",
            e.at.ts.millis_since(origin),
            e.at.frame,
            e.from,
            escape(&label(e).0),
            if e.decrypted { DECRYPTED_BADGE } else { "" }
        );
    }
    h.push_str("</tbody>\n</table>\n</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use shakedown::verdict::CauseCode;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            escape("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(escape("a&amp;b"), "a&amp;amp;b");
        assert_eq!(escape("ok.example"), "ok.example");
        assert_eq!(escape("tab\there\nnl"), "tab\there\nnl");
        assert_eq!(
            escape("nul\0esc\u{1b}del\u{7f}"),
            "nul\u{fffd}esc\u{fffd}del\u{fffd}"
        );
        assert_eq!(escape("ünïcødé ✓"), "ünïcødé ✓");
    }

    fn seed() -> (Vec<Verdict>, Summary) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/rdp/seed-handshake-failure.pcap");
        let mut reader = shakedown::capture::open(&path).expect("the seed fixture opens");
        let mut verdicts = Vec::new();
        let summary = shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut verdicts)
            .expect("the seed fixture parses");
        (verdicts, summary)
    }

    #[test]
    fn hostile_strings_from_the_capture_are_escaped_everywhere() {
        let (mut verdicts, summary) = seed();
        let v = verdicts.first_mut().expect("one connection");
        let evil = "<script>alert(1)</script>";
        let attr = "\"><img src=x onerror=alert(2)>";
        if let Some(rdp) = v.rdp.as_mut() {
            rdp.cookie = Some(evil.to_string());
            rdp.routing_token = Some(attr.to_string());
        }
        let tls = v.tls.get_or_insert_with(Default::default);
        if let Some(ch) = tls.client_hello.as_mut() {
            ch.sni = Some(attr.to_string());
            ch.alpn = vec![evil.to_string()];
        }
        let mut cert = shakedown::tls::CertificateInfo::default();
        cert.subject = format!("CN={evil}");
        cert.issuer = format!("CN={attr}");
        cert.chain_len = 1;
        cert.self_signed = true;
        cert.dns_names = vec![evil.to_string()];
        tls.certificate = Some(cert);
        v.wireshark_filter = format!("ip.addr==1.2.3.4 && {attr}");
        let report = CaptureReport {
            name: format!("{evil}.pcap"),
            counts: Counts {
                outcomes: [1, 0, 0, 0],
                ..Counts::default()
            },
            detailed: verdicts,
            summary: Some(summary),
            ..CaptureReport::default()
        };
        let page = render(&[report], false);
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains("<img"), "no injected element");
        assert!(!page.contains("alert(1)</script>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
        // In the title, the cookie line, the SNI, the certificate and the filter (timeline steps are
        // typed: no text from the capture reaches the SVG).
        assert!(
            page.matches("&lt;script&gt;alert(1)").count() >= 6,
            "{page}"
        );
    }

    #[test]
    fn the_seed_page_has_the_ladder_and_the_cause() {
        let (verdicts, summary) = seed();
        let report = CaptureReport {
            name: "seed.pcap".into(),
            counts: Counts {
                outcomes: [1, 0, 0, 0],
                causes: std::collections::BTreeMap::from([(CauseCode::NoSharedCipher, 1)]),
                unselected: 0,
            },
            detailed: verdicts,
            summary: Some(summary),
            ..CaptureReport::default()
        };
        let page = render(&[report], false);
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(page.contains("<title>shakedown report: seed.pcap</title>"));
        assert!(
            page.contains("<g class=\"ev fatal evidence\">"),
            "the fatal alert is highlighted and marked as evidence"
        );
        assert!(page.contains("<span class=\"confidence certain\">certain</span>"));
        assert!(page.contains("Shown by: frame 8 (ClientHello TLS 1.2 (27 suites) from the client); frame 9 (Alert fatal handshake_failure from the server)."));
        assert!(page.contains(">Alert fatal handshake_failure</text>"));
        assert!(page.contains(">SYN-ACK</text>"));
        assert!(page.contains("<code>no_shared_cipher</code>&nbsp;×1"));
        assert!(
            !page.contains(" src=") && !page.contains("<link"),
            "no external assets"
        );
    }

    #[test]
    fn decrypted_steps_get_their_badge_by_their_flag() {
        let (mut verdicts, summary) = seed();
        let page_of = |verdicts: &[Verdict]| {
            render(
                &[CaptureReport {
                    name: "seed.pcap".into(),
                    detailed: verdicts.to_vec(),
                    summary: Some(summary.clone()),
                    ..CaptureReport::default()
                }],
                false,
            )
        };
        let plain = page_of(&verdicts);
        assert!(
            !plain.contains('🔓') && !plain.contains(" decrypted\""),
            "nothing decrypted, nothing said"
        );
        let v = verdicts.first_mut().expect("one connection");
        let n = v.timeline.len();
        v.timeline[n - 1].decrypted = true;
        let page = page_of(&verdicts);
        assert_eq!(page.matches("<g class=\"ev ").count(), n);
        assert_eq!(page.matches(" decrypted\"><title>").count(), 1, "{page}");
        assert_eq!(page.matches("<tspan class=\"lock\">🔓</tspan>").count(), 1);
        assert_eq!(page.matches(DECRYPTED_BADGE).count(), 1, "the table row");
        assert!(page.contains("🔓 marks the steps read from records decrypted"));
    }

    #[test]
    fn arrows_are_drawn_by_what_a_step_is_not_by_its_words() {
        let (mut verdicts, summary) = seed();
        let v = verdicts.first_mut().expect("one connection");
        // Steps whose words say "Alert", "RST" and "FIN" but which are none of these, and an
        // alert whose words say nothing of alerts.
        let misleading = [
            Step::MalformedTls {
                what: "Alert fatal handshake_failure",
            },
            Step::MalformedTls { what: "RST" },
            Step::MalformedTls { what: "FIN" },
        ];
        for (e, step) in v.timeline.iter_mut().zip(misleading) {
            e.step = step;
        }
        let report = CaptureReport {
            name: "seed.pcap".into(),
            counts: Counts {
                outcomes: [1, 0, 0, 0],
                ..Counts::default()
            },
            detailed: verdicts.clone(),
            summary: Some(summary),
            ..CaptureReport::default()
        };
        let page = render(&[report], false);
        assert_eq!(page.matches("<g class=\"ev plain").count(), 3 + 2, "{page}");
        assert_eq!(page.matches("<g class=\"ev fatal").count(), 1);
        assert_eq!(page.matches("<g class=\"ev close").count(), 1);
        assert_eq!(page.matches("<g class=\"ev reset").count(), 0);
    }
}
