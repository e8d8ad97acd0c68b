"""Evaluation page charts: ranking metrics per model, the k curve, the precision / recall
trade-off across N and NDCG per customer segment (one fixed colour per model)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import (
    MODEL_COLORS,
    PRIMARY,
    SECONDARY,
    empty_figure,
    layout,
    model_color,
    model_label,
)

__all__ = [
    "RANKING_METRICS",
    "k_curve",
    "metrics_by_model",
    "precision_recall_tradeoff",
    "segment_ndcg",
]

# The per-customer ranking metrics, in the order they are charted, with their display names.
RANKING_METRICS: dict[str, str] = {
    "precision": "Precision",
    "recall": "Recall",
    "ndcg": "NDCG",
    "map": "MAP",
    "hit_rate": "Hit rate",
}


def _model_order(models: Iterable[object]) -> list[str]:
    """Known models in the fixed order of :data:`MODEL_COLORS`, then the others as given."""
    given = list(dict.fromkeys(str(m) for m in models))
    return [m for m in MODEL_COLORS if m in given] + [m for m in given if m not in MODEL_COLORS]


def metrics_by_model(table: pd.DataFrame, *, n: int, title: str | None = None) -> go.Figure:
    """Grouped bars: precision, recall, NDCG, MAP and hit rate at N, one bar colour per model.

    ``table`` has one row per model: ``model`` and the metric columns ``precision``,
    ``recall``, ``ndcg``, ``map``, ``hit_rate`` (shares in 0-1), optionally ``settings``.
    """
    title = title or f"Ranking quality by model (top {n} recommendations)"
    if table is None or table.empty:
        return empty_figure(title, "No model was evaluated")
    names = [f"{label}@{n}" for label in RANKING_METRICS.values()]
    fig = go.Figure()
    rows = table.set_index(table["model"].astype(str))
    for model in _model_order(rows.index):
        row = rows.loc[model]
        settings = str(row["settings"]) if "settings" in rows else ""
        fig.add_bar(
            x=names,
            y=[float(row[m]) * 100 for m in RANKING_METRICS],
            name=model_label(model),
            marker_color=model_color(model),
            customdata=[settings] * len(names),
            hovertemplate="<b>" + model_label(model) + "</b><br>%{x} = %{y:.1f}%"
            "<br>%{customdata}<extra></extra>",
        )
    layout(fig, title, f"Metric (at N = {n})", "Value (%)", height=440)
    # The legend goes below, so the five groups get the full width and straight labels.
    fig.update_layout(
        barmode="group",
        legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.2, "yanchor": "top"},
    )
    fig.update_xaxes(tickangle=0)
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return fig


def k_curve(
    curve: pd.DataFrame, *, n: int, title: str = "User-kNN: quality and reach against k"
) -> go.Figure:
    """NDCG@N (left axis) and catalogue coverage (right axis) against k, as lines.

    ``curve`` has ``k``, ``ndcg`` and ``coverage`` (shares in 0-1), one row per k.
    """
    if curve is None or curve.empty:
        return empty_figure(title, "No user-kNN settings were evaluated")
    df = curve.sort_values("k")
    fig = go.Figure()
    fig.add_scatter(
        x=df["k"],
        y=df["ndcg"] * 100,
        name=f"NDCG@{n}",
        mode="lines+markers",
        line={"color": PRIMARY, "width": 2.5},
        hovertemplate="k = %{x}<br>NDCG@" + str(n) + " = %{y:.1f}%<extra></extra>",
    )
    fig.add_scatter(
        x=df["k"],
        y=df["coverage"] * 100,
        name="Coverage",
        yaxis="y2",
        mode="lines+markers",
        line={"color": SECONDARY, "width": 2.5, "dash": "dot"},
        hovertemplate="k = %{x}<br>%{y:.1f}% of the catalogue recommended<extra></extra>",
    )
    layout(fig, title, "Neighbours (k, log scale)", f"NDCG@{n} (%)", height=380)
    fig.update_layout(
        yaxis={"rangemode": "tozero", "ticksuffix": "%"},
        yaxis2={
            "title": {"text": "Catalogue coverage (%)"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "range": [0, 105],
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 25,
            "ticksuffix": "%",
        },
        # Below the plot: on top it would run into the title in a half-width column.
        legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.25, "yanchor": "top"},
        height=420,
    )
    fig.update_xaxes(type="log", tickvals=df["k"].tolist(), ticktext=[str(k) for k in df["k"]])
    return fig


def precision_recall_tradeoff(
    tradeoff: pd.DataFrame, *, title: str = "Precision / recall trade-off across N"
) -> go.Figure:
    """Precision against recall, one line per model, one point per list length N.

    ``tradeoff`` has ``model``, ``n``, ``precision`` and ``recall`` (shares in 0-1).
    """
    if tradeoff is None or tradeoff.empty:
        return empty_figure(title, "No list lengths were evaluated")
    fig = go.Figure()
    for model in _model_order(tradeoff["model"]):
        part = tradeoff[tradeoff["model"].astype(str) == model].sort_values("n")
        fig.add_scatter(
            x=part["recall"] * 100,
            y=part["precision"] * 100,
            name=model_label(model),
            mode="lines+markers+text",
            text=[f"N={v}" for v in part["n"]],
            textposition="top right",
            textfont={"size": 10},
            line={"color": model_color(model), "width": 2.5},
            customdata=part["n"],
            hovertemplate="<b>" + model_label(model) + "</b>, top %{customdata}"
            "<br>recall %{x:.1f}%<br>precision %{y:.1f}%<extra></extra>",
        )
    layout(
        fig,
        title,
        "Recall@N (% of hidden products found)",
        "Precision@N (% of the N slots that hit)",
        height=380,
        legend_title="Model",
    )
    # Room on the right and on top for the "N=..." labels of the outermost points.
    fig.update_xaxes(range=[0, float(tradeoff["recall"].max()) * 100 * 1.15], ticksuffix="%")
    fig.update_yaxes(range=[0, float(tradeoff["precision"].max()) * 100 * 1.15], ticksuffix="%")
    return fig


def segment_ndcg(by_segment: pd.DataFrame, *, n: int, title: str | None = None) -> go.Figure:
    """NDCG@N per customer segment: grouped bars, segments on x, one bar colour per model.

    ``by_segment`` has ``model``, ``segment``, ``ndcg`` (0-1) and optionally ``n_customers``.
    """
    title = title or f"NDCG@{n} by customer segment"
    if by_segment is None or by_segment.empty:
        return empty_figure(title, "No customer segments in the data (upload a customers file)")
    segments = sorted(by_segment["segment"].astype(str).unique())
    fig = go.Figure()
    for model in _model_order(by_segment["model"]):
        part = by_segment[by_segment["model"].astype(str) == model].set_index("segment")
        part = part.reindex(segments)
        counts = part["n_customers"] if "n_customers" in part else pd.Series(np.nan, part.index)
        fig.add_bar(
            x=segments,
            y=part["ndcg"] * 100,
            name=model_label(model),
            marker_color=model_color(model),
            customdata=["" if pd.isna(c) else f"{int(c):,}" for c in counts],
            hovertemplate=f"<b>{model_label(model)}</b><br>segment %{{x}}<br>NDCG@{n} = "
            "%{y:.1f}%<br>%{customdata} customers evaluated<extra></extra>",
        )
    layout(fig, title, "Customer segment", f"NDCG@{n} (%)", height=380, legend_title="Model")
    fig.update_layout(barmode="group")
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return fig
