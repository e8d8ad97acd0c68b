"""Tests of the seeded sample-data generator (recsys/sample.py) and the bundled sample_data/."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recsys.data import sample as smp
from recsys.data import schema as S
from recsys.data.sample import CARD_PRODUCT, REGION, TENURE_MONTHS, generate_sample, write_sample

END = pd.Timestamp("2026-10-31")
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    """The default sample, as bundled in sample_data/ (about half a second to generate)."""
    return generate_sample()


@pytest.fixture(scope="module")
def enriched(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Purchase lines with the customer's segment and the product's category."""
    return (
        data["purchases"]
        .merge(data["customers"][[S.CUSTOMER_ID, S.SEGMENT]], on=S.CUSTOMER_ID)
        .merge(data["products"][[S.PRODUCT_ID, S.CATEGORY]], on=S.PRODUCT_ID)
    )


# --- shape and determinism -------------------------------------------------------------------
def test_same_seed_gives_identical_frames() -> None:
    a = generate_sample(n_customers=80, n_products=30, n_purchases=1200, seed=7)
    b = generate_sample(n_customers=80, n_products=30, n_purchases=1200, seed=7)
    assert a.keys() == b.keys()
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table])


def test_other_seed_gives_other_data() -> None:
    a = generate_sample(n_customers=80, n_products=30, n_purchases=1200, seed=7)
    b = generate_sample(n_customers=80, n_products=30, n_purchases=1200, seed=8)
    assert not a["purchases"].equals(b["purchases"])


def test_canonical_columns(data: dict[str, pd.DataFrame]) -> None:
    assert list(data) == ["purchases", "rewards", "customers", "products"]
    assert data["purchases"].columns.tolist() == [
        S.CUSTOMER_ID,
        S.PRODUCT_ID,
        S.PURCHASE_DATE,
        S.QUANTITY,
        S.AMOUNT,
    ]
    assert data["rewards"].columns.tolist() == list(S.REWARDS.names)
    assert data["products"].columns.tolist() == list(S.PRODUCTS.names)
    assert data["customers"].columns.tolist() == [
        S.CUSTOMER_ID,
        S.SEGMENT,
        CARD_PRODUCT,
        REGION,
        TENURE_MONTHS,
    ]


def test_default_sizes(data: dict[str, pd.DataFrame]) -> None:
    assert len(data["customers"]) == 2000
    assert len(data["products"]) == 150
    assert len(data["purchases"]) == 60000
    assert len(data["rewards"]) == 40
    # Every customer bought something; nearly every product was bought by someone.
    assert data["purchases"][S.CUSTOMER_ID].nunique() == 2000
    assert data["purchases"][S.PRODUCT_ID].nunique() >= 140


@pytest.mark.parametrize(
    ("n_customers", "n_products", "n_purchases"), [(10, 10, 30), (300, 47, 5000), (50, 160, 900)]
)
def test_requested_sizes(n_customers: int, n_products: int, n_purchases: int) -> None:
    d = generate_sample(n_customers=n_customers, n_products=n_products, n_purchases=n_purchases)
    assert len(d["customers"]) == n_customers
    assert len(d["products"]) == n_products
    assert len(d["purchases"]) == n_purchases
    assert d["products"][S.PRODUCT_NAME].is_unique
    assert set(d["purchases"][S.PRODUCT_ID]) <= set(d["products"][S.PRODUCT_ID])


@pytest.mark.parametrize(
    "kwargs", [{"n_customers": 0}, {"n_products": 5}, {"n_customers": 100, "n_purchases": 50}]
)
def test_impossible_sizes_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="need"):
        generate_sample(**kwargs)


def test_ids_are_zero_padded_strings(data: dict[str, pd.DataFrame]) -> None:
    customers, products = data["customers"], data["products"]
    assert customers[S.CUSTOMER_ID].str.fullmatch(r"C\d{5}").all()
    assert products[S.PRODUCT_ID].str.fullmatch(r"P\d{3}").all()
    assert customers[S.CUSTOMER_ID].iloc[0] == "C00001"
    assert products[S.PRODUCT_ID].iloc[0] == "P001"
    assert data["rewards"][S.OFFER_ID].str.fullmatch(r"O\d{3}").all()
    for frame in data.values():
        for col in (S.CUSTOMER_ID, S.PRODUCT_ID, S.OFFER_ID):
            if col in frame:
                assert pd.api.types.is_string_dtype(frame[col]), col
    assert customers[S.CUSTOMER_ID].is_unique and products[S.PRODUCT_ID].is_unique


def test_value_ranges(data: dict[str, pd.DataFrame]) -> None:
    purchases, products, customers = data["purchases"], data["products"], data["customers"]
    assert purchases[S.PURCHASE_DATE].max() == END
    first_day = END - pd.DateOffset(months=18) + pd.Timedelta(days=1)
    assert purchases[S.PURCHASE_DATE].min() >= first_day
    assert purchases[S.PURCHASE_DATE].dtype == "datetime64[ns]"
    assert purchases[S.QUANTITY].dtype == "int64" and purchases[S.QUANTITY].min() >= 1
    assert purchases[S.QUANTITY].max() <= 12
    assert (purchases[S.AMOUNT] > 0).all()
    # Amount is price x quantity with a little noise.
    unit = purchases[S.AMOUNT] / purchases[S.QUANTITY]
    price = purchases[S.PRODUCT_ID].map(products.set_index(S.PRODUCT_ID)[S.PRICE])
    assert (unit / price).between(0.5, 2.0).all()
    assert (products[S.PRICE] > 0).all()
    assert set(products[S.CATEGORY]) == set(smp.CATEGORIES)
    assert products[S.CATEGORY].value_counts().eq(15).all()
    assert set(customers[S.SEGMENT]) == set(smp.SEGMENTS)
    assert customers[S.SEGMENT].value_counts(normalize=True).min() > 0.08
    assert customers[TENURE_MONTHS].between(1, 300).all()
    assert customers[CARD_PRODUCT].notna().all() and customers[REGION].notna().all()
    # No exact duplicate lines: the loader would drop them with a warning.
    assert not purchases.duplicated().any()


def test_activity_has_a_long_tail(data: dict[str, pd.DataFrame]) -> None:
    lines = data["purchases"].groupby(S.CUSTOMER_ID).size().sort_values(ascending=False)
    assert lines.min() >= 3
    assert lines.median() < lines.mean()
    top_decile = lines.iloc[: len(lines) // 10].sum() / lines.sum()
    assert top_decile > 0.25


def test_customers_rebuy_favourites(data: dict[str, pd.DataFrame]) -> None:
    pairs = data["purchases"].groupby([S.CUSTOMER_ID, S.PRODUCT_ID]).size()
    repeat_share = 1 - len(pairs) / pairs.sum()
    assert repeat_share > 0.4


def test_seasonality(enriched: pd.DataFrame) -> None:
    month = enriched[S.PURCHASE_DATE].dt.month
    share = pd.crosstab(month, enriched[S.CATEGORY], normalize="index")
    assert share.loc[[6, 7, 8], "travel"].mean() > 1.4 * share.loc[[1, 2, 3], "travel"].mean()
    rest = share.loc[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "electronics"].mean()
    assert share.loc[[11, 12], "electronics"].mean() > 1.5 * rest


def test_segments_prefer_different_categories(enriched: pd.DataFrame) -> None:
    share = pd.crosstab(enriched[S.SEGMENT], enriched[S.CATEGORY], normalize="index")
    assert share.loc["frequent_traveller", "travel"] == share["travel"].max()
    assert share.loc["family", "groceries"] == share["groceries"].max()


def test_segments_have_different_top_products(enriched: pd.DataFrame) -> None:
    buyers = enriched.groupby([S.SEGMENT, S.PRODUCT_ID])[S.CUSTOMER_ID].nunique()
    top10 = {g: set(buyers.loc[g].nlargest(10).index) for g in smp.SEGMENTS}
    for i, a in enumerate(smp.SEGMENTS):
        for b in smp.SEGMENTS[i + 1 :]:
            assert len(top10[a] & top10[b]) <= 4, (a, b)


# --- rewards ---------------------------------------------------------------------------------
def test_every_offer_references_a_known_product_or_category(data: dict[str, pd.DataFrame]) -> None:
    rewards, products = data["rewards"], data["products"]
    has_product = rewards[S.PRODUCT_ID].notna()
    has_category = rewards[S.CATEGORY].notna()
    assert (has_product ^ has_category).all()
    assert has_product.sum() >= 10 and has_category.sum() >= 10
    assert rewards.loc[has_product, S.PRODUCT_ID].isin(products[S.PRODUCT_ID]).all()
    assert rewards.loc[has_category, S.CATEGORY].isin(products[S.CATEGORY]).all()
    assert rewards[S.OFFER_ID].is_unique
    assert rewards[S.TITLE].notna().all()


def test_all_reward_types_with_sensible_values(data: dict[str, pd.DataFrame]) -> None:
    rewards = data["rewards"]
    assert set(rewards[S.REWARD_TYPE]) == set(S.REWARD_TYPES)
    ranges = {
        "points_multiplier": (2, 5),
        "cashback": (5, 50),
        "statement_credit": (10, 100),
        "discount_pct": (5, 25),
    }
    for rtype, (low, high) in ranges.items():
        values = rewards.loc[rewards[S.REWARD_TYPE].eq(rtype), S.REWARD_VALUE]
        assert values.between(low, high).all(), rtype
    assert rewards[S.REWARD_VALUE].dtype == "float64"
    assert (rewards[S.MIN_SPEND] >= 0).all() and rewards[S.MIN_SPEND].gt(0).any()
    caps = rewards[S.MAX_PER_CUSTOMER]
    assert caps.dtype == "Int64" and caps.notna().any() and caps.isna().any()
    assert (caps.dropna() >= 1).all()


def test_offers_active_expired_upcoming_relative_to_end_date(
    data: dict[str, pd.DataFrame],
) -> None:
    rewards = data["rewards"]
    start, end = rewards[S.START_DATE], rewards[S.END_DATE]
    expired = end < END
    upcoming = start > END
    active = ~expired & ~upcoming
    assert active.sum() > len(rewards) / 2
    assert expired.sum() >= 4 and upcoming.sum() >= 3
    assert end.eq(END).any()  # the inclusive boundary
    assert end.isna().any()  # open-ended
    assert start.notna().all()
    assert (start <= end.fillna(start)).all()


def test_some_offers_restricted_to_a_segment(data: dict[str, pd.DataFrame]) -> None:
    segment = data["rewards"][S.SEGMENT]
    assert segment.notna().sum() >= 4 and segment.isna().sum() >= 20
    assert set(segment.dropna()) <= set(smp.SEGMENTS)


# --- files -----------------------------------------------------------------------------------
def test_write_sample_writes_four_small_csvs(tmp_path: Path) -> None:
    paths = write_sample(tmp_path / "out", n_customers=40, n_products=20, n_purchases=400)
    assert {p.name for p in paths.values()} == {
        "purchases.csv",
        "rewards.csv",
        "customers.csv",
        "products.csv",
    }
    purchases = pd.read_csv(paths["purchases"], dtype=str)
    assert purchases.columns[0] == S.CUSTOMER_ID  # no index column
    assert purchases[S.PURCHASE_DATE].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert purchases[S.CUSTOMER_ID].str.fullmatch(r"C\d{5}").all()
    rewards = pd.read_csv(paths["rewards"], dtype=str, keep_default_na=False)
    dates = pd.concat([rewards[S.START_DATE], rewards[S.END_DATE]])
    assert dates.str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()


def test_bundled_sample_is_up_to_date_and_small(tmp_path: Path) -> None:
    paths = write_sample(tmp_path)
    total = 0
    for path in paths.values():
        bundled = SAMPLE_DIR / path.name
        assert bundled.read_bytes() == path.read_bytes(), (
            f"{bundled} is stale: regenerate with `python -m recsys sample --out sample_data`"
        )
        total += bundled.stat().st_size
    assert total < 4_000_000
    assert (SAMPLE_DIR / "README.md").is_file()


# --- the design goal: neighbours beat popularity -----------------------------------------------
def _temporal_split(purchases: pd.DataFrame, frac: float = 0.2) -> tuple[sp.csr_matrix, ...]:
    """Binary train/test matrices: each customer's last ``frac`` of distinct products by date."""
    first = purchases.groupby([S.CUSTOMER_ID, S.PRODUCT_ID], as_index=False)[S.PURCHASE_DATE].min()
    first = first.sort_values([S.CUSTOMER_ID, S.PURCHASE_DATE, S.PRODUCT_ID], kind="stable")
    n = first.groupby(S.CUSTOMER_ID)[S.PRODUCT_ID].transform("size").to_numpy()
    pos = first.groupby(S.CUSTOMER_ID).cumcount().to_numpy()
    test = pos >= n - np.floor(n * frac)
    rows = pd.factorize(first[S.CUSTOMER_ID], sort=True)[0]
    cols = pd.factorize(first[S.PRODUCT_ID], sort=True)[0]
    shape = (rows.max() + 1, cols.max() + 1)
    train = sp.csr_matrix((np.ones((~test).sum()), (rows[~test], cols[~test])), shape=shape)
    held = sp.csr_matrix((np.ones(test.sum()), (rows[test], cols[test])), shape=shape)
    return train, held


def _ndcg_at_10(scores: np.ndarray, train: sp.csr_matrix, held: sp.csr_matrix) -> np.ndarray:
    scores = np.where(train.toarray() > 0, -np.inf, scores)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    relevant = held.toarray()
    discount = 1 / np.log2(np.arange(2, 12))
    dcg = (np.take_along_axis(relevant, top, axis=1) * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.minimum(relevant.sum(axis=1), 10).astype(int) - 1]
    return dcg / ideal


@pytest.mark.slow
def test_user_knn_clearly_beats_popularity(data: dict[str, pd.DataFrame]) -> None:
    train, held = _temporal_split(data["purchases"])
    users = np.flatnonzero(np.diff(held.indptr) > 0)
    popularity = np.asarray(train.sum(axis=0)).ravel()
    unit = normalize(train)
    k = 50
    pop_ndcg, knn_ndcg = [], []
    for chunk in np.array_split(users, 8):  # chunks of customers: never customers x customers
        sim = (unit[chunk] @ unit.T).toarray()
        sim[np.arange(len(chunk)), chunk] = 0.0  # a customer is not its own neighbour
        keep = np.argpartition(-sim, k, axis=1)[:, :k]
        weights = np.zeros_like(sim)
        np.put_along_axis(weights, keep, np.take_along_axis(sim, keep, axis=1), axis=1)
        knn_scores = sp.csr_matrix(weights) @ train
        pop_scores = np.tile(popularity, (len(chunk), 1))
        knn_ndcg.append(_ndcg_at_10(knn_scores.toarray(), train[chunk], held[chunk]))
        pop_ndcg.append(_ndcg_at_10(pop_scores, train[chunk], held[chunk]))
    pop, knn = np.concatenate(pop_ndcg).mean(), np.concatenate(knn_ndcg).mean()
    assert knn >= 1.3 * pop, (knn, pop)


def test_docstring_examples() -> None:
    result = doctest.testmod(smp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
