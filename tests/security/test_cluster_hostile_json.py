"""An API server (or a proxy in front of one) that answers with JSON of the wrong shape: what
can't be read is unknown, never an internal error of migrate-tui."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s_standin"))

from kube_standin import Scenario, StandIn, node, write_kubeconfig  # noqa: E402
from migrate_tui.platform.cluster import _Reader, gate_from_probe, target_from_cluster  # noqa: E402
from migrate_tui.platform.target import Target  # noqa: E402


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.mark.timeout(60)
def test_nodes_of_the_wrong_shape_are_unknown_runtimes(tmp_path: Path) -> None:
    scenario = Scenario(
        version="v1.36.0",
        nodes=[
            {"metadata": "node-a", "status": ["Ready"]},
            {"metadata": {"name": "node-b"}, "status": {"nodeInfo": "containerd://2.2.0"}},
            node("node-c", "containerd://2.2.0"),
        ],
    )
    with StandIn(scenario) as api:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", api.url)
        target = target_from_cluster(None, namespace=None, base=Target(), kubeconfig=kubeconfig, timeout=5.0)
    assert (target.containerd, target.other_runtime, target.arch) == ((2, 2), "an unknown runtime (node ?)", ("amd64",))
    assert target.source == "cluster context 'standin' (v1.36.0, 3 nodes)"


@pytest.mark.parametrize(
    "pod",
    [
        {"spec": ["volumes"]},
        {"spec": {"volumes": 5}},
        {"spec": {"volumes": {"name": "migrate-tui-probe"}}},
    ],
)
def test_a_probe_answer_of_the_wrong_shape_carries_no_image_volume(pod: dict[str, Any]) -> None:
    assert gate_from_probe(pod) is False


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            401,
            "https://127.0.0.1:1 rejected the credentials of context 'standin' (401 Unauthorized) "
            "while trying to list nodes: log in again or refresh the token",
        ),
        (403, "no permission to list nodes on https://127.0.0.1:1 (403): {'verb': 'list'}"),
        (500, "https://127.0.0.1:1: could not list nodes: 500 Internal Server Error: {'verb': 'list'}"),
    ],
)
def test_a_status_message_that_is_not_a_string_is_shown_as_text(status: int, expected: str) -> None:
    exc = ApiException(status=status, reason="Forbidden" if status == 403 else "Internal Server Error")
    exc.body = '{"kind": "Status", "message": {"verb": "list"}}'
    reader = _Reader(None, "https://127.0.0.1:1", "standin", 1.0)  # no API client: no request is made
    assert reader._api_error(exc, "list nodes") == expected
