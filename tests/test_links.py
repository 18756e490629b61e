"""Image → Dockerfile links: each mechanism, their order, reference comparison, the cache, and
the `migrate-tui links` command."""

from __future__ import annotations

import json
import os
from pathlib import Path

from migrate_tui.cli import main
from migrate_tui.repo.config import Config
from migrate_tui.analysis.links.index import CACHE_DIR, CACHE_FILE, build_link_index


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


DOCKERFILE = "FROM busybox\nCOPY x /x\n"


def test_skaffold_compose_script_workflow_and_kustomize(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "skaffold.yaml": "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
            "  - image: ghcr.io/acme/site\n    context: web\n    docker: {dockerfile: Dockerfile.prod, target: assets}\n",
            "web/Dockerfile.prod": DOCKERFILE,
            "compose.yaml": "services:\n  api:\n    image: acme/api:dev\n    build:\n      context: ./api\n",
            "api/Dockerfile": DOCKERFILE,
            "Makefile": "REG ?= registry.example.com\nbuild:\n\tpodman build -t $(REG)/tools:$(VERSION) \\\n\t  -f tools/Containerfile tools\n",
            "tools/Containerfile": DOCKERFILE,
            ".github/workflows/ci.yml": (
                "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
                "    - id: meta\n      uses: docker/metadata-action@v5\n      with:\n        images: ghcr.io/acme/worker\n"
                "    - uses: docker/build-push-action@v6\n      with:\n        context: worker\n"
                "        tags: ${{ steps.meta.outputs.tags }}\n"
            ),
            "worker/Dockerfile": DOCKERFILE,
            "deploy/kustomization.yaml": "images:\n- name: site\n  newName: ghcr.io/acme/site\n  newTag: '2'\n",
            "models/bert/Dockerfile": DOCKERFILE,
        },
    )
    index = build_link_index(root, Config(), use_cache=False)
    site = index.dockerfile_for("ghcr.io/acme/site:1.2@sha256:" + "a" * 64)
    assert (site.dockerfile, site.context, site.source, site.target) == ("web/Dockerfile.prod", "web", "skaffold", "assets")
    assert index.dockerfile_for("site:7").dockerfile == "web/Dockerfile.prod"  # through the kustomize alias
    api = index.dockerfile_for("docker.io/acme/api:1.0")
    assert (api.dockerfile, api.source) == ("api/Dockerfile", "compose")
    tools = index.dockerfile_for("registry.example.com/tools:3")
    assert (tools.dockerfile, tools.context, tools.source) == ("tools/Containerfile", "tools", "script")
    worker = index.dockerfile_for("ghcr.io/acme/worker:sha-1")
    assert (worker.dockerfile, worker.source) == ("worker/Dockerfile", "workflow")
    bert = index.dockerfile_for("registry.example.com/ml/bert:1")
    assert (bert.dockerfile, bert.source) == ("models/bert/Dockerfile", "directory")
    assert index.dockerfile_for("ghcr.io/other/site:1") is None  # same last name, other repository
    assert index.dockerfile_for("acme/api") is not None and index.dockerfile_for("api-gateway") is None


def test_config_mapping_wins_and_docker_hub_names_normalise(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "skaffold.yaml": "build:\n  artifacts:\n  - image: nginx-assets\n",
            "Dockerfile": DOCKERFILE,
            "alt/Dockerfile": DOCKERFILE,
        },
    )
    config = Config(images=(("docker.io/library/nginx-assets", "alt"),))
    link = build_link_index(root, config, use_cache=False).dockerfile_for("index.docker.io/library/nginx-assets:1")
    assert (link.dockerfile, link.source) == ("alt/Dockerfile", "config")
    link = build_link_index(root, Config(), use_cache=False).dockerfile_for("nginx-assets:1")
    assert (link.dockerfile, link.source) == ("Dockerfile", "skaffold")


def test_cache_is_reused_and_invalidated_by_a_changed_or_new_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _write(tmp_path, {"skaffold.yaml": "build:\n  artifacts:\n  - image: a\n", "Dockerfile": DOCKERFILE})
    first = build_link_index(root, Config())
    assert not first.from_cache and (root / CACHE_DIR / CACHE_FILE).is_file()
    assert build_link_index(root, Config()).from_cache
    skaffold = root / "skaffold.yaml"
    skaffold.write_text("build:\n  artifacts:\n  - image: b\n")
    os.utime(skaffold, ns=(1, 1))
    fresh = build_link_index(root, Config())
    assert not fresh.from_cache and fresh.dockerfile_for("b") is not None
    _write(root, {"svc/compose.yaml": "services:\n  s:\n    image: c\n    build: .\n", "svc/Dockerfile": DOCKERFILE})
    assert build_link_index(root, Config()).dockerfile_for("c").source == "compose"


def test_small_trees_are_not_cached(tmp_path: Path) -> None:
    root = _write(tmp_path, {"skaffold.yaml": "build:\n  artifacts:\n  - image: a\n", "Dockerfile": DOCKERFILE})
    build_link_index(root, Config())
    assert not (root / CACHE_DIR).exists()


def test_gitignored_build_files_are_not_read(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {".gitignore": "vendor/\n", "vendor/skaffold.yaml": "build:\n  artifacts:\n  - image: v\n", "vendor/Dockerfile": DOCKERFILE},
    )
    (root / ".git").mkdir()
    assert build_link_index(root, Config(), use_cache=False).dockerfile_for("v:1") is None


def test_links_command_text_and_json(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path, {"skaffold.yaml": "build:\n  artifacts:\n  - image: ghcr.io/acme/site\n    context: web\n", "web/Dockerfile": DOCKERFILE}
    )
    (root / ".git").mkdir()
    assert main(["links", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ghcr.io/acme/site" in out and "web/Dockerfile" in out and "skaffold" in out
    assert main(["links", "--format", "json", str(root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["links"][0]["dockerfile"] == "web/Dockerfile"
    assert main(["links", "--image", "ghcr.io/acme/site:9", str(root)]) == 0
    assert main(["links", "--image", "ghcr.io/acme/other:9", str(root)]) == 1


def test_runners_record_every_container_and_survive_the_cache(tmp_path: Path, monkeypatch) -> None:
    """``users_of`` stays init-containers-only; ``runners_of`` names every YAML file whose pod
    templates run the image in any container (issue 13 item 7), and the cache keeps it."""
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: docs}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: httpd\n        image: registry.example.com/docs:2.4.0\n"
    )
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: seed}\nspec:\n  template:\n    spec:\n"
        "      initContainers:\n      - name: copy\n        image: registry.example.com/docs:2.4.0\n"
        "      containers:\n      - name: main\n        image: busybox:1.36\n      restartPolicy: Never\n"
    )
    mounted = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: web\n"
        "    image: nginx:1.27\n  volumes:\n  - name: www\n    image:\n      reference: registry.example.com/docs:2.4.0\n"
    )
    files = {"deploy/docs.yaml": deployment, "deploy/seed.yaml": job, "deploy/web.yaml": mounted}
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _write(tmp_path, files)
    index = build_link_index(root, Config())
    assert index.users_of("registry.example.com/docs") == ["deploy/seed.yaml"]
    assert sorted(index.runners_of("registry.example.com/docs:9")) == ["deploy/docs.yaml", "deploy/seed.yaml"]
    assert index.runners_of("registry.example.com/other") == []
    assert not index.from_cache
    again = build_link_index(root, Config())
    assert again.from_cache
    assert sorted(again.runners_of("registry.example.com/docs")) == ["deploy/docs.yaml", "deploy/seed.yaml"]
    assert json.loads((root / CACHE_DIR / CACHE_FILE).read_text())["version"] == 11


def test_cache_notices_a_dockerfile_created_where_no_file_was_read(tmp_path: Path, monkeypatch) -> None:
    """Every directory the walk listed is stamped, also one holding nothing the index read (a
    directory of Go sources): a Dockerfile created there changes only that directory's mtime."""
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _write(tmp_path, {"deploy/site.yaml": "kind: ConfigMap\n", "svc/assets/main.go": "package main\n"})
    (root / ".git").mkdir()
    assert build_link_index(root, Config()).dockerfile_for("registry.example.com/assets:1") is None
    assert build_link_index(root, Config()).from_cache
    _write(root, {"svc/assets/Dockerfile": DOCKERFILE})
    index = build_link_index(root, Config())
    assert not index.from_cache
    link = index.dockerfile_for("registry.example.com/assets:1")
    assert (link.dockerfile, link.source) == ("svc/assets/Dockerfile", "directory")


def test_cache_notices_an_edited_nested_gitignore(tmp_path: Path, monkeypatch) -> None:
    """A .gitignore below the root decides what the walk skips: editing it in place (its
    directory's mtime stays) invalidates the cache."""
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _write(
        tmp_path,
        {
            "apps/.gitignore": "vendor/\n",
            "apps/vendor/skaffold.yaml": "build:\n  artifacts:\n  - image: v\n",
            "apps/vendor/Dockerfile": DOCKERFILE,
        },
    )
    (root / ".git").mkdir()
    assert build_link_index(root, Config()).dockerfile_for("v:1") is None
    assert build_link_index(root, Config()).from_cache
    gitignore = root / "apps" / ".gitignore"
    directory_mtime = (root / "apps").stat().st_mtime_ns
    with open(gitignore, "w") as fh:  # in place: the directory's entries don't change
        fh.write("# nothing ignored\n")
    assert (root / "apps").stat().st_mtime_ns == directory_mtime
    index = build_link_index(root, Config())
    assert not index.from_cache
    assert index.dockerfile_for("v:1").dockerfile == "apps/vendor/Dockerfile"
