"""The platform a migration is judged against (docs/architecture.md, "Platform facts").

``--target k8s=1.36,containerd=2.2[,crio=1.33][,gate=on|off][,arch=amd64+arm64]``, the same
string as ``target = "..."`` in the config, or read from a live cluster (``platform.cluster``).

Every ``*_blocker`` method returns ``None`` when the platform can serve the thing, else one
sentence that names the version or gate that would (messages cite it as is).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TypedDict

Version = tuple[int, int]

# The first release where image volumes work with no flag anywhere: ImageVolume on by default
# (1.35), GA (1.36), and containerd 2.2 honours subPath on image volumes.
DEFAULT_TARGET = "k8s=1.36,containerd=2.2"
SCHEMA_VERSIONS: tuple[Version, ...] = tuple((1, minor) for minor in range(25, 38))

# Platform facts (docs/architecture.md), in one place so the messages and the checks agree.
IMAGE_VOLUME_FIELD = (1, 31)  # the API field exists (alpha)
IMAGE_VOLUME_SUBPATH = (1, 33)  # subPath / subPathExpr on image volumes allowed (beta)
IMAGE_VOLUME_DEFAULT_ON = (1, 35)  # gate on by default
IMAGE_VOLUME_GA = (1, 36)  # gate locked on
CONTAINERD_IMAGE_VOLUME = (2, 1)
CONTAINERD_SUBPATH = (2, 2)
CRIO_IMAGE_VOLUME = (1, 31)
CRIO_SUBPATH = (1, 33)


class TargetError(ValueError):
    """A --target string that can't be read; the message is a sentence for the user."""


def parse_version(text: str) -> Version:
    parts = text.strip().lstrip("vV").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        raise TargetError(f"'{text}' is not a version like 1.33") from None
    return major, minor


def fmt(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class Target:
    k8s: Version = (1, 36)
    containerd: Version | None = (2, 2)  # oldest containerd on the nodes; None: no containerd
    crio: Version | None = None  # oldest CRI-O on the nodes; None: no CRI-O
    gate: bool | None = None  # ImageVolume feature gate; None: the version's default
    arch: tuple[str, ...] = field(default=("amd64",))
    source: str = "default"  # where the target came from (flag, config file, cluster context)
    # A runtime with no image-volume support at all (cri-dockerd, or one we don't know).
    other_runtime: str | None = None
    # What the platform reader could not find out and assumed instead (shown to the user).
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def gate_on(self) -> bool:
        """Whether the ImageVolume feature is on: explicit gate, else the version's default."""
        if self.k8s < IMAGE_VOLUME_FIELD:
            return False
        if self.k8s >= IMAGE_VOLUME_GA:
            return True  # GA: the gate is locked on
        if self.gate is not None:
            return self.gate
        return self.k8s >= IMAGE_VOLUME_DEFAULT_ON

    @property
    def runtime(self) -> str:
        names = self.runtimes()
        return " + ".join(names) if names else "an unknown runtime"

    def runtimes(self) -> list[str]:
        names = []
        if self.containerd is not None:
            names.append(f"containerd {fmt(self.containerd)}")
        if self.crio is not None:
            names.append(f"CRI-O {fmt(self.crio)}")
        if self.other_runtime:
            names.append(self.other_runtime)
        return names

    def describe(self) -> str:
        parts = [f"Kubernetes {fmt(self.k8s)}", *self.runtimes()]
        if self.gate is not None and IMAGE_VOLUME_FIELD <= self.k8s < IMAGE_VOLUME_GA:
            parts.append(f"ImageVolume gate {'on' if self.gate else 'off'}")
        return ", ".join(parts)

    def spec(self) -> str:
        """The ``--target`` string that reproduces this target."""
        parts = [f"k8s={fmt(self.k8s)}"]
        if self.containerd is not None:
            parts.append(f"containerd={fmt(self.containerd)}")
        if self.crio is not None:
            parts.append(f"crio={fmt(self.crio)}")
        if self.other_runtime:
            parts.append(f"runtime={self.other_runtime.split()[0]}")
        if self.gate is not None:
            parts.append(f"gate={'on' if self.gate else 'off'}")
        if self.arch:
            parts.append("arch=" + "+".join(self.arch))
        return ",".join(parts)

    def image_volume_blocker(self) -> str | None:
        """Why this platform can't serve an image volume at all, or None."""
        if self.k8s < IMAGE_VOLUME_FIELD:
            return (
                f"Kubernetes {fmt(self.k8s)} has no image volumes (the field exists from 1.31); "
                "the API server rejects the volume (needs Kubernetes 1.35, or 1.31+ with the ImageVolume gate on)"
            )
        if not self.gate_on:
            return (
                f"the ImageVolume feature gate is off by default on Kubernetes {fmt(self.k8s)} (on by default from 1.35); "
                "with the gate off the API server silently drops the volume and the pod starts without it. "
                "Pass --target ...,gate=on if your cluster enables it"
            )
        if self.other_runtime:
            return (
                f"{self.other_runtime} can't mount image volumes "
                f"(needs containerd {fmt(CONTAINERD_IMAGE_VOLUME)} or CRI-O {fmt(CRIO_IMAGE_VOLUME)})"
            )
        if self.crio is not None and self.crio < CRIO_IMAGE_VOLUME:
            return f"CRI-O {fmt(self.crio)} can't mount image volumes (needs CRI-O {fmt(CRIO_IMAGE_VOLUME)})"
        if self.containerd is not None and self.containerd < CONTAINERD_IMAGE_VOLUME:
            return f"containerd {fmt(self.containerd)} can't mount image volumes (needs containerd {fmt(CONTAINERD_IMAGE_VOLUME)})"
        return None

    def subpath_blocker(self) -> str | None:
        """Why an image volume mount with ``subPath`` won't work here, or None."""
        if self.k8s < IMAGE_VOLUME_SUBPATH:
            return f"subPath on image volumes needs Kubernetes 1.33 (target is {fmt(self.k8s)})"
        if self.crio is not None and self.crio < CRIO_SUBPATH:
            return f"CRI-O {fmt(self.crio)} ignores subPath on image volumes and mounts the whole image (needs CRI-O {fmt(CRIO_SUBPATH)})"
        if self.containerd is not None and self.containerd < CONTAINERD_SUBPATH:
            return (
                f"containerd {fmt(self.containerd)} silently ignores subPath on image volumes and mounts the whole "
                f"image (needs containerd {fmt(CONTAINERD_SUBPATH)})"
            )
        return None

    def file_subpath_blocker(self) -> str | None:
        """Why an image volume ``subPath`` naming a FILE won't work here, or None."""
        if self.containerd is not None:
            return "containerd mounts only directory subPaths of image volumes; a file subPath fails to start"
        return None

    def arch_blocker(self, platforms: tuple[str, ...] | list[str]) -> str | None:
        """Why an image offering ``platforms`` (``linux/amd64``...) can't run on every target node."""
        offered = {p.split("/")[1] if "/" in p else p for p in platforms}
        missing = [a for a in self.arch if a not in offered]
        if not missing:
            return None
        return (
            f"the image offers {', '.join(sorted(offered)) or 'no platform'} but the target nodes include "
            f"{', '.join(missing)}: pods scheduled there fail to pull it"
        )

    @property
    def schema_version(self) -> Version:
        """The closest bundled strict schema version."""
        return min(max(self.k8s, SCHEMA_VERSIONS[0]), SCHEMA_VERSIONS[-1])


class TargetChanges(TypedDict, total=False):
    """Target fields read from a target string or a cluster (keyword arguments of ``replace``)."""

    k8s: Version
    containerd: Version | None
    crio: Version | None
    other_runtime: str | None
    gate: bool | None
    arch: tuple[str, ...]


# Naming a runtime replaces all the base's runtimes.
_NO_RUNTIMES: TargetChanges = {"containerd": None, "crio": None, "other_runtime": None}


def parse_target(text: str | None, *, base: Target | None = None, source: str = "--target") -> Target:
    """Read a target string on top of ``base`` (keys not given keep the base's values).

    Naming one runtime replaces the base's runtimes; name two (``containerd=2.1,crio=1.33``)
    for a cluster that runs both, and the older support of the two decides.
    """
    target = base or Target()
    if not text:
        return target
    values: TargetChanges = {}
    runtime_given = False
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise TargetError(f"'{item}' in the target needs a value (e.g. k8s=1.33)")
        if key in ("k8s", "kubernetes", "kube"):
            values["k8s"] = parse_version(value)
        elif key in ("containerd", "crio", "cri-o"):
            if not runtime_given:
                values.update(_NO_RUNTIMES)
                runtime_given = True
            values["crio" if key != "containerd" else "containerd"] = parse_version(value)
        elif key == "runtime":  # a runtime without image-volume support, e.g. runtime=cri-dockerd
            if not runtime_given:
                values.update(_NO_RUNTIMES)
                runtime_given = True
            values["other_runtime"] = value
        elif key == "gate":
            if value.lower() not in ("on", "off", "true", "false"):
                raise TargetError(f"gate={value}: use gate=on or gate=off")
            values["gate"] = value.lower() in ("on", "true")
        elif key == "arch":
            arches = tuple(dict.fromkeys(a for a in value.replace("+", " ").split() if a))
            if not arches:
                raise TargetError("arch= needs one or more architectures, e.g. arch=amd64+arm64")
            values["arch"] = arches
        else:
            raise TargetError(f"unknown target key '{key}' (known: k8s, containerd, crio, runtime, gate, arch)")
    return replace(target, source=source, **values)
