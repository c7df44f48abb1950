"""Settings: the only module that reads the environment (and sets Prefect's).

Variables (all optional):

- ``GONGKAI_DATA_DIR``: where the warehouse, raw archive and exports live (default ``./data``).
- ``GONGKAI_LOG_LEVEL``: logging level for the CLI (default ``WARNING``; ``DEBUG`` also shows
  tracebacks of errors, like ``--debug``).
- ``PREFECT_API_URL``: a Prefect server to use (``serve`` needs one; other commands start a
  temporary local one without it).
- ``PREFECT_HOME``: Prefect's state; gongkai sets it to ``DATA_DIR/.prefect`` unless it is set.

Defaults, in one place: the data directory ``./data``, Prefect's home ``DATA_DIR/.prefect``, the
export ``DATA_DIR/export``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("data")
PREFECT_DIR = ".prefect"
EXPORT_DIR = "export"
EPHEMERAL_STARTUP_TIMEOUT_S = 180


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    log_level: str
    prefect_api_url: str | None = None

    @property
    def debug(self) -> bool:
        return self.log_level == "DEBUG"


def load_settings() -> Settings:
    return Settings(
        data_dir=Path(os.environ.get("GONGKAI_DATA_DIR") or DEFAULT_DATA_DIR),
        log_level=os.environ.get("GONGKAI_LOG_LEVEL", "WARNING").upper(),
        prefect_api_url=os.environ.get("PREFECT_API_URL") or None,
    )


def export_dir(data_dir: Path) -> Path:
    return data_dir / EXPORT_DIR


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
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


def prefect_env(data_dir: Path) -> Path:
    """Before Prefect is imported: its state under the data directory the user chose (created
    with its parents), no analytics from its temporary server, quiet logs, and time for a
    fresh temporary server to start on a busy machine — unless the operator set these already. Returns Prefect's home."""
    home = Path(os.environ.get("PREFECT_HOME") or (data_dir.resolve() / PREFECT_DIR))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # A fresh home migrates its database first; on a loaded 2-core machine that took longer
    # than Prefect's 20 s default and the command died before doing anything.
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_TIMEOUT_S)
    )
    return home
