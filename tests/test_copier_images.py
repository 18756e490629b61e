"""Copier images (issue 13 item 5): an init container that sets no command runs its image's
default command. When the repo builds that image from a Dockerfile whose CMD only copies files
(downloaded by `RUN wget … && tar …` in the same busybox stage), IV001 sees the copy and offers
one change-set: the pod gets an image volume, the Dockerfile keeps the download in a build stage
and ships FROM scratch without the CMD. `verify` reads the same thing from the image config."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.model.reasons import BlockerKind, NoteKind
from migrate_tui.proof.verify import ImageLoader, verify_documents
from migrate_tui.oci.tree import Node
from migrate_tui.analysis.imagecommand import ImageDefault, container_env, from_image_config, image_run
from oracle.flow import documents, run_cli, verify

CASE = "copier_image_no_command"
IMAGE = "registry.example.com/docs-assets:4.2.0"
ASSETS = "registry.example.com/docs-assets-assets:4.2.0"
DEFAULT = ImageDefault(("/entry",), ("cmd", "x"), (("DEST", "/target"), ("OUT", None)), "/srv", "test")

REWRITTEN = """# The docs site, downloaded at build time; the default command copies it into the volume of
# whoever runs this image as an init container.
FROM busybox:1.36 AS fetch
ARG DOCS_VERSION=4.2.0
RUN mkdir -p /srv/docs \\
 && wget -qO /tmp/docs.tgz "https://downloads.example.com/docs-${DOCS_VERSION}.tgz" \\
 && tar -xzf /tmp/docs.tgz -C /srv/docs \\
 && rm /tmp/docs.tgz
ENV DEST=/target

FROM scratch
COPY --from=fetch /srv/docs/ /srv/docs/
"""


# --------------------------------------------------------------------------- Kubernetes semantics


def test_command_replaces_the_entrypoint_and_drops_the_cmd() -> None:
    run = image_run({"command": ["sh", "-c", "true"]}, DEFAULT)
    assert (run.argv, run.from_image) == (("sh", "-c", "true"), False)
    run = image_run({"command": ["cp"], "args": ["-a", "/a", "/b"]}, DEFAULT)
    assert run.argv == ("cp", "-a", "/a", "/b")


def test_args_replace_the_cmd_and_keep_the_entrypoint() -> None:
    run = image_run({"args": ["y"]}, DEFAULT)
    assert (run.argv, run.from_image) == (("/entry", "y"), True)


def test_neither_runs_entrypoint_and_cmd_in_the_image_workdir_unless_the_pod_sets_one() -> None:
    assert image_run({}, DEFAULT).argv == ("/entry", "cmd", "x")
    assert image_run({}, DEFAULT).workdir == "/srv"
    assert image_run({"workingDir": "/w"}, DEFAULT).workdir == "/w"


def test_pod_env_overrides_the_image_env_and_secrets_make_values_unknown() -> None:
    assert container_env({}, DEFAULT.env) == ({"DEST": "/target"}, ("OUT",))
    assert container_env({"env": [{"name": "DEST", "value": "/out"}, {"name": "OUT", "value": "/o"}]}, DEFAULT.env) == (
        {"DEST": "/out", "OUT": "/o"},
        (),
    )
    secret = {"env": [{"name": "DEST", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
    assert container_env(secret, DEFAULT.env) == ({}, ("OUT", "DEST"))
    # envFrom may set any variable over the image's; the pod's own env still wins
    env_from = {"envFrom": [{"configMapRef": {"name": "c"}}], "env": [{"name": "X", "value": "1"}]}
    assert container_env(env_from, DEFAULT.env) == ({"X": "1"}, ("OUT", "DEST", "*"))


def test_the_image_config_gives_entrypoint_cmd_env_and_workdir() -> None:
    config = {"config": {"Entrypoint": ["/e"], "Cmd": ["c"], "Env": ["PATH=/bin", "A=b=c", "junk"], "WorkingDir": "/w"}}
    assert from_image_config(config, "cfg") == ImageDefault(("/e",), ("c",), (("PATH", "/bin"), ("A", "b=c")), "/w", "cfg")
    assert from_image_config({}, "cfg") == ImageDefault((), (), (), None, "cfg")


# --------------------------------------------------------------------------- the rules


def _repo(tmp_path: Path, case: str = CASE, dockerfile: str | None = None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "IV001" / f"{case}.context", root)
    shutil.copyfile(FIXTURES / "IV001" / f"{case}.yaml", root / f"{case}.yaml")
    if dockerfile is not None:
        (root / "assets" / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    return root


def test_one_change_set_rewrites_the_pod_the_copier_dockerfile_and_the_build(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    engine = make_engine(root, select=("IV001", "DF001"))
    findings = engine.scan().findings
    assert [(f.rule, f.applicability.value) for f in findings] == [("DF001", "unsafe"), ("IV001", "unsafe")]
    df001, iv001 = findings
    assert df001.fix == iv001.fix  # DF001 rides in the IV001 change-set
    assert sorted({e.path for e in iv001.fix.edits}) == ["assets/Dockerfile", f"{CASE}.yaml", "skaffold.yaml"]
    report, after = engine.fix(unsafe=True)
    assert sorted(report.written) == ["assets/Dockerfile", f"{CASE}.yaml", "skaffold.yaml"]
    assert (root / "assets" / "Dockerfile").read_text(encoding="utf-8") == REWRITTEN
    assert (root / f"{CASE}.yaml").read_bytes() == (FIXTURES / "IV001" / f"{CASE}.fixed.yaml").read_bytes()
    assert "    - image: registry.example.com/docs-assets-assets\n" in (root / "skaffold.yaml").read_text(encoding="utf-8")
    assert after.findings == []
    assert make_engine(root, select=("IV001", "DF001")).fix(unsafe=True)[0].written == []


def _flow_reasons(tmp_path: Path, case: str = CASE, dockerfile: str | None = None) -> list[str]:
    """What IV001 and IV002 report, as "RULE applicability"."""
    engine = make_engine(_repo(tmp_path, case, dockerfile), select=("IV001", "IV002"))
    return sorted(f"{f.rule} {f.applicability.value}" for f in engine.scan().findings)


COPIER = """FROM busybox:1.36
RUN mkdir -p /srv/docs && wget -qO- https://downloads.example.com/docs.tgz | tar -xz -C /srv/docs
ENV DEST=/target
"""


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        (COPIER + "CMD cp -a /srv/docs/. $DEST/\n", ["IV001 unsafe"]),
        # Kubernetes runs ENTRYPOINT + CMD: an exec-form ENTRYPOINT is as readable as a CMD
        (COPIER + 'ENTRYPOINT ["cp", "-a", "/srv/docs/.", "/target/"]\n', ["IV001 unsafe"]),
        # every CMD/ENTRYPOINT of a copier image copies (DF001's shape): a stage that also says `CMD ["sh"]` is no copier
        (COPIER + 'CMD ["sh"]\nENTRYPOINT ["cp", "-a", "/srv/docs/.", "/target/"]\n', ["IV002 manual"]),
        # DEST set from a build argument: unknown here
        (COPIER.replace("ENV DEST=/target", "ARG OUT=/target\nENV DEST=$OUT") + "CMD cp -a /srv/docs/. $DEST/\n", ["IV002 manual"]),
        # a base other than busybox/alpine: whether its config sets an ENTRYPOINT is not known here
        (COPIER.replace("busybox:1.36", "debian:12") + "CMD cp -a /srv/docs/. $DEST/\n", ["IV002 manual"]),
        # a CMD that does more than copy is no copier image: opaque, as before
        (COPIER + "CMD cp -a /srv/docs/. $DEST/ && sed -i s/a/b/ $DEST/index.html\n", ["IV002 manual"]),
        # SHELL changes what a shell-form CMD runs
        (COPIER + 'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nCMD cp -a /srv/docs/. $DEST/\n', ["IV002 manual"]),
    ],
)
def test_what_the_dockerfile_says_decides(dockerfile: str, expected: list[str], tmp_path: Path) -> None:
    assert _flow_reasons(tmp_path, dockerfile=dockerfile) == expected


def _kinds(tmp_path: Path, case: str, dockerfile: str | None = None) -> list[tuple[str, list[BlockerKind], list[NoteKind]]]:
    """Per init-container flow: the kinds of its blockers and notes (what the rules decide on)."""
    from migrate_tui.fixes.copier_image import image_defaults
    from migrate_tui.analysis.initcopy import analyse_pod_spec

    root = _repo(tmp_path, case, dockerfile)
    ctx = make_engine(root, select=("IV001",)).context
    out = []
    for doc in documents((root / f"{case}.yaml").read_text(encoding="utf-8")):
        for ref in find_pod_specs(doc):
            for flow in analyse_pod_spec(ref.spec, image_defaults=image_defaults(ctx)):
                out.append((str(flow.init.get("name")), [b.kind for b in flow.manual], [n.kind for n in flow.notes]))
    return out


def test_the_reasons_are_typed(tmp_path: Path) -> None:
    assert _kinds(tmp_path / "a", CASE) == [("docs-assets", [], [NoteKind.IMAGE_COMMAND])]
    assert _kinds(tmp_path / "b", "clean_copier_image_also_sidecar") == [("docs-assets", [BlockerKind.IMAGE_RUN_ELSEWHERE], [])]
    assert _kinds(tmp_path / "c", "clean_copier_image_env_from_secret") == [("docs-assets", [BlockerKind.IMAGE_ENV_UNKNOWN], [])]
    assert _kinds(tmp_path / "d", "clean_copier_image_pod_command") == []
    from_build = COPIER.replace("ENV DEST=/target", "ARG OUT=/target\nENV DEST=$OUT") + "CMD cp -a /srv/docs/. $DEST/\n"
    assert _kinds(tmp_path / "e", CASE, from_build) == [("docs-assets", [BlockerKind.IMAGE_ENV_UNKNOWN], [])]


def test_iv002_says_why_the_image_command_is_not_used(tmp_path: Path) -> None:
    for case, reason in (
        (
            "clean_copier_image_also_sidecar",
            "clean_copier_image_also_sidecar.yaml: container 'linkcheck' runs \"registry.example.com/docs-assets:4.2.0\" as a "
            "regular container, so its default command (assets/Dockerfile line 10) is not only an init container's copy: "
            "migrate the image by hand",
        ),
        (
            "clean_copier_image_env_from_secret",
            "'docs-assets' runs the default command of assets/Dockerfile line 10, but DEST comes from a Secret, a ConfigMap "
            "or the downward API, so where it copies is not known here",
        ),
    ):
        [finding] = make_engine(_repo(tmp_path / case, case), select=("IV001", "IV002")).scan().findings
        assert finding.rule == "IV002"
        assert finding.fix_blocked == (
            f"no command: the image's entrypoint does the work; migrate-tui can't see what it writes into 'docs'; {reason}"
        )


def test_another_init_container_with_its_own_command_keeps_the_image_and_gets_a_new_asset_dockerfile(tmp_path: Path) -> None:
    """Rewriting the copier Dockerfile would change the image under an init container elsewhere
    that runs its own command in it: the change-set writes a new asset Dockerfile instead."""
    root = _repo(tmp_path)
    (root / "other.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: check}\nspec:\n  template:\n    spec:\n"
        "      restartPolicy: Never\n      initContainers:\n      - name: list\n        image: " + IMAGE + "\n"
        "        command: [ls, /srv/docs]\n      containers:\n      - name: done\n        image: busybox:1.36\n",
        encoding="utf-8",
    )
    before = (root / "assets" / "Dockerfile").read_bytes()
    report, _ = make_engine(root, select=("IV001",)).fix(unsafe=True)
    assert sorted(report.written) == ["assets/docs-assets/Dockerfile", f"{CASE}.yaml"]
    assert (root / "assets" / "Dockerfile").read_bytes() == before
    assert (
        (root / "assets" / "docs-assets" / "Dockerfile")
        .read_text(encoding="utf-8")
        .endswith(f"FROM {IMAGE} AS source\n\nFROM scratch\nCOPY --from=source /srv/docs/ /srv/docs/\n")
    )


# --------------------------------------------------------------------------- verify reads the image config


def _tree(files: dict[str, bytes]) -> dict:
    tree = {"": Node("dir", 0o755, 0, 0)}
    for path, data in files.items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            tree.setdefault("/".join(parts[:i]), Node("dir", 0o755, 0, 0))
        tree[path] = Node("file", 0o644, 0, 0, size=len(data), digest=hashlib.sha256(data).hexdigest())
    return tree


POD = """apiVersion: v1
kind: Pod
metadata: {name: docs}
spec:
  initContainers:
  - name: copy
    image: r.example/copier:1
%s    volumeMounts: [{name: docs, mountPath: /target}]
  containers:
  - name: web
    image: nginx:1.27
    volumeMounts: [{name: docs, mountPath: /html, readOnly: true}]
  volumes:
  - {name: docs, emptyDir: {}}
"""
AFTER = """apiVersion: v1
kind: Pod
metadata: {name: docs}
spec:
  containers:
  - name: web
    image: nginx:1.27
    volumeMounts: [{name: docs, mountPath: /html, readOnly: true, subPath: srv/docs}]
  volumes:
  - {name: docs, image: {reference: r.example/assets:1}}
"""


def _verify(pod_extra: str, config: dict) -> list[str]:
    files = {"srv/docs/index.html": b"<h1>docs</h1>", "srv/docs/a/b.css": b"b{}", "srv/docs/.well-known/x": b"x"}
    trees = {"r.example/copier:1": _tree({**files, "bin/sh": b"busybox"}), "r.example/assets:1": _tree(files)}
    configs = {"r.example/copier:1": {"config": config}, "r.example/assets:1": {}}
    loader = ImageLoader(trees.__getitem__, configs.__getitem__, (KeyError,))
    [before] = documents(POD % pod_extra)
    [after] = documents(AFTER)
    return [
        f"{r.container} {r.problem or ''}{'' if r.comparison is None else (r.comparison.equal, r.comparison.same)}"
        for r in verify_documents(before, after, loader)
    ]


def test_verify_runs_the_image_cmd_with_its_env_when_the_pod_sets_no_command() -> None:
    assert _verify("", {"Cmd": ["/bin/sh", "-c", "cp -a /srv/docs/. $DEST/"], "Env": ["DEST=/target"]}) == ["web (True, 5)"]


def test_verify_runs_the_entrypoint_with_the_pods_args_and_the_image_workdir() -> None:
    config = {"Entrypoint": ["cp", "-a"], "Cmd": ["/nowhere/.", "/x/"], "WorkingDir": "/srv"}
    assert _verify('    args: ["docs/.", "/target/"]\n', config) == ["web (True, 5)"]


def test_verify_drops_the_image_entrypoint_and_cmd_when_the_pod_sets_a_command() -> None:
    config = {"Entrypoint": ["/bin/false"], "Cmd": ["ignored"], "Env": ["SRC=/srv/docs"]}
    assert _verify('    command: ["sh", "-c", "cp -a $SRC/. /target/"]\n', config) == ["web (True, 5)"]


def test_the_kubelet_does_not_expand_the_images_words() -> None:
    # `$$` in an image's CMD is two dollars for the shell (its PID): not a copy into /target; in a
    # pod's command the kubelet would make it `$`
    cmd = {"Cmd": ["/bin/sh", "-c", "cp -a /srv/docs/. $$DEST/"], "Env": ["DEST=/target"]}
    assert _verify("", cmd) == []
    assert _verify('    command: ["/bin/sh", "-c", "cp -a /srv/docs/. $$DEST/"]\n', cmd) == ["web (True, 5)"]


def test_verify_proves_nothing_when_the_image_copies_elsewhere() -> None:
    # the same pod, but the image's DEST is not the mounted path: nothing lands in the volume
    assert _verify("", {"Cmd": ["/bin/sh", "-c", "cp -a /srv/docs/. $DEST/"], "Env": ["DEST=/elsewhere"]}) == []
    # and the pod's env overrides the image's
    assert (
        _verify(
            "    env: [{name: DEST, value: /elsewhere}]\n", {"Cmd": ["/bin/sh", "-c", "cp -a /srv/docs/. $DEST/"], "Env": ["DEST=/target"]}
        )
        == []
    )


def test_an_optional_config_is_read_only_from_a_local_source() -> None:
    opened: list[str] = []

    def open_config(reference: str) -> dict:
        opened.append(reference)
        return {"config": {"Env": ["SRC=/srv/docs"]}}

    loader = ImageLoader(lambda r: {}, open_config, (KeyError,), local={"local:1"}.__contains__)
    assert loader.config("remote:1", required=False) is None
    assert loader.config("local:1", required=False) == {"config": {"Env": ["SRC=/srv/docs"]}}
    assert loader.config("remote:1", required=True) == {"config": {"Env": ["SRC=/srv/docs"]}}
    assert opened == ["local:1", "remote:1"]


def test_without_configs_a_pod_without_command_is_not_verified_as_before() -> None:
    files = {"srv/docs/index.html": b"x"}
    trees = {"r.example/copier:1": _tree(files), "r.example/assets:1": _tree(files)}
    [before] = documents(POD % "")
    [after] = documents(AFTER)
    assert verify_documents(before, after, trees.__getitem__) == []


# --------------------------------------------------------------------------- built for real


_FAKE_WGET = """#!/bin/sh
# stands in for wget: `wget -qO FILE URL` writes the docs tarball baked into this base image
while [ $# -gt 0 ]; do
  case "$1" in
    -qO|-O) out="$2"; shift 2 ;;
    *) shift ;;
  esac
done
cp /fake-downloads/docs.tgz "$out"
"""


def _docs_tarball() -> bytes:
    """The docs site: dot-files, nested and empty directories, a symlink, odd modes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:

        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644, link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.size, info.linkname, info.mtime = kind, mode, len(data), link, 1_700_000_000
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("index.html", data=b"<h1>docs 4.2.0</h1>\n")
        add(".nojekyll", data=b"")
        add("assets", tarfile.DIRTYPE, mode=0o755)
        add("assets/site.css", data=b"body{}\n", mode=0o640)
        add("assets/empty", tarfile.DIRTYPE, mode=0o700)
        add("latest", tarfile.SYMTYPE, link="index.html", mode=0o777)
    return buffer.getvalue()


@pytest.mark.buildah
def test_the_change_set_builds_with_buildah_and_verify_and_prove_pass(tmp_path: Path, capsys) -> None:
    """The copier image is built from the fixture's Dockerfile as it is (on a local busybox whose
    wget serves a baked-in tarball), the fix is applied, the rewritten Dockerfile is built the
    same way; `migrate-tui verify` (reading the old image's Cmd/Env from its config) proves the
    reader sees the same files, and `check --prove` proves the change-set before it is written."""
    import json

    buildah, busybox = shutil.which("buildah"), Path("/bin/busybox")
    if buildah is None or not busybox.is_file():
        pytest.skip("buildah and busybox-static are needed")
    flags = ["--root", str(tmp_path / "root"), "--runroot", str(tmp_path / "runroot"), "--storage-driver", "vfs"]

    def run(*args: str) -> None:
        done = subprocess.run([buildah, *flags, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    base = tmp_path / "base"
    (base / "bin").mkdir(parents=True)
    (base / "fake-downloads").mkdir()
    shutil.copyfile(busybox, base / "bin" / "busybox")
    os.chmod(base / "bin" / "busybox", 0o755)
    (base / "wget").write_text(_FAKE_WGET)
    os.chmod(base / "wget", 0o755)
    (base / "fake-downloads" / "docs.tgz").write_bytes(_docs_tarball())
    # busybox's own sh runs its wget applet whatever PATH says: the shell is the host's dash
    for host, inside in (
        (Path("/bin/dash"), "bin/sh"),
        (Path("/lib/x86_64-linux-gnu/libc.so.6"), "lib/x86_64-linux-gnu/libc.so.6"),
        (Path("/lib64/ld-linux-x86-64.so.2"), "lib64/ld-linux-x86-64.so.2"),
    ):
        if not host.exists():
            pytest.skip(f"{host} is needed for the stand-in shell")
        (base / "dash" / inside).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(host, base / "dash" / inside)
        os.chmod(base / "dash" / inside, 0o755)
    (base / "Dockerfile").write_text(
        "FROM scratch\nCOPY bin/busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && rm /bin/wget /bin/sh && mkdir -p /tmp"]\n'
        "COPY dash/ /\nCOPY wget /bin/wget\nCOPY fake-downloads/ /fake-downloads/\n"
    )
    run("bud", "--isolation", "chroot", "--pull=never", "-f", str(base / "Dockerfile"), "-t", "busybox:1.36", str(base))

    root = _repo(tmp_path)
    old, new = tmp_path / "oci-old", tmp_path / "oci-new"
    run("bud", "--isolation", "chroot", "--pull=never", "-t", "localhost/docs-assets:old", str(root / "assets"))
    run("push", "localhost/docs-assets:old", f"oci:{old}:v")
    pairs = [f"{IMAGE}=oci:{old}:v", f"{ASSETS}=oci:{new}:v"]

    before = tmp_path / "before.yaml"
    shutil.copyfile(root / f"{CASE}.yaml", before)
    report, _ = make_engine(root, select=("IV001",)).fix(unsafe=True)
    assert sorted(report.written) == ["assets/Dockerfile", f"{CASE}.yaml", "skaffold.yaml"]
    assert (root / "assets" / "Dockerfile").read_text(encoding="utf-8") == REWRITTEN
    run("bud", "--isolation", "chroot", "--pull=never", "-t", "localhost/docs-assets-assets:new", str(root / "assets"))
    run("push", "localhost/docs-assets-assets:new", f"oci:{new}:v")

    config = (
        json.loads(subprocess.run(["skopeo", "inspect", "--config", f"oci:{old}:v"], capture_output=True, text=True, check=True).stdout)
        if shutil.which("skopeo")
        else None
    )
    if config is not None:  # what verify reads: the old image's default command and env
        assert config["config"]["Cmd"] == ["/bin/sh", "-c", "cp -a /srv/docs/. $DEST/"]
        assert "DEST=/target" in config["config"]["Env"]

    _assert_model_matches_the_real_copy(run, buildah, flags, before, pairs, tmp_path / "emptydir")

    result = verify(before, root / f"{CASE}.yaml", dict(p.split("=", 1) for p in pairs))
    assert result.code == 0, result.out
    assert [(r.ok, r.where, r.summary) for r in result.readers] == [
        (True, "Deployment/docs container 'nginx' at /usr/share/nginx/html", "0 missing, 0 different, 0 extra, 0 with other mode/owner")
    ]

    # `check --prove` on the repository as it was: the change-set is proven on these images
    fresh = _repo(tmp_path / "again")
    code, out, _ = run_cli(
        ["check", "--format", "json", "--no-cache", "--select", "IV001", "--prove", str(fresh), *[f"--image={p}" for p in pairs]]
    )
    [finding] = json.loads(out)["findings"]
    assert finding["data"]["proof"]["kind"] == "proven", finding["data"]["proof"]
    assert finding["data"]["proof"]["summary"] == "proven: 'nginx' at /usr/share/nginx/html: 6 entries identical"


def _assert_model_matches_the_real_copy(run, buildah: str, flags: list[str], before: Path, pairs: list[str], volume: Path) -> None:
    """verify's BEFORE side (the copy modelled from the image config's Cmd/Env) is what the old
    image's default command really leaves: it runs in the built image (buildah run, the
    emptyDir a host directory mounted at /target), its argv taken from the image config."""
    import json

    from migrate_tui.proof.prove import offline_loader
    from migrate_tui.oci.tree import compare, resolve_hardlinks
    from migrate_tui.proof.verify import config_defaults, volume_tree
    from migrate_tui.analysis.initcopy import analyse_pod_spec
    from oracle.execute import read_tree

    loader = offline_loader(pairs)
    [doc] = documents(before.read_text(encoding="utf-8"))
    [ref] = find_pod_specs(doc)
    flows = [f for f in analyse_pod_spec(ref.spec, image_defaults=config_defaults(loader)) if f.placements]
    assert [(f.init.get("name"), f.parsed.script) for f in flows] == [("docs-assets", "cp -a /srv/docs/. $DEST/")]
    model = volume_tree(flows, loader)

    config = loader.config(IMAGE, required=True)
    argv = (config["config"].get("Entrypoint") or []) + (config["config"].get("Cmd") or [])
    volume.mkdir()
    made = subprocess.run(
        [buildah, *flags, "from", "--pull=never", "localhost/docs-assets:old"], capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    run("run", "--isolation", "chroot", "-v", f"{volume}:/target", made.stdout.strip(), "--", *argv)
    comparison = compare(resolve_hardlinks(model), read_tree(volume))
    assert comparison.equal and comparison.same == 6, (comparison, json.dumps(config))
