"""DF002 in compose mode (``certs-tzdata = "volumes"``): the static binary ships ``FROM scratch``
and every workload that runs the image mounts CA certificates and time zones as image volumes.

The change-set spans the Dockerfile (base → ``scratch``, the certs/tzdata install dropped, an
``/etc/passwd`` line for the ``USER`` written in a build stage) and every linked manifest (two
image volumes, read-only mounts at ``/etc/ssl/certs`` and ``/usr/share/zoneinfo`` in each
container running the image, and the environment the binary's runtime needs to find them).

What each runtime reads, hence the environment added (nothing is added when the runtime already
looks at the mounted paths):

- Go (``crypto/x509``, ``time``): ``$SSL_CERT_FILE``/``$SSL_CERT_DIR`` if set, else
  ``/etc/ssl/certs/ca-certificates.crt`` and the directory ``/etc/ssl/certs``; time zones from
  ``$ZONEINFO`` (a zip), else ``/usr/share/zoneinfo``: no environment needed.
- Rust on musl: ``rustls-native-certs``/``openssl-probe`` honour ``SSL_CERT_FILE``/``SSL_CERT_DIR``
  and a vendored OpenSSL looks under its own ``OPENSSLDIR``: both are set; musl and ``chrono``
  read ``/usr/share/zoneinfo``.
- C/C++ linked ``-static``: OpenSSL uses its compiled-in ``OPENSSLDIR`` (``/usr/lib/ssl`` on
  Debian, absent from scratch) unless ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are set; glibc honours
  ``TZDIR``: all three are set.

A binary that doesn't tell (no ``ca-certificates``/``tzdata`` install in the stage) gets both
volumes: it may have relied on neither, but a missing certificate bundle only shows at the first
TLS call in production.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from migrate_tui.analysis.context import PodSpecSubject, RuleContext
from migrate_tui.parse.imageref import ImageRef, parse_image_ref
from migrate_tui.model.findings import Diagnostic, Edit, Location
from migrate_tui.repo.sources import SourceFile
from migrate_tui.parse.dockerfile.parser import Dockerfile, Instruction, Stage
from migrate_tui.analysis import stages as dfx
from migrate_tui.parse.yamldoc import Chunk, YamlPath
from migrate_tui.repo.discover import FileKind

CERTS_DIR = "/etc/ssl/certs"
CERTS_FILE = "/etc/ssl/certs/ca-certificates.crt"
ZONEINFO_DIR = "/usr/share/zoneinfo"
CERTS_VOLUME = "ca-certificates"
TZDATA_VOLUME = "tzdata"


class Need(Enum):
    CERTS = "certs"
    TZDATA = "tzdata"


class Runtime(Enum):
    GO = "go"
    RUST_MUSL = "rust-musl"
    C_STATIC = "c-static"


# Environment each runtime needs to find the mounted files (see the module docstring).
RUNTIME_ENV: dict[Runtime, dict[Need, tuple[tuple[str, str], ...]]] = {
    Runtime.GO: {Need.CERTS: (), Need.TZDATA: ()},
    Runtime.RUST_MUSL: {Need.CERTS: (("SSL_CERT_FILE", CERTS_FILE), ("SSL_CERT_DIR", CERTS_DIR)), Need.TZDATA: ()},
    Runtime.C_STATIC: {Need.CERTS: (("SSL_CERT_FILE", CERTS_FILE), ("SSL_CERT_DIR", CERTS_DIR)), Need.TZDATA: (("TZDIR", ZONEINFO_DIR),)},
}
_COMPOSE_NAMES = re.compile(r"(docker-)?compose(\.[\w-]+)?\.ya?ml\Z")
# (as the manifest writes it, parsed, whether it is a kustomize alias) of an image the stage builds
_Linked = tuple[str, ImageRef, bool]
# need -> (volume name, mount path, image reference: set, or plan() refused)
_Mounts = dict[Need, tuple[str, str, str | None]]
# container groups and indices of one pod spec that run a linked image
_Targets = list[tuple[str, int]]
_VOLUMES = {Need.CERTS: (CERTS_VOLUME, CERTS_DIR, "certs-image"), Need.TZDATA: (TZDATA_VOLUME, ZONEINFO_DIR, "tzdata-image")}


class Refusal(Enum):
    IMAGES_UNSET = "images-unset"
    NAMED_USER = "named-user"
    NO_LINKED_MANIFEST = "no-linked-manifest"
    PLATFORM = "platform"
    VOLUME_NAME_TAKEN = "volume-name-taken"
    MOUNT_PATH_TAKEN = "mount-path-taken"
    REWRITE_REFUSED = "rewrite-refused"
    UNREADABLE_RUNNER = "unreadable-runner"
    COMPOSE_RUNNER = "compose-runner"
    UNEDITED_MENTION = "unedited-mention"
    INVALID = "invalid"


@dataclass(frozen=True)
class Refused:
    kind: Refusal
    detail: str  # the values the sentence names (keys, user, path…)

    def sentence(self) -> str:
        return {
            Refusal.IMAGES_UNSET: f"compose mode needs the image references {self.detail}: set them in [tool.migrate-tui] "
            "(build them with `migrate-tui build --certs` / `--tzdata`)",
            Refusal.NAMED_USER: f"USER {self.detail}: its uid is not known here, so no /etc/passwd line can be written; use a numeric id",
            Refusal.NO_LINKED_MANIFEST: "no manifest in the repository runs an image built from this Dockerfile "
            f"({self.detail}); a FROM scratch image whose certificates and time zones "
            "nobody mounts would lose them",
            Refusal.PLATFORM: self.detail,
            Refusal.VOLUME_NAME_TAKEN: f"{self.detail} already has a volume of that name",
            Refusal.MOUNT_PATH_TAKEN: f"{self.detail}, where an image volume would go; merge them by hand",
            Refusal.REWRITE_REFUSED: self.detail,
            Refusal.UNREADABLE_RUNNER: f"{self.detail}; a workload there could not get the volumes",
            Refusal.UNEDITED_MENTION: f"{self.detail}: it may run the image (Helm values, a templated or flow-style "
            "manifest, an Argo template…) where migrate-tui can't add the volumes; add them by hand",
            Refusal.COMPOSE_RUNNER: f"{self.detail} runs the image with Docker Compose, which has no image volumes; "
            "the FROM scratch image would start there without certificates and time zones",
            Refusal.INVALID: f"the rewritten manifest would not validate: {self.detail}",
        }[self.kind]


@dataclass
class ComposePlan:
    edits: list[Edit] = field(default_factory=list)
    digests: list[tuple[str, str | None]] = field(default_factory=list)
    scopes: list[tuple[str, int, int]] = field(default_factory=list)
    related: list[Location] = field(default_factory=list)
    workloads: list[str] = field(default_factory=list)  # "deploy/api.yaml (Deployment/api)"
    needs: tuple[Need, ...] = ()
    passwd_line: str | None = None
    edited: dict[str, int] = field(default_factory=dict)  # file -> containers given the mounts


def needs_from(installs: set[str]) -> tuple[Need, ...]:
    """What to mount: what the stage installed, or both when it installed neither."""
    out = []
    if installs & {"ca-certificates", "ca-certificates-bundle"}:
        out.append(Need.CERTS)
    if "tzdata" in installs:
        out.append(Need.TZDATA)
    return tuple(out) or (Need.CERTS, Need.TZDATA)


# Users the old distribution base provides, as Debian and Ubuntu write them (HOME kept).
_KNOWN_USERS = {"root": (0, 0, "/root"), "nobody": (65534, 65534, "/nonexistent")}


def passwd_line(user: str | None) -> str | Refused | None:
    """The /etc/passwd line a scratch image needs for ``USER user``; None without USER."""
    if not user:
        return None
    name, _, group = user.partition(":")
    if name in _KNOWN_USERS:
        uid, gid, home = _KNOWN_USERS[name]
        if group and not group.isdigit() and group != name:
            return Refused(Refusal.NAMED_USER, user)
        gid = int(group) if group.isdigit() else gid
        return f"{name}:x:{uid}:{gid}:{name}:{home}:/sbin/nologin"
    if not re.fullmatch(r"\d{1,10}", name) or (group and not re.fullmatch(r"\d{1,10}", group)):
        return Refused(Refusal.NAMED_USER, user)
    uid = int(name)
    if uid in (0, 65534):
        known = "root" if uid == 0 else "nobody"
        return passwd_line(known + (":" + group if group else ""))
    # no entry in the old base either: HOME stays "/" (what the runtime sets without an entry)
    return f"app:x:{uid}:{int(group) if group else uid}:app:/:/sbin/nologin"


def plan(
    ctx: RuleContext,
    source: SourceFile,
    parsed: Dockerfile,
    stage: Stage,
    runtime: Runtime,
    installs: set[str],
    cert_runs: list[Instruction],
    user: str | None,
) -> ComposePlan | Refused:
    needs = needs_from(installs)
    images = {Need.CERTS: ctx.config.certs_image, Need.TZDATA: ctx.config.tzdata_image}
    unset = [_VOLUMES[n][2] for n in needs if not images[n]]
    if unset:
        return Refused(Refusal.IMAGES_UNSET, " and ".join(unset))
    line = passwd_line(user)
    if isinstance(line, Refused):
        return line
    blocker = ctx.target.image_volume_blocker()
    if blocker:
        return Refused(Refusal.PLATFORM, blocker)
    result = ComposePlan(needs=needs, passwd_line=line)
    result.edits += dockerfile_edits(source, parsed, stage, cert_runs, line)
    result.digests.append((source.path, source.digest))
    result.scopes.append((source.path, stage.from_instruction.start, max(i.end for i in [stage.from_instruction, *stage.instructions])))
    linked = _linked_images(ctx, source, parsed, stage)
    if not linked:
        return Refused(
            Refusal.NO_LINKED_MANIFEST,
            "no build definition names it" if not linked_any(ctx, source) else "no pod spec runs the images it builds",
        )
    mounts = {n: (_VOLUMES[n][0], _VOLUMES[n][1], images[n]) for n in needs}
    env = [pair for n in needs for pair in RUNTIME_ENV[runtime][n]]
    for rel in _manifest_files(ctx, linked):
        found = ctx.project.read(rel)
        if isinstance(found, Diagnostic):
            return Refused(Refusal.UNREADABLE_RUNNER, f"{rel} names the image but can't be read ({found.kind})")
        outcome = _rewrite_file(ctx, found, linked, mounts, env, result)
        if isinstance(outcome, Refused):
            return outcome
    if not result.workloads:
        return Refused(Refusal.NO_LINKED_MANIFEST, "no pod spec runs the images it builds")
    unedited = _unedited_mentions(ctx, source, linked, result)
    if unedited is not None:
        return unedited
    return result


def linked_any(ctx: RuleContext, source: SourceFile) -> bool:
    index = ctx.project.links()
    return any(l.source != "directory" for l in index.links_for_dockerfile(source.path))


def _linked_images(ctx: RuleContext, source: SourceFile, parsed: Dockerfile, stage: Stage) -> list[_Linked]:
    """Parsed references of the images the repo's build definitions build from ``stage``
    (the directory-name guess is too weak to edit manifests on)."""
    index = ctx.project.links()
    last = parsed.stages[-1]
    out: list[_Linked] = []
    for link in index.links_for_dockerfile(source.path):
        if link.source == "directory" or (parsed.stage(link.target) if link.target else last) is not stage:
            continue
        written = _repository_of(link.image)
        ref = parse_image_ref(written)
        if ref is not None:
            out.append((written, ref, False))
    for name, new, _ in index.aliases:  # kustomize images: a manifest writes `name`, deploys `new`
        target, short = parse_image_ref(_repository_of(new)), parse_image_ref(name)
        if target is not None and short is not None and any(target.same_repository(r) for _, r, _ in out):
            out.append((name, short, True))
    return out


def _repository_of(image: str) -> str:
    """``ghcr.io/acme/app:$(TAG)`` → ``ghcr.io/acme/app``: a templated tag still names the repository."""
    head, sep, tag = image.strip().rpartition(":")
    if sep and "/" not in tag and any(c in tag for c in "${}()"):
        return head
    return image.strip()


def _unedited_mentions(ctx: RuleContext, source: SourceFile, linked: list[_Linked], result: ComposePlan) -> Refused | None:
    """A YAML file naming the image's repository more often than the containers this change-set
    edits there (build definitions aside): a runner the change-set would leave without certs."""
    from migrate_tui.repo.discover import discover

    index = ctx.project.links()
    origins = {l.origin.rpartition(":")[0] or l.origin for l in index.links_for_dockerfile(source.path)}
    origins |= {origin.rpartition(":")[0] or origin for _, _, origin in index.aliases}
    built = [(written, ref) for written, ref, alias in linked if not alias]  # a kustomize short name is too common a word
    pattern = re.compile("|".join(rf"(?<![\w.-]){re.escape(ref.repository)}(?![\w.-]|/\w)" for _, ref in built))
    edited = result.edited
    for item in discover(ctx.root, None, excludes=ctx.config.exclude, use_gitignore=ctx.config.respect_gitignore):
        if isinstance(item, Diagnostic) or item.kind is not FileKind.YAML:
            continue
        rel = item.path.relative_to(ctx.root).as_posix()
        if rel in origins:
            continue
        found = ctx.project.read(rel)
        if isinstance(found, Diagnostic):
            continue
        mentions = len(pattern.findall(found.text))
        if mentions > edited.get(rel, 0):
            return Refused(
                Refusal.UNEDITED_MENTION,
                f"{rel} names {built[0][0]} {mentions} time(s), {edited.get(rel, 0)} of them in containers this fix edits",
            )
    return None


def _manifest_files(ctx: RuleContext, linked: list[_Linked]) -> list[str]:
    index = ctx.project.links()
    files: dict[str, None] = {}
    for written, _, _ in linked:
        files.update(dict.fromkeys(index.runners_of(written)))
    return sorted(files)


def _runs(container: Any, linked: list[_Linked]) -> bool:
    image = container.get("image") if isinstance(container, dict) else None
    ref = parse_image_ref(str(image)) if image else None
    return ref is not None and any(ref.same_repository(wanted) for _, wanted, _ in linked)


def _rewrite_file(
    ctx: RuleContext, source: SourceFile, linked: list[_Linked], mounts: _Mounts, env: list[tuple[str, str]], result: ComposePlan
) -> Refused | None:
    from migrate_tui.parse.podspec import find_pod_specs
    from migrate_tui.parse.yamldoc import YamlError, load_documents

    compose_file = _COMPOSE_NAMES.match(posixpath.basename(source.path)) is not None
    for item in load_documents(source.text):
        if isinstance(item, YamlError):
            return Refused(Refusal.UNREADABLE_RUNNER, f"{source.path}:{item.line} names the image but can't be parsed")
        if not isinstance(item.data, dict):
            continue
        services = item.data.get("services") if compose_file else None
        if isinstance(services, dict):
            for name, service in services.items():
                if isinstance(service, dict) and _runs(service, linked):
                    return Refused(Refusal.COMPOSE_RUNNER, f"{source.path}: service '{name}'")
        refs: list[tuple[YamlPath, _Targets]] = []
        for ref in find_pod_specs(item.data):
            subject = PodSpecSubject(source, item.chunk, item.data, ref)
            targets = [
                (group, i)
                for group in ("initContainers", "containers")
                for i, c in enumerate(ref.spec.get(group) or [])
                if _runs(c, linked)
            ]
            if not targets:
                continue
            problem = _conflict(subject, targets, mounts)
            if problem is not None:
                return problem
            refs.append((ref.path, targets))
            result.related.append(subject.location(ref.spec[targets[0][0]][targets[0][1]]))
            result.edited[source.path] = result.edited.get(source.path, 0) + len(targets)
            result.workloads.append(f"{source.path} ({ref.owner})")
        if refs:
            refused = _edit_chunk(ctx, source, item.chunk, refs, mounts, env, result)
            if refused is not None:
                return refused
    return None


def _conflict(subject: PodSpecSubject, targets: _Targets, mounts: _Mounts) -> Refused | None:
    spec = subject.ref.spec
    names = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    for name, _, _ in mounts.values():
        if name in names:
            return Refused(Refusal.VOLUME_NAME_TAKEN, f"{subject.path}: {subject.ref.owner}: volume '{name}'")
    for group, index in targets:
        container = spec[group][index]
        for mount in container.get("volumeMounts") or []:
            path = posixpath.normpath(str(mount.get("mountPath", "")) or "/") if isinstance(mount, dict) else ""
            for _, wanted, _ in mounts.values():
                if path and (path == wanted or wanted.startswith(path.rstrip("/") + "/") or path.startswith(wanted + "/")):
                    return Refused(Refusal.MOUNT_PATH_TAKEN, f"{subject.path}: container '{container.get('name')}' already mounts {path}")
    return None


def _edit_chunk(
    ctx: RuleContext,
    source: SourceFile,
    chunk: Chunk,
    refs: list[tuple[YamlPath, _Targets]],
    mounts: _Mounts,
    env: list[tuple[str, str]],
    result: ComposePlan,
) -> Refused | None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from migrate_tui.fixes.yaml_edit import RewriteRefused, rewrite_and_check, shrink

    def mutate(document: Any) -> None:
        for path, targets in refs:
            spec = document
            for step in path:
                spec = spec[step]
            for group, index in targets:
                container = spec[group][index]
                present = {e.get("name") for e in container.get("env") or []}
                wanted = [(k, v) for k, v in env if k not in present]
                if wanted and "env" not in container:
                    container.insert(len(container), "env", CommentedSeq())
                for key, value in wanted:
                    entry = CommentedMap()
                    entry["name"] = key
                    entry["value"] = value
                    container["env"].append(entry)
                if "volumeMounts" not in container:
                    container.insert(len(container), "volumeMounts", CommentedSeq())
                for name, mount_path, _ in mounts.values():
                    entry = CommentedMap()
                    entry["name"] = name
                    entry["mountPath"] = mount_path
                    entry["readOnly"] = True
                    container["volumeMounts"].append(entry)
            if "volumes" not in spec:
                spec.insert(len(spec), "volumes", CommentedSeq())
            for name, _, reference in mounts.values():
                entry = CommentedMap()
                entry["name"] = name
                image = CommentedMap()
                image["reference"] = reference
                entry["image"] = image
                spec["volumes"].append(entry)

    try:
        new_chunk, problems = rewrite_and_check(source.text, chunk, mutate, ctx.target.schema_version)
    except RewriteRefused as exc:
        return Refused(Refusal.REWRITE_REFUSED, f"{source.path}: {exc}")
    if problems:
        return Refused(Refusal.INVALID, f"{source.path}: {problems[0]}")
    old = source.text[chunk.start : chunk.end]
    start, end, content = shrink(old, new_chunk)
    result.edits.append(Edit(source.path, chunk.start + start, chunk.start + end, content))
    if (source.path, source.digest) not in result.digests:
        result.digests.append((source.path, source.digest))
    result.scopes.append((source.path, chunk.start, chunk.end))
    return None


def dockerfile_edits(source: SourceFile, parsed: Dockerfile, stage: Stage, cert_runs: list[Instruction], line: str | None) -> list[Edit]:
    """Base → scratch, the certs/tzdata RUNs dropped and, for a USER, a build stage writing its
    /etc/passwd line (run on the old base, which has a shell) copied in first."""
    text = source.text
    start, end = stage.base_span
    _, line_end = dfx.whole_lines(text, stage.from_instruction.start, stage.from_instruction.end)
    rest = text[end:line_end]
    if line is None:
        edits = [Edit(source.path, start, end, "scratch")]
    else:
        name = _free_stage_name(parsed, "passwd")
        from_start = stage.from_instruction.start
        prefix = text[from_start:start]  # "FROM " and any --platform flag
        if not rest.endswith("\n"):
            rest += "\n"
        edits = [
            Edit(
                source.path,
                from_start,
                line_end,
                f"{prefix}{text[start:end]} AS {name}\nRUN echo '{line}' > /passwd\n\n"
                f"{prefix}scratch{rest}COPY --from={name} /passwd /etc/passwd\n",
            )
        ]
    for run in cert_runs:
        a, b = dfx.whole_lines(text, run.start, run.end)
        edits.append(Edit(source.path, a, b, ""))
    return edits


def _free_stage_name(parsed: Dockerfile, wanted: str) -> str:
    taken = {(s.name or "").lower() for s in parsed.stages}
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}{n}"
    return name
