"""Typed reasons: why a fix is blocked (:class:`Blocker`) and what a reader should know
(:class:`Note`). Code decides on ``kind``; ``text`` is only for people, so rewording a message
never changes behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class BlockerKind(Enum):
    """Why an init-copy rewrite can't be written as it stands."""

    UNREADABLE_COMMAND = "unreadable-command"  # the shell can't be analysed (if/for/functions...)
    CONDITIONAL_COPY = "conditional-copy"  # a copy right of ||
    UNRESOLVED_PATH = "unresolved-path"  # a path comes from a variable
    GLOB_PATTERN = "glob-pattern"  # a glob that selects files migrate-tui can't list
    FILTERED_COPY = "filtered-copy"  # --exclude, --chmod, -L... while copying
    VOLUME_IN_SOURCE = "volume-in-source"  # a volume is mounted at, above or inside a copy source
    VOLUME_IN_DESTINATION = "volume-in-destination"  # a volume mounted inside the destination
    SOURCE_CHANGED = "source-changed"  # an earlier command changed the copy source
    MODE_CHANGE = "mode-change"  # chmod/chown/chgrp of the copied tree (scratch mode can fold it)
    CHANGES_COPY = "changes-copy"  # another command changes the copied tree
    OPAQUE_COMMAND = "opaque-command"  # a program migrate-tui can't see into
    NO_READER = "no-reader"  # nothing else in the object mounts the volume
    LATER_WRITER = "later-writer"  # a later init container may change the tree
    UNPACKED_ARCHIVE = "unpacked-archive"  # a .war/.ear a servlet container unpacks beside it
    EXECUTED_FILE = "executed-file"  # a reader executes a file from the volume
    NO_IMAGE = "no-image"  # the init container names no image
    DUPLICATE_NAME = "duplicate-name"  # two volumes or containers share a name
    READER_NESTED_MOUNT = "reader-nested-mount"  # a reader mounts another volume inside the copy
    RENAMED_FILE = "renamed-file"  # a single file copied under a new name
    MERGED_TREES = "merged-trees"  # two sources merged into one directory
    NESTED_COPIES = "nested-copies"  # copies land inside each other
    UNFILLED_PART = "unfilled-part"  # a reader mounts a part the copy doesn't fill
    MOUNT_AT_ROOT = "mount-at-root"  # an image volume can't be mounted at /
    ASSET_IMAGE = "asset-image"  # the asset side (scratch mode) can't be planned
    PLATFORM = "platform"  # the target platform can't serve the mount
    CONTROL_CHARACTERS = "control-characters"  # a path or name the fix would write holds control characters
    INVALID_REFERENCE = "invalid-reference"  # the image reference the fix would write is not a valid OCI reference
    OPERATOR_MERGED = "operator-merged"  # an operator merges the pod template with containers the manifest doesn't show
    IMAGE_RUN_ELSEWHERE = "image-run-elsewhere"  # a copier image's default command is not used: another workload runs the image
    IMAGE_ENV_UNKNOWN = "image-env-unknown"  # a copier image's command reads variables from a Secret/ConfigMap/downward API
    IMAGE_COMMAND_NOT_A_COPY = "image-command-not-a-copy"  # the image's default command does more than copy files


#: Why a copier image's default command does not stand in for an init container's command
#: (rules/_imagecommand.py): IV002 says so next to "no command".
IMAGE_DEFAULT_BLOCKERS = frozenset({BlockerKind.IMAGE_RUN_ELSEWHERE, BlockerKind.IMAGE_ENV_UNKNOWN, BlockerKind.IMAGE_COMMAND_NOT_A_COPY})

#: Blockers that a purpose-built asset image (scratch mode) solves: the mount can't express
#: the tree, but an image whose root is the volume can.
MOUNT_SHAPE_BLOCKERS = frozenset({BlockerKind.RENAMED_FILE, BlockerKind.MERGED_TREES, BlockerKind.NESTED_COPIES})


@dataclass(frozen=True)
class Blocker:
    kind: BlockerKind
    text: str
    command: str = ""  # the shell command it is about, as written ("" when none)


class NoteKind(Enum):
    MEMORY_MEDIUM = "memory-medium"
    SIBLING_FILES = "sibling-files"  # containerd mounts only directories
    DOT_FILES = "dot-files"  # a * glob skipped dot-files; the mount shows them
    PARTIAL_VIEW = "partial-view"  # the reader now sees part of its mount from the image volume
    SUPPLY_CHAIN = "supply-chain"
    ASSET = "asset"  # from the asset-image plan
    SOURCE_SHAPE = "source-shape"  # what a fix assumes about the image it can't read (a directory, not a symlink)
    IMAGE_COMMAND = "image-command"  # the init container sets no command: the copy is its image's default command


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    text: str


def texts(items: list[Blocker] | list[Note]) -> list[str]:
    """The distinct texts, in order."""
    return list(dict.fromkeys(item.text for item in items))
