//! Demo certificate authorities (the host CA stuck mid-rotation past its grace period, the
//! user CA rotated once, the rest never rotated) and the cluster auth preference
//! (`second_factor: optional`, a weak setting).

use super::{Clock, Gen, keys, labels, metadata};
use crate::state::DEFAULT_CLUSTER;
use crate::timefmt::ZERO_TIME;
use crate::value::{Map, Value, obj};

/// Which key sets a CA type carries, and whether its TLS/JWT keys are RSA.
fn key_set(ca_type: &str, rng: &mut Gen) -> Value {
    let mut map = Map::new();
    let rsa = matches!(ca_type, "db" | "db_client" | "saml_idp" | "oidc_idp" | "spiffe");
    if matches!(ca_type, "host" | "user" | "openssh") {
        let key = obj! { "public_key" => keys::ssh_ed25519(rng) };
        map.insert("ssh", Value::Array(vec![key]));
    }
    if matches!(ca_type, "host" | "user" | "db" | "db_client" | "saml_idp" | "spiffe") {
        let cert = obj! { "cert" => keys::tls_cert(rng, rsa && ca_type != "spiffe") };
        map.insert("tls", Value::Array(vec![cert]));
    }
    if matches!(ca_type, "jwt" | "oidc_idp" | "spiffe") {
        let key = obj! { "public_key" => keys::jwt_public_key(rng, rsa) };
        map.insert("jwt", Value::Array(vec![key]));
    }
    Value::Object(map)
}

fn zero_schedule() -> Value {
    obj! { "update_clients" => ZERO_TIME, "update_servers" => ZERO_TIME, "standby" => ZERO_TIME }
}

fn never_rotated() -> Value {
    obj! {
        "state" => "standby",
        "phase" => "standby",
        "current_id" => "",
        "started" => ZERO_TIME,
        "last_rotated" => ZERO_TIME,
        "schedule" => zero_schedule(),
    }
}

/// A rotation that started `started_days_ago` with a 30h grace period.
fn rotation(clock: &Clock, rng: &mut Gen, in_progress: bool, started_days_ago: i64) -> Value {
    let started = -started_days_ago * 86_400;
    let (state, phase) = if in_progress { ("in_progress", "update_clients") } else { ("standby", "standby") };
    let last_rotated = if in_progress { clock.days_ago(210) } else { clock.offset(started + 30 * 3600) };
    obj! {
        "state" => state,
        "phase" => phase,
        "mode" => if in_progress { "manual" } else { "auto" },
        "current_id" => rng.uuid(),
        "started" => clock.offset(started),
        "grace_period" => "30h0m0s",
        "last_rotated" => last_rotated,
        "schedule" => obj! {
            "update_clients" => clock.offset(started),
            "update_servers" => clock.offset(started + 10 * 3600),
            "standby" => clock.offset(started + 30 * 3600),
        },
    }
}

/// One CA per type of the local cluster, in `types.CertAuthTypes` order.
pub fn all(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x6361_7320);
    let types = ["host", "user", "db", "db_client", "openssh", "jwt", "saml_idp", "oidc_idp", "spiffe"];
    types
        .iter()
        .map(|ca_type| {
            let g = &mut rng;
            let active = key_set(ca_type, g);
            // During update_clients the previous keys stay trusted next to the new ones.
            let trusted = if *ca_type == "host" {
                key_set(ca_type, g)
            } else {
                obj! {}
            };
            let rotation = match *ca_type {
                "host" => Some(rotation(clock, g, true, 3)),
                "user" => Some(rotation(clock, g, false, 92)),
                "saml_idp" | "oidc_idp" => None,
                _ => Some(never_rotated()),
            };
            let mut spec = Map::new();
            spec.insert("type", Value::from(*ca_type));
            spec.insert("cluster_name", Value::from(DEFAULT_CLUSTER));
            spec.insert("active_keys", active);
            spec.insert("additional_trusted_keys", trusted);
            if let Some(rotation) = rotation {
                spec.insert("rotation", rotation);
            }
            obj! {
                "kind" => "cert_authority",
                "sub_kind" => *ca_type,
                "version" => "v2",
                "metadata" => metadata(DEFAULT_CLUSTER, None, None, None, g),
                "spec" => Value::Object(spec),
            }
        })
        .collect()
}

/// The `cluster-auth-preference` singleton.
pub fn auth_preference() -> Value {
    let mut rng = Gen::new(0x6361_7020);
    obj! {
        "kind" => "cluster_auth_preference",
        "version" => "v2",
        "metadata" => metadata(
            "cluster-auth-preference",
            None,
            Some(labels(&[("teleport.dev/origin", "config-file")])),
            None,
            &mut rng,
        ),
        "spec" => obj! {
            "type" => "local",
            "second_factor" => "optional",
            "webauthn" => obj! { "rp_id" => DEFAULT_CLUSTER },
            "allow_local_auth" => true,
            "disconnect_expired_cert" => false,
            "allow_passwordless" => true,
            "allow_headless" => true,
            "locking_mode" => "best_effort",
            "device_trust" => obj! { "mode" => "off" },
            "idp" => obj! { "saml" => obj! { "enabled" => true } },
            "default_session_ttl" => "12h0m0s",
            "okta" => obj! {},
            "signature_algorithm_suite" => "balanced-v1",
            // No `second_factors`: `AuthPreferenceV2.CheckAndSetDefaults` (api/types/authentication.go)
            // refuses a spec that sets both it and `second_factor`.
        },
    }
}
