//! Wireshark display filters that select exactly one connection.

use std::net::IpAddr;

use crate::flow::Endpoint;

/// A display filter selecting the connection between `client` and `server` whose packets are frames
/// `first..=last`. The frame range keeps a reused 5-tuple (an earlier or later connection on the same
/// ports) out.
///
/// ```
/// use shakedown::{Endpoint, verdict::wireshark_filter};
/// let c = Endpoint::new("10.0.0.5".parse().unwrap(), 50123);
/// let s = Endpoint::new("10.0.0.9".parse().unwrap(), 3389);
/// assert_eq!(
///     wireshark_filter(c, s, 3, 17),
///     "ip.addr==10.0.0.5 && ip.addr==10.0.0.9 && tcp.port==50123 && tcp.port==3389 \
///      && frame.number>=3 && frame.number<=17"
/// );
/// ```
pub fn wireshark_filter(client: Endpoint, server: Endpoint, first: u64, last: u64) -> String {
    let addr = |ip: IpAddr| match ip {
        IpAddr::V4(a) => format!("ip.addr=={a}"),
        IpAddr::V6(a) => format!("ipv6.addr=={a}"),
    };
    let addrs = if client.ip == server.ip {
        addr(client.ip)
    } else {
        format!("{} && {}", addr(client.ip), addr(server.ip))
    };
    let ports = if client.port == server.port {
        format!(
            "tcp.srcport=={} && tcp.dstport=={}",
            client.port, server.port
        )
    } else {
        format!("tcp.port=={} && tcp.port=={}", client.port, server.port)
    };
    format!("{addrs} && {ports} && frame.number>={first} && frame.number<={last}")
}
