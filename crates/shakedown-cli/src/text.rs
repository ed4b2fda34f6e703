//! The human-readable report: failures first, each with a timeline, the cause, the explanation and
//! hints; then a table of every connection; then what was skipped or cut.
//!
//! Its counts and sentences come from the report model ([`crate::report`]), shared with the HTML
//! page. On a terminal the report fits its width (see [`Layout`]): explanations, hints and the
//! other long lines wrap at word boundaries with a hanging indent, the suite list is shortened to
//! "(+N more)", ladder labels are cut to their column; into a pipe or a file (or with `--wide`)
//! every line is whole.

use std::io::{self, Write};

use shakedown::verdict::{EvidenceKind, Outcome, Verdict};
use shakedown::{Side, Summary};

use crate::Args;
use crate::color::{Palette, Style};
use crate::report::{self, Counts, NoteKind, Notes, Offer, plural};

/// Width of each lane of the timeline ladder when lines are whole.
const LANE: usize = 48;

/// The narrowest width the report is fitted to (a smaller terminal gets this and wraps itself).
pub(crate) const MIN_WIDTH: usize = 40;

/// Rows of the connection table kept per capture; beyond it the table says how many were left out
/// (the JSON output has every connection).
pub(crate) const MAX_ROWS: usize = 10_000;

/// How lines are laid out: whole, or fitted to a terminal's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Layout {
    /// Columns to fit; `None`: whole lines.
    pub width: Option<usize>,
}

/// A piece of a line: text that is never split, its colour, and the spaces before it (when it
/// does not start a line).
struct Word {
    text: String,
    style: Option<Style>,
    gap: usize,
}

impl Word {
    fn new(text: impl Into<String>, style: Option<Style>, gap: usize) -> Word {
        Word {
            text: text.into(),
            style,
            gap,
        }
    }
}

fn words(text: &str) -> Vec<Word> {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| Word::new(w, None, 1))
        .collect()
}

impl Layout {
    /// `text` after `first`, wrapped at word boundaries to the width with `rest` before each
    /// following line (a hanging indent); one whole line when there is no width. Ends with a
    /// newline.
    fn wrap(self, first: &str, text: &str, rest: &str, paint: Palette) -> String {
        if self.width.is_none() {
            return format!("{first}{text}\n");
        }
        self.wrap_words(first, &words(text), rest, paint)
    }

    /// [`Layout::wrap`] over words that may be coloured (widths are measured on the plain text).
    fn wrap_words(self, first: &str, words: &[Word], rest: &str, paint: Palette) -> String {
        let mut out = String::from(first);
        let mut col = first.chars().count();
        let mut at_start = true;
        for w in words {
            let len = w.text.chars().count();
            if !at_start {
                if self.width.is_some_and(|width| col + w.gap + len > width) {
                    out.push('\n');
                    out.push_str(rest);
                    col = rest.chars().count();
                } else {
                    out.push_str(&" ".repeat(w.gap));
                    col += w.gap;
                }
            }
            out.push_str(&paint.paint(w.style, &w.text).to_string());
            col += len;
            at_start = false;
        }
        out.push('\n');
        out
    }
}

/// What the text report keeps of a capture's verdicts while it is analysed: the connections shown in
/// detail, a bounded table, and counts.
#[derive(Default)]
pub(crate) struct Collected {
    pub detailed: Vec<Verdict>,
    pub rows: Vec<[String; 10]>,
    pub rows_omitted: u64,
    pub counts: Counts,
}

impl Collected {
    pub(crate) fn add(&mut self, v: Verdict, all: bool) {
        self.counts.add(&v);
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
        _ => None,
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
    layout: Layout,
) -> io::Result<()> {
    head(out, name, &c.counts, args.select.is_active(), paint, layout)?;
    c.detailed.sort_by_key(|v| (report::rank(v), v.conn));
    for v in &c.detailed {
        writeln!(out)?;
        detail(out, v, paint, layout)?;
    }
    if !args.output.quiet && !c.rows.is_empty() {
        writeln!(out)?;
        table(out, &c.rows, paint)?;
        if c.rows_omitted > 0 {
            writeln!(
                out,
                "… {} more (use --json for all of them)",
                plural(c.rows_omitted, "connection")
            )?;
        }
    }
    if !args.output.quiet {
        footer(out, summary, paint, layout)?;
    }
    writeln!(out)
}

/// The report's first line: `== NAME: 6 connections: 1 failed, 0 incomplete, ...`, the counts
/// coloured when not zero.
pub(crate) fn head(
    out: &mut dyn Write,
    name: &str,
    counts: &Counts,
    filtered: bool,
    paint: Palette,
    layout: Layout,
) -> io::Result<()> {
    let mut head = words(&format!("{name}: {}:", counts.connections_phrase(filtered)));
    let outcomes = counts.by_outcome();
    for (i, (o, n)) in outcomes.iter().enumerate() {
        head.push(Word::new(
            n.to_string(),
            (*n > 0).then(|| outcome_style(*o)).flatten(),
            1,
        ));
        let comma = if i + 1 < outcomes.len() { "," } else { "" };
        head.extend(words(&format!("{}{comma}", report::outcome_words(*o))));
    }
    out.write_all(layout.wrap_words("== ", &head, "   ", paint).as_bytes())
}

/// One connection in detail: the head line, explanation, evidence, hints, offers, the timeline
/// and the Wireshark filter.
pub(crate) fn detail(
    out: &mut dyn Write,
    v: &Verdict,
    paint: Palette,
    layout: Layout,
) -> io::Result<()> {
    let style = outcome_style(v.outcome);
    let head = [
        Word::new(format!("[conn {}]", v.conn), Some(Style::Heading), 1),
        Word::new(v.outcome.as_str().to_uppercase(), style, 1),
        Word::new(v.cause.code.to_string(), style, 2),
        Word::new(format!("{} →", v.client), None, 2),
        Word::new(v.server.to_string(), None, 1),
        Word::new(
            format!("({}, stage {})", report::protocol(v), v.stage.as_str()),
            None,
            2,
        ),
    ];
    out.write_all(layout.wrap_words("", &head, "    ", paint).as_bytes())?;
    let wrap = |first: &str, text: &str, rest: &str| layout.wrap(first, text, rest, paint);
    out.write_all(wrap("  ", &v.cause.explanation, "    ").as_bytes())?;
    if !v.cause.evidence.is_empty() {
        let frames: Vec<String> = v
            .cause
            .evidence
            .iter()
            .map(|e| {
                let mark = if report::decrypted_evidence(v, e) {
                    format!(" {}", report::DECRYPTED_MARK)
                } else {
                    String::new()
                };
                format!("frame {} {}{mark}", e.at.frame, e.what)
            })
            .collect();
        let first = format!("  Evidence ({}): ", v.cause.confidence);
        out.write_all(wrap(&first, &frames.join("; "), "    ").as_bytes())?;
    }
    if let Some(e) = v.cause.schannel_event {
        let alert = e
            .alert_code
            .map(|a| format!(" (alert {a})"))
            .unwrap_or_default();
        let text = format!(
            "event {} on a Windows {}{alert}: {}.",
            e.id, e.logged_by, e.message
        );
        out.write_all(wrap("  Schannel: ", &text, "            ").as_bytes())?;
        for r in &v.cause.related_events {
            let alert = r
                .alert_code
                .map(|a| format!(" (alert {a})"))
                .unwrap_or_default();
            let text = format!(
                "also {} on the {}{alert}: {}.",
                r.id, r.logged_by, r.message
            );
            out.write_all(wrap("            ", &text, "                 ").as_bytes())?;
        }
    }
    if !v.cause.hints.is_empty() {
        writeln!(out, "  Hints:")?;
        for h in &v.cause.hints {
            out.write_all(wrap("    - ", h, "      ").as_bytes())?;
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
        out.write_all(
            wrap(
                "  RDP: ",
                &format!("{cookie}requested {requested}; {answer}"),
                "    ",
            )
            .as_bytes(),
        )?;
        if let Some(c) = &rdp.credssp {
            out.write_all(wrap("  CredSSP (decrypted): ", &c.to_string(), "    ").as_bytes())?;
        }
    }
    if let Some(ch) = v.tls.as_ref().and_then(|t| t.client_hello.as_ref()) {
        let sni = ch
            .sni
            .as_deref()
            .map(|s| format!(", SNI {s}"))
            .unwrap_or_default();
        let offer = Offer::of(ch);
        let lead = format!(
            "ClientHello: up to {}{sni}, {}",
            ch.highest_version(),
            offer.count_phrase()
        );
        out.write_all(client_hello_lines(&lead, &offer, layout, paint).as_bytes())?;
        // Fingerprints (JA3 MD5, JA4; the server's JA3S when it answered) to look the client up.
        let tls = v.tls.as_ref();
        let ja3s = tls
            .and_then(|t| t.server_hello.as_ref().or(t.hello_retry_request.as_ref()))
            .map(|sh| format!(", JA3S {}", sh.ja3s().hash))
            .unwrap_or_default();
        let text = format!("{} {}{ja3s}", ch.ja3().hash, ch.ja4());
        out.write_all(wrap("  JA3/JA4: ", &text, "    ").as_bytes())?;
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
        let text = format!(
            "{} ({key}), issued by {}, valid until {na}",
            c.subject, c.issuer
        );
        out.write_all(wrap("  Certificate: ", &text, "    ").as_bytes())?;
    }
    timeline(out, v, paint, layout)?;
    // Never wrapped: it is copied into Wireshark whole.
    writeln!(out, "  Wireshark: {}", v.wireshark_filter)
}

/// The ClientHello line: `lead` (which ends with the suite count) then the suites, signalling
/// values (SCSV) named after them. On whole lines, one line with every suite; fitted to a width,
/// the suites that fit on the next line, then "(+N more)".
fn client_hello_lines(lead: &str, offer: &Offer, layout: Layout, paint: Palette) -> String {
    let Some(width) = layout.width else {
        let signals = offer.signalling_phrase();
        let list = if offer.suites.is_empty() {
            String::new()
        } else {
            format!(": {}", offer.suites.join(" "))
        };
        return format!("  {lead}{list}{signals}\n");
    };
    if offer.suites.is_empty() {
        let text = format!("{lead}{}", offer.signalling_phrase());
        return layout.wrap("  ", &text, "    ", paint);
    }
    let mut out = layout.wrap("  ", &format!("{lead}:"), "    ", paint);
    let line = |shown: usize| -> String {
        let more = offer.suites.len() - shown;
        let mut s = offer.suites[..shown].join(" ");
        if more > 0 {
            s.push_str(&format!(" (+{more} more)"));
        }
        s
    };
    // At least one suite, however narrow.
    let shown = (1..=offer.suites.len())
        .rev()
        .find(|n| 4 + line(*n).chars().count() <= width)
        .unwrap_or(1);
    let mut list = words(&line(shown));
    // A signalling value and its "(+" stay together.
    list.extend(
        offer
            .signalling
            .iter()
            .map(|s| Word::new(format!("(+ {s})"), None, 1)),
    );
    out.push_str(&layout.wrap_words("    ", &list, "    ", paint));
    out
}

/// A timeline step's words, with its repeat count.
fn label(e: &shakedown::verdict::TimelineEntry) -> String {
    if e.count > 1 {
        format!("{} ×{}", e.step, e.count)
    } else {
        e.step.to_string()
    }
}

/// What follows the label of a step read from a decrypted record (` 🔓`), and the columns it takes
/// on a terminal (the padlock is a wide character); nothing for the others.
fn decrypted_mark(e: &shakedown::verdict::TimelineEntry) -> (String, usize) {
    if e.decrypted {
        (format!(" {}", report::DECRYPTED_MARK), 3)
    } else {
        (String::new(), 0)
    }
}

fn timeline(out: &mut dyn Write, v: &Verdict, paint: Palette, layout: Layout) -> io::Result<()> {
    if v.timeline.is_empty() {
        return Ok(());
    }
    // A client line is 14 columns of time, the lane, then " ──▶"; a server line the same 14, the
    // lane, " ◀── " and its label. Fitted to a width, the two labels share what is left.
    let (lane, server_max) = match layout.width {
        None => (LANE, usize::MAX),
        Some(w) => {
            let longest = |side: Side| {
                v.timeline
                    .iter()
                    .filter(|e| e.from == side)
                    .map(|e| label(e).chars().count() + decrypted_mark(e).1)
                    .max()
                    .unwrap_or(0)
            };
            let (client, server) = (longest(Side::Client).min(LANE), longest(Side::Server));
            let room = w.saturating_sub(19);
            // The server's labels whole if the client's keep at least half the room, else half
            // each (the client's half rounded up).
            let lane = client
                .min(room.saturating_sub(server))
                .max(client.min(room - room / 2))
                .max(8);
            (lane, room.saturating_sub(lane).max(8))
        }
    };
    let origin = v.tcp.syn.unwrap_or(v.start).ts;
    writeln!(
        out,
        "  {:>10}  {:<lane$}  server",
        "ms",
        "client",
        lane = lane + 4
    )?;
    for e in &v.timeline {
        let t = e.at.ts.millis_since(origin);
        let what = label(e);
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
        // Read from a decrypted record: marked after the label, which is cut to leave it room.
        let (lock, lock_cols) = decrypted_mark(e);
        match e.from {
            Side::Client => {
                let what = report::fit(&what, lane.saturating_sub(lock_cols));
                let pad = " ".repeat(lane.saturating_sub(what.chars().count() + lock_cols));
                let what = paint.paint(style, what);
                writeln!(out, " {mark}{t:>10.3}  {pad}{what}{lock} ──▶")?
            }
            Side::Server => {
                let what = paint.paint(
                    style,
                    report::fit(&what, server_max.saturating_sub(lock_cols)),
                );
                writeln!(out, " {mark}{t:>10.3}  {:>lane$} ◀── {what}{lock}", "")?
            }
        }
    }
    if v.timeline_omitted > 0 {
        writeln!(
            out,
            "  {:>10}  … {} more",
            "",
            plural(v.timeline_omitted, "step")
        )?;
    }
    Ok(())
}

fn row(v: &Verdict) -> [String; 10] {
    [
        v.conn.to_string(),
        v.client.to_string(),
        v.server.to_string(),
        report::protocol(v).into(),
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

/// The notes after the table: frames read, cut frames, duplicates, caps hit, truncation.
pub(crate) fn footer(
    out: &mut dyn Write,
    s: &Summary,
    paint: Palette,
    layout: Layout,
) -> io::Result<()> {
    writeln!(out)?;
    for note in Notes::of(s).0 {
        let (first, text) = match note.kind {
            NoteKind::Frames => ("", note.text),
            NoteKind::Cut => (
                "note: ",
                format!(
                    "{} (capture with tcpdump -s 0, or pktmon --pkt-size 0)",
                    note.text
                ),
            ),
            NoteKind::Duplicates => ("note: ", note.text),
            NoteKind::Caps => ("caps: ", note.text),
            NoteKind::Truncated => ("warning: ", note.text),
        };
        out.write_all(layout.wrap(first, &text, "  ", paint).as_bytes())?;
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
        detail(&mut out, v, Palette::new(true), Layout::default()).expect("writes to memory");
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

    #[test]
    fn decrypted_steps_are_marked_by_their_flag_and_arrows_stay_aligned() {
        let mut v = seed();
        // Two steps flagged as read from decrypted records (one each side); a step whose words
        // say "decrypted" but which is not flagged.
        let client = v
            .timeline
            .iter()
            .position(|e| e.from == Side::Client && e.step != Step::Syn);
        let server = v.timeline.iter().position(|e| e.from == Side::Server);
        for i in [client, server].into_iter().flatten() {
            v.timeline[i].decrypted = true;
        }
        v.timeline[0].step = Step::MalformedTls {
            what: "(decrypted)",
        };
        let page = render(&v);
        let marked: Vec<&str> = page
            .lines()
            .filter(|l| l.ends_with("🔓 ──▶") || (l.contains("◀──") && l.ends_with(" 🔓")))
            .collect();
        assert_eq!(marked.len(), 2, "{page}");
        // The evidence line marks the flagged steps it names.
        let evidence = page.lines().find(|l| l.contains("Evidence")).unwrap_or("");
        assert_eq!(
            evidence.matches("🔓").count(),
            v.cause
                .evidence
                .iter()
                .filter(|ev| crate::report::decrypted_evidence(&v, ev))
                .count(),
            "{evidence}"
        );
        // Every client arrow ends in the same column (the padlock takes two).
        let width = |l: &str| l.chars().count() + l.matches('🔓').count();
        let client_lines: Vec<&str> = page.lines().filter(|l| l.ends_with("──▶")).collect();
        assert!(client_lines.len() >= 3);
        let first = width(client_lines[0]);
        assert!(client_lines.iter().all(|l| width(l) == first), "{page}");
        // Without the flag, nothing is marked.
        for e in &mut v.timeline {
            e.decrypted = false;
        }
        let page = render(&v);
        assert_eq!(page.matches('🔓').count(), 0, "{page}");
        assert!(page.contains("malformed TLS: (decrypted) ──▶"));
    }
}
