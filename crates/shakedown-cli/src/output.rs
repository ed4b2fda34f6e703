//! The flags that shape the text output (colour, quiet, width), one group shared by the main
//! command and `shakedown live`, and what they come to: the [`Palette`] and the text layout.

use crate::color::{ColorChoice, Palette};
use crate::text;

/// `--color`, `-q/--quiet`, `--wide` and `--width`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputOptions {
    /// Colour the text: `auto` when standard output is a terminal and NO_COLOR is unset or empty.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Less output: no per-connection table and no summary footer in the text, and no progress
    /// bar, status line or notes on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Whole lines even on a terminal (by default the text is fitted to a terminal's width:
    /// explanations and hints wrapped, suite lists and ladder labels shortened).
    #[arg(long, conflicts_with = "width")]
    pub wide: bool,
    /// Fit the text to N columns, on a terminal or not (default: the terminal's width, from
    /// COLUMNS or the terminal itself; whole lines into a pipe or a file).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub width: Option<u16>,
}

impl OutputOptions {
    /// The colours for standard output, told whether it is a terminal (`--color auto` reads
    /// NO_COLOR too).
    pub(crate) fn palette(&self, out_is_terminal: bool) -> Palette {
        Palette::new(
            self.color
                .enabled(out_is_terminal, std::env::var_os("NO_COLOR").as_deref()),
        )
    }

    /// The width the text is fitted to: none with `--wide`, `--width`'s, else the terminal's when
    /// standard output is one ([`crate::terminal_width`]), else none (whole lines).
    pub(crate) fn layout(&self, out_is_terminal: bool) -> text::Layout {
        text::Layout {
            width: if self.wide {
                None
            } else if let Some(w) = self.width {
                Some(usize::from(w).max(text::MIN_WIDTH))
            } else if out_is_terminal {
                Some(crate::terminal_width().max(text::MIN_WIDTH))
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        output: OutputOptions,
    }

    #[test]
    fn the_width_follows_wide_then_width_then_the_terminal() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["x"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|c| c.output)
        };
        let plain = parse(&[]).unwrap();
        assert_eq!(plain.layout(false).width, None);
        assert!(plain.layout(true).width.is_some());
        assert_eq!(parse(&["--wide"]).unwrap().layout(true).width, None);
        assert_eq!(
            parse(&["--width", "120"]).unwrap().layout(false).width,
            Some(120)
        );
        assert_eq!(
            parse(&["--width", "1"]).unwrap().layout(false).width,
            Some(text::MIN_WIDTH)
        );
        assert!(parse(&["--wide", "--width", "100"]).is_err());
        assert!(parse(&["--width", "0"]).is_err());
        let quiet = parse(&["-q", "--color", "always"]).unwrap();
        assert!(quiet.quiet);
        assert_eq!(quiet.color, ColorChoice::Always);
    }
}
