"""Settings: the only module that reads the environment.

Variables (all optional):

- ``GONGKAI_DATA_DIR``: where the warehouse, raw archive and exports live (default ``./data``).
- ``GONGKAI_LOG_LEVEL``: logging level for the CLI (default ``WARNING``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    log_level: str


def load_settings() -> Settings:
    return Settings(
        data_dir=Path(os.environ.get("GONGKAI_DATA_DIR", "data")),
        log_level=os.environ.get("GONGKAI_LOG_LEVEL", "WARNING").upper(),
    )


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def show_progress() -> None:
    """Progress of long runs (crawl, re-parse) on stderr, whatever the log level."""
    progress = logging.getLogger("gongkai.progress")
    if not progress.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False


def prefect_defaults(settings: Settings) -> None:
    """Before Prefect is imported: no analytics from its temporary server, quiet logs, state
    under the data directory, unless the operator set these already."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_HOME", str((settings.data_dir / ".prefect").resolve()))
