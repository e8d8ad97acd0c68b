"""Data page charts: activity per month, top products, category mix, the long tail of purchases
per customer, and the offer catalogue (offers by type, validity windows)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import (
    PRIMARY,
    SECONDARY,
    STATUS_COLORS,
    bar_height,
    category_label,
    color_of,
    empty_figure,
    fmt_date,
    fmt_money,
    layout,
    offer_labels,
    offer_texts,
    reward_color,
    short,
    text,
)
from dashboard.columns import MONTH, N_CUSTOMERS, N_PURCHASES, SPEND, STATUS
from recsys.data.schema import (
    CATEGORY,
    END_DATE,
    PRODUCT_ID,
    PRODUCT_NAME,
    REWARD_TYPE,
    REWARD_VALUE,
    SEGMENT,
    START_DATE,
)

__all__ = [
    "activity_over_time",
    "category_mix",
    "offers_by_type",
    "offers_timeline",
    "purchases_per_customer",
    "top_products_bar",
]


def activity_over_time(monthly: pd.DataFrame) -> go.Figure:
    """Purchases (bars, left axis) and spend (line, right axis) per month.

    ``monthly`` has columns ``month`` (datetime), ``n_purchases`` and ``spend``.
    """
    title = "Purchases and spend per month"
    if monthly.empty:
        return empty_figure(title, "No purchase dates in the data")
    months = pd.to_datetime(monthly[MONTH])
    fig = go.Figure()
    fig.add_bar(
        x=months,
        y=monthly[N_PURCHASES],
        name="Purchases",
        marker_color=PRIMARY,
        hovertemplate="%{x|%b %Y}<br>%{y:,} purchase lines<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=monthly[SPEND],
        name="Spend",
        yaxis="y2",
        mode="lines+markers",
        line={"color": SECONDARY, "width": 2.5},
        hovertemplate="%{x|%b %Y}<br>spend %{y:,.0f} (currency)<extra></extra>",
    )
    layout(fig, title, "Month", "Purchases (lines per month)")
    fig.update_layout(
        yaxis2={
            "title": {"text": "Spend (account currency)"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
        },
        yaxis={"rangemode": "tozero"},
        # Both y axes take the sides: the legend goes on top, right-aligned under the title.
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    fig.update_xaxes(dtick="M2", tickformat="%b %Y")
    return fig


def top_products_bar(
    top: pd.DataFrame,
    colors: Mapping[str, str] | None = None,
    *,
    title: str = "Top products by purchases",
) -> go.Figure:
    """Horizontal bars of the most purchased products, coloured by category.

    ``top`` has ``product_id``, ``product_name``, ``category``, ``n_purchases``, ``n_customers``
    and ``spend``, most purchased first.
    """
    if top.empty:
        return empty_figure(title)
    df = top.iloc[::-1].copy()  # plotly draws the first row at the bottom
    df["_label"] = short(text(df[PRODUCT_NAME], df[PRODUCT_ID]).tolist())
    df["_cat"] = [category_label(c) for c in df[CATEGORY]]
    fig = go.Figure()
    for cat, part in df.groupby("_cat", sort=True):
        fig.add_bar(
            x=part[N_PURCHASES],
            y=part["_label"],
            orientation="h",
            name=cat,
            marker_color=color_of(cat, colors),
            customdata=np.column_stack(
                [part[PRODUCT_ID], part[N_CUSTOMERS], fmt_money(part[SPEND]), part["_cat"]]
            ),
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>category %{customdata[3]}"
            "<br>%{x:,} purchase lines by %{customdata[1]:,} customers"
            "<br>spend %{customdata[2]} (currency)<extra></extra>",
        )
    layout(
        fig,
        title,
        "Purchases (lines)",
        "Product",
        height=bar_height(len(df)),
        legend_title="Category",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def category_mix(
    mix: pd.DataFrame,
    colors: Mapping[str, str] | None = None,
    *,
    title: str = "Category mix by spend",
) -> go.Figure:
    """Spend per category as horizontal bars (largest on top), purchases and share in hover.

    ``mix`` has ``category``, ``n_purchases`` and ``spend``. When spend is unknown (no amounts in
    the data) the bars show purchase counts instead.
    """
    if mix.empty:
        return empty_figure(title)
    use_spend = bool(mix[SPEND].fillna(0).sum() > 0)
    measure = SPEND if use_spend else N_PURCHASES
    df = mix.assign(_cat=[category_label(c) for c in mix[CATEGORY]])
    df = df.sort_values(measure, ascending=True, kind="stable")
    total = float(df[measure].sum()) or 1.0
    share = (df[measure] / total * 100).round(1)
    fig = go.Figure(
        go.Bar(
            x=df[measure],
            y=df["_cat"],
            orientation="h",
            marker_color=[color_of(c, colors) for c in df["_cat"]],
            customdata=np.column_stack([df[N_PURCHASES], fmt_money(df[SPEND]), share]),
            hovertemplate="<b>%{y}</b><br>%{customdata[0]:,} purchase lines"
            "<br>spend %{customdata[1]} (currency)"
            "<br>%{customdata[2]}% of the total<extra></extra>",
        )
    )
    x_title = "Spend (account currency)" if use_spend else "Purchases (lines)"
    layout(fig, title, x_title, "Category", height=bar_height(len(df), minimum=260))
    fig.update_layout(showlegend=False)
    return fig


def purchases_per_customer(counts: pd.DataFrame) -> go.Figure:
    """Customers per number of purchase lines (already counted by
    :func:`dashboard.profile.purchases_per_customer`), log-scaled count axis for the long tail."""
    title = "Purchases per customer (the long tail)"
    if len(counts) == 0:
        return empty_figure(title)
    fig = go.Figure(
        go.Bar(
            x=counts[N_PURCHASES],
            y=counts[N_CUSTOMERS],
            marker_color=PRIMARY,
            hovertemplate="%{x} purchase lines<br>%{y:,} customers<extra></extra>",
        )
    )
    layout(fig, title, "Purchase lines per customer", "Customers (log scale)")
    fig.update_yaxes(type="log", dtick=1)  # ticks at 1, 10, 100, ...
    fig.update_layout(showlegend=False)
    return fig


def offers_by_type(rewards: pd.DataFrame) -> go.Figure:
    """Number of offers per reward type, split by status when a ``status`` column is present."""
    title = "Offers by reward type"
    if rewards is None or rewards.empty:
        return empty_figure(title, "No rewards file loaded")
    types = rewards[REWARD_TYPE].astype("object").fillna("(unspecified)").astype(str)
    status = (
        rewards[STATUS].astype(str)
        if STATUS in rewards
        else pd.Series("offers", index=rewards.index)
    )
    counts = pd.crosstab(types, status)
    fig = go.Figure()
    for st_name in counts.columns:
        fig.add_bar(
            x=counts.index.tolist(),
            y=counts[st_name],
            name=str(st_name),
            marker_color=STATUS_COLORS.get(str(st_name), PRIMARY),
            hovertemplate="%{x}<br>%{y} offers " + str(st_name) + "<extra></extra>",
        )
    layout(fig, title, "Reward type", "Offers (count)", height=320, legend_title="Status")
    fig.update_layout(barmode="stack")
    return fig


def offers_timeline(
    rewards: pd.DataFrame,
    *,
    as_of: object | None = None,
    date_range: tuple[object, object] | None = None,
) -> go.Figure:
    """A timeline of offer validity windows (one bar per offer), coloured by reward type.

    Open-ended windows are drawn to the edge of ``date_range`` (default: the offers' own range).
    A dashed vertical line marks ``as_of``.
    """
    title = "Offer validity windows"
    if rewards is None or rewards.empty:
        return empty_figure(title, "No rewards file loaded")
    start = pd.to_datetime(rewards[START_DATE], errors="coerce")
    end = pd.to_datetime(rewards[END_DATE], errors="coerce")
    known = pd.concat([start, end]).dropna()
    lo = pd.Timestamp(date_range[0]) if date_range else (known.min() if len(known) else None)
    hi = pd.Timestamp(date_range[1]) if date_range else (known.max() if len(known) else None)
    if lo is None or pd.isna(lo):
        lo = hi = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp("today").normalize()
    lo = min(lo, known.min()) if len(known) else lo
    hi = max(hi, known.max()) if len(known) else hi
    s = start.fillna(lo)
    e = end.fillna(hi) + pd.Timedelta(days=1)  # inclusive end day
    df = pd.DataFrame(
        {
            "_label": offer_labels(rewards),
            "_full": offer_texts(rewards),
            "_start": s,
            "_end": e,
            "_type": rewards[REWARD_TYPE]
            .astype("object")
            .fillna("(unspecified)")
            .astype(str)
            .to_numpy(),
            "_value": rewards[REWARD_VALUE].to_numpy(),
            "_segment": text(rewards[SEGMENT]).replace("", "everyone").to_numpy(),
            "_start_txt": fmt_date(rewards[START_DATE]),
            "_end_txt": fmt_date(rewards[END_DATE]),
        }
    )
    df = df.sort_values(["_start", "_label"], ascending=[False, False], kind="stable")
    fig = go.Figure()
    for rtype, part in df.groupby("_type", sort=True):
        duration_ms = (part["_end"] - part["_start"]).dt.total_seconds() * 1000
        fig.add_bar(
            base=part["_start"],
            x=duration_ms,
            y=part["_label"],
            orientation="h",
            name=rtype,
            marker_color=reward_color(rtype),
            customdata=np.column_stack(
                [
                    part["_start_txt"],
                    part["_end_txt"],
                    part["_value"],
                    part["_segment"],
                    part["_full"],
                ]
            ),
            hovertemplate="<b>%{customdata[4]}</b><br>" + rtype + " %{customdata[2]}"
            "<br>valid %{customdata[0]} to %{customdata[1]}"
            "<br>segment: %{customdata[3]}<extra></extra>",
        )
    layout(
        fig,
        title,
        "Date",
        "Offer",
        height=bar_height(len(df), per_bar=20),
        legend_title="Reward type",
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist(), automargin=True)
    if as_of is not None:
        x = pd.Timestamp(as_of)
        fig.add_shape(
            type="line",
            x0=x,
            x1=x,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": "#333", "dash": "dash", "width": 1.5},
        )
        fig.add_annotation(
            x=x,
            y=1.0,
            yref="paper",
            text=f"as of {x:%Y-%m-%d}",
            showarrow=False,
            yanchor="bottom",
            font={"size": 11},
        )
    return fig
