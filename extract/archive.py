"""The raw archive: every fetched body stored once, by its SHA-256, so everything can be
re-parsed offline, and an index of what each body is, so that a lost or damaged warehouse can
be rebuilt from the archive alone (``gongkai reparse --rebuild``).

- Bodies are written to a temporary file, flushed to disk (fsync), then renamed into place:
  a power cut leaves either the whole body or none of it, never a short one under its name
  (the folders holding new names are flushed before the index names them).
- Reading checks the digest: a body whose bytes no longer match its name is reported as
  damaged (:class:`ArchiveError`), never returned.
- ``index.jsonl`` holds one line per body fetched or loaded (URL, kind, source, validators,
  time); lines are appended and flushed as they come, so a killed run keeps its record.
- Temporary files left by a killed run are removed by :meth:`RawArchive.clean_temporary`.

>>> import tempfile, pathlib
>>> a = RawArchive(pathlib.Path(tempfile.mkdtemp()))
>>> sha = a.put(b"hello")
>>> a.get(sha), a.put(b"hello") == sha
(b'hello', True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INDEX_FILE = "index.jsonl"
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


class RawArchive:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._unsynced: set[Path] = set()  # folders with new names not yet flushed to disk
        self._recent: OrderedDict[str, bytes] = OrderedDict()  # bodies just stored (read back by the crawl)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether a body is stored under this digest (not whether it is intact: see verify)."""
        return bool(sha256) and self.path(sha256).is_file()

    def verify(self, sha256: str) -> bool:
        """Whether the body is stored and its bytes still match its digest."""
        try:
            self.get(sha256)
        except ArchiveError:
            return False
        return True

    def put(self, data: bytes) -> str:
        """Store ``data`` (once, durably) and return its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        self._remember(sha, data)
        target = self.path(sha)
        if target.is_file() and target.stat().st_size == len(data):
            return sha
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{_TEMP_PREFIX}{sha}.{uuid.uuid4().hex[:8]}")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            self._unsynced.add(target.parent)
        except OSError as exc:
            raise ArchiveError(f"cannot write to the raw archive {self.root}: {exc.strerror or exc}") from exc
        return sha

    def get(self, sha256: str) -> bytes:
        """The body stored under ``sha256``; raises ArchiveError when it is missing or damaged."""
        if not sha256:
            raise ArchiveError("no archive key given")
        recent = self._recent.get(sha256)
        if recent is not None:
            return recent
        try:
            data = self.path(sha256).read_bytes()
        except OSError as exc:
            raise ArchiveError(f"{sha256} is not in the raw archive {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveError(f"{sha256} in the raw archive {self.root} is damaged: its bytes no longer "
                               "match their digest")
        return data

    def _remember(self, sha256: str, data: bytes) -> None:
        self._recent[sha256] = data
        self._recent.move_to_end(sha256)
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def clean_temporary(self, older_than: float = _STALE_SECONDS) -> int:
        """Remove temporary files that a killed run left behind; returns how many."""
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
        """Flush the new files' names to disk (their bytes are flushed as they are written)."""
        folders, self._unsynced = self._unsynced, set()
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
