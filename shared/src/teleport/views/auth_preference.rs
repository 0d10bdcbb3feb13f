//! View of the cluster authentication preference, with warnings about weakened settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::seconds;
use crate::teleport::models::AuthPreference;

/// How users authenticate to the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuthPreferenceView {
    /// Primary authentication: `local`, `github`, `oidc` or `saml`.
    #[serde(rename = "type")]
    pub auth_type: String,
    /// Deprecated single second-factor setting (`off`, `otp`, `webauthn`, `on`, `optional`), when set.
    pub second_factor: Option<String>,
    /// Effective second factors (`otp`, `webauthn`, `sso`); empty means none.
    pub second_factors: Vec<String>,
    /// Cluster-wide per-session MFA: `off`, `session`, or a `hardware_key*` mode.
    pub require_session_mfa: String,
    /// Local (password) users may log in; Teleport's default when unset is `true`.
    pub allow_local_auth: bool,
    /// Passwordless (WebAuthn) login allowed; default `true`.
    pub allow_passwordless: bool,
    /// Headless login allowed; default `true`.
    pub allow_headless: bool,
    /// Device trust mode (`off`, `optional`, `required`), when configured.
    pub device_trust_mode: Option<String>,
    /// `best_effort` or `strict`.
    pub locking_mode: String,
    /// Default certificate lifetime, in seconds.
    pub default_session_ttl_seconds: Option<u64>,
    /// Sessions are closed when the certificate expires.
    pub disconnect_expired_cert: bool,
    /// Default SSO connector, when set.
    pub connector_name: Option<String>,
    /// Signature algorithm suite (`balanced-v1`, `fips-v1`, …), when set.
    pub signature_algorithm_suite: Option<String>,
    /// Where the settings come from: `defaults`, `config-file` or `dynamic`.
    pub origin: Option<String>,
    /// Settings that weaken authentication.
    pub warnings: Vec<String>,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.to_owned()).filter(|s| !s.is_empty())
}

/// Second factors as names; some releases print the enum numbers.
fn factor_name(f: &str) -> String {
    match f {
        "1" => "otp".to_owned(),
        "2" => "webauthn".to_owned(),
        "3" => "sso".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

impl AuthPreferenceView {
    /// Builds the view and its warnings.
    pub fn build(pref: &AuthPreference) -> AuthPreferenceView {
        let s = &pref.spec;
        let second_factor = non_empty(&s.second_factor).map(|f| f.to_ascii_lowercase());
        let mut second_factors: Vec<String> = s.second_factors.iter().map(|f| factor_name(f)).collect();
        second_factors.retain(|f| !f.is_empty() && f != "0");
        if second_factors.is_empty() {
            second_factors = match second_factor.as_deref() {
                Some("on") => vec!["otp".into(), "webauthn".into()],
                Some(f @ ("otp" | "webauthn")) => vec![f.to_owned()],
                _ => Vec::new(),
            };
        }
        let auth_type = non_empty(&s.auth_type).unwrap_or_else(|| "local".to_owned());
        let mut view = AuthPreferenceView {
            auth_type,
            second_factor,
            second_factors,
            require_session_mfa: s.require_session_mfa.to_string(),
            allow_local_auth: s.allow_local_auth.unwrap_or(true),
            allow_passwordless: s.allow_passwordless.unwrap_or(true),
            allow_headless: s.allow_headless.unwrap_or(true),
            device_trust_mode: s.device_trust.as_ref().and_then(|d| non_empty(&d.mode)),
            locking_mode: non_empty(&s.locking_mode).unwrap_or_else(|| "best_effort".to_owned()),
            default_session_ttl_seconds: seconds(s.default_session_ttl),
            disconnect_expired_cert: s.disconnect_expired_cert,
            connector_name: non_empty(&s.connector_name),
            signature_algorithm_suite: non_empty(&s.signature_algorithm_suite),
            origin: pref.metadata.labels.get("teleport.dev/origin").cloned(),
            warnings: Vec::new(),
        };
        view.warnings = warnings(&view, pref.spec.require_session_mfa.is_required());
        view
    }
}

fn warnings(v: &AuthPreferenceView, session_mfa: bool) -> Vec<String> {
    let mut w = Vec::new();
    if v.second_factor.as_deref() == Some("optional") {
        w.push("second factor is optional: users may log in without MFA".to_owned());
    } else if v.second_factors.is_empty() {
        w.push("second factor is off: local users log in with a password alone".to_owned());
    }
    if !session_mfa {
        w.push(
            "per-session MFA is not required cluster-wide (require_session_mfa off): a stolen \
             certificate opens sessions without a fresh MFA check"
                .to_owned(),
        );
    }
    if v.auth_type != "local" && v.allow_local_auth {
        w.push(format!(
            "local authentication is allowed alongside SSO ({}): local users bypass the identity \
             provider's controls",
            v.auth_type
        ));
    }
    if v.device_trust_mode.as_deref() == Some("off") {
        w.push("device trust is off: any device with valid credentials can connect".to_owned());
    }
    if v.locking_mode == "best_effort" {
        w.push(
            "locking mode is best_effort: locks may not be enforced while a node cannot reach the \
             Auth Service (strict closes such sessions)"
                .to_owned(),
        );
    }
    if !v.disconnect_expired_cert {
        w.push("sessions are not disconnected when their certificate expires".to_owned());
    }
    w
}
