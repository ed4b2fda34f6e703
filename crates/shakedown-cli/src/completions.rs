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
    let command = crate::Args::command()
        .subcommand_negates_reqs(true)
        .args_conflicts_with_subcommands(true)
        .disable_help_subcommand(true);
    #[cfg(feature = "live")]
    let command = command.subcommand(
        crate::live::LiveArgs::command()
            .name("live")
            .bin_name("shakedown live"),
    );
    command
        .subcommand(
            crate::extract::ExtractArgs::command()
                .name("extract")
                .bin_name("shakedown extract"),
        )
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
        .subcommand(Completions::command().name("completions"))
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
    name = "shakedown completions",
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

/// `shakedown manpage`: one page for every command. clap_mangen's own layout would send readers to
/// `shakedown-extract(1)` and other pages that do not exist, and fill the examples into
/// paragraphs; here each subcommand is a section of this page and every example block is
/// printed as written (`.nf`).
pub(crate) fn manpage(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let parsed = clap::Command::new("manpage")
        .bin_name("shakedown manpage")
        .about("Print the man page (roff) on standard output")
        .try_get_matches_from(args.into_iter().skip(1));
    if let Err(e) = parsed {
        return crate::clap_exit(&e, out, err);
    }
    let mut buf = Vec::new();
    if let Err(e) = render_manpage(&mut buf) {
        let _ = writeln!(err, "shakedown manpage: {e}");
        return Status::Error;
    }
    crate::write_all_or_status(out, err, &buf)
}

/// Lines of text for roff: backslashes and minus signs escaped, a leading `.` or `'` guarded.
fn roff_lines(text: &str) -> String {
    let mut s = String::new();
    for line in text.lines() {
        let line = line.replace('\\', "\\e").replace('-', "\\-");
        if line.starts_with('.') || line.starts_with('\'') {
            s.push_str("\\&");
        }
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// A roff no-fill block: each line printed as written.
fn roff_verbatim(text: &str) -> String {
    format!(".nf\n{}.fi\n", roff_lines(text))
}

fn render_manpage(w: &mut Vec<u8>) -> std::io::Result<()> {
    let main = crate::Args::command();
    let man = clap_mangen::Man::new(main.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    if let Some(extra) = main.get_after_help() {
        w.extend_from_slice(b".SH EXAMPLES\n");
        w.extend_from_slice(roff_verbatim(&extra.to_string()).as_bytes());
    }
    for sub in command()
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
    {
        let name = format!("shakedown {}", sub.get_name());
        let _ = writeln!(w, ".SH \"{}\"", name.to_uppercase());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            w.extend_from_slice(b".PP\n");
            w.extend_from_slice(roff_lines(&about.to_string()).as_bytes());
        }
        let mut sub = sub.clone().bin_name(&name);
        let usage = sub.render_usage().to_string();
        w.extend_from_slice(roff_verbatim(&usage).as_bytes());
        // The subcommand's options, their headings one level down.
        let mut options = Vec::new();
        clap_mangen::Man::new(sub.clone()).render_options_section(&mut options)?;
        let options = String::from_utf8_lossy(&options).replace(".SH ", ".SS ");
        w.extend_from_slice(options.as_bytes());
        if let Some(extra) = sub.get_after_help() {
            w.extend_from_slice(b".SS Examples\n");
            w.extend_from_slice(roff_verbatim(&extra.to_string()).as_bytes());
        }
    }
    w.extend_from_slice(
        b".SH \"SEE ALSO\"\nThe JSON fields, cause codes and summary records: docs/SCHEMA.md in the shakedown sources. The README there describes the reports.\n",
    );
    man.render_version_section(w)?;
    Ok(())
}
