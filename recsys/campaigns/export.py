"""Exports of recommendations with their best eligible offer, chunked and spreadsheet-safe."""

from __future__ import annotations

import io
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

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "ok", "-x"]}))["a"].tolist()
    ["'=1+1", 'ok', "'-x"]
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
) -> Iterable[pd.DataFrame]:
    """Chunks of an export: recommendations (ranked for ``as_of``) with their best usable
    offer, in ``columns``, spreadsheet-safe. Shared by the CLI export and campaign exports."""
    # One offer book for the whole export: the offers valid on the day and the segment lookup
    # are prepared once, not once per chunk.
    book = pipeline.offer_book(as_of)
    for chunk in pipeline.iter_recommendations(
        customer_ids, n, chunk_size=chunk_size or EXPORT_CHUNK_SIZE, progress=progress, as_of=as_of
    ):
        yield neutralise_formulas(book.best(chunk).reindex(columns=columns))


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


def _preformatted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with float columns already written as ``float_format`` text, missing as "".

    Byte-identical output: pandas applies ``float_format`` one value at a time through several
    Python layers (most of an export's writing time); ``%`` on a plain list is many times
    faster. Text columns become plain object arrays, which the writer takes without a
    conversion per value.
    """
    out = {}
    fmt = CSV_OPTIONS["float_format"]
    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column.dtype):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            text = np.array([fmt % v for v in values.tolist()], dtype=object)
            text[np.isnan(values)] = ""
            out[name] = text
        elif pd.api.types.is_string_dtype(column.dtype):
            out[name] = column.to_numpy(dtype=object, na_value="")
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index, columns=frame.columns, copy=False)


def write_csv_chunks(
    frames: Iterable[pd.DataFrame], out: str | Path | io.TextIOBase, columns: list[str]
) -> int:
    """Write DataFrame chunks as one CSV (header once) to a path or text stream; returns rows.

    Memory stays at one chunk; an empty export still gets its header.
    """
    close = False
    if isinstance(out, str | Path):
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = path.open("w", newline="", encoding="utf-8")
        close = True
    rows, header = 0, True
    try:
        for frame in frames:
            if frame.empty:
                continue  # an empty chunk must not write the header (again)
            _preformatted(frame).to_csv(out, header=header, **CSV_OPTIONS)
            rows, header = rows + len(frame), False
        if header:
            pd.DataFrame(columns=columns).to_csv(out, **CSV_OPTIONS)
    finally:
        if close:
            out.close()
    return rows


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
