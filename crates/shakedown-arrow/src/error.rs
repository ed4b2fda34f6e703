//! What can go wrong turning records into columns or writing them out.

use arrow_schema::ArrowError;

/// An error building record batches or writing Parquet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The columns built did not fit the schema (the builders and the schema disagree, which the
    /// tests rule out).
    #[error("the records do not fit the Arrow schema: {0}")]
    Arrow(#[from] ArrowError),
    /// The Parquet file could not be written (its I/O error inside).
    #[error("{0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
}
