"""The engine is importable without the TUI (STYLE.md: pure core, Textual shell)."""

from __future__ import annotations

import subprocess
import sys


def test_core_rules_and_formats_never_load_textual_or_rich() -> None:
    probe = (
        "import sys\n"
        "import migrate_tui.pipeline.engine, migrate_tui.render.formats, migrate_tui.rules\n"
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


def test_docs_rules_md_is_generated_from_the_rule_docstrings() -> None:
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_rules_doc.py"
    spec = importlib.util.spec_from_file_location("gen_rules_doc", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.TARGET.read_text() == module.render(), "docs/rules.md is stale: run scripts/gen_rules_doc.py"
    for code in ("IV001", "IV002", "IV003", "DF001", "DF002", "DF003", "DF004", "DF005"):
        section = module.render().split(f"\n## {code}\n", 1)[1].split("\n## ", 1)[0]
        for heading in ("### What it does", "### Why is this bad?", "### Example", "### Use instead", "### Fix safety"):
            assert heading in section, (code, heading)
