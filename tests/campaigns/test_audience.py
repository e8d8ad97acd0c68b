"""Known-answer tests of offer audiences (recsys/audience.py), on the data of test_campaigns.

Audience of p3 (offer O3, open to all): a3 (2/sqrt6), a1 (1/sqrt3), a4 (1/sqrt6); a2 scores 0
(no neighbour of a2 bought p3). O7 is the same offer for segment A, capped at 1 per customer.
"""

from __future__ import annotations

import math

import pytest

from recsys.campaigns.audience import offer_audience
from recsys.data import schema as S
from recsys.errors import UnknownOfferError
from tests.known_data import S2, S3, S4, reward_pipe

R2, R3, R6 = math.sqrt(2), math.sqrt(3), math.sqrt(6)


def test_audience_ranked_by_score_for_the_product():
    audience = offer_audience(reward_pipe(), "O3")
    members = audience.members
    assert members[S.CUSTOMER_ID].tolist() == ["a3", "a1", "a4"]
    assert members[S.SCORE].tolist() == pytest.approx([2 / R6, 1 / R3, 1 / R6])
    assert members[S.SCORE_SHARE].tolist() == pytest.approx([1.0, 1 / R2, 0.5])
    assert members[S.RANK].tolist() == [1, 2, 3]
    assert set(members[S.PRODUCT_ID]) == {"p3"}
    assert audience.status == "active"
    sizes = audience.sizes.set_index("min_score_share")
    assert sizes.loc[0.5, "customers"] == 3 and sizes.loc[0.75, "customers"] == 1
    assert sizes.loc[0.0, "expected_cost"] == pytest.approx(30.0)  # 3 x cashback 10


def test_audience_top_keeps_sizes_of_the_whole_audience():
    audience = offer_audience(reward_pipe(), "O3", top=1)
    assert audience.members[S.CUSTOMER_ID].tolist() == ["a3"]
    assert audience.sizes["customers"].iloc[0] == 3


def test_audience_applies_segment_and_caps():
    assert offer_audience(reward_pipe(), "O7").members[S.CUSTOMER_ID].tolist() == ["a1", "a4"]
    used = "customer_id,offer_id\na1,O7\n"
    audience = offer_audience(reward_pipe(redemptions=used), "O7")
    assert audience.members[S.CUSTOMER_ID].tolist() == ["a4"]
    assert audience.excluded == {"segment": 2, "used_up": 1, "recent_buyers": 0}


def test_audience_recent_buyer_window_for_a_category_offer():
    pipe = reward_pipe()
    # As of 2026-06-30, everyone but a1 bought dining in the last 30 days.
    recent = offer_audience(pipe, "OD", exclude_recent_days=30)
    assert recent.members[S.CUSTOMER_ID].tolist() == ["a1"]
    assert recent.excluded["recent_buyers"] == 3
    everyone = offer_audience(pipe, "OD", exclude_recent_days=None)
    assert sorted(everyone.members[S.CUSTOMER_ID]) == ["a1", "a2", "a3", "a4"]
    # Max over the category (p1 is a1's strongest dining score) versus the sum.
    a1_max = everyone.members.set_index(S.CUSTOMER_ID).loc["a1", S.SCORE]
    assert a1_max == pytest.approx(S3 + 2 * S4)
    a1_sum = offer_audience(pipe, "OD", exclude_recent_days=None, aggregate="sum").members
    assert a1_sum.set_index(S.CUSTOMER_ID).loc["a1", S.SCORE] == pytest.approx(
        (S3 + 2 * S4) + S2 + S3
    )


def test_unknown_offer_is_a_clear_error():
    with pytest.raises(UnknownOfferError, match="Unknown offer id 'NOPE'"):
        offer_audience(reward_pipe(), "NOPE")


def test_audience_from_the_kept_neighbour_table_equals_the_searched_one(monkeypatch):
    import pandas as pd

    from recsys.campaigns.reach import offer_reach
    from recsys.data.dataset import load_sample
    from recsys.models.user_knn import UserKNN
    from recsys.params import ModelParams
    from recsys.pipeline import RecommenderPipeline

    pipe = RecommenderPipeline(ModelParams(n_neighbors=10)).fit(load_sample())
    offers = ["O001", "O004", "O010"]  # a category offer and two product offers
    searched = [offer_audience(pipe, o, exclude_recent_days=None) for o in offers]
    offer_reach(pipe, 10, keep_neighbors=True)
    assert pipe.neighbor_table() is not None

    def no_search(*args, **kwargs):
        raise AssertionError("the audience must be scored from the kept neighbour lists")

    monkeypatch.setattr(UserKNN, "kneighbors", no_search)
    for offer, before in zip(offers, searched, strict=True):
        after = offer_audience(pipe, offer, exclude_recent_days=None)
        assert len(before.members) > 100
        pd.testing.assert_frame_equal(after.members, before.members)
        pd.testing.assert_frame_equal(after.sizes, before.sizes)
