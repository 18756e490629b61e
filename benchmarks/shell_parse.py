"""Time the shell model per command over every command of the shell goldens.

    python benchmarks/shell_parse.py [--rounds 5] [--old OLD_SHELL_PY]

``--old`` times a standalone copy of another shell model next to this one, e.g. the
hand-written parser tree-sitter-bash replaced:
``git show 82e3c6b:src/migrate_tui/core/shell.py > /tmp/old_shell.py``.
Prints microseconds per command (best round). Not a test: it asserts nothing.
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


def best(parse: Callable[..., object], specs: list[dict[str, Any]], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for spec in specs:
            parse(spec["command"], spec["args"], spec["working_dir"], spec["env"])
        times.append(time.perf_counter() - started)
    return min(times) / len(specs) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--old", type=Path)
    args = parser.parse_args()
    specs = inputs()
    from migrate_tui.core.shell import parse_container_command

    print(f"{len(specs)} commands ({sum(len(json.dumps(s)) for s in specs) // len(specs)} bytes on average)")
    print(f"tree-sitter-bash model: {best(parse_container_command, specs, args.rounds):8.1f} µs/command")
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
