"""Tests for migrate_tui.parse.imageref, with docker's normalisation examples."""

from __future__ import annotations

import pytest

from migrate_tui.parse.imageref import ImageRef, parse_image_ref

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64


def ref(text: str) -> ImageRef:
    parsed = parse_image_ref(text)
    assert parsed is not None, text
    return parsed


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("bitnami/nginx:1.25-debian", "docker.io", "bitnami/nginx", "1.25-debian", None),
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/team/app:dev", "localhost:5000", "team/app", "dev", None),
        ("registry.example.com:443/a/b/c", "registry.example.com:443", "a/b/c", None, None),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None),
        ("Docker.Registry/app", "Docker.Registry", "app", None, None),
        ("busybox@" + DIGEST, "docker.io", "library/busybox", None, DIGEST),
        ("busybox:1.38.0@" + DIGEST, "docker.io", "library/busybox", "1.38.0", DIGEST),
        ("gcr.io/distroless/cc-debian13:nonroot@" + DIGEST, "gcr.io", "distroless/cc-debian13", "nonroot", DIGEST),
        ("foo_bar.baz__qux-x--y", "docker.io", "library/foo_bar.baz__qux-x--y", None, None),
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),
    ],
)
def test_normalisation(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    parsed = ref(text)
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == (registry, repository, tag, digest)
    assert parsed.raw == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NGINX",
        "library/Nginx",
        "nginx:",
        "nginx:-bad",
        "nginx@sha256:abc",
        "nginx@",
        "a" * 64,
        "foo//bar",
        "-foo",
        "foo-",
        "foo__-bar",
        "nginx:" + "x" * 129,
        "${BASE}",
        "node:${node_version}",
        "{{ .Values.image }}",
        "<DOCKER_REPO>/app:latest",
        "$IMAGE",
        "nginx 1.25",
        "http://ghcr.io/a",
        "ghcr.io/a:b:c",
    ],
)
def test_invalid_or_templated(text: str) -> None:
    assert parse_image_ref(text) is None


@pytest.mark.parametrize(
    ("text", "familiar", "canonical"),
    [
        ("nginx", "nginx", "docker.io/library/nginx"),
        ("docker.io/library/nginx:1.25", "nginx:1.25", "docker.io/library/nginx:1.25"),
        ("docker.io/bitnami/nginx", "bitnami/nginx", "docker.io/bitnami/nginx"),
        ("docker.io/library/a/b", "library/a/b", "docker.io/library/a/b"),
        ("ghcr.io/a/b:1", "ghcr.io/a/b:1", "ghcr.io/a/b:1"),
    ],
)
def test_familiar_and_canonical(text: str, familiar: str, canonical: str) -> None:
    assert ref(text).familiar == familiar
    assert ref(text).canonical == canonical


def test_effective_tag() -> None:
    assert ref("nginx").effective_tag == "latest"
    assert ref("nginx:1.25").effective_tag == "1.25"
    assert ref("nginx@" + DIGEST).effective_tag is None


def test_same_repository_ignores_tags_and_spelling() -> None:
    assert ref("nginx:1").same_repository(ref("docker.io/library/nginx@" + DIGEST))
    assert not ref("nginx").same_repository(ref("ghcr.io/library/nginx"))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("nginx", "nginx:latest", True),
        ("nginx", "nginx:1.25", False),
        ("nginx:1.25", "index.docker.io/library/nginx:1.25", True),
        ("nginx:1.25@" + DIGEST, "nginx:1.26@" + DIGEST, True),
        ("nginx@" + DIGEST, "nginx@" + OTHER_DIGEST, False),
        ("nginx:1.25@" + DIGEST, "nginx:1.25", True),
        ("nginx@" + DIGEST, "nginx:1.25", False),
        ("nginx:1.25", "bitnami/nginx:1.25", False),
    ],
)
def test_matches(a: str, b: str, expected: bool) -> None:
    assert ref(a).matches(ref(b)) is expected
    assert ref(b).matches(ref(a)) is expected


def test_with_tag_digest_repository() -> None:
    pinned = ref("nginx:1.25@" + DIGEST)
    retagged = pinned.with_tag("1.27")
    assert (retagged.tag, retagged.digest, retagged.raw) == ("1.27", None, "nginx:1.27")
    assert ref("ghcr.io/a/b:1").with_digest(DIGEST).raw == f"ghcr.io/a/b:1@{DIGEST}"
    moved = ref("nginx:1.25").with_repository("ghcr.io/org/nginx-assets")
    assert (moved.registry, moved.repository, moved.raw) == ("ghcr.io", "org/nginx-assets", "ghcr.io/org/nginx-assets:1.25")
    assert ref("ghcr.io/a/b:1").with_repository("busybox").raw == "busybox:1"
    with pytest.raises(ValueError):
        pinned.with_tag("-bad")
    with pytest.raises(ValueError):
        pinned.with_digest("sha256:xyz")
    with pytest.raises(ValueError):
        pinned.with_repository("nginx:1")


def test_frozen_and_hashable() -> None:
    assert len({ref("nginx:1"), ref("nginx:1")}) == 1
