"""Walk the root: honour .gitignore and config excludes, classify files, never leave the root."""

from __future__ import annotations

import operator
import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from migrate_tui.parse.dockerfile.names import is_dockerfile_name
from migrate_tui.model.findings import Diagnostic, DiagnosticKind
from migrate_tui.repo.sources import is_inside, relpath

if TYPE_CHECKING:
    import pathspec

ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".migrate-tui-cache", ".tox", ".mypy_cache", ".pytest_cache"}
)
YAML_SUFFIXES = (".yaml", ".yml")


class FileKind(StrEnum):
    """What a discovered file is read as."""

    YAML = "yaml"  # Kubernetes manifests (and any YAML build definition)
    DOCKERFILE = "dockerfile"
    BUILD = "build"  # Makefiles, scripts, bake/Jib/Cloud Build files: read for image links only


def classify(name: str) -> FileKind | None:
    """The kind of a file by its name, or None for a file the scan never reads."""
    lower = name.lower()
    if lower.endswith(YAML_SUFFIXES):
        return FileKind.YAML
    if is_dockerfile_name(name):
        return FileKind.DOCKERFILE
    if lower in ("makefile", "gnumakefile") or lower.endswith((".mk", ".sh")):
        return FileKind.BUILD
    if lower in _BUILD_FILES or (lower.startswith(("docker-bake", "cloudbuild")) and lower.endswith((".hcl", ".json"))):
        return FileKind.BUILD  # read by analysis/links/builds.py only
    return None


_BUILD_FILES = frozenset({"pom.xml", "build.gradle", "build.gradle.kts"})


class Candidate:
    """A file worth reading: its absolute ``path``, its ``kind`` (``classify``) and, when the
    walk knows it, its root-relative POSIX path ``rel``. The walk hands over the path as a string
    and ``path`` makes the ``Path`` on first use: on a warm scan, which only stats most files,
    building 50,000 ``Path`` objects cost more than the walk's system calls."""

    __slots__ = ("_path", "kind", "rel")

    def __init__(self, path: Path | str, kind: FileKind, rel: str | None = None) -> None:
        self._path = path
        self.kind = kind
        self.rel = rel

    @property
    def path(self) -> Path:
        if not isinstance(self._path, Path):
            self._path = Path(self._path)
        return self._path

    @property
    def path_str(self) -> str:
        return str(self._path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and (self.path_str, self.kind) == (other.path_str, other.kind)

    def __hash__(self) -> int:
        return hash((self.path_str, self.kind))

    def __repr__(self) -> str:
        return f"Candidate(path={self.path!r}, kind={self.kind!r})"


def _spec(lines: list[str]) -> pathspec.PathSpec[pathspec.Pattern]:
    # imported on first use (~10 ms): a tree without .gitignore files or excludes, and a scan
    # that takes its file list from the link cache, never need it
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", lines)


class _Ignore:
    """Nested .gitignore files plus config excludes, matched on root-relative paths."""

    def __init__(self, root: Path, excludes: Iterable[str], use_gitignore: bool) -> None:
        self.root = root
        self.use_gitignore = use_gitignore
        self.specs: list[tuple[str, pathspec.PathSpec[pathspec.Pattern]]] = []
        excludes = list(excludes)
        if excludes:
            self.specs.append(("", _spec(excludes)))

    def load_dir(self, directory: Path | str) -> None:
        if not self.use_gitignore:
            return
        gitignore = os.path.join(directory, ".gitignore")
        try:
            if not stat.S_ISREG(os.lstat(gitignore).st_mode):  # never a link, a FIFO or a device
                return
            with open(gitignore, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return
        prefix = relpath(self.root, Path(directory))
        self.specs.append(("" if prefix == "." else prefix + "/", _spec(lines)))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        for prefix, spec in self.specs:
            if prefix and not probe.startswith(prefix):
                continue
            if spec.match_file(probe[len(prefix) :]):
                return True
        return False


def discover(
    root: Path,
    paths: Iterable[Path] | None = None,
    *,
    excludes: Iterable[str] = (),
    use_gitignore: bool = True,
    on_dir: Callable[[str, bool], None] | None = None,
) -> Iterator[Candidate | Diagnostic]:
    """Files worth reading below ``root`` (or among ``paths``), in a stable order.

    ``on_dir(path, gitignore)``: called (walking the whole root only) for every directory listed,
    with whether a ``.gitignore`` in it was read: what a cache of the walk must watch."""
    root = root.resolve()
    ignore = _Ignore(root, excludes, use_gitignore)
    if paths is None:
        yield from _walk(root, root, ignore, on_dir=on_dir)
        return
    for path in paths:
        absolute = path if path.is_absolute() else Path.cwd() / path
        absolute = Path(os.path.abspath(absolute))
        if not is_inside(root, absolute.parent) or not str(absolute).startswith(str(root)):
            yield Diagnostic(str(path), 1, DiagnosticKind.SYMLINK, "outside the repository root; not read")
            continue
        # where it really is (a directory link inside the root on the way is resolved), so a
        # file is read, and fixed, at a path the writer can reach without following links
        absolute = Path(os.path.realpath(absolute.parent)) / absolute.name
        if absolute.is_dir() and absolute.is_symlink():
            # a directory link named on the command line: walked where it really is, if that
            # is inside the root (`check --fix deploy/k8s` with deploy/k8s -> /etc: not read)
            if not is_inside(root, absolute):
                yield Diagnostic(
                    relpath(root, absolute),
                    1,
                    DiagnosticKind.SYMLINK,
                    f"symlink points outside the repository ({_readlink(str(absolute))}); not read",
                )
                continue
            absolute = Path(os.path.realpath(absolute))
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
            yield Diagnostic(
                relpath(root, absolute),
                1,
                DiagnosticKind.SYMLINK,
                f"symlink points outside the repository ({os.readlink(absolute)}); not read",
            )
            continue
        yield Candidate(absolute, kind)


def _walk(
    root: Path, top: Path, ignore: _Ignore, load_own: bool = True, on_dir: Callable[[str, bool], None] | None = None
) -> Iterator[Candidate | Diagnostic]:
    # Plain strings and os.scandir: pathlib costs more than the system calls on a 50k-file tree.
    root_s = str(root)
    real_root = os.path.realpath(root_s)
    prefix_len = len(os.path.join(root_s, ""))
    stack = [str(top)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=_NAME)
        except OSError as exc:
            yield Diagnostic(relpath(root, Path(directory)), 1, DiagnosticKind.UNREADABLE, f"cannot list directory: {exc.strerror or exc}")
            continue
        # (only a directory listing a .gitignore costs the lstat that checks it)
        gitignore = (load_own or directory != str(top)) and any(e.name == ".gitignore" for e in entries)
        if gitignore:
            ignore.load_dir(directory)
        if on_dir is not None:
            on_dir(directory, gitignore and ignore.use_gitignore)
        filtering = bool(ignore.specs)
        subdirs = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if name in ALWAYS_SKIPPED_DIRS:
                    continue
                if filtering and ignore.ignored(_rel(entry.path, prefix_len), True):
                    continue
                subdirs.append(entry.path)
                continue
            kind = classify(name)
            if kind is None:
                continue
            rel = _rel(entry.path, prefix_len)
            if filtering and ignore.ignored(rel, False):
                continue
            try:
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_link:
                if not _inside_real(real_root, entry.path):
                    yield Diagnostic(
                        rel, 1, DiagnosticKind.SYMLINK, f"symlink points outside the repository ({_readlink(entry.path)}); not read"
                    )
                elif not os.path.exists(entry.path):
                    yield Diagnostic(rel, 1, DiagnosticKind.SYMLINK, f"dangling or looping symlink ({_readlink(entry.path)}); not read")
                # a link inside the root: the file itself is scanned where it lives
                continue
            yield Candidate(entry.path, kind, rel)
        stack.extend(reversed(subdirs))


_NAME = operator.attrgetter("name")  # the sort key: a Python function per entry cost ~10 % of a warm walk


def _rel(path: str, prefix_len: int) -> str:
    rel = path[prefix_len:]
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _inside_real(real_root: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def find_root(start: Path) -> Path:
    """The repository root above ``start``: the nearest directory with .git or a config file.

    Searched along the path as written (made absolute, links not followed): ``check --fix
    deploy/k8s`` where ``deploy/k8s`` links out of the repository has the repository as its
    root, so the link's target is neither read nor written. A marker found *through* a symlink
    that lies inside a repository above it (``deploy`` → another checkout) is not a root either.
    """
    lexical = Path(os.path.abspath(start))
    if not lexical.is_dir():
        lexical = lexical.parent
    ancestors = [lexical, *lexical.parents]
    marked = [i for i, d in enumerate(ancestors) if _has_marker(d)]
    for i in marked:
        above = [j for j in marked if j > i]
        if above and any(os.path.islink(ancestors[k]) for k in range(i, above[0])):
            continue  # reached through a link inside the repository above
        return ancestors[i]
    # No repository around the path as written: where it really lives (a link from outside
    # any repository into one finds that repository).
    resolved = start.resolve()
    if resolved.is_file():
        resolved = resolved.parent
    for directory in (resolved, *resolved.parents):
        if _has_marker(directory):
            return directory
    return resolved


def _has_marker(directory: Path) -> bool:
    return (directory / ".git").exists() or (directory / ".migrate-tui.toml").is_file()
