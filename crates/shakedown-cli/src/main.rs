//! `shakedown`: parses flags, runs, maps the result to an exit status. Everything else is in the
//! `shakedown_cli` library (so tests can run it in-process) and the `shakedown` engine.

use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let status = shakedown_cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    ExitCode::from(status.code())
}
