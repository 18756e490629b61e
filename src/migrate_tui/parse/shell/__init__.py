"""The shell model: a Kubernetes container's ``command`` + ``args``, and a Dockerfile ``RUN``, as
classified simple commands.

Rules IV001/IV002 ask one question of an init container: does it only copy files out of its
own image, or does it download, template or change them? DF rules ask what a ``RUN`` installs,
fetches or leaves behind. This package answers without running anything, in stages that each
live in their own module:

- :mod:`.kubelet`: the kubelet's ``$(VAR)`` expansion of ``command`` and ``args``;
- :mod:`.commands.wrappers`: finding the ``sh -c`` script behind launchers (``env``, ``busybox``…);
- :mod:`.syntax`: the script read by tree-sitter-bash (quotes, escapes, comments, continuations,
  redirections, here-documents) into and-or lists of pipelines of simple commands and
  ``while``/``until`` polling loops; anything else (``if``, ``case``, ``for``, functions,
  subshells) makes the whole command opaque rather than half-read (:mod:`.source`: the one
  parser; :mod:`.words`: quoting; :mod:`.diagnose`: why a script can't be read; :mod:`.tokens`:
  the token view ``parse.dockerfile.run`` reads ``RUN`` scripts through);
- :mod:`.walk`: the script run in order: ``$VAR`` expanded only from the container's literal
  ``env`` and the script's own assignments, ``cd`` followed, each command classified once, a
  pipeline given the kind of its most severe member (:data:`PIPELINE_SEVERITY`) and the union of
  its commands' writes, the tar-pipe copy (``tar -C SRC -cf - . | tar -C DEST -xf -``)
  recognised as one COPY;
- :mod:`.commands`: one classifier module per tool family (copies, archives, files, fetchers,
  text tools, nested shells), each an argv -> :class:`~.command.Verdict` function (a kind, a
  typed reason :class:`~.command.Why`, the text for people, the paths read and written, the
  copy), behind the one wrapper table :data:`.commands.wrappers.WRAPPERS`;
  ``commands.classify_words`` adds what redirections read and write, and ``commands.classified``
  makes the :class:`Command` both readers give;
- :mod:`.command`: the results. :class:`Command` is one simple command as written (words with
  offsets, assignments, connector, wrappers) with its classification (``kind``, ``why``,
  ``reads``, ``writes``, ``copy``, ``program``): the walk gives a container's commands as it,
  ``parse.dockerfile.run`` a ``RUN``'s, classified alike. :class:`Op` (a pipeline or waiting
  loop, what IV rules judge) is derived from its commands (``op_of_command``, the walk's fold),
  not classified separately; :class:`CopyOp`; :class:`ParsedCommand`.

It never raises: a script it cannot read is a ``ParsedCommand`` whose ``opaque`` says why.
"""

from __future__ import annotations

from migrate_tui.parse.shell.command import (
    PIPELINE_SEVERITY,
    Command,
    CopyOp,
    Op,
    OpaqueKind,
    OpKind,
    ParsedCommand,
    Why,
    Word,
    op_of_command,
)
from migrate_tui.parse.shell.walk import parse_container_command

__all__ = [
    "PIPELINE_SEVERITY",
    "Command",
    "CopyOp",
    "Op",
    "OpKind",
    "OpaqueKind",
    "ParsedCommand",
    "Why",
    "Word",
    "op_of_command",
    "parse_container_command",
]
