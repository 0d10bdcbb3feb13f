"""A rendered Helm release (helm template): the objects fit together, pods are locked down,
and the pieces other validators need are written out (built-in kinds for kubernetes-validate,
config.yaml for the real config loader, the PrometheusRule's rules for promtool).

usage: python -m deploy_checks helm RENDERED.yaml VALUES.yaml|- OUTDIR
"""

import base64
import binascii
import copy
import pathlib
import posixpath
import sys

import yaml

from .autoscaling import check_workers
from .common import ROOT, Problems, load_yaml, load_yaml_all

CHART = ROOT / "deploy/helm/mcp-teleport-control-plane"
CRD_GROUPS = ("monitoring.coreos.com/", "keda.sh/")
BINARY = {"gateway": "mtcp-gateway", "worker": "mtcp-worker", "reaper": "mtcp-reaper"}


def _merge(base, over):
    for k, v in over.items():
        base[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def _component(obj):
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def _selects(selector, labels):
    ok = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for e in selector.get("matchExpressions", []):
        if e["operator"] == "In":
            ok = ok and labels.get(e["key"]) in e["values"]
    return ok


def _secret_refs(pod):
    """(where, Secret name, key or None) of every Secret a pod reads: env, envFrom, volumes."""
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                yield f"{c['name']} env {e['name']}", ref["name"], ref["key"]
        for e in c.get("envFrom", []):
            if "secretRef" in e:
                yield f"{c['name']} envFrom", e["secretRef"]["name"], None
    for v in pod.get("volumes", []):
        if "secret" in v:
            for item in v["secret"].get("items") or [{"key": None}]:
                yield f"volume {v['name']}", v["secret"]["secretName"], item["key"]
        for src in v.get("projected", {}).get("sources", []):
            if "secret" in src:
                yield f"volume {v['name']}", src["secret"]["name"], None


def check_pod(p, name, pod, values, config, console_ref):
    sc = pod.get("securityContext", {})
    p.check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001, f"{name}: pod must run as non-root uid 10001")
    p.check(pod.get("automountServiceAccountToken") is False, f"{name}: no service account token is needed")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        where = f"{name}/{c['name']}"
        csc = c.get("securityContext", {})
        p.check(csc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
        p.check(csc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation must be false")
        p.check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: must drop ALL capabilities")
        if c["name"] == "tbot":
            check_tbot(p, where, c, volumes, values, config)
            continue
        env = {e["name"]: e for e in c.get("env", [])}
        ref = env.get("DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
        p.check(ref == {"name": values["database"]["existingSecret"]["name"], "key": values["database"]["existingSecret"]["key"]},
                f"{where}: DATABASE_URL must come from the database Secret, got {ref}")
        # The console's cookie key: the gateway only, from the console Secret, so replicas share it.
        ref = env.get("MTCP_CONSOLE__COOKIE_KEY", {}).get("valueFrom", {}).get("secretKeyRef")
        if c["name"] == "gateway":
            p.check(ref == console_ref, f"{where}: MTCP_CONSOLE__COOKIE_KEY must come from {console_ref}, got {ref}")
        else:
            p.check("MTCP_CONSOLE__COOKIE_KEY" not in env, f"{where}: only the gateway needs the console's cookie key")
        p.check(c.get("resources", {}).get("requests"), f"{where}: no resource requests")
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
        p.check("/tmp" in mounts and "emptyDir" in volumes.get(mounts["/tmp"]["name"], {}), f"{where}: /tmp emptyDir")
        if c["name"] == "migrate":
            p.check(c.get("args") == ["mtcp", "migrate"], f"{where}: args must be mtcp migrate")
            continue
        p.check(c.get("args") == [BINARY[c["name"]]], f"{where}: args {c.get('args')}")
        ports = {pt["name"]: pt["containerPort"] for pt in c.get("ports", [])}
        p.check(env.get("MTCP_CONFIG", {}).get("value") == "/etc/mtcp/config.yaml", f"{where}: MTCP_CONFIG")
        cm = mounts.get("/etc/mtcp")
        p.check(cm and cm.get("readOnly") and "configMap" in volumes.get(cm["name"], {}), f"{where}: config mount")
        want_port = {"gateway": config["service"]["port"],
                     "worker": int(config["worker"]["listen"].rsplit(":", 1)[1]),
                     "reaper": int(config["reaper"]["listen"].rsplit(":", 1)[1])}[c["name"]]
        p.check(ports.get("http") == want_port, f"{where}: port http {ports.get('http')} != configured {want_port}")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = c.get(probe, {}).get("httpGet", {})
            p.check(get.get("path") == path and get.get("port") == "http", f"{where}: {probe} must GET {path} on http")
        if c["name"] == "worker":
            home = mounts.get(config["tsh"]["home"])
            p.check(home and "emptyDir" in volumes.get(home["name"], {}) and not home.get("readOnly"),
                    f"{where}: tsh.home {config['tsh']['home']} must be a writable emptyDir")
            if values["teleport"]["tbot"]["enabled"]:
                ident = config["teleport"]["identity_file"]
                m = mounts.get(posixpath.dirname(ident))
                vol = volumes.get(m["name"], {}) if m else {}
                p.check(m and m.get("readOnly") is True, f"{where}: the tbot identity must be mounted read-only")
                p.check(vol.get("emptyDir", {}).get("medium") == "Memory",
                        f"{where}: tbot's identity volume must be an in-memory emptyDir, got {vol}")
                p.check(posixpath.basename(ident) == "identity", f"{where}: tbot writes `identity`, config says {ident}")
            elif not values["teleport"]["simulator"]["enabled"]:
                ident = config["teleport"]["identity_file"]
                m = mounts.get(posixpath.dirname(ident))
                vol = volumes.get(m["name"], {}) if m else {}
                secret = vol.get("secret", {})
                p.check(m and m.get("readOnly") is True, f"{where}: the identity must be mounted read-only")
                p.check(secret.get("secretName") == values["teleport"]["identity"]["existingSecret"]["name"]
                        and secret.get("defaultMode") == 0o400, f"{where}: identity Secret with mode 0400, got {secret}")
                p.check([i["path"] for i in secret.get("items", [])] == [posixpath.basename(ident)],
                        f"{where}: identity_file {ident} is not the mounted key")
        else:
            p.check(not any("secret" in v for v in volumes.values()), f"{where}: only workers get the identity")


def check_tbot(p, where, c, volumes, values, config):
    """tbot: its config read-only, the identity directory the worker reads writable, and the only
    container with a service account token (its join proves the pod's service account)."""
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    p.check(c.get("args") == ["start", "--config", "/etc/tbot/tbot.yaml"], f"{where}: args {c.get('args')}")
    p.check(not any(e["name"] == "DATABASE_URL" for e in c.get("env", [])), f"{where}: tbot needs no database")
    p.check(c.get("resources", {}).get("requests"), f"{where}: no resource requests")
    p.check("/tmp" in mounts and "emptyDir" in volumes.get(mounts["/tmp"]["name"], {}), f"{where}: /tmp emptyDir")
    cfg = mounts.get("/etc/tbot")
    p.check(cfg and cfg.get("readOnly") and "configMap" in volumes.get(cfg["name"], {}), f"{where}: tbot config mount")
    out = mounts.get(posixpath.dirname(config["teleport"]["identity_file"]))
    p.check(out and not out.get("readOnly"), f"{where}: tbot must write the identity directory")
    token = mounts.get("/var/run/secrets/kubernetes.io/serviceaccount")
    vol = volumes.get(token["name"], {}) if token else {}
    p.check(token and token.get("readOnly") and "projected" in vol, f"{where}: a projected service account token")


def check_release(p, docs, values, outdir):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    cms = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    main_cm = next((d for d in cms.values() if "config.yaml" in d.get("data", {})), None)
    if not p.check(main_cm is not None, "no ConfigMap with config.yaml"):
        return
    config = yaml.safe_load(main_cm["data"]["config.yaml"])
    (outdir / "config.yaml").write_text(main_cm["data"]["config.yaml"])
    if "policy.yaml" in main_cm["data"]:
        p.check(config["policy"]["path"] == "/etc/mtcp/policy.yaml", "policy.path must name the mounted policy")
        (outdir / "policy.yaml").write_text(main_cm["data"]["policy.yaml"])
    console_ref = check_secrets(p, by_kind, values, main_cm["metadata"]["name"], outdir)
    deployments = {_component(d): d for d in by_kind.get("Deployment", [])}
    p.check(set(deployments) == {"gateway", "worker", "reaper"}, f"Deployments: {sorted(deployments)}")
    for comp, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        p.check(_selects(dep["spec"]["selector"], labels), f"{comp}: selector does not match its pods")
        check_pod(p, dep["metadata"]["name"], pod, values, config, console_ref)
        for vol in pod.get("volumes", []):
            if "configMap" in vol:
                # The worker's tbot sidecar reads its own configuration; nothing else mounts another.
                tbot_cm = comp == "worker" and "tbot.yaml" in cms.get(vol["configMap"]["name"], {}).get("data", {})
                p.check(vol["configMap"]["name"] == main_cm["metadata"]["name"] or tbot_cm,
                        f"{comp}: mounts another ConfigMap")
    if "reaper" in deployments:
        p.check(deployments["reaper"]["spec"].get("replicas") == values["reaper"]["replicas"], "reaper replicas")
    services = {_component(s): s for s in by_kind.get("Service", [])}
    p.check(set(services) == {"gateway", "worker", "reaper"}, f"Services: {sorted(services)}")
    for comp, svc in services.items():
        dep = deployments.get(comp)
        if dep:
            pod_labels = dep["spec"]["template"]["metadata"]["labels"]
            p.check(_selects({"matchLabels": svc["spec"]["selector"]}, pod_labels), f"Service {comp} selects no pod")
            names = {pt["name"] for c in dep["spec"]["template"]["spec"]["containers"] for pt in c.get("ports", [])}
            for pt in svc["spec"]["ports"]:
                p.check(pt["targetPort"] in names, f"Service {comp}: targetPort {pt['targetPort']} is not a container port")
        p.check(svc["metadata"]["labels"].get("mtcp-job") == f"mtcp-{comp}", f"Service {comp}: mtcp-job label")
    gateway_name = deployments["gateway"]["metadata"]["name"]
    hpas = [h for h in by_kind.get("HorizontalPodAutoscaler", []) if h["spec"]["scaleTargetRef"]["name"] == gateway_name]
    if values["gateway"]["autoscaling"]["enabled"]:
        p.check(len(hpas) == 1 and hpas[0]["spec"]["scaleTargetRef"]["name"] == deployments["gateway"]["metadata"]["name"],
                "the HPA must scale the gateway Deployment")
        p.check("replicas" not in deployments["gateway"]["spec"], "with an HPA the gateway Deployment sets no replicas")
    else:
        p.check(not hpas and deployments["gateway"]["spec"].get("replicas") == values["gateway"]["replicas"],
                "gateway replicas without HPA")
    check_workers(p, by_kind, values, config, deployments["worker"])
    for pdb in by_kind.get("PodDisruptionBudget", []):
        comp = _component(pdb)
        p.check(_selects(pdb["spec"]["selector"], deployments[comp]["spec"]["template"]["metadata"]["labels"]),
                f"PDB {comp} selects no pod")
    p.check(any(_component(d) == "gateway" for d in by_kind.get("PodDisruptionBudget", []))
            == values["gateway"]["podDisruptionBudget"]["enabled"], "gateway PodDisruptionBudget")
    jobs = by_kind.get("Job", [])
    if p.check(len(jobs) == 1, "one migration Job expected"):
        job = jobs[0]
        hooks = set(job["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(","))
        p.check(hooks == {"pre-install", "pre-upgrade"}, f"migration Job hooks {hooks}")
        pod = job["spec"]["template"]["spec"]
        p.check(pod.get("restartPolicy") == "Never", "migration Job restartPolicy")
        p.check(not any("configMap" in v for v in pod.get("volumes", [])),
                "a pre-install hook runs before the ConfigMap exists: the Job must not mount it")
        check_pod(p, job["metadata"]["name"], pod, values, config, console_ref)
    check_options(p, by_kind, values, services, deployments, outdir)


def check_secrets(p, by_kind, values, fullname, outdir):
    """The only Secret the chart makes is the console's cookie key (unless an existing one is
    named): kept across upgrades and uninstall, holding what `console.cookie_key` accepts. Every
    Secret a pod reads is that one or one the values name. Returns the gateway's expected
    MTCP_CONSOLE__COOKIE_KEY secretKeyRef; writes the key to OUTDIR/console-cookie-key for the
    real config loader."""
    cookie = values["console"]["cookieKey"]["existingSecret"]
    made = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    name = cookie["name"] or fullname[:52].rstrip("-") + "-console"
    console_ref = {"name": name, "key": cookie["key"]}
    if cookie["name"]:
        p.check(not made, f"console.cookieKey.existingSecret is named, yet the chart makes Secrets {sorted(made)}")
    elif p.check(set(made) == {name}, f"the chart must make exactly the Secret {name}, made {sorted(made)}"):
        secret = made[name]
        p.check(secret["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep",
                f"Secret {name}: helm.sh/resource-policy: keep (sessions must survive uninstall and reinstall)")
        p.check(_component(secret) == "console", f"Secret {name}: component label")
        try:
            text = base64.b64decode(secret.get("data", {}).get(cookie["key"], ""), validate=True).decode()
            key_len = len(base64.b64decode(text, validate=True))
        except (binascii.Error, UnicodeDecodeError):
            text, key_len = "", 0
        if p.check(key_len >= 32, f"Secret {name}: {cookie['key']} must be base64 text of >= 32 bytes (console.cookie_key)"):
            (outdir / "console-cookie-key").write_text(text)
    known = {values["database"]["existingSecret"]["name"], values["teleport"]["identity"]["existingSecret"]["name"], name}
    pods = [d["spec"]["template"]["spec"] for kind in ("Deployment", "Job") for d in by_kind.get(kind, [])]
    for pod in pods:
        for where, secret_name, key in _secret_refs(pod):
            p.check(secret_name in known, f"{where}: reads Secret {secret_name}, which neither the values name nor the chart makes")
            if secret_name in made and key is not None:
                p.check(key in made[secret_name].get("data", {}), f"{where}: Secret {secret_name} has no key {key}")
    return console_ref


def check_options(p, by_kind, values, services, deployments, outdir):
    sms = by_kind.get("ServiceMonitor", [])
    p.check(bool(sms) == values["metrics"]["serviceMonitor"]["enabled"], "ServiceMonitor presence")
    for sm in sms:
        sel = sm["spec"]["selector"]
        chosen = {c for c, s in services.items() if _selects(sel, s["metadata"]["labels"])}
        p.check(chosen == {"gateway", "worker", "reaper"}, f"ServiceMonitor selects {sorted(chosen)}")
        ports = {e["port"] for e in sm["spec"]["endpoints"]}
        for c in chosen:
            p.check(ports & {pt["name"] for pt in services[c]["spec"]["ports"]}, f"ServiceMonitor: no port of {c}")
            p.check(sm["spec"].get("jobLabel") in services[c]["metadata"]["labels"], f"ServiceMonitor jobLabel on {c}")
        p.check(all(e.get("path") == "/metrics" for e in sm["spec"]["endpoints"]), "ServiceMonitor path /metrics")
    rules = by_kind.get("PrometheusRule", [])
    p.check(bool(rules) == values["metrics"]["prometheusRule"]["enabled"], "PrometheusRule presence")
    for rule in rules:
        want = load_yaml(ROOT / "deploy/prometheus/rules/mtcp-alerts.yml")
        p.check(rule["spec"] == want, "PrometheusRule spec differs from deploy/prometheus/rules/mtcp-alerts.yml")
        (outdir / "prometheusrule.yml").write_text(yaml.safe_dump(rule["spec"]))
    dash = [d for d in by_kind.get("ConfigMap", []) if "mtcp-overview.json" in d.get("data", {})]
    p.check(bool(dash) == values["grafanaDashboard"]["enabled"], "Grafana dashboard ConfigMap presence")
    for d in dash:
        want = (ROOT / "deploy/grafana/dashboards/mtcp-overview.json").read_text()
        p.check(d["data"]["mtcp-overview.json"].strip() == want.strip(), "dashboard ConfigMap differs from the dashboard")
        p.check(d["metadata"]["labels"].get("grafana_dashboard") == "1", "dashboard ConfigMap sidecar label")
    nps = by_kind.get("NetworkPolicy", [])
    p.check(bool(nps) == values["networkPolicy"]["enabled"], "NetworkPolicy presence")
    for np in nps:
        comp = _component(np)
        if comp in deployments:
            p.check(_selects(np["spec"]["podSelector"], deployments[comp]["spec"]["template"]["metadata"]["labels"]),
                    f"NetworkPolicy {comp} selects no pod")
        ports = {pt["port"] for e in np["spec"]["egress"] for pt in e.get("ports", [])}
        p.check({53, values["database"]["port"]} <= ports, f"NetworkPolicy {comp}: DNS and PostgreSQL egress")
    if nps:
        p.check({_component(n) for n in nps} == {"gateway", "worker", "reaper", "migrate"}, "a NetworkPolicy per component")
    k8s = [d for kind in by_kind.values() for d in kind if not d["apiVersion"].startswith(CRD_GROUPS)]
    with open(outdir / "k8s.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump_all(k8s, f, sort_keys=False)


def main():
    rendered, values_file, outdir = sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
    values = copy.deepcopy(load_yaml(CHART / "values.yaml"))
    if values_file != "-":
        _merge(values, load_yaml(values_file) or {})
    outdir.mkdir(parents=True, exist_ok=True)
    p = Problems(f"helm ({pathlib.Path(values_file).name if values_file != '-' else 'default values'})")
    check_release(p, load_yaml_all(rendered), values, outdir)
    return p.report()
