"""One migration end to end, as a user runs it: fix the manifest (the engine, as the fixture tests
do), build the scratch-mode asset images (`migrate-tui build`), then `migrate-tui verify BEFORE
AFTER` with every image read from an OCI layout (`--image REF=oci:DIR`)."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from testlib import make_engine
from migrate_tui.cli import main
from migrate_tui.parse.yamldoc import YamlDocument, load_documents

from .images import slug

_READER = re.compile(r"^(OK  |FAIL) (.+?): (.*)$")
_DETAIL = re.compile(r"^    (missing|different|extra|mode/owner): /(.*)$")


@dataclass
class Reader:
    ok: bool
    where: str  # "Deployment/x container 'y' at /p"
    summary: str  # "0 missing, 0 different, 0 extra, 2 with other mode/owner", or the problem
    details: dict[str, list[str]] = field(default_factory=dict)  # label -> paths relative to the mount


@dataclass
class Verified:
    code: int
    out: str
    readers: list[Reader]


@dataclass
class Migration:
    applicability: list[str]  # of the IV001 findings, in order
    written: list[str]
    after: Path
    assets: list[dict]  # finding.data["assets"] of the fixed findings (scratch mode)
    findings: list = field(default_factory=list)  # the IV001 findings as planned (before the fix)


def documents(text: str) -> list[dict]:
    return [d.data for d in load_documents(text) if isinstance(d, YamlDocument) and isinstance(d.data, dict)]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def image_args(layouts: dict[str, str]) -> list[str]:
    return [f"--image={ref}={source}" for ref, source in sorted(layouts.items())]


def migrate(repo: Path, manifest: str, *, mode: str, unsafe: bool = True) -> Migration:
    """Fix ``repo`` (IV001 only) in ``mode``, like `check --fix [--unsafe-fixes] --mode MODE`."""
    engine = make_engine(repo, select=("IV001",), mode=mode)
    findings = [f for f in engine.scan().findings if f.rule == "IV001"]
    report, _ = engine.fix(unsafe=unsafe)
    assets = [a for f in findings if f.fix is not None for a in f.data.get("assets", [])]
    return Migration([f.applicability.value for f in findings], sorted(report.written), repo / manifest, assets, findings)


def build_assets(repo: Path, assets: list[dict], out: Path, layouts: dict[str, str]) -> dict[str, str]:
    """`migrate-tui build` every asset Dockerfile a scratch-mode fix wrote; reference -> oci: source."""
    built = {}
    for asset in assets:
        target = out / slug(asset["reference"])
        code, printed, err = run_cli(
            ["build", str(repo), "-f", str(repo / asset["dockerfile"]), "-t", asset["reference"], "-o", str(target), *image_args(layouts)]
        )
        assert code == 0, err
        assert printed.startswith(f"built {asset['reference']}: sha256:"), printed
        built[asset["reference"]] = f"oci:{target}"
    return built


def verify(before: Path, after: Path, layouts: dict[str, str], *flags: str) -> Verified:
    code, out, err = run_cli(["verify", str(before), str(after), *image_args(layouts), *flags])
    assert not err, err
    readers: list[Reader] = []
    for line in out.splitlines():
        if m := _READER.match(line):
            readers.append(Reader(m.group(1) == "OK  ", m.group(2), m.group(3)))
        elif (m := _DETAIL.match(line)) and readers:
            readers[-1].details.setdefault(m.group(1), []).append(m.group(2))
    return Verified(code, out, readers)
