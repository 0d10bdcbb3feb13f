//! One generated audit event in Teleport's flat JSON shape (the messages of
//! `api/proto/teleport/legacy/types/events/events.proto`, marshalled by `lib/events`), the event
//! types and codes it uses (`lib/events/api.go`, `lib/events/codes.go`), and the hosts the events
//! point at.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::rng::Rng;

/// `(event, code)` pairs as `lib/events/codes.go` names them.
pub mod code {
    pub const LOGIN_OK: (&str, &str) = ("user.login", "T1000I");
    pub const LOGIN_FAILED: (&str, &str) = ("user.login", "T1000W");
    pub const SSO_LOGIN_OK: (&str, &str) = ("user.login", "T1001I");
    pub const USER_UPDATE: (&str, &str) = ("user.update", "T1003I");
    pub const SESSION_START: (&str, &str) = ("session.start", "T2000I");
    pub const SESSION_END: (&str, &str) = ("session.end", "T2004I");
    pub const EXEC: (&str, &str) = ("exec", "T3002I");
    pub const AUTH_FAILED: (&str, &str) = ("auth", "T3007W");
    pub const REQUEST_CREATE: (&str, &str) = ("access_request.create", "T5000I");
    pub const REQUEST_UPDATE: (&str, &str) = ("access_request.update", "T5001I");
    pub const REQUEST_REVIEW: (&str, &str) = ("access_request.review", "T5002I");
    pub const JOIN_TOKEN_CREATE: (&str, &str) = ("join_token.create", "TJT00I");
    pub const ROLE_CREATED: (&str, &str) = ("role.created", "T9000I");
    /// `T9001I` is `role.deleted`; updates are `T9002I`.
    pub const ROLE_UPDATED: (&str, &str) = ("role.updated", "T9002I");
    pub const CERT_CREATE: (&str, &str) = ("cert.create", "TC000I");
    pub const AUTH_PREFERENCE_UPDATE: (&str, &str) = ("auth_preference.update", "TCAUTH001I");
}

/// `user_kind`: a person or a bot.
pub const HUMAN: i64 = 1;
pub const BOT: i64 = 2;

/// One event: when it happened and its JSON fields (keys sorted, like the file backend).
#[derive(Debug, Clone)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub fields: Map<String, Value>,
}

impl Event {
    /// An event with `UserMetadata`: the [`base`](Self::base) fields and the acting `user`.
    pub fn new(rng: &mut Rng, at: DateTime<Utc>, kind: (&str, &str), cluster: &str, user: &str) -> Self {
        Self::base(rng, at, kind, cluster).with("user", user)
    }

    /// The `Metadata` every event carries: `uid`, `time` (milliseconds), `event`, `code`, `ei`,
    /// `cluster_name`. Events whose message has no `UserMetadata` (`CertificateCreate`, and
    /// `AccessRequestCreate` as emitted for reviews and state changes) have no top-level `user`.
    pub fn base(rng: &mut Rng, at: DateTime<Utc>, (event, code): (&str, &str), cluster: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("uid".into(), rng.uuid().into());
        fields.insert("time".into(), at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into());
        fields.insert("event".into(), event.into());
        fields.insert("code".into(), code.into());
        fields.insert("ei".into(), 0.into());
        fields.insert("cluster_name".into(), cluster.into());
        Event { at, fields }
    }

    /// Adds or replaces one field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    /// Adds `addr.remote` (`ip:port`, an ephemeral client port).
    pub fn with_remote(self, rng: &mut Rng, ip: &str) -> Self {
        let port = rng.range(32768, 61000);
        self.with("addr.remote", format!("{ip}:{port}"))
    }

    /// Adds the fields that place an event on an SSH node.
    pub fn on_host(self, host: &Host) -> Self {
        self.with("server_id", host.id())
            .with("server_hostname", host.name)
            .with("server_addr", format!("{}:3022", host.addr))
            .with("addr.local", format!("{}:3022", host.addr))
            .with("namespace", "default")
            .with("proto", "ssh")
    }

    /// The event as one JSON value.
    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }
}

/// An SSH node sessions and commands run on.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub name: &'static str,
    pub addr: &'static str,
}

impl Host {
    /// A stable `server_id` derived from the hostname.
    pub fn id(&self) -> String {
        let digest = crate::digest::sha256(self.name.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        crate::uuid::format_v4(bytes)
    }
}

/// The demo cluster's reachable nodes.
pub const HOSTS: &[Host] = &[
    Host { name: "web-01", addr: "10.0.1.11" },
    Host { name: "web-02", addr: "10.0.1.12" },
    Host { name: "api-01", addr: "10.0.2.21" },
    Host { name: "api-02", addr: "10.0.2.22" },
    Host { name: "db-01", addr: "10.0.3.31" },
    Host { name: "worker-01", addr: "10.0.4.41" },
    Host { name: "bastion-01", addr: "10.0.0.10" },
    Host { name: "monitoring-01", addr: "10.0.5.51" },
];

/// A certificate identity as `cert.create` carries it (`events.Identity`; the actor of a
/// `cert.create` is `identity.user`: `CertificateCreate` has no `UserMetadata`).
pub fn identity(user: &str, roles: &[&str], logins: &[&str], expires: DateTime<Utc>) -> Value {
    json!({
        "user": user,
        "roles": roles,
        "logins": logins,
        "expires": crate::timefmt::go_time(expires),
    })
}
