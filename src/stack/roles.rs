//! The fixed roles of the topology: which subnets, instances, load balancers
//! and security groups a stack has, and where each one is placed.

use std::fmt;

/// Defines a role enum with its canonical spelling (the JSON key and the
/// segment used in field paths) in one place, so the two cannot drift.
macro_rules! role_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every role, in the order of the canonical JSON.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling, as in JSON keys and field paths.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

role_enum!(
    /// One of the six subnets a definition can name.
    SubnetKey {
        PublicA => "public-a",
        PublicB => "public-b",
        WebA => "web-a",
        WebB => "web-b",
        LbextA => "lbext-a",
        LbextB => "lbext-b",
    }
);

role_enum!(
    /// One of the four instances of the topology.
    InstanceRole {
        WebLeft => "web-left",
        WebRight => "web-right",
        WafLeft => "waf-left",
        WafRight => "waf-right",
    }
);

role_enum!(
    /// One of the two load-balancer tiers.
    LbRole {
        External => "external",
        Internal => "internal",
    }
);

role_enum!(
    /// One of the four security groups (named after what they protect).
    SgRole {
        Lbext => "lbext",
        Utm => "utm",
        Lbint => "lbint",
        Web => "web",
    }
);

/// A tier whose two subnets must lie in two different availability zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubnetTier {
    Public,
    Web,
    Lbext,
}

impl SubnetTier {
    pub(crate) const ALL: [SubnetTier; 3] = [SubnetTier::Public, SubnetTier::Web, SubnetTier::Lbext];

    pub(crate) fn pair(self) -> (SubnetKey, SubnetKey) {
        match self {
            SubnetTier::Public => (SubnetKey::PublicA, SubnetKey::PublicB),
            SubnetTier::Web => (SubnetKey::WebA, SubnetKey::WebB),
            SubnetTier::Lbext => (SubnetKey::LbextA, SubnetKey::LbextB),
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            SubnetTier::Public => "the public (WAF) tier",
            SubnetTier::Web => "the web tier",
            SubnetTier::Lbext => "the external load-balancer tier",
        }
    }
}

impl SubnetKey {
    /// The two optional subnets; the others are always present.
    pub fn is_optional(self) -> bool {
        matches!(self, SubnetKey::LbextA | SubnetKey::LbextB)
    }
}

impl InstanceRole {
    /// Placement is fixed by role, as in the seed.
    pub fn subnet(self) -> SubnetKey {
        match self {
            InstanceRole::WebLeft => SubnetKey::WebA,
            InstanceRole::WebRight => SubnetKey::WebB,
            InstanceRole::WafLeft => SubnetKey::PublicA,
            InstanceRole::WafRight => SubnetKey::PublicB,
        }
    }

    pub fn is_waf(self) -> bool {
        matches!(self, InstanceRole::WafLeft | InstanceRole::WafRight)
    }

    pub fn is_web(self) -> bool {
        !self.is_waf()
    }

    /// The load balancer that health-checks this node: the external one for
    /// WAF nodes, the internal one for web servers.
    pub fn lb(self) -> LbRole {
        if self.is_waf() { LbRole::External } else { LbRole::Internal }
    }
}
