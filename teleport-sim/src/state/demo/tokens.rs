//! Demo join tokens (`ProvisionTokenV2`): a static token that never expires, a long-lived one,
//! a short-lived node token, an AWS IAM token and a GitHub Actions bot token.

use super::{Clock, Gen, labels, metadata};
use crate::value::{Value, obj};

/// All demo tokens, sorted by name as `tctl get tokens` returns them.
pub fn all(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x746f_6b6e);
    let g = &mut rng;
    let static_name = g.hex(16);
    let node_name = g.hex(16);
    let kube_name = g.hex(16);
    let mut tokens = vec![
        token(
            metadata(&static_name, None, Some(labels(&[("teleport.dev/origin", "config-file")])), None, g),
            obj! { "roles" => vec!["Node", "App", "Db"], "join_method" => "token" },
        ),
        token(
            metadata(&node_name, None, None, Some(clock.offset_jitter(25 * 60, g)), g),
            obj! { "roles" => vec!["Node"], "join_method" => "token" },
        ),
        token(
            metadata(&kube_name, None, None, Some(clock.offset_jitter(365 * 86_400, g)), g),
            obj! { "roles" => vec!["Kube", "App"], "join_method" => "token" },
        ),
        token(
            metadata("iam-prod-nodes", None, None, None, g),
            obj! {
                "roles" => vec!["Node"],
                "allow" => vec![obj! {
                    "aws_account" => "123456789012",
                    "aws_arn" => "arn:aws:sts::123456789012:assumed-role/teleport-node-role/i-*",
                }],
                "join_method" => "iam",
            },
        ),
        token(
            metadata("github-ci-bot", None, None, None, g),
            obj! {
                "roles" => vec!["Bot"],
                "join_method" => "github",
                "bot_name" => "ci",
                "github" => obj! {
                    "allow" => vec![obj! { "repository" => "acme/app", "ref" => "refs/heads/main" }],
                },
            },
        ),
    ];
    tokens.sort_by(|a, b| a.str_at(&["metadata", "name"]).cmp(b.str_at(&["metadata", "name"])));
    tokens
}

fn token(metadata: Value, spec: Value) -> Value {
    obj! { "kind" => "token", "version" => "v2", "metadata" => metadata, "spec" => spec }
}
