//! The handshake defragmenter: second step of [`crate::tls`]. It turns the bodies of one direction's
//! plaintext handshake records into whole handshake messages (RFC 8446 §4, RFC 5246 §7.4: a message
//! may span records, and a record may hold several messages).
//!
//! A message lying whole inside one piece of input is handed out as a borrowed slice; only messages
//! split across pieces are copied, and only up to `max` bytes. A larger claimed length is reported and
//! its body skipped by counting.

/// One result of defragmenting.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// A complete handshake message: its type and body (without the 4-byte header).
    Complete {
        /// `HandshakeType`.
        msg_type: u8,
        /// The body.
        body: &'a [u8],
    },
    /// A message claiming more than the limit; its body is being skipped.
    Oversized {
        /// `HandshakeType`.
        msg_type: u8,
        /// The claimed body length.
        len: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the 4-byte header; `have` bytes of it are known.
    Header { hdr: [u8; 4], have: u8 },
    /// Copying a split message's body into `buf` until it holds `len` bytes.
    Body { msg_type: u8, len: usize },
    /// Skipping the rest of an oversized message.
    Skip { remaining: u64 },
}

/// Reassembles handshake messages of one direction.
#[derive(Debug, Clone)]
pub(crate) struct Defragmenter {
    max: usize,
    state: State,
    buf: Vec<u8>,
}

/// A buffer that grew past this is freed after use, so an idle connection holds little.
const KEEP_CAPACITY: usize = 16 * 1024;

impl Defragmenter {
    /// A defragmenter keeping messages of at most `max` body bytes.
    pub(crate) fn new(max: usize) -> Self {
        Defragmenter {
            max,
            state: State::Header {
                hdr: [0; 4],
                have: 0,
            },
            buf: Vec::new(),
        }
    }

    /// Forgets any partial message (after lost bytes or a change of keys).
    pub(crate) fn reset(&mut self) {
        self.state = State::Header {
            hdr: [0; 4],
            have: 0,
        };
        self.release();
    }

    /// The type of the message being put together, when its first byte was seen.
    pub(crate) fn partial_type(&self) -> Option<u8> {
        match self.state {
            State::Header { hdr, have } if have > 0 => Some(hdr[0]),
            State::Body { msg_type, .. } => Some(msg_type),
            _ => None,
        }
    }

    /// No partial message is pending.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Header { have: 0, .. })
    }

    /// Bytes currently allocated for partial messages.
    #[cfg(test)]
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.buf.capacity()
    }

    fn release(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::new();
        }
    }

    /// Feeds handshake-record body bytes, calling `on` for each complete or oversized message.
    pub(crate) fn push(&mut self, mut input: &[u8], mut on: impl FnMut(Message<'_>)) {
        // Progress guard: every iteration consumes input or completes a zero-length message.
        while !input.is_empty() || matches!(self.state, State::Body { len: 0, .. }) {
            match self.state {
                State::Header { have: 0, .. } if input.len() >= 4 => {
                    let (msg_type, len) = header(input);
                    let total = len.saturating_add(4);
                    if len <= self.max && input.len() >= total {
                        // Zero-copy: the whole message is in this piece.
                        let body = input.get(4..total).unwrap_or_default();
                        input = input.get(total..).unwrap_or_default();
                        on(Message::Complete { msg_type, body });
                        continue;
                    }
                    input = input.get(4..).unwrap_or_default();
                    self.begin(msg_type, len, &mut on);
                }
                State::Header { mut hdr, have } => {
                    let Some((&b, rest)) = input.split_first() else {
                        break;
                    };
                    input = rest;
                    if let Some(slot) = hdr.get_mut(usize::from(have)) {
                        *slot = b;
                    }
                    if have == 3 {
                        let (msg_type, len) = header(&hdr);
                        self.begin(msg_type, len, &mut on);
                    } else {
                        self.state = State::Header {
                            hdr,
                            have: have + 1,
                        };
                    }
                }
                State::Body { msg_type, len } => {
                    let need = len.saturating_sub(self.buf.len());
                    let n = need.min(input.len());
                    let (part, rest) = input.split_at(n);
                    self.buf.extend_from_slice(part);
                    input = rest;
                    if self.buf.len() >= len {
                        self.state = State::Header {
                            hdr: [0; 4],
                            have: 0,
                        };
                        on(Message::Complete {
                            msg_type,
                            body: &self.buf,
                        });
                        self.release();
                    }
                }
                State::Skip { remaining } => {
                    let n = u64::try_from(input.len())
                        .unwrap_or(u64::MAX)
                        .min(remaining);
                    input = input
                        .get(usize::try_from(n).unwrap_or(input.len())..)
                        .unwrap_or_default();
                    self.state = if remaining == n {
                        State::Header {
                            hdr: [0; 4],
                            have: 0,
                        }
                    } else {
                        State::Skip {
                            remaining: remaining - n,
                        }
                    };
                }
            }
        }
    }

    fn begin(&mut self, msg_type: u8, len: usize, on: &mut impl FnMut(Message<'_>)) {
        if len > self.max {
            on(Message::Oversized {
                msg_type,
                len: u32::try_from(len).unwrap_or(u32::MAX),
            });
            self.state = State::Skip {
                remaining: u64::try_from(len).unwrap_or(u64::MAX),
            };
        } else {
            self.buf.clear();
            self.state = State::Body { msg_type, len };
        }
    }
}

/// Type and length of a 4-byte handshake header (the caller guarantees 4 bytes).
fn header(b: &[u8]) -> (u8, usize) {
    let t = crate::bytes::view::byte(b, 0);
    let len = crate::bytes::be24(b, 1).unwrap_or(0);
    (t, usize::try_from(len).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(d: &mut Defragmenter, chunks: &[&[u8]]) -> Vec<(u8, Vec<u8>)> {
        let mut v = Vec::new();
        for c in chunks {
            d.push(c, |m| match m {
                Message::Complete { msg_type, body } => v.push((msg_type, body.to_vec())),
                Message::Oversized { msg_type, len } => {
                    v.push((msg_type, len.to_be_bytes().to_vec()))
                }
            });
        }
        v
    }

    #[test]
    fn several_in_one_and_split() {
        let msgs = [2, 0, 0, 2, 0xaa, 0xbb, 14, 0, 0, 0, 11, 0, 0, 1, 0xcc];
        let whole = run(&mut Defragmenter::new(100), &[&msgs]);
        assert_eq!(
            whole,
            vec![(2, vec![0xaa, 0xbb]), (14, vec![]), (11, vec![0xcc])]
        );
        for cut in 0..msgs.len() {
            let (a, b) = msgs.split_at(cut);
            assert_eq!(
                run(&mut Defragmenter::new(100), &[a, b]),
                whole,
                "cut {cut}"
            );
        }
        let bytes: Vec<&[u8]> = msgs.chunks(1).collect();
        assert_eq!(run(&mut Defragmenter::new(100), &bytes), whole);
    }

    #[test]
    fn oversized_is_skipped_not_buffered() {
        let mut d = Defragmenter::new(10);
        let mut input = vec![11, 0xff, 0xff, 0xff];
        input.extend(std::iter::repeat_n(0u8, 1000));
        let out = run(&mut d, &[&input]);
        assert_eq!(out, vec![(11, 0x00ff_ffff_u32.to_be_bytes().to_vec())]);
        assert_eq!(d.buffered_capacity(), 0);
        assert!(!d.is_idle());
        // The skip ends exactly after the claimed length; the next message parses.
        let mut d = Defragmenter::new(2);
        let out = run(&mut d, &[&[1, 0, 0, 3], &[9, 9], &[9, 14, 0, 0, 0]]);
        assert_eq!(out, vec![(1, 3u32.to_be_bytes().to_vec()), (14, vec![])]);
    }
}
