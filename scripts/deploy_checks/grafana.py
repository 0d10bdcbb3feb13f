"""The Grafana dashboard: structure, datasource wiring, the metrics it shows, and
deploy/grafana/panel-queries.txt (every expression, once, in dashboard order)."""

import json
import sys

import yaml

from .common import DASHBOARD_METRICS, ROOT, Problems, load_yaml

DASHBOARD = ROOT / "deploy/grafana/dashboards/mtcp-overview.json"
QUERIES = ROOT / "deploy/grafana/panel-queries.txt"


def _overlaps(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def check_dashboard(p):
    dash = json.loads(DASHBOARD.read_text())
    ds_uid = load_yaml(ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"][0]["uid"]
    for key in ("uid", "title", "panels", "schemaVersion"):
        p.check(key in dash, f"dashboard has no {key}")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    ds_var = variables.get("datasource")
    p.check(ds_var is not None and ds_var["type"] == "datasource" and ds_var["query"] == "prometheus",
            "a `datasource` variable of type prometheus is expected")
    p.check(ds_var and ds_var.get("current", {}).get("value") == ds_uid,
            f"the datasource variable should default to the provisioned uid {ds_uid}")
    allowed_ds = {"${datasource}", ds_uid}
    ids, exprs, boxes = set(), [], []
    panels = dash["panels"]
    for panel in panels + [c for r in panels if r.get("type") == "row" for c in r.get("panels", [])]:
        pid = panel.get("id")
        where = f"panel {pid} ({panel.get('title')!r})"
        p.check(isinstance(pid, int) and pid not in ids, f"{where}: id missing or not unique")
        ids.add(pid)
        p.check(bool(panel.get("title")), f"{where}: no title")
        g = panel.get("gridPos", {})
        p.check(all(k in g for k in "xywh") and g["x"] + g["w"] <= 24, f"{where}: bad gridPos {g}")
        for other_where, other in boxes:
            p.check(not _overlaps(g, other), f"{where} overlaps {other_where}")
        boxes.append((where, g))
        if panel.get("type") == "row":
            p.check(not panel.get("targets"), f"{where}: a row has no queries")
            continue
        ds = panel.get("datasource") or {}
        p.check(ds.get("type") == "prometheus" and ds.get("uid") in allowed_ds, f"{where}: datasource {ds}")
        p.check(bool(panel.get("description")), f"{where}: no description (README explains each panel from it)")
        targets = panel.get("targets") or []
        p.check(targets, f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        p.check(len(set(refs)) == len(refs) and None not in refs, f"{where}: refIds {refs}")
        for t in targets:
            expr = (t.get("expr") or "").strip()
            p.check(expr, f"{where}: target {t.get('refId')} has no expr")
            p.check("$" not in expr, f"{where}: {expr!r} uses a template variable (must evaluate as plain PromQL)")
            tds = t.get("datasource") or ds
            p.check(tds.get("uid") in allowed_ds, f"{where}: target datasource {tds}")
            exprs.append(expr)
    unique = list(dict.fromkeys(exprs))
    listed = [line for line in QUERIES.read_text().splitlines() if line.strip()]
    p.check(listed == unique, "deploy/grafana/panel-queries.txt is not the dashboard's expressions in order, once each "
            f"(missing: {[e for e in unique if e not in listed]}, extra: {[e for e in listed if e not in unique]})")
    joined = "\n".join(unique)
    for metric in DASHBOARD_METRICS:
        p.check(metric in joined, f"no panel shows {metric}")
    provider = load_yaml(ROOT / "deploy/grafana/provisioning/dashboards/mtcp.yml")
    p.check(provider.get("apiVersion") == 1 and provider["providers"][0]["type"] == "file", "dashboard provider")
    return unique


def write_rules(path):
    """Each panel expression as a recording rule, for `promtool check rules` (PromQL syntax and types)."""
    listed = [line for line in QUERIES.read_text().splitlines() if line.strip()]
    rules = [{"record": f"mtcp:panel_query:{i}", "expr": e} for i, e in enumerate(listed)]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "panel-queries", "rules": rules}]}, f, sort_keys=False)


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "--write-rules":
        write_rules(sys.argv[3])
        return 0
    p = Problems("grafana")
    check_dashboard(p)
    return p.report()
