# syntax=docker/dockerfile:1
# MCP Teleport Control Plane: every binary in one image (gateway, worker, reaper, the `mtcp` CLI
# and the Teleport simulator for demos). Pick the process with the command:
#
#   docker build -t mcp-teleport-control-plane .
#   docker run --rm -e DATABASE_URL=postgres://… mcp-teleport-control-plane mtcp migrate
#   docker run -e DATABASE_URL=… -p 8000:8000 mcp-teleport-control-plane            # gateway
#   docker run -e DATABASE_URL=… mcp-teleport-control-plane mtcp-worker
#
# Stages: chef (toolchain + cargo-chef) → planner (the dependency recipe) → builder (dependencies
# in their own cached layer, then the workspace) → runtime (Debian slim, non-root, tini as PID 1).

ARG RUST_IMAGE=rust:1.95.0-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS chef
WORKDIR /src
RUN cargo install cargo-chef --locked --version 0.1.78

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# The pinned toolchain (rust-toolchain.toml) and SQLX_OFFLINE=true (.cargo/config.toml) apply to
# the dependency build too.
COPY rust-toolchain.toml ./
COPY .cargo .cargo
COPY --from=planner /src/recipe.json recipe.json
# Rebuilt only when Cargo.toml/Cargo.lock change: source edits reuse this layer.
RUN cargo chef cook --release --bins --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bins

FROM ${RUNTIME_IMAGE} AS runtime
# Debian's security updates move these versions; the base image tag is what is pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*

# uid/gid 10001: outside the range of system and host users, matching the Helm chart's
# securityContext. /var/lib/mcp-teleport holds the per-worker TELEPORT_HOME (tsh.home) and, for the
# simulator, the shared state directory; both are volumes (compose) or emptyDirs (Helm).
RUN groupadd --system --gid 10001 mtcp \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mcp-teleport --no-create-home \
       --shell /usr/sbin/nologin mtcp \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/mcp-teleport /var/lib/mcp-teleport/home \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/mcp-teleport/sim-state \
    && install -d -m 0755 /etc/mtcp /opt/mtcp/sim/bin

# Migrations are embedded in the binaries (sqlx::migrate!): nothing else to copy. `mtcp-edge`
# runs on users' machines, not here; it ships in the image so it can be copied out of it.
COPY --from=builder /src/target/release/mtcp-gateway /src/target/release/mtcp-worker \
     /src/target/release/mtcp-reaper /src/target/release/mtcp /src/target/release/teleport-sim \
     /src/target/release/mtcp-edge /usr/local/bin/

# The simulator dispatches on argv[0]: `tctl` and `tsh` links to it live outside PATH, so a real
# Teleport is never shadowed; the demo configuration (deploy/compose/config.yaml) names them.
# The demo's identity file: a real certificate for the demo cluster's control-plane user, so the
# identity checks (mtcp doctor, run_health_check, the expiry metric) read it as they would a real one.
RUN ln -s /usr/local/bin/teleport-sim /opt/mtcp/sim/bin/tctl \
    && ln -s /usr/local/bin/teleport-sim /opt/mtcp/sim/bin/tsh \
    && /usr/local/bin/mtcp simulator-identity /opt/mtcp/sim/identity \
    && chown 10001:10001 /opt/mtcp/sim/identity

# Container defaults (listen on every interface); mount your own file over it or point
# MTCP_CONFIG elsewhere. Environment variables (MTCP_<SECTION>__<KEY>, DATABASE_URL) apply on top.
COPY deploy/docker/config.yaml /etc/mtcp/config.yaml
ENV MTCP_CONFIG=/etc/mtcp/config.yaml

USER 10001:10001
WORKDIR /var/lib/mcp-teleport
# 8000: gateway (MCP, /health, /ready, /metrics) · 9101: worker ops · 9102: reaper ops
EXPOSE 8000 9101 9102
# tini reaps whatever the Teleport CLIs leave behind and forwards SIGTERM for a clean shutdown.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["mtcp-gateway"]
