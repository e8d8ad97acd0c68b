"""Campaign exports (recsys/campaign_export.py): columns, audiences, formula safety, formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.campaigns.campaign_export import campaign_frames, write_campaign
from recsys.campaigns.export import CAMPAIGN_COLUMNS
from recsys.data import schema as S
from recsys.errors import RecsysError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.rewards.offer_book import QUALIFY_LIKELY
from tests.known_data import REWARD_PURCHASES, reward_data, reward_pipe


def test_campaign_export_columns_segment_and_qualifies():
    pipe = reward_pipe()
    frame = pd.concat(campaign_frames(pipe, 2, segment="A"), ignore_index=True)
    assert list(frame.columns) == CAMPAIGN_COLUMNS
    assert set(frame[S.CUSTOMER_ID]) == {"a1", "a4"}
    a1 = frame[frame[S.CUSTOMER_ID] == "a1"].set_index(S.PRODUCT_ID)
    # a1's top two are p2 (dining: offer OD, no min spend) and p4 (travel: no offer).
    assert a1.index.tolist() == ["p2", "p4"]
    assert a1.loc["p2", S.OFFER_ID] == "OD" and a1.loc["p2", S.QUALIFIES] == QUALIFY_LIKELY
    assert pd.isna(a1.loc["p4", S.OFFER_ID]) and pd.isna(a1.loc["p4", S.QUALIFIES])
    with pytest.raises(RecsysError, match="Known segments: A, B"):
        list(campaign_frames(pipe, 2, segment="Z"))


def test_audience_export_one_row_per_customer_with_the_offer():
    frame = pd.concat(campaign_frames(reward_pipe(), offer_id="O3"), ignore_index=True)
    assert frame[S.CUSTOMER_ID].tolist() == ["a3", "a1", "a4"]
    assert set(frame[S.OFFER_ID]) == {"O3"} and set(frame[S.PRODUCT_NAME]) == {"Bistro"}
    assert frame[S.OFFER_END_DATE].iloc[0] == pd.Timestamp("2026-12-31")


def _crafted_pipe() -> RecommenderPipeline:
    ids = {"a1": "=a1", "a2": "+a2", "a3": "-a3", "a4": "@a4"}
    purchases = REWARD_PURCHASES
    for old, new in ids.items():
        purchases = purchases.replace(f"\n{old},", f"\n{new},")
    customers = "customer_id,segment\n=a1,A\n+a2,B\n-a3,B\n@a4,A\n"
    pipe = RecommenderPipeline(ModelParams(n_neighbors=3)).fit(
        reward_data(purchases=purchases, customers=customers)
    )
    # The loader trims surrounding whitespace, so tab/CR-led names are planted after fitting.
    pipe.catalogue_[S.PRODUCT_NAME] = ["\tCoffee", "\rBakery", "=Bistro", "@Train"]
    return pipe


def test_exported_csv_text_cells_cannot_run_as_formulas(tmp_path):
    path = tmp_path / "out.csv"
    rows = write_campaign(_crafted_pipe(), path, 3)
    read = pd.read_csv(path, dtype=str)
    assert rows == len(read) > 0
    for col in (S.CUSTOMER_ID, S.PRODUCT_NAME):
        text = read[col].dropna().astype(str)
        assert not text.str.match(r"^[=+\-@\t\r]").any(), text.tolist()
        assert text.str.startswith("'").all()


def test_parquet_export_keeps_the_values_unaltered(tmp_path):
    # Typed Parquet cells are never run as formulas: the ids stay the ids (a join key).
    path = tmp_path / "out.parquet"
    rows = write_campaign(_crafted_pipe(), path, 3)
    read = pd.read_parquet(path)
    assert rows == len(read) > 0
    assert set(read[S.CUSTOMER_ID]) == {"=a1", "+a2", "-a3", "@a4"}


def test_audience_csv_export_is_neutralised_too(tmp_path):
    path = tmp_path / "audience.csv"
    write_campaign(_crafted_pipe(), path, offer_id="O3")
    frame = pd.read_csv(path, dtype=str)
    assert frame[S.CUSTOMER_ID].tolist() == ["'-a3", "'=a1", "'@a4"]
    assert set(frame[S.PRODUCT_NAME]) == {"'=Bistro"}


def test_csv_and_parquet_round_trip_the_same_rows(tmp_path):
    pipe = reward_pipe()
    csv_path, pq_path = tmp_path / "c.csv", tmp_path / "c.parquet"
    assert write_campaign(pipe, csv_path, 3, chunk_size=2) == write_campaign(
        pipe, pq_path, 3, chunk_size=2
    )
    from_pq = pd.read_parquet(pq_path)
    from_csv = pd.read_csv(csv_path, dtype={S.CUSTOMER_ID: str, S.PRODUCT_ID: str})
    assert list(from_pq.columns) == list(from_csv.columns) == CAMPAIGN_COLUMNS
    assert from_pq[S.OFFER_END_DATE].dtype.kind == "M"
    pd.testing.assert_series_equal(
        from_pq[S.CUSTOMER_ID], from_csv[S.CUSTOMER_ID].astype(str), check_dtype=False
    )
    np.testing.assert_allclose(from_pq[S.SCORE], from_csv[S.SCORE], rtol=1e-5)
    assert from_pq[S.OFFER_ID].fillna("").tolist() == from_csv[S.OFFER_ID].fillna("").tolist()
    assert from_pq[S.QUALIFIES].fillna("").tolist() == from_csv[S.QUALIFIES].fillna("").tolist()


def test_campaign_export_reports_progress(tmp_path):
    seen: list[float] = []
    write_campaign(
        reward_pipe(), tmp_path / "c.csv", 2, chunk_size=2, progress=lambda f, m: seen.append(f)
    )
    assert seen == [0.5, 1.0]
