"""Configuration: ``[tool.migrate-tui]`` in pyproject.toml or ``.migrate-tui.toml`` (top level).

Command-line options override the file. Unknown keys are an error that names the key.
"""

from __future__ import annotations

import posixpath
import string
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from migrate_tui.parse.imageref import parse_image_ref
from migrate_tui.repo.safepath import describe, has_control_chars, write_path_problem
from migrate_tui.platform.target import DEFAULT_TARGET, Target, TargetError, parse_target

MODES = ("auto", "zero-rebuild", "scratch")
# DF002: where a static binary's CA certificates and time zones come from once its distribution
# base goes: "base" (a distroless static base ships them) or "volumes" (FROM scratch, and every
# linked workload mounts the certs-image / tzdata-image as image volumes: compose mode).
CERTS_TZDATA = ("base", "volumes")


class ConfigError(ValueError):
    """A configuration problem, phrased for the user (exit code 2)."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # gitignore-style patterns, on top of .gitignore
    target: Target = field(default_factory=lambda: parse_target(DEFAULT_TARGET, source="default"))
    mode: str = "auto"  # auto: scratch when the repo builds the init image, else zero-rebuild
    image_name_template: str = "{image}-assets:{tag}"
    asset_dockerfile_path: str = "assets/{name}/Dockerfile"
    images: tuple[tuple[str, str], ...] = ()  # image -> Dockerfile path (relative to root)
    max_file_size: int = 2 * 1024 * 1024
    large_data_threshold: int = 50 * 1024 * 1024
    respect_gitignore: bool = True
    # IV003 digest sources (offline by default): OCI layout dirs ("DIR" or "IMAGE=DIR"), registry look-ups
    oci_layouts: tuple[str, ...] = ()
    resolve_digests: bool = False
    require_digests: bool = False
    # DF002 compose mode; the two references have no default: the user names their own images
    certs_tzdata: str = "base"
    certs_image: str | None = None
    tzdata_image: str | None = None
    source: str | None = None  # the file the config came from

    def rule_enabled(self, code: str) -> bool:
        def hit(prefixes: tuple[str, ...]) -> bool:
            return any(code.startswith(p) or p == "ALL" for p in prefixes)

        if self.select and not hit(self.select):
            return False
        return not hit(self.ignore)


_KEYS = {
    "select": "select",
    "ignore": "ignore",
    "exclude": "exclude",
    "extend-exclude": "exclude",
    "target": "target",
    "kubernetes-version": "target",
    "mode": "mode",
    "image-name-template": "image_name_template",
    "asset-dockerfile-path": "asset_dockerfile_path",
    "images": "images",
    "max-file-size": "max_file_size",
    "large-data-threshold": "large_data_threshold",
    "respect-gitignore": "respect_gitignore",
    "oci-layouts": "oci_layouts",
    "resolve-digests": "resolve_digests",
    "require-digests": "require_digests",
    "certs-tzdata": "certs_tzdata",
    "certs-image": "certs_image",
    "tzdata-image": "tzdata_image",
}


def find_config_file(root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest config at or above ``root``: .migrate-tui.toml wins over pyproject.toml."""
    for directory in (root, *root.parents):
        dedicated = directory / ".migrate-tui.toml"
        if dedicated.is_file():
            return dedicated, _read_toml(dedicated)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            table = _tool_table(pyproject, _read_toml(pyproject))
            if table is not None:
                return pyproject, table
        if (directory / ".git").exists():
            break
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _tool_table(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``[tool.migrate-tui]`` table of a pyproject.toml, or None when it has none."""
    tool = data.get("tool")
    table = tool.get("migrate-tui") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.migrate-tui must be a table ([tool.migrate-tui])")
    return table


def config_from_table(table: dict[str, Any], source: str) -> Config:
    values: dict[str, Any] = {"source": source}  # Config field -> value, checked below
    for key, value in table.items():
        attr = _KEYS.get(key)
        if attr is None:
            raise ConfigError(f"{source}: unknown key '{key}' (known: {', '.join(sorted(_KEYS))})")
        if attr in ("select", "ignore", "exclude", "oci_layouts"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: '{key}' must be a list of strings")
            values[attr] = values.get(attr, ()) + tuple(value)
        elif attr == "target":
            text = value if key == "target" else f"k8s={value}"
            try:
                values["target"] = parse_target(str(text), source=source)
            except TargetError as exc:
                raise ConfigError(f"{source}: {key}: {exc}") from None
        elif attr == "images":
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: 'images' must be a table of image = \"path/to/Dockerfile\"")
            values["images"] = tuple((str(k), _checked_image_path(source, str(k), v)) for k, v in value.items())
        elif attr == "mode":
            if value not in MODES:
                raise ConfigError(f"{source}: mode must be one of {', '.join(MODES)}")
            values["mode"] = value
        elif attr == "certs_tzdata":
            if value not in CERTS_TZDATA:
                raise ConfigError(f"{source}: certs-tzdata must be one of {', '.join(CERTS_TZDATA)}")
            values[attr] = value
        elif attr in ("certs_image", "tzdata_image"):
            values[attr] = _checked_reference(source, key, value)
        elif attr in ("max_file_size", "large_data_threshold"):
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{source}: '{key}' must be a positive number of bytes")
            values[attr] = value
        elif attr in ("respect_gitignore", "resolve_digests", "require_digests"):
            values[attr] = bool(value)
        elif attr in ("image_name_template", "asset_dockerfile_path"):
            values[attr] = _checked_template(source, key, value)
        else:
            values[attr] = str(value)
    return Config(**values)


# Sample values a template is tried with: what it gives must be a valid reference / a path
# inside the repository for every image, so it is checked once, when the config is read.
_SAMPLE = {"image": "registry.example.com/team/web", "tag": "1.0", "name": "web"}
_PLACEHOLDERS = {"image_name_template": ("image", "tag", "name"), "asset_dockerfile_path": ("name", "image")}


def _checked_template(source: str, key: str, value: object) -> str:
    """An image-name or asset-path template that can only give valid names inside the repo."""
    attr = _KEYS[key]
    allowed = _PLACEHOLDERS[attr]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: '{key}' must be a non-empty string")
    if has_control_chars(value) or any(c.isspace() for c in value):
        raise ConfigError(f"{source}: '{key}' must not contain blanks or control characters")
    try:
        fields = [(f, conv, spec) for _, f, spec, conv in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise ConfigError(f"{source}: '{key}' is not a valid template: {exc}") from None
    for name, conversion, spec in fields:
        if name not in allowed or conversion or spec:
            raise ConfigError(
                f"{source}: '{key}' may only use the placeholders "
                f"{', '.join('{' + a + '}' for a in allowed)} (found {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}})"
            )
    sample = value.format(**_SAMPLE)
    if attr == "image_name_template":
        if parse_image_ref(sample) is None:
            raise ConfigError(f"{source}: '{key}' gives {sample!r} for {_SAMPLE['image']}:{_SAMPLE['tag']}, not a valid image reference")
    else:
        problem = write_path_problem(sample)
        if problem is not None:
            raise ConfigError(f"{source}: '{key}' gives {sample!r}: {describe(problem)}")
    return value


def _checked_reference(source: str, key: str, value: object) -> str:
    """An image reference written into manifests as is: it must parse and hold no blanks."""
    if (
        not isinstance(value, str)
        or not value
        or has_control_chars(value)
        or any(c.isspace() for c in value)
        or parse_image_ref(value) is None
    ):
        raise ConfigError(f"{source}: '{key}' must be an image reference such as registry.example.com/platform/ca-certificates:2026.11")
    return value


def _checked_image_path(source: str, image: str, value: object) -> str:
    """A Dockerfile (or directory) path of the ``images`` table: relative, inside the repository."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: images.{image} must be a path to a Dockerfile or a directory")
    normal = posixpath.normpath(value)
    problem = write_path_problem(normal) if normal != "." else None
    if problem is not None:
        raise ConfigError(f"{source}: images.{image} = {value!r}: {describe(problem)}")
    return value


def load_config(root: Path, explicit: Path | None = None) -> Config:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such config file")
        data = _read_toml(explicit)
        table = _tool_table(explicit, data) if explicit.name == "pyproject.toml" else None
        if table is None:
            table = data
        return config_from_table(table, str(explicit))
    found = find_config_file(root)
    if found is None:
        return Config()
    path, table = found
    return config_from_table(table, str(path))


def with_overrides(config: Config, **overrides: object) -> Config:
    known = {f.name for f in fields(Config)}
    # Config field -> the caller's value (command-line options, already checked by the caller)
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if k in known and v is not None}
    return replace(config, **changes)
