"""Where the project's bundled, non-Python files live (sql/, data/).

In a checkout (and an editable install) they are the top-level sql/ and data/ beside this
package; in an installed wheel they ship inside it as gongkai/sql and gongkai/data.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
PROJECT_ROOT = _HERE.parent
_INSTALLED = (_HERE / "sql").is_dir()
SQL_DIR = _HERE / "sql" if _INSTALLED else PROJECT_ROOT / "sql"
DATA_DIR = _HERE / "data" if _INSTALLED else PROJECT_ROOT / "data"
SAMPLES_DIR = DATA_DIR / "samples"
