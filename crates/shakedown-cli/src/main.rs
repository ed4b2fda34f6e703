//! `shakedown`: parses flags, runs, maps the result to an exit status. Everything else is in the
//! `shakedown_cli` library (so tests can run it in-process) and the `shakedown` engine.

use std::io::IsTerminal;
use std::process::ExitCode;

/// The binary's allocator (the library leaves that to its users): jemalloc, unless built without
/// the `jemalloc` feature or for Windows. Workers make verdicts and the calling thread frees them; glibc's
/// per-thread arenas grow a page at a time (thousands of `mprotect` calls a run) and lock on every
/// free from another thread, which jemalloc does not.
#[cfg(all(feature = "jemalloc", not(windows)))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Unused memory is given back to the system by jemalloc's own thread rather than by the
    // threads that free it: each time (a thousand times in a two-thread run of a 1 GB capture)
    // every core's address translations are flushed, which cost ~3% of the run.
    #[cfg(all(feature = "jemalloc", not(windows)))]
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let stdout = std::io::stdout();
    let is_terminal = stdout.is_terminal();
    let status = shakedown_cli::run_on(
        std::env::args_os(),
        &mut stdout.lock(),
        // Not locked for the whole run: the progress bar is drawn from the thread reading the
        // capture.
        &mut std::io::stderr(),
        is_terminal,
    );
    ExitCode::from(status.code())
}
