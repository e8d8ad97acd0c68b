"""Candidate table for allocation, from a fitted pipeline: the only campaign module that knows it.

For the chosen offers, each customer's top-``n`` recommendations are matched with their usable
offers (:meth:`RecommenderPipeline.offers_for_many`: eligibility, caps, spend realism); per
(customer, offer) the best-ranked recommendation it applies to is kept. Then

- ``p_buy``: P(buy the product in the window) from a fitted
  :class:`~recsys.evaluation.calibration.PropensityCalibrator`; without one, the documented
  uncalibrated default ``FALLBACK_TOP / rank`` (10 % at rank 1, 5 % at rank 2, ...), a
  placeholder that ranks sensibly but should not be trusted for budgets;
- ``propensity = p_buy x likelihood of reaching min_spend``
(:data:`recsys.rewards.offer_book.LIKELIHOOD`);
- ``expected_cost = p_buy x expected_reward`` (= propensity x reward in currency);
- ``expected_value = propensity x typical spend`` in the product's category;
- ``match``: the offer's scope, ``"product"`` (it applies to ``product_id`` only) or
  ``"category"`` (any product of ``category``); the read-out counts conversions on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.rewards.offer_book import LIKELIHOOD

if TYPE_CHECKING:
    from recsys.evaluation.calibration import PropensityCalibrator
    from recsys.pipeline import RecommenderPipeline

__all__ = ["CANDIDATE_COLUMNS", "FALLBACK_TOP", "build_candidates"]

log = logging.getLogger(__name__)

FALLBACK_TOP = 0.1
CANDIDATE_COLUMNS = [
    S.CUSTOMER_ID, S.OFFER_ID, S.SEGMENT, S.PRODUCT_ID, S.CATEGORY, S.MATCH, S.RANK, S.SCORE,
    S.QUALIFIES, S.REWARD_IF_EARNED, S.EXPECTED_REWARD, S.PROPENSITY, S.EXPECTED_COST,
    S.EXPECTED_VALUE,
]  # fmt: skip


def build_candidates(
    pipe: RecommenderPipeline,
    offer_ids: Iterable[str] | None = None,
    *,
    n: int = 10,
    calibrator: PropensityCalibrator | None = None,
    customer_ids: Iterable[str] | None = None,
    as_of: object | None = None,
) -> pd.DataFrame:
    """One row per (customer, offer) with propensity, expected cost and expected value.

    Parameters
    ----------
    pipe : RecommenderPipeline
        Fitted, with a rewards file.
    offer_ids : iterable of str, optional
        Offers of the campaign; default every usable offer.
    n : int
        Recommendations per customer searched for offers.
    calibrator : PropensityCalibrator, optional
        Without it, ``FALLBACK_TOP / rank`` (see the module docstring).
    """
    recs = pipe.recommend_many(customer_ids, n, as_of=as_of)
    pairs = pipe.offers_for_many(recs, as_of=as_of)
    if offer_ids is not None:
        pairs = pairs.loc[pairs[S.OFFER_ID].astype(str).isin({str(o) for o in offer_ids})]
    pairs = pairs.sort_values([S.CUSTOMER_ID, S.OFFER_ID, S.RANK], kind="stable")
    pairs = pairs.drop_duplicates([S.CUSTOMER_ID, S.OFFER_ID]).reset_index(drop=True)
    rank = pairs[S.RANK].to_numpy(np.float64)
    score = pairs[S.SCORE].to_numpy(np.float64)
    if calibrator is not None and len(pairs):
        p_buy = calibrator.propensity(score, rank)
    else:
        p_buy = FALLBACK_TOP / np.maximum(rank, 1.0)
    likely = pairs[S.QUALIFIES].map(LIKELIHOOD).fillna(1.0).to_numpy(np.float64)
    if pipe.segments_ is not None:
        segment = pipe.segments_.reindex(pairs[S.CUSTOMER_ID].astype(str)).to_numpy(dtype=object)
    else:
        segment = np.full(len(pairs), None, dtype=object)
    median, _ = pipe.spend_.lookup(pairs[S.CUSTOMER_ID], pairs[S.CATEGORY])
    need = pairs[S.MIN_SPEND].to_numpy(np.float64, na_value=0.0)
    spend = np.where(np.isnan(median), need, np.fmax(median, need))
    out = pairs.assign(
        **{
            S.SEGMENT: segment,
            S.PROPENSITY: p_buy * likely,
            S.EXPECTED_COST: p_buy * pairs[S.EXPECTED_REWARD].to_numpy(np.float64),
            S.EXPECTED_VALUE: p_buy * likely * spend,
        }
    )
    log.info("built %d candidates for %d customers", len(out), out[S.CUSTOMER_ID].nunique())
    return out[CANDIDATE_COLUMNS]
