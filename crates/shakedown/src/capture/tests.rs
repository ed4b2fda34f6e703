//! Byte fixtures for every format, byte order, precision and block type; truncation sweeps;
//! garbage; compressed input; and the public corpus.

use std::io::{self, Read};

use super::*;
use crate::decrypt::Label;

// ---------- fixture builders ----------

fn put32(v: &mut Vec<u8>, order: ByteOrder, x: u32) {
    v.extend_from_slice(&match order {
        ByteOrder::Little => x.to_le_bytes(),
        ByteOrder::Big => x.to_be_bytes(),
    });
}

fn put16(v: &mut Vec<u8>, order: ByteOrder, x: u16) {
    v.extend_from_slice(&match order {
        ByteOrder::Little => x.to_le_bytes(),
        ByteOrder::Big => x.to_be_bytes(),
    });
}

/// A pcap file: `magic` as a number written in `order`, then records (sec, frac, data, orig_len).
fn pcap(
    order: ByteOrder,
    magic: u32,
    snaplen: u32,
    link: u32,
    recs: &[(u32, u32, &[u8], u32)],
) -> Vec<u8> {
    let modified = magic == 0xa1b2_cd34;
    let mut v = Vec::new();
    put32(&mut v, order, magic);
    put16(&mut v, order, 2);
    put16(&mut v, order, 4);
    put32(&mut v, order, 0);
    put32(&mut v, order, 0);
    put32(&mut v, order, snaplen);
    put32(&mut v, order, link);
    for &(s, f, d, o) in recs {
        put32(&mut v, order, s);
        put32(&mut v, order, f);
        put32(&mut v, order, d.len() as u32);
        put32(&mut v, order, o);
        if modified {
            v.extend_from_slice(&[9, 9, 9, 9, 8, 0, 1, 0]);
        }
        v.extend_from_slice(d);
    }
    v
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// A pcapng block with the given body (padded), framed by its two lengths.
fn block(order: ByteOrder, btype: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    pad4(&mut b);
    let len = b.len() as u32 + 12;
    let mut v = Vec::new();
    put32(&mut v, order, btype);
    put32(&mut v, order, len);
    v.extend_from_slice(&b);
    put32(&mut v, order, len);
    v
}

fn shb(order: ByteOrder) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, order, 0x1a2b_3c4d);
    put16(&mut body, order, 1);
    put16(&mut body, order, 0);
    body.extend_from_slice(&[0xff; 8]);
    block(order, 0x0a0d_0d0a, &body)
}

fn option(order: ByteOrder, code: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    put16(&mut v, order, code);
    put16(&mut v, order, value.len() as u16);
    v.extend_from_slice(value);
    pad4(&mut v);
    v
}

fn idb(
    order: ByteOrder,
    link: u16,
    snaplen: u32,
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, order, link);
    put16(&mut body, order, 0);
    put32(&mut body, order, snaplen);
    let mut opts = Vec::new();
    if let Some(r) = tsresol {
        opts.extend(option(order, 9, &[r]));
    }
    if let Some(o) = tsoffset {
        let b = match order {
            ByteOrder::Little => o.to_le_bytes(),
            ByteOrder::Big => o.to_be_bytes(),
        };
        opts.extend(option(order, 14, &b));
    }
    if !opts.is_empty() {
        body.extend(opts);
        body.extend(option(order, 0, &[]));
    }
    block(order, 1, &body)
}

fn epb(order: ByteOrder, if_id: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, order, if_id);
    put32(&mut body, order, (ts >> 32) as u32);
    put32(&mut body, order, ts as u32);
    put32(&mut body, order, data.len() as u32);
    put32(&mut body, order, orig);
    body.extend_from_slice(data);
    block(order, 6, &body)
}

fn spb(order: ByteOrder, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, order, orig);
    body.extend_from_slice(data);
    block(order, 3, &body)
}

fn obsolete_pb(order: ByteOrder, if_id: u16, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, order, if_id);
    put16(&mut body, order, 0);
    put32(&mut body, order, (ts >> 32) as u32);
    put32(&mut body, order, ts as u32);
    put32(&mut body, order, data.len() as u32);
    put32(&mut body, order, orig);
    body.extend_from_slice(data);
    block(order, 2, &body)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    index: u64,
    ts: i64,
    link: u32,
    interface: u32,
    data: Vec<u8>,
    orig_len: u32,
}

impl Owned {
    fn of(f: &Frame<'_>) -> Self {
        Owned {
            index: f.index,
            ts: f.ts.as_nanos(),
            link: f.link_type.0,
            interface: f.interface,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        }
    }
}

/// Reads everything; the iteration bound turns a spinning reader into a test failure.
fn read_all<R: Read>(r: &mut CaptureReader<R>) -> Result<Vec<Owned>, CaptureError> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        match r.next_frame()? {
            Some(f) => out.push(Owned::of(&f)),
            None => {
                assert!(r.next_frame()?.is_none(), "None must be sticky");
                return Ok(out);
            }
        }
    }
    panic!("reader did not end");
}

fn frames_of(bytes: &[u8]) -> (Vec<Owned>, Option<Truncation>, CaptureDescription) {
    let mut r = CaptureReader::new(bytes).unwrap();
    let f = read_all(&mut r).unwrap();
    (f, r.truncation().cloned(), r.description().clone())
}

/// What the Decryption Secrets Blocks held, once the whole capture was read.
fn secrets_of(bytes: &[u8]) -> pcapng::Embedded {
    let mut r = CaptureReader::new(bytes).unwrap();
    read_all(&mut r).unwrap();
    r.embedded.clone()
}

const LE: ByteOrder = ByteOrder::Little;
const BE: ByteOrder = ByteOrder::Big;

// ---------- pcap ----------

#[test]
fn pcap_both_orders_and_precisions() {
    for order in [LE, BE] {
        for (magic, mult, units) in [
            (0xa1b2_c3d4u32, 1000, 1_000_000),
            (0xa1b2_3c4d, 1, 1_000_000_000),
        ] {
            let bytes = pcap(
                order,
                magic,
                65535,
                1,
                &[(10, 5, b"abcd", 60), (0xffff_fff0, 999_999, b"xy", 2)],
            );
            let (f, t, d) = frames_of(&bytes);
            assert!(t.is_none());
            assert_eq!(f.len(), 2);
            assert_eq!(
                f[0],
                Owned {
                    index: 1,
                    ts: 10_000_000_000 + 5 * mult,
                    link: 1,
                    interface: 0,
                    data: b"abcd".to_vec(),
                    orig_len: 60
                }
            );
            // ts_sec is unsigned: 0xfffffff0 is in 2106, not before 1970.
            assert_eq!(f[1].ts, 0xffff_fff0i64 * 1_000_000_000 + 999_999 * mult);
            assert_eq!((f[1].index, &f[1].data[..]), (2, &b"xy"[..]));
            assert_eq!(d.format, CaptureFormat::Pcap);
            assert_eq!(d.byte_order, order);
            assert_eq!(d.interfaces[0].ts_units_per_sec, units);
            assert_eq!(d.interfaces[0].snaplen, 65535);
        }
    }
}

#[test]
fn modified_pcap_both_orders() {
    for order in [LE, BE] {
        let bytes = pcap(
            order,
            0xa1b2_cd34,
            65535,
            1,
            &[(1, 2, b"hello", 5), (3, 4, b"", 0)],
        );
        let (f, t, d) = frames_of(&bytes);
        assert!(t.is_none());
        assert_eq!(d.format, CaptureFormat::ModifiedPcap);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].data, b"hello");
        assert_eq!(f[0].ts, 1_000_002_000);
        assert_eq!(f[1].data, b"");
    }
}

#[test]
fn pcap_linktype_fcs_bits_are_masked() {
    let bytes = pcap(
        LE,
        0xa1b2_c3d4,
        65535,
        0x1000_0000 | 276,
        &[(1, 0, b"x", 1)],
    );
    let (f, _, _) = frames_of(&bytes);
    assert_eq!(f[0].link, 276);
}

#[test]
fn header_only_pcap_is_zero_frames() {
    let bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[]);
    let (f, t, _) = frames_of(&bytes);
    assert!(f.is_empty() && t.is_none());
}

#[test]
fn absurd_record_length_is_truncation_keeping_earlier_frames() {
    let mut bytes = pcap(
        LE,
        0xa1b2_c3d4,
        65535,
        1,
        &[(1, 0, b"one", 3), (2, 0, b"two", 3)],
    );
    let bad_at = bytes.len() as u64;
    bytes.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0x42, 0]);
    bytes.extend_from_slice(&[0; 100]);
    let (f, t, _) = frames_of(&bytes);
    assert_eq!(f.len(), 2);
    let t = t.expect("truncation");
    assert_eq!((t.frames_read, t.byte_offset), (2, bad_at));
    assert!(t.reason.contains("4325376-byte packet"), "{}", t.reason);
}

#[test]
fn unsupported_pcap_version() {
    let mut bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[]);
    bytes[4] = 1;
    let e = CaptureReader::new(&bytes[..]).unwrap_err();
    assert!(
        matches!(e, CaptureError::UnsupportedVersion { major: 1, .. }),
        "{e}"
    );
}

/// Three records, the middle one of 3 MiB (bigger than the reader's window).
fn big_record_pcap() -> Vec<u8> {
    let big = vec![7u8; 3 << 20];
    pcap(
        LE,
        0xa1b2_c3d4,
        8 << 20,
        1,
        &[(1, 0, b"a", 1), (2, 0, &big, 3 << 20), (3, 0, b"b", 1)],
    )
}

#[test]
fn large_record_grows_the_window() {
    let bytes = big_record_pcap();
    let (f, t, _) = frames_of(&bytes);
    assert!(t.is_none());
    assert_eq!(f.len(), 3);
    assert_eq!(f[1].data.len(), 3 << 20);
    assert_eq!(f[2].data, b"b");
}

// ---------- pcapng ----------

#[test]
fn pcapng_basic_both_orders() {
    for order in [LE, BE] {
        let mut bytes = shb(order);
        bytes.extend(idb(order, 1, 0, None, None));
        bytes.extend(epb(order, 0, 1_500_000_123_456, b"abc", 3));
        bytes.extend(epb(order, 0, 7, b"", 0));
        let (f, t, d) = frames_of(&bytes);
        assert!(t.is_none());
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0],
            Owned {
                index: 1,
                ts: 1_500_000_123_456_000,
                link: 1,
                interface: 0,
                data: b"abc".to_vec(),
                orig_len: 3
            }
        );
        assert_eq!(f[1].ts, 7_000);
        assert_eq!(
            (d.format, d.byte_order, d.sections, d.interface_count),
            (CaptureFormat::PcapNg, order, 1, 1)
        );
        assert!(!d.mixed_byte_order);
    }
}

#[test]
fn pcapng_sections_of_both_orders_reset_interfaces() {
    let mut bytes = shb(LE);
    bytes.extend(idb(LE, 1, 0, None, None));
    bytes.extend(idb(LE, 113, 0, Some(9), None));
    bytes.extend(epb(LE, 1, 5, b"s1i1", 4));
    bytes.extend(shb(BE));
    bytes.extend(idb(BE, 101, 0, None, None));
    bytes.extend(epb(BE, 0, 5, b"s2i0", 4));
    bytes.extend(shb(LE));
    bytes.extend(idb(LE, 276, 0, None, None));
    bytes.extend(epb(LE, 0, 6, b"s3", 2));
    // In section 3 only one interface exists: interface 1 is damage.
    bytes.extend(epb(LE, 1, 6, b"bad", 3));
    let (f, t, d) = frames_of(&bytes);
    let seen: Vec<(u32, u32, i64)> = f.iter().map(|f| (f.link, f.interface, f.ts)).collect();
    assert_eq!(seen, vec![(113, 1, 5), (101, 2, 5_000), (276, 3, 6_000)]);
    assert_eq!(
        (d.sections, d.interface_count, d.mixed_byte_order),
        (3, 4, true)
    );
    assert_eq!(d.interfaces[2].section, 1);
    let t = t.expect("bad interface id is damage");
    assert!(t.reason.contains("interface 1"), "{}", t.reason);
    assert_eq!(t.frames_read, 3);
}

#[test]
fn pcapng_tsresol_and_tsoffset_exact() {
    for order in [LE, BE] {
        let mut bytes = shb(order);
        bytes.extend(idb(order, 1, 0, Some(9), Some(-10)));
        bytes.extend(idb(order, 1, 0, Some(0x80 | 20), Some(1_000)));
        bytes.extend(idb(order, 1, 0, Some(3), None));
        bytes.extend(idb(order, 1, 0, Some(12), None));
        bytes.extend(epb(order, 0, 1_700_000_000_123_456_789, b"", 0));
        bytes.extend(epb(order, 1, (5 << 20) | (1 << 19), b"", 0)); // 5.5 s in 2^-20 units
        bytes.extend(epb(order, 2, 1_234, b"", 0)); // ms
        bytes.extend(epb(order, 3, 1_234_567, b"", 0)); // ps: rounds down to ns
        let (f, t, d) = frames_of(&bytes);
        assert!(t.is_none());
        let ts: Vec<i64> = f.iter().map(|f| f.ts).collect();
        assert_eq!(
            ts,
            vec![
                1_700_000_000_123_456_789 - 10_000_000_000,
                1_005_500_000_000,
                1_234_000_000,
                1_234
            ]
        );
        assert_eq!(d.interfaces[1].ts_units_per_sec, 1 << 20);
        assert_eq!(d.interfaces[1].ts_offset_secs, 1_000);
        assert_eq!(d.interfaces[0].ts_offset_secs, -10);
        assert_eq!(d.uniform_ts_units(), None);
    }
}

#[test]
fn ts_units_covers_both_bases() {
    assert_eq!(pcapng::ts_units(6), Some(1_000_000));
    assert_eq!(pcapng::ts_units(19), Some(10_000_000_000_000_000_000));
    assert_eq!(pcapng::ts_units(20), None);
    assert_eq!(pcapng::ts_units(0x80 | 10), Some(1024));
    assert_eq!(pcapng::ts_units(0x80 | 63), Some(1 << 63));
    assert_eq!(pcapng::ts_units(0x80 | 64), None);
    assert_eq!(pcapng::ng_timestamp(u64::MAX, 1, i64::MAX).0, i64::MAX);
}

#[test]
fn spb_and_obsolete_pb_and_skipped_blocks() {
    for order in [LE, BE] {
        let mut bytes = shb(order);
        bytes.extend(block(order, 0x0000_0bad, b"\0\0\x7f\x1acustom")); // Custom Block: not a frame
        bytes.extend(idb(order, 1, 4, None, None));
        bytes.extend(block(order, 4, &[0, 0, 0, 0])); // NRB with only opt_endofopt
        bytes.extend(epb(order, 0, 2_000_000, b"epb", 3));
        bytes.extend(spb(order, b"abcdef", 6)); // snaplen 4 cuts it
        bytes.extend(spb(order, b"ab", 2)); // 2 bytes + 2 padding: caplen is orig len
        bytes.extend(block(order, 0x4000_0bad, b"\0\0\x7f\x1a")); // do-not-copy Custom Block
        bytes.extend(block(order, 0x1234_5678, b"unknown block"));
        bytes.extend(obsolete_pb(order, 0, 3_000_000, b"old", 30));
        let (f, t, _) = frames_of(&bytes);
        assert!(t.is_none());
        let seen: Vec<(u64, &[u8], u32, i64)> = f
            .iter()
            .map(|f| (f.index, &f.data[..], f.orig_len, f.ts))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1, &b"epb"[..], 3, 2_000_000_000),
                (2, &b"abcd"[..], 6, 2_000_000_000),
                (3, &b"ab"[..], 2, 2_000_000_000),
                (4, &b"old"[..], 30, 3_000_000_000)
            ]
        );
    }
}

#[test]
fn packets_before_any_interface_are_damage() {
    let mut bytes = shb(LE);
    bytes.extend(spb(LE, b"ab", 2));
    let (f, t, _) = frames_of(&bytes);
    assert!(f.is_empty());
    assert!(t.unwrap().reason.contains("interface 0"));
}

#[test]
fn block_length_mismatch_and_bad_length_are_damage() {
    let mut good = shb(LE);
    good.extend(idb(LE, 1, 0, None, None));
    good.extend(epb(LE, 0, 1, b"ok", 2));
    let mut bad = good.clone();
    let mut b = epb(LE, 0, 1, b"xx", 2);
    let n = b.len();
    b[n - 4] ^= 4;
    bad.extend(b);
    let (f, t, _) = frames_of(&bad);
    assert_eq!(f.len(), 1);
    assert!(t.unwrap().reason.contains("disagree"));

    let mut bad = good.clone();
    bad.extend([6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (f, t, _) = frames_of(&bad);
    assert_eq!(f.len(), 1);
    assert!(t.unwrap().reason.contains("impossible length"));

    let mut bad = good;
    bad.extend([6, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0]);
    let (f, t, _) = frames_of(&bad);
    assert_eq!(f.len(), 1);
    assert!(t.unwrap().reason.contains("limit"));
}

#[test]
fn epb_caplen_beyond_block_is_damage() {
    let mut bytes = shb(LE);
    bytes.extend(idb(LE, 1, 0, None, None));
    let mut b = epb(LE, 0, 1, b"abcd", 4);
    b[20] = 200; // caplen
    bytes.extend(b);
    let (f, t, _) = frames_of(&bytes);
    assert!(f.is_empty());
    assert!(t.unwrap().reason.contains("more than it holds"));
}

#[test]
fn damaged_huge_length_does_not_allocate_the_claimed_size() {
    let mut bytes = shb(LE);
    bytes.extend(idb(LE, 1, 0, None, None));
    bytes.extend([6, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0]); // claims 48 MiB
    bytes.extend(vec![0u8; 3 << 20]); // but only 3 MiB follow
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    assert!(r.next_frame().unwrap().is_none());
    assert!(
        r.truncation()
            .unwrap()
            .reason
            .contains("inside a enhanced packet block")
    );
    assert!(
        r.window.capacity() <= 8 << 20,
        "window grew to {}",
        r.window.capacity()
    );
}

#[test]
fn reader_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<CaptureReader<Box<dyn Read + Send>>>();
}

// ---------- errors ----------

#[test]
fn empty_and_garbage_and_short_headers() {
    assert!(matches!(
        CaptureReader::new(&b""[..]),
        Err(CaptureError::Empty)
    ));
    let e = CaptureReader::new(&b"GET / HTTP/1.1\r\n"[..]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a pcap or pcapng capture (starts with 0x47455420; expected a pcap, pcapng, gzip or zstd magic)"
    );
    assert!(matches!(
        CaptureReader::new(&b"ab"[..]),
        Err(CaptureError::NotACapture {
            magic: [b'a', b'b', 0, 0]
        })
    ));
    assert!(matches!(
        CaptureReader::new(&[0xd4, 0xc3][..]),
        Err(CaptureError::TruncatedHeader {
            format: "pcap",
            need: 24,
            have: 2
        })
    ));
    let mut bad_bom = shb(LE);
    bad_bom[8] = 0;
    assert!(matches!(
        CaptureReader::new(&bad_bom[..]),
        Err(CaptureError::BadHeader { .. })
    ));
    let mut v2 = shb(LE);
    v2[12] = 2;
    assert!(matches!(
        CaptureReader::new(&v2[..]),
        Err(CaptureError::UnsupportedVersion {
            format: "pcapng",
            major: 2,
            ..
        })
    ));
}

#[test]
fn open_rejects_directories_and_missing_files() {
    assert!(matches!(
        open(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))),
        Err(CaptureError::IsADirectory)
    ));
    assert!(matches!(
        open(std::path::Path::new("/nonexistent/x.pcap")),
        Err(CaptureError::Open { .. })
    ));
}

/// Gives at most one byte per read, and fails after `fail_after` bytes if set.
struct Trickle<'a> {
    data: &'a [u8],
    fail_after: Option<usize>,
    given: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_after.is_some_and(|n| self.given >= n) {
            return Err(io::Error::other("disk on fire"));
        }
        match (self.data.get(self.given), buf.first_mut()) {
            (Some(b), Some(slot)) => {
                *slot = *b;
                self.given += 1;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn sample_pcapng() -> Vec<u8> {
    let mut bytes = shb(LE);
    bytes.extend(idb(LE, 1, 0, Some(9), None));
    bytes.extend(epb(LE, 0, 1, b"first", 5));
    bytes.extend(block(LE, 5, &[0; 12]));
    bytes.extend(spb(LE, b"second", 6));
    bytes.extend(shb(BE));
    bytes.extend(idb(BE, 101, 0, None, None));
    bytes.extend(epb(BE, 0, 2, b"third", 5));
    bytes
}

#[test]
fn short_reads_give_the_same_frames() {
    let bytes = sample_pcapng();
    let (whole, _, _) = frames_of(&bytes);
    assert_eq!(whole.len(), 3);
    let mut r = CaptureReader::new(Trickle {
        data: &bytes,
        fail_after: None,
        given: 0,
    })
    .unwrap();
    assert_eq!(read_all(&mut r).unwrap(), whole);
    assert_eq!(r.bytes_read(), bytes.len() as u64);
    assert_eq!(r.frames_read(), 3);
}

#[test]
fn input_errors_are_errors() {
    let bytes = sample_pcapng();
    let mut r = CaptureReader::new(Trickle {
        data: &bytes,
        fail_after: Some(100),
        given: 0,
    })
    .unwrap();
    let e = read_all(&mut r).unwrap_err();
    assert!(matches!(e, CaptureError::Io { .. }), "{e}");
    assert!(r.next_frame().unwrap().is_none());
}

/// Every prefix: a clean header error, or frames that are a prefix of the full list, with the
/// truncation flag set exactly when the cut is not at a record boundary.
fn sweep(bytes: &[u8], boundaries: &[usize], header_len: usize) {
    let (whole, _, _) = frames_of(bytes);
    for len in 0..=bytes.len() {
        match CaptureReader::new(&bytes[..len]) {
            Err(e) => assert!(len < header_len, "prefix {len}: {e}"),
            Ok(mut r) => {
                let f = read_all(&mut r).unwrap();
                assert_eq!(&whole[..f.len()], &f[..], "prefix {len}");
                assert_eq!(
                    r.truncation().is_some(),
                    !boundaries.contains(&len),
                    "prefix {len}"
                );
            }
        }
    }
}

#[test]
fn truncation_sweep_pcap() {
    let bytes = pcap(
        BE,
        0xa1b2_3c4d,
        65535,
        1,
        &[(1, 0, b"abc", 3), (2, 0, b"", 0), (3, 0, b"defgh", 9)],
    );
    sweep(&bytes, &[24, 24 + 19, 24 + 19 + 16, bytes.len()], 24);
}

#[test]
fn truncation_sweep_pcapng() {
    let bytes = sample_pcapng();
    let mut boundaries = Vec::new();
    let mut at = 0;
    // Walk the block lengths (byte order per section) to list the boundaries.
    while at < bytes.len() {
        let be = bytes[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d]
            || (bytes[at] == 0 && bytes[at + 4] == 0);
        let l = if be {
            u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap())
        } else {
            u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap())
        };
        at += l as usize;
        boundaries.push(at);
    }
    assert_eq!(at, bytes.len());
    sweep(&bytes, &boundaries, 28);
}

#[test]
fn pseudo_random_garbage_never_panics_or_hangs() {
    let base = sample_pcapng();
    let mut x: u32 = 12345;
    for _ in 0..2000 {
        let mut b = base.clone();
        for _ in 0..3 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (x as usize >> 8) % b.len();
            b[i] = (x >> 24) as u8;
        }
        if let Ok(mut r) = CaptureReader::new(&b[..]) {
            let _ = read_all(&mut r);
        }
    }
}

// ---------- compression ----------

#[test]
fn gzip_input() {
    use flate2::{Compression as Level, write::GzEncoder};
    use std::io::Write;
    let bytes = sample_pcapng();
    let mut enc = GzEncoder::new(Vec::new(), Level::default());
    enc.write_all(&bytes).unwrap();
    let gz = enc.finish().unwrap();
    let (whole, _, _) = frames_of(&bytes);
    let mut r = CaptureReader::new(&gz[..]).unwrap();
    assert_eq!(read_all(&mut r).unwrap(), whole);
    assert!(r.truncation().is_none());
    assert_eq!(r.description().compression, Compression::Gzip);
    assert_eq!(r.bytes_read(), gz.len() as u64);
    assert!(
        r.description()
            .to_string()
            .starts_with("pcapng (gzip), mixed byte order, 2 sections")
    );

    // Every prefix of the compressed file: an error before the header, else frames + truncation.
    for len in 0..gz.len() {
        match CaptureReader::new(&gz[..len]) {
            Err(_) => {}
            Ok(mut r) => {
                let f = read_all(&mut r).unwrap();
                assert_eq!(&whole[..f.len()], &f[..]);
                assert!(r.truncation().is_some(), "gzip prefix {len}");
            }
        }
    }

    let mut enc = GzEncoder::new(Vec::new(), Level::default());
    enc.write_all(b"hello world").unwrap();
    let gz = enc.finish().unwrap();
    assert!(
        matches!(CaptureReader::new(&gz[..]), Err(CaptureError::NotACapture { magic }) if &magic == b"hell")
    );
    let gz = GzEncoder::new(Vec::new(), Level::default())
        .finish()
        .unwrap();
    assert!(matches!(
        CaptureReader::new(&gz[..]),
        Err(CaptureError::Empty)
    ));
    assert!(matches!(
        CaptureReader::new(&[0x1f, 0x8b, 0, 0, 0][..]),
        Err(CaptureError::Decompress { .. })
    ));
}

#[test]
fn zstd_input() {
    let bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[(1, 0, b"zstd!", 5)]);
    let z =
        ruzstd::encoding::compress_to_vec(&bytes[..], ruzstd::encoding::CompressionLevel::Fastest);
    let mut r = CaptureReader::new(&z[..]).unwrap();
    let f = read_all(&mut r).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].data, b"zstd!");
    assert_eq!(r.description().compression, Compression::Zstd);
}

#[test]
fn link_type_names() {
    assert_eq!(LinkType::LINUX_SLL2.to_string(), "LINUX_SLL2");
    assert_eq!(LinkType(147).to_string(), "linktype 147");
    assert!(
        LinkType::RAW.is_raw_ip() && LinkType(14).is_raw_ip() && !LinkType::ETHERNET.is_raw_ip()
    );
}

// ---------- the public corpus ----------

#[test]
fn corpus_frame_counts_match_capinfos() {
    let dir = std::env::var_os("SHAKEDOWN_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if !dir.is_dir() {
        println!("corpus folder {} absent: skipped", dir.display());
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::path::PathBuf::from(format!("{}.expected.json", p.display())).exists() {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 50,
        "only {} captures under {}",
        files.len(),
        dir.display()
    );
    let mut failures = Vec::new();
    let mut times_checked = 0;
    for p in &files {
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(format!("{}.expected.json", p.display())).unwrap(),
        )
        .unwrap();
        let cap = &json["capture"];
        let damaged = cap["capinfos_error"].is_string();
        let want = if damaged {
            cap["packets_read_before_error"].as_u64()
        } else {
            cap["packets"].as_u64()
        };
        let mut stamps = Vec::new();
        let got = open(p).and_then(|mut r| {
            let frames = read_all(&mut r)?;
            stamps = frames.iter().map(|f| f.ts).collect();
            let n = frames.len() as u64;
            println!("{}: {n} frames, {}", p.display(), r.description());
            if let Some(t) = r.truncation() {
                println!("    {t}");
            }
            Ok((n, r.truncation().is_some()))
        });
        match got {
            Ok((n, trunc)) if Some(n) == want && trunc == damaged => {}
            other => failures.push(format!(
                "{}: want {want:?} damaged={damaged}, got {other:?}",
                p.display()
            )),
        }
        // TShark's epoch times of the frames it names (first frame of each connection, first FIN).
        let conns = json["connections"].as_array().cloned().unwrap_or_default();
        for c in &conns {
            let checks = [
                (&c["first_frame"], &c["start_epoch"]),
                (&c["first_fin"]["frame"], &c["first_fin"]["time"]),
            ];
            for (frame, time) in checks {
                let (Some(frame), Some(time)) = (frame.as_u64(), time.as_f64()) else {
                    continue;
                };
                let ours = stamps.get(frame as usize - 1).map(|ns| *ns as f64 / 1e9);
                times_checked += 1;
                if !ours.is_some_and(|t| (t - time).abs() < 2e-6) {
                    failures.push(format!(
                        "{}: frame {frame} time {ours:?}, tshark {time}",
                        p.display()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} disagree:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(
        times_checked > 100,
        "only {times_checked} timestamps compared"
    );
    println!(
        "{} corpus captures agree with capinfos; {times_checked} timestamps with TShark",
        files.len()
    );
}

/// Rough speed check (run with `--ignored --nocapture`, ideally `--release`).
#[test]
#[ignore]
fn throughput_many_small_packets() {
    let rec: Vec<(u32, u32, &[u8], u32)> = (0..500_000)
        .map(|i| (i, 0, &[0x55u8; 60][..], 60))
        .collect();
    let bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &rec);
    let t = std::time::Instant::now();
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    let mut n = 0u64;
    while let Some(f) = r.next_frame().unwrap() {
        n += f.data.len() as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.frames_read(), 500_000);
    println!(
        "{n} payload bytes, {:.0} MB/s",
        bytes.len() as f64 / secs / 1e6
    );
}

// ---------- stretches (a parallel analysis's reading) ----------

/// The capture in memory, read at offsets, giving at most `chunk` bytes a call (0: all asked).
struct Mem {
    bytes: Vec<u8>,
    chunk: usize,
}

impl ReadAt for Mem {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.bytes.get(o..))
            .unwrap_or(&[]);
        let mut n = rest.len().min(buf.len());
        if self.chunk > 0 {
            n = n.min(self.chunk);
        }
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// Reads the capture stretch after stretch, as the threads of a parallel analysis do together:
/// the frames, the truncation, and the error if reading failed.
fn frames_in_stretches(
    reader: &CaptureReader<&[u8]>,
    size: usize,
) -> (Vec<Owned>, Option<Truncation>, Option<CaptureError>) {
    let (f, t, e, _) = walk_in_stretches(reader, size);
    (f, t, e)
}

/// [`frames_in_stretches`], and how the last walk left the reading (pcapng: the description).
fn walk_in_stretches(
    reader: &CaptureReader<&[u8]>,
    size: usize,
) -> (
    Vec<Owned>,
    Option<Truncation>,
    Option<CaptureError>,
    Walking,
) {
    let stretches = reader
        .stretches(size)
        .expect("a plain capture read at offsets");
    let mut spare = Vec::new();
    let mut at = stretches.start();
    let mut walking = stretches.first_walking();
    let mut frames = Vec::new();
    for k in 0..10_000_000u64 {
        let mut fetched = stretches.fetch(k, &mut spare);
        let mut metas = Vec::new();
        let walked = fetched.walk(&stretches, k, at, &mut walking, |meta, index| {
            metas.push((meta, index))
        });
        for (meta, index) in &metas {
            frames.push(Owned::of(&fetched.frame(meta, *index)));
        }
        assert_eq!(walked.next.frames, at.frames + metas.len() as u64);
        at = walked.next;
        fetched.give_back(&mut spare, size, 4);
        match walked.end {
            None => {}
            Some(Ending::Clean) => return (frames, None, None, walking),
            Some(Ending::Damaged(t)) => return (frames, Some(t), None, walking),
            Some(Ending::Failed(e)) => return (frames, None, Some(e), walking),
        }
    }
    panic!("stretches did not end");
}

/// Reading `bytes` in stretches of each of `sizes`, with reads of at most 1 or 5 bytes or of all
/// asked, gives the frames, truncation and (pcapng) description the reader gives.
fn same_in_stretches(bytes: &[u8], sizes: &[usize]) {
    let (whole, truncation, description) = frames_of(bytes);
    let secrets = secrets_of(bytes);
    for &size in sizes {
        for chunk in [0, 1, 5] {
            let reader = CaptureReader::new(bytes)
                .unwrap()
                .with_read_at(Arc::new(Mem {
                    bytes: bytes.to_vec(),
                    chunk,
                }));
            let (f, t, e, walking) = walk_in_stretches(&reader, size);
            assert!(e.is_none(), "size {size}: {e:?}");
            assert_eq!(
                (&f, &t),
                (&whole, &truncation),
                "size {size}, chunk {chunk}"
            );
            let walked = walking.found();
            if description.format == CaptureFormat::PcapNg {
                assert_eq!(
                    walked.as_ref(),
                    Some(&(description.clone(), secrets.clone())),
                    "size {size}"
                );
            } else {
                assert!(walked.is_none());
            }
        }
    }
    let shared = CaptureReader::from_shared(Arc::new(bytes.to_vec())).unwrap();
    let stretches = shared
        .stretches(5)
        .expect("shared bytes are read in stretches");
    // pcap records start after the file header; pcapng blocks with the first section header.
    let start = if description.format == CaptureFormat::PcapNg {
        0
    } else {
        24
    };
    assert_eq!(stretches.start().offset, start);
}

#[test]
fn stretches_give_the_frames_the_reader_gives() {
    for order in [LE, BE] {
        for magic in [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34] {
            let bytes = pcap(
                order,
                magic,
                65535,
                1,
                &[
                    (1, 0, b"abc", 3),
                    (2, 0, b"", 0),
                    (3, 7, b"defgh", 9),
                    (2, 0, &[9; 300], 300),
                ],
            );
            same_in_stretches(&bytes, &[1, 2, 3, 7, 16, 19, 64, 1000, 1 << 18]);
            // Cut anywhere after the file header, and with a damaged length.
            for len in 24..bytes.len() {
                same_in_stretches(&bytes[..len], &[1, 7, 19, 64]);
            }
            let mut damaged = bytes.clone();
            damaged[24 + 19 + 8] = 0xff;
            damaged[24 + 19 + 11] = 0x7f;
            same_in_stretches(&damaged, &[1, 7, 19, 64, 1000]);
        }
    }
    let header_only = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[]);
    same_in_stretches(&header_only, &[1, 64]);
}

/// pcapng blocks of every kind the reader knows, in sections of both byte orders, read in
/// stretches: the same frames (interfaces, times, SPB lengths), the same description, and, cut
/// anywhere or damaged, the same truncation.
#[test]
fn pcapng_stretches_give_what_the_reader_gives() {
    let mut bytes = sample_pcapng();
    for order in [LE, BE] {
        bytes.extend(shb(order));
        bytes.extend(block(order, 0x0000_0bad, b"\0\0\x7f\x1acustom"));
        bytes.extend(idb(order, 1, 4, Some(9), Some(-10)));
        bytes.extend(idb(order, 113, 0, Some(0x80 | 20), None));
        bytes.extend(block(order, 4, &[0, 0, 0, 0]));
        bytes.extend(epb(order, 1, 7 << 20, b"epb on 1", 8));
        bytes.extend(spb(order, b"abcdef", 6));
        bytes.extend(obsolete_pb(order, 0, 3_000_000, b"old", 30));
        bytes.extend(block(order, 5, &[0; 12]));
        bytes.extend(epb(order, 0, 9, &[7; 300], 300));
    }
    let (whole, truncation, description) = frames_of(&bytes);
    assert_eq!((whole.len(), truncation), (11, None));
    assert_eq!((description.sections, description.interface_count), (4, 6));
    same_in_stretches(&bytes, &[1, 2, 3, 7, 16, 19, 64, 1000, 1 << 18]);
    // Cut anywhere after the first section header (the reader needs that one whole).
    for len in 28..bytes.len() {
        same_in_stretches(&bytes[..len], &[1, 7, 64]);
    }
    // Damage in each kind of block: an interface description's length and its if_tsresol, a
    // packet's interface id and captured length, a section header's byte-order magic, a simple
    // packet's length.
    let damage: [(usize, u8); 6] = [
        (32, 0x13),
        (48, 0x44),
        (68, 0x09),
        (80, 0xff),
        (156, 0x99),
        (132, 0xff),
    ];
    for (i, (at, value)) in damage.into_iter().enumerate() {
        let mut damaged = bytes.clone();
        damaged[at] = value;
        // All but the last are damage the reader stops at.
        assert_eq!(frames_of(&damaged).1.is_some(), i < 5, "damage at {at}");
        same_in_stretches(&damaged, &[1, 7, 19, 64, 1000]);
    }
    // Too many interfaces in a section is damage, at the same block.
    let mut many = shb(LE);
    for _ in 0..=MAX_INTERFACES_PER_SECTION {
        many.extend(idb(LE, 1, 0, None, None));
    }
    many.extend(epb(LE, 0, 1, b"never", 5));
    let (_, t, _) = frames_of(&many);
    assert!(t.is_some());
    same_in_stretches(&many, &[997, 1 << 16]);
}

#[test]
fn a_record_bigger_than_stretches_is_read_whole() {
    let bytes = big_record_pcap();
    let reader = CaptureReader::new(&bytes[..])
        .unwrap()
        .with_read_at(Arc::new(Mem {
            bytes: bytes.clone(),
            chunk: 0,
        }));
    let (f, t, e) = frames_in_stretches(&reader, 4096);
    assert!(t.is_none() && e.is_none());
    assert_eq!(f, frames_of(&bytes).0);
    assert_eq!(f[1].data.len(), 3 << 20);
}

#[test]
fn stretches_only_for_uncompressed_captures_read_at_offsets() {
    // Whether a reader of `capture` gives stretches, with or without a way to read at offsets.
    let stretchable = |capture: &[u8], at_offsets: bool| {
        let reader = CaptureReader::new(capture).unwrap();
        let reader = if at_offsets {
            reader.with_read_at(Arc::new(Mem {
                bytes: capture.to_vec(),
                chunk: 0,
            }))
        } else {
            reader
        };
        reader.stretches(64).is_some()
    };
    let bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[(1, 0, b"a", 1)]);
    // No way to read at offsets: none.
    assert!(!stretchable(&bytes, false));
    assert!(stretchable(&bytes, true));
    // pcapng too; compressed captures: none.
    assert!(stretchable(&sample_pcapng(), true));
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        e.write_all(&bytes).unwrap();
        e.finish().unwrap();
    }
    assert!(!stretchable(&gz, true));
}

#[test]
fn failing_reads_at_offsets_are_errors() {
    struct Failing;
    impl ReadAt for Failing {
        fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let bytes = pcap(LE, 0xa1b2_c3d4, 65535, 1, &[(1, 0, b"a", 1)]);
    let reader = CaptureReader::new(&bytes[..])
        .unwrap()
        .with_read_at(Arc::new(Failing));
    let (f, t, e) = frames_in_stretches(&reader, 64);
    assert!(f.is_empty() && t.is_none());
    assert!(matches!(e, Some(CaptureError::Io { .. })), "{e:?}");
}

// ---------- stream stretches (a parallel analysis's reading of compressed input and pipes) ----------

/// How cutting a stream into stretches of `size` bytes ended: the frames of every stretch in
/// order, the reader's truncation, the error, and the most records one stretch held.
fn cut_in_stretches<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    size: usize,
) -> (Vec<Owned>, Option<Truncation>, Option<CaptureError>, usize) {
    let given = reader.frames_read();
    let mut stream = StreamStretches::new(reader, size);
    let mut frames = Vec::new();
    let mut most = 0;
    for _ in 0..1_000_000 {
        let cut = stream.cut();
        let records = &cut.records;
        // Each stretch goes on from the frames before it.
        assert_eq!(cut.before, given + frames.len() as u64, "size {size}");
        let block_of = cut
            .blocks
            .iter()
            .flat_map(|(fetched, n)| std::iter::repeat_n(fetched, *n));
        for (i, (meta, fetched)) in records.iter().zip(block_of).enumerate() {
            let frame = fetched.frame(meta, cut.before + 1 + i as u64);
            frames.push(Owned::of(&frame));
        }
        assert_eq!(
            cut.blocks.iter().map(|(_, n)| n).sum::<usize>(),
            records.len()
        );
        most = most.max(records.len());
        match cut.end {
            None => {}
            Some(Ending::Clean) => return (frames, reader.truncation().cloned(), None, most),
            Some(Ending::Damaged(t)) => {
                assert_eq!(Some(&t), reader.truncation(), "size {size}");
                return (frames, Some(t), None, most);
            }
            Some(Ending::Failed(e)) => return (frames, None, Some(e), most),
        }
    }
    panic!("the stream was never cut to its end");
}

#[test]
fn stream_stretches_give_the_frames_the_reader_gives() {
    use std::io::Write;
    let gzip = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let plain_pcap = pcap(
        BE,
        0xa1b2_3c4d,
        65535,
        1,
        &[(1, 0, b"abc", 3), (2, 0, b"", 0), (3, 0, b"defgh", 9)],
    );
    let mut captures = vec![plain_pcap.clone(), sample_pcapng(), big_record_pcap()];
    captures.push(gzip(&sample_pcapng()));
    captures.push(gzip(&big_record_pcap()));
    // Cut anywhere, compressed or not: the same frames, cut short where the reader stops.
    for len in [24 + 19 + 7, plain_pcap.len() - 1] {
        captures.push(plain_pcap[..len].to_vec());
    }
    let gz = gzip(&sample_pcapng());
    captures.push(gz[..gz.len() - 9].to_vec());
    for capture in &captures {
        let (whole, truncation, _) = frames_of(capture);
        assert!(!whole.is_empty());
        for size in [1, 5, 64, 4096, 1 << 20] {
            let mut reader = CaptureReader::new(&capture[..]).unwrap();
            let (f, t, e, most) = cut_in_stretches(&mut reader, size);
            assert!(e.is_none(), "size {size}: {e:?}");
            assert_eq!((&f, &t), (&whole, &truncation), "size {size}");
            assert_eq!(reader.frames_read(), whole.len() as u64);
            // A stretch of one byte holds one record, at most.
            if size == 1 {
                assert_eq!(most, 1);
            }
        }
    }
    // The frames the reader had given already are not given again.
    let mut reader = CaptureReader::new(&captures[1][..]).unwrap();
    let first = Owned::of(&reader.next_frame().unwrap().unwrap());
    let (f, _, _, _) = cut_in_stretches(&mut reader, 16);
    let whole = frames_of(&captures[1]).0;
    assert_eq!(first, whole[0]);
    assert_eq!(f, whole[1..]);
}

#[test]
fn a_failing_stream_ends_its_stretches_with_the_error_where_the_reader_fails() {
    let bytes = sample_pcapng();
    let whole = frames_of(&bytes).0;
    for fail_after in [40, 100, 150] {
        let trickle = || Trickle {
            data: &bytes,
            fail_after: Some(fail_after),
            given: 0,
        };
        // What one reader gives before the error.
        let mut one = CaptureReader::new(trickle()).unwrap();
        let mut before_error = Vec::new();
        while let Ok(Some(f)) = one.next_frame() {
            before_error.push(Owned::of(&f));
        }
        let mut reader = CaptureReader::new(trickle()).unwrap();
        let (f, t, e, _) = cut_in_stretches(&mut reader, 64);
        assert!(matches!(e, Some(CaptureError::Io { .. })), "{e:?}");
        assert!(t.is_none());
        assert_eq!(f, before_error, "failing after {fail_after} bytes");
        assert!(f.len() < whole.len());
    }
}

// ---------- decryption secrets ----------

const TLSK: u32 = 0x544c_534b;

/// A Decryption Secrets Block (pcapng §4.7) of `stype` holding `secrets`, then `options`.
fn dsb(order: ByteOrder, stype: u32, secrets: &[u8], options: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, order, stype);
    put32(&mut body, order, secrets.len() as u32);
    body.extend_from_slice(secrets);
    pad4(&mut body);
    body.extend_from_slice(options);
    block(order, 0x0000_000a, &body)
}

fn key_line(label: &str, random: u8, secret: u8, len: usize) -> String {
    format!(
        "{label} {} {}\n",
        format!("{random:02x}").repeat(32),
        format!("{secret:02x}").repeat(len)
    )
}

/// Two sections (one of each byte order), TLS key logs before, between and after the packets, a
/// WireGuard DSB, a DSB with options and one with a malformed line.
fn pcapng_with_secrets() -> Vec<u8> {
    let mut bytes = shb(LE);
    let first = key_line("CLIENT_RANDOM", 1, 0xa1, 48) + &key_line("EXPORTER_SECRET", 1, 2, 32);
    bytes.extend(dsb(LE, TLSK, first.as_bytes(), &[]));
    bytes.extend(idb(LE, 1, 0, None, None));
    bytes.extend(epb(LE, 0, 1, b"first", 5));
    bytes.extend(dsb(LE, 0x5747_4b4c, &[7; 44], &[])); // WireGuard keys: skipped
    let comment = option(LE, 1, b"a comment");
    let with_options = key_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 2, 0xb2, 32);
    let mut options = comment.clone();
    options.extend(option(LE, 0, &[]));
    bytes.extend(dsb(LE, TLSK, with_options.as_bytes(), &options));
    bytes.extend(spb(LE, b"second", 6));
    bytes.extend(shb(BE));
    // Secrets are not reset by a new section; a later one for the same random and label wins.
    let third = "# comment\r\nnot a key log line\r\n".to_string()
        + &key_line("CLIENT_RANDOM", 1, 0xc3, 48).replace('\n', "\r\n");
    bytes.extend(dsb(BE, TLSK, third.as_bytes(), &[]));
    bytes.extend(idb(BE, 101, 0, None, None));
    bytes.extend(epb(BE, 0, 2, b"third", 5));
    bytes
}

#[test]
fn decryption_secrets_blocks_are_read_in_both_byte_orders() {
    let bytes = pcapng_with_secrets();
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    assert!(r.embedded_key_log().is_none(), "nothing read yet");
    // The first DSB comes before the first packet: read by the time the first frame is given.
    assert_eq!(r.next_frame().unwrap().unwrap().data, b"first");
    let log = r.embedded_key_log().expect("first DSB read");
    assert_eq!(
        log.secret(&[1; 32], Label::ClientRandom)
            .unwrap()
            .as_bytes(),
        &[0xa1; 48]
    );
    // The log is shared with the reading: let go of it before reading on.
    drop(log);
    let rest = read_all(&mut r).unwrap();
    assert_eq!(rest.len(), 2);
    assert!(r.truncation().is_none());
    let counts = r.secrets_blocks();
    assert_eq!(
        (counts.tls_key_logs, counts.other, counts.over_limit),
        (3, 1, 0)
    );
    let log = r.embedded_key_log().unwrap();
    assert_eq!(u64::from(log.texts()), counts.tls_key_logs);
    assert_eq!(log.entries(), 2);
    assert_eq!(
        log.secret(&[1; 32], Label::ClientRandom)
            .unwrap()
            .as_bytes(),
        &[0xc3; 48],
        "the later block wins"
    );
    assert_eq!(
        log.secret(&[2; 32], Label::ClientHandshakeTrafficSecret)
            .unwrap()
            .as_bytes(),
        &[0xb2; 32]
    );
    let c = log.counts();
    assert_eq!(
        (
            c.lines,
            c.skipped,
            c.secrets,
            c.replaced,
            c.ignored,
            c.malformed
        ),
        (6, 1, 3, 1, 1, 1)
    );
    assert_eq!(
        log.malformed_lines()[0],
        crate::decrypt::MalformedLine {
            source: 2,
            line: 2,
            reason: crate::decrypt::Malformed::NotALabel
        }
    );
    let text_bytes: usize = [
        key_line("CLIENT_RANDOM", 1, 0xa1, 48) + &key_line("EXPORTER_SECRET", 1, 2, 32),
        key_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 2, 0xb2, 32),
        "# comment\r\nnot a key log line\r\n".to_string()
            + &key_line("CLIENT_RANDOM", 1, 0xc3, 48).replace('\n', "\r\n"),
    ]
    .iter()
    .map(String::len)
    .sum();
    assert_eq!(counts.tls_key_log_bytes, text_bytes as u64);
    // The frames are those of the same file without the secrets.
    let (f, _, d) = frames_of(&bytes);
    assert_eq!(
        f.iter().map(|f| &f.data[..]).collect::<Vec<_>>(),
        [&b"first"[..], b"second", b"third"]
    );
    assert_eq!((d.sections, d.interface_count), (2, 2));
    // Secrets are never printed by the reader's Debug.
    assert!(!format!("{r:?}").contains("a1a1"));
}

#[test]
fn padding_counted_in_the_secrets_length_is_not_a_line() {
    let mut text = key_line("CLIENT_RANDOM", 4, 0xd4, 48).into_bytes();
    text.extend([0, 0, 0]);
    let mut bytes = shb(LE);
    bytes.extend(dsb(LE, TLSK, &text, &[]));
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    assert!(read_all(&mut r).unwrap().is_empty());
    let log = r.embedded_key_log().unwrap();
    assert_eq!((log.entries(), log.counts().malformed), (1, 0));
    assert_eq!(r.secrets_blocks().tls_key_log_bytes, text.len() as u64 - 3);
}

#[test]
fn damaged_decryption_secrets_blocks_stop_the_reading_like_other_damaged_blocks() {
    let mut good = shb(LE);
    good.extend(idb(LE, 1, 0, None, None));
    good.extend(epb(LE, 0, 1, b"ok", 2));
    let line = key_line("CLIENT_RANDOM", 5, 0xe5, 48);
    // Secrets length beyond the block.
    let mut claims_more = dsb(LE, TLSK, line.as_bytes(), &[]);
    claims_more[12..16].copy_from_slice(&(line.len() as u32 + 5).to_le_bytes());
    // Too short for its two fixed fields (a secrets type and nothing else).
    let short = block(LE, 0x0000_000a, &[0x4b, 0x53, 0x4c, 0x54]);
    // The two block lengths disagree.
    let mut disagree = dsb(LE, TLSK, line.as_bytes(), &[]);
    let n = disagree.len();
    disagree[n - 4] ^= 8;
    let cases: [(&[u8], &str); 3] = [
        (
            &claims_more,
            "a decryption secrets block claims 181 bytes of secrets, more than it holds: the file is damaged from here",
        ),
        (
            &short,
            "a decryption secrets block is too short (16 bytes): the file is damaged from here",
        ),
        (
            &disagree,
            "a decryption secrets block's two length fields disagree (196 and 204): the file is damaged from here",
        ),
    ];
    for (damaged, reason) in cases {
        let mut bytes = good.clone();
        bytes.extend_from_slice(damaged);
        bytes.extend(epb(LE, 0, 2, b"never", 5));
        let mut r = CaptureReader::new(&bytes[..]).unwrap();
        let f = read_all(&mut r).unwrap();
        assert_eq!(f.len(), 1);
        let t = r.truncation().unwrap();
        assert_eq!(t.reason, reason);
        assert_eq!(t.byte_offset, good.len() as u64);
        assert!(
            r.embedded_key_log().is_none(),
            "nothing kept from a damaged block"
        );
        same_in_stretches(&bytes, &[1, 7, 64, 1000]);
    }
}

#[test]
fn truncation_sweep_over_decryption_secrets_blocks() {
    let bytes = pcapng_with_secrets();
    let (whole, _, _) = frames_of(&bytes);
    let full = secrets_of(&bytes);
    // Block boundaries, each with the block's type.
    let mut blocks = Vec::new();
    let mut at = 0;
    let mut order = LE;
    while at < bytes.len() {
        if bytes[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d] {
            order = BE;
        }
        let btype = order.u32_at(&bytes, at).unwrap();
        let len = order.u32_at(&bytes, at + 4).unwrap() as usize;
        blocks.push((at, at + len, btype));
        at += len;
    }
    assert_eq!(at, bytes.len());
    for len in 0..=bytes.len() {
        let Ok(mut r) = CaptureReader::new(&bytes[..len]) else {
            assert!(len < 28, "prefix {len}");
            continue;
        };
        let f = read_all(&mut r).unwrap();
        assert_eq!(&whole[..f.len()], &f[..], "prefix {len}");
        // The secrets of the whole blocks before the cut, no more.
        let whole_dsbs = blocks
            .iter()
            .filter(|&&(_, end, t)| t == 0xa && end <= len)
            .count();
        let counts = r.secrets_blocks();
        assert_eq!(
            counts.tls_key_logs + counts.other,
            whole_dsbs as u64,
            "prefix {len}"
        );
        let cut_in = blocks
            .iter()
            .find(|&&(start, end, _)| start < len && len < end);
        match (cut_in, r.truncation()) {
            (None, None) => {}
            (Some(&(start, end, t)), Some(trunc)) => {
                assert_eq!(trunc.byte_offset, start as u64, "prefix {len}");
                let have = len - start;
                if t == 0xa && have >= 8 {
                    assert_eq!(
                        trunc.reason,
                        format!(
                            "the input ends inside a decryption secrets block ({have} of {} bytes)",
                            end - start
                        )
                    );
                }
            }
            other => panic!("prefix {len}: {other:?}"),
        }
        same_in_stretches(&bytes[..len], &[1, 13, 64]);
    }
    assert_eq!(secrets_of(&bytes), full);
}

#[test]
fn decryption_secrets_in_stretches_are_those_the_reader_finds() {
    let bytes = pcapng_with_secrets();
    same_in_stretches(&bytes, &[1, 2, 3, 7, 16, 19, 64, 1000, 1 << 18]);
    // Read partly by the reader, then in stretches: the secrets of both parts.
    let mut r = CaptureReader::new(&bytes[..])
        .unwrap()
        .with_read_at(Arc::new(Mem {
            bytes: bytes.clone(),
            chunk: 0,
        }));
    r.next_frame().unwrap().unwrap();
    let (_, _, _, walking) = walk_in_stretches(&r, 16);
    let (_, embedded) = walking.found().unwrap();
    assert_eq!(embedded, secrets_of(&bytes));
    // A parallel analysis leaves the reader with every block's secrets, as reading it through does.
    let mut shared = CaptureReader::from_shared(Arc::new(bytes.clone())).unwrap();
    let mut verdicts: Vec<crate::Verdict> = Vec::new();
    crate::analyze_parallel_in_stretches(
        &mut shared,
        &crate::Config::default(),
        2,
        16,
        &mut verdicts,
    )
    .unwrap();
    assert_eq!(shared.embedded, secrets_of(&bytes));
    assert_eq!(shared.secrets_blocks().tls_key_logs, 3);
    assert_eq!(shared.embedded_key_log().unwrap().entries(), 2);
}

#[test]
fn key_logs_beyond_the_limit_are_skipped_and_counted() {
    // One comment line filling the limit, then a block with a secret: skipped, as a whole.
    let mut big = vec![b'x'; MAX_EMBEDDED_KEY_LOG_BYTES];
    big[0] = b'#';
    big[MAX_EMBEDDED_KEY_LOG_BYTES - 1] = b'\n';
    let mut bytes = shb(LE);
    bytes.extend(dsb(LE, TLSK, &big, &[]));
    bytes.extend(dsb(
        LE,
        TLSK,
        key_line("CLIENT_RANDOM", 6, 6, 48).as_bytes(),
        &[],
    ));
    bytes.extend(dsb(LE, 0x5353_484b, b"ssh keys", &[]));
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    assert!(read_all(&mut r).unwrap().is_empty());
    assert!(r.truncation().is_none());
    let counts = r.secrets_blocks();
    assert_eq!(
        (
            counts.tls_key_logs,
            counts.tls_key_log_bytes,
            counts.over_limit,
            counts.other
        ),
        (1, MAX_EMBEDDED_KEY_LOG_BYTES as u64, 1, 1)
    );
    let log = r.embedded_key_log().unwrap();
    assert_eq!((log.entries(), log.counts().skipped), (0, 1));
}

/// `editcap --inject-secrets` (Wireshark's way to put a key log into a capture) on a real capture:
/// the secrets come back, the frames are unchanged.
#[test]
fn secrets_injected_by_editcap_are_read_back() {
    let have_editcap = std::process::Command::new("editcap")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_editcap {
        println!("editcap not installed (Wireshark): skipped");
        return;
    }
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tls");
    let input = fixtures.join("tls13-ok.pcap");
    let dir = std::env::temp_dir().join(format!("shakedown-editcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keylog = dir.join("keys.txt");
    let output = dir.join("with-secrets.pcapng");
    let text = "# made up: these secrets unlock nothing\n".to_string()
        + &key_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 0x31, 0x41, 32)
        + &key_line("SERVER_HANDSHAKE_TRAFFIC_SECRET", 0x31, 0x42, 32)
        + &key_line("CLIENT_TRAFFIC_SECRET_0", 0x31, 0x43, 48)
        + &key_line("SERVER_TRAFFIC_SECRET_0", 0x31, 0x44, 48)
        + &key_line("CLIENT_RANDOM", 0x32, 0x45, 48)
        + &key_line("EXPORTER_SECRET", 0x31, 0x46, 32);
    std::fs::write(&keylog, &text).unwrap();
    let status = std::process::Command::new("editcap")
        .arg("--inject-secrets")
        .arg(format!("tls,{}", keylog.display()))
        .arg(&input)
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "editcap failed: {status}");
    let injected = std::fs::read(&output).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let mut r = CaptureReader::new(&injected[..]).unwrap();
    let frames = read_all(&mut r).unwrap();
    assert!(r.truncation().is_none());
    assert_eq!(r.description().format, CaptureFormat::PcapNg);
    let mut original = open(&input).unwrap();
    let original_frames = read_all(&mut original).unwrap();
    assert_eq!(
        frames.iter().map(|f| &f.data).collect::<Vec<_>>(),
        original_frames.iter().map(|f| &f.data).collect::<Vec<_>>()
    );
    assert_eq!(r.secrets_blocks().tls_key_logs, 1);
    let log = r.embedded_key_log().unwrap();
    let s = log.secrets(&[0x31; 32]).unwrap();
    assert_eq!(s.client_handshake_traffic.unwrap().as_bytes(), &[0x41; 32]);
    assert_eq!(s.server_handshake_traffic.unwrap().as_bytes(), &[0x42; 32]);
    assert_eq!(s.client_traffic_0.unwrap().as_bytes(), &[0x43; 48]);
    assert_eq!(s.server_traffic_0.unwrap().as_bytes(), &[0x44; 48]);
    assert!(s.master_secret.is_none());
    assert_eq!(
        log.secret(&[0x32; 32], Label::ClientRandom)
            .unwrap()
            .as_bytes(),
        &[0x45; 48]
    );
    assert_eq!(log.counts().malformed, 0);
    // The parallel reading finds the same.
    same_in_stretches(&injected, &[64, 4096]);
}
