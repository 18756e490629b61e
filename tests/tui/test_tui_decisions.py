"""The change-set is the unit of decision (issue 12 items 1, 2, 3, 7, 9, 10).

Each test drives the real app with the real engine on a repo in tmp_path, at 80×24 or 160×45.
"""

from __future__ import annotations

import threading
from pathlib import Path

from migrate_tui.model.findings import Applicability, Edit, Finding, Fix, Location, Severity
from migrate_tui.tui.app import MigrateApp
from migrate_tui.tui.review import Review
from migrate_tui.tui.screens import ConfirmDialog, WriteSummary, plain_text
from tuihelp import (
    LARGE,
    SMALL,
    finding_of,
    label_of,
    engines,
    make_engine,
    notifications,
    scanned,
    screen_text,
    select,
    wait_until,
    written,
)

GRAFANA_FILES = ["deploy/grafana/grafana.yaml", "grafana/plugins/Dockerfile", "skaffold.yaml"]


async def test_the_findings_of_one_change_set_share_one_decision(demo_repo: Path) -> None:
    app = MigrateApp(engines(demo_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        iv001 = finding_of(app, "IV001", "deploy/grafana/grafana.yaml")
        df001 = finding_of(app, "DF001", "grafana/plugins/Dockerfile")
        assert app.review_screen.review.set_of(iv001) == app.review_screen.review.set_of(df001)
        # Accept the IV001: the DF001 of the same change-set shows accepted too.
        await select(pilot, "deploy/grafana/grafana.yaml")
        await pilot.press("space")
        assert label_of(app, iv001).startswith("[x]") and label_of(app, df001).startswith("[x]")
        assert app.review_screen.review.counts()["accepted"] == 1
        assert "accepted 1 (3 files)" in str(app.query_one("#topbar").render())
        # "Accepting" the DF001 as well changes nothing: there is one change-set.
        app.review_screen.findings_tree.select_finding(df001.key)
        await pilot.pause()
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.text.splitlines()[0] == "Write 1 accepted change-set to 3 files:"
        assert [line.strip() for line in app.screen.text.splitlines()[2:5]] == GRAFANA_FILES
        await pilot.press("n")
        # Un-accepting the DF001 un-accepts the IV001: nothing is left for `w` to write.
        await pilot.press("space")
        assert label_of(app, iv001).startswith("[ ]") and label_of(app, df001).startswith("[ ]")
        assert not app.review_screen.review.accepted_findings()
        await pilot.press("w")
        assert not isinstance(app.screen, ConfirmDialog)
        assert notifications(app)[-1].startswith("Nothing accepted yet")
    assert (demo_repo / "deploy/grafana/grafana.yaml").read_text() == (
        Path(__file__).resolve().parents[2] / "examples/demo/deploy/grafana/grafana.yaml"
    ).read_text()


async def test_accept_all_safe_counts_change_sets_and_distinct_files(demo_repo: Path) -> None:
    app = MigrateApp(engines(demo_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        safe_sets = app.review_screen.review.change_sets(
            [f for f in app.review_screen.review.findings if f.applicability is Applicability.SAFE]
        )
        files = sorted({p for cid in safe_sets for p in app.review_screen.review.fix_of(cid).paths})
        assert (len(safe_sets), len(files)) == (6, 11)
        await pilot.press("a")
        assert notifications(app)[-1] == "Accepted 6 safe change-sets; 3 unsafe left for you to confirm one by one (space)."
        await pilot.press("a")
        assert notifications(app)[-1].startswith("Accepted 0 safe change-sets;")
        await pilot.press("w")
        assert app.screen.text.splitlines()[0] == "Write 6 accepted change-sets to 11 files:"
        assert [line.strip() for line in app.screen.text.splitlines()[2:13]] == files


async def test_a_replan_that_changes_the_fix_withdraws_the_accept(small_repo: Path) -> None:
    """Accept a safe fix, make a reader read-write on disk, re-scan: the fix is now unsafe, and
    `w` must not write it without the assumption dialog."""
    site = small_repo / "deploy" / "site.yaml"
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")
        assert app.review_screen.current.applicability is Applicability.SAFE
        await pilot.press("space")
        assert app.review_screen.review.is_accepted(app.review_screen.current)
        edited = site.read_text().replace("          readOnly: true\n", "          readOnly: false\n")
        site.write_text(edited)
        await pilot.press("r")
        await scanned(pilot)
        finding = finding_of(app, "IV001", "deploy/site.yaml")
        assert finding.applicability is Applicability.UNSAFE
        assert not app.review_screen.review.is_accepted(finding) and not app.review_screen.review.accepted
        assert app.review_screen.review.reset_reason(finding) == (
            "You had accepted this change-set, but the re-plan changed it (it was safe and is now unsafe): review it again."
        )
        assert label_of(app, finding).startswith("[ ]")
        assert "Decision withdrawn" in screen_text(app)
        assert notifications(app)[-1].startswith("1 accepted change-set changed in the re-plan and is pending again")
        await pilot.press("w")
        assert not isinstance(app.screen, ConfirmDialog)
    assert site.read_text() == edited


async def test_a_write_that_wrote_nothing_rescans(small_repo: Path) -> None:
    agent = small_repo / "deploy" / "agent.yaml"
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/agent.yaml")
        await pilot.press("space")
        agent.write_text(agent.read_text() + "# edited meanwhile\n")
        generation = app.review_screen.generation
        await pilot.press("w", "y")
        await written(pilot)
        assert app.screen.written == []
        await scanned(pilot)
        assert app.review_screen.generation == generation + 1
        # The plan now matches the file on disk, so the same accept can be written.
        assert app.review_screen.result.sources["deploy/agent.yaml"].text.endswith("# edited meanwhile\n")


async def test_actions_apply_only_to_what_the_filter_shows(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await select(pilot, "deploy/site.yaml")
        site = app.review_screen.current
        # A filter that hides the selection moves it to what is shown (and the right pane follows).
        await pilot.press("slash", *"path:agent", "enter")
        assert app.review_screen.current is not None and app.review_screen.current.location.path == "deploy/agent.yaml"
        assert app.query_one("#diff-panel").border_title.startswith("deploy/agent.yaml")
        await pilot.press("space")
        assert {f.location.path for f in app.review_screen.review.accepted_findings()} == {"deploy/agent.yaml"}
        assert not app.review_screen.review.is_accepted(site)
        # A filter that shows nothing: no selection, and space decides nothing.
        await pilot.press("slash")
        app.query_one("#filter").value = "path:nothing-matches"
        await pilot.pause()
        await pilot.press("enter")
        assert app.review_screen.current is None and app.review_screen.findings_tree.finding_keys == []
        await pilot.press("space", "a")
        assert {f.location.path for f in app.review_screen.review.accepted_findings()} == {"deploy/agent.yaml"}
        # `a` accepts the safe change-sets shown, not the hidden ones.
        await pilot.press("slash")
        app.query_one("#filter").value = "path:site"
        await pilot.pause()
        await pilot.press("enter", "a")
        assert {f.location.path for f in app.review_screen.review.accepted_findings()} == {"deploy/agent.yaml", "deploy/site.yaml"}
        assert notifications(app)[-1] == "Accepted 1 safe change-set shown by the filter."
        # Esc in the tree clears the filter and keeps the cursor on the same finding.
        assert app.focused is app.review_screen.findings_tree
        await pilot.press("escape")
        assert app.review_screen.query_text == "" and len(app.review_screen.findings_tree.finding_keys) == 4
        assert app.review_screen.current.location.path == "deploy/site.yaml"
        assert app.review_screen.findings_tree.cursor_node.data.key == app.review_screen.current.key


async def test_space_on_a_group_row_toggles_the_whole_group(demo_repo: Path) -> None:
    app = MigrateApp(engines(demo_repo))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        df003 = finding_of(app, "DF003", "services/worker/Dockerfile")  # unsafe
        df004 = finding_of(app, "DF004", "services/worker/Dockerfile")  # safe
        group = app.review_screen.findings_tree._groups["services/worker/Dockerfile"]
        app.review_screen.findings_tree.move_cursor(group)
        await pilot.pause()
        await pilot.press("space")
        # The unsafe change-set of the group asks first, naming its assumption.
        assert isinstance(app.screen, ConfirmDialog) and app.screen.id == "confirm-unsafe"
        assert df003.fix.assumption.split()[0] in app.screen.text
        await pilot.press("y")
        assert app.review_screen.review.is_accepted(df003) and app.review_screen.review.is_accepted(df004)
        await pilot.press("space")
        assert not app.review_screen.review.is_accepted(df003) and not app.review_screen.review.is_accepted(df004)
        # Saying no to the unsafe one still accepts the safe one.
        await pilot.press("space", "n")
        assert not app.review_screen.review.is_accepted(df003) and app.review_screen.review.is_accepted(df004)
        # Undo (U, ctrl+z) walks back the decisions one by one.
        await pilot.press("U")
        assert not app.review_screen.review.is_accepted(df004)
        await pilot.press("ctrl+z")
        assert app.review_screen.review.is_accepted(df003) and app.review_screen.review.is_accepted(df004)


async def test_quit_dialog_focuses_stay_and_summary_q_quits(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await pilot.press("a", "q")
        assert isinstance(app.screen, ConfirmDialog) and app.screen.id == "confirm-quit"
        assert app.focused.id == "no"
        await pilot.press("enter")  # a reflex enter keeps the work
        assert app.is_running and not isinstance(app.screen, ConfirmDialog)
        assert len(app.review_screen.review.accepted) == 2
        await pilot.press("w", "y")
        await written(pilot)
        assert isinstance(app.screen, WriteSummary)
        await pilot.press("q")  # one q after the summary quits
        await wait_until(pilot, lambda: not app.is_running, "exit")
    assert app.return_value == 0


class HeldEngine:
    """Wraps a real engine and holds the end of the scan until the test releases it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.release = threading.Event()
        self.halfway = threading.Event()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def __call__(self, *, mode=None):  # the app's Engine factory: a fresh real engine, same wrapper
        self._engine = make_engine(self.root, mode)
        return self

    def iter_scan(self):
        seen = 0
        for event in self._engine.iter_scan():
            if getattr(event, "findings", ()):
                seen += 1
                if seen == 2:  # hold after the second file with findings
                    self.halfway.set()
                    assert self.release.wait(30), "the test never released the scan"
            yield event


async def test_accept_all_safe_during_a_scan_follows_the_scan(small_repo: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.tui.review_screen.BATCH_SECONDS", 0.0)  # post every file's findings at once
    engine = HeldEngine(small_repo)
    app = MigrateApp(engine)  # type: ignore[arg-type]
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.review_screen.review.findings and engine.halfway.is_set(), "the first findings")
        assert app.review_screen.scanning
        await pilot.press("a")
        first = len(app.review_screen.review.accepted)
        assert notifications(app)[-1].startswith(f"Accepted {first} safe change-set")
        assert "found so far; the scan is still running" in notifications(app)[-1]
        engine.release.set()
        await scanned(pilot)
        safe = {f.location.path for f in app.review_screen.review.findings if f.applicability is Applicability.SAFE}
        assert {f.location.path for f in app.review_screen.review.accepted_findings()} == safe == {"deploy/agent.yaml", "deploy/site.yaml"}


def _finding(path: str, applicability: Applicability, content: str, rule: str = "IV001") -> Finding:
    fix = Fix(applicability=applicability, description="do it", edits=(Edit(path, 0, 0, content),))
    return Finding(rule=rule, severity=Severity.WARNING, location=Location(path, 3), message=f"message about {path}", fix=fix)


def test_the_decision_model_is_per_change_set_and_tied_to_the_fix() -> None:
    shared = Fix(applicability=Applicability.SAFE, description="both", edits=(Edit("k.yaml", 0, 0, "a"), Edit("Dockerfile", 0, 0, "b")))
    iv = Finding(rule="IV001", severity=Severity.WARNING, location=Location("k.yaml", 3), message="iv", fix=shared)
    df = Finding(rule="DF001", severity=Severity.WARNING, location=Location("Dockerfile", 1), message="df", fix=shared)
    other = _finding("x.yaml", Applicability.SAFE, "x")
    review = Review([iv, df, other])
    assert review.counts()["safe"] == 2
    review.accept(df)
    assert review.is_accepted(iv) and review.accepted_findings() == [iv]
    assert review.accepted_files() == ["Dockerfile", "k.yaml"]
    # The same findings re-planned with another fix: pending again, with the reason.
    replanned = Fix(applicability=Applicability.UNSAFE, description="both", edits=shared.edits, assumption="nobody writes")
    iv2 = Finding(rule="IV001", severity=Severity.WARNING, location=Location("k.yaml", 3), message="iv", fix=replanned)
    df2 = Finding(rule="DF001", severity=Severity.WARNING, location=Location("Dockerfile", 1), message="df", fix=replanned)
    withdrawn = review.replace([iv2, df2, other], [])
    assert withdrawn == [review.set_of(iv2)]
    assert not review.is_accepted(iv2) and not review.accepted
    assert "it was safe and is now unsafe" in review.reset_reason(df2)
    # Deciding again clears the reason; undo brings it back.
    review.accept(iv2)
    assert review.reset_reason(iv2) is None and review.is_accepted(df2)
    assert review.undo() and not review.is_accepted(iv2) and review.reset_reason(iv2)


TWO_COPIES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: copy-site
        image: registry.example.com/web-site:1.4.2
        command: ["sh", "-c", "cp -r /site/. /html/"]
        volumeMounts:
        - name: html
          mountPath: /html
      - name: copy-conf
        image: registry.example.com/web-conf:2.0.0
        command: ["sh", "-c", "cp -r /conf/. /etc/nginx/conf.d/"]
        volumeMounts:
        - name: conf
          mountPath: /etc/nginx/conf.d
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts:
        - name: html
          mountPath: /usr/share/nginx/html
          readOnly: true
        - name: conf
          mountPath: /etc/nginx/conf.d
          readOnly: true
      volumes:
      - name: html
        emptyDir: {}
      - name: conf
        emptyDir: {}
"""


async def test_overlapping_fixes_say_plainly_that_the_second_waits_for_the_next_round(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    (root / "deploy/two.yaml").write_text(TWO_COPIES)
    app = MigrateApp(engines(root))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        assert len(app.review_screen.review.accepted_findings()) == 0 and app.review_screen.review.counts()["safe"] == 2
        await pilot.press("a", "w")
        assert app.screen.text.splitlines()[0] == "Write 2 accepted change-sets to 1 file:"
        await pilot.press("y")
        await written(pilot)
        summary = app.screen
        assert isinstance(summary, WriteSummary) and summary.written == ["deploy/two.yaml"] and summary.waiting == 1
        assert (
            "1 other accepted change-set overlapped one just written: it waits for the re-scan, which plans "
            "it again on the new text; review and write it then (next round)."
        ) in plain_text(summary._body(), width=300)
        await pilot.press("enter")
        await scanned(pilot)
        # The next round: the other copy, re-planned on the new text, is pending and says why.
        [left] = app.review_screen.review.findings
        assert left.fixable and not app.review_screen.review.is_accepted(left)
        assert app.review_screen.review.reset_reason(left) == (
            "You had accepted this change-set, but the re-plan changed it (its edits changed): review it again."
        )
        await pilot.press("a", "w", "y")
        await written(pilot)
        await pilot.press("enter")
        await scanned(pilot)
        assert app.review_screen.review.findings == []
    text = (root / "deploy/two.yaml").read_text()
    assert "initContainers" not in text and text.count("reference:") == 2


async def test_space_decides_on_the_row_under_the_cursor_even_right_after_moving(small_repo: Path) -> None:
    app = MigrateApp(engines(small_repo))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await pilot.press("g")
        await pilot.pause()
        # Keys arrive together (a fast typist, a terminal's paste): no pause between them.
        from textual import events

        for key, char in [("j", "j")] * 5 + [("space", " ")]:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        assert app.review_screen.findings_tree.cursor_node.data.key == finding_of(app, "IV001", "deploy/site.yaml").key
        assert {f.location.path for f in app.review_screen.review.accepted_findings()} == {"deploy/site.yaml"}
