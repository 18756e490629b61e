"""Container image references, parsed and compared the way docker does.

Follows the distribution reference grammar (``github.com/distribution/reference``) and
docker's normalisation: a first path component with a ``.`` or ``:``, or ``localhost``, or any
upper-case letter is a registry host; otherwise the registry is ``docker.io`` and single-name
repositories live under ``library/``. ``index.docker.io`` is the same registry as ``docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TypedDict, Unpack

__all__ = ["DEFAULT_REGISTRY", "ImageRef", "parse_image_ref"]

DEFAULT_REGISTRY = "docker.io"
_LEGACY_REGISTRY = "index.docker.io"
_OFFICIAL_PREFIX = "library/"

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_TAG_RE = re.compile(rf"{_TAG}\Z", re.ASCII)
_DIGEST_RE = re.compile(rf"{_DIGEST}\Z")
_DOMAIN_RE = re.compile(rf"{_DOMAIN}\Z")
_REPOSITORY_RE = re.compile(rf"{_REPOSITORY}\Z")
_TEMPLATED = re.compile(r"\$\{|\{\{|<[^>]*>|\$[A-Za-z_]")
_HEX64 = re.compile(r"[a-f0-9]{64}\Z")
_MAX_NAME = 255


class _RefChanges(TypedDict, total=False):
    tag: str | None
    digest: str | None


@dataclass(frozen=True)
class ImageRef:
    """A normalised image reference. ``tag`` is None when the reference has none."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None
    raw: str

    @property
    def effective_tag(self) -> str | None:
        """The tag docker pulls: the tag, or ``latest`` when neither tag nor digest is given."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    @property
    def name(self) -> str:
        """``registry/repository`` in full (``docker.io/library/nginx``)."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """Docker's short name: ``nginx``, ``bitnami/nginx``, ``ghcr.io/a/b``."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        repo = self.repository
        if repo.startswith(_OFFICIAL_PREFIX) and "/" not in repo[len(_OFFICIAL_PREFIX) :]:
            return repo[len(_OFFICIAL_PREFIX) :]
        return repo

    @property
    def familiar(self) -> str:
        """Docker's short form with tag/digest: ``nginx:1.25``, ``ghcr.io/a/b:1``."""
        return self.familiar_name + self._suffix()

    @property
    def canonical(self) -> str:
        """The fully qualified form: ``docker.io/library/nginx:1.25``."""
        return self.name + self._suffix()

    def __str__(self) -> str:
        return self.raw

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def same_repository(self, other: ImageRef) -> bool:
        """Same registry and repository, whatever the tag or digest."""
        return self.registry == other.registry and self.repository == other.repository

    def matches(self, other: ImageRef) -> bool:
        """Could both references name the same image?

        Same repository, and: when both carry a digest, the digests are equal (tags are then
        only labels); when only one carries a digest, both must name the same tag (a digest
        alone can't be compared with a tag without asking the registry); otherwise the
        effective tags are equal, so ``nginx`` matches ``nginx:latest`` but not
        ``nginx:1.25``. Use ``same_repository`` to ignore tags altogether.
        """
        if not self.same_repository(other):
            return False
        if self.digest and other.digest:
            return self.digest.lower() == other.digest.lower()
        if self.digest or other.digest:
            return self.tag is not None and self.tag == other.tag
        return self.effective_tag == other.effective_tag

    def with_tag(self, tag: str) -> ImageRef:
        """The same repository at ``tag``; any digest is dropped (it named the old tag)."""
        if not _TAG_RE.match(tag):
            raise ValueError(f"invalid tag: {tag!r}")
        return self._derive(tag=tag, digest=None)

    def with_digest(self, digest: str) -> ImageRef:
        """The same reference pinned to ``digest`` (the tag is kept for readers)."""
        if not _DIGEST_RE.match(digest):
            raise ValueError(f"invalid digest: {digest!r}")
        return self._derive(digest=digest)

    def with_repository(self, repository: str) -> ImageRef:
        """Another repository (``ghcr.io/org/assets`` or ``nginx``) keeping tag and digest."""
        target = parse_image_ref(repository)
        if target is None or target.tag is not None or target.digest is not None:
            raise ValueError(f"invalid repository: {repository!r}")
        explicit = _has_explicit_registry(repository)
        return ImageRef(
            target.registry,
            target.repository,
            self.tag,
            self.digest,
            _render(target.registry, target.repository, self.tag, self.digest, explicit),
        )

    def _derive(self, **changes: Unpack[_RefChanges]) -> ImageRef:
        new = replace(self, **changes)
        raw = _render(new.registry, new.repository, new.tag, new.digest, _has_explicit_registry(self.raw))
        return replace(new, raw=raw)


def _has_explicit_registry(ref: str) -> bool:
    first, slash, _ = ref.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost" or first.lower() != first)


def _render(registry: str, repository: str, tag: str | None, digest: str | None, explicit: bool) -> str:
    ref = ImageRef(registry, repository, tag, digest, "")
    return ref.canonical if explicit else ref.familiar


def _split_registry(name: str) -> tuple[str, str]:
    """docker's splitDockerDomain."""
    first, slash, rest = name.partition("/")
    if not slash or not _has_explicit_registry(name):
        registry, remainder = DEFAULT_REGISTRY, name
    else:
        registry, remainder = first, rest
    if registry == _LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return registry, remainder


_SPACE = re.compile(r"\s")  # str.isspace's characters (sre's Unicode \s is Py_UNICODE_ISSPACE)


def parse_image_ref(ref: str) -> ImageRef | None:
    """Parse and normalise ``ref``; None when it is invalid or templated (``${X}``, ``{{ }}``,
    ``<placeholder>``, ``$X``)."""
    raw = ref.strip()
    if not raw or _TEMPLATED.search(raw) or _SPACE.search(raw):
        return None
    name, _, digest = raw.partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name[: len(name) - len(last)] + last.split(":", 1)[0], last.split(":", 1)[1]
        if not _TAG_RE.match(tag):
            return None
    if digest and not _DIGEST_RE.match(digest):
        return None
    if "@" in raw and not digest:
        return None
    if not name or len(name) > _MAX_NAME or _HEX64.match(name):
        return None
    registry, repository = _split_registry(name)
    if registry != DEFAULT_REGISTRY and not _DOMAIN_RE.match(registry):
        return None
    if not _REPOSITORY_RE.match(repository):
        return None
    return ImageRef(registry, repository, tag, digest or None, raw)
