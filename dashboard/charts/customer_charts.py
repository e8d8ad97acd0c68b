"""Customer explorer charts: similar customers, recommendations, eligible rewards and the
per-neighbour explanation of a recommendation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import (
    PRIMARY,
    REWARD_UNITS,
    bar_height,
    category_label,
    color_of,
    empty_figure,
    fmt_date,
    fmt_money,
    layout,
    reward_color,
    short,
    text,
)
from recsys.data.schema import (
    CATEGORY,
    CONTRIBUTION,
    MIN_SPEND,
    NEIGHBOR_ID,
    NEIGHBOR_VALUE,
    OFFER_END_DATE,
    OFFER_ID,
    OFFER_TITLE,
    PRODUCT_ID,
    PRODUCT_NAME,
    RANK,
    REASON,
    REASON_NEIGHBORS,
    REWARD_TYPE,
    REWARD_VALUE,
    SCORE,
    SEGMENT,
    SHARE,
    SHARED_PRODUCTS,
    SIMILARITY,
    SUPPORT,
)

__all__ = [
    "explanation_bar",
    "recommendations_bar",
    "rewards_bar",
    "similar_customers_bar",
]


def similar_customers_bar(
    similar: pd.DataFrame, *, title: str = "Most similar customers"
) -> go.Figure:
    """Similarity per neighbour (most similar on top); shared products and segment in hover."""
    if similar is None or similar.empty:
        return empty_figure(title, "No similar customers found")
    df = similar.iloc[::-1]
    segment = (
        text(df[SEGMENT]).replace("", "—") if SEGMENT in df else pd.Series("—", index=df.index)
    )
    shared = df[SHARED_PRODUCTS] if SHARED_PRODUCTS in df else pd.Series(0, index=df.index)
    labels = df[NEIGHBOR_ID].astype(str).tolist()
    fig = go.Figure(
        go.Bar(
            x=df[SIMILARITY],
            y=labels,
            orientation="h",
            marker_color=PRIMARY,
            text=[f"{v:.2f}" for v in df[SIMILARITY]],
            textposition="auto",
            customdata=np.column_stack([shared.to_numpy(), segment.to_numpy()]),
            hovertemplate="customer <b>%{y}</b><br>similarity %{x:.3f}"
            "<br>%{customdata[0]} shared products<br>segment %{customdata[1]}"
            "<extra></extra>",
        )
    )
    layout(fig, title, "Similarity (0-1)", "Customer id", height=bar_height(len(df)))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    fig.update_layout(showlegend=False)
    return fig


def recommendations_bar(
    recs: pd.DataFrame,
    colors: Mapping[str, str] | None = None,
    *,
    title: str = "Recommended products",
) -> go.Figure:
    """Score per recommended product (best on top), one colour per category.

    Support (how many neighbours bought it) and the reason are in the hover; fallback reasons
    (popular products) are also written on the bar.
    """
    if recs is None or recs.empty:
        return empty_figure(title, "No recommendations for this customer")
    df = recs.iloc[::-1].copy()
    df["_label"] = [
        f"{i}. {n}"
        for i, n in zip(
            df[RANK] if RANK in df else range(1, len(df) + 1),
            short(text(df[PRODUCT_NAME], df[PRODUCT_ID]).tolist()),
            strict=True,
        )
    ]
    df["_cat"] = [category_label(c) for c in df[CATEGORY]]
    support = df[SUPPORT] if SUPPORT in df else pd.Series(np.nan, index=df.index)
    df["_support"] = ["n/a" if pd.isna(v) else f"{int(v)}" for v in support]
    df["_reason"] = text(df[REASON]).str.replace("_", " ")
    df["_bar_text"] = [
        "" if r == REASON_NEIGHBORS else r.replace("_", " ") for r in text(df[REASON])
    ]
    fig = go.Figure()
    for cat, part in df.groupby("_cat", sort=True):
        fig.add_bar(
            x=part[SCORE],
            y=part["_label"],
            orientation="h",
            name=cat,
            marker_color=color_of(cat, colors),
            text=part["_bar_text"],
            textposition="inside",
            customdata=np.column_stack(
                [part[PRODUCT_ID], part["_cat"], part["_support"], part["_reason"]]
            ),
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>category %{customdata[1]}"
            "<br>score %{x:.3f}<br>support: %{customdata[2]} neighbours bought it"
            "<br>reason: %{customdata[3]}<extra></extra>",
        )
    layout(
        fig,
        title,
        "Score (similarity-weighted, higher = stronger)",
        "Product",
        height=bar_height(len(df)),
        legend_title="Category",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def rewards_bar(offers: pd.DataFrame, *, title: str = "Eligible rewards (best first)") -> go.Figure:
    """Reward value per (recommended product, eligible offer), coloured by reward type.

    ``offers`` has the columns of :func:`recsys.rewards.eligibility.eligible_offers`
    (``offer_title``,
    ``reward_type``, ``reward_value``, ``min_spend``, ``offer_end_date``, product columns).
    Values of different types have different units (multiplier, currency, percent): the unit is
    in the hover and the legend.
    """
    if offers is None or offers.empty:
        return empty_figure(title, "No eligible reward offers for these products")
    df = offers.iloc[::-1].copy()
    product = text(df[PRODUCT_NAME], df[PRODUCT_ID]) if PRODUCT_NAME in df else df[PRODUCT_ID]
    df["_label"] = [
        f"{o} → {p}"
        for o, p in zip(
            short(text(df[OFFER_TITLE], df[OFFER_ID]).tolist(), 26),
            short(product.astype(str).tolist(), 22),
            strict=True,
        )
    ]
    # Make labels unique so plotly does not stack two rows onto one bar.
    df["_label"] = _dedupe(df["_label"].tolist())
    df["_type"] = df[REWARD_TYPE].astype("object").fillna("(unspecified)").astype(str)
    fig = go.Figure()
    for rtype, part in df.groupby("_type", sort=True):
        unit = REWARD_UNITS.get(rtype, "")
        fig.add_bar(
            x=part[REWARD_VALUE].fillna(0),
            y=part["_label"],
            orientation="h",
            name=f"{rtype} ({unit})" if unit else rtype,
            marker_color=reward_color(rtype),
            customdata=np.column_stack(
                [
                    part[OFFER_ID],
                    fmt_money(part[MIN_SPEND]),
                    fmt_date(part[OFFER_END_DATE]),
                    product[part.index],
                ]
            ),
            hovertemplate="<b>%{y}</b><br>offer %{customdata[0]}<br>"
            + rtype
            + " %{x:g} "
            + unit
            + "<br>product %{customdata[3]}<br>min spend %{customdata[1]}"
            " (currency)<br>expires %{customdata[2]}<extra></extra>",
        )
    layout(
        fig,
        title,
        "Reward value (unit per type: x points, currency or %)",
        "Offer → product",
        height=bar_height(len(df)),
        legend_title="Reward type (unit)",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def explanation_bar(explanation: pd.DataFrame, *, title: str = "Why this product?") -> go.Figure:
    """Each contributing neighbour's share of the score (largest on top)."""
    if explanation is None or explanation.empty:
        return empty_figure(title, "No neighbour bought this product (popularity fallback)")
    df = explanation.sort_values(SHARE, ascending=True, kind="stable")
    labels = df[NEIGHBOR_ID].astype(str).tolist()
    fig = go.Figure(
        go.Bar(
            x=df[SHARE] * 100,
            y=labels,
            orientation="h",
            marker_color=PRIMARY,
            text=[f"{v:.0%}" for v in df[SHARE]],
            textposition="auto",
            customdata=np.column_stack([df[SIMILARITY], df[NEIGHBOR_VALUE], df[CONTRIBUTION]]),
            # The contribution also holds the similarity power and the popularity penalty,
            # so the hover names the parts without claiming it is their plain product.
            hovertemplate="customer <b>%{y}</b><br>%{x:.1f}% of the score"
            "<br>similarity %{customdata[0]:.3f}, their weight %{customdata[1]:.3f}"
            "<br>contribution %{customdata[2]:.3f}<extra></extra>",
        )
    )
    layout(
        fig,
        title,
        "Share of the score (%)",
        "Neighbour (customer id)",
        height=bar_height(len(df), minimum=260),
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    fig.update_layout(showlegend=False)
    return fig


def _dedupe(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        n = seen.get(lab, 0)
        seen[lab] = n + 1
        out.append(lab if n == 0 else f"{lab} #{n + 1}")
    return out
