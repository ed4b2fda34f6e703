//! The human-readable report: failures first, each with a timeline, the cause, the explanation and
//! hints; then a table of every connection; then what was skipped or cut.

use std::io::{self, Write};

use shakedown::verdict::{EvidenceKind, Outcome, Verdict};
use shakedown::{Side, Summary};

use crate::Args;
use crate::color::{Palette, Style};

/// Width of each lane of the timeline ladder.
const LANE: usize = 48;

/// Rows of the connection table kept per capture; beyond it the table says how many were left out
/// (the JSON output has every connection).
pub(crate) const MAX_ROWS: usize = 10_000;

/// What the text report keeps of a capture's verdicts while it is analysed: the connections shown in
/// detail, a bounded table, and counts.
#[derive(Default)]
pub(crate) struct Collected {
    pub detailed: Vec<Verdict>,
    pub rows: Vec<[String; 10]>,
    pub rows_omitted: u64,
    pub counts: [u64; 4],
    /// Connections left out by the filters (`--failed`, `--host`, ...).
    pub unselected: u64,
}

impl Collected {
    pub(crate) fn add(&mut self, v: Verdict, all: bool) {
        self.counts[rank(&v)] += 1;
        if self.rows.len() < MAX_ROWS {
            self.rows.push(row(&v));
        } else {
            self.rows_omitted += 1;
        }
        if all || matches!(v.outcome, Outcome::Failed | Outcome::Incomplete) {
            self.detailed.push(v);
        }
    }
}

/// The colour of an outcome.
fn outcome_style(o: Outcome) -> Option<Style> {
    match o {
        Outcome::Failed => Some(Style::Failed),
        Outcome::Incomplete => Some(Style::Incomplete),
        Outcome::Completed => Some(Style::Completed),
        Outcome::NotTls => None,
    }
}

/// Where a verdict goes in the report's order: failed, incomplete, completed, not TLS.
pub(crate) fn rank(v: &Verdict) -> usize {
    match v.outcome {
        Outcome::Failed => 0,
        Outcome::Incomplete => 1,
        Outcome::Completed => 2,
        Outcome::NotTls => 3,
    }
}

/// Writes the report of one capture.
pub(crate) fn report(
    out: &mut dyn Write,
    name: &str,
    c: &mut Collected,
    summary: &Summary,
    args: &Args,
    paint: Palette,
) -> io::Result<()> {
    let total: u64 = c.counts.iter().sum();
    let selected = if args.select.is_active() {
        format!(" selected (of {})", total + c.unselected)
    } else {
        String::new()
    };
    writeln!(
        out,
        "== {name}: {total} connections{selected}: {} failed, {} incomplete, {} completed, {} not TLS",
        paint.paint((c.counts[0] > 0).then_some(Style::Failed), c.counts[0]),
        paint.paint((c.counts[1] > 0).then_some(Style::Incomplete), c.counts[1]),
        paint.paint((c.counts[2] > 0).then_some(Style::Completed), c.counts[2]),
        c.counts[3]
    )?;
    c.detailed.sort_by_key(|v| (rank(v), v.conn));
    for v in &c.detailed {
        writeln!(out)?;
        detail(out, v, paint)?;
    }
    if !args.quiet && !c.rows.is_empty() {
        writeln!(out)?;
        table(out, &c.rows, paint)?;
        if c.rows_omitted > 0 {
            writeln!(
                out,
                "… {} more connections (use --json for all of them)",
                c.rows_omitted
            )?;
        }
    }
    if !args.quiet {
        footer(out, summary)?;
    }
    writeln!(out)
}

fn proto(v: &Verdict) -> String {
    match (v.protocol, &v.tls) {
        (shakedown::verdict::Protocol::Rdp, Some(_)) => "RDP → TLS".into(),
        (p, _) => p.as_str().to_uppercase(),
    }
}

fn detail(out: &mut dyn Write, v: &Verdict, paint: Palette) -> io::Result<()> {
    let style = outcome_style(v.outcome);
    writeln!(
        out,
        "{} {}  {}  {} → {}  ({}, stage {})",
        paint.paint(Some(Style::Heading), format_args!("[conn {}]", v.conn)),
        paint.paint(style, v.outcome.as_str().to_uppercase()),
        paint.paint(style, v.cause.code),
        v.client,
        v.server,
        proto(v),
        v.stage.as_str()
    )?;
    writeln!(out, "  {}", v.cause.explanation)?;
    if !v.cause.evidence.is_empty() {
        let frames: Vec<String> = v
            .cause
            .evidence
            .iter()
            .map(|e| format!("frame {} {}", e.at.frame, e.what))
            .collect();
        writeln!(
            out,
            "  Evidence ({}): {}",
            v.cause.confidence,
            frames.join("; ")
        )?;
    }
    if let Some(e) = v.cause.schannel_event {
        let alert = e
            .alert_code
            .map(|a| format!(" (alert {a})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  Schannel: event {} on a Windows {}{alert}: {}.",
            e.id, e.logged_by, e.message
        )?;
        for r in &v.cause.related_events {
            let alert = r
                .alert_code
                .map(|a| format!(" (alert {a})"))
                .unwrap_or_default();
            writeln!(
                out,
                "            also {} on the {}{alert}: {}.",
                r.id, r.logged_by, r.message
            )?;
        }
    }
    if !v.cause.hints.is_empty() {
        writeln!(out, "  Hints:")?;
        for h in &v.cause.hints {
            writeln!(out, "    - {h}")?;
        }
    }
    if let Some(rdp) = &v.rdp {
        let requested = rdp
            .requested
            .map(|p| p.names().join(", "))
            .unwrap_or_else(|| "(no RDP_NEG_REQ)".into());
        let answer = match (rdp.failure, rdp.selected) {
            (Some(f), _) => format!("RDP_NEG_FAILURE {f}"),
            (None, Some(p)) => format!("selected {}", p.selected_name()),
            (None, None) => "no answer".into(),
        };
        let cookie = rdp
            .cookie
            .as_deref()
            .map(|c| format!("cookie {}, ", c.trim_end()))
            .unwrap_or_default();
        writeln!(out, "  RDP: {cookie}requested {requested}; {answer}")?;
    }
    if let Some(ch) = v.tls.as_ref().and_then(|t| t.client_hello.as_ref()) {
        let name = |c: &shakedown::tls::CipherSuite| {
            c.name()
                .map_or_else(|| format!("0x{:04x}", c.0), str::to_string)
        };
        // Real suites are counted; signalling values (SCSV) are named after them.
        let suites: Vec<String> = ch
            .cipher_suites
            .iter()
            .filter(|c| !c.is_grease() && !c.is_signalling())
            .map(name)
            .collect();
        let signals: Vec<String> = ch
            .cipher_suites
            .iter()
            .filter(|c| c.is_signalling())
            .map(|c| format!(" (+ {})", name(c)))
            .collect();
        let sni = ch
            .sni
            .as_deref()
            .map(|s| format!(", SNI {s}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  ClientHello: up to {}{sni}, {} suites: {}{}",
            ch.highest_version(),
            suites.len(),
            suites.join(" "),
            signals.concat()
        )?;
        // Fingerprints (JA3 MD5, JA4; the server's JA3S when it answered) to look the client up.
        let tls = v.tls.as_ref();
        let ja3s = tls
            .and_then(|t| t.server_hello.as_ref().or(t.hello_retry_request.as_ref()))
            .map(|sh| format!(", JA3S {}", sh.ja3s().hash))
            .unwrap_or_default();
        writeln!(out, "  JA3/JA4: {} {}{ja3s}", ch.ja3().hash, ch.ja4())?;
    }
    if let Some(sh) = v.tls.as_ref().and_then(|t| t.server_hello.as_ref()) {
        writeln!(out, "  ServerHello: {} {}", sh.version, sh.cipher_suite)?;
    }
    if let Some(c) = v.tls.as_ref().and_then(|t| t.certificate.as_ref()) {
        let key = c
            .key_type
            .as_ref()
            .map(|k| k.to_string())
            .unwrap_or_else(|| "unknown key".into());
        let na = c
            .not_after
            .map(|t| t.to_string())
            .unwrap_or_else(|| "?".into());
        writeln!(
            out,
            "  Certificate: {} ({key}), issued by {}, valid until {na}",
            c.subject, c.issuer
        )?;
    }
    timeline(out, v, paint)?;
    writeln!(out, "  Wireshark: {}", v.wireshark_filter)
}

fn timeline(out: &mut dyn Write, v: &Verdict, paint: Palette) -> io::Result<()> {
    if v.timeline.is_empty() {
        return Ok(());
    }
    let origin = v.tcp.syn.unwrap_or(v.start).ts;
    writeln!(
        out,
        "  {:>10}  {:<lane$}  server",
        "ms",
        "client",
        lane = LANE + 4
    )?;
    for e in &v.timeline {
        let t = e.at.ts.millis_since(origin);
        let what = if e.count > 1 {
            format!("{} ×{}", e.step, e.count)
        } else {
            e.step.to_string()
        };
        // Pad on the plain text, then paint, so colour never moves the arrows.
        let style = e.step.is_alert().then_some(Style::Alert);
        // The packets the cause rests on are marked in the margin.
        let mark = if v
            .cause
            .evidence
            .iter()
            .any(|ev| ev.at.frame == e.at.frame && ev.what == EvidenceKind::Step(e.step))
        {
            '▸'
        } else {
            ' '
        };
        match e.from {
            Side::Client => {
                let what: String = what.chars().take(LANE).collect();
                let pad = " ".repeat(LANE.saturating_sub(what.chars().count()));
                let what = paint.paint(style, what);
                writeln!(out, " {mark}{t:>10.3}  {pad}{what} ──▶")?
            }
            Side::Server => {
                let what = paint.paint(style, what);
                writeln!(
                    out,
                    " {mark}{t:>10.3}  {:>lane$} ◀── {what}",
                    "",
                    lane = LANE
                )?
            }
        }
    }
    if v.timeline_omitted > 0 {
        writeln!(out, "  {:>10}  … {} more steps", "", v.timeline_omitted)?;
    }
    Ok(())
}

fn row(v: &Verdict) -> [String; 10] {
    [
        v.conn.to_string(),
        v.client.to_string(),
        v.server.to_string(),
        proto(v),
        format!("{}/{}", v.packets.client, v.packets.server),
        format!("{}/{}", v.bytes.client, v.bytes.server),
        v.first_fin().map_or("-".into(), |s| s.to_string()),
        v.first_rst().map_or("-".into(), |s| s.to_string()),
        v.outcome.as_str().into(),
        v.cause.code.to_string(),
    ]
}

fn table(out: &mut dyn Write, rows: &[[String; 10]], paint: Palette) -> io::Result<()> {
    let head = [
        "conn",
        "client",
        "server",
        "proto",
        "pkts c/s",
        "bytes c/s",
        "1st FIN",
        "1st RST",
        "outcome",
        "cause",
    ];
    let mut widths = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Widths are measured on the plain text; only the outcome and cause cells are painted.
    let line = |cells: &[String], header: bool| -> String {
        let style = match cells.get(8).map(String::as_str) {
            _ if header => None,
            Some("failed") => Some(Style::Failed),
            Some("incomplete") => Some(Style::Incomplete),
            Some("completed") => Some(Style::Completed),
            _ => None,
        };
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w.saturating_sub(c.chars().count());
            if header {
                s.push_str(&paint.paint(Some(Style::Heading), c).to_string());
            } else if i >= 8 {
                s.push_str(&paint.paint(style, c).to_string());
            } else {
                s.push_str(c);
            }
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(pad));
            }
        }
        s
    };
    writeln!(out, "{}", line(&head.map(String::from), true))?;
    for r in rows {
        writeln!(out, "{}", line(r, false))?;
    }
    Ok(())
}

fn footer(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    write!(
        out,
        "\n{} frames, {} TCP segments",
        s.frames, s.tcp_segments
    )?;
    if !s.skipped.is_empty() {
        let parts: Vec<String> = s.skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
        write!(out, "; skipped: {}", parts.join(", "))?;
    }
    writeln!(out)?;
    if s.cut_frames > 0 {
        writeln!(
            out,
            "note: {} frames were cut at {} bytes by the capture's snap length; handshakes in them may not be readable (capture with tcpdump -s 0, or pktmon --pkt-size 0)",
            s.cut_frames, s.snap_len
        )?;
    }
    if s.evicted > 0 || s.expired > 0 || s.budget_hits > 0 || s.out_of_order > 0 {
        writeln!(
            out,
            "caps: {} connections evicted (live-connection cap), {} expired idle, {} reported out of order (too many verdicts waiting for them), reassembly budget hit {} times",
            s.evicted, s.expired, s.out_of_order, s.budget_hits
        )?;
    }
    if let Some(t) = &s.truncation {
        writeln!(
            out,
            "warning: the capture is cut short after {} frames (byte {}): {}",
            t.frames_read, t.byte_offset, t.reason
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shakedown::verdict::Step;

    fn seed() -> Verdict {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/rdp/seed-handshake-failure.pcap");
        let mut reader = shakedown::capture::open(&path).expect("the seed fixture opens");
        let mut verdicts = Vec::new();
        shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut verdicts)
            .expect("the seed fixture parses");
        verdicts.remove(0)
    }

    fn render(v: &Verdict) -> String {
        let mut out = Vec::new();
        detail(&mut out, v, Palette::new(true)).expect("writes to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn alerts_are_painted_and_evidence_marked_by_what_a_step_is() {
        let mut v = seed();
        let painted = render(&v);
        // One painted alert arrow (magenta) and two marked lines: the ClientHello and the alert.
        assert_eq!(
            painted.matches("\x1b[35mAlert fatal").count(),
            1,
            "{painted}"
        );
        assert_eq!(painted.matches("\n ▸").count(), 2, "{painted}");
        assert!(painted.contains(
            "Evidence (certain): frame 8 ClientHello TLS 1.2 (27 suites); frame 9 Alert fatal handshake_failure"
        ));
        // Steps whose words read like an alert are not painted as one; the alert still is.
        v.timeline[0].step = Step::MalformedTls {
            what: "Alert fatal handshake_failure",
        };
        let page = render(&v);
        assert_eq!(page.matches("\x1b[35m").count(), 1, "{page}");
        assert!(page.contains("malformed TLS: Alert fatal handshake_failure ──▶"));
    }
}
