//! TCP layer: turns the segments of one connection into two ordered byte streams.
//!
//! Sits between `flow` (which finds the connection a segment belongs to) and `proto` (which classifies the
//! first bytes of each stream). [`reassembly`] holds the per-direction [`Reassembler`], which orders the
//! payload, reports bytes the capture never saw as gaps, and keeps its memory within caps.
// Parts of this module are reached only by benches, fuzz targets and tests (the `unstable`
// feature); the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code, unused_imports))]

pub mod reassembly;

pub use reassembly::{Budget, Chunk, Reassembler, SegmentNote, StreamStats};
