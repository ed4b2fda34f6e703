//! The analysis options: the command line's caps (`Limits`) and filters (`Selection`), given as
//! Python keyword arguments and checked once.

use std::sync::Arc;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use shakedown::{CauseCode, Config, Verdict};
use shakedown_cli::filter::{Net, Selection};
use shakedown_cli::limits::{Limits, TlsPorts};

/// What to analyse with and which records to give: made by the Python layer from its keyword
/// arguments (see `shakedown.analyze`).
#[pyclass(frozen, skip_from_py_object, module = "shakedown._shakedown")]
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) config: Config,
    pub(crate) select: Selection,
}

#[pymethods]
impl Options {
    /// Checks the options (`None` for a cap: the command line's default) and reads the key logs (warning about lines that are not key log
    /// entries). Raises `ValueError` for an unknown cause code or a malformed network, `OSError`
    /// for a key log that cannot be read.
    #[new]
    #[pyo3(signature = (
        *, failed, conn, cause, host, port, max_connections, idle_timeout, max_stream_buffer,
        max_total_buffer, max_pending_verdicts, tls_ports, keylog
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        failed: bool,
        conn: Vec<u64>,
        cause: Vec<String>,
        host: Vec<String>,
        port: Vec<u16>,
        max_connections: Option<usize>,
        idle_timeout: Option<u64>,
        max_stream_buffer: Option<usize>,
        max_total_buffer: Option<usize>,
        max_pending_verdicts: Option<usize>,
        tls_ports: Option<Vec<u16>>,
        keylog: Vec<std::path::PathBuf>,
    ) -> PyResult<Self> {
        let causes = cause
            .iter()
            .map(|c| {
                CauseCode::ALL
                    .into_iter()
                    .find(|code| code.as_str() == c)
                    .ok_or_else(|| {
                        let known: Vec<&str> = CauseCode::ALL.iter().map(|c| c.as_str()).collect();
                        PyValueError::new_err(format!(
                            "unknown cause code {c:?}; the codes are {}",
                            known.join(", ")
                        ))
                    })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let hosts = host
            .iter()
            .map(|h| h.parse::<Net>().map_err(PyValueError::new_err))
            .collect::<PyResult<Vec<_>>>()?;
        // `None`: the command line's default, which is the library's.
        let default = Config::default();
        let limits = Limits {
            max_connections: max_connections.unwrap_or(default.max_connections),
            idle_timeout: idle_timeout
                .unwrap_or(default.idle_timeout_ns.unsigned_abs() / 1_000_000_000),
            max_stream_buffer: max_stream_buffer.unwrap_or(default.max_stream_buffer),
            max_total_buffer: max_total_buffer.unwrap_or(default.max_total_buffer),
            max_pending_verdicts: max_pending_verdicts.unwrap_or(default.max_pending_verdicts),
            tls_ports: tls_ports.map(|ports| TlsPorts { add: false, ports }),
            keylog: Vec::new(),
        };
        let mut config = limits.config();
        if !keylog.is_empty() {
            config.key_log = Some(Arc::new(read_key_logs(py, &keylog)?));
        }
        Ok(Options {
            config,
            select: Selection {
                failed,
                conns: conn,
                causes,
                hosts,
                ports: port,
            },
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Options({:?}, keys: {})",
            self.select,
            self.config.key_log.is_some()
        )
    }
}

impl Options {
    /// Whether the filters keep `verdict`.
    pub(crate) fn selects(&self, verdict: &Verdict) -> bool {
        self.select.matches(verdict)
    }
}

/// The key logs, read as the command line reads `--keylog` files.
fn read_key_logs(
    py: Python<'_>,
    paths: &[std::path::PathBuf],
) -> PyResult<shakedown::decrypt::KeyLog> {
    let mut log = shakedown::decrypt::KeyLog::new();
    for path in paths {
        let text = std::fs::read(path)
            .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
        log.add(text);
    }
    let counts = log.counts();
    if counts.malformed > 0 {
        let first = log
            .malformed_lines()
            .first()
            .map(|l| l.to_string())
            .unwrap_or_default();
        crate::errors::warn(
            py,
            &format!(
                "{} key log line{} not understood (first: {first})",
                counts.malformed,
                if counts.malformed == 1 { "" } else { "s" },
            ),
        )?;
    }
    Ok(log)
}
