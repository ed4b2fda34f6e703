//! The report model: the figures of a capture and the facts of a connection that the text report,
//! the HTML page and `summary` all show, worked out once here so the renderers cannot disagree.
//! Renderers only lay these out (align, wrap, colour, escape); every count and every sentence about
//! counts comes from this module.
//!
//! - [`Counts`]: connections by outcome and by cause (and those the filters left out), built verdict
//!   by verdict, summed over captures.
//! - [`Notes`]: what the engine's [`Summary`] says beyond the verdicts: frames, TCP segments,
//!   skipped frames by kind, frames cut by the snap length, duplicates left out, caps hit, a capture
//!   cut short; each as one sentence.
//! - [`Offer`]: a ClientHello's cipher suites, the real ones counted, signalling values (SCSV) apart,
//!   GREASE left out.

use std::collections::BTreeMap;

use shakedown::Summary;
use shakedown::decode::SkipKind;
use shakedown::tls::{CipherSuite, ClientHello};
use shakedown::verdict::{CauseCode, Evidence, EvidenceKind, Outcome, Protocol, Verdict};

/// `n word`, with an `s` when `n` is not 1: "1 connection", "2 connections", "0 frames".
pub(crate) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Outcomes in the report's order: failed, incomplete, completed, not TLS.
pub(crate) const OUTCOMES: [Outcome; 4] = [
    Outcome::Failed,
    Outcome::Incomplete,
    Outcome::Completed,
    Outcome::NotTls,
];

/// Where a verdict goes in the report's order (its index in [`OUTCOMES`]).
pub(crate) fn rank(v: &Verdict) -> usize {
    match v.outcome {
        Outcome::Failed => 0,
        Outcome::Incomplete => 1,
        Outcome::Completed => 2,
        Outcome::NotTls => 3,
        // An outcome newer than this report: after the known ones.
        _ => OUTCOMES.len(),
    }
}

/// How an outcome is named in sentences: "failed", "incomplete", "completed", "not TLS".
pub(crate) fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Failed => "failed",
        Outcome::Incomplete => "incomplete",
        Outcome::Completed => "completed",
        Outcome::NotTls => "not TLS",
        _ => "other",
    }
}

/// What a connection carried: "RDP → TLS", "RDP", "TLS", "other".
pub(crate) fn protocol(v: &Verdict) -> &'static str {
    match (v.protocol, v.tls.is_some()) {
        (Protocol::Rdp, true) => "RDP → TLS",
        (Protocol::Rdp, false) => "RDP",
        (Protocol::Tls, _) => "TLS",
        _ => "other",
    }
}

/// The marker of a step read from a record decrypted with a key log, after its label.
pub(crate) const DECRYPTED_MARK: &str = "🔓";

/// Whether an evidence entry is a step read from a decrypted record (by its timeline entry, or its
/// alert).
pub(crate) fn decrypted_evidence(v: &Verdict, ev: &Evidence) -> bool {
    let EvidenceKind::Step(step) = ev.what else {
        return false;
    };
    v.timeline
        .iter()
        .any(|e| e.decrypted && e.at.frame == ev.at.frame && e.step == step)
        || (step.is_alert()
            && v.alerts
                .iter()
                .any(|a| a.decrypted && a.at.frame == ev.at.frame))
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Connections by outcome and by cause.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    /// By outcome, in the order of [`OUTCOMES`].
    pub outcomes: [u64; 4],
    /// By cause code (`none` included).
    pub causes: BTreeMap<CauseCode, u64>,
    /// Connections the filters (`--failed`, `--host`, ...) left out; not in the other counts.
    pub unselected: u64,
}

impl Counts {
    /// Counts one selected verdict.
    pub(crate) fn add(&mut self, v: &Verdict) {
        self.outcomes[rank(v)] += 1;
        *self.causes.entry(v.cause.code).or_insert(0) += 1;
    }

    /// Adds another capture's counts.
    pub(crate) fn merge(&mut self, o: &Counts) {
        for (t, n) in self.outcomes.iter_mut().zip(o.outcomes) {
            *t += n;
        }
        for (k, n) in &o.causes {
            *self.causes.entry(*k).or_insert(0) += n;
        }
        self.unselected += o.unselected;
    }

    /// Selected connections.
    pub(crate) fn total(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Failed handshakes.
    pub(crate) fn failed(&self) -> u64 {
        self.outcomes[0]
    }

    /// Each outcome with its count, in the report's order.
    pub(crate) fn by_outcome(&self) -> [(Outcome, u64); 4] {
        [0, 1, 2, 3].map(|i| (OUTCOMES[i], self.outcomes[i]))
    }

    /// Causes other than `none`, most frequent first (then by code).
    pub(crate) fn causes_ranked(&self) -> Vec<(CauseCode, u64)> {
        let mut list: Vec<(CauseCode, u64)> = self
            .causes
            .iter()
            .filter(|(c, _)| **c != CauseCode::None)
            .map(|(c, n)| (*c, *n))
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        list
    }

    /// "6 connections" or, when filters left some out, "1 connection selected (of 6)".
    pub(crate) fn connections_phrase(&self, filtered: bool) -> String {
        let total = self.total();
        if filtered {
            format!(
                "{} selected (of {})",
                plural(total, "connection"),
                total + self.unselected
            )
        } else {
            plural(total, "connection")
        }
    }

    /// "1 failed, 0 incomplete, 0 completed, 0 not TLS".
    pub(crate) fn outcomes_phrase(&self) -> String {
        self.by_outcome()
            .iter()
            .map(|(o, n)| format!("{n} {}", outcome_words(*o)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What kind of thing a [`Note`] tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoteKind {
    /// Frames and segments read, and frames skipped by kind.
    Frames,
    /// Frames cut by the snap length.
    Cut,
    /// Frames captured twice, left out.
    Duplicates,
    /// Memory caps and timeouts hit.
    Caps,
    /// The capture ends early.
    Truncated,
}

/// One sentence about a capture as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub kind: NoteKind,
    pub text: String,
}

/// The sentences about a capture as a whole, from the engine's summary, in the order shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notes(pub Vec<Note>);

impl Notes {
    /// The notes of one capture: the frames line always, the others when they have something to say.
    pub(crate) fn of(s: &Summary) -> Notes {
        let mut notes = Vec::new();
        let mut frames = format!(
            "{}, {}",
            plural(s.frames, "frame"),
            plural(s.tcp_segments, "TCP segment")
        );
        if !s.skipped.is_empty() {
            frames.push_str("; skipped: ");
            frames.push_str(&skipped(&s.skipped));
        }
        notes.push(Note {
            kind: NoteKind::Frames,
            text: frames,
        });
        if s.cut_frames > 0 {
            notes.push(Note {
                kind: NoteKind::Cut,
                text: format!(
                    "{} cut at {} bytes by the capture's snap length; handshakes in them may not be readable",
                    plural(s.cut_frames, "frame"),
                    s.snap_len
                ),
            });
        }
        if s.duplicate_frames > 0 {
            notes.push(Note {
                kind: NoteKind::Duplicates,
                text: format!(
                    "{} captured twice, left out of the analysis",
                    plural(s.duplicate_frames, "duplicate frame")
                ),
            });
        }
        if s.evicted > 0 || s.expired > 0 || s.budget_hits > 0 || s.out_of_order > 0 {
            notes.push(Note {
                kind: NoteKind::Caps,
                text: format!(
                    "{} evicted (live-connection cap), {} expired idle, {} reported out of order (too many verdicts waiting for them), reassembly budget hit {}",
                    plural(s.evicted, "connection"),
                    s.expired,
                    s.out_of_order,
                    plural(s.budget_hits, "time")
                ),
            });
        }
        if let Some(t) = &s.truncation {
            notes.push(Note {
                kind: NoteKind::Truncated,
                text: format!(
                    "the capture is cut short after {} (byte {}): {}",
                    plural(t.frames_read, "frame"),
                    t.byte_offset,
                    t.reason
                ),
            });
        }
        Notes(notes)
    }
}

/// Skipped frames by kind: "2 not_tcp, 1 truncated_ipv4".
fn skipped(m: &BTreeMap<SkipKind, u64>) -> String {
    m.iter()
        .map(|(k, n)| format!("{n} {}", k.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A ClientHello's cipher suites as the reports show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offer {
    /// Real cipher suites, by name (hex when unnamed), in the client's order.
    pub suites: Vec<String>,
    /// Signalling values (TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV): offered with the
    /// suites, but no suite.
    pub signalling: Vec<String>,
}

/// A cipher suite's name, or its number in hex.
pub(crate) fn suite_name(c: CipherSuite) -> String {
    c.name()
        .map_or_else(|| format!("0x{:04x}", c.0), str::to_string)
}

impl Offer {
    /// The suites of a ClientHello, GREASE values left out.
    pub(crate) fn of(ch: &ClientHello) -> Offer {
        let real = |c: &&CipherSuite| !c.is_grease() && !c.is_signalling();
        Offer {
            suites: ch
                .cipher_suites
                .iter()
                .filter(real)
                .map(|c| suite_name(*c))
                .collect(),
            signalling: ch
                .cipher_suites
                .iter()
                .filter(|c| c.is_signalling())
                .map(|c| suite_name(*c))
                .collect(),
        }
    }

    /// "27 cipher suites".
    pub(crate) fn count_phrase(&self) -> String {
        plural(self.suites.len() as u64, "cipher suite")
    }

    /// The signalling values as they follow a list: " (+ TLS_EMPTY_RENEGOTIATION_INFO_SCSV)".
    pub(crate) fn signalling_phrase(&self) -> String {
        self.signalling
            .iter()
            .map(|s| format!(" (+ {s})"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "connection"), "1 connection");
        assert_eq!(plural(0, "frame"), "0 frames");
        assert_eq!(plural(27, "cipher suite"), "27 cipher suites");
    }

    #[test]
    fn fitting_cuts_with_an_ellipsis() {
        assert_eq!(fit("ClientHello", 20), "ClientHello");
        assert_eq!(fit("ClientHello", 6), "Clien…");
        assert_eq!(fit("ClientHello", 11), "ClientHello");
    }

    #[test]
    fn counts_phrases() {
        let mut c = Counts {
            outcomes: [1, 0, 2, 0],
            ..Counts::default()
        };
        assert_eq!(c.connections_phrase(false), "3 connections");
        assert_eq!(
            c.outcomes_phrase(),
            "1 failed, 0 incomplete, 2 completed, 0 not TLS"
        );
        c.outcomes = [1, 0, 0, 0];
        c.unselected = 5;
        assert_eq!(c.connections_phrase(true), "1 connection selected (of 6)");
    }
}
