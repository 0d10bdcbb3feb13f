//! Process state shared by every request: configuration, pool, policy (hot-swappable),
//! credentials, the waiter.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::policy::{Policy, PolicyError};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::jwt::JwtVerifier;
use crate::auth::{FailureRecorder, KeyStore};
use crate::ingest::IngestKeys;
use crate::mcp::fixtures::ConformanceFixtures;
use crate::mcp::leases::StopWaiters;
use crate::waiter::Waiter;
use mtcp_shared::notifier::Notifier;

/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    /// Swapped whole on reload: a request evaluates against one consistent policy.
    pub policy: Arc<ArcSwap<Policy>>,
    pub keys: Arc<KeyStore>,
    /// OIDC token verification, when configured.
    pub jwt: Option<JwtVerifier>,
    pub auth_failures: Arc<FailureRecorder>,
    /// Credentials of the audit ingest endpoint.
    pub ingest_keys: Arc<IngestKeys>,
    /// One permit per ingest body being read (`audit.max_concurrent_bodies`).
    pub(crate) ingest_bodies: Arc<tokio::sync::Semaphore>,
    pub waiter: Waiter,
    /// The process' LISTEN connection, by topic.
    pub(crate) notifier: Notifier,
    /// The leases a `stop_proxy` of this process is waiting on.
    pub(crate) stop_waiters: Arc<StopWaiters>,
    pub shutdown: CancellationToken,
    /// The conformance suite's fixtures; `None` (always, in production) unless the test-only
    /// switch is on (`mcp::fixtures::switch`).
    pub(crate) fixtures: Option<Arc<ConformanceFixtures>>,
}

impl AppState {
    pub(crate) async fn connect(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let policy = config.load_policy().context("loading the policy")?;
        let url = config.database_url()?;
        let pool = db::connect(url, config.database.max_connections, config.database.connect_timeout).await?;
        db::ensure_migrated(&pool).await?;
        let keys = KeyStore::from_config(&config.auth, &policy)?;
        let jwt = match &config.auth.oidc {
            Some(oidc) => Some(JwtVerifier::new(oidc, shutdown.clone()).await.context("setting up OIDC (auth.oidc)")?),
            None => None,
        };
        let ingest_keys = IngestKeys::from_config(&config.audit)?;
        let ingest_bodies = Arc::new(tokio::sync::Semaphore::new(config.audit.max_concurrent_bodies));
        // One LISTEN connection for the whole process: completions, progress, lease announcements,
        // and new webhook messages when this gateway delivers them.
        // Edge agents' polls wait on lease starts placed on them and on stop requests.
        let mut topics = vec![
            db::OPS_CHANNEL,
            db::operations::PROGRESS_CHANNEL,
            db::leases::LEASE_ENDED_CHANNEL,
            db::queue::EDGE_CHANNEL,
            db::leases::LEASES_CHANNEL,
        ];
        if config.approvals.webhook.is_some() {
            topics.push(db::webhooks::WEBHOOKS_CHANNEL);
        }
        let notifier = Notifier::start(pool.clone(), &topics, shutdown.clone());
        let waiter = Waiter::start(pool.clone(), &notifier, shutdown.clone());
        if let Some(hook) = &config.approvals.webhook {
            crate::webhooks::start(pool.clone(), hook, &notifier, shutdown.clone())?;
        }
        tracing::info!(policy_version = policy.version(), "policy loaded");
        warn_about_bindings(&config, &policy);
        Ok(Self {
            config: Arc::new(config),
            pool,
            policy: Arc::new(ArcSwap::from_pointee(policy)),
            keys: Arc::new(keys),
            jwt,
            auth_failures: Arc::default(),
            ingest_keys: Arc::new(ingest_keys),
            ingest_bodies,
            waiter,
            notifier,
            stop_waiters: Arc::default(),
            shutdown,
            fixtures: None,
        })
    }

    /// Re-read the policy file. An invalid file is rejected and the running policy stays.
    pub fn reload_policy(&self) -> Result<String, PolicyError> {
        match self.config.load_policy() {
            Ok(policy) => {
                let version = policy.version().to_owned();
                warn_about_bindings(&self.config, &policy);
                let old = self.policy.swap(Arc::new(policy));
                metrics::counter!("mtcp_policy_reloads_total", "result" => "ok").increment(1);
                tracing::info!(from = old.version(), to = %version, "policy reloaded");
                Ok(version)
            }
            Err(e) => {
                metrics::counter!("mtcp_policy_reloads_total", "result" => "rejected").increment(1);
                tracing::error!(error = %e, kept = self.policy.load().version(), "policy reload rejected; keeping the running policy");
                Err(e)
            }
        }
    }
}

/// Log the policy's actor bindings that match nobody they seem meant for (e.g. a JWT subject
/// bound without its `oidc:` prefix): not an error, since a database key may hold the name.
fn warn_about_bindings(config: &Config, policy: &mtcp_shared::policy::Policy) {
    let key_actors: Vec<&str> = config.auth.api_keys.iter().map(|k| k.actor.as_str()).collect();
    for warning in policy.binding_warnings(config.auth.oidc.is_some(), &key_actors) {
        tracing::warn!(%warning, "a policy binding may never match");
    }
    // A cluster the configuration lacks (a typo, or one not added yet) limits nothing it could use.
    for name in policy.cluster_names_used().into_iter().filter(|n| !config.has_cluster(n)) {
        tracing::warn!(cluster = %name, configured = %config.cluster_names(), "the policy names a cluster that is not configured");
    }
}
