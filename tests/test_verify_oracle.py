"""The oracle for "rewrites only what is provably equivalent": every IV001 fix, in zero-rebuild and
in scratch mode, is checked by the project's own `migrate-tui verify BEFORE AFTER` against real
OCI layouts of the init images (tests/oracle/images.py: dot-files, nested and empty dirs,
relative/absolute/dangling symlinks, odd modes, a whited-out file, files beside the copied dir).
Scratch-mode asset images are built with `migrate-tui build` from the Dockerfile the fix wrote.

A SAFE fix that fails verify is a wrong write: it is marked ``xfail(strict=True)`` with the
reason, never hidden (none today). A written fix verify rejects is accepted only when its finding
said so beforehand (``rejected_as_documented``: an unsafe assumption that is false, or a note that
the copy source must not be a symbolic link) and ``check --prove`` then makes it manual. The only differences a fix may leave are the ones its notes announce:
dot-files a shell glob skipped, and the siblings of a single copied file (zero-rebuild mounts its
directory); verify reports them as "extra", and exactly those.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings

from testlib import FIXTURES
from migrate_tui.oci.layout import FileEntry, make_layer
from migrate_tui.oci.source import open_image
from migrate_tui.oci.tree import apply_layers
from oracle import execute
from oracle.flow import Verified, build_assets, documents, migrate, verify
from oracle.images import BASE, DELETED, build_init_images, directory_entries, write_layout
from oracle.podspecs import FORMS, IMAGE, Consumer, Scenario, scenarios

MODES = ("zero-rebuild", "scratch")

# Extras verify must report, per reader, relative to its mount (read by hand from each fixture:
# the glob skipped the top-level dot-entries of /plugins; zero-rebuild mounts the jar's directory).
EXTRAS: dict[tuple[str, str], list[str]] = {
    ("cp_glob_dotfiles", "zero-rebuild"): [".dotdir", ".dotdir/inner.txt", ".hidden"],
    ("cp_glob_dotfiles", "scratch"): [".dotdir", ".dotdir/inner.txt", ".hidden"],
    ("cp_single_file", "zero-rebuild"): [".sibling-dot", "sibling.txt"],
    ("mv_glob_static", "zero-rebuild"): [".dotdir", ".dotdir/inner.txt", ".hidden"],  # `mv SRC/*` skips dot-files too
    ("mv_glob_static", "scratch"): [".dotdir", ".dotdir/inner.txt", ".hidden"],
}

# Safe fixes verify proves wrong (a wrong write; the rule's owner must fix them): none today.
WRONG_WRITES: dict[tuple[str, str], str] = {}


def _fixture_cases() -> list:
    cases = []
    for path in sorted((FIXTURES / "IV001").glob("*.yaml")):
        if ".fixed" in path.name or path.name.startswith("clean_"):
            continue
        if path.with_name(path.stem + ".context").is_dir():
            continue  # its init image is built from the Dockerfile beside it: tests/test_copier_images.py (buildah)
        for mode in MODES:
            marks = []
            if (path.stem, mode) in WRONG_WRITES:
                marks.append(pytest.mark.xfail(strict=True, reason=WRONG_WRITES[(path.stem, mode)]))
            cases.append(pytest.param(path, mode, id=f"{path.stem}-{mode}", marks=marks))
    return cases


def _assumed_dirs(migration) -> list[str]:
    """The image directories the written unsafe fixes assume exist (a reader's subPath inside the copy)."""
    return [
        a
        for f in migration.findings
        if f.fix is not None and f.fix.assumption
        for a in re.findall(r"this assumes (/\S+) exists in the image", f.fix.assumption)
    ]


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
    assumed = _assumed_dirs(migration)
    if assumed:
        # An unsafe fix assuming a directory is in the image: verify rejects it on the image
        # without that directory, naming it, and proves it on the image that has it.
        built = layouts | build_assets(repo, migration.assets, tmp_path / "assets", layouts)
        rejected = verify(path, migration.after, built)
        assert rejected.code == 1 and [r.summary.rpartition(" has no directory ")[2] for r in rejected.readers] == [
            a.lstrip("/") for a in assumed
        ], rejected.out
        layouts = build_init_images(documents(path.read_text(encoding="utf-8")), tmp_path / "oci-assumed", assumed)
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
    assert result.out == (
        "FAIL Deployment/web container 'nginx' at /usr/share/nginx/html: "
        "after: registry.example.com/web-site:1.4.2 has no directory no-such-dir\n"
    )


# --- verify's BEFORE side against the copies run for real (busybox in a chroot) -----------------

EXECUTION = execute.available()
needs_execution = pytest.mark.skipif(not EXECUTION, reason="needs busybox-static and `unshare -rm` (user + mount namespaces)")
BUSYBOX_DIFFERS: dict[str, str] = {
    "manual_two_images_one_dir": (
        "busybox cp -r refuses to replace a symlink the first image already copied ('File exists', the init container "
        "exits 1); GNU cp replaces it, as verify's model and the scratch-mode union image do (later wins)"
    ),
}


def _trees(layouts: dict[str, str]) -> dict:
    return {ref: apply_layers(open_image(source).layers()) for ref, source in layouts.items()}


def _assert_model_matches_execution(docs: list[dict], layouts: dict[str, str], work: Path) -> int:
    results = execute.model_against_execution(docs, _trees(layouts), work)
    # verify models the copies; an empty directory `mkdir -p` makes in the volume is not in its
    # model: the fix states it as its unsafe assumption ("creates /html/uploads, which no copy fills")
    unfilled = sorted(execute.unfilled_directories(docs))
    for where, c in results:  # modes differ by design (cp -r drops them); kinds, bytes and links may not
        assert (c.missing, c.different) == ([], []), (where, c)
        assert c.extra == [p for p in unfilled if p in c.extra] and len(c.extra) == len(unfilled), (where, c, unfilled)
    return len(results)


@needs_execution
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            id=p.stem,
            marks=[pytest.mark.xfail(strict=True, raises=RuntimeError, reason=BUSYBOX_DIFFERS[p.stem])]
            if p.stem in BUSYBOX_DIFFERS
            else [],
        )
        for p in sorted((FIXTURES / "IV001").glob("*.yaml"))
        if ".fixed" not in p.name and not p.name.startswith("clean_")
    ],
)
def test_verify_models_what_the_copies_really_leave(path: Path, tmp_path: Path) -> None:
    """Every copy verify models (all but rsync, which busybox lacks, and commands judged manual)
    leaves exactly verify's BEFORE tree when busybox runs it."""
    docs = documents(path.read_text(encoding="utf-8"))
    _assert_model_matches_execution(docs, build_init_images(docs, tmp_path / "oci"), tmp_path / "run")


# --- the property: whenever a generated pod spec gets a fix, verify proves it ---------------------


def check_scenario(scenario: Scenario, work: Path) -> str:
    """Fix the generated manifest; when a fix is written, verify must prove it. Returns the outcome."""
    repo = work / "repo"
    repo.mkdir(parents=True)
    (repo / "generated.yaml").write_text(scenario.manifest())
    before = work / "before.yaml"
    shutil.copyfile(repo / "generated.yaml", before)
    layouts = {IMAGE: write_layout(work / "oci", IMAGE, scenario.layers())}
    migration = migrate(repo, "generated.yaml", mode=scenario.mode)
    if not migration.written:
        assert set(migration.applicability) <= {"manual"}, (migration.applicability, scenario)
        return "manual" if migration.applicability else "no finding"
    assert set(migration.applicability) <= {"safe", "unsafe"}, migration.applicability
    init_layouts = dict(layouts)
    layouts |= build_assets(repo, migration.assets, work / "assets", layouts)
    allowed = verify(before, migration.after, layouts, "--allow-extra")
    if allowed.code != 0:
        return rejected_as_documented(scenario, migration, before, layouts, allowed)
    assert allowed.readers and all(r.ok for r in allowed.readers), (allowed.out, scenario.manifest())
    strict = verify(before, migration.after, layouts)
    for i, consumer in enumerate(scenario.consumers):
        where = f"Deployment/generated container 'reader{i}' at {consumer.mount_path}"
        reader = next((r for r in strict.readers if r.where == where), None)
        assert reader is not None, (strict.out, scenario.manifest())
        if reader.details.get("extra", []) != scenario.expected_extras(consumer):
            return extras_as_documented(scenario, migration, before, layouts, strict)
    if EXECUTION and scenario.form != "rsync":  # verify's BEFORE side is what the copy really leaves
        assert _assert_model_matches_execution(documents(scenario.manifest()), init_layouts, work / "run") == 1
    return "/".join(sorted(set(migration.applicability)))


def rejected_as_documented(scenario: Scenario, migration, before: Path, layouts: dict[str, str], result: Verified) -> str:
    """A written fix verify rejects must be one whose finding said what it assumes, and
    `check --prove` (the same verify, before writing) must make it manual. Two such cases:

    - an unsafe fix whose stated assumption is false: a reader's subPath inside the copied tree
      that the image lacks (the fix says "this assumes /src/X exists in the image");
    - a fix that notes the copy source must be a directory, not a symbolic link (zero-rebuild
      can't read the image: see _source_shape_notes in rules/init_copy_to_empty_dir.py).

    Anything else is a wrong write and fails here."""
    from migrate_tui.proof.prove import ProofKind, offline_loader, prove, sharpen

    [finding] = [f for f in migration.findings if f.fix is not None]
    failing = [r for r in result.readers if not r.ok]
    assert failing, result.out
    for reader in failing:
        missing = reader.summary.rpartition(" has no directory ")[2] if " has no directory " in reader.summary else None
        if missing is not None and finding.fix.applicability.value == "unsafe":
            # the path the fix assumes (in the init image; a volume image holds it at its root)
            assumed = re.findall(r"this assumes (/\S+) exists in the image", finding.fix.assumption)
            assert any(a == f"/{missing}" or a.endswith(f"/{missing}") for a in assumed), (result.out, finding.fix.assumption)
            continue
        assert scenario.source_link, (result.out, scenario.manifest())  # a wrong write
        source = scenario.source.strip("/")
        kubelet = f": /{source} is a symlink to /real/{source}, which the kubelet resolves on the node, outside the volume"
        assert reader.summary.endswith(kubelet) or source in reader.details.get("different", []), result.out
        _assert_source_shape_note(scenario, finding)
    proof = prove(finding, lambda _path: before.read_text(), offline_loader([f"{r}={s}" for r, s in sorted(layouts.items())]))
    assert proof.kind is ProofKind.DIFFERENT, proof.summary()
    proven = sharpen(finding, proof)
    assert proven.applicability.value == "manual" and proven.fix_blocked.startswith("verify found differences: "), proven
    return "rejected by verify, as the finding says it may be; --prove makes it manual"


def _assert_source_shape_note(scenario: Scenario, finding) -> None:
    """The fix said it assumes the copy source is a directory, not a symbolic link."""
    source = scenario.source.strip("/")
    expected = (
        f"assumes /{source} is a directory in {IMAGE}, not a symbolic link (a subPath link resolves on the node"
        if scenario.mode == "zero-rebuild" and scenario.form != "cp_r_entry"
        else f"`{FORMS[scenario.form].format(S=scenario.source, D=scenario.dest)}` copies {scenario.source} itself: "
        "a symbolic link there would be copied as a link, while the mount shows its target"
    )
    assert any(n.startswith(expected) for n in finding.notes), finding.notes


def extras_as_documented(scenario: Scenario, migration, before: Path, layouts: dict[str, str], result: Verified) -> str:
    """verify (allowing extras) passes, but a reader sees files its notes did not announce: only
    when the copy source is a symbolic link the fix's note names; `check --prove` then lowers
    the fix (unsafe, the files named, or manual)."""
    from migrate_tui.proof.prove import ProofKind, offline_loader, prove, sharpen

    assert scenario.source_link, (result.out, scenario.manifest())  # unannounced files: a wrong write
    [finding] = [f for f in migration.findings if f.fix is not None]
    _assert_source_shape_note(scenario, finding)
    proof = prove(finding, lambda _path: before.read_text(), offline_loader([f"{r}={s}" for r, s in sorted(layouts.items())]))
    assert proof.kind in (ProofKind.PROVEN_WITH_EXTRA, ProofKind.DIFFERENT), proof.summary()
    assert sharpen(finding, proof).applicability.value in ("unsafe", "manual")
    return "extra files, as the finding says there may be; --prove lowers it"


_TREE = (("f.txt", "file"), ("sub", "dir"), ("sub/inner.txt", "file"))
_READER = (Consumer("/data", "", True),)


def _scenario(form: str, mode: str, *, consumers=_READER, link: str = "") -> Scenario:
    return Scenario("/src", _TREE, form, "", "", "", consumers, mode, link)


@settings(derandomize=True, max_examples=40, deadline=None, database=None)
@given(scenario=scenarios())
# Every failure this property found is kept here. Passing since verify treats a missing subPath
# as the empty directory the kubelet creates (it reported a spurious "/" extra); a single-file
# copy makes no directory, so a reader's subPath below it is now manual (it was an empty dir):
@example(_scenario("cp_file", "zero-rebuild", consumers=(Consumer("/data", "sub", True),)))
@example(_scenario("cp_file", "scratch", consumers=(Consumer("/data", "sub", True),)))
# passing since verify and `migrate-tui build` follow symlinks in a copy source (as cp and BuildKit do):
@example(_scenario("cp_r_dot", "zero-rebuild", link="relative"))
@example(_scenario("tar_pipe", "scratch", link="absolute"))
@example(_scenario("cp_file", "scratch", link="absolute"))
# broader shapes, always run:
@example(
    Scenario(
        "/opt/app/assets",
        _TREE,
        "cp_r_glob",
        "sub/dir",
        "part",
        "same",
        (Consumer("/data", "part/sub/dir", True), Consumer("/srv/www", "", False)),
        "scratch",
    )
)
@example(Scenario("/src", _TREE, "cp_r_entry", "sub/dir", "", "beside", (Consumer("/data", "sub/dir/src/sub", True),), "zero-rebuild"))
# Fixes verify rejects, each as its finding says it may be, and `check --prove` makes them manual
# (rejected_as_documented): a reader's subPath the copy doesn't fill is an unsafe fix assuming
# /src/no-such-dir is in the image; an absolute symlink as the copy source (zero-rebuild: the
# kubelet resolves the subPath on the node) and `cp -r /src D/` of a symlink (the link is
# copied, the mount shows its target) are safe fixes with a source-shape note.
@example(_scenario("cp_a_dot", "zero-rebuild", consumers=(Consumer("/data", "no-such-dir", True),)))
@example(_scenario("cp_a_dot", "scratch", consumers=(Consumer("/data", "no-such-dir", True),)))
@example(_scenario("cp_r_dot", "zero-rebuild", link="absolute"))
@example(_scenario("tar_pipe", "zero-rebuild", link="absolute"))
@example(_scenario("cp_r_entry", "zero-rebuild", link="relative"))
@example(_scenario("cp_r_entry", "scratch", link="absolute"))
# found once the generator drew symlinked sources: a reader's subPath through the absolute link
# (verify names the link), and a reader of the copied link itself (the emptyDir showed nothing
# there, the mount shows the directory: extra files, which the entry note announces)
@example(_scenario("cp_r_entry", "zero-rebuild", consumers=(Consumer("/data", "src/sub", False),), link="absolute"))
@example(_scenario("cp_r_entry", "zero-rebuild", consumers=(Consumer("/data", "src", False),), link="relative"))
def test_whenever_a_generated_pod_spec_gets_a_fix_verify_proves_it(scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as work:
        check_scenario(scenario, Path(work))


def test_symlinks_on_a_copy_source_resolve_like_cp_and_like_the_kubelet() -> None:
    from migrate_tui.oci.tree import Node, resolve

    link = lambda target: Node("symlink", 0o777, 0, 0, linkname=target)  # noqa: E731
    tree = {
        "": Node("dir", 0o755, 0, 0),
        "real": Node("dir", 0o755, 0, 0),
        "real/src": Node("dir", 0o755, 0, 0),
        "abs": link("/real/src"),
        "rel": link("real/src"),
        "up": link("../../real"),
        "loop": link("loop"),
    }
    assert resolve(tree, "/abs/x") == "real/src/x"
    assert resolve(tree, "rel") == "real/src"
    assert resolve(tree, "up/src") == "real/src"  # `..` stops at the image root in the init container
    assert resolve(tree, "rel", kubelet=True) == "real/src"
    with pytest.raises(ValueError, match=r"subPath abs: /abs is a symlink to /real/src, which the kubelet resolves on the node"):
        resolve(tree, "abs", kubelet=True)
    with pytest.raises(ValueError, match=r"leaves the volume"):
        resolve(tree, "up/src", kubelet=True)
    with pytest.raises(ValueError, match="too many levels of symbolic links"):
        resolve(tree, "loop")


_VOLUMES_IN_SOURCE = [
    ("{name: config, mountPath: /site/config.js, subPath: config.js}", "{name: config, configMap: {name: site-config}}"),
    ("{name: creds, mountPath: /site/secrets}", "{name: creds, secret: {secretName: site}}"),
    ("{name: cache, mountPath: /site/cache}", "{name: cache, persistentVolumeClaim: {claimName: c}}"),
    ("{name: scratch, mountPath: /site}", "{name: scratch, emptyDir: {}}"),
]
_VOLUME_IDS = ["configmap-subpath-file-inside", "secret-dir-inside", "pvc-dir-inside", "emptydir-at-the-source"]


def _with_volume_in_source(mount: str, volume: str) -> str:
    """cp_r_dot_contents with one more volume mounted in the init container."""
    case = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()
    text = case.replace(
        "          mountPath: /usr/share/nginx/html\n      containers:",
        f"          mountPath: /usr/share/nginx/html\n        - {mount}\n      containers:",
    ).replace("      - name: html\n        emptyDir: {}", f"      - name: html\n        emptyDir: {{}}\n      - {volume}")
    assert text.count(mount) == 1 and text.count(volume) == 1
    return text


@pytest.mark.parametrize(("mount", "volume"), _VOLUMES_IN_SOURCE, ids=_VOLUME_IDS)
def test_verify_fails_when_a_volume_is_mounted_in_the_copy_source(mount: str, volume: str, tmp_path: Path) -> None:
    """The wrong safe fix of issue 9: a volume mounted in the copy source feeds the copy, so the
    image alone can't prove anything; verify must say so instead of comparing image to image."""
    before = tmp_path / "before.yaml"
    before.write_text(_with_volume_in_source(mount, volume))
    layouts = build_init_images(documents(before.read_text()), tmp_path / "oci")
    result = verify(before, FIXTURES / "IV001" / "cp_r_dot_contents.fixed.yaml", layouts)
    name = volume.split(",")[0].removeprefix("{name: ")
    at = mount.split("mountPath: ")[1].split(",")[0].rstrip("}")
    assert name and at
    assert result.code == 1
    # The rule no longer places a copy whose source holds (or lies in) a volume, and verify models
    # only placed copies: it refuses to compare rather than comparing image to image.
    first, *reasons = result.out.splitlines()
    assert first == "cannot verify: BEFORE has no init-container copy from an image that verify can model, but AFTER differs"
    # and it says why, naming the volume and where it is mounted
    assert reasons and all(line.startswith("    Deployment/web: init container 'copy-site': ") for line in reasons), reasons
    assert any(f"'{name}'" in line and at in line for line in reasons), (name, at, reasons)
    assert verify(before, before, layouts).out == "nothing to verify: no init-container copy in BEFORE\n"


@pytest.mark.parametrize(("mount", "volume"), _VOLUMES_IN_SOURCE, ids=_VOLUME_IDS)
def test_no_fix_is_written_that_verify_rejects_for_a_volume_in_the_copy_source(mount: str, volume: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "web.yaml").write_text(_with_volume_in_source(mount, volume))
    before = tmp_path / "before.yaml"
    shutil.copyfile(repo / "web.yaml", before)
    migration = migrate(repo, "web.yaml", mode="zero-rebuild")
    # issue 9 item 1: the copy source holds (or is) a mounted volume: manual, nothing written
    assert migration.written == [] and migration.applicability == ["manual"], migration
    assert (repo / "web.yaml").read_text() == before.read_text()


def test_check_prove_fix_writes_nothing_for_an_absolute_symlink_source(tmp_path: Path) -> None:
    """Item 2 of the oracle's findings, end to end as a user runs it: zero-rebuild can't see that
    /src is an absolute symlink, so the fix is safe with a note; `check --fix --prove` with the
    image at hand runs verify first, finds the container would not start, and writes nothing."""
    from oracle.flow import run_cli

    scenario = _scenario("cp_r_dot", "zero-rebuild", link="absolute")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "generated.yaml").write_text(scenario.manifest())
    layout = write_layout(tmp_path / "oci", IMAGE, scenario.layers())
    plain = ["check", "--no-cache", "--select", "IV001", "--mode", "zero-rebuild", str(repo)]
    code, out, _ = run_cli(plain)
    assert code == 1 and "IV001 [safe fix]" in out, out
    assert (
        "= note: assumes /src is a directory in registry.example.com/generated:1, not a symbolic link (a subPath "
        "link resolves on the node and the container would not start); `check --prove` checks it\n"
    ) in out, out
    code, out, _ = run_cli(plain + ["--fix", "--prove", f"--image={IMAGE}={layout}"])
    assert (repo / "generated.yaml").read_text() == scenario.manifest()  # nothing written
    assert "IV001 [manual]" in out and "verify found differences: " in out, out
    assert "/src is a symlink to /real/src, which the kubelet resolves on the node, outside the volume" in out, out
