"""Pure helpers of the Model page's reward-boost view (dashboard/views/model.py): the trade-off
in words."""

from __future__ import annotations

import pytest

from dashboard.views import model as view
from tests.chart_inputs import tradeoff


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
