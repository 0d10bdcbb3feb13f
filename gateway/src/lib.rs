//! The gateway: authenticates MCP calls, applies the policy, records operations, enqueues jobs and
//! waits for their results. Stateless: any replica serves any request.

mod auth;
mod console;
mod edge;
mod http;
mod ingest;
mod intake;
mod listener;
mod mcp;
mod origin;
mod progress;
mod serve;
mod state;
mod tls;
mod waiter;
mod webhooks;

use std::net::SocketAddr;

use anyhow::Context;
use mtcp_shared::config::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use listener::{ClientCert, GatewayListener, Peer};
pub use tls::TlsError;

pub use mcp::fixtures::switch::{ENV as FIXTURES_ENV, Fixtures, GatewayFlags, SwitchError};
pub use mcp::fixtures::tool_names as fixture_tool_names;
pub use state::AppState;

/// A gateway bound to its port, ready to serve.
pub struct Application {
    listener: GatewayListener,
    state: AppState,
    /// Where `/metrics` is served when `service.metrics_listen` moves it off the MCP port.
    metrics_addr: Option<SocketAddr>,
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
            state.fixtures = Some(std::sync::Arc::new(mcp::fixtures::ConformanceFixtures::serve()?));
        }
        let service = &state.config.service;
        let listener =
            GatewayListener::new(listener, service.tls.as_ref(), service.max_connections, state.shutdown.clone())?;
        let metrics_addr = match service.metrics_listen {
            None => None,
            Some(listen) => Some(
                mtcp_shared::telemetry::serve_metrics(listen, state.shutdown.clone())
                    .await
                    .with_context(|| format!("binding `service.metrics_listen` {listen}"))?,
            ),
        };
        Ok(Self { listener, state, metrics_addr })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// The address `/metrics` is served on when `service.metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
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
        let header_read_timeout = self.state.config.service.header_read_timeout;
        let app = http::router(self.state);
        tracing::info!(
            addr = %self.listener.local_addr(),
            tls = self.listener.is_tls(),
            metrics = ?self.metrics_addr,
            "gateway listening"
        );
        serve::serve(self.listener, app, header_read_timeout, shutdown).await;
        Ok(())
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
