//! What the other connections of a capture say about a server, used as evidence for the next
//! verdict: a server that spoke TLS on a port makes a refused or silent connection to it a failed TLS
//! attempt, and the versions it completed with other clients show a client that offers too little.
//!
//! The verdicts are looked at in the order they are put out (first packet), so a connection is
//! judged with what the connections that began before it showed, the same whether one thread or
//! several did the work.

use std::collections::HashMap;

use crate::flow::Endpoint;
use crate::tls::TlsVersion;

use super::{CauseCode, Outcome, Protocol, Verdict};

/// Servers remembered at most (a scan of many hosts must not grow memory without bound); beyond
/// it, new servers are not remembered.
const MAX_SERVERS: usize = 65_536;

/// What earlier connections showed of one server endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Seen {
    /// Connections in which it answered in TLS.
    spoke_tls: u32,
    /// Completed handshakes, and the highest version among them.
    completed: u32,
    best: Option<TlsVersion>,
}

/// The memory of one capture's servers.
#[derive(Debug, Default)]
pub(crate) struct CaptureContext {
    servers: HashMap<Endpoint, Seen, foldhash::fast::RandomState>,
}

impl CaptureContext {
    /// Adds what earlier connections showed to `v`'s cause, then remembers what `v` shows.
    pub(crate) fn judge(&mut self, v: &mut Verdict) {
        if let Some(seen) = self.servers.get(&v.server).copied() {
            refine(v, seen);
        }
        self.remember(v);
    }

    fn remember(&mut self, v: &Verdict) {
        let Some(tls) = v.tls.as_ref() else { return };
        let answered = tls.server_hello.is_some() || tls.version.is_some();
        if !answered {
            return;
        }
        if self.servers.len() >= MAX_SERVERS && !self.servers.contains_key(&v.server) {
            return;
        }
        let seen = self.servers.entry(v.server).or_default();
        seen.spoke_tls = seen.spoke_tls.saturating_add(1);
        if v.outcome == Outcome::Completed
            && let Some(version) = tls.version
        {
            seen.completed = seen.completed.saturating_add(1);
            if seen.best.is_none_or(|b| version.rank() > b.rank()) {
                seen.best = Some(version);
            }
        }
    }
}

fn refine(v: &mut Verdict, seen: Seen) {
    // Refused, unanswered or empty on a port where TLS is not customary, to a server that spoke
    // TLS there before: a TLS attempt after all.
    let no_payload = v.bytes.client == 0 && v.bytes.server == 0;
    let tcp_cause = matches!(
        v.cause.code,
        CauseCode::TcpRefused
            | CauseCode::TcpUnanswered
            | CauseCode::MiddleboxReset
            | CauseCode::None
    );
    if v.outcome == Outcome::NotTls
        && v.protocol == Protocol::Other
        && no_payload
        && tcp_cause
        && seen.spoke_tls > 0
        && (v.closed_by.is_some() || v.cause.code == CauseCode::TcpUnanswered)
    {
        v.outcome = Outcome::Failed;
        v.cause.explanation.push_str(&format!(
            " This server spoke TLS on port {} in {} earlier connection{} of this capture, so this was a failed TLS attempt.",
            v.server.port,
            seen.spoke_tls,
            if seen.spoke_tls == 1 { "" } else { "s" }
        ));
    }
    // A client offering less than what this server completed with others.
    let version_trouble = matches!(
        v.cause.code,
        CauseCode::ProtocolVersion | CauseCode::NoSharedCipher | CauseCode::PeerAlert
    );
    let offered = v
        .tls
        .as_ref()
        .and_then(|t| t.client_hello.as_ref())
        .map(|ch| ch.highest_version());
    if let (true, Some(best), Some(offered)) = (version_trouble, seen.best, offered)
        && v.outcome == Outcome::Failed
        && offered.rank() < best.rank()
    {
        v.cause.hints.push(format!(
            "This server completed {} with {} other client{} in this capture; this client offers at most {}. A server that accepts only newer versions may answer an older client with handshake_failure instead of protocol_version: enable {} on the client.",
            crate::json::version_name(best),
            seen.completed,
            if seen.completed == 1 { "" } else { "s" },
            crate::json::version_name(offered),
            crate::json::version_name(best)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ClientInference;
    use crate::tls::ClientHello;
    use crate::verdict::observer::{ConnectionFacts, Observer};
    use crate::verdict::{Mark, TlsFacts};
    use crate::{PerSide, Timestamp};

    fn verdict(conn: u64, outcome: Outcome, code: CauseCode) -> Verdict {
        let at = Mark {
            frame: conn + 1,
            ts: Timestamp(0),
        };
        let end = |ip: &str, port| Endpoint::new(ip.parse().expect("address"), port);
        let mut v = Observer::new(4).finish(ConnectionFacts {
            conn,
            client: end("10.0.0.1", 40_000 + conn as u16),
            server: end("10.0.0.2", 8_080),
            inferred: ClientInference::Syn,
            start: at,
            end: at,
            packets: PerSide::default(),
            bytes: PerSide::default(),
            unfinished: false,
            tls_port: false,
        });
        v.outcome = outcome;
        v.cause.code = code;
        v
    }

    fn tls(v: &mut Verdict, version: u16, offered: u16) {
        v.protocol = Protocol::Tls;
        let ch = ClientHello {
            legacy_version: TlsVersion(offered.min(0x0303)),
            supported_versions: if offered == 0x0304 {
                vec![TlsVersion(0x0304)]
            } else {
                Vec::new()
            },
            ..ClientHello::default()
        };
        v.tls = Some(TlsFacts {
            version: (version != 0).then_some(TlsVersion(version)),
            client_hello: Some(ch),
            ..TlsFacts::default()
        });
    }

    #[test]
    fn a_refused_connection_to_a_tls_server_is_a_failed_attempt() {
        let mut ctx = CaptureContext::default();
        let mut refused = verdict(0, Outcome::NotTls, CauseCode::TcpRefused);
        ctx.judge(&mut refused);
        assert_eq!(refused.outcome, Outcome::NotTls, "nothing known yet");
        let mut ok = verdict(1, Outcome::Completed, CauseCode::None);
        tls(&mut ok, 0x0304, 0x0304);
        ctx.judge(&mut ok);
        let mut later = verdict(2, Outcome::NotTls, CauseCode::TcpRefused);
        later.closed_by = Some((crate::Side::Server, crate::verdict::CloseKind::Rst));
        ctx.judge(&mut later);
        assert_eq!(later.outcome, Outcome::Failed);
        assert!(
            later
                .cause
                .explanation
                .contains("spoke TLS on port 8080 in 1 earlier connection"),
            "{}",
            later.cause.explanation
        );
        // Near miss: a connection that carried bytes that are not TLS stays what it is.
        let mut plain = verdict(3, Outcome::NotTls, CauseCode::None);
        plain.bytes = PerSide::new(10, 20);
        plain.closed_by = Some((crate::Side::Client, crate::verdict::CloseKind::Fin));
        ctx.judge(&mut plain);
        assert_eq!(plain.outcome, Outcome::NotTls);
    }

    #[test]
    fn a_client_offering_less_than_others_completed_with_is_told() {
        let mut ctx = CaptureContext::default();
        for conn in 0..3 {
            let mut ok = verdict(conn, Outcome::Completed, CauseCode::None);
            tls(&mut ok, 0x0304, 0x0304);
            ctx.judge(&mut ok);
        }
        let mut old = verdict(3, Outcome::Failed, CauseCode::NoSharedCipher);
        tls(&mut old, 0, 0x0303);
        ctx.judge(&mut old);
        assert!(
            old.cause
                .hints
                .iter()
                .any(|h| h.contains("completed TLS 1.3 with 3 other clients")
                    && h.contains("offers at most TLS 1.2")),
            "{:?}",
            old.cause.hints
        );
        // Near miss: a client offering as much gets no such hint.
        let mut same = verdict(4, Outcome::Failed, CauseCode::NoSharedCipher);
        tls(&mut same, 0, 0x0304);
        let before = same.cause.hints.len();
        ctx.judge(&mut same);
        assert_eq!(same.cause.hints.len(), before, "{:?}", same.cause.hints);
    }
}
