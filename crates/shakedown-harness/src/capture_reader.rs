//! Arbitrary bytes as a capture file (pcap, pcapng, maybe gzip/zstd compressed): open it and read
//! frames until the end or an error, touching every frame's fields.

use shakedown::capture::CaptureReader;

/// More frames than any input this size could honestly hold is a hang, not a capture.
const MAX_FRAMES: u64 = 1 << 20;

/// Runs the target on `data`; returns the frames read.
pub fn run(data: &[u8]) -> u64 {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return 0;
    };
    let _ = reader.description().uniform_ts_units();
    let mut frames = 0u64;
    let mut checksum = 0u64;
    while let Ok(Some(frame)) = reader.next_frame() {
        frames += 1;
        assert_eq!(frame.index, frames, "frame numbers are 1-based and dense");
        checksum = checksum
            .wrapping_add(frame.data.len() as u64)
            .wrapping_add(u64::from(frame.link_type.0))
            .wrapping_add(frame.ts.as_nanos() as u64);
        let _ = frame.ts.to_string();
        if frames >= MAX_FRAMES {
            break;
        }
    }
    assert_eq!(reader.frames_read(), frames);
    // Every TLS key log a Decryption Secrets Block held is one text of the embedded key log.
    let blocks = reader.secrets_blocks();
    match reader.embedded_key_log() {
        Some(log) => assert_eq!(u64::from(log.texts()), blocks.tls_key_logs),
        None => assert_eq!(blocks.tls_key_logs, 0),
    }
    let _ = reader.truncation();
    std::hint::black_box(checksum);
    frames
}
