//! Byte fixtures (most cut from the public captures in the shared corpus), truncation sweeps and round
//! trips for the RDP negotiation parsers.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// zeek rdp-to-ssl.pcap frame 4: cookie + RDP_NEG_REQ (ssl|hybrid).
const CR_TO_SSL: &str = "0300002f2ae00000000000436f6f6b69653a206d737473686173683d4157414b45434f44490d0a0100080003000000";
/// zeek rdp-to-ssl.pcap frame 6: RDP_NEG_RSP hybrid, flags EXTENDED_CLIENT_DATA_SUPPORTED.
const CC_TO_SSL: &str = "030000130ed000001234000201080002000000";
/// nDPI rdp3.pcap frame 4: a legacy client, cookie only.
const CR_LEGACY: &str =
    "0300002722e00000000000436f6f6b69653a206d737473686173683d41646d696e697374720d0a";
/// nDPI rdp3.pcap frame 5: a legacy confirm, no negotiation data.
const CC_LEGACY: &str = "0300000b06d00000123400";
/// nDPI rdp.pcap frame 4: no cookie, RDP_NEG_REQ ssl|hybrid|hybrid_ex.
const CR_NO_COOKIE: &str = "030000130ee00000000000010008000b000000";
/// nDPI rdp.pcap frame 5: hybrid_ex, flags 0x1f.
const CC_HYBRID_EX: &str = "030000130ed00000123400021f080008000000";
/// zeek rdp-proprietary-encryption.pcap frame 5: SSL_NOT_ALLOWED_BY_SERVER.
const CC_FAILURE_2: &str = "030000130ed000001234000300080002000000";
/// zeek rdp-invalid-length.pcap frame 5, the whole TCP payload: an RDP_NEG_RSP with length 0 and
/// 12 bytes of garbage after the TPKT.
const CC_INVALID_LENGTH: &str = "030000130ed000001234000203000001000002001232000200080000000000";

#[test]
fn cr_cookie_and_neg_req() {
    let req = parse_connection_request(&hex(CR_TO_SSL)).unwrap();
    assert_eq!(req.cookie.as_deref(), Some("AWAKECODI"));
    assert_eq!(req.routing_token, None);
    assert_eq!(
        req.neg_request,
        Some(NegRequest {
            flags: 0,
            requested: Protocols(3)
        })
    );
    assert_eq!(req.requested().names(), ["ssl", "hybrid"]);
    assert_eq!(req.correlation_id, None);
    assert!(req.anomalies.is_empty(), "{:?}", req.anomalies);
}

#[test]
fn cr_cookie_keeps_trailing_spaces() {
    // zeek rdp-x509.pcap frame 6: "JOHN-PC  " as Zeek's rdp.log has it.
    let cr = hex(
        "0300002f2ae00000000000436f6f6b69653a206d737473686173683d4a4f484e2d504320200d0a0100080000000000",
    );
    let req = parse_connection_request(&cr).unwrap();
    assert_eq!(req.cookie.as_deref(), Some("JOHN-PC  "));
    assert_eq!(req.requested(), Protocols::RDP);
    assert!(req.neg_request.is_some());
}

#[test]
fn cr_legacy_without_neg_req() {
    let req = parse_connection_request(&hex(CR_LEGACY)).unwrap();
    assert_eq!(req.cookie.as_deref(), Some("Administr"));
    assert_eq!(req.neg_request, None);
    assert_eq!(req.requested(), Protocols::RDP);
    assert!(req.anomalies.is_empty());
}

#[test]
fn cr_without_cookie() {
    let req = parse_connection_request(&hex(CR_NO_COOKIE)).unwrap();
    assert_eq!(req.cookie, None);
    assert_eq!(req.routing_token, None);
    assert_eq!(req.requested().names(), ["ssl", "hybrid", "hybrid_ex"]);
    assert!(req.anomalies.is_empty());
}

#[test]
fn cr_bare_no_variable_part() {
    let req = parse_connection_request(&hex("0300000b06e00000000000")).unwrap();
    assert_eq!(req, ConnectionRequest::default());
}

/// A Siemens S7comm client's COTP Connection Request (ISO-on-TCP, RFC 1006, port 102): calling TSAP
/// `01 00`, called TSAP `01 02`, TPDU size 1024 (0x0a).
const CR_S7COMM: &str = "03000016 11e00000000100 c1020100 c2020102 c0010a";
/// An IEC 61850 MMS client's Connection Request: TPDU size 8192 first, then called and calling TSAP.
const CR_MMS: &str = "03000016 11e00000000100 c0010d c2020001 c1020001";

#[test]
fn cr_with_iso_transport_parameters_is_not_rdp() {
    for cr in [CR_S7COMM, CR_MMS] {
        let bytes = hex(cr);
        assert_eq!(
            parse_connection_request(&bytes),
            Err(RdpError::IsoTransport),
            "{cr}"
        );
        // The first bytes alone look like any CR: the parser, with the whole frame, decides.
        assert_eq!(looks_like_connection_request(&bytes), Some(true));
        assert_eq!(x224_kind(&bytes), Some(X224Kind::ConnectionRequest));
    }
    assert_eq!(
        RdpError::IsoTransport.to_string(),
        "not RDP: X.224 connection request with ISO 8073 transport parameters (ISO-on-TCP)"
    );
    // Cut inside a parameter: no longer a parameter list, read as RDP data (a routing token).
    let mut cut = hex(CR_S7COMM);
    cut.truncate(cut.len() - 1);
    cut[3] -= 1;
    let req = parse_connection_request(&cut).unwrap();
    assert!(req.routing_token.is_some());
    // RDP requests stay RDP: a legacy cookie, RDP_NEG_REQ alone, a bare request.
    for rdp in [CR_LEGACY, CR_NO_COOKIE, CR_TO_SSL, "0300000b06e00000000000"] {
        assert!(parse_connection_request(&hex(rdp)).is_ok(), "{rdp}");
    }
}

#[test]
fn cr_routing_tokens() {
    for token in [
        "Cookie: msts=3640205228.15629.0000",
        "tsv://MS Terminal Services Plugin.1.Pool",
    ] {
        let mut data = token.as_bytes().to_vec();
        data.extend_from_slice(b"\r\n\x01\x00\x08\x00\x01\x00\x00\x00");
        let mut cr = vec![3, 0, 0, 0, 0, 0xe0, 0, 0, 0, 0, 0];
        cr.extend_from_slice(&data);
        let len = cr.len() as u16;
        cr[2..4].copy_from_slice(&len.to_be_bytes());
        cr[4] = (cr.len() - 5) as u8;
        let req = parse_connection_request(&cr).unwrap();
        assert_eq!(req.cookie, None, "{token}");
        assert_eq!(req.routing_token.as_deref(), Some(token));
        assert_eq!(req.requested(), Protocols::SSL);
        assert!(req.anomalies.is_empty());
    }
}

#[test]
fn cr_cookie_variants() {
    // Case and spacing as some clients send them; a non-mstshash cookie is a routing token.
    let build = |line: &[u8]| {
        let req = ConnectionRequest {
            routing_token: Some(String::from_utf8(line.to_vec()).unwrap()),
            ..Default::default()
        };
        parse_connection_request(&req.to_bytes()).unwrap()
    };
    assert_eq!(build(b"cookie:mstshash=bob").cookie.as_deref(), Some("bob"));
    assert_eq!(build(b"Cookie:  MSTSHASH=").cookie.as_deref(), Some(""));
    let r = build(b"Cookie: msts=1.2.3");
    assert_eq!(
        (r.cookie, r.routing_token.as_deref()),
        (None, Some("Cookie: msts=1.2.3"))
    );
}

#[test]
fn cr_unterminated_cookie_before_neg_req() {
    let mut cr = hex("0300002d28e00000000000");
    cr.extend_from_slice(b"Cookie: mstshash=eve");
    cr.extend_from_slice(&hex("0100080002000000"));
    let len = cr.len() as u16;
    cr[2..4].copy_from_slice(&len.to_be_bytes());
    cr[4] = (cr.len() - 5) as u8;
    let req = parse_connection_request(&cr).unwrap();
    assert_eq!(req.cookie.as_deref(), Some("eve"));
    assert_eq!(req.requested(), Protocols::HYBRID);
    assert_eq!(req.anomalies, ["token_unterminated"]);
}

#[test]
fn neg_req_every_bit_and_unknown_bits() {
    for (bits, names) in [
        (0x01, vec!["ssl"]),
        (0x02, vec!["hybrid"]),
        (0x04, vec!["rdstls"]),
        (0x08, vec!["hybrid_ex"]),
        (0x10, vec!["rdsaad"]),
        (0x1f, vec!["ssl", "hybrid", "rdstls", "hybrid_ex", "rdsaad"]),
        (0x8000_0021, vec!["ssl", "0x80000020"]),
        (0, vec!["rdp"]),
    ] {
        let req = ConnectionRequest {
            neg_request: Some(NegRequest {
                flags: 0x03,
                requested: Protocols(bits),
            }),
            ..Default::default()
        };
        let got = parse_connection_request(&req.to_bytes()).unwrap();
        assert_eq!(got, req);
        assert_eq!(got.requested().names(), names);
        assert_eq!(got.requested().is_external_security(), bits != 0);
    }
    assert_eq!(Protocols(0x1f).unknown_bits(), 0);
    assert_eq!(Protocols(0xffff_ffe0).unknown_bits(), 0xffff_ffe0);
    assert_eq!(Protocols(3).to_string(), "ssl|hybrid");
    assert!(Protocols(0x0b).contains(Protocols::HYBRID_EX));
}

#[test]
fn correlation_info() {
    let id: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
    let req = ConnectionRequest {
        cookie: Some("alice".into()),
        neg_request: Some(NegRequest {
            flags: NegRequest::CORRELATION_INFO_PRESENT,
            requested: Protocols(0x0b),
        }),
        correlation_id: Some(id),
        ..Default::default()
    };
    let bytes = req.to_bytes();
    assert_eq!(bytes.len(), 4 + 7 + 24 + 8 + 36);
    assert_eq!(parse_connection_request(&bytes).unwrap(), req);

    // Info without the flag, flag without the info, truncated info: tolerated and named.
    let unflagged = ConnectionRequest {
        neg_request: Some(NegRequest {
            flags: 0,
            requested: Protocols(1),
        }),
        correlation_id: Some(id),
        ..Default::default()
    };
    let got = parse_connection_request(&unflagged.to_bytes()).unwrap();
    assert_eq!(got.correlation_id, Some(id));
    assert_eq!(got.anomalies, ["correlation_info_unflagged"]);

    let mut cut = bytes.clone();
    cut.truncate(cut.len() - 10);
    let len = cut.len() as u16;
    cut[2..4].copy_from_slice(&len.to_be_bytes());
    cut[4] = (cut.len() - 5) as u8;
    let got = parse_connection_request(&cut).unwrap();
    assert_eq!(got.correlation_id, None);
    assert_eq!(
        got.anomalies,
        ["correlation_info_truncated", "correlation_info_missing"]
    );
}

#[test]
fn cc_selected_each_protocol() {
    for (bits, name) in [
        (0, "rdp"),
        (1, "ssl"),
        (2, "hybrid"),
        (4, "rdstls"),
        (8, "hybrid_ex"),
        (0x10, "rdsaad"),
    ] {
        let conf = ConnectionConfirm {
            response: Some(NegResponse::Selected {
                flags: 0x1f,
                protocol: Protocols(bits),
            }),
            anomalies: vec![],
        };
        let got = parse_connection_confirm(&conf.to_bytes()).unwrap();
        assert_eq!(got, conf);
        assert_eq!(got.selected().unwrap().selected_name(), name);
        assert_eq!(got.failure(), None);
    }
    assert_eq!(Protocols(3).selected_name(), "0x00000003");
}

#[test]
fn cc_corpus_fixtures() {
    let conf = parse_connection_confirm(&hex(CC_TO_SSL)).unwrap();
    assert_eq!(
        conf.response,
        Some(NegResponse::Selected {
            flags: NegResponse::EXTENDED_CLIENT_DATA_SUPPORTED,
            protocol: Protocols::HYBRID
        })
    );
    assert!(conf.anomalies.is_empty());
    let conf = parse_connection_confirm(&hex(CC_HYBRID_EX)).unwrap();
    assert_eq!(conf.selected(), Some(Protocols::HYBRID_EX));
    let conf = parse_connection_confirm(&hex(CC_FAILURE_2)).unwrap();
    assert_eq!(conf.failure(), Some(FailureCode::SSL_NOT_ALLOWED_BY_SERVER));
    assert_eq!(conf.selected(), None);
    assert!(conf.anomalies.is_empty());
}

#[test]
fn cc_failure_codes() {
    let names = [
        "SSL_REQUIRED_BY_SERVER",
        "SSL_NOT_ALLOWED_BY_SERVER",
        "SSL_CERT_NOT_ON_SERVER",
        "INCONSISTENT_FLAGS",
        "HYBRID_REQUIRED_BY_SERVER",
        "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
    ];
    let mut meanings = std::collections::HashSet::new();
    for (code, name) in (1..=6).zip(names) {
        let conf = ConnectionConfirm {
            response: Some(NegResponse::Failure(FailureCode(code))),
            anomalies: vec![],
        };
        let got = parse_connection_confirm(&conf.to_bytes()).unwrap();
        assert_eq!(got, conf);
        let f = got.failure().unwrap();
        assert_eq!(f.name(), Some(name));
        assert_eq!(f.to_string(), name);
        assert!(meanings.insert(f.meaning()));
        assert!(f.meaning().ends_with('.'));
    }
    let unknown = parse_connection_confirm(&hex("030000130ed00000123400030008002a000000")).unwrap();
    assert_eq!(unknown.failure(), Some(FailureCode(0x2a)));
    assert_eq!(unknown.failure().unwrap().name(), None);
    assert_eq!(unknown.failure().unwrap().to_string(), "0x0000002a");
    assert!(!meanings.contains(unknown.failure().unwrap().meaning()));
}

#[test]
fn cc_legacy() {
    let conf = parse_connection_confirm(&hex(CC_LEGACY)).unwrap();
    assert_eq!(conf.response, None);
    assert_eq!(conf.selected(), Some(Protocols::RDP));
    assert!(conf.anomalies.is_empty());
    assert_eq!(ConnectionConfirm::default().to_bytes(), hex(CC_LEGACY));
}

#[test]
fn cc_invalid_length_from_zeek() {
    let bytes = hex(CC_INVALID_LENGTH);
    assert_eq!(tpkt_frame_len(&bytes), TpktStatus::Frame(19));
    // What follows the frame is not TPKT: a framer stops there.
    assert_eq!(tpkt_frame_len(&bytes[19..]), TpktStatus::NotTpkt);
    let conf = parse_connection_confirm(&bytes[..19]).unwrap();
    assert_eq!(
        conf.response,
        Some(NegResponse::Selected {
            flags: 0x03,
            protocol: Protocols(0x0200_0001)
        })
    );
    assert_eq!(
        conf.anomalies,
        [
            "neg_rsp_length_mismatch",
            "selected_protocol_not_single_known"
        ]
    );
    // Given the whole segment, the extra bytes are named too.
    let conf = parse_connection_confirm(&bytes).unwrap();
    assert_eq!(conf.anomalies[0], "tpkt_trailing_bytes");
}

#[test]
fn tolerated_oddities() {
    // Length indicator not covering the negotiation data.
    let mut cc = hex(CC_TO_SSL);
    cc[4] = 6;
    let conf = parse_connection_confirm(&cc).unwrap();
    assert_eq!(conf.selected(), Some(Protocols::HYBRID));
    assert_eq!(conf.anomalies, ["x224_length_indicator_mismatch"]);
    // RDP_NEG_RSP cut short inside the frame; an unknown structure type; trailing bytes.
    let conf = parse_connection_confirm(&hex("0300000f0ad0000012340002000800")).unwrap();
    assert_eq!(
        (conf.response, conf.anomalies),
        (None, vec!["neg_rsp_truncated"])
    );
    let conf = parse_connection_confirm(&hex("030000130ed000001234000900080002000000")).unwrap();
    assert_eq!(
        (conf.response, conf.anomalies),
        (None, vec!["unknown_negotiation_type"])
    );
    let conf = parse_connection_confirm(&hex("030000140fd00000123400020008000200000000")).unwrap();
    assert_eq!(conf.selected(), Some(Protocols::HYBRID));
    assert_eq!(conf.anomalies, ["trailing_data"]);
    // NEG_REQ with a wrong length field but its 8 bytes present.
    let req = parse_connection_request(&hex("030000130ee00000000000010000000b000000")).unwrap();
    assert_eq!(req.requested(), Protocols(0x0b));
    assert_eq!(req.anomalies, ["neg_req_length_mismatch"]);
    // A class byte other than class 0.
    let req = parse_connection_request(&hex("0300000b06e00000000010")).unwrap();
    assert_eq!(req.anomalies, ["x224_class_not_zero"]);
    // Binary in the routing token's place.
    let req = parse_connection_request(&hex("0300000f0ae00000000000ff000d0a")).unwrap();
    assert_eq!(req.routing_token.as_deref(), Some("\u{fffd}\0"));
    assert_eq!(req.anomalies, ["routing_token_not_text"]);
}

#[test]
fn wrong_input_errors() {
    assert_eq!(
        parse_connection_request(&hex(CC_TO_SSL)).unwrap_err(),
        RdpError::UnexpectedTpdu {
            expected: "connection request",
            code: 0xd0
        }
    );
    assert_eq!(
        parse_connection_confirm(&hex(CR_TO_SSL)).unwrap_err(),
        RdpError::UnexpectedTpdu {
            expected: "connection confirm",
            code: 0xe0
        }
    );
    assert!(matches!(
        parse_connection_request(b"\x16\x03\x01\x00\x05hello"),
        Err(RdpError::NotTpkt { version: 0x16, .. })
    ));
    assert_eq!(
        parse_connection_confirm(&hex("0300000b00d00000123400")).unwrap_err(),
        RdpError::NotX224 {
            length_indicator: 0
        }
    );
    // A 7-byte TPKT is too short for a CR's fixed part.
    assert_eq!(
        parse_connection_request(&hex("0300000702e000")).unwrap_err(),
        RdpError::Truncated {
            layer: "x224",
            need: 7,
            have: 3
        }
    );
    let e = parse_connection_request(&hex("030000")).unwrap_err();
    assert_eq!(e.to_string(), "tpkt: truncated, need 4 bytes, have 3");
}

#[test]
fn truncation_sweep() {
    for fixture in [
        CR_TO_SSL,
        CR_LEGACY,
        CR_NO_COOKIE,
        CC_TO_SSL,
        CC_LEGACY,
        CC_FAILURE_2,
    ] {
        let bytes = hex(fixture);
        let is_cr = x224_kind(&bytes) == Some(X224Kind::ConnectionRequest);
        for n in 0..bytes.len() {
            let prefix = &bytes[..n];
            assert_eq!(
                tpkt_frame_len(prefix),
                TpktStatus::NeedMore,
                "{fixture} {n}"
            );
            let err = if is_cr {
                parse_connection_request(prefix).unwrap_err()
            } else {
                parse_connection_confirm(prefix).unwrap_err()
            };
            let need = if n < 4 { 4 } else { bytes.len() };
            assert_eq!(
                err,
                RdpError::Truncated {
                    layer: "tpkt",
                    need,
                    have: n
                },
                "{fixture} {n}"
            );
            if is_cr {
                let sniff = looks_like_connection_request(prefix);
                assert_eq!(sniff, if n < 6 { None } else { Some(true) });
            }
        }
        assert_eq!(tpkt_frame_len(&bytes), TpktStatus::Frame(bytes.len()));
    }
}

#[test]
fn corpus_bytes_round_trip() {
    for fixture in [CR_TO_SSL, CR_LEGACY, CR_NO_COOKIE] {
        let bytes = hex(fixture);
        assert_eq!(parse_connection_request(&bytes).unwrap().to_bytes(), bytes);
    }
    for fixture in [CC_TO_SSL, CC_LEGACY, CC_HYBRID_EX, CC_FAILURE_2] {
        let bytes = hex(fixture);
        assert_eq!(parse_connection_confirm(&bytes).unwrap().to_bytes(), bytes);
    }
}

#[test]
fn framing_loop_makes_progress() {
    // A CC followed by a DT, as a server sends them, then TLS: the loop ends at NotTpkt.
    let mut stream = hex(CC_LEGACY);
    stream.extend_from_slice(&hex("0300000c02f0807f65820100"));
    stream.extend_from_slice(b"\x16\x03\x01");
    let mut kinds = Vec::new();
    let mut rest = &stream[..];
    while let TpktStatus::Frame(n) = tpkt_frame_len(rest) {
        kinds.push(x224_kind(&rest[..n]).unwrap());
        rest = &rest[n..];
    }
    assert_eq!(kinds, [X224Kind::ConnectionConfirm, X224Kind::Data]);
    assert_eq!(rest, b"\x16\x03\x01");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(mut data in proptest::collection::vec(any::<u8>(), 0..80), cr in any::<bool>()) {
            let _ = tpkt_frame_len(&data);
            let _ = looks_like_connection_request(&data);
            let _ = x224_kind(&data);
            let _ = parse_connection_request(&data);
            let _ = parse_connection_confirm(&data);
            // Also as a well-framed TPKT of the right kind, to reach the negotiation parsers.
            if data.len() >= 11 {
                let len = data.len() as u16;
                data[..4].copy_from_slice(&[3, 0, (len >> 8) as u8, len as u8]);
                data[5] = if cr { 0xe0 } else { 0xd0 };
                let _ = parse_connection_request(&data);
                let _ = parse_connection_confirm(&data);
            }
        }
    }
}
