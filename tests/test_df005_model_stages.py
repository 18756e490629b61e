"""DF005 on models and datasets fetched in an earlier stage (issue 13 item 6): what counts as a
fetch, the change-set across the Dockerfile, the new asset Dockerfile and the manifest, the
refusals, and the asset image built daemon-free from a local OCI layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine
from migrate_tui.cli import main
from migrate_tui.platform.validate import validate_object
from migrate_tui.parse.yamldoc import load_documents
from migrate_tui.parse.dockerfile.parser import parse_dockerfile
from migrate_tui.oci.source import open_tree
from migrate_tui.analysis.fetch_stage import Fetch, FetchTool, LandsAs, stage_fetches

LINKED = FIXTURES / "DF005" / "model_stage_linked.Dockerfile"
ASSET = "assets/embedder-model/Dockerfile"

ASSET_TEXT = """\
# Asset image: what stage 0 'model' of model_stage_linked.Dockerfile fetches into /model, without a shell.
# Build and push it as registry.example.com/ml/embedder-model-assets:1.4.0 (e.g. `buildah bud -f assets/embedder-model/Dockerfile -t registry.example.com/ml/embedder-model-assets:1.4.0 .`);
# mount it as an image volume where the app image used to COPY it.
ARG MODEL_REPO=sentence-transformers/all-MiniLM-L6-v2
ARG MODEL_REVISION=main

FROM alpine/git:2.45.2 AS model
ARG MODEL_REPO
ARG MODEL_REVISION
RUN git lfs install \\
 && git clone --depth 1 --branch ${MODEL_REVISION} https://huggingface.co/${MODEL_REPO} /model \\
 && rm -rf /model/.git

FROM scratch
COPY --from=model /model/ /
"""

MANIFEST_TAIL = """\
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: model
              mountPath: /app/model
              readOnly: true
          resources:
            limits:
              memory: 2Gi
      volumes:
        - name: tmp
          emptyDir: {}
        - name: model
          image:
            reference: registry.example.com/ml/embedder-model-assets:1.4.0
            pullPolicy: IfNotPresent
"""


def _repo(tmp_path: Path, dockerfile: Path = LINKED, text: str | None = None) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    context = dockerfile.parent / (dockerfile.name.split(".")[0] + ".context")
    if context.is_dir():
        shutil.copytree(context, root, dirs_exist_ok=True)
    (root / dockerfile.name).write_text(text if text is not None else dockerfile.read_text())
    return root


# --------------------------------------------------------------------------- what is a fetch


FETCHING = """\
ARG MODEL_REPO=sentence-transformers/all-MiniLM-L6-v2
FROM alpine/git:2.45.2 AS model
ARG MODEL_REPO
WORKDIR /src
RUN git lfs install && git clone --depth 1 https://huggingface.co/${MODEL_REPO} /model && rm -rf /model/.git
RUN wget -q https://example.com/x/model.onnx -P /w && curl -fsSLo weights.safetensors "https://cdn.example.com/w.safetensors?x=1" \\
    && curl -LO https://e.com/y.gguf && curl https://e.com/z.pt > /z.pt
RUN huggingface-cli download BAAI/bge-small-en --local-dir /models/bge --revision main
RUN hf download --repo-type dataset squad --local-dir data
RUN cd /opt && git clone https://huggingface.co/org/m
RUN echo "git clone https://huggingface.co/not/run /nope"
ADD https://huggingface.co/org/m/resolve/main/model.onnx /add/
FROM python:3.12-slim
"""


def test_fetches_are_read_from_the_commands_with_arg_defaults_expanded() -> None:
    parsed = parse_dockerfile(FETCHING)
    assert stage_fetches(parsed, parsed.stages[0]) == [
        Fetch(FetchTool.GIT, "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2", "/model", LandsAs.DIRECTORY, 5),
        Fetch(FetchTool.WGET, "https://example.com/x/model.onnx", "/w/model.onnx", LandsAs.FILE, 6),
        Fetch(FetchTool.CURL, "https://cdn.example.com/w.safetensors?x=1", "/src/weights.safetensors", LandsAs.FILE, 6),
        Fetch(FetchTool.CURL, "https://e.com/y.gguf", "/src/y.gguf", LandsAs.FILE, 6),
        Fetch(FetchTool.CURL, "https://e.com/z.pt", None, LandsAs.UNKNOWN, 6),  # stdout, redirected
        Fetch(FetchTool.HF_CLI, "BAAI/bge-small-en", "/models/bge", LandsAs.DIRECTORY, 8),
        Fetch(FetchTool.HF_CLI, "datasets/squad", "/src/data", LandsAs.DIRECTORY, 9),
        Fetch(FetchTool.GIT, "https://huggingface.co/org/m", "/opt/m", LandsAs.DIRECTORY, 10),
        Fetch(FetchTool.ADD, "https://huggingface.co/org/m/resolve/main/model.onnx", "/add/model.onnx", LandsAs.FILE, 12),
    ]


def test_a_source_clone_without_lfs_is_not_a_fetch() -> None:
    parsed = parse_dockerfile(
        "FROM golang:1.23 AS build\nRUN git clone https://github.com/example/tool /src\nRUN wget -q https://example.com/tool.tar.gz\n"
    )
    assert stage_fetches(parsed, parsed.stages[0]) == []


# --------------------------------------------------------------------------- the change-set


def test_linked_manifest_gets_the_whole_change_set(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    manifest_before = (root / "deploy/embedder.yaml").read_text()
    result = make_engine(root, select=("DF005",)).scan()
    [finding] = result.findings
    assert finding.message == (
        "stage 1: `COPY --from=model /model /app/model` ships data that stage 0 'model' fetches (git clone "
        "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) into an app image at /app/model: build it as "
        "its own asset image and mount it as an image volume"
    )
    assert (finding.location.path, finding.location.line) == ("model_stage_linked.Dockerfile", 18)
    assert finding.applicability.value == "unsafe"
    assert finding.fix.paths == ("model_stage_linked.Dockerfile", ASSET, "deploy/embedder.yaml")
    assert finding.fix.assumption == (
        "the app only reads the data at /app/model, never writes there (an image volume is read-only), "
        "registry.example.com/ml/embedder-model-assets:1.4.0 is built from assets/embedder-model/Dockerfile and "
        "pushed before the workloads roll out, and any workload outside this repository that runs the app image "
        "mounts it too"
    )
    assert finding.data["fetches"] == [
        {"tool": "git clone", "dest": "/model", "source": "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"}
    ]
    report, after = make_engine(root, select=("DF005",)).fix(unsafe=True)
    assert sorted(report.written) == sorted([ASSET, "deploy/embedder.yaml", "model_stage_linked.Dockerfile"])
    assert (root / ASSET).read_text() == ASSET_TEXT
    assert (root / "model_stage_linked.Dockerfile").read_bytes() == (
        FIXTURES / "DF005" / "model_stage_linked.fixed.Dockerfile"
    ).read_bytes()
    manifest = (root / "deploy/embedder.yaml").read_text()
    head = manifest_before[: manifest_before.index("          volumeMounts:")]
    assert manifest == head + MANIFEST_TAIL
    [doc] = [d for d in load_documents(manifest)]
    assert validate_object(doc.data, (1, 36), [("spec", "template", "spec")]) == []
    assert not after.findings


def test_without_a_manifest_the_asset_dockerfile_is_only_explained(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "deploy/embedder.yaml").unlink()
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "no-linked-manifest"
    assert finding.fix_blocked == (
        "no manifest in the repository runs an image built from this Dockerfile; dropping the COPY with nothing "
        "mounting the data would break the app, so write the asset image and the image volume by hand"
    )
    expected = "\n".join("    " + line if line else "" for line in ASSET_TEXT.splitlines())
    assert expected in finding.explanation


def test_a_target_without_image_volumes_makes_it_manual(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    [finding] = make_engine(root, select=("DF005",), target="k8s=1.30,containerd=2.2").scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "target"
    assert finding.fix_blocked.startswith("target Kubernetes 1.30, containerd 2.2: Kubernetes 1.30 has no image volumes")


def test_a_mount_already_at_the_destination_makes_it_manual(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    path = root / "deploy/embedder.yaml"
    path.write_text(path.read_text().replace("mountPath: /tmp", "mountPath: /app"))
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "manifest"
    assert finding.fix_blocked == ("deploy/embedder.yaml:18:1: container 'api' already mounts /app, which overlaps /app/model")


def test_the_fetch_stage_stays_when_another_stage_still_uses_it(tmp_path: Path) -> None:
    text = LINKED.read_text().replace(
        "COPY --from=model /model /app/model\n",
        "COPY --from=model /model /app/model\nCOPY --from=model /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\n",
    )
    root = _repo(tmp_path, text=text)
    report, _ = make_engine(root, select=("DF005",)).fix(unsafe=True)
    assert ASSET in report.written
    after = (root / "model_stage_linked.Dockerfile").read_text()
    assert after == text.replace("COPY --from=model /model /app/model\n", "")


def test_an_unnamed_fetch_stage_is_named_in_the_asset_dockerfile(tmp_path: Path) -> None:
    root = _repo(tmp_path, FIXTURES / "DF005" / "model_stage_unlinked.Dockerfile")
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.data["fix_blocked_kind"] == "no-linked-manifest"
    assert "    FROM python:3.12-slim AS fetch\n" in finding.explanation
    assert "    COPY --from=fetch /opt/models/bge/ /\n" in finding.explanation
    assert "mount that image as an image volume at /srv/models/bge (readOnly)" in finding.explanation


def test_a_numeric_reference_after_the_fetch_stage_keeps_it(tmp_path: Path) -> None:
    text = LINKED.read_text().replace("COPY app/ .\n", "COPY app/ .\nCOPY --from=1 /usr/local/bin/python3 /tmp/py\n")
    text = text.replace("FROM python:3.12-slim\n", "FROM python:3.12-slim AS base\nFROM base\n")
    root = _repo(tmp_path, text=text)
    report, _ = make_engine(root, select=("DF005",)).fix(unsafe=True)
    assert ASSET in report.written
    assert (root / "model_stage_linked.Dockerfile").read_text() == text.replace("COPY --from=model /model /app/model\n", "")


# --------------------------------------------------------------------------- the asset image builds


def test_the_asset_dockerfile_builds_from_scratch_against_a_local_layout(tmp_path: Path, capsys) -> None:
    """The fetch stage needs the network (buildah/docker); the FROM scratch part is built
    daemon-free against an image that holds what the fetch leaves in /model."""
    root = _repo(tmp_path)
    make_engine(root, select=("DF005",)).fix(unsafe=True)
    asset = (root / ASSET).read_text()
    fetched_ctx = tmp_path / "fetched"
    (fetched_ctx / "model" / "1_Pooling").mkdir(parents=True)
    (fetched_ctx / "model" / "config.json").write_text('{"hidden_size": 384}\n')
    (fetched_ctx / "model" / "model.safetensors").write_bytes(b"\x00" * 4096)
    (fetched_ctx / "model" / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}\n')
    (fetched_ctx / "Dockerfile").write_text("FROM scratch\nCOPY model/ /model/\n")
    layout = tmp_path / "oci"
    assert main(["build", "-f", str(fetched_ctx / "Dockerfile"), "-t", "local/fetched-model:1", "-o", str(layout), str(fetched_ctx)]) == 0
    scratch_part = asset[asset.index("FROM scratch") :]
    assert scratch_part == "FROM scratch\nCOPY --from=model /model/ /\n"
    built = tmp_path / "asset.Dockerfile"
    built.write_text("FROM local/fetched-model:1 AS model\n\n" + scratch_part)
    assert (
        main(
            [
                "build",
                "-f",
                str(built),
                "-t",
                "registry.example.com/ml/embedder-model-assets:1.4.0",
                "--image",
                f"local/fetched-model:1=oci:{layout}",
                "-o",
                str(tmp_path / "out"),
                str(root),
            ]
        )
        == 0
    )
    tree = open_tree(f"oci:{tmp_path / 'out'}")
    files = {p: n.data for p, n in tree.items() if n.kind == "file"}
    assert files == {
        "config.json": b'{"hidden_size": 384}\n',
        "model.safetensors": b"\x00" * 4096,
        "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}\n',
    }
    capsys.readouterr()


@pytest.mark.parametrize("name", ["model_file_fetched.Dockerfile", "model_stage_unlinked.Dockerfile"])
def test_manual_cases_write_nothing(name: str, tmp_path: Path) -> None:
    root = _repo(tmp_path, FIXTURES / "DF005" / name)
    report, _ = make_engine(root, select=("DF005",)).fix(unsafe=True)
    assert report.written == []
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [name]


def test_control_characters_from_the_dockerfile_are_escaped_in_the_message(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(
        'FROM alpine/git AS model\nRUN git clone "https://huggingface.co/a/b\x1b[31m\x07" /model\n'
        'FROM python:3.12\nCOPY --from=model /model /app/model\nCMD ["serve"]\n'
    )
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.message == (
        "stage 1: `COPY --from=model /model /app/model` ships data that stage 0 'model' fetches (git clone "
        "https://huggingface.co/a/b\\x1b[31m\\x07) into an app image at /app/model: build it as its own asset image "
        "and mount it as an image volume"
    )
    assert "\x1b" not in finding.explanation and "\x1b" not in finding.fix_blocked


_FAKE_GIT = """#!/bin/sh
# A stand-in git with no network: `lfs install` succeeds; `clone … --branch main URL DIR` copies
# the repository baked into /fake-hub/<path of the Hugging Face URL> (with its .git directory).
case "$1" in
  lfs) exit 0 ;;
  clone) case " $* " in *" --branch main "*) ;; *) echo "unexpected: $*" >&2; exit 3 ;; esac
         shift; while [ $# -gt 2 ]; do shift; done
         path="${1#https://huggingface.co/}"; mkdir -p "$2" && cp -a "/fake-hub/$path/." "$2/" ;;
  *) exit 2 ;;
esac
"""


@pytest.mark.buildah
def test_the_asset_dockerfile_as_written_builds_with_buildah(tmp_path: Path) -> None:
    """The whole asset Dockerfile, fetch stage included, unchanged: buildah runs its RUN (ARG
    defaults expanded by the builder) on a local stand-in for alpine/git whose git copies a
    baked-in repository; the shipped image holds the model files at its root and nothing else."""
    import os
    import subprocess

    buildah, busybox = shutil.which("buildah"), Path("/bin/busybox")
    if buildah is None or shutil.which("umoci") is None or not busybox.is_file():
        pytest.skip("buildah, umoci and busybox-static are needed")
    flags = ["--root", str(tmp_path / "root"), "--runroot", str(tmp_path / "runroot"), "--storage-driver", "vfs"]

    def run(*args: str) -> None:
        done = subprocess.run([buildah, *flags, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    base = tmp_path / "base"
    hub = base / "fake-hub" / "sentence-transformers" / "all-MiniLM-L6-v2"
    (hub / ".git").mkdir(parents=True)
    (hub / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (hub / "config.json").write_text('{"hidden_size": 384}\n')
    (hub / "model.safetensors").write_bytes(b"\x01" * 2048)
    (base / "bin").mkdir()
    shutil.copyfile(busybox, base / "bin" / "busybox")
    os.chmod(base / "bin" / "busybox", 0o755)
    (base / "git").write_text(_FAKE_GIT)
    os.chmod(base / "git", 0o755)
    (base / "Dockerfile").write_text(
        "FROM scratch\nCOPY bin/busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /usr/bin"]\n'
        "COPY git /usr/bin/git\nCOPY fake-hub/ /fake-hub/\n"
    )
    run("bud", "--isolation", "chroot", "--pull=never", "-f", str(base / "Dockerfile"), "-t", "alpine/git:2.45.2", str(base))

    root = _repo(tmp_path)
    make_engine(root, select=("DF005",)).fix(unsafe=True)
    assert (root / ASSET).read_text() == ASSET_TEXT
    run("bud", "--isolation", "chroot", "--pull=never", "-f", str(root / ASSET), "-t", "localhost/embedder-model-assets:t", str(root))
    run("push", "localhost/embedder-model-assets:t", f"oci:{tmp_path / 'oci'}:v")
    done = subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{tmp_path / 'oci'}:v", str(tmp_path / "unpacked")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rootfs = tmp_path / "unpacked" / "rootfs"
    assert sorted(p.relative_to(rootfs).as_posix() for p in rootfs.rglob("*")) == ["config.json", "model.safetensors"]
    assert (rootfs / "model.safetensors").read_bytes() == b"\x01" * 2048


def test_parser_directives_are_carried_into_the_asset_dockerfile(tmp_path: Path) -> None:
    """A backtick escape directive changes how the fetch stage's lines continue: the new file keeps it."""
    text = (
        "# escape=`\nFROM alpine/git:2.45.2 AS model\nRUN git clone `\n    https://huggingface.co/org/m /model\n"
        'FROM python:3.12-slim\nCOPY --from=model /model /app/model\nCMD ["serve"]\n'
    )
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(text)
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.data["fetches"] == [{"tool": "git clone", "source": "https://huggingface.co/org/m", "dest": "/model"}]
    assert "\nStart from an asset Dockerfile such as:\n    # escape=`\n    # Asset image:" in finding.explanation
    assert "    RUN git clone `\n        https://huggingface.co/org/m /model\n" in finding.explanation


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "RUN python -c 'import sys' && chmod -R a+rX /app/model\n",
            "line 19 uses /app/model at build time; with an image volume the data is only there when the pod runs",
        ),
        (
            "COPY app/tokenizer.json /app/model/tokenizer.json\n",
            "line 19 also writes into /app/model/tokenizer.json; an image volume at /app/model would hide it",
        ),
    ],
)
def test_a_destination_the_image_also_uses_makes_it_manual(line: str, reason: str, tmp_path: Path) -> None:
    text = LINKED.read_text().replace("ENV MODEL_DIR=/app/model\n", line + "ENV MODEL_DIR=/app/model\n")
    root = _repo(tmp_path, text=text)
    [finding] = make_engine(root, select=("DF005",)).scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "destination-used"
    assert finding.fix_blocked == reason
