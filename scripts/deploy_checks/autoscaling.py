"""The workers' autoscaler in a rendered release: a KEDA ScaledObject or an autoscaling/v2 HPA on
External metrics, targeting the worker Deployment, on the calls waiting on the tools lane.

KEDA's CRD schemas are not available offline, so the ScaledObject is checked here field by field
against KEDA's ScaledObject specification and its postgresql and prometheus triggers (unknown
keys are refused, so a misspelt field fails); the HPA, a built-in kind, also goes through
kubernetes-validate with the rest."""

# ScaledObject spec keys and trigger metadata keys, from KEDA's documentation (v2.x).
SCALED_OBJECT_SPEC = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
                      "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers"}
SCALE_TARGET_REF = {"apiVersion", "kind", "name", "envSourceContainerName"}
TRIGGER = {"type", "name", "metadata", "metricType", "authenticationRef", "useCachedMetrics"}
TRIGGER_METADATA = {
    "postgresql": {"connectionFromEnv", "host", "port", "userName", "passwordFromEnv", "dbName", "sslmode",
                   "query", "targetQueryValue", "activationTargetQueryValue"},
    "prometheus": {"serverAddress", "query", "queryParameters", "threshold", "activationThreshold", "namespace",
                   "customHeaders", "ignoreNullValues", "unsafeSsl"},
}
METRIC_TYPES = {"AverageValue", "Value", "Utilization"}
BEHAVIOR_POLICY_TYPES = {"Pods", "Percent"}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _check_behavior(p, where, behavior, values):
    down = behavior.get("scaleDown", {})
    want = values["worker"]["autoscaling"]["scaleDown"]
    p.check(down.get("stabilizationWindowSeconds") == want["stabilizationWindowSeconds"],
            f"{where}: scale-down stabilization window")
    for pol in down.get("policies", []):
        p.check(pol.get("type") in BEHAVIOR_POLICY_TYPES and pol.get("value", 0) > 0 and pol.get("periodSeconds", 0) > 0,
                f"{where}: scale-down policy {pol}")


def _check_scaled_object(p, so, worker, values, target, oldest):
    a = values["worker"]["autoscaling"]
    spec = so["spec"]
    p.check(set(spec) <= SCALED_OBJECT_SPEC, f"ScaledObject: unknown spec keys {sorted(set(spec) - SCALED_OBJECT_SPEC)}")
    ref = spec.get("scaleTargetRef", {})
    p.check(set(ref) <= SCALE_TARGET_REF, f"ScaledObject: unknown scaleTargetRef keys {sorted(set(ref) - SCALE_TARGET_REF)}")
    p.check(ref.get("kind", "Deployment") == "Deployment" and ref.get("apiVersion", "apps/v1") == "apps/v1"
            and ref.get("name") == worker["metadata"]["name"], f"ScaledObject must scale the worker Deployment, got {ref}")
    containers = {c["name"]: c for c in worker["spec"]["template"]["spec"]["containers"]}
    source = containers.get(ref.get("envSourceContainerName", worker["spec"]["template"]["spec"]["containers"][0]["name"]))
    p.check(source is not None, f"ScaledObject: envSourceContainerName {ref.get('envSourceContainerName')} is no container")
    env = {e["name"] for e in (source or {}).get("env", [])}
    p.check(spec.get("minReplicaCount") == a["minReplicas"] and spec.get("maxReplicaCount") == a["maxReplicas"],
            "ScaledObject replica bounds")
    p.check(isinstance(spec.get("pollingInterval"), int) and isinstance(spec.get("cooldownPeriod"), int),
            "ScaledObject pollingInterval/cooldownPeriod must be integers")
    _check_behavior(p, "ScaledObject", spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {})
                    .get("behavior", {}), values)
    triggers = spec.get("triggers", [])
    names = [t.get("name") for t in triggers]
    p.check(len(set(names)) == len(names), f"ScaledObject: trigger names must be unique, got {names}")
    p.check(len(triggers) == (2 if oldest else 1), f"ScaledObject: {len(triggers)} triggers")
    for t in triggers:
        where = f"ScaledObject trigger {t.get('name')}"
        kind = t.get("type")
        p.check(kind == a["keda"]["trigger"], f"{where}: type {kind}, values ask for {a['keda']['trigger']}")
        p.check(set(t) <= TRIGGER, f"{where}: unknown keys {sorted(set(t) - TRIGGER)}")
        p.check(t.get("metricType", "AverageValue") in METRIC_TYPES, f"{where}: metricType {t.get('metricType')}")
        meta = t.get("metadata", {})
        allowed = TRIGGER_METADATA.get(kind, set())
        p.check(set(meta) <= allowed, f"{where}: unknown metadata {sorted(set(meta) - allowed)}")
        p.check(all(isinstance(v, str) for v in meta.values()), f"{where}: KEDA metadata values must be strings")
        query = meta.get("query", "")
        ages = "oldest" in t.get("name", "")
        want = oldest if ages else target
        if kind == "postgresql":
            p.check(meta.get("connectionFromEnv") in env,
                    f"{where}: connectionFromEnv {meta.get('connectionFromEnv')} is not in the worker's env")
            p.check("lane = 'tools'" in query and "status = 'queued'" in query and "run_after <= now()" in query
                    and "coalesced_into IS NULL" in query,
                    f"{where}: the query must read the claimable calls of the tools lane: {query}")
            p.check(_number(meta.get("targetQueryValue")) == want, f"{where}: targetQueryValue {meta.get('targetQueryValue')} != {want}")
        else:
            p.check(meta.get("serverAddress", "").startswith(("http://", "https://")), f"{where}: serverAddress")
            metric = "mtcp_queue_oldest_seconds" if ages else "mtcp_queue_depth"
            p.check(query.startswith(f"max({metric}{{") and 'queue="tools"' in query,
                    f"{where}: the query must take the max of {metric} over the workers: {query}")
            p.check(_number(meta.get("threshold")) == want, f"{where}: threshold {meta.get('threshold')} != {want}")
        p.check((t.get("metricType") == "Value") == ages, f"{where}: the oldest wait is a Value, the depth an AverageValue")


def _check_hpa(p, hpa, values, target, oldest):
    a = values["worker"]["autoscaling"]
    spec = hpa["spec"]
    p.check(spec.get("minReplicas") == a["minReplicas"] and spec.get("maxReplicas") == a["maxReplicas"],
            "worker HPA replica bounds")
    metrics = spec.get("metrics", [])
    p.check(all(m.get("type") == "External" for m in metrics), "worker HPA: External metrics only (not CPU)")
    by_name = {m["external"]["metric"]["name"]: m["external"] for m in metrics if m.get("type") == "External"}
    want = {"mtcp_queue_depth"} | ({"mtcp_queue_oldest_seconds"} if oldest else set())
    p.check(set(by_name) == want, f"worker HPA metrics {sorted(by_name)}")
    for name, ext in by_name.items():
        labels = ext["metric"].get("selector", {}).get("matchLabels", {})
        p.check(labels.get("queue") == "tools", f"worker HPA {name}: selector queue=tools, got {labels}")
        p.check(all(labels.get(k) == v for k, v in a["metricLabels"].items()), f"worker HPA {name}: metricLabels")
        tgt = ext.get("target", {})
        if name == "mtcp_queue_depth":
            p.check(tgt.get("type") == "AverageValue" and _number(tgt.get("averageValue")) == target,
                    f"worker HPA depth target {tgt}, want AverageValue {target}")
        else:
            p.check(tgt.get("type") == "Value" and _number(tgt.get("value")) == oldest,
                    f"worker HPA oldest-wait target {tgt}, want Value {oldest}")
    _check_behavior(p, "worker HPA", spec.get("behavior", {}), values)


def check_workers(p, by_kind, values, config, worker):
    """`worker`: the worker Deployment."""
    a = values["worker"]["autoscaling"]
    name = worker["metadata"]["name"]
    hpas = [h for h in by_kind.get("HorizontalPodAutoscaler", []) if h["spec"]["scaleTargetRef"]["name"] == name]
    sos = by_kind.get("ScaledObject", [])
    if not a["enabled"]:
        p.check(not hpas and not sos, "worker autoscaler rendered while worker.autoscaling is off")
        p.check(worker["spec"].get("replicas") == values["worker"]["replicas"], "worker replicas without autoscaling")
        return
    p.check("replicas" not in worker["spec"], "with an autoscaler the worker Deployment sets no replicas")
    target = a["targetQueueDepthPerWorker"] or config["worker"]["concurrency"]
    oldest = a["oldestSecondsThreshold"]
    if a["mode"] == "keda":
        p.check(len(sos) == 1 and not hpas, f"one ScaledObject and no worker HPA expected: {len(sos)}, {len(hpas)}")
        for so in sos:
            p.check(so["apiVersion"] == "keda.sh/v1alpha1", f"ScaledObject apiVersion {so['apiVersion']}")
            _check_scaled_object(p, so, worker, values, target, oldest)
    else:
        p.check(len(hpas) == 1 and not sos, f"one worker HPA and no ScaledObject expected: {len(hpas)}, {len(sos)}")
        for hpa in hpas:
            _check_hpa(p, hpa, values, target, oldest)
