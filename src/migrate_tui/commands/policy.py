"""``migrate-tui policy``: admission policies that keep a migrated repo migrated.

Emits a ValidatingAdmissionPolicy + ValidatingAdmissionPolicyBinding
(``admissionregistration.k8s.io/v1``, Kubernetes ≥ 1.30) and a Kyverno ``ClusterPolicy``
(``kyverno.io/v1``, Kyverno ≥ 1.11 for ``validate.cel``) that reject NEW init-container
copy-into-emptyDir patterns (IV001), with the same CEL in both:

- an init container (not a native sidecar, ``restartPolicy: Always``) whose ``command``/``args``
  run ``cp``, ``rsync``, ``tar``, ``mv`` or ``install`` (as a command, not ``apt-get install``), and
  no ``wget``/``curl``/``git`` (that is a download, IV002),
- that mounts an ``emptyDir``,
- and whose command names none of its other (non-emptyDir) mounts: a copy out of a configMap,
  secret or PVC is not a copy from its own image.

Checked: Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, on CREATE
and UPDATE. Objects created by a controller (an ``ownerReference`` with ``controller: true``)
are skipped, since their owner was checked (a Deployment's ReplicaSets and Pods are not
rejected behind its back). On UPDATE only init containers that did not already copy are
rejected, so existing workloads keep rolling out. Exemption: the annotation
``migrate-tui.io/allow-init-copy: "true"`` on the object or on its pod template.
``kube-system`` is never checked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from migrate_tui.parse.shell.commands import COPY_TOOLS, DOWNLOAD_TOOLS
from migrate_tui.platform.target import Target, fmt

if TYPE_CHECKING:
    from migrate_tui.commands import CommonOptions, Subparsers

EXEMPT_ANNOTATION = "migrate-tui.io/allow-init-copy"
POLICY_NAME = "migrate-tui-no-init-copy"
VAP_MIN = (1, 30)  # admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (GA), matchConditions
# RE2 and Python agree on these. In CEL source a backslash must itself be escaped. The tool
# names come from the shell model's tables; the policy can only match words, not parse shell.
COPY_PATTERN = r"(^|[\\s;&|(/])(" + "|".join(COPY_TOOLS) + r")(\\s|$)"
# `install` copies too, but the word is also an argument (`apt-get install`, `pip install`): it
# counts only as the first word of a command in a script, or as the exec-form program.
INSTALL_SCRIPT_PATTERN = r"(^|[;&|(\\n])\\s*(\\S*/)?install\\s"
INSTALL_PROGRAM_PATTERN = r"(^|/)install$"
DOWNLOAD_PATTERN = r"(^|[\\s;&|(/])(" + "|".join(DOWNLOAD_TOOLS) + r")(\\s|$)"
WORKLOADS = (
    ("", "v1", "pods", "Pod"),
    ("apps", "v1", "deployments", "Deployment"),
    ("apps", "v1", "replicasets", "ReplicaSet"),
    ("apps", "v1", "statefulsets", "StatefulSet"),
    ("apps", "v1", "daemonsets", "DaemonSet"),
    ("batch", "v1", "jobs", "Job"),
    ("batch", "v1", "cronjobs", "CronJob"),
)


class PolicyError(Exception):
    """The policy can't be written for this target; the message explains why and what to do."""


# --- the CEL, shared by both engines -----------------------------------------------------------


def _spec_of(obj: str) -> str:
    return (
        f"{obj}.kind == 'Pod' ? {obj}.spec : ({obj}.kind == 'CronJob' ? "
        f"{obj}.spec.jobTemplate.spec.template.spec : {obj}.spec.template.spec)"
    )


def _annotated(meta: str) -> str:
    return f"has({meta}.annotations) && '{EXEMPT_ANNOTATION}' in {meta}.annotations && {meta}.annotations['{EXEMPT_ANNOTATION}'] == 'true'"


def _copy_inits(spec: str) -> str:
    """Names of the init containers of ``spec`` that copy from their image into an emptyDir."""
    argv = "((has(c.command) ? c.command : []) + (has(c.args) ? c.args : []))"
    empty_dir = f"has({spec}.volumes) && {spec}.volumes.exists(v, v.name == {{m}}.name && has(v.emptyDir))"
    return (
        f"(has({spec}.initContainers) ? {spec}.initContainers : []).filter(c,\n"
        f"  !(has(c.restartPolicy) && c.restartPolicy == 'Always') &&\n"
        f"  ({argv}.exists(a, a.matches('{COPY_PATTERN}') || a.matches('{INSTALL_SCRIPT_PATTERN}')) ||\n"
        f"   (size({argv}) > 0 && {argv}[0].matches('{INSTALL_PROGRAM_PATTERN}'))) &&\n"
        f"  !{argv}.exists(a, a.matches('{DOWNLOAD_PATTERN}')) &&\n"
        f"  has(c.volumeMounts) &&\n"
        f"  c.volumeMounts.exists(m, {empty_dir.format(m='m')}) &&\n"
        f"  !c.volumeMounts.exists(f, !({empty_dir.format(m='f')}) &&\n"
        f"    {argv}.exists(a, a.contains(f.mountPath + '/') || a.endsWith(f.mountPath)))\n"
        f").map(c, c.name)"
    )


def preconditions() -> list[tuple[str, str]]:
    """(name, expression): objects that are checked at all (VAP matchConditions)."""
    return [
        (
            "has-pod-spec",
            "object.kind == 'Pod' || (object.kind == 'CronJob'\n"
            "  ? has(object.spec.jobTemplate.spec) && has(object.spec.jobTemplate.spec.template.spec)\n"
            "  : has(object.spec.template) && has(object.spec.template.spec))",
        ),
        (
            "not-controller-owned",
            "!has(object.metadata.ownerReferences) ||\n!object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)",
        ),
    ]


def variables() -> list[tuple[str, str]]:
    template = (
        "object.kind == 'Pod' ? false : (object.kind == 'CronJob'\n"
        "  ? has(object.spec.jobTemplate.spec.template.metadata) &&\n"
        f"    {_annotated('object.spec.jobTemplate.spec.template.metadata')}\n"
        f"  : has(object.spec.template.metadata) &&\n    {_annotated('object.spec.template.metadata')})"
    )
    return [
        ("podSpec", _spec_of("object")),
        # `x == null ? …` rather than `x != null ? …`: same meaning, and cel-python 0.5 (the
        # evaluator the tests use) has no `map != null` overload.
        ("oldPodSpec", f"oldObject == null\n  ? variables.podSpec\n  : ({_spec_of('oldObject')})"),
        ("exempt", f"({_annotated('object.metadata')}) ||\n({template})"),
        ("copyInits", _copy_inits("variables.podSpec")),
        ("oldCopyInits", f"oldObject == null ? [] : {_copy_inits('variables.oldPodSpec')}"),
        ("newCopyInits", "variables.copyInits.filter(n, !(n in variables.oldCopyInits))"),
    ]


VALIDATION = "variables.exempt || size(variables.newCopyInits) == 0"


def message_expression(target: Target) -> str:
    blocker = target.image_volume_blocker()
    instead = (
        "mount the image as an image volume instead (migrate-tui check --fix)"
        if blocker is None
        else "bake the files into the image that reads them (this cluster can't serve image volumes yet)"
    )
    return (
        '"init container \'" + variables.newCopyInits[0] + "\' copies files from its image into an emptyDir: '
        f"{instead}, or annotate the pod template with {EXEMPT_ANNOTATION}: 'true'\""
    )


# --- the objects -------------------------------------------------------------------------------

KubeObject: TypeAlias = dict[str, Any]  # a Kubernetes object (or part of one) as the YAML shows it


class _ResourceRule(TypedDict):
    apiGroups: list[str]
    apiVersions: list[str]
    operations: list[str]
    resources: list[str]


def validating_admission_policy(target: Target, *, action: str = "Deny", name: str = POLICY_NAME) -> list[KubeObject]:
    if target.k8s < VAP_MIN:
        raise PolicyError(
            f"ValidatingAdmissionPolicy admissionregistration.k8s.io/v1 needs Kubernetes {fmt(VAP_MIN)} "
            f"(target is {fmt(target.k8s)}; 1.28–1.29 have only v1beta1 behind the ValidatingAdmissionPolicy "
            "feature gate and --runtime-config). Use --engine kyverno, or upgrade"
        )
    rules: dict[str, _ResourceRule] = {}
    for group, version, resource, _ in WORKLOADS:
        rule = rules.setdefault(
            group, {"apiGroups": [group], "apiVersions": [version], "operations": ["CREATE", "UPDATE"], "resources": []}
        )
        rule["resources"].append(resource)
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "migrate-tui"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "namespaceSelector": _not_kube_system(),
                "resourceRules": list(rules.values()),
            },
            "matchConditions": [{"name": n, "expression": e} for n, e in preconditions()],
            "variables": [{"name": n, "expression": e} for n, e in variables()],
            "validations": [
                {
                    "expression": VALIDATION,
                    "messageExpression": message_expression(target),
                    "reason": "Forbidden",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "migrate-tui"}},
        "spec": {
            "policyName": name,
            "validationActions": [action] if action != "Warn" else ["Warn", "Audit"],
            "matchResources": {"namespaceSelector": _not_kube_system()},
        },
    }
    return [policy, binding]


def kyverno_policy(target: Target, *, action: str = "Deny", name: str = POLICY_NAME) -> KubeObject:
    guard = " && ".join(f"({e})" for _, e in preconditions())
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "migrate-tui"},
            "annotations": {
                "policies.kyverno.io/title": "No init-container copies into emptyDir",
                "policies.kyverno.io/category": "Image volumes",
                "policies.kyverno.io/subject": "Pod",
                "policies.kyverno.io/description": (
                    "Rejects new init containers that copy files from their own image into an emptyDir "
                    f'(use an image volume). Exempt with the annotation {EXEMPT_ANNOTATION}: "true".'
                ),
                # The rule already lists every workload kind: no auto-generated rules on top.
                "pod-policies.kyverno.io/autogen-controllers": "none",
            },
        },
        "spec": {
            "validationFailureAction": "Enforce" if action == "Deny" else "Audit",
            "background": False,
            "rules": [
                {
                    "name": "no-init-copy-into-emptydir",
                    "match": {"any": [{"resources": {"kinds": [k for *_, k in WORKLOADS], "operations": ["CREATE", "UPDATE"]}}]},
                    "exclude": {"any": [{"resources": {"namespaces": ["kube-system"]}}]},
                    "validate": {
                        "cel": {
                            "variables": [{"name": n, "expression": e} for n, e in variables()],
                            "expressions": [
                                {
                                    "expression": f"!({guard}) || {VALIDATION}",
                                    "messageExpression": message_expression(target),
                                }
                            ],
                        }
                    },
                }
            ],
        },
    }


def _not_kube_system() -> KubeObject:
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}


def render(objects: list[KubeObject], target: Target) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML is untyped here: subclass of Any
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value or ("'" in value and len(value) > 40) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)
    header = (
        f"# Generated by migrate-tui policy for {target.describe()} (target from {target.source}).\n"
        f"# Rejects new init-container copies into emptyDir volumes; exempt an object with the\n"
        f'# annotation {EXEMPT_ANNOTATION}: "true" (on the object or its pod template).\n'
    )
    docs = [yaml.dump(obj, Dumper=_Dumper, sort_keys=False, width=1 << 20, allow_unicode=True) for obj in objects]
    return header + "".join(f"---\n{doc}" for doc in docs)


# --- command line ------------------------------------------------------------------------------


def add_parser(subparsers: Subparsers, common: CommonOptions) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "policy",
        help="emit admission policies (ValidatingAdmissionPolicy, Kyverno) that reject new init-container copies",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--engine",
        choices=("all", "vap", "kyverno"),
        default="all",
        help="which policies to write (default: all; VAP needs Kubernetes 1.30+)",
    )
    parser.add_argument(
        "--action",
        choices=("deny", "warn", "audit"),
        default="deny",
        help="deny (reject), warn (admit with a warning + audit) or audit (record only)",
    )
    parser.add_argument("--name", default=POLICY_NAME, help=f"object names (default: {POLICY_NAME})")
    parser.add_argument("-o", "--output", type=Path, help="write to FILE instead of stdout")
    common(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from migrate_tui.commands import ExitCode, UsageError, umask, write_atomically

    target = _target(args)
    action = {"deny": "Deny", "warn": "Warn", "audit": "Audit"}[args.action]
    objects: list[KubeObject] = []
    try:
        if args.engine in ("all", "vap"):
            objects += validating_admission_policy(target, action=action, name=args.name)
    except PolicyError as exc:
        if args.engine == "vap":
            raise UsageError(str(exc)) from None
        print(f"migrate-tui: note: {exc}; writing the Kyverno policy only", file=sys.stderr)
    if args.engine in ("all", "kyverno"):
        objects.append(kyverno_policy(target, action=action, name=args.name))
    text = render(objects, target)
    if args.output:
        try:
            write_atomically(args.output, text.encode("utf-8"), 0o666 & ~umask())
        except OSError as exc:
            raise UsageError(f"{args.output}: {exc.strerror or exc}") from None
        print(f"Wrote {len(objects)} object{'s' if len(objects) != 1 else ''} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.CLEAN


def _target(args: argparse.Namespace) -> Target:
    from migrate_tui.commands import UsageError
    from migrate_tui.repo.config import ConfigError, load_config
    from migrate_tui.repo.discover import find_root
    from migrate_tui.platform.target import TargetError, parse_target

    try:
        config = load_config(find_root(Path(".")), getattr(args, "config", None))
        target = parse_target(args.target, base=config.target) if getattr(args, "target", None) else config.target
    except (ConfigError, TargetError) as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "cluster", None) is not None:
        from migrate_tui.platform.cluster import ClusterError, target_from_cluster

        try:
            target = target_from_cluster(args.cluster or None, namespace=getattr(args, "namespace", None), base=target)
        except ClusterError as exc:
            raise UsageError(str(exc)) from None
    return target
