"""pandas for people who work in Python: tidy cells of local reports, and any analyst view of
the warehouse, as DataFrames with clean types.

Types: counts are integers — pandas' nullable ``Int64``, so a missing value stays ``<NA>``
and is never 0 — and rates, shares and amounts are floats. A number column comes back as
``Int64`` when every value in it is whole and its name does not say rate/share/amount; the
tidy ``value`` column (counts and the few 万元 amounts of table 二 together) is ``Int64``
unless an amount with a fraction is in the frame, then ``float64`` for all.

>>> import gongkai
>>> frame = gongkai.parse_frame(["data/samples/"])           # doctest: +SKIP
>>> frame.groupby(["agency", "year"]).size()                  # doctest: +SKIP
>>> gongkai.read_view("v_summary", data_dir="data", year=2023)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from gongkai.flows.output import FRACTION_NAME
from gongkai.flows.parse_files import expand_paths, parse_path
from gongkai.flows.query import reader
from gongkai.flows.settings import load_settings

if TYPE_CHECKING:
    import pandas as pd

CELL_COLUMNS = ["agency", "year", "layout", "table_code", "row_code", "col_code", "value", "empty", "raw",
                "source", "status"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ViewError(ValueError):
    """The view or a filter column does not exist; the message lists what does."""


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns as nullable Int64, unless they hold amounts or rates."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_float_dtype(column) or FRACTION_NAME.search(str(name)):
            continue
        present = column.dropna()
        if (present == present.round()).all():
            frame[name] = column.astype("Int64")
    for name in frame.columns:
        if pd.api.types.is_integer_dtype(frame[name]) and not isinstance(frame[name].dtype, pd.Int64Dtype):
            frame[name] = frame[name].astype("Int64")
    return frame


def parse_frame(paths: Iterable[str | Path] | str | Path) -> pd.DataFrame:
    """Parse local report files (or folders of them) into one tidy DataFrame: one row per
    printed cell, with the report's agency, year, layout and parse status. A report that
    could not be read is one row with its status and no cell codes.

    >>> gongkai.parse_frame("data/samples/").query("table_code == 't3'")  # doctest: +SKIP
    """
    import pandas as pd

    given = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files = expand_paths(Path(p) for p in given).files
    rows: list[tuple[object, ...]] = []
    for path in files:
        result = parse_path(path)
        head = (result.agency, result.year, result.layout)
        if not result.cells:
            rows.append((*head, None, None, None, None, None, None, result.source, result.status))
        for c in result.cells:
            rows.append((*head, c.table, c.row, c.col, float(c.value), c.empty, c.raw, result.source, result.status))
    frame = pd.DataFrame.from_records(rows, columns=CELL_COLUMNS)
    frame["value"] = frame["value"].astype("float64")
    frame["year"] = frame["year"].astype("Int64")
    frame["empty"] = frame["empty"].astype("boolean")
    return _typed(frame)


def read_view(name: str = "v_cells", data_dir: str | Path | None = None, **filters: object) -> pd.DataFrame:
    """A read-only query of one analyst view (``v_cells``, ``v_summary``, …) as a DataFrame.
    ``filters`` are column = value (a list or tuple: any of its values).

    >>> gongkai.read_view("v_cells", data_dir="data", agency="某某局", year=[2022, 2023])  # doctest: +SKIP
    """
    directory = Path(data_dir) if data_dir is not None else load_settings().data_dir
    with reader(directory) as con:
        views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                           "ORDER BY view_name").fetchall()]
        if name not in views:
            raise ViewError(f"no view {name!r} in the warehouse; the views are: {', '.join(views)}")
        columns = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
        where: list[str] = []
        params: list[object] = []
        for column, wanted in filters.items():
            if column not in columns or not _IDENT.match(column):
                raise ViewError(f"{name} has no column {column!r}; its columns are: {', '.join(columns)}")
            values = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
            where.append(f'"{column}" IN ({", ".join("?" for _ in values)})')
            params.extend(values)
        sql = f'SELECT * FROM "{name}"' + (" WHERE " + " AND ".join(where) if where else "")
        frame = con.execute(sql, params).df()
    return _typed(frame)
