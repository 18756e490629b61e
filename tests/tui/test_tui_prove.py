"""`p` (prove) in the TUI: verify runs in a worker on the selected image-volume change-set with
images the test builds (real OCI layouts, the project's own daemon-free builder), and a proof can
only lower the fix, through the one decision model (``Review``)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.widgets import Static

from migrate_tui.cli import main
from migrate_tui.model.findings import Applicability
from migrate_tui.oci.build import build
from migrate_tui.proof.prove import ProofKind
from migrate_tui.tui.app import MigrateApp
from migrate_tui.tui.commands import help_rows, palette_entries, review_commands
from migrate_tui.tui.review_screen import ReviewScreen
from migrate_tui.tui.review import fix_digest
from migrate_tui.tui.screens import ConfirmDialog, plain_text
from tuihelp import LARGE, SMALL, finding_of, engines, notifications, scanned, screen_text, select

WEB = "registry.example.com/platform/web-site:1.4.2"
GRAFANA = "registry.example.com/platform/grafana-plugins:3.1.0"
WEB_YAML = "deploy/web/deployment.yaml"
GRAFANA_YAML = "deploy/grafana/grafana.yaml"


def make_image(tmp: Path, name: str, files: dict[str, bytes], tag: str = "v1") -> str:
    """An OCI layout holding FROM scratch + the files; returns ``oci:DIR:TAG``."""
    context = tmp / f"ctx-{name}"
    for rel, data in files.items():
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    dockerfile = tmp / f"Dockerfile.{name}"
    tops = sorted({r.split("/")[0] for r in files})
    dockerfile.write_text("FROM scratch\n" + "".join(f"COPY {top} /{top}\n" for top in tops))
    layout = tmp / f"oci-{name}"
    build(dockerfile, context, tag=tag, output=layout)
    return f"oci:{layout}:{tag}"


def panel(app) -> str:
    return " ".join(plain_text(app.query_one("#explanation-body", Static).content, width=400).split())


async def proved(pilot, key: str) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert key not in app.review_screen._proving and key in app.review_screen.proofs


def iv001(app, path: str):
    return finding_of(app, "IV001", path)


async def test_a_proven_change_set_stays_accepted(demo_copy: Path, tmp_path: Path) -> None:
    web = make_image(tmp_path, "web", {"site/index.html": b"<h1>hi</h1>", "site/css/a.css": b"body{}"})
    app = MigrateApp(engines(demo_copy, mode="zero-rebuild"), images=(f"{WEB}={web}",))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, WEB_YAML)
        before = iv001(app, WEB_YAML)
        await pilot.press("space")
        assert app.review_screen.review.is_accepted(before)
        await pilot.press("p")
        await proved(pilot, before.key)
        after = iv001(app, WEB_YAML)
        assert after.fix == before.fix and app.review_screen.review.is_accepted(after)
        assert app.review_screen.proofs[before.key][2].kind is ProofKind.PROVEN
        summary = "proven: 'nginx' at /usr/share/nginx/html: 3 entries identical"
        assert f"Proof {summary} The fix stands as the rules judged it." in panel(app)
        assert notifications(app)[-1] == f"{WEB_YAML}: {summary}"
        assert "Decision withdrawn" not in panel(app)


async def test_dot_files_a_glob_skipped_make_it_unsafe_and_withdraw_the_accept(demo_copy: Path, tmp_path: Path) -> None:
    image = make_image(tmp_path, "graf", {"plugins/clock/module.js": b"m", "plugins/.hidden-config": b"secret"})
    app = MigrateApp(engines(demo_copy, mode="zero-rebuild"), images=(f"{GRAFANA}={image}",))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await select(pilot, GRAFANA_YAML)
        before = iv001(app, GRAFANA_YAML)
        assert before.applicability is Applicability.SAFE
        safe, unsafe = app.review_screen.review.counts()["safe"], app.review_screen.review.counts()["unsafe"]
        await pilot.press("space")
        assert app.review_screen.review.is_accepted(before)
        await pilot.press("p")
        await proved(pilot, before.key)
        after = iv001(app, GRAFANA_YAML)
        assert after.applicability is Applicability.UNSAFE
        assert fix_digest(after.fix) != fix_digest(before.fix)
        assert not app.review_screen.review.is_accepted(after) and app.review_screen.review.accepted == set()
        assert app.review_screen.review.reset_reason(after) == (
            "You had accepted this change-set, but the proof changed it (it was safe and is now unsafe): review it again."
        )
        text = panel(app)
        assert (
            "proven, with extra files: 'grafana' at /var/lib/grafana/plugins: 2 entries identical, "
            "1 more visible after (/.hidden-config)" in text
        )
        assert "the fix is now unsafe" in text
        assert (
            "the image volume shows 1 file(s) the readers did not see in the emptyDir (/.hidden-config); this assumes the app ignores them"
        ) in after.fix.assumption
        assert notifications(app)[-1].endswith("— your accept was withdrawn: review it again")
        # the 80-column top bar counts it with the unsafe change-sets, no longer with the safe ones
        assert (app.review_screen.review.counts()["safe"], app.review_screen.review.counts()["unsafe"]) == (safe - 1, unsafe + 1)
        assert f"✓ {safe - 1}  ▲ {unsafe + 1}  " in screen_text(app).splitlines()[0]
        # Accepting it now asks to confirm the assumption, which names the dot-file.
        await pilot.press("space")
        assert isinstance(app.screen, ConfirmDialog) and app.screen.id == "confirm-unsafe"
        assert "/.hidden-config" in app.screen.text
        await pilot.press("y")
        assert app.review_screen.review.is_accepted(after)
        # A re-scan plans the same fix afresh: the proof still judges it (it only ever lowers).
        await pilot.press("r")
        await scanned(pilot)
        again = iv001(app, GRAFANA_YAML)
        assert again.fix == after.fix and app.review_screen.review.is_accepted(again)


async def test_an_image_nobody_named_is_not_proven_and_changes_nothing(demo_copy: Path) -> None:
    app = MigrateApp(engines(demo_copy, mode="zero-rebuild"))
    async with app.run_test(size=SMALL) as pilot:
        await scanned(pilot)
        await select(pilot, WEB_YAML)
        before = iv001(app, WEB_YAML)
        await pilot.press("space")
        await pilot.press("p")
        await proved(pilot, before.key)
        after = iv001(app, WEB_YAML)
        assert after == before and app.review_screen.review.is_accepted(after)
        assert app.review_screen.proofs[before.key][2].kind is ProofKind.UNREACHABLE
        summary = f"not proven: no source for {WEB} (pass --image {WEB}=oci:DIR[:TAG])"
        assert notifications(app)[-1] == f"{WEB_YAML}: {summary}"
        assert f"Proof {summary} Nothing changed: the rules' verdict stands, unproven." in panel(app)
        assert "proven:" not in panel(app).replace("not proven:", "")


async def test_p_on_a_finding_that_is_no_image_volume_says_so(demo_copy: Path) -> None:
    app = MigrateApp(engines(demo_copy, mode="zero-rebuild"))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, "services/worker/Dockerfile")
        await pilot.press("p")
        assert notifications(app)[-1] == "Only an image-volume change-set (IV001) can be proven."
        assert not app.review_screen._proving and not app.review_screen.proofs


class SlowLoaderApp(MigrateApp):
    """The real loader, held until the test lets it go: a local OCI layout loads in milliseconds,
    too fast to observe the app while a proof runs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def proof_loader(self, engine):
        real = super().proof_loader(engine)

        def load(reference: str):
            self.release.wait(30)
            return real(reference)

        return load


async def test_the_proof_runs_in_a_worker_and_the_app_stays_usable(demo_copy: Path, tmp_path: Path) -> None:
    web = make_image(tmp_path, "web", {"site/index.html": b"x"})
    app = SlowLoaderApp(engines(demo_copy, mode="zero-rebuild"), images=(f"{WEB}={web}",))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, WEB_YAML)
        key = iv001(app, WEB_YAML).key
        await pilot.press("p")
        await pilot.pause()
        assert key in app.review_screen._proving
        assert "Proof proving… (verify runs on the images you named; the app stays usable)" in panel(app)
        unified = app.query_one("#diff").unified
        await pilot.press("u")  # another key works while the proof waits on its image
        assert app.query_one("#diff").unified is not unified
        await pilot.press("p")
        assert notifications(app)[-1] == "Already proving this change-set."
        app.release.set()
        await proved(pilot, key)
        assert "Proof proven: 'nginx' at /usr/share/nginx/html: 1 entry identical" in panel(app)


def test_prove_is_a_key_in_the_palette_and_help() -> None:
    entries = {c.action: c for c in palette_entries(review_commands(ReviewScreen.BINDINGS))}
    assert entries["prove"].keys == ("p",)
    assert entries["prove"].title.startswith("Prove: run verify on the selected image-volume change-set")
    rows = help_rows(review_commands(ReviewScreen.BINDINGS))
    assert ("p", "Prove", entries["prove"].tooltip) in rows


def test_the_tui_takes_image_sources_and_rejects_a_malformed_one(demo_copy: Path, capsys) -> None:
    from migrate_tui.cli import build_parser

    args = build_parser().parse_args(["tui", str(demo_copy), "--image", f"{WEB}=oci:/x:v1"])
    assert args.image == [f"{WEB}=oci:/x:v1"]
    code = main([str(demo_copy), "--image", "nonsense"])
    assert code != 0
    assert "--image nonsense: use REF=oci:DIR[:TAG]" in capsys.readouterr().err


async def test_a_difference_makes_the_whole_change_set_manual(demo_copy: Path, tmp_path: Path) -> None:
    """Scratch mode: the IV001 and the DF001 building its asset image share one change-set; a
    proof that finds a different file makes both manual, so neither can be accepted nor written."""
    before = make_image(tmp_path, "old", {"site/index.html": b"old"}, tag="old")
    after = make_image(tmp_path, "new", {"site/index.html": b"new!"}, tag="new")
    assets = "registry.example.com/platform/web-site-assets:1.4.2"
    app = MigrateApp(engines(demo_copy, mode="scratch"), images=(f"{WEB}={before}", f"{assets}={after}"))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, WEB_YAML)
        iv, df = iv001(app, WEB_YAML), finding_of(app, "DF001", "web/Dockerfile")
        assert app.review_screen.review.set_of(iv) == app.review_screen.review.set_of(df) is not None
        await pilot.press("space")
        assert app.review_screen.review.is_accepted(df)
        await pilot.press("p")
        await proved(pilot, iv.key)
        iv, df = iv001(app, WEB_YAML), finding_of(app, "DF001", "web/Dockerfile")
        assert (iv.applicability, df.applicability) == (Applicability.MANUAL, Applicability.MANUAL)
        assert iv.fix_blocked == df.fix_blocked == ("verify found differences: 'nginx' at /usr/share/nginx/html: 1 different (/index.html)")
        assert app.review_screen.review.accepted == set() and app.review_screen.review.accepted_findings() == []
        assert notifications(app)[-1].endswith("— your accept was withdrawn: nothing is written for it")
        assert (
            "Proof verify found differences: 'nginx' at /usr/share/nginx/html: 1 different (/index.html) "
            "The readers would not see the same files: the fix is now manual and is not written." in panel(app)
        )
        await pilot.press("space")
        assert notifications(app)[-1].startswith(f"IV001 {WEB_YAML}: no automatic rewrite: verify found differences")


async def test_file_names_from_an_image_reach_the_screen_as_text(demo_copy: Path, tmp_path: Path) -> None:
    hostile = ".[bold red]x[b]\x1b[2J"
    image = make_image(tmp_path, "graf", {"plugins/clock/module.js": b"m", f"plugins/{hostile}": b"!"})
    app = MigrateApp(engines(demo_copy, mode="zero-rebuild"), images=(f"{GRAFANA}={image}",))
    async with app.run_test(size=LARGE) as pilot:
        await scanned(pilot)
        await select(pilot, GRAFANA_YAML)
        await pilot.press("p")
        await proved(pilot, iv001(app, GRAFANA_YAML).key)
        shown = "1 more visible after (/.[bold red]x[b]\\x1b[2J)"  # markup as text, ESC made visible
        assert shown in panel(app) and notifications(app)[-1].endswith(shown)
        assert "\x1b" not in panel(app) + notifications(app)[-1]
