"""Low-level reading: sources, decoding, delimiter sniffing, raw text frames, cell parsing.

Everything here is table-agnostic. :func:`read_raw` turns a path, ``bytes`` or binary file-like
object holding CSV or Parquet into a frame of trimmed text cells (every column is pandas ``str``;
ids are never turned into numbers) plus warnings for what was repaired. The frame's index is the
0-based position of the record in the file, so ``index + 2`` is the row number a spreadsheet shows
(header = row 1). The ``parse_*`` functions turn such text columns into typed values, once per
distinct value. :mod:`recsys.data.dataset` maps and validates the columns.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union

import numpy as np
import pandas as pd

from recsys.data.codes import factorize_text
from recsys.errors import DataValidationError, Problem, make_problem

__all__ = [
    "ReadLimits",
    "Source",
    "SourceData",
    "open_source",
    "parse_category",
    "parse_dates",
    "parse_numbers",
    "read_raw",
    "read_raw_header",
    "sniff_delimiter",
]

logger = logging.getLogger(__name__)

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]  # noqa: UP007

DELIMITERS = (",", ";", "\t", "|")
PARQUET_MAGIC = b"PAR1"
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50
_ROW_OFFSET = 2  # header is spreadsheet row 1, first record is row 2
_LINE_RE = re.compile(r"line (\d+)")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# --- bounded memory: limits checked before any data is decompressed or parsed ------------------
MAX_ROWS_ENV, MAX_COLUMNS_ENV, MAX_MEMORY_ENV = (
    "RECSYS_MAX_ROWS",
    "RECSYS_MAX_COLUMNS",
    "RECSYS_MAX_MEMORY_GB",
)
DEFAULT_MAX_ROWS, DEFAULT_MAX_COLUMNS, DEFAULT_MAX_MEMORY_GB = 20_000_000, 200, 4.0
# Memory one cell costs from reading to the matrix: the text cell, its trimmed copy and the
# parsed value (measured ~40-60 bytes on the sample with pandas 3 strings; rounded up).
BYTES_PER_CELL = 64


@dataclass(frozen=True)
class ReadLimits:
    """How much one file may hold: rows, columns, and estimated memory (GB).

    :meth:`from_env` reads ``RECSYS_MAX_ROWS`` (default 20M), ``RECSYS_MAX_COLUMNS`` (200) and
    ``RECSYS_MAX_MEMORY_GB`` (4). A shared server sets them to what one upload may take.
    """

    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_memory_gb: float = DEFAULT_MAX_MEMORY_GB

    @classmethod
    def from_env(cls) -> ReadLimits:
        def number(env: str, default: float, kind: type) -> Any:
            raw = os.environ.get(env, "").strip().replace("_", "")
            try:
                return kind(float(raw)) if raw else kind(default)
            except ValueError:
                logger.warning("%s=%r is not a number; using %s", env, raw, default)
                return kind(default)

        return cls(
            max_rows=number(MAX_ROWS_ENV, DEFAULT_MAX_ROWS, int),
            max_columns=number(MAX_COLUMNS_ENV, DEFAULT_MAX_COLUMNS, int),
            max_memory_gb=number(MAX_MEMORY_ENV, DEFAULT_MAX_MEMORY_GB, float),
        )

    def check_columns(self, name: str, n_columns: int, *, at_least: bool = False) -> None:
        if n_columns > self.max_columns:
            more = "more than " if at_least else ""
            raise _fatal(
                name,
                f"the file has {more}{n_columns:,} columns; the limit is {self.max_columns:,}",
                "keep only the columns the table needs (see the data contract), or raise "
                f"{MAX_COLUMNS_ENV}",
            )

    def check_rows(self, name: str, n_rows: int, *, at_least: bool = False) -> None:
        if n_rows > self.max_rows:
            more = "more than " if at_least else ""
            raise _fatal(
                name,
                f"the file has {more}{self.max_rows:,} rows"
                + ("" if at_least else f" ({n_rows:,})")
                + f"; the limit is {self.max_rows:,}",
                "split it (e.g. by date range) or filter it before uploading, or raise "
                f"{MAX_ROWS_ENV}",
            )

    def check_memory(self, name: str, n_rows: int, n_columns: int) -> None:
        need = n_rows * max(n_columns, 1) * BYTES_PER_CELL / 1e9
        if need > self.max_memory_gb:
            raise _fatal(
                name,
                f"this file needs ~{need:,.1f} GB of memory ({n_rows:,} rows x {n_columns} "
                f"columns); the limit is {self.max_memory_gb:g} GB",
                "upload fewer rows or columns (e.g. one period at a time), or raise "
                f"{MAX_MEMORY_ENV} on a server with the memory",
            )


@dataclass
class SourceData:
    """An opened input: its display name and either a path on disk or the bytes in memory."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def head(self, n: int = SNIFF_BYTES) -> bytes:
        """The first ``n`` bytes."""
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with self.path.open("rb") as fh:
            return fh.read(n)

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def buffer(self) -> str | io.BytesIO:
        """Something pandas/pyarrow can read from (a fresh buffer each call)."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return str(self.path)

    @property
    def is_parquet(self) -> bool:
        return self.name.lower().endswith(PARQUET_SUFFIXES) or self.head(4) == PARQUET_MAGIC


def open_source(
    source: Source, name: str | None = None, *, default: str = "data.csv"
) -> SourceData:
    """Wrap a path, bytes or binary file-like object; file-like objects are read into memory.

    A seekable file-like object is rewound before and after reading, so the same upload can be
    read twice (headers first, then the table).

    >>> open_source(b"a,b\\n1,2\\n", name="x.csv").size
    8
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            problem = make_problem(
                name or path.name,
                None,
                f"file not found: {path}",
                "check the path and that the file exists",
            )
            raise DataValidationError([problem])
        return SourceData(name=name or path.name, path=path)
    if isinstance(source, bytes | bytearray | memoryview):
        return SourceData(name=name or default, data=bytes(source))
    if hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        data = source.read()
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        if isinstance(data, str):  # a text-mode handle: accept it rather than fail
            data = data.encode("utf-8")
        raw_name = getattr(source, "name", None)
        shown = name or (os.path.basename(raw_name) if isinstance(raw_name, str) else None)
        return SourceData(name=shown or default, data=bytes(data))
    raise TypeError(
        f"cannot read data from {type(source).__name__}; pass a path, bytes or a "
        "binary file-like object"
    )


def sniff_delimiter(sample: str) -> str:
    """Guess the delimiter of a CSV sample among comma, semicolon, tab and pipe.

    :class:`csv.Sniffer` decides first; when it fails or picks a character absent from the header
    line, the delimiter that appears the same (non-zero) number of times on the most lines wins.
    A single-column file gets a comma.

    >>> sniff_delimiter("id;name\\n1;a\\n2;b\\n")
    ';'
    """
    lines = [ln for ln in sample.splitlines() if ln.strip()][:SNIFF_LINES]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
        if found in DELIMITERS and found in lines[0]:
            return found
    except csv.Error:
        pass
    best, best_key = ",", (0, 0, 0)
    for delim in DELIMITERS:
        header_count = lines[0].count(delim)
        if header_count == 0:
            continue
        consistent = sum(ln.count(delim) == header_count for ln in lines)
        key = (consistent, header_count, -DELIMITERS.index(delim))
        if key > best_key:
            best, best_key = delim, key
    return best


def _fatal(name: str, message: str, fix: str, rows: tuple[int, ...] = ()) -> DataValidationError:
    return DataValidationError([make_problem(name, None, message, fix, rows=rows)])


def _check_readable(src: SourceData) -> None:
    """Reject empty files and obvious non-text files before pandas sees them."""
    head = src.head()
    if src.size == 0 or not head.strip():
        raise _fatal(
            src.name,
            "the file is empty",
            "upload a CSV or Parquet file with a header row and at least one data row",
        )
    if src.is_parquet:
        return
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _fatal(src.name, "the file is UTF-16 encoded", "save it as CSV UTF-8")
    if head.startswith(b"PK\x03\x04"):
        raise _fatal(
            src.name,
            "the file is a zip/Excel workbook, not CSV or Parquet",
            "open it in Excel and use 'Save as' > CSV UTF-8",
        )
    if b"\x00" in head:
        raise _fatal(
            src.name,
            "the file is not readable as CSV or Parquet (binary content)",
            "upload a CSV (comma, semicolon, tab or pipe separated) or Parquet file",
        )


def _csv_kwargs(src: SourceData) -> dict[str, Any]:
    sample = src.head().decode("utf-8-sig", errors="replace")
    if src.size > SNIFF_BYTES:  # drop a line cut in the middle
        sample = sample[: sample.rfind("\n") + 1] or sample
    sep = sniff_delimiter(sample)
    logger.debug("%s: delimiter %r", src.name, sep)
    return {
        "sep": sep,
        "dtype": str,
        "na_filter": False,
        "keep_default_na": False,
        "skip_blank_lines": False,
        "index_col": False,
        "engine": "c",
    }


def _csv_shape_check(src: SourceData, sep: str, limits: ReadLimits) -> None:
    """Refuse a too-wide file from its header, and an oversized one from its estimated rows."""
    head = src.head()
    first, _, rest = head.partition(b"\n")
    # A header longer than the sniffed bytes is itself far too wide: count what is there.
    header = first.decode("utf-8-sig", errors="replace")
    n_columns = len(next(csv.reader([header], delimiter=sep), [])) if rest else header.count(sep)
    limits.check_columns(src.name, n_columns, at_least=not rest)
    lines = head.count(b"\n")
    if lines > 1 and src.size > len(head):  # estimate the rows from the sniffed lines' length
        est_rows = int(src.size / (len(head) / lines))
        limits.check_memory(src.name, est_rows, n_columns)


# pyarrow's reader parses in C++ threads straight into Arrow strings, the storage of pandas'
# ``str`` columns: several times faster, and without a Python object per cell.
_ARROW_BLOCK_BYTES = 8 << 20
_TEXT_DTYPE = pd.StringDtype(na_value=np.nan)


def _read_csv_arrow(src: SourceData, kwargs: dict[str, Any], cap: int) -> pd.DataFrame | None:
    """The whole file (up to ``cap`` records) as pandas would read it, or None when pyarrow
    cannot read it the same way (then pandas reads it and reports what is wrong).

    The headers come from pandas, so repeated headers get pandas' names; a header with quotes
    (possibly spanning lines), a row with a different number of fields, or bytes that are not
    UTF-8 make pyarrow stop, and the file goes the pandas way.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    first_line = src.head().partition(b"\n")[0]
    if b'"' in first_line or b"\r" in first_line.rstrip(b"\r"):
        return None
    try:
        header = pd.read_csv(src.buffer(), encoding="utf-8-sig", nrows=0, **kwargs).columns
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    names = [str(name) for name in header]
    source = str(src.path) if src.data is None else pa.py_buffer(src.data)
    try:
        reader = pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, block_size=_ARROW_BLOCK_BYTES
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=kwargs["sep"], newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        batches, n_rows = [], 0
        for batch in reader:
            batches.append(batch)
            n_rows += batch.num_rows
            if n_rows >= cap:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema).slice(0, cap)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.to_pandas(types_mapper=lambda _type: _TEXT_DTYPE)


_MAX_ROWS_NAMED = 20  # rows named in a message about rows with too many fields


def _pandas_csv(src: SourceData, encoding: str, nrows: int, kwargs: dict[str, Any]) -> pd.DataFrame:
    """``pd.read_csv`` of the file, refusing rows with more fields than the header.

    With ``index_col=False`` pandas drops such a row's extra cells with only a ParserWarning;
    a value silently lost (often a cell holding an unquoted delimiter) is an error here, naming
    the rows.
    """
    failure: pd.errors.ParserError | None = None
    frame: pd.DataFrame | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(src.buffer(), encoding=encoding, nrows=nrows, **kwargs)
        except pd.errors.ParserError as exc:  # pandas takes its width from the first rows
            failure = exc
    dropped = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    if frame is not None and not dropped:
        return frame
    width = _header_width(src, encoding, kwargs["sep"]) if frame is None else len(frame.columns)
    rows = _long_rows(src, encoding, kwargs["sep"], width)
    if rows:
        shown = ", ".join(map(str, rows[:_MAX_ROWS_NAMED]))
        more = " and more" if len(rows) > _MAX_ROWS_NAMED else ""
        raise _fatal(
            src.name,
            f"row{'s' if len(rows) != 1 else ''} {shown}{more} "
            f"{'have' if len(rows) != 1 else 'has'} more fields than the header's {width} "
            "columns, so their extra cells would be lost",
            "remove the extra cells, or quote cells that contain the delimiter "
            f"({_DELIMITER_NAMES[kwargs['sep']]})",
            rows=tuple(rows[:_MAX_ROWS_NAMED]),
        )
    if failure is not None:
        raise failure
    return frame


def _records(src: SourceData, encoding: str, sep: str) -> Iterator[list[str]]:
    """The file's records (header first) as the csv module splits them."""
    buffer = src.buffer()
    binary = open(buffer, "rb") if isinstance(buffer, str) else buffer  # noqa: SIM115
    with io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="") as text:
        yield from csv.reader(text, delimiter=sep)


def _header_width(src: SourceData, encoding: str, sep: str) -> int:
    return len(next(_records(src, encoding, sep), []))


def _long_rows(src: SourceData, encoding: str, sep: str, width: int) -> list[int]:
    """Spreadsheet rows (header = row 1) of the records with more than ``width`` fields."""
    records = _records(src, encoding, sep)
    next(records, None)
    return [n for n, fields in enumerate(records, start=2) if len(fields) > width]


def _read_csv(
    src: SourceData, nrows: int | None, limits: ReadLimits | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    kwargs = _csv_kwargs(src)
    problems: list[Problem] = []
    limits = limits or ReadLimits.from_env()
    _csv_shape_check(src, kwargs["sep"], limits)
    # One row past the limit tells "too many" without reading the rest of the file.
    cap = limits.max_rows + 1
    if nrows is None:
        frame = _read_csv_arrow(src, kwargs, cap)
        if frame is not None:
            limits.check_rows(src.name, len(frame), at_least=True)
            return frame, problems
    nrows = cap if nrows is None else min(nrows, cap)
    try:
        try:
            frame = _pandas_csv(src, "utf-8-sig", nrows, kwargs)
        except UnicodeDecodeError:
            frame = _pandas_csv(src, "latin-1", nrows, kwargs)
            problems.append(
                make_problem(
                    src.name,
                    None,
                    "the file is not valid UTF-8; it was read as Latin-1, so check "
                    "accented characters",
                    "save the file as 'CSV UTF-8'",
                    severity="warning",
                )
            )
    except pd.errors.EmptyDataError as exc:
        raise _fatal(
            src.name,
            "the file is empty",
            "upload a CSV or Parquet file with a header row and at least one data row",
        ) from exc
    except pd.errors.ParserError as exc:
        match = _LINE_RE.search(str(exc))
        rows = (int(match.group(1)),) if match else ()
        sep = _DELIMITER_NAMES[kwargs["sep"]]
        raise _fatal(
            src.name,
            f"the file could not be read as {sep}-separated CSV ({exc})",
            "make every row have the same number of fields as the header; quote cells "
            "that contain the delimiter",
            rows=rows,
        ) from exc
    limits.check_rows(src.name, len(frame), at_least=True)
    return frame, problems


def _parquet_to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a typed Parquet frame into the all-text frame a CSV gives (missing -> '')."""
    out = {}
    for col in frame.columns:
        values = frame[col]
        text = values.astype("str")
        out[str(col)] = text.where(values.notna(), "")
    return pd.DataFrame(out, index=frame.index)


def _parquet_metadata(src: SourceData) -> Any:
    """The file's footer (schema, row count), read without decompressing any data."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(src.buffer())
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise _fatal(
            src.name,
            f"the file is not a readable Parquet file ({exc})",
            "export it again as Parquet, or upload a CSV file",
        ) from exc


def _check_parquet(src: SourceData, parquet: Any, limits: ReadLimits, *, header: bool) -> None:
    """Refuse nested columns, and (from the footer alone) too many columns, rows or bytes."""
    import pyarrow as pa

    schema = parquet.schema_arrow
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise _fatal(
            src.name,
            f"nested (list/struct/map) column(s) {', '.join(nested[:5])}: a table needs one "
            "plain value per cell",
            "flatten them (one row per list element) or drop them, and export again",
        )
    limits.check_columns(src.name, len(schema.names))
    if not header:
        rows = int(parquet.metadata.num_rows)
        limits.check_rows(src.name, rows)
        limits.check_memory(src.name, rows, len(schema.names))


def _read_parquet(
    src: SourceData, nrows: int | None, limits: ReadLimits | None = None
) -> pd.DataFrame:
    parquet = _parquet_metadata(src)
    _check_parquet(src, parquet, limits or ReadLimits.from_env(), header=nrows == 0)
    try:
        if nrows == 0:
            names = parquet.schema_arrow.names
            return pd.DataFrame(columns=pd.Index(names, dtype="str"), dtype="str")
        frame = pd.read_parquet(src.buffer())
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise _fatal(
            src.name,
            f"the file is not a readable Parquet file ({exc})",
            "export it again as Parquet, or upload a CSV file",
        ) from exc
    return _parquet_to_text(frame.reset_index(drop=True))


def _tidy(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Trim headers and cells, drop duplicate headers and blank rows (reported as warnings)."""
    problems: list[Problem] = []
    headers = [str(c).strip().lstrip("\ufeff").strip() for c in frame.columns]
    frame.columns = pd.Index(headers, dtype="str")
    if frame.columns.has_duplicates:
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        problems.append(
            make_problem(
                name,
                ", ".join(dup),
                "duplicate column header(s); only the first is used",
                "give every column a distinct header",
                severity="warning",
            )
        )
        frame = frame.loc[:, ~frame.columns.duplicated()]
    trimmed: dict[str, pd.Series] = {}
    for col in frame.columns:
        values = frame[col].astype("str")
        stripped = values.str.strip()
        changed = values.ne(stripped)
        if changed.any():
            rows = changed.index[changed.to_numpy()] + _ROW_OFFSET
            problems.append(
                make_problem(
                    name,
                    col,
                    "surrounding spaces were trimmed",
                    "no action needed",
                    severity="warning",
                    rows=rows,
                )
            )
        trimmed[col] = stripped
    frame = pd.DataFrame(trimmed, index=frame.index, columns=frame.columns)
    if len(frame.columns):
        blank = frame.eq("").all(axis=1)
        if blank.any():
            rows = blank.index[blank.to_numpy()] + _ROW_OFFSET
            problems.append(
                make_problem(
                    name,
                    None,
                    "blank lines were skipped",
                    "no action needed",
                    severity="warning",
                    rows=rows,
                )
            )
            frame = frame.loc[~blank.to_numpy()]
    return frame, problems


def read_raw(
    source: Source,
    name: str | None = None,
    *,
    nrows: int | None = None,
    default_name: str = "data.csv",
) -> tuple[pd.DataFrame, list[Problem], str]:
    """Read a CSV or Parquet source into a frame of trimmed text cells.

    Parameters
    ----------
    source : path, bytes or binary file-like
        The file. Parquet is recognised by its extension or its ``PAR1`` magic bytes.
    name : str, optional
        File name shown in messages (defaults to the path's or upload's name).
    nrows : int, optional
        Read only this many records (``0`` reads only the header).
    default_name : str
        Name used when neither ``name`` nor the source provides one.

    Returns
    -------
    frame : DataFrame
        All columns pandas ``str``; index = 0-based record position (row number - 2).
    problems : list of Problem
        Warnings for repairs (encoding fallback, trimmed spaces, blank lines).
    name : str
        The display name used.

    Raises
    ------
    DataValidationError
        Empty, binary or unparseable file.

    Examples
    --------
    >>> frame, problems, name = read_raw(b"id;name\\n007; a \\n", name="t.csv")
    >>> frame["id"].tolist(), frame["name"].tolist(), len(problems)
    (['007'], ['a'], 1)
    """
    src = open_source(source, name, default=default_name)
    _check_readable(src)
    if src.is_parquet:
        frame, problems = _read_parquet(src, nrows), []
    else:
        frame, problems = _read_csv(src, nrows)
    frame, tidy_problems = _tidy(frame, src.name)
    return frame, problems + tidy_problems, src.name


def read_raw_header(source: Source, name: str | None = None) -> list[str]:
    """The trimmed headers of a CSV or Parquet source, as written in the file.

    >>> read_raw_header(b"Cust ID|SKU\\n1|2\\n")
    ['Cust ID', 'SKU']
    """
    frame, _, _ = read_raw(source, name, nrows=0)
    return [str(c) for c in frame.columns]


# --- cell parsing: text columns -> typed values (vectorised, over unique values) -------------

# Tried in order on cells that are not ISO dates; the format parsing the most cells wins, so a
# column is read one consistent way. Day-first comes first: it wins ties (ambiguous columns).
DATE_FORMATS = tuple(
    f"{day}{time}"
    for day in (
        "%d/%m/%Y",
        "%m/%d/%Y",
        "%d.%m.%Y",
        "%d-%m-%Y",
        "%m-%d-%Y",
        "%Y/%m/%d",
        "%d/%m/%y",
        "%m/%d/%y",
        "%Y%m%d",
    )
    for time in ("", " %H:%M", " %H:%M:%S")
)
_MIN_DATE, _MAX_DATE = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
# "12,5" is a decimal comma; "1,234" (three decimals) could be a thousands separator: rejected.
_DECIMAL_COMMA = r"^[+-]?\d*,(?:\d{1,2}|\d{4,})$"


def _to_datetime(values: pd.Series, **kwargs: Any) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", utc=True, **kwargs).dt.tz_localize(None)
    return parsed.where(parsed.between(_MIN_DATE, _MAX_DATE))


def _swap_day_month(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _parse_unique_dates(values: pd.Series) -> tuple[pd.Series, bool]:
    """Parse distinct date strings: ISO first, then the best common format, then anything.

    Also returns whether the common format was ambiguous (day and month could be swapped).
    """
    out = _to_datetime(values.mask(values.eq("")), format="ISO8601")
    todo = values.ne("") & out.isna()
    dayfirst, ambiguous = True, False
    if todo.any():
        rest = values[todo]
        tries = [
            (int(p.notna().sum()), -i, fmt, p)
            for i, fmt in enumerate(DATE_FORMATS)
            for p in [_to_datetime(rest, format=fmt)]
        ]
        count, _, fmt, best = max(tries, key=lambda t: t[:2])
        if count:
            out = out.fillna(best.reindex(out.index))
            dayfirst = fmt.index("%d") < fmt.index("%m") if "%d" in fmt else True
            swapped = _to_datetime(rest, format=_swap_day_month(fmt))
            ambiguous = bool(swapped.notna().sum() == count and not swapped.equals(best))
        todo = values.ne("") & out.isna()
    if todo.any():
        out = out.fillna(
            _to_datetime(values[todo], format="mixed", dayfirst=dayfirst).reindex(out.index)
        )
    return out.astype("datetime64[ns]"), ambiguous


def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series, bool]:
    """Parse a text column to ``datetime64[ns]``.

    Empty cells become NaT and are not errors. Work is done once per distinct value. Returns
    the values, the mask of unparseable cells, and whether day and month were ambiguous (every
    non-ISO date also reads with day and month swapped; day-first was used).

    >>> values, bad, ambiguous = parse_dates(pd.Series(["2024-01-31", "31/01/2024", "", "soon"]))
    >>> values.dt.strftime("%Y-%m-%d").tolist()[:2], bad.tolist(), ambiguous
    (['2024-01-31', '2024-01-31'], [False, False, False, True], False)
    """
    codes, uniques = factorize_text(raw)
    parsed, ambiguous = _parse_unique_dates(
        pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    )
    bad_unique = pd.Series(uniques).ne("").to_numpy() & parsed.isna().to_numpy()
    values = pd.Series(parsed.to_numpy()[codes], index=raw.index, dtype="datetime64[ns]")
    return values, pd.Series(bad_unique[codes], index=raw.index), ambiguous


def _arrow_floats(raw: pd.Series) -> pd.Series | None:
    """Every cell of a text column as float64 (empty -> NaN) through pyarrow's parser, or None
    when a cell is not a plain number: then pandas' slower parser says which ones."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(raw.astype("str"))
        floats = pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return pd.Series(floats.to_numpy(zero_copy_only=False), index=raw.index, dtype="float64")


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a text column to float64; returns (values, mask of non-numeric cells).

    Empty cells become NaN and are not errors; a decimal comma (``"12,5"``) is accepted.

    >>> values, bad = parse_numbers(pd.Series(["1", "2,5", "", "x", "inf"]))
    >>> values.tolist()[:2], bad.tolist()
    ([1.0, 2.5], [False, False, False, True, True])
    """
    filled = raw.ne("")
    values = _arrow_floats(raw)
    if values is None:
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
    failed = filled & values.isna()
    if failed.any():
        comma = failed & raw.str.match(_DECIMAL_COMMA)
        if comma.any():
            fixed = pd.to_numeric(raw[comma].str.replace(",", ".", regex=False), errors="coerce")
            values = values.mask(comma, fixed.reindex(values.index))
    bad = filled & ~np.isfinite(values)
    return values.mask(bad), bad


def parse_category(raw: pd.Series, allowed: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Normalise a vocabulary column (``"Cash Back"`` -> ``"cash_back"``); flag unknown values.

    >>> values, bad = parse_category(pd.Series(["Cashback", "", "gift"]), ("cashback",))
    >>> values.tolist()[0], bad.tolist()
    ('cashback', [False, False, True])
    """
    values = raw.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    empty = values.eq("")
    bad = ~empty & ~values.isin(allowed) if allowed else pd.Series(False, index=raw.index)
    return values.mask(empty).astype("str"), bad
