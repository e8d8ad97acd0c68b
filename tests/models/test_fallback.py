"""The popularity fallback: known answers, and the same picks as ranking every product."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models.fallback import MODEL, POPULAR, POPULAR_IN_SEGMENT, PopularityFallback, Slots
from recsys.models.ranking import top_n


def _empty(m: int, n: int) -> Slots:
    return Slots(
        np.full((m, n), -1), np.full((m, n), np.nan), np.zeros((m, n), int), np.full((m, n), -1)
    )


def test_known_answer_segment_first_then_overall_skipping_purchases_and_ties_by_column():
    # Products 0..4; segment 0 = customers 0, 1; segment 1 = customer 2; customer 3 unknown.
    bought = np.array(
        [[1, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 1, 1, 0]], dtype=float
    )
    purchased = sp.csr_matrix(bought)
    fallback = PopularityFallback(purchased, np.array([0, 0, 1, -1]), 2)
    slots = _empty(4, 4)
    slots.items[1, 0], slots.scores[1, 0], slots.reasons[1, 0] = 4, 0.9, MODEL
    out = fallback.fill(slots, purchased, np.array([0, 0, 1, -1]))
    # Customer 0 (segment 0 bought 0 and 1, both already theirs): overall, by share then column:
    # product 3 (2 buyers), then 2 (1 buyer), then 4 (1 buyer); 0 and 1 are theirs.
    assert out.items[0].tolist() == [3, 2, 4, -1]
    assert out.reasons[0].tolist() == [POPULAR, POPULAR, POPULAR, -1]
    # Customer 1 keeps the model's product 4 first; segment 0's product 1 next, then overall.
    assert out.items[1].tolist() == [4, 1, 3, 2]
    assert out.reasons[1].tolist() == [MODEL, POPULAR_IN_SEGMENT, POPULAR, POPULAR]
    assert out.scores[1, 1] == pytest.approx(0.5)  # half of segment 0 bought product 1
    # Customer 3 has no segment: overall popularity only.
    assert out.items[3].tolist() == [0, 1, 4, -1]


@pytest.mark.parametrize("seed", range(5))
def test_fill_picks_what_ranking_the_shares_picks(seed):
    rng = np.random.default_rng(seed)
    m, n_products, n = 60, 40, 6
    purchased = sp.random(m, n_products, density=0.15, random_state=seed, format="csr")
    purchased.data[:] = 1.0
    fallback = PopularityFallback(purchased, None, 0)
    slots = _empty(m, n)
    keep = rng.random(m) < 0.5  # half the rows have two model products first
    for row in np.flatnonzero(keep):
        slots.items[row, :2] = rng.choice(n_products, 2, replace=False)
        slots.reasons[row, :2] = MODEL
    out = fallback.fill(slots, purchased, None)
    blocked = purchased.tolil()
    for row in range(m):
        for item in slots.items[row][slots.items[row] >= 0]:
            blocked[row, item] = 1
    expected, _ = top_n(np.tile(fallback.share_, (m, 1)), n, exclude=blocked.tocsr())
    for row in range(m):
        model = slots.items[row][slots.items[row] >= 0].tolist()
        assert out.items[row].tolist()[: len(model)] == model
        fill = [i for i in expected[row].tolist() if i >= 0][: n - len(model)]
        assert out.items[row].tolist()[len(model) :] == fill + [-1] * (n - len(model) - len(fill))
