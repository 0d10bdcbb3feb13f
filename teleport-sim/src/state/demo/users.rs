//! Demo users (`UserV2`): administrators, a locked account, an expired contractor, a GitHub
//! SSO user and a bot.

use super::{Clock, Gen, labels, metadata};
use crate::timefmt::ZERO_TIME;
use crate::value::{Map, Value, obj};

/// What sets one demo user apart.
struct Person {
    name: &'static str,
    roles: &'static [&'static str],
    logins: &'static [&'static str],
    /// Days until `spec.expires` (negative: already expired).
    expires_in_days: Option<i64>,
    locked: bool,
    github: Option<&'static str>,
    bot: bool,
    /// `status.mfa_weakest_device`: 1 none, 2 TOTP, 3 WebAuthn.
    mfa: i64,
}

const PEOPLE: &[Person] = &[
    Person { name: "admin", roles: &["access", "editor", "cluster-admin"], logins: &["root", "ubuntu"], mfa: 3, ..P },
    Person { name: "alice", roles: &["access", "editor"], logins: &["ubuntu"], mfa: 3, ..P },
    Person { name: "bob", roles: &["access", "request-approver"], logins: &["ubuntu"], mfa: 2, ..P },
    Person { name: "carol", roles: &["dev", "dev-requester"], logins: &["ubuntu"], mfa: 3, ..P },
    Person { name: "dave", roles: &["access", "ops-root"], logins: &["root"], locked: true, mfa: 2, ..P },
    Person { name: "erin", roles: &["auditor", "long-session"], logins: &[], expires_in_days: Some(-12), mfa: 1, ..P },
    Person { name: "frank", roles: &["access", "long-session"], logins: &["frank"], github: Some("frank-gh"), ..P },
    Person { name: "grace", roles: &["access", "impersonator"], logins: &["ubuntu"], mfa: 3, ..P },
    Person { name: "heidi", roles: &["db-readonly", "mcp-user"], logins: &[], expires_in_days: Some(60), mfa: 3, ..P },
    Person { name: "oncall", roles: &["ops-root"], logins: &["root", "ec2-user"], mfa: 2, ..P },
    Person { name: "bot-ci", roles: &["bot-ci"], logins: &[], bot: true, ..P },
];

/// The defaults each entry of [`PEOPLE`] starts from.
const P: Person = Person {
    name: "",
    roles: &[],
    logins: &[],
    expires_in_days: None,
    locked: false,
    github: None,
    bot: false,
    mfa: 1,
};

/// All demo users, sorted by name.
pub fn all(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x7573_6572);
    let mut users: Vec<Value> = PEOPLE.iter().map(|p| user(p, clock, &mut rng)).collect();
    users.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    users
}

fn user(p: &Person, clock: &Clock, rng: &mut Gen) -> Value {
    // SSO users are re-created at each login with the session TTL; bots carry their labels.
    let meta_expires = p.github.map(|_| clock.offset_jitter(19 * 3600, rng));
    let meta_labels = p.bot.then(|| labels(&[("teleport.internal/bot", "ci")]));
    let meta = metadata(p.name, None, meta_labels, meta_expires, rng);

    let mut spec = Map::new();
    if let Some(login) = p.github {
        let identity = obj! { "connector_id" => "github", "username" => login, "user_id" => "8317465" };
        spec.insert("github_identities", Value::Array(vec![identity]));
    }
    spec.insert("roles", Value::from(p.roles.to_vec()));
    spec.insert("traits", traits(p));
    spec.insert("status", login_status(p, clock));
    let expires = p.expires_in_days.map_or(ZERO_TIME.to_owned(), |d| clock.offset(d * 86_400));
    spec.insert("expires", Value::from(expires));
    spec.insert("created_by", created_by(p, clock));

    let password_state = if p.github.is_some() || p.bot { 1 } else { 2 };
    obj! {
        "kind" => "user",
        "version" => "v2",
        "metadata" => meta,
        "spec" => Value::Object(spec),
        "status" => obj! { "password_state" => password_state, "mfa_weakest_device" => p.mfa },
    }
}

/// `map[string][]string`: keys sorted, nil lists print as `null`.
fn traits(p: &Person) -> Value {
    let list = |items: &[&str]| {
        if items.is_empty() { Value::Null } else { Value::from(items.to_vec()) }
    };
    let mut map = Map::new();
    map.insert("db_users", list(if p.name == "heidi" { &["readonly"] } else { &[] }));
    if p.github.is_some() {
        map.insert("github_teams", list(&["acme/platform"]));
    }
    map.insert("kubernetes_groups", Value::Null);
    map.insert("logins", list(p.logins));
    Value::Object(map)
}

fn login_status(p: &Person, clock: &Clock) -> Value {
    if !p.locked {
        return obj! { "is_locked" => false, "locked_time" => ZERO_TIME, "lock_expires" => ZERO_TIME };
    }
    obj! {
        "is_locked" => true,
        "locked_message" => "user has exceeded maximum failed login attempts",
        "locked_time" => clock.offset(-600),
        "lock_expires" => clock.offset(1_200),
    }
}

fn created_by(p: &Person, clock: &Clock) -> Value {
    match p.github {
        Some(login) => obj! {
            "connector" => obj! { "type" => "github", "id" => "github", "identity" => login },
            "time" => clock.offset(-5 * 3600),
            "user" => obj! { "name" => "system" },
        },
        None => {
            let creator = if p.name == "admin" { "system" } else { "admin" };
            obj! { "time" => clock.days_ago(400 - p.name.len() as i64 * 17), "user" => obj! { "name" => creator } }
        }
    }
}
