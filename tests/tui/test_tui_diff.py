"""The diff widget: multi-file change-sets (a tab per file), unified rows, a 5,000-line file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from migrate_tui.render.diff import side_by_side
from migrate_tui.pipeline.engine import FileScanned, ScanFinished
from migrate_tui.model.findings import Edit
from migrate_tui.tui.app import MigrateApp
from migrate_tui.tui.diff_view import DiffView, unified_lines
from migrate_tui.tui.highlight import dockerfile_spans, yaml_spans
from tuihelp import SIZE, engines, make_engine, scanned, select, written

DOCKERFILE = "FROM scratch\nCOPY javaagent/ /javaagent/\n"


class TwoFileEngine:
    """Wraps a real engine; the agent.yaml fix also creates a Dockerfile (a two-file change-set)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def __call__(self, *, mode=None):  # the app's Engine factory: a fresh real engine, same wrapper
        self._engine = make_engine(self.root, mode)
        return self

    @staticmethod
    def _widen(finding):
        if finding.location.path != "deploy/agent.yaml" or finding.fix is None:
            return finding
        edits = (*finding.fix.edits, Edit("assets/agent/Dockerfile", 0, 0, DOCKERFILE))
        return dataclasses.replace(finding, fix=dataclasses.replace(finding.fix, edits=edits))

    def iter_scan(self):
        for event in self._engine.iter_scan():
            if isinstance(event, FileScanned):
                event = dataclasses.replace(event, findings=tuple(map(self._widen, event.findings)))
            elif isinstance(event, ScanFinished):
                event.result.findings = [self._widen(f) for f in event.result.findings]
            yield event


async def test_multi_file_change_set_has_a_group_and_a_tab_per_file(small_repo: Path) -> None:
    app = MigrateApp(TwoFileEngine(small_repo))  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        groups = [node.data.key for node in app.review_screen.findings_tree.root.children]
        assert "deploy/agent.yaml + assets/agent/Dockerfile" in groups
        await select(pilot, "deploy/agent.yaml")
        tabs = app.query_one("#file-tabs")
        assert tabs.display
        assert "file 1/2" in app.query_one("#diff-panel").border_subtitle
        await pilot.press("right_square_bracket")
        view = app.query_one(DiffView)
        assert app.query_one("#diff-panel").border_title.startswith("assets/agent/Dockerfile")
        assert [row.kind for row in view.rows] == ["insert", "insert"]
        await pilot.press("left_square_bracket")
        assert app.query_one("#diff-panel").border_title.startswith("deploy/agent.yaml")
        await pilot.press("space", "w", "y")
        await written(pilot)
        assert sorted(app.screen.written) == ["assets/agent/Dockerfile", "deploy/agent.yaml"]
    assert (small_repo / "assets/agent/Dockerfile").read_text() == DOCKERFILE


def big_yaml(lines: int) -> str:
    out = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: big", "data:"]
    out += [f'  key{i}: "value number {i} # not a comment"' for i in range(lines - len(out))]
    return "\n".join(out) + "\n"


async def test_five_thousand_line_file_renders_only_what_is_visible(tmp_path: Path) -> None:
    before = big_yaml(5000)
    after = before.replace("value number 2500 ", "value number 2500 changed ").replace("key4000:", "renamed4000:")
    (tmp_path / "empty").mkdir()
    app = MigrateApp(engines(tmp_path / "empty"))
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        view = app.query_one(DiffView)
        from migrate_tui.render.diff import FileDiff

        view.choose_unified(False)
        view.show_diff(FileDiff("big.yaml", before, after))
        view.full_context = True
        await pilot.pause()
        view.scroll_to(0, 2490, animate=False)
        await pilot.pause()
        assert view.line_count == 5000
        # Only the rows on screen were drawn: the cache holds a window, not the file.
        assert len(view._cache) < 200
        view.unified = True
        await pilot.pause()
        assert view.line_count == 5002  # two replaced lines become -/+ pairs


def test_unified_lines_group_minus_before_plus() -> None:
    rows = side_by_side("a\nb\nc\n", "a\nB\nC\n")
    kinds = [(line.kind, line.old_no, line.new_no) for line in unified_lines(rows)]
    assert kinds == [("equal", 1, 1), ("delete", 2, None), ("delete", 3, None), ("insert", None, 2), ("insert", None, 3)]


def test_highlighters_tokenise_yaml_and_dockerfiles() -> None:
    line = '      - name: "copy" # why'
    tokens = {line[s:e]: t for s, e, t in yaml_spans(line)}
    assert tokens == {"-": "punct", "name": "key", ":": "punct", '"copy"': "string", "# why": "comment"}
    tokens = {l[s:e]: t for l in ["FROM scratch AS assets", "COPY --from=build /a /b"] for s, e, t in dockerfile_spans(l)}
    assert tokens["FROM"] == tokens["COPY"] == tokens["AS"] == "keyword" and tokens["--from=build"] == "tag"
