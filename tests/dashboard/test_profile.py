"""Pandas helpers that feed the charts (dashboard/profile.py): activity, top products, mix,
customer profiles, offer audiences and their cut-offs."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import profile
from dashboard.columns import AUDIENCE, AUDIENCE_SHARE, MONTH, N_CUSTOMERS, N_PURCHASES, SPEND
from recsys.data import schema as S
from tests.chart_inputs import audience, catalogue, members, purchases, rewards


def test_monthly_activity_known_answer():
    monthly = profile.monthly_activity(purchases())
    assert monthly[MONTH].dt.month.tolist() == [1, 2, 3]
    assert monthly[N_PURCHASES].tolist() == [2, 2, 2]
    assert monthly[SPEND].tolist() == [120.0, 125.0, 30.0]  # missing amount counts as 0


def test_top_products_and_category_mix_use_the_catalogue():
    top = profile.top_products(purchases(), catalogue(), n=2)
    assert top[S.PRODUCT_ID].tolist() == ["P1", "P2"]  # 2 lines each; tie broken by id
    assert top[N_CUSTOMERS].tolist() == [2, 2]
    assert top[S.CATEGORY].tolist() == ["travel", "dining"]
    mix = profile.category_mix(purchases(), catalogue())
    assert mix[S.CATEGORY].tolist() == ["travel", "dining", "groceries"]
    assert mix[SPEND].tolist() == [220.0, 50.0, 5.0]


def test_customer_profile_known_answer():
    segments = pd.Series({"a": "family", "b": None}, name=S.SEGMENT)
    prof = profile.customer_profile(purchases(), "b", catalogue=catalogue(), segments=segments)
    assert (prof.segment, prof.n_purchases, prof.n_products, prof.spend) == (None, 3, 2, 125.0)
    assert prof.last_purchase == pd.Timestamp("2026-03-09")
    assert prof.recent[S.PURCHASE_DATE].is_monotonic_decreasing
    assert prof.recent[S.PRODUCT_NAME].tolist() == ["Milk", "Milk", "Flight"]
    assert profile.customer_profile(purchases(), "a", segments=segments).segment == "family"
    nobody = profile.customer_profile(purchases(), "zzz")
    assert nobody.n_purchases == 0 and nobody.mix.empty and nobody.last_purchase is None


def test_reach_per_offer_lists_every_offer_largest_reach_first():
    counts = pd.Series({"O2": 1, "O1": 2, "O9": 5})  # O9 is not in the catalogue: ignored
    audience = profile.reach_per_offer(counts, rewards(), n_customers=4)
    assert audience[S.OFFER_ID].tolist() == ["O1", "O2", "O3"]
    assert audience[AUDIENCE].tolist() == [2, 1, 0]
    assert audience[AUDIENCE_SHARE].tolist() == [0.5, 0.25, 0.0]
    assert audience["status"].tolist() == ["active", "active", "expired"]
    nobody = profile.reach_per_offer(pd.Series(dtype="int64"), rewards(), n_customers=0)
    assert nobody[AUDIENCE].tolist() == [0, 0, 0] and nobody[AUDIENCE_SHARE].eq(0).all()


@pytest.mark.parametrize(("top", "min_share", "expected"), [
    (2, None, ["007", "C2"]),
    (None, 0.5, ["007", "C2", "C3"]),  # 1.0 / 2.0 = 0.5 is kept
    (None, 0.0, ["007", "C2", "C3", "C4", "C5"]),
    (0, None, []),
    (99, None, ["007", "C2", "C3", "C4", "C5"]),
])  # fmt: skip
def test_cut_audience_by_rank_or_score(top, min_share, expected):
    cut = profile.cut_audience(audience(), top=top, min_share=min_share)
    assert cut.members[S.CUSTOMER_ID].tolist() == expected
    assert cut.sizes.equals(audience().sizes) and cut.excluded == {"recent_buyers": 2}


def test_audience_cost_if_earned_once_and_expected():
    assert profile.audience_cost(members().head(2)) == (30.0, 20.0)
    assert profile.audience_cost(members().head(0)) == (0.0, 0.0)
