"""IV003 image-volume-platform: judged against the target, offline unless a digest source is
given (OCI layout directory, or a registry the user allowed)."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "k8s_standin"))

from testlib import FIXTURES  # noqa: E402
from migrate_tui import rules  # noqa: E402
from migrate_tui.repo.config import Config  # noqa: E402
from migrate_tui.platform.digest import DigestError, OciLayoutResolver, RegistryResolver  # noqa: E402
from migrate_tui.pipeline.engine import Engine  # noqa: E402
from migrate_tui.model.findings import Applicability  # noqa: E402
from migrate_tui.platform.target import parse_target  # noqa: E402
from oci_standin import Registry, write_layout  # noqa: E402

from migrate_tui.rules.image_volume_platform import NO_RESOLVER, looks_like_file  # noqa: E402


@pytest.fixture(autouse=True)
def iv003_registered(monkeypatch) -> None:
    """Register IV003 for these tests only: other tests' sessions must not see it by accident."""
    monkeypatch.setitem(rules._MODULES, "IV003", "image_volume_platform")


DIGEST = "sha256:" + "ab" * 32


@dataclass(frozen=True)
class DigestConfig(Config):
    """Config with the digest-source keys IV003 reads (see the report for the real fields)."""

    oci_layouts: tuple[str, ...] = ()
    resolve_digests: bool = False
    require_digests: bool = False


def scan(root: Path, target: str = "k8s=1.36,containerd=2.2", **config):
    engine = Engine(root, DigestConfig(select=("IV003",), target=parse_target(target), **config))
    return engine, engine.scan().findings


def manifest(tmp_path: Path, reference: str, *, sub_path: str | None = None, mount_path: str = "/srv/site", extra: str = "") -> Path:
    mount = f"        - name: site\n          mountPath: {mount_path}\n"
    if sub_path:
        mount += f"          subPath: {sub_path}\n"
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        volumeMounts:\n"
        f"{mount}      volumes:\n      - name: site\n        image:\n          reference: {reference}\n{extra}"
    )
    path = tmp_path / "web.yaml"
    path.write_text(text)
    return path


def kinds(findings) -> list[str]:
    return sorted(f.data["kind"] for f in findings)


# --- platform -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "kind", "needle"),
    [
        ("k8s=1.30", "platform", "the field exists from 1.31"),
        ("k8s=1.33,containerd=2.1", "platform", "gate is off by default on Kubernetes 1.33"),
        ("k8s=1.35,containerd=2.0", "platform", "needs containerd 2.1"),
        ("k8s=1.35,runtime=cri-dockerd", "platform", "cri-dockerd can't mount image volumes"),
        ("k8s=1.33,containerd=2.1,gate=on", "subpath", "needs containerd 2.2"),
        ("k8s=1.32,containerd=2.2,gate=on", "subpath", "needs Kubernetes 1.33"),
        ("k8s=1.35,crio=1.32", "subpath", "needs CRI-O 1.33"),
    ],
)
def test_platform_blockers_name_the_version_needed(tmp_path: Path, target: str, kind: str, needle: str) -> None:
    manifest(tmp_path, f"registry.example.com/site:1@{DIGEST}", sub_path="site")
    _, findings = scan(tmp_path, target)
    assert kinds(findings) == [kind]
    assert needle in findings[0].message and findings[0].fix is None
    assert findings[0].location.line == (20 if kind == "platform" else 16)


@pytest.mark.parametrize("target", ["k8s=1.36,containerd=2.2", "k8s=1.33,containerd=2.2,gate=on", "k8s=1.35,crio=1.33"])
def test_supported_platform_is_clean(tmp_path: Path, target: str) -> None:
    manifest(tmp_path, f"registry.example.com/site:1@{DIGEST}", sub_path="site")
    assert scan(tmp_path, target)[1] == []


def test_file_subpath_is_a_containerd_problem_only(tmp_path: Path) -> None:
    manifest(tmp_path, f"registry.example.com/site:1@{DIGEST}", sub_path="conf/nginx.conf", mount_path="/etc/nginx/nginx.conf")
    _, findings = scan(tmp_path, "k8s=1.36,containerd=2.2")
    assert kinds(findings) == ["file-subpath"]
    assert "containerd mounts only directory subPaths" in findings[0].message
    assert scan(tmp_path, "k8s=1.36,crio=1.33")[1] == []


@pytest.mark.parametrize(
    ("sub_path", "is_file"),
    [
        ("nginx.conf", True),
        ("models/resnet.onnx", True),
        ("app.tar.gz", True),
        ("a/b/index.html/", True),
        ("site", False),
        ("etc/conf.d", False),
        (".config", False),
        ("lib/python3.11", False),
        ("v1.2", False),
        ("sites/example.com", False),
        ("repo.git", False),
        ("a.verylongext", False),
    ],
)
def test_file_heuristic(sub_path: str, is_file: bool) -> None:
    assert looks_like_file(sub_path) is is_file


def test_mount_at_root(tmp_path: Path) -> None:
    manifest(tmp_path, f"registry.example.com/site:1@{DIGEST}", mount_path="/")
    _, findings = scan(tmp_path)
    assert kinds(findings) == ["root-mount"] and "at '/'" in findings[0].message


def test_pull_policy_never(tmp_path: Path) -> None:
    manifest(tmp_path, f"registry.example.com/site:1@{DIGEST}", extra="          pullPolicy: Never\n")
    _, findings = scan(tmp_path)
    assert kinds(findings) == ["pull-never"] and "ErrImageNeverPull" in findings[0].message


# --- tags and digests -----------------------------------------------------------------------


def test_offline_by_default(tmp_path: Path, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("IV003 must not touch the network unless asked")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    manifest(tmp_path, "registry.example.com/site:1.4.2")
    assert scan(tmp_path)[1] == []  # a fixed tag with no way to pin it: IV001's note is enough
    manifest(tmp_path, "registry.example.com/site:latest")
    _, findings = scan(tmp_path)
    assert kinds(findings) == ["digest"]
    finding = findings[0]
    assert finding.fix is None and finding.fix_blocked == NO_RESOLVER
    assert any("ImagePolicyWebhook" in note for note in finding.notes)


def test_require_digests_reports_every_unpinned_tag(tmp_path: Path) -> None:
    manifest(tmp_path, "registry.example.com/site:1.4.2")
    _, findings = scan(tmp_path, require_digests=True)
    assert kinds(findings) == ["digest"]
    assert "without a digest" in findings[0].message and findings[0].severity.value == "info"
    assert findings[0].fix_blocked == NO_RESOLVER


def test_latest_is_a_warning(tmp_path: Path) -> None:
    manifest(tmp_path, "registry.example.com/site")
    _, findings = scan(tmp_path)
    assert "no tag means :latest" in findings[0].message and findings[0].severity.value == "warning"


def test_pin_from_oci_layout_is_an_unsafe_fix(tmp_path: Path) -> None:
    digests = write_layout(tmp_path / "out" / "site", {"registry.example.com/site:1.4.2": ["linux/amd64", "linux/arm64"]})
    path = manifest(tmp_path, "registry.example.com/site:1.4.2")
    engine, findings = scan(tmp_path, "k8s=1.36,containerd=2.2,arch=amd64+arm64", oci_layouts=("out/site",))
    [finding] = findings
    assert finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE
    assert "points today" in finding.fix.assumption
    report, after = engine.fix(unsafe=False)
    assert report.written == []  # unsafe fixes need --unsafe-fixes
    report, after = engine.fix(unsafe=True)
    digest = digests["registry.example.com/site:1.4.2"]
    assert f"reference: registry.example.com/site:1.4.2@{digest}\n" in path.read_text()
    assert after.findings == []


def test_pin_keeps_quotes_and_tag_only_layouts(tmp_path: Path) -> None:
    digests = write_layout(tmp_path / "layouts" / "site", {"registry.example.com/site:2": ["linux/amd64"]}, full_names=False)
    path = manifest(tmp_path, '"registry.example.com/site:2"')
    engine, findings = scan(tmp_path, oci_layouts=(f"registry.example.com/site={tmp_path / 'layouts' / 'site'}",))
    assert findings[0].fix is not None
    engine.fix(unsafe=True)
    assert f'reference: "registry.example.com/site:2@{digests["registry.example.com/site:2"]}"\n' in path.read_text()


def test_arch_not_covered(tmp_path: Path) -> None:
    write_layout(tmp_path / "site", {"registry.example.com/site:1": ["linux/amd64"]})
    manifest(tmp_path, "registry.example.com/site:1")
    _, findings = scan(tmp_path, "k8s=1.36,containerd=2.2,arch=amd64+arm64", oci_layouts=("site",))
    assert kinds(findings) == ["arch", "digest"]
    arch = next(f for f in findings if f.data["kind"] == "arch")
    assert "include arm64" in arch.message and arch.severity.value == "error"


def test_unknown_image_in_layout_says_so(tmp_path: Path) -> None:
    write_layout(tmp_path / "site", {"registry.example.com/other:1": ["linux/amd64"]})
    manifest(tmp_path, "registry.example.com/site:1")
    _, findings = scan(tmp_path, oci_layouts=("site",))
    assert findings[0].fix is None and "not found in the configured digest sources" in findings[0].fix_blocked
    (tmp_path / "site" / "index.json").unlink()
    _, findings = scan(tmp_path, oci_layouts=("site",))
    assert "not an OCI image layout" in findings[0].fix_blocked


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_pin_from_registry_with_distribution_api(tmp_path: Path, token: str | None) -> None:
    with Registry({"team/site:1.0": ["linux/amd64", "linux/arm64"]}, token=token) as registry:
        path = manifest(tmp_path, f"{registry.host}/team/site:1.0")
        engine, findings = scan(tmp_path, resolve_digests=True)
        assert findings[0].fix is not None, findings[0].fix_blocked
        engine.fix(unsafe=True)
        manifest_requests = [r for r in registry.requests if "/manifests/" in r["path"]]
        assert manifest_requests[0]["path"] == "/v2/team/site/manifests/1.0"
        assert "application/vnd.oci.image.index.v1+json" in manifest_requests[0]["accept"]
        if token:
            assert any(r["path"] == "/token" for r in registry.requests)
            assert manifest_requests[-1]["authorization"] == f"Bearer {token}"
    top = registry.tags[("team/site", "1.0")][0]
    assert f"/team/site:1.0@{top}\n" in path.read_text()


def test_registry_resolver_errors_are_sentences() -> None:
    with Registry({"team/site:1.0": ["linux/amd64"]}) as registry:
        resolver = RegistryResolver(timeout=2)
        info = resolver(f"{registry.host}/team/site:1.0")
        assert info.platforms == ("linux/amd64",) and info.source == f"registry {registry.host}"
        with pytest.raises(DigestError, match="not found"):
            resolver(f"{registry.host}/team/site:2.0")
    with pytest.raises(DigestError, match="can't reach"):
        RegistryResolver(timeout=1)(f"{registry.host}/team/site:1.0")


def test_layout_resolver_by_digest(tmp_path: Path) -> None:
    digests = write_layout(tmp_path / "l", {"ghcr.io/a/b:1": ["linux/amd64", "linux/s390x"]})
    resolver = OciLayoutResolver([tmp_path / "l"])
    digest = digests["ghcr.io/a/b:1"]
    assert resolver(f"ghcr.io/a/b@{digest}").platforms == ("linux/amd64", "linux/s390x")
    assert resolver("ghcr.io/a/b:2") is None
    assert resolver("ghcr.io/a/c:1") is None


DESCRIPTOR = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 2}


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        ({"manifests": {"a": DESCRIPTOR}}, "'manifests' is not a list of descriptors"),
        ({"manifests": ["registry.example.com/site:1"]}, "'manifests' is not a list of descriptors"),
        ({"manifests": [{**DESCRIPTOR, "annotations": ["site:1"]}]}, "descriptor annotations are not a mapping"),
        ({"manifests": [{**DESCRIPTOR, "annotations": {"io.containerd.image.name": 5}}]}, "an image name annotation is not a string"),
        (
            {"manifests": [{**DESCRIPTOR, "annotations": {"org.opencontainers.image.ref.name": ["1"]}}]},
            "an image name annotation is not a string",
        ),
        (
            {"manifests": [{**DESCRIPTOR, "digest": 5, "annotations": {"org.opencontainers.image.ref.name": "1"}}]},
            "descriptor digest '5' is not a sha256 digest",
        ),
    ],
)
def test_malformed_layout_index_is_a_sentence(tmp_path: Path, index: dict[str, object], problem: str) -> None:
    """A committed index.json is untrusted: a wrong shape is a DigestError naming the file, not a crash."""
    layout = tmp_path / "site"
    layout.mkdir()
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(DigestError) as caught:
        OciLayoutResolver(["site"], root=tmp_path)("registry.example.com/site:1")
    assert str(caught.value) == f"{layout}/index.json: {problem}"
    manifest(tmp_path, "registry.example.com/site:1")
    engine, findings = scan(tmp_path, oci_layouts=("site",))
    assert [f.fix_blocked for f in findings] == [f"{layout}/index.json: {problem}"]
    assert engine.scan().diagnostics == []


# --- fixtures through the engine, and the doc ----------------------------------------------


@pytest.mark.parametrize("path", sorted((FIXTURES / "IV003").glob("*.yaml")), ids=lambda p: p.name)
def test_fixtures_on_default_target(tmp_path: Path, path: Path) -> None:
    shutil.copyfile(path, tmp_path / path.name)
    _, findings = scan(tmp_path)
    expected = path.read_text().count("# expect: IV003 manual")
    assert len(findings) == expected, [f.message for f in findings]
    assert all(f.applicability is Applicability.MANUAL for f in findings)


def test_rule_doc_has_the_sections() -> None:
    doc = rules.get_rule("IV003").doc
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in doc
