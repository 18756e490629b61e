"""Report data: one row per workload (IV findings) and per image (DF findings), and totals."""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    import pathspec

from migrate_tui.model.findings import Applicability, Finding
from migrate_tui.repo.sources import SourceFile, read_source
from migrate_tui.parse.yamldoc import YamlDocument, load_documents

# Copy throughput assumed for "start-up time avoided": an init container's `cp` from the image's
# overlay into an emptyDir on the node's disk. 200 MB/s is a mid-range figure for a cloud SSD
# persistent disk; the real value depends on the node (use --copy-mbps to state yours).
DEFAULT_COPY_MBPS = 200.0
# Measuring a build context stops here: a report must stay quick on a huge repository.
MAX_FILES_MEASURED = 200_000

WORKLOAD_RULES = ("IV001", "IV002")
SCRATCH_RULES = ("DF001", "DF002")
IMAGE_RULES = ("DF001", "DF002", "DF003", "DF005")


@dataclass(frozen=True)
class WorkloadRow:
    """A pod-spec owner whose init container fills an emptyDir (IV001 / IV002)."""

    owner: str
    path: str
    line: int
    rule: str
    applicability: str  # safe | unsafe | manual
    volume: str
    images: tuple[str, ...]
    reason: str  # why it is unsafe (the assumption) or manual (what blocks it); "" when safe
    asset_bytes: int | None  # bytes each pod no longer copies; None = unknown
    asset_bytes_source: str
    replicas: int | None  # declared replicas (None: not stated, or a DaemonSet: one per node)
    per_node: bool  # DaemonSet: one pod on every node


@dataclass(frozen=True)
class ImageRow:
    """A Dockerfile stage whose base can shrink (DF001/DF002: FROM scratch; DF003: slim)."""

    path: str
    line: int
    rule: str
    applicability: str
    base: str
    proposed: str
    saved_mb: float | None  # compressed MB per pull, from the published size table
    source: str  # where the figure comes from, with its date
    becomes_scratch: bool


@dataclass(frozen=True)
class Totals:
    workloads: int
    safe: int
    unsafe: int
    manual: int
    bytes_per_pod_known: int  # sum over workloads with a measured size
    workloads_measured: int
    bytes_all_replicas: int  # declared replicas × bytes (DaemonSets counted once: per node)
    copy_seconds_per_rollout: float  # all replicas, at copy_mbps
    copy_mbps: float
    images_to_scratch: int
    image_mb_saved_per_pull: float  # sum of known figures
    images_unknown_size: int


@dataclass
class Report:
    root: str
    files_scanned: int
    workloads: list[WorkloadRow] = field(default_factory=list)
    images: list[ImageRow] = field(default_factory=list)
    totals: Totals | None = None
    diagnostics: int = 0

    @property
    def wins(self) -> list[tuple[str, float, str]]:
        """(label, MB, kind) of the biggest savings, largest first: the bar chart's data."""
        rows: list[tuple[str, float, str]] = []
        for w in self.workloads:
            if w.asset_bytes and w.applicability != Applicability.MANUAL.value:
                rows.append((f"{w.owner} ({w.volume})", w.asset_bytes / 1e6, "copy per pod"))
        for i in self.images:
            if i.saved_mb:
                rows.append((f"{i.path}:{i.line}", i.saved_mb, f"{i.rule} per pull"))
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows


def build_report(
    findings: Iterable[Finding],
    root: Path,
    *,
    files_scanned: int = 0,
    diagnostics: int = 0,
    sources: dict[str, SourceFile] | None = None,
    copy_mbps: float = DEFAULT_COPY_MBPS,
) -> Report:
    root = Path(root)
    sources = dict(sources or {})
    report = Report(root=str(root), files_scanned=files_scanned, diagnostics=diagnostics)
    measured: dict[str, tuple[int | None, str]] = {}
    for finding in findings:
        if finding.rule in WORKLOAD_RULES:
            report.workloads.append(_workload_row(finding, root, sources, measured))
        elif finding.rule in IMAGE_RULES and finding.rule != "DF005":
            row = _image_row(finding)
            if row is not None:
                report.images.append(row)
    report.workloads.sort(key=lambda w: (_ORDER[w.applicability], -(w.asset_bytes or 0), w.path, w.line))
    report.images.sort(key=lambda i: (-(i.saved_mb or 0), i.path, i.line))
    report.totals = _totals(report, copy_mbps)
    return report


_ORDER = {"safe": 0, "unsafe": 1, "manual": 2}


def reason_of(finding: Finding) -> str:
    """Why a fix is not safe, in the rule's own words: the assumption, or what blocks it."""
    if finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE:
        return finding.fix.assumption or ""
    if finding.applicability is Applicability.MANUAL:
        if finding.fix_blocked:
            return finding.fix_blocked
        first = finding.explanation.strip().splitlines()[0] if finding.explanation.strip() else ""
        return first.lstrip("- ") or finding.message
    return ""


def _workload_row(finding: Finding, root: Path, sources: dict[str, SourceFile], measured: dict[str, tuple[int | None, str]]) -> WorkloadRow:
    data = finding.data or {}
    owner = str(data.get("owner") or "")
    images = tuple(str(i) for i in data.get("images") or ())
    total: int | None = None
    how = "unknown: the image is not built in this repository (skopeo inspect or `migrate-tui verify` shows its size)"
    if finding.rule == "IV001":
        dockerfiles = [str(a["dockerfile"]) for a in data.get("assets") or () if isinstance(a, dict) and a.get("dockerfile")]
        sizes = []
        for dockerfile in dockerfiles:
            if dockerfile not in measured:
                measured[dockerfile] = _measure_dockerfile(root, dockerfile)
            sizes.append(measured[dockerfile])
        if sizes and all(size is not None for size, _ in sizes):
            total = sum(size or 0 for size, _ in sizes)
            how = "; ".join(text for _, text in sizes)
        elif sizes:
            how = "; ".join(text for size, text in sizes if size is None)
    else:
        how = "not applicable: the content is downloaded or templated at start-up"
    replicas, per_node = _replicas(root, finding.location.path, owner, sources)
    return WorkloadRow(
        owner=owner,
        path=finding.location.path,
        line=finding.location.line,
        rule=finding.rule,
        applicability=finding.applicability.value,
        volume=str(data.get("volume") or ""),
        images=images,
        reason=reason_of(finding),
        asset_bytes=total,
        asset_bytes_source=how,
        replicas=replicas,
        per_node=per_node,
    )


def _image_row(finding: Finding) -> ImageRow | None:
    data = finding.data or {}
    found = data.get("savings")
    savings: dict[str, Any] = found if isinstance(found, dict) else {}
    base = str(data.get("base") or "")
    if not base:
        return None
    proposed = str(data.get("proposed_base") or ("scratch" if finding.rule == "DF001" else ""))
    saved = savings.get("saved_mb")
    source = "; ".join(str(s) for s in savings.get("sources") or ()) or str(savings.get("text") or "")
    return ImageRow(
        path=finding.location.path,
        line=finding.location.line,
        rule=finding.rule,
        applicability=finding.applicability.value,
        base=base,
        proposed=proposed,
        saved_mb=float(saved) if isinstance(saved, (int, float)) else None,
        source=source,
        becomes_scratch=finding.rule in SCRATCH_RULES,
    )


def _totals(report: Report, copy_mbps: float) -> Totals:
    counts = {"safe": 0, "unsafe": 0, "manual": 0}
    per_pod = all_replicas = measured = 0
    for w in report.workloads:
        counts[w.applicability] += 1
        if w.asset_bytes is None or w.applicability == "manual":
            continue
        measured += 1
        per_pod += w.asset_bytes
        all_replicas += w.asset_bytes * (1 if w.per_node else (w.replicas or 1))
    images_mb = sum(i.saved_mb or 0 for i in report.images)
    return Totals(
        workloads=len(report.workloads),
        safe=counts["safe"],
        unsafe=counts["unsafe"],
        manual=counts["manual"],
        bytes_per_pod_known=per_pod,
        workloads_measured=measured,
        bytes_all_replicas=all_replicas,
        copy_seconds_per_rollout=all_replicas / (copy_mbps * 1e6) if copy_mbps > 0 else 0.0,
        copy_mbps=copy_mbps,
        images_to_scratch=sum(1 for i in report.images if i.becomes_scratch),
        image_mb_saved_per_pull=round(images_mb, 1),
        images_unknown_size=sum(1 for i in report.images if i.saved_mb is None),
    )


# --- measuring what an asset image holds ------------------------------------------------------


def _measure_dockerfile(root: Path, dockerfile: str) -> tuple[int | None, str]:
    """Bytes the shipped stage copies from its build context (the directory of the Dockerfile)."""
    from migrate_tui.parse.dockerfile.parser import parse_dockerfile

    source = read_source(root, root / dockerfile)
    if not isinstance(source, SourceFile):
        return None, f"unknown: {dockerfile} could not be read"
    try:
        parsed = parse_dockerfile(source.text)
    except Exception:  # noqa: BLE001 - a Dockerfile we can't parse is measured as unknown
        return None, f"unknown: {dockerfile} could not be parsed"
    if not parsed.stages:
        return None, f"unknown: {dockerfile} has no stage"
    context = posixpath.dirname(dockerfile) or "."
    ignore = _dockerignore(root, context, dockerfile)
    total = 0
    for instr in parsed.stages[-1].instructions:
        if instr.keyword not in ("COPY", "ADD"):
            continue
        if instr.flag("from") is not None:
            return None, f"unknown: {dockerfile} copies from another image or stage"
        words = list(instr.json_args) if instr.json_args is not None else instr.args.split()
        for pattern in words[:-1]:
            if "$" in pattern or "://" in pattern:
                return None, f"unknown: {dockerfile} copies `{pattern}`, which depends on the build"
            size = _size_of(root, context, pattern, ignore)
            if size is None:
                return None, f"unknown: `{pattern}` in {dockerfile} is not inside the build context"
            total += size
    return total, f"measured: the files {dockerfile} copies from its build context"


def _dockerignore(root: Path, context: str, dockerfile: str) -> "pathspec.PathSpec[Any] | None":
    """The build's ignore file (``Dockerfile.dockerignore`` beside it wins, as in BuildKit)."""
    import pathspec

    for candidate in (root / (dockerfile + ".dockerignore"), root / context / ".dockerignore"):
        if candidate.is_file() and not candidate.is_symlink():
            lines = [line.strip().lstrip("/") for line in candidate.read_text(encoding="utf-8", errors="replace").splitlines()]
            return pathspec.PathSpec.from_lines("gitignore", [line for line in lines if line and not line.startswith("#")])
    return None


def _size_of(root: Path, context: str, pattern: str, ignore: "pathspec.PathSpec[Any] | None" = None) -> int | None:
    """Total size of the regular files ``pattern`` names under ``root/context`` (no symlink followed
    out of the context; globs as the shell expands them)."""
    import glob

    base = (root / context).resolve()
    try:
        base.relative_to(root.resolve())
    except ValueError:
        return None
    matches = (
        glob.glob(str(base / pattern.lstrip("/")), recursive=False)
        if any(c in pattern for c in "*?[")
        else [str(base / pattern.lstrip("/"))]
    )
    total = 0
    counted = 0
    for match in matches:
        path = Path(os.path.normpath(match))
        try:
            path.relative_to(base)
        except ValueError:
            return None
        for rel, size in _walk_sizes(path, base):
            if ignore is not None and ignore.match_file(rel):
                continue
            total += size
            counted += 1
            if counted > MAX_FILES_MEASURED:
                return None
    return total


def _walk_sizes(path: Path, base: Path) -> Iterable[tuple[str, int]]:
    """(path relative to the context, size) of every regular file at or under ``path``; symlinks
    are not followed (a link out of the context must not count, nor be read)."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(info.st_mode):
        yield path.relative_to(base).as_posix(), info.st_size
    elif stat.S_ISDIR(info.st_mode):
        for dirpath, _dirs, files in os.walk(path, followlinks=False):
            for name in files:
                full = os.path.join(dirpath, name)
                try:
                    entry = os.lstat(full)
                except OSError:
                    continue
                if stat.S_ISREG(entry.st_mode):
                    yield Path(full).relative_to(base).as_posix(), entry.st_size


# --- replicas ----------------------------------------------------------------------------------


def _replicas(root: Path, path: str, owner: str, sources: dict[str, SourceFile]) -> tuple[int | None, bool]:
    kind, _, name = owner.partition("/")
    if kind == "DaemonSet":
        return None, True
    source = sources.get(path)
    if source is None:
        read = read_source(root, root / path)
        if not isinstance(read, SourceFile):
            return None, False
        source = sources[path] = read
    for doc in load_documents(source.text):
        if not isinstance(doc, YamlDocument) or not isinstance(doc.data, dict):
            continue
        data: Any = doc.data
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        if data.get("kind") != kind or meta.get("name") != name:
            continue
        spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0:
            return replicas, False
        return None, False
    return None, False
