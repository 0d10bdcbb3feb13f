//! Operation identifiers: one 128-bit id, a UUID in our tables, also read in its ULID form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;
use uuid::Uuid;

use super::quoted;

/// The id of an operation. Generated as a ULID so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub Uuid);

/// Printed characters of a refused id echoed back: 64, and the quotes.
const ECHO: usize = 66;

/// A string that is neither a UUID nor a ULID. The value is echoed within a budget of printed
/// characters (escapes included), so the message stays short whatever was sent.
#[derive(Debug, thiserror::Error)]
#[error("not an operation id (expected a UUID such as 0190f3c2-8d1e-7c2a-9b1e-3f2a1c0d4e5f): {}", quoted(.0, ECHO))]
pub struct InvalidOpId(pub String);

impl OpId {
    /// A new, time-ordered id.
    pub fn generate() -> Self {
        Self(Uuid::from(Ulid::generate()))
    }

    /// The ULID text form of the id (what releases that queued with apalis used as job ids).
    pub fn job_id(&self) -> String {
        Ulid::from(self.0).to_string()
    }

    /// Parse the ULID text form back.
    pub fn from_job_id(s: &str) -> Result<Self, InvalidOpId> {
        Ulid::from_string(s).map(|u| Self(Uuid::from(u))).map_err(|_| InvalidOpId(s.to_owned()))
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for OpId {
    type Err = InvalidOpId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() > 64 {
            return Err(InvalidOpId(s.chars().take(64).collect()));
        }
        Uuid::parse_str(s).map(Self).or_else(|_| Self::from_job_id(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_round_trips() {
        let id = OpId::generate();
        assert_eq!(OpId::from_job_id(&id.job_id()).unwrap(), id);
        assert_eq!(id.job_id().len(), 26);
        assert_eq!(id.to_string().parse::<OpId>().unwrap(), id);
        assert_eq!(id.job_id().parse::<OpId>().unwrap(), id);
    }

    #[test]
    fn garbage_is_rejected_with_the_value() {
        let err = "--proxy=evil".parse::<OpId>().unwrap_err();
        assert!(err.to_string().contains("--proxy=evil"));
        // Found by the gateway's property test: 64 control characters made a 415-character error.
        let err = "\u{1}".repeat(64).parse::<OpId>().unwrap_err().to_string();
        assert!(err.chars().count() < 200, "{err}");
    }
}
