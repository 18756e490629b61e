"""The engine is importable without the TUI (STYLE.md: pure core, Textual shell)."""

from __future__ import annotations

import subprocess
import sys


def test_core_rules_and_formats_never_load_textual_or_rich() -> None:
    probe = (
        "import sys\n"
        "import migrate_tui.core.engine, migrate_tui.formats, migrate_tui.rules\n"
        "migrate_tui.rules.all_rules()\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_linter_contract_holds() -> None:
    result = subprocess.run([sys.executable, "-m", "importlinter.cli", "--no-cache"], capture_output=True, text=True)
    if "No module named" in result.stderr:
        result = subprocess.run(["lint-imports", "--no-cache"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
