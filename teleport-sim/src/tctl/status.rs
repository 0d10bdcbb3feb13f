//! `tctl status [--format=text|json|yaml]`: cluster name, version, CA pins and every local
//! certificate authority with its rotation and keys (18.x layout). `--format` exists only from
//! 19.x (`tool/tctl/common/status_command.go`); [`crate::gate`] refuses it on 17.x/18.x.

use super::Ctx;
use super::get::sorted;
use super::kinds::Kind;
use crate::cli::{Command, Flag, Parsed};
use crate::digest::{hex, sha256, unbase64};
use crate::encode::{gojson, table, yaml};
use crate::error::SimError;
use crate::outcome::Outcome;
use crate::timefmt::{human_seconds, parse_go_duration, parse_time};
use crate::value::{Map, Value, obj};

/// The `status` command.
pub const COMMAND: Command =
    Command::new("status", "Report cluster status.").flags(&[Flag::one_of("format", &["text", "json", "yaml"])]);

/// Runs `tctl status`.
pub fn run(parsed: &Parsed, ctx: &Ctx) -> Result<Outcome, SimError> {
    let cluster = ctx.state.cluster_name.as_str();
    let authorities: Vec<Value> = sorted(Kind::CertAuthority, &ctx.state.cert_authorities)
        .into_iter()
        .filter(|ca| ca.str_at(&["spec", "cluster_name"]) == cluster)
        .collect();
    let pins = ca_pins(&authorities);
    let out = match parsed.flag("format").unwrap_or("text") {
        "json" => gojson::write_object(&model(ctx, &pins, &authorities), gojson::TCTL),
        "yaml" => yaml::document(&model(ctx, &pins, &authorities)),
        _ => text(ctx, &pins, &authorities),
    };
    Ok(Outcome::stdout(out))
}

/// `sha256:<hex>` for each TLS certificate of the local host CA, trusted ones included.
fn ca_pins(authorities: &[Value]) -> Vec<String> {
    let host = authorities.iter().filter(|ca| ca.str_at(&["spec", "type"]) == "host");
    host.flat_map(|ca| {
        let active = ca.array_at(&["spec", "active_keys", "tls"]).iter();
        active.chain(ca.array_at(&["spec", "additional_trusted_keys", "tls"]))
    })
    .filter_map(|key| unbase64(key.str_at(&["cert"])))
    .map(|pem| format!("sha256:{}", hex(&sha256(&pem))))
    .collect()
}

/// One key row: protocol, `active`/`trusted`, algorithm.
fn keys(ca: &Value) -> Vec<(&'static str, &'static str, String)> {
    let ca_type = ca.str_at(&["spec", "type"]);
    let mut rows = Vec::new();
    for (protocol, field, material) in
        [("SSH", "ssh", "public_key"), ("TLS", "tls", "cert"), ("JWT", "jwt", "public_key")]
    {
        for (set, status) in [("active_keys", "active"), ("additional_trusted_keys", "trusted")] {
            for key in ca.array_at(&["spec", set, field]) {
                rows.push((protocol, status, algorithm(protocol, ca_type, key.str_at(&[material]))));
            }
        }
    }
    rows
}

/// Reads the algorithm off the key material where it is visible, else the `balanced-v1` default.
fn algorithm(protocol: &str, ca_type: &str, material: &str) -> String {
    let bytes = unbase64(material).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    if protocol == "SSH" {
        let blob_len = text.split_whitespace().nth(1).and_then(unbase64).map_or(0, |b| b.len());
        return match text.split_whitespace().next().unwrap_or("") {
            "ssh-ed25519" => "Ed25519".to_owned(),
            "ecdsa-sha2-nistp256" => "ECDSA P-256".to_owned(),
            "ecdsa-sha2-nistp384" => "ECDSA P-384".to_owned(),
            "ssh-rsa" if blob_len > 400 => "RSA 4096".to_owned(),
            "ssh-rsa" => "RSA 2048".to_owned(),
            _ => "Ed25519".to_owned(),
        };
    }
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der_len = unbase64(&body).map_or(0, |d| d.len());
    match (protocol, der_len) {
        ("JWT", 40..=50) => "Ed25519".to_owned(),
        ("JWT", 80..=100) | ("TLS", 1..=650) => "ECDSA P-256".to_owned(),
        ("JWT", 101..=130) => "ECDSA P-384".to_owned(),
        ("JWT", 131..) | ("TLS", 651..) => "RSA 2048".to_owned(),
        _ if matches!(ca_type, "db" | "db_client" | "saml_idp" | "oidc_idp") => "RSA 2048".to_owned(),
        _ => "ECDSA P-256".to_owned(),
    }
}

/// The rotation cell of the text table.
fn rotation_text(ca: &Value) -> String {
    let rotation = ca.at(&["spec", "rotation"]).cloned().unwrap_or(Value::Null);
    let time = |key: &str| parse_time(rotation.str_at(&[key]));
    match rotation.str_at(&["state"]) {
        "in_progress" => {
            let started = time("started");
            let grace = parse_go_duration(rotation.str_at(&["grace_period"])).unwrap_or(0);
            let ending = started.map(|s| s + chrono::Duration::nanoseconds(grace as i64));
            let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(human_seconds).unwrap_or_default();
            format!(
                "{} (mode: {}, started: {}, ending: {})",
                rotation.str_at(&["phase"]),
                rotation.str_at(&["mode"]),
                fmt(started),
                fmt(ending)
            )
        }
        "" | "standby" => match time("last_rotated") {
            Some(at) => format!("standby (rotated {})", human_seconds(at)),
            None => "standby (never rotated)".to_owned(),
        },
        other => other.to_owned(),
    }
}

fn text(ctx: &Ctx, pins: &[String], authorities: &[Value]) -> String {
    let mut rows = Vec::new();
    for ca in authorities {
        let mut first = true;
        for (protocol, status, algorithm) in keys(ca) {
            let (name, rotation) = if first {
                (ca.str_at(&["spec", "type"]).to_owned(), rotation_text(ca))
            } else {
                (String::new(), String::new())
            };
            first = false;
            let cells = [name, rotation, protocol.into(), status.into(), algorithm, "software".into()];
            rows.push(cells.to_vec());
        }
    }
    let headers = ["authority", "rotation", "protocol", "status", "algorithm", "storage"];
    format!(
        "Cluster: {}\nVersion: {}\nCA pins: {}\n\n{}",
        ctx.state.cluster_name,
        ctx.release.full(),
        pins.join(", "),
        table::render(&headers, &rows)
    )
}

/// The JSON/YAML model: rotation fields `omitempty`, zero times left out.
fn model(ctx: &Ctx, pins: &[String], authorities: &[Value]) -> Value {
    let authorities: Vec<Value> = authorities
        .iter()
        .map(|ca| {
            let mut map = Map::new();
            map.insert("cluster_name", Value::from(ca.str_at(&["spec", "cluster_name"])));
            map.insert("type", Value::from(ca.str_at(&["spec", "type"])));
            if let Some(rotation) = ca.at(&["spec", "rotation"]).and_then(non_empty) {
                map.insert("rotation", rotation);
            }
            let keys = keys(ca).into_iter().map(|(protocol, status, algorithm)| {
                obj! { "protocol" => protocol, "status" => status, "algorithm" => algorithm, "storage" => "software" }
            });
            map.insert("keys", Value::Array(keys.collect()));
            Value::Object(map)
        })
        .collect();
    let pins: Vec<Value> = pins.iter().map(Value::from).collect();
    obj! {
        "cluster" => obj! { "name" => &ctx.state.cluster_name, "version" => ctx.release.full(), "ca_pins" => pins },
        "authorities" => authorities,
    }
}

/// Drops empty strings, zero times and empty objects, recursively; None if nothing is left.
fn non_empty(value: &Value) -> Option<Value> {
    match value {
        Value::String(s) if s.is_empty() || s == crate::timefmt::ZERO_TIME => None,
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                if let Some(v) = non_empty(v) {
                    out.insert(k, v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Null => None,
        other => Some(other.clone()),
    }
}
