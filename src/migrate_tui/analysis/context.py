"""What a rule sees: the subject (a PodSpec in a document, a Dockerfile) and the run's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrate_tui.repo.config import Config
from migrate_tui.model.findings import Diagnostic, Location
from migrate_tui.parse.podspec import PodSpecRef, line_of
from migrate_tui.repo.sources import SourceFile, read_source
from migrate_tui.platform.target import Target
from migrate_tui.parse.yamldoc import Chunk

if TYPE_CHECKING:
    from migrate_tui.analysis.links.index import Link, LinkIndex, Walked


class Project:
    """Access to the rest of the repository, for change-sets that span files.

    Image → Dockerfile links are resolved lazily (only when a rule asks), so ``check FILE``
    in a pre-commit hook doesn't walk the whole tree for nothing.
    """

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config
        self._sources: dict[str, SourceFile | Diagnostic] = {}
        self._links: LinkIndex | None = None

    def read(self, rel: str) -> SourceFile | Diagnostic:
        if rel not in self._sources:
            self._sources[rel] = read_source(self.root, self.root / rel, max_bytes=self.config.max_file_size)
        return self._sources[rel]

    def remember(self, source: SourceFile) -> None:
        self._sources[source.path] = source

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def links(self, walked: Walked | None = None) -> LinkIndex:
        """The image → Dockerfile link index (``analysis.links.index``), built on first use
        (``walked``: the scan's own walk of the whole root, when it has one)."""
        if self._links is None:
            from migrate_tui.analysis.links.index import build_link_index

            self._links = build_link_index(self.root, self.config, walked=walked)
        return self._links

    def dockerfile_for(self, image: str) -> Link | None:
        return self.links().dockerfile_for(image)


@dataclass
class RuleContext:
    root: Path
    config: Config
    target: Target
    mode: str  # "auto" | "zero-rebuild" | "scratch"
    project: Project
    notes: list[str] = field(default_factory=list)
    # Per-run memos of the rules (e.g. IV003's digest resolver), keyed by the rule's own name.
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass
class PodSpecSubject:
    source: SourceFile
    chunk: Chunk
    document: Any  # the fast-loaded document root
    ref: PodSpecRef
    doc_count: int = 1
    # Per-subject memo shared by the rules that look at the same PodSpec (IV001/IV002 analysis).
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.source.path

    def location(self, node: Any, key: Any = None) -> Location:
        return Location(self.source.path, line_of(node, key))

    @property
    def doc_span(self) -> tuple[int, int]:
        return self.chunk.line, self.chunk.line + self.source.text.count("\n", self.chunk.start, self.chunk.end)
