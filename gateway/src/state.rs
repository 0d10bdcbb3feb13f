//! Process state shared by every request: configuration, pool, policy, credentials, waiter.

use std::sync::Arc;

use anyhow::Context;
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::policy::{Policy, PolicySettings};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::KeyStore;
use crate::waiter::Waiter;

/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub policy: Arc<Policy>,
    pub keys: Arc<KeyStore>,
    pub waiter: Waiter,
    pub shutdown: CancellationToken,
}

impl AppState {
    pub(crate) async fn connect(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let url = config.database_url()?;
        let pool = db::connect(url, config.database.max_connections, config.database.connect_timeout).await?;
        db::ensure_migrated(&pool).await?;
        let policy = Policy::builtin(policy_settings(&config));
        let keys = KeyStore::from_config(&config.auth).context("loading API keys")?;
        let waiter = Waiter::start(pool.clone(), shutdown.clone());
        Ok(Self { config: Arc::new(config), pool, policy: Arc::new(policy), keys: Arc::new(keys), waiter, shutdown })
    }
}

/// The policy switches of the configuration.
pub fn policy_settings(config: &Config) -> PolicySettings {
    let p = &config.policy;
    PolicySettings {
        allow_tsh_passthrough: p.allow_tsh_passthrough,
        allow_tctl_passthrough: p.allow_tctl_passthrough,
        default_proxy_ttl_seconds: p.default_proxy_ttl_seconds,
        max_concurrent_proxies_per_actor: p.max_concurrent_proxies_per_actor,
    }
}
