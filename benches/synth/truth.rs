//! Ground truth: what the generator meant each TCP connection to be, in the vocabulary of
//! shakedown's JSON output (SCHEMA.md), one record per connection in the order of first packets.

use std::io::{self, Write};

/// One expected TLS alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthAlert {
    /// `client` or `server`.
    pub from: &'static str,
    /// RFC 8446 description name, `None` for an encrypted alert.
    pub description: Option<&'static str>,
    /// Wire code, `None` for an encrypted alert.
    pub code: Option<u8>,
}

/// What one generated TCP connection should be reported as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    /// 0-based index by first packet (as the schema's `conn`).
    pub conn: u64,
    /// The scenario that produced it (generator vocabulary, e.g. `tls13`, `server_rst_after_hello`).
    pub kind: &'static str,
    /// `ip:port` (`[addr]:port` for IPv6).
    pub client: String,
    /// `ip:port` (`[addr]:port` for IPv6).
    pub server: String,
    /// `tls`, `rdp`, `other`.
    pub protocol: &'static str,
    /// `completed`, `failed`, `not_tls`.
    pub outcome: &'static str,
    /// The generator's reading of the last stage reached. For completed connections this is the
    /// intent (`application_data`); the capture's end may cut their bulk short.
    pub stage: &'static str,
    /// `cause.code` of the schema.
    pub cause: &'static str,
    /// `client`/`server` who closed first, if anyone did.
    pub closed_by: Option<&'static str>,
    /// `fin` or `rst`.
    pub close_kind: Option<&'static str>,
    /// `TLS 1.2` / `TLS 1.3` when a version was negotiated.
    pub tls_version: Option<&'static str>,
    /// The SNI the client sent.
    pub sni: Option<String>,
    /// Alerts in order.
    pub alerts: Vec<TruthAlert>,
}

fn opt(v: Option<&str>) -> String {
    match v {
        Some(s) => format!("\"{}\"", escape(s)),
        None => "null".to_owned(),
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

impl Truth {
    /// One JSON object on one line (no trailing newline).
    pub fn to_json(&self) -> String {
        let alerts: Vec<String> = self
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{{\"from\":\"{}\",\"description\":{},\"code\":{},\"encrypted\":{}}}",
                    a.from,
                    opt(a.description),
                    a.code.map_or("null".to_owned(), |c| c.to_string()),
                    a.code.is_none()
                )
            })
            .collect();
        format!(
            "{{\"conn\":{},\"kind\":\"{}\",\"client\":\"{}\",\"server\":\"{}\",\"protocol\":\"{}\",\
             \"outcome\":\"{}\",\"stage\":\"{}\",\"cause\":\"{}\",\"closed_by\":{},\"close_kind\":{},\
             \"tls_version\":{},\"sni\":{},\"alerts\":[{}]}}",
            self.conn,
            self.kind,
            self.client,
            self.server,
            self.protocol,
            self.outcome,
            self.stage,
            self.cause,
            opt(self.closed_by),
            opt(self.close_kind),
            opt(self.tls_version),
            opt(self.sni.as_deref()),
            alerts.join(",")
        )
    }
}

/// Receives the ground truth of each connection as its first packet is written.
pub trait TruthSink {
    /// Takes one record.
    fn record(&mut self, truth: &Truth) -> io::Result<()>;
}

impl TruthSink for Vec<Truth> {
    fn record(&mut self, truth: &Truth) -> io::Result<()> {
        self.push(truth.clone());
        Ok(())
    }
}

/// Writes each record as one JSON line.
#[derive(Debug)]
pub struct JsonLines<W: Write>(pub W);

impl<W: Write> TruthSink for JsonLines<W> {
    fn record(&mut self, truth: &Truth) -> io::Result<()> {
        writeln!(self.0, "{}", truth.to_json())
    }
}
