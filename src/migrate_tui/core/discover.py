"""Walk the root: honour .gitignore and config excludes, classify files, never leave the root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pathspec

from .model import Diagnostic
from .sources import is_inside, relpath

ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".migrate-tui-cache", ".tox", ".mypy_cache", ".pytest_cache"}
)
YAML_SUFFIXES = (".yaml", ".yml")
_DOC_SUFFIXES = (".md", ".txt", ".rst", ".orig", ".bak", ".swp", ".rej", ".html", ".adoc")


def is_dockerfile_name(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(_DOC_SUFFIXES):
        return False
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def classify(name: str) -> str | None:
    """'yaml', 'dockerfile', 'build' (Makefiles, scripts: read for image links) or None."""
    lower = name.lower()
    if lower.endswith(YAML_SUFFIXES):
        return "yaml"
    if is_dockerfile_name(name):
        return "dockerfile"
    if lower in ("makefile", "gnumakefile") or lower.endswith((".mk", ".sh")):
        return "build"
    return None


@dataclass(frozen=True)
class Candidate:
    path: Path
    kind: str


class _Ignore:
    """Nested .gitignore files plus config excludes, matched on root-relative paths."""

    def __init__(self, root: Path, excludes: Iterable[str], use_gitignore: bool) -> None:
        self.root = root
        self.use_gitignore = use_gitignore
        self.specs: list[tuple[str, pathspec.PathSpec]] = []
        excludes = list(excludes)
        if excludes:
            self.specs.append(("", pathspec.PathSpec.from_lines("gitignore", excludes)))

    def load_dir(self, directory: Path) -> None:
        if not self.use_gitignore:
            return
        gitignore = directory / ".gitignore"
        if gitignore.is_file() and not gitignore.is_symlink():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            prefix = relpath(self.root, directory)
            self.specs.append(("" if prefix == "." else prefix + "/", pathspec.PathSpec.from_lines("gitignore", lines)))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        for prefix, spec in self.specs:
            if prefix and not probe.startswith(prefix):
                continue
            if spec.match_file(probe[len(prefix) :]):
                return True
        return False


def discover(root: Path, paths: Iterable[Path] | None = None, *, excludes: Iterable[str] = (),
             use_gitignore: bool = True) -> Iterator[Candidate | Diagnostic]:
    """Files worth reading below ``root`` (or among ``paths``), in a stable order."""
    root = root.resolve()
    ignore = _Ignore(root, excludes, use_gitignore)
    if paths is None:
        yield from _walk(root, root, ignore)
        return
    for path in paths:
        absolute = path if path.is_absolute() else Path.cwd() / path
        absolute = Path(os.path.abspath(absolute))
        if not is_inside(root, absolute.parent) or not str(absolute).startswith(str(root)):
            yield Diagnostic(str(path), 1, "symlink", "outside the repository root; not read")
            continue
        if absolute.is_dir() and not absolute.is_symlink():
            # load the .gitignore files on the way down to this directory
            for parent in reversed([absolute, *absolute.parents]):
                if str(parent).startswith(str(root)):
                    ignore.load_dir(parent)
            yield from _walk(root, absolute, ignore, load_own=False)
            continue
        kind = classify(absolute.name)
        if kind is None:
            continue
        if absolute.is_symlink() and not is_inside(root, absolute):
            yield Diagnostic(relpath(root, absolute), 1, "symlink", f"symlink points outside the repository ({os.readlink(absolute)}); not read")
            continue
        yield Candidate(absolute, kind)


def _walk(root: Path, top: Path, ignore: _Ignore, load_own: bool = True) -> Iterator[Candidate | Diagnostic]:
    stack = [top]
    while stack:
        directory = stack.pop()
        if load_own or directory != top:
            ignore.load_dir(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Diagnostic(relpath(root, Path(directory)), 1, "unreadable", f"cannot list directory: {exc.strerror or exc}")
            continue
        subdirs = []
        for entry in entries:
            rel = relpath(root, Path(entry.path))
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in ALWAYS_SKIPPED_DIRS or ignore.ignored(rel, True):
                    continue
                subdirs.append(Path(entry.path))
                continue
            kind = classify(entry.name)
            if kind is None or ignore.ignored(rel, False):
                continue
            if is_link:
                if not is_inside(root, Path(entry.path)):
                    yield Diagnostic(rel, 1, "symlink", f"symlink points outside the repository ({os.readlink(entry.path)}); not read")
                # a link inside the root: the file itself is scanned where it lives
                continue
            yield Candidate(Path(entry.path), kind)
        stack.extend(reversed(subdirs))


def find_root(start: Path) -> Path:
    """The repository root above ``start``: the nearest directory with .git or a config file."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        if (directory / ".git").exists() or (directory / ".migrate-tui.toml").is_file():
            return directory
    return start
