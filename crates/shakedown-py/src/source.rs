//! Where a capture comes from: a path, bytes, or a Python file object; opened as a
//! [`CaptureReader`].

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use shakedown::capture::{CaptureError, CaptureReader};

/// What the analysis reads.
pub(crate) type Reader = CaptureReader<Box<dyn Read + Send>>;

/// A capture to analyse, and its name for the records' `capture` field and for messages.
pub(crate) struct Source {
    pub(crate) name: String,
    input: Input,
}

enum Input {
    /// A file (or `-`, standard input, as on the command line).
    Path(PathBuf),
    /// A capture in memory.
    Bytes(Arc<Vec<u8>>),
    /// A Python object with a binary `read(n)`.
    File(PyFile),
}

impl Source {
    /// `source` as the Python layer hands it over: a `str` path, `bytes`/`bytearray`, or an object
    /// with `read`.
    pub(crate) fn from_python(source: &Bound<'_, PyAny>, name: String) -> PyResult<Self> {
        let input = if source.is_instance_of::<PyString>() {
            Input::Path(PathBuf::from(source.extract::<String>()?))
        } else if let Ok(bytes) = source.cast::<PyBytes>() {
            Input::Bytes(Arc::new(bytes.as_bytes().to_vec()))
        } else if let Ok(bytes) = source.cast::<PyByteArray>() {
            Input::Bytes(Arc::new(bytes.to_vec()))
        } else {
            Input::File(PyFile(source.clone().unbind()))
        };
        Ok(Source { name, input })
    }

    /// Opens the capture: reads its header (a file object is read with the GIL taken for each
    /// read, so call this with the GIL released or held, either works).
    pub(crate) fn open(self) -> Result<(String, Reader), (String, CaptureError)> {
        let opened = match self.input {
            Input::Path(path) => shakedown::capture::open(&path),
            Input::Bytes(bytes) => CaptureReader::from_shared(bytes),
            Input::File(file) => CaptureReader::new(Box::new(file) as Box<dyn Read + Send>),
        };
        match opened {
            Ok(reader) => Ok((self.name, reader)),
            Err(e) => Err((self.name, e)),
        }
    }
}

/// A Python binary file object read as a [`Read`]: each read takes the GIL and calls `read(n)`.
struct PyFile(Py<PyAny>);

impl Read for PyFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Python::attach(|py| {
            let data = self
                .0
                .bind(py)
                .call_method1(pyo3::intern!(py, "read"), (buf.len(),))
                .map_err(io::Error::other)?;
            let data = data.cast::<PyBytes>().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the file object's read() did not return bytes (open it in binary mode)",
                )
            })?;
            let data = data.as_bytes();
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            Ok(n)
        })
    }
}
