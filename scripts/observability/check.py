"""scripts/check-observability: the whole system on the simulator, traffic that touches every
metric, `promtool check metrics` on each /metrics, a real Prometheus scraping the services every
second, and every Grafana panel query evaluated through Prometheus's HTTP API.

Standard library only. Everything it starts lives in one temporary directory and is stopped at
the end, on failure and on Ctrl-C too."""

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SCRAPE_INTERVAL = "1s"
RATE_LIMIT_PER_MINUTE = 60
ROLES = ("admin", "operator", "user", "readonly")


class Failure(Exception):
    pass


def clean_env(extra=None):
    """Our environment without the control plane's own settings (the config file is the truth)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith(("MTCP_", "OTEL_"))}
    env.update(extra or {})
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=60):
    """(status, content type, text); HTTP errors are answers too."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def wait_until(what, probe, timeout=60.0, every=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(every)


class System:
    """The processes of one run, in one temporary directory."""

    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="mtcp-obs-")
        # The private PostgreSQL runs as user postgres under root: it must reach its directory.
        os.chmod(self.dir, 0o755)
        self.procs = {}
        self.pg_started = False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self, name, argv, env=None):
        log = open(self.path(f"{name}.log"), "wb")
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=clean_env(env), start_new_session=True, cwd=self.dir
        )
        return self.procs[name]

    def stop(self, name, sig=signal.SIGTERM, wait=15):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log_tail(self, name, lines=30):
        try:
            with open(self.path(f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def teardown(self):
        for name in list(self.procs):
            self.stop(name)
        if self.pg_started:
            subprocess.run([os.path.join(self.bin, "mtcp"), "postgres", "stop", "--data-dir", self.path("pg")],
                           capture_output=True, check=False, env=clean_env())
        left = leftovers(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
        return left


def leftovers(marker):
    """Processes whose command line names `marker` (our temporary directory)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd and int(pid) != os.getpid():
            found.append(f"{pid} {cmd[:120]}")
    return found


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def write_config(sysm, ports, db_url):
    sim = os.path.join(sysm.bin, "teleport-sim")
    bin_dir = sysm.path("sim", "bin")
    os.makedirs(bin_dir)
    for name in ("tctl", "tsh"):
        os.symlink(sim, os.path.join(bin_dir, name))
    # The demo's identity, as `mtcp up` and the image make it: the worker reads its certificate
    # for mtcp_teleport_identity_expiry_seconds.
    identity = sysm.path("sim", "identity")
    subprocess.run([os.path.join(sysm.bin, "mtcp"), "simulator-identity", identity], check=True)
    keys = {role: "mtcp_" + secrets.token_hex(32) for role in ROLES}
    ingest_key = "ingest_" + secrets.token_hex(16)
    config = {
        "teleport": {
            "proxy": "teleport.example.com:443",
            "identity_file": identity,
            "tctl_path": os.path.join(bin_dir, "tctl"),
            "timeout": "10s",
            "env": {"TELEPORT_SIM_STATE_DIR": sysm.path("sim", "state")},
        },
        "tsh": {"tsh_path": os.path.join(bin_dir, "tsh"), "home": sysm.path("home")},
        "service": {"host": "127.0.0.1", "port": ports["gateway"], "log_level": "info", "log_format": "json"},
        "database": {"url": db_url},
        "policy": {"rate_limit_per_minute": RATE_LIMIT_PER_MINUTE},
        "auth": {"api_keys": [{"actor": f"obs-{r}", "role": r, "sha256": sha256(k)} for r, k in keys.items()]},
        "worker": {"heartbeat_interval": "1s", "listen": f"127.0.0.1:{ports['worker']}"},
        "reaper": {"interval": "1s", "agent_offline_after": "3s", "listen": f"127.0.0.1:{ports['reaper']}"},
        "leases": {"heartbeat_interval": "1s", "reconcile_interval": "1s", "stop_grace": "1s"},
        "audit": {"ingest_keys": [{"name": "observability-check", "sha256": sha256(ingest_key)}]},
    }
    path = sysm.path("config.yaml")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)  # JSON is YAML
    return path, keys, ingest_key


class Mcp:
    def __init__(self, base, keys):
        self.url = base + "/mcp"
        self.keys = keys
        self.next_id = 0

    def call(self, role_or_key, tool, arguments):
        """The tools/call result (dict), or ('http', status) when the request was refused."""
        key = self.keys.get(role_or_key, role_or_key)
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call",
                           "params": {"name": tool, "arguments": arguments}})
        status, ctype, text = http("POST", self.url, body, {
            "Authorization": f"Bearer {key}", "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream"})
        if status != 200:
            return ("http", status)
        messages = [text] if "json" in ctype else [
            line[5:].strip() for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
        for m in messages:
            msg = json.loads(m)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise Failure(f"{tool}: JSON-RPC error {msg['error']}")
                return msg["result"]
        raise Failure(f"{tool}: no answer in {text[:300]!r}")


def text_of(result):
    return " ".join(c.get("text", "") for c in result.get("content", []))


def expect(result, tool, ok, contains=None):
    if isinstance(result, tuple):
        raise Failure(f"{tool}: refused with HTTP {result[1]}")
    if bool(result.get("isError")) == ok:
        raise Failure(f"{tool}: expected {'success' if ok else 'an error'}, got {text_of(result)[:300]}")
    if contains and contains not in text_of(result):
        raise Failure(f"{tool}: expected {contains!r} in {text_of(result)[:300]}")
    return result


def traffic(mcp, base, ingest_key, round_no):
    """One round of traffic that moves every metric the dashboard shows."""
    for _ in range(2):
        expect(mcp.call("admin", "list_nodes", {}), "list_nodes", ok=True)  # tctl get nodes
    expect(mcp.call("admin", "whoami", {}), "whoami", ok=True)  # answered by the gateway
    expect(mcp.call("admin", "list_access_requests", {}), "list_access_requests", ok=True)  # tsh request ls
    # A failed call (Teleport knows no such request: the CLI exits non-zero).
    expect(mcp.call("admin", "show_access_request", {"request_id": "00000000-0000-4000-8000-00000000000f"}),
           "show_access_request", ok=False)
    expect(mcp.call("admin", "get_operation", {"op_id": "not-an-op-id"}), "get_operation", ok=False,
           contains="invalid arguments")
    expect(mcp.call("readonly", "list_access_requests", {}), "list_access_requests (readonly)", ok=False,
           contains="denied by policy")
    # The `user` actor goes past its allowance (per actor, per minute).
    limited = 0
    for _ in range(RATE_LIMIT_PER_MINUTE + 5 if round_no == 1 else 5):
        r = mcp.call("user", "whoami", {})
        limited += "rate limit" in text_of(r)
    if round_no == 1 and not limited:
        raise Failure("no call was rate-limited")
    # A refused credential.
    refused = mcp.call("mtcp_" + "0" * 64, "whoami", {})
    if refused != ("http", 401):
        raise Failure(f"an unknown key got {refused}")
    # Audit deliveries: one valid event and one rejected, then a refused delivery.
    events = json.dumps([
        {"uid": f"obs-{round_no}-{secrets.token_hex(4)}", "time": "2026-11-26T10:00:00Z", "event": "user.login",
         "user": "alice", "success": True},
        {"uid": "no-time", "event": "user.login"},
    ])
    status, _, text = http("POST", base + "/audit/ingest", events,
                           {"Authorization": f"Bearer {ingest_key}", "Content-Type": "application/json"})
    if status != 200 or json.loads(text)["inserted"] != 1 or len(json.loads(text)["rejected"]) != 1:
        raise Failure(f"audit ingest: {status} {text[:300]}")
    status, _, _ = http("POST", base + "/audit/ingest", events, {"Authorization": "Bearer wrong"})
    if status != 401:
        raise Failure(f"audit ingest with a wrong key: {status}")
    # A proxy lease, started and stopped.
    started = expect(mcp.call("operator", "start_proxy", {"kind": "proxy_app", "target": {"app": "grafana"},
                                                          "reason": "observability check"}), "start_proxy", ok=True)
    lease_id = started["structuredContent"]["lease_id"]
    expect(mcp.call("operator", "stop_proxy", {"lease_id": lease_id, "reason": "observability check done"}),
           "stop_proxy", ok=True)


def promtool_check(name, url):
    _, _, text = http("GET", url)
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    problems = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0 and not problems, problems, text.count("# HELP ")


def prom_query(prom, query):
    status, _, text = http("GET", prom + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    body = json.loads(text)
    if status != 200 or body.get("status") != "success":
        raise Failure(f"Prometheus refused {query!r}: {text[:300]}")
    return body["data"]["result"]


def verdict(result):
    """Problem with a query's result, or None."""
    if not result:
        return "no data"
    values = [r["value"][1] for r in result]
    if all(v in ("NaN", "+Inf", "-Inf") for v in values):
        return "no finite value"
    return None


def run(args):
    queries = [q.strip() for q in open(args.queries) if q.strip()]
    sysm = System(args.bin_dir)
    mtcp = os.path.join(args.bin_dir, "mtcp")
    failed = []
    try:
        out = subprocess.run([mtcp, "postgres", "start", "--data-dir", sysm.path("pg")], capture_output=True,
                             text=True, env=clean_env())
        sysm.pg_started = True
        if out.returncode != 0:
            raise Failure(f"mtcp postgres start: {out.stderr.strip()}")
        db_url = [line for line in out.stdout.splitlines() if line.startswith("postgres://")][-1]
        ports = {name: free_port() for name in ("gateway", "worker", "reaper", "victim", "prometheus")}
        config, keys, ingest_key = write_config(sysm, ports, db_url)
        out = subprocess.run([mtcp, "migrate", "--config", config], capture_output=True, text=True, env=clean_env())
        if out.returncode != 0:
            raise Failure(f"mtcp migrate: {out.stdout}{out.stderr}")
        env = {"MTCP_CONFIG": config}
        base = f"http://127.0.0.1:{ports['gateway']}"
        services = {"gateway": base, "worker": f"http://127.0.0.1:{ports['worker']}",
                    "reaper": f"http://127.0.0.1:{ports['reaper']}"}
        for name in services:
            sysm.start(name, [os.path.join(args.bin_dir, f"mtcp-{name}")], env)
        for name, url in services.items():
            try:
                wait_until(f"{name} /ready", lambda u=url: http("GET", u + "/ready", timeout=2)[0] == 200, 30)
            except Failure:
                raise Failure(f"{name} did not become ready:\n{sysm.log_tail(name)}")
        # A second worker, killed below: the reaper marks it offline (a reaper action).
        sysm.start("victim", [os.path.join(args.bin_dir, "mtcp-worker")],
                   {**env, "MTCP_WORKER__LISTEN": f"127.0.0.1:{ports['victim']}"})
        wait_until("the second worker", lambda: http("GET", f"http://127.0.0.1:{ports['victim']}/ready",
                                                      timeout=2)[0] == 200, 30)

        prom = f"http://127.0.0.1:{ports['prometheus']}"
        prom_config = sysm.path("prometheus.yml")
        with open(prom_config, "w") as f:
            json.dump({"global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
                       "scrape_configs": [{"job_name": f"mtcp-{name}", "static_configs": [
                           {"targets": [url.removeprefix("http://")]}]} for name, url in services.items()]}, f)
        sysm.start("prometheus", ["prometheus", f"--config.file={prom_config}",
                                  f"--storage.tsdb.path={sysm.path('prometheus-data')}",
                                  f"--web.listen-address=127.0.0.1:{ports['prometheus']}", "--log.level=warn"])
        wait_until("Prometheus", lambda: http("GET", prom + "/-/ready", timeout=2)[0] == 200, 30)
        wait_until("Prometheus to scrape all three services",
                   lambda: sum(r["value"][1] == "1" for r in prom_query(prom, "up")) == len(services), 30)

        mcp = Mcp(base, keys)
        sysm.stop("victim", signal.SIGKILL)
        started = time.monotonic()
        traffic(mcp, base, ingest_key, 1)
        time.sleep(3)  # a few scrapes between the rounds: rates need a counter that changed
        traffic(mcp, base, ingest_key, 2)
        print(f"traffic: two rounds in {time.monotonic() - started:.1f} s")

        print("promtool check metrics:")
        for name, url in services.items():
            clean, problems, described = promtool_check(name, url + "/metrics")
            print(f"  {'ok  ' if clean else 'FAIL'} {name:8} ({described} metrics described)")
            if not clean:
                failed.append(f"promtool check metrics on {name}")
                print("\n".join("       " + line for line in problems.splitlines()))

        # Wait (bounded) until every query has data: the reaper's action and the last round's
        # counters need two scrapes.
        deadline = time.monotonic() + 40
        while True:
            results = {q: prom_query(prom, q) for q in queries}
            if all(verdict(r) is None for r in results.values()) or time.monotonic() > deadline:
                break
            time.sleep(1)
        print(f"\nPrometheus {SCRAPE_INTERVAL} scrapes; panel queries ({args.queries}):")
        print(f"  {'':4} {'series':>6}  {'value':>12}  query")
        for q, result in results.items():
            problem = verdict(result)
            sample = result[0]["value"][1] if result else "-"
            try:
                sample = f"{float(sample):.4g}"
            except ValueError:
                pass
            print(f"  {'ok  ' if problem is None else 'FAIL'} {len(result):>6}  {sample:>12}  {q}")
            if problem:
                failed.append(f"{problem}: {q}")
    except Failure as e:
        failed.append(str(e))
    except KeyboardInterrupt:
        failed.append("interrupted")
    finally:
        if failed:
            for name in ("gateway", "worker", "reaper"):
                errors = [line for line in sysm.log_tail(name, 400).splitlines() if '"level":"ERROR"' in line]
                if errors:
                    print(f"\n{name} errors:\n" + "\n".join(errors[-10:]))
        left = sysm.teardown()
        if left:
            failed.append("processes left running: " + "; ".join(left))
    if failed:
        print(f"\ncheck-observability: {len(failed)} problem(s):", file=sys.stderr)
        for f in failed:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(f"\ncheck-observability: every /metrics is promtool-clean and all {len(queries)} panel queries have data")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin-dir", required=True, help="directory of the built binaries")
    parser.add_argument("--queries", required=True, help="deploy/grafana/panel-queries.txt")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
