"""``--format gitlab``: a GitLab Code Quality report (the subset of the CodeClimate JSON format
that GitLab reads: ``description``, ``check_name``, ``fingerprint``, ``severity`` and
``location.path`` + ``location.lines.begin``), so findings show in merge requests.

The fingerprint is stable across line moves (the finding's key), so GitLab can tell new
findings from old ones between the base and the merge-request pipeline.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from migrate_tui.pipeline.engine import ScanResult
from migrate_tui.model.findings import Applicability, Finding, Severity

# GitLab's severities: info, minor, major, critical, blocker.
_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _finding(f: Finding) -> dict[str, Any]:
    fix = {Applicability.SAFE: "safe fix", Applicability.UNSAFE: "unsafe fix", Applicability.MANUAL: "manual"}
    return {
        "type": "issue",
        "check_name": f.rule,
        "description": f"{f.rule} [{fix[f.applicability]}] {f.message}",
        "categories": ["Performance"] if f.rule.startswith("DF") else ["Bug Risk"] if f.rule == "IV003" else ["Style"],
        "severity": _SEVERITY.get(f.severity, "major"),
        "fingerprint": _fingerprint("finding", f.rule, f.location.path, f.key),
        "location": {"path": f.location.path, "lines": {"begin": f.location.line}},
    }


def render_gitlab(result: ScanResult) -> str:
    issues = [
        {
            "type": "issue",
            "check_name": f"migrate-tui/{d.kind}",
            "description": f"{d.kind}: {d.message}",
            "categories": ["Bug Risk"],
            "severity": "critical" if d.kind == "internal" else "minor",
            "fingerprint": _fingerprint("diagnostic", str(d.kind), d.path, str(d.line), d.message),
            "location": {"path": d.path, "lines": {"begin": max(d.line, 1)}},
        }
        for d in result.diagnostics
    ]
    issues += [_finding(f) for f in result.findings]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
