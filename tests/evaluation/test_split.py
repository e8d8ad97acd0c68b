"""Tests for recsys.evaluation.split: per-customer temporal holdout and the validation split."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.evaluation.split import temporal_split, validation_split
from tests.evaluation_fixtures import C, D, P, clustered_purchases, purchases


def first_dates(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby([C, P])[D].min()


def test_split_holds_out_the_most_recently_discovered_products() -> None:
    # Product A is bought first and again last: ordered by FIRST purchase it stays in train.
    rows = [("a", p, f"2024-01-0{i + 1}") for i, p in enumerate("ABCDE")]
    rows += [("a", "A", "2024-02-01"), ("a", "E", "2024-02-02")]
    split = temporal_split(purchases(rows))
    assert split.method == "temporal"
    assert split.test.values.tolist() == [["a", "E"]]
    assert sorted(split.train[P].tolist()) == ["A", "A", "B", "C", "D"]  # both E lines left


def test_split_test_size_is_floor_of_fraction_with_at_least_one() -> None:
    rows = []
    for customer, n in (("five", 5), ("nine", 9), ("ten", 10), ("fourteen", 14)):
        rows += [(customer, f"p{i:02d}", f"2024-01-{i + 1:02d}") for i in range(n)]
    split = temporal_split(purchases(rows))
    sizes = split.test.groupby(C).size().to_dict()
    assert sizes == {"five": 1, "nine": 1, "ten": 2, "fourteen": 2}
    assert split.test.query("customer_id == 'ten'")[P].tolist() == ["p08", "p09"]


def test_split_skips_customers_below_min_products() -> None:
    rows = [("small", p, "2024-01-01") for p in "ABCD"]
    rows += [("big", p, f"2024-01-0{i + 1}") for i, p in enumerate("ABCDE")]
    split = temporal_split(purchases(rows), min_products=5)
    assert split.test[C].unique().tolist() == ["big"]
    assert (split.train[C] == "small").sum() == 4
    assert split.describe() == {
        "method": "temporal",
        "test_fraction": 0.2,
        "min_products": 5,
        "seed": 0,
        "customers": 2,
        "customers_evaluated": 1,
        "train_rows": 8,
        "test_pairs": 1,
    }
    assert split.customers.tolist() == ["big"]


def test_split_has_no_leakage_and_respects_time_order() -> None:
    frame = clustered_purchases(1)
    split = temporal_split(frame)
    train_pairs = pd.MultiIndex.from_frame(split.train[[C, P]])
    assert not train_pairs.isin(pd.MultiIndex.from_frame(split.test)).any()
    assert len(split.train) + frame.merge(split.test, on=[C, P]).shape[0] == len(frame)
    first = first_dates(frame).rename("first").reset_index()
    test = first.merge(split.test, on=[C, P])
    train = first.merge(split.train[[C, P]].drop_duplicates(), on=[C, P])
    merged = (
        test.groupby(C)["first"]
        .min()
        .to_frame("test_min")
        .join(train.groupby(C)["first"].max().rename("train_max"))
    )
    assert len(merged) == split.describe()["customers_evaluated"] > 0
    assert (merged["test_min"] >= merged["train_max"]).all()
    assert split.test.groupby(C).size().min() >= 1


def test_split_breaks_equal_dates_at_random_but_reproducibly() -> None:
    rows = [(c, p, "2024-01-01") for c in ("a", "b", "c") for p in "ABCDEFGHIJ"]
    one = temporal_split(purchases(rows), seed=1).test
    again = temporal_split(purchases(rows), seed=1).test
    pd.testing.assert_frame_equal(one, again)
    assert one.groupby(C).size().tolist() == [2, 2, 2]
    seeds = [tuple(temporal_split(purchases(rows), seed=s).test[P]) for s in range(5)]
    assert len(set(seeds)) > 1


def test_split_without_dates_is_random_and_says_so() -> None:
    frame = clustered_purchases(2, dated=False)
    assert frame[D].isna().all()
    split = temporal_split(frame, seed=3)
    assert split.method == "random" and split.describe()["method"] == "random"
    pd.testing.assert_frame_equal(split.test, temporal_split(frame, seed=3).test)
    assert not split.test.equals(temporal_split(frame, seed=4).test)
    train_pairs = pd.MultiIndex.from_frame(split.train[[C, P]])
    assert not train_pairs.isin(pd.MultiIndex.from_frame(split.test)).any()


def test_split_without_a_date_column_is_random() -> None:
    frame = clustered_purchases(2).drop(columns=D)
    assert temporal_split(frame).method == "random"


def test_split_treats_undated_products_as_the_oldest() -> None:
    rows = [("a", "A", None), ("a", "B", "2024-01-01"), ("a", "C", "2024-01-02")]
    rows += [("a", "D", "2024-01-03"), ("a", "E", None)]
    split = temporal_split(purchases(rows))
    assert split.method == "temporal"
    assert split.test[P].tolist() == ["D"]


def test_validation_split_is_carved_from_the_training_part() -> None:
    split = temporal_split(clustered_purchases(3))
    inner = validation_split(split)
    assert (inner.test_fraction, inner.min_products, inner.seed) == (0.2, 5, 0)
    assert len(inner.train) + len(inner.train.merge(inner.test, on=[C, P])) < len(split.train)
    outer_test = pd.MultiIndex.from_frame(split.test)
    assert not pd.MultiIndex.from_frame(inner.test).isin(outer_test).any()
    assert not pd.MultiIndex.from_frame(inner.train[[C, P]]).isin(outer_test).any()
    assert (
        pd.MultiIndex.from_frame(inner.test)
        .isin(pd.MultiIndex.from_frame(split.train[[C, P]]))
        .all()
    )


@pytest.mark.parametrize(
    "kwargs", [{"test_fraction": 0.0}, {"test_fraction": 1.0}, {"min_products": 1}]
)
def test_split_rejects_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        temporal_split(clustered_purchases(0), **kwargs)


def test_split_matrices_decay_the_training_weights_from_the_training_parts_last_date() -> None:
    from recsys.evaluation.split import SplitMatrices

    # One customer, 5 products on days 1..5 of January: the newest (5 January) is held out, so
    # the training part ends on 4 January and p1 (1 January) is 3 days old there.
    frame = pd.DataFrame(
        {
            C: ["c"] * 5,
            P: [f"p{i}" for i in range(1, 6)],
            D: pd.to_datetime([f"2026-01-0{i}" for i in range(1, 6)]),
        }
    )
    mats = SplitMatrices(temporal_split(frame, test_fraction=0.2, min_products=5), None)
    plain = mats.weighted("count", "binary").toarray()[0]
    decayed = mats.weighted("count", "binary", 2.0).toarray()[0]
    cols = [mats.products.index_of(f"p{i}") for i in range(1, 5)]
    assert plain[cols].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert decayed[cols] == pytest.approx([0.5**1.5, 0.5**1.0, 0.5**0.5, 1.0])
    assert decayed[mats.products.index_of("p5")] == 0.0  # held out, not in training
