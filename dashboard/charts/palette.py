"""Colours and layout shared by every chart: one colour per product category, per reward type
and per model, display names of models, and the layout, empty-figure and label helpers.

Colours are consistent across the whole dashboard: one colour per product category (from
:func:`category_colors`, built once over the dataset's full category list so a category keeps its
colour on every page), one fixed colour per reward type and one per model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from recsys.data.schema import CATEGORY, OFFER_ID, PRODUCT_ID, TITLE

__all__ = [
    "FONT",
    "MODEL_COLORS",
    "MODEL_LABELS",
    "PALETTE",
    "PRIMARY",
    "REWARD_TYPE_COLORS",
    "REWARD_UNITS",
    "SECONDARY",
    "STATUS_COLORS",
    "TEMPLATE",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_COLOR",
    "category_colors",
    "empty_figure",
    "model_color",
    "model_label",
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


def color_of(category: object, colors: Mapping[str, str] | None) -> str:
    key = category_label(category)
    if colors and key in colors:
        return colors[key]
    if key == UNKNOWN_CATEGORY:
        return UNKNOWN_COLOR
    # A category missing from the map still gets a stable colour (hash of its name).
    return PALETTE[sum(key.encode()) % len(PALETTE)]


def category_label(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value) == "":
        return UNKNOWN_CATEGORY
    return str(value)


def reward_color(reward_type: object) -> str:
    return REWARD_TYPE_COLORS.get(str(reward_type), UNKNOWN_COLOR)


# --- helpers ---------------------------------------------------------------------------------
def layout(
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
    layout(fig, title, "", "", height=260)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def text(series: pd.Series, fallback: pd.Series | None = None) -> pd.Series:
    out = series.astype("object")
    if fallback is not None:
        out = out.where(out.notna() & (out.astype(str) != ""), fallback.astype("object"))
    return out.fillna("").astype(str)


def short(labels: Sequence[str], width: int = 28) -> list[str]:
    return [s if len(s) <= width else s[: width - 1] + "…" for s in labels]


def short_middle(label: str, width: int) -> str:
    """``label`` cut in the middle to ``width`` characters: its start (ids) and end stay."""
    if len(label) <= width:
        return label
    head = (width - 1) * 2 // 3
    return label[:head] + "…" + label[len(label) - (width - 1 - head) :]


def offer_labels(offers: pd.DataFrame, width: int = 44) -> list[str]:
    """Distinct axis labels for offers: ``offer_id · what it applies to · title``, cut in the
    middle (:func:`short_middle`), so the id and the product (or category) always show; the
    full text (:func:`offer_texts`) belongs in the hover.

    ``offers`` has ``offer_id`` and ``title`` and, when known, ``product_id`` / ``category``.
    """
    full = offer_texts(offers)
    labels = [short_middle(label, width) for label in full]
    # Offer ids are unique and open every label; only ids longer than the cut could clash.
    return labels if len(set(labels)) == len(labels) else full


def offer_texts(offers: pd.DataFrame) -> list[str]:
    """The full ``offer_id · product or category · title`` of each offer (the hover text)."""
    empty = pd.Series("", index=offers.index)
    product = text(offers[PRODUCT_ID]) if PRODUCT_ID in offers else empty
    category = text(offers[CATEGORY]) if CATEGORY in offers else empty
    title = text(offers[TITLE]) if TITLE in offers else empty
    out = []
    for oid, pid, cat, name in zip(offers[OFFER_ID].astype(str), product, category, title,
                                   strict=True):  # fmt: skip
        what = pid or (f"category {cat}" if cat else "")
        out.append(" · ".join(part for part in (oid, what, name if name != oid else "") if part))
    return out


def bar_height(n: int, *, base: int = 140, per_bar: int = 28, minimum: int = 300) -> int:
    return max(minimum, base + per_bar * n)


def fmt_money(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else f"{v:,.2f}" for v in values]


def fmt_date(values: pd.Series) -> list[str]:
    dates = pd.to_datetime(values, errors="coerce")
    return ["open-ended" if pd.isna(v) else v.strftime("%Y-%m-%d") for v in dates]


# --- models ----------------------------------------------------------------------------------
# One fixed colour and display name per model, on every evaluation chart: the product's model in
# the dashboard's primary blue, the baselines in muted hues (popularity grey: the bar to beat).
MODEL_COLORS: dict[str, str] = {
    "user_knn": PRIMARY,
    "popularity": "#79706E",
    "popularity_segment": "#B07AA1",
    "item_knn": "#59A14F",
    "rp3beta": "#76B7B2",
    "ease": "#F28E2B",
    "als": "#EDC948",
}
MODEL_LABELS: dict[str, str] = {
    "user_knn": "User-kNN",
    "popularity": "Popularity",
    "popularity_segment": "Popularity in segment",
    "item_knn": "Item-kNN",
    "rp3beta": "RP3beta",
    "ease": "EASE",
    "als": "ALS",
}


def model_color(model: object) -> str:
    """The fixed colour of a model (a stable palette colour for an unknown one)."""
    name = str(model)
    return MODEL_COLORS.get(name, PALETTE[sum(name.encode()) % len(PALETTE)])


def model_label(model: object) -> str:
    """The display name of a model (``user_knn`` -> ``User-kNN``)."""
    return MODEL_LABELS.get(str(model), str(model))
