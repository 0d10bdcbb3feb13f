//! The cluster authentication preference (`AuthPreferenceV2`), printed by
//! `tctl get cluster_auth_preference`, and the per-session MFA requirement shared with roles.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{Metadata, de as lenient};

/// The singleton `cluster-auth-preference` resource.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthPreference {
    /// `cluster_auth_preference`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub kind: String,
    /// `v2`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub version: String,
    /// Name and the `teleport.dev/origin` label.
    #[serde(deserialize_with = "lenient::nullable")]
    pub metadata: Metadata,
    /// The settings.
    #[serde(deserialize_with = "lenient::nullable")]
    pub spec: AuthPreferenceSpec,
}

/// `AuthPreferenceSpecV2` (security-relevant fields).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthPreferenceSpec {
    /// `local`, `oidc`, `saml`, `github`.
    #[serde(rename = "type", deserialize_with = "lenient::lenient_string")]
    pub auth_type: String,
    /// Deprecated single setting: `off|otp|webauthn|on|optional`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub second_factor: String,
    /// `otp`, `webauthn`, `sso` (numbers in some releases: 1, 2, 3).
    #[serde(deserialize_with = "lenient::string_list")]
    pub second_factors: Vec<String>,
    /// Default connector name.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub connector_name: String,
    /// Cluster-wide per-session MFA.
    pub require_session_mfa: MfaRequirement,
    /// `None` means unset (Teleport's default: allowed).
    #[serde(deserialize_with = "lenient::lenient_opt_bool")]
    pub allow_local_auth: Option<bool>,
    /// `None` means unset (Teleport's default: allowed).
    #[serde(deserialize_with = "lenient::lenient_opt_bool")]
    pub allow_passwordless: Option<bool>,
    /// `None` means unset (Teleport's default: allowed).
    #[serde(deserialize_with = "lenient::lenient_opt_bool")]
    pub allow_headless: Option<bool>,
    /// Close sessions when the certificate expires.
    #[serde(deserialize_with = "lenient::lenient_bool")]
    pub disconnect_expired_cert: bool,
    /// `best_effort` (default) or `strict`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub locking_mode: String,
    /// Device trust settings.
    #[serde(deserialize_with = "lenient::nullable")]
    pub device_trust: Option<DeviceTrust>,
    /// Default certificate TTL.
    #[serde(deserialize_with = "lenient::go_duration")]
    pub default_session_ttl: Option<Duration>,
    /// `legacy`, `balanced-v1`, `fips-v1`, `hsm-v1` (or its number).
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub signature_algorithm_suite: String,
    /// Message shown at login.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub message_of_the_day: String,
}

/// `device_trust`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DeviceTrust {
    /// `off`, `optional`, `required`.
    #[serde(deserialize_with = "lenient::lenient_string")]
    pub mode: String,
    /// Auto-enrollment.
    #[serde(deserialize_with = "lenient::lenient_bool")]
    pub auto_enroll: bool,
}

/// `require_session_mfa`: `false`/absent, `true`, or a hardware-key variant (also its enum number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MfaRequirement {
    /// Not required.
    #[default]
    Off,
    /// MFA per session.
    Session,
    /// Per session, and a hardware key.
    HardwareKey,
    /// Hardware key with touch.
    HardwareKeyTouch,
    /// Hardware key with PIN.
    HardwareKeyPin,
    /// Hardware key with touch and PIN.
    HardwareKeyTouchAndPin,
    /// A value this version does not know.
    Other(String),
}

impl MfaRequirement {
    /// Whether any per-session MFA is required.
    pub fn is_required(&self) -> bool {
        !matches!(self, MfaRequirement::Off)
    }

    fn from_text(s: &str) -> MfaRequirement {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "" | "false" | "no" | "off" | "0" => MfaRequirement::Off,
            "true" | "yes" | "on" | "session" | "1" => MfaRequirement::Session,
            "hardware_key" | "session_and_hardware_key" | "2" => MfaRequirement::HardwareKey,
            "hardware_key_touch" | "3" => MfaRequirement::HardwareKeyTouch,
            "hardware_key_pin" | "4" => MfaRequirement::HardwareKeyPin,
            "hardware_key_touch_and_pin" | "5" => MfaRequirement::HardwareKeyTouchAndPin,
            _ => MfaRequirement::Other(s.to_owned()),
        }
    }
}

impl fmt::Display for MfaRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MfaRequirement::Off => "off",
            MfaRequirement::Session => "session",
            MfaRequirement::HardwareKey => "hardware_key",
            MfaRequirement::HardwareKeyTouch => "hardware_key_touch",
            MfaRequirement::HardwareKeyPin => "hardware_key_pin",
            MfaRequirement::HardwareKeyTouchAndPin => "hardware_key_touch_and_pin",
            MfaRequirement::Other(s) => s,
        })
    }
}

impl<'de> Deserialize<'de> for MfaRequirement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(MfaRequirement::Off),
            serde_json::Value::Bool(b) => Ok(if b { MfaRequirement::Session } else { MfaRequirement::Off }),
            serde_json::Value::Number(n) => Ok(MfaRequirement::from_text(&n.to_string())),
            serde_json::Value::String(s) => Ok(MfaRequirement::from_text(&s)),
            other => Err(de::Error::custom(format!(
                "expected a boolean or an MFA mode for require_session_mfa, found {other}"
            ))),
        }
    }
}
