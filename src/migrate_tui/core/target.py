"""The platform a migration is judged against (DESIGN.md §4a).

``--target k8s=1.36,containerd=2.2[,crio=1.33][,gate=on|off][,arch=amd64+arm64]``
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

Version = tuple[int, int]

DEFAULT_TARGET = "k8s=1.36,containerd=2.2"
SCHEMA_VERSIONS: tuple[Version, ...] = tuple((1, minor) for minor in range(25, 38))


class TargetError(ValueError):
    """A --target string that can't be read; the message is a sentence for the user."""


def parse_version(text: str) -> Version:
    parts = text.strip().lstrip("v").split(".")
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
    containerd: Version | None = (2, 2)
    crio: Version | None = None
    gate: bool | None = None  # None: the version's default
    arch: tuple[str, ...] = field(default=("amd64",))
    source: str = "default"  # where the target came from (flag, config, cluster)

    @property
    def gate_on(self) -> bool:
        """Whether the ImageVolume feature is on: explicit gate, else the version's default."""
        if self.k8s < (1, 31):
            return False
        if self.gate is not None:
            return self.gate
        return self.k8s >= (1, 35)

    @property
    def runtime(self) -> str:
        if self.crio is not None:
            return f"CRI-O {fmt(self.crio)}"
        if self.containerd is not None:
            return f"containerd {fmt(self.containerd)}"
        return "an unknown runtime"

    def describe(self) -> str:
        parts = [f"Kubernetes {fmt(self.k8s)}"]
        if self.containerd is not None:
            parts.append(f"containerd {fmt(self.containerd)}")
        if self.crio is not None:
            parts.append(f"CRI-O {fmt(self.crio)}")
        if self.gate is not None:
            parts.append(f"ImageVolume gate {'on' if self.gate else 'off'}")
        return ", ".join(parts)

    def image_volume_blocker(self) -> str | None:
        """Why this platform can't serve an image volume at all, or None."""
        if self.k8s < (1, 31):
            return f"Kubernetes {fmt(self.k8s)} has no image volumes (alpha from 1.31); the API server rejects the field"
        if not self.gate_on:
            return (
                f"the ImageVolume feature gate is off by default on Kubernetes {fmt(self.k8s)} (on by default from 1.35); "
                "with the gate off the API server silently drops the volume and the pod starts without it. "
                "Pass --target ...,gate=on if your cluster enables it"
            )
        if self.crio is not None and self.crio < (1, 31):
            return f"CRI-O {fmt(self.crio)} can't mount image volumes (needs 1.31)"
        if self.crio is None and self.containerd is not None and self.containerd < (2, 1):
            return f"containerd {fmt(self.containerd)} can't mount image volumes (needs 2.1)"
        return None

    def subpath_blocker(self) -> str | None:
        """Why an image volume mount with ``subPath`` won't work here, or None."""
        if self.k8s < (1, 33):
            return f"subPath on image volumes needs Kubernetes 1.33 (target is {fmt(self.k8s)})"
        if self.crio is not None and self.crio < (1, 33):
            return f"CRI-O {fmt(self.crio)} ignores subPath on image volumes (needs 1.33)"
        if self.crio is None and self.containerd is not None and self.containerd < (2, 2):
            return (
                f"containerd {fmt(self.containerd)} silently ignores subPath on image volumes and mounts the whole "
                "image (needs containerd 2.2)"
            )
        return None

    @property
    def schema_version(self) -> Version:
        """The closest bundled strict schema version."""
        return min(max(self.k8s, SCHEMA_VERSIONS[0]), SCHEMA_VERSIONS[-1])


def parse_target(text: str | None, *, base: Target | None = None, source: str = "--target") -> Target:
    target = base or Target()
    if not text:
        return target
    values: dict = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise TargetError(f"'{item}' in the target needs a value (e.g. k8s=1.33)")
        if key in ("k8s", "kubernetes", "kube"):
            values["k8s"] = parse_version(value)
        elif key == "containerd":
            values["containerd"] = parse_version(value)
            values.setdefault("crio", None)
        elif key in ("crio", "cri-o"):
            values["crio"] = parse_version(value)
            values.setdefault("containerd", None)
        elif key == "gate":
            if value.lower() not in ("on", "off", "true", "false"):
                raise TargetError(f"gate={value}: use gate=on or gate=off")
            values["gate"] = value.lower() in ("on", "true")
        elif key == "arch":
            values["arch"] = tuple(a for a in value.replace("+", " ").split() if a)
        else:
            raise TargetError(f"unknown target key '{key}' (known: k8s, containerd, crio, gate, arch)")
    return replace(target, source=source, **values)
