//! The memory caps and timeouts of an analysis, as flags shared by the commands that analyse
//! (every cap hit is counted in the summary footer and `--summary-json`).

use shakedown::Config;

/// Flags that set [`Config`]'s caps.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct Limits {
    /// Live connections tracked at once; the longest idle is evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_connections)]
    pub max_connections: usize,
    /// Seconds of capture time after which a quiet connection is judged.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle_timeout: u64,
    /// Out-of-order bytes buffered per direction of a connection (suffixes K, M, G: KiB, MiB, GiB).
    #[arg(long, value_name = "BYTES", value_parser = bytes, default_value = "1M")]
    pub max_stream_buffer: usize,
    /// Out-of-order bytes buffered over all connections together.
    #[arg(long, value_name = "BYTES", value_parser = bytes, default_value = "256M")]
    pub max_total_buffer: usize,
    /// Finished verdicts held back to keep first-packet order; beyond it the connection holding them
    /// back is passed over and reported when it ends.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_pending_verdicts)]
    pub max_pending_verdicts: usize,
    /// Server ports where TLS is customary, comma-separated; `+` first adds them to the defaults
    /// (443, 465, 636, 853, 989-995, 2376, 3269, 3389, 4433, 4443, 5061, 5671, 5986, 6443, 6697,
    /// 8443, 8883, 9443). A refused, unanswered or empty connection elsewhere is not counted as a
    /// failed TLS handshake (unless its server spoke TLS earlier in the capture).
    #[arg(long, value_name = "[+]PORT,...", value_parser = tls_ports)]
    pub tls_ports: Option<TlsPorts>,
    /// An NSS key log (SSLKEYLOGFILE) to read encrypted handshakes, alerts and RDP's CredSSP with;
    /// repeatable. Keys a pcapng capture carries (Decryption Secrets Blocks) are used as well,
    /// without this. Malformed lines are counted and warned about, never fatal; secrets are never
    /// printed.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylog: Vec<std::path::PathBuf>,
}

impl Limits {
    /// Reads the `--keylog` files into `config`, warning on `err` about lines that are not key log
    /// entries. `false` when a file cannot be read (the error is written to `err`).
    pub fn load_keys(&self, config: &mut Config, err: &mut dyn std::io::Write) -> bool {
        load_key_logs(&self.keylog, config, err)
    }
}

/// Reads the key log files `paths` into `config` ([`Config::key_log`]), warning on `err` about lines
/// that are not key log entries. `false` when a file cannot be read (the error is written to `err`).
pub fn load_key_logs(
    paths: &[std::path::PathBuf],
    config: &mut Config,
    err: &mut dyn std::io::Write,
) -> bool {
    if paths.is_empty() {
        return true;
    }
    let mut log = shakedown::decrypt::KeyLog::new();
    for path in paths {
        match std::fs::read(path) {
            Ok(text) => log.add(text),
            Err(e) => {
                let _ = writeln!(err, "shakedown: {}: {e}", path.display());
                return false;
            }
        }
    }
    warn_malformed(&log, "shakedown", err);
    config.key_log = Some(std::sync::Arc::new(log));
    true
}

/// Warns on `err` about the lines of the capture's own key log (its pcapng Decryption Secrets
/// Blocks, read while it was analysed) that are not key log entries, as
/// `COMMAND: NAME: embedded: warning: N key log lines not understood (first: line L: why)`.
/// Every command that analyses captures calls it once per capture read (`command` is how that
/// command names itself in its messages: `shakedown`, `shakedown extract`). Secrets are never
/// written, only counts, line numbers and reasons.
pub fn warn_embedded_keys<R: std::io::Read>(
    command: &str,
    name: &str,
    reader: &shakedown::capture::CaptureReader<R>,
    err: &mut dyn std::io::Write,
) {
    if let Some(log) = reader.embedded_key_log() {
        warn_malformed(&log, &format!("{command}: {name}: embedded"), err);
    }
}

/// `PREFIX: warning: N key log lines not understood (first: line L: why)`, when there are any.
fn warn_malformed(log: &shakedown::decrypt::KeyLog, prefix: &str, err: &mut dyn std::io::Write) {
    let counts = log.counts();
    if counts.malformed > 0 {
        let _ = writeln!(
            err,
            "{prefix}: warning: {} key log line{} not understood (first: {})",
            counts.malformed,
            if counts.malformed == 1 { "" } else { "s" },
            log.malformed_lines()
                .first()
                .map(|l| l.to_string())
                .unwrap_or_default()
        );
    }
}

/// The `--tls-ports` list: replacing the defaults, or added to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPorts {
    /// Added to the defaults (`+` first) rather than replacing them.
    pub add: bool,
    /// The ports.
    pub ports: Vec<u16>,
}

fn tls_ports(s: &str) -> Result<TlsPorts, String> {
    let (add, list) = match s.trim().strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s.trim()),
    };
    let ports = list
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port number (0-65535)"))
        })
        .collect::<Result<Vec<u16>, String>>()?;
    Ok(TlsPorts { add, ports })
}

impl Limits {
    /// The analysis configuration these flags give.
    pub fn config(&self) -> Config {
        Config {
            max_connections: self.max_connections,
            idle_timeout_ns: i64::try_from(self.idle_timeout.saturating_mul(1_000_000_000))
                .unwrap_or(i64::MAX),
            max_stream_buffer: self.max_stream_buffer,
            max_total_buffer: self.max_total_buffer,
            max_pending_verdicts: self.max_pending_verdicts,
            tls_ports: match &self.tls_ports {
                None => shakedown::config::DEFAULT_TLS_PORTS.to_vec(),
                Some(TlsPorts { add: true, ports }) => {
                    let mut all = shakedown::config::DEFAULT_TLS_PORTS.to_vec();
                    all.extend(ports);
                    all
                }
                Some(TlsPorts { add: false, ports }) => ports.clone(),
            },
            ..Config::default()
        }
    }
}

/// A byte count: digits with an optional K, M or G suffix (binary multiples).
///
/// ```text
/// 4096 -> 4096    64K -> 65536    1M -> 1048576    2G -> 2147483648
/// ```
pub(crate) fn bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, shift) = match t.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count (digits, then K, M or G)"))?;
    n.checked_mul(1usize << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_binary_suffixes() {
        assert_eq!(bytes("4096"), Ok(4096));
        assert_eq!(bytes("64k"), Ok(65_536));
        assert_eq!(bytes("1M"), Ok(1 << 20));
        assert_eq!(bytes("2G"), Ok(2 << 30));
        assert!(bytes("").is_err());
        assert!(bytes("M").is_err());
        assert!(bytes("1.5M").is_err());
        assert!(bytes("99999999999999999999G").is_err());
    }

    #[test]
    fn the_defaults_are_the_library_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            limits: Limits,
        }
        let cli = Cli::parse_from(["x"]);
        assert_eq!(cli.limits.config(), Config::default());
        let cli = Cli::parse_from([
            "x",
            "--max-total-buffer",
            "8M",
            "--max-pending-verdicts",
            "5",
        ]);
        assert_eq!(cli.limits.config().max_total_buffer, 8 << 20);
        assert_eq!(cli.limits.config().max_pending_verdicts, 5);
        let cli = Cli::parse_from(["x", "--tls-ports", "+4441,4444"]);
        let config = cli.limits.config();
        assert!(config.is_tls_port(4441) && config.is_tls_port(4444) && config.is_tls_port(443));
        let cli = Cli::parse_from(["x", "--tls-ports", "8443"]);
        assert_eq!(cli.limits.config().tls_ports, [8443]);
        assert!(tls_ports("443,https").is_err());
    }
}
