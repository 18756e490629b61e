"""``--cluster``: the kubernetes client against a local stand-in API server (127.0.0.1 only)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "k8s_standin"))

from kube_standin import Scenario, StandIn, node, write_kubeconfig  # noqa: E402
from migrate_tui.cli import main  # noqa: E402
from migrate_tui.platform.cluster import ClusterError, parse_runtime, parse_server_version, target_from_cluster  # noqa: E402
from migrate_tui.platform.target import Target, parse_target  # noqa: E402

PODS = "POST /api/v1/namespaces/default/pods"


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch) -> None:
    """Loopback only: no proxy from the environment may catch the stand-in's traffic."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def read(
    scenario: Scenario,
    tmp_path: Path,
    *,
    base: Target | None = None,
    context: str | None = None,
    namespace: str | None = None,
    timeout: float = 2.0,
) -> Target:
    with StandIn(scenario) as api:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", api.url, contexts=("standin", "other"))
        return target_from_cluster(context, namespace=namespace, base=base or Target(), kubeconfig=kubeconfig, timeout=timeout)


def test_reads_version_oldest_runtime_arch_and_gate(tmp_path: Path) -> None:
    scenario = Scenario(
        version="v1.33.2",
        nodes=[node("a", "containerd://2.2.0"), node("b", "containerd://2.1.3", "arm64"), node("c", "containerd://2.1.5")],
    )
    target = read(scenario, tmp_path)
    assert (target.k8s, target.containerd, target.crio, target.gate, target.arch) == ((1, 33), (2, 1), None, True, ("amd64", "arm64"))
    assert target.source == "cluster context 'standin' (v1.33.2, 3 nodes)"
    # the dry-run probe: a server-side dry run (nothing persisted) of a Pod declaring an image volume
    probe = next(r for r in scenario.requests if r["method"] == "POST")
    assert probe["path"] == "/api/v1/namespaces/default/pods" and probe["query"]["dryRun"] == ["All"]
    assert probe["body"]["spec"]["volumes"][0]["image"]["reference"]
    assert probe["authorization"] == "Bearer t0ken"
    assert "needs containerd 2.2" in target.subpath_blocker()


def test_gate_off_is_detected_from_the_dropped_field(tmp_path: Path) -> None:
    target = read(Scenario(version="v1.34.1", gate=False), tmp_path, base=parse_target("gate=on"))
    assert target.gate is False and not target.gate_on
    assert "silently drops the volume" in target.image_volume_blocker()


@pytest.mark.parametrize(("version", "probes"), [("v1.30.4", False), ("v1.36.0", False), ("v1.35.0", True)])
def test_probe_only_where_the_gate_matters(tmp_path: Path, version: str, probes: bool) -> None:
    scenario = Scenario(version=version)
    target = read(scenario, tmp_path)
    assert any(r["method"] == "POST" for r in scenario.requests) is probes
    assert target.gate_on is (version != "v1.30.4")


def test_mixed_runtimes_managed_version_and_pagination(tmp_path: Path) -> None:
    scenario = Scenario(
        version="v1.35.3-eks-4096722",
        minor_suffix="+",
        node_page_size=2,
        nodes=[
            node("a", "containerd://2.2.1"),
            node("b", "cri-o://1.33.1", "arm64"),
            node("c", "cri-o://1.32.4"),
            node("d", "containerd://2.1.0-k3s1"),
        ],
    )
    target = read(scenario, tmp_path)
    assert (target.k8s, target.containerd, target.crio) == ((1, 35), (2, 1), (1, 32))
    assert "CRI-O 1.32" in target.subpath_blocker()
    assert [r["query"].get("continue") for r in scenario.requests if r["path"] == "/api/v1/nodes"] == [None, ["2"]]


def test_cri_dockerd_node(tmp_path: Path) -> None:
    target = read(Scenario(version="v1.36.1", nodes=[node("old", "docker://24.0.7"), node("new", "containerd://2.2.0")]), tmp_path)
    assert "cri-dockerd 24.0 (node old) can't mount image volumes" in target.image_volume_blocker()


def test_named_context_and_namespace(tmp_path: Path) -> None:
    scenario = Scenario()
    target = read(scenario, tmp_path, context="other", namespace="team-a")
    assert target.source.startswith("cluster context 'other'")
    assert scenario.requests[-1]["path"] == "/api/v1/namespaces/team-a/pods"


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (
            Scenario(forbid={"GET /api/v1/nodes": ("list", "nodes", None)}),
            "no permission: user 'jane' can't list nodes at cluster scope (403 Forbidden; needed to list nodes",
        ),
        (
            Scenario(forbid={PODS: ("create", "pods", "default")}),
            "user 'jane' can't create pods in namespace 'default' (403 Forbidden; needed to dry-run create a probe pod",
        ),
        (Scenario(unauthorized=True), "rejected the credentials of context 'standin' (401 Unauthorized)"),
        (
            Scenario(admission_denial='pods "x" is forbidden: violates PodSecurity "restricted:latest": volumes'),
            'was rejected (403): pods "x" is forbidden: violates PodSecurity',
        ),
    ],
)
def test_errors_are_one_line_sentences(tmp_path: Path, scenario: Scenario, message: str) -> None:
    with pytest.raises(ClusterError) as caught:
        read(scenario, tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_forbidden_probe_falls_back_to_a_declared_gate(tmp_path: Path) -> None:
    target = read(Scenario(forbid={PODS: ("create", "pods", "default")}), tmp_path, base=parse_target("gate=on"))
    assert target.gate is True
    assert "using gate=on from the target you gave" in target.notes[0]


def test_missing_namespace(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="namespace 'missing' not found"):
        read(Scenario(), tmp_path, namespace="missing")


def test_timeout_never_hangs(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"did not answer within 0.5s \(trying to read the server version\)"):
        read(Scenario(sleep=3), tmp_path, timeout=0.5)
    assert time.monotonic() - started < 2.5  # one try, no retries


def test_unreachable_server(tmp_path: Path) -> None:
    with StandIn(Scenario()) as api:
        url = api.url
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)  # the port is closed now
    with pytest.raises(ClusterError, match=r"can't reach the API server http://127\.0\.0\.1:\d+ of context 'standin'"):
        target_from_cluster(None, namespace=None, base=Target(), kubeconfig=kubeconfig, timeout=2)


def test_kubeconfig_problems(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    with pytest.raises(ClusterError, match="no kubeconfig"):
        target_from_cluster(None, namespace=None, base=Target())
    kubeconfig = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9")
    with pytest.raises(ClusterError, match=r"has no context 'prod' \(known: standin\)"):
        target_from_cluster("prod", namespace=None, base=Target(), kubeconfig=kubeconfig)
    no_current = write_kubeconfig(tmp_path / "kc2", "http://127.0.0.1:9", current=None)
    with pytest.raises(ClusterError, match="no current-context"):
        target_from_cluster(None, namespace=None, base=Target(), kubeconfig=no_current)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("containerd://2.1.3", ("containerd", (2, 1))),
        ("cri-o://1.33.1", ("crio", (1, 33))),
        ("docker://24.0.7", ("docker", (24, 0))),
        ("containerd://v1.7.27-k3s1", ("containerd", (1, 7))),
        ("", ("", None)),
    ],
)
def test_parse_runtime(text: str, expected) -> None:
    assert parse_runtime(text) == expected


def test_parse_server_version() -> None:
    assert parse_server_version({"major": "1", "minor": "33+", "gitVersion": "v1.33.5-gke.100"}) == ((1, 33), "v1.33.5-gke.100")
    assert parse_server_version({"gitVersion": "v1.31.0"}) == ((1, 31), "v1.31.0")
    with pytest.raises(ClusterError):
        parse_server_version({})


def test_check_cluster_end_to_end(tmp_path: Path, monkeypatch, capsys) -> None:
    """`check --cluster` reads the target from the kubeconfig's current context (KUBECONFIG)."""
    fixture = Path(__file__).parent / "fixtures" / "IV001" / "cp_r_dot_contents.yaml"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "web.yaml").write_text(fixture.read_text())
    with StandIn(Scenario(version="v1.33.2", gate=True)) as api:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
        assert main(["check", "--select", "IV001", "--cluster", str(repo)]) == 2  # PATH taken as CONTEXT
        assert "it is a path: put --cluster after the paths" in capsys.readouterr().err
        code = main(["check", "--select", "IV001", str(repo), "--cluster"])
    out = capsys.readouterr().out
    assert code == 1
    assert "needs containerd 2.2" in out
    with StandIn(Scenario(version="v1.35.0", nodes=[node("a", "containerd://2.2.0")])) as api:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
        main(["check", "--select", "IV001", "--cluster=standin", str(repo)])
    assert "[safe fix]" in capsys.readouterr().out
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["check", str(repo), "--cluster"]) == 2
    assert "no kubeconfig" in capsys.readouterr().err
