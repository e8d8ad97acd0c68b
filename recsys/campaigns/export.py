"""Exports of recommendations with their best eligible offer, chunked and spreadsheet-safe."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys.data import schema as S
from recsys.data.codes import factorize_text

Progress = Callable[[float, str], None]

EXPORT_COLUMNS = [
    S.CUSTOMER_ID,
    S.RANK,
    S.PRODUCT_ID,
    S.SCORE,
    S.REASON,
    S.OFFER_ID,
    S.REWARD_TYPE,
    S.REWARD_VALUE,
    S.PRODUCT_NAME,
    S.CATEGORY,
    S.SUPPORT,
    S.OFFER_TITLE,
    S.N_ELIGIBLE_OFFERS,
]

# Campaign exports (recsys.campaigns.campaign_export.write_campaign): everyone, a segment, or an
# offer's audience.
CAMPAIGN_COLUMNS = [
    S.CUSTOMER_ID,
    S.RANK,
    S.PRODUCT_ID,
    S.PRODUCT_NAME,
    S.CATEGORY,
    S.SCORE,
    S.REASON,
    S.OFFER_ID,
    S.OFFER_TITLE,
    S.REWARD_TYPE,
    S.REWARD_VALUE,
    S.MIN_SPEND,
    S.OFFER_END_DATE,
    S.QUALIFIES,
]

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection): the ASCII
# signs, their fullwidth forms (some spreadsheets fold them to ASCII), a pipe (DDE in old Excel),
# and tab/CR (a cell led by them is read with the next character first).
FORMULA_START = ("=", "+", "-", "@", "|", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_FORMULA_START = FORMULA_START  # the old private name, kept for existing imports


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "ok", "-x", "\uff1dA1"]}))["a"].tolist()
    ["'=1+1", 'ok', "'-x", "'\uff1dA1"]

    Only text columns change; numbers and dates keep their type (a negative number is data).
    Every CSV the product writes goes through :func:`write_csv_chunks`, which calls this on each
    chunk; Parquet keeps the values unaltered (typed cells are not run as formulas).
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if _is_text(values):
            text = values.astype("str")
            risky = values.notna() & text.str.startswith(_FORMULA_START)
            if risky.any():
                out[column] = values.astype(object).where(~risky, "'" + text)
    return out


def export_frames(
    pipeline: Any,
    customer_ids: Iterable[str] | None = None,
    n: int = 10,
    *,
    as_of: object | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    columns: list[str] = EXPORT_COLUMNS,
    n_jobs: int | None = -1,
) -> Iterable[pd.DataFrame]:
    """Chunks of an export: recommendations (ranked for ``as_of``) with their best usable
    offer, in ``columns``. Shared by the CLI export, campaign exports and the blocks of a
    cluster export; the CSV writer (:func:`write_csv_chunks`) makes them spreadsheet-safe.
    ``n_jobs`` is the neighbour search's threads (see ``iter_recommendations``)."""
    # One offer book for the whole export: the offers valid on the day and the segment lookup
    # are prepared once, not once per chunk.
    book = pipeline.offer_book(as_of)
    for rows, slots in pipeline.iter_slots(
        customer_ids,
        n,
        chunk_size=chunk_size or EXPORT_CHUNK_SIZE,
        progress=progress,
        as_of=as_of,
        n_jobs=n_jobs,
    ):
        # The chunk's customers and products as codes: no text lookup per row.
        codes = pipeline.slot_codes(rows, slots, as_of)
        yield book.best(pipeline.slots_frame(rows, slots), codes).reindex(columns=columns)


# Customers per chunk of an export: large enough that the per-chunk work of offer matching and
# writing is noise, small enough that a chunk (x top-n rows) stays a few tens of MB.
EXPORT_CHUNK_SIZE = 4096

# CRLF rows (RFC 4180, what spreadsheets write): the csv writer then quotes any cell holding a
# carriage return, which a "\n" terminator leaves bare and a reader takes for a new row.
CSV_OPTIONS: dict[str, Any] = {
    "index": False,
    "lineterminator": "\r\n",
    "float_format": "%.6g",
    "date_format": "%Y-%m-%d",
}


_QUOTE_WHEN = re.compile(r'[",\r\n]')
_TEXT = pa.large_string()


def _is_text(column: pd.Series) -> bool:
    """Whether a column holds text (what :func:`neutralise_formulas` looks at)."""
    return column.dtype == object or pd.api.types.is_string_dtype(column)


def _text_cell(text: str, neutralise: bool) -> str:
    """One distinct text value as its CSV cell: formula-safe (``neutralise``), then quoted as
    the csv module's minimal quoting does (a quote doubled)."""
    if neutralise and text.startswith(FORMULA_START):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _QUOTE_WHEN.search(text) else text


def _take(labels: list[str], codes: np.ndarray) -> pa.Array:
    """``labels[codes]`` as Arrow text; code -1 (a missing value) is the empty cell."""
    table = pa.array([*labels, ""], type=_TEXT)
    return table.take(pa.array(np.where(codes < 0, len(labels), codes)))


def _distinct_text(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's code into the column's distinct values (-1: missing), and those as text."""
    if isinstance(column.array, pd.arrays.ArrowStringArray):
        codes, distinct = factorize_text(column)  # hashed by Arrow, no Python object per cell
        return codes, distinct.tolist()
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    return codes, pd.Index(distinct).astype("str").tolist()


def _cells(column: pd.Series, float_format: str | None, date_format: str | None) -> pa.Array:
    """One column as the cells pandas' ``to_csv`` writes: quoted text, missing as "", and text
    that a spreadsheet would run as a formula prefixed with a quote (as
    :func:`neutralise_formulas` does).

    Ids, names, rewards and days repeat, so every kind but whole numbers is formatted once per
    distinct value and then taken by code.
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pc.cast(pa.array(column.to_numpy()), _TEXT)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return _take(["False", "True"], column.to_numpy().astype(np.int64))
    if isinstance(dtype, pd.CategoricalDtype):
        labels = _cells(pd.Series(column.cat.categories), float_format, date_format)
        return _take(labels.to_pylist(), column.cat.codes.to_numpy())
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        # By bit pattern, so that -0.0 ("-0") and 0.0 ("0") stay apart.
        codes, distinct = pd.factorize(values.view(np.int64))
        form = float_format or "%r"
        labels = [form % v for v in distinct.view(np.float64).tolist()]
        return _take(labels, np.where(np.isnan(values), -1, codes))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
        days = pd.Index(distinct)
        text = days.strftime(date_format) if date_format else days.astype("str")
        return _take(list(text), codes)
    codes, distinct = _distinct_text(column)
    neutralise = _is_text(column)
    return _take([_text_cell(text, neutralise) for text in distinct], codes)


def _concatenated(rows: pa.Array) -> str:
    """The values of an Arrow text array written one after another (its data buffer)."""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    offsets = offsets[rows.offset : rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]].tobytes().decode("utf-8")


_WRITER_OPTIONS = ("lineterminator", "float_format", "date_format", "index")


def _rows_text(frame: pd.DataFrame, options: dict[str, Any]) -> str:
    """The rows of ``frame`` as spreadsheet-safe CSV text: byte for byte what pandas'
    ``to_csv`` writes of :func:`neutralise_formulas` of the frame.

    pandas (and the csv module) convert and quote one value at a time; formatting whole
    columns (each distinct value once) and joining the cells into rows with Arrow's compute
    functions is several times faster.
    """
    if frame.empty:
        return ""
    cells = [_cells(frame[c], options["float_format"], options["date_format"]) for c in frame]
    if len(cells) == 1:  # one empty cell is a blank line unless quoted, as the csv module does
        cells = [pc.if_else(pc.equal(cells[0], ""), pa.scalar('""', _TEXT), cells[0])]
    rows = pc.binary_join_element_wise(*cells, pa.scalar(",", _TEXT))
    end = pa.scalar(options["lineterminator"], _TEXT)
    return _concatenated(pc.binary_join_element_wise(rows, pa.scalar("", _TEXT), end))


def write_csv_chunks(
    frames: Iterable[pd.DataFrame],
    out: str | Path | io.TextIOBase,
    columns: list[str],
    **options: Any,
) -> int:
    """Write DataFrame chunks as one CSV (header once) to a path or text stream; returns rows.

    Memory stays at one chunk; an empty export still gets its header. This is the product's one
    CSV writer: every text cell is made safe as :func:`neutralise_formulas` does. ``options`` are
    those of :data:`CSV_OPTIONS` (``lineterminator``, ``float_format``, ``date_format``).
    """
    unknown = set(options) - set(_WRITER_OPTIONS)
    if unknown:
        raise TypeError(f"write_csv_chunks does not take {sorted(unknown)}")
    options = {**CSV_OPTIONS, **options}
    if options["index"]:
        raise TypeError("write_csv_chunks writes no index: pass index=False or leave it out")
    close = False
    if isinstance(out, str | Path):
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = path.open("w", newline="", encoding="utf-8")
        close = True
    header_row = csv.writer(out, lineterminator=options["lineterminator"]).writerow
    rows, header = 0, True
    try:
        for frame in frames:
            if frame.empty:
                continue  # an empty chunk must not write the header (again)
            if header:
                header_row([str(name) for name in frame.columns])
            out.write(_rows_text(frame, options))
            rows, header = rows + len(frame), False
        if header:
            header_row([str(name) for name in columns])
    finally:
        if close:
            out.close()
    return rows


def csv_bytes(frame: pd.DataFrame, **options: Any) -> bytes:
    """One frame as spreadsheet-safe CSV bytes (UTF-8), through :func:`write_csv_chunks`.

    ``options`` override :data:`CSV_OPTIONS` (e.g. ``lineterminator="\\n"`` for a terminal).

    >>> csv_bytes(pd.DataFrame({"a": ["=1", "b"]}), lineterminator="\\n")
    b"a\\n'=1\\nb\\n"
    """
    buffer = io.StringIO()
    write_csv_chunks([frame], buffer, list(frame.columns), **options)
    return buffer.getvalue().encode("utf-8")


def write_export(
    pipeline: Any,
    out: str | Path | io.TextIOBase,
    n: int = 10,
    *,
    customer_ids: Iterable[str] | None = None,
    as_of: object | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the export as CSV to a path or text stream, chunk by chunk; returns rows written."""
    frames = export_frames(
        pipeline, customer_ids, n, as_of=as_of, chunk_size=chunk_size, progress=progress
    )
    return write_csv_chunks(frames, out, EXPORT_COLUMNS)
