//! What a proxy lease points at, parsed per kind, and where it may listen. Every value that will
//! reach a `tsh proxy` command line is a validated name that cannot be read as a flag.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{LeaseKind, escaped, quoted};

/// A target or listen address that is not acceptable; the message names the field.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTarget(pub String);

/// The parsed target of a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LeaseTarget {
    /// `[login@]host[:port]` for `tsh proxy ssh`.
    Ssh {
        host: String,
        login: Option<String>,
        port: Option<u16>,
    },
    Db {
        db: String,
        db_user: Option<String>,
        db_name: Option<String>,
    },
    App {
        app: String,
    },
    Mcp {
        app: String,
    },
    /// The Kubernetes cluster to proxy. Always set by [`LeaseTarget::parse`]: without one, tsh
    /// uses only clusters logged in through `tsh kube login`, and the isolated home has none.
    /// (Optional in the type so rows written before it was required still read.)
    Kube {
        kube_cluster: Option<String>,
    },
    Vnet,
}

/// Printed characters of a refused value echoed back: 64, and the quotes.
const ECHO: usize = 66;

fn name(field: &str, v: &str) -> Result<String, InvalidTarget> {
    let ok = !v.is_empty()
        && v.len() <= 253
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | ':'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(InvalidTarget(format!(
            "`target.{field}`: {} is not a Teleport name (letters, digits, . _ - @ :, starting with a letter or digit)",
            quoted(v, ECHO)
        )))
    }
}

/// A login name as `tsh` passes it to the node: letters, digits, `_ . -`, at most 32, not starting
/// with `-` or `.`. Err: what is wrong.
pub fn check_ssh_login(login: &str) -> Result<(), String> {
    let ok = !login.is_empty()
        && login.len() <= 32
        && login.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err("a login is letters, digits, _ . - (at most 32, starting with a letter, digit or _)".into())
    }
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Result<Option<&'a str>, InvalidTarget> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(InvalidTarget(format!("`target.{key}` must be a string"))),
    }
}

impl LeaseTarget {
    /// Parse `target` (a JSON object, or absent) for `kind`. Unknown fields are refused.
    pub fn parse(kind: LeaseKind, target: Option<&Value>) -> Result<Self, InvalidTarget> {
        let empty = serde_json::Map::new();
        let obj = match target {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(o)) => o,
            Some(_) => return Err(InvalidTarget("`target` must be an object, e.g. {\"db\": \"orders\"}".into())),
        };
        let allowed: &[&str] = match kind {
            LeaseKind::ProxySsh => &["host"],
            LeaseKind::ProxyDb => &["db", "db_user", "db_name"],
            LeaseKind::ProxyApp | LeaseKind::ProxyMcp => &["app"],
            LeaseKind::ProxyKube => &["kube_cluster"],
            LeaseKind::Vnet => &[],
        };
        if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(InvalidTarget(format!(
                "`target.{}` is not a field of a {kind} target (fields: {})",
                escaped(extra, ECHO - 2),
                if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
            )));
        }
        let required =
            |key: &str| field(obj, key)?.ok_or_else(|| InvalidTarget(format!("a {kind} lease needs `target.{key}`")));
        let optional = |key: &str| field(obj, key)?.map(|v| name(key, v)).transpose();
        Ok(match kind {
            LeaseKind::ProxySsh => {
                let spec = required("host")?;
                let (login, rest) = match spec.split_once('@') {
                    Some((l, r)) => {
                        check_ssh_login(l).map_err(|e| {
                            InvalidTarget(format!("`target.host`: the login {} is not valid: {e}", quoted(l, ECHO)))
                        })?;
                        (Some(l.to_owned()), r)
                    }
                    None => (None, spec),
                };
                // One `@` at most: `a@b@host` would hand tsh a login the policy never saw.
                if rest.contains('@') {
                    return Err(InvalidTarget(format!(
                        "`target.host`: {} holds more than one `@`; write login@host[:port]",
                        quoted(spec, ECHO)
                    )));
                }
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) => (
                        h,
                        Some(p.parse::<u16>().map_err(|_| InvalidTarget(format!("`target.host`: bad port {p:?}")))?),
                    ),
                    None => (rest, None),
                };
                Self::Ssh { host: name("host", host)?, login, port }
            }
            LeaseKind::ProxyDb => Self::Db {
                db: name("db", required("db")?)?,
                db_user: optional("db_user")?,
                db_name: optional("db_name")?,
            },
            LeaseKind::ProxyApp => Self::App { app: name("app", required("app")?)? },
            LeaseKind::ProxyMcp => Self::Mcp { app: name("app", required("app")?)? },
            LeaseKind::ProxyKube => {
                let cluster = field(obj, "kube_cluster")?.ok_or_else(|| {
                    InvalidTarget(format!(
                        "a {kind} lease needs `target.kube_cluster`: without one, tsh proxy kube uses only clusters \
                         logged in through `tsh kube login`, and the control plane's own Teleport home has none \
                         (`tsh kube ls` lists the clusters)"
                    ))
                })?;
                Self::Kube { kube_cluster: Some(name("kube_cluster", cluster)?) }
            }
            LeaseKind::Vnet => Self::Vnet,
        })
    }
}

/// Parse a requested listen address: loopback only (a proxy carries the control plane's Teleport
/// identity; it must not be reachable from the network), port 0 for any.
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, InvalidTarget> {
    let addr: SocketAddr = s
        .parse()
        .map_err(|_| InvalidTarget(format!("`listen_addr`: {} is not host:port, e.g. 127.0.0.1:0", quoted(s, ECHO))))?;
    let loopback = match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    };
    if !loopback {
        return Err(InvalidTarget(format!(
            "`listen_addr`: {addr} is not a loopback address; proxies listen on 127.0.0.1 or ::1 only"
        )));
    }
    // A privileged port on loopback could stand in for a local service (sshd, a database) that is
    // down or not yet started; the workers may run as root and could bind it.
    if addr.port() != 0 && addr.port() < 1024 {
        return Err(InvalidTarget(format!(
            "`listen_addr`: port {} is below 1024; use 0 for any free port, or one from 1024 to 65535",
            addr.port()
        )));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse_per_kind_and_refuse_flags_and_strays() {
        let t = LeaseTarget::parse(LeaseKind::ProxyDb, Some(&json!({"db": "orders", "db_user": "ro"}))).unwrap();
        assert_eq!(t, LeaseTarget::Db { db: "orders".into(), db_user: Some("ro".into()), db_name: None });
        let t = LeaseTarget::parse(LeaseKind::ProxySsh, Some(&json!({"host": "ubuntu@web-01:22"}))).unwrap();
        assert_eq!(t, LeaseTarget::Ssh { host: "web-01".into(), login: Some("ubuntu".into()), port: Some(22) });
        assert_eq!(LeaseTarget::parse(LeaseKind::Vnet, None).unwrap(), LeaseTarget::Vnet);
        for host in ["a@b@web-01", "-oProxyCommand=x@web-01", "ro:ot@web-01"] {
            let err = LeaseTarget::parse(LeaseKind::ProxySsh, Some(&json!({ "host": host }))).unwrap_err().to_string();
            assert!(err.contains("`target.host`"), "{host}: {err}");
        }
        assert!(parse_listen_addr("127.0.0.1:80").unwrap_err().to_string().contains("below 1024"));
        assert_eq!(parse_listen_addr("127.0.0.1:0").unwrap().port(), 0);
        assert_eq!(parse_listen_addr("[::1]:1024").unwrap().port(), 1024);
        let t = LeaseTarget::parse(LeaseKind::ProxyKube, Some(&json!({"kube_cluster": "prod-eks"}))).unwrap();
        assert_eq!(t, LeaseTarget::Kube { kube_cluster: Some("prod-eks".into()) });
        for (kind, target, needle) in [
            (LeaseKind::ProxyDb, json!({}), "target.db"),
            (LeaseKind::ProxyDb, json!({"db": "--tunnel"}), "target.db"),
            (LeaseKind::ProxyApp, json!({"app": "a b"}), "target.app"),
            (LeaseKind::ProxyApp, json!({"app": "x", "port": 1}), "target.port"),
            (LeaseKind::ProxySsh, json!({"host": "-oProxyCommand=x"}), "target.host"),
            (LeaseKind::ProxySsh, json!({"host": "web:99999"}), "port"),
            (LeaseKind::Vnet, json!({"x": 1}), "target.x"),
            (LeaseKind::ProxyMcp, json!({"app": 7}), "must be a string"),
            (LeaseKind::ProxyKube, json!({}), "needs `target.kube_cluster`: without one"),
            (LeaseKind::ProxyKube, json!({"kube_cluster": "-x"}), "target.kube_cluster"),
        ] {
            let err = LeaseTarget::parse(kind, Some(&target)).unwrap_err().to_string();
            assert!(err.contains(needle), "{kind} {target}: {err}");
        }
    }

    #[test]
    fn listen_addresses_are_loopback_only() {
        assert_eq!(parse_listen_addr("127.0.0.1:0").unwrap().port(), 0);
        assert!(parse_listen_addr("[::1]:5432").is_ok());
        assert!(parse_listen_addr("0.0.0.0:5432").unwrap_err().to_string().contains("loopback"));
        assert!(parse_listen_addr("--port=1").unwrap_err().to_string().contains("listen_addr"));
    }
}
