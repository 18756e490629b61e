"""The one engine API that the CLI and the TUI both call.

    engine = Engine(root, config)
    for event in engine.iter_scan():   # ScanStarted, FileScanned..., ScanFinished
        ...
    report = engine.apply(findings)     # atomic, validated writes

Scanning a file is a pure function of (file, config): ``scan_file``. The engine only walks,
orders, and collects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..rules import Rule, all_rules
from .config import Config
from .context import PodSpecSubject, Project, RuleContext
from .discover import Candidate, discover
from .model import Applicability, Diagnostic, Finding
from .podspec import find_pod_specs
from .sources import SourceFile, read_source
from .suppress import parse_suppressions
from .yamldoc import YamlError, load_documents, template_line


@dataclass(frozen=True)
class ScanStarted:
    total: int


@dataclass(frozen=True)
class FileScanned:
    index: int
    total: int
    path: str
    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass
class ScanResult:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_scanned: int = 0
    seconds: float = 0.0
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fixable]

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Applicability}
        for finding in self.findings:
            out[finding.applicability.value] += 1
        return out


@dataclass(frozen=True)
class ScanFinished:
    result: ScanResult


ScanEvent = ScanStarted | FileScanned | ScanFinished


class Engine:
    def __init__(self, root: Path, config: Config | None = None, *, paths: Sequence[Path] | None = None,
                 mode: str | None = None) -> None:
        self.root = root.resolve()
        self.config = config or Config()
        self.paths = list(paths) if paths else None
        self.mode = mode or self.config.mode
        self.project = Project(self.root, self.config)

    @property
    def context(self) -> RuleContext:
        return RuleContext(self.root, self.config, self.config.target, self.mode, self.project)

    def rules(self) -> list[Rule]:
        return [rule for code, rule in sorted(all_rules().items()) if self.config.rule_enabled(code)]

    def discover(self) -> tuple[list[Candidate], list[Diagnostic]]:
        candidates, diagnostics = [], []
        for item in discover(self.root, self.paths, excludes=self.config.exclude,
                             use_gitignore=self.config.respect_gitignore):
            (diagnostics if isinstance(item, Diagnostic) else candidates).append(item)
        return candidates, diagnostics

    def iter_scan(self) -> Iterator[ScanEvent]:
        started = time.perf_counter()
        candidates, early = self.discover()
        result = ScanResult(self.root, diagnostics=list(early))
        yield ScanStarted(len(candidates))
        rules = self.rules()
        context = self.context
        for index, candidate in enumerate(candidates, start=1):
            findings, diagnostics, source = scan_file(candidate, rules, context)
            if source is not None and findings:
                result.sources[source.path] = source
            result.findings += findings
            result.diagnostics += diagnostics
            result.files_scanned += 1
            yield FileScanned(index, len(candidates), _rel(self.root, candidate.path), tuple(findings), tuple(diagnostics))
        result.findings.sort(key=lambda f: (f.location.path, f.location.line, f.rule))
        result.diagnostics.sort()
        result.seconds = time.perf_counter() - started
        yield ScanFinished(result)

    def scan(self) -> ScanResult:
        result = None
        for event in self.iter_scan():
            if isinstance(event, ScanFinished):
                result = event.result
        assert result is not None
        return result

    def apply(self, findings: Iterable[Finding], *, unsafe: bool = False, sources: dict[str, SourceFile] | None = None):
        from .writer import apply_fixes

        return apply_fixes(self.root, list(findings), self.config.target, unsafe=unsafe, sources=sources)

    def fix(self, *, unsafe: bool = False, max_rounds: int = 10):
        """Scan, apply, re-scan until nothing more applies (fixes that overlapped wait a round)."""
        from .writer import WriteReport

        total = WriteReport()
        result = self.scan()
        for _ in range(max_rounds):
            report = self.apply(result.findings, unsafe=unsafe, sources=result.sources)
            total.merge(report)
            if not report.written:
                break
            result = self.scan()
        return total, result


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def scan_file(candidate: Candidate, rules: list[Rule], context: RuleContext) -> tuple[list[Finding], list[Diagnostic], SourceFile | None]:
    scoped = [r for r in rules if r.scope in _SCOPES_FOR_KIND.get(candidate.kind, ())]
    if not scoped:
        return [], [], None
    source = read_source(context.root, candidate.path, max_bytes=context.config.max_file_size)
    if isinstance(source, Diagnostic):
        return [], [source], None
    needles = {n for r in scoped for n in r.needles}
    if needles and not any(n in source.text for n in needles):
        return [], [], source
    context.project.remember(source)
    if candidate.kind == "yaml":
        findings, diagnostics = _scan_yaml(source, scoped, context)
    else:
        findings, diagnostics = _scan_dockerfile(source, scoped, context)
    suppressions = parse_suppressions(source.text)
    kept = [
        f for f in findings
        if not suppressions.silences(f.rule, f.location.line, f.data.get("doc_span"))
    ]
    return kept, diagnostics, source


_SCOPES_FOR_KIND = {"yaml": ("podspec", "document"), "dockerfile": ("dockerfile",)}


def _scan_yaml(source: SourceFile, rules: list[Rule], context: RuleContext) -> tuple[list[Finding], list[Diagnostic]]:
    findings: list[Finding] = []
    diagnostics: list[Diagnostic] = []
    podspec_rules = [r for r in rules if r.scope == "podspec"]
    document_rules = [r for r in rules if r.scope == "document"]
    template_at = None
    for item in load_documents(source.text):
        if isinstance(item, YamlError):
            template_at = template_at if template_at is not None else template_line(source.text)
            if template_at is not None:
                diagnostics.append(Diagnostic(source.path, template_at, "template",
                                              "Helm/Jinja template ({{ … }}), not plain YAML; render it first (helm template) to check it"))
                break
            diagnostics.append(Diagnostic(source.path, item.line, "parse", item.message))
            continue
        if not isinstance(item.data, dict):
            continue
        for rule in document_rules:
            findings += _run(rule, item, context)
        if not podspec_rules:
            continue
        for ref in find_pod_specs(item.data):
            subject = PodSpecSubject(source, item.chunk, item.data, ref)
            for rule in podspec_rules:
                findings += _run(rule, subject, context)
    return findings, diagnostics


def _scan_dockerfile(source: SourceFile, rules: list[Rule], context: RuleContext) -> tuple[list[Finding], list[Diagnostic]]:
    try:
        from ..dockerfile.parser import parse_dockerfile
    except ImportError:  # the Dockerfile rules arrive with their parser
        return [], []
    parsed = parse_dockerfile(source.text)
    findings: list[Finding] = []
    for rule in rules:
        findings += _run(rule, (source, parsed), context)
    return findings, [Diagnostic(source.path, line, "parse", message) for line, message in getattr(parsed, "errors", [])]


def _run(rule: Rule, subject, context: RuleContext) -> list[Finding]:
    return list(rule.check(subject, context))
