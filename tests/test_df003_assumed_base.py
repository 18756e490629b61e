"""DF003 on a FROM whose tag comes from an ARG declared after the first FROM: BuildKit leaves
that ARG empty there, so the base the rule reads (the ARG's default) is an assumption and
appending "-slim" to the FROM would not build the proposed image. The finding says so and offers
no fix (it used to offer an unsafe one that the writer then refused: the corpus file
44_updatecli_multi-variable has this shape)."""

from __future__ import annotations

from pathlib import Path

from testlib import make_engine
from migrate_tui.model.findings import Applicability
from migrate_tui.parse.dockerfile.parser import parse_dockerfile

LATE_ARG = 'FROM alpine:3.20 AS tools\nARG node_version=20\nFROM node:${node_version}\nCMD ["node", "server.js"]\n'
EARLY_ARG = 'ARG node_version=20\nFROM alpine:3.20 AS tools\nFROM node:${node_version}\nCMD ["node", "server.js"]\n'


def test_the_parser_marks_a_base_taken_from_a_late_arg() -> None:
    late, early = parse_dockerfile(LATE_ARG), parse_dockerfile(EARLY_ARG)
    assert (late.stages[1].base_resolved, late.stages[1].base_assumed) == ("node:20", ("node_version",))
    assert (early.stages[1].base_resolved, early.stages[1].base_assumed) == ("node:20", ())
    assert [line for line, _ in late.errors] == [3] and early.errors == []


def test_df003_offers_no_fix_on_an_assumed_base(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATE_ARG)
    (finding,) = make_engine(tmp_path, select=("DF003",)).scan().findings
    assert finding.applicability is Applicability.MANUAL and finding.fix is None
    assert finding.fix_blocked == (
        "the FROM uses ARG node_version, declared after the first FROM, which BuildKit leaves empty here; "
        "declare it before the first FROM, then use node:20-slim"
    )
    # the same FROM with the ARG declared first keeps its unsafe fix
    (tmp_path / "Dockerfile").write_text(EARLY_ARG)
    (finding,) = make_engine(tmp_path, select=("DF003",)).scan().findings
    assert finding.applicability is Applicability.UNSAFE and finding.fix is not None
