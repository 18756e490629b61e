"""Output formats for ``check``: text (ruff-like), json, sarif (2.1.0) and github annotations.

The JSON and SARIF shapes are an API: other tools parse them. Pure functions over ScanResult.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from migrate_tui import __version__
from migrate_tui.pipeline.engine import ScanResult
from migrate_tui.model.findings import Applicability, Diagnostic, DiagnosticKind, Finding
from migrate_tui.rules import all_rules, rule_name
from migrate_tui.render.formats.terminal import visible, visible_lines

if TYPE_CHECKING:
    from migrate_tui.model.findings import Fix
    from migrate_tui.pipeline.engine import FileScanned
    from migrate_tui.render.diff import FileDiff

FORMATS = ("text", "json", "sarif", "github", "gitlab")


def display_path(root: Path, rel: str, cwd: Path | None = None) -> str:
    cwd = cwd or Path.cwd()
    try:
        return os.path.relpath(root / rel, cwd)
    except ValueError:  # pragma: no cover - different drives on Windows
        return str(root / rel)


def render(
    result: ScanResult,
    fmt: str,
    *,
    show_source: bool = True,
    fixed: list[Finding] | None = None,
    read: Callable[[str], str | None] | None = None,
    quiet: bool = False,
    diffs: DiffMemo | None = None,
) -> str:
    if fmt == "json":
        return render_json(result, read, diffs)
    if fmt == "sarif":
        return render_sarif(result)
    if fmt == "github":
        return render_github(result)
    if fmt == "gitlab":
        from migrate_tui.render.formats.gitlab import render_gitlab

        return render_gitlab(result)
    return render_text(result, fixed=fixed, quiet=quiet)


_ICON = {Applicability.SAFE: "safe fix", Applicability.UNSAFE: "unsafe fix", Applicability.MANUAL: "manual"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``, ``0 files`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def diagnostic_line(root: Path, d: Diagnostic) -> str:
    """``path:line:col: error[kind] message``, safe to print."""
    return visible(f"{display_path(root, d.path)}:{d.line}:{d.column}: error[{d.kind}] {d.message}")


def render_text(result: ScanResult, *, fixed: list[Finding] | None = None, quiet: bool = False) -> str:
    """ruff-like lines; then the summary, unless ``quiet`` (``check -q``: findings only)."""
    lines: list[str] = []
    for d in result.diagnostics:
        lines.append(diagnostic_line(result.root, d))
    for f in result.findings:
        loc = f.location
        lines.append(
            visible(f"{display_path(result.root, loc.path)}:{loc.line}:{loc.column}: {f.rule} [{_ICON[f.applicability]}] {f.message}")
        )
        if f.fix_blocked:
            lines.append("  = not fixed: " + visible(f.fix_blocked))
        if f.fix and f.fix.assumption:
            lines.append("  = assumes: " + visible(f.fix.assumption))
        for note in f.notes:
            lines.append("  = note: " + visible(note))
    if quiet:
        return "".join(line + "\n" for line in lines)
    summary = summary_lines(result, fixed=fixed)
    return "\n".join(lines + ([""] if lines else []) + summary) + "\n"


def summary_lines(result: ScanResult, *, fixed: list[Finding] | None = None) -> list[str]:
    """The closing lines of ``check``: counts of files, never a contradiction.

    "All checks passed" only when nothing was found, nothing was fixed and every file was
    checked; files are counted once however many diagnostics they have.
    """
    counts = result.counts()
    total = len(result.findings)
    scanned = plural(result.files_scanned, "file")
    crashed = {d.path for d in result.diagnostics if d.kind is DiagnosticKind.INTERNAL}
    unchecked = {d.path for d in result.diagnostics if not d.kind.file_checked} - crashed
    advice = [d for d in result.diagnostics if d.kind.file_checked]
    summary = []
    if fixed:
        summary.append(f"Fixed {plural(len(fixed), 'finding')}.")
    if total:
        with_findings = len({f.location.path for f in result.findings})
        summary.append(
            f"Found {plural(total, 'finding')} in {plural(with_findings, 'file')} ({scanned} scanned): "
            f"{counts['safe']} with a safe fix, {counts['unsafe']} unsafe, {counts['manual']} manual."
        )
        if counts["safe"]:
            summary.append(f"[*] {counts['safe']} fixable with `migrate-tui check --fix`.")
        if counts["unsafe"]:
            summary.append(f"    {counts['unsafe']} more with `--fix --unsafe-fixes` (read the assumptions first).")
    elif not fixed:
        if crashed or unchecked or advice:
            summary.append(f"No findings ({scanned} scanned).")
        else:
            summary.append(f"All checks passed ({scanned} scanned).")
    if crashed:
        summary.append(
            f"{plural(len(crashed), 'file')} crashed migrate-tui (error[internal] above): a bug in migrate-tui, please report it."
        )
    if unchecked:
        summary.append(f"{plural(len(unchecked), 'file')} could not be checked (see above).")
    if advice:
        summary.append(f"{plural(len(advice), 'unused suppression')} (see above).")
    return summary


def render_diffs(diffs: Iterable[FileDiff]) -> str:
    """The unified diffs of ``check --diff``, every line made safe for a terminal."""
    return "".join(visible_lines(d.unified()) for d in diffs)


def crashed(result: ScanResult) -> bool:
    """migrate-tui crashed on at least one file (``check`` then exits 2, as ruff does on a panic)."""
    return any(d.kind is DiagnosticKind.INTERNAL for d in result.diagnostics)


class DiffMemo:
    """The JSON output's fix diffs, worked out while the scan still runs (``note`` is an
    ``Engine.on_progress`` hook): a pooled scan's parent waits for its workers meanwhile, and
    ~0.03 s of a 10,000-file run's output moves out of its last step. Only a fix whose edits
    all fall in the scanned file is noted, from the text its findings were planned on: the
    text ``read`` gives the renderer for that file (``Engine.source_of``), so the diff is the
    one the renderer would work out. ``then``: the progress hook that was there before."""

    def __init__(self, then: Callable[[FileScanned], None] | None = None) -> None:
        self.then = then
        self._diffs: dict[int, tuple[Fix, str]] = {}

    def note(self, event: FileScanned) -> None:
        source = event.source
        if source is not None:
            for finding in event.findings:
                fix = finding.fix
                if fix is not None and fix.paths == (source.path,):
                    self._diffs[id(fix)] = (fix, fix_diff(fix, lambda _path: source.text))
        if self.then is not None:
            self.then(event)

    def get(self, fix: Fix) -> str | None:
        kept = self._diffs.get(id(fix))
        return kept[1] if kept is not None and kept[0] is fix else None


def fix_diff(fix: Fix, read: Callable[[str], str | None]) -> str:
    """The fix's unified diff over every file it edits, as the JSON output carries it."""
    from migrate_tui.render.diff import file_diffs

    return "".join(d.unified() for d in file_diffs(fix, read))


def finding_json(f: Finding, read: Callable[[str], str | None] | None = None, diffs: DiffMemo | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "name": rule_name(f.rule),  # (no rule module imported: a cached scan may need none)
        "path": f.location.path,
        "line": f.location.line,
        "column": f.location.column,
        "severity": f.severity.value,
        "applicability": f.applicability.value,
        "message": f.message,
        "explanation": f.explanation,
        "notes": list(f.notes),
        "fix_blocked": f.fix_blocked,
        "related": [{"path": r.path, "line": r.line} for r in f.related],
        "key": f.key,
        "data": f.data,
        "fix": None,
    }
    if f.fix:
        fix: dict[str, Any] = {
            "applicability": f.fix.applicability.value,
            "description": f.fix.description,
            "assumption": f.fix.assumption,
            "edits": [{"path": e.path, "start": e.start, "end": e.end, "content": e.content} for e in f.fix.edits],
        }
        if read is not None:
            noted = diffs.get(f.fix) if diffs is not None else None
            fix["diff"] = noted if noted is not None else fix_diff(f.fix, read)
        out["fix"] = fix
    return out


def render_json(result: ScanResult, read: Callable[[str], str | None] | None = None, diffs: DiffMemo | None = None) -> str:
    doc = {
        "version": __version__,
        "root": str(result.root),
        "files_scanned": result.files_scanned,
        "summary": {"findings": len(result.findings), **result.counts(), "diagnostics": len(result.diagnostics)},
        "findings": [finding_json(f, read, diffs) for f in result.findings],
        "diagnostics": [diagnostic_json(d) for d in result.diagnostics],
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {"path": d.path, "line": d.line, "column": d.column, "kind": d.kind.value, "message": d.message}


def _gh_escape(text: str, prop: bool = False) -> str:
    """A workflow-command value: control characters made visible first (the log viewer obeys
    ANSI escapes), then GitHub's own escapes."""
    text = visible(text)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(result: ScanResult) -> str:
    out = []
    for d in result.diagnostics:
        out.append(
            f"::error file={_gh_escape(d.path, True)},line={d.line},col={d.column},title={_gh_escape('migrate-tui ' + d.kind, True)}::{_gh_escape(d.message)}"
        )
    for f in result.findings:
        level = "warning" if f.applicability is not Applicability.MANUAL else "notice"
        title = f"{f.rule} ({f.applicability.value})"
        out.append(
            f"::{level} file={_gh_escape(f.location.path, True)},line={f.location.line},col={f.location.column},"
            f"title={_gh_escape(title, True)}::{_gh_escape(f.message)}"
        )
    return "\n".join(out) + ("\n" if out else "")


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def render_sarif(result: ScanResult) -> str:
    rules = all_rules()
    codes = sorted(rules)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in result.findings:
        entry: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index.get(f.rule, 0),
            "level": "warning" if f.applicability is not Applicability.MANUAL else "note",
            "message": {"text": f.message + ("" if not f.fix_blocked else f" (not fixed: {f.fix_blocked})")},
            "locations": [_sarif_location(f.location.path, f.location.line, f.location.column)],
            "partialFingerprints": {"migrateTuiKey/v1": f.key},
            "properties": {"applicability": f.applicability.value, "notes": list(f.notes)},
        }
        if f.related:
            entry["relatedLocations"] = [{"id": i, **_sarif_location(r.path, r.line, r.column)} for i, r in enumerate(f.related)]
        if f.fix and f.fix.applicability is not Applicability.MANUAL:
            changes = []
            for path in f.fix.paths:
                source = result.sources.get(path)
                text = source.text if source else ""
                replacements = []
                for e in (e for e in f.fix.edits if e.path == path):
                    sl, sc = _line_col(text, e.start)
                    el, ec = _line_col(text, e.end)
                    replacements.append(
                        {
                            "deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec},
                            "insertedContent": {"text": e.content},
                        }
                    )
                changes.append({"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}, "replacements": replacements})
            entry["fixes"] = [{"description": {"text": f.fix.description}, "artifactChanges": changes}]
        results.append(entry)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{d.kind.value}: {d.message}"},
            "locations": [_sarif_location(d.path, d.line, d.column)],
        }
        for d in result.diagnostics
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "migrate-tui",
                        "version": __version__,
                        "informationUri": "https://github.com/migrate-tui/migrate-tui",
                        "rules": [
                            {
                                "id": code,
                                "name": rules[code].name,
                                "shortDescription": {"text": rules[code].summary},
                                "fullDescription": {"text": rules[code].doc.split("\n\n")[0]},
                                "help": {"text": rules[code].doc, "markdown": rules[code].doc},
                                "defaultConfiguration": {"level": "warning"},
                            }
                            for code in codes
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": result.root.as_uri() + "/"}},
                "invocations": [{"executionSuccessful": not crashed(result), "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _sarif_location(path: str, line: int, column: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
        }
    }
