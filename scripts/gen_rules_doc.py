"""Write docs/rules.md from the rules' docstrings (the single source of each rule's documentation).

python scripts/gen_rules_doc.py          # rewrite docs/rules.md
python scripts/gen_rules_doc.py --check  # exit 1 when docs/rules.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from migrate_tui.rules import all_rules

TARGET = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def render() -> str:
    rules = all_rules()
    parts = [
        "# migrate-tui rules",
        "",
        "Generated from each rule's docstring by `scripts/gen_rules_doc.py`; `migrate-tui rule CODE` prints the same text.",
        "",
        "| code | name | summary |",
        "|---|---|---|",
    ]
    parts += [f"| [{code}](#{code.lower()}) | {r.name} | {r.summary} |" for code, r in sorted(rules.items())]
    for code, rule in sorted(rules.items()):
        body = rule.doc.split("\n", 1)[1].strip() if "\n" in rule.doc else ""
        body = body.replace("\n## ", "\n### ")
        if body.startswith("## "):
            body = "#" + body
        parts += ["", f"## {code}", "", f"`{rule.name}` — {rule.summary}", "", body]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        return 0 if TARGET.exists() and TARGET.read_text() == text else 1
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
