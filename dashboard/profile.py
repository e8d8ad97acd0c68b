"""Pandas helpers that shape core data for the pages: data profile, customer profile, audiences.

Pure functions of DataFrames (no Streamlit), cached by :mod:`dashboard.cache` and tested directly.
Pages call them through the cache and render the result; they never reshape data themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard.columns import (
    AUDIENCE,
    AUDIENCE_SHARE,
    MONTH,
    N_CUSTOMERS,
    N_PURCHASES,
    SPEND,
    STATUS,
)
from recsys.campaigns.audience import Audience
from recsys.data.schema import (
    AMOUNT,
    CATEGORY,
    CUSTOMER_ID,
    EXPECTED_REWARD,
    OFFER_ID,
    PRODUCT_ID,
    PRODUCT_NAME,
    PURCHASE_DATE,
    QUANTITY,
    REWARD_IF_EARNED,
    REWARD_TYPE,
    REWARD_VALUE,
    SCORE_SHARE,
    TITLE,
)

RECENT_PURCHASES = 10


def _with_catalogue(purchases: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """Purchases with product name and category taken from the catalogue where it has them."""
    if catalogue is None or catalogue.empty:
        return purchases
    cat = catalogue.drop_duplicates(PRODUCT_ID).set_index(PRODUCT_ID)
    out = purchases.copy()
    for col in (PRODUCT_NAME, CATEGORY):
        if col in cat:
            looked_up = out[PRODUCT_ID].map(cat[col])
            out[col] = looked_up.where(looked_up.notna(), out[col]) if col in out else looked_up
    return out


def _spend(purchases: pd.DataFrame) -> pd.Series:
    return purchases[AMOUNT].astype("float64").fillna(0.0)


def monthly_activity(purchases: pd.DataFrame) -> pd.DataFrame:
    """Purchase lines and spend per calendar month (empty when there are no dates)."""
    dates = pd.to_datetime(purchases[PURCHASE_DATE], errors="coerce")
    known = dates.notna()
    if not known.any():
        return pd.DataFrame(
            {
                MONTH: pd.Series(dtype="datetime64[ns]"),
                N_PURCHASES: pd.Series(dtype="int64"),
                SPEND: pd.Series(dtype="float64"),
            }
        )
    month = dates[known].dt.to_period("M").dt.to_timestamp()
    frame = pd.DataFrame({MONTH: month, SPEND: _spend(purchases)[known]})
    out = frame.groupby(MONTH, sort=True).agg(
        **{N_PURCHASES: (SPEND, "size"), SPEND: (SPEND, "sum")}
    )
    return out.reset_index()


def top_products(
    purchases: pd.DataFrame, catalogue: pd.DataFrame | None = None, n: int = 15
) -> pd.DataFrame:
    """The ``n`` most purchased products with name, category, lines, customers and spend."""
    df = _with_catalogue(purchases, catalogue).assign(**{SPEND: _spend(purchases)})
    grouped = df.groupby(PRODUCT_ID, sort=False)
    out = pd.DataFrame(
        {
            N_PURCHASES: grouped.size(),
            N_CUSTOMERS: grouped[CUSTOMER_ID].nunique(),
            SPEND: grouped[SPEND].sum(),
            PRODUCT_NAME: grouped[PRODUCT_NAME].first(),
            CATEGORY: grouped[CATEGORY].first(),
        }
    ).reset_index()
    out = out.sort_values([N_PURCHASES, PRODUCT_ID], ascending=[False, True], kind="stable")
    cols = [PRODUCT_ID, PRODUCT_NAME, CATEGORY, N_PURCHASES, N_CUSTOMERS, SPEND]
    return out.head(n)[cols].reset_index(drop=True)


def category_mix(purchases: pd.DataFrame, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Purchase lines and spend per category, largest spend first (missing -> NA category)."""
    df = _with_catalogue(purchases, catalogue)
    frame = pd.DataFrame({CATEGORY: df[CATEGORY].astype("object"), SPEND: _spend(df)})
    out = (
        frame.groupby(CATEGORY, dropna=False, sort=False)
        .agg(**{N_PURCHASES: (SPEND, "size"), SPEND: (SPEND, "sum")})
        .reset_index()
    )
    return out.sort_values([SPEND, N_PURCHASES], ascending=False, kind="stable", ignore_index=True)


def purchases_per_customer(purchases: pd.DataFrame) -> pd.DataFrame:
    """How many customers have each number of purchase lines (the long-tail chart's input).

    One row per distinct count (``n_purchases``, ``n_customers``), ascending: at most a few hundred
    rows however many customers there are, so the chart never ships one value per customer.

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "product_id": list("xyxz")})
    >>> purchases_per_customer(frame).to_dict("list")
    {'n_purchases': [1, 2], 'n_customers': [2, 1]}
    """
    lines = purchases.groupby(CUSTOMER_ID, sort=False).size()
    counts = lines.value_counts().sort_index()
    return pd.DataFrame(
        {N_PURCHASES: counts.index.to_numpy(dtype="int64"), N_CUSTOMERS: counts.to_numpy("int64")}
    )


@dataclass
class CustomerProfile:
    """What the explorer shows about one customer's history."""

    customer_id: str
    segment: str | None
    n_purchases: int
    n_products: int
    spend: float
    first_purchase: pd.Timestamp | None
    last_purchase: pd.Timestamp | None
    mix: pd.DataFrame = field(default_factory=pd.DataFrame)
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)
    products: list[str] = field(default_factory=list)


def customer_profile(
    purchases: pd.DataFrame,
    customer_id: str,
    *,
    catalogue: pd.DataFrame | None = None,
    segments: pd.Series | None = None,
) -> CustomerProfile:
    """Profile of one customer from the dataset's purchases (empty profile when absent)."""
    mine = purchases[purchases[CUSTOMER_ID] == str(customer_id)]
    mine = _with_catalogue(mine, catalogue)
    segment = None
    if segments is not None and str(customer_id) in segments.index:
        value = segments.loc[str(customer_id)]
        segment = None if pd.isna(value) else str(value)
    dates = pd.to_datetime(mine[PURCHASE_DATE], errors="coerce")
    recent = mine.assign(**{PURCHASE_DATE: dates})
    if dates.notna().any():
        recent = recent.sort_values(PURCHASE_DATE, ascending=False, kind="stable")
    recent = recent.head(RECENT_PURCHASES)[
        [PURCHASE_DATE, PRODUCT_ID, PRODUCT_NAME, CATEGORY, QUANTITY, AMOUNT]
    ].reset_index(drop=True)
    return CustomerProfile(
        customer_id=str(customer_id),
        segment=segment,
        n_purchases=int(len(mine)),
        n_products=int(mine[PRODUCT_ID].nunique()),
        spend=float(_spend(mine).sum()),
        first_purchase=None if dates.isna().all() else dates.min(),
        last_purchase=None if dates.isna().all() else dates.max(),
        mix=category_mix(mine) if len(mine) else category_mix(mine.head(0)),
        recent=recent,
        products=sorted(mine[PRODUCT_ID].astype(str).unique().tolist()),
    )


def reach_per_offer(counts: pd.Series, rewards: pd.DataFrame, n_customers: int) -> pd.DataFrame:
    """The offer catalogue with each offer's reach in the top-N recommendations.

    This is the offer's *reach* in the top-N recommendations; the *targeted audience* of one
    offer (everyone eligible, ranked by score) is :func:`recsys.campaigns.audience.offer_audience`.

    ``counts`` are the distinct customers reached per ``offer_id``
    (:attr:`recsys.campaigns.reach.OfferReach.audience`); ``rewards`` the offer catalogue (with
    ``status`` if known). Every offer is listed, audience 0 included, largest audience first.

    Examples
    --------
    >>> rewards = pd.DataFrame({"offer_id": ["O1", "O2", "O3"]})
    >>> table = reach_per_offer(pd.Series({"O2": 3, "O1": 1}), rewards, n_customers=4)
    >>> table[["offer_id", "audience", "audience_share"]].to_dict("list")
    {'offer_id': ['O2', 'O1', 'O3'], 'audience': [3, 1, 0], 'audience_share': [0.75, 0.25, 0.0]}
    """
    wanted = (OFFER_ID, TITLE, PRODUCT_ID, CATEGORY, REWARD_TYPE, REWARD_VALUE, STATUS)
    cols = [c for c in wanted if c in rewards]
    out = rewards[cols].copy()
    out[AUDIENCE] = out[OFFER_ID].map(counts).fillna(0).astype("int64")
    out[AUDIENCE_SHARE] = out[AUDIENCE] / max(int(n_customers), 1)
    return out.sort_values(
        [AUDIENCE, OFFER_ID], ascending=[False, True], kind="stable", ignore_index=True
    )


def cut_audience(
    audience: Audience, *, top: int | None = None, min_share: float | None = None
) -> Audience:
    """The targeted part of an offer's audience: its best ``top`` members, or those scoring at
    least ``min_share`` of the top score (members are ordered best first). ``sizes`` and
    ``excluded`` still describe the whole audience.
    """
    members = audience.members
    if top is not None:
        members = members.head(max(int(top), 0))
    if min_share is not None:
        members = members[members[SCORE_SHARE] >= float(min_share) - 1e-12]
    return replace(audience, members=members.reset_index(drop=True))


def audience_cost(members: pd.DataFrame) -> tuple[float, float]:
    """Cost if each member earns the reward once, and that cost times their chance to qualify."""
    if members.empty:
        return 0.0, 0.0
    return (
        float(members[REWARD_IF_EARNED].fillna(0.0).sum()),
        float(members[EXPECTED_REWARD].fillna(0.0).sum()),
    )


# --- customer picker -----------------------------------------------------------------------------
def search_ids(ids: np.ndarray, query: str, limit: int) -> tuple[list[str], int]:
    """Ids containing ``query`` over every customer: an exact match first, then ids starting
    with it, then the others (each in id order); at most ``limit`` of them, and how many match.

    Vectorised over the sorted vocabulary (one substring scan), so it stays quick at a million
    customers.
    """
    query = query.strip()
    if not query:
        return [str(i) for i in ids[:limit]], len(ids)
    text = ids.astype(str)
    found = np.flatnonzero(np.char.find(text, query) >= 0)
    starts = np.char.startswith(text[found], query)
    exact = text[found] == query
    # A stable sort on (not exact, not prefix) keeps id order inside each group.
    order = np.lexsort((~starts, ~exact))
    chosen = found[order[:limit]]
    return text[chosen].tolist(), len(found)
