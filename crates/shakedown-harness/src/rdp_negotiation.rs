//! Arbitrary bytes through the RDP negotiation parsers: TPKT framing, X.224 kind, Connection Request
//! and Confirm (and the checked views they rest on). Whatever parses must re-encode to something that
//! parses to the same value.

use shakedown::rdp::{
    RdpError, Tpkt, TpktStatus, X224, looks_like_connection_request, parse_connection_confirm,
    parse_connection_request, tpkt_frame_len, x224_kind,
};

/// Runs the target on `data`; returns the TPKT frames found by the framing loop.
pub fn run(data: &[u8]) -> usize {
    // Framing a stream of TPKTs must always make progress and stay in bounds.
    let mut rest = data;
    let mut frames = 0usize;
    while let TpktStatus::Frame(n) = tpkt_frame_len(rest) {
        frames += 1;
        assert!(n >= 7 && n <= rest.len());
        let frame = &rest[..n];
        let _ = x224_kind(frame);
        if let Ok(t) = Tpkt::new_checked(frame) {
            let _ = (t.version(), t.length(), t.trailing().len());
            if let Ok(x) = X224::new_checked(t.payload()) {
                let _ = (
                    x.kind(),
                    x.dst_ref(),
                    x.src_ref(),
                    x.class_option(),
                    x.reason(),
                );
                let _ = (
                    x.user_data().len(),
                    x.as_bytes().len(),
                    x.length_indicator(),
                );
            }
        }
        rest = &rest[n..];
    }
    let _ = x224_kind(data);
    let _ = looks_like_connection_request(data);
    if let Ok(req) = parse_connection_request(data) {
        let _ = (req.requested().names(), req.requested().to_string());
        let bytes = req.to_bytes();
        match parse_connection_request(&bytes) {
            Err(RdpError::IsoTransport) => {
                // A routing token that starts with a byte >= 0x80, written back with its CRLF (and
                // each invalid UTF-8 byte as three), can come out as an exact ISO 8073 parameter
                // list, which no RDP request may hold. Only such a token can: text never has the
                // top bit, and a cookie starts with `C`.
                assert!(
                    req.anomalies.contains(&"routing_token_not_text"),
                    "only a non-text routing token re-encodes to ISO 8073 parameters"
                );
            }
            reread => {
                // Anomalies are not re-encoded, and a routing token is dropped when a cookie is set.
                let again =
                    reread.map(|a| (a.cookie, a.neg_request, a.correlation_id, a.routing_token));
                let token = if req.cookie.is_some() {
                    None
                } else {
                    req.routing_token.clone()
                };
                let want = (
                    req.cookie.clone(),
                    req.neg_request,
                    req.correlation_id,
                    token,
                );
                assert_eq!(again.ok(), Some(want), "request re-encodes to itself");
            }
        }
    }
    if let Ok(conf) = parse_connection_confirm(data) {
        let _ = (
            conf.selected().map(|p| p.selected_name()),
            conf.failure().map(|f| f.meaning()),
        );
        let bytes = conf.to_bytes();
        let again = parse_connection_confirm(&bytes).map(|a| a.response);
        assert_eq!(
            again.ok(),
            Some(conf.response),
            "confirm re-encodes to itself"
        );
    }
    frames
}
