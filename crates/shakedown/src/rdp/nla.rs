//! Network Level Authentication as it is read: the CredSSP exchange (MS-CSSP 3.1.5) of one RDP
//! connection, cut out of its decrypted TLS application data, one side at a time. Between TLS
//! decryption (`tls`, which hands over the plaintext of each side's first few application records
//! when the Connection Confirm selected PROTOCOL_HYBRID or PROTOCOL_HYBRID_EX) and the verdict.
//!
//! Each side's plaintext is a sequence of DER TSRequests, one of which may span records and several
//! of which may share one; [`NlaReader`] frames them with [`credssp::tsrequest_len`], reads each with
//! [`credssp::parse_tsrequest`] and hands out their [`TsRequestSummary`]. A side is read until its
//! CredSSP is over: for the client once it sent its credentials (authInfo), for the server when its
//! bytes stop being TSRequests (the RDP connection sequence that follows starts with a TPKT header,
//! not a DER SEQUENCE); with HYBRID_EX the server's four bytes after the client's credentials are
//! its Early User Authorization Result (MS-RDPBCGR 2.2.10.2). At most [`MAX_BUFFERED`] bytes of a
//! side are held while a TSRequest is incomplete; a longer one ends the reading of that side.
//!
//! ```text
//! client: TSRequest NEGOTIATE ─▶                 ◀─ TSRequest CHALLENGE :server
//! client: TSRequest AUTHENTICATE + pubKeyAuth ─▶ ◀─ TSRequest pubKeyAuth (or errorCode) :server
//! client: TSRequest authInfo ─▶                  ◀─ Early User Authorization Result (HYBRID_EX)
//! ```
// Parts of this module are reached only by the fuzz harness and tests (the `unstable` feature);
// the engine itself uses the rest.
#![cfg_attr(not(feature = "unstable"), allow(dead_code))]

use super::credssp::{
    self, AuthorizationResult, EARLY_USER_AUTHORIZATION_LEN, TlvStatus, TsRequestSummary,
};
use crate::{PerSide, Side};

/// Bytes of one side held at most while a TSRequest is incomplete (Kerberos tickets with large
/// PACs make TSRequests of tens of kilobytes).
pub const MAX_BUFFERED: usize = 64 * 1024;

/// Application records of each side decrypted for CredSSP (its three or so TSRequests, some of
/// which may span records, and the Early User Authorization Result); the rest is only counted.
pub const RECORDS_READ: u8 = 8;

/// The identifier of a DER SEQUENCE, which every TSRequest is.
const SEQUENCE: u8 = 0x30;

/// What one side's plaintext showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NlaEvent {
    /// A TSRequest (MS-CSSP 2.2.1).
    TsRequest(TsRequestSummary),
    /// The server's Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2, HYBRID_EX only).
    EarlyUserAuthorization(AuthorizationResult),
}

/// One side's bytes not read yet, until its CredSSP is over.
#[derive(Debug, Clone, Default)]
struct SideStream {
    held: Vec<u8>,
    over: bool,
}

impl SideStream {
    fn end(&mut self) {
        self.over = true;
        self.held = Vec::new();
    }
}

/// The CredSSP exchange of one connection, fed each side's decrypted application data in order.
///
#[cfg_attr(feature = "unstable", doc = " ```")]
#[cfg_attr(not(feature = "unstable"), doc = " ```ignore")]
/// use shakedown::Side;
/// use shakedown::rdp::nla::{NlaEvent, NlaReader};
/// let mut nla = NlaReader::new(false);
/// let mut out = Vec::new();
/// // The server's TSRequest { version 6, errorCode STATUS_LOGON_FAILURE }, cut in two.
/// let msg = b"\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d";
/// nla.feed(Side::Server, &msg[..6], &mut out);
/// assert!(out.is_empty());
/// nla.feed(Side::Server, &msg[6..], &mut out);
/// match out[..] {
///     [NlaEvent::TsRequest(t)] => assert_eq!(t.error_code.map(|c| c.0), Some(0xC000_006D)),
///     _ => panic!("{out:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct NlaReader {
    /// PROTOCOL_HYBRID_EX was selected: the server ends CredSSP with its Early User Authorization
    /// Result.
    hybrid_ex: bool,
    sides: PerSide<SideStream>,
    /// The client sent its credentials (a TSRequest with authInfo).
    credentials_sent: bool,
}

impl NlaReader {
    /// A reader for a connection whose Connection Confirm selected PROTOCOL_HYBRID, or
    /// PROTOCOL_HYBRID_EX (`hybrid_ex`).
    pub fn new(hybrid_ex: bool) -> Self {
        NlaReader {
            hybrid_ex,
            sides: PerSide::default(),
            credentials_sent: false,
        }
    }

    /// Whether both sides' CredSSP is over (nothing more will be read).
    pub fn is_over(&self) -> bool {
        self.sides.client.over && self.sides.server.over
    }

    /// The next decrypted application bytes of `side`; what they complete goes to `out`.
    pub fn feed(&mut self, side: Side, bytes: &[u8], out: &mut Vec<NlaEvent>) {
        let early_result_next = side == Side::Server && self.hybrid_ex && self.credentials_sent;
        let stream = &mut self.sides[side];
        if stream.over {
            return;
        }
        stream.held.extend_from_slice(bytes);
        if early_result_next {
            if let Some(four) = stream.held.get(..EARLY_USER_AUTHORIZATION_LEN)
                && let Ok(result) = credssp::parse_early_user_authorization(four)
            {
                out.push(NlaEvent::EarlyUserAuthorization(result));
                stream.end();
            }
            return;
        }
        loop {
            match stream.held.first() {
                None => return,
                Some(&SEQUENCE) => {}
                // Not a TSRequest: the RDP connection sequence (or something else) follows.
                Some(_) => return stream.end(),
            }
            let len = match credssp::tsrequest_len(&stream.held) {
                TlvStatus::Complete(n) => n,
                TlvStatus::NeedMore { need } if need <= MAX_BUFFERED => return,
                TlvStatus::NeedMore { .. } | TlvStatus::NotDer(_) => return stream.end(),
            };
            let Some(Ok(req)) = stream.held.get(..len).map(credssp::parse_tsrequest) else {
                return stream.end();
            };
            stream.held.drain(..len);
            out.push(NlaEvent::TsRequest(TsRequestSummary::of(&req)));
            if side == Side::Client && req.auth_info_len.is_some() {
                // The credentials are the client's last TSRequest.
                self.credentials_sent = true;
                return stream.end();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::credssp::{NegoToken, NtStatus, NtlmMessageType};

    /// A minimal DER TLV.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let n = content.len();
        let mut v = vec![tag];
        if n < 0x80 {
            v.push(n as u8);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    /// A TSRequest of version 6 with an NTLM message of `kind` (0: none), and the fields of
    /// `tags` (3 pubKeyAuth, 2 authInfo) with `len` bytes each.
    fn ts(kind: u8, tags: &[u8], len: usize) -> Vec<u8> {
        let mut content = tlv(0xa0, &[0x02, 0x01, 0x06]);
        if kind != 0 {
            let mut token = b"NTLMSSP\0".to_vec();
            token.extend_from_slice(&[kind, 0, 0, 0]);
            token.extend_from_slice(&[0; 20]);
            content.extend(tlv(
                0xa1,
                &tlv(0x30, &tlv(0x30, &tlv(0xa0, &tlv(0x04, &token)))),
            ));
        }
        for &t in tags {
            content.extend(tlv(0xa0 | t, &tlv(0x04, &vec![0x5a; len])));
        }
        tlv(0x30, &content)
    }

    fn summaries(out: &[NlaEvent]) -> Vec<String> {
        out.iter()
            .map(|e| match e {
                NlaEvent::TsRequest(t) => t.to_string(),
                NlaEvent::EarlyUserAuthorization(r) => r.to_string(),
            })
            .collect()
    }

    #[test]
    fn an_exchange_with_early_user_authorization() {
        let mut nla = NlaReader::new(true);
        let mut out = Vec::new();
        nla.feed(Side::Client, &ts(1, &[], 0), &mut out);
        nla.feed(Side::Server, &ts(2, &[], 0), &mut out);
        nla.feed(Side::Client, &ts(3, &[3], 48), &mut out);
        nla.feed(Side::Server, &ts(0, &[3], 48), &mut out);
        // The credentials and the first bytes of the RDP connection sequence in one record.
        let mut last = ts(0, &[2], 90);
        last.extend_from_slice(b"\x03\x00\x01\x00");
        nla.feed(Side::Client, &last, &mut out);
        // The server's result, then RDP data: only the result is read.
        nla.feed(Side::Server, b"\x05\x00\x00\x00\x03\x00", &mut out);
        assert_eq!(
            summaries(&out),
            [
                "TSRequest v6 NTLM NEGOTIATE",
                "TSRequest v6 NTLM CHALLENGE",
                "TSRequest v6 NTLM AUTHENTICATE, pubKeyAuth",
                "TSRequest v6 pubKeyAuth",
                "TSRequest v6 authInfo",
                "AUTHZ_ACCESS_DENIED",
            ]
        );
        assert!(nla.is_over());
        // Nothing more is read.
        nla.feed(Side::Client, &ts(1, &[], 0), &mut out);
        assert_eq!(out.len(), 6);
        match out[2] {
            NlaEvent::TsRequest(t) => {
                assert_eq!(
                    t.token,
                    Some(NegoToken::Ntlm(NtlmMessageType::AUTHENTICATE))
                );
                assert!(t.pub_key_auth && !t.auth_info);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_cut_anywhere_and_sharing_records_are_read_whole() {
        let mut stream = ts(1, &[], 0);
        stream.extend(ts(3, &[3], 300));
        let error = tlv(
            0x30,
            &[
                tlv(0xa0, &[0x02, 0x01, 0x06]),
                tlv(0xa4, &[0x02, 0x04, 0xc0, 0x00, 0x00, 0x6d]),
            ]
            .concat(),
        );
        stream.extend(&error);
        for cut in 1..stream.len() {
            let mut nla = NlaReader::new(false);
            let mut out = Vec::new();
            nla.feed(Side::Server, &stream[..cut], &mut out);
            nla.feed(Side::Server, &stream[cut..], &mut out);
            assert_eq!(out.len(), 3, "cut at {cut}");
            match out[2] {
                NlaEvent::TsRequest(t) => {
                    assert_eq!(t.error_code, Some(NtStatus::LOGON_FAILURE), "cut at {cut}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn what_is_not_credssp_ends_a_side_and_nothing_big_is_held() {
        // RDP data after the server's pubKeyAuth (HYBRID): the side is over.
        let mut nla = NlaReader::new(false);
        let mut out = Vec::new();
        nla.feed(Side::Server, b"\x03\x00\x00\x0c\x02\xf0\x80", &mut out);
        assert!(out.is_empty() && nla.sides.server.over);
        // A SEQUENCE that declares more than may be held.
        let mut nla = NlaReader::new(false);
        nla.feed(Side::Client, b"\x30\x83\x10\x00\x00", &mut out);
        assert!(out.is_empty() && nla.sides.client.over);
        assert_eq!(nla.sides.client.held.capacity(), 0);
        // A SEQUENCE that is not a TSRequest.
        let mut nla = NlaReader::new(false);
        nla.feed(Side::Client, b"\x30\x03\x02\x01\x06", &mut out);
        assert!(out.is_empty() && nla.sides.client.over);
        // One within the limit is held until it is whole.
        let mut nla = NlaReader::new(false);
        let big = ts(3, &[3], 40_000);
        nla.feed(Side::Client, &big[..20_000], &mut out);
        assert!(out.is_empty() && !nla.sides.client.over);
        nla.feed(Side::Client, &big[20_000..], &mut out);
        assert_eq!(out.len(), 1);
    }
}
