//! The webhook messages of an approval: Slack-compatible (`text`) plus structured fields, written
//! to the outbox in the transaction of the step they announce. Everything in them is already in
//! the trail: redacted arguments, never a secret.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::analysis::blast::BlastRadius;
use crate::config::ApprovalsConfig;
use crate::db::approvals::Pending;
use crate::domain::OpId;
use crate::policy::Approvers;

/// What every message says about the call.
pub struct Facts<'a> {
    pub op_id: OpId,
    pub actor: &'a str,
    pub actor_role: &'a str,
    pub tool: &'a str,
    /// Redacted arguments.
    pub arguments: &'a Value,
    pub reason: Option<&'a str>,
    pub args_sha256: &'a str,
    pub approvers: &'a Approvers,
    pub approvals_required: u32,
    pub expires_at: DateTime<Utc>,
}

impl<'a> Facts<'a> {
    pub fn of(p: &'a Pending) -> Self {
        Self {
            op_id: p.op_id,
            actor: &p.actor,
            actor_role: &p.actor_role,
            tool: &p.tool,
            arguments: &p.inputs,
            reason: p.reason.as_deref(),
            args_sha256: &p.state.args_sha256,
            approvers: &p.state.approvers,
            approvals_required: p.state.approvals_required,
            expires_at: p.state.expires_at,
        }
    }
}

/// A decision announced: who decided (None: nobody, it expired) and why.
pub struct Decided<'a> {
    /// `approved`, `denied` or `expired`.
    pub outcome: &'a str,
    pub by: Option<&'a str>,
    pub reason: &'a str,
}

/// Slack reads `<…>` as links and mentions (`<!channel>`) and `&` as an entity: text a caller or
/// the cluster wrote must not become either.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn base(config: &ApprovalsConfig, f: &Facts<'_>, event: &str) -> serde_json::Map<String, Value> {
    let op_id = f.op_id.to_string();
    let fields = json!({
        "event": event,
        "op_id": op_id,
        "actor": f.actor,
        "actor_role": f.actor_role,
        "tool": f.tool,
        "arguments": f.arguments,
        "reason": f.reason,
        "args_sha256": f.args_sha256,
        "approvers": f.approvers,
        "approvals_required": f.approvals_required,
        "expires_at": iso(f.expires_at),
        "approve_url": config.approve_url_for(&op_id),
    });
    match fields {
        Value::Object(map) => map,
        _ => unreachable!("a literal object"),
    }
}

fn how_to_decide(config: &ApprovalsConfig, f: &Facts<'_>) -> String {
    match config.approve_url_for(&f.op_id.to_string()) {
        Some(url) => format!("Decide at {url}"),
        None => format!(
            "Decide with the approve_operation or deny_operation tool, or `mtcp approvals approve {} --sha256 {}`",
            f.op_id, f.args_sha256
        ),
    }
}

/// The message sent when a call starts waiting.
pub fn requested(config: &ApprovalsConfig, f: &Facts<'_>) -> Value {
    let mut m = base(config, f, "approval.requested");
    let args = serde_json::to_string(f.arguments).unwrap_or_default();
    let text = format!(
        "Approval needed: {} ({}) wants to run {} with {}. Reason: {}. Needs {} approval(s) by {} before {}. \
         args_sha256 {}. {}.",
        escape(f.actor),
        escape(f.actor_role),
        f.tool,
        escape(&args),
        escape(f.reason.unwrap_or("(none given)")),
        f.approvals_required,
        escape(&f.approvers.describe()),
        iso(f.expires_at),
        f.args_sha256,
        escape(&how_to_decide(config, f)),
    );
    m.insert("text".into(), Value::String(text));
    Value::Object(m)
}

/// The message sent when the blast radius of a waiting access request has been counted (or could
/// not be): what approving it would make reachable.
pub fn impact(config: &ApprovalsConfig, f: &Facts<'_>, radius: Result<&BlastRadius, &str>) -> Value {
    let mut m = base(config, f, "approval.impact");
    let summary = match radius {
        Ok(b) => {
            let kinds = [
                ("nodes", &b.nodes),
                ("databases", &b.databases),
                ("Kubernetes clusters", &b.kube_clusters),
                ("apps", &b.apps),
                ("MCP servers", &b.mcp_servers),
                ("Windows desktops", &b.windows_desktops),
            ];
            let counts: Vec<String> = kinds
                .iter()
                .map(|(what, n)| {
                    let envs: Vec<String> = n.by_env.iter().map(|(env, k)| format!("{} {k}", escape(env))).collect();
                    if envs.is_empty() {
                        format!("{what} 0")
                    } else {
                        format!("{what} {} ({})", n.total, envs.join(", "))
                    }
                })
                .collect();
            let admins: Vec<String> = b.admin_equivalent.iter().map(|a| escape(&a.role)).collect();
            let logins: Vec<String> = b.logins.iter().map(|l| escape(l)).collect();
            format!(
                "{}; logins: {}; admin-equivalent roles: {}",
                counts.join(", "),
                if logins.is_empty() { "none".to_owned() } else { logins.join(", ") },
                if admins.is_empty() { "none".to_owned() } else { admins.join(", ") },
            )
        }
        Err(error) => format!("could not be counted: {}", escape(error)),
    };
    let text = format!("Blast radius of {}'s {} (op {}): {summary}.", escape(f.actor), f.tool, f.op_id);
    m.insert("text".into(), Value::String(text));
    match radius {
        Ok(b) => m.insert("blast_radius".into(), serde_json::to_value(b).unwrap_or_default()),
        Err(e) => m.insert("blast_radius_error".into(), Value::String(e.to_owned())),
    };
    Value::Object(m)
}

/// The message sent when a call's approval is decided: approved, denied or expired.
pub fn decided(config: &ApprovalsConfig, f: &Facts<'_>, d: &Decided<'_>) -> Value {
    let mut m = base(config, f, &format!("approval.{}", d.outcome));
    let who = d.by.map(|b| format!(" by {}", escape(b))).unwrap_or_default();
    let verb = match d.outcome {
        "approved" => "Approved",
        "denied" => "Denied",
        _ => "Expired, nobody approved in time",
    };
    let text = format!("{verb}{who}: {}'s {} (op {}). Reason: {}.", escape(f.actor), f.tool, f.op_id, escape(d.reason));
    m.insert("text".into(), Value::String(text));
    m.insert("decision".into(), json!({ "outcome": d.outcome, "by": d.by, "reason": d.reason }));
    Value::Object(m)
}
