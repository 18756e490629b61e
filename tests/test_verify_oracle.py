"""The oracle for "rewrites only what is provably equivalent": every IV001 fix, in zero-rebuild and
in scratch mode, is checked by the project's own `migrate-tui verify BEFORE AFTER` against real
OCI layouts of the init images (tests/oracle/images.py: dot-files, nested and empty dirs,
relative/absolute/dangling symlinks, odd modes, a whited-out file, files beside the copied dir).
Scratch-mode asset images are built with `migrate-tui build` from the Dockerfile the fix wrote.

A SAFE fix that fails verify is a wrong write: it is marked ``xfail(strict=True)`` with the
reason, never hidden. The only differences a fix may leave are the ones its notes announce:
dot-files a shell glob skipped, and the siblings of a single copied file (zero-rebuild mounts its
directory); verify reports them as "extra", and exactly those.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from migrate_tui.oci.layout import FileEntry, make_layer
from migrate_tui.oci.tree import apply_layers
from oracle.flow import Verified, build_assets, documents, migrate, verify
from oracle.images import BASE, DELETED, build_init_images, directory_entries, slug, write_layout

MODES = ("zero-rebuild", "scratch")

# Extras verify must report, per reader, relative to its mount (read by hand from each fixture:
# the glob skipped the top-level dot-entries of /plugins; zero-rebuild mounts the jar's directory).
EXTRAS: dict[tuple[str, str], list[str]] = {
    ("cp_glob_dotfiles", "zero-rebuild"): [".dotdir", ".dotdir/inner.txt", ".hidden"],
    ("cp_glob_dotfiles", "scratch"): [".dotdir", ".dotdir/inner.txt", ".hidden"],
    ("cp_single_file", "zero-rebuild"): [".sibling-dot", "sibling.txt"],
}

# Safe fixes verify proves wrong (a wrong write; the rule's owner must fix them): none today.
WRONG_WRITES: dict[tuple[str, str], str] = {}


def _fixture_cases() -> list:
    cases = []
    for path in sorted((FIXTURES / "IV001").glob("*.yaml")):
        if ".fixed" in path.name or path.name.startswith("clean_"):
            continue
        for mode in MODES:
            marks = []
            if (path.stem, mode) in WRONG_WRITES:
                marks.append(pytest.mark.xfail(strict=True, reason=WRONG_WRITES[(path.stem, mode)]))
            cases.append(pytest.param(path, mode, id=f"{path.stem}-{mode}", marks=marks))
    return cases


def _stage(path: Path, work: Path) -> Path:
    repo = work / "repo"
    repo.mkdir(parents=True)
    shutil.copyfile(path, repo / path.name)
    return repo


def _assert_equivalent(result: Verified, extras: list[str]) -> None:
    assert result.readers, result.out  # "nothing to verify" would prove nothing
    for reader in result.readers:
        assert reader.summary.startswith(f"0 missing, 0 different, {len(extras)} extra, "), result.out
        assert reader.details.get("extra", []) == extras, result.out
        assert reader.ok is (not extras), result.out
    assert result.code == (1 if extras else 0), result.out


@pytest.mark.parametrize(("path", "mode"), _fixture_cases())
def test_every_fixed_fixture_is_proven_by_verify(path: Path, mode: str, tmp_path: Path) -> None:
    repo = _stage(path, tmp_path)
    layouts = build_init_images(documents(path.read_text(encoding="utf-8")), tmp_path / "oci")
    migration = migrate(repo, path.name, mode=mode)
    if not migration.written:
        # nothing to prove: the finding is manual (and then nothing may be written)
        assert migration.applicability and set(migration.applicability) == {"manual"}, migration.applicability
        return
    assert set(migration.applicability) <= {"safe", "unsafe"}, migration.applicability
    if mode == "zero-rebuild":
        golden = path.with_name(path.stem + ".fixed.yaml")
        assert migration.after.read_bytes() == golden.read_bytes()  # the fix verified is the golden one
    layouts |= build_assets(repo, migration.assets, tmp_path / "assets", layouts)
    extras = EXTRAS.get((path.stem, mode), [])
    _assert_equivalent(verify(path, migration.after, layouts), extras)
    if extras:
        allowed = verify(path, migration.after, layouts, "--allow-extra")
        assert allowed.code == 0 and all(r.ok for r in allowed.readers), allowed.out


def test_a_linked_asset_dockerfile_rewritten_to_scratch_builds_what_the_readers_saw(tmp_path: Path) -> None:
    """DF001/linked_init_copy: skaffold builds the init image from a Dockerfile in the repo; scratch
    mode rewrites that Dockerfile to FROM scratch (same COPY) and renames the image. The old image
    is the alpine base plus COPY site/ /site/; the new one is built from the same context."""
    case = FIXTURES / "DF001"
    repo = tmp_path / "repo"
    shutil.copytree(case / "linked_init_copy.context", repo)
    shutil.copyfile(case / "linked_init_copy.Dockerfile", repo / "linked_init_copy.Dockerfile")
    site = [e for e in directory_entries("site", "the build context") if e.path.startswith("site/")]
    for entry in site:  # the build context holds the same tree the old image was built from
        target = repo / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "dir":
            target.mkdir(exist_ok=True)
        elif entry.kind == "symlink":
            os.symlink(entry.linkname, target)
        else:
            target.write_bytes(entry.data)
        if entry.kind != "symlink":
            os.chmod(target, entry.mode)
    old = make_layer(BASE + [FileEntry("site/index.html", "file", (repo / "site/index.html").read_bytes())] + site)
    layouts = {"registry.example.com/site:1.0.0": write_layout(tmp_path / "oci-site", "registry.example.com/site:1.0.0", [old])}
    before = tmp_path / "web-before.yaml"
    shutil.copyfile(repo / "deploy/web.yaml", before)
    migration = migrate(repo, "deploy/web.yaml", mode="scratch")
    assert migration.applicability == ["safe"]
    assert migration.written == ["deploy/web.yaml", "linked_init_copy.Dockerfile", "skaffold.yaml"]
    assert [a["change"] for a in migration.assets] == ["rewritten"]
    assert (repo / "linked_init_copy.Dockerfile").read_text().endswith("FROM scratch\nCOPY site/ /site/\n")
    layouts |= build_assets(repo, migration.assets, tmp_path / "assets", layouts)
    assert list(layouts) == ["registry.example.com/site:1.0.0", "registry.example.com/site-assets:1.0.0"]
    result = verify(before, migration.after, layouts)
    _assert_equivalent(result, [])
    assert result.readers[0].where == "Deployment/web container 'nginx' at /usr/share/nginx/html"


def test_the_generated_images_hold_what_the_layers_say(tmp_path: Path) -> None:
    """The oracle's own inputs: the whited-out file is gone, dot-files keep their names, also at
    the image root (a tar member "./.hidden" or ".wh.x" at / used to lose its leading dot)."""
    source = build_init_images(documents((FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()), tmp_path)
    from migrate_tui.oci.source import open_image

    tree = apply_layers(open_image(source["registry.example.com/web-site:1.4.2"]).layers())
    assert f"site/{DELETED}" not in tree
    assert {p for p in tree if p.startswith("site/.")} == {"site/.hidden", "site/.dotdir", "site/.dotdir/inner.txt"}
    assert tree["site/abs-link"].linkname == "/etc/passwd" and tree["site/tool.sh"].mode == 0o4750
    _, lower = make_layer([FileEntry(".hidden", "file", b"h"), FileEntry(".gone", "file", b"g"), FileEntry("keep", "file", b"k")])
    _, upper = make_layer([FileEntry(".wh..gone", "file", b"")])
    root = apply_layers([lower, upper])
    assert sorted(root) == ["", ".hidden", "keep"]
    named = apply_layers([make_layer([FileEntry("./.profile", "file", b"p")])[1]])
    assert sorted(named) == ["", ".profile"]


def test_verify_can_fail_a_wrong_subpath_is_caught(tmp_path: Path) -> None:
    """Negative control: a hand-broken fixed manifest (subPath pointing at the wrong directory of
    the image) must fail, naming what the reader lost and what it gained."""
    case = FIXTURES / "IV001" / "cp_r_dot_contents.yaml"
    layouts = build_init_images(documents(case.read_text()), tmp_path / "oci")
    fixed = case.with_name("cp_r_dot_contents.fixed.yaml").read_text()
    assert fixed.count("subPath: site\n") == 1
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(fixed.replace("subPath: site\n", "subPath: site/nested\n"))
    result = verify(case, wrong, layouts)
    assert result.code == 1
    [reader] = result.readers
    assert not reader.ok
    assert reader.where == "Deployment/web container 'nginx' at /usr/share/nginx/html"
    assert reader.details["extra"] == [".nested-dot", "deep", "deep/file.txt"]
    assert "index.html" in reader.details["missing"] and "nested" in reader.details["missing"]
    missing_dir = tmp_path / "missing.yaml"
    missing_dir.write_text(fixed.replace("subPath: site\n", "subPath: no-such-dir\n"))
    result = verify(case, missing_dir, layouts)
    assert result.code == 1
    assert result.out == ("FAIL Deployment/web container 'nginx' at /usr/share/nginx/html: "
                          "after: registry.example.com/web-site:1.4.2 has no directory no-such-dir\n")
