"""Ground truth for verify's BEFORE side: run the init containers' copies for real.

`verify` computes what the copy left in the emptyDir from migrate-tui's own model of the command
(rules/_initcopy.py placements), so a modelling error would fool rule and oracle alike. Here the
init image is unpacked into a root filesystem with busybox-static as its shell and tools, the
emptyDir is a host directory bind-mounted at the init container's mountPath (its subPath created
first, as the kubelet does), and the container's command runs in a chroot inside a user + mount
namespace (`unshare -rm`). The directory it leaves is read back as a tree.

No rsync in busybox: commands that need a program busybox lacks are reported as unavailable.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.oci.tree import Comparison, Node, Tree, compare, resolve_hardlinks
from migrate_tui.proof.verify import volume_tree
from migrate_tui.analysis.initcopy import analyse_pod_spec

BUSYBOX = shutil.which("busybox")
APPLETS = ("sh", "ash", "cp", "tar", "mkdir", "ls", "echo", "cat", "true", "set", "test", "[", "sleep", "chmod", "env")


def available() -> bool:
    """busybox-static and an unprivileged user + mount namespace."""
    if not BUSYBOX or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


def needs_missing_program(argv: list[str]) -> str | None:
    text = " ".join(argv)
    return "rsync" if "rsync" in text else None


def unpack(tree: Tree, root: Path) -> None:
    """Write an image tree (from ``oci.tree.apply_layers``) as a root filesystem, then busybox."""
    for path in sorted(tree):
        node = tree[path]
        target = root / path if path else root
        if node.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif node.kind == "symlink":
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(node.linkname, target)
        elif node.kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(node.data or b"")
    for path in sorted(tree, reverse=True):  # modes last (a 0o500 dir would refuse its children)
        node = tree[path]
        if node.kind in ("dir", "file"):
            os.chmod(root / path if path else root, node.mode | (0o700 if node.kind == "dir" else 0o600))
    bin_dir = root / "bin"
    if bin_dir.is_symlink() or (bin_dir.exists() and not bin_dir.is_dir()):
        bin_dir.unlink()
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BUSYBOX, bin_dir / "busybox")
    os.chmod(bin_dir / "busybox", 0o755)
    for applet in APPLETS:
        link = bin_dir / applet
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink("busybox", link)
    (bin_dir / "bash").unlink(missing_ok=True)
    (bin_dir / "bash").write_text('#!/bin/sh\nexec /bin/sh "$@"\n')
    os.chmod(bin_dir / "bash", 0o755)


def run_init(root: Path, volume: Path, mount_path: str, sub_path: str, argv: list[str], working_dir: str | None) -> None:
    """Run ``argv`` chrooted in ``root`` with ``volume`` (+subPath) mounted at ``mount_path``."""
    source = volume / sub_path if sub_path else volume
    source.mkdir(parents=True, exist_ok=True)
    target = root / mount_path.strip("/")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    target.mkdir(parents=True, exist_ok=True)
    inner = " ".join(shlex.quote(a) for a in argv)
    if working_dir:
        inner = f"cd {shlex.quote(working_dir)} && exec {inner}"
    script = (
        f"mount --bind {shlex.quote(str(source))} {shlex.quote(str(target))} && "
        f"exec chroot {shlex.quote(str(root))} /bin/sh -c {shlex.quote(inner)}"
    )
    env = {"PATH": "/bin:/usr/bin:/sbin:/usr/sbin", "HOME": "/"}
    done = subprocess.run(["unshare", "-rm", "/bin/sh", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"init command failed ({done.returncode}): {argv}: {done.stderr.strip()}")


def read_tree(directory: Path) -> Tree:
    """The directory as a tree: kinds, sizes, digests, link targets (modes and owners kept as read)."""
    tree: Tree = {"": Node("dir", 0o755, 0, 0)}
    for current, dirs, files in os.walk(directory):
        for name in sorted(dirs + files):
            full = Path(current) / name
            rel = full.relative_to(directory).as_posix()
            st = full.lstat()
            mode = st.st_mode & 0o7777
            if full.is_symlink():
                tree[rel] = Node("symlink", mode, 0, 0, linkname=os.readlink(full))
            elif full.is_dir():
                tree[rel] = Node("dir", mode, 0, 0)
            else:
                data = full.read_bytes()
                tree[rel] = Node("file", mode, 0, 0, len(data), "sha256:" + hashlib.sha256(data).hexdigest())
        dirs[:] = [d for d in dirs if not (Path(current) / d).is_symlink()]
    return tree


def container_argv(container: dict) -> list[str]:
    command = [str(c) for c in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    return command + args


def executed_volume(spec: dict, volume_name: str, init_indices: set[int], trees: dict[str, Tree], work: Path) -> Tree:
    """Run the init containers ``init_indices`` of ``spec`` in order, all writing one emptyDir
    ``volume_name``; return what they left."""
    volume = work / "emptydir"
    volume.mkdir(parents=True)
    for index, init in enumerate(spec.get("initContainers") or []):
        if index not in init_indices:
            continue
        mount = next(m for m in init.get("volumeMounts") or [] if m.get("name") == volume_name)
        root = work / f"rootfs-{index}"
        unpack(trees[str(init.get("image"))], root)
        run_init(
            root, volume, str(mount["mountPath"]), str(mount.get("subPath") or "").strip("/"), container_argv(init), init.get("workingDir")
        )
    return read_tree(volume)


def unfilled_directories(documents: list[dict]) -> list[str]:
    """Volume paths of the empty directories an unsafe fix says `mkdir -p` makes and no copy
    fills (its stated assumption), relative to the volume root."""
    import posixpath
    import re

    out = []
    for doc in documents:
        for ref in find_pod_specs(doc):
            for flow in analyse_pod_spec(ref.spec):
                for assumption in flow.unsafe:
                    for path in re.findall(r"creates (/\S+), which no copy fills", assumption):
                        rel = posixpath.relpath(path, flow.dest_root)
                        out.append(posixpath.join(flow.init_sub_path, rel) if flow.init_sub_path else rel)
    return out


def model_against_execution(documents: list[dict], trees: dict[str, Tree], work: Path) -> list[tuple[str, Comparison]]:
    """For every copied emptyDir: verify's BEFORE tree (``oci.verify.volume_tree``, from the
    placements) against the tree the real commands leave. Copies that need rsync are skipped."""
    out = []
    for d, doc in enumerate(documents):
        for s, ref in enumerate(find_pod_specs(doc)):
            flows = [f for f in analyse_pod_spec(ref.spec) if f.placements and not f.fills]
            by_volume: dict[str, list] = {}
            for flow in flows:
                by_volume.setdefault(flow.name, []).append(flow)
            for name, group in by_volume.items():
                if any(needs_missing_program(container_argv(f.init)) or f.manual for f in group):
                    continue  # no rsync here; a command judged manual may not even run
                model = volume_tree(group, lambda ref_: trees[ref_])
                real = executed_volume(ref.spec, name, {f.init_index for f in group}, trees, work / f"{d}-{s}-{name}")
                out.append((f"{ref.owner} volume {name}", compare(resolve_hardlinks(model), real)))
    return out
