"""Campaign exports: everyone, a segment, or an offer's audience, as CSV or Parquet.

Columns :data:`recsys.campaigns.export.CAMPAIGN_COLUMNS`. Written chunk by chunk (memory stays at
one chunk), with progress. CSV goes through the product's one CSV writer
(:func:`recsys.campaigns.export.write_csv_chunks`), which neutralises text cells a spreadsheet
would run as a formula; Parquet keeps the values as they are (typed cells are never formulas).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from recsys.campaigns.audience import Audience, offer_audience
from recsys.campaigns.export import (
    CAMPAIGN_COLUMNS,
    export_frames,
    write_csv_chunks,
)
from recsys.data import schema as S
from recsys.errors import RecsysError

if TYPE_CHECKING:  # the pipeline imports this package lazily; no import cycle at run time
    from recsys.pipeline import RecommenderPipeline

__all__ = ["campaign_frames", "write_campaign"]

Progress = Callable[[float, str], None]


def _audience_frame(pipe: RecommenderPipeline, audience: Audience) -> pd.DataFrame:
    offer, members = audience.offer, audience.members
    cols = pipe.products_.indices_of(members[S.PRODUCT_ID])
    frame = pd.DataFrame(
        {
            S.CUSTOMER_ID: members[S.CUSTOMER_ID].to_numpy(),
            S.RANK: members[S.RANK].to_numpy(),
            S.PRODUCT_ID: members[S.PRODUCT_ID].to_numpy(),
            S.PRODUCT_NAME: pipe.catalogue_[S.PRODUCT_NAME].to_numpy(dtype=object)[cols],
            S.CATEGORY: pipe.catalogue_[S.CATEGORY].to_numpy(dtype=object)[cols],
            S.SCORE: members[S.SCORE].to_numpy(),
            S.REASON: S.REASON_NEIGHBORS,
            S.OFFER_ID: offer.get(S.OFFER_ID),
            S.OFFER_TITLE: offer.get(S.TITLE)
            if pd.notna(offer.get(S.TITLE))
            else offer[S.OFFER_ID],
            S.REWARD_TYPE: offer.get(S.REWARD_TYPE),
            S.REWARD_VALUE: offer.get(S.REWARD_VALUE),
            S.MIN_SPEND: offer.get(S.MIN_SPEND),
            S.OFFER_END_DATE: pd.Timestamp(offer.get(S.END_DATE)),
            S.QUALIFIES: members[S.QUALIFIES].to_numpy(),
        }
    )
    return frame


def campaign_frames(
    pipe: RecommenderPipeline,
    n: int = 10,
    *,
    segment: str | None = None,
    offer_id: str | None = None,
    customer_ids: Iterable[str] | None = None,
    top: int | None = None,
    as_of: object | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    audience: Audience | None = None,
    **audience_options: Any,
) -> Iterator[pd.DataFrame]:
    """Chunks of a campaign export (:data:`recsys.campaigns.export.CAMPAIGN_COLUMNS`), values
    as they are (the CSV writer neutralises formula-like text).

    Everyone (default), a ``segment``, given ``customer_ids``: each customer's top ``n`` with
    the best usable offer of each. An ``offer_id``: that offer's audience, one row per customer
    (the product of the offer's scope they scored highest), ``top`` customers at most;
    ``audience_options`` go to :func:`offer_audience`. An ``audience`` already computed is
    exported as it is.
    """
    size = chunk_size or 1024
    if audience is None and offer_id is not None:
        audience = offer_audience(
            pipe,
            offer_id,
            top=top,
            as_of=as_of,
            chunk_size=chunk_size,
            progress=progress,
            **audience_options,
        )
    if audience is not None:
        frame = _audience_frame(pipe, audience)
        for start in range(0, max(len(frame), 1), size):
            yield frame.iloc[start : start + size][CAMPAIGN_COLUMNS]
        return
    if segment is not None:
        if pipe.segments_ is None:
            raise RecsysError("The model has no customer segments: load a customers file.")
        names = pipe.segments_.astype(str).to_numpy()
        if not (names == str(segment)).any():
            known = ", ".join(sorted(pipe.segments_.dropna().astype(str).unique())[:10])
            raise RecsysError(f"No customer in segment '{segment}'. Known segments: {known}.")
        customer_ids = pipe.customers_.ids[names == str(segment)]
    yield from export_frames(
        pipe,
        customer_ids,
        n,
        as_of=as_of,
        chunk_size=size,
        progress=progress,
        columns=CAMPAIGN_COLUMNS,
    )


def _arrow_schema() -> Any:
    import pyarrow as pa

    numbers = {S.SCORE, S.REWARD_VALUE, S.MIN_SPEND}
    fields = []
    for col in CAMPAIGN_COLUMNS:
        if col == S.RANK:
            kind = pa.int64()
        elif col in numbers:
            kind = pa.float64()
        elif col == S.OFFER_END_DATE:
            kind = pa.timestamp("ns")
        else:
            kind = pa.string()
        fields.append(pa.field(col, kind))
    return pa.schema(fields)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable dtypes chunk after chunk (an all-missing column would otherwise change type)."""
    out = frame.copy()
    for col in (S.SCORE, S.REWARD_VALUE, S.MIN_SPEND):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out[S.RANK] = out[S.RANK].astype("int64")
    out[S.OFFER_END_DATE] = pd.to_datetime(out[S.OFFER_END_DATE]).astype("datetime64[ns]")
    return out


def write_campaign(
    pipe: RecommenderPipeline,
    out: str | Path,
    n: int = 10,
    *,
    fmt: Literal["csv", "parquet"] | None = None,
    **options: Any,
) -> int:
    """Write a campaign export chunk by chunk to CSV or Parquet; returns the rows written.

    ``fmt`` defaults to the file suffix (``.parquet``/``.pq`` -> Parquet, else CSV); the other
    options are those of :func:`campaign_frames`. Memory stays at one chunk.
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise RecsysError(f"fmt={fmt!r}: campaign exports are 'csv' or 'parquet'.")
    rows = 0
    frames = (_typed(f) for f in campaign_frames(pipe, n, **options))
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = _arrow_schema()
        with pq.ParquetWriter(path, schema) as writer:
            for frame in frames:
                writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                rows += len(frame)
        return rows
    return write_csv_chunks(frames, path, CAMPAIGN_COLUMNS)
