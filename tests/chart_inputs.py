"""Hand-made inputs with the contract's columns, shared by the chart, profile and reward view
tests (not a conftest: plain imports)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import charts
from dashboard.columns import STATUS
from recsys.campaigns.audience import Audience
from recsys.data import schema as S
from recsys.rewards.offer_book import QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNLIKELY

CATS = ["travel", "dining", "groceries"]
COLORS = charts.category_colors(CATS)


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


# --- reward-aware inputs (score shares, spend realism, boost trade-off) ---
def tradeoff() -> pd.DataFrame:
    return pd.DataFrame({
        "reward_boost": [0.0, 0.5, 1.0], "n": [10, 10, 10],
        "ndcg": [0.20, 0.18, 0.10], "offer_coverage": [0.50, 0.70, 1.00],
        S.EXPECTED_REWARD: [10.0, 20.0, 25.0],
    })  # fmt: skip


def members() -> pd.DataFrame:
    """An audience of 5, best first (score_share = score / top score)."""
    scores = np.array([2.0, 1.5, 1.0, 0.5, 0.2])
    return pd.DataFrame({
        S.CUSTOMER_ID: ["007", "C2", "C3", "C4", "C5"], S.RANK: [1, 2, 3, 4, 5],
        S.SCORE: scores, S.SCORE_SHARE: scores / 2.0,
        S.PRODUCT_ID: ["P1"] * 5, S.SEGMENT: ["family", "family", "student", None, "student"],
        S.QUALIFIES: [QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_LIKELY, QUALIFY_UNLIKELY, None],
        S.REWARD_IF_EARNED: [10.0, 20.0, 30.0, 40.0, 50.0],
        S.EXPECTED_REWARD: [10.0, 10.0, 30.0, 4.0, 50.0],
    })  # fmt: skip


def audience() -> Audience:
    offer = pd.Series({S.OFFER_ID: "O1", S.TITLE: "Dining cash", S.PRODUCT_ID: "P1"})
    sizes = pd.DataFrame({"min_score_share": [0.0, 0.5], "customers": [5, 3]})
    return Audience(offer, members(), sizes, {"recent_buyers": 2}, "active")
