"""Known-answer tests of spend realism, reward normalisation and caps (recsys/spend.py).

Spend per purchase of customer ``a`` (hand-checkable quantiles, linear interpolation):
dining 10, 20, 30, 40, 100 -> median 30, p80 52; travel 500 -> median = p80 = 500;
overall (all six lines) -> median 35, p80 100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data import schema as S
from recsys.data.dataset import load_dataset
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.rewards.offer_book import (
    POINT_VALUE,
    QUALIFY_LIKELY,
    QUALIFY_STRETCH,
    QUALIFY_UNKNOWN,
    QUALIFY_UNLIKELY,
    capped,
    fit_spend_profile,
    qualification,
    redemption_counts,
    reward_in_currency,
)
from tests.known_data import CUSTOMERS, PRODUCTS, PURCHASES, checkerboard


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: ["a"] * 6 + ["b"],
            S.PRODUCT_ID: ["d1", "d2", "d1", "d2", "d3", "t1", "d1"],
            S.CATEGORY: [None] * 7,
            S.AMOUNT: [10.0, 20.0, 30.0, 40.0, 100.0, 500.0, np.nan],
        }
    )


CATALOGUE = pd.DataFrame(
    {S.PRODUCT_ID: ["d1", "d2", "d3", "t1"], S.CATEGORY: ["dining"] * 3 + ["travel"]}
)


def test_profile_median_and_p80_per_category_from_the_catalogue():
    profile = fit_spend_profile(_lines(), CATALOGUE)
    median, p80 = profile.lookup(["a", "a"], ["dining", "travel"])
    assert median.tolist() == [30.0, 500.0]
    assert p80.tolist() == pytest.approx([52.0, 500.0])


def test_profile_falls_back_to_overall_then_unknown():
    profile = fit_spend_profile(_lines(), CATALOGUE)
    median, p80 = profile.lookup(["a", "a", "b", "zz"], ["groceries", None, "dining", "dining"])
    assert median[:2].tolist() == [35.0, 35.0]
    assert p80[:2].tolist() == pytest.approx([100.0, 100.0])
    # b's only line has no amount; zz never bought anything.
    assert np.isnan(median[2:]).all() and np.isnan(p80[2:]).all()


def test_profile_without_amounts_is_empty():
    lines = _lines().assign(**{S.AMOUNT: np.nan})
    median, _ = fit_spend_profile(lines, CATALOGUE).lookup(["a"], ["dining"])
    assert np.isnan(median).all()


@pytest.mark.parametrize(
    "min_spend, expected",
    [
        (0.0, QUALIFY_LIKELY),
        (29.99, QUALIFY_LIKELY),
        (30.0, QUALIFY_LIKELY),  # median == min_spend reaches it
        (30.01, QUALIFY_STRETCH),
        (52.0, QUALIFY_STRETCH),  # p80 == min_spend reaches it
        (52.01, QUALIFY_UNLIKELY),
    ],
)
def test_qualification_thresholds(min_spend, expected):
    assert qualification(np.array([30.0]), np.array([52.0]), np.array([min_spend]))[0] == expected


def test_qualification_unknown_spend_unless_no_min_spend():
    labels = qualification(np.array([np.nan, np.nan]), np.array([np.nan] * 2), np.array([5.0, 0]))
    assert labels.tolist() == [QUALIFY_UNKNOWN, QUALIFY_LIKELY]


def test_reward_values_normalised_to_currency():
    values = reward_in_currency(
        ["points_multiplier", "cashback", "statement_credit", "discount_pct", "cashback"],
        [3.0, 10.0, 50.0, 5.0, np.nan],
        [200.0, 200.0, 200.0, 200.0, 200.0],
    )
    assert values.tolist() == pytest.approx([3 * 200 * POINT_VALUE, 10.0, 50.0, 10.0, 0.0])


def test_caps_count_redemptions_per_customer_and_offer():
    counts = redemption_counts(
        pd.DataFrame({S.CUSTOMER_ID: ["a", "a", "b"], S.OFFER_ID: ["O1", "O1", "O1"]})
    )
    caps = pd.array([2, 3, 2, pd.NA, 1], dtype="Int64")
    used = capped(["a", "a", "b", "a", "c"], ["O1", "O1", "O1", "O1", "O2"], caps, counts)
    assert used.tolist() == [True, False, False, False, False]
    assert not capped(["a"], ["O1"], pd.array([1], dtype="Int64"), None).any()


# --- through the pipeline ----------------------------------------------------------------------
# a1 spent 10 and 12 on dining (median 11, p80 11.8). O1 (p3, cashback 10, min 20) is out of
# reach; O2 (3x dining points, no min) is reachable but worth 3 x 11 x 0.01 = 0.33.
CAPS = (
    "offer_id,product_id,category,title,reward_type,reward_value,min_spend,start_date,end_date,"
    "segment,max_per_customer\n"
    "O1,p3,,Bistro cashback,cashback,10,20,2026-01-01,2026-12-31,,1\n"
    "O2,,dining,3x dining,points_multiplier,3,0,,,,2\n"
    "O5,p3,,Bistro stretch,cashback,6,11.5,,,,\n"
)


def _fit(boost: float = 0.0, redemptions: str | None = None) -> RecommenderPipeline:
    data = checkerboard(rewards=CAPS)
    if redemptions is not None:
        data = load_dataset(
            PURCHASES.encode(),
            rewards=CAPS.encode(),
            customers=CUSTOMERS.encode(),
            products=PRODUCTS.encode(),
            redemptions=redemptions.encode(),
        )
    return RecommenderPipeline(ModelParams(n_neighbors=2, reward_boost=boost)).fit(data)


def test_rewards_for_labels_each_offer_and_prefers_reachable_offers():
    offers = _fit().eligible_offers("a1", n=1)
    # Reachable first (O2), then stretch (O5), then unlikely (O1), whatever the raw value.
    assert offers[S.OFFER_ID].tolist() == ["O2", "O5", "O1"]
    assert offers[S.QUALIFIES].tolist() == [QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNLIKELY]
    assert offers[S.REWARD_IF_EARNED].tolist() == pytest.approx([0.33, 6.0, 10.0])
    assert offers[S.EXPECTED_REWARD].tolist() == pytest.approx([0.33, 3.0, 1.0])
    best = _fit().rewards_for("a1", n=1)
    assert best[S.OFFER_ID].tolist() == ["O2"] and best[S.QUALIFIES].tolist() == [QUALIFY_LIKELY]


def test_reward_aware_mode_orders_offers_the_same_way():
    offers = _fit(boost=0.5).eligible_offers("a1", n=1)
    # Reachable first (O2), then stretch (O5), then unlikely (O1), whatever the raw value.
    assert offers[S.OFFER_ID].tolist() == ["O2", "O5", "O1"]
    assert offers["offer_rank"].tolist() == [1, 2, 3]
    assert _fit(boost=0.5).rewards_for("a1", n=1)[S.OFFER_ID].tolist() == ["O2"]


def test_used_up_offers_are_not_eligible():
    redemptions = "customer_id,offer_id,redeemed_at\na1,O1,2026-03-01\na1,O2,2026-03-02\n"
    pipe = _fit(redemptions=redemptions)
    offers = pipe.eligible_offers("a1", n=1)
    # O1 (cap 1) is used up; O2 (cap 2) was used once; O5 has no cap.
    assert offers[S.OFFER_ID].tolist() == ["O2", "O5"]
    assert pipe.rewards_for("a1", n=1)[S.N_ELIGIBLE_OFFERS].tolist() == [2]
    # Other customers are not affected by a1's redemptions.
    a2 = pd.DataFrame({S.CUSTOMER_ID: ["a2"], S.PRODUCT_ID: ["p3"], S.CATEGORY: ["dining"]})
    assert sorted(pipe.offer_book().pairs(a2)[S.OFFER_ID]) == ["O1", "O2", "O5"]


def test_offers_match_rewards_module_without_caps_only_the_order_differs():
    from recsys.rewards.eligibility import eligible_offers

    pipe = RecommenderPipeline(ModelParams(n_neighbors=2)).fit(checkerboard())
    recs = pipe.recommend_many(n=3)
    key = [S.CUSTOMER_ID, S.PRODUCT_ID, S.OFFER_ID]
    ours = pipe.offers_for_many(recs)[key].sort_values(key, ignore_index=True)
    theirs = eligible_offers(
        recs, pipe.rewards_, as_of=pipe.as_of_, segments=pipe.segments_.dropna()
    )[key].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(ours, theirs)
    counts = theirs.groupby([S.CUSTOMER_ID, S.PRODUCT_ID]).size()
    best = pipe.attach_offers(recs).set_index([S.CUSTOMER_ID, S.PRODUCT_ID])
    expected = counts.reindex(best.index, fill_value=0)
    assert best[S.N_ELIGIBLE_OFFERS].tolist() == expected.tolist()


def test_group_quantiles_equal_pandas_groupby_on_random_groups():
    from recsys.rewards.offer_book import _group_quantiles

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 300, 5000)
    values = rng.gamma(2.0, 30.0, 5000).round(2)
    unique, (median, p80) = _group_quantiles(keys, values, (0.5, 0.8))
    grouped = pd.DataFrame({"k": keys, "v": values}).groupby("k")["v"]
    assert unique.tolist() == grouped.median().index.tolist()
    np.testing.assert_allclose(median, grouped.median().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(p80, grouped.quantile(0.8).to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("offset", [0, 2**62])  # 2**62: too large to pack, so lexsort is used
def test_sorted_pairs_order_by_key_then_value(offset):
    from recsys.rewards.offer_book import _sorted_pairs

    rng = np.random.default_rng(4)
    keys = rng.integers(0, 50, 2000) + offset
    values = rng.normal(0.0, 10.0, 2000).round(1)  # negatives and ties
    sorted_keys, sorted_values = _sorted_pairs(keys, values)
    order = np.lexsort((values, keys))
    assert sorted_keys.tolist() == keys[order].tolist()
    assert sorted_values.tolist() == values[order].tolist()


@pytest.mark.parametrize("offset", [0, 2**61])  # 2**61: too large to pack, so pandas is used
def test_group_max_equals_pandas_groupby(offset):
    from recsys.rewards.offer_book import _group_max

    rng = np.random.default_rng(5)
    keys = rng.integers(0, 40, 3000) + offset
    values = rng.integers(-5, 20_000, 3000)
    found_keys, found_max = _group_max(keys, values)
    expected = pd.Series(values).groupby(keys).max()
    assert found_keys.tolist() == expected.index.tolist()
    assert found_max.tolist() == expected.tolist()


def test_spend_categories_come_from_the_line_else_the_catalogue():
    from recsys.rewards.offer_book import fit_spend_profile

    purchases = pd.DataFrame(
        {
            S.CUSTOMER_ID: ["a", "a", "b", "b", "b"],
            S.PRODUCT_ID: ["x", "y", "x", "z", "w"],
            S.AMOUNT: [10.0, 20.0, 30.0, 40.0, np.nan],  # the line without an amount is ignored
            S.CATEGORY: [None, "toys", "fruit", None, "books"],
        },
        dtype=object,
    ).astype({S.CUSTOMER_ID: "str", S.PRODUCT_ID: "str", S.CATEGORY: "str", S.AMOUNT: float})
    # y's own category (veg) is overridden by its only line, so veg is not a category here.
    catalogue = pd.DataFrame(
        {S.PRODUCT_ID: ["x", "y", "z", "w"], S.CATEGORY: ["fruit", "veg", None, "books"]},
        dtype="str",
    )
    profile = fit_spend_profile(purchases, catalogue)
    assert list(profile.categories) == ["fruit", "toys"]
    median, _ = profile.lookup(["a", "a", "b", "b", "b"], ["fruit", "toys", "fruit", "toys", None])
    # a: fruit {10}, toys {20}; b: fruit {30} and no toys line (falls back to b's overall 35).
    assert median.tolist() == [10.0, 20.0, 30.0, 35.0, 35.0]


def test_rewards_for_by_codes_equals_matching_the_frame_by_text():
    from recsys.data.dataset import SAMPLE_DIR

    data = load_dataset(
        SAMPLE_DIR / "purchases.csv",
        rewards=SAMPLE_DIR / "rewards.csv",
        customers=SAMPLE_DIR / "customers.csv",
        products=SAMPLE_DIR / "products.csv",
    )
    pipe = RecommenderPipeline().fit(data)
    with_offers = 0
    for customer in pipe.customer_ids[::20]:
        recs = pipe.recommend(customer, 10)
        recs.insert(0, S.CUSTOMER_ID, customer)
        by_text = pipe.attach_offers(recs)
        by_codes = pipe.rewards_for(customer, 10)
        pd.testing.assert_frame_equal(by_codes, by_text.reset_index(drop=True))
        with_offers += int(by_codes[S.OFFER_ID].notna().sum())
    assert with_offers > 0  # the comparison covered matched offers, not only empty ones
