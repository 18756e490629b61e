"""Record what the shell model says about every command the tests and fixtures contain.

    python tests/shell_goldens/generate.py          # rewrite the goldens
    python tests/shell_goldens/generate.py --check  # exit 1 when they differ (what the test does)

Inputs, collected without running any test:

- every container (anything with a ``command`` or ``args`` list) in the YAML files under
  ``tests/fixtures`` and ``examples``, with its literal ``env`` and ``workingDir``;
- every string and list-of-strings literal in the test modules that exercise the shell model
  (scripts, argv lists, parametrize tables, hypothesis ``@example`` cases), each read as
  ``sh -c SCRIPT`` (a string) or as ``command`` (a list), plus the calls that pass ``env=``;
- every ``RUN`` of every Dockerfile under ``tests/fixtures`` and ``examples``: what
  ``dockerfile.run.read_run`` makes of it, and its shell-form script read as ``sh -c``;
- the same from ``../shared/corpus`` when it is present (a separate golden file, skipped when
  the corpus is absent).

The goldens are JSON lines (one input and its output per line), sorted, so a diff shows exactly
which command changed.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "src"))

from migrate_tui.analysis.initcopy import literal_env  # noqa: E402  (the container's env as the IV analysis reads it)
from migrate_tui.parse.shell import parse_container_command  # noqa: E402
from migrate_tui.parse.dockerfile.names import is_dockerfile_name  # noqa: E402
from migrate_tui.parse.dockerfile.parser import parse_dockerfile  # noqa: E402
from migrate_tui.parse.dockerfile.run import read_run, split_script  # noqa: E402

# Test modules whose literals are shell commands or RUN scripts.
SHELL_TESTS = ("test_shell.py", "test_fuzz.py", "test_initcopy_view.py", "test_shell_model.py")
RUN_TESTS = ("test_df004_semantics.py",)
GOLDENS = {"repo": HERE / "goldens.jsonl", "corpus": HERE / "corpus.jsonl"}


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses and named tuples as dicts, enums as their value."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# The fields of a RUN's commands the goldens predate: the wrappers a command runs behind, and
# what the classifiers make of it (tests/test_shell_command.py checks those).
_NEWER_COMMAND_FIELDS = frozenset({"wrappers", "wrapper_words", "kind", "why", "reason", "reads", "writes", "copy", "program"})


def _run_commands(commands: Any) -> Any:
    """A RUN's commands as recorded before the shared ``parse.shell.Command`` existed: words,
    assignments, connector."""
    return [{k: v for k, v in _plain(c).items() if k not in _NEWER_COMMAND_FIELDS} for c in commands]


# --------------------------------------------------------------------------- inputs


def _containers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("command"), list) or isinstance(node.get("args"), list):
            yield node
        for value in node.values():
            yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


def _words(value: Any) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def yaml_inputs(root: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
            continue
        for document in documents:
            for container in _containers(document):
                working_dir = container.get("workingDir")
                yield {
                    "command": _words(container.get("command")),
                    "args": _words(container.get("args")),
                    "working_dir": str(working_dir) if working_dir else None,
                    "env": literal_env(container),
                }


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def test_literals(path: Path) -> Iterator[dict[str, Any]]:
    """Strings and string lists of a test module, and its calls with ``env=``/``working_dir=``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield {"command": ["sh", "-c", node.value], "args": None, "working_dir": None, "env": {}}
        elif isinstance(node, ast.List) and _string_list(value := _literal(node)) and value:
            yield {"command": value, "args": None, "working_dir": None, "env": {}}
            yield {"command": ["sh", "-c", " ".join(value)], "args": None, "working_dir": None, "env": {}}
        elif isinstance(node, ast.Call) and node.keywords and node.args:
            kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg in ("env", "working_dir", "workdir")}
            if not kwargs:
                continue
            first = _literal(node.args[0])
            env = kwargs.get("env") if isinstance(kwargs.get("env"), dict) else {}
            working_dir = kwargs.get("working_dir", kwargs.get("workdir"))
            working_dir = working_dir if isinstance(working_dir, str) else None
            if isinstance(first, str):
                command = ["sh", "-c", first]
            elif _string_list(first):
                command = first
            else:
                continue
            yield {
                "command": command,
                "args": None,
                "working_dir": working_dir,
                "env": {str(k): "" if v is None else str(v) for k, v in env.items()},
            }


def dockerfiles(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        name = path.name
        if path.is_file() and (is_dockerfile_name(name) or name.endswith(".Dockerfile") or "_Dockerfile" in name):
            yield path


# --------------------------------------------------------------------------- outputs


def command_record(spec: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_container_command(spec["command"], spec["args"], spec["working_dir"], spec["env"])
    record = _plain(parsed)
    for op in record["ops"]:  # the goldens predate Op.commands (the same words, with offsets)
        del op["commands"]  # and Op.why (the typed reason; tests/test_shell_command.py checks it)
        del op["why"]
    return {"input": spec, "parsed": record}


def run_records(path: Path, root: Path) -> Iterator[dict[str, Any]]:
    try:
        parsed = parse_dockerfile(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return
    for instr in parsed.instructions:
        if instr.keyword != "RUN":
            continue
        script = read_run(instr)
        where = f"{path.relative_to(root)}:{instr.line}"
        shown = (
            None
            if script is None
            else {
                "form": script.form.value,
                "append_at": script.append_at,
                "blocker": None if script.blocker is None else script.blocker.value,
                "commands": _run_commands(script.commands),
            }
        )
        yield {"run": where, "text": instr.args, "read_run": shown}
        if instr.json_args is None and not instr.heredocs:
            yield command_record({"command": ["/bin/sh", "-c", instr.args], "args": None, "working_dir": None, "env": {}})


def split_record(script: str) -> dict[str, Any]:
    commands, end, blocker = split_script(script)
    return {"split_script": script, "end": end, "blocker": None if blocker is None else blocker.value, "commands": _run_commands(commands)}


def records(which: str) -> list[str]:
    out: list[dict[str, Any]] = []
    if which == "repo":
        roots = [REPO / "tests" / "fixtures", REPO / "examples"]
        for root in roots:
            out += [command_record(spec) for spec in yaml_inputs(root)]
            for path in dockerfiles(root):
                out += run_records(path, REPO)
        for name in SHELL_TESTS:
            if (REPO / "tests" / name).is_file():
                out += [command_record(spec) for spec in test_literals(REPO / "tests" / name)]
        for name in RUN_TESTS:
            tree = ast.parse((REPO / "tests" / name).read_text(encoding="utf-8"))
            out += [split_record(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    else:
        out += [command_record(spec) for spec in yaml_inputs(CORPUS)]
        for path in dockerfiles(CORPUS):
            out += run_records(path, CORPUS)
    lines = {json.dumps(record, sort_keys=True, ensure_ascii=True) for record in out}
    return sorted(lines)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    status = 0
    for which, path in GOLDENS.items():
        if which == "corpus" and not CORPUS.is_dir():
            continue
        text = "".join(line + "\n" for line in records(which))
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                print(f"{path.relative_to(REPO)} differs", file=sys.stderr)
                status = 1
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{path.relative_to(REPO)}: {text.count(chr(10))} records")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
