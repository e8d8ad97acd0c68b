"""Candidate table from a fitted pipeline, end to end into a plan."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.campaigns.allocation import CampaignConstraints, allocate
from recsys.campaigns.candidates import CANDIDATE_COLUMNS, FALLBACK_TOP, build_candidates
from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.data.sample import generate_sample
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline


@pytest.fixture(scope="module")
def pipe() -> RecommenderPipeline:
    data = generate_sample(n_customers=300, n_products=40, n_purchases=6000, seed=5)
    dataset = Dataset(**{k: data[k] for k in ("purchases", "rewards", "customers", "products")})
    return RecommenderPipeline(ModelParams(n_neighbors=10)).fit(dataset)


def test_one_row_per_customer_and_offer_with_consistent_costs(pipe: RecommenderPipeline) -> None:
    cands = build_candidates(pipe, n=10)
    assert list(cands.columns) == CANDIDATE_COLUMNS and len(cands)
    assert not cands.duplicated([S.CUSTOMER_ID, S.OFFER_ID]).any()
    p_buy = FALLBACK_TOP / cands[S.RANK].to_numpy(float)  # the documented fallback
    assert np.allclose(cands[S.EXPECTED_COST], p_buy * cands[S.EXPECTED_REWARD])
    assert (cands[S.PROPENSITY] <= p_buy + 1e-12).all() and cands[S.SEGMENT].notna().all()


def test_chosen_offers_only_and_a_plan_within_budget(pipe: RecommenderPipeline) -> None:
    some = sorted(build_candidates(pipe, n=5)[S.OFFER_ID].unique())[:3]
    cands = build_candidates(pipe, some, n=5)
    assert set(cands[S.OFFER_ID]) <= set(some)
    budget = cands[S.EXPECTED_COST].sum() / 4
    plan = allocate(cands, CampaignConstraints(global_budget=budget))
    assert 0 < plan.expected_cost <= budget * (1 + 1e-9)
