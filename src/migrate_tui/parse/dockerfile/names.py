"""Which file names are Dockerfiles: the one test discovery, links and rules all use.

A Dockerfile is ``Dockerfile`` or ``Containerfile`` (any case), ``Dockerfile.<variant>`` /
``Containerfile.<variant>``, or ``<name>.Dockerfile`` / ``<name>.Containerfile``. Siblings that
only carry the name are not: build-context ignore files (``Dockerfile.dockerignore``,
``app.Dockerfile.dockerignore``, BuildKit reads those beside the Dockerfile), documentation and
editor/merge leftovers (``Dockerfile.md``, ``Dockerfile.orig``, ``Dockerfile.swp``) and templates
that must be rendered before they are a Dockerfile (``Dockerfile.j2``, ``Dockerfile.template``).
"""

from __future__ import annotations

__all__ = ["NOT_DOCKERFILE_SUFFIXES", "is_dockerfile_name"]

#: Last name components that make ``Dockerfile.<suffix>`` something other than a Dockerfile.
NOT_DOCKERFILE_SUFFIXES = frozenset(
    {
        # build-context ignore files
        "dockerignore",
        "containerignore",
        # documentation
        "md",
        "markdown",
        "txt",
        "rst",
        "adoc",
        "html",
        # editor, merge and patch leftovers
        "orig",
        "bak",
        "swp",
        "swo",
        "rej",
        "patch",
        "diff",
        "old",
        "tmp",
        # templates (not a Dockerfile until rendered)
        "j2",
        "jinja",
        "jinja2",
        "tmpl",
        "tpl",
        "template",
        "gotmpl",
        "mustache",
        "erb",
    }
)


def is_dockerfile_name(name: str) -> bool:
    """True for a path or file name that names a Dockerfile (see the module docstring)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if base in ("dockerfile", "containerfile"):
        return True
    if "." not in base:
        return False
    suffix = base.rsplit(".", 1)[1]
    if not suffix or suffix in NOT_DOCKERFILE_SUFFIXES:
        return False
    if base.endswith((".dockerfile", ".containerfile")):
        return base not in (".dockerfile", ".containerfile")
    return base.startswith(("dockerfile.", "containerfile."))
