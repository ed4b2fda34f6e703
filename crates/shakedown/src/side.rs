//! Which end of a connection something came from, and a pair of values kept per end.

use std::fmt;

/// One end of a TCP connection. The client is the SYN sender (see [`crate::flow`] for the rules used
/// when no SYN was captured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The end that opened the connection.
    Client,
    /// The end that accepted it.
    Server,
}

impl Side {
    /// The other end.
    ///
    /// ```
    /// use shakedown::Side;
    /// assert_eq!(Side::Client.peer(), Side::Server);
    /// ```
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// `"client"` or `"server"`, as SCHEMA.md writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value kept once per [`Side`].
///
/// ```
/// use shakedown::{PerSide, Side};
/// let mut p = PerSide::<u32>::default();
/// p[Side::Server] += 3;
/// assert_eq!((p.client, p.server), (0, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PerSide<T> {
    /// The client's value.
    pub client: T,
    /// The server's value.
    pub server: T,
}

impl<T> PerSide<T> {
    /// Both values at once.
    pub fn new(client: T, server: T) -> Self {
        PerSide { client, server }
    }

    /// Exchanges the two values (used when the roles of a connection's ends are decided late).
    pub fn swap(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
    }
}

impl<T> std::ops::Index<Side> for PerSide<T> {
    type Output = T;
    fn index(&self, side: Side) -> &T {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }
}

impl<T> std::ops::IndexMut<Side> for PerSide<T> {
    fn index_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }
}
