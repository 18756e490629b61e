"""Proof next to the change: run the ``verify`` comparison on one change-set, before it is written.

For an IV001 fix, the manifest as scanned and the manifest as the fix leaves it go through
``verify_documents`` with the images the user made reachable (``--image REF=SOURCE``, config
``oci-layouts`` entries ``IMAGE=DIR``; their configs too, for what an init container without a
command runs); nothing else is fetched. The outcome is a typed
``Proof``. A proof can only lower a fix's applicability, never raise it:

- every reader sees the same files and nothing more: the fix stays as it is, with the proof;
- the readers see the same files plus files they did not see before (dot-files a glob skipped,
  siblings of a single copied file): a safe fix becomes unsafe, the files named;
- a file is missing or different: the fix becomes manual, the differences named;
- an image is not reachable: "not proven", and the fix stays as the rules judged it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from migrate_tui.model.findings import Applicability, Finding
from migrate_tui.parse.yamldoc import YamlDocument, load_documents
from migrate_tui.oci.tree import Tree
from migrate_tui.proof.verify import ReaderResult, TreeLoader, verify_documents

EXTRA_SHOWN = 5


class ProofKind(str, Enum):
    PROVEN = "proven"  # every reader sees the same files, nothing more
    PROVEN_WITH_EXTRA = "proven-with-extra"  # same files, plus files the readers did not see before
    DIFFERENT = "different"  # a file is missing or differs
    UNREACHABLE = "unreachable"  # an image (or the manifest) could not be read: not proven
    NOT_APPLICABLE = "not-applicable"  # not an image-volume change-set


@dataclass(frozen=True)
class ReaderProof:
    owner: str
    container: str
    mount_path: str
    files: int
    missing: tuple[str, ...] = ()
    different: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    mode_only: tuple[str, ...] = ()
    problem: str | None = None

    def sentence(self) -> str:
        where = f"'{self.container}' at {self.mount_path}"
        if self.problem:
            return f"{where}: {self.problem}"
        if self.missing or self.different:
            parts = [f"{len(self.missing)} missing" if self.missing else "", f"{len(self.different)} different" if self.different else ""]
            shown = [f"/{p}" for p in (self.missing + self.different)[:EXTRA_SHOWN]]
            return f"{where}: {', '.join(p for p in parts if p)} ({', '.join(shown)})"
        text = f"{where}: {self.files} {'entry' if self.files == 1 else 'entries'} identical"
        if self.extra:
            text += (
                f", {len(self.extra)} more visible after ({', '.join('/' + p for p in self.extra[:EXTRA_SHOWN])}"
                + (", …" if len(self.extra) > EXTRA_SHOWN else "")
                + ")"
            )
        if self.mode_only:
            text += f", {len(self.mode_only)} with another mode/owner"
        return text


@dataclass(frozen=True)
class Proof:
    kind: ProofKind
    readers: tuple[ReaderProof, ...] = ()
    detail: str = ""

    def summary(self) -> str:
        if self.kind is ProofKind.UNREACHABLE:
            return f"not proven: {self.detail}"
        if self.kind is ProofKind.NOT_APPLICABLE:
            return f"not proven: {self.detail}"
        label = {
            ProofKind.PROVEN: "proven",
            ProofKind.PROVEN_WITH_EXTRA: "proven, with extra files",
            ProofKind.DIFFERENT: "verify found differences",
        }[self.kind]
        return f"{label}: " + "; ".join(r.sentence() for r in self.readers)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "summary": self.summary(), "readers": [dataclasses.asdict(r) for r in self.readers]}


def _reader(result: ReaderResult) -> ReaderProof:
    c = result.comparison
    if c is None:
        return ReaderProof(result.owner, result.container, result.mount_path, 0, problem=result.problem or "not compared")
    return ReaderProof(
        result.owner,
        result.container,
        result.mount_path,
        c.same,
        tuple(c.missing),
        tuple(c.different),
        tuple(c.extra),
        tuple(c.mode_only),
        result.problem,
    )


class ImageUnreachable(Exception):
    """No source was given for an image, or the given one can't be opened."""


def offline_loader(
    pairs: list[str], oci_layouts: tuple[str, ...] = (), *, root: str | os.PathLike[str] | None = None, platform: str = "linux/amd64"
) -> TreeLoader:
    """Images only from what the user named: ``REF=SOURCE`` pairs (``oci:DIR[:TAG]``,
    ``docker-archive:FILE``, or a registry reference, as ``verify --image`` takes them) and
    config ``oci-layouts`` entries ``IMAGE=DIR`` (the reference's tag looked up in DIR).
    Anything else is unreachable: proving never fetches an image nobody named."""
    from pathlib import Path

    from migrate_tui.parse.imageref import parse_image_ref
    from migrate_tui.oci.layout import LayoutError
    from migrate_tui.oci.registry import RegistryError
    from migrate_tui.oci.source import SourceError, open_image
    from migrate_tui.oci.tree import apply_layers
    from migrate_tui.proof.verify import image_loader

    explicit: dict[str, str] = {}
    for pair in pairs:
        ref, sep, source = pair.partition("=")
        if not sep or not ref or not source:
            raise ValueError(f"--image {pair}: use REF=oci:DIR[:TAG], REF=docker-archive:FILE or REF=REF (its registry)")
        explicit[ref] = source
    layouts: list[tuple[str, Path]] = []
    for entry in oci_layouts:
        image, sep, directory = str(entry).rpartition("=")
        if sep and image:
            path = Path(directory)
            layouts.append((image, path if path.is_absolute() or root is None else Path(root) / path))

    def source_for(reference: str) -> str:
        if reference in explicit:
            return explicit[reference]
        ref = parse_image_ref(reference)
        for image, directory in layouts:
            wanted = parse_image_ref(image)
            if ref is not None and wanted is not None and wanted.same_repository(ref):
                tag = ref.tag or "latest"
                return f"oci:{directory}:{tag}"
        raise ImageUnreachable(f"no source for {reference} (pass --image {reference}=oci:DIR[:TAG])")

    def open_tree(reference: str) -> Tree:
        source = source_for(reference)
        try:
            return apply_layers(open_image(source, platform=platform).layers())
        except (SourceError, LayoutError, RegistryError, OSError) as exc:
            raise ImageUnreachable(f"{reference} from {source}: {exc}") from None

    def open_config(reference: str) -> dict[str, Any]:
        source = source_for(reference)
        try:
            return open_image(source, platform=platform).config
        except (SourceError, LayoutError, RegistryError, OSError) as exc:
            raise ImageUnreachable(f"{reference} from {source}: {exc}") from None

    return image_loader(open_tree, open_config, (ImageUnreachable,))


def prove(
    finding: Finding, read: Callable[[str], str | None], load: TreeLoader, errors: tuple[type[BaseException], ...] = (ImageUnreachable,)
) -> Proof:
    """Run ``verify`` on the manifest before and after ``finding``'s fix (nothing is written)."""
    from migrate_tui.write.writer import apply_edits

    fix = finding.fix
    if finding.rule != "IV001" or fix is None or fix.applicability is Applicability.MANUAL:
        return Proof(ProofKind.NOT_APPLICABLE, detail="only an IV001 image-volume fix can be proven")
    path = finding.location.path
    before = read(path)
    if before is None:
        return Proof(ProofKind.UNREACHABLE, detail=f"{path} could not be read")
    after = apply_edits(before, [e for e in fix.edits if e.path == path])
    before_docs = [d.data for d in load_documents(before) if isinstance(d, YamlDocument)]
    after_docs = [d.data for d in load_documents(after) if isinstance(d, YamlDocument)]
    readers: list[ReaderProof] = []
    try:
        for index, doc in enumerate(before_docs):
            if not isinstance(doc, dict) or index >= len(after_docs) or doc == after_docs[index]:
                continue
            readers += [_reader(r) for r in verify_documents(doc, after_docs[index], load)]
    except errors as exc:  # an image we were not given, or one that can't be opened
        return Proof(ProofKind.UNREACHABLE, detail=_one_line(str(exc)))
    if not readers:
        return Proof(ProofKind.NOT_APPLICABLE, detail="no reader of the copied volume to compare")
    if any(r.problem or r.missing or r.different for r in readers):
        return Proof(ProofKind.DIFFERENT, tuple(readers))
    if any(r.extra for r in readers):
        return Proof(ProofKind.PROVEN_WITH_EXTRA, tuple(readers))
    return Proof(ProofKind.PROVEN, tuple(readers))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def sharpen(finding: Finding, proof: Proof) -> Finding:
    """The finding with its fix judged by the proof (never raised above what the rules said)."""
    data = dict(finding.data or {})
    data["proof"] = proof.as_json()
    notes = finding.notes + (proof.summary(),)
    fix = finding.fix
    if fix is None or proof.kind in (ProofKind.PROVEN, ProofKind.UNREACHABLE, ProofKind.NOT_APPLICABLE):
        return dataclasses.replace(finding, data=data, notes=notes)
    if proof.kind is ProofKind.PROVEN_WITH_EXTRA:
        extra = sorted({p for r in proof.readers for p in r.extra})
        shown = ", ".join("/" + p for p in extra[:EXTRA_SHOWN]) + (", …" if len(extra) > EXTRA_SHOWN else "")
        assumption = (
            f"the image volume shows {len(extra)} file(s) the readers did not see in the emptyDir ({shown}); "
            "this assumes the app ignores them"
        )
        if fix.assumption:
            assumption = f"{fix.assumption}; and {assumption}"
        new_fix = dataclasses.replace(fix, applicability=Applicability.UNSAFE, assumption=assumption)
        return dataclasses.replace(finding, fix=new_fix, data=data, notes=notes)
    blocked = proof.summary()  # "verify found differences: …"
    new_fix = dataclasses.replace(fix, applicability=Applicability.MANUAL)
    return dataclasses.replace(finding, fix=new_fix, data=data, notes=notes, fix_blocked=blocked)
