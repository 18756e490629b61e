"""The target model: parsing ``--target``, and the blockers that cite DESIGN.md §4a."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrate_tui.repo.config import Config, config_from_table
from migrate_tui.platform.target import DEFAULT_TARGET, Target, TargetError, parse_target


def test_default_target_serves_everything() -> None:
    target = parse_target(DEFAULT_TARGET, source="default")
    assert (target.k8s, target.containerd, target.crio) == ((1, 36), (2, 2), None)
    assert target.gate_on
    assert target.image_volume_blocker() is None
    assert target.subpath_blocker() is None
    assert Config().target == target


@pytest.mark.parametrize(
    ("text", "gate_on"),
    [
        ("k8s=1.30", False),
        ("k8s=1.30,gate=on", False),  # no such field before 1.31: a gate can't help
        ("k8s=1.31", False),
        ("k8s=1.33", False),
        ("k8s=1.34,gate=on", True),
        ("k8s=1.35", True),
        ("k8s=1.35,gate=off", False),
        ("k8s=1.36,gate=off", True),  # GA: locked on
    ],
)
def test_gate_follows_the_version_defaults(text: str, gate_on: bool) -> None:
    assert parse_target(text).gate_on is gate_on


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("k8s=1.30", "the field exists from 1.31"),
        ("k8s=1.33", "gate is off by default on Kubernetes 1.33 (on by default from 1.35)"),
        ("k8s=1.35,containerd=2.0", "containerd 2.0 can't mount image volumes (needs containerd 2.1)"),
        ("k8s=1.35,crio=1.30", "CRI-O 1.30 can't mount image volumes (needs CRI-O 1.31)"),
        ("k8s=1.35,runtime=cri-dockerd", "cri-dockerd can't mount image volumes"),
        ("k8s=1.35,containerd=2.2,crio=1.30", "CRI-O 1.30"),  # mixed nodes: the weaker one decides
    ],
)
def test_image_volume_blocker_names_what_is_needed(text: str, needle: str) -> None:
    blocker = parse_target(text).image_volume_blocker()
    assert blocker is not None and needle in blocker


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("k8s=1.32,gate=on", "needs Kubernetes 1.33"),
        (
            "k8s=1.33,containerd=2.1,gate=on",
            "containerd 2.1 silently ignores subPath on image volumes and mounts the whole image (needs containerd 2.2)",
        ),
        ("k8s=1.35,crio=1.32", "needs CRI-O 1.33"),
        ("k8s=1.35,containerd=2.2,crio=1.32", "CRI-O 1.32"),
    ],
)
def test_subpath_blocker_names_what_is_needed(text: str, needle: str) -> None:
    blocker = parse_target(text).subpath_blocker()
    assert blocker is not None and needle in blocker


@pytest.mark.parametrize("text", ["k8s=1.33,containerd=2.2,gate=on", "k8s=1.35,crio=1.33", "k8s=1.36,containerd=2.3"])
def test_no_subpath_blocker_when_supported(text: str) -> None:
    assert parse_target(text).subpath_blocker() is None


def test_file_subpath_and_arch_blockers() -> None:
    assert "only directory subPaths" in parse_target("containerd=2.2").file_subpath_blocker()
    assert parse_target("crio=1.33").file_subpath_blocker() is None
    target = parse_target("arch=amd64+arm64")
    assert target.arch == ("amd64", "arm64")
    assert target.arch_blocker(["linux/amd64", "linux/arm64/v8"]) is None
    assert "include arm64" in target.arch_blocker(["linux/amd64"])


def test_parse_on_top_of_a_base_and_runtime_replacement() -> None:
    base = parse_target("k8s=1.33,containerd=2.1,arch=arm64")
    crio = parse_target("crio=1.33", base=base)
    assert (crio.k8s, crio.containerd, crio.crio, crio.arch) == ((1, 33), None, (1, 33), ("arm64",))
    assert parse_target("gate=on", base=base).containerd == (2, 1)  # untouched keys stay
    assert parse_target("k8s=v1.34.2").k8s == (1, 34)
    assert parse_target(None, base=base) is base


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k8s", "needs a value"),
        ("k8s=", "needs a value"),
        ("k8s=one", "not a version"),
        ("gate=maybe", "use gate=on or gate=off"),
        ("os=linux", "unknown target key 'os'"),
        ("arch=+", "needs one or more architectures"),
    ],
)
def test_errors_are_sentences(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        parse_target(text)


def test_config_accepts_target_and_kubernetes_version() -> None:
    assert config_from_table({"target": "k8s=1.33,containerd=2.1"}, "x").target.containerd == (2, 1)
    assert config_from_table({"kubernetes-version": "1.34"}, "x").target.k8s == (1, 34)


versions = st.tuples(st.just(1), st.integers(20, 40))
runtimes = st.tuples(st.integers(1, 3), st.integers(0, 40))


@given(
    k8s=versions,
    containerd=st.none() | runtimes,
    crio=st.none() | runtimes,
    gate=st.none() | st.booleans(),
    arch=st.lists(st.sampled_from(["amd64", "arm64", "s390x", "ppc64le"]), min_size=1, max_size=3, unique=True),
)
def test_spec_round_trips(k8s, containerd, crio, gate, arch) -> None:
    target = Target(k8s=k8s, containerd=containerd, crio=crio, gate=gate, arch=tuple(arch))
    again = parse_target(target.spec(), base=Target(containerd=(9, 9)), source="default")
    if containerd is None and crio is None:  # no runtime named: the base's runtime stays
        again = Target(**{**again.__dict__, "containerd": None})
    assert again == target
    # a blocker always names a version or the gate
    for blocker in (target.image_volume_blocker(), target.subpath_blocker()):
        assert blocker is None or any(ch.isdigit() for ch in blocker)
