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
