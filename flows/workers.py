"""Parse worker processes: how they start, and a process of its own for one piece of work.
Kept apart from the parsing itself (no pyarrow, no readers imported here), so that a command
starting workers pays for nothing it does not use.

>>> in_own_process(worker_context(), abs, -3)
3
"""

from __future__ import annotations

import gc
import importlib.abc
import multiprocessing
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import TypeVar

T = TypeVar("T")


class _NoPandas(importlib.abc.MetaPathFinder):
    """Finds pandas missing (pyarrow then goes on without it)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("pandas is not used in a parse worker", name=name)


def _worker_start() -> None:
    """A parse worker never needs pandas, but pyarrow imports it (most of a second of CPU) the
    first time it builds an array, unless pandas cannot be imported: so it cannot, here.

    And the objects the worker started with (the modules it inherited or had preloaded) are
    moved out of the garbage collector's sight (``gc.freeze``): they are never garbage, but a
    parse keeps enough objects alive to set off a full collection every few reports, and each
    one walked them all — a fifth of a worker's CPU on the simulated portal's reports."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())
    gc.freeze()


def worker_context(start_method: str | None = None) -> BaseContext:
    """How parse worker processes start: forked while this process has a single thread
    (cheapest), else from a fork server (fork is unsafe beside the threads Prefect and httpx
    run), which has the parsing (gongkai.flows.parsing) imported once."""
    method = start_method or ("fork" if threading.active_count() == 1 else "forkserver")
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["gongkai.flows.parsing"])
    return context


def worker_pool(context: BaseContext, workers: int) -> ProcessPoolExecutor:
    """A pool of parse worker processes (which never import pandas)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start)


def in_own_process(context: BaseContext, fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a parse worker process of its own; raises BrokenProcessPool if the
    process died (a native reader crashing), and whatever ``fn`` raised."""
    with worker_pool(context, 1) as one:
        return one.submit(fn, *args).result()
