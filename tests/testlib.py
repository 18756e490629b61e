"""Shared test helpers: fixture discovery, a default engine, the path to ../shared (optional),
and the hypothesis profiles. Tests import them from here (``from testlib import ...``), not from
``conftest``: tests/tui has a conftest of its own, and two modules named ``conftest`` can't both
be imported by name in one pytest run.

Hypothesis runs deterministically by default (profile ``ci``: derandomized, no example database,
no deadline, a fixed budget, the reproduction blob printed on failure), so two runs of the suite
see the same examples. For local exploration run ``HYPOTHESIS_PROFILE=dev pytest ...``: random
seeds, the local example database, and ``budget(n)`` ten times larger. Every failure found that
way is kept as an ``@example`` on the test (see tests/test_fuzz.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st

from migrate_tui.repo.config import Config
from migrate_tui.pipeline.engine import Engine
from migrate_tui.platform.target import parse_target

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
DEMO = REPO / "examples" / "demo"

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True, max_examples=100)
settings.register_profile("dev", derandomize=False, deadline=None, print_blob=True, max_examples=1000)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def budget(examples: int) -> int:
    """A test's ``max_examples``: fixed under ``ci``, ten times more under ``dev``."""
    return examples * 10 if PROFILE == "dev" else examples


def make_engine(root: Path, *, select: tuple[str, ...] = (), target: str = "k8s=1.36,containerd=2.2", mode: str | None = None) -> Engine:
    config = Config(select=select, target=parse_target(target))
    return Engine(root, config, mode=mode)


#: keys for generated YAML mappings: plain, quoted, ones that resolve to other types, a merge key
FLOW_KEYS = st.sampled_from(["a", "b", "c", "'a'", "1", "true", "<<", "~"])


def flow_yaml(scalars: list[str], depth: int) -> st.SearchStrategy[str]:
    """Flow-style YAML values (``{k: v}``, ``[a, b]``) nested up to ``depth``, over ``scalars``."""
    if depth == 0:
        return st.sampled_from(scalars)
    child = flow_yaml(scalars, depth - 1)
    flow_map = st.lists(st.tuples(FLOW_KEYS, child), max_size=3).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")
    flow_seq = st.lists(child, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
    return st.one_of(st.sampled_from(scalars), flow_map, flow_seq)
