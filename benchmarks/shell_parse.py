"""Time the shell model per command over every command of the shell goldens.

    python benchmarks/shell_parse.py [--rounds 5] [--old OLD_SHELL_PY]

``--old`` times a standalone copy of another shell model next to this one, e.g. the
hand-written parser tree-sitter-bash replaced:
``git show 82e3c6b:src/migrate_tui/parse/shell.py > /tmp/old_shell.py``.
Prints CPU microseconds per command (best round; CPU time, steadier on a shared machine). Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOLDENS = HERE.parent / "tests" / "shell_goldens" / "goldens.jsonl"


def inputs() -> list[dict[str, Any]]:
    out = []
    for line in GOLDENS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "input" in record:
            out.append(record["input"])
    return out


def best(parse: Callable[..., object], specs: list[dict[str, Any]], rounds: int, clear: Callable[[], None] | None = None) -> float:
    """Best round, in µs per command; ``clear`` empties a parse cache before each round (every
    command is parsed, not looked up)."""
    times = []
    for _ in range(rounds):
        if clear is not None:
            clear()
        started = time.process_time()
        for spec in specs:
            parse(spec["command"], spec["args"], spec["working_dir"], spec["env"])
        times.append(time.process_time() - started)
    return min(times) / len(specs) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--old", type=Path)
    args = parser.parse_args()
    specs = inputs()
    from migrate_tui.parse.shell import parse_container_command
    from migrate_tui.parse.shell.syntax import parse_script

    print(f"{len(specs)} commands ({sum(len(json.dumps(s)) for s in specs) // len(specs)} bytes on average)")
    print(
        f"tree-sitter-bash model: {best(parse_container_command, specs, args.rounds, parse_script.cache_clear):8.1f} µs/command"
        " (cache cleared each round)"
    )
    print(f"tree-sitter-bash model: {best(parse_container_command, specs, args.rounds):8.1f} µs/command (scripts cached)")
    if args.old:
        spec = importlib.util.spec_from_file_location("old_shell", args.old)
        assert spec is not None and spec.loader is not None
        old = importlib.util.module_from_spec(spec)
        sys.modules["old_shell"] = old
        spec.loader.exec_module(old)
        print(f"old model ({args.old.name}): {best(old.parse_container_command, specs, args.rounds):8.1f} µs/command")
    return 0


if __name__ == "__main__":
    sys.exit(main())
