//! The native module `shakedown._shakedown` of the Python package `shakedown` (python/ in the
//! repository, built with maturin): captures in, verdict records out, as dicts (the JSON Lines
//! records of docs/SCHEMA.md, from the same writer) or as a `pyarrow.Table` (the Arrow schema of
//! docs/SCHEMA.md §10, handed over through the Arrow C stream interface).
//!
//! The Python layer (`python/shakedown/__init__.py`) gives the documented API and turns its
//! keyword options into an [`Options`]; this module does the work with the GIL released: the
//! analysis of [`Analysis`] runs on its own thread, and `analyze_table` (module `table`) releases the GIL while its
//! threads work. Only reading a Python file object takes the GIL, for each read.
#![warn(missing_docs)]

mod errors;
mod options;
mod source;
mod stream;
mod table;

use pyo3::prelude::*;

pub use options::Options;
pub use stream::Analysis;

/// The Arrow schema of the records (docs/SCHEMA.md §10), as a `pyarrow.Schema`.
#[pyfunction]
fn schema(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    use arrow_pyarrow::ToPyArrow;
    shakedown_arrow::schema().as_ref().to_pyarrow(py)
}

/// The native module.
#[pymodule]
fn _shakedown(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SCHEMA_VERSION", shakedown::json::SCHEMA_VERSION)?;
    m.add(
        "DEFAULT_TLS_PORTS",
        shakedown::config::DEFAULT_TLS_PORTS.to_vec(),
    )?;
    m.add(
        "CAUSE_CODES",
        shakedown::CauseCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
    )?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Options>()?;
    m.add_class::<Analysis>()?;
    m.add_function(wrap_pyfunction!(schema, m)?)?;
    m.add_function(wrap_pyfunction!(table::analyze_table, m)?)?;
    Ok(())
}
