"""The workloads of a manifest: its pod specs, their containers, and which of them run an image.

Used by the Dockerfile rules and fixes that must know how a linked manifest runs an image (as an
init container, a sidecar, with a command of its own)."""

from __future__ import annotations

from typing import Any, Iterator

from migrate_tui.analysis.context import PodSpecSubject
from migrate_tui.parse.imageref import ImageRef, parse_image_ref
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.parse.yamldoc import YamlError, load_documents
from migrate_tui.repo.sources import SourceFile


def same_repository(image: Any, wanted: ImageRef | None) -> bool:
    """Whether the image a container names (any value, as written) is ``wanted``'s repository."""
    ref = parse_image_ref(str(image)) if image else None
    return ref is not None and wanted is not None and ref.same_repository(wanted)


CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")


def grouped_containers(spec: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(group, container) for every container of a pod spec: init, regular and ephemeral, in
    that order; entries that are not mappings are skipped."""
    for group in CONTAINER_GROUPS:
        items = spec.get(group) if isinstance(spec, dict) else None
        if isinstance(items, list):
            for container in items:
                if isinstance(container, dict):
                    yield group, container


def containers(spec: Any) -> list[dict[str, Any]]:
    """Every container of a pod spec: init, regular and ephemeral, in that order."""
    return [container for _, container in grouped_containers(spec)]


def pod_specs(source: SourceFile) -> Iterator[PodSpecSubject]:
    """Every pod spec of a YAML file, found by shape; documents that don't parse are skipped."""
    for item in load_documents(source.text):
        if isinstance(item, YamlError) or not isinstance(item.data, dict):
            continue
        for ref in find_pod_specs(item.data):
            yield PodSpecSubject(source, item.chunk, item.data, ref)
