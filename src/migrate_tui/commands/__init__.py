"""Command families with their own module: add_parser(subparsers, common) and run(args) -> int."""

from __future__ import annotations

import argparse
import os
import tempfile
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeAlias

if TYPE_CHECKING:
    # what ArgumentParser.add_subparsers() returns; argparse names it privately and it is generic only in typeshed
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

CommonOptions: TypeAlias = Callable[[argparse.ArgumentParser], None]  # cli.py's options every scanning command takes


class ExitCode(IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    """An output file the user named (a report, a patch): a temp file beside ``path``, fsync'd,
    given ``mode``, then ``os.replace``, so a reader never sees half a file. The temp file is
    removed if anything fails."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
