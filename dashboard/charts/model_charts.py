"""Model page charts: the distribution of neighbour similarities and the reward-boost trade-off
(relevance against offer coverage)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import PRIMARY, SECONDARY, empty_figure, layout
from recsys.data.schema import EXPECTED_REWARD

__all__ = [
    "TRADEOFF_COLUMNS",
    "boost_tradeoff",
    "similarity_distribution",
]

# Columns of recsys.evaluation.tradeoff.reward_boost_tradeoff that the trade-off chart reads.
TRADEOFF_COLUMNS = ("reward_boost", "ndcg", "offer_coverage")


def similarity_distribution(
    similarities: Sequence[float] | np.ndarray | pd.Series, *, metric: str = "cosine"
) -> go.Figure:
    """Histogram of neighbour similarities (one value per customer-neighbour pair)."""
    title = f"Neighbour similarity distribution ({metric})"
    values = np.asarray(similarities, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return empty_figure(title, "No neighbours found")
    fig = go.Figure(
        go.Histogram(
            x=values,
            nbinsx=40,
            marker_color=PRIMARY,
            hovertemplate="similarity %{x}<br>%{y:,} neighbour pairs<extra></extra>",
        )
    )
    layout(
        fig, title, "Similarity (0-1, higher = more alike)", "Neighbour pairs (count)", height=340
    )
    fig.update_layout(showlegend=False)
    return fig


def boost_tradeoff(
    table: pd.DataFrame,
    *,
    chosen: float | None = None,
    n: int = 10,
    title: str | None = None,
) -> go.Figure:
    """NDCG@N (left axis) and offer coverage (right axis) against ``reward_boost``.

    ``table`` is :func:`recsys.evaluation.tradeoff.reward_boost_tradeoff` (``reward_boost``,
    ``ndcg``,
    ``offer_coverage``, shares in 0-1, optionally ``expected_reward``); ``chosen`` marks a boost
    with a vertical line (the active model's).
    """
    title = title or f"What reward boost costs: relevance (NDCG@{n}) against offer coverage"
    if table is None or table.empty:
        return empty_figure(title, "No trade-off measured yet")
    df = table.sort_values("reward_boost")
    reward = (
        df[EXPECTED_REWARD].map(lambda v: f"{v:,.2f}")
        if EXPECTED_REWARD in df
        else pd.Series("n/a", index=df.index)
    )
    fig = go.Figure()
    fig.add_scatter(
        x=df["reward_boost"],
        y=df["ndcg"] * 100,
        name=f"NDCG@{n}",
        mode="lines+markers",
        line={"color": PRIMARY, "width": 2.5},
        hovertemplate="reward boost %{x:.1f}<br>NDCG@" + str(n) + " = %{y:.1f}%<extra></extra>",
    )
    fig.add_scatter(
        x=df["reward_boost"],
        y=df["offer_coverage"] * 100,
        name="Offer coverage",
        yaxis="y2",
        mode="lines+markers",
        line={"color": SECONDARY, "width": 2.5, "dash": "dot"},
        customdata=reward,
        hovertemplate="reward boost %{x:.1f}<br>%{y:.1f}% of recommendations carry an offer"
        "<br>expected reward %{customdata} per recommendation (currency)<extra></extra>",
    )
    layout(fig, title, "Reward boost (0 = relevance only, 1 = offer value only)", "")
    fig.update_layout(
        yaxis={
            "title": {"text": f"NDCG@{n} (%)", "font": {"color": PRIMARY}},
            "rangemode": "tozero",
            "ticksuffix": "%",
        },
        yaxis2={
            "title": {
                "text": "Offer coverage (% of recommendations)",
                "font": {"color": SECONDARY},
            },
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "range": [0, 105],
            "dtick": 20,
            "ticksuffix": "%",
        },
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    fig.update_xaxes(range=[-0.03, 1.03], dtick=0.1)
    if chosen is not None:
        fig.add_vline(x=float(chosen), line={"color": "#555", "width": 1.5, "dash": "dash"})
        fig.add_annotation(
            x=float(chosen),
            y=1.0,
            yref="paper",
            text=f"active model: {float(chosen):g}",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"size": 11},
        )
    return fig
