"""Pure helpers of the Model page's reward-boost view (dashboard/views/model.py): the trade-off
in words."""

from __future__ import annotations

import pytest

from dashboard.views import model as view
from recsys.params import ModelParams
from tests.chart_inputs import tradeoff
from tests.known_data import plain_knn


def test_tradeoff_sentence_states_the_cost_per_step_and_at_the_chosen_boost():
    text = view.tradeoff_sentence(tradeoff(), 0.5, 10)
    # 50 -> 100 coverage and 20 -> 10 NDCG over two 0.5 steps: +25 and -5 points per step.
    assert text.startswith("Each 0.5 step of reward boost adds 25.0 points of offer coverage")
    assert "costs 5.00 points of NDCG@10" in text and "0.20 NDCG points per point" in text
    assert "boost 0.5) gives up 2.00 points of NDCG@10 for +20.0 points" in text
    assert "active model" not in view.tradeoff_sentence(tradeoff(), 0.0, 10)


def test_tradeoff_steps_per_step_gain_and_cost():
    steps = view.tradeoff_steps(tradeoff())
    assert steps["step"].tolist() == ["0 → 0.5", "0.5 → 1"]
    assert steps["coverage_gain"].tolist() == pytest.approx([20.0, 30.0])
    assert steps["ndcg_cost"].tolist() == pytest.approx([2.0, 8.0])
    assert steps["cost_per_point"].tolist() == pytest.approx([0.1, 8 / 30])


@pytest.mark.parametrize(
    ("params", "summary"),
    [
        (plain_knn(), "k=20, cosine"),
        (plain_knn(n_neighbors=50, similarity_power=2.0), "k=50, cosine, power 2"),
        (ModelParams(), "k=200, cosine, power 3, asymmetry 0.7, penalty 0.2"),
        (plain_knn(metric="manhattan", shrink=2.0), "k=20, manhattan"),  # shrink: cosine only
        (ModelParams(model="item_knn", n_neighbors=30), "Item-kNN, k=30"),
        (ModelParams(model="rp3beta", n_neighbors=100), "RP3beta, k=100, α 0.5, β 0.4"),
        (ModelParams(model="ease", l2=500.0), "EASE, l2 500"),
        (ModelParams(model="als", factors=32), "ALS, 32 factors"),
        (ModelParams(model="popularity"), "Popularity"),
    ],
)
def test_model_summary(params, summary):
    assert view.model_summary(params) == summary


def test_model_choices_leave_out_als_without_implicit_and_keep_the_current(monkeypatch):
    assert "als" in view.model_choices() and "rp3beta" in view.model_choices()
    monkeypatch.setattr(view, "implicit_available", lambda: False)
    assert "als" not in view.model_choices()
    assert view.model_choices("popularity_segment")[-1] == "popularity_segment"


def test_form_values_show_every_setting_of_the_params():
    params = ModelParams(model="rp3beta", alpha=0.3, beta=0.2, l2=50.0, factors=900)
    values = view.train_form_values(params)
    assert set(values) == set(view.TRAIN_FORM_KEYS)
    assert values[view.state.MODEL_KIND] == "rp3beta"
    assert (values[view.state.ALPHA], values[view.state.BETA]) == (0.3, 0.2)
    assert values[view.state.FACTORS] == view.FACTORS_MAX  # clipped to the form's range
