"""The rule registry: codes map to rules in ONE table (``REGISTRY``).

A rule is a small pure function over parsed objects that yields ``Finding``s; it never writes.
Its documentation is its module docstring (What it does / Why is this bad? / Example /
Use instead / Fix safety), printed by ``migrate-tui rule CODE``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import ClassVar, Iterable, Protocol

from migrate_tui.analysis.context import PodSpecSubject, RuleContext
from migrate_tui.model.findings import Finding, Severity
from migrate_tui.parse.dockerfile.parser import Dockerfile
from migrate_tui.repo.sources import SourceFile

# code -> module under migrate_tui.rules (named after the pattern it finds)
_MODULES: dict[str, str] = {
    "IV001": "init_copy_to_empty_dir",
    "IV002": "init_fills_empty_dir_otherwise",
    "IV003": "image_volume_platform",
    "DF001": "data_only_image_on_shell_base",
    "DF002": "static_binary_on_full_distro",
    "DF003": "full_base_with_slim_variant",
    "DF004": "package_cache_left_in_layer",
    "DF005": "large_data_in_app_image",
}


DockerfileSubject = tuple[SourceFile, Dockerfile]


class PodSpecCheck(Protocol):
    """What a pod-spec rule's ``check`` is: one PodSpec (in its document) and the run's context."""

    def __call__(self, subject: PodSpecSubject, ctx: RuleContext, /) -> Iterable[Finding]: ...


class DockerfileCheck(Protocol):
    """What a Dockerfile rule's ``check`` is: the file as read, its parse, and the run's context."""

    def __call__(self, subject: DockerfileSubject, ctx: RuleContext, /) -> Iterable[Finding]: ...


@dataclass(frozen=True, kw_only=True)
class _RuleInfo:
    code: str
    name: str  # kebab-case pattern name
    summary: str  # one line
    severity: Severity = Severity.WARNING
    doc: str = ""
    # Text pre-filter: a file without any of these strings can't hold a finding of this rule.
    needles: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PodSpecRule(_RuleInfo):
    """A rule over every PodSpec found (by shape) in a YAML document."""

    check: PodSpecCheck
    scope: ClassVar[str] = "podspec"


@dataclass(frozen=True, kw_only=True)
class DockerfileRule(_RuleInfo):
    """A rule over a whole Dockerfile."""

    check: DockerfileCheck
    scope: ClassVar[str] = "dockerfile"


Rule = PodSpecRule | DockerfileRule


def register(code: str, module: str) -> None:
    """Used by later rule families (Dockerfile, platform) to join the one table."""
    _MODULES[code] = module


def _load() -> dict[str, Rule]:
    rules = {}
    for code, module_name in _MODULES.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        rule = module.RULE
        if not isinstance(rule, (PodSpecRule, DockerfileRule)):
            raise RuntimeError(f"{module_name}.RULE is not a PodSpecRule or a DockerfileRule")
        if rule.code != code:
            raise RuntimeError(f"{module_name} declares {rule.code}, registered as {code}")
        if rule.name != rule_name(code):
            raise RuntimeError(f"{module_name} declares the name {rule.name!r}: a rule is named after its module")
        rules[code] = replace(rule, doc=(module.__doc__ or "").strip())
    return rules


_CACHE: dict[str, Rule] | None = None


def all_rules() -> dict[str, Rule]:
    global _CACHE
    if _CACHE is None or set(_CACHE) != set(_MODULES):
        _CACHE = _load()
    return _CACHE


def rule_codes() -> list[str]:
    """The registered codes, without importing the rule modules (a cached scan may need none)."""
    return sorted(_MODULES)


def rule_name(code: str) -> str:
    """A rule's name (``init-copy-to-empty-dir``) without importing its module: the module is
    named after it (the loader checks). An unknown code is its own name."""
    module = _MODULES.get(code)
    return module.rsplit(".", 1)[-1].strip("_").replace("_", "-") if module is not None else code


def get_rule(code: str) -> Rule | None:
    return all_rules().get(code.upper())
