"""The Prefect flows: ``nightly`` (discover → fetch → parse → load → export) and ``reparse``.

The steps are the plain functions of flows/pipeline.py; here they run as Prefect tasks so
that runs, retries and logs show in Prefect. Loads stay in one task: DuckDB allows one
writing process per file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from gongkai.extract.sources import load_sources
from gongkai.flows import pipeline
from gongkai.extract.http import FetchOptions


PROGRESS = logging.getLogger("gongkai.progress")  # the CLI shows it on stderr


def _progress() -> Callable[[str], None]:
    logger = get_run_logger()

    def report(message: str) -> None:
        logger.info(message)
        PROGRESS.info(message)

    return report


@task(name="crawl-and-load", retries=1, retry_delay_seconds=10, cache_policy=NONE)
def crawl_and_load(sources_file: str, data_dir: str, do_export: bool, options: FetchOptions) -> dict[str, object]:
    logger = get_run_logger()
    sources = load_sources(Path(sources_file))
    summary = pipeline.nightly(sources, Path(data_dir), options=options, do_export=do_export, progress=_progress())
    for line in summary.lines():
        logger.info(line)
    return summary.as_dict()


@flow(name="nightly", log_prints=True)
def nightly_flow(sources_file: str, data_dir: str, do_export: bool = True,
                 options: FetchOptions | None = None) -> dict[str, object]:
    """Crawl every enabled source, archive what was fetched, load new and changed reports, export."""
    return crawl_and_load(sources_file, data_dir, do_export, options or FetchOptions())


@task(name="reparse-archive", cache_policy=NONE)
def reparse_task(data_dir: str, rebuild: bool = False) -> dict[str, object]:
    logger = get_run_logger()
    summary = pipeline.reparse(Path(data_dir), progress=_progress(), rebuild=rebuild)
    for line in summary.lines():
        logger.info(line)
    return summary.as_dict()


@flow(name="reparse")
def reparse_flow(data_dir: str, rebuild: bool = False) -> dict[str, object]:
    """Re-parse the raw archive with the current parser; no network. ``rebuild``: a fresh
    warehouse from the archive, the old file kept aside."""
    return reparse_task(data_dir, rebuild)
