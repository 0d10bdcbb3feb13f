//! Demo nodes and proxies (`ServerV2`): mixed versions for skew findings, reverse-tunnel
//! agents, an agentless OpenSSH host, and a few whose heartbeat stopped days ago.

use super::{Clock, Gen, labels, metadata};
use crate::timefmt::ZERO_TIME;
use crate::value::{Map, Value, obj};

/// One demo host: hostname, address (empty for tunnel agents), version, labels, and how many
/// days ago it last heartbeated (None: it is alive).
struct Host {
    name: &'static str,
    addr: &'static str,
    version: &'static str,
    labels: &'static [(&'static str, &'static str)],
    silent_days: Option<i64>,
}

const fn host(
    name: &'static str,
    addr: &'static str,
    version: &'static str,
    labels: &'static [(&'static str, &'static str)],
) -> Host {
    Host { name, addr, version, labels, silent_days: None }
}

const fn silent(mut h: Host, days: i64) -> Host {
    h.silent_days = Some(days);
    h
}

const PROD_WEB: &[(&str, &str)] = &[("env", "prod"), ("team", "web"), ("region", "us-east-1")];
const PROD_API: &[(&str, &str)] = &[("env", "prod"), ("team", "api"), ("region", "us-east-1")];
const PROD_DATA: &[(&str, &str)] = &[("env", "prod"), ("team", "data")];
const PROD_BATCH: &[(&str, &str)] = &[("env", "prod"), ("team", "batch")];
const STAGING: &[(&str, &str)] = &[("env", "staging"), ("team", "web")];

/// The OpenSSH host is the only `sub_kind: openssh` node; its address carries port 22.
const OPENSSH_HOST: &str = "fileserver-01";

const HOSTS: &[Host] = &[
    host("web-01", "10.0.1.11", "18.1.4", PROD_WEB),
    host("web-02", "10.0.1.12", "18.1.4", PROD_WEB),
    host("web-03", "10.0.1.13", "18.1.4", PROD_WEB),
    host("web-04", "10.0.1.14", "18.1.2", PROD_WEB),
    host("api-01", "10.0.2.21", "18.1.4", PROD_API),
    host("api-02", "10.0.2.22", "18.1.4", PROD_API),
    host("api-03", "10.0.2.23", "18.1.2", PROD_API),
    host("db-01", "10.0.3.31", "18.1.4", &[("env", "prod"), ("team", "data"), ("role", "postgres")]),
    host("db-tunnel-02", "", "18.1.4", &[("env", "staging"), ("team", "data")]),
    host("worker-01", "10.0.4.41", "18.1.0", PROD_BATCH),
    host("worker-02", "10.0.4.42", "18.1.0", PROD_BATCH),
    host("worker-03", "", "18.1.4", PROD_BATCH),
    host("bastion-01", "10.0.0.10", "18.1.4", &[("env", "prod"), ("role", "bastion")]),
    host("ci-runner-01", "", "18.1.3", &[("env", "ci"), ("team", "platform")]),
    host("monitoring-01", "10.0.5.51", "18.1.4", &[("env", "prod"), ("team", "sre")]),
    host("kafka-01", "10.0.6.61", "17.5.4", PROD_DATA),
    host("kafka-02", "10.0.6.62", "17.5.4", PROD_DATA),
    host("staging-web-01", "10.1.1.11", "17.7.1", STAGING),
    silent(host("staging-web-02", "", "17.7.1", STAGING), 3),
    silent(host("legacy-billing-01", "10.2.0.5", "16.4.8", &[("env", "prod"), ("team", "billing")]), 21),
    host(OPENSSH_HOST, "10.0.7.70", "", &[("env", "prod"), ("team", "it")]),
    silent(host("dev-sandbox-01", "10.3.0.9", "18.1.4", &[("env", "dev")]), 45),
    host("edge-gw-01", "", "18.1.4", &[("env", "prod"), ("region", "eu-west-1")]),
];

/// The zero `rotation` block every server carries (a non-nullable struct).
pub fn zero_rotation() -> Value {
    obj! {
        "current_id" => "",
        "started" => ZERO_TIME,
        "last_rotated" => ZERO_TIME,
        "schedule" => obj! {
            "update_clients" => ZERO_TIME,
            "update_servers" => ZERO_TIME,
            "standby" => ZERO_TIME,
        },
    }
}

/// Nodes, sorted by name (host UUID) as the backend returns them.
pub fn nodes(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x6e6f_6465);
    let mut nodes: Vec<Value> = HOSTS.iter().map(|h| node(h, clock, &mut rng)).collect();
    nodes.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    nodes
}

fn node(h: &Host, clock: &Clock, rng: &mut Gen) -> Value {
    let uuid = rng.uuid();
    let openssh = h.name == OPENSSH_HOST;
    // Live agents heartbeat with a ~10 minute TTL; silent ones kept their last one.
    let ttl = match h.silent_days {
        Some(days) => -days * 86_400 - rng.below(7_200) as i64,
        None => 600 - rng.below(240) as i64,
    };
    let expires = clock.offset_jitter(ttl, rng);
    let meta = metadata(&uuid, None, Some(labels(h.labels)), Some(expires), rng);
    let mut spec = Map::new();
    let port = if openssh { 22 } else { 3022 };
    let addr = if h.addr.is_empty() { String::new() } else { format!("{}:{port}", h.addr) };
    spec.insert("addr", Value::from(addr));
    spec.insert("hostname", Value::from(h.name));
    if matches!(h.name, "web-01" | "db-01" | "monitoring-01") {
        spec.insert("cmd_labels", cmd_labels());
    }
    spec.insert("rotation", zero_rotation());
    if h.addr.is_empty() {
        spec.insert("use_tunnel", Value::Bool(true));
    }
    spec.insert("version", Value::from(h.version));
    if h.name.starts_with("web-") || h.name.starts_with("api-") {
        let instance = format!("i-0{}", rng.hex(8));
        spec.insert("cloud_metadata", aws(&instance));
    }
    let mut node = Map::new();
    node.insert("kind", Value::from("node"));
    if openssh {
        node.insert("sub_kind", Value::from("openssh"));
    }
    node.insert("version", Value::from("v2"));
    node.insert("metadata", meta);
    node.insert("spec", Value::Object(spec));
    Value::Object(node)
}

fn cmd_labels() -> Value {
    obj! {
        "arch" => obj! { "period" => "1h0m0s", "command" => vec!["uname", "-m"], "result" => "x86_64" },
        "uptime" => obj! { "period" => "1m0s", "command" => vec!["uptime", "-p"], "result" => "up 3 weeks, 2 days" },
    }
}

fn aws(instance: &str) -> Value {
    obj! {
        "aws" => obj! {
            "account_id" => "123456789012",
            "instance_id" => instance,
            "region" => "us-east-1",
            "vpc_id" => "vpc-0a1b2c3d4e5f60718",
            "subnet_id" => "subnet-0123456789abcdef0",
        },
    }
}

/// Three proxies behind the public address.
pub fn proxies(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x7072_6f78);
    let mut proxies: Vec<Value> = (0..3)
        .map(|i| {
            let uuid = rng.uuid();
            let expires = clock.offset_jitter(600 - rng.below(240) as i64, &mut rng);
            obj! {
                "kind" => "proxy",
                "version" => "v2",
                "metadata" => metadata(&uuid, None, None, Some(expires), &mut rng),
                "spec" => obj! {
                    "addr" => format!("10.0.0.{}:3023", 5 + i),
                    "hostname" => format!("teleport-proxy-{i}"),
                    "rotation" => zero_rotation(),
                    "version" => "18.1.4",
                    "peer_addr" => format!("10.0.0.{}:3021", 5 + i),
                    "public_addrs" => vec!["teleport.example.com:443"],
                },
            }
        })
        .collect();
    proxies.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    proxies
}
