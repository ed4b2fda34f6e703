//! The package's exceptions and warnings, defined in Python (`shakedown._errors`) and raised from
//! here.

use std::ffi::CString;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

fn class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyType>> {
    cell.import(py, "shakedown._errors", name)
}

/// `shakedown.CaptureError(path, reason)`: a capture could not be read (at all, or to its end).
pub(crate) fn capture_error(py: Python<'_>, path: &str, reason: &str) -> PyErr {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    match class(py, &CLASS, "CaptureError").and_then(|c| c.call1((path, reason))) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// Issues `shakedown.CaptureWarning(message)` (the capture was cut short, a key log line was not
/// understood: the analysis went on).
pub(crate) fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let category = class(py, &CLASS, "CaptureWarning")?;
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // Level 2: the user's call into the package, not the package itself.
    PyErr::warn(py, category.as_any(), &message, 2)
}

/// The warning for a capture cut short, as the command line words it.
pub(crate) fn truncation_warning(name: &str, t: &shakedown::capture::Truncation) -> String {
    format!(
        "{name}: the capture is cut short ({}) at byte {} after {} frames; connections still open there are marked incomplete",
        t.reason, t.byte_offset, t.frames_read
    )
}
