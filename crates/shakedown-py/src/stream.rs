//! `shakedown.analyze`: the records of one capture as an iterator of dicts, made on a thread of
//! their own while Python takes them.
//!
//! The analysis thread writes each selected verdict's JSON record (the bytes `--json` writes) into
//! chunks sent over a bounded channel; `__next__` turns one line at a time into a dict with
//! Python's `json.loads`, so a dict is exactly the record the command line writes. Waiting for a
//! chunk releases the GIL. Dropping the iterator stops the analysis at its next chunk.

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use shakedown::{Sink, Verdict};

use crate::errors;
use crate::options::Options;
use crate::source::{Reader, Source};

/// Records per chunk sent from the analysis to Python.
const CHUNK_RECORDS: usize = 64;
/// Chunks in flight at most (memory stays bounded however fast the analysis is).
const CHUNKS_IN_FLIGHT: usize = 8;

/// What the analysis thread sends.
enum Message {
    /// JSON lines, each ending in `\n`.
    Records(Vec<u8>),
    /// The end: the summary record, a warning, an error.
    End(End),
}

struct End {
    summary: Option<String>,
    warning: Option<String>,
    error: Option<String>,
}

/// The records of one capture, as an iterator of dicts (`shakedown.analyze` returns it).
#[pyclass(module = "shakedown._shakedown")]
pub struct Analysis {
    name: String,
    /// `None` once the end was received. (In a `Mutex`: a Python object may be shared between
    /// threads, a `Receiver` may not.)
    rx: Mutex<Option<Receiver<Message>>>,
    chunk: Vec<u8>,
    at: usize,
    summary: Option<String>,
}

#[pymethods]
impl Analysis {
    /// Opens `source` (raising `CaptureError` when it cannot be read as a capture) and starts
    /// analysing it on a thread of its own with `jobs` threads.
    #[new]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        name: String,
        options: &Options,
        jobs: usize,
    ) -> PyResult<Self> {
        let source = Source::from_python(source, name)?;
        let (name, reader) = py
            .detach(|| source.open())
            .map_err(|(name, e)| errors::capture_error(py, &name, &e.to_string()))?;
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        let options = options.clone();
        let capture = name.clone();
        std::thread::Builder::new()
            .name("shakedown-analyze".into())
            .spawn(move || run(reader, &capture, &options, jobs, tx))
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        Ok(Analysis {
            name,
            rx: Mutex::new(Some(rx)),
            chunk: Vec::new(),
            at: 0,
            summary: None,
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        loop {
            if let Some(line) = next_line(&self.chunk, &mut self.at) {
                return json_loads(py)?.call1((line,)).map(Bound::unbind);
            }
            let Some(rx) = self.receiver().take() else {
                return Err(PyStopIteration::new_err(()));
            };
            let (rx, message) = py.detach(move || {
                let message = rx.recv();
                (rx, message)
            });
            *self.receiver() = Some(rx);
            match message {
                Ok(Message::Records(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Message::End(end)) => {
                    *self.receiver() = None;
                    self.summary = end.summary;
                    if let Some(w) = end.warning {
                        errors::warn(py, &w)?;
                    }
                    if let Some(e) = end.error {
                        return Err(errors::capture_error(py, &self.name, &e));
                    }
                }
                Err(_) => {
                    *self.receiver() = None;
                    return Err(errors::capture_error(
                        py,
                        &self.name,
                        "the analysis stopped unexpectedly",
                    ));
                }
            }
        }
    }

    /// The capture's name, as in the records' `capture` field.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// After the last record: the capture's summary record (docs/SCHEMA.md §5: frames read,
    /// skipped by kind, caps hit, truncation) as a dict; `None` before, or when reading failed.
    #[getter]
    fn summary(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.summary
            .as_deref()
            .map(|s| json_loads(py)?.call1((s,)).map(Bound::unbind))
            .transpose()
    }
}

impl Analysis {
    /// The channel from the analysis thread (only `__next__`, which has `&mut self`, uses it).
    fn receiver(&mut self) -> &mut Option<Receiver<Message>> {
        match self.rx.get_mut() {
            Ok(rx) => rx,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS.import(py, "json", "loads")
}

/// The next line of `chunk` from `at` (without its `\n`), moving `at` past it.
fn next_line<'a>(chunk: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let rest = chunk.get(*at..).filter(|r| !r.is_empty())?;
    let len = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    *at += len + 1;
    rest.get(..len)
}

/// The analysis thread: records in chunks, then the end.
fn run(mut reader: Reader, capture: &str, options: &Options, jobs: usize, tx: SyncSender<Message>) {
    let mut sink = Chunks {
        capture,
        options,
        chunk: Vec::new(),
        records: 0,
        tx: &tx,
        closed: false,
    };
    let result = shakedown::analyze_parallel(&mut reader, &options.config, jobs, &mut sink);
    if sink.send().is_break() {
        return;
    }
    let end = match result {
        Ok(summary) => End {
            summary: Some(shakedown::json::summary_line(&summary, capture)),
            warning: summary
                .truncation
                .as_ref()
                .map(|t| errors::truncation_warning(capture, t)),
            error: None,
        },
        Err(e) => End {
            summary: None,
            warning: None,
            error: Some(e.to_string()),
        },
    };
    let _ = tx.send(Message::End(end));
}

/// Gathers JSON lines into chunks and sends them.
struct Chunks<'a> {
    capture: &'a str,
    options: &'a Options,
    chunk: Vec<u8>,
    records: usize,
    tx: &'a SyncSender<Message>,
    /// The iterator was dropped: stop.
    closed: bool,
}

impl Chunks<'_> {
    /// Sends the chunk gathered so far (if any); breaks when nobody takes it any more.
    fn send(&mut self) -> ControlFlow<()> {
        if self.closed {
            return ControlFlow::Break(());
        }
        if self.records > 0 {
            self.records = 0;
            let chunk = std::mem::take(&mut self.chunk);
            if self.tx.send(Message::Records(chunk)).is_err() {
                self.closed = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

impl Sink for Chunks<'_> {
    /// Nothing fails here: a closed channel (the iterator was dropped) only stops the analysis.
    type Error = std::convert::Infallible;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        if !self.options.selects(&verdict) {
            return Ok(ControlFlow::Continue(()));
        }
        // Writing into a Vec cannot fail.
        let _ = shakedown::json::write_line(&mut self.chunk, &verdict, self.capture);
        self.records += 1;
        if self.records >= CHUNK_RECORDS {
            return Ok(self.send());
        }
        Ok(ControlFlow::Continue(()))
    }
}
