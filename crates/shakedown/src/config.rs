//! Limits and switches of an analysis. Every cap here is a value, never a panic: hitting one is counted
//! and reported in the [`crate::Summary`].

/// What a [`crate::Dissector`] may hold in memory and how long it waits for quiet connections.
///
/// Build it from [`Config::default`] with the fields you change (`..Default::default()`): fields
/// added later always come with a default, so such code keeps compiling. (Unlike the verdict's
/// types, `Config` is not `#[non_exhaustive]`, which would forbid that struct expression.)
///
/// ```
/// let cfg = shakedown::Config { max_connections: 10_000, ..Default::default() };
/// assert!(cfg.max_connections < shakedown::Config::default().max_connections);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Live connections tracked at once; beyond it the longest idle one is evicted (and counted).
    pub max_connections: usize,
    /// A connection with no packet for this long (capture time, nanoseconds) is finished and reported.
    pub idle_timeout_ns: i64,
    /// Out-of-order bytes buffered per direction of one connection.
    pub max_stream_buffer: usize,
    /// Out-of-order bytes buffered over all connections together.
    pub max_total_buffer: usize,
    /// Largest TLS handshake message reassembled (bigger ones are skipped and counted).
    pub max_handshake_message: usize,
    /// IP datagrams being reassembled from fragments at once.
    pub max_fragment_sets: usize,
    /// Bytes held for IP fragment reassembly over all datagrams.
    pub max_fragment_bytes: usize,
    /// Fragments of one datagram older than this (capture time, nanoseconds) are dropped.
    pub fragment_timeout_ns: i64,
    /// Protocol events kept in each connection's timeline (the verdict itself does not depend on it).
    pub max_timeline: usize,
    /// Verdicts held back at most to keep the order of first packets; beyond it the connection holding
    /// them back is passed over and its verdict follows when it ends, out of order (counted as
    /// [`crate::Summary::out_of_order`]).
    pub max_pending_verdicts: usize,
    /// When verdicts are handed out: in the order of their connections' first packets (files, the
    /// default) or as soon as each connection is judged (live capture, streaming). See
    /// [`VerdictOrder`].
    pub verdict_order: VerdictOrder,
    /// How long (nanoseconds) a connection that closed (both FINs, or an RST) must stay quiet before
    /// it is judged, so late retransmissions and ACKs still count towards it. Time is the capture's
    /// (the frames' timestamps, or what [`crate::Dissector::advance`] was told).
    pub closed_linger_ns: i64,
    /// Whether the dissector also emits every protocol step as an event (for custom summaries).
    pub protocol_events: bool,
    /// Server ports where TLS is customary ([`DEFAULT_TLS_PORTS`]). A connection that never
    /// carried a byte, or whose SYN was refused or never answered, is a failed TLS handshake only on
    /// one of these (or to a server that spoke TLS on that port elsewhere in the capture); elsewhere
    /// it is `not_tls` with its TCP cause: a health check, a probe or a scan.
    pub tls_ports: Vec<u16>,
    /// Secrets to read protected TLS records with (NSS key log: files, or memory). `None`: nothing
    /// is decrypted with given keys and it costs nothing.
    pub key_log: Option<std::sync::Arc<crate::decrypt::KeyLog>>,
    /// The secrets the capture carries itself (pcapng Decryption Secrets Blocks), as its reader
    /// comes to them ([`crate::capture::CaptureReader::embedded_keys`]): each block's secrets serve
    /// the connections whose ServerHello comes after it, after [`Config::key_log`]'s. [`crate::analyze`]
    /// and [`crate::analyze_parallel`] set it from their reader when it is `None`; a program that
    /// drives a [`crate::Dissector`] itself sets it from the reader it reads frames from.
    pub embedded_keys: Option<crate::decrypt::EmbeddedKeys>,
}

/// When a [`crate::Dissector`] hands out a verdict (see [`crate::Dissector`] for when a connection
/// is judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VerdictOrder {
    /// In the order of the connections' first packets (docs/SCHEMA.md): a verdict waits until every
    /// connection that started before it has been judged, or until
    /// [`Config::max_pending_verdicts`] verdicts wait (then the connection holding them back is
    /// passed over). The same capture always gives the same sequence: for files.
    #[default]
    FirstPacket,
    /// As each connection is judged: a verdict comes out of the [`crate::Dissector::handle_frame`],
    /// [`crate::Dissector::advance`] or [`crate::Dissector::finish`] call that judged it, whatever
    /// connections that started earlier are still open; verdicts judged in the same call come out
    /// in the order of their first packets. For live capture and streaming, where a long
    /// connection must not hold back a failure's verdict.
    AsDecided,
}

/// Ports where TLS is customary: HTTPS (443, 8443, 4443, 9443, 6443 Kubernetes), SMTPS/submissions
/// (465), LDAPS (636, 3269), DNS over TLS (853), FTPS (989, 990), telnets (992), IMAPS (993),
/// IRCS (994, 6697), POP3S (995), RDP (3389), SIP-TLS (5061), WinRM over HTTPS (5986), AMQPS
/// (5671), MQTT over TLS (8883), Docker over TLS (2376), OpenSSL's `s_server` default (4433).
pub const DEFAULT_TLS_PORTS: [u16; 23] = [
    443, 465, 636, 853, 989, 990, 992, 993, 994, 995, 2376, 3269, 3389, 4433, 4443, 5061, 5671,
    5986, 6443, 6697, 8443, 8883, 9443,
];

impl Config {
    /// Whether TLS is customary on `port`.
    pub fn is_tls_port(&self, port: u16) -> bool {
        self.tls_ports.contains(&port)
    }

    /// This configuration with `reader`'s Decryption Secrets Blocks as
    /// [`Config::embedded_keys`], unless it has some already (the same, when it has).
    pub fn with_embedded_keys<R: std::io::Read>(
        &self,
        reader: &crate::capture::CaptureReader<R>,
    ) -> Config {
        let mut config = self.clone();
        if config.embedded_keys.is_none() {
            config.embedded_keys = reader.embedded_keys();
        }
        config
    }

    /// The secrets an analysis with this configuration uses for the handshake whose ClientHello
    /// random is `client_random` and whose ServerHello is frame `frame`: [`Config::key_log`]'s,
    /// then, for the labels it lacks, those of the capture's Decryption Secrets Blocks that came
    /// before that frame ([`Config::embedded_keys`]). `None` when no key log holds any.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use shakedown::decrypt::{KeyLog, Label};
    /// let text = format!("CLIENT_RANDOM {} {}\n", "07".repeat(32), "08".repeat(48));
    /// let config = shakedown::Config {
    ///     key_log: Some(Arc::new(KeyLog::parse(&text))),
    ///     ..shakedown::Config::default()
    /// };
    /// let secrets = config.secrets(&[7; 32], 1).expect("given");
    /// assert!(secrets.by_label(Label::ClientRandom).is_some());
    /// assert!(config.secrets(&[9; 32], 1).is_none());
    /// ```
    pub fn secrets(
        &self,
        client_random: &[u8; crate::decrypt::CLIENT_RANDOM_LEN],
        frame: u64,
    ) -> Option<crate::decrypt::Secrets> {
        let source =
            crate::decrypt::KeySource::of(self.key_log.as_ref(), self.embedded_keys.as_ref());
        match source.lookup(client_random, frame) {
            crate::decrypt::source::Lookup::Found(Some(secrets)) => Some(*secrets),
            _ => None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 200_000,
            idle_timeout_ns: 600 * 1_000_000_000,
            max_stream_buffer: 1 << 20,
            max_total_buffer: 256 << 20,
            max_handshake_message: 1 << 20,
            max_fragment_sets: 10_000,
            max_fragment_bytes: 64 << 20,
            fragment_timeout_ns: 60 * 1_000_000_000,
            max_timeline: 64,
            max_pending_verdicts: 10_000,
            verdict_order: VerdictOrder::FirstPacket,
            closed_linger_ns: 2_000_000_000,
            protocol_events: false,
            tls_ports: DEFAULT_TLS_PORTS.to_vec(),
            key_log: None,
            embedded_keys: None,
        }
    }
}
