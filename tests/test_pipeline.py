"""Known-answer tests of the whole pipeline on a checkerboard that can be checked by hand.

Two groups with disjoint tastes: a1..a3 buy the dining products p1..p3 (a1 lacks p3), b1..b3 buy
the travel products q1..q3 (b1 lacks q3). z9 is in the customers file (segment A) but never
bought anything. With binary weights, cos(a1, a2) = cos(a1, a3) = 2 / sqrt(6) and a1 shares
nothing with the b's, so a1's neighbours are a2 and a3 and p3 scores 2 x 2 / sqrt(6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data import schema as S
from recsys.errors import RecsysError, UnknownCustomerError
from recsys.params import InvalidParamsError, ModelParams
from recsys.pipeline import RecommenderPipeline
from tests.known_data import COS, checkerboard, plain_knn


@pytest.fixture(scope="module")
def pipe() -> RecommenderPipeline:
    return RecommenderPipeline(plain_knn(n_neighbors=2)).fit(checkerboard())


def test_similar_customers_are_the_same_group_with_exact_similarity(pipe):
    similar = pipe.similar_customers("a1", n=2)
    assert similar[S.NEIGHBOR_ID].tolist() == ["a2", "a3"]
    assert similar[S.SIMILARITY].to_numpy() == pytest.approx([COS, COS])
    assert similar[S.SHARED_PRODUCTS].tolist() == [2, 2]
    assert similar[S.SEGMENT].tolist() == ["A", "A"]
    assert similar[S.RANK].tolist() == [1, 2]


def test_customer_is_never_their_own_neighbour(pipe):
    for customer in pipe.customer_ids:
        assert customer not in pipe.similar_customers(customer, n=5)[S.NEIGHBOR_ID].tolist()


def test_recommendation_score_is_similarity_weighted_sum(pipe):
    recs = pipe.recommend("a1", n=1)
    assert recs[S.PRODUCT_ID].tolist() == ["p3"]
    assert recs[S.SCORE].iloc[0] == pytest.approx(2 * COS)
    assert recs[S.SUPPORT].iloc[0] == 2
    assert recs[S.REASON].iloc[0] == S.REASON_NEIGHBORS
    assert recs[S.PRODUCT_NAME].iloc[0] == "Bistro"
    assert recs[S.CATEGORY].iloc[0] == "dining"


def test_purchased_products_are_excluded_by_default_and_flag_turns_it_off(pipe):
    assert not set(pipe.recommend("a1", n=6)[S.PRODUCT_ID]) & {"p1", "p2"}
    included = pipe.recommend("a1", n=3, exclude_purchased=False, fallback=False)
    assert included[S.PRODUCT_ID].tolist() == ["p1", "p2", "p3"]
    assert included[S.SCORE].to_numpy() == pytest.approx([2 * COS] * 3)


def test_free_slots_fall_back_to_popular_products_labelled_as_such(pipe):
    recs = pipe.recommend("a1", n=3)
    # Nobody in segment A bought a travel product, so the fill comes from overall popularity:
    # q1 and q2 were bought by 3 of 6 customers (tie broken by id), q3 by 2.
    assert recs[S.PRODUCT_ID].tolist() == ["p3", "q1", "q2"]
    assert recs[S.REASON].tolist() == [S.REASON_NEIGHBORS, S.REASON_POPULAR, S.REASON_POPULAR]
    assert recs[S.SCORE].tolist()[1:] == pytest.approx([0.5, 0.5])
    assert recs[S.SUPPORT].tolist() == [2, 0, 0]


def test_customer_without_purchases_gets_popular_in_segment(pipe):
    recs = pipe.recommend("z9", n=3)
    assert recs[S.PRODUCT_ID].tolist() == ["p1", "p2", "p3"]
    assert set(recs[S.REASON]) == {S.REASON_POPULAR_IN_SEGMENT}
    assert recs[S.SCORE].tolist() == pytest.approx([1.0, 1.0, 2 / 3])


def test_unknown_customer_raises_unless_fallback(pipe):
    with pytest.raises(UnknownCustomerError, match="nobody"):
        pipe.recommend("nobody", fallback=False)
    with pytest.raises(UnknownCustomerError):
        pipe.similar_customers("nobody")
    recs = pipe.recommend("nobody", n=2)
    # Overall, p1, p2, q1 and q2 were each bought by 3 of 6 customers: ties go by product id.
    assert recs[S.PRODUCT_ID].tolist() == ["p1", "p2"]
    assert set(recs[S.REASON]) == {S.REASON_POPULAR}


def test_explain_lists_contributing_neighbours_and_shares(pipe):
    explanation = pipe.explain("a1", "p3")
    assert explanation[S.NEIGHBOR_ID].tolist() == ["a2", "a3"]
    assert explanation[S.CONTRIBUTION].to_numpy() == pytest.approx([COS, COS])
    assert explanation[S.SHARE].to_numpy() == pytest.approx([0.5, 0.5])
    assert explanation[S.CONTRIBUTION].sum() == pytest.approx(
        pipe.recommend("a1", n=1)[S.SCORE].iloc[0]
    )
    assert pipe.explain("a1", "q1").empty
    with pytest.raises(UnknownCustomerError, match="product"):
        pipe.explain("a1", "nope")


def test_explained_contributions_add_up_to_the_score_with_power_and_popularity_penalty():
    # a1's neighbours a2 and a3 (cosine COS each) both bought p3, so p3 has 2 buyers: each
    # contribution is COS ** 2 x 1 / 2 ** 0.5, and the score is their sum.
    params = plain_knn(n_neighbors=2, similarity_power=2.0, popularity_penalty=0.5)
    pipe = RecommenderPipeline(params).fit(checkerboard())
    each = COS**2 / np.sqrt(2)
    recs = pipe.recommend("a1", n=1)
    assert recs[S.PRODUCT_ID].tolist() == ["p3"]
    assert recs[S.SCORE].iloc[0] == pytest.approx(2 * each)
    explanation = pipe.explain("a1", "p3")
    assert explanation[S.SIMILARITY].to_numpy() == pytest.approx([COS, COS])
    assert explanation[S.NEIGHBOR_VALUE].to_numpy() == pytest.approx([1.0, 1.0])
    assert explanation[S.CONTRIBUTION].to_numpy() == pytest.approx([each, each])
    assert explanation[S.CONTRIBUTION].sum() == pytest.approx(recs[S.SCORE].iloc[0])
    assert explanation[S.SHARE].to_numpy() == pytest.approx([0.5, 0.5])


def test_batch_equals_one_by_one(pipe):
    many = pipe.recommend_many(n=4, chunk_size=2)
    for customer, group in many.groupby(S.CUSTOMER_ID):
        single = pipe.recommend(customer, n=4)
        pd.testing.assert_frame_equal(
            group.drop(columns=S.CUSTOMER_ID).reset_index(drop=True), single.reset_index(drop=True)
        )
    assert set(many[S.CUSTOMER_ID]) == set(pipe.customer_ids)


def test_recommend_many_reports_progress(pipe):
    seen = []
    pipe.recommend_many(n=2, chunk_size=4, progress=lambda f, m: seen.append(f))
    assert seen == [4 / 6, 1.0]


def test_what_if_basket_behaves_like_a_matching_customer(pipe):
    similar, recs = pipe.recommend_for_basket(["p1", "p2"], n=3)
    assert similar[S.NEIGHBOR_ID].tolist() == ["a1", "a2", "a3"]
    assert similar[S.SIMILARITY].iloc[0] == pytest.approx(1.0)
    # k=2: the two most similar are a1 (identical, no p3) and a2 (bought p3).
    assert recs[S.PRODUCT_ID].tolist()[0] == "p3"
    assert recs[S.SCORE].iloc[0] == pytest.approx(COS)
    assert recs[S.REASON].tolist()[0] == S.REASON_NEIGHBORS
    with pytest.raises(UnknownCustomerError, match="product"):
        pipe.recommend_for_basket(["zzz"])


def test_rewards_best_offer_first_respecting_dates_and_segment(pipe):
    offers = pipe.eligible_offers("a1", n=1)
    # O3 is for segment B only, O4 expired before the as-of date (the last purchase day).
    # O1 pays more (10 cashback) but needs 20 of dining spend, above anything a1 spends on
    # one purchase (10, 12): the reachable 3x points offer O2 comes first.
    assert offers[S.OFFER_ID].tolist() == ["O2", "O1"]
    assert offers[S.QUALIFIES].tolist() == ["likely to qualify", "unlikely"]
    best = pipe.rewards_for("a1", n=1)
    assert best[S.OFFER_ID].tolist() == ["O2"]
    assert best[S.N_ELIGIBLE_OFFERS].tolist() == [2]
    earlier = pipe.rewards_for("a1", n=1, as_of="2025-06-01")
    assert earlier[S.OFFER_ID].tolist() == ["O4"]


def test_segment_b_customer_sees_segment_offer(pipe):
    # b1's top item is q3 (travel): no offer matches travel.
    assert pipe.rewards_for("b1", n=1)[S.N_ELIGIBLE_OFFERS].tolist() == [0]


@pytest.mark.parametrize("metric, expected", [("euclidean", 0.5), ("manhattan", 0.5)])
def test_distance_metrics_turn_distance_into_similarity(metric, expected):
    pipe = RecommenderPipeline(ModelParams(n_neighbors=2, metric=metric)).fit(checkerboard())
    similar = pipe.similar_customers("a1", n=2)
    assert similar[S.NEIGHBOR_ID].tolist() == ["a2", "a3"]
    assert similar[S.SIMILARITY].to_numpy() == pytest.approx([expected, expected])


def test_min_similarity_drops_weak_neighbours():
    pipe = RecommenderPipeline(ModelParams(n_neighbors=2, min_similarity=0.9)).fit(checkerboard())
    assert pipe.similar_customers("a1").empty
    recs = pipe.recommend("a1", n=1)
    assert recs[S.REASON].tolist() == [S.REASON_POPULAR_IN_SEGMENT]


def test_no_customers_file_means_global_popularity():
    pipe = RecommenderPipeline(ModelParams(n_neighbors=2)).fit(checkerboard(customers=None))
    assert pipe.segments_ is None
    assert set(pipe.recommend("a1", n=3)[S.REASON][1:]) == {S.REASON_POPULAR}


@pytest.mark.parametrize("value", ["count", "quantity", "amount"])
@pytest.mark.parametrize("weighting", ["binary", "count", "log1p", "tfidf", "bm25"])
def test_every_weighting_and_value_recommends_the_group_item(value, weighting):
    params = ModelParams(n_neighbors=2, value=value, weighting=weighting)
    pipe = RecommenderPipeline(params).fit(checkerboard())
    assert pipe.recommend("a1", n=1)[S.PRODUCT_ID].tolist() == ["p3"]
    assert pipe.recommend("b1", n=1)[S.PRODUCT_ID].tolist() == ["q3"]


def test_metadata_records_params_shapes_and_fingerprint(pipe):
    meta = pipe.metadata_
    assert meta["params"]["n_neighbors"] == 2
    assert (meta["n_customers"], meta["n_products"], meta["n_purchases"]) == (6, 6, 16)
    assert meta["fingerprint"] == checkerboard().fingerprint
    assert meta["as_of"] == "2026-06-30"
    assert {"numpy", "scikit-learn", "pandas"} <= set(meta["versions"])


def test_unfitted_pipeline_says_train_first():
    with pytest.raises(RecsysError, match="train"):
        RecommenderPipeline().recommend("a1")


@pytest.mark.parametrize(
    "bad",
    [
        dict(n_neighbors=0),
        dict(metric="jaccardish"),
        dict(weighting="x"),
        dict(min_similarity=1.5),
        dict(model="deep"),
    ],
)
def test_invalid_params_are_refused_with_the_setting_named(bad):
    with pytest.raises(InvalidParamsError, match=next(iter(bad))):
        ModelParams(**bad)


def test_params_are_hashable_and_round_trip():
    params = ModelParams(n_neighbors=7, metric="manhattan")
    assert hash(params) == hash(ModelParams(n_neighbors=7, metric="manhattan"))
    assert ModelParams.from_dict({**params.to_dict(), "unknown": 1}) == params


def test_bad_n_is_a_clear_error(pipe):
    with pytest.raises(RecsysError, match="n=0"):
        pipe.recommend("a1", n=0)


def test_scores_are_sorted_within_each_customer(pipe):
    many = pipe.recommend_many(n=6)
    for _, group in many.groupby(S.CUSTOMER_ID):
        neighbours = group[group[S.REASON] == S.REASON_NEIGHBORS][S.SCORE].to_numpy()
        assert np.all(np.diff(neighbours) <= 0)
        assert group[S.RANK].tolist() == list(range(1, len(group) + 1))


def test_neighbor_similarities_sample_and_all(pipe):
    sims = pipe.neighbor_similarities(sample=None)
    # k=2 neighbours for each of 6 customers; a's and b's each find their two group mates.
    assert sims.size == 12
    assert sorted(sims)[-1] == pytest.approx(1.0)
    assert pipe.neighbor_similarities(sample=3).size == 6


def test_offers_for_many_matches_single_customer_offers(pipe):
    many = pipe.recommend_many(n=1)
    offers = pipe.offers_for_many(many)
    a1 = offers[offers[S.CUSTOMER_ID] == "a1"]
    assert a1[S.OFFER_ID].tolist() == pipe.eligible_offers("a1", n=1)[S.OFFER_ID].tolist()


def test_threaded_batch_gives_the_same_recommendations(monkeypatch):
    import recsys.pipeline as pipeline_module

    pipe = RecommenderPipeline(ModelParams(n_neighbors=2)).fit(checkerboard())
    monkeypatch.setattr(pipeline_module, "BLOCK_CHUNKS", 4)
    serial = pipe.recommend_many(n=3, chunk_size=1, n_jobs=1)
    parallel = pipe.recommend_many(n=3, chunk_size=1, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_similarity_power_sharpens_scores_and_explanations():
    pipe = RecommenderPipeline(plain_knn(n_neighbors=2, similarity_power=2.0)).fit(checkerboard())
    recs = pipe.recommend("a1", n=1)
    assert recs[S.SCORE].iloc[0] == pytest.approx(2 * COS**2)
    explanation = pipe.explain("a1", "p3")
    assert explanation[S.CONTRIBUTION].sum() == pytest.approx(recs[S.SCORE].iloc[0])
    # Similarities shown to the analyst stay the plain cosine.
    assert pipe.similar_customers("a1", n=2)[S.SIMILARITY].to_numpy() == pytest.approx([COS] * 2)


def test_time_decay_weights_each_purchase_by_its_age_and_explanations_still_add_up():
    # The checkerboard's latest purchase is 30 June: a2 bought p3 on 5 June (25 days before),
    # a3 on 8 June (22 days); with a half-life of 10 days their binary weights are 0.5 ** 2.5
    # and 0.5 ** 2.2.
    pipe = RecommenderPipeline(plain_knn(n_neighbors=2, half_life_days=10.0)).fit(checkerboard())
    row = {c: i for i, c in enumerate(pipe.customer_ids)}
    p3 = list(pipe.product_ids).index("p3")
    assert pipe.X_[row["a2"], p3] == pytest.approx(0.5**2.5)
    assert pipe.X_[row["a3"], p3] == pytest.approx(0.5**2.2)
    recs = pipe.recommend("a1", n=1)
    assert recs[S.PRODUCT_ID].tolist() == ["p3"]
    explanation = pipe.explain("a1", "p3")
    assert explanation[S.NEIGHBOR_VALUE].to_numpy() == pytest.approx([0.5**2.2, 0.5**2.5])
    assert explanation[S.CONTRIBUTION].sum() == pytest.approx(recs[S.SCORE].iloc[0])
    assert pipe.params.label().endswith("half_life=10d")


def test_time_decay_needs_dates():
    frame = checkerboard().purchases.drop(columns=S.PURCHASE_DATE)
    from recsys.data.dataset import load_dataset

    data = load_dataset(frame.to_csv(index=False).encode())
    with pytest.raises(RecsysError, match="needs purchase dates"):
        RecommenderPipeline(plain_knn(half_life_days=30.0)).fit(data)
    with pytest.raises(InvalidParamsError, match="half_life_days=-1"):
        ModelParams(half_life_days=-1.0)


# --- the neighbour table a full pass can keep ---------------------------------------------------
def _slots_of_every_chunk(pipe, **kwargs):
    return [
        (rows.copy(), slots) for rows, slots in pipe.iter_slots(None, 5, chunk_size=7, **kwargs)
    ]


def test_a_full_pass_keeps_the_neighbour_table_and_later_passes_read_it(monkeypatch):
    from recsys.data.dataset import load_sample
    from recsys.models.user_knn import UserKNN

    pipe = RecommenderPipeline(ModelParams(n_neighbors=10)).fit(load_sample())
    searched = _slots_of_every_chunk(pipe)
    assert pipe.neighbor_table() is None  # not asked to keep
    list(pipe.iter_slots(pipe.customer_ids[:50], 5, keep_neighbors=True))
    assert pipe.neighbor_table() is None  # only a pass over every customer keeps it
    kept = _slots_of_every_chunk(pipe, keep_neighbors=True)
    sims, idx = pipe.neighbor_table()
    n = len(pipe.customer_ids)
    assert sims.shape == idx.shape == (n, 10) and idx.dtype == np.int32
    want_sims, want_idx = pipe.model_.kneighbors(pipe.X_, rows=np.arange(n))
    np.testing.assert_array_equal(sims, want_sims)
    np.testing.assert_array_equal(idx, want_idx)

    def no_search(*args, **kwargs):
        raise AssertionError("the kept neighbour lists must be read, not searched again")

    monkeypatch.setattr(UserKNN, "iter_kneighbors", no_search)
    read = _slots_of_every_chunk(pipe)
    for (rows_a, a), (rows_b, b), (rows_c, c) in zip(searched, kept, read, strict=True):
        np.testing.assert_array_equal(rows_a, rows_b)
        np.testing.assert_array_equal(rows_a, rows_c)
        for field in ("items", "scores", "support", "reasons"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            np.testing.assert_array_equal(getattr(a, field), getattr(c, field))
    # A cache: never saved with the model, dropped by a refit.
    assert "_neighbor_table" not in pipe.__getstate__()
    monkeypatch.undo()
    pipe.fit(load_sample())
    assert pipe.neighbor_table() is None


def test_no_neighbour_table_over_the_budget_for_another_model_or_a_stopped_pass(monkeypatch):
    import recsys.pipeline as pipeline_module
    from recsys.data.dataset import load_sample

    data = load_sample()
    pipe = RecommenderPipeline(ModelParams(n_neighbors=10)).fit(data)
    chunks = pipe.iter_slots(None, 5, chunk_size=100, keep_neighbors=True)
    next(chunks)
    chunks.close()  # stopped after one chunk
    assert pipe.neighbor_table() is None
    monkeypatch.setattr(pipeline_module, "NEIGHBOR_TABLE_BYTES", 1000)
    list(pipe.iter_slots(None, 5, keep_neighbors=True))
    assert pipe.neighbor_table() is None
    popular = RecommenderPipeline(ModelParams(model="popularity")).fit(data)
    list(popular.iter_slots(None, 5, keep_neighbors=True))
    assert popular.neighbor_table() is None
