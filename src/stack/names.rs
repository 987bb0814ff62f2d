//! Names and identifiers, each a newtype that can only be built by `parse`,
//! so the code behind validation never sees an invalid one.

use std::fmt;

use serde::{Serialize, Serializer};

/// The accessors, `Display` and `Serialize` shared by every string newtype.
macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// The stack's name: used in tags (`hawaf:stack=<name>`) and in URLs.
    StackName
);
string_newtype!(
    /// A `Name` tag for an instance or the VPC.
    NameTag
);
string_newtype!(
    /// A classic ELB name.
    LbName
);
string_newtype!(
    /// A security group name.
    SgName
);
string_newtype!(
    /// An EC2 instance type such as `m1.small`.
    InstanceType
);
string_newtype!(
    /// An AMI id such as `ami-0c02fb55956c7d316`.
    AmiId
);
string_newtype!(
    /// An AWS region such as `us-east-1`.
    Region
);
string_newtype!(
    /// An availability zone such as `us-east-1a`.
    Az
);
string_newtype!(
    /// An AWS CLI/SDK profile name.
    Profile
);
string_newtype!(
    /// An alternative AWS endpoint (e.g. an emulator), always http(s) with a host.
    EndpointUrl
);

/// Names the first character outside `allowed`, so the message can point at it.
fn first_disallowed(value: &str, allowed: impl Fn(char) -> bool) -> Option<char> {
    value.chars().find(|&c| !allowed(c))
}

fn length_between(value: &str, min: usize, max: usize, what: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(format!("{what} must be {min}–{max} characters long (this one has {len})"));
    }
    Ok(())
}

impl StackName {
    pub const MAX_LEN: usize = 32;

    pub fn parse(value: &str) -> Result<Self, String> {
        length_between(value, 1, Self::MAX_LEN, "a stack name")?;
        if let Some(c) = first_disallowed(value, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(format!("a stack name may contain only lowercase letters, digits and hyphens, not `{c}`"));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("a stack name must start with a letter".into());
        }
        if value.ends_with('-') {
            return Err("a stack name must not end with a hyphen".into());
        }
        // /stacks/new and /stacks/adopt are pages: a stack so named could not be shown.
        if matches!(value, "new" | "adopt") {
            return Err(format!("`{value}` names a page of the dashboard (/stacks/{value}): choose another name"));
        }
        Ok(StackName(value.to_owned()))
    }
}

impl NameTag {
    pub fn parse(value: &str) -> Result<Self, String> {
        length_between(value, 1, 128, "a Name tag")?;
        if let Some(c) = first_disallowed(value, |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(format!("a Name tag may contain only letters, digits, `.`, `_` and `-`, not `{c}`"));
        }
        Ok(NameTag(value.to_owned()))
    }
}

impl LbName {
    pub fn parse(value: &str) -> Result<Self, String> {
        length_between(value, 1, 32, "a load-balancer name")?;
        if let Some(c) = first_disallowed(value, |c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("a load-balancer name may contain only letters, digits and hyphens, not `{c}`"));
        }
        if value.starts_with('-') || value.ends_with('-') {
            return Err("a load-balancer name must not start or end with a hyphen".into());
        }
        // AWS rejects it: the prefix is how internal ELB DNS names are spelled.
        if value.to_ascii_lowercase().starts_with("internal-") {
            return Err("a load-balancer name must not start with `internal-` (AWS reserves it)".into());
        }
        Ok(LbName(value.to_owned()))
    }
}

impl SgName {
    pub fn parse(value: &str) -> Result<Self, String> {
        length_between(value, 1, 255, "a security group name")?;
        let allowed = |c: char| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c);
        if let Some(c) = first_disallowed(value, allowed) {
            return Err(format!(
                "a security group name may contain only letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$*, not `{c}`"
            ));
        }
        // AWS rejects it: group ids look like that.
        if value.to_ascii_lowercase().starts_with("sg-") {
            return Err("a security group name must not start with `sg-` (AWS reserves it for group ids)".into());
        }
        Ok(SgName(value.to_owned()))
    }
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

impl InstanceType {
    pub fn parse(value: &str) -> Result<Self, String> {
        let bad = || format!("`{value}` is not an instance type such as m1.small or t3.micro");
        let (family, size) = value.split_once('.').ok_or_else(bad)?;
        // Hyphens occur inside real families (`u-6tb1.metal`), never at the ends.
        let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
            && !family.ends_with('-')
            && family.chars().all(|c| is_lower_alnum(c) || c == '-')
            && family.chars().any(|c| c.is_ascii_digit());
        let size_ok = !size.is_empty() && size.chars().all(is_lower_alnum);
        if !(family_ok && size_ok) {
            return Err(bad());
        }
        Ok(InstanceType(value.to_owned()))
    }
}

impl AmiId {
    pub fn parse(value: &str) -> Result<Self, String> {
        let hex = value.strip_prefix("ami-").unwrap_or("");
        let is_hex = hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !(is_hex && (hex.len() == 8 || hex.len() == 17)) {
            return Err(format!("`{value}` is not an AMI id (`ami-` followed by 8 or 17 lowercase hex digits)"));
        }
        Ok(AmiId(value.to_owned()))
    }
}

impl Region {
    pub fn parse(value: &str) -> Result<Self, String> {
        if !is_region(value) {
            return Err(format!("`{value}` is not an AWS region such as us-east-1, eu-west-3 or us-gov-west-1"));
        }
        Ok(Region(value.to_owned()))
    }
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: a two-letter area, one or
/// two words, a number.
fn is_region(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let Some((number, rest)) = parts.split_last() else {
        return false;
    };
    let Some((area, words)) = rest.split_first() else {
        return false;
    };
    let is_word = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    area.len() == 2
        && is_word(area)
        && (1..=2).contains(&words.len())
        && words.iter().all(is_word)
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

impl Az {
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut chars = value.chars();
        let zone_ok = chars.next_back().is_some_and(|c| c.is_ascii_lowercase());
        if !(zone_ok && is_region(chars.as_str())) {
            return Err(format!("`{value}` is not an availability zone such as us-east-1a (a region and one letter)"));
        }
        Ok(Az(value.to_owned()))
    }

    /// The region the zone belongs to: everything but the zone letter.
    pub fn region(&self) -> &str {
        // Parse guarantees a trailing ASCII letter, so slicing one byte is safe.
        &self.0[..self.0.len() - 1]
    }
}

impl Profile {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().any(char::is_whitespace) {
            return Err("a profile name cannot contain whitespace".into());
        }
        Ok(Profile(value.to_owned()))
    }
}

impl EndpointUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        let not_a_url = || format!("`{value}` is not a URL such as http://localhost:5000");
        let url = url::Url::parse(value).map_err(|_| not_a_url())?;
        // `localhost:4566` parses with `localhost` as its scheme: what was
        // missing is the scheme, not a different one.
        if url.cannot_be_a_base() {
            return Err(not_a_url());
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("the endpoint must be http or https, not {}", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("`{value}` has no host"));
        }
        Ok(EndpointUrl(value.to_owned()))
    }
}
