//! The one-line status of a live capture on standard error, when that is a terminal: time running,
//! packets, connections, failures by cause, and packets the kernel dropped. Redrawn in place a few
//! times a second at most, and cleared before a verdict is printed so the two never mix.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use shakedown::CauseCode;

/// The least time between two drawings.
const REDRAW: Duration = Duration::from_millis(250);

/// What the status line shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// Time since the capture started.
    pub elapsed: Duration,
    /// Packets captured.
    pub packets: u64,
    /// TCP connections seen.
    pub connections: u64,
    /// Failed handshakes by cause.
    pub failed: BTreeMap<CauseCode, u64>,
    /// Incomplete handshakes.
    pub incomplete: u64,
    /// Packets the kernel (or the interface) dropped.
    pub dropped: u64,
}

/// `00:12:03  1234 packets  56 connections  3 failed (no_shared_cipher 2, certificate_rejected 1)  0 dropped`.
pub(crate) fn line(f: &Figures) -> String {
    let secs = f.elapsed.as_secs();
    let mut s = format!(
        "{:02}:{:02}:{:02}  {} packets  {} connections  ",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        f.packets,
        f.connections
    );
    let failed: u64 = f.failed.values().sum();
    s.push_str(&format!("{failed} failed"));
    if failed > 0 {
        let mut causes: Vec<(&CauseCode, &u64)> = f.failed.iter().collect();
        causes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = causes.iter().map(|(c, n)| format!("{c} {n}")).collect();
        s.push_str(&format!(" ({})", list.join(", ")));
    }
    s.push_str(&format!(
        "  {} incomplete  {} dropped",
        f.incomplete, f.dropped
    ));
    s
}

/// A status line on a terminal (or nothing, when standard error is not one).
pub(crate) struct StatusLine {
    enabled: bool,
    drawn: bool,
    last: Option<Instant>,
    width: usize,
}

impl StatusLine {
    /// A status line drawn only when `enabled` (standard error is a terminal), cut to `width`.
    pub(crate) fn new(enabled: bool, width: usize) -> Self {
        StatusLine {
            enabled,
            drawn: false,
            last: None,
            width: width.max(20),
        }
    }

    /// Draws `figures` if the last drawing is old enough.
    pub(crate) fn update(&mut self, err: &mut dyn Write, figures: &Figures) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        self.draw(err, figures);
    }

    /// Draws `figures` now.
    pub(crate) fn draw(&mut self, err: &mut dyn Write, figures: &Figures) {
        if !self.enabled {
            return;
        }
        let text: String = line(figures).chars().take(self.width - 1).collect();
        let _ = write!(err, "\r\x1b[2K{text}").and_then(|()| err.flush());
        self.drawn = true;
        self.last = Some(Instant::now());
    }

    /// Removes the line (before other output, and at the end).
    pub(crate) fn clear(&mut self, err: &mut dyn Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[2K").and_then(|()| err.flush());
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_failures_by_cause_most_frequent_first() {
        let mut f = Figures {
            elapsed: Duration::from_secs(3723),
            packets: 1234,
            connections: 56,
            incomplete: 1,
            dropped: 7,
            ..Figures::default()
        };
        assert_eq!(
            line(&f),
            "01:02:03  1234 packets  56 connections  0 failed  1 incomplete  7 dropped"
        );
        f.failed.insert(CauseCode::CertificateRejected, 1);
        f.failed.insert(CauseCode::NoSharedCipher, 2);
        assert_eq!(
            line(&f),
            "01:02:03  1234 packets  56 connections  3 failed (no_shared_cipher 2, certificate_rejected 1)  1 incomplete  7 dropped"
        );
    }

    #[test]
    fn nothing_is_drawn_off_a_terminal_and_a_drawn_line_is_cleared() {
        let mut out = Vec::new();
        let mut off = StatusLine::new(false, 80);
        off.draw(&mut out, &Figures::default());
        off.clear(&mut out);
        assert!(out.is_empty());
        let mut on = StatusLine::new(true, 30);
        on.draw(&mut out, &Figures::default());
        let drawn = String::from_utf8(out.clone()).unwrap();
        assert_eq!(drawn, "\r\x1b[2K00:00:00  0 packets  0 connec");
        on.update(&mut out, &Figures::default());
        assert_eq!(out.len(), drawn.len(), "redrawn too soon");
        on.clear(&mut out);
        assert!(String::from_utf8(out).unwrap().ends_with("\r\x1b[2K"));
    }
}
