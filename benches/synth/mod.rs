//! Deterministic synthetic capture generator: realistic interleaved TCP/TLS/RDP traffic (plus
//! failures in known proportions, plain HTTP and DNS noise) written as pcap or pcapng, streaming, in
//! constant memory. The same seed and size always give byte-identical output.
//!
//! It feeds the benches (input of any size without shipping captures) and, through its ground truth
//! ([`Truth`], one record per TCP connection in the vocabulary of shakedown's JSON schema), checks
//! that the analysis of a large capture gets every connection right.
//!
//! ```
//! use shakedown_benches::synth::{generate, Format, GenConfig};
//! let cfg = GenConfig { seed: 7, size: 200_000, format: Format::Pcap };
//! let mut a = Vec::new();
//! let stats = generate(&cfg, &mut a, None).unwrap();
//! let mut b = Vec::new();
//! generate(&cfg, &mut b, None).unwrap();
//! assert_eq!(a, b);
//! assert!(stats.bytes >= 200_000 && stats.connections > 0);
//! ```

mod conn;
mod truth;
mod wire;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};

pub use conn::{KINDS, Kind};
pub use truth::{JsonLines, Truth, TruthAlert, TruthSink};

use conn::{Conn, Setup};
use wire::{Net, Transport};

/// The first packet's time: 2024-05-01T10:00:00Z, in ns since the Unix epoch.
pub const START_NS: u64 = 1_714_557_600_000_000_000;

/// splitmix64: tiny, fast, and fully determined by its seed (no dependency, no OS entropy).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo))
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap, microsecond timestamps, little-endian.
    Pcap,
    /// pcapng: one section, one Ethernet interface with nanosecond timestamps, Enhanced Packet Blocks.
    Pcapng,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Target file size in bytes: no connection starts once it is reached, and those in flight are
    /// wound up (encrypted bulk cut short, handshakes and closes finished), so the file ends a
    /// little above it.
    pub size: u64,
    /// pcap or pcapng.
    pub format: Format,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Bytes written, headers included.
    pub bytes: u64,
    /// Packets written.
    pub frames: u64,
    /// TCP connections (ground-truth records).
    pub connections: u64,
    /// DNS exchanges (UDP noise).
    pub dns: u64,
    /// TCP connections per scenario, in the order of [`KINDS`].
    pub per_kind: Vec<(Kind, u64)>,
    /// Time of the last packet, ns since the epoch.
    pub last_ns: u64,
}

struct Out<W: Write> {
    w: BufWriter<W>,
    format: Format,
    bytes: u64,
    frames: u64,
}

impl<W: Write> Out<W> {
    fn new(w: W, format: Format) -> io::Result<Self> {
        let mut o = Out {
            w: BufWriter::with_capacity(1 << 20, w),
            format,
            bytes: 0,
            frames: 0,
        };
        match format {
            Format::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&[0; 8]);
                h.extend_from_slice(&262_144u32.to_le_bytes());
                h.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
                o.put(&h)?;
            }
            Format::Pcapng => {
                // Section Header Block with shb_userappl.
                let app = b"shakedown-gen";
                let mut opts = Vec::new();
                opts.extend_from_slice(&4u16.to_le_bytes());
                opts.extend_from_slice(&(app.len() as u16).to_le_bytes());
                opts.extend_from_slice(app);
                opts.resize(opts.len().next_multiple_of(4), 0);
                opts.extend_from_slice(&[0; 4]);
                let mut body = Vec::new();
                body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&u64::MAX.to_le_bytes());
                body.extend_from_slice(&opts);
                o.block(0x0a0d_0d0a, &body, &[])?;
                // Interface Description Block: Ethernet, if_tsresol = 9 (ns).
                let mut body = Vec::new();
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&262_144u32.to_le_bytes());
                body.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
                o.block(1, &body, &[])?;
            }
        }
        Ok(o)
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.bytes += b.len() as u64;
        self.w.write_all(b)
    }

    fn block(&mut self, typ: u32, head: &[u8], data: &[u8]) -> io::Result<()> {
        let pad = data.len().next_multiple_of(4) - data.len();
        let total = (12 + head.len() + data.len() + pad) as u32;
        let mut h = Vec::with_capacity(8 + head.len());
        h.extend_from_slice(&typ.to_le_bytes());
        h.extend_from_slice(&total.to_le_bytes());
        h.extend_from_slice(head);
        self.put(&h)?;
        self.put(data)?;
        self.put(&[0; 3][..pad])?;
        self.put(&total.to_le_bytes())
    }

    fn packet(&mut self, ts_ns: u64, data: &[u8]) -> io::Result<()> {
        self.frames += 1;
        let len = data.len() as u32;
        match self.format {
            Format::Pcap => {
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&((ts_ns / 1_000_000_000) as u32).to_le_bytes());
                h[4..8].copy_from_slice(&((ts_ns % 1_000_000_000 / 1000) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&len.to_le_bytes());
                h[12..16].copy_from_slice(&len.to_le_bytes());
                self.put(&h)?;
                self.put(data)
            }
            Format::Pcapng => {
                let mut h = [0u8; 20];
                h[4..8].copy_from_slice(&((ts_ns >> 32) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&(ts_ns as u32).to_le_bytes());
                h[12..16].copy_from_slice(&len.to_le_bytes());
                h[16..20].copy_from_slice(&len.to_le_bytes());
                self.block(6, &h, data)
            }
        }
    }
}

/// Where the scheduler draws addresses and names from.
struct World {
    rng: Rng,
    pool: Vec<u8>,
    port_counter: u64,
    bulk_cap: u64,
    gap: u64,
}

const SERVERS: u64 = 64;
const RESOLVER: [u8; 4] = [10, 0, 0, 53];

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut b = [0; 16];
    b[..4].copy_from_slice(&a);
    b
}

impl World {
    fn new_conn(&mut self, kind: Kind) -> (Conn, Option<Conn>) {
        let r = &mut self.rng;
        let v6 = r.chance(1, 10);
        let vlan = r.chance(1, 10).then(|| 100 + r.below(8) as u16);
        let host = r.below(200 * 256);
        let client_v4 = [
            10,
            1 + (host >> 8) as u8,
            host as u8,
            1 + r.below(254) as u8,
        ];
        let client = if v6 {
            let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            a[8..12].copy_from_slice(&(r.next_u64() as u32).to_be_bytes());
            a[12..16].copy_from_slice(&client_v4);
            a
        } else {
            v4(client_v4)
        };
        let srv = r.below(SERVERS);
        let server_v4 = if srv < 32 {
            [192, 0, 2, 1 + srv as u8]
        } else {
            [198, 51, 100, srv as u8 - 31]
        };
        let server = if v6 {
            let mut a = [
                0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ];
            a[15] = 1 + srv as u8;
            a
        } else {
            v4(server_v4)
        };
        let (server_port, sni) = match kind {
            Kind::Rdp | Kind::RdpNegFailure => (3389, format!("rdp{srv}.corp.example")),
            Kind::Plain => (80, format!("files{srv}.example.com")),
            _ => (
                if r.chance(17, 20) { 443 } else { 8443 },
                format!("svc{srv}.example.com"),
            ),
        };
        // Sequential client ports make a reused 5-tuple (an old connection mistaken for a new
        // one) need the same client address 28 000 connections apart.
        self.port_counter += 1;
        let client_port = 32_768 + (self.port_counter % 28_000) as u16;
        let client_mac = [
            0x02,
            0x00,
            client_v4[0],
            client_v4[1],
            client_v4[2],
            client_v4[3],
        ];
        let gw_mac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
        let net = Net {
            v6,
            vlan,
            ip: [client, server],
            port: [client_port, server_port],
            mac: [client_mac, gw_mac],
        };
        let user = format!("user{}", r.below(500));
        let dns = (!v6 && r.chance(1, 3)).then(|| {
            let dnet = Net {
                v6: false,
                vlan,
                ip: [v4(client_v4), v4(RESOLVER)],
                port: [client_port.wrapping_add(7_000), 53],
                mac: [client_mac, gw_mac],
            };
            let seed = r.next_u64();
            Conn::new(
                Kind::Dns,
                Setup {
                    net: dnet,
                    rng: Rng::new(seed),
                    pool: &self.pool,
                    bulk_cap: 0,
                    gap: 0,
                    sni: sni.clone(),
                    user: String::new(),
                    dns_answer: server_v4,
                    impair: true,
                    force_bulk: None,
                },
            )
        });
        let seed = self.rng.next_u64();
        let conn = Conn::new(
            kind,
            Setup {
                net,
                rng: Rng::new(seed),
                pool: &self.pool,
                bulk_cap: self.bulk_cap,
                gap: self.gap,
                sni,
                user,
                dns_answer: server_v4,
                impair: true,
                force_bulk: None,
            },
        );
        (conn, dns)
    }

    fn pick_kind(&mut self) -> Kind {
        let mut x = self.rng.below(conn::KIND_WEIGHT_TOTAL);
        for &(k, w) in KINDS {
            if x < w {
                return k;
            }
            x -= w;
        }
        Kind::Tls13
    }
}

type Heap = BinaryHeap<Reverse<(u64, u64, usize)>>;

/// Starts a new connection (preceded, sometimes, by its DNS lookup) at `at`.
fn spawn(
    world: &mut World,
    slots: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
    heap: &mut Heap,
    tie: &mut u64,
    mut at: u64,
) {
    let kind = world.pick_kind();
    let (conn, dns) = world.new_conn(kind);
    for c in dns.into_iter().chain(std::iter::once(conn)) {
        let slot = free.pop().unwrap_or_else(|| {
            slots.push(None);
            slots.len() - 1
        });
        slots[slot] = Some(c);
        *tie += 1;
        heap.push(Reverse((at, *tie, slot)));
        // The lookup comes first; the connection starts once it is answered.
        at += world.rng.range(1_000_000, 40_000_000);
    }
}

/// Writes a capture of about `cfg.size` bytes to `out`, and the ground truth of each TCP
/// connection to `truth` (in the order of first packets).
pub fn generate<W: Write>(
    cfg: &GenConfig,
    out: W,
    mut truth: Option<&mut dyn TruthSink>,
) -> io::Result<GenStats> {
    let mut seed_rng = Rng::new(cfg.seed ^ 0x5348_414b_4544_4f57);
    let mut pool = vec![0u8; 1 << 18];
    seed_rng.fill(&mut pool);
    // Concurrency grows with the file, so that small files still interleave and large ones hold
    // hundreds of live connections; the per-connection packet gap keeps the aggregate rate near
    // 1 Gbit/s of capture time.
    let concurrency = (cfg.size / (256 << 10)).clamp(4, 256) as usize;
    let mut world = World {
        rng: Rng::new(seed_rng.next_u64()),
        pool,
        port_counter: seed_rng.below(28_000),
        bulk_cap: (cfg.size / 40).max(2_000),
        gap: concurrency as u64 * 12_000,
    };
    let mut out = Out::new(out, cfg.format)?;
    let mut stats = GenStats {
        per_kind: KINDS.iter().map(|&(k, _)| (k, 0)).collect(),
        ..GenStats::default()
    };
    let mut slots: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut heap: Heap = BinaryHeap::new();
    let mut tie = 0u64;
    let mut buf = Vec::with_capacity(2048);
    let mut now = START_NS;

    for _ in 0..concurrency {
        let at = now + world.rng.below(20_000_000);
        spawn(&mut world, &mut slots, &mut free, &mut heap, &mut tie, at);
    }
    let mut stopping = false;
    while let Some(Reverse((t, _, slot))) = heap.pop() {
        now = t;
        let Some(conn) = slots.get_mut(slot).and_then(Option::as_mut) else {
            continue;
        };
        let Some(pkt) = conn.next_packet(&world.pool, stopping) else {
            continue;
        };
        if let Some(mut tr) = conn.announce() {
            tr.conn = stats.connections;
            stats.connections += 1;
            if let Some(e) = stats.per_kind.iter_mut().find(|e| e.0 == conn.kind) {
                e.1 += 1;
            }
            if let Some(sink) = truth.as_deref_mut() {
                sink.record(&tr)?;
            }
        }
        if conn.kind == Kind::Dns && pkt.from == 0 {
            stats.dns += 1;
        }
        let from = pkt.from;
        let ts_ms = (now / 1_000_000) as u32;
        let transport = match pkt.tcp {
            Some(h) => {
                let ts_val = ts_ms.wrapping_add(conn.ts_off[from]);
                conn.last_tsval[from] = ts_val;
                Transport::Tcp {
                    flags: h.flags,
                    seq: h.seq,
                    ack: h.ack,
                    syn_options: h.flags & wire::SYN != 0,
                    ts_val,
                    ts_ecr: conn.last_tsval[1 - from],
                }
            }
            None => Transport::Udp,
        };
        let id = conn.ip_id[from];
        conn.ip_id[from] = id.wrapping_add(1);
        wire::frame(&mut buf, &conn.net, from, transport, id, &pkt.payload);
        out.packet(now, &buf)?;
        stats.last_ns = now;
        if !stopping && out.bytes >= cfg.size {
            stopping = true;
        }
        match conn.next_delay(&world.pool, stopping) {
            Some(d) => {
                tie += 1;
                heap.push(Reverse((now + d, tie, slot)));
            }
            None => {
                let was_dns = conn.kind == Kind::Dns;
                slots[slot] = None;
                free.push(slot);
                if !stopping && !was_dns {
                    let at = now + world.rng.below(2_000_000);
                    spawn(&mut world, &mut slots, &mut free, &mut heap, &mut tie, at);
                }
            }
        }
    }
    out.w.flush()?;
    stats.bytes = out.bytes;
    stats.frames = out.frames;
    Ok(stats)
}

/// [`generate`] into memory, without ground truth.
pub fn generate_vec(cfg: &GenConfig) -> Vec<u8> {
    let mut v = Vec::with_capacity(cfg.size as usize + (1 << 20));
    // Writing to a Vec cannot fail.
    let _ = generate(cfg, &mut v, None);
    v
}

/// One TLS conversation as the TCP payloads of its segments, in order, without retransmissions or
/// reordering: `(from_server, bytes)`. A TLS 1.3 (`tls13`) or TLS 1.2 handshake, then a request and a
/// response of `bulk` bytes of application data, then the close. For feeding the TLS layer directly.
pub fn tls_conversation(seed: u64, tls13: bool, bulk: u64) -> Vec<(bool, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    let mut pool = vec![0u8; 1 << 18];
    rng.fill(&mut pool);
    let net = Net {
        v6: false,
        vlan: None,
        ip: [v4([10, 1, 2, 3]), v4([192, 0, 2, 1])],
        port: [50_000, 443],
        mac: [[2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]],
    };
    let mut conn = Conn::new(
        if tls13 { Kind::Tls13 } else { Kind::Tls12 },
        Setup {
            net,
            rng: Rng::new(rng.next_u64()),
            pool: &pool,
            bulk_cap: bulk,
            gap: 10_000,
            sni: "svc0.example.com".to_owned(),
            user: String::new(),
            dns_answer: [192, 0, 2, 1],
            impair: false,
            force_bulk: Some(bulk),
        },
    );
    let mut out = Vec::new();
    while let Some(p) = conn.next_packet(&pool, false) {
        if !p.payload.is_empty() {
            out.push((p.from == 1, p.payload));
        }
    }
    out
}
