"""Reward offers: validity, eligibility rules, and matching recommendations to offers.

An offer is **eligible** for a recommended product when

- it names that product (``match == "product"``) or the product's category
  (``match == "category"``); an offer matching both ways counts once, as a product match;
- it is valid on the as-of day: ``start_date <= as_of <= end_date``, compared by calendar day,
  both ends inclusive, a missing date meaning open-ended on that side;
- its segment is empty (everyone) or equal to the customer's segment.

``min_spend`` and ``max_per_customer`` are carried along for display: without spend and
redemption history they cannot rule an offer out. Offers are ranked best first by
``reward_value`` (descending) then ``offer_id`` (ascending). Reward values of different types are
not the same unit (a 3x multiplier versus 30 of cashback); ranking on the raw value is the team
contract, kept simple and predictable for analysts.

All matching is done with pandas merges: no Python loop over recommendations or offers.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import numpy as np
import pandas as pd

from recsys.data import schema as S

__all__ = [
    "ACTIVE",
    "EXPIRED",
    "MATCH_CATEGORY",
    "MATCH_PRODUCT",
    "OFFER_COLUMNS",
    "UPCOMING",
    "eligible_offers",
    "offer_status",
]

logger = logging.getLogger(__name__)

MATCH_PRODUCT = "product"
MATCH_CATEGORY = "category"

# Offer statuses returned by offer_status.
ACTIVE = "active"
EXPIRED = "expired"
UPCOMING = "upcoming"

# Offer columns added to each recommendation by eligible_offers, in order.
OFFER_COLUMNS: tuple[str, ...] = (
    S.OFFER_ID,
    S.OFFER_TITLE,
    S.REWARD_TYPE,
    S.REWARD_VALUE,
    S.MIN_SPEND,
    S.START_DATE,
    S.OFFER_END_DATE,
    S.SEGMENT,
    S.MAX_PER_CUSTOMER,
    S.MATCH,
)

AsOf = str | date | datetime | pd.Timestamp | np.datetime64

# Private key columns used while merging; the leading underscore keeps them apart from any
# column a caller might have in ``recs``.
_REC = "_rec_row"
_KEY_PRODUCT = "_key_product"
_KEY_CATEGORY = "_key_category"
_CUSTOMER_SEGMENT = "_customer_segment"

_STRING_COLUMNS = (S.OFFER_ID, S.PRODUCT_ID, S.CATEGORY, S.TITLE, S.REWARD_TYPE, S.SEGMENT)


def offer_status(rewards: pd.DataFrame, as_of: AsOf) -> pd.Series:
    """Status of each offer on the as-of day: ``"active"``, ``"expired"`` or ``"upcoming"``.

    Parameters
    ----------
    rewards : DataFrame
        Offers with the canonical rewards columns (``start_date``/``end_date`` may be missing or
        NaT: open-ended).
    as_of : date-like
        The day to judge on; only its calendar day is used.

    Returns
    -------
    Series of str
        Indexed like ``rewards``, named ``"status"``. An offer is expired when it ended before
        the as-of day, upcoming when it starts after it, and active otherwise (both ends
        inclusive).

    Examples
    --------
    >>> offers = pd.DataFrame({
    ...     "offer_id": ["O1", "O2", "O3"],
    ...     "start_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-03-01"]),
    ...     "end_date": pd.to_datetime(["2026-01-31", "2026-02-01", None]),
    ... })
    >>> offer_status(offers, "2026-02-01").tolist()
    ['expired', 'active', 'upcoming']
    """
    day = _as_day(as_of)
    start = _day_column(rewards, S.START_DATE)
    end = _day_column(rewards, S.END_DATE)
    status = np.where(end.lt(day), EXPIRED, np.where(start.gt(day), UPCOMING, ACTIVE))
    return pd.Series(status, index=rewards.index, name="status", dtype="str")


def eligible_offers(
    recs: pd.DataFrame,
    rewards: pd.DataFrame | None,
    *,
    as_of: AsOf,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """Every offer each recommendation is eligible for (long form, not ranked).

    Which of them is best is the offer book's decision
    (:class:`recsys.rewards.offer_book.OfferBook`), the one rule for every caller.

    Parameters
    ----------
    recs : DataFrame
        Recommendations with ``customer_id``, ``product_id`` and ``category`` (missing category:
        only product offers can match); any other columns are kept.
    rewards : DataFrame or None
        Offers with the canonical rewards columns; ``None`` or empty means no offers.
    as_of : date-like
        The day on which offers must be valid (calendar day, inclusive).
    segments : Series, optional
        Customer segment indexed by ``customer_id``. Without it (or for a customer missing from
        it), only offers open to everyone are eligible.

    Returns
    -------
    DataFrame
        One row per (recommendation, eligible offer), with a fresh index: the columns of
        ``recs`` then :data:`OFFER_COLUMNS` (``segment`` is the offer's; ``match`` is
        ``"product"`` or ``"category"``). Rows follow the order of ``recs``, then the offer id.
        A column of ``recs`` with the same name as an offer column is replaced by the offer's.

    Examples
    --------
    >>> recs = pd.DataFrame({"customer_id": ["C1", "C1"], "product_id": ["P1", "P2"],
    ...                      "category": ["dining", "travel"]})
    >>> offers = pd.DataFrame({"offer_id": ["O1", "O2"], "product_id": ["P1", None],
    ...                        "category": [None, "dining"], "reward_value": [5.0, 10.0]})
    >>> out = eligible_offers(recs, offers, as_of="2026-10-31")
    >>> out[["product_id", "offer_id", "match"]].values.tolist()
    [['P1', 'O1', 'product'], ['P1', 'O2', 'category']]
    """
    return eligible_with(recs, valid_offers(rewards, as_of), segment_lookup(segments))


def eligible_with(
    recs: pd.DataFrame, offers: pd.DataFrame, lookup: pd.Series | None
) -> pd.DataFrame:
    """:func:`eligible_offers` with its per-file work done once, for callers that match many
    chunks of recommendations against the same offers: ``offers`` from :func:`valid_offers`,
    ``lookup`` from :func:`segment_lookup`."""
    base = _base(recs)
    pairs = _match(base, offers, lookup)
    out = base.iloc[pairs[_REC].to_numpy()].reset_index(drop=True)
    for col in OFFER_COLUMNS:
        out[col] = pairs[col].array  # positional: pairs and out have the same row order
    return _offer_dtypes(out)


# --- helpers ------------------------------------------------------------------------------------
def _as_day(as_of: AsOf) -> pd.Timestamp:
    """The as-of calendar day as a tz-naive midnight Timestamp."""
    if as_of is None:
        raise ValueError("as_of is required: the day on which offers must be valid")
    day = pd.Timestamp(as_of)
    if pd.isna(day):
        raise ValueError("as_of is missing (NaT): give the day on which offers must be valid")
    if day.tzinfo is not None:
        # Offer dates are calendar days without a time zone; compare on the local calendar day.
        day = day.tz_localize(None)
    return day.normalize()


def _day_column(rewards: pd.DataFrame, col: str) -> pd.Series:
    """A date column reduced to calendar days (all NaT when the column is absent)."""
    if col not in rewards.columns:
        return pd.Series(pd.NaT, index=rewards.index, dtype="datetime64[ns]")
    values = pd.to_datetime(rewards[col])
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.dt.normalize()


def _canonical_rewards(rewards: pd.DataFrame | None) -> pd.DataFrame:
    """Rewards with every contract column present and typed (tolerates hand-made frames)."""
    names = list(S.REWARDS.names)
    if rewards is None:
        rewards = pd.DataFrame(columns=names)
    frame = rewards.reindex(columns=names).reset_index(drop=True)
    for col in _STRING_COLUMNS:
        text = frame[col].astype("str").str.strip()
        frame[col] = text.mask(text.eq(""))  # empty segment/product/category means "none"
    frame[S.TITLE] = frame[S.TITLE].fillna(frame[S.OFFER_ID])
    frame[S.REWARD_VALUE] = pd.to_numeric(frame[S.REWARD_VALUE]).astype("float64")
    frame[S.MIN_SPEND] = pd.to_numeric(frame[S.MIN_SPEND]).astype("float64").fillna(0.0)
    frame[S.MAX_PER_CUSTOMER] = pd.to_numeric(frame[S.MAX_PER_CUSTOMER]).astype("Int64")
    for col in (S.START_DATE, S.END_DATE):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def _base(recs: pd.DataFrame) -> pd.DataFrame:
    """``recs`` without the columns the offers replace, with a fresh index."""
    missing = [c for c in (S.CUSTOMER_ID, S.PRODUCT_ID, S.CATEGORY) if c not in recs.columns]
    if missing:
        raise ValueError(f"recommendations need the column(s) {missing} to be matched with offers")
    dropped = [c for c in recs.columns if c in OFFER_COLUMNS]
    if dropped:
        logger.debug("columns %s of recs are replaced by the offers' values", dropped)
    return recs.drop(columns=dropped).reset_index(drop=True)


def valid_offers(rewards: pd.DataFrame | None, as_of: AsOf) -> pd.DataFrame:
    """Offers valid on the as-of day, renamed to the output columns plus the match keys."""
    frame = _canonical_rewards(rewards)
    frame = frame.loc[offer_status(frame, as_of).eq(ACTIVE).to_numpy()]
    return frame.rename(
        columns={
            S.PRODUCT_ID: _KEY_PRODUCT,
            S.CATEGORY: _KEY_CATEGORY,
            S.TITLE: S.OFFER_TITLE,
            S.END_DATE: S.OFFER_END_DATE,
        }
    )


def _match(base: pd.DataFrame, offers: pd.DataFrame, lookup: pd.Series | None) -> pd.DataFrame:
    """(rec row, offer) pairs that are eligible, by rec row then offer id."""
    keys = pd.DataFrame(
        {
            _REC: np.arange(len(base), dtype=np.int64),
            _KEY_PRODUCT: base[S.PRODUCT_ID].astype("str").to_numpy(),
            _KEY_CATEGORY: base[S.CATEGORY].astype("str").to_numpy(),
            _CUSTOMER_SEGMENT: _customer_segments(base[S.CUSTOMER_ID], lookup),
        }
    )
    offer_cols = [c for c in OFFER_COLUMNS if c != S.MATCH]
    parts = []
    for key, how in ((_KEY_PRODUCT, MATCH_PRODUCT), (_KEY_CATEGORY, MATCH_CATEGORY)):
        # Missing keys must not meet: pandas would join NA to NA.
        left = keys.loc[keys[key].notna().to_numpy(), [_REC, key, _CUSTOMER_SEGMENT]]
        right = offers.loc[offers[key].notna().to_numpy(), [key, *offer_cols]]
        part = left.merge(right, on=key, how="inner", sort=False).drop(columns=key)
        part[S.MATCH] = how
        parts.append(part)
    pairs = pd.concat(parts, ignore_index=True)
    # Product matches come first in the concat, so keep="first" prefers them.
    pairs = pairs.drop_duplicates(subset=[_REC, S.OFFER_ID], keep="first")

    open_to_all = pairs[S.SEGMENT].isna()
    same_segment = pairs[S.SEGMENT].eq(pairs[_CUSTOMER_SEGMENT]).fillna(False).astype(bool)
    pairs = pairs.loc[(open_to_all | same_segment).to_numpy()]

    return pairs.sort_values([_REC, S.OFFER_ID], kind="stable").reset_index(drop=True)


def segment_lookup(segments: pd.Series | None) -> pd.Series | None:
    """Customer segments prepared for matching: text ids (first kept), trimmed text values."""
    if segments is None:
        return None
    lookup = segments.copy()
    lookup.index = lookup.index.astype("str")
    return lookup[~lookup.index.duplicated(keep="first")].astype("str").str.strip()


def _customer_segments(customer_ids: pd.Series, lookup: pd.Series | None) -> np.ndarray:
    """The segment of each customer (NA when unknown), as trimmed strings."""
    if lookup is None:
        return pd.Series(pd.NA, index=customer_ids.index, dtype="str").to_numpy()
    found = customer_ids.astype("str").map(lookup)
    return found.mask(found.eq("")).astype("str").to_numpy()


def _offer_dtypes(frame: pd.DataFrame, columns: tuple[str, ...] = OFFER_COLUMNS) -> pd.DataFrame:
    """Give the offer columns their contract dtypes, whether or not any offer matched."""
    dtypes = {
        S.OFFER_ID: "str",
        S.OFFER_TITLE: "str",
        S.REWARD_TYPE: "str",
        S.REWARD_VALUE: "float64",
        S.MIN_SPEND: "float64",
        S.START_DATE: "datetime64[ns]",
        S.OFFER_END_DATE: "datetime64[ns]",
        S.SEGMENT: "str",
        S.MAX_PER_CUSTOMER: "Int64",
        S.MATCH: "str",
    }
    for col in columns:
        frame[col] = frame[col].astype(dtypes[col])
    return frame
