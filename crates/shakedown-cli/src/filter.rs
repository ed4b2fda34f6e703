//! Connection filters shared by the report (`shakedown --failed ...`) and `shakedown extract`: which
//! verdicts are shown, written as JSON, or extracted.
//!
//! Filters of different kinds combine with AND; repeated filters of one kind with OR:
//! `--failed --port 443 --port 3389` selects the failed connections on port 443 or 3389.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use shakedown::{CauseCode, Verdict};

/// The connection filters, as command-line flags (flattened into each command's arguments).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Selecting connections (AND across kinds, OR within one)")]
pub struct Selection {
    /// Only connections whose handshake failed.
    #[arg(long)]
    pub failed: bool,
    /// Only connection N (the number in the report and in JSON's `conn`, per capture); repeatable.
    #[arg(long = "conn", value_name = "N")]
    pub conns: Vec<u64>,
    /// Only connections with this cause code (see the README's table); repeatable.
    #[arg(long = "cause", value_name = "CODE", value_parser = cause_parser())]
    pub causes: Vec<CauseCode>,
    /// Only connections with this address (or in this network, e.g. 10.1.0.0/16) at either end;
    /// repeatable.
    #[arg(long = "host", value_name = "IP[/BITS]")]
    pub hosts: Vec<Net>,
    /// Only connections with this TCP port at either end; repeatable.
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
}

fn cause_parser() -> impl TypedValueParser<Value = CauseCode> {
    PossibleValuesParser::new(CauseCode::ALL.map(CauseCode::as_str)).map(|s| {
        CauseCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(CauseCode::None)
    })
}

impl Selection {
    /// Whether any filter was given (otherwise each command has its own default).
    pub fn is_active(&self) -> bool {
        self.failed
            || !self.conns.is_empty()
            || !self.causes.is_empty()
            || !self.hosts.is_empty()
            || !self.ports.is_empty()
    }

    /// Whether `v` passes every given filter.
    pub fn matches(&self, v: &Verdict) -> bool {
        (!self.failed || v.is_failure())
            && (self.conns.is_empty() || self.conns.contains(&v.conn))
            && (self.causes.is_empty() || self.causes.contains(&v.cause.code))
            && (self.hosts.is_empty()
                || self
                    .hosts
                    .iter()
                    .any(|n| n.contains(v.client.ip) || n.contains(v.server.ip)))
            && (self.ports.is_empty()
                || self
                    .ports
                    .iter()
                    .any(|p| *p == v.client.port || *p == v.server.port))
    }
}

/// An address, or a network given as `address/prefix-bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    bits: u8,
}

impl Net {
    /// Whether `ip` is this address or inside this network (never across IPv4 and IPv6).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("`{b}` is not a prefix length from 0 to {max}"))?,
        };
        Ok(Net { addr, bits })
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        s.parse().unwrap()
    }

    #[test]
    fn networks_and_addresses() {
        assert!(net("10.0.0.5").contains("10.0.0.5".parse().unwrap()));
        assert!(!net("10.0.0.5").contains("10.0.0.6".parse().unwrap()));
        assert!(net("10.1.0.0/16").contains("10.1.200.3".parse().unwrap()));
        assert!(!net("10.1.0.0/16").contains("10.2.0.3".parse().unwrap()));
        assert!(net("0.0.0.0/0").contains("192.0.2.1".parse().unwrap()));
        assert!(!net("0.0.0.0/0").contains("::1".parse().unwrap()));
        assert!(net("2001:db8::/32").contains("2001:db8:1::7".parse().unwrap()));
        assert!(!net("2001:db8::/32").contains("2001:db9::7".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Net>().is_err());
        assert!("example.com".parse::<Net>().is_err());
        assert!("::/129".parse::<Net>().is_err());
    }
}
