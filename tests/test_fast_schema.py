"""The compiled schema check (platform/fastschema.py) agrees with jsonschema: whenever it gives a
verdict, "valid" is exactly "jsonschema reports no error". Checked on every YAML document the
project ships (and ../shared/corpus when present), on mutations of real pod specs, and on the JSON
Schema corners that differ from Python's idea of types. A valid object needs no jsonschema."""

from __future__ import annotations

import copy
import datetime
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from testlib import FIXTURES, REPO, budget
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.parse.yamldoc import LMap, LSeq, YamlDocument, load_documents
from migrate_tui.platform import fastschema, validate

POD_SPEC = "#io.k8s.api.core.v1.PodSpec"
# Before and after the image volume field (1.31), the first and the last bundled schemas.
VERSIONS = [(1, 25), (1, 30), (1, 31), (1, 33), (1, 37)]


def _yaml_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _documents(paths: list[Path]) -> Iterator[tuple[str, Any]]:
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for doc in load_documents(text):
            if isinstance(doc, YamlDocument) and isinstance(doc.data, dict):
                yield f"{path.relative_to(path.parents[1])}:{doc.chunk.line}", doc.data


def _subjects(data: Any, directory: str) -> Iterator[tuple[str, Any]]:
    """(schema name, instance) pairs validate.py would check for ``data``."""
    kind, api = data.get("kind"), data.get("apiVersion")
    if isinstance(kind, str) and isinstance(api, str):
        name = validate.schema_file_name(kind, api)
        if fastschema.compiled(directory, name) is not None:
            yield name, data
    for ref in find_pod_specs(data):
        node = data
        for step in ref.path:
            node = node[step]
        yield POD_SPEC, node


def _jsonschema_valid(directory: str, name: str, data: Any) -> bool:
    validator = validate._validator(directory, name)
    assert validator is not None
    return not any(True for _ in validator.iter_errors(data))


def _fast(directory: str, name: str, data: Any) -> bool | None:
    check = fastschema.compiled(directory, name)
    assert check is not None
    return fastschema.verdict(check, data)


def _agree(directory: str, name: str, data: Any) -> bool:
    """The verdict both give (the fast one must not be "don't know" on these schemas)."""
    slow = _jsonschema_valid(directory, name, data)
    fast = _fast(directory, name, data)
    assert fast == slow, (directory, name, fast, slow)
    return slow


def _differential(paths: list[Path]) -> dict[bool, int]:
    seen = {True: 0, False: 0}
    for version in VERSIONS:
        directory = validate._schema_dir(version)
        for where, data in _documents(paths):
            for name, instance in _subjects(data, directory):
                try:
                    seen[_agree(directory, name, instance)] += 1
                except AssertionError as err:
                    raise AssertionError(f"{where}: {err}") from None
    return seen


def test_fixtures_examples_and_bad_inputs_agree():
    seen = _differential(_yaml_files(FIXTURES, REPO / "examples", REPO / "tests" / "bad_inputs"))
    # Both verdicts occur (image volumes are invalid before 1.31), so the comparison means something.
    assert seen[True] > 100 and seen[False] > 100, seen


def test_corpus_agrees(corpus):
    seen = _differential(_yaml_files(corpus))
    assert seen[True] > 0, seen


# ---- the JSON Schema corners ------------------------------------------------------------------


def _deployment(**pod: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example/app:1"}
    spec = {"containers": [container], **pod}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}},
    }


def _with(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


CONTAINER = ("spec", "template", "spec", "containers", 0)
CORNERS = [
    ("plain", _deployment(), True),
    ("replicas 3", _with(_deployment(), ("spec", "replicas"), 3), True),
    ("replicas 3.0 is an integer", _with(_deployment(), ("spec", "replicas"), 3.0), True),
    ("replicas 2.5", _with(_deployment(), ("spec", "replicas"), 2.5), False),
    ("replicas True is not an integer", _with(_deployment(), ("spec", "replicas"), True), False),
    ("replicas '3'", _with(_deployment(), ("spec", "replicas"), "3"), False),
    ("replicas null", _with(_deployment(), ("spec", "replicas"), None), True),
    ("replicas nan", _with(_deployment(), ("spec", "replicas"), math.nan), False),
    ("image null (key with no value)", _with(_deployment(), (*CONTAINER, "image"), None), True),
    ("name null (a required name is not nullable)", _with(_deployment(), (*CONTAINER, "name"), None), False),
    ("name missing", _with(_deployment(), CONTAINER, {"image": "x"}), False),
    ("unknown container key", _with(_deployment(), (*CONTAINER, "imagePullPolicyy"), "Always"), False),
    ("int key in a container", _with(_deployment(), (*CONTAINER, 1), "x"), False),
    ("int key in labels (additionalProperties schema)", _with(_deployment(), ("metadata", "labels", 1), "x"), True),
    ("int label value", _with(_deployment(), ("metadata", "labels", "tier"), 1), False),
    ("null label value", _with(_deployment(), ("metadata", "labels", "tier"), None), True),
    ("containerPort as float", _with(_deployment(), (*CONTAINER, "ports"), [{"containerPort": 80.0}]), True),
    ("containerPort as bool", _with(_deployment(), (*CONTAINER, "ports"), [{"containerPort": False}]), False),
    ("port int-or-string: string", _with(_deployment(), (*CONTAINER, "livenessProbe"), {"httpGet": {"port": "http"}}), True),
    ("port int-or-string: int", _with(_deployment(), (*CONTAINER, "livenessProbe"), {"httpGet": {"port": 80}}), True),
    (
        "port int-or-string: null is valid in both branches",
        _with(_deployment(), (*CONTAINER, "livenessProbe"), {"httpGet": {"port": None}}),
        False,
    ),
    ("port int-or-string: bool", _with(_deployment(), (*CONTAINER, "livenessProbe"), {"httpGet": {"port": True}}), False),
    ("port int-or-string: 1.5", _with(_deployment(), (*CONTAINER, "livenessProbe"), {"httpGet": {"port": 1.5}}), False),
    ("quantity: number", _with(_deployment(), (*CONTAINER, "resources"), {"limits": {"cpu": 0.5}}), True),
    ("quantity: null", _with(_deployment(), (*CONTAINER, "resources"), {"limits": {"cpu": None}}), False),
    ("quantity: list", _with(_deployment(), (*CONTAINER, "resources"), {"limits": {"cpu": [1]}}), False),
    ("date-time format is not asserted", _with(_deployment(), ("metadata", "creationTimestamp"), "not a time"), True),
    ("a datetime object is not a string", _with(_deployment(), ("metadata", "creationTimestamp"), datetime.datetime(2024, 1, 1)), False),
    ("bytes are not a string", _with(_deployment(), (*CONTAINER, "image"), b"x"), False),
    ("a tuple is not an array", _with(_deployment(), (*CONTAINER, "args"), ("a",)), False),
    ("enum", _with(_deployment(), ("kind",), "Deployment "), False),
    ("apiVersion null fails its enum", _with(_deployment(), ("apiVersion",), None), False),
    ("list of lists", _with(_deployment(), (*CONTAINER, "args"), [["a"]]), False),
    ("selector missing", _with(_deployment(), ("spec",), {"template": {"spec": {"containers": []}}}), False),
    ("containers null (a required list is not nullable)", _with(_deployment(), ("spec", "template", "spec", "containers"), None), False),
    ("initContainers null", _with(_deployment(), ("spec", "template", "spec", "initContainers"), None), True),
    ("seccomp type required", _with(_deployment(), ("spec", "template", "spec", "securityContext"), {"seccompProfile": {}}), False),
]


@pytest.mark.parametrize("data,expected", [pytest.param(d, e, id=i) for i, d, e in CORNERS])
@pytest.mark.parametrize("loader_types", [False, True], ids=["dict", "LMap"])
def test_corners_agree_with_jsonschema(data, expected, loader_types):
    if loader_types:
        data = _as_loaded(data)
    directory = validate._schema_dir((1, 33))
    assert _jsonschema_valid(directory, "deployment-apps-v1.json", data) is expected
    assert _fast(directory, "deployment-apps-v1.json", data) is expected


def test_messages_still_come_from_jsonschema():
    bad = _with(_deployment(), ("spec", "replicas"), True)
    bad = _with(bad, (*CONTAINER, "ports"), [{"containerPort": "80", "bogus": 1}])
    assert validate.validate_object(bad, (1, 33)) == [
        "spec.replicas: True is not of type 'integer', 'null'",
        "spec.template.spec.containers.0.ports.0: Additional properties are not allowed ('bogus' was unexpected)",
        "spec.template.spec.containers.0.ports.0.containerPort: '80' is not of type 'integer'",
    ]


def test_crd_pod_specs_take_the_fast_path_too():
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b", "bogus": 1}]}}},
    }
    path = ("spec", "template", "spec")
    assert validate.validate_object(rollout, (1, 33), [path]) == [
        "spec.template.spec.containers.0: Additional properties are not allowed ('bogus' was unexpected)"
    ]
    del rollout["spec"]["template"]["spec"]["containers"][0]["bogus"]
    assert validate.validate_object(rollout, (1, 33), [path]) == []


def _crd(leaf: dict[str, Any]) -> dict[str, Any]:
    """A CRD whose schema nests JSONSchemaProps (a recursive definition) three levels deep."""
    props: dict[str, Any] = {"type": "object", "properties": {"inner": {"type": "object", "properties": {"leaf": leaf}}}}
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": props}}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced", "versions": [version]},
    }


@pytest.mark.parametrize(
    "leaf,expected",
    [
        ({"type": "string", "x-kubernetes-preserve-unknown-fields": True}, True),
        ({"type": "string", "x-kubernetes-preserve-unknown-fields": "yes"}, False),
        ({"type": "integer", "maximum": 3, "default": {"any": ["json"]}}, True),
        ({"type": "string", "bogus": 1}, False),
        ({"type": "array", "items": {"type": "string", "bogus": 1}}, True),  # items: JSONSchemaPropsOrArray is "any"
    ],
)
def test_recursive_definitions(leaf, expected):
    directory = validate._schema_dir((1, 33))
    data = _crd(leaf)
    assert _jsonschema_valid(directory, "customresourcedefinition-apiextensions-v1.json", data) is expected
    assert _fast(directory, "customresourcedefinition-apiextensions-v1.json", data) is expected


def test_unknown_keywords_and_refs_give_no_verdict():
    compiler = fastschema._Compiler(validate._schema_dir((1, 33)))
    for schema in (
        {"type": "string", "pattern": "^a"},
        {"minItems": 1},
        {"enum": [1, "a"]},
        {"type": "decimal"},
        {"$ref": "#/$defs/io.k8s.api.core.v1.PodSpec"},  # local to a kind's file: there is none
        {"$ref": "https://elsewhere.example/x.json#/$defs/a"},
        {"properties": {"a": {"not": {}}}},
    ):
        with pytest.raises(fastschema._Unsupported):
            compiler.compile_root(schema)
    # An unsupported definition only matters to the instances that reach it.
    assert fastschema.verdict(compiler.ref("no.such.Definition"), {}) is None


def test_every_bundled_kind_compiles():
    root = fastschema._schema_root()
    for directory in (validate._schema_dir(v) for v in VERSIONS):
        names = [p.name for p in root.joinpath(directory).iterdir() if p.name != fastschema.DEFS_NAME]
        assert len(names) > 500
        assert all(fastschema.compiled(directory, n) is not fastschema._unknown for n in names)


def test_hostile_kind_names_find_no_schema():
    for kind in ("../v1.25.0-local-strict/deployment", "deployment-apps-v1.json/x", "a\0b", ".."):
        assert not validate.has_schema(kind, "apps/v1", (1, 33))
        assert fastschema.compiled(validate._schema_dir((1, 33)), validate.schema_file_name(kind, "apps/v1")) is None


def test_a_valid_deployment_needs_no_jsonschema():
    code = """
import json, sys
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.parse.yamldoc import load_documents
from migrate_tui.platform.validate import validate_object
text = open(sys.argv[1], encoding="utf-8").read()
docs = [d.data for d in load_documents(text)]
problems = [validate_object(d, (1, 33), [r.path for r in find_pod_specs(d)]) for d in docs]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "referencing", "kubernetes_validate", "jsonschema_specifications"))
print(json.dumps([problems, heavy]))
"""
    path = FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml"  # a Deployment with an image volume
    assert "kind: Deployment" in path.read_text() and "reference:" in path.read_text()
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[[]], []]


# ---- mutated pod specs --------------------------------------------------------------------------


def _as_loaded(data: Any) -> Any:
    """The same value built from the loader's LMap / LSeq (dict / list subclasses)."""
    if isinstance(data, dict):
        out = LMap()
        for k, v in data.items():
            out[k] = _as_loaded(v)
        return out
    if isinstance(data, list):
        return LSeq(_as_loaded(v) for v in data)
    return data


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def _workloads() -> list[dict[str, Any]]:
    """Real workloads with a pod spec and a bundled schema (deduplicated, stable order)."""
    directory = validate._schema_dir((1, 33))
    found: dict[str, dict[str, Any]] = {}
    for _, data in _documents(_yaml_files(FIXTURES, REPO / "examples")):
        kinds = [name for name, _ in _subjects(data, directory)]
        if len(kinds) >= 2 and kinds[0] != POD_SPEC:
            found.setdefault(json.dumps(_plain(data), sort_keys=True, default=str), _plain(data))
    return [found[k] for k in sorted(found)]


WORKLOADS = _workloads()
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    1.5,
    -1,
    math.inf,
    "",
    "x",
    "1",
    [],
    ["x"],
    [None],
    {},
    {"x": 1},
    {1: "x"},
    {"name": None},
    b"x",
    datetime.date(2024, 1, 1),
]
KEYS = [
    "name",
    "image",
    "containers",
    "initContainers",
    "volumes",
    "volumeMounts",
    "ports",
    "resources",
    "args",
    "command",
    "env",
    "unknownField",
    1,
    True,
    None,
]


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*here, index))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    doc = copy.deepcopy(draw(st.sampled_from(WORKLOADS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "replace", "add", "nest"]))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        target = parent[path[-1]] if path else doc
        if op == "drop" and path:
            del parent[path[-1]]
        elif op == "replace" and path:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif op == "add" and isinstance(target, dict):
            target[draw(st.sampled_from(KEYS))] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif op == "add" and isinstance(target, list):
            target.append(copy.deepcopy(draw(st.sampled_from(ODD_VALUES))))
        elif op == "nest" and isinstance(target, dict):
            target[draw(st.sampled_from(KEYS))] = {
                draw(st.sampled_from(KEYS)): {"unknownField": copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))}
            }
    if draw(st.booleans()):
        doc = _as_loaded(doc)
    return draw(st.sampled_from(["deployment", "pod spec"])), doc, draw(st.sampled_from(VERSIONS))


def _pod(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "b", **container}]},
    }


# The corners where Python and JSON Schema disagree on types, kept as fixed examples.
@example(("deployment", _pod(ports=[{"containerPort": True}]), (1, 33)))
@example(("deployment", _pod(ports=[{"containerPort": 80.0}]), (1, 33)))
@example(("pod spec", _pod(livenessProbe={"httpGet": {"port": None}}), (1, 33)))
@example(("pod spec", _as_loaded(_pod(resources={"limits": {"cpu": None}})), (1, 25)))
@example(("deployment", _pod(**{"1": "x"}) | {1: "x"}, (1, 33)))
@example(("pod spec", _pod(env=[{"name": "A", "value": None, "valueFrom": {"fieldRef": {}}}]), (1, 37)))
@settings(max_examples=budget(300))
@given(mutated())
def test_mutated_pod_specs_agree(case):
    what, doc, version = case
    directory = validate._schema_dir(version)
    for name, instance in _subjects(doc, directory) if isinstance(doc, dict) else ():
        if what == "pod spec" and name != POD_SPEC:
            continue
        _agree(directory, name, instance)


def test_workloads_were_found():
    assert len(WORKLOADS) >= 10


# ---- objects generated from the schemas of every bundled kind --------------------------------


def _kinds(directory: str) -> list[str]:
    root = fastschema._schema_root().joinpath(directory)
    return sorted(p.name for p in root.iterdir() if p.name != fastschema.DEFS_NAME)


KIND_FILES = {v: _kinds(validate._schema_dir(v)) for v in ((1, 25), (1, 33), (1, 37))}
SCALARS = {"string": "x", "integer": 1, "number": 0.5, "boolean": True, "null": None}


@st.composite
def from_schema(draw: st.DrawFn, schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """A value shaped by ``schema`` (mostly valid; now and then an odd value or an unknown key)."""
    if depth > 12 or draw(st.integers(0, 30)) == 0:
        return copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    if "$ref" in schema:
        return draw(from_schema(defs[schema["$ref"].rpartition("/")[2]], defs, depth + 1))
    if "oneOf" in schema:
        return draw(from_schema(draw(st.sampled_from(schema["oneOf"])), defs, depth + 1))
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    types = schema.get("type", ["object"])
    kind = draw(st.sampled_from([types] if isinstance(types, str) else types))
    if kind == "object":
        props = schema.get("properties", {})
        names = list(props)
        required = schema.get("required", [])
        chosen = [n for n in names if n in required or (depth < 8 and draw(st.integers(0, 1 if depth < 3 else 3)) == 0)]
        out = {n: draw(from_schema(props[n], defs, depth + 1)) for n in chosen}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and draw(st.booleans()):
            out[draw(st.sampled_from(["k", 1]))] = draw(from_schema(extra, defs, depth + 1))
        if draw(st.integers(0, 20)) == 0:
            out[draw(st.sampled_from(KEYS))] = "unknown"
        return out
    if kind == "array":
        items = schema.get("items", {})
        return [draw(from_schema(items, defs, depth + 1)) for _ in range(draw(st.integers(0, 2)))]
    if kind == "integer" and draw(st.booleans()):
        return 2.0
    return SCALARS[kind]


@st.composite
def generated(draw: st.DrawFn) -> tuple[tuple[int, int], str, Any]:
    version = draw(st.sampled_from(sorted(KIND_FILES)))
    directory = validate._schema_dir(version)
    name = draw(st.sampled_from(KIND_FILES[version]))
    schema = fastschema.read_schema(directory, name)
    defs = fastschema.read_schema(directory, fastschema.DEFS_NAME)["$defs"]
    value = draw(from_schema(schema, defs))
    return version, name, _as_loaded(value) if draw(st.booleans()) else value


@settings(max_examples=budget(300))
@given(generated())
def test_generated_objects_of_every_kind_agree(case):
    version, name, value = case
    _agree(validate._schema_dir(version), name, value)
