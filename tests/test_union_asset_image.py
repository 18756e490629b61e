"""Scratch mode builds one asset image whose root is the emptyDir when mounts of the init images
can't express it (two images merged into one directory, a renamed file) — and `verify` proves,
on real OCI layouts built by our own builder, that the readers see the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

from testlib import FIXTURES, make_engine
from migrate_tui.cli import main
from migrate_tui.oci.build import build


def _image(tmp: Path, name: str, files: dict[str, str]) -> str:
    context = tmp / f"ctx-{name}"
    for rel, text in files.items():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / rel).write_text(text)
    (context / "Dockerfile").write_text(
        "FROM scratch\n" + "".join(f"COPY {top}/ /{top}/\n" for top in sorted({r.split("/")[0] for r in files}))
    )
    build(context / "Dockerfile", context, tag="1", output=tmp / f"oci-{name}")
    return f"oci:{tmp / f'oci-{name}'}:1"


def test_two_images_merged_into_one_directory_become_one_union_image(tmp_path: Path, capsys) -> None:
    base = _image(tmp_path, "base", {"plugins/a/plugin.json": "a", "plugins/shared.txt": "from base", "bin/sh": "shell"})
    extra = _image(tmp_path, "extra", {"plugins/b/plugin.json": "b", "plugins/shared.txt": "from extra", "bin/sh": "shell"})
    repo = tmp_path / "repo"
    repo.mkdir()
    case = FIXTURES / "IV001" / "manual_two_images_one_dir.yaml"
    shutil.copyfile(case, repo / "merged.yaml")
    # zero-rebuild can't express the union...
    assert make_engine(repo, select=("IV001",), mode="zero-rebuild").scan().findings[0].fix is None
    # ...scratch mode can: a new Dockerfile and a manifest that mounts its image whole
    report, after = make_engine(repo, select=("IV001",), mode="scratch").fix()
    assert sorted(report.written) == ["assets/merged-plugins/Dockerfile", "merged.yaml"]
    dockerfile = (repo / "assets/merged-plugins/Dockerfile").read_text()
    assert dockerfile.index("--from=source1 /plugins/ /") < dockerfile.index("--from=source2 /plugins/ /")
    new_ref = "registry.example.com/merged-plugins-assets:1"
    assert f"reference: {new_ref}" in (repo / "merged.yaml").read_text()
    images = ["--image", f"registry.example.com/plugins-base:1={base}", "--image", f"registry.example.com/plugins-extra:1={extra}"]
    assert (
        main(
            [
                "build",
                str(repo),
                "-f",
                str(repo / "assets/merged-plugins/Dockerfile"),
                "-t",
                new_ref,
                "-o",
                str(tmp_path / "oci-union"),
                *images,
            ]
        )
        == 0
    )
    capsys.readouterr()
    code = main(["verify", str(case), str(repo / "merged.yaml"), *images, "--image", f"{new_ref}=oci:{tmp_path / 'oci-union'}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK   Deployment/merged container 'app' at /plugins: 0 missing, 0 different, 0 extra" in out


def test_a_renamed_file_gets_its_new_name_in_the_asset_image(tmp_path: Path, capsys) -> None:
    agent = _image(tmp_path, "agent", {"opt/agent/elastic-apm-agent-1.50.0.jar": "jar bytes", "opt/agent/README": "x"})
    repo = tmp_path / "repo"
    repo.mkdir()
    case = FIXTURES / "IV001" / "manual_renamed_file.yaml"
    shutil.copyfile(case, repo / "agent.yaml")
    make_engine(repo, select=("IV001",), mode="scratch").fix()
    new_ref = "registry.example.com/agent-agent-assets:1.50"
    images = ["--image", f"registry.example.com/apm-agent:1.50={agent}"]
    assert (
        main(
            ["build", str(repo), "-f", str(repo / "assets/agent-agent/Dockerfile"), "-t", new_ref, "-o", str(tmp_path / "oci-new"), *images]
        )
        == 0
    )
    capsys.readouterr()
    code = main(["verify", str(case), str(repo / "agent.yaml"), *images, "--image", f"{new_ref}=oci:{tmp_path / 'oci-new'}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 extra" in out  # no sibling README: the asset image holds exactly the copied file


def test_a_volume_image_is_refused_for_a_copy_from_an_init_container_without_image(tmp_path: Path) -> None:
    """The planner refuses (no KeyError) when a flow that copies into the volume names no image;
    the rule itself never gets there: such a flow carries a no-image blocker."""
    from migrate_tui.analysis.workloads import pod_specs
    from migrate_tui.fixes.asset_image import plan_volume_image
    from migrate_tui.repo.sources import SourceFile
    from migrate_tui.rules.init_copy_to_empty_dir import groups_of

    repo = tmp_path / "repo"
    repo.mkdir()
    text = (FIXTURES / "IV001" / "manual_two_images_one_dir.yaml").read_text()
    text = text.replace("        image: registry.example.com/plugins-extra:1\n", "")
    (repo / "merged.yaml").write_text(text)
    engine = make_engine(repo, select=("IV001",), mode="scratch")
    finding = engine.scan().findings[0]
    assert finding.fix is None
    assert "the init container names no image in this file" in (finding.fix_blocked or "")
    ctx = engine.context
    source = ctx.project.read("merged.yaml")
    assert isinstance(source, SourceFile)
    subject = next(pod_specs(source))
    [group] = groups_of(subject, ctx)
    assert [f.image for f in group] == ["registry.example.com/plugins-base:1", None]
    assert plan_volume_image(ctx, group, "plugins", subject.ref.owner) == (
        'init container "extra-plugins" names no image; no Dockerfile is written for what it copies'
    )
