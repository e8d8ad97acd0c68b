"""The offer book's array matching and ranking against the rules applied one pair at a time.

Random recommendations, offers (by product or category, segments, validity dates, min spend,
four reward types, caps), redemptions and spend: for every recommendation the brute force walks
every offer, applies the rules of ``recsys.rewards.eligibility`` and ``offer_book`` literally,
and must find the same usable offers, in the same order, with the same values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data import schema as S
from recsys.rewards.offer_book import (
    LIKELIHOOD,
    OfferBook,
    fit_spend_profile,
    qualification,
    redemption_counts,
    reward_in_currency,
)

AS_OF = pd.Timestamp("2026-06-15")
TYPES = ["points_multiplier", "cashback", "statement_credit", "discount_pct"]
REACH = {"likely to qualify": 0, "unknown": 0, "stretch": 1, "unlikely": 2}


def _world(seed: int) -> tuple[pd.DataFrame, OfferBook, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = [f"c{i}" for i in range(12)]
    products = [f"p{i}" for i in range(15)]
    category_of = {p: f"k{rng.integers(4)}" for p in products}
    segment_of = pd.Series(rng.choice(["gold", "blue", ""], len(customers)), index=customers)
    n_offers = 25
    by_product = rng.random(n_offers) < 0.5
    offers = pd.DataFrame(
        {
            # Offer ids out of order, so the offer-id tie rule is not the file order.
            S.OFFER_ID: [f"O{i:02d}" for i in rng.permutation(n_offers)],
            S.PRODUCT_ID: np.where(by_product, rng.choice(products, n_offers), None),
            S.CATEGORY: np.where(
                ~by_product | (rng.random(n_offers) < 0.2),
                rng.choice([f"k{i}" for i in range(5)], n_offers),
                None,
            ),
            S.TITLE: "t",
            S.REWARD_TYPE: rng.choice(TYPES, n_offers),
            # Few distinct values, so equal expected rewards and the id tie rule occur.
            S.REWARD_VALUE: rng.choice([1.0, 2.0, 5.0], n_offers),
            S.MIN_SPEND: rng.choice([0.0, 20.0, 45.0, 80.0], n_offers),
            S.START_DATE: pd.to_datetime(rng.choice(["2026-01-01", "2026-07-01"], n_offers)),
            S.END_DATE: pd.to_datetime(
                rng.choice(["2026-12-31", "2026-06-15", "2026-06-01"], n_offers)
            ),
            S.SEGMENT: rng.choice(["gold", "blue", None, None], n_offers),
            S.MAX_PER_CUSTOMER: pd.array(rng.choice([1, 2, None], n_offers), dtype="Int64"),
        }
    )
    lines = pd.DataFrame(
        {
            S.CUSTOMER_ID: rng.choice(customers[:10], 60),  # c10, c11: no spend on record
            S.PRODUCT_ID: rng.choice(products, 60),
            S.AMOUNT: rng.choice([5.0, 15.0, 30.0, 50.0, 90.0], 60),
        }
    )
    lines[S.CATEGORY] = lines[S.PRODUCT_ID].map(category_of)
    redemptions = pd.DataFrame(
        {
            S.CUSTOMER_ID: rng.choice(customers, 30),
            S.OFFER_ID: rng.choice(offers[S.OFFER_ID], 30),
        }
    )
    book = OfferBook(
        rewards=offers,
        as_of=AS_OF,
        segments=segment_of,
        profile=fit_spend_profile(lines),
        redeemed=redemption_counts(redemptions),
    )
    recs = pd.DataFrame(
        {S.CUSTOMER_ID: rng.choice(customers, 40), S.PRODUCT_ID: rng.choice(products, 40)}
    )
    recs[S.CATEGORY] = recs[S.PRODUCT_ID].map(category_of)
    recs[S.SCORE] = rng.random(40)
    return recs, book, redemptions


def _brute_force(recs: pd.DataFrame, book: OfferBook, redemptions: pd.DataFrame) -> list[list]:
    """Per recommendation: its usable offers, best first, as
    ``(offer_id, match, qualifies, expected_reward)``."""
    offers, segments, out = book.rewards, book.segments, []
    used = redemptions.groupby([S.CUSTOMER_ID, S.OFFER_ID]).size().to_dict()
    for rec in recs.itertuples(index=False):
        customer, product, category = rec.customer_id, rec.product_id, rec.category
        median, p80 = book.profile.lookup([customer], [category])
        found = []
        for offer in offers.itertuples(index=False):
            if offer.product_id == product:
                match = "product"
            elif not pd.isna(offer.category) and offer.category == category:
                match = "category"
            else:
                continue
            if not (offer.start_date <= AS_OF <= offer.end_date):
                continue
            if not pd.isna(offer.segment) and offer.segment != segments[customer]:
                continue
            cap = offer.max_per_customer
            if cap is not pd.NA and used.get((customer, offer.offer_id), 0) >= cap:
                continue
            label = qualification(median, p80, np.array([offer.min_spend]))[0]
            spend = offer.min_spend if np.isnan(median[0]) else max(median[0], offer.min_spend)
            earned = reward_in_currency([offer.reward_type], [offer.reward_value], [spend])[0]
            found.append((offer.offer_id, match, label, earned * LIKELIHOOD[label]))
        found.sort(key=lambda f: (REACH[f[2]], -f[3], f[0]))
        out.append(found)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_pairs_and_best_offer_equal_the_rules_applied_one_pair_at_a_time(seed):
    recs, book, redemptions = _world(seed)
    expected = _brute_force(recs, book, redemptions)

    pairs = book.pairs(recs)
    got = [
        [
            (r.offer_id, r.match, r.qualifies, pytest.approx(r.expected_reward))
            for r in pairs.iloc[start:stop].itertuples()
        ]
        for start, stop in _runs(pairs, recs)
    ]
    assert got == expected
    assert pairs[S.OFFER_RANK].tolist() == [i + 1 for found in expected for i in range(len(found))]

    best = book.best(recs)
    assert best[S.OFFER_ID].fillna("none").tolist() == [f[0][0] if f else "none" for f in expected]
    assert best[S.QUALIFIES].fillna("none").tolist() == [f[0][2] if f else "none" for f in expected]
    assert best[S.N_ELIGIBLE_OFFERS].tolist() == [len(f) for f in expected]
    assert best[S.SCORE].tolist() == recs[S.SCORE].tolist()  # the rec's own columns are kept
    values = book.best_values(recs)
    assert values.tolist() == pytest.approx([f[0][3] if f else 0.0 for f in expected])
    assert sum(map(len, expected)) >= len(recs) // 4  # the random world does match offers


def _runs(pairs: pd.DataFrame, recs: pd.DataFrame) -> list[tuple[int, int]]:
    """Row ranges of ``pairs`` per recommendation, in the order of ``recs``."""
    key = list(zip(pairs[S.CUSTOMER_ID], pairs[S.PRODUCT_ID], pairs[S.SCORE], strict=True))
    runs, at = [], 0
    for rec in zip(recs[S.CUSTOMER_ID], recs[S.PRODUCT_ID], recs[S.SCORE], strict=True):
        stop = at
        while stop < len(key) and key[stop] == rec:
            stop += 1
        runs.append((at, stop))
        at = stop
    assert at == len(pairs)
    return runs


def test_redemptions_of_offers_not_valid_on_the_day_change_nothing():
    recs, book, _ = _world(0)
    offers = book.rewards
    expired = offers.loc[offers[S.END_DATE] < AS_OF, S.OFFER_ID].iloc[:1]
    redemptions = pd.DataFrame({S.CUSTOMER_ID: ["c1"], S.OFFER_ID: expired.tolist()})
    with_expired = OfferBook(
        rewards=offers,
        as_of=AS_OF,
        segments=book.segments,
        profile=book.profile,
        redeemed=redemption_counts(redemptions),
    )
    without = OfferBook(rewards=offers, as_of=AS_OF, segments=book.segments, profile=book.profile)
    pd.testing.assert_frame_equal(with_expired.best(recs), without.best(recs))


@pytest.mark.parametrize("seed", range(20))
def test_best_per_group_is_the_first_of_the_stable_lexsort(seed):
    """The one-pass pick equals the first row per group of the sort it replaces, ties and
    missing values included."""
    from recsys.rewards.offer_book import _best_per_group

    rng = np.random.default_rng(seed)
    n, groups = int(rng.integers(0, 300)), int(rng.integers(1, 40))
    group = rng.integers(0, groups, n)
    reach = rng.integers(0, 3, n)
    value = rng.choice([0.0, -0.0, 1.5, 2.0, np.nan, 7.25], n)
    tie = rng.integers(0, 4, n)
    order = np.lexsort((tie, -value, reach, group))
    expected = np.full(groups, -1)
    for position in order[::-1]:  # the last write per group is its first in the order
        expected[group[position]] = position
    best, size = _best_per_group(group, reach, value, tie, groups)
    assert best.tolist() == expected.tolist()
    assert size.tolist() == np.bincount(group, minlength=groups).tolist()
