"""The init container's filesystem view (image + every mount) and the typed reasons of the
init-copy analysis (rules/_initcopy.py)."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate_tui.model.reasons import Blocker, BlockerKind, Note, NoteKind
from migrate_tui.analysis.initcopy import Relation, analyse_pod_spec, norm_path
from migrate_tui.rules.init_copy_to_empty_dir import _mounts_cannot_express, _only_modes


def _spec(script: str, mounts: list[dict], volumes: list[dict], reader: dict | None = None) -> dict:
    return {
        "initContainers": [
            {
                "name": "prepare",
                "image": "registry.example.com/site:1",
                "command": ["sh", "-c", script],
                "volumeMounts": [{"name": "html", "mountPath": "/html"}] + mounts,
            }
        ],
        "containers": [
            {
                "name": "server",
                "image": "registry.example.com/server:1",
                "volumeMounts": [reader or {"name": "html", "mountPath": "/srv", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "html", "emptyDir": {}}] + volumes,
    }


def _only_flow(spec: dict):
    flows = analyse_pod_spec(spec)
    assert len(flows) == 1, flows
    return flows[0]


@pytest.mark.parametrize(
    ("mount", "volume", "relation", "text"),
    [
        (
            {"name": "cfg", "mountPath": "/site/conf/app.cnf", "subPath": "app.cnf"},
            {"name": "cfg", "configMap": {"name": "c"}},
            Relation.BELOW,
            "the configMap volume 'cfg' is mounted at /site/conf/app.cnf inside the copy source /site",
        ),
        (
            {"name": "tls", "mountPath": "/site/certs"},
            {"name": "tls", "secret": {"secretName": "t"}},
            Relation.BELOW,
            "the secret volume 'tls' is mounted at /site/certs inside the copy source /site",
        ),
        (
            {"name": "b", "mountPath": "/site/"},
            {"name": "b", "projected": {"sources": []}},
            Relation.AT,
            "the copy source /site is the projected volume 'b'",
        ),
        (
            {"name": "d", "mountPath": "/"},
            {"name": "d", "hostPath": {"path": "/x"}},
            Relation.ABOVE,
            "the copy source /site lies in the hostPath volume 'd' mounted at /",
        ),
        (
            {"name": "p", "mountPath": "//site/./x//"},
            {"name": "p", "persistentVolumeClaim": {"claimName": "c"}},
            Relation.BELOW,
            "the persistentVolumeClaim volume 'p' is mounted at /site/x inside the copy source /site",
        ),
        (
            {"name": "e", "mountPath": "/site/cache"},
            {"name": "e", "emptyDir": {}},
            Relation.BELOW,
            "the emptyDir volume 'e' is mounted at /site/cache inside the copy source /site",
        ),
        (
            {"name": "gone", "mountPath": "/site/x"},
            None,
            Relation.BELOW,
            "the undeclared volume 'gone' is mounted at /site/x inside the copy source /site",
        ),
    ],
)
def test_a_volume_at_above_or_inside_the_source_blocks_the_copy(mount: dict, volume: dict | None, relation: Relation, text: str) -> None:
    flow = _only_flow(_spec("cp -r /site/. /html/", [mount], [volume] if volume else []))
    assert flow.placements == []
    assert [(v.relation, v.describe()) for v in flow.volume_sources] == [(relation, text)]
    assert [(b.kind, b.text) for b in flow.manual] == [
        (
            BlockerKind.VOLUME_IN_SOURCE,
            f"`cp -r /site/. /html/`: {text}, so those files come from the volume, not from the image; an image volume can't carry them",
        )
    ]


@pytest.mark.parametrize("path", ["/etc/cfg", "/sites", "/sit", "/html-other"])
def test_a_volume_beside_the_source_changes_nothing(path: str) -> None:
    flow = _only_flow(_spec("cp -r /site/. /html/", [{"name": "cfg", "mountPath": path}], [{"name": "cfg", "configMap": {"name": "c"}}]))
    assert [(p.vol_dir, p.image_dir, p.kind) for p in flow.placements] == [("", "/site", "contents")]
    assert flow.manual == [] and flow.volume_sources == []


def test_a_source_inside_the_destination_volume_itself_is_from_the_volume() -> None:
    flow = _only_flow(_spec("cp -r /html/a/. /html/b/", [], []))
    assert [b.kind for b in flow.manual] == [BlockerKind.VOLUME_IN_SOURCE]
    assert flow.volume_sources[0].describe() == "the copy source /html/a lies in the emptyDir volume 'html' mounted at /html"


def test_a_glob_pattern_is_judged_by_the_directory_it_cannot_leave() -> None:
    flow = _only_flow(
        _spec("cp /mnt/cfg/*.cnf /html/", [{"name": "cfg", "mountPath": "/mnt/cfg"}], [{"name": "cfg", "configMap": {"name": "c"}}])
    )
    assert [b.kind for b in flow.manual] == [BlockerKind.VOLUME_IN_SOURCE]


def test_a_duplicate_volume_mount_gives_one_flow() -> None:
    spec = _spec("cp -r /site/. /html/", [{"name": "html", "mountPath": "/html/"}], [])
    flow = _only_flow(spec)
    assert [(p.vol_dir, p.image_dir) for p in flow.placements] == [("", "/site")]


def test_a_reader_mounting_another_volume_inside_the_copy_is_manual() -> None:
    spec = _spec("cp -r /site/. /html/", [], [{"name": "cfg", "configMap": {"name": "c"}}])
    spec["containers"][0]["volumeMounts"].append({"name": "cfg", "mountPath": "/srv/config.js", "subPath": "config.js"})
    flow = _only_flow(spec)
    assert [(b.kind, b.text) for b in flow.manual] == [
        (
            BlockerKind.READER_NESTED_MOUNT,
            "'server' also mounts 'cfg' at /srv/config.js inside /srv; an image volume is read-only, "
            "so the runtime can't create that mount point unless the image has it",
        )
    ]


@pytest.mark.parametrize(
    ("script", "kind", "fills"),
    [
        ("rm -f /site/x && cp -r /site/. /html/", BlockerKind.SOURCE_CHANGED, []),
        ("chmod 600 /site && cp -r /site/. /html/", BlockerKind.SOURCE_CHANGED, []),
        ("mkdir -p /site/new && cp -r /site/. /html/", BlockerKind.SOURCE_CHANGED, []),
        (
            "sed -i s/a/b/ /site/x && cp -r /site/. /html/",
            None,
            ["`sed -i s/a/b/ /site/x`: edits /site/x before `cp -r /site/. /html/` copies it (templating)"],
        ),
        ("rm -rf $D/* && cp -r /site/. /html/", BlockerKind.CHANGES_COPY, []),
        ("rm -rf /usr && cp -r /site/. /html/", None, []),  # beside the source: only the init's own files
        ("mkdir -p /site && cp -r /site/. /html/", None, []),  # a no-op when the copy works
        ("cp -r /site/. /html/ && rm -f /site/x", None, []),  # after the copy
    ],
)
def test_an_earlier_change_to_the_source_in_the_init_filesystem(script: str, kind: BlockerKind | None, fills: list[str]) -> None:
    flow = _only_flow(_spec(script, [], []))
    assert [b.kind for b in flow.manual] == ([kind] if kind else [])
    assert flow.fills == fills


def test_a_copy_into_the_parent_of_the_mount_is_manual() -> None:
    flow = _only_flow(_spec("cp -r /bundle/. /", [], []))
    assert [b.kind for b in flow.manual] == [BlockerKind.CHANGES_COPY]
    assert flow.refused_sources == ["/bundle"]


@pytest.mark.parametrize(("raw", "path"), [("/a/", "/a"), ("//a", "/a"), ("/a/./b//", "/a/b"), ("a", "/a"), ("", "/"), ("///", "/")])
def test_mount_paths_are_normalised(raw: str, path: str) -> None:
    assert norm_path(raw) == path


_PATHS = ["/", "/site", "/site/conf", "/site/conf/app.cnf", "/sites", "/etc/cfg", "/html/x", "/srv"]
_KINDS = ["configMap", "secret", "projected", "downwardAPI", "persistentVolumeClaim", "hostPath", "emptyDir", "csi"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_PATHS), st.sampled_from(_KINDS), st.booleans(), st.booleans()), max_size=4),
    st.sampled_from(["/site/.", "/site/*", "/site", "/site/conf/app.cnf"]),
)
@example([("/site/conf/app.cnf", "configMap", True, True)], "/site/*")
@example([("/etc/cfg", "configMap", False, False)], "/site/.")
def test_a_placement_never_reads_a_mounted_volume(layout: list[tuple[str, str, bool, bool]], source: str) -> None:
    """Whatever the mounts (nested, subPath, readOnly or not), a placed copy's source overlaps none."""
    mounts = [
        {"name": f"v{i}", "mountPath": path + ("/" if slash and path != "/" else ""), "readOnly": ro, **({"subPath": "x"} if slash else {})}
        for i, (path, _, slash, ro) in enumerate(layout)
    ]
    volumes = [{"name": f"v{i}", kind: {}} for i, (_, kind, _, _) in enumerate(layout)]
    flow = analyse_pod_spec(_spec(f"cp -r {source} /html/", mounts, volumes))
    init_paths = ["/html"] + [norm_path(m["mountPath"]) for m in mounts]
    for f in flow:
        for p in f.placements:
            for path in init_paths:
                assert not (path == p.source or p.source.startswith(path.rstrip("/") + "/") or path.startswith(p.source + "/")), (p, path)
    base = posixpath.normpath(source.rstrip("*").rstrip("."))
    overlapping = [
        m
        for m in mounts
        if norm_path(m["mountPath"]) == "/"
        or base == norm_path(m["mountPath"])
        or base.startswith(norm_path(m["mountPath"]) + "/")
        or norm_path(m["mountPath"]).startswith(base + "/")
    ]
    ours = [f for f in flow if f.name == "html"]
    if overlapping:
        assert all(not f.placements for f in ours)
        named = {v.mount.volume for f in ours for v in f.volume_sources}
        assert named == {m["name"] for m in overlapping}


def test_scratch_decisions_read_kinds_not_words() -> None:
    """Rewording a blocker changes nothing: code decides on kinds."""
    assert _mounts_cannot_express([Blocker(BlockerKind.MERGED_TREES, "reworded"), Blocker(BlockerKind.RENAMED_FILE, "")])
    assert not _mounts_cannot_express(
        [Blocker(BlockerKind.MERGED_TREES, "x"), Blocker(BlockerKind.PLATFORM, "are merged into one directory")]
    )
    assert not _mounts_cannot_express([])

    class _Flow:
        post_copy_modes = ["chmod -R 644 /d"]

    assert _only_modes([_Flow()], [Blocker(BlockerKind.MODE_CHANGE, "anything", "chmod -R 644 /d")])  # type: ignore[list-item]
    assert not _only_modes([_Flow()], [Blocker(BlockerKind.CHANGES_COPY, "`chmod -R 644 /d`: chmod changes file modes")])  # type: ignore[list-item]
    assert Note(NoteKind.SIBLING_FILES, "x") != Note(NoteKind.DOT_FILES, "x")


@pytest.mark.parametrize(
    ("script", "unsafe"),
    [
        ("mkdir -p /html/site && cp -r /site /html/", []),  # the landing: cp -r merges into /html/site
        ("mkdir -p /html/a/b && cp -r /site/. /html/a/b/", []),  # the landing itself
        ("mkdir -p /html && cp -r /site/. /html/", []),  # the mount
        (
            "mkdir -p /html/uploads && cp -r /site/. /html/",
            [
                "`mkdir -p /html/uploads` creates /html/uploads, which no copy fills; the image volume has it only if "
                "the image does, so this assumes no reader needs that empty directory"
            ],
        ),
    ],
)
def test_an_empty_directory_no_copy_fills_is_an_assumption(script: str, unsafe: list[str]) -> None:
    flow = _only_flow(_spec(script, [], []))
    assert flow.placements and flow.manual == []
    assert flow.unsafe == unsafe


@pytest.mark.parametrize("who", ["init", "reader"])
def test_a_sub_path_expression_on_the_volume_is_manual(who: str) -> None:
    spec = _spec("cp -r /site/. /html/", [], [])
    container = spec["initContainers"][0] if who == "init" else spec["containers"][0]
    container["volumeMounts"][0]["subPathExpr"] = "$(POD_NAME)"
    name = "prepare" if who == "init" else "server"
    flow = _only_flow(spec)
    assert [(b.kind, b.text) for b in flow.manual] == [
        (
            BlockerKind.UNRESOLVED_PATH,
            f"'{name}' mounts 'html' with subPathExpr $(POD_NAME): the directory depends on the pod's environment",
        )
    ]


@pytest.mark.parametrize(
    ("script", "fills"),
    [
        (
            "cp -r $MODEL_DIR/. /html/",
            [
                "`cp -r $MODEL_DIR/. /html/`: cp source $MODEL_DIR is not a path migrate-tui can resolve; "
                "what it writes into 'html' can't be known here"
            ],
        ),
        (
            "/opt/bin/fetch --out /html",
            [
                "`/opt/bin/fetch --out /html`: /opt/bin/fetch is a program from the image that migrate-tui can't see into; "
                "read it (or the Dockerfile that builds the image) to see what it writes into 'html'"
            ],
        ),
        ("/opt/bin/fetch --out /html && cp -r /site/. /html/", []),  # a copy is seen: IV001 manual
        ("cp -r $X/. /tmp/ && cp -r /site/. /html/", []),
    ],
)
def test_an_opaque_filler_with_no_copy_is_iv002(script: str, fills: list[str]) -> None:
    assert _only_flow(_spec(script, [], [])).fills == fills


def test_a_reader_sub_path_inside_the_copy_is_an_assumption() -> None:
    from migrate_tui.analysis.initcopy import plan_mounts

    flow = _only_flow(_spec("cp -r /site/. /html/", [], [], {"name": "html", "mountPath": "/srv", "subPath": "docs", "readOnly": True}))
    assumptions: list[str] = []
    specs, blockers, _ = plan_mounts([flow], flow.consumers[0], {"registry.example.com/site:1": "html"}, assumptions)
    assert [(s.mount_path, s.sub_path) for s in specs] == [("/srv", "site/docs")] and blockers == []
    assert assumptions == [
        "'server' mounts subPath docs of 'html', inside the copied /site: this assumes /site/docs "
        "exists in the image (the kubelet created it empty in the emptyDir)"
    ]
