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

from recsys.data import schema as S

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
        if values.dtype == object or pd.api.types.is_string_dtype(values):
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


def _quoted(text: list[str]) -> list[str]:
    """Text cells quoted as the csv module's minimal quoting does (a quote doubled)."""
    return [
        '"' + cell.replace('"', '""') + '"' if _QUOTE_WHEN.search(cell) else cell for cell in text
    ]


def _cells(column: pd.Series, float_format: str | None, date_format: str | None) -> list[str]:
    """One column as the cells pandas' ``to_csv`` writes: quoted text, missing as ""."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        labels = _cells(pd.Series(column.cat.categories), float_format, date_format)
        codes = column.cat.codes.to_numpy()
        return np.asarray([*labels, ""], dtype=object)[codes].tolist()  # -1 (missing): ""
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        form = float_format or "%r"
        return ["" if v != v else form % v for v in values.tolist()]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        text = column.dt.strftime(date_format) if date_format else column.astype("str")
        return text.to_numpy(dtype=object, na_value="").tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return list(map(str, column.to_numpy().tolist()))
    # Text: each distinct value is quoted once (ids and names repeat), then taken by code.
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    text = pd.Index(distinct).astype("str")
    labels = np.append(text.to_numpy(dtype=object), "")
    for i in np.flatnonzero(text.str.contains(_QUOTE_WHEN.pattern, regex=True)):
        labels[i] = _quoted([labels[i]])[0]
    return labels[codes].tolist()


_WRITER_OPTIONS = ("lineterminator", "float_format", "date_format", "index")


def _rows_text(frame: pd.DataFrame, options: dict[str, Any]) -> str:
    """The rows of ``frame`` as CSV text, byte for byte as pandas' ``to_csv`` writes them.

    pandas (and the csv module) convert and quote one value at a time; formatting whole
    columns first (``%`` on plain lists, each distinct value of a categorical once, quoting
    only the cells that need it) and joining the rows is several times faster.
    """
    columns = [_cells(frame[c], options["float_format"], options["date_format"]) for c in frame]
    end = options["lineterminator"]
    if len(columns) == 1:  # one empty cell is a blank line unless quoted, as the csv module does
        columns = [[cell or '""' for cell in columns[0]]]
    return end.join(map(",".join, zip(*columns, strict=True))) + end


def write_csv_chunks(
    frames: Iterable[pd.DataFrame],
    out: str | Path | io.TextIOBase,
    columns: list[str],
    **options: Any,
) -> int:
    """Write DataFrame chunks as one CSV (header once) to a path or text stream; returns rows.

    Memory stays at one chunk; an empty export still gets its header. This is the product's one
    CSV writer: every chunk is passed through :func:`neutralise_formulas`. ``options`` are
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
            out.write(_rows_text(neutralise_formulas(frame), options))
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
