//! `shakedown extract`: the written pcapng holds exactly the frames of the selected connections, in
//! capture order, byte for byte with their timestamps and link types; shakedown finds the same
//! verdicts in it, and TShark reads it without complaint.

use std::path::{Path, PathBuf};
use std::process::Command;

use shakedown::capture::{LinkType, PcapNgWriter};
use shakedown::{Outcome, Timestamp, Verdict};
use shakedown_tests::{analyze_file, fixture, run_cli as run};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shakedown-extract-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The facts that must survive extraction (frame numbers change; times, bytes and judgement do not).
fn facts(v: &Verdict) -> String {
    let alerts: Vec<String> = v
        .alerts
        .iter()
        .map(|a| format!("{:?} {:?} {} {}", a.from, a.alert, a.inferred, a.at.ts))
        .collect();
    format!(
        "{} → {} {} {} {} {:?} packets {}/{} bytes {}/{} fin {:?} rst {:?} closed {:?} {} .. {} alerts [{}]",
        v.client,
        v.server,
        v.protocol.as_str(),
        v.outcome.as_str(),
        v.stage.as_str(),
        v.cause.code,
        v.packets.client,
        v.packets.server,
        v.bytes.client,
        v.bytes.server,
        v.first_fin(),
        v.first_rst(),
        v.closed_by,
        v.start.ts,
        v.end.ts,
        alerts.join(", ")
    )
}

/// Every frame of `path` as (timestamp, link type, bytes, wire length), with its frame number.
fn frames(path: &Path) -> Vec<(u64, Timestamp, LinkType, Vec<u8>, u32)> {
    let mut r = shakedown::capture::open(path).unwrap();
    let mut v = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        v.push((f.index, f.ts, f.link_type, f.data.to_vec(), f.orig_len));
    }
    assert!(r.truncation().is_none(), "{} reads cleanly", path.display());
    v
}

/// Whether TShark is here; in CI (`CI` set) it must be.
fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is required in CI (.ci/run installs it)"
        );
        eprintln!("tshark not found: skipping the TShark cross-check");
    }
    ok
}

/// Runs a Wireshark tool and returns its standard output; fails on an error status or any
/// complaint on standard error (except the warning about running as root).
fn tool(program: &str, args: &[&str]) -> String {
    let o = Command::new(program).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("Running as user") && !l.trim().is_empty())
        .collect();
    assert!(o.status.success(), "{program} {args:?}: {stderr}");
    assert!(complaints.is_empty(), "{program} {args:?}: {stderr}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Number of frames TShark finds in `path` matching `filter`.
fn tshark_count(path: &Path, filter: &str) -> usize {
    let p = path.to_string_lossy();
    tool(
        "tshark",
        &["-r", &p, "-Y", filter, "-T", "fields", "-e", "frame.number"],
    )
    .lines()
    .count()
}

/// Checks an extraction of `inputs` selected by `pick` (the same selection the flags make) against
/// the originals: same verdicts, exactly their frames in order, nothing else.
fn check(out: &Path, inputs: &[String], pick: impl Fn(&Verdict) -> bool) -> usize {
    let mut want_facts = Vec::new();
    let mut want_frames = Vec::new();
    for input in inputs {
        let (verdicts, _) = analyze_file(Path::new(input)).unwrap();
        let chosen: Vec<&Verdict> = verdicts.iter().filter(|v| pick(v)).collect();
        want_facts.extend(chosen.iter().map(|v| facts(v)));
        let key = |v: &Verdict| {
            let mut k = [v.client, v.server];
            k.sort();
            k
        };
        // The original frames of those connections, by the verdicts' frame ranges and endpoints
        // (worked out here independently, with TShark's help below).
        let all = frames(Path::new(input));
        let (decoded, _) = {
            let mut r = shakedown::capture::open(Path::new(input)).unwrap();
            let mut dec = shakedown::decode::Decoder::new(&shakedown::Config::default());
            let mut keys = Vec::new();
            while let Some(f) = r.next_frame().unwrap() {
                keys.push(match dec.decode(&f) {
                    shakedown::decode::Decoded::Tcp(s) => {
                        let mut k = [
                            shakedown::Endpoint::new(s.src, s.src_port),
                            shakedown::Endpoint::new(s.dst, s.dst_port),
                        ];
                        k.sort();
                        Some(k)
                    }
                    _ => None,
                });
            }
            (keys, ())
        };
        for (f, k) in all.iter().zip(&decoded) {
            if chosen
                .iter()
                .any(|v| Some(key(v)) == *k && (v.start.frame..=v.end.frame).contains(&f.0))
            {
                want_frames.push((f.1, f.2, f.3.clone(), f.4));
            }
        }
        // The verdicts' packet counts agree with those frames.
        let packets: u64 = chosen
            .iter()
            .map(|v| v.packets.client + v.packets.server)
            .sum();
        let mine = all
            .iter()
            .zip(&decoded)
            .filter(|(f, k)| {
                chosen
                    .iter()
                    .any(|v| Some(key(v)) == **k && (v.start.frame..=v.end.frame).contains(&f.0))
            })
            .count();
        assert_eq!(mine as u64, packets, "{input}: packet counts");
        // And TShark, given each verdict's Wireshark filter on the original, counts them too.
        if have_tshark() {
            // One TShark run per capture: the verdicts' filters joined with `||`.
            let filter: Vec<String> = chosen
                .iter()
                .map(|v| format!("({})", v.wireshark_filter))
                .collect();
            let by_tshark = if filter.is_empty() {
                0
            } else {
                tshark_count(Path::new(input), &filter.join(" || "))
            };
            assert_eq!(by_tshark as u64, packets, "{input}: TShark's count");
        }
    }
    let got: Vec<_> = frames(out)
        .into_iter()
        .map(|(_, ts, lt, data, len)| (ts, lt, data, len))
        .collect();
    assert_eq!(got.len(), want_frames.len(), "frame count");
    assert!(got == want_frames, "frames differ from the originals");
    let (verdicts, summary) = analyze_file(out).unwrap();
    let got_facts: Vec<String> = verdicts.iter().map(facts).collect();
    assert_eq!(got_facts, want_facts);
    assert!(
        summary.skipped.is_empty(),
        "nothing but TCP: {:?}",
        summary.skipped
    );
    if have_tshark() {
        let p = out.to_string_lossy();
        assert_eq!(tshark_count(out, "frame"), got.len());
        let info = tool("capinfos", &["-c", &p]);
        assert!(
            info.contains(&format!("Number of packets:   {}", got.len()))
                || info.contains(&format!("Number of packets: {}", got.len())),
            "{info}"
        );
        // Nanosecond timestamps, as written.
        let info = tool("capinfos", &["-T", "-m", "-a", &p]);
        assert!(!info.is_empty());
        filters_of_the_extract_select_their_frames(out, &verdicts);
    }
    got.len()
}

/// `frame N of CAPTURE`, the comment `extract` puts on each packet, as (CAPTURE, N).
fn origin(comment: &str) -> (String, u64) {
    let rest = comment.strip_prefix("frame ").expect(comment);
    let (n, capture) = rest.split_once(" of ").expect(comment);
    (capture.to_string(), n.parse().expect(comment))
}

/// Each connection's Wireshark filter in a report of the extracted file (whose frame numbers are
/// its own) makes TShark select exactly that connection's frames there: by their comments, the
/// very frames the original report's filter selects in the original capture.
fn filters_of_the_extract_select_their_frames(out: &Path, verdicts: &[Verdict]) {
    let comments = |path: &Path, filter: &str, field: &str| -> Vec<String> {
        let p = path.to_string_lossy();
        tool(
            "tshark",
            &["-r", &p, "-Y", filter, "-T", "fields", "-e", field],
        )
        .lines()
        .map(str::to_string)
        .collect()
    };
    // Every packet says where it came from.
    assert!(
        comments(out, "frame", "frame.comment")
            .iter()
            .all(|c| c.starts_with("frame "))
    );
    for v in verdicts {
        let here: Vec<(String, u64)> = comments(out, &v.wireshark_filter, "frame.comment")
            .iter()
            .map(|c| origin(c))
            .collect();
        assert_eq!(
            here.len() as u64,
            v.packets.client + v.packets.server,
            "{}: {}",
            out.display(),
            v.wireshark_filter
        );
        let capture = here[0].0.clone();
        assert!(here.iter().all(|(c, _)| *c == capture));
        let (originals, _) = analyze_file(Path::new(&capture)).unwrap();
        let first = here[0].1;
        let original = originals
            .iter()
            .find(|o| {
                let mut a = [o.client, o.server];
                let mut b = [v.client, v.server];
                a.sort();
                b.sort();
                a == b && (o.start.frame..=o.end.frame).contains(&first)
            })
            .expect("the original connection");
        let there: Vec<u64> = comments(
            Path::new(&capture),
            &original.wireshark_filter,
            "frame.number",
        )
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
        let here: Vec<u64> = here.into_iter().map(|(_, n)| n).collect();
        assert_eq!(here, there, "{}", v.wireshark_filter);
    }
}

#[test]
fn failed_connections_only() {
    let dir = scratch("failed");
    let out = dir.join("failures.pcapng");
    let input = fixture("lower/many-connections.pcapng");
    let (code, stdout, err) = run(&["extract", "--failed", "-o", &out.to_string_lossy(), &input]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    // One failed TLS handshake (conn 3); the refused and the unanswered SYN are on ports where TLS
    // is not customary (4441, 4444): probes, not failed handshakes.
    assert!(
        stdout.contains("1 connection, 8 frames written"),
        "{stdout}"
    );
    let n = check(&out, &[input], |v| v.outcome == Outcome::Failed);
    assert_eq!(n, 8);
    // The failure, and nothing else.
    let (verdicts, _) = analyze_file(&out).unwrap();
    assert_eq!(verdicts.len(), 1);
    assert!(verdicts.iter().all(Verdict::is_failure));
}

#[test]
fn several_captures_link_types_and_alerts() {
    let dir = scratch("several");
    let out = dir.join("all.pcapng");
    let inputs = [
        fixture("lower/many-connections.pcapng"),
        fixture("tls/no-shared-cipher.pcap"),
        fixture("lower/tls13-sll2.pcap"),
        fixture("rdp/seed-handshake-failure.pcap"),
        fixture("lower/tls13-loopback-nsec.pcap"),
        fixture("tls/unknown-ca.pcap"),
    ];
    let mut args = vec!["extract", "--all", "-o"];
    let o = out.to_string_lossy().into_owned();
    args.push(&o);
    args.extend(inputs.iter().map(String::as_str));
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    check(&out, &inputs, |_| true);
    // One interface per distinct (capture, interface, link type), all in nanoseconds.
    let mut r = shakedown::capture::open(&out).unwrap();
    while r.next_frame().unwrap().is_some() {}
    let d = r.description();
    let mut distinct = 0;
    for input in &inputs {
        let mut r = shakedown::capture::open(Path::new(input)).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(f) = r.next_frame().unwrap() {
            seen.insert((f.interface, f.link_type));
        }
        distinct += seen.len();
    }
    assert_eq!(d.interfaces.len(), distinct, "{d}");
    // And each output frame sits on an interface of its original link type (checked frame by frame
    // in `check`), in capture order: input after input.
    assert!(
        d.interfaces
            .iter()
            .any(|i| i.link_type == LinkType::LINUX_SLL2)
    );
    assert_eq!(d.uniform_ts_units(), Some(1_000_000_000));
    // The alerts came along.
    let (verdicts, _) = analyze_file(&out).unwrap();
    assert!(verdicts.iter().any(|v| !v.alerts.is_empty()));
}

#[test]
fn filters_and_or() {
    let dir = scratch("filters");
    let input = fixture("lower/many-connections.pcapng");
    let o = dir.join("x.pcapng");
    let os = o.to_string_lossy().into_owned();
    type Pick = Box<dyn Fn(&Verdict) -> bool>;
    let cases: Vec<(Vec<&str>, Pick)> = vec![
        (
            vec!["--port", "4441", "--port", "4443"],
            Box::new(|v: &Verdict| [4441, 4443].contains(&v.server.port)),
        ),
        (
            vec!["--failed", "--port", "4443", "--port", "4444"],
            Box::new(|v: &Verdict| v.is_failure() && [4443, 4444].contains(&v.server.port)),
        ),
        (
            vec!["--cause", "client_reset", "--cause", "tcp_refused"],
            Box::new(|v: &Verdict| matches!(v.cause.code.as_str(), "client_reset" | "tcp_refused")),
        ),
        (vec!["--conn", "2"], Box::new(|v: &Verdict| v.conn == 2)),
        (
            vec!["--host", "127.0.0.0/8", "--conn", "0", "--conn", "4"],
            Box::new(|v: &Verdict| [0, 4].contains(&v.conn)),
        ),
    ];
    for (flags, pick) in cases {
        let mut args = vec!["extract", "-q", "-o", &os, &input];
        args.extend(flags.iter().copied());
        let (code, stdout, err) = run(&args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        assert!(stdout.is_empty() && err.is_empty(), "-q: {stdout}{err}");
        let (all, _) = analyze_file(Path::new(&input)).unwrap();
        let expected = all.iter().filter(|v| pick(v)).count();
        assert!(expected > 0 && expected < all.len(), "{flags:?}");
        check(&o, std::slice::from_ref(&input), &pick);
        assert_eq!(analyze_file(&o).unwrap().0.len(), expected, "{flags:?}");
    }
    // Nothing matches: exit 1, a valid empty file.
    let (code, stdout, _) = run(&["extract", "--host", "192.0.2.1", "-o", &os, &input]);
    assert_eq!(code, 1);
    assert!(stdout.contains("0 connections, 0 frames"), "{stdout}");
    assert!(analyze_file(&o).unwrap().0.is_empty());
}

/// Port reuse: the same 5-tuple twice, an hour apart; `--conn 1` takes only the second connection.
#[test]
fn port_reuse_is_told_apart_by_frame_range() {
    let dir = scratch("reuse");
    let input = fixture("tls/no-shared-cipher.pcap");
    let twice = dir.join("twice.pcapng");
    {
        let f = frames(Path::new(&input));
        let mut w = PcapNgWriter::new(std::fs::File::create(&twice).unwrap()).unwrap();
        let i = w.add_interface(f[0].2, 0).unwrap();
        assert_eq!(f[0].2, LinkType::ETHERNET);
        for (shift, isn) in [(0i64, 0u32), (3600 * 1_000_000_000, 0x4000_0000)] {
            for (_, ts, _, data, len) in &f {
                // A new connection has new sequence numbers: add `isn` to seq and ack alike.
                let mut data = data.clone();
                let tcp = 14 + usize::from(data[14] & 0x0f) * 4;
                for field in [tcp + 4, tcp + 8] {
                    let n = u32::from_be_bytes(data[field..field + 4].try_into().unwrap());
                    data[field..field + 4].copy_from_slice(&n.wrapping_add(isn).to_be_bytes());
                }
                w.write_packet(i, Timestamp(ts.0 + shift), &data, *len)
                    .unwrap();
            }
        }
        w.finish().unwrap();
    }
    let t = twice.to_string_lossy().into_owned();
    let (all, _) = analyze_file(&twice).unwrap();
    assert_eq!(all.len(), 2, "two connections on one 5-tuple");
    assert_eq!(all[0].client, all[1].client);
    let out = dir.join("second.pcapng");
    let (code, _, err) = run(&["extract", "--conn", "1", "-o", &out.to_string_lossy(), &t]);
    assert_eq!(code, 0, "{err}");
    let n = check(&out, std::slice::from_ref(&t), |v| v.conn == 1);
    assert_eq!(n * 2, frames(&twice).len());
    let first_ts = frames(&out)[0].1;
    assert_eq!(first_ts, all[1].start.ts);
}

#[test]
fn refusals() {
    let dir = scratch("refusals");
    let o = dir.join("x.pcapng").to_string_lossy().into_owned();
    let input = fixture("lower/many-connections.pcapng");
    // Standard input cannot be read twice.
    let (code, _, err) = run(&["extract", "--failed", "-o", &o, "-"]);
    assert_eq!(code, 2);
    assert!(err.contains("standard input cannot be read twice"), "{err}");
    // No selection at all.
    let (code, _, err) = run(&["extract", "-o", &o, &input]);
    assert_eq!(code, 2);
    assert!(err.contains("--failed"), "{err}");
    // Unknown cause code: clap lists the valid ones.
    let (code, _, err) = run(&["extract", "--cause", "bogus", "-o", &o, &input]);
    assert_eq!(code, 2);
    assert!(err.contains("no_shared_cipher"), "{err}");
    // The output would overwrite an input.
    let copy = dir.join("in.pcapng");
    std::fs::copy(&input, &copy).unwrap();
    let c = copy.to_string_lossy().into_owned();
    let (code, _, err) = run(&["extract", "--all", "-o", &c, &c]);
    assert_eq!(code, 2);
    assert!(err.contains("also an input"), "{err}");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&input).unwrap()
    );
    // A missing input: error naming it, the others still extracted.
    let (code, _, err) = run(&["extract", "--failed", "-o", &o, "/nonexistent.pcap", &input]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.pcap"), "{err}");
    assert_eq!(analyze_file(Path::new(&o)).unwrap().0.len(), 1);
}

/// `-o -` writes the pcapng to standard output (and the summary to standard error).
#[test]
fn to_standard_output() {
    let input = fixture("lower/many-connections.pcapng");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = shakedown_cli::run(
        ["shakedown", "extract", "--conn", "3", "-o", "-", &input],
        &mut out,
        &mut err,
    );
    assert_eq!(status.code(), 0);
    assert!(String::from_utf8_lossy(&err).contains("1 connection, 8 frames written"));
    let mut r = shakedown::capture::CaptureReader::new(&out[..]).unwrap();
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 8);
}

/// Raw IPv4 (link type RAW) from 10.0.0.1 to 10.0.0.2 carrying `payload` (TCP bytes), with the
/// given identification and flags/fragment-offset field.
fn ipv4(id: u16, flags_offset: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&flags_offset.to_be_bytes());
    p.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend_from_slice(payload);
    p
}

/// A TCP header from port 40000 to 443 with `flags`, then `data`.
fn tcp(seq: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut t = vec![0x9c, 0x40, 0x01, 0xbb];
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(data);
    t
}

/// A connection whose data segment is cut in two IP fragments, interleaved with the frames of
/// another capture: extraction keeps the fragments of the selected connection, drops those of
/// others, and keeps capture order around the held fragments.
#[test]
fn ip_fragments_follow_their_connection_in_order() {
    let dir = scratch("fragments");
    let mixed = dir.join("mixed.pcapng");
    let other = frames(Path::new(&fixture("tls/no-shared-cipher.pcap")));
    let segment = tcp(1001, 0x18, &[0x16; 60]); // 80 bytes: fragments of 40 + 40
    let ours = [
        ipv4(1, 0x4000, &tcp(1000, 0x02, &[])), // SYN, whole, don't-fragment
        ipv4(2, 0x2000, &segment[..40]),        // first fragment, more to come
        ipv4(2, 5, &segment[40..]),             // last fragment, offset 40 bytes
    ];
    // Our frames at positions 0, 3 and 7 among the other capture's.
    let mut expected_all = Vec::new();
    {
        let mut w = PcapNgWriter::new(std::fs::File::create(&mixed).unwrap()).unwrap();
        let eth = w.add_interface(LinkType::ETHERNET, 0).unwrap();
        let raw = w.add_interface(LinkType::RAW, 0).unwrap();
        let mut other = other.iter();
        let mut ours = ours.iter();
        for n in 0..(3 + 10) {
            let ts = Timestamp(1_700_000_000_000_000_000 + n * 1_000_000);
            let (ifc, lt, data) = if [0, 3, 7].contains(&n) {
                (raw, LinkType::RAW, ours.next().unwrap().clone())
            } else {
                (eth, LinkType::ETHERNET, other.next().unwrap().3.clone())
            };
            let len = u32::try_from(data.len()).unwrap();
            w.write_packet(ifc, ts, &data, len).unwrap();
            expected_all.push((ts, lt, data, len));
        }
        w.finish().unwrap();
    }
    let m = mixed.to_string_lossy().into_owned();
    let (all, _) = analyze_file(&mixed).unwrap();
    assert_eq!(all.len(), 2, "{all:#?}");
    let read = |p: &Path| -> Vec<(Timestamp, LinkType, Vec<u8>, u32)> {
        frames(p)
            .into_iter()
            .map(|(_, ts, lt, d, l)| (ts, lt, d, l))
            .collect()
    };

    // Only our connection: the SYN and both fragments, nothing else.
    let out = dir.join("ours.pcapng");
    let (code, _, err) = run(&["extract", "--port", "443", "-o", &out.to_string_lossy(), &m]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let want: Vec<_> = expected_all
        .iter()
        .filter(|f| f.1 == LinkType::RAW)
        .cloned()
        .collect();
    assert_eq!(read(&out), want);
    let (v, _) = analyze_file(&out).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(
        facts(&v[0]),
        facts(all.iter().find(|v| v.server.port == 443).unwrap())
    );

    // Only the other connection: our fragments are left out.
    let (code, _, err) = run(&[
        "extract",
        "--port",
        "4452",
        "-o",
        &out.to_string_lossy(),
        &m,
    ]);
    assert_eq!(code, 0, "{err}");
    let want: Vec<_> = expected_all
        .iter()
        .filter(|f| f.1 == LinkType::ETHERNET)
        .cloned()
        .collect();
    assert_eq!(read(&out), want);

    // Everything, in the original order (the frames behind the held fragment waited for it).
    let (code, _, err) = run(&["extract", "--all", "-o", &out.to_string_lossy(), &m]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&out), expected_all);
    if have_tshark() {
        assert_eq!(tshark_count(&out, "frame"), expected_all.len());
        // TShark reassembles the datagram too.
        assert_eq!(tshark_count(&out, "ip.flags.mf == 1"), 1);
        assert_eq!(tshark_count(&out, "tcp.srcport == 40000"), 2);
    }
}

/// A real router's fragments (net/fragments-at-client: the server's certificate flight in eight
/// IPv4 fragments, the capture holding that one failed connection): extracting the failure copies
/// every frame, the held fragments included, and the copy reassembles to the same verdict.
#[test]
fn a_real_router_s_fragments_are_extracted_with_their_connection() {
    let dir = scratch("router-fragments");
    let out = dir.join("failures.pcapng");
    let input = fixture("net/fragments-at-client.pcap");
    let (code, stdout, err) = run(&["extract", "--failed", "-o", &out.to_string_lossy(), &input]);
    assert_eq!(code, 0, "{err}");
    let strip = |v: Vec<(u64, Timestamp, LinkType, Vec<u8>, u32)>| -> Vec<_> {
        v.into_iter()
            .map(|(_, ts, lt, d, l)| (ts, lt, d, l))
            .collect()
    };
    let original = strip(frames(Path::new(&input)));
    assert!(
        stdout.contains(&format!("1 connection, {} frames written", original.len())),
        "{stdout}"
    );
    assert!(strip(frames(&out)) == original, "every frame, in order");
    let (want, _) = analyze_file(Path::new(&input)).unwrap();
    let (got, summary) = analyze_file(&out).unwrap();
    assert_eq!(
        got.iter().map(facts).collect::<Vec<_>>(),
        want.iter().map(facts).collect::<Vec<_>>()
    );
    // The four datagrams' first fragments held, then completed, as in the original.
    let held = summary
        .skipped
        .get(&shakedown::decode::SkipKind::FragmentHeld);
    assert_eq!(held, Some(&4), "{:?}", summary.skipped);
    let _ = std::fs::remove_dir_all(&dir);
}
