#!/usr/bin/env python3
"""What the schemas do not check, over one overlay's rendered manifests:
every pod hardened and probed with requests and limits, the admin (9090) and
gRPC (50051) ports reachable only through narrow policies, and the overlay's
own promises (replicas, budgets, stores).

    check.py single-node|scaled RENDERED.yaml

Prints each broken promise and exits 1 if there is one."""
import sys

import yaml

PRIVATE_PORTS = {9090, 50051}
SCALED = ["forms", "uploads", "gateway", "smtp"]

layout, path = sys.argv[1], sys.argv[2]
with open(path) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
problems = []


def expect(ok, what):
    if not ok:
        problems.append(what)


def of_kind(kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


deployments = of_kind("Deployment")
expect(set(deployments) == {"forms", "uploads", "gateway", "smtp", "inbox"},
       f"the five services, not {sorted(deployments)}")
for d in docs:
    expect(d["metadata"].get("namespace") == "inlet",
           f"{d['kind']}/{d['metadata']['name']} is in namespace inlet")

for name, d in deployments.items():
    pod = d["spec"]["template"]["spec"]
    expect(pod.get("automountServiceAccountToken") is False, f"{name}: no service account token")
    expect(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runs as non-root")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        expect(sc.get("readOnlyRootFilesystem") is True, f"{name}: read-only root file system")
        expect(sc.get("allowPrivilegeEscalation") is False, f"{name}: no privilege escalation")
        expect(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drops every capability")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = c.get(probe, {}).get("httpGet", {})
            expect(get.get("path") == path and get.get("port") == "admin",
                   f"{name}: {probe} asks {path} on the admin port")
        resources = c.get("resources", {})
        for kind in ("requests", "limits"):
            expect({"cpu", "memory"} <= set(resources.get(kind, {})), f"{name}: cpu and memory {kind}")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        expect("/tmp" in mounts, f"{name}: a writable /tmp")

for name, s in of_kind("Service").items():
    expect(s["spec"].get("type", "ClusterIP") == "ClusterIP", f"service {name}: cluster-internal")
    for port in s["spec"]["ports"]:
        expect(port["port"] != 9090, f"service {name}: does not carry the admin port")

policies = of_kind("NetworkPolicy")
denies = [p for p in policies.values()
          if "Ingress" in p["spec"].get("policyTypes", []) and not p["spec"].get("ingress")]
expect(any(p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/part-of": "inlet"}
           for p in denies), "a policy denies ingress to every Inlet pod by default")
for name, p in policies.items():
    for rule in p["spec"].get("ingress", []):
        ports = {port.get("port") for port in rule.get("ports", [])}
        open_to_all = not rule.get("from")
        expect(not (open_to_all and (not ports or ports & PRIVATE_PORTS)),
               f"policy {name}: the admin and gRPC ports are not open to everyone")
        for peer in rule.get("from", []):
            if ports & PRIVATE_PORTS:
                expect(peer.get("podSelector", {}).get("matchLabels"),
                       f"policy {name}: private ports only for labelled pods")

claims = of_kind("PersistentVolumeClaim")
budgets = of_kind("PodDisruptionBudget")
config = of_kind("ConfigMap")["inlet-config"]["data"]
forms_env = {e["name"]: e for e in deployments["forms"]["spec"]["template"]["spec"]["containers"][0]["env"]}
uploads_env = {e["name"]: e for e in deployments["uploads"]["spec"]["template"]["spec"]["containers"][0]["env"]}
if layout == "single-node":
    for name, d in deployments.items():
        expect(d["spec"].get("replicas") == 1, f"{name}: one replica")
    expect(claims["inlet-data"]["spec"]["accessModes"] == ["ReadWriteOnce"], "one ReadWriteOnce volume")
    expect(deployments["forms"]["spec"]["strategy"]["type"] == "Recreate",
           "the journal's owner goes before the next starts")
    expect(config.get("INLET_EVENTS__BACKEND", "memory") == "memory", "the feed in the gateway's memory")
elif layout == "scaled":
    for name in SCALED:
        replicas = deployments[name]["spec"].get("replicas", 1)
        expect(replicas >= 2, f"{name}: replicas")
        budget = budgets.get(name)
        expect(budget is not None, f"{name}: a PodDisruptionBudget")
        if budget:
            expect(0 < budget["spec"].get("minAvailable", 0) < replicas, f"{name}: the budget lets one go")
            expect(budget["spec"]["selector"]["matchLabels"]
                   == deployments[name]["spec"]["selector"]["matchLabels"], f"{name}: the budget selects its pods")
    expect(claims["inlet-data"]["spec"]["accessModes"] == ["ReadWriteMany"], "a volume every node mounts")
    expect(config.get("INLET_EVENTS__BACKEND") == "nats" and config.get("INLET_EVENTS__NATS__URL"),
           "the feed on NATS")
    expect(forms_env.get("INLET_STORE__BACKEND", {}).get("value") == "postgres", "forms on PostgreSQL")
    expect("secretKeyRef" in forms_env.get("INLET_STORE__POSTGRES__URL", {}).get("valueFrom", {}),
           "the PostgreSQL URL from a Secret")
    expect(uploads_env.get("INLET_STORE__BACKEND", {}).get("value") == "s3", "uploads on S3")
    expect(all("secretKeyRef" in uploads_env.get(key, {}).get("valueFrom", {})
               for key in ["INLET_STORE__S3__ENDPOINT", "INLET_STORE__S3__BUCKET",
                           "INLET_STORE__S3__ACCESS_KEY_ID", "INLET_STORE__S3__SECRET_ACCESS_KEY"]),
           "the bucket and its keys from a Secret")
    expect(all(v.get("name") != "data" for v in deployments["uploads"]["spec"]["template"]["spec"].get("volumes", [])),
           "uploads on S3 mounts no data volume")
else:
    sys.exit(f"unknown layout {layout}")

for p in problems:
    print(f"{layout}: {p}")
sys.exit(1 if problems else 0)
