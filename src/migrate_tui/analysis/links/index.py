"""Which Dockerfile builds which image: the image → Dockerfile link index.

Mechanisms, in the order they are trusted:

1. ``config``: ``[tool.migrate-tui.images]`` (image = "path/to/Dockerfile" or a directory);
2. ``skaffold``: ``build.artifacts`` (and ``profiles[].build.artifacts``) of ``skaffold*.yaml``;
3. ``compose``: services with both ``build:`` and ``image:``;
4. ``script``: ``docker build``/``podman build``/``buildah bud`` with ``-t`` in Makefiles and
   shell scripts (simple ``VAR = value`` Makefile variables are expanded);
5. ``workflow``: GitHub ``docker/build-push-action`` steps (``tags``, ``file``, ``context``,
   ``target``; tags from a ``docker/metadata-action`` step are followed);
6. ``kustomize``: ``images:`` overrides (``name`` → ``newName``/``newTag``) are aliases: a
   manifest's ``name`` is looked up as ``newName`` too;
7. ``directory``: a Dockerfile whose directory (or ``Dockerfile.<name>``) is named like the
   image's last path component, when exactly one matches.

More build systems are read by ``analysis.links.builds`` (``docker buildx bake`` files, Jib, ko,
GitLab CI, Google Cloud Build, Tekton, Kaniko); ``SOURCES`` gives the full order. Jib and ko
build images without a Dockerfile: their links have ``dockerfile == ""`` and a ``builder``;
``dockerfile_for`` never returns one (an image built so is not linked to any Dockerfile, not
even by directory name), ``build_for`` does.

Image names are compared with ``parse.imageref`` (registry, ``library/``, tags and digests): a
build definition names a repository, a manifest names a tag of it, so a link matches on the
repository; an exact tag match wins over a repository-only one.

The index also records which YAML files name an image in an ``initContainers`` block
(``users_of``), so a Dockerfile rule can find the pods that run ``cp`` from the image it builds,
and which YAML files name an image in any container (``runners_of``: regular containers run the
image's entrypoint or a command, so an image they run is not a data-only image).

Built once per run and cached in ``.migrate-tui-cache/links.json``, keyed by the size and
ctime of every file it read, every ``.gitignore`` that steered the walk and every directory the
walk listed (a file created, removed or renamed anywhere changes its directory's ctime): ``check
FILE`` in a pre-commit hook does not re-read a big tree when nothing changed. The ctime, not the
mtime: the kernel sets it on every change and no tool can set it back (``tar``, ``rsync -a`` and
``touch -d`` restore a directory's mtime after changing its entries).

The cache directory sits in a repository that may not be ours, so it is never trusted as it
comes: it is used only when it is a real directory (not a symlink) owned by the current user
and not writable by others, its files are opened relative to it with ``O_NOFOLLOW``, a cache
that git tracks is ignored, and a cache whose stamps are empty, malformed or don't cover what
the index names is invalid (a committed cache can't guess the nanosecond ctimes of a fresh
checkout). Files in it are replaced atomically, relative to the directory's descriptor.

The same stamps vouch for the walk: when no directory's listing changed, no ``.gitignore``
changed and the configuration is the same, the files a walk of the root finds are the ones it
found last time. So the cache also keeps that list (``cached_scan``), and a scan of the whole
root whose cache holds does not list 18,000 directories again. It is kept only for a walk that
met nothing but plain files and directories (a symlink's verdict depends on its target, which
no stamp covers), by the same discovery code, and only when every directory listed and every
``.gitignore`` read was last changed at least ``RACY_NS`` before the walk began: a directory
changed while it was being listed, or within the file system's timestamp granularity of it,
would keep a ctime that hides the change (git's "racily clean" problem).
"""

from __future__ import annotations

from functools import lru_cache

import base64
import binascii
import json
import os
import posixpath
import re
import secrets
import shlex
import stat as stat_mod
import sys
import time
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from migrate_tui.repo.config import Config
from migrate_tui.parse.imageref import ImageRef, parse_image_ref
from migrate_tui.repo.discover import FileKind, classify
from migrate_tui.repo.sources import read_fd

CACHE_DIR = ".migrate-tui-cache"
CACHE_FILE = "links.json"
_CACHE_VERSION = 11
#: a directory (or .gitignore) changed less than this before a walk began: its listing is not
#: kept (a change in the same clock tick, or skewed by a network file system's clock, would
#: leave its ctime as it was)
RACY_NS = 2_000_000_000
CACHE_MIN_ENTRIES = 200  # files and directories stamped; below this the index is not cached
# Order of trust: declared build definitions, then Dockerfile-less builders (an image Jib or ko
# builds is never rewritten through a weaker guess), then commands read from scripts and CI.
SOURCES = (
    "config",
    "skaffold",
    "compose",
    "bake",
    "jib",
    "ko",
    "script",
    "workflow",
    "gitlab",
    "cloudbuild",
    "tekton",
    "kaniko",
    "kustomize",
    "directory",
)
# Sources whose names may keep one variable path component (``gcr.io/$PROJECT_ID/site``)
_PATTERN_SOURCES = ("bake", "gitlab", "cloudbuild", "tekton", "kaniko")

_MAX_READ = 2 * 1024 * 1024
_COMPOSE_NAMES = re.compile(r"(docker-)?compose(\.[\w-]+)?\.ya?ml\Z")
_SKAFFOLD_NAMES = re.compile(r"skaffold([.-][\w-]+)?\.ya?ml\Z")
_KUSTOMIZE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_BUILD_CMD = re.compile(
    r"(?:^|[\s;&|(`])(?:sudo\s+)?(?:(?:docker|podman)(?:\s+buildx)?\s+(?:image\s+)?build|buildah\s+(?:bud|build(?:-using-dockerfile)?))(?=\s)"
)
_MAKE_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?=|:=|::=|=)\s*(.*?)\s*$", re.M)
_VAR_REF = re.compile(r"\$\((\w+)\)|\$\{(\w+)\}")
# `image:` values at the start of a line (after indentation and an optional "- "): the literal
# "image:" found first, then the line's start checked; one ^-anchored multi-line pattern is tried
# at every position of the text, 5x slower on a fresh tree's manifests (tests compare the two).
_IMAGE_AT = re.compile(r"image:[ \t]*[\"']?([^\s\"'#]+)")
_IMAGE_LEAD = re.compile(r"[ \t]*(?:-[ \t]+)?\Z")


def _image_lines(text: str) -> list[str]:
    """Each ``image:`` value at the start of its line in ``text``, in order (what
    ``^[ \\t]*(?:-[ \\t]+)?image:[ \\t]*["']?([^\\s"'#]+)`` finds with ``re.M``)."""
    out = []
    for match in _IMAGE_AT.finditer(text):
        start = match.start()
        if _IMAGE_LEAD.match(text, text.rfind("\n", 0, start) + 1, start):
            out.append(match.group(1))
    return out


@dataclass(frozen=True)
class Link:
    """``image`` is built from ``parse.dockerfile`` (root-relative) with build context ``context``."""

    image: str  # as the build definition spells it (no tag when it names none)
    dockerfile: str
    context: str
    source: str  # one of SOURCES
    origin: str  # "skaffold.yaml:12": where the link was read
    target: str | None = None  # the --target stage, if any
    # Where the image name is written in the build definition, for change-sets that rename it:
    # (path, start, end) offsets into the file's text; None when it can't be edited exactly.
    name_span: tuple[str, int, int] | None = None
    builder: str = ""  # "jib" | "ko" | …: built without a Dockerfile (``parse.dockerfile`` is then "")

    @property
    def dockerless(self) -> bool:
        return not self.dockerfile

    def describe(self) -> str:
        if self.dockerless:
            return f"built by {self.builder or 'another builder'}, no Dockerfile (context {self.context}; {self.source}, {self.origin})"
        target = f", target {self.target}" if self.target else ""
        return f"{self.dockerfile} (context {self.context}{target}; {self.source}, {self.origin})"


# links by (registry, repository), directory links by name, links by Dockerfile
_Indices = tuple[dict[tuple[str, str], list[Link]], dict[str, list[Link]], dict[str, list[Link]]]


@dataclass
class LinkIndex:
    links: list[Link] = field(default_factory=list)
    aliases: list[tuple[str, str, str]] = field(default_factory=list)  # (name, new image, origin) from kustomize
    # image as written -> YAML files (init containers); from the cache: its JSON text, decoded on
    # first use (``_users()``), since a manifest's lookup needs only the links
    users: dict[str, list[str]] | str = field(default_factory=dict)
    # image as written -> YAML files naming it on an ``image:`` line in any pod template (containers too)
    runners: dict[str, list[str]] | str = field(default_factory=dict)
    from_cache: bool = False
    fingerprint: str = ""  # identifies the index's content (for result caches that depend on it)

    def compute_fingerprint(self) -> str:
        import hashlib

        if not self.fingerprint:
            raw = json.dumps(self.to_json(), sort_keys=True, default=str)
            self.fingerprint = hashlib.sha256(raw.encode()).hexdigest()
        return self.fingerprint

    def dockerfile_for(self, image: str) -> Link | None:
        """The Dockerfile link for ``image`` (a manifest's reference), or None (also when the
        image is built without a Dockerfile: see ``build_for``)."""
        link = self.build_for(image)
        return None if link is None or link.dockerless else link

    def build_for(self, image: str) -> Link | None:
        """The link for ``image``, Dockerfile-less builds (Jib, ko) included."""
        cache: dict[str, Link | None] = self.__dict__.setdefault("_lookups", {})
        if image not in cache:
            cache[image] = self._build_for(image)
        return cache[image]

    def _build_for(self, image: str) -> Link | None:
        ref = _parsed(image)
        if ref is None:
            return None
        candidates = [ref]
        for name, new, _ in self.aliases:
            alias_from = _parsed(name)
            if alias_from is not None and alias_from.same_repository(ref):
                target = _parsed(new)
                if target is not None:
                    candidates.append(target)
        by_repo, by_dir_name, _ = self._indices()
        patterns = self._patterns()
        for source in SOURCES[:-1]:
            for wanted in candidates:
                found = [l for l in by_repo.get((wanted.registry, wanted.repository), ()) if l.source == source]
                if found:
                    exact = [l for l in found if _exact(l.image, wanted)]
                    return (exact or found)[0]
            for wanted in candidates:
                # ``gcr.io/$PROJECT_ID/web``: one unknown path component, the rest written out
                found = [l for l, regex in patterns.get(source, ()) if regex.fullmatch(f"{wanted.registry}/{wanted.repository}")]
                if len({(l.dockerfile, l.context, l.target, l.builder) for l in found}) == 1:
                    return found[0]
        for wanted in candidates:
            found = by_dir_name.get(wanted.repository.rsplit("/", 1)[-1], [])
            if len(found) == 1:
                return found[0]
        return None

    def _indices(self) -> _Indices:
        """Links by (registry, repository), directory links by name, links by Dockerfile: built once."""
        if "_index" not in self.__dict__:
            by_repo: dict[tuple[str, str], list[Link]] = {}
            by_dir_name: dict[str, list[Link]] = {}
            by_dockerfile: dict[str, list[Link]] = {}
            for link in self.links:
                if not link.dockerless:
                    by_dockerfile.setdefault(link.dockerfile, []).append(link)
                if link.source == "directory":
                    by_dir_name.setdefault(link.image, []).append(link)
                    continue
                mine = _parsed(_strip_templated_tag(link.image))
                if mine is not None:
                    by_repo.setdefault((mine.registry, mine.repository), []).append(link)
            self.__dict__["_index"] = (by_repo, by_dir_name, by_dockerfile)
        indices: _Indices = self.__dict__["_index"]
        return indices

    def _patterns(self) -> dict[str, list[tuple[Link, re.Pattern[str]]]]:
        """Links whose repository names an unresolved variable, as regexes, by source."""
        if "_pattern_index" not in self.__dict__:
            from migrate_tui.analysis.links.builds import repository_pattern

            out: dict[str, list[tuple[Link, re.Pattern[str]]]] = {}
            for link in self.links:
                if link.source in _PATTERN_SOURCES and "$" in _strip_templated_tag(link.image):
                    regex = repository_pattern(_strip_templated_tag(link.image))
                    if regex is not None:
                        out.setdefault(link.source, []).append((link, regex))
            self.__dict__["_pattern_index"] = out
        patterns: dict[str, list[tuple[Link, re.Pattern[str]]]] = self.__dict__["_pattern_index"]
        return patterns

    def _users(self) -> dict[str, list[str]]:
        if isinstance(self.users, str):
            self.users = _decoded_map(self.users)
        return self.users

    def _runners(self) -> dict[str, list[str]]:
        if isinstance(self.runners, str):
            self.runners = _decoded_map(self.runners)
        return self.runners

    def links_for_dockerfile(self, dockerfile: str) -> list[Link]:
        return list(self._indices()[2].get(dockerfile, ()))

    def users_of(self, image: str) -> list[str]:
        """YAML files whose init containers name an image of the same repository as ``image``."""
        ref = parse_image_ref(image)
        if ref is None:
            return []
        out: dict[str, None] = {}
        for written, paths in self._users().items():
            if _same_repo(written, ref):
                out.update(dict.fromkeys(paths))
        return list(out)

    def runners_of(self, image: str) -> list[str]:
        """YAML files whose pod templates (any container) name an image of the same repository."""
        ref = parse_image_ref(image)
        if ref is None:
            return []
        out: dict[str, None] = {}
        for written, paths in self._runners().items():
            if _same_repo(written, ref):
                out.update(dict.fromkeys(paths))
        return list(out)

    def runners_of_link(self, link: Link) -> list[str]:
        """``runners_of`` for what ``link`` names; a directory link matches the last path component."""
        if link.source != "directory":
            return self.runners_of(link.image)
        out: dict[str, None] = {}
        for written, paths in self._runners().items():
            ref = _parsed(written)
            if ref is not None and _directory_match(link, ref):
                out.update(dict.fromkeys(paths))
        return list(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "links": [asdict(l) for l in self.links],
            "aliases": [list(a) for a in self.aliases],
            "users": self._users(),
            "runners": self._runners(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkIndex:
        links = []
        for item in data.get("links", []):
            span = item.get("name_span")
            item = {**item, "name_span": tuple(span) if span else None}
            links.append(Link(**item))
        users, runners = data.get("users", {}), data.get("runners", {})
        if not isinstance(users, str):
            users = dict(users)
        if not isinstance(runners, str):
            runners = dict(runners)
        return cls(links, [tuple(a) for a in data.get("aliases", [])], users, runners, True)


def _decoded_map(raw: str) -> dict[str, list[str]]:
    """``users``/``runners`` as the cache keeps them (JSON text); {} when it is not a map of lists
    of strings (the cache is not trusted as it comes)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, list) and all(isinstance(p, str) for p in v) for v in data.values()):
        return {}
    return data


@lru_cache(maxsize=1 << 16)
def _parsed(written: str) -> ImageRef | None:
    """Links and users are compared against every reference a scan meets: parse each once."""
    return parse_image_ref(written)


def _same_repo(written: str, ref: ImageRef) -> bool:
    mine = _parsed(_strip_templated_tag(written))
    return mine is not None and mine.same_repository(ref)


def _exact(written: str, ref: ImageRef) -> bool:
    mine = _parsed(written)
    return mine is not None and mine.tag is not None and mine.matches(ref)


def _strip_templated_tag(image: str) -> str:
    """``ghcr.io/o/app:${{ github.sha }}`` → ``ghcr.io/o/app`` (the repository is still known)."""
    image = image.strip()
    last_slash = image.rfind("/")
    colon = image.find(":", last_slash + 1)
    if colon != -1 and ("$" in image[colon:] or "{" in image[colon:]):
        return image[:colon]
    return image


# --------------------------------------------------------------------------- building


class _Reader:
    """Reads files under the root and remembers (size, ctime) of each, for the cache key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prefix = os.path.join(str(root), "")
        self.stamps: dict[str, list[int]] = {}
        self.walk: WalkRecord | None = None  # the walk the index was built from
        self.walk_stamped: list[str] = []  # the stamps that vouch for it: directories, .gitignores

    def stamp(self, rel: str) -> None:
        try:
            st = os.stat(self._prefix + rel if rel != "." else self._prefix)
        except OSError:
            self.stamps[rel] = [-1, -1]
            return
        self.stamps[rel] = [st.st_size, st.st_ctime_ns]

    def text(self, rel: str) -> str | None:
        """The text of a regular file (not a link), BOM dropped and newlines universal, or None;
        stamped either way. One open, fstat and read: on a fresh tree the index reads every
        manifest, and four system calls and a buffered file object per file cost more."""
        try:
            fd = os.open(self._prefix + rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # a link (ELOOP), gone, unreadable: stamped as the link's target, not read
            self.stamp(rel)
            return None
        try:
            st = os.fstat(fd)
            self.stamps[rel] = [st.st_size, st.st_ctime_ns]
            if not stat_mod.S_ISREG(st.st_mode) or st.st_size > _MAX_READ:
                return None
            raw = read_fd(fd, _MAX_READ + 1, st.st_size + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(raw) > _MAX_READ:  # grew while read
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True)
class WalkRecord:
    """A walk of the whole root with ``discover``'s arguments as ``_walk`` has them."""

    files: list[str]  # root-relative, in walk order
    listed: list[tuple[str, bool]]  # every directory listed, and whether its .gitignore was read
    clean: bool  # it met no symlink or unreadable directory (no diagnostic)
    started_ns: int  # time.time_ns() before it listed the first directory


#: A walk of the whole root that the caller has made, or finishes on demand.
Walked = Callable[[], WalkRecord]


def build_link_index(root: Path, config: Config, *, use_cache: bool = True, walked: Walked | None = None) -> LinkIndex:
    """The link index for ``root``: from the cache when every file it read is unchanged.
    ``walked``: the scan's own walk of the root (one walk instead of two on a fresh tree)."""
    root = root.resolve()
    key = _config_key(config)
    state = "absent"
    if use_cache:
        cached = _load_cache(root, key, walk=False)
        if cached is not None:
            return cached.index
        state = _cache_dir_state(root)
    reader = _Reader(root)
    index = _build(root, config, reader, walked)
    # A small tree is walked in milliseconds: no cache directory to litter it with.
    if use_cache and (state == "ours" or (state == "absent" and len(reader.stamps) >= CACHE_MIN_ENTRIES)):
        dir_fd = _open_cache_dir(root, create=state == "absent")
        if dir_fd is not None:
            try:
                walk = _storable_walk(reader)  # (judged before the root's own change, next)
                if state == "absent":
                    reader.stamp(".")  # creating the directory changed the root's ctime
                _save_cache(dir_fd, key, reader.stamps, index, walk)
            finally:
                os.close(dir_fd)
    return index


@dataclass(frozen=True)
class CachedScan:
    """What the link cache vouches for while its stamps hold."""

    index: LinkIndex
    files: list[str] | None  # what a walk of the whole root finds (root-relative, in order), if kept
    retry: bool  # no walk kept, and a walk now may be: the last was racy, or by other discovery code


def cached_scan(root: Path, config: Config, meanwhile: Callable[[], object] | None = None) -> CachedScan | None:
    """The link cache's index and walk while its stamps hold; None when there is no valid cache.
    ``meanwhile``: run while a forked child checks the stamps, on a big tree (else not run)."""
    return _load_cache(root.resolve(), _config_key(config), meanwhile=meanwhile)


def keep_walk(root: Path, config: Config, record: WalkRecord) -> bool:
    """Add ``record``, a walk of the whole root, to a link cache that holds but kept no walk
    (the last one was racy, or made by other discovery code): when the cache's stamps, checked
    before this walk began, vouch for it. Every directory it listed and every .gitignore it read
    must be stamped, each stamp older than ``RACY_NS`` before the walk began (so that any change
    since has given a new ctime, which the next load sees). Whether it was kept."""
    root = root.resolve()
    if not record.clean or not _writable_names(record.files):
        return False
    data = _cache_data(root, _config_key(config))
    if data is None:
        return False
    walk = data.get("walk")
    if isinstance(walk, dict) and "files" in walk and walk.get("code") == _walk_code():
        return False  # (kept meanwhile, by another run)
    stamps = _decode_stamps(data.get("stamps"))
    if stamps is None:
        return False
    rels, values = stamps
    changed = {rel: values[2 * i + 1] for i, rel in enumerate(rels)}
    if _racy_until(_vouching(root, record.listed), lambda name: changed.get(name, -1), record.started_ns) is not None:
        return False
    code = _walk_code()
    if not code:
        return False
    data["walk"] = {"code": code, "files": "\n".join(record.files)}
    dir_fd = _open_cache_dir(root, create=False)
    if dir_fd is None:
        return False
    try:
        _write_cache(dir_fd, data)
    finally:
        os.close(dir_fd)
    return True


def _walk_code() -> str:
    """What decides a walk besides the tree and the configuration: discovery's own code."""
    from migrate_tui.repo import discover

    try:
        st = os.stat(discover.__file__ or "")
    except OSError:
        return ""
    return f"{_CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}"


def _storable_walk(reader: _Reader) -> list[str] | int | None:
    """The walk's files, when the cache may vouch for them (see the module's docstring); else
    the time (ns) from which a new walk may be kept (this one was racy), or None: not at all (it
    met a symlink or an unreadable directory)."""
    record = reader.walk
    if record is None or not record.clean or not _writable_names(record.files):
        return None
    retry = _racy_until(reader.walk_stamped, lambda name: reader.stamps.get(name, [-1, -1])[1], record.started_ns)
    return record.files if retry is None else retry


def _vouching(root: Path, listed: list[tuple[str, bool]]) -> list[str]:
    """The stamps that vouch for a walk: every directory it listed ("." for the root) and every
    .gitignore it read, root-relative, in a stable order."""
    from migrate_tui.repo.sources import relpath as _relpath

    root_s = str(root)
    names = []
    for directory, gitignore in sorted(listed):
        rel = "." if directory == root_s else _relpath(root, directory)
        names.append(rel)
        if gitignore:
            names.append(".gitignore" if rel == "." else f"{rel}/.gitignore")
    return names


def _racy_until(names: Iterable[str], ctime_of: Callable[[str], int], started_ns: int) -> int | None:
    """None when every name has a ctime older than ``RACY_NS`` before the walk began (its walk
    may be kept); else from when a new walk may be: at once for a name not stamped or gone since
    (-1), ``RACY_NS`` after the newest change otherwise."""
    newest = -1
    for name in names:
        changed = ctime_of(name)
        if changed < 0:
            return started_ns
        newest = max(newest, changed)
    if newest >= started_ns - RACY_NS:
        return max(newest, started_ns) + RACY_NS
    return None


def _writable_names(files: list[str]) -> bool:
    """Can the cache's newline-separated list hold these paths?"""
    return not any("\n" in rel or "\0" in rel for rel in files)


def _config_key(config: Config) -> str:
    return json.dumps([sorted(config.images), sorted(config.exclude), config.respect_gitignore])


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_MAX_CACHE_BYTES = 64 * 1024 * 1024


def _ours(st: os.stat_result) -> bool:
    owned = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
    return owned and not st.st_mode & (stat_mod.S_IWGRP | stat_mod.S_IWOTH)


def _cache_dir_state(root: Path) -> str:
    """ "absent", "ours" (a real directory we own), or "foreign" (a link, a file, someone else's)."""
    try:
        st = os.lstat(root / CACHE_DIR)
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "foreign"
    return "ours" if stat_mod.S_ISDIR(st.st_mode) and _ours(st) else "foreign"


def _open_cache_dir(root: Path, *, create: bool) -> int | None:
    """A descriptor for ``root/.migrate-tui-cache`` if it is ours (made now with ``create``)."""
    try:
        root_fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if create:
            try:
                os.mkdir(CACHE_DIR, 0o700, dir_fd=root_fd)
            except FileExistsError:
                pass
        fd = os.open(CACHE_DIR, _DIR_FLAGS, dir_fd=root_fd)  # a symlink fails here (ELOOP)
    except OSError:
        return None
    finally:
        os.close(root_fd)
    try:
        if stat_mod.S_ISDIR(os.fstat(fd).st_mode) and _ours(os.fstat(fd)):
            if create:
                _write_gitignore(fd)
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _write_gitignore(dir_fd: int) -> None:
    """``*`` in the cache's own .gitignore; an existing entry (even a dangling link) is left alone."""
    try:
        fd = os.open(".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644, dir_fd=dir_fd)
    except OSError:
        return
    try:
        os.write(fd, b"*\n")
    except OSError:
        pass
    finally:
        os.close(fd)


def _tracked_by_git(root: Path) -> bool:
    """Does git's index list a file in the cache directory (a cache someone committed)?

    A plain search of ``.git/index`` (index versions 2 and 3 store whole paths): a guard on top
    of the stamps, which a committed cache can't get right anyway.
    """
    import mmap

    try:
        with open(os.path.join(root, ".git", "index"), "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return False
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find((CACHE_DIR + "/").encode()) != -1
    except (OSError, ValueError):
        return False


def _read_cache_file(root: Path) -> bytes | None:
    dir_fd = _open_cache_dir(root, create=False)
    if dir_fd is None:
        return None
    try:
        fd = os.open(CACHE_FILE, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode) or not _ours(st) or st.st_size > _MAX_CACHE_BYTES:
            return None
        return os.read(fd, _MAX_CACHE_BYTES + 1)[:_MAX_CACHE_BYTES]
    except OSError:
        return None
    finally:
        os.close(fd)


def _decode_stamps(stamps: Any) -> tuple[list[str], Sequence[int]] | None:
    """Stamps that can vouch for a cache, as (paths, [size, ctime_ns, size, ctime_ns, …]): the
    root and every entry stamped with integers, paths relative and inside the root. None otherwise.

    Stored as one newline-separated string of paths and the integers as base64 of little-endian
    int64s: a 50,000-file tree has ~125,000 stamps, and this is what a pre-commit hook decodes
    and checks every time (a JSON list of 250,000 integers took longer to decode than this).
    """
    if not isinstance(stamps, dict):
        return None
    paths, packed = stamps.get("paths"), stamps.get("values")
    if not isinstance(paths, str) or not isinstance(packed, str) or "\0" in paths:
        return None
    try:
        raw = base64.b64decode(packed, validate=True)
        values = array("q")
        if len(raw) % values.itemsize:
            return None
        values.frombytes(raw)
    except (ValueError, binascii.Error):
        return None
    if sys.byteorder != "little":  # pragma: no cover - no big-endian machine here
        values.byteswap()
    rels = paths.split("\n")
    # substring searches first (C speed over megabytes), the per-path check only when they hit
    if (paths.startswith("/") or "\n/" in paths) or (".." in paths and any(".." in r.split("/") for r in rels if ".." in r)):
        return None
    if len(values) != 2 * len(rels):
        return None
    try:
        at = 2 * rels.index(".")
    except ValueError:
        return None
    return (rels, values) if values[at] >= 0 and values[at + 1] > 0 else None


def _encode_stamps(stamps: dict[str, list[int]]) -> dict[str, Any] | None:
    rels = list(stamps)
    if any("\n" in rel or "\0" in rel for rel in rels):
        return None  # a name the compact form can't hold: no cache (the index is still built)
    values = array("q", [v for rel in rels for v in stamps[rel]])
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return {"paths": "\n".join(rels), "values": base64.b64encode(values.tobytes()).decode("ascii")}


# From this many stamps on, a second process shares the check (when this one can fork).
PARALLEL_STAMPS = 20_000
_CHUNK = 256  # stamps checked between two looks at how far the other process has got


def _stamps_hold(root: Path, rels: list[str], values: Sequence[int], meanwhile: Callable[[], object] | None = None) -> bool:
    """Does every path still have its (size, ctime_ns)? A missing path was stamped (-1, -1).

    Paths are looked up relative to a descriptor of the root (no string joins, no walk of the
    root's own path each time): this loop is most of a warm pre-commit run. On a big tree a
    forked child checks from the end while this process checks from the start, each publishing
    how far it has got in a shared page, until they meet (a thread would not help: the loop
    holds the GIL between the system calls); the child only calls ``stat`` and exits with the
    answer. ``meanwhile`` runs in this process first, while the child has the whole list to
    itself (the scan imports its rules there): the two shares even out however long it takes.
    A chunk both happen to check is checked twice, which is harmless; none is skipped (each
    publishes a frontier only once the stamps behind it held)."""
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        frontiers = _frontiers(len(rels)) if len(rels) >= PARALLEL_STAMPS else None
        pid = _fork_checker(fd, rels, values, frontiers) if frontiers is not None else None
        if meanwhile is not None:
            try:
                meanwhile()
            except BaseException:
                _reap(pid, kill=True)
                raise
        if pid is None or frontiers is None:
            return _hold(fd, rels, values, 0, len(rels))
        mine = _hold_from_start(fd, rels, values, frontiers)
        return _reap(pid, kill=not mine) and mine
    finally:
        os.close(fd)


def _frontiers(count: int) -> memoryview:
    """[how far the start has been checked, where the checked end begins], shared across fork."""
    import mmap

    page = mmap.mmap(-1, 16)  # anonymous and shared: the child's writes are seen here
    view = memoryview(page).cast("q")
    view[0], view[1] = 0, count
    return view


def _reap(pid: int | None, *, kill: bool) -> bool:
    """Wait for the checker; whether it found every stamp of its share holding."""
    if pid is None:
        return True
    if kill:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.waitstatus_to_exitcode(status) == 0


def _fork_checker(fd: int, rels: list[str], values: Sequence[int], frontiers: memoryview) -> int | None:
    """The pid of a child checking ``rels`` from the end (exit 0: they hold), or None when this
    process should not fork (no fork, or other threads running: the TUI scans in one)."""
    import threading

    if not hasattr(os, "fork") or threading.active_count() != 1:
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: no cleanup handlers, no buffered output, just the answer
        held = False
        try:
            held = _hold_from_end(fd, rels, values, frontiers)
        finally:
            if not held:
                frontiers[1] = -1  # (the parent stops at once: the answer is no)
            os._exit(0 if held else 1)
    return pid


def _hold_from_start(fd: int, rels: list[str], values: Sequence[int], frontiers: memoryview) -> bool:
    at = 0
    while at < frontiers[1]:
        stop = min(at + _CHUNK, frontiers[1])
        if not _hold(fd, rels, values, at, stop):
            return False
        at = stop
        frontiers[0] = at
    return True


def _hold_from_end(fd: int, rels: list[str], values: Sequence[int], frontiers: memoryview) -> bool:
    at = len(rels)
    while at > frontiers[0]:
        start = max(at - _CHUNK, frontiers[0])
        if not _hold(fd, rels, values, start, at):
            return False
        at = start
        frontiers[1] = at
    return True


def _hold(fd: int, rels: list[str], values: Sequence[int], start: int, end: int) -> bool:
    stat = os.stat
    i = 2 * start
    for rel in rels[start:end]:
        try:
            st = stat(rel, dir_fd=fd)
            if st.st_ctime_ns != values[i + 1] or st.st_size != values[i]:
                return False
        except (OSError, ValueError):
            if values[i] != -1 or values[i + 1] != -1:
                return False
        i += 2
    return True


def _cache_data(root: Path, key: str) -> dict[str, Any] | None:
    """The cache file's JSON object, when it is this format's and this configuration's."""
    raw = _read_cache_file(root)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION or data.get("config") != key:
        return None
    return data


def _load_cache(root: Path, key: str, *, walk: bool = True, meanwhile: Callable[[], object] | None = None) -> CachedScan | None:
    """What the cache vouches for while its stamps hold. ``walk=False``: the index only
    (``check FILE`` doesn't decode a big tree's file list)."""
    data = _cache_data(root, key)
    if data is None:
        return None
    stamps = _decode_stamps(data.get("stamps"))
    if stamps is None or _tracked_by_git(root) or not _stamps_hold(root, *stamps, meanwhile=meanwhile):
        return None
    try:
        index = LinkIndex.from_json(data.get("index", {}))
    except (TypeError, ValueError, AttributeError):
        return None
    stamped = set(stamps[0])
    if any(l.name_span and l.name_span[0] not in stamped for l in index.links):
        return None  # an edit span in a file the stamps don't vouch for
    index.fingerprint = data.get("fingerprint") or ""
    if not walk:
        return CachedScan(index, None, False)
    kept = data.get("walk")
    if not isinstance(kept, dict) or not kept.get("code") or kept.get("code") != _walk_code():
        return CachedScan(index, None, True)
    retry = kept.get("retry_after_ns")
    files = _decode_walk(kept)
    if files and any((f.rpartition("/")[0] or ".") not in stamped for f in files):
        files = None  # a file in a directory no stamp vouches for: not a walk this cache made
    return CachedScan(index, files, isinstance(retry, int) and time.time_ns() >= retry)


def _decode_walk(walk: dict[str, Any]) -> list[str] | None:
    """The kept walk's files, if it names only paths inside the root; else None (the scan walks)."""
    files = walk.get("files")
    if not isinstance(files, str) or "\0" in files:
        return None
    if not files:
        return []
    if files.startswith("/") or "\n/" in files or "//" in files:
        return None
    rels = files.split("\n")
    if ".." in files and any(".." in r.split("/") for r in rels if ".." in r):
        return None
    if any(r in ("", ".") or r.endswith("/") for r in rels):
        return None
    return rels


def _save_cache(dir_fd: int, key: str, stamps: dict[str, list[int]], index: LinkIndex, walk: list[str] | int | None = None) -> None:
    encoded = _encode_stamps(stamps)
    if encoded is None:
        return
    body = index.to_json()
    body["users"] = json.dumps(body["users"], sort_keys=True)
    body["runners"] = json.dumps(body["runners"], sort_keys=True)
    payload = {
        "version": _CACHE_VERSION,
        "config": key,
        "stamps": encoded,
        "index": body,
        "fingerprint": index.fingerprint or index.compute_fingerprint(),
    }
    code = _walk_code()
    if code and isinstance(walk, list):
        payload["walk"] = {"code": code, "files": "\n".join(walk)}
    elif code:
        payload["walk"] = {"code": code, "retry_after_ns": walk}
    _write_cache(dir_fd, payload)


def _write_cache(dir_fd: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, sort_keys=True).encode("utf-8")
    tmp = f"{CACHE_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600, dir_fd=dir_fd)
    except OSError:
        return  # a read-only checkout still works, just without the cache
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, CACHE_FILE, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces a link, never follows it
    except OSError:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass


def _walk(root: Path, config: Config, reader: _Reader, walked: Walked | None = None) -> list[str]:
    from migrate_tui.repo.discover import discover
    from migrate_tui.model.findings import Diagnostic
    from migrate_tui.repo.sources import relpath as _relpath

    files: list[str] = []
    # Every directory the walk listed, not only those holding a file read so far: a Dockerfile
    # or manifest created in any of them changes that directory's ctime (an entry is added,
    # removed or renamed), and every .gitignore that decided what the walk skipped.
    listed: list[tuple[str, bool]] = []

    def seen(directory: str, gitignore: bool) -> None:
        listed.append((directory, gitignore))

    if walked is not None:
        record = walked()
        files, listed = record.files, record.listed
    else:
        clean = True
        started_ns = time.time_ns()
        for item in discover(root, None, excludes=config.exclude, use_gitignore=config.respect_gitignore, on_dir=seen):
            if isinstance(item, Diagnostic):
                clean = False
                continue
            files.append(item.rel if item.rel is not None else _relpath(root, item.path_str))
        record = WalkRecord(files, listed, clean, started_ns)
    reader.walk = record
    reader.walk_stamped = _vouching(root, listed)
    for name in reader.walk_stamped:
        reader.stamp(name)
    for name in (".gitignore", ".migrate-tui.toml"):
        if name not in reader.stamps:
            reader.stamp(name)
    return files


def _build(root: Path, config: Config, reader: _Reader, walked: Walked | None = None) -> LinkIndex:
    from migrate_tui.analysis.links import builds as more

    files = _walk(root, config, reader, walked)
    users: dict[str, list[str]] = {}
    runners: dict[str, list[str]] = {}
    index = LinkIndex(users=users, runners=runners)
    dockerfiles = [f for f in files if _kind(f) is FileKind.DOCKERFILE]
    by_source: dict[str, list[Link]] = {s: [] for s in SOURCES}
    by_source["config"] = _from_config(root, config)
    more_sources = more.Collector(set(files))
    for rel in files:
        name = posixpath.basename(rel)
        kind = _kind(rel)
        if more.reads(rel):
            text = reader.text(rel)
            if text is not None:
                more_sources.add(rel, text)
            continue
        if kind is FileKind.YAML:
            text = reader.text(rel)
            if text is None:
                continue
            more_sources.add(rel, text)
            if _SKAFFOLD_NAMES.match(name) and "artifacts" in text:
                by_source["skaffold"] += _from_skaffold(rel, text)
            elif _COMPOSE_NAMES.match(name):
                by_source["compose"] += _from_compose(rel, text)
            elif rel.startswith(".github/workflows/"):
                by_source["workflow"] += _from_workflow(rel, text)
            elif name in _KUSTOMIZE_NAMES:
                index.aliases += _kustomize_aliases(rel, text)
            images = _image_lines(text) if "image:" in text else []
            if "initContainers" in text:
                for image in images:
                    users.setdefault(image, [])
                    if rel not in users[image]:
                        users[image].append(rel)
            for image in images:
                runners.setdefault(image, [])
                if rel not in runners[image]:
                    runners[image].append(rel)
        elif kind is FileKind.BUILD:
            text = reader.text(rel)
            if text is not None and ("build" in text or "bud" in text):
                by_source["script"] += _from_script(rel, text)
        elif name in _KUSTOMIZE_NAMES:
            text = reader.text(rel)
            if text is not None:
                index.aliases += _kustomize_aliases(rel, text)
    for source, links in more_sources.links().items():
        by_source[source] += links
    linked = {l.dockerfile for links in by_source.values() for l in links}
    # an image Jib or ko builds is not linked to a Dockerfile by its name either
    dockerless = {
        _strip_templated_tag(l.image).partition("@")[0].rsplit("/", 1)[-1].partition(":")[0].lower()
        for links in by_source.values()
        for l in links
        if l.dockerless
    }
    by_source["directory"] = [l for l in _from_directories(dockerfiles) if l.dockerfile not in linked and l.image not in dockerless]
    for source in SOURCES:
        index.links += by_source[source]
    return index


def _kind(rel: str) -> FileKind | None:
    return classify(posixpath.basename(rel))


def _norm(*parts: str) -> str:
    joined = posixpath.normpath(posixpath.join(*[p for p in parts if p]))
    return "." if joined in ("", ".") else joined.lstrip("/")


def _inside(rel: str) -> bool:
    return rel == "." or not (rel == ".." or rel.startswith("../"))


def _from_config(root: Path, config: Config) -> list[Link]:
    links = []
    for image, path in config.images:
        rel = _norm(path)
        if (root / rel).is_dir():
            dockerfile, context = _norm(rel, "Dockerfile"), rel
        else:
            dockerfile, context = rel, _norm(posixpath.dirname(rel))
        origin = Path(config.source).name if config.source else "config"
        links.append(Link(image, dockerfile, context, "config", origin))
    return links


def _load_all(text: str) -> list[Any]:
    from migrate_tui.parse.yamldoc import YamlError, load_documents

    return [d.data for d in load_documents(text) if not isinstance(d, YamlError)]


def _value_span(rel: str, text: str, line: int, value: str) -> tuple[str, int, int] | None:
    """Offsets of ``value`` on 1-based ``line`` of ``text`` (the line a YAML key starts on)."""
    if line <= 0:
        return None
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    end = text.find("\n", start)
    end = len(text) if end == -1 else end
    at = text.find(value, start, end)
    return (rel, at, at + len(value)) if at != -1 else None


def _from_skaffold(rel: str, text: str) -> list[Link]:
    base = posixpath.dirname(rel)
    links = []
    for doc in _load_all(text):
        if not isinstance(doc, dict):
            continue
        builds = [doc.get("build")]
        for profile in doc.get("profiles") or []:
            if isinstance(profile, dict):
                builds.append(profile.get("build"))
        for build in builds:
            artifacts = build.get("artifacts") if isinstance(build, dict) else None
            for artifact in artifacts or []:
                if not isinstance(artifact, dict) or not isinstance(artifact.get("image"), str):
                    continue
                docker = artifact.get("docker")
                if not isinstance(docker, dict):
                    docker = {}
                builder = next((k for k in ("jib", "ko", "bazel", "buildpacks", "custom") if k in artifact), None)
                context = _norm(base, str(artifact.get("context") or "."))
                if builder and not docker:
                    if builder in ("jib", "ko", "buildpacks") and _inside(context):
                        line = artifact.line_of("image") if hasattr(artifact, "line_of") else 0
                        links.append(Link(artifact["image"], "", context, "skaffold", f"{rel}:{line}", builder=builder))
                    continue
                dockerfile = _norm(context, str(docker.get("dockerfile") or "Dockerfile"))
                if not _inside(context) or not _inside(dockerfile):
                    continue
                image = artifact["image"]
                line = artifact.line_of("image") if hasattr(artifact, "line_of") else 0
                links.append(
                    Link(image, dockerfile, context, "skaffold", f"{rel}:{line}", docker.get("target"), _value_span(rel, text, line, image))
                )
    return links


def _from_compose(rel: str, text: str) -> list[Link]:
    base = posixpath.dirname(rel)
    links = []
    for doc in _load_all(text):
        services = doc.get("services") if isinstance(doc, dict) else None
        if not isinstance(services, dict):
            continue
        for service in services.values():
            if not isinstance(service, dict) or not isinstance(service.get("image"), str) or "build" not in service:
                continue
            build = service["build"]
            if isinstance(build, str):
                build = {"context": build}
            if not isinstance(build, dict) or "dockerfile_inline" in build:
                continue
            context_raw = str(build.get("context") or ".")
            if "://" in context_raw or context_raw.startswith("git@"):
                continue
            context = _norm(base, context_raw)
            dockerfile = _norm(context, str(build.get("dockerfile") or "Dockerfile"))
            if not _inside(context) or not _inside(dockerfile):
                continue
            image = service["image"]
            line = service.line_of("image") if hasattr(service, "line_of") else 0
            links.append(
                Link(image, dockerfile, context, "compose", f"{rel}:{line}", build.get("target"), _value_span(rel, text, line, image))
            )
    return links


def _logical_lines(text: str) -> Iterable[tuple[int, int, str]]:
    """(first line, offset, text) of each backslash-joined line."""
    lines = text.split("\n")
    i = 0
    offset = 0
    while i < len(lines):
        first, start = i + 1, offset
        parts = []
        while True:
            line = lines[i]
            offset += len(line) + 1
            i += 1
            if line.endswith("\\") and i < len(lines):
                parts.append(line[:-1])
                continue
            parts.append(line)
            break
        yield first, start, " ".join(parts)


def _from_script(rel: str, text: str) -> list[Link]:
    base = posixpath.dirname(rel)
    variables = {m.group(1): m.group(2) for m in _MAKE_VAR.finditer(text)}

    def expand(value: str) -> str:
        for _ in range(5):
            new = _VAR_REF.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), value)
            if new == value:
                break
            value = new
        return value

    return _script_builds(rel, text, expand, base, "script")


def build_command_words(line: str) -> list[str] | None:
    """The words after ``docker build`` (or podman/buildah) on one logical shell line, or None."""
    match = _BUILD_CMD.search(line)
    if match is None:
        return None
    tail = line[match.end() :]
    tail = re.split(r"\s(?:&&|\|\||;|\|)\s", tail, maxsplit=1)[0]
    try:
        return shlex.split(tail, comments=True)
    except ValueError:
        return None


def parse_build_args(words: list[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """(tags, dockerfile, target, positional words) of ``docker build`` arguments."""
    tags, dockerfile, target, positional = [], None, None, []
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, inline = word.partition("=")
        takes = name in (
            "-t",
            "--tag",
            "-f",
            "--file",
            "--target",
            "--build-arg",
            "--platform",
            "--label",
            "--secret",
            "--ssh",
            "--cache-from",
            "--cache-to",
            "-o",
            "--output",
            "--network",
            "--progress",
            "--iidfile",
            "--layers",
            "--format",
            "--build-context",
        )
        value = inline if eq else (words[i + 1] if takes and i + 1 < len(words) else None)
        if name in ("-t", "--tag") and value:
            tags.append(value)
        elif name in ("-f", "--file") and value:
            dockerfile = value
        elif name == "--target" and value:
            target = value
        elif not word.startswith("-"):
            positional.append(word)
        i += 1 if (eq or not takes) else 2
    return tags, dockerfile, target, positional


def _script_builds(
    rel: str, text: str, expand: Callable[[str], str], base: str, source: str, line_offset: int = 0, spans: bool = True
) -> list[Link]:
    """Links from ``docker build`` lines of ``text`` (``rel``'s text, or a part of it starting
    ``line_offset`` lines in); paths are relative to ``base``."""
    links = []
    for line_no, start, line in _logical_lines(text):
        words = build_command_words(line)
        if words is None:
            continue
        tags, dockerfile, target, positional = parse_build_args(words)
        if not tags or not positional:
            continue
        context_raw = expand(positional[-1])
        if "$" in context_raw or "://" in context_raw or context_raw == "-":
            continue
        # make and most scripts run from their own directory
        context = _norm(base, context_raw)
        file_rel = _norm(base, expand(dockerfile)) if dockerfile else _norm(context, "Dockerfile")
        if "$" in file_rel or not _inside(context) or not _inside(file_rel):
            continue
        for tag in tags:
            image = expand(tag)
            if "$" in _strip_templated_tag(image) and source == "script":
                continue
            at = text.find(tag, start)
            span = (rel, at, at + len(tag)) if at != -1 and tag == image and spans else None
            links.append(Link(image, file_rel, context, source, f"{rel}:{line_no + line_offset}", target, span))
    return links


def _lines_or_csv(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r"[,\n]", value) if p.strip()]


def _from_workflow(rel: str, text: str) -> list[Link]:
    links = []
    for doc in _load_all(text):
        jobs = doc.get("jobs") if isinstance(doc, dict) else None
        if not isinstance(jobs, dict):
            continue
        for job in jobs.values():
            steps = job.get("steps") if isinstance(job, dict) else None
            if not isinstance(steps, list):
                continue
            meta = {}
            for step in steps:
                if isinstance(step, dict) and str(step.get("uses", "")).startswith("docker/metadata-action") and step.get("id"):
                    meta[step["id"]] = _lines_or_csv((step.get("with") or {}).get("images"))
            for step in steps:
                if not isinstance(step, dict) or not str(step.get("uses", "")).startswith("docker/build-push-action"):
                    continue
                options = step.get("with")
                if not isinstance(options, dict):
                    options = {}
                context_raw = str(options.get("context") or ".")
                if "${{" in context_raw or "://" in context_raw:
                    continue
                context = _norm(context_raw)
                file_raw = options.get("file")
                dockerfile = _norm(str(file_raw)) if file_raw else _norm(context, "Dockerfile")
                if "${{" in dockerfile or not _inside(context):
                    continue
                images = []
                for tag in _lines_or_csv(options.get("tags")):
                    found = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}", tag)
                    if found:
                        images += [i.split(",")[0].split()[0] for i in meta.get(found.group(1), [])]
                    else:
                        images.append(tag)
                line = step.line_of("uses") if hasattr(step, "line_of") else 0
                for image in images:
                    if "${{" in _strip_templated_tag(image):
                        continue
                    links.append(Link(image, dockerfile, context, "workflow", f"{rel}:{line}", options.get("target")))
    return links


def _kustomize_aliases(rel: str, text: str) -> list[tuple[str, str, str]]:
    out = []
    for doc in _load_all(text):
        images = doc.get("images") if isinstance(doc, dict) else None
        for item in images or []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            new = str(item.get("newName") or item["name"])
            if item.get("newTag"):
                new += f":{item['newTag']}"
            if new != item["name"]:
                out.append((item["name"], new, f"{rel}:{getattr(item, 'line', 0)}"))
    return out


def _from_directories(dockerfiles: list[str]) -> list[Link]:
    """Links keyed by a directory (or ``Dockerfile.<name>``) name, matched on the image's last
    path component at lookup time."""
    links = []
    for rel in dockerfiles:
        directory = posixpath.dirname(rel)
        name = posixpath.basename(rel)
        lower = name.lower()
        stem = None
        if lower in ("dockerfile", "containerfile"):
            stem = posixpath.basename(directory) if directory else None
        elif lower.startswith(("dockerfile.", "containerfile.")):
            stem = name.split(".", 1)[1]
        elif lower.endswith((".dockerfile", ".containerfile")):
            stem = name.rsplit(".", 1)[0]
        if not stem:
            continue
        stem = stem.lower()
        if parse_image_ref(stem) is None:
            continue
        links.append(Link(stem, rel, directory or ".", "directory", rel))
    # an ambiguous name (two Dockerfiles in directories called 'api') links nothing
    counts: dict[str, int] = {}
    for link in links:
        counts[link.image] = counts.get(link.image, 0) + 1
    return [l for l in links if counts[l.image] == 1]


def _directory_match(link: Link, ref: ImageRef) -> bool:
    """The directory heuristic compares the image's last path component only."""
    return ref.repository.rsplit("/", 1)[-1] == link.image
