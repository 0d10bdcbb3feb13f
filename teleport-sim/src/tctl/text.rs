//! `--format=text` tables for each kind (`tool/tctl/common/collection.go`).

use chrono::{DateTime, Utc};

use super::kinds::Kind;
use crate::digest::{base64, sha256, unbase64};
use crate::encode::table::render;
use crate::timefmt::{go_duration_secs, parse_time, rfc822};
use crate::value::Value;

/// The table for `items` of `kind`.
pub fn table(kind: Kind, items: &[Value], verbose: bool, now: DateTime<Utc>) -> String {
    match kind {
        Kind::Node | Kind::Proxy => nodes(items, verbose),
        Kind::Role => roles(items),
        Kind::User => render(
            &["User", "Roles"],
            &rows(items, |u| {
                vec![u.str_at(&["metadata", "name"]).to_owned(), strings(u.array_at(&["spec", "roles"]), ",")]
            }),
        ),
        Kind::Token => tokens(items, false, now),
        Kind::CertAuthority => authorities(items),
        Kind::AuthPreference => render(
            &["Type", "Second Factors"],
            &rows(items, |p| vec![p.str_at(&["spec", "type"]).to_owned(), second_factors(p).join(", ")]),
        ),
        Kind::DbServer | Kind::Database | Kind::AppServer | Kind::App | Kind::KubeServer | Kind::KubeCluster => {
            targets(items)
        }
        Kind::WindowsDesktop => render(
            &["Name", "Address", "Labels"],
            &rows(items, |d| {
                vec![d.str_at(&["metadata", "name"]).to_owned(), d.str_at(&["spec", "addr"]).to_owned(), label_text(d)]
            }),
        ),
        Kind::Empty(_) => render(&["Name"], &[]),
    }
}

/// `AuthPreferenceV2.GetSecondFactors` (api/types/authentication.go): the `second_factors` list,
/// else the legacy `second_factor` converted (`off` none, `on`/`optional` both).
fn second_factors(p: &Value) -> Vec<&str> {
    let list: Vec<&str> = p.array_at(&["spec", "second_factors"]).iter().filter_map(Value::as_str).collect();
    if !list.is_empty() {
        return list;
    }
    match p.str_at(&["spec", "second_factor"]) {
        "otp" => vec!["otp"],
        "webauthn" => vec!["webauthn"],
        "on" | "optional" => vec!["otp", "webauthn"],
        _ => Vec::new(),
    }
}

fn rows(items: &[Value], row: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    items.iter().map(row).collect()
}

/// Joins the string members of a list.
fn strings(items: &[Value], sep: &str) -> String {
    items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(sep)
}

/// `Host UUID Public Address Labels Version`, sorted by hostname.
pub fn nodes(items: &[Value], verbose: bool) -> String {
    let mut items = items.to_vec();
    items.sort_by(|a, b| a.str_at(&["spec", "hostname"]).cmp(b.str_at(&["spec", "hostname"])));
    let rows = rows(&items, |n| {
        let tunnel = n.at(&["spec", "use_tunnel"]).and_then(Value::as_bool) == Some(true);
        let addr = if tunnel { "⟵ Tunnel" } else { n.str_at(&["spec", "addr"]) };
        vec![
            n.str_at(&["spec", "hostname"]).to_owned(),
            n.str_at(&["metadata", "name"]).to_owned(),
            addr.to_owned(),
            node_labels(n, verbose),
            n.str_at(&["spec", "version"]).to_owned(),
        ]
    });
    render(&["Host", "UUID", "Public Address", "Labels", "Version"], &rows)
}

/// Static and command labels as `k=v,…`; internal labels only when verbose.
fn node_labels(node: &Value, verbose: bool) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = node.at(&["metadata", "labels"]).and_then(Value::as_object) {
        pairs.extend(labels.iter().map(|(k, v)| (k.to_owned(), v.as_str().unwrap_or("").to_owned())));
    }
    if let Some(cmd) = node.at(&["spec", "cmd_labels"]).and_then(Value::as_object) {
        pairs.extend(cmd.iter().map(|(k, v)| (k.to_owned(), v.str_at(&["result"]).to_owned())));
    }
    pairs.sort();
    pairs
        .into_iter()
        .filter(|(k, _)| verbose || !k.starts_with("teleport.internal/"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn roles(items: &[Value]) -> String {
    let rows = rows(items, |r| {
        let allow = r.at(&["spec", "allow"]).cloned().unwrap_or(Value::Null);
        let labels = match allow.get("node_labels").and_then(Value::as_object) {
            Some(map) if map.get("*").and_then(Value::as_str) == Some("*") => "<all nodes>".to_owned(),
            Some(map) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::Array(values) => format!("{k}={}", strings(values, ",")),
                    other => format!("{k}={}", other.as_str().unwrap_or("")),
                })
                .collect::<Vec<_>>()
                .join(","),
            None => String::new(),
        };
        let rules = allow
            .array_at(&["rules"])
            .iter()
            .map(|rule| {
                format!("{}:{}", strings(rule.array_at(&["resources"]), ","), strings(rule.array_at(&["verbs"]), ","))
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![r.str_at(&["metadata", "name"]).to_owned(), strings(allow.array_at(&["logins"]), ","), labels, rules]
    });
    render(&["Role", "Allowed to login as", "Node Labels", "Access to resources"], &rows)
}

/// `Token Type Labels Expiry Time (UTC)`; names masked unless `with_secrets`.
pub fn tokens(items: &[Value], with_secrets: bool, now: DateTime<Utc>) -> String {
    let rows = rows(items, |t| {
        let name = t.str_at(&["metadata", "name"]);
        let labels = t
            .at(&["metadata", "labels"])
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","))
            .unwrap_or_default();
        let expiry = match parse_time(t.str_at(&["metadata", "expires"])) {
            Some(at) => {
                let left = (at - now).num_seconds();
                let left = if left < 0 {
                    format!("-{}", go_duration_secs(left.unsigned_abs()))
                } else {
                    go_duration_secs(left as u64)
                };
                format!("{} ({left})", rfc822(at))
            }
            None => "never".to_owned(),
        };
        vec![
            if with_secrets { name.to_owned() } else { mask(name) },
            strings(t.array_at(&["spec", "roles"]), ","),
            labels,
            expiry,
        ]
    });
    render(&["Token", "Type", "Labels", "Expiry Time (UTC)"], &rows)
}

/// The safe name `tctl tokens ls` shows: the first 75 % starred, all of it under 16 characters.
pub fn mask(name: &str) -> String {
    let len = name.chars().count();
    if len < 16 {
        return "*".repeat(len);
    }
    let hidden = len * 3 / 4;
    "*".repeat(hidden) + &name.chars().skip(hidden).collect::<String>()
}

/// `Cluster Name CA Type Fingerprint Role Map`, one row per SSH key.
fn authorities(items: &[Value]) -> String {
    let mut rows = Vec::new();
    for ca in items {
        let ca_type = ca.str_at(&["spec", "type"]);
        let role_map = if ca_type == "host" { "N/A".to_owned() } else { String::new() };
        for key in ca.array_at(&["spec", "active_keys", "ssh"]) {
            rows.push(vec![
                ca.str_at(&["spec", "cluster_name"]).to_owned(),
                ca_type.to_owned(),
                fingerprint(key.str_at(&["public_key"])),
                role_map.clone(),
            ]);
        }
    }
    render(&["Cluster Name", "CA Type", "Fingerprint", "Role Map"], &rows)
}

/// `ssh.FingerprintSHA256` of a base64 `authorized_keys` line.
fn fingerprint(public_key: &str) -> String {
    let line = unbase64(public_key).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    let blob = line.split_whitespace().nth(1).and_then(unbase64).unwrap_or_default();
    format!("SHA256:{}", base64(&sha256(&blob)).trim_end_matches('='))
}

/// Servers and targets: the serving host (servers only), the target's name, its URI and labels.
fn targets(items: &[Value]) -> String {
    render(
        &["Host", "Name", "URI", "Labels"],
        &rows(items, |v| {
            let target = ["database", "app", "cluster"].iter().find_map(|f| v.at(&["spec", f])).unwrap_or(v);
            vec![
                v.str_at(&["spec", "hostname"]).to_owned(),
                target.str_at(&["metadata", "name"]).to_owned(),
                target.str_at(&["spec", "uri"]).to_owned(),
                label_text(target),
            ]
        }),
    )
}

/// `k=v` pairs, comma-separated, keys sorted.
fn label_text(v: &Value) -> String {
    let Some(labels) = v.at(&["metadata", "labels"]).and_then(Value::as_object) else {
        return String::new();
    };
    let mut pairs: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    pairs.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_masked_like_tctl() {
        assert_eq!(mask("short"), "*****");
        assert_eq!(mask("0123456789abcdef"), "************cdef");
    }
}
