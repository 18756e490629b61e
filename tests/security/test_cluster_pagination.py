"""Issue 11 item 10: a hostile API server that paginates forever must not hang ``--cluster``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from kube_standin import Scenario, StandIn, node, write_kubeconfig  # noqa: E402
from migrate_tui.platform import cluster  # noqa: E402
from migrate_tui.platform.cluster import ClusterError, target_from_cluster  # noqa: E402
from migrate_tui.platform.target import Target  # noqa: E402


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _read(scenario: Scenario, tmp_path: Path) -> Target:
    with StandIn(scenario) as api:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", api.url)
        return target_from_cluster(None, namespace=None, base=Target(), kubeconfig=kubeconfig, timeout=5.0)


def _node_lists(scenario: Scenario) -> int:
    return sum(1 for r in scenario.requests if r["path"] == "/api/v1/nodes")


@pytest.mark.timeout(60)
def test_a_fresh_continue_token_on_every_page_stops_at_the_page_bound(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "MAX_NODE_PAGES", 25)
    scenario = Scenario(nodes=[node("a", "containerd://2.1.3")], endless_continue="fresh")
    with pytest.raises(ClusterError) as caught:
        _read(scenario, tmp_path)
    assert str(caught.value).endswith("was still paginating nodes after 25 pages (25 nodes); refusing to read further")
    assert _node_lists(scenario) == 25


@pytest.mark.timeout(60)
def test_the_same_continue_token_twice_is_an_endless_listing(tmp_path: Path) -> None:
    scenario = Scenario(nodes=[node("a", "containerd://2.1.3")], endless_continue="same")
    with pytest.raises(ClusterError) as caught:
        _read(scenario, tmp_path)
    assert str(caught.value).endswith("returned the same 'continue' token twice while listing nodes; the listing never ends")
    assert _node_lists(scenario) == 2


@pytest.mark.timeout(60)
def test_too_many_nodes_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cluster, "MAX_NODES", 3)
    scenario = Scenario(nodes=[node(f"n{i}", "containerd://2.1.3") for i in range(6)], node_page_size=2)
    with pytest.raises(ClusterError, match=r"listed more than 3 nodes; refusing to read further$"):
        _read(scenario, tmp_path)


def test_the_default_bounds_are_sane() -> None:
    assert cluster.MAX_NODE_PAGES * cluster.NODE_PAGE >= cluster.MAX_NODES == 100_000
