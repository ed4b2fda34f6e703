//! `shakedown completions SHELL` and `shakedown manpage`: shell completion scripts and a roff man
//! page, both generated from the clap definitions of every command so they never drift from the
//! flags.

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, Parser};
use clap_complete::Shell;

use crate::Status;

/// The whole command line as clap sees it: the report's flags plus the subcommands.
pub(crate) fn command() -> clap::Command {
    crate::Args::command()
        .subcommand_negates_reqs(true)
        .args_conflicts_with_subcommands(true)
        .subcommand(crate::extract::ExtractArgs::command().bin_name("shakedown extract"))
        .subcommand(
            crate::summary::SummaryArgs::command()
                .name("summary")
                .bin_name("shakedown summary"),
        )
        .subcommand(
            crate::html::ReportArgs::command()
                .name("report")
                .bin_name("shakedown report"),
        )
        .subcommand(Completions::command())
        .subcommand(
            clap::Command::new("manpage")
                .about("Print the man page (roff) on standard output")
                .after_help(
                    "Example:\n  shakedown manpage > /usr/local/share/man/man1/shakedown.1",
                ),
        )
}

/// Print a shell completion script on standard output.
#[derive(Debug, Parser)]
#[command(
    name = "completions",
    bin_name = "shakedown completions",
    after_help = "Examples:
  shakedown completions bash > ~/.local/share/bash-completion/completions/shakedown
  shakedown completions zsh > ~/.zfunc/_shakedown
  shakedown completions fish > ~/.config/fish/completions/shakedown.fish"
)]
struct Completions {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// `shakedown completions SHELL`.
pub(crate) fn completions(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let args = match Completions::try_parse_from(args.into_iter().skip(1)) {
        Ok(a) => a,
        Err(e) => return crate::clap_exit(&e, out, err),
    };
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut command(), "shakedown", &mut buf);
    crate::write_all_or_status(out, err, &buf)
}

/// `shakedown manpage`.
pub(crate) fn manpage(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let parsed = clap::Command::new("manpage")
        .bin_name("shakedown manpage")
        .about("Print the man page (roff) on standard output")
        .try_get_matches_from(args.into_iter().skip(1));
    if let Err(e) = parsed {
        return crate::clap_exit(&e, out, err);
    }
    let mut buf = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command()).render(&mut buf) {
        let _ = writeln!(err, "shakedown manpage: {e}");
        return Status::Error;
    }
    crate::write_all_or_status(out, err, &buf)
}
