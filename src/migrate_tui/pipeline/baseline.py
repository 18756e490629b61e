"""Baselines: adopt the check on a big repository without fixing everything at once.

``check --write-baseline --baseline FILE`` records today's findings; ``check --baseline FILE``
then reports only new ones, and says how many recorded entries no longer match anything
(fixed, or moved out of the file), so the baseline can shrink. Entries are keyed by
``Finding.key`` (rule, path and the object the finding is about), not by line numbers, so
edits elsewhere in a file don't invalidate them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from migrate_tui.model.findings import Finding

VERSION = 1


class BaselineError(ValueError):
    """A baseline file that can't be read; one line for the user."""


@dataclass(frozen=True)
class Baseline:
    # key -> {"key", "rule", "path", "message"}: parsed JSON (``load_baseline`` keeps only entries
    # that can be indexed by "key", which in JSON means objects)
    entries: dict[str, dict[str, Any]]

    def split(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding], list[dict[str, Any]]]:
        """(new findings, baselined findings, stale entries)."""
        fresh: list[Finding] = []
        known: list[Finding] = []
        seen: set[str] = set()
        for finding in findings:
            if finding.key in self.entries:
                known.append(finding)
                seen.add(finding.key)
            else:
                fresh.append(finding)
        stale = [entry for key, entry in sorted(self.entries.items()) if key not in seen]
        return fresh, known, stale


def load_baseline(path: Path) -> Baseline:
    if not path.exists():
        return Baseline({})
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise BaselineError(f"{path}: baseline version {data.get('version')!r}, expected {VERSION}")
        return Baseline({e["key"]: e for e in data["findings"]})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, BaselineError):
            raise
        raise BaselineError(f"{path}: not a migrate-tui baseline ({exc})") from None


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    entries = sorted(
        ({"key": f.key, "rule": f.rule, "path": f.location.path, "message": f.message} for f in findings),
        key=lambda e: (e["path"], e["rule"], e["key"]),
    )
    data = json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return len(entries)
