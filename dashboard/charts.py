"""Plotly figure builders: pure functions ``DataFrame -> go.Figure``.

Every chart has a title, axis titles with units and hover text. Colours are consistent across the
whole dashboard: one colour per product category (from :func:`category_colors`, built once over the
dataset's full category list so a category keeps its colour on every page) and one fixed colour per
reward type. Functions never read session state, so they can be tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.columns import AUDIENCE, MONTH, N_CUSTOMERS, N_PURCHASES, SPEND, STATUS
from recsys.schema import (
    CATEGORY,
    CONTRIBUTION,
    END_DATE,
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
    START_DATE,
    SUPPORT,
    TITLE,
)

__all__ = [
    "MODEL_COLORS",
    "MODEL_LABELS",
    "PALETTE",
    "PRIMARY",
    "REWARD_TYPE_COLORS",
    "activity_over_time",
    "audience_bar",
    "category_colors",
    "category_mix",
    "empty_figure",
    "explanation_bar",
    "k_curve",
    "metrics_by_model",
    "model_color",
    "model_label",
    "offers_by_type",
    "offers_timeline",
    "precision_recall_tradeoff",
    "purchases_per_customer",
    "recommendations_bar",
    "rewards_bar",
    "segment_ndcg",
    "similar_customers_bar",
    "similarity_distribution",
    "top_products_bar",
]

# A qualitative palette: Tableau 10 (its grey kept for "no category"), then hues chosen to stay
# distinct from the first ten (the sample data has 10 categories).
PALETTE: tuple[str, ...] = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2", "#EDC948", "#B07AA1", "#FF9DA7",
    "#9C755F", "#17BECF", "#8B1E3F", "#A0CBE8", "#D37295", "#79706E", "#FFBE7D", "#BCBD22",
)  # fmt: skip
PRIMARY = "#1F4E79"
SECONDARY = "#F28E2B"
UNKNOWN_COLOR = "#BAB0AC"
UNKNOWN_CATEGORY = "(no category)"
# Reward types get deep shades, so they never read as one of the (lighter) category colours.
REWARD_TYPE_COLORS: dict[str, str] = {
    "points_multiplier": "#0B7285",
    "cashback": "#2E7D32",
    "statement_credit": "#6A1B9A",
    "discount_pct": "#C75B12",
}
REWARD_UNITS: dict[str, str] = {
    "points_multiplier": "x points",
    "cashback": "currency",
    "statement_credit": "currency",
    "discount_pct": "%",
}
STATUS_COLORS: dict[str, str] = {"active": "#59A14F", "upcoming": "#4E79A7", "expired": "#BAB0AC"}
TEMPLATE = "plotly_white"
FONT = {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13}


# --- colours ---------------------------------------------------------------------------------
def category_colors(categories: Iterable[object]) -> dict[str, str]:
    """Assign one palette colour per category, in sorted order, so a category keeps its colour.

    Build it once over the dataset's full category list and pass it to every chart.

    >>> category_colors(["travel", "dining", "travel"])
    {'dining': '#4E79A7', 'travel': '#F28E2B', '(no category)': '#BAB0AC'}
    """
    names = sorted({str(c) for c in categories if c is not None and not pd.isna(c)})
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    colors[UNKNOWN_CATEGORY] = UNKNOWN_COLOR
    return colors


def _color_of(category: object, colors: Mapping[str, str] | None) -> str:
    key = _category_label(category)
    if colors and key in colors:
        return colors[key]
    if key == UNKNOWN_CATEGORY:
        return UNKNOWN_COLOR
    # A category missing from the map still gets a stable colour (hash of its name).
    return PALETTE[sum(key.encode()) % len(PALETTE)]


def _category_label(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value) == "":
        return UNKNOWN_CATEGORY
    return str(value)


def _reward_color(reward_type: object) -> str:
    return REWARD_TYPE_COLORS.get(str(reward_type), UNKNOWN_COLOR)


# --- helpers ---------------------------------------------------------------------------------
def _layout(
    fig: go.Figure,
    title: str,
    x_title: str,
    y_title: str,
    *,
    height: int = 380,
    legend_title: str | None = None,
) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 56, "b": 10},
        hoverlabel={"bgcolor": "white", "font_size": 12},
        # A vertical legend right of the plot never collides with axis titles.
        legend={
            "title": {"text": legend_title or ""},
            "orientation": "v",
            "x": 1.01,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "font": {"size": 12},
        },
        bargap=0.25,
    )
    fig.update_xaxes(title_text=x_title, automargin=True)
    fig.update_yaxes(title_text=y_title, automargin=True)
    return fig


def empty_figure(title: str, message: str = "No data to show") -> go.Figure:
    """A blank figure with a centred message, for empty inputs (never a crash)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": "#666"},
    )
    _layout(fig, title, "", "", height=260)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _text(series: pd.Series, fallback: pd.Series | None = None) -> pd.Series:
    out = series.astype("object")
    if fallback is not None:
        out = out.where(out.notna() & (out.astype(str) != ""), fallback.astype("object"))
    return out.fillna("").astype(str)


def _short(labels: Sequence[str], width: int = 28) -> list[str]:
    return [s if len(s) <= width else s[: width - 1] + "…" for s in labels]


def _bar_height(n: int, *, base: int = 140, per_bar: int = 28, minimum: int = 300) -> int:
    return max(minimum, base + per_bar * n)


def _fmt_money(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else f"{v:,.2f}" for v in values]


def _fmt_date(values: pd.Series) -> list[str]:
    dates = pd.to_datetime(values, errors="coerce")
    return ["open-ended" if pd.isna(v) else v.strftime("%Y-%m-%d") for v in dates]


# --- data page -------------------------------------------------------------------------------
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
    _layout(fig, title, "Month", "Purchases (lines per month)")
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
    df["_label"] = _short(_text(df[PRODUCT_NAME], df[PRODUCT_ID]).tolist())
    df["_cat"] = [_category_label(c) for c in df[CATEGORY]]
    fig = go.Figure()
    for cat, part in df.groupby("_cat", sort=True):
        fig.add_bar(
            x=part[N_PURCHASES],
            y=part["_label"],
            orientation="h",
            name=cat,
            marker_color=_color_of(cat, colors),
            customdata=np.column_stack(
                [part[PRODUCT_ID], part[N_CUSTOMERS], _fmt_money(part[SPEND]), part["_cat"]]
            ),
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>category %{customdata[3]}"
            "<br>%{x:,} purchase lines by %{customdata[1]:,} customers"
            "<br>spend %{customdata[2]} (currency)<extra></extra>",
        )
    _layout(
        fig,
        title,
        "Purchases (lines)",
        "Product",
        height=_bar_height(len(df)),
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
    df = mix.assign(_cat=[_category_label(c) for c in mix[CATEGORY]])
    df = df.sort_values(measure, ascending=True, kind="stable")
    total = float(df[measure].sum()) or 1.0
    share = (df[measure] / total * 100).round(1)
    fig = go.Figure(
        go.Bar(
            x=df[measure],
            y=df["_cat"],
            orientation="h",
            marker_color=[_color_of(c, colors) for c in df["_cat"]],
            customdata=np.column_stack([df[N_PURCHASES], _fmt_money(df[SPEND]), share]),
            hovertemplate="<b>%{y}</b><br>%{customdata[0]:,} purchase lines"
            "<br>spend %{customdata[1]} (currency)"
            "<br>%{customdata[2]}% of the total<extra></extra>",
        )
    )
    x_title = "Spend (account currency)" if use_spend else "Purchases (lines)"
    _layout(fig, title, x_title, "Category", height=_bar_height(len(df), minimum=260))
    fig.update_layout(showlegend=False)
    return fig


def purchases_per_customer(counts: pd.Series | pd.DataFrame) -> go.Figure:
    """Histogram of purchase lines per customer, log-scaled count axis to show the long tail."""
    title = "Purchases per customer (the long tail)"
    values = counts[N_PURCHASES] if isinstance(counts, pd.DataFrame) else counts
    if len(values) == 0:
        return empty_figure(title)
    fig = go.Figure(
        go.Histogram(
            x=values,
            marker_color=PRIMARY,
            nbinsx=50,
            hovertemplate="%{x} purchase lines<br>%{y:,} customers<extra></extra>",
        )
    )
    _layout(fig, title, "Purchase lines per customer", "Customers (log scale)")
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
    _layout(fig, title, "Reward type", "Offers (count)", height=320, legend_title="Status")
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
    labels = _text(rewards[TITLE], rewards[OFFER_ID])
    labels = [
        f"{lab} ({oid})"
        for lab, oid in zip(_short(labels.tolist(), 32), rewards[OFFER_ID], strict=True)
    ]
    df = pd.DataFrame(
        {
            "_label": labels,
            "_start": s,
            "_end": e,
            "_type": rewards[REWARD_TYPE]
            .astype("object")
            .fillna("(unspecified)")
            .astype(str)
            .to_numpy(),
            "_value": rewards[REWARD_VALUE].to_numpy(),
            "_segment": _text(rewards[SEGMENT]).replace("", "everyone").to_numpy(),
            "_start_txt": _fmt_date(rewards[START_DATE]),
            "_end_txt": _fmt_date(rewards[END_DATE]),
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
            marker_color=_reward_color(rtype),
            customdata=np.column_stack(
                [part["_start_txt"], part["_end_txt"], part["_value"], part["_segment"]]
            ),
            hovertemplate="<b>%{y}</b><br>" + rtype + " %{customdata[2]}"
            "<br>valid %{customdata[0]} to %{customdata[1]}"
            "<br>segment: %{customdata[3]}<extra></extra>",
        )
    _layout(
        fig,
        title,
        "Date",
        "Offer",
        height=_bar_height(len(df), per_bar=20),
        legend_title="Reward type",
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
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


# --- model page ------------------------------------------------------------------------------
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
    _layout(
        fig, title, "Similarity (0-1, higher = more alike)", "Neighbour pairs (count)", height=340
    )
    fig.update_layout(showlegend=False)
    return fig


# --- customer explorer -----------------------------------------------------------------------
def similar_customers_bar(
    similar: pd.DataFrame, *, title: str = "Most similar customers"
) -> go.Figure:
    """Similarity per neighbour (most similar on top); shared products and segment in hover."""
    if similar is None or similar.empty:
        return empty_figure(title, "No similar customers found")
    df = similar.iloc[::-1]
    segment = (
        _text(df[SEGMENT]).replace("", "—") if SEGMENT in df else pd.Series("—", index=df.index)
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
    _layout(fig, title, "Similarity (0-1)", "Customer id", height=_bar_height(len(df)))
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
            _short(_text(df[PRODUCT_NAME], df[PRODUCT_ID]).tolist()),
            strict=True,
        )
    ]
    df["_cat"] = [_category_label(c) for c in df[CATEGORY]]
    support = df[SUPPORT] if SUPPORT in df else pd.Series(np.nan, index=df.index)
    df["_support"] = ["n/a" if pd.isna(v) else f"{int(v)}" for v in support]
    df["_reason"] = _text(df[REASON]).str.replace("_", " ")
    df["_bar_text"] = [
        "" if r == REASON_NEIGHBORS else r.replace("_", " ") for r in _text(df[REASON])
    ]
    fig = go.Figure()
    for cat, part in df.groupby("_cat", sort=True):
        fig.add_bar(
            x=part[SCORE],
            y=part["_label"],
            orientation="h",
            name=cat,
            marker_color=_color_of(cat, colors),
            text=part["_bar_text"],
            textposition="inside",
            customdata=np.column_stack(
                [part[PRODUCT_ID], part["_cat"], part["_support"], part["_reason"]]
            ),
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>category %{customdata[1]}"
            "<br>score %{x:.3f}<br>support: %{customdata[2]} neighbours bought it"
            "<br>reason: %{customdata[3]}<extra></extra>",
        )
    _layout(
        fig,
        title,
        "Score (similarity-weighted, higher = stronger)",
        "Product",
        height=_bar_height(len(df)),
        legend_title="Category",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def rewards_bar(offers: pd.DataFrame, *, title: str = "Eligible rewards (best first)") -> go.Figure:
    """Reward value per (recommended product, eligible offer), coloured by reward type.

    ``offers`` has the columns of :func:`recsys.rewards.eligible_offers` (``offer_title``,
    ``reward_type``, ``reward_value``, ``min_spend``, ``offer_end_date``, product columns).
    Values of different types have different units (multiplier, currency, percent): the unit is
    in the hover and the legend.
    """
    if offers is None or offers.empty:
        return empty_figure(title, "No eligible reward offers for these products")
    df = offers.iloc[::-1].copy()
    product = _text(df[PRODUCT_NAME], df[PRODUCT_ID]) if PRODUCT_NAME in df else df[PRODUCT_ID]
    df["_label"] = [
        f"{o} → {p}"
        for o, p in zip(
            _short(_text(df[OFFER_TITLE], df[OFFER_ID]).tolist(), 26),
            _short(product.astype(str).tolist(), 22),
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
            marker_color=_reward_color(rtype),
            customdata=np.column_stack(
                [
                    part[OFFER_ID],
                    _fmt_money(part[MIN_SPEND]),
                    _fmt_date(part[OFFER_END_DATE]),
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
    _layout(
        fig,
        title,
        "Reward value (unit per type: x points, currency or %)",
        "Offer → product",
        height=_bar_height(len(df)),
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
            hovertemplate="customer <b>%{y}</b><br>%{x:.1f}% of the score"
            "<br>similarity %{customdata[0]:.3f} x weight %{customdata[1]:.3f}"
            "<br>= contribution %{customdata[2]:.3f}<extra></extra>",
        )
    )
    _layout(
        fig,
        title,
        "Share of the score (%)",
        "Neighbour (customer id)",
        height=_bar_height(len(df), minimum=260),
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels)
    fig.update_layout(showlegend=False)
    return fig


# --- rewards page ----------------------------------------------------------------------------
def audience_bar(audience: pd.DataFrame, *, title: str = "Audience per offer") -> go.Figure:
    """Customers whose top-N recommendations carry each offer, coloured by reward type.

    ``audience`` has ``offer_id``, ``title``, ``reward_type``, ``audience`` (and optionally
    ``status``), largest first.
    """
    if audience is None or audience.empty:
        return empty_figure(title, "No offer reaches any customer on this date")
    df = audience.iloc[::-1].copy()
    df["_label"] = [
        f"{t} ({o})"
        for t, o in zip(_short(_text(df[TITLE], df[OFFER_ID]).tolist()), df[OFFER_ID], strict=True)
    ]
    df["_type"] = df[REWARD_TYPE].astype("object").fillna("(unspecified)").astype(str)
    status = _text(df[STATUS]) if STATUS in df else pd.Series("", index=df.index)
    fig = go.Figure()
    for rtype, part in df.groupby("_type", sort=True):
        fig.add_bar(
            x=part[AUDIENCE],
            y=part["_label"],
            orientation="h",
            name=rtype,
            marker_color=_reward_color(rtype),
            customdata=np.column_stack([part[REWARD_VALUE].fillna(0), status[part.index]]),
            hovertemplate="<b>%{y}</b><br>%{x:,} customers<br>"
            + rtype
            + " %{customdata[0]:g}<br>status %{customdata[1]}<extra></extra>",
        )
    _layout(
        fig,
        title,
        "Audience (customers)",
        "Offer",
        height=_bar_height(len(df), per_bar=22),
        legend_title="Reward type",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def _dedupe(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        n = seen.get(lab, 0)
        seen[lab] = n + 1
        out.append(lab if n == 0 else f"{lab} #{n + 1}")
    return out


# --- evaluation page -------------------------------------------------------------------------
# One fixed colour and display name per model, on every evaluation chart: the product's model in
# the dashboard's primary blue, the baselines in muted hues (popularity grey: the bar to beat).
MODEL_COLORS: dict[str, str] = {
    "user_knn": PRIMARY,
    "popularity": "#79706E",
    "popularity_segment": "#B07AA1",
    "item_knn": "#59A14F",
    "ease": "#F28E2B",
}
MODEL_LABELS: dict[str, str] = {
    "user_knn": "User-kNN",
    "popularity": "Popularity",
    "popularity_segment": "Popularity in segment",
    "item_knn": "Item-kNN",
    "ease": "EASE",
}
# The per-customer ranking metrics, in the order they are charted, with their display names.
RANKING_METRICS: dict[str, str] = {
    "precision": "Precision",
    "recall": "Recall",
    "ndcg": "NDCG",
    "map": "MAP",
    "hit_rate": "Hit rate",
}


def model_color(model: object) -> str:
    """The fixed colour of a model (a stable palette colour for an unknown one)."""
    name = str(model)
    return MODEL_COLORS.get(name, PALETTE[sum(name.encode()) % len(PALETTE)])


def model_label(model: object) -> str:
    """The display name of a model (``user_knn`` -> ``User-kNN``)."""
    return MODEL_LABELS.get(str(model), str(model))


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
    _layout(fig, title, f"Metric (at N = {n})", "Value (%)", height=440)
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
    _layout(fig, title, "Neighbours (k, log scale)", f"NDCG@{n} (%)", height=380)
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
    _layout(
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
    _layout(fig, title, "Customer segment", f"NDCG@{n} (%)", height=380, legend_title="Model")
    fig.update_layout(barmode="group")
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return fig
