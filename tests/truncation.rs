//! A capture cut at every byte offset of its first kilobytes gives a clean result or a clean error:
//! never a panic or a hang, and every frame before the cut is still analysed.

use shakedown::Config;
use shakedown::capture::CaptureReader;
use shakedown_tests::fixtures;

fn sweep(file: &str) {
    let data = std::fs::read(fixtures().join(file)).expect(file);
    let whole = {
        let mut r = CaptureReader::new(&data[..]).expect("whole capture");
        let mut v: Vec<shakedown::Verdict> = Vec::new();
        shakedown::analyze(&mut r, &Config::default(), &mut v).expect("analysis");
        v
    };
    assert!(!whole.is_empty());
    let limit = data.len().min(6 * 1024);
    let mut frames_seen = 0;
    for len in 0..=limit {
        let cut = data.get(..len).expect("in range");
        let Ok(mut r) = CaptureReader::new(cut) else {
            continue;
        };
        let mut v: Vec<shakedown::Verdict> = Vec::new();
        let summary = shakedown::analyze(&mut r, &Config::default(), &mut v)
            .expect("a cut file is not an I/O error");
        assert!(
            summary.frames >= frames_seen,
            "{file} cut at {len}: fewer frames than a shorter cut"
        );
        frames_seen = summary.frames;
        let clean_end = summary.truncation.is_none();
        if len < data.len() && !clean_end {
            // A cut capture holds a prefix of the connections: each is one of the whole capture's,
            // with the same number, ends and first frame, and no more packets than there.
            assert!(v.len() <= whole.len(), "{file} cut at {len}");
            for cut_v in &v {
                let w = whole
                    .iter()
                    .find(|w| w.conn == cut_v.conn)
                    .unwrap_or_else(|| {
                        panic!("{file} cut at {len}: conn {} not in the whole", cut_v.conn)
                    });
                assert_eq!(
                    (cut_v.client, cut_v.server, cut_v.start.frame),
                    (w.client, w.server, w.start.frame),
                    "{file} cut at {len}"
                );
                assert!(
                    cut_v.packets.client <= w.packets.client
                        && cut_v.packets.server <= w.packets.server,
                    "{file} cut at {len}: more packets than the whole capture"
                );
            }
        }
    }
    assert!(
        frames_seen > 0,
        "{file}: some frames fit in the first {limit} bytes"
    );
}

#[test]
fn pcap_cut_anywhere() {
    sweep("lower/tls13-loopback.pcap");
}

#[test]
fn pcapng_cut_anywhere() {
    sweep("lower/tls13-loopback.pcapng");
}
