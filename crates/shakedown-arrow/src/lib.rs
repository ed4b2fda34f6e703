//! shakedown's connection records in columnar form: Arrow [`RecordBatch`]es and Parquet files with
//! one documented, versioned schema ([`schema()`], docs/SCHEMA.md §10) whose columns are the JSON
//! record's fields (docs/SCHEMA.md §2), for DuckDB, pandas, Polars and Spark.
//!
//! The columns are filled from each verdict's typed facts, field by field as
//! [`shakedown::json`] writes them (same names, same strings for enumerations and codes, `null`
//! where JSON has `null`), by typed Arrow builders: no JSON is written or parsed on the way. The
//! tests hold the two together: every fixture's batch, written back as JSON, equals its JSON
//! records, and the Python tests compare the Parquet file read by pyarrow and DuckDB with the
//! command line's JSON Lines.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
//! let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
//! shakedown::analyze(&mut shakedown::capture::open(path.as_ref())?, &Default::default(), &mut verdicts)?;
//! let batch = shakedown_arrow::record_batch(&verdicts, "no-shared-cipher.pcap")?;
//! assert_eq!(batch.num_rows(), verdicts.len());
//! assert_eq!(batch.schema(), shakedown_arrow::schema());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod batch;
mod columns;
mod error;
pub mod parquet;
mod schema;

pub use arrow_array::RecordBatch;
pub use batch::{Batcher, record_batch};
pub use error::Error;
pub use schema::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, schema};
