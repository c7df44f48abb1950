"""The raw archive: every fetched body stored once, by its SHA-256, so everything can be
re-parsed offline. Fetch metadata (URL, status, headers, time) goes to the warehouse's
fetch_log; the archive holds only bytes.

>>> import tempfile, pathlib
>>> a = RawArchive(pathlib.Path(tempfile.mkdtemp()))
>>> sha = a.put(b"hello")
>>> a.get(sha), a.put(b"hello") == sha
(b'hello', True)
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path


class ArchiveError(Exception):
    pass


class RawArchive:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{sha}.{uuid.uuid4().hex[:8]}")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise ArchiveError(f"cannot write to the raw archive {self.root}: {exc.strerror or exc}") from exc
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except OSError as exc:
            raise ArchiveError(f"{sha256} is not in the raw archive {self.root}") from exc
