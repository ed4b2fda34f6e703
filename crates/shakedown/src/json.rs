//! The JSON Lines record of a verdict: the contract other tools parse (docs/SCHEMA.md in the repository,
//! versioned by the `schema` field). Names are stable: fields are added, never renamed or dropped;
//! unknown values are `null`, never omitted.
//!
//! The layout is defined once, by hand-written [`serde::Serialize`] impls of private wrappers around
//! the verdict's parts (field order is the order of the `serialize_entry` calls). [`write_line`]
//! streams a record straight to a writer, with no intermediate JSON value and no string built per
//! field; [`line()`] serializes the same wrappers into a `String`. No type of the JSON library
//! appears in this module's API.

use std::fmt;
use std::io;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::side::PerSide;
use crate::tls::{CertificateInfo, ClientHello, ServerHello, TlsVersion};
use crate::verdict::{
    AlertRecord, Cause, CredsspFacts, Evidence, HopLimits, RdpFacts, SchannelEvent, TcpFacts,
    TlsFacts, Verdict,
};

/// Version of the record's layout, written as its `schema` field.
pub const SCHEMA_VERSION: u32 = 2;

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
    VersionName(v).to_string()
}

/// [`version_name`] as a string in the record, without allocating.
#[derive(Clone, Copy)]
struct VersionName(TlsVersion);

impl fmt::Display for VersionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.name(), self.0.0) {
            (Some(name), _) => f.write_str(name),
            (None, draft @ 0x7f00..=0x7fff) => write!(f, "TLS 1.3 draft {}", draft & 0xff),
            (None, other) => write!(f, "0x{other:04x}"),
        }
    }
}

impl Serialize for VersionName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.name() {
            Some(name) => s.serialize_str(name),
            None => s.collect_str(self),
        }
    }
}

/// Any [`fmt::Display`] value as a JSON string (timestamps, endpoints, names with a hex fallback),
/// formatted straight into the output.
struct AsStr<T>(T);

impl<T: fmt::Display> Serialize for AsStr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A 16-bit code (cipher suite, group, signature scheme) as its IANA name, else `0x%04x`.
struct Code16(Option<&'static str>, u16);

impl Serialize for Code16 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(name) => s.serialize_str(name),
            None => s.collect_str(&format_args!("0x{:04x}", self.1)),
        }
    }
}

/// Bytes as lowercase hex digits.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A JSON array of the items an iterator gives; the closure makes the iterator anew (serializing
/// takes `&self`), so nothing is collected.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// An object of two numbers: `{"client": …, "server": …}`, `{"first": …, "last": …}`.
struct Pair(&'static str, u64, &'static str, u64);

impl Pair {
    fn sides(p: &PerSide<u64>) -> Pair {
        Pair("client", p.client, "server", p.server)
    }
}

impl Serialize for Pair {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(self.0, &self.1)?;
        m.serialize_entry(self.2, &self.3)?;
        m.end()
    }
}

/// An entry of `alerts`.
struct Alert<'a>(&'a AlertRecord);

impl Serialize for Alert<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("from", a.from.as_str())?;
        m.serialize_entry("level", &a.alert.level.map(|l| Level(l.0)))?;
        m.serialize_entry("description", &a.alert.description.map(AsStr))?;
        m.serialize_entry("code", &a.alert.description.map(|d| d.0))?;
        m.serialize_entry("encrypted", &a.alert.encrypted)?;
        m.serialize_entry("inferred", &a.inferred)?;
        m.serialize_entry("decrypted", &a.decrypted)?;
        m.serialize_entry("time", &AsStr(a.at.ts))?;
        m.serialize_entry("frame", &a.at.frame)?;
        m.end()
    }
}

/// An alert level: `fatal`, `warning`, else `0x%02x`.
struct Level(u8);

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            2 => s.serialize_str("fatal"),
            1 => s.serialize_str("warning"),
            other => s.collect_str(&format_args!("0x{other:02x}")),
        }
    }
}

/// The `rdp` object.
struct Rdp<'a>(&'a RdpFacts);

impl Serialize for Rdp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(11))?;
        m.serialize_entry("cookie", &r.cookie.as_deref().map(str::trim_end))?;
        m.serialize_entry(
            "requested_protocols",
            &r.requested.map(|p| Seq(move || p.name_iter().map(AsStr))),
        )?;
        m.serialize_entry(
            "selected_protocol",
            &r.selected.map(|p| AsStr(p.selected())),
        )?;
        m.serialize_entry("failure", &r.failure.map(AsStr))?;
        m.serialize_entry("routing_token", &r.routing_token)?;
        m.serialize_entry("request_flags", &r.request_flags)?;
        m.serialize_entry("response_flags", &r.response_flags)?;
        m.serialize_entry("failure_code", &r.failure.map(|f| f.0))?;
        m.serialize_entry(
            "correlation_id",
            &r.correlation_id.as_ref().map(|id| AsStr(Hex(id))),
        )?;
        m.serialize_entry("confirmed", &r.confirmed)?;
        m.serialize_entry("anomalies", &r.anomalies)?;
        m.serialize_entry("credssp", &r.credssp.as_ref().map(Credssp))?;
        m.end()
    }
}

/// An NTSTATUS as `0x` and eight upper-case hex digits, as Windows writes them (`0xC000006D`).
struct NtStatusHex(u32);

impl fmt::Display for NtStatusHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

/// The `rdp.credssp` object.
struct Credssp<'a>(&'a CredsspFacts);

impl Serialize for Credssp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let code = c.error.map(|(code, _)| code);
        let mut m = s.serialize_map(Some(10))?;
        m.serialize_entry("version", &c.client_version)?;
        m.serialize_entry("server_version", &c.server_version)?;
        m.serialize_entry("auth", &c.auth.map(|a| a.as_str()))?;
        m.serialize_entry("error_code", &code.map(|code| AsStr(NtStatusHex(code.0))))?;
        m.serialize_entry("error_name", &code.and_then(|code| code.name()))?;
        let requests = &c.requests;
        m.serialize_entry(
            "requests",
            &Pair(
                "client",
                requests.client.into(),
                "server",
                requests.server.into(),
            ),
        )?;
        m.serialize_entry("client_pub_key_auth", &c.client_pub_key_auth.is_some())?;
        m.serialize_entry("server_pub_key_auth", &c.server_pub_key_auth.is_some())?;
        m.serialize_entry("client_auth_info", &c.client_auth_info.is_some())?;
        m.serialize_entry(
            "early_user_authorization",
            &c.early_user_authorization.map(|(r, _)| AsStr(r)),
        )?;
        m.end()
    }
}

/// A `client_hello` or `second_client_hello` object.
struct ClientHelloJson<'a>(&'a ClientHello);

impl Serialize for ClientHelloJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ch = self.0;
        let ja3 = ch.ja3();
        let mut m = s.serialize_map(Some(14))?;
        m.serialize_entry("legacy_version", &VersionName(ch.legacy_version))?;
        m.serialize_entry(
            "supported_versions",
            &Seq(|| ch.supported_versions.iter().map(|v| VersionName(*v))),
        )?;
        m.serialize_entry(
            "cipher_suites",
            &Seq(|| ch.cipher_suites.iter().map(|c| Code16(c.name(), c.0))),
        )?;
        m.serialize_entry("sni", &ch.sni)?;
        m.serialize_entry("alpn", &ch.alpn)?;
        m.serialize_entry(
            "supported_groups",
            &Seq(|| ch.supported_groups.iter().map(|g| Code16(g.name(), g.0))),
        )?;
        m.serialize_entry(
            "signature_algorithms",
            &Seq(|| {
                ch.signature_algorithms
                    .iter()
                    .map(|a| Code16(a.name(), a.0))
            }),
        )?;
        m.serialize_entry(
            "key_share_groups",
            &Seq(|| ch.key_share_groups.iter().map(|g| Code16(g.name(), g.0))),
        )?;
        m.serialize_entry("highest_version", &VersionName(ch.highest_version()))?;
        m.serialize_entry("record_version", &VersionName(ch.record_version))?;
        m.serialize_entry("sslv2_format", &ch.sslv2_format)?;
        m.serialize_entry("ja3", &ja3.full)?;
        m.serialize_entry("ja3_hash", &ja3.hash)?;
        m.serialize_entry("ja4", &ch.ja4())?;
        m.end()
    }
}

/// The `server_hello` object: a ServerHello, or the HelloRetryRequest when no ServerHello came.
struct ServerHelloJson<'a> {
    sh: &'a ServerHello,
    hrr: bool,
}

impl Serialize for ServerHelloJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sh = self.sh;
        let ja3s = sh.ja3s();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("version", &VersionName(sh.version))?;
        m.serialize_entry(
            "cipher_suite",
            &Code16(sh.cipher_suite.name(), sh.cipher_suite.0),
        )?;
        m.serialize_entry("hello_retry_request", &self.hrr)?;
        m.serialize_entry("legacy_version", &VersionName(sh.legacy_version))?;
        m.serialize_entry(
            "key_share_group",
            &sh.key_share_group.map(|g| Code16(g.name(), g.0)),
        )?;
        m.serialize_entry("ja3s", &ja3s.full)?;
        m.serialize_entry("ja3s_hash", &ja3s.hash)?;
        m.end()
    }
}

/// The `certificate` object.
struct Certificate<'a>(&'a CertificateInfo);

impl Serialize for Certificate<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("subject", &c.subject)?;
        m.serialize_entry("issuer", &c.issuer)?;
        m.serialize_entry("not_before", &c.not_before.map(AsStr))?;
        m.serialize_entry("not_after", &c.not_after.map(AsStr))?;
        m.serialize_entry("key_type", &c.key_type.as_ref().map(AsStr))?;
        m.serialize_entry("chain_length", &c.chain_len)?;
        m.serialize_entry("self_signed", &c.self_signed)?;
        m.serialize_entry("dns_names", &c.dns_names)?;
        m.end()
    }
}

/// The `tls` object.
struct Tls<'a>(&'a TlsFacts);

impl Serialize for Tls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let server_hello = match (&t.server_hello, &t.hello_retry_request) {
            (Some(sh), hrr) => Some(ServerHelloJson {
                sh,
                hrr: hrr.is_some(),
            }),
            (None, Some(hrr)) => Some(ServerHelloJson { sh: hrr, hrr: true }),
            (None, None) => None,
        };
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("version", &t.version.map(VersionName))?;
        m.serialize_entry(
            "client_hello",
            &t.client_hello.as_ref().map(ClientHelloJson),
        )?;
        m.serialize_entry("server_hello", &server_hello)?;
        m.serialize_entry("certificate", &t.certificate.as_ref().map(Certificate))?;
        m.serialize_entry(
            "second_client_hello",
            &t.second_client_hello.as_ref().map(ClientHelloJson),
        )?;
        m.serialize_entry("certificate_requested", &t.certificate_requested)?;
        m.serialize_entry(
            "client_hello_size",
            &t.client_hello_at.map(|_| {
                Pair(
                    "bytes",
                    t.client_hello_bytes.into(),
                    "segments",
                    t.client_hello_segments.into(),
                )
            }),
        )?;
        m.serialize_entry("application_records", &Pair::sides(&t.application_records))?;
        m.serialize_entry("anomalies", &Seq(|| t.anomalies.iter().map(AsStr)))?;
        m.serialize_entry("decryption", &t.decryption.map(|d| d.as_str()))?;
        m.end()
    }
}

/// An entry of `cause.schannel_events`.
struct Event<'a>(&'a SchannelEvent);

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("id", &e.id)?;
        m.serialize_entry("logged_by", e.logged_by.as_str())?;
        m.serialize_entry("alert_code", &e.alert_code)?;
        m.serialize_entry("message", e.message)?;
        m.end()
    }
}

/// An entry of `cause.evidence`.
struct EvidenceJson<'a>(&'a Evidence);

impl Serialize for EvidenceJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("frame", &e.at.frame)?;
        m.serialize_entry("side", &e.side.map(|s| s.as_str()))?;
        m.serialize_entry("what", &AsStr(e.what))?;
        m.end()
    }
}

/// The `cause` object.
struct CauseJson<'a>(&'a Cause);

impl Serialize for CauseJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("code", c.code.as_str())?;
        m.serialize_entry("confidence", c.confidence.as_str())?;
        m.serialize_entry("evidence", &Seq(|| c.evidence.iter().map(EvidenceJson)))?;
        m.serialize_entry("explanation", &c.explanation)?;
        m.serialize_entry("schannel_event", &c.schannel_event.map(|e| e.id))?;
        m.serialize_entry("hints", &c.hints)?;
        m.serialize_entry(
            "schannel_events",
            &Seq(|| {
                c.schannel_event
                    .iter()
                    .chain(c.related_events.iter())
                    .map(Event)
            }),
        )?;
        m.end()
    }
}

/// The `tcp` object.
struct Tcp<'a>(&'a TcpFacts);

impl Serialize for Tcp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("syn", &t.syn.is_some())?;
        m.serialize_entry("syn_ack", &t.syn_ack.is_some())?;
        m.serialize_entry("first_fin_frame", &t.first_fin.map(|m| m.at.frame))?;
        m.serialize_entry("first_rst_frame", &t.first_rst.map(|m| m.at.frame))?;
        m.serialize_entry("gaps", &Pair::sides(&t.gaps))?;
        m.serialize_entry("gap_bytes", &Pair::sides(&t.gap_bytes))?;
        m.serialize_entry("retransmitted_bytes", &Pair::sides(&t.retransmitted_bytes))?;
        m.serialize_entry("overlap_conflicts", &Pair::sides(&t.overlap_conflicts))?;
        m.serialize_entry("hop_limits", &HopLimitsJson(&t.hop_limits))?;
        m.serialize_entry("cut_segments", &Pair::sides(&t.cut_segments))?;
        m.serialize_entry("acked_bytes", &Pair::sides(&t.acked_bytes))?;
        m.serialize_entry("duplicate_frames", &Pair::sides(&t.duplicate_frames))?;
        m.serialize_entry(
            "largest_segment",
            &Pair(
                "client",
                t.largest_segment.client.into(),
                "server",
                t.largest_segment.server.into(),
            ),
        )?;
        m.end()
    }
}

/// `tcp.hop_limits`: `{"client": {"min": …, "max": …}/null, "server": …}`.
struct HopLimitsJson<'a>(&'a PerSide<Option<HopLimits>>);

impl Serialize for HopLimitsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let range =
            |r: Option<HopLimits>| r.map(|r| Pair("min", r.min.into(), "max", r.max.into()));
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("client", &range(self.0.client))?;
        m.serialize_entry("server", &range(self.0.server))?;
        m.end()
    }
}

/// The whole record of one verdict.
struct Record<'a> {
    v: &'a Verdict,
    capture: &'a str,
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.v;
        let mut m = s.serialize_map(Some(26))?;
        m.serialize_entry("schema", &SCHEMA_VERSION)?;
        m.serialize_entry("capture", self.capture)?;
        m.serialize_entry("conn", &v.conn)?;
        m.serialize_entry("client", &AsStr(v.client))?;
        m.serialize_entry("server", &AsStr(v.server))?;
        m.serialize_entry("client_inferred_from", v.client_inferred_from.as_str())?;
        m.serialize_entry("start", &AsStr(v.start.ts))?;
        m.serialize_entry("end", &AsStr(v.end.ts))?;
        m.serialize_entry("duration_ms", &v.end.ts.millis_since(v.start.ts))?;
        m.serialize_entry("frames", &Pair("first", v.start.frame, "last", v.end.frame))?;
        m.serialize_entry("packets", &Pair::sides(&v.packets))?;
        m.serialize_entry("bytes", &Pair::sides(&v.bytes))?;
        m.serialize_entry("protocol", v.protocol.as_str())?;
        m.serialize_entry("outcome", v.outcome.as_str())?;
        m.serialize_entry("stage", v.stage.as_str())?;
        m.serialize_entry("first_fin", &v.tcp.first_fin.map(|m| m.side.as_str()))?;
        m.serialize_entry("first_rst", &v.tcp.first_rst.map(|m| m.side.as_str()))?;
        m.serialize_entry("closed_by", &v.closed_by.map(|(side, _)| side.as_str()))?;
        m.serialize_entry("close_kind", &v.closed_by.map(|(_, kind)| kind.as_str()))?;
        m.serialize_entry("alerts", &Seq(|| v.alerts.iter().map(Alert)))?;
        m.serialize_entry("rdp", &v.rdp.as_ref().map(Rdp))?;
        m.serialize_entry("tls", &v.tls.as_ref().map(Tls))?;
        m.serialize_entry("cause", &CauseJson(&v.cause))?;
        m.serialize_entry("wireshark_filter", &v.wireshark_filter)?;
        m.serialize_entry("tcp", &Tcp(&v.tcp))?;
        m.serialize_entry("unfinished", &v.unfinished)?;
        m.end()
    }
}

/// The SCHEMA.md record of one verdict as one line of JSON (no trailing newline), with the fields
/// in the documented order.
///
/// `capture` is the capture as given on the command line (`-` for standard input). The same record
/// as [`write_line`] writes; prefer that to write records out.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tls/no-shared-cipher.pcap");
/// let mut reader = shakedown::capture::open(std::path::Path::new(path))?;
/// let mut verdicts: Vec<shakedown::Verdict> = Vec::new();
/// shakedown::analyze(&mut reader, &shakedown::Config::default(), &mut verdicts)?;
/// let line = shakedown::json::line(&verdicts[0], "no-shared-cipher.pcap");
/// assert!(line.starts_with(r#"{"schema":"#) && line.contains(r#""code":"no_shared_cipher""#));
/// # Ok(()) }
/// ```
pub fn line(v: &Verdict, capture: &str) -> String {
    // Cannot fail: every key is a string and no Display impl used returns an error.
    serde_json::to_string(&Record { v, capture }).unwrap_or_default()
}

/// Writes the record of one verdict as one line of JSON, with its trailing `\n`, straight to `out`
/// (nothing is built in memory first, so give it a buffered writer). The bytes are those of
/// [`line()`] followed by `\n`.
///
/// # Errors
///
/// The first error `out` returns, of the same [`io::ErrorKind`] (a closed pipe stays
/// [`io::ErrorKind::BrokenPipe`]); part of the line may have been written by then.
pub fn write_line<W: io::Write + ?Sized>(
    out: &mut W,
    v: &Verdict,
    capture: &str,
) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Record { v, capture })?;
    out.write_all(b"\n")
}

/// The summary record of one capture: what was read, skipped (by kind), capped and cut. Written by
/// the CLI after a capture's connection records only when asked (`--summary-json`), so that the
/// JSON Lines contract stays one record per connection by default. It is told apart by
/// `"record": "summary"`.
///
/// One line of JSON, no trailing newline.
pub fn summary_line(s: &crate::Summary, capture: &str) -> String {
    summary_record(s, capture).to_string()
}

/// [`summary_line`]'s record as a value.
fn summary_record(s: &crate::Summary, capture: &str) -> Value {
    let skipped: Map<String, Value> = s
        .skipped
        .iter()
        .map(|(k, v)| (k.name().to_string(), Value::from(*v)))
        .collect();
    json!({
        "record": "summary",
        "schema": SCHEMA_VERSION,
        "capture": capture,
        "frames": s.frames,
        "captured_bytes": s.captured_bytes,
        "cut_frames": s.cut_frames,
        "snap_len": (s.cut_frames > 0).then_some(s.snap_len),
        "tcp_segments": s.tcp_segments,
        "skipped": skipped,
        "anomalies": s.anomalies(),
        "connections": s.connections,
        "evicted": s.evicted,
        "expired": s.expired,
        "port_reuse": s.port_reuse,
        "duplicate_frames": s.duplicate_frames,
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
        "capture_drops": s.capture_drops.as_ref().map(|d| json!({
            "dropped": d.dropped,
            "if_dropped": d.if_dropped,
            "interfaces": d.interfaces.iter().map(|i| json!({
                "interface": i.interface,
                "dropped": i.dropped,
                "if_dropped": i.if_dropped,
            })).collect::<Vec<_>>(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaptureDrops, InterfaceDrops, Summary};

    #[test]
    fn the_summary_record_has_capture_drops_last_null_for_a_file() {
        let file: Value =
            serde_json::from_str(&summary_line(&Summary::default(), "a.pcap")).unwrap();
        let keys: Vec<&String> = file.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().map(|k| k.as_str()), Some("capture_drops"));
        assert_eq!(file["capture_drops"], Value::Null);

        let live = Summary {
            capture_drops: Some(CaptureDrops::new(vec![
                InterfaceDrops::new("eth0", 7, 1),
                InterfaceDrops::new("lo", 2, 0),
            ])),
            ..Summary::default()
        };
        let record: Value = serde_json::from_str(&summary_line(&live, "live:eth0,lo")).unwrap();
        assert_eq!(
            record["capture_drops"],
            json!({
                "dropped": 9,
                "if_dropped": 1,
                "interfaces": [
                    {"interface": "eth0", "dropped": 7, "if_dropped": 1},
                    {"interface": "lo", "dropped": 2, "if_dropped": 0},
                ],
            })
        );
        // Everything else is the same record.
        let mut without = record.clone();
        without["capture_drops"] = Value::Null;
        without["capture"] = file["capture"].clone();
        assert_eq!(without, file);
    }
}
