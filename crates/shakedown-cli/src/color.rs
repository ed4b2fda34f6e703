//! Terminal colour for the text report: on only when asked (`--color always`), or when standard
//! output is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>). A few SGR escape
//! sequences (ECMA-48 §8.3.117) are all it needs.
//!
//! Callers align columns on the plain text and paint afterwards, so colour never shifts a column.

use std::ffi::OsStr;
use std::fmt;

/// When to colour the report (`--color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When standard output is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always, even into a pipe or a file (`less -R`).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether standard output is a terminal and the value of `NO_COLOR`.
    pub fn enabled(self, stdout_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(OsStr::is_empty),
        }
    }
}

/// What a piece of text means, hence its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// A failed handshake: bold red.
    Failed,
    /// An unfinished handshake: yellow.
    Incomplete,
    /// A completed handshake: green.
    Completed,
    /// An alert: magenta.
    Alert,
    /// A heading: bold.
    Heading,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Style::Failed => "\x1b[1;31m",
            Style::Incomplete => "\x1b[33m",
            Style::Completed => "\x1b[32m",
            Style::Alert => "\x1b[35m",
            Style::Heading => "\x1b[1m",
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Paints text, or leaves it alone when colour is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Palette {
    on: bool,
}

impl Palette {
    /// A palette that colours when `on`.
    pub fn new(on: bool) -> Self {
        Palette { on }
    }

    /// `text` in `style` (plain when colour is off, or when there is no style).
    pub(crate) fn paint<T: fmt::Display>(self, style: Option<Style>, text: T) -> Painted<T> {
        Painted {
            style: style.filter(|_| self.on),
            text,
        }
    }
}

/// Text with an optional style; displays with the escape sequences around it.
pub(crate) struct Painted<T> {
    style: Option<Style>,
    text: T,
}

impl<T: fmt::Display> fmt::Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.style {
            Some(s) => write!(f, "{}{}{RESET}", s.sgr(), self.text),
            None => self.text.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice() {
        let yes = OsStr::new("1");
        let empty = OsStr::new("");
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(ColorChoice::Auto.enabled(true, Some(empty)));
        assert!(!ColorChoice::Auto.enabled(true, Some(yes)));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, Some(yes)));
        assert!(!ColorChoice::Never.enabled(true, None));
    }

    #[test]
    fn painting() {
        let on = Palette::new(true);
        let off = Palette::new(false);
        assert_eq!(
            on.paint(Some(Style::Failed), "FAILED").to_string(),
            "\x1b[1;31mFAILED\x1b[0m"
        );
        assert_eq!(
            off.paint(Some(Style::Failed), "FAILED").to_string(),
            "FAILED"
        );
        assert_eq!(on.paint(None, "x").to_string(), "x");
    }
}
