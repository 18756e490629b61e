"""A local stand-in for the few Kubernetes API endpoints ``core.cluster`` reads.

Responses follow the Kubernetes API reference (``/version`` is ``version.Info``; nodes are a
``v1 NodeList``; pod create returns the created ``v1 Pod``; errors are ``v1 Status``). With the
``ImageVolume`` gate off the server behaves like ``dropImageVolumes`` in
``pkg/api/pod/util.go``: image volumes, and the mounts that name them, vanish from the pod.

Listens on 127.0.0.1 only, on a random port, in a daemon thread.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def node(name: str, runtime: str, arch: str = "amd64", os_name: str = "linux") -> dict:
    return {
        "metadata": {"name": name, "uid": str(uuid.uuid4()), "labels": {"kubernetes.io/arch": arch, "kubernetes.io/os": os_name}},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "nodeInfo": {
                "machineID": "0" * 32,
                "systemUUID": str(uuid.uuid4()),
                "bootID": str(uuid.uuid4()),
                "kernelVersion": "6.8.0-45-generic",
                "osImage": "Ubuntu 24.04.1 LTS",
                "containerRuntimeVersion": runtime,
                "kubeletVersion": "v1.33.2",
                "kubeProxyVersion": "",
                "operatingSystem": os_name,
                "architecture": arch,
            },
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


@dataclass
class Scenario:
    version: str = "v1.33.2"
    minor_suffix: str = ""  # "+" like EKS/GKE
    nodes: list = field(default_factory=lambda: [node("node-a", "containerd://2.1.3")])
    gate: bool = True
    node_page_size: int = 0  # >0: paginate /api/v1/nodes with ?limit/continue
    endless_continue: str = ""  # hostile: "same" repeats one continue token, "fresh" invents a new one per page
    forbid: dict = field(default_factory=dict)  # "METHOD /path" -> (verb, resource, namespace or None)
    unauthorized: bool = False
    sleep: float = 0.0  # seconds every handler sleeps before answering
    admission_denial: str | None = None  # a webhook/PodSecurity message for the pod create
    requests: list = field(default_factory=list)

    def version_info(self) -> dict:
        major, minor = self.version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor + self.minor_suffix,
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(int(minor) - 1),
            "gitVersion": self.version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2025-06-17T18:36:44Z",
            "goVersion": "go1.24.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


class _Handler(BaseHTTPRequestHandler):
    scenario: Scenario

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _common(self, method: str) -> tuple[str, dict] | None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        url = url._replace(path=url.path.rstrip("/") or "/")  # the API server serves /version and /version/
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.scenario.requests.append(
            {
                "method": method,
                "path": url.path,
                "query": query,
                "body": json.loads(raw) if raw else None,
                "authorization": self.headers.get("Authorization"),
            }
        )
        if self.scenario.sleep:
            time.sleep(self.scenario.sleep)
        if self.scenario.unauthorized:
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return None
        key = f"{method} {url.path}"
        if key in self.scenario.forbid:
            verb, resource, namespace = self.scenario.forbid[key]
            where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = f'{resource} is forbidden: User "jane" cannot {verb} resource "{resource}" in API group "" {where}'
            self._send(403, status(403, "Forbidden", message, {"kind": resource}))
            return None
        return url.path, query

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        found = self._common("GET")
        if found is None:
            return
        path, query = found
        if path == "/version":
            self._send(200, self.scenario.version_info())
        elif path == "/api/v1/nodes":
            items = self.scenario.nodes
            size = self.scenario.node_page_size
            token = query.get("continue", ["0"])[0] or "0"
            start = int(token) if token.isdigit() else 0
            meta: dict = {"resourceVersion": "4242"}
            if size:
                items = items[start : start + size]
                if start + size < len(self.scenario.nodes):
                    meta["continue"] = str(start + size)
            if self.scenario.endless_continue == "same":
                meta["continue"] = "again"
            elif self.scenario.endless_continue == "fresh":
                meta["continue"] = f"page-{len(self.scenario.requests)}"
            self._send(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": meta, "items": items})
        else:
            self._send(404, status(404, "NotFound", "the server could not find the requested resource"))

    def do_POST(self) -> None:  # noqa: N802
        found = self._common("POST")
        if found is None:
            return
        path, query = found
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            namespace = parts[3]
            if namespace == "missing":
                self._send(404, status(404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"}))
                return
            if self.scenario.admission_denial:
                self._send(403, status(403, "Forbidden", self.scenario.admission_denial))
                return
            pod = self.scenario.requests[-1]["body"]
            self._send(201, created_pod(pod, namespace, gate=self.scenario.gate, dry_run=query.get("dryRun") == ["All"]))
            return
        self._send(404, status(404, "NotFound", "the server could not find the requested resource"))


def created_pod(pod: dict, namespace: str, *, gate: bool, dry_run: bool) -> dict:
    pod = json.loads(json.dumps(pod))
    meta = pod.setdefault("metadata", {})
    meta["name"] = meta.get("name") or meta.get("generateName", "pod-") + "x7k2q"
    meta["namespace"] = namespace
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = "2025-07-01T10:00:00Z"
    if not dry_run:
        meta["resourceVersion"] = "4243"
    spec = pod.setdefault("spec", {})
    if not gate:  # dropImageVolumes: the volume and its mounts are silently removed
        dropped = {v["name"] for v in spec.get("volumes", []) if "image" in v}
        spec["volumes"] = [v for v in spec.get("volumes", []) if "image" not in v] or None
        if spec["volumes"] is None:
            del spec["volumes"]
        for group in ("initContainers", "containers"):
            for container in spec.get(group, []):
                mounts = [m for m in container.get("volumeMounts", []) if m["name"] not in dropped]
                if "volumeMounts" in container:
                    container["volumeMounts"] = mounts
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for container in spec.get("containers", []):
        container.setdefault("imagePullPolicy", "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return pod


class StandIn:
    """``with StandIn(scenario) as api: api.url`` — a running stand-in API server."""

    def __init__(self, scenario: Scenario) -> None:
        handler = type("Handler", (_Handler,), {"scenario": scenario})
        self.scenario = scenario
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_kubeconfig(
    path: Path, server: str, *, contexts: tuple[str, ...] = ("standin",), current: str | None = "standin", token: str = "t0ken"
) -> Path:
    """A kubeconfig with one cluster/user per context name, all pointing at ``server``."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    for name in contexts:
        lines += [f"- name: {name}", "  cluster:", f"    server: {server}"]
    lines.append("users:")
    for name in contexts:
        lines += [f"- name: {name}", "  user:", f"    token: {token}"]
    lines.append("contexts:")
    for name in contexts:
        lines += [f"- name: {name}", "  context:", f"    cluster: {name}", f"    user: {name}", "    namespace: default"]
    if current:
        lines.append(f"current-context: {current}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
