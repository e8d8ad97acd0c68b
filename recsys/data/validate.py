"""Read one input file and check it against the data contract: :func:`read_table`.

:func:`read_table` reads one file (CSV or Parquet, path, bytes or binary file-like), matches its
headers to the data contract in :mod:`recsys.data.schema` (aliases, or a mapping the analyst
chose), parses every column, and either returns a :class:`LoadedTable` (with warnings for what it
repaired) or raises one :class:`~recsys.errors.DataValidationError` listing *every* problem found.

Canonical frames always hold every contract column of their table, in contract order:

* ids and strings: pandas ``str`` dtype, trimmed, empty cells NA (ids are never numbers);
* dates: ``datetime64[ns]`` (NaT when absent);
* ``purchases.quantity``: ``int64`` (default 1); ``amount``, ``reward_value``, ``price``:
  ``float64`` (NaN when absent); ``min_spend``: ``float64`` (default 0);
  ``max_per_customer``: ``Int64`` (NA when absent); ``title`` defaults to ``offer_id``;
* extra columns of customers/products files are kept (as ``str``), others are dropped.

All work is vectorised over rows (loops only run over columns), so millions of purchase lines
load in seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.mapping import missing_column, resolve_mapping
from recsys.data.reading import (
    Source,
    parse_category,
    parse_dates,
    parse_numbers,
    read_raw,
)
from recsys.errors import DataValidationError, Problem, ValidationReport, make_problem

__all__ = ["LoadedTable", "complete_frame", "read_table"]

logger = logging.getLogger(__name__)

ROW_OFFSET = 2  # spreadsheet row of the first data record (header = row 1)
KEEP_EXTRA_COLUMNS = ("customers", "products")
DEFAULTS: dict[str, Any] = {S.QUANTITY: 1, S.MIN_SPEND: 0.0}
DTYPES = {
    "id": "str",
    "string": "str",
    "category": "str",
    "date": "datetime64[ns]",
    "number": "float64",
    "int": "Int64",
}
INT64_COLUMNS = (S.QUANTITY,)  # int columns with a default: plain int64


def _dtype(col: S.ColumnSpec) -> str:
    return "int64" if col.name in INT64_COLUMNS else DTYPES[col.kind]


def _empty_column(col: S.ColumnSpec, index: pd.Index) -> pd.Series:
    """The column a table gets when its file does not provide it."""
    value = DEFAULTS.get(col.name, pd.NA if col.kind == "int" else None)
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if value is None:
        value = np.nan
    # Built in its dtype: a Series of a scalar converted afterwards goes through Python objects.
    return pd.Series(value, index=index, dtype=_dtype(col))


@dataclass
class LoadedTable:
    """One validated file.

    ``row_numbers`` gives, for each row of ``frame``, the row a spreadsheet shows for it in the
    original file (used in cross-file messages).
    """

    frame: pd.DataFrame
    report: ValidationReport
    mapping: dict[str, str]
    name: str
    row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)


def _rows(mask: pd.Series) -> np.ndarray:
    return mask.index[mask.to_numpy()].to_numpy() + ROW_OFFSET


def _examples(values: pd.Series, mask: pd.Series, n: int = 3) -> str:
    shown = pd.unique(values[mask.to_numpy()])[:n]
    return ", ".join(f"'{v}'" for v in shown)


def _parse_column(
    raw: pd.Series, col: S.ColumnSpec, name: str, label: str
) -> tuple[pd.Series, list[Problem]]:
    """Parse one text column into its canonical dtype; problems name the file's header."""
    problems: list[Problem] = []
    empty = raw.eq("")

    def error(mask: pd.Series, message: str, fix: str) -> None:
        if mask.any():
            problems.append(make_problem(name, label, message, fix, rows=_rows(mask)))

    if col.kind in ("id", "string"):
        if col.required:
            error(
                empty,
                f"empty {col.name} cell(s)",
                f"fill in the {col.name} on every row, or delete rows without one",
            )
        return raw.mask(empty).astype("str"), problems
    if col.kind == "category":
        values, bad = parse_category(raw, col.allowed)
        error(
            bad,
            f"unknown {col.name} value(s) {_examples(raw, bad)}",
            f"use one of: {', '.join(col.allowed)} (or leave empty)",
        )
        return values, problems
    if col.kind == "date":
        values, bad, ambiguous = parse_dates(raw)
        error(
            bad,
            f"value(s) that are not dates: {_examples(raw, bad)}",
            "use ISO dates (YYYY-MM-DD, optionally with a time) or one consistent "
            "DD/MM/YYYY or MM/DD/YYYY format",
        )
        if ambiguous:
            problems.append(
                make_problem(
                    name,
                    label,
                    "dates could be read day-first or month-first; they were read day-first "
                    "(DD/MM/YYYY)",
                    "use ISO dates (YYYY-MM-DD) to remove the ambiguity",
                    severity="warning",
                )
            )
        return values, problems
    values, bad = parse_numbers(raw)
    error(
        bad,
        f"value(s) that are not numbers: {_examples(raw, bad)}",
        "use plain numbers with a dot for decimals and no currency signs or thousand separators",
    )
    if col.kind == "int":
        fractional = values.notna() & values.mod(1).ne(0)
        error(
            fractional,
            f"value(s) that are not whole numbers: {_examples(raw, fractional)}",
            f"{col.name} must be a whole number",
        )
        bad = bad | fractional
    if col.minimum is not None:
        low = values.lt(col.minimum)
        what = "negative" if col.minimum == 0 else f"less than {col.minimum:g}"
        error(
            low,
            f"{what} value(s): {_examples(raw, low)}",
            f"{col.name} must be {col.minimum:g} or more",
        )
        bad = bad | low
    default = DEFAULTS.get(col.name, np.nan)
    values = values.mask(bad | values.isna(), default)
    if col.kind == "int":
        return values.round().astype(_dtype(col)), problems
    return values.astype("float64"), problems


def _table_rules(
    frame: pd.DataFrame, spec: S.TableSpec, name: str, label: dict[str, str], mapped: set[str]
) -> list[Problem]:
    """Rules across columns of one table: unique keys, reward targets, date order."""
    problems = []
    for key in spec.unique:
        ids = frame[key]
        dup = ids.notna() & ids.duplicated(keep=False)
        if dup.any():
            problems.append(
                make_problem(
                    name,
                    label[key],
                    f"duplicate {key} value(s) {_examples(ids, dup)}",
                    f"each {key} must appear once: remove or rename the duplicates",
                    rows=_rows(dup),
                )
            )
    if spec.name == "rewards":
        neither = frame[S.PRODUCT_ID].isna() & frame[S.CATEGORY].isna()
        if neither.any() and mapped & {S.PRODUCT_ID, S.CATEGORY}:  # else reported per file
            problems.append(
                make_problem(
                    name,
                    label[S.PRODUCT_ID],
                    f"offer(s) with both {label[S.PRODUCT_ID]} and "
                    f"{label[S.CATEGORY]} empty, so they apply to nothing",
                    f"fill in the {S.PRODUCT_ID} or the {S.CATEGORY} the offer applies to",
                    rows=_rows(neither),
                )
            )
        backwards = frame[S.END_DATE].lt(frame[S.START_DATE])
        if backwards.any():
            problems.append(
                make_problem(
                    name,
                    label[S.END_DATE],
                    f"{label[S.END_DATE]} before {label[S.START_DATE]}",
                    "make the end date the same as or later than the start date",
                    rows=_rows(backwards),
                )
            )
    return problems


def read_table(
    source: Source,
    table: str,
    *,
    name: str | None = None,
    column_map: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadedTable:
    """Read and validate one file of the data contract.

    Parameters
    ----------
    source : path, bytes or binary file-like
        CSV (comma, semicolon, tab or pipe separated; UTF-8 with or without BOM, else Latin-1)
        or Parquet (recognised by extension or magic bytes).
    table : {"purchases", "rewards", "customers", "products", "redemptions"}
        Which contract table the file holds.
    name : str, optional
        File name used in messages; defaults to the path's or upload's name, else ``<table>.csv``.
    column_map : mapping, optional
        Canonical column -> header in the file; overrides automatic detection.
    progress : callable, optional
        ``progress(message)`` before each step ("Reading x.csv", "Validating x.csv"), so a
        caller can say which one runs on a large file.

    Returns
    -------
    LoadedTable
        Canonical frame, warnings (repairs), the mapping used and the file name.

    Raises
    ------
    DataValidationError
        With every problem found (file, column, example rows, fix).

    Examples
    --------
    >>> t = read_table(b"cust_id,sku,qty\\n007,A,2\\n", "purchases")
    >>> t.frame[["customer_id", "product_id", "quantity"]].to_dict("records")
    [{'customer_id': '007', 'product_id': 'A', 'quantity': 2}]
    """
    spec = S.table_spec(table)
    report = progress or (lambda message: None)
    report(f"Reading {name or f'the {table} file'}")
    raw, problems, name = read_raw(source, name, default_name=f"{table}.csv")
    report(f"Validating {name} ({len(raw):,} row{'' if len(raw) == 1 else 's'})")
    headers = [str(c) for c in raw.columns]
    mapping, map_problems = resolve_mapping(headers, spec, name, column_map)
    problems += map_problems
    problems += [
        missing_column(name, c, headers)
        for c in spec.columns
        if c.required and c.name not in mapping
    ]
    if spec.name == "rewards" and S.PRODUCT_ID not in mapping and S.CATEGORY not in mapping:
        problems.append(
            make_problem(
                name,
                S.PRODUCT_ID,
                f"neither a {S.PRODUCT_ID} nor a {S.CATEGORY} column was found "
                f"(headers found: {', '.join(headers)})",
                f"add a {S.PRODUCT_ID} or {S.CATEGORY} column saying what each offer applies to",
            )
        )
    if raw.empty:
        problems.append(
            make_problem(
                name,
                None,
                "the file has a header but no data rows",
                "add at least one data row below the header",
            )
        )
        raise DataValidationError(problems)

    dup = raw.duplicated()
    if dup.any():
        problems.append(
            make_problem(
                name,
                None,
                "exact duplicate rows were dropped",
                "no action needed, unless the repeats were intended",
                severity="warning",
                rows=_rows(dup),
            )
        )
        raw = raw.loc[~dup.to_numpy()]

    label = {c.name: mapping.get(c.name, c.name) for c in spec.columns}
    columns: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in mapping:
            columns[col.name], col_problems = _parse_column(
                raw[mapping[col.name]], col, name, label[col.name]
            )
            problems += col_problems
        else:
            columns[col.name] = _empty_column(col, raw.index)
    frame = pd.DataFrame(columns, index=raw.index)
    if spec.name == "rewards":
        frame[S.TITLE] = frame[S.TITLE].fillna(frame[S.OFFER_ID])
    if spec.name in KEEP_EXTRA_COLUMNS:
        for header in headers:
            if header not in mapping.values() and header not in frame.columns:
                frame[header] = raw[header].mask(raw[header].eq("")).astype("str")
    problems += _table_rules(frame, spec, name, label, set(mapping))

    report = ValidationReport(problems)
    if not report.ok:
        raise DataValidationError(report)
    row_numbers = frame.index.to_numpy() + ROW_OFFSET
    logger.info(
        "%s: %d rows read as %s (%d warnings)", name, len(frame), table, len(report.warnings)
    )
    return LoadedTable(
        frame=frame.reset_index(drop=True),
        report=report,
        mapping=mapping,
        name=name,
        row_numbers=row_numbers,
    )


def complete_frame(frame: pd.DataFrame | None, table: str) -> pd.DataFrame | None:
    """Add any absent contract column (with its default) to a frame built by hand."""
    if frame is None:
        return None
    missing = [c for c in S.table_spec(table).columns if c.name not in frame.columns]
    if not missing:
        return frame
    frame = frame.copy()
    for col in missing:
        frame[col.name] = _empty_column(col, frame.index)
    return frame
