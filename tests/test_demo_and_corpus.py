"""End to end on the bundled demo repo and on real files from ../shared/corpus (skipped when absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from testlib import make_engine
from migrate_tui.cli import main
from migrate_tui.parse.podspec import find_pod_specs
from migrate_tui.platform.validate import validate_object


def _yaml_objects(root: Path):
    for path in sorted(root.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc and doc.get("apiVersion", "").count("/") <= 1:
                yield path, doc


def test_demo_fix_writes_files_valid_for_1_33_to_1_37_and_a_second_run_has_no_fix_left(demo_copy: Path, capsys) -> None:
    code = main(["check", "--fix", "--unsafe-fixes", "--select", "IV", "--target", "k8s=1.36,containerd=2.2", str(demo_copy)])
    capsys.readouterr()
    assert code == 1
    changed = [p for p, d in _yaml_objects(demo_copy) if "image" in str(d.get("spec", {}))]
    assert changed
    for minor in range(33, 38):
        for path, doc in _yaml_objects(demo_copy):
            if doc["kind"] in ("Kustomization", "Config") or "skaffold" in doc["apiVersion"]:
                continue
            problems = validate_object(doc, (1, minor), [r.path for r in find_pod_specs(doc)])
            assert problems == [], (path, minor, problems)
    result = make_engine(demo_copy, select=("IV001",)).scan()
    assert [f for f in result.findings if f.fixable] == []


def test_demo_findings_match_what_the_demo_promises(demo_copy: Path) -> None:
    result = make_engine(demo_copy, select=("IV001", "IV002")).scan()
    by_file = {(f.location.path, f.rule, f.applicability.value) for f in result.findings}
    assert ("deploy/web/deployment.yaml", "IV001", "safe") in by_file
    assert ("deploy/otel/checkout.yaml", "IV001", "unsafe") in by_file
    assert ("deploy/legacy/reports.yaml", "IV002", "manual") in by_file
    assert ("deploy/legacy/fetch-data.yaml", "IV002", "manual") in by_file
    assert not result.diagnostics


# What a correct tool does with each corpus manifest (from ../shared/corpus/SOURCES.tsv notes).
CORPUS_VERDICTS = {
    "02_argo-cd_argocd-repo-server-deployment.yaml": {("IV001", "manual")},
    "04_argo-cd_helm-plugin-repo-server-patch.yaml": {("IV002", "manual")},
    "06_kubernetes-examples_javaweb-2.yaml": {("IV001", "manual")},
    "12_otel-helm-charts_collector-daemonset-lifecycle-hooks.yaml": {("IV001", "manual")},
    "20_codeformuenster-k8s-deployment_meine-stadt-transparent-nginx.yaml": {("IV001", "unsafe")},
    "22_kserve_spark-deployment.yaml": set(),  # the download feeds no container mounted in this file
    "24_eks-workshop-v2_chatbot-vllm.yaml": {("IV002", "manual")},
    "26_k8s-website_init-containers-kyaml.yaml": {("IV002", "manual")},
    "28_flannel_kube-flannel.yml": set(),
    # clone-mysql's script was unreadable to the hand-written parser (`[[ … =~ -([0-9]+)$ ]]`);
    # tree-sitter-bash reads it, and IV002 reports (manual) that it runs programs from the image
    # (ncat | xbstream, xtrabackup) while mounting the emptyDir 'conf'. No migration is proposed.
    "30_kustomize_mysql-statefulset-testdata.yaml": {("IV002", "manual")},
    # flagd's init copies a file from a configMap volume into an emptyDir: no migration is proposed,
    # but the README lists a copy from another volume as IV001 manual (an image volume can't carry it).
    "32_otel-helm-charts_demo-components-rendered.yaml": {("IV001", "manual")},
    "34_k8s-website_image-volumes-kyaml.yaml": set(),
    "36_microservices-demo_loadgenerator.yaml": set(),
    "38_sourcegraph_frontend-deployment.yaml": set(),
    "40_longhorn_deploy-longhorn-rendered.yaml": set(),
    "44_gke-samples_qdrant-docs-embedder.yaml": set(),
    "46_arc_gha-runner-scale-set-values.yaml": set(),
}


@pytest.mark.parametrize("name", sorted(CORPUS_VERDICTS))
def test_corpus_manifest_verdict(name: str, corpus: Path, tmp_path: Path) -> None:
    shutil.copyfile(corpus / "manifests" / name, tmp_path / name)
    result = make_engine(tmp_path, select=("IV001", "IV002")).scan()
    assert not result.diagnostics, result.diagnostics
    assert {(f.rule, f.applicability.value) for f in result.findings} == CORPUS_VERDICTS[name], [
        (f.rule, f.message, f.fix_blocked) for f in result.findings
    ]


# What a fix may remove (the init container, the emptyDir, the consumer's mount lines) and add
# (the image volume and the new mount), as stripped line prefixes.
_MAY_REMOVE = (
    "-",
    "image",
    "command",
    "args",
    "volumeMounts",
    "mountPath",
    "name",
    "subPath",
    "emptyDir",
    "initContainers",
    "imagePullPolicy",
    "readOnly",
)
_MAY_ADD = (
    "- name:",
    "name:",
    "- image:",
    "image:",
    "reference:",
    "pullPolicy:",
    "- mountPath:",
    "mountPath:",
    "subPath:",
    "readOnly: true",
)


def _changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines, as a line diff sees them (duplicates counted)."""
    import difflib

    a, b = old.splitlines(), new.splitlines()
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def test_corpus_fixes_keep_every_other_byte(corpus: Path, tmp_path: Path) -> None:
    for path in sorted((corpus / "manifests").iterdir()):
        shutil.copyfile(path, tmp_path / path.name)
    report, after = make_engine(tmp_path, select=("IV001",)).fix(unsafe=True)
    must_write = {name for name, verdict in CORPUS_VERDICTS.items() if {("IV001", "safe"), ("IV001", "unsafe")} & verdict}
    assert must_write and must_write <= set(report.written), report.written
    for name in sorted((corpus / "manifests").iterdir()):
        old = name.read_text()
        new = (tmp_path / name.name).read_text()
        if name.name not in report.written:
            assert new == old, f"{name.name} changed but was not reported written"
            continue
        removed, added = _changed_lines(old, new)
        assert removed and added, name.name
        # Only the init container, the emptyDir and the consumer's mount lines may go ...
        assert [l for l in removed if l.strip() and not l.strip().startswith(_MAY_REMOVE)] == [], (name.name, removed)
        # ... and only the image volume and its mount may come
        assert [l for l in added if not l.strip().startswith(_MAY_ADD)] == [], (name.name, added)
    assert [f for f in after.findings if f.fixable] == []
