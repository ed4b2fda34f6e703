//! A frame with its own copy of the bytes: what is kept of a frame after the capture reader has
//! moved on (held for a connection by `--save-failures`, held behind a fragment by `extract`, or
//! sent from the thread reading a pipe).

use shakedown::Timestamp;
use shakedown::capture::{Frame, LinkType};

/// A copy of one [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnedFrame {
    pub index: u64,
    pub ts: Timestamp,
    pub link_type: LinkType,
    pub interface: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl OwnedFrame {
    /// A copy of `frame`.
    pub(crate) fn of(frame: &Frame<'_>) -> OwnedFrame {
        OwnedFrame {
            index: frame.index,
            ts: frame.ts,
            link_type: frame.link_type,
            interface: frame.interface,
            orig_len: frame.orig_len,
            data: frame.data.to_vec(),
        }
    }

    /// The frame again, borrowing the copy.
    pub(crate) fn frame(&self) -> Frame<'_> {
        Frame {
            index: self.index,
            ts: self.ts,
            link_type: self.link_type,
            interface: self.interface,
            data: &self.data,
            orig_len: self.orig_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_gives_the_frame_back() {
        let bytes = [1u8, 2, 3];
        let frame = Frame {
            index: 7,
            ts: Timestamp::from_secs_nanos(1, 2),
            link_type: LinkType::RAW,
            interface: 3,
            data: &bytes,
            orig_len: 60,
        };
        let copy = OwnedFrame::of(&frame);
        let again = copy.frame();
        assert_eq!(
            (
                again.index,
                again.ts,
                again.link_type,
                again.interface,
                again.data,
                again.orig_len
            ),
            (7, frame.ts, LinkType::RAW, 3, &bytes[..], 60)
        );
    }
}
