"""File-system safety for exports: safe names, unique names, atomic writes.

Server-supplied names are untrusted: :func:`safe_filename` reduces any string to one plain
file name that cannot leave the directory it is joined to. :class:`UniqueNamer` makes names
unique within an export. :func:`atomic_write` writes through a temporary file in the target's
own directory and renames it into place, so a reader never sees a half-written file.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = [
    "AtomicFile",
    "ScratchFile",
    "UniqueNamer",
    "atomic_write",
    "fsync_dir",
    "fsync_tree",
    "safe_filename",
    "split_ext",
    "write_atomic",
]

_MAX_NAME_BYTES = 200
"""Room for a ``" (NNNN)"`` suffix and the temp-file decoration under the usual 255 limit."""

_FORBIDDEN = set('<>:"|?*\\/')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CONIN$",
    "CONOUT$",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
    *(f"COM{c}" for c in "¹²³"),
    *(f"LPT{c}" for c in "¹²³"),
}


def split_ext(name: str) -> tuple[str, str]:
    """Split ``name`` into stem and extension (``"a.tar.gz"`` -> ``("a.tar", ".gz")``)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= _MAX_NAME_BYTES:
        return name
    stem, ext = split_ext(name)
    if len(ext.encode("utf-8")) > 20:
        stem, ext = name, ""
    budget = _MAX_NAME_BYTES - len(ext.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + ext


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .()+,=@#-]{0,150}[A-Za-z0-9_)]\Z")
"""Names that need no cleaning (ASCII, no separator, no leading/trailing dot or space)."""


def _clean(name: str) -> str:
    if _PLAIN.match(name) and name.split(".", 1)[0].rstrip(" ").upper() not in _RESERVED:
        return name  # the common case, e.g. "img_0000001.jpg"
    # Keep only the last path component, whatever the separator (POSIX or Windows).
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    chars = []
    for ch in name:
        if ch in _FORBIDDEN or unicodedata.category(ch)[0] == "C":
            chars.append("_")
        else:
            chars.append(ch)
    name = "".join(chars).strip(" .")  # no "..", no hidden files, no trailing dots (Windows)
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    name = _truncate(name).strip(" ")
    return name if name.strip("_") else ""


def safe_filename(name: object, *, fallback: str = "file") -> str:
    r"""Reduce an untrusted name to one plain file name that stays inside its directory.

    Rules: directories are stripped (both ``/`` and ``\``, so ``../../etc/passwd`` becomes
    ``passwd`` and ``C:\x.png`` becomes ``x.png``); NUL, control characters and the characters
    Windows forbids (``<>:"|?*``) become ``_``; leading and trailing dots and spaces go (no
    ``..``, no hidden files); Windows device names (``CON``, ``NUL``, ``COM1``, ...) get a ``_``
    prefix; the result is cut to 200 UTF-8 bytes keeping the extension. A name that ends up
    empty (``""``, ``"/"``, ``".."``, None) is replaced by ``fallback`` (itself cleaned the same
    way, then ``"file"``).
    """
    cleaned = _clean(name) if isinstance(name, str) else ""
    if cleaned:
        return cleaned
    return _clean(fallback) or "file"


class _DigestTable:
    """A set of 64-bit digests in one ``array('Q')``: 8 bytes a slot, at most half full.

    About 16 bytes per entry, against about 60 for a ``set`` of ints; linear probing is fine
    because the keys are already uniform hashes. Zero marks an empty slot.
    """

    def __init__(self) -> None:
        self._slots = array.array("Q", bytes(8 * 1024))
        self._count = 0

    def add(self, key: int) -> bool:
        """Insert ``key``; False when it was already there."""
        key = key or 1
        slots = self._slots
        mask = len(slots) - 1
        i = key & mask
        while True:
            found = slots[i]
            if found == key:
                return False
            if not found:
                slots[i] = key
                self._count += 1
                if self._count * 2 > len(slots):
                    self._grow()
                return True
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        self._slots = array.array("Q", bytes(16 * len(old)))
        self._count = 0
        for key in old:
            if key:
                self.add(key)

    def __len__(self) -> int:
        return self._count


class UniqueNamer:
    """Hands out names that are unique within one export, case-insensitively by stem.

    ``claim("a.jpg")`` returns ``a.jpg`` the first time, then ``a (2).jpg``, ``a (3).jpg``...
    Uniqueness is by the case-folded stem, so ``a.jpg`` and ``A.png`` also get distinct stems:
    YOLO and VOC derive one label file per stem (``a.txt``), which must not collide, and the
    export stays valid when copied to a case-insensitive file system.

    Memory is one 8-byte digest per claimed name in a compact table (about 16 bytes each),
    not the names themselves. Two different stems whose 64-bit digests collide (odds about
    n^2 / 2^65) would only cost one needless ``" (2)"`` suffix.
    """

    def __init__(self) -> None:
        self._seen = _DigestTable()

    @staticmethod
    def _key(scope: str, stem: str) -> int:
        digest = hashlib.blake2b(f"{scope}\0{stem.casefold()}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big")

    def claim(self, name: str, scope: str = "") -> str:
        """Return ``name`` or the first free ``"stem (n).ext"``; ``scope`` separates namespaces."""
        stem, ext = split_ext(name)
        candidate, n = name, 1
        while not self._seen.add(self._key(scope, split_ext(candidate)[0])):
            n += 1
            candidate = f"{stem} ({n}){ext}"
        return candidate

    def __len__(self) -> int:
        return len(self._seen)


def _temp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(6)}.tmp"


def _temp_path(path: Path) -> Path:
    return path.with_name(_temp_name(path.name))


@overload
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["w"] = "w", *, durable: bool = False
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["wb"], *, durable: bool = False
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, durable: bool = False
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Write ``path`` atomically: a temp file in the same directory, then ``os.replace``.

    Text mode is UTF-8 with ``newline=""`` (what you write is what lands). If the block raises,
    the temp file is removed and ``path`` is left as it was (absent, or the old version), so
    an interrupted export never leaves a complete-looking half file. Temp names are
    ``.<name>.<random>.tmp``. ``durable=True`` also fsyncs the file before the rename (slower;
    protects against power loss, not needed against crashes). The file gets the usual
    umask-based permissions.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    return _atomic_write(Path(path), mode, durable)


@contextlib.contextmanager
def _atomic_write(final: Path, mode: str, durable: bool) -> Iterator[IO[Any]]:
    target = AtomicFile(final, mode, durable=durable)
    try:
        yield target.handle
    except BaseException:
        target.discard()
        raise
    target.commit()


def write_atomic(
    path: str, data: bytes, *, durable: bool = False, permissions: int = 0o666
) -> None:
    """Write the small file ``path`` with ``data`` atomically, in one ``write`` call.

    The same guarantees and temp names as :func:`atomic_write`, with plain ``os`` calls
    (no Path or text-stream objects): the form for the one-file-per-image outputs (YOLO
    labels, VOC XML), where per-file overhead is most of the export's time, and for small
    state files. ``permissions`` (less the umask) apply from the start: ``0o600`` keeps a
    file with secrets private even before it is complete.
    """
    head, name = os.path.split(path)
    tmp = os.path.join(head, _temp_name(name))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, permissions)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class AtomicFile:
    """A file that appears at ``path`` only when :meth:`commit` is called.

    The long-lived form of :func:`atomic_write`, for outputs streamed over a whole export
    (CSV, JSON Lines): data goes to ``.<name>.<random>.tmp`` beside ``path``; ``commit()``
    closes it and renames it over ``path``; ``discard()`` deletes it. Both are idempotent
    and the first one wins.
    """

    def __init__(
        self, path: str | os.PathLike[str], mode: str = "w", *, durable: bool = False
    ) -> None:
        if mode not in ("w", "wb"):
            raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
        self.path = Path(path)
        self.durable = durable
        self.tmp = _temp_path(self.path)
        self._done = False
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            if mode == "wb":
                self.handle: IO[Any] = os.fdopen(fd, "wb")
            else:
                self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        """Flush, optionally fsync, close and rename into place."""
        if self._done:
            return
        self._done = True
        try:
            self.handle.flush()
            if self.durable:
                os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.path)
        except BaseException:
            self.handle.close()
            self.tmp.unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        """Close and delete the temp file; ``path`` is left untouched."""
        if self._done:
            return
        self._done = True
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


class ScratchFile:
    """A hidden temporary text file in a given directory, for assembling outputs in parts.

    Used where an output must be streamed in pieces and joined at the end (COCO's images and
    annotations arrays, VOC's image-set lists). ``discard()`` removes it; it is idempotent.
    """

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f".{name}.{secrets.token_hex(6)}.part"
        self.handle: IO[str] = open(self.path, "x", encoding="utf-8", newline="")  # noqa: SIM115
        self.count = 0

    def write(self, text: str) -> None:
        """Append ``text`` and count one entry."""
        self.handle.write(text)
        self.count += 1

    def close(self) -> None:
        """Flush and close (the file stays until :meth:`discard`)."""
        if not self.handle.closed:
            self.handle.close()

    def discard(self) -> None:
        """Close and delete the file."""
        self.close()
        self.path.unlink(missing_ok=True)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory to disk, so that names created or renamed in it survive power loss."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: str | os.PathLike[str]) -> int:
    """Flush every file and directory under ``root`` to disk; returns how many were synced.

    Files first, each directory after its entries: what ``durable=True`` does before the
    final rename of an export's staging folder.
    """
    count = 0
    for folder, _dirs, names in os.walk(root, topdown=False):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            count += 1
        fsync_dir(folder)
        count += 1
    return count
