"""DF001 when a manifest in the repo runs the image (issue 13 item 7): any container that runs
it, not only an init container, makes the FROM-scratch fix manual, naming manifest:line and
what runs there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testlib import FIXTURES, make_engine


def _repo(tmp_path: Path, case: str) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "DF001" / f"{case}.context", root)
    shutil.copyfile(FIXTURES / "DF001" / f"{case}.Dockerfile", root / f"{case}.Dockerfile")
    return root


def test_a_deployment_running_the_image_makes_it_manual(tmp_path: Path) -> None:
    root = _repo(tmp_path, "runs_in_deployment")
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "runs-in-repo"
    assert finding.fix_blocked == (
        "deploy/docs.yaml:14:1: container 'httpd' runs registry.example.com/docs:2.4.0 (command, readinessProbe exec); "
        "FROM scratch would leave it without a shell or any program"
    )
    assert [str(l) for l in finding.related] == ["deploy/docs.yaml:14:1"]


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda t: t.replace('        command: ["httpd", "-f", "-p", "8080", "-h", "/www"]\n', ""), "readinessProbe exec"),
        (lambda t: t[: t.index("        command:")], "the image's entrypoint"),
        (lambda t: t[: t.index("        command:")] + '        args: ["-v"]\n', "args"),
    ],
)
def test_what_runs_is_named(tmp_path: Path, edit, what: str) -> None:
    root = _repo(tmp_path, "runs_in_deployment")
    path = root / "deploy" / "docs.yaml"
    path.write_text(edit(path.read_text()))
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.fix_blocked == (
        f"deploy/docs.yaml:14:1: container 'httpd' runs registry.example.com/docs:2.4.0 ({what}); "
        "FROM scratch would leave it without a shell or any program"
    )


def test_a_sidecar_elsewhere_blocks_even_when_an_init_container_copies(tmp_path: Path) -> None:
    root = _repo(tmp_path, "sidecar_runs_image")
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.fix is None
    # IV001 migrates the init container with a NEW asset Dockerfile (the sidecar still runs this
    # image, so its Dockerfile is not rewritten in place): DF001 sees both users
    assert finding.fix_blocked == (
        "deploy/web.yaml:13:1: the init container copies from this image and IV001 can't migrate it yet (mode auto: "
        "the change-set keeps the image as it is); FROM scratch alone would break it; "
        "deploy/status.yaml:16:1: container 'status-page' runs registry.example.com/site:1.0.0 (lifecycle postStart "
        "exec); FROM scratch would leave it without a shell or any program"
    )


def test_only_an_image_volume_reference_keeps_the_unsafe_fix(tmp_path: Path) -> None:
    root = _repo(tmp_path, "mounted_as_image_volume")
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.applicability.value == "unsafe"
    assert finding.fix.edits[0].content == "scratch"


def test_a_runner_of_an_image_linked_only_by_name_withholds_the_assumption(tmp_path: Path) -> None:
    root = _repo(tmp_path, "statuspage")
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.fix is None and finding.data["fix_blocked_kind"] == "runs-in-repo"
    assert finding.fix_blocked == (
        "deploy/statuspage.yaml:13:1: container 'httpd' runs registry.example.com/web/statuspage:0.3.1 (args), which "
        "statuspage.Dockerfile (context .; directory, statuspage.Dockerfile) may build (linked only by its file or "
        "directory name); FROM scratch would leave it without a shell"
    )
    (root / "deploy" / "statuspage.yaml").unlink()
    [finding] = make_engine(root, select=("DF001",)).scan().findings
    assert finding.applicability.value == "unsafe"


def test_iv001_never_rewrites_the_dockerfile_of_an_image_another_workload_runs(tmp_path: Path) -> None:
    """IV001 in scratch mode would rewrite the init image's Dockerfile FROM scratch and rename its
    build; a sidecar elsewhere still runs that image, so the change-set writes a new asset
    Dockerfile and leaves the shared Dockerfile and skaffold.yaml alone."""
    root = _repo(tmp_path, "sidecar_runs_image")
    before = {p: (root / p).read_bytes() for p in ("sidecar_runs_image.Dockerfile", "skaffold.yaml", "deploy/status.yaml")}
    result = make_engine(root, select=("IV001",), mode="scratch").scan()
    [finding] = [f for f in result.findings if f.fix is not None]
    paths = set(finding.fix.paths)
    assert paths.isdisjoint(before), paths
    assert any(p.startswith("assets/") and p.endswith("Dockerfile") for p in paths), paths
    assert any("deploy/status.yaml: container 'status-page' also runs" in n for n in finding.notes), finding.notes
    make_engine(root, select=("IV001",), mode="scratch").fix()
    assert {p: (root / p).read_bytes() for p in before} == before
