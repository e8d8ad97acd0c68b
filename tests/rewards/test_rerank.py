"""Known-answer tests of reward-aware ranking and its CLI, on the reward world of
tests/known_data.py (four customers whose scores are worked out there)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from recsys.campaigns.export import CAMPAIGN_COLUMNS
from recsys.cli import main
from recsys.data import schema as S
from recsys.data.dataset import load_sample
from recsys.evaluation.tradeoff import reward_boost_tradeoff
from recsys.params import InvalidParamsError, ModelParams
from recsys.rewards.rerank import rerank_for_rewards
from tests.known_data import (
    B_P2,
    B_P4,
    O3,
    OFFER_HEADER,
    REWARD_CUSTOMERS,
    REWARD_OFFERS,
    REWARD_PRODUCTS,
    REWARD_PURCHASES,
    S2,
    S3,
    S4,
    reward_pipe,
)


# --- reward-aware ranking ----------------------------------------------------------------------
def test_thresholds_are_where_expected():
    assert 0.05 < B_P4 < 0.2 < B_P2 < 0.5


def test_no_boost_is_pure_relevance():
    recs = reward_pipe(0.0, rewards=OFFER_HEADER + O3).recommend("a1", n=3)
    assert recs[S.PRODUCT_ID].tolist() == ["p2", "p4", "p3"]
    assert set(recs[S.REASON]) == {S.REASON_NEIGHBORS}


@pytest.mark.parametrize(
    "boost, expected, moved",
    [
        (B_P4 - 0.01, ["p2", "p4", "p3"], []),
        (B_P4 + 0.01, ["p2", "p3", "p4"], ["p3"]),
        (B_P2 - 0.01, ["p2", "p3", "p4"], ["p3"]),
        (B_P2 + 0.01, ["p3", "p2", "p4"], ["p3"]),
        (1.0, ["p3", "p2", "p4"], ["p3"]),
    ],
)
def test_boost_moves_exactly_the_offer_item(boost, expected, moved):
    recs = reward_pipe(boost, rewards=OFFER_HEADER + O3).recommend("a1", n=3)
    assert recs[S.PRODUCT_ID].tolist() == expected
    boosted = recs.loc[recs[S.REASON].eq(S.REASON_OFFER_BOOST), S.PRODUCT_ID].tolist()
    assert boosted == moved
    # The score column stays the model's relevance score.
    by_product = dict(zip(recs[S.PRODUCT_ID], recs[S.SCORE], strict=True))
    assert by_product == pytest.approx({"p2": S2, "p3": S3, "p4": S4})


def test_boosted_item_makes_the_cut_of_a_short_list():
    # n=1: the pool is 3 candidates; past B_P2 the offer item takes the only slot.
    assert reward_pipe(0.6, rewards=OFFER_HEADER + O3).recommend("a1", n=1)[
        S.PRODUCT_ID
    ].tolist() == ["p3"]
    assert reward_pipe(0.2, rewards=OFFER_HEADER + O3).recommend("a1", n=1)[
        S.PRODUCT_ID
    ].tolist() == ["p2"]


def test_batch_equals_one_by_one_with_a_boost():
    pipe = reward_pipe(0.3)
    many = pipe.recommend_many(n=3, chunk_size=3)
    for customer, group in many.groupby(S.CUSTOMER_ID):
        single = pipe.recommend(customer, n=3)
        pd.testing.assert_frame_equal(
            group.drop(columns=S.CUSTOMER_ID).reset_index(drop=True), single
        )


def test_rerank_pads_and_ignores_rows_without_offers():
    items = np.array([[4, 5, -1], [-1, -1, -1]])
    scores = np.array([[2.0, 1.0, np.nan], [np.nan] * 3])
    out_items, out_scores, boosted = rerank_for_rewards(items, scores, np.zeros((2, 3)), 4, 0.7)
    assert out_items.tolist() == [[4, 5, -1, -1], [-1, -1, -1, -1]]
    assert not boosted.any()


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_reward_boost_outside_0_1_is_refused(bad):
    with pytest.raises(InvalidParamsError, match="reward_boost"):
        ModelParams(reward_boost=bad)


def test_label_mentions_the_boost():
    assert ModelParams(reward_boost=0.3).label().endswith("reward_boost=0.3")


# --- trade-off -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_tradeoff_table_on_sample_data():
    table = reward_boost_tradeoff(load_sample(), ModelParams(n_neighbors=20), boosts=[0, 0.5, 1])
    assert table["reward_boost"].tolist() == [0.0, 0.5, 1.0]
    assert {"ndcg", "offer_coverage", "boosted_share", "ndcg_change"} <= set(table.columns)
    assert table["boosted_share"].iloc[0] == 0.0
    # More boost: more recommendations carry an offer, at some cost in relevance.
    assert table["offer_coverage"].is_monotonic_increasing
    assert table["ndcg"].iloc[-1] <= table["ndcg"].iloc[0]


# --- command line --------------------------------------------------------------------------------
@pytest.fixture
def model_file(tmp_path):
    files = {
        "purchases": REWARD_PURCHASES,
        "customers": REWARD_CUSTOMERS,
        "products": REWARD_PRODUCTS,
        "rewards": REWARD_OFFERS,
    }
    args = ["train", "--k", "3", "--out", str(tmp_path / "m.joblib")]
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
        args += [f"--{name}", str(tmp_path / f"{name}.csv")]
    assert main(args, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    return tmp_path / "m.joblib"


def test_cli_audience_writes_the_ranked_audience(model_file, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "aud.csv"
    code = main(
        [
            "audience",
            "--model-file",
            str(model_file),
            "--offer",
            "O3",
            "--top",
            "2",
            "--out",
            str(target),
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    frame = pd.read_csv(target, dtype=str)
    assert list(frame.columns) == CAMPAIGN_COLUMNS
    assert frame[S.CUSTOMER_ID].tolist() == ["a3", "a1"]
    assert "expected_cost" in out.getvalue() and "wrote 2 rows" in out.getvalue()


def test_cli_audience_unknown_offer_exits_2(model_file, tmp_path):
    err = io.StringIO()
    code = main(
        [
            "audience",
            "--model-file",
            str(model_file),
            "--offer",
            "NOPE",
            "--out",
            str(tmp_path / "x.csv"),
        ],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "Unknown offer id 'NOPE'" in err.getvalue() and "Traceback" not in err.getvalue()
    assert not (tmp_path / "x.csv").exists()


def test_cli_campaign_parquet_for_a_segment(model_file, tmp_path):
    target = tmp_path / "seg.parquet"
    code = main(
        [
            "campaign",
            "--model-file",
            str(model_file),
            "--segment",
            "B",
            "--n",
            "2",
            "--out",
            str(target),
        ],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert code == 0
    assert set(pd.read_parquet(target)[S.CUSTOMER_ID]) == {"a2", "a3"}


@pytest.mark.slow
def test_cli_evaluate_reward_boost_sweep_prints_the_table():
    from recsys.data.dataset import SAMPLE_DIR

    out = io.StringIO()
    code = main(
        [
            "evaluate",
            "--reward-boost-sweep",
            "--purchases",
            str(SAMPLE_DIR / "purchases.csv"),
            "--rewards",
            str(SAMPLE_DIR / "rewards.csv"),
            "--customers",
            str(SAMPLE_DIR / "customers.csv"),
            "--format",
            "json",
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    table = pd.read_json(io.StringIO(out.getvalue()))
    assert table["reward_boost"].tolist() == pytest.approx([i / 10 for i in range(11)])
