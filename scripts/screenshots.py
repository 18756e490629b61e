"""PNG screenshots of the TUI's main screens, made from a copy of examples/demo.

    python scripts/screenshots.py [--out screenshots]

Each screen is saved as SVG by Textual (``App.save_screenshot``) and turned into a PNG by
cairosvg with the Fira Code font from Debian's fonts-firacode (rsvg-convert drops leading
spaces, so it is not used). Nothing is written to examples/demo: the app runs on a temp copy.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"
SIZE = (160, 45)
FONT = "Fira Code"


def have_font() -> bool:
    try:
        out = subprocess.run(["fc-list", ":family"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return False
    return FONT.lower() in out.lower()


def svg_to_png(svg: Path, png: Path, width: int = 1800) -> None:
    import cairosvg

    # Textual's SVG asks for Fira Code from a CDN first; offline, fontconfig finds the local one.
    cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=width)


async def wait_until(pilot, condition, attempts: int = 2000) -> None:
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.01)
    raise TimeoutError("the app did not get there")


async def capture(root: Path, out: Path) -> list[Path]:
    from migrate_tui.repo.config import load_config
    from migrate_tui.pipeline.engine import Engine
    from migrate_tui.tui.app import MigrateApp

    app = MigrateApp(Engine(root, load_config(root)).renewed)
    shots: list[Path] = []

    def save(name: str) -> None:
        svg = out / f"{name}.svg"
        app.save_screenshot(filename=svg.name, path=str(out))
        shots.append(svg)

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.review_screen.result is not None and not app.review_screen.scanning)
        await app.workers.wait_for_complete()
        await pilot.pause()
        # 1. the headline rewrite: grafana's plugin-copying init container goes, its emptyDir becomes
        #    `image: {reference: …}` (side by side, long lines wrapped)
        hero = next(f for f in app.review_screen.review.findings if f.rule == "IV001" and f.location.path == "deploy/grafana/grafana.yaml")
        app.review_screen.findings_tree.select_finding(hero.key)
        await pilot.pause()
        view = app.query_one("#diff")
        view.scroll_to(0, view.first_change(), animate=False)
        await pilot.pause()
        save("1-findings-and-diff")
        # 2. the explanation of the unsafe one, widened
        unsafe = next((f for f in app.review_screen.review.findings if f.applicability.value == "unsafe"), hero)
        app.review_screen.findings_tree.select_finding(unsafe.key)
        await pilot.press("e")
        save("2-explanation")
        await pilot.press("e")
        # 3. the write confirmation after `a` (every safe change-set, counted once)
        await pilot.press("a", "w")
        save("3-write-confirm")
        await pilot.press("n")
        # 4. help
        await pilot.press("question_mark")
        save("4-help")
        await pilot.press("escape")
        app.review_screen.review.decide(list(app.review_screen.review.accepted), False)  # leave without writing anything
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--demo", type=Path, default=DEMO)
    args = parser.parse_args(argv)
    if not args.demo.is_dir():
        print(f"screenshots: {args.demo} not found", file=sys.stderr)
        return 2
    if not have_font():
        print(f"screenshots: the {FONT} font is missing (apt-get install fonts-firacode)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="migrate-tui-shots-") as tmp:
        root = Path(tmp) / "demo"
        shutil.copytree(args.demo, root)
        svg_dir = Path(tmp) / "svg"
        svg_dir.mkdir()
        for svg in asyncio.run(capture(root, svg_dir)):
            png = args.out / f"{svg.stem}.png"
            svg_to_png(svg, png)
            print(png.relative_to(REPO) if png.is_relative_to(REPO) else png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
