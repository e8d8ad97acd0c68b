"""Simulated campaign response with a known uplift, so a first read-out has data to show.

For each offer the **base rate** is the share of history customers who bought its product (its
category) in the last ``window_days`` of the purchase history. Every planned contact converts
with probability ``base`` (control) or ``base + uplift[offer]`` (treatment), clipped to [0, 1],
drawn from ``seed``. Each conversion becomes one purchase line of the offer's product (for a
category offer, the product of the category bought most in the history), at the median amount
of that product in the history, on a day drawn uniformly in the window after ``start``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys.campaigns.readout import match_scope
from recsys.data import schema as S
from recsys.errors import CampaignError

__all__ = ["base_rates", "simulate_response"]

log = logging.getLogger(__name__)


def _keys(rows: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Per row, whether the offer matches on its product (else category), and the key value.

    The same scope as the read-out (:func:`recsys.campaigns.readout.match_scope`).
    """
    if S.PRODUCT_ID not in rows and S.CATEGORY not in rows:
        raise CampaignError("Plan rows need the offer's product_id or category to simulate.")
    on_product = match_scope(rows) == S.PRODUCT_ID
    product = rows[S.PRODUCT_ID].astype("str") if S.PRODUCT_ID in rows else None
    category = rows[S.CATEGORY].astype("str") if S.CATEGORY in rows else None
    empty = pd.Series(pd.NA, index=rows.index, dtype="str")
    key = (product if product is not None else empty).where(on_product)
    key = key.fillna(category if category is not None else empty)
    return on_product, key


def base_rates(plan_rows: pd.DataFrame, purchases: pd.DataFrame, window_days: int) -> pd.Series:
    """Per offer, the share of history customers who bought its scope in the last window."""
    dates = pd.to_datetime(purchases[S.PURCHASE_DATE], errors="coerce")
    recent = purchases.loc[dates >= dates.max() - pd.Timedelta(days=window_days)]
    n_customers = max(purchases[S.CUSTOMER_ID].nunique(), 1)
    is_product, key = _keys(plan_rows)
    offers = pd.DataFrame({S.OFFER_ID: plan_rows[S.OFFER_ID].astype(str), "p": is_product,
                           "k": key}).drop_duplicates(S.OFFER_ID)  # fmt: skip
    buyers = {
        col: recent.groupby(recent[col].astype("str"))[S.CUSTOMER_ID].nunique()
        for col in (S.PRODUCT_ID, S.CATEGORY)
        if col in recent
    }
    rate = [
        buyers.get(S.PRODUCT_ID if p else S.CATEGORY, pd.Series(dtype=float)).get(k, 0)
        / n_customers
        for p, k in zip(offers["p"], offers["k"], strict=True)
    ]
    return pd.Series(rate, index=offers[S.OFFER_ID].to_numpy(), dtype=np.float64)


def simulate_response(
    plan_rows: pd.DataFrame,
    purchases: pd.DataFrame,
    uplift: float | Mapping[str, float],
    *,
    start: object | None = None,
    window_days: int = 30,
    seed: int = 0,
    catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Post-campaign purchase lines in which treatment converts at ``base + uplift``.

    Parameters
    ----------
    plan_rows : DataFrame
        Allocation with ``group`` and the offer's ``product_id`` / ``category``.
    purchases : DataFrame
        Purchase history (with dates), for base rates, products and amounts.
    uplift : float or mapping of offer id to float
        Added conversion probability in treatment (0.02 = 2 points).
    start : date-like, optional
        First day of the window; default the day after the last purchase.
    catalogue : DataFrame, optional
        ``product_id`` -> ``category`` (``Dataset.catalogue()``): purchases often carry no
        category of their own (it comes from the products file), and a category offer's
        converting purchase is a product of that category.

    Returns
    -------
    DataFrame
        ``customer_id``, ``product_id``, ``category``, ``purchase_date``, ``amount``.
    """
    if S.GROUP not in plan_rows:
        raise CampaignError("Simulating a response needs a control group: run assign_control.")
    rng = np.random.default_rng(seed)
    rows = plan_rows.reset_index(drop=True)
    offers = rows[S.OFFER_ID].astype(str)
    # Categories first: a category offer's base rate counts its category's buyers.
    history = purchases.assign(**{S.PRODUCT_ID: purchases[S.PRODUCT_ID].astype(str)})
    if catalogue is not None:
        by_product = catalogue.drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID)[S.CATEGORY]
        known = history.get(S.CATEGORY)
        looked_up = history[S.PRODUCT_ID].map(by_product.rename(index=str))
        history[S.CATEGORY] = looked_up if known is None else known.fillna(looked_up)
    base = base_rates(rows, history, window_days).reindex(offers).to_numpy()
    lift = (
        offers.map(dict(uplift)).fillna(0.0).to_numpy(np.float64)
        if isinstance(uplift, Mapping)
        else np.full(len(rows), float(uplift))
    )
    treated = rows[S.GROUP].eq(S.GROUP_TREATMENT).to_numpy()
    p = np.clip(base + np.where(treated, lift, 0.0), 0.0, 1.0)
    hit = np.flatnonzero(rng.random(len(rows)) < p)
    is_product, key = _keys(rows)
    top_in_category = (
        history.groupby(history[S.CATEGORY].astype("str"))[S.PRODUCT_ID].agg(
            lambda s: s.value_counts().index[0]
        )
        if S.CATEGORY in history
        else pd.Series(dtype=object)
    )
    keys = key.to_numpy(dtype=object)[hit]
    product = np.where(is_product[hit], keys, top_in_category.reindex(keys).to_numpy(dtype=object))
    amount = pd.to_numeric(history.get(S.AMOUNT), errors="coerce")
    median = amount.groupby(history[S.PRODUCT_ID]).median() if amount is not None else None
    category = history.drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID).get(S.CATEGORY)
    first = (
        pd.to_datetime(purchases[S.PURCHASE_DATE]).max() + pd.Timedelta(days=1)
        if start is None
        else pd.Timestamp(start)
    ).normalize()
    days = rng.integers(0, window_days, hit.size)
    out = pd.DataFrame(
        {
            S.CUSTOMER_ID: rows[S.CUSTOMER_ID].to_numpy()[hit],
            S.PRODUCT_ID: product,
            S.CATEGORY: (category.reindex(product).to_numpy() if category is not None else None),
            S.PURCHASE_DATE: first + pd.to_timedelta(days, unit="D"),
            S.AMOUNT: (
                median.reindex(product).fillna(0.0).to_numpy() if median is not None else 0.0
            ),
        }
    )
    log.info("simulated %d conversions from %d planned contacts", len(out), len(rows))
    return out
