//! API keys: from the configuration (SHA-256 in `auth.api_keys`) and from the database (`mtcp
//! keys`). Only hashes are compared or kept.

use std::collections::HashMap;

use mtcp_shared::config::AuthConfig;
use mtcp_shared::db;
use mtcp_shared::domain::{Actor, ActorKind, AuthSource};
use mtcp_shared::policy::{Claimed, Policy};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::AuthFailure;

/// The keys the gateway accepts.
pub struct KeyStore {
    by_hash: HashMap<[u8; 32], ConfigKey>,
    database: bool,
}

/// A key of the configuration: its actor, and its role unless the policy decides it.
struct ConfigKey {
    actor: String,
    kind: ActorKind,
    role: Option<String>,
}

impl KeyStore {
    /// Build from the (already validated) configuration; every key's role must exist in `policy`.
    pub fn from_config(auth: &AuthConfig, policy: &Policy) -> anyhow::Result<Self> {
        let mut by_hash = HashMap::new();
        for (i, k) in auth.api_keys.iter().enumerate() {
            if let Some(role) = k.role.as_deref().filter(|r| !policy.has_role(r)) {
                let roles: Vec<&str> = policy.role_names().collect();
                anyhow::bail!(
                    "invalid configuration: `auth.api_keys[{i}].role`: unknown role {role:?}; the effective policy defines {}",
                    roles.join(", ")
                );
            }
            let mut hash = [0u8; 32];
            hex::decode_to_slice(k.sha256.to_ascii_lowercase(), &mut hash)?;
            by_hash.insert(hash, ConfigKey { actor: k.actor.clone(), kind: k.kind, role: k.role.clone() });
        }
        Ok(Self { by_hash, database: auth.database_keys })
    }

    /// The actor a presented key belongs to; a configured key without a role gets the one
    /// `policy` resolves (bindings, then `operator` for a service, then the default role).
    pub async fn authenticate(&self, pool: &PgPool, policy: &Policy, key: &str) -> Result<Actor, AuthFailure> {
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.authenticate_hash(pool, policy, &hash).await
    }

    /// [`authenticate`](Self::authenticate) by the key's SHA-256: how a console session re-checks
    /// the key it was signed in with, which it does not keep.
    pub async fn authenticate_hash(
        &self,
        pool: &PgPool,
        policy: &Policy,
        hash: &[u8; 32],
    ) -> Result<Actor, AuthFailure> {
        if let Some(k) = self.by_hash.get(hash) {
            let claimed = Claimed { actor: &k.actor, kind: k.kind, role: k.role.as_deref(), ..Default::default() };
            let Some(role) = policy.resolve_role(&claimed) else {
                return Err(AuthFailure::NoRole { actor: k.actor.clone() });
            };
            return Ok(Actor {
                id: k.actor.clone(),
                kind: k.kind,
                role,
                source: AuthSource::ConfigApiKey,
                groups: vec![],
            });
        }
        if !self.database {
            return Err(AuthFailure::UnknownKey);
        }
        let row = db::api_keys::find_by_hash(pool, hash).await.map_err(|e| {
            tracing::error!(error = %e, "looking up an API key");
            AuthFailure::Unavailable
        })?;
        let Some(row) = row else { return Err(AuthFailure::UnknownKey) };
        if row.revoked_at.is_some() {
            return Err(AuthFailure::RevokedKey { actor: row.actor });
        }
        if row.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return Err(AuthFailure::ExpiredKey { actor: row.actor });
        }
        // `mtcp keys create` refuses such names now; a key stored before that must not act as a
        // JWT subject (`oidc:…`) or as one of the control plane's own actors.
        if let Some(problem) = mtcp_shared::domain::api_key_actor_problem(&row.actor) {
            return Err(AuthFailure::UnusableKeyActor { problem });
        }
        let pool = pool.clone();
        // Off the request path: last-used is bookkeeping, not a reason to slow or fail a call.
        tokio::spawn(async move {
            if let Err(e) = db::api_keys::touch(&pool, row.key_id).await {
                tracing::warn!(error = %e, "recording an API key's last use");
            }
        });
        let kind = if row.kind == "service" { ActorKind::Service } else { ActorKind::User };
        Ok(Actor { id: row.actor, kind, role: row.role, source: AuthSource::DatabaseApiKey, groups: vec![] })
    }
}
