"""Shared helpers: the repository root, YAML loading, and the list of problems found."""

import json
import pathlib
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Problems:
    """Collects failed expectations so one run reports all of them."""

    def __init__(self, what):
        self.what = what
        self.items = []

    def check(self, ok, message):
        if not ok:
            self.items.append(message)
        return ok

    def report(self):
        for item in self.items:
            print(f"  {self.what}: {item}")
        return 1 if self.items else 0


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_yaml_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def workspace_bins():
    """Binary targets of the workspace (cargo metadata), by package."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    meta = json.loads(out)
    bins = {}
    for pkg in meta["packages"]:
        for target in pkg["targets"]:
            if "bin" in target["kind"]:
                bins[target["name"]] = pkg["name"]
    return bins


def listen_port(addr):
    """Port of a `host:port` listen address."""
    return int(str(addr).rsplit(":", 1)[1])


# The image's service binaries and the simulator; `bench` (tests crate) stays out of the image.
IMAGE_BINARIES = ["mtcp-gateway", "mtcp-worker", "mtcp-reaper", "mtcp", "teleport-sim"]

# Metric names the dashboard must show (issue 8).
DASHBOARD_METRICS = [
    "mtcp_tool_calls_total", "mtcp_tool_call_duration_seconds_bucket", "mtcp_job_exec_duration_seconds_bucket",
    "mtcp_job_queue_wait_seconds_bucket", "mtcp_queue_depth", "mtcp_queue_oldest_seconds",
    "mtcp_workers_online", "mtcp_leases_active",
    "mtcp_lease_events_total", "mtcp_policy_decisions_total", "mtcp_auth_failures_total",
    "mtcp_rate_limited_total", "mtcp_reaper_actions_total", "mtcp_audit_events_ingested_total",
    "mtcp_audit_ingest_refused_total", "mtcp_cli_runs_total",
]
