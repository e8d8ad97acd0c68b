"""Known-answer tests of offer eligibility and matching (recsys/rewards.py).

The fixture is small enough to check by hand. As-of day: 2026-10-31.

=====  =======  =============  =====  ==========  ==========  ========
offer  product  category       value  start       end         segment
=====  =======  =============  =====  ==========  ==========  ========
O1     P1       -              5      2026-10-01  2026-11-30  -
O2     -        dining         10     2026-10-01  2026-11-30  -
O3     P1       dining         3      2026-10-01  2026-11-30  -
O4     P3       -              99     2026-10-01  2026-10-30  -         expired yesterday
O5     P3       -              99     2026-11-01  2026-11-30  -         starts tomorrow
O6     P3       -              20     2026-10-31  2026-10-31  -         one-day offer, today
O7     -        travel         50     2026-10-01  2026-11-30  affluent
O8     -        travel         50     NaT         NaT         -         open-ended
=====  =======  =============  =====  ==========  ==========  ========

Recommendations: C1 (affluent) gets P1 (dining), P3 (travel), P4 (no category);
C2 (family) gets P2 (dining), P3 (travel).
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from recsys.data import schema as S
from recsys.data.schema import MATCH
from recsys.rewards import eligibility as rw
from recsys.rewards.eligibility import (
    MATCH_CATEGORY,
    MATCH_PRODUCT,
    OFFER_COLUMNS,
    eligible_offers,
    offer_status,
)

AS_OF = "2026-10-31"
NA = None


def _offers() -> pd.DataFrame:
    rows = [
        ("O1", "P1", NA, 5.0, "2026-10-01", "2026-11-30", NA),
        ("O2", NA, "dining", 10.0, "2026-10-01", "2026-11-30", NA),
        ("O3", "P1", "dining", 3.0, "2026-10-01", "2026-11-30", NA),
        ("O4", "P3", NA, 99.0, "2026-10-01", "2026-10-30", NA),
        ("O5", "P3", NA, 99.0, "2026-11-01", "2026-11-30", NA),
        ("O6", "P3", NA, 20.0, "2026-10-31", "2026-10-31", NA),
        ("O7", NA, "travel", 50.0, "2026-10-01", "2026-11-30", "affluent"),
        ("O8", NA, "travel", 50.0, NA, NA, NA),
    ]
    cols = [
        S.OFFER_ID,
        S.PRODUCT_ID,
        S.CATEGORY,
        S.REWARD_VALUE,
        S.START_DATE,
        S.END_DATE,
        S.SEGMENT,
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for col in (S.OFFER_ID, S.PRODUCT_ID, S.CATEGORY, S.SEGMENT):
        frame[col] = frame[col].astype("str")
    for col in (S.START_DATE, S.END_DATE):
        frame[col] = pd.to_datetime(frame[col])
    frame[S.TITLE] = "Offer " + frame[S.OFFER_ID]
    frame[S.REWARD_TYPE] = "cashback"
    frame[S.MIN_SPEND] = 0.0
    frame[S.MAX_PER_CUSTOMER] = pd.array([1, NA, NA, NA, NA, 2, NA, NA], dtype="Int64")
    return frame[list(S.REWARDS.names)]


def _recs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: ["C1", "C1", "C1", "C2", "C2"],
            S.RANK: [1, 2, 3, 1, 2],
            S.PRODUCT_ID: ["P1", "P3", "P4", "P2", "P3"],
            S.CATEGORY: pd.array(["dining", "travel", NA, "dining", "travel"], dtype="str"),
            S.SCORE: [0.9, 0.8, 0.7, 0.6, 0.5],
        },
        index=[10, 11, 12, 20, 21],  # a non-default index
    )


SEGMENTS = pd.Series(["affluent", "family"], index=pd.Index(["C1", "C2"], name=S.CUSTOMER_ID))


def _offers_of(out: pd.DataFrame, customer: str, product: str) -> list[str]:
    mask = out[S.CUSTOMER_ID].eq(customer) & out[S.PRODUCT_ID].eq(product)
    return out.loc[mask, S.OFFER_ID].tolist()


# --- offer_status --------------------------------------------------------------------------
def test_offer_status_by_calendar_day_inclusive() -> None:
    status = offer_status(_offers(), AS_OF)
    assert status.tolist() == [
        "active",
        "active",
        "active",
        "expired",
        "upcoming",
        "active",
        "active",
        "active",
    ]
    assert status.index.equals(_offers().index)


@pytest.mark.parametrize(
    "as_of",
    [
        "2026-10-31",
        pd.Timestamp("2026-10-31 23:59"),
        np.datetime64("2026-10-31T08:00"),
        pd.Timestamp("2026-10-31 09:00", tz="Europe/London"),
    ],
)
def test_offer_status_ignores_time_of_day(as_of: object) -> None:
    # O6 runs for exactly one day: any time on that day is inside the window.
    status = offer_status(_offers(), as_of)
    assert status.iloc[5] == rw.ACTIVE
    assert status.iloc[3] == rw.EXPIRED


def test_offer_status_end_with_time_is_still_that_day() -> None:
    offers = _offers().iloc[[5]].copy()
    offers[S.END_DATE] = pd.Timestamp("2026-10-31 00:00:01")
    assert offer_status(offers, "2026-10-31 18:00").tolist() == [rw.ACTIVE]


def test_offer_status_requires_as_of() -> None:
    with pytest.raises(ValueError, match="as_of"):
        offer_status(_offers(), None)  # type: ignore[arg-type]


# --- eligible_offers -----------------------------------------------------------------------
def test_product_match() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    row = out[out[S.OFFER_ID].eq("O1")]
    assert row[S.PRODUCT_ID].tolist() == ["P1"]
    assert row[MATCH].tolist() == [MATCH_PRODUCT]


def test_category_match() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    # P2 is only reached through its category (dining): O2 and O3 (which names P1 and dining).
    rows = out[out[S.PRODUCT_ID].eq("P2")]
    assert rows[S.OFFER_ID].tolist() == ["O2", "O3"]
    assert rows[MATCH].tolist() == [MATCH_CATEGORY, MATCH_CATEGORY]


def test_offer_matching_both_ways_counts_once_as_product_match() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    rows = out[out[S.PRODUCT_ID].eq("P1") & out[S.OFFER_ID].eq("O3")]
    assert len(rows) == 1
    assert rows[MATCH].item() == MATCH_PRODUCT


def test_pairs_follow_recommendations_then_offer_id_unranked() -> None:
    # Ranking is the offer book's job (tests/test_spend.py): eligibility only finds the pairs.
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert _offers_of(out, "C1", "P1") == ["O1", "O2", "O3"]
    assert _offers_of(out, "C1", "P3") == ["O6", "O7", "O8"]
    assert S.OFFER_RANK not in out.columns


def test_expired_and_upcoming_excluded_boundary_included() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert not out[S.OFFER_ID].isin(["O4", "O5"]).any()
    assert "O6" in _offers_of(out, "C2", "P3")
    # A day later O6 has expired and O5 has started.
    later = eligible_offers(_recs(), _offers(), as_of="2026-11-01", segments=SEGMENTS)
    assert _offers_of(later, "C2", "P3") == ["O5", "O8"]


def test_segment_restriction() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert "O7" in _offers_of(out, "C1", "P3")  # affluent
    assert _offers_of(out, "C2", "P3") == ["O6", "O8"]  # family: not O7


def test_without_segments_only_offers_for_everyone() -> None:
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF)
    assert "O7" not in out[S.OFFER_ID].tolist()
    assert _offers_of(out, "C1", "P3") == ["O6", "O8"]


def test_customer_missing_from_segments_gets_offers_for_everyone() -> None:
    out = eligible_offers(
        _recs(), _offers(), as_of=AS_OF, segments=pd.Series(["affluent"], index=["C9"])
    )
    assert "O7" not in out[S.OFFER_ID].tolist()


def test_empty_segment_text_means_everyone() -> None:
    offers = _offers()
    offers[S.SEGMENT] = offers[S.SEGMENT].fillna("  ")
    out = eligible_offers(_recs(), offers, as_of=AS_OF)
    assert _offers_of(out, "C2", "P3") == ["O6", "O8"]
    assert out[S.SEGMENT].isna().all()


def test_missing_category_never_matches_offers_without_category() -> None:
    # P4 has no category; product offers have no category either: NA must not join NA.
    out = eligible_offers(_recs(), _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert _offers_of(out, "C1", "P4") == []


def test_long_form_columns_order_and_dtypes() -> None:
    recs = _recs()
    out = eligible_offers(recs, _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert out.columns.tolist() == recs.columns.tolist() + list(OFFER_COLUMNS)
    assert out.index.equals(pd.RangeIndex(len(out)))
    # Rows follow recs order, then offer id.
    assert out[S.RANK].tolist()[:3] == [1, 1, 1]
    assert out[S.OFFER_ID].tolist()[:3] == ["O1", "O2", "O3"]
    assert out[S.REWARD_VALUE].dtype == "float64"
    assert out[S.MAX_PER_CUSTOMER].dtype == "Int64"
    assert out[S.OFFER_END_DATE].dtype == "datetime64[ns]"
    assert out.loc[out[S.OFFER_ID].eq("O1"), S.OFFER_TITLE].item() == "Offer O1"
    assert out.loc[out[S.OFFER_ID].eq("O7"), S.SEGMENT].item() == "affluent"


def test_rec_column_named_like_an_offer_column_is_replaced() -> None:
    recs = _recs().assign(**{S.SEGMENT: "customer segment"})
    out = eligible_offers(recs, _offers(), as_of=AS_OF, segments=SEGMENTS)
    assert out.columns.tolist().count(S.SEGMENT) == 1
    assert out.loc[out[S.OFFER_ID].eq("O7"), S.SEGMENT].item() == "affluent"


@pytest.mark.parametrize("rewards", [None, "empty"])
def test_no_offers_gives_empty_long_form(rewards: object) -> None:
    offers = _offers().iloc[:0] if rewards == "empty" else None
    out = eligible_offers(_recs(), offers, as_of=AS_OF, segments=SEGMENTS)
    assert len(out) == 0
    assert out.columns.tolist() == _recs().columns.tolist() + list(OFFER_COLUMNS)


def test_missing_rec_column_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=S.CATEGORY):
        eligible_offers(_recs().drop(columns=S.CATEGORY), _offers(), as_of=AS_OF)


def test_minimal_rewards_frame_is_completed() -> None:
    offers = pd.DataFrame({S.OFFER_ID: ["X1"], S.CATEGORY: ["dining"]})
    out = eligible_offers(_recs(), offers, as_of=AS_OF)
    assert out[S.PRODUCT_ID].tolist() == ["P1", "P2"]
    assert out[S.OFFER_TITLE].tolist() == ["X1", "X1"]  # title defaults to the offer id
    assert out[S.MIN_SPEND].tolist() == [0.0, 0.0]


def test_on_the_bundled_sample_shape() -> None:
    from recsys.data.sample import generate_sample

    data = generate_sample(n_customers=60, n_products=30, n_purchases=600, seed=3)
    catalogue = data["products"]
    customers = data["customers"]
    # Every customer x every product: 1,800 recommendations, matched in one go.
    recs = customers[[S.CUSTOMER_ID]].merge(catalogue, how="cross")
    segments = customers.set_index(S.CUSTOMER_ID)[S.SEGMENT]
    long = eligible_offers(recs, data["rewards"], as_of="2026-10-31", segments=segments)
    assert len(long) > 0
    assert not long.duplicated([S.CUSTOMER_ID, S.PRODUCT_ID, S.OFFER_ID]).any()
    status = offer_status(data["rewards"], "2026-10-31")
    active_ids = set(data["rewards"].loc[status.eq(rw.ACTIVE).to_numpy(), S.OFFER_ID])
    assert set(long[S.OFFER_ID]) <= active_ids


def test_docstring_examples() -> None:
    result = doctest.testmod(rw, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
