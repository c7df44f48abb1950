"""gongkai: government information-disclosure annual reports → statistics warehouse.

For Python users: ``gongkai.parse_frame(paths)`` (tidy cells of local reports) and
``gongkai.read_view(name, data_dir, **filters)`` (an analyst view of the warehouse), both
pandas DataFrames; see :mod:`gongkai.flows.frames`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
PARSER_VERSION = "0.1.0"
__all__ = ["PARSER_VERSION", "__version__", "parse_frame", "read_view"]


def __getattr__(name: str) -> Any:  # pandas and the warehouse are imported only when asked for
    if name in ("parse_frame", "read_view"):
        from gongkai.flows import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'gongkai' has no attribute {name!r}")
