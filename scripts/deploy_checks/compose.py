"""docker-compose.yml against its own config, Prometheus and Grafana files, and the image."""

import pathlib
from urllib.parse import urlparse

from .common import ROOT, Problems, listen_port, load_yaml

SERVICES = {"postgres", "migrate", "gateway", "worker", "reaper", "prometheus", "grafana"}
MTCP = ("migrate", "gateway", "worker", "reaper")


def _mounts(service):
    """{container path: host path (relative to the root) or volume name}."""
    out = {}
    for v in service.get("volumes", []):
        parts = v.split(":")
        out[parts[1]] = parts[0]
    return out


def _host_path(src):
    return ROOT / pathlib.Path(src) if src.startswith(".") else None


def check_services(p, compose, cfg):
    services = compose["services"]
    p.check(set(services) == SERVICES, f"services are {sorted(services)}, expected {sorted(SERVICES)}")
    for name, svc in services.items():
        p.check("container_name" not in svc, f"{name}: container_name prevents scaling")
        for target, src in _mounts(svc).items():
            host = _host_path(src)
            p.check(host is None or host.exists(), f"{name}: mount source {src} does not exist")
            p.check(host is not None or src in compose.get("volumes", {}), f"{name}: volume {src} is not declared")
    worker = services["worker"]
    p.check("ports" not in worker, "worker publishes host ports, so `--scale worker=3` would clash")

    pg = services["postgres"]
    test = " ".join(pg.get("healthcheck", {}).get("test", []))
    p.check("pg_isready" in test, "postgres is not health-checked with pg_isready")
    migrate = services["migrate"]
    p.check(migrate.get("command") == ["mtcp", "migrate"], "migrate must run `mtcp migrate`")
    p.check(migrate.get("restart") == "no", "migrate is one-shot: restart \"no\"")
    p.check(migrate.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
            "migrate must wait for postgres to be healthy")
    env = pg["environment"]
    images = set()
    for name in MTCP:
        svc = services[name]
        images.add(svc.get("image"))
        if name != "migrate":
            cond = svc.get("depends_on", {}).get("migrate", {}).get("condition")
            p.check(cond == "service_completed_successfully", f"{name} must start after migrate completed successfully")
        url = urlparse(svc["environment"]["DATABASE_URL"])
        p.check(url.hostname == "postgres" and url.username == env["POSTGRES_USER"]
                and url.password == env["POSTGRES_PASSWORD"] and url.path == "/" + env["POSTGRES_DB"],
                f"{name}: DATABASE_URL does not match the postgres service")
        config_at = svc["environment"].get("MTCP_CONFIG")
        p.check(_mounts(svc).get(config_at) == "./deploy/compose/config.yaml",
                f"{name}: MTCP_CONFIG {config_at} is not the mounted deploy/compose/config.yaml")
        # The quick start's ./config.yaml, read over it when present.
        overlay = svc["environment"].get("MTCP_CONFIG_OVERLAY", "")
        project = overlay.rsplit("/", 1)[0]
        p.check(overlay.endswith("/config.yaml") and _mounts(svc).get(project) in (".", "./"),
                f"{name}: MTCP_CONFIG_OVERLAY {overlay!r} is not config.yaml in the mounted project directory")
        p.check(svc["environment"].get("MTCP_SERVICE__HOST") == "0.0.0.0",
                f"{name}: MTCP_SERVICE__HOST must be 0.0.0.0 whatever ./config.yaml says")
    p.check(len(images) == 1 and None not in images, f"the mtcp services use different images: {images}")
    p.check(services["gateway"]["command"] == ["mtcp-gateway"], "gateway command")
    p.check(services["worker"]["command"] == ["mtcp-worker"], "worker command")
    p.check(services["reaper"]["command"] == ["mtcp-reaper"], "reaper command")
    published = [str(x).rsplit(":", 1)[-1] for x in services["gateway"].get("ports", [])]
    p.check(str(cfg["service"]["port"]) in published, "the gateway's service.port is not published")
    p.check(cfg["service"]["host"] == "0.0.0.0", "service.host must be 0.0.0.0 in a container")
    env = services["gateway"]["environment"]
    p.check(str(env.get("MTCP_SERVICE__PORT")) in published, "MTCP_SERVICE__PORT is not the published port")
    for key in ("worker", "reaper"):
        p.check(cfg[key]["listen"].startswith("0.0.0.0:"), f"{key}.listen must listen on 0.0.0.0 in a container")

    # The simulator: paths the image creates (Dockerfile), and the shared state volume.
    dockerfile = (ROOT / "Dockerfile").read_text()
    for path in (cfg["teleport"]["tctl_path"], cfg["tsh"]["tsh_path"], cfg["teleport"]["identity_file"]):
        p.check(path in dockerfile, f"{path} (deploy/compose/config.yaml) is not created by the Dockerfile")
    state_dir = cfg["teleport"]["env"].get("TELEPORT_SIM_STATE_DIR")
    p.check(state_dir in _mounts(worker), "TELEPORT_SIM_STATE_DIR is not a volume shared by the workers")
    p.check(cfg["tsh"]["home"] in dockerfile, "tsh.home is not created (owned by uid 10001) in the image")


def check_prometheus(p, compose, cfg):
    prom = compose["services"]["prometheus"]
    mounts = _mounts(prom)
    p.check(mounts.get("/etc/prometheus") == "./deploy/prometheus", "prometheus must mount deploy/prometheus")
    p.check("--config.file=/etc/prometheus/prometheus.yml" in prom.get("command", []), "prometheus --config.file")
    conf = load_yaml(ROOT / "deploy/prometheus/prometheus.yml")
    want = {"gateway": cfg["service"]["port"], "worker": listen_port(cfg["worker"]["listen"]),
            "reaper": listen_port(cfg["reaper"]["listen"])}
    seen = {}
    for job in conf["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                seen[name] = sd["port"]
                p.check(sd.get("type") == "A", f"{job['job_name']}: compose DNS answers A records")
        if job["job_name"].startswith("mtcp-"):
            p.check(job.get("metrics_path", "/metrics") == "/metrics", f"{job['job_name']}: metrics_path")
    p.check(seen == want, f"Prometheus scrapes {seen}, the services listen on {want}")
    p.check({j["job_name"] for j in conf["scrape_configs"]} >= {"mtcp-gateway", "mtcp-worker", "mtcp-reaper"},
            "jobs mtcp-gateway, mtcp-worker, mtcp-reaper are expected (the alerts match job=~\"mtcp-.*\")")


def check_grafana(p, compose):
    graf = compose["services"]["grafana"]
    mounts = _mounts(graf)
    p.check(mounts.get("/etc/grafana/provisioning") == "./deploy/grafana/provisioning", "grafana provisioning mount")
    provider = load_yaml(ROOT / "deploy/grafana/provisioning/dashboards/mtcp.yml")["providers"][0]
    path = provider["options"]["path"]
    p.check(mounts.get(path) == "./deploy/grafana/dashboards", f"grafana must mount deploy/grafana/dashboards at {path}")
    home = graf["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "")
    p.check(home.startswith(path + "/") and (ROOT / "deploy/grafana/dashboards" / home[len(path) + 1:]).is_file(),
            f"home dashboard {home} is not a provisioned file")
    ds = load_yaml(ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    url = urlparse(ds["url"])
    p.check(url.hostname == "prometheus" and url.port == 9090, f"datasource url {ds['url']} is not the prometheus service")


def main():
    p = Problems("docker-compose")
    compose = load_yaml(ROOT / "docker-compose.yml")
    cfg = load_yaml(ROOT / "deploy/compose/config.yaml")
    check_services(p, compose, cfg)
    check_prometheus(p, compose, cfg)
    check_grafana(p, compose)
    return p.report()
