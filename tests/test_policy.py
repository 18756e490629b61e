"""``migrate-tui policy``: the emitted CEL, run by a real CEL implementation (cel-python's
``celpy``), denies every IV001 fixture and allows every clean one; the emitted objects are
valid against the strict Kubernetes schemas."""

from __future__ import annotations

import copy
from pathlib import Path

import celpy
import pytest
import yaml

from testlib import FIXTURES
from migrate_tui.cli import main
from migrate_tui.commands.policy import (
    EXEMPT_ANNOTATION,
    WORKLOADS,
    PolicyError,
    kyverno_policy,
    validating_admission_policy,
)
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.platform.target import parse_target
from migrate_tui.platform.validate import validate_object

TARGET = parse_target("k8s=1.33,containerd=2.2,gate=on")
_ENV = celpy.Environment()
_PROGRAMS: dict[str, object] = {}
_KINDS = {kind for *_, kind in WORKLOADS}


def _run(expression: str, activation: dict):
    program = _PROGRAMS.get(expression)
    if program is None:
        program = _PROGRAMS[expression] = _ENV.program(_ENV.compile(expression))
    return program.evaluate(activation)


def _vap_decision(policy: dict, obj: dict, old: dict | None = None) -> tuple[bool, str | None]:
    """(allowed, message) as the API server would decide it for a matched kind."""
    spec = policy["spec"]
    activation = {"object": celpy.json_to_cel(obj), "oldObject": celpy.json_to_cel(old)}
    for condition in spec["matchConditions"]:
        if not _run(condition["expression"], activation):
            return True, None  # not matched: admitted without validation
    return _validate(spec["variables"], spec["validations"], activation)


def _kyverno_decision(policy: dict, obj: dict, old: dict | None = None) -> tuple[bool, str | None]:
    cel = policy["spec"]["rules"][0]["validate"]["cel"]
    activation = {"object": celpy.json_to_cel(obj), "oldObject": celpy.json_to_cel(old)}
    return _validate(cel["variables"], cel["expressions"], activation)


def _validate(variables: list, validations: list, activation: dict) -> tuple[bool, str | None]:
    values: dict = {}
    for variable in variables:
        scope = {**activation, "variables": celpy.celtypes.MapType({celpy.celtypes.StringType(k): v for k, v in values.items()})}
        values[variable["name"]] = _run(variable["expression"], scope)
    scope = {**activation, "variables": celpy.celtypes.MapType({celpy.celtypes.StringType(k): v for k, v in values.items()})}
    for validation in validations:
        if not _run(validation["expression"], scope):
            return False, str(_run(validation["messageExpression"], scope))
    return True, None


def _admission_objects(path: Path) -> list[dict]:
    """The objects a cluster would admit for this file: matched kinds as they are; PodSpecs found
    elsewhere (a CRD like an Argo Rollout, a bare PodSpec) as the Pods they end up in."""
    out = []
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if not isinstance(document, dict):
            continue
        if document.get("kind") in _KINDS:
            out.append(document)
            continue
        for ref in find_pod_specs(document):
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wrapped"}, "spec": copy.deepcopy(_plain(ref.spec))})
    return out


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _firing(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if ".fixed." not in p.name and not p.name.startswith("clean_"))


def _clean(directory: Path) -> list[Path]:
    return sorted(directory.glob("clean_*.yaml"))


# IV001's volume_* fixtures copy files that come from another volume (IV001 manual: no image volume
# can carry them); the policy only sees mount paths named in the command, so it is not judged on them.
# operator_*_split_* fixtures split the pod across places an operator merges: admission sees the
# merged pod, never the one template the fixture wraps as a Pod.
# copier_* fixtures copy through the image's default command (its Dockerfile in the fixture's
# .context): admission sees only the pod, which names no command.
DENY = [
    p
    for p in _firing(FIXTURES / "IV001")
    if not p.name.startswith("volume_")
    and not (p.name.startswith("operator_") and "_split_" in p.name)
    and not p.name.startswith("copier_")
] + _firing(FIXTURES / "policy")
ALLOW = _clean(FIXTURES / "IV001") + _clean(FIXTURES / "policy") + sorted(p for p in (FIXTURES / "IV001").glob("*.fixed.yaml"))
POLICIES = {
    "vap": (lambda: validating_admission_policy(TARGET)[0], _vap_decision),
    "kyverno": (lambda: kyverno_policy(TARGET), _kyverno_decision),
}


@pytest.mark.parametrize("engine", sorted(POLICIES))
@pytest.mark.parametrize("path", DENY, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_denies_every_copy_fixture(engine: str, path: Path) -> None:
    build, decide = POLICIES[engine]
    objects = _admission_objects(path)
    assert objects, path
    decisions = [decide(build(), obj) for obj in objects]
    assert any(not allowed for allowed, _ in decisions), decisions
    message = next(m for allowed, m in decisions if not allowed)
    assert "copies files from its image into an emptyDir" in message and EXEMPT_ANNOTATION in message


@pytest.mark.parametrize("engine", sorted(POLICIES))
@pytest.mark.parametrize("path", ALLOW, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_allows_clean_and_migrated_fixtures(engine: str, path: Path) -> None:
    build, decide = POLICIES[engine]
    for obj in _admission_objects(path):
        assert decide(build(), obj) == (True, None), obj.get("metadata")


def _deployment(path: str = "IV001/cp_r_dot_contents.yaml") -> dict:
    docs = [d for d in yaml.safe_load_all((FIXTURES / path).read_text()) if d]
    return next(d for d in docs if d.get("kind") == "Deployment")


@pytest.mark.parametrize("engine", sorted(POLICIES))
def test_exemption_annotation_on_object_or_pod_template(engine: str) -> None:
    build, decide = POLICIES[engine]
    on_object = _deployment()
    on_object["metadata"]["annotations"] = {EXEMPT_ANNOTATION: "true"}
    assert decide(build(), on_object)[0]
    on_template = _deployment()
    on_template["spec"]["template"]["metadata"]["annotations"] = {EXEMPT_ANNOTATION: "true"}
    assert decide(build(), on_template)[0]
    wrong_value = _deployment()
    wrong_value["metadata"]["annotations"] = {EXEMPT_ANNOTATION: "yes"}
    assert not decide(build(), wrong_value)[0]


@pytest.mark.parametrize("engine", sorted(POLICIES))
def test_update_keeps_existing_copies_but_rejects_new_ones(engine: str) -> None:
    build, decide = POLICIES[engine]
    old = _deployment()
    bumped = copy.deepcopy(old)
    bumped["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert decide(build(), bumped, old)[0], "an existing copy keeps rolling out"
    clean = copy.deepcopy(old)
    del clean["spec"]["template"]["spec"]["initContainers"]
    assert not decide(build(), old, clean)[0], "adding a copy on UPDATE is rejected"


def test_controller_owned_pods_are_left_to_their_owner() -> None:
    spec = _deployment()["spec"]["template"]["spec"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-abc",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9", "uid": "u", "controller": True}],
        },
        "spec": spec,
    }
    policy = validating_admission_policy(TARGET)[0]
    assert _vap_decision(policy, pod)[0]
    bare = {**pod, "metadata": {"name": "bare"}}
    assert not _vap_decision(policy, bare)[0]


@pytest.mark.parametrize("version", ["1.30", "1.33", "1.36"])
def test_emitted_objects_validate_against_strict_schemas(version: str) -> None:
    target = parse_target(f"k8s={version}")
    for obj in validating_admission_policy(target):
        assert validate_object(obj, (1, 33), []) == []
        assert validate_object(obj, target.schema_version, []) == []


def test_vap_refused_below_1_30_with_an_explanation() -> None:
    with pytest.raises(PolicyError, match=r"needs Kubernetes 1\.30 \(target is 1\.29"):
        validating_admission_policy(parse_target("k8s=1.29"))


def test_command_writes_yaml_to_stdout_and_file(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "--target", "k8s=1.33"]) == 0
    out = capsys.readouterr().out
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert [d["kind"] for d in docs] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ClusterPolicy"]
    # the emitted text (not only the Python objects) carries the same CEL
    assert docs[0] == validating_admission_policy(parse_target("k8s=1.33"))[0]
    assert main(["policy", "--target", "k8s=1.33", "--engine", "kyverno", "--action", "audit", "-o", "p.yaml"]) == 0
    written = [d for d in yaml.safe_load_all((tmp_path / "p.yaml").read_text()) if d]
    assert [d["kind"] for d in written] == ["ClusterPolicy"]
    assert written[0]["spec"]["validationFailureAction"] == "Audit"
    # -o replaces the file whole (a temp file beside it, renamed over it): never half a policy
    inode = (tmp_path / "p.yaml").stat().st_ino
    assert main(["policy", "--target", "k8s=1.33", "--engine", "kyverno", "-o", "p.yaml"]) == 0
    assert (tmp_path / "p.yaml").stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_command_below_1_30(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "--target", "k8s=1.29", "--engine", "vap"]) == 2
    assert "needs Kubernetes 1.30" in capsys.readouterr().err
    assert main(["policy", "--target", "k8s=1.29"]) == 0  # all: falls back to Kyverno, says so
    captured = capsys.readouterr()
    assert "Kyverno policy only" in captured.err
    assert [d["kind"] for d in yaml.safe_load_all(captured.out) if d] == ["ClusterPolicy"]


def _pod_with_init(command: list[str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "initContainers": [
                {
                    "name": "prep",
                    "image": "registry.example.com/prep:1",
                    "command": command,
                    "volumeMounts": [{"name": "shared", "mountPath": "/dst"}],
                }
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example.com/app:1",
                    "volumeMounts": [{"name": "shared", "mountPath": "/dst", "readOnly": True}],
                }
            ],
            "volumes": [{"name": "shared", "emptyDir": {}}],
        },
    }


@pytest.mark.parametrize("engine", sorted(POLICIES))
@pytest.mark.parametrize(
    ("command", "denied"),
    [
        (["sh", "-c", "mv /site/* /dst/"], True),
        (["mv", "/site", "/dst/"], True),
        (["install", "-D", "-m", "0644", "/site/a.conf", "/dst/a.conf"], True),
        (["/usr/bin/install", "/site/a.conf", "/dst/"], True),
        (["sh", "-c", "set -e\ninstall -m 0644 /site/a.conf /dst/"], True),
        (["sh", "-c", "mkdir -p /dst/x && install /site/a /dst/x/"], True),
        # `install` as an argument is not a copy (and the rest is IV002's business)
        (["sh", "-c", "pip install -r /req.txt --target /dst"], False),
        (["apt-get", "install", "-y", "ca-certificates"], False),
        (["sh", "-c", "echo reinstall > /dst/state"], False),
    ],
    ids=lambda v: v if isinstance(v, bool) else " ".join(v),
)
def test_mv_and_install_copies_are_denied_like_cp(engine: str, command: list[str], denied: bool) -> None:
    build, decide = POLICIES[engine]
    allowed, message = decide(build(), _pod_with_init(command))
    assert allowed is not denied, message
    if denied:
        assert message.startswith("init container 'prep' copies files from its image into an emptyDir")
