//! Decrypting TLS records with keys from a key log, between the TLS deframer and the handshake/alert
//! reader: [`schedule`] turns logged secrets into record keys (RFC 8446 §7 for TLS 1.3, RFC 5246 §5
//! and §6.3 for TLS 1.2 and older), [`record`] opens protected records one direction at a time.
//! Nothing here runs unless a caller has keys and asks.

pub mod record;
pub mod schedule;
