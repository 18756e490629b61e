"""Generated pod specs for the verify property: copy forms x mount layouts x image trees.

A scenario is plain data; ``manifest()`` renders it as the block YAML a user writes, ``layers()``
as the init image, and ``expected_extras()`` says which files a correct fix may add for a reader
(the dot-files a glob skipped; the siblings of one copied file when its directory is mounted).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import yaml
from hypothesis import strategies as st

from migrate_tui.oci.layout import FileEntry, make_layer

from .images import BASE

IMAGE = "registry.example.com/generated:1"
SECOND_SOURCE = "/extra"
INIT_MOUNT = "/dst"
FILE = "f.txt"  # always in the tree: the single-file copy copies it

# {S} the source dir, {D} the destination dir (no trailing slash)
FORMS = {
    "cp_r_dot": "cp -r {S}/. {D}/",
    "cp_a_dot": "cp -a {S}/. {D}",
    "cp_r_entry": "cp -r {S} {D}/",
    "cp_r_glob": "cp -r {S}/* {D}/",
    "cp_file": "cp {S}/" + FILE + " {D}/",
    "tar_pipe": "tar -C {S} -cf - . | tar -C {D} -xf -",
    "rsync": "rsync -a {S}/ {D}/",
}


@dataclass(frozen=True)
class Consumer:
    mount_path: str
    sub_path: str
    read_only: bool


@dataclass(frozen=True)
class Scenario:
    source: str  # absolute dir in the image
    tree: tuple[tuple[str, str], ...]  # (path relative to source, kind: file|dir|rel-link|abs-link|dir-link)
    form: str  # a FORMS key
    dest_sub: str  # where under the init mount the copy lands ("" = the mount itself)
    init_sub_path: str  # the init container's own subPath of the volume
    second: str  # "" | "same" (another copy into the same dir) | "beside" (into a dir of its own)
    consumers: tuple[Consumer, ...]
    mode: str
    source_link: str = ""  # "absolute" (/src -> /real/src) or "relative" (/src -> real/src): the source is a symlink

    @property
    def dest(self) -> str:
        return posixpath.join(INIT_MOUNT, self.dest_sub) if self.dest_sub else INIT_MOUNT

    def command(self) -> str:
        parts = [f"mkdir -p {self.dest}"] if self.dest_sub else []
        parts.append(FORMS[self.form].format(S=self.source, D=self.dest))
        if self.second == "same":
            parts.append(f"cp -r {SECOND_SOURCE}/. {self.dest}/")
        elif self.second == "beside":
            parts += [f"mkdir -p {self.dest}/more", f"cp -r {SECOND_SOURCE}/. {self.dest}/more/"]
        return " && ".join(parts)

    def manifest(self) -> str:
        init_mount = {"name": "shared", "mountPath": INIT_MOUNT}
        if self.init_sub_path:
            init_mount["subPath"] = self.init_sub_path
        containers = []
        for i, c in enumerate(self.consumers):
            mount = {"name": "shared", "mountPath": c.mount_path}
            if c.sub_path:
                mount["subPath"] = c.sub_path
            if c.read_only:
                mount["readOnly"] = True
            containers.append({"name": f"reader{i}", "image": f"registry.example.com/reader{i}:1", "volumeMounts": [mount]})
        doc = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "generated"},
            "spec": {
                "selector": {"matchLabels": {"app": "generated"}},
                "template": {
                    "metadata": {"labels": {"app": "generated"}},
                    "spec": {
                        "initContainers": [
                            {"name": "copy", "image": IMAGE, "command": ["sh", "-c", self.command()], "volumeMounts": [init_mount]}
                        ],
                        "containers": containers,
                        "volumes": [{"name": "shared", "emptyDir": {}}],
                    },
                },
            },
        }
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=1000)

    def entries(self) -> list[FileEntry]:
        src = self.source.strip("/")
        out = list(BASE)
        if self.source_link:  # only for a top-level source
            out.append(FileEntry(src, "symlink", mode=0o777, linkname=("/" if self.source_link == "absolute" else "") + "real/" + src))
            src = "real/" + src
        for rel, kind in self.tree:
            path = f"{src}/{rel}"
            if kind == "dir":
                out.append(FileEntry(path, "dir", mode=0o755))
            elif kind == "rel-link":
                out.append(FileEntry(path, "symlink", mode=0o777, linkname=FILE if "/" not in rel else "../" + FILE))
            elif kind == "abs-link":
                out.append(FileEntry(path, "symlink", mode=0o777, linkname="/etc/passwd"))
            elif kind == "dir-link":
                out.append(FileEntry(path, "symlink", mode=0o777, linkname=SUB if "/" not in rel else "../" + SUB))
            else:
                out.append(FileEntry(path, "file", f"{path}\n".encode(), 0o600 if rel.startswith(".") else 0o644))
        out.append(FileEntry(posixpath.dirname(src) + "/beside.txt" if posixpath.dirname(src) else "beside.txt", "file", b"not copied\n"))
        out.append(FileEntry(SECOND_SOURCE.strip("/") + "/second.txt", "file", b"from the second copy\n"))
        out.append(FileEntry(SECOND_SOURCE.strip("/") + "/.second-dot", "file", b"dot of the second copy\n"))
        return out

    def layers(self) -> list[tuple[bytes, bytes]]:
        return [make_layer(self.entries())]

    def all_paths(self) -> list[str]:
        """Every path below the source dir, implicit parent directories included."""
        paths = set()
        for rel, _ in self.tree:
            parts = rel.split("/")
            paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return sorted(paths)

    def expected_extras(self, consumer: Consumer) -> list[str]:
        landing = posixpath.join(self.init_sub_path, self.dest_sub).strip("/")
        if self.form == "cp_r_glob":
            extra = [p for p in self.all_paths() if p.startswith(".")]
        elif self.form == "cp_file" and self.mode == "zero-rebuild":
            extra = [p for p in self.all_paths() if p != FILE]
        else:
            return []
        in_volume = [posixpath.join(landing, p) if landing else p for p in extra]
        sub = consumer.sub_path.strip("/")
        if not sub:
            return sorted(in_volume)
        return sorted(p[len(sub) + 1 :] for p in in_volume if p.startswith(sub + "/"))


_NAMES = st.sampled_from(["a", "b.cfg", ".dot", ".cfgdir", "sub", "z.txt"])
SUB = "sub"  # always a directory of the tree: readers may mount it by subPath
_CHILD = st.sampled_from(["x", ".y", "z.txt"])
_KINDS = st.sampled_from(["file", "file", "dir", "rel-link", "abs-link", "dir-link"])


@st.composite
def trees(draw) -> tuple[tuple[str, str], ...]:
    raw = draw(st.lists(st.tuples(_NAMES, st.one_of(st.none(), _CHILD), _KINDS), max_size=5))
    tree: dict[str, str] = {FILE: "file", SUB: "dir", f"{SUB}/inner.txt": "file"}
    for name, child, kind in raw:
        if name in tree and tree[name] != "dir":
            continue  # a file/link can't have children or be redefined
        if child is None:
            tree.setdefault(name, kind)
        else:
            tree[name] = "dir"
            tree.setdefault(f"{name}/{child}", kind)
    return tuple(sorted(tree.items()))


@st.composite
def scenarios(draw) -> Scenario:
    source = draw(st.sampled_from(["/src", "/opt/app/assets"]))
    tree = draw(trees())
    form = draw(st.sampled_from(sorted(FORMS)))
    dest_sub = draw(st.sampled_from(["", "", "sub/dir"]))
    init_sub = draw(st.sampled_from(["", "", "part"]))
    second = draw(st.sampled_from(["", "", "same", "beside"]))
    landing = posixpath.join(init_sub, dest_sub).strip("/")
    entry = posixpath.join(landing, posixpath.basename(source)) if form == "cp_r_entry" else landing
    mode = draw(st.sampled_from(["zero-rebuild", "scratch"]))
    sub_choices = {"", init_sub, landing, entry, posixpath.join(entry, SUB)}
    sub_choices = sorted(sub_choices)
    consumer = st.builds(
        Consumer, st.sampled_from(["/data", "/srv/www", "/usr/share/nginx/html"]), st.sampled_from(sub_choices), st.booleans()
    )
    consumers = draw(st.lists(consumer, min_size=1, max_size=3, unique_by=lambda c: c.mount_path))
    # a top-level source may be a symbolic link in the image (relative or absolute)
    link = draw(st.sampled_from(["", "", "", "relative", "absolute"])) if source.count("/") == 1 else ""
    return Scenario(source, tree, form, dest_sub, init_sub, second, tuple(consumers), mode, link)
