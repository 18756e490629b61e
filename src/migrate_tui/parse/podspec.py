"""Find PodSpecs by shape, wherever they live (Pod, Deployment, CronJob, Argo Rollout, a bare
PodSpec fixture, a PodTemplate...), and describe their owner for messages.

Operator CRDs whose pod template is split are found too, and marked with the operator that
merges them (:data:`OPERATORS`): the operator builds the real pod from the manifest's part and
containers of its own, which the manifest does not show. Two extra shapes, only in those CRDs:

- an **overlay**: a mapping with ``initContainers`` but no ``containers`` (Prometheus
  ``spec.initContainers`` + ``spec.volumes``; a KServe ``predictor`` with a ``model``);
- an **Argo Workflows template** (``spec.templates[]`` with ``container`` or ``script``): the
  pod is the template's ``initContainers``, its ``container``/``script`` and ``sidecars``, and
  the template's ``volumes`` plus the workflow's ``spec.volumes`` (Argo adds workflow-level
  volumes to every pod: ``PodSpecRef.shared_volumes``, kept out of the view's ``volumes`` so
  that an index there is an index in the template); an init container with
  ``mirrorVolumeMounts: true`` gets the main container's mounts. The view is assembled
  (``PodSpecRef.assembled``), not a node of the file.

A Prometheus Operator overlay with ``spec.volumeMounts`` shows one mount of the operator's
container (the operator appends them to its ``prometheus``/``alertmanager`` container): the
view adds that container, with only its name and those mounts. Nothing in an operator CRD is
rewritten automatically (the rules say why, typed ``OPERATOR_MERGED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from migrate_tui.parse.yamldoc import LMap, LSeq, YamlPath

MAX_DEPTH = 40


@dataclass(frozen=True)
class PodSpecRef:
    path: YamlPath  # keys / indices from the document root to the PodSpec mapping
    spec: dict[Any, Any]  # an LMap when the document came from yamldoc
    kind: str  # the owning object's kind ("" for a bare spec)
    name: str  # the owning object's metadata.name ("" when unknown)
    api_version: str
    merged_by: str = ""  # the operator that merges this pod template with containers of its own ("" = none)
    assembled: bool = False  # the spec is assembled from several places (Argo): no node to rewrite
    shared_volumes: tuple[dict[Any, Any], ...] = ()  # volumes the pod also gets from a shared level (Argo spec.volumes), not in spec

    @property
    def owner(self) -> str:
        if self.kind and self.name:
            return f"{self.kind}/{self.name}"
        return self.kind or self.name or "pod spec"


def _is_container_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(isinstance(c, dict) and ("name" in c or "image" in c) for c in value)


def looks_like_pod_spec(node: Any) -> bool:
    if not isinstance(node, dict) or not _is_container_list(node.get("containers")):
        return False
    init = node.get("initContainers")
    return init is None or isinstance(init, list)


#: (API group, kind) -> the operator that merges the CRD's pod template with containers it
#: creates itself (they never appear in the manifest).
OPERATORS: dict[tuple[str, str], str] = {
    **{("monitoring.coreos.com", k): "the Prometheus Operator" for k in ("Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler")},
    ("elasticsearch.k8s.elastic.co", "Elasticsearch"): "ECK (Elastic Cloud on Kubernetes)",
    ("kibana.k8s.elastic.co", "Kibana"): "ECK (Elastic Cloud on Kubernetes)",
    **{("kafka.strimzi.io", k): "Strimzi" for k in ("Kafka", "KafkaConnect", "KafkaMirrorMaker2", "KafkaBridge", "KafkaNodePool")},
    ("flink.apache.org", "FlinkDeployment"): "the Flink Kubernetes Operator",
    ("serving.kserve.io", "InferenceService"): "KServe",
    **{
        ("argoproj.io", k): "the Argo Workflows controller"
        for k in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
    },
    **{("tekton.dev", k): "Tekton Pipelines" for k in ("Task", "ClusterTask", "TaskRun", "Pipeline", "PipelineRun")},
}

_ARGO_KINDS = frozenset(k for g, k in OPERATORS if g == "argoproj.io")

#: Prometheus Operator CRDs: ``spec.volumeMounts`` is appended to the mounts of the container
#: the operator creates (documented in the API reference), so that mount can be seen.
_MAIN_CONTAINERS = {
    ("monitoring.coreos.com", "Prometheus"): "prometheus",
    ("monitoring.coreos.com", "PrometheusAgent"): "prometheus",
    ("monitoring.coreos.com", "Alertmanager"): "alertmanager",
    ("monitoring.coreos.com", "ThanosRuler"): "thanos-ruler",
}


def operator_of(document: Any) -> str:
    """The operator that merges ``document``'s pod templates ("" when it is not a known CRD)."""
    if not isinstance(document, dict):
        return ""
    api, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str) or "/" not in api:
        return ""
    return OPERATORS.get((api.split("/", 1)[0], kind), "")


def looks_like_overlay(node: Any) -> bool:
    """A pod-template part an operator merges: init containers but no ``containers``."""
    return (
        isinstance(node, dict)
        and "containers" not in node
        and _is_container_list(node.get("initContainers"))
        and isinstance(node.get("volumes", []), list)
    )


def _argo_view(template: Any) -> LMap | None:
    """The pod an Argo Workflows template runs (see the module docstring), or None."""
    if not isinstance(template, dict) or not _is_container_list(template.get("initContainers")):
        return None
    main = template.get("container") if isinstance(template.get("container"), dict) else template.get("script")
    if not isinstance(main, dict):
        return None
    sidecars = template["sidecars"] if isinstance(template.get("sidecars"), list) else []
    if "name" not in main:  # Argo names the template's container "main"
        named = LMap(main)
        named.line = getattr(main, "line", 0)
        named.key_lines = dict(getattr(main, "key_lines", {}))
        named["name"] = "main"
        main = named
    containers = LSeq([main, *sidecars])
    containers.line = getattr(main, "line", 0)
    mains = main["volumeMounts"] if isinstance(main.get("volumeMounts"), list) else []
    inits = LSeq()
    for init in template["initContainers"]:
        if isinstance(init, dict) and init.get("mirrorVolumeMounts") is True and mains:
            mirrored = LMap(init)
            mirrored.line = getattr(init, "line", 0)
            mirrored.key_lines = dict(getattr(init, "key_lines", {}))
            own = init["volumeMounts"] if isinstance(init.get("volumeMounts"), list) else []
            mirrored["volumeMounts"] = [*own, *mains]
            init = mirrored
        inits.append(init)
    inits.line = getattr(template["initContainers"], "line", 0)
    inits.item_lines = list(getattr(template["initContainers"], "item_lines", []))
    view = LMap(initContainers=inits, containers=containers)
    if "volumes" in template:
        view["volumes"] = template["volumes"]  # the template's own node: indices and edits stay true
    view.line = getattr(template, "line", 0)
    return view


def _with_main_container(spec: dict[Any, Any], name: str) -> LMap | None:
    """A Prometheus-style overlay plus the operator's container, as far as ``spec.volumeMounts``
    shows it (a name and those mounts; its image and the rest are the operator's)."""
    mounts = spec.get("volumeMounts")
    if not isinstance(mounts, list) or not mounts:
        return None
    main = LMap(name=name, volumeMounts=mounts)
    main.line = getattr(mounts, "line", 0)
    containers = LSeq([main])
    containers.line = main.line
    view = LMap(spec)
    view.line = getattr(spec, "line", 0)
    view.key_lines = dict(getattr(spec, "key_lines", {}))
    view["containers"] = containers
    return view


def _argo_templates(document: dict[Any, Any]) -> Iterator[tuple[YamlPath, Any, Any]]:
    """(path, template, workflow-level volumes) of an Argo Workflows object."""
    spec = document.get("spec")
    path: YamlPath
    if document.get("kind") == "CronWorkflow" and isinstance(spec, dict):
        path, spec = ("spec", "workflowSpec"), spec.get("workflowSpec")
    else:
        path = ("spec",)
    if not isinstance(spec, dict) or not isinstance(spec.get("templates"), list):
        return
    for index, template in enumerate(spec["templates"]):
        yield path + ("templates", index), template, spec.get("volumes")


def find_pod_specs(document: Any) -> Iterator[PodSpecRef]:
    """Every mapping shaped like a PodSpec. Shared (aliased) nodes are visited once. In a known
    operator CRD, also pod-template overlays and Argo Workflows template pods, each marked with
    the operator that merges it."""
    kind = document.get("kind", "") if isinstance(document, dict) else ""
    meta = document.get("metadata") if isinstance(document, dict) else None
    name = meta.get("name", "") if isinstance(meta, dict) else ""
    api = document.get("apiVersion", "") if isinstance(document, dict) else ""
    operator = operator_of(document)
    if operator and kind in _ARGO_KINDS:
        for path, template, shared in _argo_templates(document):
            view = _argo_view(template)
            if view is not None:
                shared_volumes = tuple(v for v in shared if isinstance(v, dict)) if isinstance(shared, list) else ()
                yield PodSpecRef(path, view, str(kind), str(name or ""), str(api or ""), operator, True, shared_volumes)
    seen: set[int] = set()
    stack: list[tuple[Any, YamlPath, int]] = [(document, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            overlay = operator and kind not in _ARGO_KINDS and looks_like_overlay(node)
            if looks_like_pod_spec(node) or overlay:
                main = _MAIN_CONTAINERS.get((str(api).split("/", 1)[0], str(kind))) if overlay and path == ("spec",) else None
                view = _with_main_container(node, main) if main else None
                yield PodSpecRef(path, view or node, str(kind or ""), str(name or ""), str(api or ""), operator)
                continue
            for key, child in reversed(node.items()):
                if isinstance(child, (dict, list)):
                    stack.append((child, path + (key,), depth + 1))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                child = node[index]
                if isinstance(child, (dict, list)):
                    stack.append((child, path + (index,), depth + 1))


def line_of(node: Any, key: Any = None) -> int:
    if isinstance(node, LMap):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, LSeq):
        return node.line_of(key) if isinstance(key, int) else node.line
    return 1
