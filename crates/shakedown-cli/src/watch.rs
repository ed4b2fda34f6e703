//! What watching a running capture needs, whether it comes from network interfaces
//! (`shakedown live`) or through a pipe (`tcpdump -U -w - | shakedown -`): how often the engine is
//! told the time while no packet comes, how far behind the clock it is told it is, the wall clock,
//! and the flag Ctrl-C and SIGTERM set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shakedown::Timestamp;

/// How often, at least, the engine is told the time while no packet comes.
pub(crate) const TICK: Duration = Duration::from_millis(100);

/// How far behind the clock the engine is told it is: packets captured just before may still be on
/// their way (from the kernel, or through a pipe).
pub(crate) const MARGIN: Duration = Duration::from_millis(100);

/// Seconds a closed connection stays quiet before it is judged while watching (`--linger`'s
/// default for `shakedown live` and for piped input; files take the engine's 2 s of capture time,
/// which cost no waiting). Long enough for a late ACK or RST on a local network, short enough that
/// a failed handshake's verdict comes out within a second of its last packet.
pub(crate) const WATCH_LINGER_SECS: f64 = 0.5;

/// The wall clock, `behind` ago.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub(crate) fn wall_clock(behind: Duration) -> Timestamp {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(behind);
    Timestamp::from_secs_nanos(
        i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        now.subsec_nanos(),
    )
}

/// The flag Ctrl-C and SIGTERM set (the handler is installed once per process, the first time
/// this is called; a second signal while the flag is set quits at once, with status 130).
pub(crate) fn interrupted_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        flag
    }))
}
