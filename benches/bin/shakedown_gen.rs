//! `shakedown-gen`: writes a deterministic synthetic capture (see `shakedown_benches::synth`).
//!
//! ```text
//! shakedown-gen [--seed N] --size BYTES[K|M|G] [--format pcap|pcapng] -o FILE|- [--truth FILE]
//! ```
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use shakedown_benches::synth::{Format, GenConfig, JsonLines, TruthSink, generate};

const USAGE: &str = "usage: shakedown-gen [--seed N] --size BYTES[K|M|G] [--format pcap|pcapng] \
                     -o FILE|- [--truth FILE]";

fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

struct Args {
    cfg: GenConfig,
    out: String,
    truth: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut cfg = GenConfig {
        seed: 1,
        size: 0,
        format: Format::Pcap,
    };
    let mut out = None;
    let mut truth = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => cfg.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--size" => {
                let v = value()?;
                cfg.size = parse_size(v).ok_or_else(|| format!("--size: bad size {v:?}"))?;
            }
            "--format" => {
                cfg.format = match value()?.as_str() {
                    "pcap" => Format::Pcap,
                    "pcapng" => Format::Pcapng,
                    other => return Err(format!("--format: pcap or pcapng, not {other:?}")),
                }
            }
            "-o" | "--output" => out = Some(value()?.clone()),
            "--truth" => truth = Some(value()?.clone()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if cfg.size == 0 {
        return Err("--size is required (and above 0)".into());
    }
    let out = out.ok_or("-o FILE is required (- for stdout)")?;
    Ok(Args { cfg, out, truth })
}

fn run(args: Args) -> io::Result<()> {
    let start = Instant::now();
    let mut truth_sink = match &args.truth {
        Some(p) => Some(JsonLines(BufWriter::new(File::create(p)?))),
        None => None,
    };
    let sink = truth_sink.as_mut().map(|s| s as &mut dyn TruthSink);
    let stats = if args.out == "-" {
        generate(&args.cfg, io::stdout().lock(), sink)?
    } else {
        generate(&args.cfg, File::create(&args.out)?, sink)?
    };
    if let Some(JsonLines(mut w)) = truth_sink {
        w.flush()?;
    }
    let secs = start.elapsed().as_secs_f64();
    let kinds: Vec<String> = stats
        .per_kind
        .iter()
        .map(|(k, n)| format!("{}={n}", k.name()))
        .collect();
    eprintln!(
        "shakedown-gen: {} bytes, {} frames, {} TCP connections, {} DNS exchanges in {:.2} s \
         ({:.0} MB/s)\n  {}",
        stats.bytes,
        stats.frames,
        stats.connections,
        stats.dns,
        secs,
        stats.bytes as f64 / 1e6 / secs.max(1e-9),
        kinds.join(" ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("shakedown-gen: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shakedown-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
