"""Schema validation of rewritten objects, before anything is written.

Strict JSON schemas from ``kubernetes-validate`` (they reject unknown fields, unlike the
non-strict ones), with validators built once per (version, kind) and cached: the stock
``kubernetes_validate.validate`` re-reads the JSON on every call. Objects without a bundled
schema (CRDs such as Argo Rollouts) get their embedded PodSpecs checked against the strict
PodSpec schema and the ``kubernetes`` client's pydantic models.

Each object is first put to the compiled check of :mod:`fastschema`; only when it does not
answer "valid" is ``jsonschema`` imported and asked, so the messages are always its own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Hashable, Iterable

from migrate_tui.platform import fastschema
from migrate_tui.platform.target import SCHEMA_VERSIONS, Version, fmt

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry

_DEFS_URI = fastschema.DEFS_URI


def _schema_dir(version: Version) -> str:
    usable = [v for v in SCHEMA_VERSIONS if v <= version] or [SCHEMA_VERSIONS[0]]
    return f"v{fmt(usable[-1])}.0-local-strict"


def _read_json(directory: str, name: str) -> Any | None:
    return fastschema.read_schema(directory, name) if fastschema.safe_name(name) else None


@lru_cache(maxsize=8)
def _registry(directory: str) -> Registry[Any]:
    from referencing import Registry, Resource

    defs = _read_json(directory, fastschema.DEFS_NAME)
    # crawl(): without it every $ref is resolved anew (about 60 ms per Deployment instead of 1).
    registry: Registry[Any] = Registry().with_resource(_DEFS_URI, Resource.from_contents(defs)).crawl()
    return registry


@lru_cache(maxsize=256)
def _validator(directory: str, schema_name: str) -> Validator | None:
    import jsonschema

    schema: dict[str, Any] | None
    if schema_name.startswith("#"):
        schema = {"$ref": f"{_DEFS_URI}#/$defs/{schema_name[1:]}"}
    else:
        schema = _read_json(directory, schema_name)
        if schema is None:
            return None
    return jsonschema.Draft202012Validator(schema, registry=_registry(directory))


def schema_file_name(kind: str, api_version: str) -> str:
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{api}.json"


def _errors(validator: Validator, data: Any, prefix: str = "") -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path)
        out.append(f"{prefix}{where or '(root)'}: {error.message}")
    return out


def validate_object(data: dict[Any, Any], version: Version, pod_spec_paths: Iterable[tuple[Hashable, ...]] = ()) -> list[str]:
    """Problems with ``data`` for Kubernetes ``version``; an empty list means valid."""
    directory = _schema_dir(version)
    kind, api = data.get("kind"), data.get("apiVersion")
    if isinstance(kind, str) and isinstance(api, str):
        name = schema_file_name(kind, api)
        check = fastschema.compiled(directory, name)
        if check is not None:
            if fastschema.verdict(check, data):
                return []
            validator = _validator(directory, name)
            if validator is not None:
                return _errors(validator, data)
    # No schema for this kind (CRD, bare PodSpec, Helm values...): check the embedded PodSpecs.
    problems: list[str] = []
    for path in pod_spec_paths:
        node: Any = data
        for step in path:
            node = node[step]
        prefix = ".".join(map(str, path)) + "." if path else ""
        problems += validate_pod_spec(node, version, prefix)
    return problems


def validate_pod_spec(spec: dict[Any, Any], version: Version, prefix: str = "") -> list[str]:
    directory, name = _schema_dir(version), "#io.k8s.api.core.v1.PodSpec"
    check = fastschema.compiled(directory, name)
    problems = [] if check is not None and fastschema.verdict(check, spec) else _errors(_validator(directory, name), spec, prefix)
    if not problems:
        problems = _model_errors(spec, prefix)
    return problems


def _model_errors(spec: dict[Any, Any], prefix: str) -> list[str]:
    try:
        from kubernetes.client import V1PodSpec
        from pydantic import ValidationError
    except ImportError:  # pragma: no cover - kubernetes is a hard dependency
        return []
    try:
        V1PodSpec.model_validate(spec)
    except ValidationError as exc:
        return [f"{prefix}{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    except Exception as exc:  # the client models raise plain ValueErrors for enum checks
        return [f"{prefix}(root): {exc}"]
    return []


def has_schema(kind: Any, api_version: Any, version: Version) -> bool:
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return False
    return fastschema.compiled(_schema_dir(version), schema_file_name(kind, api_version)) is not None
