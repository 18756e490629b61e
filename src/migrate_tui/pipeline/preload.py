"""Imported by the TUI's fork server before it forks any scan worker: the rule modules and what a
scan imports on first use (parsers, planners, validation, the link index), once, in the server.

Each worker forked from it, for every scan of the session, starts with all of it loaded; without
this module every worker imported them again (a rescan too). Nothing here runs a scan: importing
is the whole point. A module missing from the list is only imported later, by the worker.
"""

from __future__ import annotations

import importlib

from migrate_tui.rules import all_rules

_FIRST_USE = (
    "migrate_tui.parse.dockerfile.parser",
    "migrate_tui.parse.dockerfile.run",
    "migrate_tui.parse.shell",
    "migrate_tui.analysis.initcopy",
    "migrate_tui.analysis.links.index",
    "migrate_tui.analysis.links.builds",
    "migrate_tui.fixes.yaml_patch",
    "migrate_tui.fixes.yaml_edit",
    "migrate_tui.fixes.asset_image",
    "migrate_tui.platform.validate",
    "migrate_tui.platform.fastschema",
)

all_rules()
for _name in _FIRST_USE:
    try:
        importlib.import_module(_name)
    except ImportError:  # pragma: no cover - the worker imports it (and reports) on first use
        pass
