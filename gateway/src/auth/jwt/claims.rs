//! From a verified token's claims to the caller's identity: actor, role, groups and scopes.

use mtcp_shared::config::OidcConfig;
use serde_json::{Map, Value};

use super::{JwtError, VerifiedToken};

/// Longest role name accepted (it ends up in the audit trail and in policy lookups).
const MAX_NAME_CHARS: usize = 256;

/// Longest actor claim accepted: the actor id is the claim behind `oidc:`, and the whole id must
/// fit the stored actor column.
const MAX_ACTOR_CLAIM_CHARS: usize = mtcp_shared::domain::MAX_ACTOR_CHARS - mtcp_shared::domain::JWT_ACTOR_PREFIX.len();

/// Which claims carry what, from `auth.oidc`.
pub(super) struct ClaimRules {
    actor: String,
    role: Option<String>,
    groups: String,
    required_scope: Option<String>,
}

impl ClaimRules {
    pub(super) fn from_config(cfg: &OidcConfig) -> Self {
        Self {
            actor: cfg.actor_claim.clone(),
            role: cfg.role_claim.clone(),
            groups: cfg.groups_claim.clone(),
            required_scope: cfg.required_scope.clone(),
        }
    }

    /// Extract the identity from claims whose signature, issuer, audience and times are verified.
    /// Claim names are matched exactly (no dotted paths: namespaced claims such as
    /// `https://example.com/groups` contain dots).
    pub(super) fn extract(&self, claims: Map<String, Value>) -> Result<VerifiedToken, JwtError> {
        let actor = match claims.get(&self.actor) {
            None | Some(Value::Null) => return Err(JwtError::MissingClaim { claim: self.actor.clone() }),
            Some(value) => name(value, MAX_ACTOR_CLAIM_CHARS).ok_or_else(|| invalid(&self.actor))?,
        };
        let role = match self.role.as_deref().and_then(|claim| Some((claim, claims.get(claim)?))) {
            None | Some((_, Value::Null)) => None,
            // An empty role means "no role" to some providers: leave the choice to policy bindings.
            Some((_, Value::String(s))) if s.is_empty() => None,
            Some((claim, value)) => Some(name(value, MAX_NAME_CHARS).ok_or_else(|| invalid(claim))?),
        };
        let groups = strings(claims.get(&self.groups), false).ok_or_else(|| invalid(&self.groups))?;
        // `scope` is the RFC 8693/9068 space-separated string; `scp` is Entra ID's and Okta's form.
        let mut scopes = strings(claims.get("scope"), true).ok_or_else(|| invalid("scope"))?;
        for scope in strings(claims.get("scp"), true).ok_or_else(|| invalid("scp"))? {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let has_required_scope = self.required_scope.as_ref().is_none_or(|required| scopes.contains(required));
        let expires_at = claims.get("exp").and_then(Value::as_f64).map(JwtError::timestamp);
        Ok(VerifiedToken { actor, role, groups, scopes, claims, has_required_scope, expires_at })
    }
}

/// Refuse a token that claims to be issued in the future beyond the leeway (the JWT library checks
/// `exp` and `nbf` but not `iat`). Returns the `iat` time as the error's "not valid before".
pub(super) fn check_issued_at(claims: &Map<String, Value>, now: u64, leeway: u64) -> Result<(), JwtError> {
    match claims.get("iat") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(iat) if iat > now.saturating_add(leeway) as f64 => {
                Err(JwtError::NotYetValid { at: JwtError::timestamp(iat) })
            }
            Some(_) => Ok(()),
            None => Err(invalid("iat")),
        },
        Some(_) => Err(invalid("iat")),
    }
}

fn invalid(claim: &str) -> JwtError {
    JwtError::InvalidClaim { claim: claim.to_owned() }
}

/// A non-empty string of at most `max` characters, one printable line (no controls, bidi
/// overrides or invisible characters: the name is shown in the audit trail).
fn name(value: &Value, max: usize) -> Option<String> {
    use mtcp_shared::domain::{TextKind, unprintable};
    let s = value.as_str()?;
    let ok = !s.is_empty() && s.chars().count() <= max && unprintable(s, TextKind::Name).is_none();
    ok.then(|| s.to_owned())
}

/// A claim holding a list of strings: an array of strings, or one string (split on spaces when
/// `space_separated`). Absent is empty; any other shape is `None`.
fn strings(value: Option<&Value>, space_separated: bool) -> Option<Vec<String>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::String(s)) if space_separated => Some(s.split_whitespace().map(str::to_owned).collect()),
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(role: Option<&str>, required_scope: Option<&str>) -> ClaimRules {
        ClaimRules {
            actor: "sub".into(),
            role: role.map(Into::into),
            groups: "groups".into(),
            required_scope: required_scope.map(Into::into),
        }
    }

    fn extract(rules: &ClaimRules, claims: Value) -> Result<VerifiedToken, JwtError> {
        let Value::Object(map) = claims else { panic!("claims must be an object") };
        rules.extract(map)
    }

    #[test]
    fn groups_and_scopes_come_in_either_form() {
        let t = extract(&rules(None, None), json!({"sub": "a", "groups": "sre", "scp": ["x", "y"], "scope": "y z"}))
            .unwrap();
        assert_eq!(t.groups, ["sre"]);
        assert_eq!(t.scopes, ["y", "z", "x"]);
        assert!(t.has_required_scope, "no scope is required");
        let t = extract(&rules(None, Some("x")), json!({"sub": "a", "scp": "x w"})).unwrap();
        assert_eq!((t.scopes, t.has_required_scope), (vec!["x".to_owned(), "w".to_owned()], true));
    }

    #[test]
    fn a_bad_actor_or_role_or_group_list_is_refused_by_claim_name() {
        let bad = [
            (json!({"sub": ""}), "sub"),
            (json!({"sub": "a\nb"}), "sub"),
            (json!({"sub": "admin\u{202e}nimda"}), "sub"),
            (json!({"sub": "ad\u{ad}min"}), "sub"),
            (json!({"sub": "x".repeat(252)}), "sub"),
            (json!({"sub": 42}), "sub"),
            (json!({"sub": "a", "role": ["admin"]}), "role"),
            (json!({"sub": "a", "groups": ["sre", 7]}), "groups"),
            (json!({"sub": "a", "scope": ["s"], "scp": 1}), "scp"),
        ];
        for (claims, claim) in bad {
            match extract(&rules(Some("role"), None), claims.clone()) {
                Err(JwtError::InvalidClaim { claim: c }) => assert_eq!(c, claim, "{claims}"),
                other => panic!("{claims}: expected InvalidClaim, got {other:?}"),
            }
        }
        // 251 characters behind `oidc:` fill the stored actor column exactly.
        assert_eq!(extract(&rules(None, None), json!({"sub": "x".repeat(251)})).unwrap().actor.len(), 251);
        assert_eq!(extract(&rules(Some("role"), None), json!({"sub": "a", "role": ""})).unwrap().role, None);
    }

    #[test]
    fn an_iat_in_the_future_beyond_leeway_is_refused() {
        let claims = |iat: Value| json!({ "iat": iat }).as_object().unwrap().clone();
        assert!(check_issued_at(&claims(json!(1_000)), 1_000, 60).is_ok());
        assert!(check_issued_at(&claims(json!(1_060)), 1_000, 60).is_ok());
        let err = check_issued_at(&claims(json!(1_061)), 1_000, 60).unwrap_err();
        assert_eq!(err.to_string(), "token not valid before 1970-01-01T00:17:41Z");
        assert_eq!(check_issued_at(&claims(json!("soon")), 1_000, 60).unwrap_err().label(), "invalid_claim");
    }
}
