//! Arbitrary bytes as one side's decrypted CredSSP stream (MS-CSSP 2.2.1): framed with
//! `tsrequest_len` as a caller buffering TLS records would, each complete TLV read by
//! `parse_tsrequest`; the same bytes also go to the token classifier, the Early User Authorization
//! Result parser (MS-RDPBCGR 2.2.10.2), the NTSTATUS table and the CVE-2018-0886 rule.
//!
//! Checks: the length function and the parser agree on what is complete (`NeedMore` exactly when
//! the parser says `Truncated`, with the same byte counts; `NotDer` exactly when it says `NotDer`);
//! a complete TLV is one byte too many for its prefix; parsing never reads past the TLV (the same
//! result with and without the bytes after it); a parsed summary's lengths fit inside the TLV;
//! names of open codes round-trip and unknown ones print in hex. The same bytes as either side's
//! decrypted application data, for a connection with HYBRID and with HYBRID_EX, go to the NLA stream
//! reader: however they are cut into records it gives the same messages, each the summary of a
//! TSRequest that parses, and the client's credentials end its side.
//!
//! Input layout: raw bytes.

use shakedown::Side;
use shakedown::rdp::credssp::{
    AuthMechanism, CredsspEnding, CredsspError, NtStatus, OracleRefusal, TlvStatus,
    encryption_oracle_refusal, parse_early_user_authorization, parse_tsrequest, tsrequest_len,
};
use shakedown::rdp::nla::{NlaEvent, NlaReader};

/// Runs the target on `data`; returns how many TSRequests parsed.
pub fn run(data: &[u8]) -> usize {
    let mut rest = data;
    let mut parsed = 0usize;
    loop {
        match tsrequest_len(rest) {
            TlvStatus::Complete(n) => {
                assert!(n >= 2 && n <= rest.len(), "progress and bounds");
                let tlv = &rest[..n];
                let alone = parse_tsrequest(tlv);
                assert_eq!(
                    parse_tsrequest(rest),
                    alone,
                    "the parser reads nothing past its TLV"
                );
                assert!(
                    !matches!(alone, Err(CredsspError::Truncated { .. })),
                    "a complete TLV is never truncated"
                );
                assert!(
                    matches!(tsrequest_len(&tlv[..n - 1]), TlvStatus::NeedMore { need } if need > n - 1 && need <= n),
                    "one byte short of a complete TLV needs more"
                );
                if let Ok(req) = &alone {
                    assert_eq!(req.encoded_len, n);
                    for len in [
                        req.auth_info_len,
                        req.pub_key_auth_len,
                        req.client_nonce_len,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        assert!(len < n, "a field fits in its message");
                    }
                    assert!(req.nego_tokens <= n / 2);
                    assert!(req.mechanism.is_none() || req.nego_tokens > 0);
                    if let Some(code) = req.error_code {
                        check_status(code);
                    }
                    let _ = format!("{req:?}");
                    parsed += 1;
                }
                rest = &rest[n..];
            }
            TlvStatus::NeedMore { need } => {
                assert!(need > rest.len());
                match parse_tsrequest(rest) {
                    Err(CredsspError::Truncated { need: n, have, .. }) => {
                        assert_eq!(
                            (n, have),
                            (need, rest.len()),
                            "same counts as the length function"
                        )
                    }
                    other => panic!("NeedMore({need}) but the parser said {other:?}"),
                }
                break;
            }
            TlvStatus::NotDer(problem) => {
                assert_eq!(
                    parse_tsrequest(rest),
                    Err(CredsspError::NotDer { offset: 0, problem }),
                    "the parser refuses what the length function refuses"
                );
                break;
            }
        }
    }

    let _ = format!("{:?}", AuthMechanism::classify(data));
    match parse_early_user_authorization(data) {
        Ok(r) => {
            assert!(data.len() >= 4);
            let text = r.to_string();
            assert_eq!(r.name().is_some(), !text.starts_with("0x"));
            let _ = r.meaning();
        }
        Err(e) => assert!(data.len() < 4, "{e}"),
    }
    if let Some(&[a, b, c, d]) = data.get(..4) {
        check_status(NtStatus(u32::from_le_bytes([a, b, c, d])));
    }
    if let Some(&[client, server, end, code]) = data.get(..4) {
        let ending = match end % 4 {
            0 => CredsspEnding::ServerError(NtStatus(0xC000_0000 | u32::from(code))),
            1 => CredsspEnding::EndedAfterClientPubKeyAuth,
            2 => CredsspEnding::EndedBeforeClientPubKeyAuth,
            _ => CredsspEnding::Other,
        };
        let (client, server) = (u32::from(client % 8), u32::from(server % 8));
        match encryption_oracle_refusal(client, Some(server), ending) {
            Some(OracleRefusal::ClientRefusedServer) => assert!(client >= 6 && server <= 4),
            Some(OracleRefusal::ServerRefusedClient) => assert!(client <= 4 && server >= 6),
            None => {}
        }
        assert_eq!(encryption_oracle_refusal(client, None, ending), None);
    }
    for hybrid_ex in [false, true] {
        for side in [Side::Client, Side::Server] {
            let whole = nla(data, side, hybrid_ex, usize::MAX);
            // Records of a size the input's first byte chooses, and of one byte each.
            let size = usize::from(data.first().copied().unwrap_or(0) % 64) + 1;
            assert_eq!(
                nla(data, side, hybrid_ex, size),
                whole,
                "cut into {size}-byte records"
            );
            assert_eq!(nla(data, side, hybrid_ex, 1), whole, "cut into bytes");
            for event in &whole {
                if let NlaEvent::TsRequest(t) = event {
                    let _ = t.to_string();
                    assert!(side == Side::Server || !t.auth_info || Some(event) == whole.last());
                }
            }
        }
    }
    parsed
}

/// The messages the NLA reader finds in `data` sent by `side` in records of `size` bytes; for the
/// server with HYBRID_EX, after a client TSRequest with credentials.
fn nla(data: &[u8], side: Side, hybrid_ex: bool, size: usize) -> Vec<NlaEvent> {
    let mut reader = NlaReader::new(hybrid_ex);
    let mut out = Vec::new();
    if side == Side::Server && hybrid_ex {
        // TSRequest { version 6, authInfo }: the client's credentials.
        let credentials = b"\x30\x0b\xa0\x03\x02\x01\x06\xa2\x04\x04\x02\x00\x00";
        reader.feed(Side::Client, credentials, &mut out);
        assert_eq!(out.len(), 1, "the client's credentials are read");
        out.clear();
    }
    for record in data.chunks(size.max(1)) {
        reader.feed(side, record, &mut out);
    }
    out
}

/// Names round-trip; unknown values print as `0x` and eight upper-case hex digits.
fn check_status(code: NtStatus) {
    let text = code.to_string();
    match code.name() {
        Some(name) => {
            assert_eq!(text, name);
            assert_eq!(NtStatus::from_name(name), Some(code));
        }
        None => assert_eq!(text, format!("0x{:08X}", code.0)),
    }
    let _ = code.meaning();
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_well_formed_input() {
        // TSRequest { version 6, errorCode STATUS_LOGON_FAILURE } twice, then a cut third.
        let one = b"\x30\x0d\xa0\x03\x02\x01\x06\xa4\x06\x02\x04\xc0\x00\x00\x6d";
        let mut data = [&one[..], &one[..], &one[..5]].concat();
        assert_eq!(super::run(&data), 2);
        data.truncate(3);
        assert_eq!(super::run(&data), 0);
        assert_eq!(super::run(b"\x30\x80"), 0);
    }

    /// Every prefix and every single-byte change (to a few values that matter to DER) of a
    /// client NEGOTIATE and a server errorCode keeps the harness's invariants.
    #[test]
    fn mutations_of_well_formed_input_keep_the_invariants() {
        let mut negotiate = b"\x30\x2f\xa0\x03\x02\x01\x06\xa1\x28\x30\x26\x30\x24\xa0\x22\x04\x20NTLMSSP\x00\x01\x00\x00\x00".to_vec();
        negotiate.extend_from_slice(&[0; 20]);
        let error = b"\x30\x0e\xa0\x03\x02\x01\x06\xa4\x07\x02\x05\x00\xc0\x00\x00\x6d".to_vec();
        for seed in [negotiate, error] {
            assert_eq!(super::run(&seed), 1);
            for len in 0..seed.len() {
                super::run(&seed[..len]);
            }
            for i in 0..seed.len() {
                for v in [0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0xff, 0x30, 0xa0, 0x04] {
                    let mut m = seed.clone();
                    m[i] = v;
                    super::run(&m);
                }
            }
        }
    }
}
