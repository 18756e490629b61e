"""Links from more build systems (core.link_sources, core.bakehcl): Cloud Build, Tekton/Kaniko,
buildx bake, GitLab CI, Jib and ko. Each repository is written here, small but shaped like real
ones; each test checks the exact `links` line, and that IV001 in scratch mode rewrites the
linked Dockerfile — or, for Jib and ko, that no Dockerfile is touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testlib import FIXTURES, make_engine
from migrate_tui.cli import main
from migrate_tui.parse import bakehcl
from migrate_tui.analysis.links import builds as link_sources
from migrate_tui.repo.config import Config
from migrate_tui.render.diff import combined_diffs
from migrate_tui.analysis.links.index import build_link_index

ASSET_DOCKERFILE = "FROM busybox:1.37\nCOPY site/ /site/\n"
SITE_MANIFEST = (FIXTURES / "IV001" / "cp_r_dot_contents.yaml").read_text()  # init image registry.example.com/web-site:1.4.2


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _manifest(image: str) -> str:
    return SITE_MANIFEST.replace("registry.example.com/web-site:1.4.2", image)


def _links_lines(root: Path, capsys) -> list[str]:
    capsys.readouterr()
    assert main(["links", "--refresh", str(root)]) == 0
    return capsys.readouterr().out.splitlines()


def _scratch_diffs(root: Path) -> dict[str, object]:
    result = make_engine(root, select=("IV001",), mode="scratch").scan()
    [finding] = result.findings
    assert finding.fix is not None, finding.fix_blocked
    return {d.path: d for d in combined_diffs([finding.fix], lambda p: (root / p).read_text() if (root / p).is_file() else None)}


def _link(root: Path, image: str):
    return build_link_index(root, Config(), use_cache=False).dockerfile_for(image)


# --------------------------------------------------------------------------- Google Cloud Build

CLOUDBUILD = """\
# Trigger: push to main
substitutions:
  _IMAGE: web-site
  _TAG: 1.4.2
steps:
- id: build-assets
  name: gcr.io/cloud-builders/docker
  args: ['build', '-t', 'gcr.io/$PROJECT_ID/${_IMAGE}:${_TAG}', '-f', 'site/Dockerfile', 'site']
- id: push
  name: gcr.io/cloud-builders/docker
  args: ['push', 'gcr.io/$PROJECT_ID/${_IMAGE}:${_TAG}']
images:
- gcr.io/$PROJECT_ID/${_IMAGE}:${_TAG}
"""


def test_cloudbuild_docker_step_with_substitutions(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            "cloudbuild.yaml": CLOUDBUILD,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "deploy/web.yaml": _manifest("gcr.io/acme-prod/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "gcr.io/$PROJECT_ID/web-site:1.4.2  site/Dockerfile (context site; cloudbuild, cloudbuild.yaml:8)"
    ]
    link = _link(root, "gcr.io/acme-prod/web-site:1.4.2")
    assert (link.dockerfile, link.context, link.source, link.origin) == ("site/Dockerfile", "site", "cloudbuild", "cloudbuild.yaml:8")
    assert _link(root, "gcr.io/acme-prod/other:1") is None and _link(root, "docker.io/acme-prod/web-site:1") is None
    diffs = _scratch_diffs(root)
    assert sorted(diffs) == ["deploy/web.yaml", "site/Dockerfile"]
    assert diffs["site/Dockerfile"].after == "FROM scratch\nCOPY site/ /site/\n"


def test_cloudbuild_json_in_a_subdirectory_uses_the_repository_root_and_step_dir(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "ci/cloudbuild.json": '{\n  "steps": [\n    {\n      "name": "gcr.io/cloud-builders/docker",\n'
            '      "dir": "frontend",\n'
            '      "args": ["build", "-t", "europe-docker.pkg.dev/acme/web/site:$SHORT_SHA", "."]\n'
            "    }\n  ]\n}\n",
            "frontend/Dockerfile": ASSET_DOCKERFILE,
        },
    )
    link = _link(root, "europe-docker.pkg.dev/acme/web/site:2")
    assert (link.dockerfile, link.context, link.origin) == ("frontend/Dockerfile", "frontend", "ci/cloudbuild.json:6")


def test_cloudbuild_that_is_a_list_or_escapes_the_root_links_nothing(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            "cloudbuild.yaml": "- name: gcr.io/cloud-builders/docker\n  args: ['build', '-t', 'gcr.io/p/a', '.']\n",
            "other/cloudbuild.yaml": "steps:\n- name: gcr.io/cloud-builders/docker\n"
            "  args: ['build', '-t', 'gcr.io/p/b', '-f', '../../outside/Dockerfile', '../..']\n",
            "Dockerfile": ASSET_DOCKERFILE,
        },
    )
    assert _links_lines(root, capsys) == ["no image → Dockerfile links found (add [tool.migrate-tui.images] to declare them)"]


# --------------------------------------------------------------------------- Tekton / Kaniko

TEKTON_TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build-site-assets
spec:
  params:
  - name: IMAGE
    default: registry.example.com/web-site
  - name: DOCKERFILE
    default: ./Dockerfile
  - name: CONTEXT
    default: assets/site
  workspaces:
  - name: source
  steps:
  - name: build-and-push
    image: gcr.io/kaniko-project/executor:v1.23.2
    args:
    - --dockerfile=$(params.DOCKERFILE)
    - --context=$(workspaces.source.path)/$(params.CONTEXT)
    - --destination=$(params.IMAGE)
    - --digest-file=/tekton/results/IMAGE_DIGEST
"""


def test_tekton_task_running_kaniko(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            "tekton/build.yaml": TEKTON_TASK,
            "assets/site/Dockerfile": ASSET_DOCKERFILE,
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site  assets/site/Dockerfile (context assets/site; kaniko, tekton/build.yaml:17)"
    ]
    diffs = _scratch_diffs(root)
    assert sorted(diffs) == ["assets/site/Dockerfile", "deploy/web.yaml"]
    assert diffs["assets/site/Dockerfile"].after == "FROM scratch\nCOPY site/ /site/\n"


def test_kaniko_job_with_a_remote_or_unknown_context_links_nothing(tmp_path: Path) -> None:
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: kaniko}\nspec:\n  template:\n    spec:\n"
        "      restartPolicy: Never\n      containers:\n      - name: kaniko\n"
        "        image: gcr.io/kaniko-project/executor:latest\n"
        "        args: ['--context=git://github.com/acme/site.git', '--destination=registry.example.com/web-site']\n"
        "      - name: kaniko-volume\n        image: gcr.io/kaniko-project/executor:latest\n"
        "        args: ['--context=dir:///mnt/build', '--destination=registry.example.com/web-site']\n"
    )
    root = _write(tmp_path, {"job.yaml": job, "Dockerfile": ASSET_DOCKERFILE})
    assert build_link_index(root, Config(), use_cache=False).links == []


# --------------------------------------------------------------------------- buildx bake

BAKE_HCL = """\
// docker buildx bake --push
variable "REGISTRY" {
  default = "registry.example.com"
}
variable "TAG" {
  default = "1.4.2"
}

group "default" {
  targets = ["site", "api"]
}

target "_base" {
  dockerfile = "Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64"]
  labels = {
    "org.opencontainers.image.source" = "https://example.com/acme/shop"
  }
}

target "site" {
  inherits = ["_base"]
  context  = "site"
  tags     = ["${REGISTRY}/web-site:${TAG}", "registry.example.com/web-site:latest"]
}

target "api" {
  inherits = ["_base"]
  context  = "api"
  args = {
    GO_VERSION = "1.23"
  }
  tags = notequal("", TAG) ? ["${REGISTRY}/api:${TAG}"] : []
}
"""


def test_bake_hcl_targets_variables_and_inherits(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            "docker-bake.hcl": BAKE_HCL,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "api/Dockerfile": "FROM golang:1.23\n",
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site:1.4.2   site/Dockerfile (context site; bake, docker-bake.hcl:24)",
        "registry.example.com/web-site:latest  site/Dockerfile (context site; bake, docker-bake.hcl:24)",
        # the api target's tags are a conditional (outside the subset): only its directory name links it
        "api                                   api/Dockerfile (context api; directory, api/Dockerfile)",
    ]
    diffs = _scratch_diffs(root)
    # the exact tag is a template ("${REGISTRY}/web-site:${TAG}"): the build keeps its name
    assert sorted(diffs) == ["deploy/web.yaml", "site/Dockerfile"]
    assert diffs["site/Dockerfile"].after == "FROM scratch\nCOPY site/ /site/\n"


def test_bake_json_with_an_override_file(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            "build/docker-bake.json": '{\n  "variable": {"TAG": {"default": "dev"}},\n  "target": {\n'
            '    "site": {\n      "context": "../site",\n      "tags": ["registry.example.com/web-site:${TAG}"]\n    }\n  }\n}\n',
            "build/docker-bake.override.hcl": 'variable "TAG" { default = "1.4.2" }\ntarget "site" {\n  dockerfile = "Containerfile"\n}\n',
            "site/Containerfile": ASSET_DOCKERFILE,
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site:1.4.2  site/Containerfile (context site; bake, build/docker-bake.json:6)"
    ]


@pytest.mark.parametrize(
    "text",
    [
        'target "x" {\n  context = "."\n',  # unclosed block
        'target "x" { tags = ["a", }\n',
        'target "x" {\n  tags = <<EOT\nregistry.example.com/x\nEOT\n}\n',  # heredoc: outside the subset
        'target "x" { tags = ["registry.example.com/x"] }\n}}}\n',
        "target x\x00 {}\n",
        '"just a string"\n',
        "[" * 100000,
        'variable "A" { default = "${A}" }\ntarget "x" { tags = ["r.example.com/${A}"] }\n',  # self reference
        'target "a" { inherits = ["b"] }\ntarget "b" { inherits = ["a"]\n tags = ["r.example.com/b"] }\n',  # cycle
    ],
)
def test_malformed_or_hostile_bake_files_give_no_links(tmp_path: Path, text: str) -> None:
    root = _write(tmp_path, {"docker-bake.hcl": text, "Dockerfile": ASSET_DOCKERFILE})
    links = build_link_index(root, Config(), use_cache=False).links
    assert [l for l in links if l.source == "bake"] == []


def test_huge_deeply_nested_bake_file_is_bounded(tmp_path: Path) -> None:
    nested = 'target "deep" {\n  labels = ' + "{ a = " * 5000 + '"x"' + " }" * 5000 + "\n}\n"
    assert bakehcl.read_bake("docker-bake.hcl", nested) is None
    many = "".join(f'target "t{i}" {{\n  context = "."\n  tags = ["registry.example.com/t{i}"]\n}}\n' for i in range(5000))
    parsed = bakehcl.read_bake("docker-bake.hcl", many)
    assert parsed is not None and len(parsed.targets) == bakehcl.MAX_TARGETS
    root = _write(tmp_path, {"docker-bake.hcl": nested + many, "Dockerfile": ASSET_DOCKERFILE})
    assert [l for l in build_link_index(root, Config(), use_cache=False).links if l.source == "bake"] == []


def test_bake_context_escaping_the_root_is_not_linked(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "repo",
        {
            "docker-bake.hcl": 'target "site" {\n  context = "../outside"\n  tags = ["registry.example.com/web-site"]\n}\n'
            'target "abs" {\n  context = "/etc"\n  tags = ["registry.example.com/abs"]\n}\n',
        },
    )
    _write(tmp_path, {"outside/Dockerfile": ASSET_DOCKERFILE})
    assert build_link_index(root, Config(), use_cache=False).links == []


# --------------------------------------------------------------------------- GitLab CI

GITLAB_CI = """\
variables:
  REGISTRY: registry.example.com
  DOCKER_TLS_CERTDIR: "/certs"

stages: [build, deploy]

build-site:
  stage: build
  image: docker:27
  services: [docker:27-dind]
  variables:
    IMAGE: $REGISTRY/web-site
  script:
    - docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" "$REGISTRY"
    - docker build -t "$IMAGE:$CI_COMMIT_SHORT_SHA" -f site/Dockerfile site
    - docker push "$IMAGE:$CI_COMMIT_SHORT_SHA"

build-api:
  stage: build
  image:
    name: gcr.io/kaniko-project/executor:v1.23.2-debug
    entrypoint: [""]
  script:
    - /kaniko/executor
      --context "${CI_PROJECT_DIR}/api"
      --dockerfile "${CI_PROJECT_DIR}/api/Dockerfile"
      --destination "${REGISTRY}/api:${CI_COMMIT_TAG}"

build-other:
  script:
    - docker build -t "$CI_REGISTRY_IMAGE:latest" .
"""


def test_gitlab_docker_build_and_kaniko(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            ".gitlab-ci.yml": GITLAB_CI,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "api/Dockerfile": "FROM golang:1.23\n",
            "Dockerfile": "FROM alpine\n",
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site:$CI_COMMIT_SHORT_SHA  site/Dockerfile (context site; gitlab, .gitlab-ci.yml:15)",
        "registry.example.com/api:${CI_COMMIT_TAG}           api/Dockerfile (context api; gitlab, .gitlab-ci.yml:24)",
    ]
    diffs = _scratch_diffs(root)
    assert sorted(diffs) == ["deploy/web.yaml", "site/Dockerfile"]
    assert diffs["site/Dockerfile"].after == "FROM scratch\nCOPY site/ /site/\n"


# --------------------------------------------------------------------------- Jib and ko

POM = """\
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>web-site</artifactId>
  <version>1.4.2</version>
  <properties>
    <image.registry>registry.example.com</image.registry>
  </properties>
  <build>
    <plugins>
      <plugin>
        <groupId>com.google.cloud.tools</groupId>
        <artifactId>jib-maven-plugin</artifactId>
        <version>3.4.4</version>
        <configuration>
          <from><image>eclipse-temurin:21-jre</image></from>
          <to>
            <image>${image.registry}/${project.artifactId}</image>
            <tags><tag>${project.version}</tag></tags>
          </to>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
"""


def test_jib_maven_image_is_built_without_a_dockerfile(tmp_path: Path, capsys) -> None:
    # a Dockerfile in a directory named like the image (for local runs) must not be linked or rewritten
    root = _write(
        tmp_path,
        {
            "web-site/pom.xml": POM,
            "web-site/Dockerfile": ASSET_DOCKERFILE,
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site  built by jib, no Dockerfile (context web-site; jib, web-site/pom.xml:19)"
    ]
    index = build_link_index(root, Config(), use_cache=False)
    assert index.dockerfile_for("registry.example.com/web-site:1.4.2") is None
    assert index.build_for("registry.example.com/web-site:1.4.2").builder == "jib"
    assert index.links_for_dockerfile("web-site/Dockerfile") == []
    # auto: the repository does not build it with a Dockerfile, so zero-rebuild (the manifest only)
    [finding] = make_engine(root, select=("IV001",), mode="auto").scan().findings
    assert (finding.data["mode"], finding.fix.paths) == ("zero-rebuild", ("deploy/web.yaml",))
    # scratch: a new asset Dockerfile built FROM the Jib image; web-site/Dockerfile is never edited
    [finding] = make_engine(root, select=("IV001",), mode="scratch").scan().findings
    assert finding.fix.paths == ("deploy/web.yaml", "assets/web-site/Dockerfile")
    assert finding.data["assets"][0]["change"] == "created"


@pytest.mark.parametrize(
    "name, text, line",
    [
        (
            "build.gradle",
            "plugins {\n  id 'java'\n  id 'com.google.cloud.tools.jib' version '3.4.4'\n}\n"
            "jib {\n  from { image = 'eclipse-temurin:21-jre' }\n  to {\n    image = 'registry.example.com/web-site'\n"
            "    tags = ['1.4.2']\n  }\n}\n",
            8,
        ),
        (
            "build.gradle.kts",
            'plugins {\n    id("com.google.cloud.tools.jib") version "3.4.4"\n}\n'
            'jib {\n    from.image = "eclipse-temurin:21-jre"\n    to.image = "registry.example.com/web-site:1.4.2"\n}\n',
            6,
        ),
    ],
)
def test_jib_gradle(tmp_path: Path, name: str, text: str, line: int) -> None:
    root = _write(tmp_path, {f"svc/{name}": text, "Dockerfile": ASSET_DOCKERFILE})
    index = build_link_index(root, Config(), use_cache=False)
    [link] = [l for l in index.links if l.source == "jib"]
    assert (link.dockerfile, link.context, link.origin, link.builder) == ("", "svc", f"svc/{name}:{line}", "jib")
    assert index.dockerfile_for("registry.example.com/web-site:1.4.2") is None


def test_ko_references_and_skaffold_ko_artifacts(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            ".ko.yaml": "defaultBaseImage: cgr.dev/chainguard/static\n",
            "config/controller.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ctl}\nspec:\n  template:\n    spec:\n"
            "      containers:\n      - name: ctl\n        image: ko://example.com/acme/operator/cmd/controller\n",
            "skaffold.yaml": "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
            "  - image: registry.example.com/web-site\n    ko:\n      main: ./cmd/site\n",
            "web-site/Dockerfile": ASSET_DOCKERFILE,
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        f"{'registry.example.com/web-site':<45}  built by ko, no Dockerfile (context .; skaffold, skaffold.yaml:5)",
        "ko://example.com/acme/operator/cmd/controller  built by ko, no Dockerfile (context .; ko, config/controller.yaml:9)",
    ]
    [finding] = make_engine(root, select=("IV001",), mode="scratch").scan().findings
    assert finding.fix.paths == ("deploy/web.yaml", "assets/web-site/Dockerfile")
    [finding] = make_engine(root, select=("IV001",), mode="auto").scan().findings
    assert finding.fix.paths == ("deploy/web.yaml",)


# --------------------------------------------------------------------------- order


def test_explicit_sources_win_over_ci_and_jib_over_scripts(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  site:\n    image: registry.example.com/web-site\n    build: ./site\n",
            "cloudbuild.yaml": "steps:\n- name: gcr.io/cloud-builders/docker\n"
            "  args: ['build', '-t', 'registry.example.com/web-site', '-f', 'other/Dockerfile', 'other']\n"
            "- name: gcr.io/cloud-builders/docker\n"
            "  args: ['build', '-t', 'registry.example.com/svc', 'other']\n",
            "Makefile": "svc:\n\tdocker build -t registry.example.com/svc other\n",
            "svc/pom.xml": POM.replace("${project.artifactId}", "svc"),
            "site/Dockerfile": ASSET_DOCKERFILE,
            "other/Dockerfile": ASSET_DOCKERFILE,
        },
    )
    index = build_link_index(root, Config(), use_cache=False)
    assert index.dockerfile_for("registry.example.com/web-site:1").source == "compose"
    assert index.dockerfile_for("registry.example.com/svc:1") is None
    assert index.build_for("registry.example.com/svc:1").source == "jib"


PIPELINE = """\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: release
spec:
  params:
  - name: registry
    default: registry.example.com
  workspaces:
  - name: shared
  tasks:
  - name: fetch
    taskRef:
      name: git-clone
  - name: site-image
    runAfter: [fetch]
    taskRef:
      resolver: hub
      params:
      - name: name
        value: kaniko
      - name: version
        value: "0.6"
    params:
    - name: IMAGE
      value: $(params.registry)/web-site:1.4.2
    - name: CONTEXT
      value: site
    workspaces:
    - name: source
      workspace: shared
  - name: api-image
    taskRef:
      name: build-with-kaniko
    params:
    - name: IMAGE
      value: $(params.registry)/api
"""

REPO_TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build-with-kaniko
spec:
  params:
  - name: IMAGE
  - name: SUBDIR
    default: api
  workspaces:
  - name: src
  steps:
  - name: kaniko
    image: gcr.io/kaniko-project/executor:v1.23.2
    command: [/kaniko/executor]
    args: ["--context=/workspace/src/$(params.SUBDIR)", "--destination=$(params.IMAGE)"]
"""


def test_tekton_pipeline_running_the_catalog_kaniko_task_and_a_repository_task(tmp_path: Path, capsys) -> None:
    root = _write(
        tmp_path,
        {
            ".tekton/pipeline.yaml": PIPELINE,
            ".tekton/tasks/kaniko.yaml": REPO_TASK,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "api/Dockerfile": "FROM golang:1.23\n",
            "deploy/web.yaml": _manifest("registry.example.com/web-site:1.4.2"),
        },
    )
    assert _links_lines(root, capsys) == [
        "registry.example.com/web-site:1.4.2  site/Dockerfile (context site; tekton, .tekton/pipeline.yaml:17)",
        "registry.example.com/api             api/Dockerfile (context api; tekton, .tekton/pipeline.yaml:33)",
    ]
    diffs = _scratch_diffs(root)
    assert sorted(diffs) == ["deploy/web.yaml", "site/Dockerfile"]
    assert diffs["site/Dockerfile"].after == "FROM scratch\nCOPY site/ /site/\n"


def test_links_image_names_the_builder_and_the_cache_keeps_dockerless_links(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("migrate_tui.analysis.links.index.CACHE_MIN_ENTRIES", 0)
    root = _write(
        tmp_path,
        {
            "web-site/pom.xml": POM,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "Makefile": "site:\n\tdocker build -t registry.example.com/site site\n",
        },
    )
    capsys.readouterr()
    assert main(["links", "--image", "registry.example.com/web-site:1.4.2", str(root)]) == 0
    assert capsys.readouterr().out == (
        "registry.example.com/web-site:1.4.2 -> built by jib, no Dockerfile (context web-site; jib, web-site/pom.xml:19)\n"
    )
    assert main(["links", "--image", "registry.example.com/web-site:latest", "--format", "json", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["link"] == {
        "image": "registry.example.com/web-site",
        "dockerfile": "",
        "context": "web-site",
        "source": "jib",
        "origin": "web-site/pom.xml:19",
        "target": None,
        "builder": "jib",
    }
    fresh = build_link_index(root, Config())
    cached = build_link_index(root, Config())
    assert cached.from_cache and cached.links == fresh.links and len(fresh.links) == 2
    assert cached.dockerfile_for("registry.example.com/web-site:1.4.2") is None
    assert cached.build_for("registry.example.com/web-site:1.4.2").builder == "jib"


@pytest.mark.parametrize(
    "files",
    [
        {"cloudbuild.yaml": "steps: {name: docker}\n"},
        {"cloudbuild.yaml": "steps:\n- name: gcr.io/cloud-builders/docker\n  args: build -t x .\n"},
        {"cloudbuild.yaml": "steps:\n- name: gcr.io/cloud-builders/docker\n  args: ['build', '-t', \"r.example.com/a\\e]0;x\\a\", '.']\n"},
        {"cloudbuild.json": "[1, 2, 3]\n"},
        {"cloudbuild.json": "{" * 50000},
        {".gitlab-ci.yml": "- just\n- a list\n"},
        {".gitlab-ci.yml": "job:\n  script: {docker: build}\n"},
        {".gitlab-ci.yml": 'job:\n  script:\n  - docker build -t "$CI_REGISTRY_IMAGE" .\n  - docker build -t r.example.com/x ../..\n'},
        {"pom.xml": "<project><build><plugins><plugin><artifactId>jib-maven-plugin</artifactId>" + "<to>" * 20000},
        {"pom.xml": "<plugin><artifactId>jib-maven-plugin</artifactId><to><image>\x1b[31mred</image></to></plugin>"},
        {"build.gradle": "jib { to { image = '" + "a" * 100000},
        {"k.yaml": "kind: Task\nspec:\n  steps:\n  - image: gcr.io/kaniko-project/executor\n    args: ['--destination', '--context']\n"},
        {"docker-bake.json": '{"target": {"x": {"context": "..", "tags": ["r.example.com/x"]}}}'},
        {
            "k.yaml": "kind: Task\nspec:\n  steps:\n  - image: gcr.io/kaniko-project/executor\n"
            "    args: ['--destination=r.example.com/x', '--context=dir://../..']\n"
        },
        {
            "k.yaml": "kind: Task\nspec:\n  steps:\n  - image: gcr.io/kaniko-project/executor\n"
            "    args: ['--destination=r.example.com/x', '--context=$(workspaces.source.path)/../..']\n"
        },
        {
            "p.yaml": "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - taskRef: {name: kaniko}\n"
            "    params: [{name: IMAGE, value: r.example.com/x}, {name: CONTEXT, value: ../..}]\n"
        },
        {
            "p.yaml": "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - taskRef: {name: kaniko}\n"
            "    params: [{name: IMAGE, value: r.example.com/x}, {name: DOCKERFILE, value: /etc/passwd}]\n"
        },
        {"docker-bake.json": '{"target": {"x": {"tags": "r.example.com/x"}}, "variable": []}'},
    ],
)
def test_hostile_build_files_link_nothing(tmp_path: Path, files: dict[str, str]) -> None:
    root = _write(tmp_path / "repo", {**files, "Dockerfile": ASSET_DOCKERFILE})
    _write(tmp_path, {"Dockerfile": ASSET_DOCKERFILE})
    assert build_link_index(root, Config(), use_cache=False).links == []


def test_bake_literal_tag_is_renamed_in_the_bake_file(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "docker-bake.hcl": BAKE_HCL,
            "site/Dockerfile": ASSET_DOCKERFILE,
            "api/Dockerfile": "FROM golang:1.23\n",
            "deploy/web.yaml": _manifest("registry.example.com/web-site:latest"),
        },
    )
    diffs = _scratch_diffs(root)
    assert sorted(diffs) == ["deploy/web.yaml", "docker-bake.hcl", "site/Dockerfile"]
    assert diffs["docker-bake.hcl"].after == BAKE_HCL.replace(
        '"registry.example.com/web-site:latest"', '"registry.example.com/web-site-assets:latest"'
    )
    assert "reference: registry.example.com/web-site-assets:latest" in diffs["deploy/web.yaml"].after


def test_cloudbuild_kaniko_step_and_bash_entrypoint(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "cloudbuild.yaml": "steps:\n"
            "- name: gcr.io/kaniko-project/executor:v1.23.2\n"
            "  args:\n  - --destination=us-docker.pkg.dev/$PROJECT_ID/web/site:$SHORT_SHA\n"
            "  - --dockerfile=site/Dockerfile\n  - --cache=true\n"
            "- name: gcr.io/cloud-builders/docker\n  entrypoint: bash\n"
            "  args: ['-c', 'docker build -t europe-docker.pkg.dev/$PROJECT_ID/web/api:${_V} api && docker push x']\n"
            "substitutions:\n  _V: '2'\n",
            "site/Dockerfile": ASSET_DOCKERFILE,
            "api/Dockerfile": "FROM golang:1.23\n",
        },
    )
    index = build_link_index(root, Config(), use_cache=False)
    assert [(l.image, l.dockerfile, l.context, l.origin) for l in index.links] == [
        ("us-docker.pkg.dev/$PROJECT_ID/web/site:$SHORT_SHA", "site/Dockerfile", ".", "cloudbuild.yaml:3"),
        ("europe-docker.pkg.dev/$PROJECT_ID/web/api:2", "api/Dockerfile", "api", "cloudbuild.yaml:9"),
    ]
    assert index.dockerfile_for("us-docker.pkg.dev/acme/web/site:1").dockerfile == "site/Dockerfile"
    assert index.dockerfile_for("us-docker.pkg.dev/acme/other/site:1") is None


def test_compose_names_with_a_variable_are_not_matched_as_patterns(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "compose.yaml": "services:\n  site:\n    image: registry.example.com/${ORG}/site\n    build: ./web\n",
            "web/Dockerfile": ASSET_DOCKERFILE,
        },
    )
    assert _link(root, "registry.example.com/acme/site:1") is None


# --------------------------------------------------------------------------- never an error

_HCL_PIECES = st.sampled_from(
    [
        'target "a" {',
        "}",
        "{",
        "[",
        "]",
        "(",
        ")",
        ",",
        "=",
        ":",
        "\n",
        '"x"',
        '"${A}"',
        '"${',
        '"\\u00e9"',
        '"\\q"',
        "tags",
        "context",
        "inherits",
        "variable",
        '"A"',
        "default",
        "f(",
        "? ",
        "<<EOT\n",
        "# c\n",
        "/* c */",
        "/*",
        "1.5",
        "true",
        "null",
        '"r.example.com/a:${A}"',
        '["a"]',
        "$${x}",
        "%{ if x }",
        '"\n"',
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(_HCL_PIECES, max_size=40),
    name=st.sampled_from(
        [
            "docker-bake.hcl",
            "docker-bake.json",
            "cloudbuild.yaml",
            "cloudbuild.json",
            ".gitlab-ci.yml",
            "pom.xml",
            "build.gradle",
            "tekton.yaml",
        ]
    ),
)
def test_build_file_readers_never_raise(pieces: list[str], name: str) -> None:
    text = " ".join(pieces)
    if name.endswith(".hcl"):
        assert isinstance(bakehcl.read_bake(name, text), (bakehcl.BakeFile, type(None)))
    collector = link_sources.Collector({"Dockerfile"})
    collector.add(name, text)
    collector.add("kaniko.yaml", "kaniko destination tekton.dev/ ko://\n" + text)
    for links in collector.links().values():
        assert all(link_sources.acceptable(link) for link in links)


def test_a_missing_dockerfile_is_not_linked(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            ".gitlab-ci.yml": "b:\n  script:\n  - docker build -t registry.example.com/web-site -f site/Dockerfile.prod site\n",
            "docker-bake.hcl": 'target "s" {\n  context = "site"\n  dockerfile = "site/Dockerfile"\n  tags = ["registry.example.com/s"]\n}\n',
            "site/Dockerfile": ASSET_DOCKERFILE,
        },
    )
    assert [l.source for l in build_link_index(root, Config(), use_cache=False).links] == ["directory"]


def test_cloudbuild_registry_host_from_a_substitution(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "cloudbuild.yaml": "steps:\n  - name: 'gcr.io/cloud-builders/docker'\n    args:\n      - 'build'\n      - '-t'\n"
            "      - '${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_REPO}/${_IMAGE}:${SHORT_SHA}'\n"
            "      - '--build-arg=PROD=True'\n      - '.'\n"
            "substitutions:\n  _REGION: asia-southeast1\n  _REPO: shop\n  _IMAGE: web-site\n",
            "Dockerfile": ASSET_DOCKERFILE,
        },
    )
    link = _link(root, "asia-southeast1-docker.pkg.dev/acme-prod/shop/web-site:1.4.2")
    assert (link.image, link.dockerfile, link.context, link.origin) == (
        "asia-southeast1-docker.pkg.dev/${PROJECT_ID}/shop/web-site:${SHORT_SHA}",
        "Dockerfile",
        ".",
        "cloudbuild.yaml:3",
    )
    assert _link(root, "europe-docker.pkg.dev/acme-prod/shop/web-site:1") is None


def test_gitlab_job_extending_a_hidden_template(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            ".gitlab-ci.yml": ".docker-build:\n  image: docker:27\n  script:\n"
            '    - docker build -t "$IMAGE:$CI_COMMIT_SHORT_SHA" "$DIR"\n'
            "build-site:\n  extends: .docker-build\n  variables:\n    IMAGE: registry.example.com/web-site\n    DIR: site\n"
            "loop-a:\n  extends: loop-b\nloop-b:\n  extends: [loop-a]\n  script: [docker build -t registry.example.com/loop .]\n",
            "site/Dockerfile": ASSET_DOCKERFILE,
            "Dockerfile": ASSET_DOCKERFILE,
        },
    )
    links = build_link_index(root, Config(), use_cache=False).links
    assert [(l.image, l.dockerfile, l.context, l.origin) for l in links] == [
        ("registry.example.com/web-site:$CI_COMMIT_SHORT_SHA", "site/Dockerfile", "site", ".gitlab-ci.yml:4"),
        ("registry.example.com/loop", "Dockerfile", ".", ".gitlab-ci.yml:14"),  # once, though two jobs run it
    ]


@pytest.mark.parametrize(
    "working_dir, expected",
    [
        ("", "site/Dockerfile"),  # Tekton runs steps in /workspace: the context's Dockerfile
        ("    workingDir: $(workspaces.source.path)\n", "Dockerfile"),  # in the repository: its Dockerfile first
    ],
)
def test_kaniko_finds_a_relative_dockerfile_where_it_runs_first(tmp_path: Path, working_dir: str, expected: str) -> None:
    task = (
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: b}\nspec:\n  workspaces: [{name: source}]\n  steps:\n"
        "  - image: gcr.io/kaniko-project/executor:v1.23.2\n"
        + working_dir
        + "    args: [--context=$(workspaces.source.path)/site, --destination=registry.example.com/web-site]\n"
    )
    root = _write(tmp_path, {"task.yaml": task, "Dockerfile": "FROM alpine\n", "site/Dockerfile": ASSET_DOCKERFILE})
    [link] = [l for l in build_link_index(root, Config(), use_cache=False).links if l.source == "kaniko"]
    assert (link.dockerfile, link.context) == (expected, "site")


def test_bake_target_stage_is_kept_and_an_unknown_stage_links_nothing(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "docker-bake.hcl": 'variable "STAGE" {\n  default = "assets"\n}\n'
            'target "site" {\n  context = "site"\n  target = "${STAGE}"\n  tags = ["registry.example.com/web-site"]\n}\n'
            'target "other" {\n  context = "site"\n  target = lower(STAGE)\n  tags = ["registry.example.com/other"]\n}\n',
            "site/Dockerfile": "FROM busybox AS assets\nCOPY site/ /site/\nFROM nginx\n",
        },
    )
    links = build_link_index(root, Config(), use_cache=False).links
    assert [(l.image, l.dockerfile, l.target, l.origin) for l in links] == [
        ("registry.example.com/web-site", "site/Dockerfile", "assets", "docker-bake.hcl:7")
    ]
