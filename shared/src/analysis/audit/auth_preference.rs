//! `auth_preference.update` events judged against the cluster's current `cluster_auth_preference`.
//!
//! Teleport's `AuthPreferenceUpdate` event (`api/proto/teleport/legacy/types/events/events.proto`)
//! carries who changed the settings and from where, never the settings themselves. The detector
//! therefore emits a pending `auth_preference_changed` finding per event, and the job that has a
//! Teleport runner reads the current resource (`tctl get cluster_auth_preference`) and judges it
//! here. The rules follow `api/types/authentication.go`: `GetSecondFactors` (an explicit
//! `second_factors` list, else the legacy `second_factor` converted: `off` → none, `otp`/`webauthn`
//! → itself, `on`/`optional` → both), `IsSecondFactorEnforced` (some factor and not `optional`) and
//! `IsAdminActionMFAEnforced` (enforced and OTP not allowed).

use super::{AnomalyFinding, AnomalyReport};
use crate::analysis::Severity;
use crate::teleport::models::AuthPreferenceSpec;

/// Signal of an auth preference change not judged yet (or not judgeable).
pub const AUTH_PREFERENCE_CHANGED: &str = "auth_preference_changed";
/// Signal of an auth preference change after which MFA is off, optional or weaker.
pub const WEAKENED_SECOND_FACTOR: &str = "weakened_second_factor";

/// What the job could learn about the current auth preference.
#[derive(Debug, Clone, Copy)]
pub enum CurrentAuthPreference<'a> {
    /// `tctl get cluster_auth_preference` answered.
    Read(&'a AuthPreferenceSpec),
    /// It could not be read; the reason (already redacted).
    Unavailable(&'a str),
}

/// The second factors the cluster accepts, as `GetSecondFactors` computes them.
pub fn effective_second_factors(spec: &AuthPreferenceSpec) -> Vec<String> {
    let list: Vec<String> = spec.second_factors.iter().map(|f| normalize_factor(f)).collect();
    if !list.is_empty() {
        return list;
    }
    match spec.second_factor.trim().to_ascii_lowercase().as_str() {
        "otp" => vec!["otp".into()],
        "webauthn" | "u2f" => vec!["webauthn".into()],
        "on" | "optional" => vec!["otp".into(), "webauthn".into()],
        // `off`; an empty value is defaulted to `otp` by CheckAndSetDefaults before it is stored.
        "" => vec!["otp".into()],
        _ => Vec::new(),
    }
}

/// `second_factors` items: names, or the enum's numbers in some releases (1 otp, 2 webauthn, 3 sso).
fn normalize_factor(f: &str) -> String {
    match f.trim().to_ascii_lowercase().as_str() {
        "1" | "second_factor_type_otp" => "otp".into(),
        "2" | "second_factor_type_webauthn" => "webauthn".into(),
        "3" | "second_factor_type_sso" => "sso".into(),
        other => other.to_owned(),
    }
}

/// How weak a second-factor setting is, or `None` when a second factor is enforced
/// (`IsSecondFactorEnforced`).
pub fn second_factor_weakness(spec: &AuthPreferenceSpec) -> Option<(Severity, String)> {
    let factors = effective_second_factors(spec);
    let legacy = spec.second_factor.trim().to_ascii_lowercase();
    if factors.is_empty() {
        return Some((
            Severity::Critical,
            "no second factor is enabled (`second_factor: off`): logins need only a password".into(),
        ));
    }
    if legacy == "optional" {
        return Some((Severity::High, "the second factor is `optional`: users may log in without MFA".into()));
    }
    None
}

/// Judge every pending `auth_preference_changed` finding against the current settings: weak ones
/// become `weakened_second_factor`, strong ones drop to low; when the settings could not be read
/// the findings stay medium and the report says why.
pub fn judge_auth_preference_changes(report: &mut AnomalyReport, current: CurrentAuthPreference<'_>) {
    let pending: Vec<&mut AnomalyFinding> =
        report.findings.iter_mut().filter(|f| f.signal == AUTH_PREFERENCE_CHANGED).collect();
    if pending.is_empty() {
        return;
    }
    match current {
        CurrentAuthPreference::Unavailable(why) => {
            report.notes.push(format!(
                "auth preference changes were not judged: the current cluster_auth_preference could not be read ({why})"
            ));
        }
        CurrentAuthPreference::Read(spec) => {
            let weakness = second_factor_weakness(spec);
            for f in pending {
                match &weakness {
                    Some((severity, why)) => {
                        f.signal = WEAKENED_SECOND_FACTOR.into();
                        f.severity = *severity;
                        f.description = format!(
                            "The user in `subject` changed the cluster auth preference; as read now, {why}. The \
                             event does not carry the settings: a later change may have set them."
                        );
                    }
                    None => {
                        let factors = effective_second_factors(spec);
                        // IsAdminActionMFAEnforced: admin actions need MFA only when OTP is not allowed.
                        let admin = if factors.iter().any(|f| f == "otp") {
                            " Admin actions do not require MFA while OTP is allowed."
                        } else {
                            ""
                        };
                        f.severity = Severity::Low;
                        f.description = format!(
                            "The user in `subject` changed the cluster auth preference; as read now, a second \
                             factor is still enforced (`details.second_factors`).{admin}"
                        );
                        f.details.insert("second_factors".into(), factors);
                    }
                }
            }
        }
    }
    super::report::sort_findings(&mut report.findings);
}

/// Whether the report holds auth preference changes waiting for the current settings.
pub fn needs_auth_preference(report: &AnomalyReport) -> bool {
    report.findings.iter().any(|f| f.signal == AUTH_PREFERENCE_CHANGED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sf: &str, list: &[&str]) -> AuthPreferenceSpec {
        AuthPreferenceSpec {
            second_factor: sf.into(),
            second_factors: list.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn weakness_follows_teleports_rules() {
        assert_eq!(second_factor_weakness(&spec("off", &[])).map(|w| w.0), Some(Severity::Critical));
        assert_eq!(second_factor_weakness(&spec("optional", &[])).map(|w| w.0), Some(Severity::High));
        assert_eq!(second_factor_weakness(&spec("on", &[])), None);
        assert_eq!(second_factor_weakness(&spec("", &["otp", "webauthn"])), None);
        assert_eq!(second_factor_weakness(&spec("", &["sso"])), None);
        assert_eq!(second_factor_weakness(&spec("webauthn", &[])), None);
        assert_eq!(second_factor_weakness(&spec("", &["webauthn", "sso"])), None);
        assert_eq!(second_factor_weakness(&spec("", &["2"])), None);
    }
}
