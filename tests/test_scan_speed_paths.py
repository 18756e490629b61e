"""Shortcuts taken for the cold scan's speed, each against the slow way it replaces."""

from __future__ import annotations

import os
from pathlib import Path


import pytest

from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate_tui.analysis import stages
from migrate_tui.fixes import yaml_patch
from testlib import budget, make_engine

from migrate_tui.parse.dockerfile import parser


def _slow_lstrip_count(s: str) -> int:
    n = 0
    while n < len(s) and s[n] in parser._GO_SPACE:
        n += 1
    return n


@pytest.mark.parametrize("s", ["", "FROM a", "  \t x", "\xa0\u3000y", "\x1cz", " \x1c", "\u2028\u2029", "   ", "a  "])
def test_go_space_counts_match_the_character_loop(s: str) -> None:
    # Go's unicode.IsSpace: \x85, \xa0, \u3000 are spaces; \x1c-\x1f (str.isspace) are not
    assert parser._lstrip_count(s) == _slow_lstrip_count(s)
    assert parser._rstrip_count(s) == _slow_lstrip_count(s[::-1])


@pytest.mark.parametrize(
    "line",
    ["RUN a \\", "RUN a \\ \t", "RUN a \\\\", "\\", "RUN a", "RUN a\\b", "RUN a `", "RUN a ` ", "RUN a ``", "", " \\ "],
)
@pytest.mark.parametrize("escape", ["\\", "`"])
def test_continuation_precheck_agrees_with_the_regex(line: str, escape: str) -> None:
    """The parser only runs the continuation regex on lines whose end, blanks aside, is the
    escape character; every other line can't match it."""
    cont = parser._continuation(escape)
    full = cont.search(line)
    if not line.rstrip(" \t").endswith(escape):
        assert full is None


def test_continued_and_escaped_lines_parse_as_before() -> None:
    df = parser.parse_dockerfile("FROM a\nRUN one \\ \t\n  two\nRUN three \\\\\nRUN four\n")
    assert [(i.keyword, i.args, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", "a", 1, 1),
        ("RUN", "one   two", 2, 3),
        ("RUN", "three \\\\", 4, 4),
        ("RUN", "four", 5, 5),
    ]
    tick = parser.parse_dockerfile("# escape=`\nFROM a\nRUN one `\n two \\\n")
    assert [i.args for i in tick.instructions] == ["a", "one  two \\"]


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


SKAFFOLD = (
    "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
    "  - image: ghcr.io/acme/site\n    context: web\n    docker: {dockerfile: Dockerfile, target: assets}\n"
)
STAGED = "FROM busybox AS assets\nCOPY x /x\nFROM busybox AS unused\nCOPY y /y\nFROM assets\n"


def test_link_targets_are_kept_per_parse_and_project(tmp_path: Path) -> None:
    """The DF rules share one answer per parsed Dockerfile; another project (another repository
    state) asks its own link index again."""
    linked = make_engine(_repo(tmp_path / "linked", {"skaffold.yaml": SKAFFOLD, "web/Dockerfile": STAGED})).context
    plain = make_engine(_repo(tmp_path / "plain", {"web/Dockerfile": STAGED})).context
    parsed = parser.parse_dockerfile(STAGED)
    assert stages.link_targets_for(linked, "web/Dockerfile", parsed) == ["assets"]
    assert stages.link_targets_for(linked, "web/Dockerfile", parsed) == ["assets"]
    assert stages.link_targets_for(plain, "web/Dockerfile", parsed) is None
    assert stages.link_targets_for(plain, "web/Dockerfile") is None
    assert stages.link_targets_for(linked, "web/Dockerfile") == ["assets"]
    assert [t.stage.index for t in stages.targets(parsed, ["assets"])] == [0]
    # without link targets: the last stage and the named stage nothing uses (stage 0 is used)
    assert stages.used_stages(parsed) == {0}
    assert [t.stage.index for t in stages.targets(parsed)] == [1, 2]
    stages.used_stages(parsed).add(7)  # a caller's change to the answer is its own
    assert stages.used_stages(parsed) == {0}


def test_targets_and_shipped_stages_are_kept_per_parse_project_and_path(tmp_path: Path) -> None:
    """targets_for/shipped_for answer what targets/shipped_stages answer, once per parse; another
    project or path asks again; the caller owns the list and the dict it gets."""
    linked = make_engine(_repo(tmp_path / "linked", {"skaffold.yaml": SKAFFOLD, "web/Dockerfile": STAGED})).context
    plain = make_engine(_repo(tmp_path / "plain", {"web/Dockerfile": STAGED})).context
    parsed = parser.parse_dockerfile(STAGED)

    def slow(ctx: object, path: str) -> tuple[list[stages.Target], dict[int, stages.Target]]:
        chosen = stages.targets(parsed, stages.link_targets_for(ctx, path))  # type: ignore[arg-type]
        return chosen, stages.shipped_stages(parsed, chosen)

    for ctx, path in [(linked, "web/Dockerfile"), (plain, "web/Dockerfile"), (linked, "web/Dockerfile"), (linked, "Dockerfile")]:
        assert stages.targets_for(ctx, path, parsed) == slow(ctx, path)[0]
        assert stages.shipped_for(ctx, path, parsed) == slow(ctx, path)
    assert [(t.stage.index, t.reason) for t in stages.targets_for(linked, "web/Dockerfile", parsed)] == [
        (0, "--target assets of the build definition")
    ]
    assert sorted(stages.shipped_for(plain, "web/Dockerfile", parsed)[1]) == [0, 1, 2]
    chosen, shipped = stages.shipped_for(plain, "web/Dockerfile", parsed)
    chosen.clear()
    shipped.clear()
    stages.targets_for(plain, "web/Dockerfile", parsed).clear()
    assert stages.shipped_for(plain, "web/Dockerfile", parsed) == slow(plain, "web/Dockerfile")
    assert len(stages.targets_for(plain, "web/Dockerfile", parsed)) == 2


def test_base_ref_is_kept_per_string() -> None:
    from migrate_tui.parse.imageref import parse_image_ref

    for base in ["golang:1.22", "Scratch", "gcr.io/distroless/static:nonroot", "${X}", "a:b:c", "busybox@sha256:" + "0" * 64]:
        expected = None if base.lower() == "scratch" or "$" in base else parse_image_ref(base)
        assert stages.base_ref(base) == expected
        assert stages.base_ref(base) is stages.base_ref(base)


def test_answers_are_kept_per_base_string_unless_the_string_is_long() -> None:
    calls: list[str] = []

    @stages.kept_per_base
    def measured(base: str) -> int:
        calls.append(base)
        return len(base)

    long = "registry.example.com/" + "a" * 600
    assert [measured("a"), measured("a"), measured(long), measured(long), measured("b")] == [1, 1, len(long), len(long), 1]
    assert calls == ["a", long, long, "b"]


def test_is_file_answers_what_path_is_file_answers(tmp_path: Path) -> None:
    """DF005 looks for two .dockerignore files per Dockerfile with os.stat instead of Path."""
    from migrate_tui.rules import large_data_in_app_image as df005

    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    os.symlink(tmp_path / "file", tmp_path / "link")
    for name in ["file", "dir", "missing", "dangling", "loop", "link", "file/below", "dir/", "./file", "dir/../file", "nul\x00"]:
        path = os.path.join(tmp_path, name)
        assert df005._is_file(path) == Path(path).is_file(), name


def _emitted(value: str, style: str | None) -> str:
    try:
        return yaml_patch._emit_scalar(value, style)
    except yaml_patch.Unsupported:
        return "<unsupported>"


def _dumped(value: str, style: str | None) -> str:
    """The emitter's answer, as every scalar was written before the shortcut."""
    try:
        return yaml_patch._dump_scalar(value, style if style in ('"', "'") else None)
    except yaml_patch.Unsupported:
        return "<unsupported>"


@settings(max_examples=budget(300))
@given(st.text(alphabet="aZ09_./@+=-:# ~<>!&*?|,[]{}%`'\"\\\tyYnNoOtTfF.eE\u00e9", max_size=12), st.sampled_from([None, '"', "'"]))
@example("registry.example.com/app/site:1.2.3", None)
@example("a:", None)
@example("a: b", None)
@example("...x", None)
@example("---", None)
@example("0x1f", None)
@example("1_000", None)
@example("=", None)
@example("<<", None)
@example("on", None)
@example(".inf", None)
@example("2001-12-14", None)
@example("a#b", None)
@example("a #b", None)
@example("/usr/share/nginx/html", None)
@example("site", "'")
def test_plain_scalar_shortcut_writes_what_the_emitter_writes(value: str, style: str | None) -> None:
    assert _emitted(value, style) == _dumped(value, style)


@pytest.mark.parametrize("value", ["site", "registry.example.com/app/site:1.2.3", "/usr/share/html", "a@sha256:" + "0" * 64, "x=y"])
def test_plain_scalar_shortcut_is_taken(value: str) -> None:
    """(so the test above compares the shortcut, not the emitter with itself)"""
    assert yaml_patch._PLAIN_SAFE.fullmatch(value) and yaml_patch._resolves_to_str(value)
    assert yaml_patch._emit_scalar(value, None) == value


def test_the_pool_builds_the_link_index_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked workers take the index that the parent built before forking them (each built its
    own before), and the findings are those of the one-process scan."""
    from migrate_tui.analysis.links import index as link_index

    files = {f"svc{i}/Dockerfile": f"FROM busybox:1.36\nCOPY site{i} /srv/{i}\n" for i in range(80)}
    files["Makefile"] = "build:\n\tdocker build -t registry.example.com/svc3:1 -f svc3/Dockerfile svc3\n"
    root = _repo(tmp_path / "repo", files)
    log = tmp_path / "builds.log"
    real = link_index.build_link_index

    def counting(*args, **kwargs):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(link_index, "build_link_index", counting)
    pooled = make_engine(root)
    pooled.jobs = 2
    serial = make_engine(root)
    serial.jobs = 1
    many, one = pooled.scan(), serial.scan()
    assert log.read_text() == f"{os.getpid()}\n{os.getpid()}\n"  # the parent's, then the serial scan's
    assert len(many.findings) == len(files) - 1
    assert [(f.rule, f.location, f.message, f.fix) for f in many.findings] == [(f.rule, f.location, f.message, f.fix) for f in one.findings]


def test_image_ref_whitespace_test_is_str_isspace() -> None:
    """parse_image_ref refuses a reference with any character that str.isspace() calls space;
    it asks a regex instead of every character: the same set, over all of Unicode."""
    from migrate_tui.parse import imageref

    differ = [c for c in map(chr, range(0x110000)) if bool(imageref._SPACE.search(c)) != c.isspace()]
    assert differ == []
    assert imageref.parse_image_ref("busybox:1.\u202836") is None and imageref.parse_image_ref("busy\u00a0box") is None
    ref = imageref.parse_image_ref("busybox:1.36")
    assert ref is not None and (ref.repository, ref.tag) == ("library/busybox", "1.36")


def test_rules_for_a_kind_follow_the_rules_list() -> None:
    """The rules (and needles) for a file kind are kept per rules list, and a list changed since is asked again."""
    from migrate_tui.pipeline import engine
    from migrate_tui.repo.discover import FileKind
    from migrate_tui.rules import all_rules

    rules = [all_rules()[c] for c in ("DF001", "IV001", "IV003")]
    scoped, needles = engine._scoped(rules, FileKind.YAML)
    assert [r.code for r in scoped] == ["IV001", "IV003"] and needles == {"initContainers", "reference"}
    scoped.clear()  # the caller's list is its own
    assert [r.code for r in engine._scoped(rules, FileKind.YAML)[0]] == ["IV001", "IV003"]
    rules.pop()
    assert engine._scoped(rules, FileKind.YAML) == ([all_rules()["IV001"]], {"initContainers"})
    assert [r.code for r in engine._scoped(rules, FileKind.DOCKERFILE)[0]] == ["DF001"]
    assert engine._scoped(rules, FileKind.BUILD) == ([], frozenset())


def test_a_scan_raises_the_collector_thresholds_and_restores_them(tmp_path: Path) -> None:
    import gc
    import threading

    from migrate_tui.pipeline import engine

    root = _repo(tmp_path / "repo", {"a/Dockerfile": "FROM busybox\nCOPY x /x\n", "b.yaml": "kind: ConfigMap\n"})
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    for _ in make_engine(root).iter_scan():
        seen.append(gc.get_threshold())
    assert set(seen) == {tuple(max(a, b) for a, b in zip(before, engine.SCAN_GC_THRESHOLD))}
    assert gc.get_threshold() == before
    # abandoned half way: restored when the generator is closed
    events = make_engine(root).iter_scan()
    next(events)
    assert gc.get_threshold() != before
    events.close()
    assert gc.get_threshold() == before
    # on another thread (the TUI's scan worker) the process's settings are left alone
    other: list[tuple[int, ...]] = []
    thread = threading.Thread(target=lambda: other.extend(gc.get_threshold() for _ in make_engine(root).iter_scan()))
    thread.start()
    thread.join()
    assert set(other) == {before}


def test_a_fresh_pooled_scan_walks_the_tree_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no link cache, the index built before the fork reads the scan's own walk (files and
    every directory listed) instead of walking the tree again: one walk, the same index, the same
    stamps (so the same cache validity), the same findings as one process."""
    from dataclasses import asdict

    from migrate_tui.analysis.links import index as link_index
    from migrate_tui.repo import discover as discovery

    files = {f"svc{i}/Dockerfile": f"FROM busybox:1.36\nCOPY site{i} /srv/{i}\n" for i in range(80)}
    files["Makefile"] = "build:\n\tdocker build -t registry.example.com/svc3:1 -f svc3/Dockerfile svc3\n"
    files["skip/.gitignore"] = "ignored/\n"
    files["skip/ignored/Dockerfile"] = "FROM busybox:1.36\nCOPY x /x\n"
    root = _repo(tmp_path / "repo", files)
    walks: list[object] = []
    real_discover = discovery.discover

    def counting(*args, **kwargs):
        walks.append(args[1] if len(args) > 1 else kwargs.get("paths"))
        return real_discover(*args, **kwargs)

    monkeypatch.setattr(discovery, "discover", counting)
    monkeypatch.setattr("migrate_tui.pipeline.engine.discover", counting)
    built: list[tuple[dict, dict]] = []
    real_build = link_index._build

    def keeping(root, config, reader, *walked):
        index = real_build(root, config, reader, *walked)
        built.append((asdict(index), dict(reader.stamps)))
        return index

    monkeypatch.setattr(link_index, "_build", keeping)
    pooled = make_engine(root)
    pooled.jobs = 2
    many = pooled.scan()
    assert walks == [None]  # the scan's walk only
    reader = link_index._Reader(root.resolve())
    expected = real_build(root.resolve(), pooled.config, reader)  # walks on its own
    assert len(built) == 1 and len(reader.stamps) > 80
    # (the root's own stamp moves when a link cache directory is created after the build)
    assert built[0][0] == asdict(expected)
    assert {k: v for k, v in built[0][1].items() if k != "."} == {k: v for k, v in reader.stamps.items() if k != "."}
    serial = make_engine(root)
    serial.jobs = 1
    one = serial.scan()
    assert len(many.findings) == 80
    assert [(f.rule, f.location, f.message, f.fix) for f in many.findings] == [(f.rule, f.location, f.message, f.fix) for f in one.findings]


def _dockerfiles() -> list[Path]:
    from testlib import CORPUS, FIXTURES

    found = [p for p in FIXTURES.rglob("*") if p.is_file() and (parser.is_dockerfile_name(p.name) or p.suffix == ".Dockerfile")]
    if (CORPUS / "dockerfiles").is_dir():
        found += sorted((CORPUS / "dockerfiles").iterdir())
    return sorted(found)


def test_runs_something_agrees_with_the_stage_shape() -> None:
    """DF005 asks runs_something (stops at the first RUN or command) where it asked shape()."""
    seen = {True: 0, False: 0}
    for path in _dockerfiles():
        parsed = parser.parse_dockerfile(path.read_text(encoding="utf-8", errors="replace"))
        for stage in parsed.stages:
            for chain in ([stage], parsed.root_base(stage)[1]):
                shape = stages.shape(parsed, chain)
                expected = bool(shape.runs or shape.commands)
                assert stages.runs_something(chain) is expected, (path.name, stage.index)
                seen[expected] += 1
    assert seen[True] > 20 and seen[False] > 5, seen


@settings(max_examples=budget(200))
@given(
    st.lists(
        st.sampled_from(
            ["FROM busybox AS a", "FROM a", "RUN chmod 755 /x", "RUN chown 1:1 /x && chmod +x /y", "RUN echo hi", "RUN $X", "CMD x"]
            + ["COPY a /b", "COPY --from=a / /", "ONBUILD RUN x", 'SHELL ["sh"]', "USER 1", 'RUN ["chmod", "1", "/x"]', "HEALTHCHECK NONE"]
        ),
        max_size=10,
    )
)
def test_runs_something_agrees_with_the_stage_shape_on_generated_files(lines: list[str]) -> None:
    parsed = parser.parse_dockerfile("FROM busybox\n" + "\n".join(lines) + "\n")
    for stage in parsed.stages:
        for chain in ([stage], parsed.root_base(stage)[1]):
            shape = stages.shape(parsed, chain)
            assert stages.runs_something(chain) is bool(shape.runs or shape.commands)
