"""Bounded, verified reading of blobs and layers (the parts of an image a stranger controls).

Every blob is read as a stream: its sha256 and its size are checked against the digest and
the descriptor's size that named it while it is read, and the reader refuses to return more
bytes than the descriptor promised. Uncompressed layer content is bounded per image by
``Limits`` (bytes and tar entries), so a decompression bomb stops with a clear error instead
of filling memory or disk.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Callable, Protocol, Self

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

GiB = 1 << 30
MiB = 1 << 20
DEFAULT_MAX_BYTES = 20 * GiB
DEFAULT_MAX_ENTRIES = 1_000_000
DEFAULT_MAX_KEPT = 2 * GiB
MAX_MANIFEST = 4 * MiB  # manifests and indexes
MAX_CONFIG = 16 * MiB  # image configs (JSON; real ones are a few KiB)
MAX_METADATA = 16 * MiB  # one tar header record (PAX / GNU long names): never legitimately large
CHUNK = 1 * MiB
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Readable(Protocol):
    """What a blob, a layer or a file body is read from, then closed: ``BinaryIO``, ``FileIO``,
    ``BytesIO``, a registry ``transport.Response``, and our ``io.RawIOBase`` subclasses."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> object: ...


class RawStream(Readable, Protocol):
    """A ``Readable`` that ``io.BufferedReader`` can wrap and ``with`` can close: ``BytesIO`` and our
    ``io.RawIOBase`` subclasses whose ``read`` returns bytes (``VerifiedReader``), not ``BinaryIO``
    (no ``readinto``). What a layer (``tree.Blob.open``) gives."""

    @property
    def closed(self) -> bool: ...

    def readinto(self, buffer: memoryview, /) -> int | None: ...

    def readable(self) -> bool: ...

    def seekable(self) -> bool: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def truncate(self, size: int | None = None, /) -> int: ...

    def flush(self) -> object: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None, /) -> object: ...


def fill(buffer: WriteableBuffer, read: Callable[[int], bytes]) -> int:
    """``readinto`` for a stream that has ``read``: as many bytes as ``buffer`` holds, or fewer."""
    view = memoryview(buffer)
    data = read(len(view))
    view[: len(data)] = data
    return len(data)


class BlobError(ValueError):
    """A blob that is not what its descriptor said (digest, size) or exceeds a bound."""


@dataclass(frozen=True)
class Limits:
    """Per-image bounds on what layers may expand to (``--max-image-size``, ``--max-image-entries``)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_kept_bytes: int = DEFAULT_MAX_KEPT  # file bodies kept (in memory, or spooled to disk by build), ``--max-copy-size``


def parse_size(text: str) -> int:
    """``20GiB``, ``512MiB``, ``1G``, ``1048576`` → bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"'{text}' is not a size (use e.g. 20GiB, 512MiB or a number of bytes)")
    power = " KMGT".index(match.group(2).upper() or " ")
    return int(match.group(1)) << (10 * power)


def human_size(size: int) -> str:
    for unit, power in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << power and size % (1 << power) == 0:
            return f"{size >> power} {unit}"
    return f"{size} bytes"


def printable(text: object, limit: int = 300) -> str:
    """A string from a registry or an image, safe to print: control characters shown escaped, length capped."""
    text = str(text)[:limit]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def check_digest(digest: object) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise BlobError(f"'{printable(digest, 80)}' is not a sha256 digest")
    return digest


class VerifiedReader(io.RawIOBase):
    """A read-only stream over ``raw`` that enforces ``digest`` and ``size`` of what it yields.

    Reading past ``size`` (or ``limit`` when the size is unknown) raises; reaching the end
    with the wrong length or the wrong sha256 raises. ``finish()`` drains what is left (within
    the bound) and checks, so a caller that stopped early still learns the blob was wrong.
    """

    def __init__(self, raw: Readable, digest: str, size: int | None, *, limit: int, what: str) -> None:
        super().__init__()
        self.raw = raw
        self.digest = check_digest(digest)
        self.size = size
        self.limit = size if size is not None else limit
        self.what = what
        self.count = 0
        self._hash = hashlib.sha256()
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        if n is None or n < 0:
            parts: list[bytes] = []
            while chunk := self.read(CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        # ask for one byte more than allowed, so an over-long blob is noticed here
        want = min(n, self.limit - self.count + 1)
        data = self.raw.read(want) if want > 0 else b""
        self.count += len(data)
        if self.count > self.limit:
            if self.size is not None:
                raise BlobError(f"{self.what} {self.digest} is larger than its descriptor's {self.size} bytes")
            raise BlobError(f"{self.what} {self.digest} is larger than {human_size(self.limit)}")
        self._hash.update(data)
        if not data and n > 0:
            self._check_end()
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        return fill(buffer, self.read)

    def _check_end(self) -> None:
        self._done = True
        if self.size is not None and self.count != self.size:
            raise BlobError(f"{self.what} {self.digest} has {self.count} bytes, its descriptor says {self.size}")
        if "sha256:" + self._hash.hexdigest() != self.digest:
            raise BlobError(f"{self.what} {self.digest} does not match its digest")

    def finish(self) -> None:
        while not self._done:
            self.read(CHUNK)

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


def read_verified(raw: Readable, digest: str, size: int | None, *, limit: int, what: str) -> bytes:
    with VerifiedReader(raw, digest, size, limit=limit, what=what) as reader:
        data = reader.read()
        reader.finish()
    return data
