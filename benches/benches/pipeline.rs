//! Throughput of each stage of shakedown, over a synthetic capture made once at start-up by
//! `shakedown_benches::synth` (100 MB by default; `SHAKEDOWN_BENCH_MB` changes it).
//!
//! Groups: `read` (capture reader only), `decode` (+ frame decoding), `flow` (+ a flow table and
//! TCP reassembly per direction, then the whole `Dissector`), `tls` (one `TlsConnection` fed a
//! recorded handshake and bulk stream), `pipeline` (`analyze` over the whole capture, and
//! `analyze_parallel` on 2 and on all cores, over a stream that one more thread cuts into
//! stretches and over bytes every thread reads stretches of) and `many_small_files` (`analyze`
//! over 200 small captures held in memory).

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shakedown::capture::CaptureReader;
use shakedown::decode::{Decoded, Decoder};
use shakedown::tcp::{Budget, Chunk, Reassembler};
use shakedown::tls::TlsConnection;
use shakedown::{Config, Dissector, Side, Verdict, analyze, analyze_parallel};
use shakedown_benches::synth::{Format, GenConfig, generate_vec, tls_conversation};

fn bench_mb() -> u64 {
    std::env::var("SHAKEDOWN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn capture() -> &'static [u8] {
    use std::sync::OnceLock;
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let cfg = GenConfig {
            seed: 1,
            size: bench_mb() << 20,
            format: Format::Pcap,
        };
        generate_vec(&cfg)
    })
}

fn configure<'c>(
    c: &'c mut Criterion,
    name: &str,
    bytes: u64,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Bytes(bytes));
    g
}

fn read(c: &mut Criterion) {
    let data = capture();
    let mut g = configure(c, "read", data.len() as u64);
    g.bench_function("frames", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(data).expect("capture");
            let mut n = 0usize;
            while let Some(f) = r.next_frame().expect("frame") {
                n += f.data.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let data = capture();
    let config = Config::default();
    let mut g = configure(c, "decode", data.len() as u64);
    g.bench_function("frames+decode", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(data).expect("capture");
            let mut d = Decoder::new(&config);
            let mut n = 0usize;
            while let Some(f) = r.next_frame().expect("frame") {
                if let Decoded::Tcp(s) = d.decode(&f) {
                    n += s.payload.len();
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

type Key = (IpAddr, u16, IpAddr, u16);

fn flow(c: &mut Criterion) {
    let data = capture();
    let config = Config::default();
    let mut g = configure(c, "flow", data.len() as u64);
    // A plain HashMap flow table with one Reassembler per direction: decode + reassembly cost
    // without the protocol layers (the library's own FlowTable is private).
    g.bench_function("decode+reassembly", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(data).expect("capture");
            let mut d = Decoder::new(&config);
            let mut table: HashMap<Key, Reassembler> = HashMap::new();
            let mut budget = Budget::new(64 << 20);
            let mut delivered = 0u64;
            while let Some(f) = r.next_frame().expect("frame") {
                let Decoded::Tcp(s) = d.decode(&f) else {
                    continue;
                };
                let key = (s.src, s.src_port, s.dst, s.dst_port);
                if s.flags.rst() {
                    table.remove(&key);
                    continue;
                }
                let re = table
                    .entry(key)
                    .or_insert_with(|| Reassembler::new(1 << 20));
                if s.flags.syn() {
                    re.start(s.seq);
                }
                let seq = s.seq.wrapping_add(u32::from(s.flags.syn()));
                re.segment(seq, s.payload, &mut budget, &mut |c| {
                    if let Chunk::Data(b) = c {
                        delivered += b.len() as u64;
                    }
                });
                if s.flags.fin() {
                    let mut re = table.remove(&key).expect("present");
                    re.flush(&mut budget, &mut |_| {});
                }
            }
            black_box((delivered, table.len()))
        })
    });
    g.bench_function("dissector", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(data).expect("capture");
            let mut dis = Dissector::new(config.clone());
            let mut events = 0usize;
            while let Some(f) = r.next_frame().expect("frame") {
                dis.handle_frame(&f);
                while dis.poll_event().is_some() {
                    events += 1;
                }
            }
            dis.finish();
            while dis.poll_event().is_some() {
                events += 1;
            }
            black_box(events)
        })
    });
    g.finish();
}

fn tls(c: &mut Criterion) {
    let config = Config::default();
    // With bulk, the layer mostly walks record headers once the handshake is settled; without,
    // nearly every byte is handshake parsing (hellos, extensions, the certificate).
    for (name, tls13, bulk) in [
        ("tls13_handshake+16MB", true, 16 << 20),
        ("tls12_handshake+16MB", false, 16 << 20),
        ("tls13_handshake_only", true, 1),
        ("tls12_handshake_only", false, 1),
    ] {
        let conv = tls_conversation(7, tls13, bulk);
        let bytes: u64 = conv.iter().map(|(_, b)| b.len() as u64).sum();
        let mut g = configure(c, "tls", bytes);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut t = TlsConnection::new(config.max_handshake_message);
                let mut out = Vec::new();
                let mut events = 0usize;
                for (from_server, seg) in &conv {
                    let side = if *from_server {
                        Side::Server
                    } else {
                        Side::Client
                    };
                    t.feed(side, seg, &mut out);
                    events += out.len();
                    out.clear();
                }
                black_box((events, t.version()))
            })
        });
        g.finish();
    }
}

fn pipeline(c: &mut Criterion) {
    let data = capture();
    let config = Config::default();
    let mut g = configure(c, "pipeline", data.len() as u64);
    g.bench_function("analyze", |b| {
        b.iter(|| {
            let mut r = CaptureReader::new(data).expect("capture");
            let mut v: Vec<Verdict> = Vec::new();
            let s = analyze(&mut r, &config, &mut v).expect("analyze");
            black_box((s.connections, v.len()))
        })
    });
    // The same on several threads, the verdicts those of `analyze`: the capture read as a stream
    // (a slice of bytes cannot be read at offsets), cut into stretches by one more thread.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let mut counts = vec![2];
    if cores > 2 {
        counts.push(cores);
    }
    // Bytes that can be read at any offset (a file, or memory as here): every thread reads its
    // stretches of the capture itself.
    let shared: shakedown::capture::SharedBytes = std::sync::Arc::new(data.to_vec());
    for workers in counts {
        g.bench_function(format!("analyze_parallel_{workers}"), |b| {
            b.iter(|| {
                let mut r = CaptureReader::new(data).expect("capture");
                let mut v: Vec<Verdict> = Vec::new();
                let s = analyze_parallel(&mut r, &config, workers, &mut v).expect("analyze");
                black_box((s.connections, v.len()))
            })
        });
        g.bench_function(format!("analyze_parallel_{workers}_stretches"), |b| {
            b.iter(|| {
                let mut r = CaptureReader::from_shared(shared.clone()).expect("capture");
                let mut v: Vec<Verdict> = Vec::new();
                let s = analyze_parallel(&mut r, &config, workers, &mut v).expect("analyze");
                black_box((s.connections, v.len()))
            })
        });
    }
    g.finish();
}

fn many_small_files(c: &mut Criterion) {
    let files: Vec<Vec<u8>> = (1..=200)
        .map(|seed| {
            generate_vec(&GenConfig {
                seed,
                size: 64 << 10,
                format: Format::Pcapng,
            })
        })
        .collect();
    let bytes: u64 = files.iter().map(|f| f.len() as u64).sum();
    let config = Config::default();
    let mut g = configure(c, "many_small_files", bytes);
    g.bench_function("analyze_200x64KiB", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &files {
                let mut r = CaptureReader::new(&f[..]).expect("capture");
                let mut v: Vec<Verdict> = Vec::new();
                analyze(&mut r, &config, &mut v).expect("analyze");
                n += v.len();
            }
            black_box(n)
        })
    });
    // Side by side on every core, one capture per thread at a time (what the CLI does with several
    // small captures).
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    g.bench_function(format!("analyze_200x64KiB_side_by_side_{cores}"), |b| {
        b.iter(|| {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let total = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for _ in 0..cores {
                    scope.spawn(|| {
                        while let Some(f) =
                            files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                        {
                            let mut r = CaptureReader::new(&f[..]).expect("capture");
                            let mut v: Vec<Verdict> = Vec::new();
                            analyze(&mut r, &config, &mut v).expect("analyze");
                            total.fetch_add(v.len(), std::sync::atomic::Ordering::Relaxed);
                        }
                    });
                }
            });
            black_box(total.into_inner())
        })
    });
    // The fixed cost per capture: opening the reader and making a Dissector, no frames.
    g.bench_function("open_only_200", |b| {
        b.iter(|| {
            for f in &files {
                let r = CaptureReader::new(&f[..]).expect("capture");
                let d = Dissector::new(config.clone());
                black_box((&r, &d));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, read, decode, flow, tls, pipeline, many_small_files);
criterion_main!(benches);
