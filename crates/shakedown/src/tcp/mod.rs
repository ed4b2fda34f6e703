//! TCP layer: turns the segments of one connection into two ordered byte streams.
//!
//! Sits between `flow` (which finds the connection a segment belongs to) and `proto` (which classifies the
//! first bytes of each stream). [`reassembly`] holds the per-direction [`Reassembler`], which orders the
//! payload, reports bytes the capture never saw as gaps, and keeps its memory within caps.

pub mod reassembly;

pub use reassembly::{Budget, Chunk, Reassembler, SegmentNote, StreamStats};
