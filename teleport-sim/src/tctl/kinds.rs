//! Resource references for `tctl get`: kind shortcuts (`ParseShortcut`), `type/name` and
//! `cert_authority/<type>/<cluster>` forms, comma-separated lists (`services.ParseRefs`).

use crate::error::SimError;
use crate::state::{State, TargetKind};
use crate::value::Value;

/// CA types in `types.CertAuthTypes` order, which is how `tctl` lists authorities.
pub const CA_TYPES: [&str; 12] = [
    "host",
    "user",
    "db",
    "db_client",
    "openssh",
    "jwt",
    "saml_idp",
    "oidc_idp",
    "spiffe",
    "okta",
    "awsra",
    "bound_keypair",
];

/// Position of a CA type in [`CA_TYPES`]; unknown types sort last.
pub fn ca_type_rank(ca_type: &str) -> usize {
    CA_TYPES.iter().position(|t| *t == ca_type).unwrap_or(CA_TYPES.len())
}

/// A kind `tctl get` understands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Node,
    Proxy,
    Role,
    User,
    Token,
    CertAuthority,
    AuthPreference,
    /// `db_server`: a database as each agent serving it heartbeats it.
    DbServer,
    /// `db`: the database resources themselves (see [`Kind::items`]).
    Database,
    /// `app_server`.
    AppServer,
    /// `app`.
    App,
    /// `kube_server`.
    KubeServer,
    /// `kube_cluster`.
    KubeCluster,
    /// `windows_desktop`.
    WindowsDesktop,
    /// A real kind the simulated cluster holds none of (`lock`, `github`, …).
    Empty(&'static str),
}

impl Kind {
    /// The RBAC resource name used in access-denied messages.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Node => "node",
            Kind::Proxy => "proxy",
            Kind::Role => "role",
            Kind::User => "user",
            Kind::Token => "token",
            Kind::CertAuthority => "cert_authority",
            Kind::AuthPreference => "cluster_auth_preference",
            Kind::DbServer => "db_server",
            Kind::Database => "db",
            Kind::AppServer => "app_server",
            Kind::App => "app",
            Kind::KubeServer => "kube_server",
            Kind::KubeCluster => "kube_cluster",
            Kind::WindowsDesktop => "windows_desktop",
            Kind::Empty(resource) => resource,
        }
    }

    /// The role label selector that filters what the identity sees of this kind under RBAC.
    pub fn labels_field(self) -> Option<&'static str> {
        match self {
            Kind::Node => Some("node_labels"),
            Kind::DbServer | Kind::Database => Some("db_labels"),
            Kind::AppServer | Kind::App => Some("app_labels"),
            Kind::KubeServer | Kind::KubeCluster => Some("kubernetes_labels"),
            Kind::WindowsDesktop => Some("windows_desktop_labels"),
            _ => None,
        }
    }

    /// The resources of this kind in the state. `db`, `app` and `kube_cluster` are the targets
    /// the servers embed, one per name: the simulator counts every served target as a dynamic
    /// resource, where Teleport lists only those created with `tctl create`
    /// (`tool/tctl/common/resources/database.go`, `GetDatabases`).
    pub fn items(self, state: &State) -> Vec<Value> {
        match self {
            Kind::Node => state.nodes.clone(),
            Kind::Proxy => state.proxies.clone(),
            Kind::Role => state.roles.clone(),
            Kind::User => state.users.clone(),
            Kind::Token => state.tokens.clone(),
            Kind::CertAuthority => state.cert_authorities.clone(),
            Kind::AuthPreference => state.auth_preference.clone(),
            Kind::DbServer => state.db_servers.clone(),
            Kind::Database => state.targets(TargetKind::Database),
            Kind::AppServer => state.app_servers.clone(),
            Kind::App => state.targets(TargetKind::App),
            Kind::KubeServer => state.kube_servers.clone(),
            Kind::KubeCluster => state.targets(TargetKind::Kube),
            Kind::WindowsDesktop => state.windows_desktops.clone(),
            Kind::Empty(_) => Vec::new(),
        }
    }
}

/// Maps a kind name or shortcut to a kind (case-insensitive, like Teleport).
pub fn parse_kind(text: &str) -> Result<Kind, SimError> {
    let kind = match text.trim().to_ascii_lowercase().as_str() {
        "node" | "nodes" => Kind::Node,
        "proxy" | "proxies" => Kind::Proxy,
        "role" | "roles" => Kind::Role,
        "user" | "users" => Kind::User,
        "token" | "tokens" => Kind::Token,
        "cert_authority" | "cert_authorities" | "cas" => Kind::CertAuthority,
        "cluster_auth_preference" | "cluster_auth_preferences" | "cluster_authentication_preferences" | "cap" => {
            Kind::AuthPreference
        }
        "db_server" | "db_servers" => Kind::DbServer,
        "db" => Kind::Database,
        "app_server" | "app_servers" => Kind::AppServer,
        "app" | "apps" => Kind::App,
        "kube_server" | "kube_servers" => Kind::KubeServer,
        "kube_cluster" | "kube_clusters" => Kind::KubeCluster,
        "windows_desktop" | "win_desktop" => Kind::WindowsDesktop,
        "windows_desktop_service"
        | "windows_service"
        | "win_desktop_service"
        | "win_service"
        | "windows_desktop_services" => Kind::Empty("windows_desktop_service"),
        "trusted_cluster" | "tc" | "cluster" | "clusters" => Kind::Empty("trusted_cluster"),
        "remote_cluster" | "remote_clusters" | "rc" | "rcs" => Kind::Empty("remote_cluster"),
        "lock" | "locks" => Kind::Empty("lock"),
        "github" | "oidc" | "saml" | "connector" | "connectors" => Kind::Empty("auth_connector"),
        _ => {
            return Err(SimError::msg(format!(
                "unsupported resource: {text:?} - resources should be expressed as 'type/name', for example 'connector/github'"
            )));
        }
    };
    Ok(kind)
}

/// One parsed reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub kind: Kind,
    pub sub_kind: Option<String>,
    pub name: Option<String>,
}

/// Parses the `resources` argument: `nodes`, `role/admin`, `cert_authority/host/c`, or several
/// of those separated by commas.
pub fn parse_refs(arg: &str) -> Result<Vec<Ref>, SimError> {
    arg.split(',').map(parse_ref).collect()
}

fn parse_ref(text: &str) -> Result<Ref, SimError> {
    if text.is_empty() {
        return Err(SimError::msg("missing value"));
    }
    let parts: Vec<&str> = text.split(['/', ' ', '\t']).filter(|part| !part.is_empty()).collect();
    let owned = |s: &str| Some(s.to_owned());
    match parts.as_slice() {
        [kind] => Ok(Ref { kind: parse_kind(kind)?, sub_kind: None, name: None }),
        [kind, name] => Ok(Ref { kind: parse_kind(kind)?, sub_kind: None, name: owned(name) }),
        [kind, sub, name] => Ok(Ref { kind: parse_kind(kind)?, sub_kind: owned(sub), name: owned(name) }),
        _ => Err(SimError::msg(format!("failed to parse '{text}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_and_paths_parse() {
        let refs = parse_refs("cas,role/admin,cert_authority/host/c1").unwrap();
        assert_eq!(refs[0].kind, Kind::CertAuthority);
        assert_eq!(refs[1].name.as_deref(), Some("admin"));
        assert_eq!(refs[2].sub_kind.as_deref(), Some("host"));
        assert_eq!(parse_kind("CAP").unwrap(), Kind::AuthPreference);
    }

    #[test]
    fn unknown_kinds_get_teleports_message() {
        let err = parse_refs("foo").unwrap_err().to_string();
        assert_eq!(
            err,
            "unsupported resource: \"foo\" - resources should be expressed as 'type/name', for example 'connector/github'"
        );
    }
}
