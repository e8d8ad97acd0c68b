"""Offer reach in the top-N (recsys/campaigns/reach.py): known answers on the reward world of
tests/known_data.py, and equality with the long frame of every (customer, recommendation,
offer) that the Rewards page used to build and aggregate.

Reward world, top 2 (as of 2026-06-30; O3 on p3 for all, O7 on p3 for segment A capped at 1,
OD on the dining category p1-p3):

====  =======  =========================  ===============
who   segment  top 2 (score)              offers reached
====  =======  =========================  ===============
a1    A        p2 (1/sqrt3 + 1/sqrt2), p4  OD
a2    B        p4                          none
a3    B        p3 (2/sqrt6), p4            O3, OD
a4    A        p2 (1/2 + 1/sqrt6), p3      O3, O7, OD
====  =======  =========================  ===============
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recsys.campaigns.reach import TOP_CUSTOMER_COLUMNS, offer_reach, reach_sample
from recsys.data import schema as S
from recsys.data.dataset import load_dataset, load_sample
from recsys.errors import RecsysError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.rewards.offer_book import OfferBook
from tests.known_data import O3, OFFER_HEADER, S2, reward_pipe

R6 = math.sqrt(6)


# --- the old computation: the long frame, aggregated with pandas ------------------------------
def long_frame(pipe: RecommenderPipeline, n: int, as_of: object) -> pd.DataFrame:
    """Every (customer, recommended product, usable offer): what the page used to hold."""
    return pipe.offers_for_many(pipe.recommend_many(n=n, as_of=as_of), as_of=as_of)


def frame_top_customers(eligible: pd.DataFrame, offer_id: str, n: int) -> pd.DataFrame:
    """The page's old ``top_customers_for_offer`` on the long frame."""
    rows = eligible[eligible[S.OFFER_ID] == str(offer_id)]
    best = rows.sort_values([S.SCORE, S.CUSTOMER_ID], ascending=[False, True], kind="stable")
    best = best.drop_duplicates(S.CUSTOMER_ID)
    return best[TOP_CUSTOMER_COLUMNS].head(n).reset_index(drop=True)


def assert_same_as_frame(pipe: RecommenderPipeline, n: int, as_of: object, top: int, **kw):
    reach = offer_reach(pipe, n, as_of=as_of, top_customers=top, **kw)
    eligible = long_frame(pipe, n, as_of)
    offer_ids = pipe.offer_book(as_of).day_offers[S.OFFER_ID].astype(str)
    counts = eligible.groupby(S.OFFER_ID, sort=False)[S.CUSTOMER_ID].nunique()
    expected = counts.reindex(offer_ids, fill_value=0)
    assert reach.audience.index.tolist() == offer_ids.tolist()
    assert reach.audience.tolist() == expected.astype("int64").tolist()
    per_customer = eligible.groupby(S.CUSTOMER_ID, sort=True)[S.OFFER_ID].nunique()
    per_customer = per_customer.sort_values(ascending=False, kind="stable")
    histogram = per_customer.value_counts().sort_index()
    assert reach.offers_per_customer[S.N_OFFERS].tolist() == histogram.index.tolist()
    assert reach.offers_per_customer[S.CUSTOMERS].tolist() == histogram.tolist()
    assert reach.n_reached == eligible[S.CUSTOMER_ID].nunique()
    assert reach.coverage == eligible[S.CUSTOMER_ID].nunique() / len(pipe.customer_ids)
    most = None if per_customer.empty else str(per_customer.index[0])
    assert reach.most_offers_customer == most
    for offer in offer_ids:
        pd.testing.assert_frame_equal(
            reach.top_customers(offer), frame_top_customers(eligible, offer, top)
        )
    return reach, eligible


# --- known answers ---------------------------------------------------------------------------
def test_reach_of_each_offer_in_the_top_2_of_the_reward_world():
    reach = offer_reach(reward_pipe(), 2)
    assert reach.audience.to_dict() == {"O3": 2, "O7": 1, "OD": 3}
    assert reach.n_customers == 4 and reach.n_reached == 3 and reach.coverage == 0.75
    assert reach.offers_per_customer.to_dict("list") == {
        S.N_OFFERS: [1, 2, 3],
        S.CUSTOMERS: [1, 1, 1],
    }
    assert reach.most_offers_customer == "a4"
    assert reach.as_of == pd.Timestamp("2026-06-30") and reach.n == 2
    dining = reach.top_customers("OD")
    assert dining[S.CUSTOMER_ID].tolist() == ["a1", "a4", "a3"]
    assert dining[S.PRODUCT_ID].tolist() == ["p2", "p2", "p3"]
    assert dining[S.PRODUCT_NAME].tolist() == ["Bakery", "Bakery", "Bistro"]
    assert dining[S.RANK].tolist() == [1, 1, 1]
    assert dining[S.SCORE].tolist() == pytest.approx([S2, 0.5 + 1 / R6, 2 / R6])
    bistro = reach.top_customers("O3")
    assert bistro[S.CUSTOMER_ID].tolist() == ["a3", "a4"]
    assert bistro[S.RANK].tolist() == [1, 2]  # a4's p3 is their second recommendation
    assert reach.top_customers("O7")[S.CUSTOMER_ID].tolist() == ["a4"]
    assert reach.top_customers("nope").empty


def test_a_used_up_offer_reaches_nobody_and_ties_go_to_the_smaller_id():
    redeemed = "customer_id,offer_id\na4,O7\n"
    reach = offer_reach(reward_pipe(redemptions=redeemed), 2)
    assert reach.audience.to_dict() == {"O3": 2, "O7": 0, "OD": 3}
    assert reach.offers_per_customer.to_dict("list") == {
        S.N_OFFERS: [1, 2],
        S.CUSTOMERS: [1, 2],
    }
    assert reach.most_offers_customer == "a3"  # a3 and a4 both have 2 offers


def test_top_customers_keeps_the_best_per_offer_across_chunks():
    # One customer per chunk: the kept best are merged chunk after chunk.
    reach = offer_reach(reward_pipe(), 2, top_customers=2, chunk_size=1)
    assert reach.top_customers("OD")[S.CUSTOMER_ID].tolist() == ["a1", "a4"]
    assert reach.audience.to_dict() == {"O3": 2, "O7": 1, "OD": 3}
    assert offer_reach(reward_pipe(), 2, top_customers=0).top.empty


def test_no_offer_valid_on_the_day_needs_no_pass_over_the_customers(monkeypatch):
    pipe = reward_pipe(rewards=OFFER_HEADER + O3)  # O3 ends on 2026-12-31
    messages: list[tuple[float, str]] = []

    def no_pass(*args, **kwargs):
        raise AssertionError("no recommendations are needed when no offer is valid")

    monkeypatch.setattr(RecommenderPipeline, "iter_slots", no_pass)
    reach = offer_reach(pipe, 2, as_of="2027-06-01", progress=lambda f, m: messages.append((f, m)))
    assert reach.audience.to_dict() == {}
    assert reach.n_reached == 0 and reach.coverage == 0.0 and reach.most_offers_customer is None
    assert reach.offers_per_customer.empty and reach.top.empty
    assert messages == [(1.0, "no offer is valid on the day")]


def test_counted_progress_and_no_long_frame(monkeypatch):
    pipe = reward_pipe()

    def no_frame(*args, **kwargs):
        raise AssertionError("reach must not build the long frame of every pair")

    monkeypatch.setattr(OfferBook, "pairs", no_frame)
    monkeypatch.setattr(OfferBook, "best", no_frame)
    messages: list[str] = []
    offer_reach(pipe, 2, chunk_size=3, progress=lambda f, m: messages.append(m))
    assert messages == ["3 of 4 customers", "4 of 4 customers"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_n_is_a_clear_error(bad):
    with pytest.raises(RecsysError, match="n="):
        offer_reach(reward_pipe(), bad)


@pytest.mark.parametrize("bad", [-1, 2.0, False])
def test_bad_top_customers_is_a_clear_error(bad):
    with pytest.raises(RecsysError, match="top_customers="):
        offer_reach(reward_pipe(), 2, top_customers=bad)


# --- equal to the old frame-based aggregates ---------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("boost", [0.0, 0.5])
def test_reward_world_equals_the_frame_based_reach(n, boost):
    pipe = reward_pipe(boost=boost, redemptions="customer_id,offer_id\na4,O7\na1,OD\n")
    assert_same_as_frame(pipe, n, pipe.as_of_, top=20, chunk_size=1)


@pytest.fixture(scope="module")
def sample_pipe() -> RecommenderPipeline:
    data = load_sample()
    # Redemptions for the sample (it ships none): every 7th customer used up each capped offer.
    capped = data.rewards.loc[data.rewards[S.MAX_PER_CUSTOMER].notna()]
    rows = [
        (c, o)
        for c in data.purchases[S.CUSTOMER_ID].drop_duplicates().sort_values().iloc[::7]
        for o, cap in zip(capped[S.OFFER_ID], capped[S.MAX_PER_CUSTOMER], strict=True)
        for _ in range(int(cap))
    ]
    redemptions = "customer_id,offer_id\n" + "".join(f"{c},{o}\n" for c, o in rows)
    sample_dir = {t: p.read_bytes() for t, p in _sample_files().items()}
    dataset = load_dataset(**sample_dir, redemptions=redemptions.encode())
    return RecommenderPipeline(ModelParams(n_neighbors=20)).fit(dataset)


def _sample_files():
    from recsys.data.dataset import SAMPLE_DIR

    return {
        t: SAMPLE_DIR / f"{t}.csv"
        for t in S.TABLES
        if t != "redemptions" and (SAMPLE_DIR / f"{t}.csv").is_file()
    }


@pytest.mark.parametrize(
    ("n", "as_of", "top", "chunk_size"),
    [
        (10, None, 20, None),  # the Rewards page's default
        (5, "2026-08-15", 3, 333),  # another day (other offers valid), small chunks, few kept
        (30, None, 50, 1024),
    ],
)
def test_sample_data_equals_the_frame_based_reach(sample_pipe, n, as_of, top, chunk_size):
    day = sample_pipe.as_of_ if as_of is None else pd.Timestamp(as_of)
    reach, eligible = assert_same_as_frame(sample_pipe, n, day, top, chunk_size=chunk_size)
    assert reach.n_reached > 100 and len(eligible) > reach.n_reached  # a real test
    assert (reach.audience > 0).sum() > 5
    assert reach.offers_per_customer[S.CUSTOMERS].sum() == reach.n_reached
    assert np.isfinite(reach.top[S.SCORE]).all()


# --- a sample of the customers --------------------------------------------------------------
def test_a_sample_counts_exactly_its_customers_of_the_full_frame(sample_pipe):
    day = sample_pipe.as_of_
    chosen = reach_sample(sample_pipe, 500, seed=3)
    assert len(chosen) == 500 and list(chosen) == sorted(chosen)
    assert reach_sample(sample_pipe, 500, seed=3).tolist() == chosen.tolist()  # seeded
    reach = offer_reach(sample_pipe, 10, customers=chosen[::-1], as_of=day, chunk_size=128)
    eligible = long_frame(sample_pipe, 10, day)
    mine = eligible[eligible[S.CUSTOMER_ID].isin(set(chosen))]
    offer_ids = sample_pipe.offer_book(day).day_offers[S.OFFER_ID].astype(str)
    counts = mine.groupby(S.OFFER_ID)[S.CUSTOMER_ID].nunique().reindex(offer_ids, fill_value=0)
    assert reach.audience.tolist() == counts.astype("int64").tolist()
    assert reach.n_reached == mine[S.CUSTOMER_ID].nunique()
    assert (reach.n_customers, reach.n_counted, reach.n_total) == (500, 500, 2000)
    assert reach.sampled and reach.coverage == reach.n_reached / 500
    per_offer_best = reach.top_customers(offer_ids.iloc[0])
    assert set(per_offer_best[S.CUSTOMER_ID]) <= set(chosen)


def test_scaled_turns_a_sample_into_estimates_for_every_customer(sample_pipe):
    reach = offer_reach(sample_pipe, 10, customers=reach_sample(sample_pipe, 400))
    whole = reach.scaled()
    assert (whole.n_customers, whole.n_counted, whole.n_total) == (2000, 400, 2000)
    assert whole.sampled  # still an estimate
    assert whole.audience.tolist() == [5 * a for a in reach.audience.tolist()]
    assert whole.offers_per_customer[S.CUSTOMERS].tolist() == [
        5 * c for c in reach.offers_per_customer[S.CUSTOMERS].tolist()
    ]
    assert whole.n_reached == 5 * reach.n_reached and whole.coverage == reach.coverage
    # A factor that does not divide: the buckets still add up to the customers reached.
    odd = offer_reach(sample_pipe, 10, customers=reach_sample(sample_pipe, 333)).scaled()
    assert odd.offers_per_customer[S.CUSTOMERS].sum() == odd.n_reached <= 2000
    assert odd.n_reached == round(
        offer_reach(sample_pipe, 10, customers=reach_sample(sample_pipe, 333)).n_reached
        * 2000
        / 333
    )
    # Every customer counted: nothing to scale, and the figures equal the sample-free pass.
    every = offer_reach(sample_pipe, 10, customers=sample_pipe.customer_ids)
    assert not every.sampled and every.scaled() is every
    assert every.audience.tolist() == offer_reach(sample_pipe, 10).audience.tolist()
    assert reach_sample(sample_pipe, 2000) is None


def test_a_sample_with_an_unknown_customer_is_a_clear_error(sample_pipe):
    with pytest.raises(RecsysError, match="nobody"):
        offer_reach(sample_pipe, 10, customers=np.array(["nobody"]))
    with pytest.raises(RecsysError, match="size"):
        reach_sample(sample_pipe, 0)
