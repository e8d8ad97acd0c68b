"""Composite render pieces of the customer explorer (kept out of the page to keep it short)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache, charts, render, state
from dashboard.columns import AUDIENCE, AUDIENCE_SHARE, STATUS
from recsys.data.schema import (
    AMOUNT,
    CATEGORY,
    CUSTOMER_ID,
    EXPECTED_REWARD,
    MIN_SPEND,
    OFFER_END_DATE,
    OFFER_ID,
    OFFER_RANK,
    OFFER_TITLE,
    PRODUCT_ID,
    PRODUCT_NAME,
    PURCHASE_DATE,
    QUALIFIES,
    QUANTITY,
    RANK,
    REASON,
    REASON_NEIGHBORS,
    REASON_OFFER_BOOST,
    REASON_POPULAR,
    REASON_POPULAR_IN_SEGMENT,
    REWARD_TYPE,
    REWARD_VALUE,
    SCORE,
    SUPPORT,
    TITLE,
)
from recsys.params import METRICS, VALUES, WEIGHTINGS, ModelParams

MAX_CUSTOMER_OPTIONS = 5_000


def ensure_customer(ids: np.ndarray) -> None:
    """Keep the selected customer valid for the active model (first customer by default)."""
    current = st.session_state.get(state.CUSTOMER)
    if len(ids) and (current is None or not _contains(ids, str(current))):
        st.session_state[state.CUSTOMER] = str(ids[0])


def _contains(sorted_ids: np.ndarray, value: str) -> bool:
    """Membership in the model's sorted id vocabulary, by binary search."""
    i = int(np.searchsorted(sorted_ids, value))
    return i < len(sorted_ids) and sorted_ids[i] == value


def customer_options(
    ids: np.ndarray, query: str, current: str | None, limit: int = MAX_CUSTOMER_OPTIONS
) -> list[str]:
    """Ids containing ``query`` (at most ``limit``), always including the current customer."""
    if query:
        ids = ids[np.char.find(ids.astype(str), query.strip()) >= 0]
    options = [str(i) for i in ids[:limit]]
    if current is not None and current not in options:
        options.insert(0, current)
    return options


def customer_selector(container: Any, ids: np.ndarray) -> None:
    """The customer selectbox (searchable); with many customers, a search box narrows it first.

    A selectbox sends every option to the browser, so beyond :data:`MAX_CUSTOMER_OPTIONS`
    customers only the matches of the search box are offered.
    """
    ensure_customer(ids)
    options: Any = ids
    with container:
        if len(ids) > MAX_CUSTOMER_OPTIONS:
            query = st.text_input(
                "Find a customer",
                key=state.CUSTOMER_SEARCH,
                placeholder=f"{len(ids):,} customers: type part of an id",
            )
            options = customer_options(ids, query, st.session_state.get(state.CUSTOMER))
        st.selectbox("Customer", options, key=state.CUSTOMER, help="Type to search by customer id.")


def customer_profile(dataset: Any, customer: str, colors: dict[str, str]) -> None:
    """Segment, purchases, spend, category mix chart and recent purchases of one customer."""
    st.subheader(f"Customer {customer}")
    if dataset is None:
        st.info("No dataset is active, so the purchase history cannot be shown.")
        return
    prof = cache.customer_profile(dataset.fingerprint, dataset, customer)
    m = st.columns(5)
    m[0].metric("Segment", prof.segment or "—")
    m[1].metric("Purchases", f"{prof.n_purchases:,}")
    m[2].metric("Distinct products", f"{prof.n_products:,}")
    m[3].metric("Spend", render.fmt_money(prof.spend))
    m[4].metric("Last purchase", render.fmt_date(prof.last_purchase))
    if prof.n_purchases == 0:
        st.info(
            "This customer has no purchases in the active dataset: recommendations fall back "
            "to popular products."
        )
        return
    left, right = st.columns([2, 3])
    left.plotly_chart(
        charts.category_mix(prof.mix, colors, title="Their category mix (spend)"),
        key="chart_customer_mix",
    )
    with right:
        st.markdown("**Recent purchases**")
        st.dataframe(
            prof.recent,
            hide_index=True,
            width="stretch",
            column_config={
                PURCHASE_DATE: st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
                PRODUCT_ID: st.column_config.TextColumn("Product id"),
                PRODUCT_NAME: st.column_config.TextColumn("Product"),
                CATEGORY: st.column_config.TextColumn("Category"),
                QUANTITY: st.column_config.NumberColumn("Qty", format="%d"),
                AMOUNT: st.column_config.NumberColumn("Amount", format="%.2f"),
            },
        )


# How a recommendation's reason reads in tables (an offer boost is flagged with an arrow).
REASON_LABELS: dict[str, str] = {
    REASON_NEIGHBORS: "similar customers",
    REASON_OFFER_BOOST: "▲ moved up by an offer (similar customers)",
    REASON_POPULAR: "popular (fallback)",
    REASON_POPULAR_IN_SEGMENT: "popular in segment (fallback)",
}


def reason_label(reason: object) -> str:
    """The analyst-facing text of a ``reason`` value."""
    return REASON_LABELS.get(str(reason), str(reason).replace("_", " "))


def recommendations_table(recs: pd.DataFrame) -> None:
    """The recommendations as a table: rank, product, category, score, support, reason."""
    st.dataframe(
        recs.assign(**{REASON: recs[REASON].map(reason_label)}),
        hide_index=True,
        width="stretch",
        key="table_recs",
        column_config={
            RANK: st.column_config.NumberColumn("Rank", format="%d", width="small"),
            PRODUCT_ID: st.column_config.TextColumn("Product id"),
            PRODUCT_NAME: st.column_config.TextColumn("Product"),
            CATEGORY: st.column_config.TextColumn("Category"),
            SCORE: st.column_config.ProgressColumn(
                "Score",
                format="%.3f",
                min_value=0.0,
                max_value=float(max(recs[SCORE].max(), 1e-9)) if len(recs) else 1.0,
            ),
            SUPPORT: st.column_config.NumberColumn(
                "Support", format="%d", help="Neighbours who bought it"
            ),
            REASON: st.column_config.TextColumn(
                "Reason", help="▲ = ranked higher than relevance alone because of its offer"
            ),
        },
    )
    boosted = int((recs[REASON] == REASON_OFFER_BOOST).sum()) if len(recs) else 0
    if boosted:
        st.caption(
            f"▲ {boosted} of these products sit higher than relevance alone would put them, "
            "because of a valuable offer this customer can reach (the model's reward boost)."
        )


def best_offers(offers: pd.DataFrame) -> pd.DataFrame:
    """The best eligible offer per recommended product, in recommendation order."""
    best = offers[offers[OFFER_RANK] == 1]
    return best.sort_values(RANK, kind="stable").reset_index(drop=True)


def qualify_styler(table: pd.DataFrame) -> Any:
    """The table with its ``qualifies`` cells coloured like the charts (traffic light)."""

    def style(value: object) -> str:
        if value is None or pd.isna(value):
            return ""
        color = charts.qualify_color(value)
        return f"color: white; background-color: {color}; font-weight: 600"

    return table.style.map(style, subset=[QUALIFIES])


def offers_table(offers: pd.DataFrame) -> None:
    """Every eligible offer: product, offer, value, min spend, spend realism, expected reward.

    ``qualifies`` says whether the customer's typical spend reaches the min spend (coloured like
    the chart); the expected reward is in currency. The offer id is in the chart's hover.
    """
    table = offers.assign(
        **{OFFER_END_DATE: [render.fmt_date(v, none="open-ended") for v in offers[OFFER_END_DATE]]}
    ).sort_values([RANK, OFFER_RANK], kind="stable")[
        [
            RANK,
            PRODUCT_NAME,
            OFFER_TITLE,
            REWARD_TYPE,
            REWARD_VALUE,
            MIN_SPEND,
            QUALIFIES,
            EXPECTED_REWARD,
            OFFER_END_DATE,
        ]
    ]
    st.dataframe(
        qualify_styler(table),
        hide_index=True,
        width="stretch",
        key="table_offers",
        column_config={
            RANK: st.column_config.NumberColumn("Rec.", format="%d", width="small"),
            PRODUCT_NAME: st.column_config.TextColumn("Product"),
            OFFER_TITLE: st.column_config.TextColumn("Offer", width="medium"),
            REWARD_TYPE: st.column_config.TextColumn("Type"),
            REWARD_VALUE: st.column_config.NumberColumn("Value", format="%g"),
            MIN_SPEND: st.column_config.NumberColumn("Min spend", format="%.0f"),
            QUALIFIES: st.column_config.TextColumn(
                "Reaches min spend?",
                help="From their spend per purchase in the category: likely to qualify (median "
                "reaches it), stretch (only their 80th percentile does), unlikely.",
            ),
            EXPECTED_REWARD: st.column_config.NumberColumn(
                "Expected reward",
                format="%.2f",
                help="Currency: the reward at their typical spend × chance of qualifying "
                "(likely 1, stretch 0.5, unlikely 0.1); the chart's hover has the full value.",
            ),
            OFFER_END_DATE: st.column_config.TextColumn("Expires"),
        },
    )


def product_label(recs: pd.DataFrame) -> Callable[[str], str]:
    """``format_func`` for a product id among recommendations: 'name (category)'."""
    names = dict(zip(recs[PRODUCT_ID].astype(str), recs[PRODUCT_NAME], strict=True))
    cats = dict(zip(recs[PRODUCT_ID].astype(str), recs[CATEGORY], strict=True))
    return lambda pid: f"{_or(names.get(pid), pid)} ({_or(cats.get(pid), 'no category')})"


def catalogue_label(pipeline: Any) -> Callable[[str], str]:
    """``format_func`` for any product of the model: 'name · category'."""
    catalogue = pipeline.catalogue_
    names = dict(zip(catalogue[PRODUCT_ID].astype(str), catalogue[PRODUCT_NAME], strict=True))
    cats = dict(zip(catalogue[PRODUCT_ID].astype(str), catalogue[CATEGORY], strict=True))
    return lambda pid: f"{_or(names.get(pid), pid)} · {_or(cats.get(pid), 'no category')}"


def explanation_caption(recs: pd.DataFrame, product: str, explanation: pd.DataFrame) -> None:
    """One sentence on where the product's score comes from."""
    row = recs[recs[PRODUCT_ID] == product].iloc[0]
    if explanation.empty:
        st.caption(
            f"**{_or(row[PRODUCT_NAME], product)}** is a fallback "
            f"({str(row[REASON]).replace('_', ' ')}): no look-alike bought it."
        )
        return
    st.caption(
        f"**{_or(row[PRODUCT_NAME], product)}** scores {row[SCORE]:.3f}: "
        f"{len(explanation)} look-alike(s) bought it; each bar is one neighbour's share "
        "(similarity × their weight for the product)."
    )


def explanation_title(recs: pd.DataFrame, product: str) -> str:
    """Chart title naming the explained product."""
    row = recs[recs[PRODUCT_ID] == product].iloc[0]
    return f"Look-alikes behind “{_or(row[PRODUCT_NAME], product)}” (share of its score)"


def _or(value: Any, fallback: str) -> str:
    return fallback if value is None or pd.isna(value) or str(value) == "" else str(value)


# --- data page -----------------------------------------------------------------------------------
UPLOAD_TYPES = ["csv", "txt", "tsv", "parquet", "pq"]


def upload_widgets(tables: dict[str, str]) -> tuple[cache.UploadedFiles, dict[str, dict[str, str]]]:
    """One uploader per table, plus a column mapper per uploaded file.

    Returns the uploaded files as ``(table, name, bytes)`` and the explicit column mappings.
    """
    uploads = {}
    for col, (table, label) in zip(st.columns(len(tables)), tables.items(), strict=True):
        uploads[table] = col.file_uploader(
            label, type=UPLOAD_TYPES, key=f"{state.UPLOAD_PREFIX}{table}"
        )
    files: list[tuple[str, str, bytes]] = []
    column_maps: dict[str, dict[str, str]] = {}
    for table, uploaded in uploads.items():
        if uploaded is None:
            continue
        content = uploaded.getvalue()
        files.append((table, uploaded.name, content))
        with render.user_errors():
            headers, detected = cache.file_headers(content, uploaded.name, table)
            column_maps[table] = render.column_mapper(
                table, headers, detected, file_name=uploaded.name
            )
    return tuple(files), column_maps


# --- model page ----------------------------------------------------------------------------------
K_MAX = 500  # the default tuning grid tries k up to 200; room to go beyond it
MIN_SIMILARITY_MAX = 0.95
SIMILARITY_POWERS: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0)
TRAIN_FORM_KEYS: tuple[str, ...] = (
    state.K,
    state.SIMILARITY_POWER,
    state.MIN_SIMILARITY,
    state.METRIC,
    state.WEIGHTING,
    state.VALUE,
    state.REWARD_BOOST,
    state.EXCLUDE_PURCHASED,
)


def train_form_values(params: ModelParams) -> dict[str, Any]:
    """The train form's widget values (session-state key -> value) that show ``params``.

    k and the minimum similarity are clipped to the form's range (a model trained elsewhere may
    lie outside it), so the page never breaks on a loaded model.
    """
    return {
        state.K: min(int(params.n_neighbors), K_MAX),
        state.SIMILARITY_POWER: float(params.similarity_power),
        state.MIN_SIMILARITY: min(float(params.min_similarity), MIN_SIMILARITY_MAX),
        state.METRIC: params.metric,
        state.WEIGHTING: params.weighting,
        state.VALUE: params.value,
        state.REWARD_BOOST: float(params.reward_boost),
        state.EXCLUDE_PURCHASED: bool(params.exclude_purchased),
    }


def similarity_powers(*extra: float | None) -> list[float]:
    """The power options: :data:`SIMILARITY_POWERS` and any other power in use (``extra``)."""
    return sorted({*SIMILARITY_POWERS, *(float(p) for p in extra if p is not None)})


def train_form(current: ModelParams) -> dict[str, Any] | None:
    """The training settings form (showing ``current``); the settings when Train is pressed.

    The widgets' values live in session state, initialised from ``current`` when not set yet
    (so the widgets take no ``value=``). Nothing happens on a widget change: only the submit
    button returns the settings. Settings the form does not show (model kind, l2) are kept from
    ``current`` by the caller.
    """
    state.init_state(defaults=train_form_values(current))
    if current.n_neighbors > K_MAX or current.min_similarity > MIN_SIMILARITY_MAX:
        st.warning(
            f"These settings (k = {current.n_neighbors}, minimum similarity "
            f"{current.min_similarity:g}) are beyond this form's range (k up to {K_MAX}, minimum "
            f"similarity up to {MIN_SIMILARITY_MAX:g}): the form shows the nearest it can train.",
            icon=":material/warning:",
        )
    powers = similarity_powers(current.similarity_power, state.get(state.SIMILARITY_POWER))
    with st.form("train_form", border=True):
        c1, c2, c3 = st.columns(3)
        k = c1.slider(
            "Neighbours (k)",
            1,
            K_MAX,
            key=state.K,
            help="How many similar customers vote for each customer's recommendations "
            "(tuning tries 10 to 200). Arrow keys move the slider by one.",
        )
        power = c2.select_slider(
            "Similarity power",
            powers,
            key=state.SIMILARITY_POWER,
            format_func=lambda p: f"{p:g}",
            help="Each neighbour's vote is weighted by similarity ** power. 1 = plain "
            "similarity-weighted sum; higher favours the closest neighbours (often better "
            "with a larger k).",
        )
        min_sim = c3.slider(
            "Minimum similarity",
            0.0,
            MIN_SIMILARITY_MAX,
            step=0.05,
            key=state.MIN_SIMILARITY,
            help="Ignore neighbours less similar than this.",
        )
        c4, c5, c6 = st.columns(3)
        metric = c4.selectbox(
            "Similarity metric",
            METRICS,
            key=state.METRIC,
            help="How alike two customers' baskets are.",
        )
        weighting = c5.selectbox(
            "Weighting",
            WEIGHTINGS,
            key=state.WEIGHTING,
            help="binary = bought or not; tfidf/bm25 down-weight very popular "
            "products; log1p/count use how often.",
        )
        value = c6.selectbox(
            "Value per purchase",
            VALUES,
            key=state.VALUE,
            help="What a cell counts before weighting: purchase lines, units or spend.",
        )
        c7, c8 = st.columns([1, 2], vertical_alignment="center")
        boost = c7.slider(
            "Reward boost",
            0.0,
            1.0,
            step=0.05,
            key=state.REWARD_BOOST,
            help="0 ranks by relevance only; towards 1, products with valuable eligible offers "
            "move up each customer's list.",
        )
        exclude = c8.checkbox("Exclude products already bought", key=state.EXCLUDE_PURCHASED)
        submitted = st.form_submit_button("Train model", type="primary", icon=":material/bolt:")

    if not submitted:
        return None
    return {
        "n_neighbors": int(k),
        "similarity_power": float(power),
        "min_similarity": float(min_sim),
        "metric": metric,
        "weighting": weighting,
        "value": value,
        "reward_boost": float(boost),
        "exclude_purchased": bool(exclude),
    }


# --- rewards page --------------------------------------------------------------------------------
def offer_catalogue_table(per_offer: pd.DataFrame) -> None:
    """Offers with status on the as-of date and reach in the top N, largest reach first."""
    st.dataframe(
        per_offer,
        hide_index=True,
        width="stretch",
        key="table_offers_catalogue",
        column_config={
            OFFER_ID: st.column_config.TextColumn("Offer id", width="small"),
            TITLE: st.column_config.TextColumn("Offer", width="medium"),
            REWARD_TYPE: st.column_config.TextColumn("Type"),
            REWARD_VALUE: st.column_config.NumberColumn("Value", format="%g"),
            STATUS: st.column_config.TextColumn("Status on date"),
            AUDIENCE: st.column_config.NumberColumn(
                "Reach (top N)", format="%d", help="Customers with the offer in their top N"
            ),
            AUDIENCE_SHARE: st.column_config.ProgressColumn(
                "Reach (share of customers)", format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )


def top_customers_table(top: pd.DataFrame) -> None:
    """The customers an offer reaches, by the score of their best eligible product."""
    st.dataframe(
        top,
        hide_index=True,
        width="stretch",
        key="table_top_customers",
        column_config={
            CUSTOMER_ID: st.column_config.TextColumn("Customer"),
            PRODUCT_ID: st.column_config.TextColumn("Product id"),
            PRODUCT_NAME: st.column_config.TextColumn("Recommended product"),
            RANK: st.column_config.NumberColumn("Rank in their top N", format="%d"),
            SCORE: st.column_config.NumberColumn("Score", format="%.3f"),
        },
    )


# --- saved models --------------------------------------------------------------------------------
def models_table(infos: list[Any]) -> pd.DataFrame:
    """One row per saved model: name, parameters, data, fingerprint, created, size."""
    rows = []
    for info in infos:
        p = info.params or {}
        rows.append(
            {
                "name": info.name,
                "model": f"k={p.get('n_neighbors', '?')} · {p.get('metric', '?')} · "
                f"{p.get('weighting', '?')}/{p.get('value', '?')}"
                + _power_text(p.get("similarity_power", 1.0)),
                "min_similarity": p.get("min_similarity"),
                "dataset": info.dataset,
                "customers": info.n_customers,
                "products": info.n_products,
                "fingerprint": info.fingerprint[:12],
                "created": render.fmt_timestamp(info.created_at),
                "size": render.fmt_size(info.size_bytes),
            }
        )
    return pd.DataFrame(rows)


def _power_text(power: Any) -> str:
    return "" if float(power) == 1.0 else f" · power {float(power):g}"


MODEL_COLUMNS = {
    "name": st.column_config.TextColumn("Name"),
    "model": st.column_config.TextColumn("Parameters", width="medium"),
    "min_similarity": st.column_config.NumberColumn("Min sim.", format="%.2f"),
    "dataset": st.column_config.TextColumn("Trained on"),
    "customers": st.column_config.NumberColumn("Customers", format="%d"),
    "products": st.column_config.NumberColumn("Products", format="%d"),
    "fingerprint": st.column_config.TextColumn("Data fingerprint", help="sha256 of the data"),
    "created": st.column_config.TextColumn("Created"),
    "size": st.column_config.TextColumn("Size"),
}
