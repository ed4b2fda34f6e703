//! `--parquet FILE`: the connection records in a Parquet file (docs/SCHEMA.md §10, the JSON
//! record's fields as columns), written as the captures are analysed, in the order of the JSON
//! Lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use shakedown::Verdict;
use shakedown_arrow::parquet::ParquetWriter;
use shakedown_arrow::{Batcher, Error, RecordBatch};

/// The Parquet file being written.
pub(crate) type ParquetFile = ParquetWriter<BufWriter<File>>;

/// Creates `path` (replacing a file there) and starts the Parquet file in it; the error says what
/// went wrong, for people.
pub(crate) fn create(path: &Path) -> Result<ParquetFile, String> {
    let file = File::create(path).map_err(|e| format!("cannot create: {e}"))?;
    ParquetWriter::new(BufWriter::with_capacity(1 << 20, file)).map_err(|e| e.to_string())
}

/// Writes the footer and flushes; says on `err` (and returns `false`) when that fails.
pub(crate) fn finish(file: ParquetFile, path: &Path, err: &mut dyn Write) -> bool {
    match file
        .finish()
        .and_then(|mut out| out.flush().map_err(|e| Error::Parquet(e.into())))
    {
        Ok(()) => true,
        Err(e) => {
            let _ = writeln!(err, "shakedown: {}: {e}", path.display());
            false
        }
    }
}

/// Where one capture's records go in columns.
pub(crate) enum Columns<'a> {
    /// Straight into the file (one capture at a time, on the thread that writes the output).
    File(&'a mut ParquetFile),
    /// Into batches held in memory, for the thread that writes the output to add to the file in
    /// order (small captures analysed side by side).
    Batches(Batcher, Vec<RecordBatch>),
}

impl Columns<'_> {
    /// Batches in memory.
    pub(crate) fn in_memory() -> Result<Columns<'static>, Error> {
        Ok(Columns::Batches(
            Batcher::new(Batcher::DEFAULT_ROWS)?,
            Vec::new(),
        ))
    }

    /// Adds the record of `verdict`.
    pub(crate) fn push(&mut self, verdict: &Verdict, capture: &str) -> Result<(), Error> {
        match self {
            Columns::File(file) => file.write(verdict, capture),
            Columns::Batches(batcher, batches) => {
                batches.extend(batcher.push(verdict, capture)?);
                Ok(())
            }
        }
    }

    /// The batches held in memory, the last records included (none for [`Columns::File`]).
    pub(crate) fn into_batches(self) -> Result<Vec<RecordBatch>, Error> {
        match self {
            Columns::File(_) => Ok(Vec::new()),
            Columns::Batches(mut batcher, mut batches) => {
                batches.extend(batcher.flush()?);
                Ok(batches)
            }
        }
    }
}
