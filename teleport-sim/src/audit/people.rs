//! Who appears in generated streams: the demo cluster's people with the address each one
//! connects from (an office NAT several people share, home addresses, a CI runner). The
//! scenario subjects (`mallory`, `eve`, `ivan`, `sam`, `bot-deploy`, `peggy`, `oscar`) never appear in the
//! baseline; `mcp_new_source` is about `heidi`, a baseline MCP user, from an address new for her.

/// One user of the cluster as the audit log sees them.
#[derive(Debug)]
pub struct Person {
    pub name: &'static str,
    pub ip: &'static str,
    pub roles: &'static [&'static str],
    /// Never empty: sessions and commands pick one.
    pub logins: &'static [&'static str],
    /// Logs in through GitHub SSO (`T1001I`, `method: github`).
    pub sso: bool,
    pub bot: bool,
}

/// The office's NAT address, shared by several people.
pub const OFFICE_IP: &str = "198.51.100.10";

const P: Person = Person { name: "", ip: OFFICE_IP, roles: &["access"], logins: &["ubuntu"], sso: false, bot: false };

/// Everyone active in the baseline.
pub const PEOPLE: &[Person] = &[
    Person { name: "admin", roles: &["access", "editor", "cluster-admin"], logins: &["root", "ubuntu"], ..P },
    Person { name: "alice", roles: &["access", "editor"], ..P },
    Person { name: "bob", roles: &["access", "request-approver"], ..P },
    Person { name: "carol", ip: "192.0.2.23", roles: &["dev", "dev-requester"], ..P },
    Person { name: "frank", ip: "192.0.2.41", roles: &["access", "long-session"], logins: &["frank"], sso: true, ..P },
    Person { name: "grace", roles: &["access", "impersonator"], ..P },
    Person { name: "heidi", ip: "192.0.2.57", roles: &["db-readonly", "mcp-user"], logins: &["postgres"], ..P },
    Person { name: "oncall", ip: "192.0.2.88", roles: &["ops-root"], logins: &["root", "ec2-user"], ..P },
    Person { name: "bot-ci", ip: "10.0.9.5", roles: &["bot-ci"], logins: &["ci"], bot: true, ..P },
];

/// People who ask for elevated access in the baseline.
pub const REQUESTERS: &[&str] = &["alice", "carol", "frank", "heidi"];
/// People who review requests in the baseline (disjoint from [`REQUESTERS`]).
pub const REVIEWERS: &[&str] = &["bob", "admin"];
