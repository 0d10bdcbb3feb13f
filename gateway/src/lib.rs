//! The gateway: authenticates MCP calls, applies the policy, records operations, enqueues jobs and
//! waits for their results. Stateless: any replica serves any request.

mod auth;
mod http;
mod ingest;
mod intake;
mod listener;
mod mcp;
mod progress;
mod state;
mod waiter;

use std::net::SocketAddr;

use anyhow::Context;
use mtcp_shared::config::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use listener::{ClientCert, GatewayListener, Peer, TlsError};

pub use mcp::fixtures::switch::{ENV as FIXTURES_ENV, Fixtures, GatewayFlags, SwitchError};
pub use mcp::fixtures::tool_names as fixture_tool_names;
pub use state::AppState;

/// A gateway bound to its port, ready to serve.
pub struct Application {
    listener: GatewayListener,
    state: AppState,
}

impl Application {
    /// Connect to the database (refusing an unmigrated one), start the notification listener and
    /// bind the HTTP port (`service.port` 0 picks a free one), serving HTTPS when `service.tls` is set.
    pub async fn build(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        Self::build_with(config, Fixtures::Off, shutdown).await
    }

    /// [`build`](Self::build), with the test-only conformance fixtures when `fixtures` says so
    /// (refused unless the gateway listens on loopback).
    pub async fn build_with(config: Config, fixtures: Fixtures, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let mut state = AppState::connect(config, shutdown).await?;
        let addr = format!("{}:{}", state.config.service.host, state.config.service.port);
        let listener = TcpListener::bind(&addr).await.with_context(|| format!("binding the gateway to {addr}"))?;
        if fixtures == Fixtures::Conformance {
            fixtures.check_address(listener.local_addr()?)?;
            tracing::warn!(
                "TEST MODE: serving the MCP conformance fixtures; requests without a credential are accepted"
            );
            state.fixtures = Some(std::sync::Arc::new(mcp::fixtures::ConformanceFixtures::new()));
        }
        let listener = GatewayListener::new(listener, state.config.service.tls.as_ref(), state.shutdown.clone())?;
        Ok(Self { listener, state })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// `https` when the gateway serves TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.listener.is_tls() { "https" } else { "http" }
    }

    /// A handle that reloads the policy file (what SIGHUP does), usable after `run_until_stopped`.
    pub fn reloader(&self) -> PolicyReloader {
        PolicyReloader(self.state.clone())
    }

    /// Serve until the shutdown token fires. SIGHUP reloads the policy file.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.state.shutdown.clone();
        tokio::spawn(reload_on_sighup(self.state.clone()));
        let app = http::router(self.state);
        tracing::info!(addr = %self.listener.local_addr(), tls = self.listener.is_tls(), "gateway listening");
        axum::serve(self.listener, app.into_make_service_with_connect_info::<Peer>())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .context("serving HTTP")
    }
}

/// Reloads the gateway's policy file.
#[derive(Clone)]
pub struct PolicyReloader(AppState);

impl PolicyReloader {
    /// Reload now; returns the new policy version, or why the file was rejected (the running
    /// policy then stays).
    pub fn reload(&self) -> Result<String, mtcp_shared::policy::PolicyError> {
        self.0.reload_policy()
    }
}

async fn reload_on_sighup(state: AppState) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; policy reload by signal is off");
        return;
    };
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = hup.recv() => { let _ = state.reload_policy(); }
        }
    }
}

/// Build and serve the gateway until `shutdown` fires.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_with(config, Fixtures::Off, shutdown).await
}

/// [`run`], with the test-only conformance fixtures when `fixtures` says so.
pub async fn run_with(config: Config, fixtures: Fixtures, shutdown: CancellationToken) -> anyhow::Result<()> {
    Application::build_with(config, fixtures, shutdown).await?.run_until_stopped().await
}
