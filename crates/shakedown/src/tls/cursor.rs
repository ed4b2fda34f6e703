//! A checked reader over a borrowed handshake message body: every read returns `Option`, so a short or
//! lying length field ends parsing instead of panicking. Used by the message parsers of [`crate::tls`].

/// A position in a borrowed byte slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unread bytes.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        crate::bytes::be16(self.take(2)?, 0)
    }

    pub(crate) fn u24(&mut self) -> Option<u32> {
        crate::bytes::be24(self.take(3)?, 0)
    }

    /// A vector with a one-byte length prefix, as a sub-cursor.
    pub(crate) fn vec8(&mut self) -> Option<Cursor<'a>> {
        let n = self.u8()?;
        self.take(usize::from(n)).map(Cursor::new)
    }

    /// A vector with a two-byte length prefix, as a sub-cursor.
    pub(crate) fn vec16(&mut self) -> Option<Cursor<'a>> {
        let n = self.u16()?;
        self.take(usize::from(n)).map(Cursor::new)
    }

    /// A vector with a three-byte length prefix, as a sub-cursor.
    pub(crate) fn vec24(&mut self) -> Option<Cursor<'a>> {
        let n = self.u24()?;
        self.take(usize::try_from(n).ok()?).map(Cursor::new)
    }

    /// Reads big-endian u16 values until the cursor is empty (a trailing odd byte is ignored).
    pub(crate) fn u16_list(mut self) -> Vec<u16> {
        let mut v = Vec::with_capacity(self.remaining() / 2);
        while let Some(x) = self.u16() {
            v.push(x);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_are_none() {
        let mut c = Cursor::new(&[0x00, 0x03, 0xaa]);
        assert!(c.clone().vec16().is_none());
        assert_eq!(c.u16(), Some(3));
        assert_eq!(c.u16(), None);
        assert_eq!(c.u8(), Some(0xaa));
        assert!(c.is_empty());
        assert_eq!(Cursor::new(&[1, 2, 3]).u24(), Some(0x010203));
        assert_eq!(Cursor::new(&[0, 1, 0, 2, 9]).u16_list(), vec![1, 2]);
    }
}
