"""What a container runs when its image supplies the command: the image's ``Entrypoint``/``Cmd``,
``Env`` and ``WorkingDir`` (from the image config, or from the Dockerfile that builds it)
combined with the container's ``command``/``args``/``env``/``workingDir`` the way Kubernetes
does it:

- ``command`` replaces the image's ``Entrypoint`` and drops its ``Cmd``;
- ``args`` replaces the ``Cmd`` (the ``Entrypoint`` stays);
- neither: ``Entrypoint`` + ``Cmd``;
- the container's ``env`` overrides the image's ``Env`` by name; a variable whose value comes
  from a Secret, a ConfigMap or the downward API (``valueFrom``, ``envFrom``) is unknown here;
- ``workingDir`` overrides the image's ``WorkingDir``.

The kubelet's ``$(VAR)`` expansion applies only to the container's own ``command``/``args``
and reads only the container's ``env``; words from the image reach the shell as they are (they
are escaped before the shell model's kubelet step).

Pure functions over plain dicts, shared by IV001 (defaults read from the linked Dockerfile) and
``verify`` (defaults read from the image config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from migrate_tui.model.reasons import Blocker
from migrate_tui.parse.shell import ParsedCommand, parse_container_command


@dataclass(frozen=True)
class ImageDefault:
    """What an image runs by default, as its config (or its Dockerfile) says."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[tuple[str, str | None], ...]  # None: a value not known here (a build argument)
    workdir: str | None
    origin: str  # "assets/Dockerfile line 10" or "the image config of R", for messages
    assumed: bool = False  # read from the Dockerfile that builds the image, not from the image itself


#: container -> its image's default command; a Blocker when the image is known but its default
#: can't stand in for the container's command (typed reason); None when nothing is known (the
#: container's own command alone, as before).
ImageDefaults = Callable[[dict[str, Any]], "ImageDefault | Blocker | None"]


@dataclass(frozen=True)
class ImageRun:
    """The argv a container runs, with the environment and directory it runs in."""

    argv: tuple[str, ...]
    env: dict[str, str]
    workdir: str | None
    from_image: bool  # the argv (or part of it) comes from the image, not from the pod
    unknown: tuple[str, ...]  # variables whose value comes from a Secret/ConfigMap/downward API


def _words(value: object) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def container_env(container: dict[str, Any], image_env: tuple[tuple[str, str | None], ...] = ()) -> tuple[dict[str, str], tuple[str, ...]]:
    """(known variables, names whose values are unknown): the image's ``Env`` overridden by the
    container's ``env`` in order; ``valueFrom`` entries and every ``envFrom`` make values unknown."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for name, value in image_env:
        if value is None:
            unknown.append(name)
        else:
            known[name] = value
    if isinstance(container.get("envFrom"), list) and container.get("envFrom"):
        # a ConfigMap/Secret may set any variable, over the image's; the pod's env still wins
        unknown += list(known) + ["*"]
        known = {}
    declared = container.get("env")
    for item in declared if isinstance(declared, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        if "value" in item and item.get("valueFrom") is None:
            known[name] = str(item["value"])
            unknown = [u for u in unknown if u != name]
        else:
            known.pop(name, None)
            unknown.append(name)
    return known, tuple(dict.fromkeys(unknown))


def image_run(container: dict[str, Any], default: ImageDefault) -> ImageRun:
    """The Kubernetes combination of ``container`` with its image's ``default``."""
    command = _words(container.get("command"))
    args = _words(container.get("args"))
    env, unknown = container_env(container, default.env)
    if command is not None:
        argv = tuple(command) + tuple(args or ())
        from_image = False
    elif args is not None:
        argv = default.entrypoint + tuple(args)
        from_image = bool(default.entrypoint)
    else:
        argv = default.entrypoint + default.cmd
        from_image = True
    working_dir = container.get("workingDir")
    workdir = str(working_dir) if working_dir else default.workdir
    return ImageRun(argv, env, workdir, from_image, unknown)


def parse_image_run(container: dict[str, Any], default: ImageDefault) -> ParsedCommand:
    """``container``'s command as the shell model reads it, its image's default filled in.

    Words that come from the pod keep the kubelet's ``$(VAR)`` expansion (over the pod's own
    ``env`` only); the shell then sees the image's ``Env`` too."""
    run = image_run(container, default)
    pod_env, _ = container_env(container)
    command = _words(container.get("command"))
    args = _words(container.get("args"))
    pod_words = (command or []) + (args or [])
    if any("$(" in w for w in pod_words) and run.env != pod_env:
        # $(VAR) in the pod's words expands over the pod's env only; the image's env can't be passed too
        env = pod_env
    else:
        env = run.env
    if command is not None:
        return parse_container_command(command, args, run.workdir, env)
    # the kubelet never expands the image's words: `$$` is how its expansion keeps a `$`
    image_words = [w.replace("$", "$$") for w in (default.entrypoint if args is not None else default.entrypoint + default.cmd)]
    argv = image_words + (args or [])
    return parse_container_command(argv or None, None, run.workdir, env)


def from_image_config(config: dict[str, Any], origin: str) -> ImageDefault:
    """The default command of an image from its OCI config (``config.Entrypoint``/``Cmd``/``Env``/``WorkingDir``)."""
    inner = config.get("config") if isinstance(config, dict) else None
    inner = inner if isinstance(inner, dict) else {}

    def strings(key: str) -> tuple[str, ...]:
        value = inner.get(key)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    env: list[tuple[str, str | None]] = []
    for item in strings("Env"):
        name, sep, value = item.partition("=")
        if sep and name:
            env.append((name, value))
    workdir = inner.get("WorkingDir")
    return ImageDefault(
        strings("Entrypoint"), strings("Cmd"), tuple(env), str(workdir) if isinstance(workdir, str) and workdir else None, origin
    )
