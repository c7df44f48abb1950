"""The raw archive: every fetched body stored once, by its SHA-256, so everything can be
re-parsed offline, and an index of what each body is, so that a lost or damaged warehouse can
be rebuilt from the archive alone (``gongkai reparse --rebuild``).

- Bodies are appended to *packs*, ``packs/<time>-<id>.pack``: each process that stores bodies
  writes a pack of its own (a new one past :data:`PACK_LIMIT` bytes) and never touches another.
  A record is a header line ``gongkai-body <sha256> <length>`` followed by the body and a
  newline. One file for a run's bodies, not one file each: creating a file costs the kernel
  far more than appending to one, and a run's bodies are flushed to disk together.
- :meth:`RawArchive.sync` flushes the pack to disk (fsync), and its name when it is new;
  :meth:`RawArchive.record` syncs before it appends to the index, so neither the index nor the
  fetch log (written after it) names a body that a power cut lost. A cut can only damage a
  pack past its last flush, and no reader takes those bytes for a body.
- A reader finds a body by the headers of the packs (read once, then as the packs grow); a
  body stored as a file of its own, ``<ab>/<sha256>`` (the layout of archives written before
  packs), is read too. Reading checks the digest: a body whose bytes no longer match its name
  is reported as damaged (:class:`ArchiveError`), never returned, and storing it again writes a
  whole copy. Bytes in a pack that are no record are reported and skipped, never rewritten.
- ``index.jsonl`` holds one line per body fetched or loaded (URL, kind, source, validators,
  time); lines are appended and flushed as they come, so a killed run keeps its record.
- Temporary files left by a killed run of the older layout are removed by
  :meth:`RawArchive.clean_temporary`.

>>> import tempfile, pathlib
>>> a = RawArchive(pathlib.Path(tempfile.mkdtemp()))
>>> sha = a.put(b"hello")
>>> a.get(sha), a.put(b"hello") == sha, RawArchive(a.root).get(sha)
(b'hello', True, b'hello')
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

INDEX_FILE = "index.jsonl"
PACKS_DIR = "packs"
PACK_SUFFIX = ".pack"
PACK_LIMIT = 1 << 30  # bytes: a writer begins a new pack once its pack holds this much
_MAGIC = b"gongkai-body "
_HEADER_RE = re.compile(rb"gongkai-body ([0-9a-f]{64}) ([0-9]{1,15})\n")
_HEADER_MAX = len(_MAGIC) + 64 + 1 + 15 + 1
_SEEK_CHUNK = 1 << 20  # bytes read at a time when looking past damaged bytes for the next record
_TEMP_PREFIX = ".tmp-"
_STALE_SECONDS = 3600.0
_RECENT = 64  # bodies kept in memory after being stored (the crawl reads each page back at once)


class ArchiveError(Exception):
    """A body is missing from the archive or damaged; the message says which."""


@dataclass(frozen=True)
class IndexEntry:
    """What one archived body is: where it came from and the validators it was served with."""

    sha256: str
    url: str  # the URL requested (or the resolved path of a loaded file)
    kind: str  # robots | list | report | attachment | file
    final_url: str | None = None  # after redirects
    source_name: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    fetched_at: str | None = None  # ISO 8601, UTC


class _Place(NamedTuple):
    """Where a body lies in a pack (a tuple: a reader keeps one per body)."""

    pack: str  # the pack's file name
    offset: int  # of the body's first byte
    length: int


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, parts: tuple[bytes, ...]) -> None:
    """Write the parts in one call where the kernel takes them all (it nearly always does)."""
    written = os.writev(fd, parts)
    rest = b"".join(parts)[written:] if written < sum(map(len, parts)) else b""
    view = memoryview(rest)
    while view:
        view = view[os.write(fd, view):]


class _Packs:
    """The bodies of one archive's packs, by digest, as far as each pack has been read; shared
    by every :class:`RawArchive` of the folder in this process (a parse worker opens one per
    report)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.RLock()
        self.places: dict[str, list[_Place]] = {}
        self.read_to: dict[str, int] = {}  # pack name → offset up to which its records are known
        self.reported: set[tuple[str, int]] = set()  # damaged stretches already reported

    def add(self, sha256: str, place: _Place) -> None:
        self.places.setdefault(sha256, []).append(place)

    def refresh(self) -> None:
        """Read the records that packs gained since the last look (new packs included)."""
        with self.lock:
            try:
                entries = [(e.name, e.stat().st_size) for e in os.scandir(self.folder)
                           if e.name.endswith(PACK_SUFFIX) and e.is_file()]
            except OSError:  # no packs yet
                entries = []
            present = dict(entries)
            for name in [n for n in self.read_to if present.get(n, -1) < self.read_to[n]]:
                self._forget(name)  # removed or cut short since it was read (by someone else)
            for name, size in sorted(entries):
                if size > self.read_to.get(name, 0):
                    self._read(name, size)

    def _forget(self, name: str) -> None:
        del self.read_to[name]
        for sha in list(self.places):
            kept = [p for p in self.places[sha] if p.pack != name]
            if kept:
                self.places[sha] = kept
            else:
                del self.places[sha]

    def _read(self, name: str, size: int) -> None:
        pos = self.read_to.get(name, 0)
        try:
            fd = os.open(self.folder / name, os.O_RDONLY)
        except OSError as exc:
            log.warning("the archive pack %s cannot be read: %s", self.folder / name, exc.strerror or exc)
            return
        pread, match = os.pread, _HEADER_RE.match
        try:
            while pos < size:
                head = pread(fd, _HEADER_MAX, pos)
                m = match(head)
                if m is None:
                    if _MAGIC.startswith(head[:len(_MAGIC)]) and b"\n" not in head and pos + len(head) >= size:
                        break  # a record still being written (or cut short by a power cut): not a body yet
                    pos = self._past_damage(fd, name, pos, size)
                    continue
                start, length = pos + m.end(), int(m.group(2))
                end = start + length + 1
                if end > size:
                    break  # the body is still being written (or was cut short): not a body yet
                if pread(fd, 1, end - 1) != b"\n":
                    pos = self._past_damage(fd, name, pos, size)
                    continue
                self.add(m.group(1).decode(), _Place(name, start, length))
                pos = end
        except OSError as exc:
            log.warning("the archive pack %s cannot be read past byte %d: %s", self.folder / name, pos,
                        exc.strerror or exc)
        finally:
            os.close(fd)
        self.read_to[name] = pos

    def _past_damage(self, fd: int, name: str, pos: int, size: int) -> int:
        """The offset of the next record after bytes at ``pos`` that are no record (reported once)."""
        at = pos + 1
        found = size
        while at < size:
            chunk = os.pread(fd, _SEEK_CHUNK + len(_MAGIC), at)
            i = chunk.find(b"\n" + _MAGIC)
            if i >= 0:
                found = at + i + 1
                break
            at += _SEEK_CHUNK
        if (name, pos) not in self.reported:
            self.reported.add((name, pos))
            log.warning("the archive pack %s is damaged: bytes %d–%d are no body record (skipped; the file "
                        "is left as it is)", self.folder / name, pos, found)
        return found


_PACKS: dict[str, _Packs] = {}
_PACKS_LOCK = threading.Lock()


def _packs_of(root: Path) -> _Packs:
    key = os.path.abspath(root)
    with _PACKS_LOCK:
        packs = _PACKS.get(key)
        if packs is None:
            packs = _PACKS[key] = _Packs(Path(key) / PACKS_DIR)
        return packs


def _after_fork() -> None:  # a lock a thread of the parent held stays held in the child: new ones
    global _PACKS_LOCK
    _PACKS_LOCK = threading.Lock()
    for packs in _PACKS.values():
        packs.lock = threading.RLock()


os.register_at_fork(after_in_child=_after_fork)


class RawArchive:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._packs = _packs_of(root)
        self._recent: OrderedDict[str, bytes] = OrderedDict()  # bodies just stored (read back by the crawl)
        self._damaged: set[str] = set()  # digests whose stored copies were found damaged: stored again
        self._complete = False  # whether every pack has been read since this archive was opened
        self._fd: int | None = None  # the pack this archive appends to
        self._pack = ""
        self._size = 0
        self._pid = os.getpid()  # the process that opened the pack
        self._unsynced = False  # bytes written since the last fsync
        self._failed = ""  # why the pack could not be flushed after a failed write (sync() raises it)
        self._unnamed: list[Path] = []  # folders whose new entries are not yet flushed to disk

    def path(self, sha256: str) -> Path:
        """Where a body stored as a file of its own lies (the layout before packs)."""
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether a body is stored under this digest (not whether it is intact: see verify)."""
        return self.stored_size(sha256) is not None

    def stored_size(self, sha256: str) -> int | None:
        """The size of the stored body (None when none is stored)."""
        if not sha256:
            return None
        places = self._places(sha256)
        return places[-1].length if places else self._loose_size(sha256)

    def _loose_size(self, sha256: str) -> int | None:
        """The size of the body stored as a file of its own (the layout before packs), if any."""
        try:
            return self.path(sha256).stat().st_size
        except OSError:
            return None

    def verify(self, sha256: str) -> bool:
        """Whether the body is stored and its bytes still match its digest."""
        try:
            self.get(sha256)
        except ArchiveError:
            return False
        return True

    def put(self, data: bytes) -> str:
        """Store ``data`` (once; durable at the next :meth:`sync`) and return its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        if sha not in self._damaged and self._stored(sha, len(data)):
            self._remember(sha, data)
            return sha
        header = b"gongkai-body %s %d\n" % (sha.encode(), len(data))
        with self._packs.lock:
            try:
                if self._fd is None or self._size >= PACK_LIMIT or self._pid != os.getpid():
                    self._begin_pack()  # (a forked process never appends to its parent's pack)
                assert self._fd is not None
                start = self._size
                try:
                    _write_all(self._fd, (header, data, b"\n"))
                except OSError:
                    self._abandon_pack(start)
                    raise
            except OSError as exc:
                raise ArchiveError(f"cannot write to the raw archive {self.root}: {exc.strerror or exc}") from exc
            self._size = start + len(header) + len(data) + 1
            self._unsynced = True
            self._packs.add(sha, _Place(self._pack, start + len(header), len(data)))
            self._packs.read_to[self._pack] = self._size
        self._damaged.discard(sha)
        self._remember(sha, data)
        return sha

    def get(self, sha256: str) -> bytes:
        """The body stored under ``sha256``; raises ArchiveError when it is missing or damaged."""
        if not sha256:
            raise ArchiveError("no archive key given")
        recent = self._recent.get(sha256)
        if recent is not None:
            return recent
        data, damaged = self._from_packs(sha256)
        if data is None and not damaged:  # a miss looks again at packs that grew (another process writes them)
            self._packs.refresh()
            data, damaged = self._from_packs(sha256)
        if data is not None:
            return data
        try:
            data = self.path(sha256).read_bytes()
        except OSError:
            pass
        else:
            if hashlib.sha256(data).hexdigest() == sha256:
                return data
            damaged = True
        if damaged:
            self._damaged.add(sha256)
            raise ArchiveError(f"{sha256} in the raw archive {self.root} is damaged: its bytes no longer "
                               "match their digest")
        raise ArchiveError(f"{sha256} is not in the raw archive {self.root}")

    def _from_packs(self, sha256: str) -> tuple[bytes | None, bool]:
        """An intact copy of the body from the packs as read so far (newest first), and whether a
        damaged copy was met."""
        damaged = False
        for place in reversed(self._packs.places.get(sha256, [])):
            data = self._read(place)
            if data is None or len(data) != place.length:
                continue  # its pack was removed or cut short since it was read: looked at again
            if hashlib.sha256(data).hexdigest() == sha256:
                return data, damaged
            damaged = True
        return None, damaged

    def _places(self, sha256: str) -> list[_Place]:
        places = self._packs.places.get(sha256)
        if places is None:
            self._packs.refresh()
            places = self._packs.places.get(sha256)
        return places or []

    def _stored(self, sha256: str, size: int) -> bool:
        """Whether a copy of this size is stored already (every pack is read first, once)."""
        if not self._complete:
            self._packs.refresh()
            self._complete = True
        if any(p.length == size for p in self._packs.places.get(sha256, ())):
            return True
        return self._loose_size(sha256) == size

    def _read(self, place: _Place) -> bytes | None:
        if place.pack == self._pack and self._fd is not None:
            return os.pread(self._fd, place.length, place.offset)
        try:
            fd = os.open(self._packs.folder / place.pack, os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.pread(fd, place.length, place.offset)
        except OSError:
            return None
        finally:
            os.close(fd)

    def _begin_pack(self) -> None:
        if self._fd is not None and self._pid != os.getpid():
            os.close(self._fd)  # this process's copy of the parent's pack: the pack is left to the parent
            self._fd, self._unsynced, self._unnamed = None, False, []
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None
        folder = self._packs.folder
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            self._unnamed.append(folder.parent)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}{PACK_SUFFIX}"
        self._fd = os.open(folder / name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self._pack, self._size, self._pid = name, 0, os.getpid()
        self._packs.read_to[name] = 0
        self._unnamed.append(folder)

    def _abandon_pack(self, whole: int) -> None:
        """After a write the disk refused: our pack cut back to its ``whole`` records, flushed and
        closed (the next body begins a new pack). Should that fail too, the next :meth:`sync`
        says that the bodies stored since the last one may be lost."""
        fd, self._fd, self._pack = self._fd, None, ""
        assert fd is not None
        try:
            os.ftruncate(fd, whole)  # no half record left behind in our own pack
            if self._unsynced:
                os.fsync(fd)
            self._unsynced = False
        except OSError as exc:
            self._failed = f"{exc.strerror or exc}"
        finally:
            os.close(fd)

    def _remember(self, sha256: str, data: bytes) -> None:
        self._recent[sha256] = data
        self._recent.move_to_end(sha256)
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def close(self) -> None:
        """Flush what was stored and close this archive's pack (storing again begins a new one)."""
        with self._packs.lock:
            self.sync()
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._pack = None, ""

    def __del__(self) -> None:
        if self._fd is not None:  # what was written stays: the kernel has it (sync() makes it durable)
            os.close(self._fd)

    def clean_temporary(self, older_than: float = _STALE_SECONDS) -> int:
        """Remove temporary files that a killed run of the older layout left behind; returns how many."""
        if not self.root.is_dir():
            return 0
        now = time.time()
        removed = 0
        for tmp in self.root.glob(f"*/{_TEMP_PREFIX}*"):
            try:
                if now - tmp.stat().st_mtime >= older_than:
                    tmp.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("removed %d temporary file(s) left in the archive by an interrupted run", removed)
        return removed

    # -- the index ----------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.root / INDEX_FILE

    def sync(self) -> None:
        """Flush the bodies stored so far to disk, and the names of new packs."""
        with self._packs.lock:
            if self._failed:
                failed, self._failed = self._failed, ""
                raise ArchiveError(f"the raw archive {self.root} could not flush its pack after a failed write "
                                   f"({failed}): the bodies stored since the last flush may be lost")
            if self._unsynced and self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    raise ArchiveError(f"cannot flush the raw archive {self.root} to disk: "
                                       f"{exc.strerror or exc}") from exc
                self._unsynced = False
            folders, self._unnamed = self._unnamed, []
            for folder in folders:
                _fsync_dir(folder)

    def record(self, entries: Iterable[IndexEntry]) -> None:
        """Append entries to the index and flush them to disk — after the names of the bodies
        they describe, so the index never names a body a power cut lost."""
        self.sync()
        lines = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in entries)
        if not lines:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.index_path, "a", encoding="utf-8") as fh:
                fh.write(lines)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise ArchiveError(f"cannot write the archive index {self.index_path}: {exc.strerror or exc}") from exc

    def entries(self) -> Iterator[IndexEntry]:
        """Every index entry in the order written; a line cut short by a kill is skipped."""
        if not self.index_path.exists():
            return
        fields = set(IndexEntry.__dataclass_fields__)
        try:
            with open(self.index_path, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    try:
                        raw = json.loads(line)
                        yield IndexEntry(**{k: v for k, v in raw.items() if k in fields})
                    except (json.JSONDecodeError, TypeError, AttributeError):
                        log.warning("archive index line %d is incomplete (an interrupted write): skipped", n)
        except OSError as exc:
            raise ArchiveError(f"cannot read the archive index {self.index_path}: {exc.strerror or exc}") from exc
