//! A progress bar on standard error for long runs: bytes read, rate and time left. Shown only when
//! standard error is a terminal and `--quiet` is not given; never for standard input (no size).

use std::io::{IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;

use shakedown::capture::{CaptureError, CaptureReader, ReadAt};

/// Files smaller than this finish before a bar is worth drawing.
const MIN_SIZE: u64 = 64 << 20;

/// Whether a bar may be drawn at all.
pub(crate) fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// No steady-tick thread: the bar is drawn as bytes arrive, from whichever thread reads the capture
/// (so nothing may hold the standard error lock for the whole run; `main` does not).
///
/// A capture reader and, when shown, its progress bar.
pub(crate) type Opened = (CaptureReader<Box<dyn Read + Send>>, Option<ProgressBar>);

/// Opens a capture, counting the bytes read from the file on a progress bar when `show` is set and
/// the file is big enough. The bar must be cleared with [`done`].
pub(crate) fn open(path: &Path, show: bool) -> Result<Opened, CaptureError> {
    let size = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    match size {
        Some(len) if show && len >= MIN_SIZE && path.as_os_str() != "-" => {
            let Ok(file) = std::fs::File::open(path) else {
                // Let the library say what is wrong, in its words.
                return shakedown::capture::open(path).map(|r| (r, None));
            };
            let bar = ProgressBar::new(len);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(path.display().to_string());
            // A parallel analysis of an uncompressed file reads it at offsets, on several threads.
            let at = file.try_clone().ok().map(|file| Counting {
                file,
                bar: bar.clone(),
            });
            let reader: Box<dyn Read + Send> = Box::new(bar.wrap_read(file));
            CaptureReader::new(reader).map(|r| {
                let r = match at {
                    Some(at) => r.with_read_at(Arc::new(at)),
                    None => r,
                };
                (r, Some(bar))
            })
        }
        _ => shakedown::capture::open(path).map(|r| (r, None)),
    }
}

/// The capture file read at offsets, the bar showing how far into the file reading has got.
struct Counting {
    file: std::fs::File,
    bar: ProgressBar,
}

impl ReadAt for Counting {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, offset)?;
        let reached = offset.saturating_add(n as u64);
        if reached > self.bar.position() {
            self.bar.set_position(reached);
        }
        Ok(n)
    }
}

/// Removes a bar once its capture is done.
pub(crate) fn done(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
