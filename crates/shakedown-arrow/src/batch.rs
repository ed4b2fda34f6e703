//! Verdicts into record batches, a bounded number of rows at a time.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use shakedown::Verdict;

use crate::columns::RecordColumns;
use crate::{Error, schema};

/// Gathers records into [`RecordBatch`]es of the [`schema()`], at most `rows` rows each: give it
/// verdicts with [`Batcher::push`], take the batch it hands back when full, and the rest with
/// [`Batcher::flush`] at the end.
pub struct Batcher {
    /// Boxed: the builders of every column are a few KiB, and batchers are moved around.
    columns: Box<RecordColumns>,
    schema: SchemaRef,
    rows: usize,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("rows", &self.rows)
            .field("pending", &self.columns.rows())
            .finish()
    }
}

impl Batcher {
    /// Rows per batch unless told otherwise: small enough to keep memory low (records are a few
    /// KiB), big enough for columnar work to pay off.
    pub const DEFAULT_ROWS: usize = 4096;

    /// A batcher handing out batches of `rows` rows (at least one).
    pub fn new(rows: usize) -> Result<Self, Error> {
        Ok(Batcher {
            columns: Box::new(RecordColumns::new()),
            schema: schema(),
            rows: rows.max(1),
        })
    }

    /// Adds the record of `verdict` (its `capture` field as given); returns a batch once `rows`
    /// records are waiting.
    pub fn push(&mut self, verdict: &Verdict, capture: &str) -> Result<Option<RecordBatch>, Error> {
        self.columns.add(verdict, capture);
        if self.columns.rows() >= self.rows {
            return self.flush();
        }
        Ok(None)
    }

    /// The records waiting, as one batch (`None` when there are none).
    pub fn flush(&mut self) -> Result<Option<RecordBatch>, Error> {
        if self.columns.rows() == 0 {
            return Ok(None);
        }
        Ok(Some(self.columns.finish(&self.schema)?))
    }

    /// Records waiting for the next batch.
    pub fn len(&self) -> usize {
        self.columns.rows()
    }

    /// Whether no record is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The records of `verdicts` (all from the capture named `capture`) as one batch.
pub fn record_batch(verdicts: &[Verdict], capture: &str) -> Result<RecordBatch, Error> {
    let mut columns = RecordColumns::new();
    for v in verdicts {
        columns.add(v, capture);
    }
    Ok(columns.finish(&schema())?)
}
