//! Which connection a frame belongs to, for the commands that copy frames out of a capture
//! (`extract`, `--save-failures`): the endpoint pair of its TCP segment, or, for an IP fragment,
//! the datagram whose completing segment will name the connection later.

use shakedown::Endpoint;
use shakedown::capture::Frame;
use shakedown::decode::{DatagramId, Decoded, Decoder, Skip};

/// A connection's endpoints, lower first (either direction gives the same pair).
pub(crate) type Pair = (Endpoint, Endpoint);

/// The endpoint pair of `a` and `b`, lower first.
pub(crate) fn pair(a: Endpoint, b: Endpoint) -> Pair {
    if a <= b { (a, b) } else { (b, a) }
}

/// What one frame is, for copying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A TCP segment of this connection; `completes` names the datagram it finished, when its
    /// IP packet came in fragments (those fragments belong to the same connection).
    Segment {
        pair: Pair,
        completes: Option<DatagramId>,
    },
    /// A fragment held for reassembly: its connection is known when the datagram completes.
    Fragment(DatagramId),
    /// A fragment the decoder threw away: its datagram never completes.
    Abandoned(DatagramId),
    /// Anything else (no TCP in it).
    None,
}

/// Decodes `frame` with `decoder` (in capture order) and says whose it is.
pub(crate) fn owner(decoder: &mut Decoder, frame: &Frame<'_>) -> Owner {
    let (segment, held) = match decoder.decode(frame) {
        Decoded::Tcp(seg) => (
            Some(pair(
                Endpoint::new(seg.src, seg.src_port),
                Endpoint::new(seg.dst, seg.dst_port),
            )),
            false,
        ),
        Decoded::Skipped(why) => (None, why == Skip::FragmentHeld),
    };
    match (segment, decoder.last_fragment()) {
        (Some(pair), completes) => Owner::Segment { pair, completes },
        (None, Some(id)) if held => Owner::Fragment(id),
        (None, Some(id)) => Owner::Abandoned(id),
        (None, None) => Owner::None,
    }
}
