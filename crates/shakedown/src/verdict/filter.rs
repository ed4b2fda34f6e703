//! Wireshark display filters that select exactly one connection.

use std::fmt::Write;
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
    // One string written in place (a filter is made for every verdict).
    let mut f = String::with_capacity(160);
    let addr = |f: &mut String, ip: IpAddr| {
        let _ = match ip {
            IpAddr::V4(a) => {
                f.push_str("ip.addr==");
                f.push_str(crate::flow::Ipv4Text::of(a).as_str());
                Ok(())
            }
            IpAddr::V6(a) => write!(f, "ipv6.addr=={a}"),
        };
    };
    addr(&mut f, client.ip);
    if client.ip != server.ip {
        f.push_str(" && ");
        addr(&mut f, server.ip);
    }
    let _ = if client.port == server.port {
        write!(
            f,
            " && tcp.srcport=={} && tcp.dstport=={}",
            client.port, server.port
        )
    } else {
        write!(
            f,
            " && tcp.port=={} && tcp.port=={}",
            client.port, server.port
        )
    };
    let _ = write!(f, " && frame.number>={first} && frame.number<={last}");
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: &str, port: u16) -> Endpoint {
        Endpoint::new(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])), port)
    }

    #[test]
    fn ipv6_one_address_and_one_port() {
        assert_eq!(
            wireshark_filter(ep("2001:db8::1", 50000), ep("2001:db8::2", 443), 1, 9),
            "ipv6.addr==2001:db8::1 && ipv6.addr==2001:db8::2 && tcp.port==50000 && \
             tcp.port==443 && frame.number>=1 && frame.number<=9"
        );
        // Both ends on one address (loopback): the address once.
        assert_eq!(
            wireshark_filter(ep("::1", 40000), ep("::1", 3389), 5, 5),
            "ipv6.addr==::1 && tcp.port==40000 && tcp.port==3389 && frame.number>=5 && \
             frame.number<=5"
        );
        // Both ends on one port: which one is which.
        assert_eq!(
            wireshark_filter(ep("10.1.1.1", 443), ep("10.1.1.2", 443), 0, u64::MAX),
            format!(
                "ip.addr==10.1.1.1 && ip.addr==10.1.1.2 && tcp.srcport==443 && \
                 tcp.dstport==443 && frame.number>=0 && frame.number<={}",
                u64::MAX
            )
        );
    }
}
