"""Operator CRDs whose pod template is split: what find_pod_specs sees, and that IV001/IV002
report what can be seen, say what can't (typed OPERATOR_MERGED), and never write a fix."""

from __future__ import annotations

import shutil
from pathlib import Path

from testlib import FIXTURES, make_engine
from migrate_tui.parse.podspec import find_pod_specs, operator_of
from migrate_tui.model.reasons import BlockerKind
from migrate_tui.parse.yamldoc import YamlDocument, load_documents
from migrate_tui.analysis.initcopy import analyse_pod_spec

IV001 = FIXTURES / "IV001"
OPERATOR_CASES = sorted(p.name for p in IV001.glob("operator_*.yaml")) + ["../IV002/operator_prometheus_download.yaml"]


def _refs(name: str):
    text = (IV001 / name).read_text()
    (doc,) = [d for d in load_documents(text) if isinstance(d, YamlDocument)]
    return doc.data, list(find_pod_specs(doc.data))


def _kinds(spec, ref) -> list[list[BlockerKind]]:
    return [[b.kind for b in f.manual] for f in analyse_pod_spec(spec, ref.merged_by, ref.assembled, ref.shared_volumes)]


def test_known_operator_kinds_and_not_others() -> None:
    assert operator_of({"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus"}) == "the Prometheus Operator"
    assert operator_of({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}) == "the Argo Workflows controller"
    # An Argo Rollout carries a whole pod template and no operator containers: not marked.
    assert operator_of({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}) == ""
    assert operator_of({"apiVersion": "apps/v1", "kind": "Deployment"}) == ""
    assert operator_of({"apiVersion": "v1", "kind": "Prometheus"}) == ""  # no API group: not the CRD
    assert operator_of(["not", "a", "mapping"]) == ""


def test_existing_workloads_keep_their_refs_unmarked() -> None:
    for name in ("argo_rollout.yaml", "cronjob.yaml", "podtemplate_bare_spec.yaml"):
        _, refs = _refs(name)
        assert refs and all(r.merged_by == "" and not r.assembled and r.shared_volumes == () for r in refs), name


def test_prometheus_overlay_shows_the_operator_container_through_spec_volume_mounts() -> None:
    _, (ref,) = _refs("operator_prometheus_overlay.yaml")
    assert ref.path == ("spec",) and ref.owner == "Prometheus/k8s" and ref.merged_by == "the Prometheus Operator"
    assert [c["name"] for c in ref.spec["containers"]] == ["prometheus"]
    assert ref.spec["containers"][0]["volumeMounts"][0]["mountPath"] == "/etc/prometheus/consoles"
    (flow,) = analyse_pod_spec(ref.spec, ref.merged_by)
    assert [c.name for c in flow.consumers] == ["prometheus"]
    assert [b.kind for b in flow.manual] == [BlockerKind.OPERATOR_MERGED]


def test_overlay_without_reader_is_operator_merged_not_no_reader() -> None:
    _, (ref,) = _refs("operator_alertmanager_no_visible_reader.yaml")
    assert _kinds(ref.spec, ref) == [[BlockerKind.OPERATOR_MERGED]]
    # The same spec outside an operator CRD: nobody reads it.
    assert [[b.kind for b in f.manual] for f in analyse_pod_spec(ref.spec)] == [[BlockerKind.NO_READER]]


def test_kserve_predictor_overlay_and_eck_nodeset_paths() -> None:
    _, (ref,) = _refs("operator_kserve_predictor.yaml")
    assert ref.path == ("spec", "predictor") and ref.merged_by == "KServe" and "containers" not in ref.spec
    _, (ref,) = _refs("operator_eck_nodeset.yaml")
    assert ref.path == ("spec", "nodeSets", 0, "podTemplate", "spec")
    assert ref.merged_by == "ECK (Elastic Cloud on Kubernetes)" and not ref.assembled


def test_argo_template_view_merges_workflow_volumes() -> None:
    _, refs = _refs("operator_argo_split_volumes.yaml")
    (ref,) = refs  # the template is not also reported as an overlay
    assert ref.path == ("spec", "templates", 0) and ref.assembled
    assert [v["name"] for v in ref.shared_volumes] == ["fonts"]
    assert [c["name"] for c in ref.spec["containers"]] == ["main"]
    # The view's volumes are the template's own (none here): IV003 indices and edits stay true.
    assert "volumes" not in ref.spec
    (flow,) = analyse_pod_spec(ref.spec, ref.merged_by, ref.assembled, ref.shared_volumes)
    assert [p.source for p in flow.placements] == ["/usr/share/fonts/custom"]
    assert [c.name for c in flow.consumers] == ["main"]
    assert [b.kind for b in flow.manual] == [BlockerKind.OPERATOR_MERGED]
    assert "declared at the workflow level" in flow.manual[0].text


def test_argo_mirror_volume_mounts_gives_the_init_container_the_main_mounts() -> None:
    data, (ref,) = _refs("operator_argo_mirror_mounts.yaml")
    assert ref.spec["volumes"] is data["spec"]["templates"][0]["volumes"] and ref.shared_volumes == ()
    init = ref.spec["initContainers"][0]
    assert [m["mountPath"] for m in init["volumeMounts"]] == ["/work/site"]
    assert "volumeMounts" not in data["spec"]["templates"][0]["initContainers"][0]  # the file is untouched
    assert init.line == data["spec"]["templates"][0]["initContainers"][0].line
    (flow,) = analyse_pod_spec(ref.spec, ref.merged_by, ref.assembled, ref.shared_volumes)
    assert flow.manual[0].kind is BlockerKind.OPERATOR_MERGED and "does not rewrite workflow templates" in flow.manual[0].text


def test_cron_workflow_templates_are_found_under_workflow_spec() -> None:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "c"},
        "spec": {
            "schedule": "0 * * * *",
            "workflowSpec": {
                "volumes": [{"name": "v", "emptyDir": {}}],
                "templates": [{"name": "t", "initContainers": [{"name": "i", "image": "a:1"}], "script": {"image": "b:1", "source": "ls"}}],
            },
        },
    }
    (ref,) = list(find_pod_specs(doc))
    assert ref.path == ("spec", "workflowSpec", "templates", 0) and ref.shared_volumes == ({"name": "v", "emptyDir": {}},)


def test_flink_volume_declared_in_another_template_is_reported_not_skipped() -> None:
    _, refs = _refs("operator_flink_split_template.yaml")
    assert [r.path for r in refs] == [("spec", "podTemplate", "spec"), ("spec", "jobManager", "podTemplate", "spec")]
    flows = analyse_pod_spec(refs[1].spec, refs[1].merged_by)
    assert [(f.name, f.declared, [b.kind for b in f.manual]) for f in flows] == [("udf-libs", False, [BlockerKind.OPERATOR_MERGED])]
    # Without an operator, an undeclared volume is skipped as before.
    assert analyse_pod_spec(refs[1].spec) == []


def test_clean_operator_objects_have_no_pod_view() -> None:
    _, refs = _refs("clean_operator_strimzi_template.yaml")
    assert refs == []
    _, refs = _refs("clean_operator_tekton_steps.yaml")
    assert refs == []  # steps are not init containers


def test_operator_findings_are_manual_never_claim_no_reader_and_nothing_is_written(tmp_path: Path) -> None:
    for name in OPERATOR_CASES:
        shutil.copy(IV001 / name, tmp_path / Path(name).name)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = make_engine(tmp_path, select=("IV001", "IV002")).scan()
    assert sorted({f.location.path for f in result.findings}) == sorted(before)
    for finding in result.findings:
        assert finding.applicability.value == "manual" and finding.fix is None, finding.message
        assert "no other container" not in finding.message
        assert "no other container" not in (finding.fix_blocked or "")
    assert [f.message for f in result.findings if f.location.path == "operator_alertmanager_no_visible_reader.yaml"] == [
        "init container 'notification-templates' copies /templates from its image into emptyDir 'templates' that no "
        "container in this manifest mounts (the Prometheus Operator adds containers of its own, which may mount it too)"
    ]
    from migrate_tui.cli import main

    main(["check", "--fix", "--unsafe-fixes", "--select", "IV", str(tmp_path)])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


ARGO_IMAGE_VOLUMES = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: w
spec:
  entrypoint: a
  volumes:
  - name: shared-site
    image: {reference: registry.example.com/site:latest}
  templates:
  - name: a
    volumes:
    - name: own-site
      image: {reference: registry.example.com/own:latest}
    initContainers:
    - name: wait
      image: busybox:1.36
      command: [sh, -c, "sleep 1"]
    container:
      image: registry.example.com/app:1
      volumeMounts:
      - {name: own-site, mountPath: /own}
      - {name: shared-site, mountPath: /shared}
  - name: b
    initContainers:
    - name: wait
      image: busybox:1.36
      command: [sh, -c, "sleep 1"]
    container:
      image: registry.example.com/app:1
      volumeMounts:
      - {name: shared-site, mountPath: /shared}
"""


def test_argo_view_shows_other_podspec_rules_only_the_templates_own_volumes(tmp_path: Path) -> None:
    """IV003 checks the view's volumes by index and pins them by path: the workflow-level
    volume is not in the view (not judged once per template, never edited at a wrong index)."""
    (tmp_path / "wf.yaml").write_text(ARGO_IMAGE_VOLUMES)
    result = make_engine(tmp_path, select=("IV003",)).scan()
    assert sorted({(f.location.line, f.data["volume"]) for f in result.findings}) == [(14, "own-site")]


def test_odd_operator_shapes_never_crash_and_never_invent_a_pod() -> None:
    argo = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}
    prom = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus"}
    odd = [
        {**argo, "spec": {"templates": "not-a-list", "volumes": {"x": 1}}},
        {**argo, "spec": {"templates": [None, 3, {"initContainers": [{"name": "i"}], "container": "str"}]}},
        {
            **argo,
            "spec": {
                "volumes": [None, "v"],
                "templates": [{"initContainers": [{"name": "i", "mirrorVolumeMounts": True}], "script": {"volumeMounts": "x"}}],
            },
        },
        {**prom, "spec": {"initContainers": [{"name": "i"}], "volumes": None}},
        {
            **prom,
            "spec": {
                "initContainers": [{"name": "i", "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
                "volumeMounts": ["x", {"name": "v"}],
            },
        },
        {**prom, "spec": "nope"},
    ]
    found = []
    for doc in odd:
        for ref in find_pod_specs(doc):
            analyse_pod_spec(ref.spec, ref.merged_by, ref.assembled, ref.shared_volumes)
            found.append((ref.kind, ref.path, ref.assembled))
    assert found == [
        ("Workflow", ("spec", "templates", 0), True),
        ("Prometheus", ("spec",), False),
    ]
