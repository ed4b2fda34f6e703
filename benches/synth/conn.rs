//! One generated conversation: a TCP connection following a scenario script (or a DNS exchange),
//! producing its packets one at a time so that thousands of them can be interleaved in constant
//! memory. The handshake part of the script is built up front (a few KB); bulk data is built lazily,
//! a few segments at a time.

use std::collections::VecDeque;

use super::Rng;
use super::truth::{Truth, TruthAlert};
use super::wire::{self, ACK, FIN, HelloStyle, Net, PSH, RST, SYN};

/// TCP payload per full segment: 1500 MTU - 20 IPv4 - 32 TCP with timestamps.
pub const MSS: usize = 1448;
/// The same over IPv6 (40-byte header).
pub const MSS_V6: usize = 1428;

/// Spurious retransmissions and swaps of adjacent segments, per 10 000 data segments.
const RETX_PER_10K: u64 = 20;
const REORDER_PER_10K: u64 = 20;

/// Most application data per turn once the file is full.
const STOP_TAIL: u64 = 1_024;

/// The scenarios, with their weights in the mix (out of `KIND_WEIGHT_TOTAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TLS 1.3 handshake completes, then application data.
    Tls13,
    /// TLS 1.2 full handshake completes, then application data.
    Tls12,
    /// RDP X.224 negotiation selecting SSL, then TLS completes, then application data.
    Rdp,
    /// Plain HTTP/1.1 on port 80.
    Plain,
    /// Server answers the ClientHello with a fatal handshake_failure alert.
    HandshakeFailure,
    /// A TLS 1.0-only client gets a fatal protocol_version alert.
    ProtocolVersion,
    /// Server resets after the ClientHello.
    ServerReset,
    /// Client closes with FIN after the server's TLS 1.2 flight (ServerHello .. ServerHelloDone).
    ClientFinAfterServerHello,
    /// RDP server answers with RDP_NEG_FAILURE (HYBRID_REQUIRED_BY_SERVER) and closes.
    RdpNegFailure,
    /// SYN answered by RST.
    SynRefused,
    /// SYN never answered (sent three times).
    SynUnanswered,
    /// A DNS query and its answer over UDP (noise; not a TCP connection).
    Dns,
}

/// TCP scenarios and their weights.
pub const KINDS: &[(Kind, u64)] = &[
    (Kind::Tls13, 30),
    (Kind::Tls12, 20),
    (Kind::Rdp, 6),
    (Kind::Plain, 6),
    (Kind::HandshakeFailure, 5),
    (Kind::ProtocolVersion, 4),
    (Kind::ServerReset, 4),
    (Kind::ClientFinAfterServerHello, 4),
    (Kind::RdpNegFailure, 2),
    (Kind::SynRefused, 5),
    (Kind::SynUnanswered, 4),
];

/// Sum of the weights in [`KINDS`].
pub const KIND_WEIGHT_TOTAL: u64 = 90;

impl Kind {
    /// Name used in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tls13 => "tls13",
            Kind::Tls12 => "tls12",
            Kind::Rdp => "rdp_tls",
            Kind::Plain => "plain_http",
            Kind::HandshakeFailure => "alert_handshake_failure",
            Kind::ProtocolVersion => "alert_protocol_version",
            Kind::ServerReset => "server_rst_after_hello",
            Kind::ClientFinAfterServerHello => "client_fin_after_server_hello",
            Kind::RdpNegFailure => "rdp_neg_failure",
            Kind::SynRefused => "syn_refused",
            Kind::SynUnanswered => "syn_unanswered",
            Kind::Dns => "dns",
        }
    }
}

/// A packet waiting to be written.
#[derive(Debug, Clone)]
pub struct Pkt {
    /// 0 client, 1 server.
    pub from: usize,
    /// `None` for UDP.
    pub tcp: Option<TcpHdr>,
    pub payload: Vec<u8>,
    /// Nanoseconds after the conversation's previous packet.
    pub delay: u64,
}

/// The TCP fields the script decides.
#[derive(Debug, Clone, Copy)]
pub struct TcpHdr {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Tls12,
    Tls13,
    Plain,
}

/// One direction's turn in the bulk phase.
#[derive(Debug)]
struct Turn {
    side: usize,
    prefix: Vec<u8>,
    bytes: u64,
}

#[derive(Debug)]
struct Bulk {
    style: Style,
    turns: VecDeque<Turn>,
    side: usize,
    remaining: u64,
    outbox: Vec<u8>,
    switched: bool,
    cut: bool,
    server_sent: bool,
}

#[derive(Debug, Clone, Copy)]
struct ClosePlan {
    closer: usize,
    rst: bool,
    close_notify: bool,
}

/// A conversation in progress.
#[derive(Debug)]
pub struct Conn {
    pub net: Net,
    pub kind: Kind,
    truth: Option<Truth>,
    announced: bool,
    rng: Rng,
    nxt: [u32; 2],
    pub ip_id: [u16; 2],
    pub ts_off: [u32; 2],
    pub last_tsval: [u32; 2],
    rtt: u64,
    gap: u64,
    mss: usize,
    impair: bool,
    force_bulk: Option<u64>,
    queue: VecDeque<Pkt>,
    bulk: Option<Bulk>,
    close: Option<ClosePlan>,
}

/// Where the scheduler's shared state reaches a new conversation.
#[derive(Debug)]
pub struct Setup<'a> {
    pub net: Net,
    pub rng: Rng,
    pub pool: &'a [u8],
    /// Cap on any one direction's bulk bytes.
    pub bulk_cap: u64,
    /// Typical nanoseconds between back-to-back segments of one connection.
    pub gap: u64,
    pub sni: String,
    pub user: String,
    /// The address a DNS answer gives.
    pub dns_answer: [u8; 4],
    /// Retransmissions and reordering on (off gives a clean stream to record).
    pub impair: bool,
    /// One exchange with exactly this many server bytes instead of random bulk.
    pub force_bulk: Option<u64>,
}

fn ep(net: &Net, i: usize) -> String {
    if net.v6 {
        let a = std::net::Ipv6Addr::from(net.ip[i]);
        format!("[{a}]:{}", net.port[i])
    } else {
        let b = &net.ip[i];
        format!("{}.{}.{}.{}:{}", b[0], b[1], b[2], b[3], net.port[i])
    }
}

fn bulk_size(rng: &mut Rng, cap: u64) -> u64 {
    let r = rng.below(1000);
    let v = if r < 700 {
        rng.range(300, 8_000)
    } else if r < 985 {
        rng.range(8_000, 128_000)
    } else {
        rng.range(128_000, 4_000_000)
    };
    v.min(cap).max(1)
}

impl Conn {
    /// A new conversation of `kind`, its handshake script already queued.
    pub fn new(kind: Kind, s: Setup<'_>) -> Conn {
        let Setup {
            net,
            mut rng,
            pool,
            bulk_cap,
            gap,
            sni,
            user,
            dns_answer,
            impair,
            force_bulk,
        } = s;
        let rtt = if rng.chance(1, 4) {
            rng.range(200_000, 2_000_000)
        } else {
            rng.range(2_000_000, 80_000_000)
        };
        let nxt = [rng.next_u64() as u32, rng.next_u64() as u32];
        let ip_id = [rng.next_u64() as u16, rng.next_u64() as u16];
        let ts_off = [rng.next_u64() as u32, rng.next_u64() as u32];
        let truth = (kind != Kind::Dns).then(|| Truth {
            conn: 0,
            kind: kind.name(),
            client: ep(&net, 0),
            server: ep(&net, 1),
            protocol: "tls",
            outcome: "failed",
            stage: "tcp_syn",
            cause: "none",
            closed_by: None,
            close_kind: None,
            tls_version: None,
            sni: None,
            alerts: Vec::new(),
        });
        let v6 = net.v6;
        let mut c = Conn {
            net,
            kind,
            truth,
            announced: false,
            rng,
            nxt,
            ip_id,
            ts_off,
            last_tsval: [0; 2],
            rtt,
            gap: gap / 2 + gap * (nxt[0] as u64 % 8) / 8,
            mss: if v6 { MSS_V6 } else { MSS },
            impair,
            force_bulk,
            queue: VecDeque::new(),
            bulk: None,
            close: None,
        };
        c.script(pool, bulk_cap, &sni, &user, dns_answer);
        c
    }

    fn think(&mut self) -> u64 {
        self.rng.range(20_000, 400_000)
    }

    fn reply(&mut self) -> u64 {
        self.rtt + self.rng.range(50_000, 1_500_000)
    }

    /// The ground truth, once: when the first packet is written.
    pub fn announce(&mut self) -> Option<Truth> {
        if self.announced {
            return None;
        }
        self.announced = true;
        self.truth.clone()
    }

    fn truth(&mut self) -> &mut Truth {
        // Dns has no truth and never calls this; a scratch record keeps it total.
        self.truth.get_or_insert_with(|| Truth {
            conn: 0,
            kind: "dns",
            client: String::new(),
            server: String::new(),
            protocol: "other",
            outcome: "failed",
            stage: "tcp_syn",
            cause: "none",
            closed_by: None,
            close_kind: None,
            tls_version: None,
            sni: None,
            alerts: Vec::new(),
        })
    }

    fn ctl(&mut self, from: usize, flags: u8, delay: u64) {
        let to = 1 - from;
        let ack = if flags & ACK != 0 { self.nxt[to] } else { 0 };
        self.queue.push_back(Pkt {
            from,
            tcp: Some(TcpHdr {
                flags,
                seq: self.nxt[from],
                ack,
            }),
            payload: Vec::new(),
            delay,
        });
        if flags & (SYN | FIN) != 0 {
            self.nxt[from] = self.nxt[from].wrapping_add(1);
        }
    }

    /// Queues `data` from `from` as MSS-sized segments, the peer acknowledging every second one.
    fn send(&mut self, from: usize, data: &[u8], first_delay: u64) {
        let to = 1 - from;
        let n = data.len().div_ceil(self.mss);
        for (i, chunk) in data.chunks(self.mss).enumerate() {
            let flags = if i + 1 == n { ACK | PSH } else { ACK };
            let delay = if i == 0 { first_delay } else { self.gap };
            let pkt = Pkt {
                from,
                tcp: Some(TcpHdr {
                    flags,
                    seq: self.nxt[from],
                    ack: self.nxt[to],
                }),
                payload: chunk.to_vec(),
                delay,
            };
            self.nxt[from] = self.nxt[from].wrapping_add(chunk.len() as u32);
            if i > 0 && self.impair && self.rng.chance(REORDER_PER_10K, 10_000) {
                // Swap with the previous data segment of this burst, keeping the timing positional.
                if let Some(prev) = self.queue.back_mut()
                    && prev.from == from
                    && !prev.payload.is_empty()
                {
                    let mut pkt = pkt;
                    std::mem::swap(prev, &mut pkt);
                    std::mem::swap(&mut prev.delay, &mut pkt.delay);
                    self.queue.push_back(pkt);
                    continue;
                }
                self.queue.push_back(pkt);
            } else {
                let retx = self.impair && self.rng.chance(RETX_PER_10K, 10_000);
                let dup = retx.then(|| Pkt {
                    delay: self.rtt,
                    ..pkt.clone()
                });
                self.queue.push_back(pkt);
                if let Some(d) = dup {
                    self.queue.push_back(d);
                }
            }
            if i % 2 == 1 && i + 1 < n {
                let d = self.rng.range(5_000, 60_000);
                self.ctl(to, ACK, d);
            }
        }
    }

    fn tcp_open(&mut self) {
        self.ctl(0, SYN, 0);
        let r = self.rtt;
        self.ctl(1, SYN | ACK, r);
        let t = self.rng.range(10_000, 100_000);
        self.ctl(0, ACK, t);
        self.truth().stage = "tcp_established";
    }

    fn fin_close(&mut self, closer: usize, first_delay: u64) {
        self.ctl(closer, FIN | ACK, first_delay);
        let d = if closer == 0 {
            self.reply()
        } else {
            self.think()
        };
        self.ctl(1 - closer, FIN | ACK, d);
        let d = self.rng.range(10_000, 200_000);
        self.ctl(closer, ACK, d);
        let t = self.truth();
        t.closed_by = Some(if closer == 0 { "client" } else { "server" });
        t.close_kind = Some("fin");
    }

    fn rst_close(&mut self, closer: usize, delay: u64) {
        self.ctl(closer, RST | ACK, delay);
        let t = self.truth();
        t.closed_by = Some(if closer == 0 { "client" } else { "server" });
        t.close_kind = Some("rst");
    }

    fn client_hello(&mut self, style: HelloStyle, sni: Option<&str>) {
        let mut rec = Vec::new();
        let msg = wire::client_hello(&mut self.rng, style, sni);
        // Clients put 0x0301 in the record layer whatever they offer (RFC 8446 §5.1).
        wire::record(&mut rec, wire::CT_HANDSHAKE, 0x0301, &msg);
        let d = self.think();
        self.send(0, &rec, d);
        let t = self.truth();
        t.stage = "client_hello";
        t.sni = sni.map(str::to_owned);
    }

    /// TLS 1.3 from the ServerHello on: SH + CCS + protected flight; client CCS + Finished.
    fn tls13_rest(&mut self, pool: &[u8]) {
        let mut f = Vec::new();
        let suite = if self.rng.chance(2, 3) {
            0x1301
        } else {
            0x1302
        };
        let sh = wire::server_hello_13(&mut self.rng, suite);
        wire::record(&mut f, wire::CT_HANDSHAKE, 0x0303, &sh);
        wire::ccs(&mut f);
        // EncryptedExtensions + Certificate + CertificateVerify + Finished, protected.
        let len = self.rng.range(900, 4_000) as usize;
        if self.rng.chance(1, 2) {
            wire::opaque_record(&mut f, wire::CT_APPDATA, len, pool, &mut self.rng);
        } else {
            wire::opaque_record(&mut f, wire::CT_APPDATA, 40, pool, &mut self.rng);
            wire::opaque_record(&mut f, wire::CT_APPDATA, len - 130, pool, &mut self.rng);
            wire::opaque_record(&mut f, wire::CT_APPDATA, 90, pool, &mut self.rng);
            wire::opaque_record(&mut f, wire::CT_APPDATA, 53, pool, &mut self.rng);
        }
        let d = self.reply();
        self.send(1, &f, d);
        let mut c = Vec::new();
        wire::ccs(&mut c);
        wire::opaque_record(&mut c, wire::CT_APPDATA, 53, pool, &mut self.rng);
        let d = self.think();
        self.send(0, &c, d);
        let t = self.truth();
        t.tls_version = Some("TLS 1.3");
        t.stage = "finished";
    }

    /// The server's TLS 1.2 flight: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone.
    fn tls12_server_flight(&mut self) {
        let suite = if self.rng.chance(1, 2) {
            0xc02b
        } else {
            0xc02c
        };
        let msgs = [
            wire::server_hello_12(&mut self.rng, suite),
            wire::certificate_12(),
            wire::server_key_exchange(&mut self.rng),
            wire::server_hello_done(),
        ];
        let mut f = Vec::new();
        if self.rng.chance(1, 2) {
            wire::record(&mut f, wire::CT_HANDSHAKE, 0x0303, &msgs.concat());
        } else {
            for m in &msgs {
                wire::record(&mut f, wire::CT_HANDSHAKE, 0x0303, m);
            }
        }
        let d = self.reply();
        self.send(1, &f, d);
        let t = self.truth();
        t.tls_version = Some("TLS 1.2");
        t.stage = "server_hello_done";
    }

    /// TLS 1.2 after the server's flight: CKE + CCS + Finished; [NewSessionTicket] + CCS + Finished.
    fn tls12_finish(&mut self, pool: &[u8]) {
        let mut c = Vec::new();
        let cke = wire::client_key_exchange(&mut self.rng);
        wire::record(&mut c, wire::CT_HANDSHAKE, 0x0303, &cke);
        wire::ccs(&mut c);
        wire::opaque_record(&mut c, wire::CT_HANDSHAKE, 40, pool, &mut self.rng);
        let d = self.think();
        self.send(0, &c, d);
        let mut s = Vec::new();
        if self.rng.chance(1, 2) {
            let nst = wire::new_session_ticket(&mut self.rng);
            wire::record(&mut s, wire::CT_HANDSHAKE, 0x0303, &nst);
        }
        wire::ccs(&mut s);
        wire::opaque_record(&mut s, wire::CT_HANDSHAKE, 40, pool, &mut self.rng);
        let d = self.reply();
        self.send(1, &s, d);
        self.truth().stage = "finished";
    }

    fn plan_bulk(&mut self, style: Style, bulk_cap: u64, sni: &str) {
        let mut turns = VecDeque::new();
        let exchanges = if style == Style::Plain {
            1
        } else {
            1 + self.rng.below(3)
        };
        for e in 0..exchanges {
            let upload = self.rng.chance(1, 5);
            let cap = if e == 0 { bulk_cap } else { bulk_cap / 4 };
            let (c, s) = if let Some(n) = self.force_bulk {
                (self.rng.range(150, 1_200), n)
            } else if upload {
                (bulk_size(&mut self.rng, cap), self.rng.range(100, 800))
            } else {
                (self.rng.range(150, 1_200), bulk_size(&mut self.rng, cap))
            };
            if style == Style::Plain {
                let path = self.rng.below(100_000);
                let req = format!(
                    "GET /files/{path}.bin HTTP/1.1\r\nHost: {sni}\r\nUser-Agent: shakedown-gen\r\n\
                     Accept: */*\r\n\r\n"
                );
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                     Content-Length: {s}\r\n\r\n"
                );
                turns.push_back(Turn {
                    side: 0,
                    prefix: req.into_bytes(),
                    bytes: 0,
                });
                turns.push_back(Turn {
                    side: 1,
                    prefix: resp.into_bytes(),
                    bytes: s,
                });
            } else {
                turns.push_back(Turn {
                    side: 0,
                    prefix: Vec::new(),
                    bytes: c,
                });
                turns.push_back(Turn {
                    side: 1,
                    prefix: Vec::new(),
                    bytes: s,
                });
            }
        }
        self.bulk = Some(Bulk {
            style,
            turns,
            side: 0,
            remaining: 0,
            outbox: Vec::with_capacity(8 * MSS),
            switched: true,
            cut: false,
            server_sent: false,
        });
        let r = self.rng.below(100);
        let closer = if self.rng.chance(3, 5) { 0 } else { 1 };
        self.close = Some(if style == Style::Plain {
            ClosePlan {
                closer,
                rst: false,
                close_notify: false,
            }
        } else if r < 55 {
            ClosePlan {
                closer,
                rst: false,
                close_notify: true,
            }
        } else if r < 85 {
            ClosePlan {
                closer,
                rst: false,
                close_notify: false,
            }
        } else {
            ClosePlan {
                closer: 0,
                rst: true,
                close_notify: false,
            }
        });
        if style != Style::Plain {
            self.truth().stage = "application_data";
        }
        // The close happens later, lazily; its truth is written with the first packet.
        if let Some(plan) = self.close {
            let t = self.truth();
            t.closed_by = Some(if plan.closer == 0 { "client" } else { "server" });
            t.close_kind = Some(if plan.rst { "rst" } else { "fin" });
            if plan.close_notify && t.tls_version == Some("TLS 1.2") {
                let from = t.closed_by.unwrap_or("client");
                t.alerts.push(TruthAlert {
                    from,
                    description: None,
                    code: None,
                });
            }
        }
    }

    fn script(&mut self, pool: &[u8], bulk_cap: u64, sni: &str, user: &str, addr: [u8; 4]) {
        let tls_style = |rng: &mut Rng| {
            if rng.chance(3, 4) {
                HelloStyle::Tls13
            } else {
                HelloStyle::Tls12
            }
        };
        match self.kind {
            Kind::Dns => {
                let id = self.rng.next_u64() as u16;
                let q = wire::dns(id, sni, None);
                let a = wire::dns(id, sni, Some(addr));
                self.queue.push_back(Pkt {
                    from: 0,
                    tcp: None,
                    payload: q,
                    delay: 0,
                });
                let d = self.rng.range(300_000, 30_000_000);
                self.queue.push_back(Pkt {
                    from: 1,
                    tcp: None,
                    payload: a,
                    delay: d,
                });
            }
            Kind::SynUnanswered => {
                self.ctl(0, SYN, 0);
                self.nxt[0] = self.nxt[0].wrapping_sub(1);
                self.ctl(0, SYN, 1_000_000_000);
                self.nxt[0] = self.nxt[0].wrapping_sub(1);
                self.ctl(0, SYN, 2_000_000_000);
                let t = self.truth();
                t.protocol = "other";
                t.cause = "tcp_unanswered";
            }
            Kind::SynRefused => {
                self.ctl(0, SYN, 0);
                let r = self.rtt;
                // RFC 9293 §3.10.7.1: RST with SEQ 0 and ACK = SYN's SEQ + 1.
                self.queue.push_back(Pkt {
                    from: 1,
                    tcp: Some(TcpHdr {
                        flags: RST | ACK,
                        seq: 0,
                        ack: self.nxt[0],
                    }),
                    payload: Vec::new(),
                    delay: r,
                });
                let t = self.truth();
                t.protocol = "other";
                t.cause = "tcp_refused";
                t.closed_by = Some("server");
                t.close_kind = Some("rst");
            }
            Kind::Plain => {
                self.tcp_open();
                let t = self.truth();
                t.protocol = "other";
                t.outcome = "not_tls";
                t.cause = "none";
                self.plan_bulk(Style::Plain, bulk_cap, sni);
            }
            Kind::Tls13 => {
                self.tcp_open();
                self.client_hello(HelloStyle::Tls13, Some(sni));
                self.tls13_rest(pool);
                self.completed();
                self.plan_bulk(Style::Tls13, bulk_cap, sni);
            }
            Kind::Tls12 => {
                self.tcp_open();
                let st = tls_style(&mut self.rng);
                self.client_hello(st, Some(sni));
                self.tls12_server_flight();
                self.tls12_finish(pool);
                self.completed();
                self.plan_bulk(Style::Tls12, bulk_cap, sni);
            }
            Kind::Rdp => {
                self.tcp_open();
                // PROTOCOL_SSL | PROTOCOL_HYBRID, PROTOCOL_SSL, or also PROTOCOL_HYBRID_EX.
                let requested = [0x3, 0x1, 0xb][self.rng.below(3) as usize];
                self.rdp_request(user, requested);
                let cc = wire::x224_connection_confirm(2, 1);
                let d = self.reply();
                self.send(1, &cc, d);
                self.truth().protocol = "rdp";
                let st = tls_style(&mut self.rng);
                self.client_hello(st, None);
                let style = if st == HelloStyle::Tls13 && self.rng.chance(1, 2) {
                    self.tls13_rest(pool);
                    Style::Tls13
                } else {
                    self.tls12_server_flight();
                    self.tls12_finish(pool);
                    Style::Tls12
                };
                self.completed();
                self.plan_bulk(style, bulk_cap / 2, sni);
            }
            Kind::RdpNegFailure => {
                self.tcp_open();
                self.rdp_request(user, 1);
                let cc = wire::x224_connection_confirm(3, 5);
                let d = self.reply();
                self.send(1, &cc, d);
                let t = self.truth();
                t.protocol = "rdp";
                t.stage = "rdp_confirm";
                t.cause = "rdp_negotiation_failure";
                let d = self.rng.range(10_000, 300_000);
                self.fin_close(1, d);
            }
            Kind::HandshakeFailure => {
                self.tcp_open();
                let st = tls_style(&mut self.rng);
                self.client_hello(st, Some(sni));
                let mut a = Vec::new();
                wire::alert(&mut a, 0x0303, 2, wire::ALERT_HANDSHAKE_FAILURE);
                let d = self.reply();
                self.send(1, &a, d);
                let t = self.truth();
                t.cause = "no_shared_cipher";
                t.alerts.push(TruthAlert {
                    from: "server",
                    description: Some("handshake_failure"),
                    code: Some(wire::ALERT_HANDSHAKE_FAILURE),
                });
                let closer = if self.rng.chance(7, 10) { 0 } else { 1 };
                let d = if closer == 0 {
                    self.think()
                } else {
                    self.rng.range(5_000, 100_000)
                };
                self.fin_close(closer, d);
            }
            Kind::ProtocolVersion => {
                self.tcp_open();
                self.client_hello(HelloStyle::Tls10, Some(sni));
                let mut a = Vec::new();
                wire::alert(&mut a, 0x0303, 2, wire::ALERT_PROTOCOL_VERSION);
                let d = self.reply();
                self.send(1, &a, d);
                let t = self.truth();
                t.cause = "protocol_version";
                t.alerts.push(TruthAlert {
                    from: "server",
                    description: Some("protocol_version"),
                    code: Some(wire::ALERT_PROTOCOL_VERSION),
                });
                let d = self.rng.range(5_000, 100_000);
                self.fin_close(1, d);
            }
            Kind::ServerReset => {
                self.tcp_open();
                let st = tls_style(&mut self.rng);
                self.client_hello(st, Some(sni));
                let d = self.reply();
                self.rst_close(1, d);
                self.truth().cause = "server_reset";
            }
            Kind::ClientFinAfterServerHello => {
                self.tcp_open();
                self.client_hello(HelloStyle::Tls12, Some(sni));
                self.tls12_server_flight();
                let d = self.think();
                self.fin_close(0, d);
                self.truth().cause = "client_closed";
            }
        }
    }

    fn rdp_request(&mut self, user: &str, requested: u32) {
        let cr = wire::x224_connection_request(user, requested);
        let d = self.think();
        self.send(0, &cr, d);
        self.truth().stage = "rdp_request";
    }

    fn completed(&mut self) {
        let t = self.truth();
        t.outcome = "completed";
        t.cause = "none";
    }

    /// The next packet to write and whether it is the conversation's last, building more of the
    /// script when the queue runs dry. `stopping` cuts encrypted bulk short (the file is full).
    pub fn next_packet(&mut self, pool: &[u8], stopping: bool) -> Option<Pkt> {
        if self.queue.is_empty() {
            self.refill(pool, stopping);
        }
        self.queue.pop_front()
    }

    /// Delay before the next packet, if any (building it if needed).
    pub fn next_delay(&mut self, pool: &[u8], stopping: bool) -> Option<u64> {
        if self.queue.is_empty() {
            self.refill(pool, stopping);
        }
        self.queue.front().map(|p| p.delay)
    }

    fn refill(&mut self, pool: &[u8], stopping: bool) {
        while self.queue.is_empty() {
            let Some(b) = self.bulk.as_mut() else {
                if let Some(plan) = self.close.take() {
                    self.close_after_bulk(plan, pool);
                }
                return;
            };
            if stopping && b.style != Style::Plain && !b.cut {
                // Wind up quickly, but let the server send at least one record after the
                // handshake: without it a TLS 1.3 handshake cannot be told complete, and the
                // ground truth says it is.
                b.cut = true;
                b.remaining = b.remaining.min(STOP_TAIL);
                let keep = if b.server_sent {
                    0
                } else {
                    b.turns
                        .iter()
                        .position(|t| t.side == 1)
                        .map_or(0, |i| i + 1)
                };
                b.turns.truncate(keep);
                for t in &mut b.turns {
                    t.bytes = t.bytes.clamp(1, STOP_TAIL);
                }
            }
            let mss = self.mss;
            while b.outbox.len() < 4 * mss && b.remaining > 0 {
                let max = if self.rng.chance(1, 4) {
                    self.rng.range(64, 16_384)
                } else {
                    16_384
                };
                let n = b.remaining.min(max) as usize;
                b.remaining -= n as u64;
                match b.style {
                    Style::Plain => {
                        b.outbox
                            .extend_from_slice(wire::pool_slice(pool, n, &mut self.rng))
                    }
                    Style::Tls13 => wire::opaque_record(
                        &mut b.outbox,
                        wire::CT_APPDATA,
                        n + 17,
                        pool,
                        &mut self.rng,
                    ),
                    Style::Tls12 => wire::opaque_record(
                        &mut b.outbox,
                        wire::CT_APPDATA,
                        n + 24,
                        pool,
                        &mut self.rng,
                    ),
                }
            }
            if b.outbox.is_empty() {
                match b.turns.pop_front() {
                    Some(turn) => {
                        b.switched = b.side != turn.side || b.switched;
                        b.side = turn.side;
                        b.remaining = turn.bytes;
                        b.outbox.extend_from_slice(&turn.prefix);
                    }
                    None => self.bulk = None,
                }
                continue;
            }
            let n = if b.remaining == 0 {
                b.outbox.len().min(8 * mss)
            } else {
                (b.outbox.len() / mss).min(8) * mss
            };
            let data: Vec<u8> = b.outbox.drain(..n).collect();
            let side = b.side;
            b.server_sent |= side == 1;
            let delay = if std::mem::take(&mut b.switched) {
                if side == 1 {
                    self.reply()
                } else {
                    self.think()
                }
            } else {
                self.gap
            };
            self.send(side, &data, delay);
        }
    }

    fn close_after_bulk(&mut self, plan: ClosePlan, pool: &[u8]) {
        let style = if self.truth.as_ref().and_then(|t| t.tls_version) == Some("TLS 1.3") {
            Style::Tls13
        } else if self.truth.as_ref().is_some_and(|t| t.tls_version.is_some()) {
            Style::Tls12
        } else {
            Style::Plain
        };
        let mut d = self.rng.range(1_000_000, 50_000_000);
        if plan.close_notify && style != Style::Plain {
            let mut a = Vec::new();
            if style == Style::Tls13 {
                wire::opaque_record(&mut a, wire::CT_APPDATA, 19, pool, &mut self.rng);
            } else {
                wire::opaque_record(&mut a, wire::CT_ALERT, 26, pool, &mut self.rng);
            }
            self.send(plan.closer, &a, d);
            d = self.rng.range(5_000, 100_000);
        }
        if plan.rst {
            self.rst_close(plan.closer, d);
        } else {
            self.fin_close(plan.closer, d);
        }
    }
}
