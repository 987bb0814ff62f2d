//! IPv4 networks as users type them: a CIDR must name a network exactly.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use ipnet::Ipv4Net;
use serde::{Serialize, Serializer};

/// An IPv4 network whose address has no host bits set (`10.0.0.0/16`, never
/// `10.0.0.1/16`), so what is shown is exactly what AWS will create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr(Ipv4Net);

/// The prefix lengths AWS accepts for a VPC and for a subnet.
pub const AWS_PREFIX_RANGE: RangeInclusive<u8> = 16..=28;

impl Cidr {
    pub fn parse(value: &str) -> Result<Self, String> {
        let net: Ipv4Net = value.parse().map_err(|_| format!("`{value}` is not an IPv4 CIDR such as 10.0.0.0/16"))?;
        if net.addr() != net.network() {
            return Err(format!("{value} has host bits set; did you mean {}?", net.trunc()));
        }
        Ok(Cidr(net))
    }

    /// Builds a CIDR from a network the program already holds, dropping host bits.
    pub fn from_net(net: Ipv4Net) -> Self {
        Cidr(net.trunc())
    }

    pub fn net(&self) -> Ipv4Net {
        self.0
    }

    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains_net(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0)
    }

    pub fn contains_addr(&self, addr: Ipv4Addr) -> bool {
        self.0.contains(&addr)
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }

    pub fn is_whole_internet(&self) -> bool {
        self.0.prefix_len() == 0
    }

    /// AWS keeps the network address, the next three and the broadcast
    /// address of every subnet for itself.
    pub fn is_aws_reserved(&self, addr: Ipv4Addr) -> bool {
        let network = u32::from(self.0.network());
        let offset = u32::from(addr).wrapping_sub(network);
        offset <= 3 || addr == self.0.broadcast()
    }

    /// The usable range in words, for messages ("10.0.10.4 to 10.0.10.254").
    pub fn usable_range(&self) -> String {
        let first = Ipv4Addr::from(u32::from(self.0.network()).saturating_add(4));
        let last = Ipv4Addr::from(u32::from(self.0.broadcast()).saturating_sub(1));
        format!("{first} to {last}")
    }

    /// The seed's habit for fixed addresses (`.10` in the subnet), for hints.
    pub fn suggested_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.0.network()).saturating_add(10))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

pub(crate) fn parse_ipv4(value: &str) -> Result<Ipv4Addr, String> {
    value.parse().map_err(|_| format!("`{value}` is not an IPv4 address such as 10.0.10.10"))
}
