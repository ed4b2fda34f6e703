//! Byte builders for the protocols the generator writes: TLS records and handshake messages
//! (RFC 5246, RFC 8446), RDP's X.224 negotiation (MS-RDPBCGR 2.2.1.1 / 2.2.1.2), DNS (RFC 1035), and
//! the link, IP and TCP/UDP headers around them. Pure functions of their arguments (and the caller's
//! [`Rng`]), so the output stays deterministic.

use super::Rng;

/// The self-signed ECDSA P-256 certificate the TLS 1.2 servers present, made once with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj
/// "/CN=bench.shakedown.test/O=shakedown bench" -set_serial 4242 -days 3650 -outform DER`.
pub const CERT_DER: &[u8] = include_bytes!("../cert.der");

/// TLS content types (RFC 8446 §5.1).
pub const CT_CCS: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPDATA: u8 = 23;

/// Alert descriptions used (RFC 8446 §6).
pub const ALERT_HANDSHAKE_FAILURE: u8 = 40;
pub const ALERT_PROTOCOL_VERSION: u8 = 70;

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put24(b: &mut Vec<u8>, v: usize) {
    let v = v as u32;
    b.extend_from_slice(&v.to_be_bytes()[1..]);
}

fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    rng.fill(&mut v);
    v
}

/// One TLS record: type, version, 16-bit length, body (RFC 8446 §5.1).
pub fn record(out: &mut Vec<u8>, content_type: u8, version: u16, body: &[u8]) {
    out.push(content_type);
    put16(out, version);
    put16(out, body.len() as u16);
    out.extend_from_slice(body);
}

/// A record header followed by `len` bytes of ciphertext taken from `pool` (RFC 8446 §5.2).
pub fn opaque_record(out: &mut Vec<u8>, content_type: u8, len: usize, pool: &[u8], rng: &mut Rng) {
    out.push(content_type);
    put16(out, 0x0303);
    put16(out, len as u16);
    out.extend_from_slice(pool_slice(pool, len, rng));
}

/// `len` pseudo-random bytes from the shared pool, at a random offset.
pub fn pool_slice<'p>(pool: &'p [u8], len: usize, rng: &mut Rng) -> &'p [u8] {
    let len = len.min(pool.len());
    let start = rng.below((pool.len() - len + 1) as u64) as usize;
    &pool[start..start + len]
}

/// A handshake message: type, 24-bit length, body (RFC 8446 §4).
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 4);
    b.push(msg_type);
    put24(&mut b, body.len());
    b.extend_from_slice(body);
    b
}

fn ext(b: &mut Vec<u8>, typ: u16, body: &[u8]) {
    put16(b, typ);
    put16(b, body.len() as u16);
    b.extend_from_slice(body);
}

/// What a ClientHello offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloStyle {
    /// A modern client: TLS 1.3 and 1.2 via supported_versions, key_share x25519.
    Tls13,
    /// A TLS 1.2-only client: no supported_versions, no key_share.
    Tls12,
    /// An old TLS 1.0-only client (legacy_version 0x0301, old cipher suites).
    Tls10,
}

/// ClientHello handshake message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2), with SNI (RFC 6066 §3),
/// supported_groups, signature_algorithms, ALPN, and for TLS 1.3 supported_versions and key_share.
pub fn client_hello(rng: &mut Rng, style: HelloStyle, sni: Option<&str>) -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    put16(
        &mut b,
        if style == HelloStyle::Tls10 {
            0x0301
        } else {
            0x0303
        },
    );
    b.extend_from_slice(&random_bytes(rng, 32));
    if style == HelloStyle::Tls10 {
        b.push(0);
    } else {
        b.push(32);
        b.extend_from_slice(&random_bytes(rng, 32));
    }
    let suites: &[u16] = match style {
        HelloStyle::Tls13 => &[
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ],
        HelloStyle::Tls12 => &[
            0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x002f,
        ],
        HelloStyle::Tls10 => &[0xc013, 0xc014, 0x002f, 0x0035, 0x000a],
    };
    put16(&mut b, (suites.len() * 2) as u16);
    for s in suites {
        put16(&mut b, *s);
    }
    b.extend_from_slice(&[1, 0]); // null compression only
    let mut e = Vec::with_capacity(256);
    if let Some(name) = sni {
        let mut body = Vec::new();
        put16(&mut body, (name.len() + 3) as u16);
        body.push(0); // host_name
        put16(&mut body, name.len() as u16);
        body.extend_from_slice(name.as_bytes());
        ext(&mut e, 0, &body);
    }
    ext(&mut e, 11, &[3, 0, 1, 2]); // ec_point_formats
    ext(&mut e, 10, &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]); // x25519, P-256, P-384
    if style != HelloStyle::Tls10 {
        ext(&mut e, 35, &[]); // session_ticket
        ext(&mut e, 16, b"\x00\x0c\x02h2\x08http/1.1"); // ALPN
        ext(&mut e, 23, &[]); // extended_master_secret
        let sigs: [u16; 8] = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let mut body = Vec::new();
        put16(&mut body, 16);
        for s in sigs {
            put16(&mut body, s);
        }
        ext(&mut e, 13, &body);
    }
    if style == HelloStyle::Tls13 {
        ext(&mut e, 43, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
        ext(&mut e, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        let mut body = Vec::new();
        put16(&mut body, 36);
        put16(&mut body, 0x001d);
        put16(&mut body, 32);
        body.extend_from_slice(&random_bytes(rng, 32));
        ext(&mut e, 51, &body); // key_share
    }
    ext(&mut e, 0xff01, &[0]); // renegotiation_info
    put16(&mut b, e.len() as u16);
    b.extend_from_slice(&e);
    handshake(1, &b)
}

/// TLS 1.3 ServerHello (RFC 8446 §4.1.3): supported_versions 0x0304 and an x25519 key_share.
pub fn server_hello_13(rng: &mut Rng, suite: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    put16(&mut b, 0x0303);
    b.extend_from_slice(&random_bytes(rng, 32));
    b.push(32);
    b.extend_from_slice(&random_bytes(rng, 32));
    put16(&mut b, suite);
    b.push(0);
    let mut e = Vec::new();
    ext(&mut e, 43, &[0x03, 0x04]);
    let mut ks = Vec::new();
    put16(&mut ks, 0x001d);
    put16(&mut ks, 32);
    ks.extend_from_slice(&random_bytes(rng, 32));
    ext(&mut e, 51, &ks);
    put16(&mut b, e.len() as u16);
    b.extend_from_slice(&e);
    handshake(2, &b)
}

/// TLS 1.2 ServerHello (RFC 5246 §7.4.1.3).
pub fn server_hello_12(rng: &mut Rng, suite: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(96);
    put16(&mut b, 0x0303);
    b.extend_from_slice(&random_bytes(rng, 32));
    b.push(32);
    b.extend_from_slice(&random_bytes(rng, 32));
    put16(&mut b, suite);
    b.push(0);
    let mut e = Vec::new();
    ext(&mut e, 0xff01, &[0]);
    ext(&mut e, 11, &[3, 0, 1, 2]);
    ext(&mut e, 23, &[]);
    put16(&mut b, e.len() as u16);
    b.extend_from_slice(&e);
    handshake(2, &b)
}

/// TLS 1.2 Certificate (RFC 5246 §7.4.2) carrying [`CERT_DER`].
pub fn certificate_12() -> Vec<u8> {
    let mut b = Vec::with_capacity(CERT_DER.len() + 6);
    put24(&mut b, CERT_DER.len() + 3);
    put24(&mut b, CERT_DER.len());
    b.extend_from_slice(CERT_DER);
    handshake(11, &b)
}

/// TLS 1.2 ECDHE ServerKeyExchange (RFC 8422 §5.4) with a (random) ecdsa_secp256r1_sha256 signature
/// shaped like a DER ECDSA-Sig-Value.
pub fn server_key_exchange(rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![3]; // named_curve
    put16(&mut b, 0x001d);
    b.push(32);
    b.extend_from_slice(&random_bytes(rng, 32));
    put16(&mut b, 0x0403);
    let mut sig = vec![0x30, 68, 0x02, 32];
    sig.extend_from_slice(&random_bytes(rng, 32));
    sig.extend_from_slice(&[0x02, 32]);
    sig.extend_from_slice(&random_bytes(rng, 32));
    sig[4] &= 0x7f; // positive INTEGERs without a leading zero
    sig[38] &= 0x7f;
    put16(&mut b, sig.len() as u16);
    b.extend_from_slice(&sig);
    handshake(12, &b)
}

/// TLS 1.2 ServerHelloDone (RFC 5246 §7.4.5).
pub fn server_hello_done() -> Vec<u8> {
    handshake(14, &[])
}

/// TLS 1.2 ECDHE ClientKeyExchange (RFC 8422 §5.7).
pub fn client_key_exchange(rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![32];
    b.extend_from_slice(&random_bytes(rng, 32));
    handshake(16, &b)
}

/// TLS 1.2 NewSessionTicket (RFC 5077 §3.3), sent before the server's ChangeCipherSpec.
pub fn new_session_ticket(rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&7200u32.to_be_bytes());
    put16(&mut b, 192);
    b.extend_from_slice(&random_bytes(rng, 192));
    handshake(4, &b)
}

/// A cleartext alert record (RFC 8446 §6): level, description.
pub fn alert(out: &mut Vec<u8>, version: u16, level: u8, description: u8) {
    record(out, CT_ALERT, version, &[level, description]);
}

/// A ChangeCipherSpec record (RFC 5246 §7.1; RFC 8446 D.4 middlebox compatibility).
pub fn ccs(out: &mut Vec<u8>) {
    record(out, CT_CCS, 0x0303, &[1]);
}

/// TPKT (RFC 1006 §6) + X.224 Connection Request (ISO 8073) + cookie + RDP_NEG_REQ
/// (MS-RDPBCGR 2.2.1.1).
pub fn x224_connection_request(cookie: &str, requested: u32) -> Vec<u8> {
    let cookie_line = format!("Cookie: mstshash={cookie}\r\n");
    let li = 6 + cookie_line.len() + 8;
    let mut b = vec![3, 0];
    put16(&mut b, (4 + 1 + li) as u16);
    b.push(li as u8);
    b.extend_from_slice(&[0xe0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(cookie_line.as_bytes());
    b.extend_from_slice(&[1, 0, 8, 0]);
    b.extend_from_slice(&requested.to_le_bytes());
    b
}

/// TPKT + X.224 Connection Confirm + RDP_NEG_RSP (type 2) or RDP_NEG_FAILURE (type 3)
/// (MS-RDPBCGR 2.2.1.2).
pub fn x224_connection_confirm(neg_type: u8, value: u32) -> Vec<u8> {
    let li = 6 + 8;
    let mut b = vec![3, 0];
    put16(&mut b, (4 + 1 + li) as u16);
    b.push(li as u8);
    b.extend_from_slice(&[0xd0, 0, 0, 0x12, 0x34, 0]);
    let flags = if neg_type == 2 { 0x1f } else { 0 };
    b.extend_from_slice(&[neg_type, flags, 8, 0]);
    b.extend_from_slice(&value.to_le_bytes());
    b
}

/// A DNS query (`response == None`) or its answer with one A record (RFC 1035 §4.1).
pub fn dns(id: u16, name: &str, response: Option<[u8; 4]>) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    put16(&mut b, id);
    put16(&mut b, if response.is_some() { 0x8180 } else { 0x0100 });
    put16(&mut b, 1);
    put16(&mut b, u16::from(response.is_some()));
    put16(&mut b, 0);
    put16(&mut b, 0);
    for label in name.split('.') {
        b.push(label.len() as u8);
        b.extend_from_slice(label.as_bytes());
    }
    b.push(0);
    put16(&mut b, 1);
    put16(&mut b, 1);
    if let Some(addr) = response {
        b.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4]);
        b.extend_from_slice(&addr);
    }
    b
}

/// TCP flags (RFC 9293 §3.1).
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// Addresses of one conversation: index 0 is the client, 1 the server.
#[derive(Debug, Clone)]
pub struct Net {
    pub v6: bool,
    pub vlan: Option<u16>,
    /// IPv4 addresses use the first four bytes.
    pub ip: [[u8; 16]; 2],
    pub port: [u16; 2],
    pub mac: [[u8; 6]; 2],
}

/// Transport of one packet.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Tcp {
        flags: u8,
        seq: u32,
        ack: u32,
        syn_options: bool,
        ts_val: u32,
        ts_ecr: u32,
    },
    Udp,
}

/// Ones' complement sum over 32-bit big-endian words (equal, once folded, to the RFC 1071 sum over
/// 16-bit words, and twice as fast).
fn sum_words(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        acc += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    acc + u64::from(u32::from_be_bytes(tail))
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Writes Ethernet (+802.1Q) + IPv4/IPv6 + TCP/UDP + payload into `buf` (cleared first), with valid
/// IP, TCP and UDP checksums.
pub fn frame(buf: &mut Vec<u8>, net: &Net, from: usize, t: Transport, ip_id: u16, payload: &[u8]) {
    let to = 1 - from;
    buf.clear();
    buf.extend_from_slice(&net.mac[to]);
    buf.extend_from_slice(&net.mac[from]);
    if let Some(vid) = net.vlan {
        buf.extend_from_slice(&[0x81, 0x00]);
        put16(buf, vid & 0x0fff);
    }
    put16(buf, if net.v6 { 0x86dd } else { 0x0800 });
    let (proto, l4_len) = match t {
        Transport::Tcp { syn_options, .. } => (6u8, if syn_options { 40 } else { 32 }),
        Transport::Udp => (17u8, 8),
    };
    let l4_total = l4_len + payload.len();
    let ip_start = buf.len();
    let (src, dst) = (&net.ip[from], &net.ip[to]);
    let mut pseudo: u64;
    if net.v6 {
        buf.extend_from_slice(&[0x60, 0, 0, 0]);
        put16(buf, l4_total as u16);
        buf.push(proto);
        buf.push(64);
        buf.extend_from_slice(src);
        buf.extend_from_slice(dst);
        pseudo = sum_words(0, src);
        pseudo = sum_words(pseudo, dst);
    } else {
        buf.extend_from_slice(&[0x45, 0]);
        put16(buf, (20 + l4_total) as u16);
        put16(buf, ip_id);
        put16(buf, if proto == 6 { 0x4000 } else { 0 });
        buf.push(if from == 0 { 64 } else { 56 });
        buf.push(proto);
        put16(buf, 0);
        buf.extend_from_slice(&src[..4]);
        buf.extend_from_slice(&dst[..4]);
        let c = fold(sum_words(0, &buf[ip_start..ip_start + 20]));
        buf[ip_start + 10..ip_start + 12].copy_from_slice(&c.to_be_bytes());
        pseudo = sum_words(0, &src[..4]);
        pseudo = sum_words(pseudo, &dst[..4]);
    }
    pseudo += u64::from(proto) + l4_total as u64;
    let l4_start = buf.len();
    put16(buf, net.port[from]);
    put16(buf, net.port[to]);
    let ck_at = match t {
        Transport::Tcp {
            flags,
            seq,
            ack,
            syn_options,
            ts_val,
            ts_ecr,
        } => {
            buf.extend_from_slice(&seq.to_be_bytes());
            buf.extend_from_slice(&ack.to_be_bytes());
            buf.push(((l4_len / 4) as u8) << 4);
            buf.push(flags);
            put16(buf, if flags & SYN != 0 { 64240 } else { 501 });
            put16(buf, 0);
            put16(buf, 0);
            if syn_options {
                // Linux's SYN layout: MSS, SACK_PERM, TS, NOP, WS.
                let mss: u16 = if net.v6 { 1440 } else { 1460 };
                buf.extend_from_slice(&[2, 4]);
                put16(buf, mss);
                buf.extend_from_slice(&[4, 2, 8, 10]);
                buf.extend_from_slice(&ts_val.to_be_bytes());
                buf.extend_from_slice(&ts_ecr.to_be_bytes());
                buf.extend_from_slice(&[1, 3, 3, 7]);
            } else {
                buf.extend_from_slice(&[1, 1, 8, 10]);
                buf.extend_from_slice(&ts_val.to_be_bytes());
                buf.extend_from_slice(&ts_ecr.to_be_bytes());
            }
            l4_start + 16
        }
        Transport::Udp => {
            put16(buf, l4_total as u16);
            put16(buf, 0);
            l4_start + 6
        }
    };
    buf.extend_from_slice(payload);
    // The header's length is a multiple of 4, so summing header and payload apart is exact.
    let mut c = fold(sum_words(
        sum_words(pseudo, &buf[l4_start..l4_start + l4_len]),
        payload,
    ));
    if c == 0 && proto == 17 {
        c = 0xffff;
    }
    buf[ck_at..ck_at + 2].copy_from_slice(&c.to_be_bytes());
}
