"""Plotly figure builders for the reward-aware features (issue 5): pure ``DataFrame -> go.Figure``.

Same conventions as the other chart modules (the layout, palette and empty-figure helpers of
:mod:`dashboard.charts.palette`): titles, axis titles with units, hover text, no session state.
Spend realism has one fixed colour per label (:data:`QUALIFY_COLORS`), used by every chart and
table that shows it. Also the Rewards page's reach per offer (:func:`audience_bar`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import (
    PRIMARY,
    UNKNOWN_COLOR,
    bar_height,
    empty_figure,
    layout,
    offer_labels,
    offer_texts,
    reward_color,
    short,
    text,
)
from dashboard.columns import AUDIENCE, STATUS
from recsys.data.schema import (
    CUSTOMERS,
    EXPECTED_REWARD,
    MIN_SPEND,
    N_OFFERS,
    OFFER_ID,
    OFFER_TITLE,
    PRODUCT_ID,
    PRODUCT_NAME,
    QUALIFIES,
    REWARD_IF_EARNED,
    REWARD_TYPE,
    REWARD_VALUE,
    SCORE_SHARE,
    SEGMENT,
)
from recsys.rewards.offer_book import (
    QUALIFY_LIKELY,
    QUALIFY_STRETCH,
    QUALIFY_UNKNOWN,
    QUALIFY_UNLIKELY,
)

__all__ = [
    "LEFT_OUT_COLOR",
    "NO_SEGMENT",
    "QUALIFY_COLORS",
    "QUALIFY_ORDER",
    "TARGETED_COLOR",
    "audience_bar",
    "audience_score_distribution",
    "audience_segment_mix",
    "expected_rewards_bar",
    "qualify_color",
    "reach_per_customer",
]

# Traffic-light colours for "can the customer reach the offer's min spend?".
QUALIFY_COLORS: dict[str, str] = {
    QUALIFY_LIKELY: "#2E7D32",
    QUALIFY_STRETCH: "#E69F00",
    QUALIFY_UNLIKELY: "#C62828",
    QUALIFY_UNKNOWN: UNKNOWN_COLOR,
}
QUALIFY_ORDER: tuple[str, ...] = tuple(QUALIFY_COLORS)
NO_SEGMENT = "(no segment)"
TARGETED_COLOR = PRIMARY
LEFT_OUT_COLOR = "#C9D3DD"


def qualify_color(label: object) -> str:
    """The colour of a spend-realism label (grey when unknown or missing)."""
    return QUALIFY_COLORS.get(str(label), UNKNOWN_COLOR)


def _qualify_labels(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), QUALIFY_UNKNOWN).astype(str)


# --- rewards page: offer reach ---------------------------------------------------------------
def audience_bar(audience: pd.DataFrame, *, title: str = "Audience per offer") -> go.Figure:
    """Customers whose top-N recommendations carry each offer, coloured by reward type.

    ``audience`` has ``offer_id``, ``title``, ``reward_type``, ``audience`` (and optionally
    ``status``), largest first.
    """
    if audience is None or audience.empty:
        return empty_figure(title, "No offer reaches any customer on this date")
    df = audience.iloc[::-1].copy()
    df["_label"] = offer_labels(df)
    df["_full"] = offer_texts(df)
    df["_type"] = df[REWARD_TYPE].astype("object").fillna("(unspecified)").astype(str)
    status = text(df[STATUS]) if STATUS in df else pd.Series("", index=df.index)
    fig = go.Figure()
    for rtype, part in df.groupby("_type", sort=True):
        fig.add_bar(
            x=part[AUDIENCE],
            y=part["_label"],
            orientation="h",
            name=rtype,
            marker_color=reward_color(rtype),
            customdata=np.column_stack(
                [part[REWARD_VALUE].fillna(0), status[part.index], part["_full"]]
            ),
            hovertemplate="<b>%{customdata[2]}</b><br>%{x:,} customers<br>"
            + rtype
            + " %{customdata[0]:g}<br>status %{customdata[1]}<extra></extra>",
        )
    layout(
        fig,
        title,
        "Audience (customers)",
        "Offer",
        height=bar_height(len(df), per_bar=22),
        legend_title="Reward type",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist(), automargin=True)
    return fig


def reach_per_customer(
    offers_per_customer: pd.DataFrame,
    n_customers: int,
    n: int,
    *,
    title: str | None = None,
) -> go.Figure:
    """Customers by how many distinct offers their top ``n`` recommendations carry (0 too).

    ``offers_per_customer`` has ``n_offers`` and ``customers`` for counts >= 1
    (:attr:`recsys.campaigns.reach.OfferReach.offers_per_customer`); the customers reached by no
    offer are ``n_customers`` minus their sum. One bar per count: a few bars at any size.
    """
    title = title or f"Offers per customer (distinct offers in their top {n})"
    if n_customers <= 0:
        return empty_figure(title, "No customers")
    counts = offers_per_customer[N_OFFERS].to_numpy(dtype=np.int64)
    customers = offers_per_customer[CUSTOMERS].to_numpy(dtype=np.int64)
    nobody = int(n_customers) - int(customers.sum())
    x = np.r_[0, counts]
    y = np.r_[nobody, customers]
    colors = [LEFT_OUT_COLOR] + [PRIMARY] * len(counts)
    fig = go.Figure(
        go.Bar(
            x=x,
            y=y,
            marker_color=colors,
            customdata=y / int(n_customers) * 100,
            hovertemplate="%{y:,} customers (%{customdata:.1f}%) with %{x} offer(s)<extra></extra>",
        )
    )
    layout(fig, title, "Distinct offers in the top N (count)", "Customers (count, log scale)",
           height=300)  # fmt: skip
    fig.update_xaxes(dtick=1)
    # A log axis: the few customers with many offers stay visible beside the many with none.
    fig.update_yaxes(type="log", dtick=1)
    return fig


# --- rewards page: targeted audience ---------------------------------------------------------
def audience_score_distribution(
    members: pd.DataFrame,
    n_targeted: int,
    *,
    cutoff: float | None = None,
    title: str = "Targeted audience: model score distribution",
    bins: int = 40,
) -> go.Figure:
    """Histogram of audience members' scores (share of the top score), cut-off marked.

    ``members`` is :attr:`recsys.campaigns.audience.Audience.members` of the whole audience, best
    first
    (``score_share`` in 0-1); its first ``n_targeted`` rows are targeted and drawn in the primary
    colour, the rest in light grey. ``cutoff`` (a share of the top score; default the score of
    the last targeted customer) is drawn as a dashed line.
    """
    if members is None or members.empty:
        return empty_figure(title, "Nobody in the audience: no eligible customer scores > 0")
    share = members[SCORE_SHARE].to_numpy(dtype=float) * 100
    n_targeted = min(max(int(n_targeted), 0), share.size)
    if cutoff is None:
        cutoff = float(share[n_targeted - 1]) / 100 if n_targeted else 1.0
    targeted = np.arange(share.size) < n_targeted
    edges = np.linspace(0.0, 100.0, bins + 1)
    size = float(edges[1] - edges[0])
    # Binned here, not by plotly in the browser: an audience of a million customers would
    # otherwise ship a million scores with the figure; this ships ``bins`` counts per trace.
    ranges = np.column_stack([edges[:-1], edges[1:]])
    fig = go.Figure()
    for name, mask, color in (
        ("Targeted", targeted, TARGETED_COLOR),
        ("Left out", ~targeted, LEFT_OUT_COLOR),
    ):
        counts, _ = np.histogram(np.clip(share[mask], 0.0, 100.0), bins=edges)
        fig.add_bar(
            x=edges[:-1] + size / 2,
            y=counts,
            width=size,
            name=f"{name} ({int(mask.sum()):,})",
            marker_color=color,
            customdata=ranges,
            hovertemplate="score %{customdata[0]:.1f}-%{customdata[1]:.1f}% of the top<br>"
            "%{y:,} customers<extra>" + name + "</extra>",
        )
    layout(
        fig,
        title,
        "Model score (% of the best customer's score)",
        "Customers (count, log scale)",
        height=340,
        legend_title="",
    )
    # The legend sits between the title and the plot (a wider top margin keeps them apart).
    fig.update_layout(
        barmode="stack",
        margin={"t": 92},
        legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
    )
    fig.update_xaxes(range=[0, 101], ticksuffix="%")
    fig.add_vline(x=cutoff * 100, line={"color": "#C62828", "width": 2, "dash": "dash"})
    fig.add_annotation(
        x=cutoff * 100,
        y=1.0,
        yref="paper",
        text=f"cut-off {cutoff:.0%}",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11, "color": "#C62828"},
    )
    # A log axis: a few hundred targeted customers stay visible beside tens of thousands left
    # out (on a linear axis their bars are flat); the legend names give both counts. Ticks at
    # powers of ten only (1, 10, 100, ...).
    fig.update_yaxes(type="log", dtick=1)
    return fig


def audience_segment_mix(
    members: pd.DataFrame, *, title: str = "Targeted customers by segment and spend realism"
) -> go.Figure:
    """Targeted customers per segment (horizontal bars), stacked by ``qualifies``.

    ``members`` are the targeted rows of an audience (``segment``, ``qualifies``,
    ``reward_if_earned``); the hover gives the reward cost of each part (currency).
    """
    if members is None or members.empty:
        return empty_figure(title, "Nobody is targeted at this cut-off")
    df = pd.DataFrame(
        {
            SEGMENT: text(members[SEGMENT]).replace("", NO_SEGMENT)
            if SEGMENT in members
            else NO_SEGMENT,
            QUALIFIES: _qualify_labels(members[QUALIFIES]),
            REWARD_IF_EARNED: members[REWARD_IF_EARNED].fillna(0.0).to_numpy(dtype=float),
        }
    )
    totals = df.groupby(SEGMENT)[QUALIFIES].size().sort_values(ascending=True, kind="stable")
    order = totals.index.tolist()
    grouped = df.groupby([SEGMENT, QUALIFIES]).agg(
        customers=(REWARD_IF_EARNED, "size"), cost=(REWARD_IF_EARNED, "sum")
    )
    fig = go.Figure()
    labels = [q for q in QUALIFY_ORDER if q in set(df[QUALIFIES])]
    labels += sorted(set(df[QUALIFIES]) - set(labels))
    for label in labels:
        part = grouped.xs(label, level=QUALIFIES).reindex(order)
        fig.add_bar(
            x=part["customers"].fillna(0),
            y=order,
            orientation="h",
            name=label,
            marker_color=qualify_color(label),
            customdata=part["cost"].fillna(0.0),
            hovertemplate="segment <b>%{y}</b><br>%{x:,} customers " + label + "<br>"
            "cost if each earns it once: %{customdata:,.2f} (currency)<extra></extra>",
        )
    layout(
        fig,
        title,
        "Targeted customers (count)",
        "Segment",
        height=max(260, 140 + 36 * len(order)),
        legend_title="Reaches min spend?",
    )
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order)
    return fig


# --- customer explorer -----------------------------------------------------------------------
def expected_rewards_bar(
    offers: pd.DataFrame,
    *,
    title: str = "Best offer per recommendation: expected reward for this customer",
) -> go.Figure:
    """Expected reward (currency) of each recommendation's best offer, coloured by spend realism.

    ``offers`` has the columns of ``RecommenderPipeline.eligible_offers`` (``offer_title``,
    ``reward_type``, ``reward_value``, ``min_spend``, ``qualifies``, ``reward_if_earned``,
    ``expected_reward``, product columns), in the order to show (best first). The expected
    reward is the reward at the customer's typical spend times the likelihood of qualifying.
    """
    if offers is None or offers.empty:
        return empty_figure(title, "No eligible reward offers for these products")
    df = offers.iloc[::-1].copy()
    product = text(df[PRODUCT_NAME], df[PRODUCT_ID]) if PRODUCT_NAME in df else df[PRODUCT_ID]
    labels = [
        f"{o} → {p}"
        for o, p in zip(
            short(text(df[OFFER_TITLE], df[OFFER_ID]).tolist(), 26),
            short(product.astype(str).tolist(), 22),
            strict=True,
        )
    ]
    df["_label"] = _unique(labels)
    df["_q"] = _qualify_labels(df[QUALIFIES])
    fig = go.Figure()
    for label in [q for q in QUALIFY_ORDER if q in set(df["_q"])]:
        part = df[df["_q"] == label]
        fig.add_bar(
            x=part[EXPECTED_REWARD].fillna(0.0),
            y=part["_label"],
            orientation="h",
            name=label,
            marker_color=qualify_color(label),
            text=[f"{v:,.2f}" for v in part[EXPECTED_REWARD].fillna(0.0)],
            textposition="auto",
            customdata=np.column_stack(
                [
                    part[OFFER_ID].astype(str),
                    part[REWARD_TYPE].astype("object").fillna("—").astype(str),
                    part[REWARD_VALUE].fillna(0.0).map(lambda v: f"{v:g}"),
                    part[MIN_SPEND].map(lambda v: "none" if pd.isna(v) else f"{v:,.2f}"),
                    part[REWARD_IF_EARNED].map(lambda v: "n/a" if pd.isna(v) else f"{v:,.2f}"),
                ]
            ),
            hovertemplate="<b>%{y}</b><br>offer %{customdata[0]}: %{customdata[1]} "
            "%{customdata[2]}<br>min spend %{customdata[3]} (currency)<br>"
            + label
            + ": worth %{customdata[4]} if earned<br>expected reward %{x:,.2f} (currency)"
            "<extra></extra>",
        )
    layout(
        fig,
        title,
        "Expected reward (currency, at their typical spend × chance of qualifying)",
        "Offer → product",
        height=max(300, 140 + 28 * len(df)),
        legend_title="Reaches min spend?",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=df["_label"].tolist())
    return fig


def _unique(labels: Sequence[str]) -> list[str]:
    """Make labels unique (plotly would stack two rows with the same label onto one bar)."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        k = seen.get(lab, 0)
        seen[lab] = k + 1
        out.append(lab if k == 0 else f"{lab} #{k + 1}")
    return out
