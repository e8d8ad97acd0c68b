"""Figure builders (pure DataFrame -> go.Figure) and the pandas helpers that feed them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, profile
from dashboard.columns import AUDIENCE, MONTH, N_CUSTOMERS, N_PURCHASES, SPEND, STATUS
from recsys import schema as S

CATS = ["travel", "dining", "groceries"]
COLORS = charts.category_colors(CATS)


# --- hand-made inputs with the contract's columns ------------------------------------------------
def recs() -> pd.DataFrame:
    return pd.DataFrame({
        S.RANK: [1, 2, 3, 4],
        S.PRODUCT_ID: ["P1", "P2", "P3", "P4"],
        S.PRODUCT_NAME: ["Flight", "Bistro", None, "Hotel"],
        S.CATEGORY: ["travel", "dining", "groceries", "travel"],
        S.SCORE: [2.5, 1.5, 1.0, 0.5],
        S.SUPPORT: [3, 2, 0, 1],
        S.REASON: [S.REASON_NEIGHBORS, S.REASON_NEIGHBORS, S.REASON_POPULAR, S.REASON_NEIGHBORS],
    })  # fmt: skip


def similar() -> pd.DataFrame:
    return pd.DataFrame({
        S.RANK: [1, 2], S.NEIGHBOR_ID: ["007", "42"], S.SIMILARITY: [0.9, 0.4],
        S.SHARED_PRODUCTS: [5, 2], S.SEGMENT: ["family", None],
    })  # fmt: skip


def offers() -> pd.DataFrame:
    return pd.DataFrame({
        S.PRODUCT_ID: ["P1", "P2"], S.PRODUCT_NAME: ["Flight", "Bistro"],
        S.OFFER_ID: ["O1", "O2"], S.OFFER_TITLE: ["3x points on travel", None],
        S.REWARD_TYPE: ["points_multiplier", "cashback"], S.REWARD_VALUE: [3.0, 25.0],
        S.MIN_SPEND: [0.0, 100.0],
        S.OFFER_END_DATE: pd.to_datetime(["2026-12-31", None]),
    })  # fmt: skip


def rewards() -> pd.DataFrame:
    return pd.DataFrame({
        S.OFFER_ID: ["O1", "O2", "O3"], S.TITLE: ["Travel x3", "Dining cash", "Open"],
        S.REWARD_TYPE: ["points_multiplier", "cashback", "discount_pct"],
        S.REWARD_VALUE: [3.0, 25.0, 10.0],
        S.START_DATE: pd.to_datetime(["2026-01-01", "2026-03-01", None]),
        S.END_DATE: pd.to_datetime(["2026-06-30", None, "2026-02-01"]),
        S.SEGMENT: [None, "family", None],
        STATUS: ["active", "active", "expired"],
    })  # fmt: skip


def purchases() -> pd.DataFrame:
    return pd.DataFrame({
        S.CUSTOMER_ID: ["a", "a", "b", "b", "b", "c"],
        S.PRODUCT_ID: ["P1", "P2", "P1", "P3", "P3", "P2"],
        S.PURCHASE_DATE: pd.to_datetime(["2026-01-05", "2026-01-20", "2026-02-01",
                                         "2026-02-03", "2026-03-09", "2026-03-10"]),
        S.QUANTITY: [1, 2, 1, 1, 1, 3],
        S.AMOUNT: [100.0, 20.0, 120.0, 5.0, np.nan, 30.0],
        S.PRODUCT_NAME: [None] * 6,
        S.CATEGORY: [None] * 6,
    })  # fmt: skip


def catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        S.PRODUCT_ID: ["P1", "P2", "P3"], S.PRODUCT_NAME: ["Flight", "Bistro", "Milk"],
        S.CATEGORY: ["travel", "dining", "groceries"], S.PRICE: [100.0, 10.0, 2.0],
    })  # fmt: skip


def assert_labelled(fig: go.Figure) -> None:
    """Title, axis titles and hover text on every trace."""
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    for trace in fig.data:
        assert trace.hovertemplate, trace.name


# --- colours -------------------------------------------------------------------------------------
def test_category_colours_are_stable_and_distinct():
    colors = charts.category_colors(["travel", "dining", "travel", None, "groceries"])
    assert list(colors) == ["dining", "groceries", "travel", charts.UNKNOWN_CATEGORY]
    assert len(set(colors.values())) == 4
    assert charts.category_colors(["groceries", "travel", "dining"]) == colors


def test_a_category_has_the_same_colour_on_every_chart():
    by_chart = []
    rec_fig = charts.recommendations_bar(recs(), COLORS)
    by_chart.append({t.name: t.marker.color for t in rec_fig.data})
    top = profile.top_products(purchases(), catalogue())
    top_fig = charts.top_products_bar(top, COLORS)
    by_chart.append({t.name: t.marker.color for t in top_fig.data})
    mix = profile.category_mix(purchases(), catalogue())
    mix_fig = charts.category_mix(mix, COLORS)
    by_chart.append(dict(zip(mix_fig.data[0].y, mix_fig.data[0].marker.color, strict=True)))
    for colours in by_chart:
        for category, colour in colours.items():
            assert colour == COLORS[category]


# --- charts --------------------------------------------------------------------------------------
def test_recommendations_bar_one_trace_per_category_with_support_and_reason():
    fig = charts.recommendations_bar(recs(), COLORS)
    assert_labelled(fig)
    assert sorted(t.name for t in fig.data) == ["dining", "groceries", "travel"]
    assert sum(len(t.x) for t in fig.data) == 4
    travel = next(t for t in fig.data if t.name == "travel")
    assert list(travel.x) == [0.5, 2.5]  # drawn bottom-up: best on top
    assert "support" in travel.hovertemplate and "reason" in travel.hovertemplate
    groceries = next(t for t in fig.data if t.name == "groceries")
    assert list(groceries.text) == ["popular"]  # fallback reasons are written on the bar
    assert list(groceries.y) == ["3. P3"]  # missing name -> product id
    assert fig.layout.yaxis.categoryarray[-1] == "1. Flight"


def test_similar_customers_bar_keeps_ids_as_text_with_shared_products_in_hover():
    fig = charts.similar_customers_bar(similar())
    assert_labelled(fig)
    assert fig.layout.yaxis.type == "category"
    assert list(fig.data[0].y) == ["42", "007"]
    assert "shared products" in fig.data[0].hovertemplate
    assert fig.data[0].customdata[1][1] == "family"


def test_rewards_bar_coloured_by_type_with_units():
    fig = charts.rewards_bar(offers())
    assert_labelled(fig)
    names = {t.name for t in fig.data}
    assert names == {"points_multiplier (x points)", "cashback (currency)"}
    for trace in fig.data:
        rtype = trace.name.split(" ")[0]
        assert trace.marker.color == charts.REWARD_TYPE_COLORS[rtype]
        assert "min spend" in trace.hovertemplate and "expires" in trace.hovertemplate
    cashback = next(t for t in fig.data if t.name.startswith("cashback"))
    assert cashback.customdata[0][2] == "open-ended"
    assert cashback.y[0].startswith("O2")  # missing title -> offer id


def test_explanation_bar_shows_shares_in_percent():
    explanation = pd.DataFrame({
        S.NEIGHBOR_ID: ["n1", "n2"], S.SIMILARITY: [0.8, 0.2], S.NEIGHBOR_VALUE: [1.0, 1.0],
        S.CONTRIBUTION: [0.8, 0.2], S.SHARE: [0.8, 0.2],
    })  # fmt: skip
    fig = charts.explanation_bar(explanation)
    assert_labelled(fig)
    assert list(fig.data[0].x) == pytest.approx([20.0, 80.0])
    assert "%" in fig.layout.xaxis.title.text


def test_activity_over_time_has_two_axes_with_units():
    monthly = profile.monthly_activity(purchases())
    fig = charts.activity_over_time(monthly)
    assert_labelled(fig)
    assert fig.data[1].yaxis == "y2"
    assert "currency" in fig.layout.yaxis2.title.text


def test_purchases_per_customer_uses_a_log_axis():
    fig = charts.purchases_per_customer(profile.purchases_per_customer(purchases()))
    assert_labelled(fig)
    assert fig.layout.yaxis.type == "log"


def test_offers_timeline_draws_open_ended_windows_to_the_edge():
    fig = charts.offers_timeline(rewards(), as_of="2026-04-01")
    assert_labelled(fig)
    assert {t.name for t in fig.data} == {"points_multiplier", "cashback", "discount_pct"}
    cashback = next(t for t in fig.data if t.name == "cashback")
    assert cashback.customdata[0][1] == "open-ended"
    assert cashback.x[0] > 0  # a visible bar despite the missing end date
    assert fig.layout.shapes[0].x0 == pd.Timestamp("2026-04-01")


def test_offers_by_type_stacks_status():
    fig = charts.offers_by_type(rewards())
    assert_labelled(fig)
    assert {t.name for t in fig.data} == {"active", "expired"}
    assert fig.layout.barmode == "stack"


def test_audience_bar_and_similarity_distribution():
    audience = profile.offer_audience(
        pd.DataFrame({S.CUSTOMER_ID: ["a", "b", "a"], S.OFFER_ID: ["O1", "O1", "O2"]}),
        rewards(),
        n_customers=4,
    )
    fig = charts.audience_bar(audience)
    assert_labelled(fig)
    assert "customers" in fig.layout.xaxis.title.text
    fig = charts.similarity_distribution(np.array([0.1, 0.5, np.nan, 0.9]))
    assert_labelled(fig)
    assert len(fig.data[0].x) == 3


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.recommendations_bar(recs().head(0), COLORS),
        lambda: charts.similar_customers_bar(similar().head(0)),
        lambda: charts.rewards_bar(offers().head(0)),
        lambda: charts.explanation_bar(pd.DataFrame(columns=[S.NEIGHBOR_ID, S.SHARE])),
        lambda: charts.audience_bar(pd.DataFrame()),
        lambda: charts.offers_timeline(None),
        lambda: charts.offers_by_type(rewards().head(0)),
        lambda: charts.activity_over_time(profile.monthly_activity(purchases().head(0))),
        lambda: charts.purchases_per_customer(pd.Series(dtype="int64")),
        lambda: charts.similarity_distribution([]),
        lambda: charts.top_products_bar(pd.DataFrame()),
        lambda: charts.category_mix(pd.DataFrame()),
    ],
)
def test_empty_inputs_give_a_titled_figure_with_a_message(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.annotations and fig.layout.annotations[0].text


# --- pandas helpers ------------------------------------------------------------------------------
def test_monthly_activity_known_answer():
    monthly = profile.monthly_activity(purchases())
    assert monthly[MONTH].dt.month.tolist() == [1, 2, 3]
    assert monthly[N_PURCHASES].tolist() == [2, 2, 2]
    assert monthly[SPEND].tolist() == [120.0, 125.0, 30.0]  # missing amount counts as 0


def test_top_products_and_category_mix_use_the_catalogue():
    top = profile.top_products(purchases(), catalogue(), n=2)
    assert top[S.PRODUCT_ID].tolist() == ["P1", "P2"]  # 2 lines each; tie broken by id
    assert top[N_CUSTOMERS].tolist() == [2, 2]
    assert top[S.CATEGORY].tolist() == ["travel", "dining"]
    mix = profile.category_mix(purchases(), catalogue())
    assert mix[S.CATEGORY].tolist() == ["travel", "dining", "groceries"]
    assert mix[SPEND].tolist() == [220.0, 50.0, 5.0]


def test_customer_profile_known_answer():
    segments = pd.Series({"a": "family", "b": None}, name=S.SEGMENT)
    prof = profile.customer_profile(purchases(), "b", catalogue=catalogue(), segments=segments)
    assert (prof.segment, prof.n_purchases, prof.n_products, prof.spend) == (None, 3, 2, 125.0)
    assert prof.last_purchase == pd.Timestamp("2026-03-09")
    assert prof.recent[S.PURCHASE_DATE].is_monotonic_decreasing
    assert prof.recent[S.PRODUCT_NAME].tolist() == ["Milk", "Milk", "Flight"]
    assert profile.customer_profile(purchases(), "a", segments=segments).segment == "family"
    nobody = profile.customer_profile(purchases(), "zzz")
    assert nobody.n_purchases == 0 and nobody.mix.empty and nobody.last_purchase is None


def test_audience_coverage_and_offers_per_customer():
    eligible = pd.DataFrame({
        S.CUSTOMER_ID: ["a", "a", "b", "b"], S.OFFER_ID: ["O1", "O1", "O1", "O2"],
        S.PRODUCT_ID: ["P1", "P4", "P1", "P2"], S.PRODUCT_NAME: ["F", "H", "F", "B"],
        S.RANK: [1, 2, 1, 3], S.SCORE: [2.0, 1.0, 3.0, 0.5],
    })  # fmt: skip
    audience = profile.offer_audience(eligible, rewards(), n_customers=4)
    assert audience[S.OFFER_ID].tolist() == ["O1", "O2", "O3"]
    assert audience[AUDIENCE].tolist() == [2, 1, 0]
    assert profile.coverage(eligible, 4) == 0.5
    assert profile.offers_per_customer(eligible).to_dict() == {"b": 2, "a": 1}
    top = profile.top_customers_for_offer(eligible, "O1")
    assert top[S.CUSTOMER_ID].tolist() == ["b", "a"]
    assert top[S.PRODUCT_ID].tolist() == ["P1", "P1"]
    assert profile.top_customers_for_offer(eligible, "nope").empty


def test_sample_rows_is_seeded_and_bounded():
    rows = profile.sample_rows(10_000, 50)
    assert len(rows) == 50 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, profile.sample_rows(10_000, 50))
    assert profile.sample_rows(5, 50).tolist() == [0, 1, 2, 3, 4]


# --- evaluation page -----------------------------------------------------------------------------
def eval_table() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["popularity", "user_knn", "my_model"],
        "settings": ["{}", '{"n_neighbors": 20}', "{}"],
        "precision": [0.05, 0.08, 0.01], "recall": [0.16, 0.27, 0.02],
        "ndcg": [0.10, 0.19, 0.01], "map": [0.06, 0.11, 0.0], "hit_rate": [0.36, 0.53, 0.1],
    })  # fmt: skip


def test_metrics_by_model_groups_five_metrics_with_one_fixed_colour_per_model():
    fig = charts.metrics_by_model(eval_table(), n=10)
    assert_labelled(fig)
    assert fig.layout.barmode == "group"
    # Known models first in their fixed order, then others; display names in the legend.
    assert [t.name for t in fig.data] == ["User-kNN", "Popularity", "my_model"]
    knn = fig.data[0]
    assert list(knn.x) == ["Precision@10", "Recall@10", "NDCG@10", "MAP@10", "Hit rate@10"]
    assert list(knn.y) == pytest.approx([8.0, 27.0, 19.0, 11.0, 53.0])  # percent
    assert knn.marker.color == charts.MODEL_COLORS["user_knn"] == charts.model_color("user_knn")
    assert charts.model_color("my_model") == charts.model_color("my_model")  # stable
    assert "%" in fig.layout.yaxis.title.text and "N = 10" in fig.layout.xaxis.title.text


def test_k_curve_draws_ndcg_and_coverage_on_two_axes():
    curve = pd.DataFrame({"k": [50, 5, 20], "ndcg": [0.2, 0.1, 0.19], "coverage": [0.9, 1, 0.95]})
    fig = charts.k_curve(curve, n=10)
    assert_labelled(fig)
    ndcg, coverage = fig.data
    assert list(ndcg.x) == [5, 20, 50]  # sorted by k
    assert list(ndcg.y) == pytest.approx([10.0, 19.0, 20.0])
    assert coverage.yaxis == "y2" and "coverage" in fig.layout.yaxis2.title.text.lower()
    assert fig.layout.xaxis.type == "log"
    assert "NDCG@10" in fig.layout.yaxis.title.text


def test_precision_recall_tradeoff_one_line_per_model_labelled_by_n():
    frame = pd.DataFrame({
        "model": ["user_knn"] * 3 + ["popularity"] * 3, "n": [20, 1, 5] * 2,
        "precision": [0.05, 0.2, 0.1, 0.03, 0.1, 0.06],
        "recall": [0.4, 0.05, 0.2, 0.2, 0.02, 0.1],
    })  # fmt: skip
    fig = charts.precision_recall_tradeoff(frame)
    assert_labelled(fig)
    assert [t.name for t in fig.data] == ["User-kNN", "Popularity"]
    assert list(fig.data[0].text) == ["N=1", "N=5", "N=20"]
    assert list(fig.data[0].x) == pytest.approx([5.0, 20.0, 40.0])
    assert fig.data[1].line.color == charts.MODEL_COLORS["popularity"]
    assert "Recall" in fig.layout.xaxis.title.text and "Precision" in fig.layout.yaxis.title.text


def test_segment_ndcg_grouped_by_segment_with_missing_pairs_as_gaps():
    frame = pd.DataFrame({
        "model": ["user_knn", "user_knn", "popularity"],
        "segment": ["family", "affluent", "family"],
        "ndcg": [0.2, 0.3, 0.1], "n_customers": [10.0, 12.0, 10.0],
    })  # fmt: skip
    fig = charts.segment_ndcg(frame, n=5)
    assert_labelled(fig)
    assert fig.layout.barmode == "group"
    knn, pop = fig.data
    assert list(knn.x) == ["affluent", "family"]
    assert list(knn.y) == pytest.approx([30.0, 20.0])
    assert np.isnan(pop.y[0]) and pop.y[1] == pytest.approx(10.0)
    assert "customers evaluated" in knn.hovertemplate and list(knn.customdata) == ["12", "10"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.metrics_by_model(pd.DataFrame(), n=10),
        lambda: charts.k_curve(pd.DataFrame(), n=10),
        lambda: charts.precision_recall_tradeoff(pd.DataFrame()),
        lambda: charts.segment_ndcg(pd.DataFrame(), n=10),
    ],
)
def test_evaluation_charts_on_empty_input_show_a_message(build):
    fig = build()
    assert fig.layout.title.text and len(fig.layout.annotations) == 1
