"""`check --prove`: the verify comparison run on each image-volume fix before it is written, on
images the test builds (daemon-free, the project's own builder). A proof can only lower a fix."""

from __future__ import annotations

import json
from pathlib import Path


from migrate_tui.cli import main
from migrate_tui.oci.build import build

WEB = "registry.example.com/platform/web-site:1.4.2"
GRAFANA = "registry.example.com/platform/grafana-plugins:3.1.0"


def make_image(tmp: Path, name: str, files: dict[str, bytes], tag: str = "v1") -> str:
    """An OCI layout holding FROM scratch + the files; returns ``oci:DIR:TAG``."""
    context = tmp / f"ctx-{name}"
    for rel, data in files.items():
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dockerfile = tmp / f"Dockerfile.{name}"
    dockerfile.write_text("FROM scratch\n" + "".join(f"COPY {top} /{top}\n" for top in sorted({r.split("/")[0] for r in files})))
    layout = tmp / f"oci-{name}"
    build(dockerfile, context, tag=tag, output=layout)
    return f"oci:{layout}:{tag}"


def check_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", "--no-cache", "--mode", "zero-rebuild", "--prove", *args])
    return code, json.loads(capsys.readouterr().out)


def finding(payload: dict, path_end: str) -> dict:
    return next(f for f in payload["findings"] if f["rule"] == "IV001" and f["path"].endswith(path_end))


def test_a_contents_copy_is_proven_and_stays_safe(demo_copy: Path, tmp_path: Path, capsys):
    web = make_image(
        tmp_path, "web", {"site/index.html": b"<h1>hi</h1>", "site/.well-known/security.txt": b"x", "site/css/a.css": b"body{}"}
    )
    _, payload = check_json(capsys, str(demo_copy), "--image", f"{WEB}={web}")
    f = finding(payload, "deploy/web/deployment.yaml")
    assert f["applicability"] == "safe"
    assert f["data"]["proof"]["kind"] == "proven"
    assert f["data"]["proof"]["summary"] == "proven: 'nginx' at /usr/share/nginx/html: 5 entries identical"


def test_dot_files_a_glob_skipped_make_the_fix_unsafe_with_the_files_named(demo_copy: Path, tmp_path: Path, capsys):
    image = make_image(tmp_path, "graf", {"plugins/clock/module.js": b"m", "plugins/.hidden-config": b"secret"})
    _, payload = check_json(capsys, str(demo_copy), "--image", f"{GRAFANA}={image}")
    f = finding(payload, "deploy/grafana/grafana.yaml")
    assert f["data"]["proof"]["kind"] == "proven-with-extra"
    assert f["applicability"] == "unsafe"
    assert "/.hidden-config" in f["fix"]["assumption"]


def test_a_glob_copy_stays_safe_when_the_image_shows_no_dot_files(demo_copy: Path, tmp_path: Path, capsys):
    image = make_image(tmp_path, "graf", {"plugins/clock/module.js": b"m"})
    _, payload = check_json(capsys, str(demo_copy), "--image", f"{GRAFANA}={image}")
    f = finding(payload, "deploy/grafana/grafana.yaml")
    assert (f["applicability"], f["data"]["proof"]["kind"]) == ("safe", "proven")


def test_an_image_nobody_named_is_never_proven(demo_copy: Path, capsys):
    _, payload = check_json(capsys, str(demo_copy))
    f = finding(payload, "deploy/web/deployment.yaml")
    assert f["data"]["proof"]["kind"] == "unreachable"
    assert f["data"]["proof"]["summary"].startswith(f"not proven: no source for {WEB}")
    assert f["applicability"] == "safe"  # the rules' verdict stands; nothing claims a proof


def test_a_difference_makes_the_fix_manual_and_fix_does_not_write_it(demo_copy: Path, tmp_path: Path, capsys):
    before = make_image(tmp_path, "old", {"site/index.html": b"old"}, tag="old")
    after = make_image(tmp_path, "new", {"site/index.html": b"new!"}, tag="new")
    manifest = demo_copy / "deploy" / "web" / "deployment.yaml"
    original = manifest.read_bytes()
    dockerfile = demo_copy / "web" / "Dockerfile"
    original_dockerfile = dockerfile.read_bytes()
    assets = "registry.example.com/platform/web-site-assets:1.4.2"
    code = main(
        [
            "check",
            "--fix",
            "--no-cache",
            "--mode",
            "scratch",
            "--prove",
            str(demo_copy),
            "--image",
            f"{WEB}={before}",
            "--image",
            f"{assets}={after}",
        ]
    )
    out = capsys.readouterr()
    assert manifest.read_bytes() == original
    assert dockerfile.read_bytes() == original_dockerfile  # nor its DF001 twin in the same change-set
    assert "verify found differences" in out.out and "1 different (/index.html)" in out.out
    assert code == 1


def test_patch_summaries_carry_the_proof(demo_copy: Path, tmp_path: Path, capsys):
    web = make_image(tmp_path, "web", {"site/index.html": b"x"})
    patches = tmp_path / "patches"
    main(
        ["check", "--no-cache", "--mode", "zero-rebuild", "--prove", str(demo_copy), "--image", f"{WEB}={web}", "--patch-dir", str(patches)]
    )
    web_md = next(patches.glob("*-deployment-web.md")).read_text()
    assert "## Proof\n\n- proven: 'nginx' at /usr/share/nginx/html: 1 entry identical" in web_md
    opa_md = next(patches.glob("*-deployment-opa.md")).read_text()
    assert "- not proven: no source for registry.example.com/platform/opa-bundle:0.12.0" in opa_md


DEMO_INIT_IMAGES = {  # image the demo's init containers run -> the directory holding its Dockerfile
    "registry.example.com/platform/web-site:1.4.2": "web",
    "registry.example.com/platform/opa-bundle:0.12.0": "policy/bundle",
    "registry.example.com/platform/grafana-plugins:3.1.0": "grafana/plugins",
    "registry.example.com/platform/ml-model:2024.11.1": "ml/model",
    "registry.example.com/platform/otel-javaagent:2.10.0": "observability/javaagent",
}


def test_every_demo_iv001_change_set_is_proven_on_the_images_its_dockerfiles_build(demo_copy: Path, tmp_path: Path, capsys):
    """Each init image is built from the demo's own Dockerfile (its busybox/alpine base swapped for
    scratch: the base can't be pulled here, and the copies only read the COPYed files)."""
    pairs = []
    for n, (ref, context) in enumerate(DEMO_INIT_IMAGES.items()):
        dockerfile = demo_copy / context / "Dockerfile"
        scratch = tmp_path / f"Dockerfile.{n}"
        scratch.write_text(
            "".join("FROM scratch\n" if line.startswith("FROM ") else line for line in dockerfile.read_text().splitlines(keepends=True))
        )
        build(scratch, demo_copy / context, tag="v1", output=tmp_path / f"oci-{n}")
        pairs += ["--image", f"{ref}=oci:{tmp_path / f'oci-{n}'}:v1"]
    _, payload = check_json(capsys, str(demo_copy), *pairs)
    proofs = {f["data"]["owner"]: f["data"]["proof"] for f in payload["findings"] if f["rule"] == "IV001"}
    assert set(proofs) == {"Deployment/web", "Deployment/opa", "Deployment/grafana", "StatefulSet/resnet-serving", "Deployment/checkout"}
    assert {owner: p["kind"] for owner, p in proofs.items()} == dict.fromkeys(proofs, "proven"), proofs
