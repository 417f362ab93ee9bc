#!/usr/bin/env python3
"""Checks deploy/ (container build file, Kubernetes and KServe manifests) for
structure and consistency: every YAML document parses, has apiVersion/kind, the
probes hit Triton's v2 health endpoints on a declared port, Service, HPA and
Deployment agree on names and ports, the container runs `aegisrt serve` bound
to all interfaces, and the Dockerfile uses scripts that exist.

This is what can be checked without a cluster: no kubectl/kubeconform schema
validation and no container build were available where it was written.

  test_deploy_manifests.py <source dir>     (run with a python that has PyYAML)
"""
import os
import sys
import unittest

import yaml

ROOT = None


def load(rel):
    with open(os.path.join(ROOT, "deploy", rel)) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    return docs


def one(rel, kind):
    docs = [d for d in load(rel) if d.get("kind") == kind]
    assert len(docs) == 1, f"{rel}: expected one {kind}, found {len(docs)}"
    return docs[0]


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"probe port {port!r} is not a declared container port")


class DeployManifests(unittest.TestCase):
    def test_every_manifest_parses_with_kind(self):
        found = 0
        for sub in ("k8s", "kserve"):
            for name in sorted(os.listdir(os.path.join(ROOT, "deploy", sub))):
                if not name.endswith(".yaml"):
                    continue
                for doc in load(os.path.join(sub, name)):
                    found += 1
                    if name == "prometheus-adapter-rules.yaml":
                        self.assertIn("rules", doc)
                        continue
                    self.assertIn("apiVersion", doc, name)
                    self.assertIn("kind", doc, name)
                    self.assertIn("name", doc.get("metadata", {}), name)
        self.assertGreaterEqual(found, 6)

    def check_probes(self, container, port_expect):
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/v2/health/ready")
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/v2/health/live")
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertEqual(port_number(container, container[probe]["httpGet"]["port"]), port_expect, probe)

    def test_deployment_service_hpa_agree(self):
        dep = one("k8s/deployment.yaml", "Deployment")
        svc = one("k8s/service.yaml", "Service")
        hpa = one("k8s/hpa.yaml", "HorizontalPodAutoscaler")
        labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], labels)
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(labels.get(k), v, "Service selector must match the pod labels")
        c = dep["spec"]["template"]["spec"]["containers"][0]
        self.check_probes(c, 8000)
        names = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(names, {"http": 8000, "grpc": 8001, "metrics": 8002})
        for p in svc["spec"]["ports"]:
            self.assertIn(p["targetPort"], names, p)
        ref = hpa["spec"]["scaleTargetRef"]
        self.assertEqual((ref["kind"], ref["name"]), ("Deployment", dep["metadata"]["name"]))
        self.assertLessEqual(hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"])
        metric = hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
        rules = load("k8s/prometheus-adapter-rules.yaml")[0]["rules"]
        self.assertIn(metric, [r["name"]["as"] for r in rules], "HPA metric must be exported by the adapter rule")
        self.assertTrue(any("nv_inference_queue_duration_us" in r["seriesQuery"] for r in rules))
        # The pod's metrics annotation points at Triton's metrics port.
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(int(ann["prometheus.io/port"]), names["metrics"])

    def test_kserve_runtime_and_service(self):
        rt = one("kserve/servingruntime.yaml", "ServingRuntime")
        isvc = one("kserve/inferenceservice.yaml", "InferenceService")
        c = rt["spec"]["containers"][0]
        self.assertEqual(c["command"], ["aegisrt", "serve"])
        args = c["args"]
        self.assertEqual(args[args.index("--repo") + 1], "/mnt/models")  # where KServe mounts storageUri
        self.assertEqual(args[args.index("--address") + 1], "0.0.0.0")
        http = int(args[args.index("--http-port") + 1])
        self.assertEqual(c["ports"][0]["containerPort"], http)
        self.check_probes(c, http)
        fmt = isvc["spec"]["predictor"]["model"]["modelFormat"]["name"]
        self.assertIn(fmt, [f["name"] for f in rt["spec"]["supportedModelFormats"]])
        self.assertEqual(isvc["spec"]["predictor"]["model"]["runtime"], rt["metadata"]["name"])

    def test_dockerfile_uses_existing_scripts_and_binds_all_interfaces(self):
        with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
            text = f.read()
        for script in ("scripts/setup.sh",):
            self.assertIn(script, text)
            self.assertTrue(os.path.isfile(os.path.join(ROOT, script)), script)
        self.assertIn('"--address", "0.0.0.0"', text)
        self.assertTrue(os.path.isfile(os.path.join(ROOT, "scripts", "deps", "50-triton.sh")))
        with open(os.path.join(ROOT, "CMakePresets.json")) as f:
            self.assertIn('"release"', f.read(), "the Dockerfile builds the release preset")


if __name__ == "__main__":
    ROOT = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[2:]])
