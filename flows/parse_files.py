"""Local files as users type them (the work behind ``gongkai parse`` and ``gongkai load``).

- A path that does not exist, or a symbolic link whose target is gone, is an error naming it.
- A folder stands for the report files below it: hidden files and folders, read-me files and
  files whose extension no reader takes are skipped, and counted.
- One file given under several spellings (``a.txt``, ``./a.txt``, ``../x/a.txt``) is one file.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("a.txt", ".hidden.txt", "README.md", "notes.json"):
...     _ = (d / name).write_text("x")
>>> found = expand_paths([d, d / "a.txt"])
>>> [p.name for p in found.files], dict(found.skipped)
(['a.txt'], {'hidden': 1, 'a read-me': 1, 'not a report format (.json)': 1})
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TypeVar

from gongkai.flows.workers import in_own_process, worker_context, worker_pool
from gongkai.transform.models import ParseResult
from gongkai.transform.parse import parse_report

REPORT_SUFFIXES = frozenset({
    ".html", ".htm", ".shtml", ".xhtml", ".jhtml", ".txt", ".md", ".markdown",
    ".pdf", ".docx", ".doc", ".wps", ".xlsx", ".xls", ".ofd", ".zip", ".rar",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff",
})
_README_STEMS = ("readme", "license", "licence", "changelog", "contributing")


class PathProblem(ValueError):
    """Paths that cannot be read as given (missing, broken links); the message names them."""


@dataclass
class Expanded:
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason → count (inside folders)
    broken_links: list[str] = field(default_factory=list)  # inside folders: "link -> target"

    def notes(self) -> list[str]:
        """What was left out, for the user (one line each)."""
        out = []
        if self.skipped:
            parts = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])))
            out.append(f"skipped {sum(self.skipped.values())} file(s) in folders: {parts}")
        out.extend(f"skipped a broken symbolic link: {link}" for link in self.broken_links)
        return out


def _why_skip(path: Path) -> str | None:
    if path.name.startswith("."):
        return "hidden"
    if path.stem.lower() in _README_STEMS:
        return "a read-me"
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        return f"not a report format ({suffix or 'no extension'})"
    return None


def _link(path: Path) -> str:
    try:
        return f"{path} -> {os.readlink(path)}"
    except OSError:
        return str(path)


def expand_paths(paths: Iterable[Path]) -> Expanded:
    """The files to read; raises PathProblem naming every path given that cannot be read."""
    out = Expanded()
    missing: list[str] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            out.files.append(path)

    for given in paths:
        if given.is_symlink() and not given.exists():
            missing.append(f"{_link(given)} (a broken symbolic link)")
        elif not given.exists():
            missing.append(str(given))
        elif given.is_dir():
            for root, dirs, names in os.walk(given, followlinks=False):
                hidden = [d for d in dirs if d.startswith(".")]
                if hidden:
                    out.skipped["hidden"] += sum(len(files) for d in hidden for _, _, files in os.walk(Path(root) / d))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    path = Path(root) / name
                    if path.is_symlink() and not path.exists():
                        out.broken_links.append(_link(path))
                        continue
                    why = _why_skip(path)
                    if why is not None:
                        out.skipped[why] += 1
                        continue
                    add(path)
        else:
            add(given)
    if missing:
        raise PathProblem("no such file or folder: " + ", ".join(missing))
    return out


def parse_path(path: Path, source: str | None = None) -> ParseResult:
    """Parse one file; an unreadable file gives a failed result, never an exception."""
    name = source or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        result = ParseResult(source=name)
        result.warnings.append(f"cannot read file: {exc.strerror or exc}")
        return result
    return parse_report(data, name)


T = TypeVar("T")
PARALLEL_FROM = 8  # files: fewer are parsed here (starting worker processes would cost more)


def _same(result: ParseResult) -> ParseResult:
    return result


def json_line(result: ParseResult) -> tuple[str, str]:
    """A result as its JSON line (the contract of ``gongkai parse --json``) and its status."""
    return json.dumps(result.as_dict(), ensure_ascii=False) + "\n", result.status


def _parse_one(job: tuple[Path, str | None, Callable[[ParseResult], T]]) -> T:
    path, source, render = job
    return render(parse_path(path, source))


def parse_many(paths: Sequence[Path], sources: Sequence[str | None] | None = None,
               render: Callable[[ParseResult], T] = _same, workers: int | None = None) -> Iterator[T]:
    """Parse files on every core, yielding ``render(result)`` in the order of ``paths``
    (``render`` runs in the worker, so a JSON line or a part crosses back rather than the
    result's cell objects; it must be a module-level function). Few files, or one core, are
    parsed in this process. A file that kills its worker (a native reader crashing) is a
    failed result saying so; the files after it are still parsed.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> files = [d / f"{i}.txt" for i in range(3)]
    >>> for f in files:
    ...     _ = f.write_text("")
    >>> [r.status for r in parse_many(files)]
    ['failed', 'failed', 'failed']
    """
    named = list(sources) if sources is not None else [None] * len(paths)
    jobs = [(path, source, render) for path, source in zip(paths, named)]
    workers = min(workers or os.cpu_count() or 1, max(1, len(jobs) // 4))
    if len(jobs) < PARALLEL_FROM or workers < 2:
        yield from map(_parse_one, jobs)
        return
    context = worker_context()
    done = 0
    try:
        with worker_pool(context, workers) as pool:
            for out in pool.map(_parse_one, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 4)))):
                yield out
                done += 1
    except BrokenProcessPool:
        # a worker died (a reader's native library crashing on a file): the files not yet given
        # back are parsed one per process, so the one that crashes fails alone
        yield from (_parse_alone(job, context) for job in jobs[done:])


def _parse_alone(job: tuple[Path, str | None, Callable[[ParseResult], T]], context: BaseContext) -> T:
    """One file parsed in a process of its own: if the parse kills it, a failed result saying so."""
    try:
        return in_own_process(context, _parse_one, job)
    except BrokenProcessPool:
        path, source, render = job
        result = ParseResult(source=source or str(path))
        result.warnings.append("the parser's process died reading this file")
        return render(result)
