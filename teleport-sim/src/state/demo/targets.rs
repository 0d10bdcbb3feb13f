//! Demo access targets, each as the agent that serves it heartbeats it: databases
//! (`DatabaseServerV3` wrapping `DatabaseV3`), applications including MCP servers
//! (`AppServerV3` wrapping `AppV3`), Kubernetes clusters (`KubernetesServerV3` wrapping
//! `KubernetesClusterV3`) and Windows desktops (`WindowsDesktopV3`), shapes from
//! `api/proto/teleport/legacy/types/types.proto`. One database and one cluster are served by two
//! agents (high availability), one database URI carries a password, every target has an `env`.

use super::servers::zero_rotation;
use super::{Clock, Gen, labels, metadata};
use crate::value::{Map, Value, obj};

/// An agent (`teleport` with `db_service`, `app_service`, …) by hostname, with its host UUID.
struct Agent {
    hostname: &'static str,
    host_id: String,
}

fn agents(rng: &mut Gen, names: &[&'static str]) -> Vec<Agent> {
    names.iter().map(|hostname| Agent { hostname, host_id: rng.uuid() }).collect()
}

/// Label pairs.
type Pairs = &'static [(&'static str, &'static str)];
/// Indexes of the agents serving a target.
type Served = &'static [usize];

/// One demo database: name, description, protocol, URI, labels, and which agents serve it.
const DATABASES: &[(&str, &str, &str, &str, Pairs, Served)] = &[
    (
        "orders",
        "Orders (primary)",
        "postgres",
        "orders.cluster-c1.us-east-1.rds.amazonaws.com:5432",
        &[("env", "prod"), ("team", "data")],
        &[0, 1],
    ),
    (
        "orders-replica",
        "Orders (read replica)",
        "postgres",
        "orders-ro.cluster-c1.us-east-1.rds.amazonaws.com:5432",
        &[("env", "prod"), ("team", "data")],
        &[0],
    ),
    (
        "billing-mysql",
        "Billing ledger",
        "mysql",
        "billing.internal:3306",
        &[("env", "staging"), ("team", "billing")],
        &[1],
    ),
    (
        "analytics-mongo",
        "Analytics events",
        "mongodb",
        "mongodb://reporter:Sup3rS3cretMongo@mongo-0.internal:27017/?replicaSet=rs0",
        &[("env", "dev"), ("team", "analytics")],
        &[1],
    ),
];

/// Demo applications: name, description, sub kind, URI, labels.
type AppRow = (&'static str, &'static str, &'static str, &'static str, Pairs);

const APPS: &[AppRow] = &[
    ("grafana", "Dashboards", "", "http://grafana.internal:3000", &[("env", "prod"), ("team", "sre")]),
    ("jenkins", "CI server", "", "http://jenkins.staging.internal:8080", &[("env", "staging"), ("team", "platform")]),
    ("redis-tcp", "Cache (TCP)", "", "tcp://redis.dev.internal:6379", &[("env", "dev"), ("team", "web")]),
    (
        "mcp-everything",
        "MCP reference server",
        "mcp",
        "mcp+http://mcp-everything.internal:3001/mcp",
        &[("env", "prod"), ("team", "ai")],
    ),
    (
        "mcp-fs",
        "Shared files over MCP",
        "mcp",
        "mcp+https://mcp-fs.internal/mcp",
        &[("env", "staging"), ("team", "ai")],
    ),
    (
        "mcp-search",
        "Search (legacy SSE)",
        "mcp",
        "mcp+sse+https://search-mcp.internal/sse",
        &[("env", "staging"), ("team", "ai")],
    ),
    ("mcp-git", "Git tools (stdio)", "mcp", "mcp+stdio://", &[("env", "dev"), ("team", "ai")]),
];

const KUBE: &[(&str, Pairs, Served)] = &[
    ("prod-eks", &[("env", "prod"), ("region", "us-east-1")], &[0, 1]),
    ("staging-gke", &[("env", "staging"), ("region", "europe-west1")], &[1]),
    ("dev-kind", &[("env", "dev")], &[0]),
];

/// Windows desktops: name, address, AD domain (empty: a non-AD host), labels.
const DESKTOPS: &[(&str, &str, &str, Pairs)] = &[
    ("win-dc-01", "10.0.8.10:3389", "corp.example.com", &[("env", "prod"), ("role", "domain-controller")]),
    ("win-jump-01", "10.1.8.20:3389", "", &[("env", "staging")]),
    ("dev-win-01", "10.3.8.30:3389", "", &[("env", "dev")]),
];

/// The server wrapper every agent heartbeats: `metadata.name` is the target's name, `spec`
/// names the agent (`version`, `hostname`, `host_id`) and embeds the target under `field`.
fn server(kind: &str, field: &str, target: Value, agent: &Agent, clock: &Clock, rng: &mut Gen) -> Value {
    let name = target.str_at(&["metadata", "name"]).to_owned();
    let expires = clock.offset_jitter(600 - rng.below(240) as i64, rng);
    let mut spec = Map::new();
    spec.insert("version", Value::from("18.1.4"));
    spec.insert("hostname", Value::from(agent.hostname));
    spec.insert("host_id", Value::from(&agent.host_id));
    spec.insert("rotation", zero_rotation());
    spec.insert(field, target);
    obj! {
        "kind" => kind,
        "version" => "v3",
        "metadata" => metadata(&name, None, None, Some(expires), rng),
        "spec" => Value::Object(spec),
    }
}

/// `db_server` resources, one per database and agent (`tctl get` prints them sorted by name).
pub fn db_servers(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x6462_7376);
    let hosts = agents(&mut rng, &["db-agent-01", "db-agent-02"]);
    let mut out = Vec::new();
    for (name, description, protocol, uri, pairs, served) in DATABASES {
        let db = obj! {
            "kind" => "db",
            "version" => "v3",
            "metadata" => metadata(name, Some(description), Some(labels(pairs)), None, &mut rng),
            "spec" => obj! {
                "protocol" => *protocol,
                "uri" => *uri,
                "aws" => db_aws(),
                "gcp" => obj! {},
                "azure" => obj! { "redis" => obj! {} },
                "tls" => obj! { "mode" => 0 },
                "ad" => obj! { "domain" => "", "spn" => "" },
                "mysql" => obj! {},
                "mongo_atlas" => obj! {},
                "oracle" => obj! { "audit_user" => "" },
            },
            "status" => obj! {
                "aws" => db_aws(),
                "mysql" => obj! {},
                "azure" => obj! { "redis" => obj! {} },
            },
        };
        for i in *served {
            out.push(server("db_server", "database", db.clone(), &hosts[*i], clock, &mut rng));
        }
    }
    out
}

/// `DatabaseSpecV3.AWS` as `encoding/json` prints it when unset: its non-nullable structs are
/// never omitted, `rds.iam_auth` and `iam_policy_status` have no `omitempty`.
fn db_aws() -> Value {
    obj! {
        "redshift" => obj! {},
        "rds" => obj! { "iam_auth" => false },
        "elasticache" => obj! {},
        "secret_store" => obj! {},
        "memorydb" => obj! {},
        "rdsproxy" => obj! {},
        "redshift_serverless" => obj! {},
        "opensearch" => obj! {},
        "iam_policy_status" => 0,
        "docdb" => obj! {},
    }
}

/// `app_server` resources; MCP servers are `sub_kind: mcp` apps (stdio ones carry `spec.mcp`).
pub fn app_servers(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x6170_7073);
    let hosts = agents(&mut rng, &["app-agent-01"]);
    let mut out = Vec::new();
    for (name, description, sub_kind, uri, pairs) in APPS {
        let mut spec = Map::new();
        spec.insert("uri", Value::from(*uri));
        if uri.starts_with("http") {
            spec.insert("public_addr", Value::from(format!("{name}.teleport.example.com")));
        }
        spec.insert("insecure_skip_verify", Value::Bool(false));
        if uri.starts_with("mcp+stdio") {
            spec.insert(
                "mcp",
                obj! {
                    "command" => "docker",
                    "args" => vec!["run", "-i", "--rm", "mcp/git"],
                    "run_as_host_user" => "docker",
                },
            );
        }
        let mut app = Map::new();
        app.insert("kind", Value::from("app"));
        if !sub_kind.is_empty() {
            app.insert("sub_kind", Value::from(*sub_kind));
        }
        app.insert("version", Value::from("v3"));
        app.insert("metadata", metadata(name, Some(description), Some(labels(pairs)), None, &mut rng));
        app.insert("spec", Value::Object(spec));
        out.push(server("app_server", "app", Value::Object(app), &hosts[0], clock, &mut rng));
    }
    out
}

/// `kube_server` resources, one per cluster and agent.
pub fn kube_servers(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x6b75_6265);
    let hosts = agents(&mut rng, &["kube-agent-01", "kube-agent-02"]);
    let mut out = Vec::new();
    for (name, pairs, served) in KUBE {
        let cluster = obj! {
            "kind" => "kube_cluster",
            "version" => "v3",
            "metadata" => metadata(name, None, Some(labels(pairs)), None, &mut rng),
            "spec" => obj! { "azure" => obj! {}, "aws" => obj! {}, "gcp" => obj! {} },
        };
        for i in *served {
            out.push(server("kube_server", "cluster", cluster.clone(), &hosts[*i], clock, &mut rng));
        }
    }
    out
}

/// `windows_desktop` resources; `spec.host_id` names the `windows_desktop_service` agent.
pub fn windows_desktops(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x7764_736b);
    let service = rng.uuid();
    DESKTOPS
        .iter()
        .map(|(name, addr, domain, pairs)| {
            let expires = clock.offset_jitter(600 - rng.below(240) as i64, &mut rng);
            obj! {
                "kind" => "windows_desktop",
                "version" => "v3",
                "metadata" => metadata(name, None, Some(labels(pairs)), Some(expires), &mut rng),
                "spec" => obj! {
                    "addr" => *addr,
                    "domain" => *domain,
                    "host_id" => &service,
                    "non_ad" => domain.is_empty(),
                },
            }
        })
        .collect()
}
