"""A compiled, conservative "is this valid?" check for the bundled Kubernetes JSON schemas.

``jsonschema`` walks a schema anew for every object and builds error objects on the way; most
objects handed to :mod:`validate` are valid, and for those the verdict alone is enough. This
module turns a schema into plain Python closures, once per (schema directory, schema name), that
answer ``True`` (valid), ``False`` (invalid) or ``None`` (don't know). Only ``True`` is trusted
on its own: on ``False`` or ``None`` the caller runs ``jsonschema``, so every message it prints
still comes from ``jsonschema``, and for a valid object neither ``jsonschema`` nor its imports are
needed.

Conservative by construction: the compiler implements the keywords these schemas use exactly as
``jsonschema``'s ``Draft202012Validator`` (without a format checker) applies them, and any other
keyword, a keyword of an unexpected shape, a ``$ref`` it cannot resolve the way the registry in
:mod:`validate` would, or an instance too deep to walk makes the verdict ``None``.

Semantics copied from ``jsonschema`` (its ``_types`` and ``_keywords``):

- ``type``: ``integer`` accepts ``1.0`` but never ``True``; ``number`` is any ``numbers.Number``
  but ``bool``; ``object``/``array`` are any ``dict``/``list`` (the loader's ``LMap``/``LSeq``
  included); ``null`` is ``None`` (``key:`` with no value).
- ``properties`` / ``required`` / ``additionalProperties`` / ``items`` ignore instances of other
  types; keys that are not strings (``1: x``) are never declared properties, so they are
  "additional".
- ``enum`` (strings only here) compares a string instance by equality; no other value equals one.
- ``oneOf``: exactly one branch valid (so ``null`` fails ``IntOrString``: both branches allow it).
- ``format``, ``description`` and ``x-kubernetes-*`` are annotations.
- ``$ref`` siblings apply alongside it (2020-12); ``$ref`` targets compile lazily and once, which
  also handles cycles such as ``JSONSchemaProps``.
"""

from __future__ import annotations

import importlib.util
import json
import numbers
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urljoin

_SCHEMA_ROOT = "kubernetes-json-schema"
DEFS_NAME = "_definitions.json"
DEFS_URI = "/api/_definitions.json"  # where validate.py's registry keeps the definitions
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_LOCAL_DEFS = "#/$defs/"

Check = Callable[[Any], bool]

# Keywords that never change a verdict (without a format checker ``format`` is an annotation).
_ANNOTATIONS = frozenset({"description", "title", "format", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"})
_ASSERTIONS = frozenset({"type", "properties", "additionalProperties", "required", "items", "enum", "$ref", "oneOf", "anyOf", "allOf"})


class _Unsupported(Exception):
    """A schema shape this compiler does not implement exactly (compile time)."""


class _Unknown(Exception):
    """Raised while checking an instance that reached such a shape (check time)."""


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, numbers.Number)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "number": _is_number,
}


def _valid(_: Any) -> bool:
    return True


def _invalid(_: Any) -> bool:
    return False


def _unknown(_: Any) -> bool:
    raise _Unknown


def safe_name(name: str) -> bool:
    """A schema file name that stays inside its directory (kinds come from scanned files)."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") and "\0" not in name


@lru_cache(maxsize=1)
def _schema_root() -> Traversable:
    """The bundled schemas, found without importing ``kubernetes_validate`` (its ``__init__``
    imports ``jsonschema``, which a valid object must not need)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = Path(location, _SCHEMA_ROOT)
            if path.is_dir():
                return path
    return resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT)  # pragma: no cover - a zipped install


@lru_cache(maxsize=64)
def read_schema(directory: str, name: str) -> Any | None:
    """The parsed JSON schema file ``name`` of ``directory``; ``None`` when there is none. Cached:
    the definitions file alone is 1.4 MB. Callers must not mutate the result."""
    ref = _schema_root().joinpath(directory, name)
    try:
        return json.loads(ref.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


class _Compiler:
    """Compiles the schemas of one directory; definitions are shared between its kinds."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._defs: dict[str, Any] | None = None
        self._refs: dict[str, Check] = {}

    def definitions(self) -> dict[str, Any]:
        if self._defs is None:
            data = read_schema(self.directory, DEFS_NAME)
            defs = data.get("$defs") if isinstance(data, dict) else None
            self._defs = defs if isinstance(defs, dict) else {}
        return self._defs

    def definitions_id(self) -> Any:
        data = read_schema(self.directory, DEFS_NAME)
        return data.get("$id") if isinstance(data, dict) else None

    # ---- $ref -------------------------------------------------------------------------------

    def ref(self, name: str) -> Check:
        """A check for ``#/$defs/<name>`` of the definitions, compiled on its first use."""
        found = self._refs.get(name)
        if found is not None:
            return found
        cell: list[Check] = []

        def check(v: Any) -> bool:
            if not cell:
                cell.append(self._compile_definition(name))
            return cell[0](v)

        self._refs[name] = check
        return check

    def _compile_definition(self, name: str) -> Check:
        defs = self.definitions()
        if name not in defs:
            return _unknown  # jsonschema would fail to resolve it: let it say so
        try:
            return self.compile(defs[name], in_definitions=True)
        except _Unsupported:
            return _unknown

    def _ref_target(self, ref: Any, base: str | None, in_definitions: bool) -> str:
        """The definition name ``ref`` points at, resolved as the registry would."""
        if not isinstance(ref, str):
            raise _Unsupported
        where, sep, fragment = ref.partition("#")
        if not sep or not fragment.startswith(_LOCAL_DEFS[1:]):
            raise _Unsupported
        name = fragment[len(_LOCAL_DEFS) - 1 :]
        if not name or any(c in name for c in "/~%"):  # JSON-pointer escapes: not implemented
            raise _Unsupported
        if where == "":
            if not in_definitions:  # a local $defs of a kind's own file: none exist
                raise _Unsupported
        else:
            if in_definitions:
                raise _Unsupported
            target = urljoin(base, where) if base else where
            if target not in (DEFS_URI, self.definitions_id()):
                raise _Unsupported
        return name

    # ---- schemas ----------------------------------------------------------------------------

    def compile_root(self, schema: Any) -> Check:
        """The check for a kind's schema file (its ``$id`` is the base of its ``$ref``s)."""
        if not isinstance(schema, dict):
            raise _Unsupported
        if schema.get("$schema", _DRAFT) != _DRAFT:
            raise _Unsupported
        base = schema.get("$id")
        if base is not None and not isinstance(base, str):
            raise _Unsupported
        body = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        return self.compile(body, in_definitions=False, base=base)

    def compile(self, schema: Any, in_definitions: bool, base: str | None = None) -> Check:
        if schema is True:
            return _valid
        if schema is False:
            return _invalid
        if not isinstance(schema, dict):
            raise _Unsupported
        for key in schema:
            if key not in _ASSERTIONS and key not in _ANNOTATIONS and not (isinstance(key, str) and key.startswith("x-kubernetes-")):
                raise _Unsupported

        def sub(subschema: Any) -> Check:
            return self.compile(subschema, in_definitions, base)

        checks: list[Check] = []
        types = self._types(schema.get("type"), "type" in schema)
        object_check = self._object(schema, sub)
        if types is not None:
            checks.append(types)
        if object_check is not None:
            checks.append(object_check)
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "items" in schema:
            checks.append(self._items(sub(schema["items"])))
        if "$ref" in schema:
            checks.append(self.ref(self._ref_target(schema["$ref"], base, in_definitions)))
        for key, combine in (("oneOf", _one_of), ("anyOf", _any_of), ("allOf", _all_of)):
            if key in schema:
                branches = schema[key]
                if not isinstance(branches, list) or not branches:
                    raise _Unsupported
                checks.append(combine([sub(b) for b in branches]))
        return _all_of(checks)

    @staticmethod
    def _types(declared: Any, present: bool) -> Check | None:
        if not present:
            return None
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not names or any(not isinstance(n, str) or n not in _TYPES for n in names):
            raise _Unsupported
        tests = [_TYPES[n] for n in sorted(set(names))]
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2 and "null" in names:  # the common ["string", "null"] and the like
            other = _TYPES[next(n for n in names if n != "null")]
            return lambda v: v is None or other(v)
        return lambda v: any(t(v) for t in tests)

    @staticmethod
    def _enum(values: Any) -> Check:
        if not isinstance(values, list) or any(type(v) is not str for v in values):
            raise _Unsupported
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed

    @staticmethod
    def _items(item: Check) -> Check:
        def check(v: Any) -> bool:
            if isinstance(v, list):
                for x in v:
                    if not item(x):
                        return False
            return True

        return check

    @staticmethod
    def _object(schema: dict[str, Any], sub: Callable[[Any], Check]) -> Check | None:
        """``properties`` + ``additionalProperties`` + ``required`` in one pass over a dict."""
        if not any(k in schema for k in ("properties", "additionalProperties", "required")):
            return None
        declared = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(declared, dict) or any(not isinstance(k, str) for k in declared):
            raise _Unsupported
        if not isinstance(required, list) or any(not isinstance(r, str) for r in required):
            raise _Unsupported
        props = {k: sub(s) for k, s in declared.items()}
        extra = sub(schema["additionalProperties"]) if "additionalProperties" in schema else _valid
        needed = tuple(required)
        closed = extra is _invalid

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for key, value in v.items():
                prop = props.get(key)
                if prop is None:
                    if closed or not extra(value):
                        return False
                elif not prop(value):
                    return False
            for name in needed:
                if name not in v:
                    return False
            return True

        return check


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _valid
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    return lambda v: all(c(v) for c in checks)


def _any_of(checks: list[Check]) -> Check:
    return lambda v: any(c(v) for c in checks)


def _one_of(checks: list[Check]) -> Check:
    def check(v: Any) -> bool:
        count = 0
        for c in checks:
            if c(v):
                count += 1
                if count > 1:
                    return False
        return count == 1

    return check


@lru_cache(maxsize=8)
def _compiler(directory: str) -> _Compiler:
    return _Compiler(directory)


@lru_cache(maxsize=256)
def compiled(directory: str, schema_name: str) -> Check | None:
    """The compiled check for ``schema_name`` of ``directory`` (a file name, or ``#<definition>``
    for one definition), ``None`` when there is no such schema. A schema the compiler cannot take
    whole compiles to a check that always answers "don't know"."""
    compiler = _compiler(directory)
    try:
        if schema_name.startswith("#"):
            if schema_name[1:] not in compiler.definitions():
                return _unknown
            return compiler.ref(schema_name[1:])
        if not safe_name(schema_name):
            return None
        schema = read_schema(directory, schema_name)
        if schema is None:
            return None
        return compiler.compile_root(schema)
    except _Unsupported:
        return _unknown


def verdict(check: Check, data: Any) -> bool | None:
    """``True`` when ``data`` is valid, ``False`` when not, ``None`` when the check cannot tell."""
    try:
        return check(data)
    except (_Unknown, RecursionError):
        return None
    except Exception:  # noqa: BLE001 - a value no test foresaw: jsonschema decides, as it always did
        return None
