"""`check --patch-dir DIR`: one reviewable patch per change-set that real `git apply` takes, patch
by patch, to exactly the bytes `check --fix` writes; nothing else is touched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrate_tui.cli import main

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _init(repo: Path) -> None:
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "before")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _apply_in_order(repo: Path, patch_dir: Path) -> list[str]:
    names = sorted(p.name for p in patch_dir.glob("*.patch"))
    for name in names:
        _git(repo, "apply", "--check", str(patch_dir / name))
        _git(repo, "apply", str(patch_dir / name))
    return names


def _same_as_fix(tmp_path: Path, source: Path, *extra: str) -> tuple[list[str], Path]:
    by_patch, by_fix, patches = tmp_path / "by-patch", tmp_path / "by-fix", tmp_path / "patches"
    shutil.copytree(source, by_patch)
    shutil.copytree(source, by_fix)
    _init(by_patch)
    before = _snapshot(by_patch)
    assert main(["check", str(by_patch), "--patch-dir", str(patches), "--no-cache", *extra]) == 1
    assert _snapshot(by_patch) == before  # --patch-dir touches nothing in the tree
    names = _apply_in_order(by_patch, patches)
    main(["check", str(by_fix), "--fix", "--no-cache", *extra])
    assert _snapshot(by_patch) == _snapshot(by_fix)
    return names, patches


def test_demo_patches_apply_one_by_one_to_what_fix_writes(demo_copy: Path, tmp_path: Path):
    names, patches = _same_as_fix(tmp_path, demo_copy)
    assert names == [
        "01-deployment-grafana.patch",
        "02-statefulset-resnet-serving.patch",
        "03-deployment-opa.patch",
        "04-deployment-web.patch",
        "05-dockerfile-services-api.patch",
        "06-dockerfile-services-worker.patch",
    ]
    summary = (patches / "04-deployment-web.md").read_text()
    for heading in ("## What changes", "## Why", "## Caveats", "## Platform needs", "## Estimated savings", "## Build and prove"):
        assert heading in summary
    assert "migrate-tui build web -t registry.example.com/platform/web-site-assets:1.4.2 --push" in summary
    assert "migrate-tui verify /tmp/before.yaml deploy/web/deployment.yaml" in summary
    assert "subPath on an image volume: containerd 2.2+" in summary
    assert "Apply after: `01-deployment-grafana.patch`" in summary  # skaffold.yaml is shared
    index = (patches / "README.md").read_text()
    assert sum(line.startswith("- `") for line in index.splitlines()) == 6


def test_unsafe_patches_only_with_unsafe_fixes(demo_copy: Path, tmp_path: Path):
    names, patches = _same_as_fix(tmp_path, demo_copy, "--unsafe-fixes")
    assert "deployment-checkout" in " ".join(names)
    summary = next(patches.glob("*-deployment-checkout.md")).read_text()
    assert "Applicability: **unsafe**" in summary and "assumption: " in summary


CRLF_MANIFEST = (
    "\ufeffapiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: site\r\nspec:\r\n"
    "  selector: {matchLabels: {app: site}}\r\n  template:\r\n    metadata: {labels: {app: site}}\r\n    spec:\r\n"
    "      initContainers:\r\n        - name: copy\r\n          image: registry.example.com/site:1\r\n"
    '          command: ["sh", "-c", "cp -r /site/. /html/"]\r\n'
    "          volumeMounts: [{name: html, mountPath: /html}]\r\n"
    "      containers:\r\n        - name: web\r\n          image: nginx:1.27\r\n"
    "          volumeMounts: [{name: html, mountPath: /usr/share/nginx/html, readOnly: true}]\r\n"
    "      volumes:\r\n        - name: html\r\n          emptyDir: {}\r\n"
)


def test_a_crlf_file_with_a_bom_keeps_its_bytes_through_the_patch(tmp_path: Path):
    source = tmp_path / "src"
    (source / "deploy").mkdir(parents=True)
    (source / "deploy" / "site.yaml").write_bytes(CRLF_MANIFEST.encode("utf-8"))
    names, _patches = _same_as_fix(tmp_path, source)
    assert names == ["01-deployment-site.patch"]
    written = (tmp_path / "by-patch" / "deploy" / "site.yaml").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf") and b"\r\n" in written and b"\n" not in written.replace(b"\r\n", b"")


def test_two_workloads_in_one_file_get_two_patches(tmp_path: Path):
    source = tmp_path / "src"
    source.mkdir()
    doc = CRLF_MANIFEST.replace("\ufeff", "").replace("\r\n", "\n")
    (source / "both.yaml").write_text(doc + "---\n" + doc.replace("name: site", "name: other"))
    names, patches = _same_as_fix(tmp_path, source)
    assert names == ["01-deployment-site.patch", "02-deployment-other.patch"]
    assert "Apply after: `01-deployment-site.patch`" in (patches / "02-deployment-other.md").read_text()


def test_patch_dir_must_be_new_or_empty(demo_copy: Path, tmp_path: Path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.patch").write_text("x")
    assert main(["check", str(demo_copy), "--patch-dir", str(full), "--no-cache"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (full / "old.patch").read_text() == "x"
