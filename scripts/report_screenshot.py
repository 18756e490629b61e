"""screenshots/report.png: the HTML savings report of examples/demo, rendered by headless Chromium.

    python scripts/report_screenshot.py [--out screenshots]

The report is made on a temp copy of examples/demo (nothing is written there) and rendered by
Debian's chromium, the same browser the report test uses; the picture is never drawn by hand.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        # The report names the scanned root: a fixed path keeps the PNG the same from run to run.
        demo = Path(tempfile.gettempdir()) / "migrate-tui-screenshot" / "demo"
        shutil.rmtree(demo.parent, ignore_errors=True)
        shutil.copytree(DEMO, demo)
        page = Path(tmp) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "migrate_tui", "report", str(demo), "--format", "html", "-o", str(page), "--no-cache"], check=True
        )
        args.out.mkdir(parents=True, exist_ok=True)
        png = args.out / "report.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                "--window-size=1200,1500",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(demo.parent, ignore_errors=True)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
