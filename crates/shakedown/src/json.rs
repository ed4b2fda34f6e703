//! The JSON Lines record of a verdict: the contract other tools parse (SCHEMA.md in the repository,
//! versioned by the `schema` field). Names are stable: fields are added, never renamed or dropped;
//! unknown values are `null`, never omitted.

use serde_json::{Map, Value, json};

use crate::rdp::Protocols;
use crate::tls::{CertificateInfo, ClientHello, ServerHello, TlsVersion};
use crate::verdict::{AlertRecord, RdpFacts, SideMark, TlsFacts, Verdict};

/// Version of the record's layout, written as its `schema` field.
pub const SCHEMA_VERSION: u32 = 1;

/// SCHEMA.md's name of a protocol version: `SSL 2.0`, `SSL 3.0`, `TLS 1.0` … `TLS 1.3`, the TLS 1.3
/// drafts as `TLS 1.3 draft N` (as Wireshark names them), anything else `0xHHHH`.
///
/// ```
/// use shakedown::{json::version_name, tls::TlsVersion};
/// assert_eq!(version_name(TlsVersion(0x0303)), "TLS 1.2");
/// assert_eq!(version_name(TlsVersion(0x7f1c)), "TLS 1.3 draft 28");
/// assert_eq!(version_name(TlsVersion(0x7e01)), "0x7e01");
/// ```
pub fn version_name(v: TlsVersion) -> String {
    match v.0 {
        0x0002 => "SSL 2.0".into(),
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        draft @ 0x7f00..=0x7fff => format!("TLS 1.3 draft {}", draft & 0xff),
        other => format!("0x{other:04x}"),
    }
}

fn side_of(m: Option<SideMark>) -> Value {
    m.map_or(Value::Null, |m| Value::from(m.side.as_str()))
}

fn opt_str(s: Option<impl ToString>) -> Value {
    s.map_or(Value::Null, |s| Value::from(s.to_string()))
}

fn alert(a: &AlertRecord) -> Value {
    json!({
        "from": a.from.as_str(),
        "level": a.alert.level.map(|l| if l.0 == 2 { "fatal".to_string() } else if l.0 == 1 { "warning".to_string() } else { format!("0x{:02x}", l.0) }),
        "description": a.alert.description.map(|d| d.to_string()),
        "code": a.alert.description.map(|d| d.0),
        "encrypted": a.alert.encrypted,
        "inferred": a.inferred,
        "time": a.at.ts.to_string(),
        "frame": a.at.frame,
    })
}

fn protocols(p: Protocols) -> Value {
    Value::from(p.names())
}

fn rdp(r: &RdpFacts) -> Value {
    json!({
        "cookie": r.cookie.as_deref().map(str::trim_end),
        "requested_protocols": r.requested.map_or(Value::Null, protocols),
        "selected_protocol": r.selected.map(|p| p.selected_name()),
        "failure": r.failure.map(|f| f.to_string()),
        "routing_token": r.routing_token,
        "request_flags": r.request_flags,
        "response_flags": r.response_flags,
        "failure_code": r.failure.map(|f| f.0),
        "correlation_id": r.correlation_id.map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        "confirmed": r.confirmed,
        "anomalies": r.anomalies,
    })
}

fn client_hello(ch: &ClientHello) -> Value {
    let ja3 = ch.ja3();
    json!({
        "legacy_version": version_name(ch.legacy_version),
        "supported_versions": ch.supported_versions.iter().map(|v| version_name(*v)).collect::<Vec<_>>(),
        "cipher_suites": ch.cipher_suites.iter().map(|c| c.name().map_or_else(|| format!("0x{:04x}", c.0), str::to_string)).collect::<Vec<_>>(),
        "sni": ch.sni,
        "alpn": ch.alpn,
        "supported_groups": ch.supported_groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        "signature_algorithms": ch.signature_algorithms.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "key_share_groups": ch.key_share_groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        "highest_version": version_name(ch.highest_version()),
        "record_version": version_name(ch.record_version),
        "sslv2_format": ch.sslv2_format,
        "ja3": ja3.full,
        "ja3_hash": ja3.hash,
        "ja4": ch.ja4(),
    })
}

fn server_hello(sh: &ServerHello, hrr: bool) -> Value {
    let ja3s = sh.ja3s();
    json!({
        "version": version_name(sh.version),
        "cipher_suite": sh.cipher_suite.name().map_or_else(|| format!("0x{:04x}", sh.cipher_suite.0), str::to_string),
        "hello_retry_request": hrr,
        "legacy_version": version_name(sh.legacy_version),
        "key_share_group": sh.key_share_group.map(|g| g.to_string()),
        "ja3s": ja3s.full,
        "ja3s_hash": ja3s.hash,
    })
}

fn certificate(c: &CertificateInfo) -> Value {
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "not_before": c.not_before.map(|t| t.to_string()),
        "not_after": c.not_after.map(|t| t.to_string()),
        "key_type": c.key_type.as_ref().map(|k| k.to_string()),
        "chain_length": c.chain_len,
        "self_signed": c.self_signed,
        "dns_names": c.dns_names,
    })
}

fn tls(t: &TlsFacts) -> Value {
    let sh = match (&t.server_hello, &t.hello_retry_request) {
        (Some(sh), hrr) => server_hello(sh, hrr.is_some()),
        (None, Some(hrr)) => server_hello(hrr, true),
        (None, None) => Value::Null,
    };
    json!({
        "version": t.version.map(version_name),
        "client_hello": t.client_hello.as_ref().map_or(Value::Null, client_hello),
        "server_hello": sh,
        "certificate": t.certificate.as_ref().map_or(Value::Null, certificate),
        "second_client_hello": t.second_client_hello.as_ref().map_or(Value::Null, client_hello),
        "certificate_requested": t.certificate_requested,
        "application_records": { "client": t.application_records.client, "server": t.application_records.server },
        "anomalies": t.anomalies,
    })
}

/// The SCHEMA.md record of one verdict, as a JSON value with the fields in the documented order.
///
/// `capture` is the capture as given on the command line (`-` for standard input).
pub fn record(v: &Verdict, capture: &str) -> Value {
    let mut m = Map::new();
    m.insert("schema".into(), SCHEMA_VERSION.into());
    m.insert("capture".into(), capture.into());
    m.insert("conn".into(), v.conn.into());
    m.insert("client".into(), v.client.to_string().into());
    m.insert("server".into(), v.server.to_string().into());
    m.insert(
        "client_inferred_from".into(),
        v.client_inferred_from.as_str().into(),
    );
    m.insert("start".into(), v.start.ts.to_string().into());
    m.insert("end".into(), v.end.ts.to_string().into());
    m.insert(
        "duration_ms".into(),
        v.end.ts.millis_since(v.start.ts).into(),
    );
    m.insert(
        "frames".into(),
        json!({ "first": v.start.frame, "last": v.end.frame }),
    );
    m.insert(
        "packets".into(),
        json!({ "client": v.packets.client, "server": v.packets.server }),
    );
    m.insert(
        "bytes".into(),
        json!({ "client": v.bytes.client, "server": v.bytes.server }),
    );
    m.insert("protocol".into(), v.protocol.as_str().into());
    m.insert("outcome".into(), v.outcome.as_str().into());
    m.insert("stage".into(), v.stage.as_str().into());
    m.insert("first_fin".into(), side_of(v.tcp.first_fin));
    m.insert("first_rst".into(), side_of(v.tcp.first_rst));
    m.insert(
        "closed_by".into(),
        opt_str(v.closed_by.map(|(s, _)| s.as_str())),
    );
    m.insert(
        "close_kind".into(),
        opt_str(v.closed_by.map(|(_, k)| k.as_str())),
    );
    m.insert(
        "alerts".into(),
        Value::from(v.alerts.iter().map(alert).collect::<Vec<_>>()),
    );
    m.insert("rdp".into(), v.rdp.as_ref().map_or(Value::Null, rdp));
    m.insert("tls".into(), v.tls.as_ref().map_or(Value::Null, tls));
    let events: Vec<Value> = v
        .cause
        .schannel_event
        .iter()
        .chain(v.cause.related_events.iter())
        .map(|e| json!({ "id": e.id, "logged_by": e.logged_by.as_str(), "alert_code": e.alert_code, "message": e.message }))
        .collect();
    m.insert(
        "cause".into(),
        json!({
            "code": v.cause.code.as_str(),
            "explanation": v.cause.explanation,
            "schannel_event": v.cause.schannel_event.map(|e| e.id),
            "hints": v.cause.hints,
            "schannel_events": events,
        }),
    );
    m.insert("wireshark_filter".into(), v.wireshark_filter.clone().into());
    m.insert(
        "tcp".into(),
        json!({
            "syn": v.tcp.syn.is_some(),
            "syn_ack": v.tcp.syn_ack.is_some(),
            "first_fin_frame": v.tcp.first_fin.map(|m| m.at.frame),
            "first_rst_frame": v.tcp.first_rst.map(|m| m.at.frame),
            "gaps": { "client": v.tcp.gaps.client, "server": v.tcp.gaps.server },
            "gap_bytes": { "client": v.tcp.gap_bytes.client, "server": v.tcp.gap_bytes.server },
            "retransmitted_bytes": { "client": v.tcp.retransmitted_bytes.client, "server": v.tcp.retransmitted_bytes.server },
            "overlap_conflicts": { "client": v.tcp.overlap_conflicts.client, "server": v.tcp.overlap_conflicts.server },
        }),
    );
    m.insert("unfinished".into(), v.unfinished.into());
    Value::Object(m)
}

/// The record as one line of JSON (no trailing newline).
pub fn line(v: &Verdict, capture: &str) -> String {
    record(v, capture).to_string()
}

/// The summary record of one capture: what was read, skipped (by kind), capped and cut. Written by
/// the CLI after a capture's connection records only when asked (`--summary-json`), so that the
/// JSON Lines contract stays one record per connection by default. It is told apart by
/// `"record": "summary"`.
pub fn summary_record(s: &crate::Summary, capture: &str) -> Value {
    let skipped: Map<String, Value> = s
        .skipped
        .iter()
        .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
        .collect();
    json!({
        "record": "summary",
        "schema": SCHEMA_VERSION,
        "capture": capture,
        "frames": s.frames,
        "captured_bytes": s.captured_bytes,
        "tcp_segments": s.tcp_segments,
        "skipped": skipped,
        "anomalies": s.anomalies(),
        "connections": s.connections,
        "evicted": s.evicted,
        "expired": s.expired,
        "port_reuse": s.port_reuse,
        "peak_connections": s.peak_connections,
        "peak_buffered_bytes": s.peak_buffered,
        "budget_hits": s.budget_hits,
        "pending_verdicts_peak": s.pending_verdicts_peak,
        "out_of_order": s.out_of_order,
        "backwards_timestamps": s.backwards_timestamps,
        "first": s.first_ts.map(|t| t.to_string()),
        "last": s.last_ts.map(|t| t.to_string()),
        "truncated": s.truncation.as_ref().map(|t| json!({
            "frames_read": t.frames_read,
            "byte_offset": t.byte_offset,
            "reason": t.reason,
        })),
    })
}
