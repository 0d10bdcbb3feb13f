//! Which Teleport release the simulator imitates: `TELEPORT_SIM_VERSION` (`17`, `18.3.0`, `19.0.0`,
//! a leading `v` allowed), else the state's `version`. Behaviours that differ between releases ask
//! [`Release::major`]; the full string is what `tctl status` and `version` print.
//!
//! Only the majors the control plane supports (17, 18) and the next one (19) are accepted: a
//! simulator that silently imitated an unknown release would test nothing.

use crate::error::SimError;

/// The lowest and highest majors the simulator can imitate.
const MAJORS: std::ops::RangeInclusive<u32> = 17..=19;

/// The patch release a bare major stands for (the newest one whose source the behaviours were read from).
fn default_for(major: u32) -> &'static str {
    match major {
        17 => "17.7.1",
        18 => "18.3.0",
        _ => "19.0.0",
    }
}

/// The imitated release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    major: u32,
    full: String,
}

impl Release {
    /// Parses `17`, `18.3`, `v18.3.0`, `19.0.0-dev`; refuses anything else with the variable's name.
    pub fn parse(text: &str, source: &str) -> Result<Release, SimError> {
        let trimmed = text.trim().trim_start_matches('v');
        let major_text = trimmed.split(['.', '-']).next().unwrap_or_default();
        let major: u32 = major_text.parse().map_err(|_| {
            SimError::msg(format!("teleport-sim: {source} must be a Teleport version such as 18.3.0, got {text:?}"))
        })?;
        if !MAJORS.contains(&major) {
            return Err(SimError::msg(format!(
                "teleport-sim: {source} {text:?}: only Teleport {}–{} can be imitated",
                MAJORS.start(),
                MAJORS.end()
            )));
        }
        let full = if trimmed.contains('.') { trimmed.to_owned() } else { default_for(major).to_owned() };
        Ok(Release { major, full })
    }

    /// `TELEPORT_SIM_VERSION` when set, else the state's version.
    pub fn resolve(env_version: Option<&str>, state_version: &str) -> Result<Release, SimError> {
        match env_version {
            Some(text) => Release::parse(text, "TELEPORT_SIM_VERSION"),
            None => Release::parse(state_version, "the state's version"),
        }
    }

    /// The major release number (17, 18, 19).
    pub fn major(&self) -> u32 {
        self.major
    }

    /// The version string as Teleport prints it (no `v`).
    pub fn full(&self) -> &str {
        &self.full
    }
}

#[cfg(test)]
mod tests {
    use super::Release;

    #[test]
    fn majors_and_full_versions() {
        let r = Release::parse("17", "X").unwrap();
        assert_eq!((r.major(), r.full()), (17, "17.7.1"));
        let r = Release::parse("v18.3.0", "X").unwrap();
        assert_eq!((r.major(), r.full()), (18, "18.3.0"));
        let r = Release::parse("19.0.0-dev", "X").unwrap();
        assert_eq!((r.major(), r.full()), (19, "19.0.0-dev"));
    }

    #[test]
    fn refuses_unknown_releases() {
        for bad in ["16.4.0", "20", "latest", ""] {
            let err = Release::parse(bad, "TELEPORT_SIM_VERSION").unwrap_err().to_string();
            assert!(err.contains("TELEPORT_SIM_VERSION"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_environment_wins_over_the_state() {
        assert_eq!(Release::resolve(Some("17"), "18.1.4").unwrap().major(), 17);
        assert_eq!(Release::resolve(None, "18.1.4").unwrap().full(), "18.1.4");
    }
}
