"""A daemon-free builder for the FROM-scratch subset of Dockerfiles (docs/architecture.md, "Building and proving").

Supported: ``FROM scratch`` as the final stage; ``FROM <image> AS name`` stages used only as
``COPY --from`` sources (read from an OCI layout, a ``docker save`` archive or a registry);
``COPY``/``ADD`` of local files (``--from``, ``--chmod`` octal, ``--chown`` numeric, ``--link``),
``LABEL``, ``ARG``, ``ENV``, ``WORKDIR``, ``USER``, ``CMD``, ``ENTRYPOINT``, ``EXPOSE``.
Anything that needs to run a program (``RUN``) or a base other than scratch is refused with
the reason; the docker SDK builds those when a daemon is reachable (``--docker``).
One layer per COPY/ADD, entries sorted, mtime 0: the same inputs give the same digest.
Each layer is streamed into the layout as it is built (tar, compression and sha256 in one
pass): file bodies are never held in memory, whatever their size.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import os
import stat
import posixpath
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pathspec
from pathspec.pattern import Pattern

from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, expand_args, parse_dockerfile
from migrate_tui.oci.layout import BodyChanged, Descriptor, FileEntry, Layout, WrittenLayer, write_image, write_layer
from migrate_tui.oci.tree import Tree, resolve, resolve_hardlinks, subtree


TreeOpener = Callable[[str, tuple[str, ...]], Tree]  # (image, paths whose file bodies are needed) -> its tree


class BuildError(Exception):
    """The Dockerfile is outside the supported subset, or an input is missing: one line."""


@dataclass
class BuildResult:
    descriptor: Descriptor
    layout: Layout
    tag: str
    layers: int
    files: int
    labels: dict[str, str] = field(default_factory=dict)


def _dockerignore(context: Path, dockerfile: Path) -> pathspec.PathSpec[Pattern]:
    for candidate in (dockerfile.with_name(dockerfile.name + ".dockerignore"), context / ".dockerignore"):
        if candidate.is_file():
            lines = [l.strip() for l in candidate.read_text().splitlines() if l.strip() and not l.startswith("#")]
            return pathspec.PathSpec.from_lines("gitignore", lines)
    return pathspec.PathSpec.from_lines("gitignore", [])


def _mode(flag_value: str | None, default: int) -> int:
    if flag_value is None:
        return default
    try:
        return int(flag_value, 8)
    except ValueError:
        raise BuildError(f"--chmod={flag_value}: only octal modes are supported") from None


def _owner(flag_value: str | None) -> tuple[int, int]:
    if flag_value is None:
        return 0, 0
    user, _, group = flag_value.partition(":")
    try:
        uid = int(user)
        return uid, int(group) if group else uid
    except ValueError:
        raise BuildError(f"--chown={flag_value}: a FROM scratch image has no /etc/passwd; use numeric ids") from None


MAX_SYMLINK_HOPS = 40  # as Linux's MAXSYMLINKS


def _lexical_source(pattern: str) -> str:
    """The source relative to the context; ``..`` that leaves the context is refused."""
    rel = posixpath.normpath(pattern.lstrip("/")) if pattern.strip("/.") else "."
    if rel == ".." or rel.startswith("../"):
        raise BuildError(f"COPY {pattern}: outside the build context (sources can't climb out with '..')")
    return "" if rel == "." else rel


def resolve_in_context(root: Path, rel: str) -> str:
    """``rel`` with every symlink followed as if ``root`` were ``/`` (BuildKit's rule).

    An absolute link target starts again at the context root; ``..`` stops at it. The result
    is a relative path inside ``root`` ("" is the root), whether or not it exists.
    """
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise BuildError(f"COPY {rel}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return "/".join(resolved)


def _walk(root: Path, rel: str, depth: int | None = None) -> list[str]:
    """Relative paths below ``rel`` (not ``rel`` itself), sorted; symlinks are listed, never entered."""
    out: list[str] = []
    base = root / rel if rel else root
    for current, dirs, files in os.walk(base, followlinks=False):
        prefix = Path(current).relative_to(root).as_posix()
        prefix = "" if prefix == "." else prefix
        level = prefix.count("/") + 1 if prefix else 0
        for name in dirs + files:
            out.append(f"{prefix}/{name}" if prefix else name)
        if depth is not None and level + 1 >= depth:
            dirs[:] = []
    return sorted(out)


def _glob_match(rel: str, pattern: str) -> bool:
    """Go's filepath.Match per path segment: ``*`` never crosses a ``/`` (as in Docker)."""
    names, parts = rel.split("/"), pattern.split("/")
    return len(names) == len(parts) and all(fnmatch.fnmatchcase(n, p) for n, p in zip(names, parts))


def _context_entries(context: Path, ignore: pathspec.PathSpec[Pattern], pattern: str) -> list[tuple[str, str, Path]]:
    """(name as matched, resolved relative path, absolute path) of context sources matching ``pattern``,
    each resolved inside the context."""
    root = Path(os.path.realpath(context))
    rel = _lexical_source(pattern)
    if any(ch in rel for ch in "*?["):
        names = [n for n in _walk(root, "", depth=rel.count("/") + 1) if _glob_match(n, rel) and not ignore.match_file(n)]
        if not names:
            raise BuildError(f"COPY {pattern}: no source files were specified (nothing in the build context matches)")
    else:
        names = [rel]
    out = []
    for name in names:
        inside = resolve_in_context(root, name)
        path = root / inside if inside else root
        if not path.exists() and not path.is_symlink():
            via = f" (a symlink that resolves to /{inside} inside the build context)" if inside != name else ""
            raise BuildError(f"COPY {pattern}: {name or '.'} not found in the build context {context}{via}")
        out.append((name, inside, path))
    return out


def _files_under(context: Path, ignore: pathspec.PathSpec[Pattern], rel: str, path: Path) -> list[tuple[str, Path]]:
    """(path below the source, absolute path) of what a directory source copies; links are copied as links."""
    if not path.is_dir() or path.is_symlink():
        return [("", path)]
    root = Path(os.path.realpath(context))
    out = []
    for child_rel in _walk(root, rel):
        if ignore.match_file(child_rel):
            continue
        inner = child_rel[len(rel) + 1 :] if rel else child_rel
        out.append((inner, root / child_rel))
    return out


LEVELS = {"gzip": range(1, 10), "zstd": range(1, 23)}


def build(
    dockerfile: Path,
    context: Path,
    *,
    tag: str,
    output: Path,
    build_args: dict[str, str] | None = None,
    open_tree: TreeOpener | None = None,
    architecture: str = "amd64",
    compression: str = "gzip",
    level: int | None = None,
) -> BuildResult:
    if compression not in LEVELS:
        raise BuildError(f"--compression {compression}: use gzip or zstd")
    if level is not None and level not in LEVELS[compression]:
        span = LEVELS[compression]
        raise BuildError(f"--compression-level {level}: {compression} levels are {span.start}..{span.stop - 1}")
    try:
        text = dockerfile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"{dockerfile}: cannot read: {exc}") from None
    parsed = parse_dockerfile(text, build_args)
    if parsed.errors:
        line, message = parsed.errors[0]
        raise BuildError(f"{dockerfile}:{line}: {message}")
    if not parsed.stages:
        raise BuildError(f"{dockerfile}: no FROM")
    final = parsed.stages[-1]
    if final.base_resolved.lower() != "scratch":
        raise BuildError(
            f"{dockerfile}:{final.from_instruction.line}: the final stage is FROM {final.base_resolved}; "
            "only FROM scratch builds without a daemon (use --docker)"
        )
    ignore = _dockerignore(context, dockerfile)
    env = {name: default for name, default in parsed.global_args}
    env.update(build_args or {})
    labels: dict[str, str] = {}
    workdir = "/"
    layout = Layout(output)
    created = not output.exists()
    layers: list[WrittenLayer] = []
    history: list[str] = []
    count = 0
    try:
        for instr in final.instructions:
            count += _instruction(
                dockerfile, parsed, instr, context, ignore, env, labels, layout, layers, history, open_tree, compression, level, workdir
            )
            if instr.keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, expand_args(instr.args.strip(), env)))
    except BaseException:
        _forget(layout, layers, created)
        raise
    if not layers:
        raise BuildError(f"{dockerfile}: the final stage copies nothing")
    desc = write_image(layout, layers, tag=tag, labels=labels, architecture=architecture, history=history)
    return BuildResult(desc, layout, tag, len(layers), count, labels)


def _forget(layout: Layout, layers: list[WrittenLayer], created: bool) -> None:
    """A failed build leaves nothing it wrote behind: the output directory it created, or the new
    layer blobs in one that was there (untagged blobs nobody refers to)."""
    if created:
        shutil.rmtree(layout.path, ignore_errors=True)
        return
    for layer in layers:
        if layer.new:
            with contextlib.suppress(OSError):
                layout.blob_path(layer.descriptor.digest).unlink()


def _instruction(
    dockerfile: Path,
    parsed: Dockerfile,
    instr: Instruction,
    context: Path,
    ignore: pathspec.PathSpec[Pattern],
    env: dict[str, str | None],
    labels: dict[str, str],
    layout: Layout,
    layers: list[WrittenLayer],
    history: list[str],
    open_tree: TreeOpener | None,
    compression: str,
    level: int | None,
    workdir: str,
) -> int:
    """Apply one instruction of the final stage; a COPY/ADD streams its layer into ``layout``. Returns its entry count."""
    keyword = instr.keyword
    if keyword in ("COPY", "ADD"):
        entries = _copy_entries(parsed, instr, context, ignore, workdir, env, open_tree)
        if keyword == "ADD" and any(e.path.endswith((".tar", ".tar.gz", ".tgz", ".tar.xz")) for e in entries):
            raise BuildError(f"{dockerfile}:{instr.line}: ADD of a local archive unpacks it; use COPY or unpack it first")
        try:
            layers.append(write_layer(layout, entries, compression=compression, level=level))
        except BodyChanged as exc:
            raise BuildError(f"{dockerfile}:{instr.line}: {exc}; build again") from None
        except OSError as exc:
            raise BuildError(f"{dockerfile}:{instr.line}: cannot write the layer: {exc}") from None
        history.append(f"{keyword} {instr.args}".strip())
        return len(entries)
    if keyword == "LABEL":
        for key, value in _pairs(instr.args, env):
            if value is not None:  # always: a LABEL word without "=" is skipped
                labels[key] = value
    elif keyword == "ARG":
        for key, value in _pairs(instr.args, env, allow_bare=True):
            env.setdefault(key, value)
    elif keyword in ("WORKDIR", "ENV", "USER", "CMD", "ENTRYPOINT", "EXPOSE", "STOPSIGNAL"):
        pass  # WORKDIR is followed by the caller; an image volume ignores the runtime config
    else:
        raise BuildError(f"{dockerfile}:{instr.line}: {keyword} needs a daemon (a FROM scratch image has nothing to run it)")
    return 0


def _pairs(args: str, env: dict[str, str | None], allow_bare: bool = False) -> list[tuple[str, str | None]]:
    """``KEY=VALUE`` words, values expanded; a bare ``KEY`` (``ARG`` only) has the value None."""
    out: list[tuple[str, str | None]] = []
    for word in shlex.split(args, posix=True):
        key, sep, value = word.partition("=")
        if not sep and not allow_bare:
            continue
        out.append((key, expand_args(value, env) if sep else None))
    return out


def _copy_entries(
    parsed: Dockerfile,
    instr: Instruction,
    context: Path,
    ignore: pathspec.PathSpec[Pattern],
    workdir: str,
    env: dict[str, str | None],
    open_tree: TreeOpener | None,
) -> list[FileEntry]:
    words = [expand_args(w, env) for w in (list(instr.json_args) if instr.json_args else shlex.split(instr.args, posix=True))]
    if instr.heredocs:
        raise BuildError(f"line {instr.line}: COPY with a heredoc is not supported")
    if len(words) < 2:
        raise BuildError(f"line {instr.line}: {instr.keyword} needs a source and a destination")
    sources, dest = words[:-1], words[-1]
    dest_is_dir = dest.endswith("/") or len(sources) > 1
    dest = posixpath.normpath(posixpath.join(workdir, dest))
    chmod = instr.flag("chmod")
    chown = instr.flag("chown")
    uid, gid = _owner(chown.value if chown else None)
    from_flag = instr.flag("from")
    entries: list[FileEntry] = []
    if from_flag is not None:
        # only the bodies of the files this COPY takes are kept (spooled to disk by the CLI; plus hard-link targets elsewhere)
        wanted = tuple(sorted({posixpath.normpath("/" + s).lstrip("/") for s in sources}))
        tree = _source_tree(parsed, from_flag.value or "", open_tree, wanted)
        try:  # a source reached through a symlink needs the bodies where the link points
            real = {resolve(tree, "/" + w) for w in wanted}
        except ValueError as exc:
            raise BuildError(f"line {instr.line}: {exc}") from None
        needed = set(wanted) | real
        targets = {n.linkname for p, n in tree.items() if n.kind == "hardlink" and _under(p, needed) and not _under(n.linkname, needed)}
        if targets or not real <= set(wanted):
            tree = _source_tree(parsed, from_flag.value or "", open_tree, tuple(sorted(needed | targets)))
        for source in sources:
            entries += _entries_from_tree(tree, source, dest, dest_is_dir, chmod.value if chmod else None, uid, gid, chown is not None)
        return entries
    for source in sources:
        if source.startswith(("http://", "https://", "git@")):
            raise BuildError(f"line {instr.line}: {instr.keyword} from a URL downloads at build time; not supported")
        matches = _context_entries(context, ignore, source)
        for name, rel, path in matches:
            for inner, file_path in _files_under(context, ignore, rel, path):
                if path.is_dir():
                    target = posixpath.join(dest, inner) if inner else dest
                elif dest_is_dir or len(matches) > 1:
                    target = posixpath.join(dest, posixpath.basename(name) or path.name)
                else:
                    target = dest
                entries.append(_file_entry(target, file_path, chmod.value if chmod else None, uid, gid))
    return entries


def _file_entry(target: str, path: Path, chmod: str | None, uid: int, gid: int) -> FileEntry:
    st = path.lstat()
    rel = target.lstrip("/")
    if path.is_symlink():
        return FileEntry(rel, "symlink", mode=0o777, uid=uid, gid=gid, linkname=os.readlink(path))
    if path.is_dir():
        return FileEntry(rel, "dir", mode=_mode(chmod, st.st_mode & 0o7777 or 0o755), uid=uid, gid=gid)
    if not stat.S_ISREG(st.st_mode):
        raise BuildError(f"COPY: {path} is a device, FIFO or socket; a FROM scratch asset image can't carry it")
    return FileEntry(
        rel,
        "file",
        mode=_mode(chmod, st.st_mode & 0o7777),
        uid=uid,
        gid=gid,
        opener=functools.partial(_open_regular, path),
        size=st.st_size,
    )


def _open_regular(path: Path) -> io.FileIO:
    """The file's body, opened only while its layer is written: never through a symlink, never a FIFO
    or a device swapped in since it was listed."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BodyChanged(f"{path} is no longer a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb", buffering=0)


def _under(path: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(not p or path == p or path.startswith(p + "/") for p in prefixes)


def _source_tree(parsed: Dockerfile, ref: str, open_tree: TreeOpener | None, wanted: tuple[str, ...]) -> Tree:
    stage = parsed.stage(ref)
    image = stage.base_resolved if stage is not None else ref
    if stage is not None and stage.instructions:
        raise BuildError(f"COPY --from={ref}: stage '{ref}' runs instructions; only plain `FROM image AS {ref}` stages are supported")
    if open_tree is None:
        raise BuildError(f"COPY --from={ref}: needs the image {image} (pass --image {image}=oci:DIR or a registry)")
    return open_tree(image, wanted)


def _entries_from_tree(
    tree: Tree, source: str, dest: str, dest_is_dir: bool, chmod: str | None, uid: int, gid: int, owned: bool
) -> list[FileEntry]:
    source = resolve(tree, posixpath.normpath("/" + source))  # BuildKit follows symlinks in a COPY source
    tree = resolve_hardlinks(tree)  # a hardlink becomes the file it names: copied, never dropped
    node = tree.get(source)
    if node is None:
        raise BuildError(f"COPY --from: {source or '/'} is not in the source image")
    if node.kind == "dir":
        branch = subtree(tree, source)
        items = [(rel, n) for rel, n in branch.items() if rel]
        base = dest
    else:
        items = [("", node)]
        base = posixpath.join(dest, posixpath.basename(source)) if dest_is_dir else dest
    out = []
    for rel, n in sorted(items):
        target = (posixpath.join(base, rel) if rel else base).lstrip("/")
        u, g = (uid, gid) if owned else (n.uid, n.gid)
        if n.kind == "dir":
            out.append(FileEntry(target, "dir", mode=_mode(chmod, n.mode), uid=u, gid=g))
        elif n.kind == "symlink":
            out.append(FileEntry(target, "symlink", mode=0o777, uid=u, gid=g, linkname=n.linkname))
        elif n.kind == "file":
            if n.data is None and n.body is None and n.size:
                raise BuildError(f"COPY --from: the content of /{posixpath.join(source, rel) if rel else source} was not loaded")
            if n.body is not None:  # spooled to disk while the source image was read
                out.append(FileEntry(target, "file", mode=_mode(chmod, n.mode), uid=u, gid=g, opener=n.body, size=n.size))
            else:
                out.append(FileEntry(target, "file", data=n.data or b"", mode=_mode(chmod, n.mode), uid=u, gid=g))
        elif n.kind == "hardlink":
            raise BuildError(
                f"COPY --from: /{posixpath.join(source, rel) if rel else source} is a hard link to "
                f"/{n.linkname}, which the source image does not have"
            )
        else:
            raise BuildError(
                f"COPY --from: /{posixpath.join(source, rel) if rel else source} is a device, FIFO or "
                "socket; a FROM scratch asset image can't carry it"
            )
    return out
