//! `shakedown.analyze_table`: the records of many captures as one `pyarrow.Table`, analysed with
//! the GIL released and handed to pyarrow through the Arrow C stream interface.

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_pyarrow::IntoPyArrow;
use pyo3::prelude::*;
use shakedown::{Sink, Verdict};
use shakedown_arrow::Batcher;

use crate::errors;
use crate::options::Options;
use crate::source::{Reader, Source};

/// What one capture gave.
#[derive(Default)]
struct Analysed {
    batches: Vec<RecordBatch>,
    /// The capture was cut short (a warning, as on the command line).
    warning: Option<String>,
    /// The capture could not be read, or not to its end: its name and the problem.
    error: Option<(String, String)>,
}

/// Analyses `sources` (named `names`) with `jobs` threads and returns their records as one
/// `pyarrow.Table` of the documented schema, in the order of the sources and, within each, of
/// `conn`. A capture cut short gives a `CaptureWarning`; one that cannot be read (or not to its
/// end) raises `CaptureError` after all were analysed, unless `raise_errors` is false, when it is
/// a warning and its records (if any) are kept.
#[pyfunction]
#[pyo3(signature = (sources, names, options, jobs, raise_errors))]
pub(crate) fn analyze_table<'py>(
    py: Python<'py>,
    sources: Vec<Bound<'py, PyAny>>,
    names: Vec<String>,
    options: &Options,
    jobs: usize,
    raise_errors: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let sources = sources
        .iter()
        .zip(names)
        .map(|(s, name)| Source::from_python(s, name))
        .collect::<PyResult<Vec<_>>>()?;
    let analysed = py.detach(|| analyse_all(sources, options, jobs.max(1)));
    let mut batches = Vec::new();
    let mut first_error = None;
    for a in analysed {
        if let Some(w) = a.warning {
            errors::warn(py, &w)?;
        }
        if let Some((name, e)) = a.error {
            if raise_errors {
                first_error.get_or_insert((name, e));
            } else {
                errors::warn(py, &format!("{name}: {e}"))?;
            }
        }
        batches.extend(a.batches);
    }
    if let Some((name, e)) = first_error {
        return Err(errors::capture_error(py, &name, &e));
    }
    let schema = shakedown_arrow::schema();
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    ));
    reader
        .into_pyarrow(py)?
        .call_method0(pyo3::intern!(py, "read_all"))
}

/// One capture alone gets every thread ([`shakedown::analyze_parallel`]); several are spread over
/// the threads, one each.
fn analyse_all(sources: Vec<Source>, options: &Options, jobs: usize) -> Vec<Analysed> {
    if sources.len() <= 1 {
        return sources
            .into_iter()
            .map(|s| analyse(s, options, jobs))
            .collect();
    }
    let count = sources.len();
    let queue: Vec<Mutex<Option<Source>>> =
        sources.into_iter().map(|s| Mutex::new(Some(s))).collect();
    let results: Vec<Mutex<Analysed>> = (0..count).map(|_| Mutex::default()).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(count) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = queue.get(i) else { break };
                    let Some(source) = slot.lock().ok().and_then(|mut s| s.take()) else {
                        continue;
                    };
                    let analysed = analyse(source, options, 1);
                    if let Some(Ok(mut r)) = results.get(i).map(Mutex::lock) {
                        *r = analysed;
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_default())
        .collect()
}

fn analyse(source: Source, options: &Options, jobs: usize) -> Analysed {
    let (name, mut reader) = match source.open() {
        Ok(opened) => opened,
        Err((name, e)) => {
            let error = Some((name, e.to_string()));
            return Analysed {
                error,
                ..Analysed::default()
            };
        }
    };
    analyse_reader(&name, &mut reader, options, jobs)
}

fn analyse_reader(name: &str, reader: &mut Reader, options: &Options, jobs: usize) -> Analysed {
    let mut sink = match Batcher::new(Batcher::DEFAULT_ROWS) {
        Ok(batcher) => Batches {
            capture: name,
            options,
            batcher,
            batches: Vec::new(),
            failed: None,
        },
        Err(e) => {
            return Analysed {
                error: Some((name.to_string(), e.to_string())),
                ..Analysed::default()
            };
        }
    };
    let result = shakedown::analyze_parallel(reader, &options.config, jobs, &mut sink);
    let mut analysed = Analysed::default();
    match result {
        Ok(summary) => {
            analysed.warning = summary
                .truncation
                .as_ref()
                .map(|t| errors::truncation_warning(name, t));
        }
        Err(e) => analysed.error = Some((name.to_string(), e.to_string())),
    }
    match sink.batcher.flush() {
        Ok(rest) => sink.batches.extend(rest),
        Err(e) => {
            sink.failed.get_or_insert(e);
        }
    }
    if let Some(e) = sink.failed {
        analysed.error = Some((name.to_string(), e.to_string()));
    }
    analysed.batches = sink.batches;
    analysed
}

/// Selected records into batches.
struct Batches<'a> {
    capture: &'a str,
    options: &'a Options,
    batcher: Batcher,
    batches: Vec<RecordBatch>,
    failed: Option<shakedown_arrow::Error>,
}

impl Sink for Batches<'_> {
    /// A record could not be added to the batches.
    type Error = shakedown_arrow::Error;

    fn verdict(&mut self, verdict: Verdict) -> Result<ControlFlow<()>, Self::Error> {
        if !self.options.selects(&verdict) {
            return Ok(ControlFlow::Continue(()));
        }
        self.batches
            .extend(self.batcher.push(&verdict, self.capture)?);
        Ok(ControlFlow::Continue(()))
    }
}
