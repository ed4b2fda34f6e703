//! Records into a Parquet file as they come: row groups of bounded size (rows and bytes), Snappy
//! compressed, the Arrow schema embedded and [`SCHEMA_VERSION`] in the
//! file's key-value metadata under [`SCHEMA_VERSION_KEY`].

use std::io::Write;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::metadata::KeyValue;
use ::parquet::file::properties::WriterProperties;
use arrow_array::RecordBatch;
use shakedown::Verdict;

use crate::{Batcher, Error, SCHEMA_VERSION, SCHEMA_VERSION_KEY, schema};

/// Rows per row group at most.
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Encoded bytes per row group at most (estimated by the writer, which holds a row group in
/// memory until it is written).
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// The properties every shakedown Parquet file is written with.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .set_created_by(format!("shakedown {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Writes connection records to a Parquet file as they come; [`ParquetWriter::finish`] writes the
/// footer. A file that was not finished cannot be read.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
/// let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
/// shakedown::analyze(&mut shakedown::capture::open(path.as_ref())?, &Default::default(), &mut verdicts)?;
/// let mut writer = shakedown_arrow::parquet::ParquetWriter::new(Vec::new())?;
/// for v in &verdicts {
///     writer.write(v, "no-shared-cipher.pcap")?;
/// }
/// let file = writer.finish()?;
/// assert!(file.starts_with(b"PAR1") && file.ends_with(b"PAR1"));
/// # Ok(()) }
/// ```
pub struct ParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    batcher: Batcher,
    rows: u64,
}

impl<W: Write + Send> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts a Parquet file of connection records on `out` (give it a buffered writer).
    pub fn new(out: W) -> Result<Self, Error> {
        Ok(ParquetWriter {
            writer: ArrowWriter::try_new(out, schema(), Some(writer_properties()))?,
            batcher: Batcher::new(Batcher::DEFAULT_ROWS)?,
            rows: 0,
        })
    }

    /// Adds the record of one verdict.
    pub fn write(&mut self, verdict: &Verdict, capture: &str) -> Result<(), Error> {
        if let Some(batch) = self.batcher.push(verdict, capture)? {
            self.write_out(&batch)?;
        }
        Ok(())
    }

    /// Adds records already in a batch of the [`schema()`] (made elsewhere, e.g. on another
    /// thread), after the records given so far.
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        if let Some(waiting) = self.batcher.flush()? {
            self.write_out(&waiting)?;
        }
        self.write_out(batch)
    }

    fn write_out(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Records written so far (including those still waiting for their batch).
    pub fn rows(&self) -> u64 {
        self.rows + self.batcher.len() as u64
    }

    /// Writes what is waiting and the footer; returns `out`.
    pub fn finish(mut self) -> Result<W, Error> {
        if let Some(batch) = self.batcher.flush()? {
            self.write_out(&batch)?;
        }
        Ok(self.writer.into_inner()?)
    }
}
