"""Read the target platform from a live cluster (``--cluster [CONTEXT]``).

Three read-only questions, each with a bounded timeout and no retries:

1. ``GET /version``: the API server's Kubernetes version;
2. ``GET /api/v1/nodes``: every node's ``status.nodeInfo.containerRuntimeVersion``
   (``containerd://2.1.3``, ``cri-o://1.33.1``, ``docker://…``) and ``architecture``; the
   OLDEST runtime of each kind decides, since a pod may land on any node;
3. for Kubernetes 1.31–1.35 only, whether the ``ImageVolume`` gate is really on: a server-side
   dry-run create (``dryRun=All``, nothing is persisted) of a throwaway Pod that declares an
   image volume, in ``--namespace`` (default ``default``). With the gate off the API server
   drops the field, so the response no longer carries it.

Every failure is a ``ClusterError`` whose message is one line for the user (no kubeconfig,
unknown context, 401, a 403 that names the missing verb and resource, unreachable server,
timeout). Needs RBAC ``get`` on ``/version`` (every authenticated user has it), ``list nodes``,
and ``create pods`` in the probe namespace (dry-run requests are authorised like real ones).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypedDict

from migrate_tui.platform.target import IMAGE_VOLUME_FIELD, IMAGE_VOLUME_GA, Target, TargetChanges, Version, fmt

if TYPE_CHECKING:
    from kubernetes.client import ApiClient
    from kubernetes.client.exceptions import ApiException

DEFAULT_NAMESPACE = "default"
DEFAULT_TIMEOUT = 10.0
PROBE_VOLUME = "migrate-tui-probe"
PROBE_IMAGE = "registry.k8s.io/pause:3.10"
NODE_PAGE = 500
MAX_NODE_PAGES = 200  # 100 000 nodes: five times the largest supported cluster size
MAX_NODES = 100_000


class ClusterError(Exception):
    """The cluster could not be read; the message is one sentence for the user."""


class NodeInfo(TypedDict):
    """What is read of one node (``status.nodeInfo``); "" when the node doesn't say."""

    name: str
    runtime: str  # containerRuntimeVersion, e.g. "containerd://2.1.3"
    arch: str
    os: str


def target_from_cluster(
    context: str | None,
    *,
    namespace: str | None,
    base: Target,
    kubeconfig: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Target:
    """``base`` with Kubernetes version, runtimes, architectures and gate read from the cluster."""
    api, context_name = _api_client(context, kubeconfig, timeout)
    namespace = namespace or DEFAULT_NAMESPACE
    server = api.configuration.host
    reader = _Reader(api, server, context_name, timeout)
    try:
        version, git_version = reader.version()
        nodes = reader.nodes()
        notes: list[str] = []
        values: TargetChanges = {"k8s": version}
        if nodes:
            values.update(runtimes_of(nodes))
            values["arch"] = tuple(sorted({n["arch"] for n in nodes if n["arch"]})) or base.arch
        else:
            notes.append(f"the cluster reported no nodes; runtime kept from the base target ({base.runtime})")
        if IMAGE_VOLUME_FIELD <= version < IMAGE_VOLUME_GA:
            gate, note = reader.probe_gate(namespace, base.gate)
            values["gate"] = gate
            if note:
                notes.append(note)
        else:
            values["gate"] = None
    finally:
        api.close()
    count = f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}"
    return replace(base, source=f"cluster context '{context_name}' ({git_version}, {count})", notes=tuple(notes), **values)


def runtimes_of(nodes: list[NodeInfo]) -> TargetChanges:
    """The oldest containerd, the oldest CRI-O, and any runtime without image-volume support."""
    oldest: dict[str, Version] = {}
    others: list[str] = []
    for node in nodes:
        kind, version = parse_runtime(node["runtime"])
        if kind in ("containerd", "crio") and version is not None:
            if kind not in oldest or version < oldest[kind]:
                oldest[kind] = version
        else:
            label = "cri-dockerd" if kind == "docker" else (kind or "an unknown runtime")
            text = f"{label} {fmt(version)}" if version else label
            others.append(f"{text} (node {node['name']})")
    return {
        "containerd": oldest.get("containerd"),
        "crio": oldest.get("crio"),
        "other_runtime": others[0] if others else None,
    }


_RUNTIME = re.compile(r"^\s*([A-Za-z][\w.+-]*)://v?(\d+)\.(\d+)")


def parse_runtime(text: str) -> tuple[str, Version | None]:
    """``containerd://2.1.3`` → ("containerd", (2, 1)); ``cri-o://1.33.1`` → ("crio", (1, 33))."""
    match = _RUNTIME.match(text or "")
    if not match:
        kind = (text or "").split("://", 1)[0].strip().lower()
        return kind, None
    kind = match.group(1).lower()
    kind = {"cri-o": "crio", "crio": "crio", "containerd": "containerd"}.get(kind, kind)
    return kind, (int(match.group(2)), int(match.group(3)))


def parse_server_version(info: dict[str, Any]) -> tuple[Version, str]:
    """``/version`` → ((1, 33), "v1.33.2"). Managed clusters report minor as ``"33+"``."""
    git = str(info.get("gitVersion") or "")
    try:
        major = int(re.sub(r"\D", "", str(info.get("major", ""))))
        minor = int(re.sub(r"\D.*", "", str(info.get("minor", ""))))
        return (major, minor), git or f"v{major}.{minor}"
    except ValueError:
        match = re.match(r"v?(\d+)\.(\d+)", git)
        if not match:
            raise ClusterError(f"the API server reported no usable version ({json.dumps(info)[:120]})") from None
        return (int(match.group(1)), int(match.group(2))), git


# --- kubeconfig --------------------------------------------------------------------------------


def _kubeconfig_paths(explicit: str | os.PathLike[str] | None) -> str | None:
    if explicit is not None:
        return str(explicit)
    env = os.environ.get("KUBECONFIG")
    if env:
        existing = [p for p in env.split(os.pathsep) if p and Path(p).expanduser().is_file()]
        return os.pathsep.join(existing) or None
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.is_file() else None


def _api_client(context: str | None, kubeconfig: str | os.PathLike[str] | None, timeout: float) -> tuple[ApiClient, str]:
    try:
        import urllib3
        from kubernetes.client import ApiClient, Configuration
        from kubernetes.config import ConfigException, kube_config
    except ImportError as exc:  # pragma: no cover - kubernetes is a hard dependency
        raise ClusterError(f"--cluster needs the kubernetes client: {exc}") from None
    paths = _kubeconfig_paths(kubeconfig)
    configuration = Configuration()
    if paths is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
            from kubernetes.config import load_incluster_config

            try:
                load_incluster_config(client_configuration=configuration)
            except ConfigException as exc:
                raise ClusterError(f"in-cluster config: {exc}") from None
            name = "in-cluster"
        else:
            where = "KUBECONFIG names no existing file" if os.environ.get("KUBECONFIG") else "no ~/.kube/config"
            raise ClusterError(f"--cluster: no kubeconfig ({where}); set KUBECONFIG, or describe the platform with --target")
    else:
        if kubeconfig is not None and not Path(paths).expanduser().is_file():
            raise ClusterError(f"--cluster: kubeconfig {paths} does not exist")
        try:
            contexts, current = kube_config.list_kube_config_contexts(config_file=paths)
        except ConfigException as exc:
            if "current-context" in str(exc) and context is None:
                raise ClusterError(f"kubeconfig {paths} has no current-context; name one: --cluster=CONTEXT") from None
            if "current-context" not in str(exc):
                raise ClusterError(f"kubeconfig {paths}: {exc}") from None
            contexts, current = _contexts_without_current(paths), None
        except Exception as exc:  # malformed YAML and friends, from inside the client
            raise ClusterError(f"kubeconfig {paths}: unreadable: {exc}") from None
        known = [c.get("name") for c in contexts or []]
        if context is not None and context not in known:
            hint = ""
            if os.path.exists(context):  # `check --cluster PATH` reads PATH as the optional CONTEXT
                hint = "; it is a path: put --cluster after the paths or write --cluster=CONTEXT"
            raise ClusterError(f"kubeconfig {paths} has no context '{context}' (known: {', '.join(map(str, known)) or 'none'}){hint}")
        if context is None and not current:
            raise ClusterError(f"kubeconfig {paths} has no current-context; name one: --cluster CONTEXT")
        name = context or current.get("name")
        try:
            kube_config.load_kube_config(config_file=paths, context=name, client_configuration=configuration, persist_config=False)
        except ConfigException as exc:
            raise ClusterError(f"kubeconfig {paths}, context '{name}': {exc}") from None
        except Exception as exc:  # exec plugins, missing cert files...
            raise ClusterError(f"kubeconfig {paths}, context '{name}': {exc}") from None
    # One try per request: a dead server must fail within the timeout, not 4x it.
    configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0)
    return ApiClient(configuration), str(name)


def _contexts_without_current(paths: str) -> list[dict[str, Any]]:
    import yaml

    contexts: list[dict[str, Any]] = []
    for path in paths.split(os.pathsep):
        try:
            data = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        contexts += [c for c in data.get("contexts") or [] if isinstance(c, dict)]
    return contexts


# --- requests ----------------------------------------------------------------------------------


_FORBIDDEN = re.compile(
    r'(?:User "(?P<user>[^"]*)" )?cannot (?P<verb>\S+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<ns>[^"]+)"| at the cluster scope)?'
)


class _Reader:
    def __init__(self, api: ApiClient, server: str, context: str, timeout: float) -> None:
        self.api = api
        self.server = server
        self.context = context
        self.timeout = timeout

    def version(self) -> tuple[Version, str]:
        from kubernetes.client import VersionApi

        data = self._json(
            "read the server version", lambda: VersionApi(self.api).get_code(_preload_content=False, _request_timeout=self._timeouts)
        )
        return parse_server_version(data)

    def nodes(self) -> list[NodeInfo]:
        from kubernetes.client import CoreV1Api

        core = CoreV1Api(self.api)
        out: list[NodeInfo] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_NODE_PAGES):
            page = self._json(
                "list nodes (to read each node's container runtime and architecture)",
                lambda: core.list_node(limit=NODE_PAGE, _continue=token, _preload_content=False, _request_timeout=self._timeouts),
            )
            items = page.get("items") or []
            if not isinstance(items, list):
                raise ClusterError(f"{self.server} answered 'list nodes' with items that are not a list")
            for item in items:
                if not isinstance(item, dict):
                    continue
                info = _mapping(_mapping(item.get("status")).get("nodeInfo"))
                out.append(
                    {
                        "name": str(_mapping(item.get("metadata")).get("name", "?")),
                        "runtime": str(info.get("containerRuntimeVersion") or ""),
                        "arch": str(info.get("architecture") or ""),
                        "os": str(info.get("operatingSystem") or ""),
                    }
                )
            if len(out) > MAX_NODES:
                raise ClusterError(f"{self.server} listed more than {MAX_NODES} nodes; refusing to read further")
            token = _mapping(page.get("metadata")).get("continue")
            if not token:
                return out
            token = str(token)
            if token in seen:
                raise ClusterError(f"{self.server} returned the same 'continue' token twice while listing nodes; the listing never ends")
            seen.add(token)
        raise ClusterError(
            f"{self.server} was still paginating nodes after {MAX_NODE_PAGES} pages ({len(out)} nodes); refusing to read further"
        )

    def probe_gate(self, namespace: str, declared: bool | None) -> tuple[bool | None, str | None]:
        """(gate, note). Falls back to a gate the user declared when the probe is not allowed."""
        from kubernetes.client import CoreV1Api
        from kubernetes.client.exceptions import ApiException

        core = CoreV1Api(self.api)
        body = probe_pod()
        try:
            data = self._json(
                f"dry-run create a probe pod in namespace '{namespace}'",
                # a plain dict body is serialised as is (the client's sanitize_for_serialization)
                lambda: core.create_namespaced_pod(
                    namespace,
                    body,  # type: ignore[arg-type]
                    dry_run="All",
                    _preload_content=False,
                    _request_timeout=self._timeouts,
                ),
                passthrough=(400, 403, 404, 422),
            )
        except ApiException as exc:
            status = _status_body(exc)
            message = str(status.get("message") or exc.reason or "")
            if exc.status == 422 and (PROBE_VOLUME in message or "must specify a volume type" in message):
                return False, None  # the field was dropped, leaving a volume with no source
            if exc.status == 404:
                raise ClusterError(
                    f"namespace '{namespace}' not found on {self.server}; pick one with --namespace for the ImageVolume probe"
                ) from None
            if exc.status == 403 and _FORBIDDEN.search(message):
                reason = self._forbidden(message, f"dry-run create a probe pod in namespace '{namespace}'")
            else:
                reason = f"the dry-run probe pod in namespace '{namespace}' was rejected ({exc.status}): {message}"
            if declared is not None:
                return declared, f"{reason}; using gate={'on' if declared else 'off'} from the target you gave"
            raise ClusterError(
                f"{reason}; can't tell whether the ImageVolume gate is on: pass --target ...,gate=on|off "
                "or --namespace NS where you may create pods"
            ) from None
        return gate_from_probe(data), None

    @property
    def _timeouts(self) -> tuple[float, float]:
        return (self.timeout, self.timeout)

    def _json(self, what: str, call: Callable[[], Any], passthrough: tuple[int, ...] = ()) -> dict[str, Any]:
        import urllib3.exceptions as u3
        from kubernetes.client.exceptions import ApiException

        try:
            response = call()
            raw = response.data
        except ApiException as exc:
            if exc.status in passthrough:
                raise
            raise ClusterError(self._api_error(exc, what)) from None
        except u3.MaxRetryError as exc:
            raise ClusterError(self._transport_error(exc.reason, what)) from None
        except (u3.HTTPError, OSError) as exc:
            raise ClusterError(self._transport_error(exc, what)) from None
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            raise ClusterError(f"{self.server} answered '{what}' with something that is not JSON") from None
        if not isinstance(data, dict):
            raise ClusterError(f"{self.server} answered '{what}' with unexpected JSON")
        return data

    def _api_error(self, exc: ApiException, what: str) -> str:
        status = _status_body(exc)
        message = str(status.get("message") or exc.reason or "")
        if exc.status == 401:
            return (
                f"{self.server} rejected the credentials of context '{self.context}' (401 Unauthorized) "
                "while trying to " + what + ": log in again or refresh the token"
            )
        if exc.status == 403:
            return self._forbidden(message, what)
        return f"{self.server}: could not {what}: {exc.status} {exc.reason}: {message}".rstrip(": ")

    def _forbidden(self, message: str, what: str) -> str:
        match = _FORBIDDEN.search(message)
        if not match:
            return f"no permission to {what} on {self.server} (403): {message}"
        verb, resource = match["verb"], match["resource"]
        group = f" (API group '{match['group']}')" if match["group"] else ""
        scope = f" in namespace '{match['ns']}'" if match["ns"] else " at cluster scope"
        who = f"user '{match['user']}'" if match["user"] else "the current user"
        return f"no permission: {who} can't {verb} {resource}{group}{scope} (403 Forbidden; needed to {what})"

    def _transport_error(self, reason: Any, what: str) -> str:
        import urllib3.exceptions as u3

        # NameResolutionError < NewConnectionError < ConnectTimeoutError: most specific first.
        if isinstance(reason, u3.NameResolutionError):
            return f"can't resolve the API server host of {self.server} (context '{self.context}')"
        if isinstance(reason, u3.NewConnectionError):
            detail = str(reason).rsplit(":", 1)[-1].strip() or "connection failed"
            return f"can't reach the API server {self.server} of context '{self.context}': {detail}"
        if isinstance(reason, (u3.ReadTimeoutError, u3.ConnectTimeoutError, TimeoutError)):
            return f"{self.server} did not answer within {self.timeout:g}s (trying to {what}); is the cluster reachable?"
        if isinstance(reason, u3.SSLError):
            return f"TLS error talking to {self.server}: {reason}"
        return f"can't reach the API server {self.server} of context '{self.context}': {reason}"


def _mapping(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {}: a field the server left out or sent mangled."""
    return value if isinstance(value, dict) else {}


def _status_body(exc: ApiException) -> dict[str, Any]:
    try:
        data = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def probe_pod() -> dict[str, Any]:
    """A throwaway Pod declaring (not mounting) an image volume; restricted-PSA compliant."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "migrate-tui-probe-", "labels": {"app.kubernetes.io/managed-by": "migrate-tui"}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65535, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "probe",
                    "image": PROBE_IMAGE,
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
            "volumes": [{"name": PROBE_VOLUME, "image": {"reference": PROBE_IMAGE, "pullPolicy": "IfNotPresent"}}],
        },
    }


def gate_from_probe(pod: dict[str, Any]) -> bool:
    """Whether the dry-run response still carries the probe's image volume source."""
    volumes = _mapping(pod.get("spec")).get("volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, dict) and volume.get("name") == PROBE_VOLUME:
            return isinstance(volume.get("image"), dict) and bool(volume["image"].get("reference"))
    return False
