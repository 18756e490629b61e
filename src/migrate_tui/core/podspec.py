"""Find PodSpecs by shape, wherever they live (Pod, Deployment, CronJob, Argo Rollout, a bare
PodSpec fixture, a PodTemplate...), and describe their owner for messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .yamldoc import LMap, LSeq

MAX_DEPTH = 40


@dataclass(frozen=True)
class PodSpecRef:
    path: tuple  # keys / indices from the document root to the PodSpec mapping
    spec: LMap
    kind: str  # the owning object's kind ("" for a bare spec)
    name: str  # the owning object's metadata.name ("" when unknown)
    api_version: str

    @property
    def owner(self) -> str:
        if self.kind and self.name:
            return f"{self.kind}/{self.name}"
        return self.kind or self.name or "pod spec"


def _is_container_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(c, dict) and ("name" in c or "image" in c) for c in value)
    )


def looks_like_pod_spec(node: Any) -> bool:
    if not isinstance(node, dict) or not _is_container_list(node.get("containers")):
        return False
    init = node.get("initContainers")
    return init is None or isinstance(init, list)


def find_pod_specs(document: Any) -> Iterator[PodSpecRef]:
    """Every mapping shaped like a PodSpec. Shared (aliased) nodes are visited once."""
    kind = document.get("kind", "") if isinstance(document, dict) else ""
    meta = document.get("metadata") if isinstance(document, dict) else None
    name = meta.get("name", "") if isinstance(meta, dict) else ""
    api = document.get("apiVersion", "") if isinstance(document, dict) else ""
    seen: set[int] = set()
    stack: list[tuple[Any, tuple, int]] = [(document, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if looks_like_pod_spec(node):
                yield PodSpecRef(path, node, str(kind or ""), str(name or ""), str(api or ""))
                continue
            for key in reversed(list(node)):
                child = node[key]
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
