"""Customer explorer pieces: the customer picker, their profile, recommendations, offers and
the explanation of one recommendation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache, charts, profile, render, state
from recsys.data.schema import (
    AMOUNT,
    CATEGORY,
    EXPECTED_REWARD,
    MIN_SPEND,
    OFFER_END_DATE,
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
)

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
    """Ids containing ``query`` (at most ``limit``, see :func:`dashboard.profile.search_ids`),
    always including the current customer."""
    options, _ = profile.search_ids(ids, query, limit)
    return with_current(options, current)


def with_current(options: list[str], current: str | None) -> list[str]:
    """``options`` with ``current`` first when it is not among them (a copy)."""
    options = list(options)
    if current is not None and current not in options:
        options.insert(0, current)
    return options


def _resolve_typed(ids: np.ndarray) -> None:
    """Callback of the picker: an id typed into it selects that customer; any other text
    searches every customer and selects the best match (the others become the options)."""
    typed = str(st.session_state.get(state.CUSTOMER) or "").strip()
    previous = st.session_state.get(state.CUSTOMER_SHOWN)
    if _contains(ids, typed):
        st.session_state[state.CUSTOMER] = typed
        if _active_query() not in typed:  # not one of the last search's matches: forget it
            st.session_state[state.CUSTOMER_SEARCH] = None
        return
    matches, total = profile.search_ids(ids, typed, MAX_CUSTOMER_OPTIONS)
    if matches:
        st.session_state[state.CUSTOMER] = matches[0]
        st.session_state[state.CUSTOMER_SEARCH] = {"query": typed, "total": total}
    else:
        st.session_state[state.CUSTOMER] = previous if previous is not None else str(ids[0])
        st.session_state[state.CUSTOMER_SEARCH] = {"query": typed, "total": 0}


def customer_selector(container: Any, key: str, ids: np.ndarray) -> str:
    """The customer picker: one selectbox that finds any customer id; returns the selected id.

    A selectbox sends every option to the browser, so beyond :data:`MAX_CUSTOMER_OPTIONS`
    customers it offers a bounded list: the matches of the last search, else the first ids.
    Typing into it filters those; pressing Enter on typed text searches *every* customer
    (:func:`dashboard.profile.search_ids`): an exact id is selected, part of an id selects its
    best match and offers the other matches. :func:`customer_search_note` says what the list
    holds. ``key`` is the model's (:func:`dashboard.cache.model_key`): searches are cached.
    """
    ensure_customer(ids)
    current = str(st.session_state[state.CUSTOMER])
    query = _active_query()
    many = len(ids) > MAX_CUSTOMER_OPTIONS
    options: Any = ids
    if many or query:
        options = with_current(
            cache.customer_search(key, ids, query, MAX_CUSTOMER_OPTIONS)[0], current
        )
    container.selectbox(
        "Customer",
        options,
        key=state.CUSTOMER,
        accept_new_options=True,
        on_change=_resolve_typed,
        args=(ids,),
        help=f"Type a customer id, or part of one, and press Enter: it searches all "
        f"{len(ids):,} customers.",
    )
    st.session_state[state.CUSTOMER_SHOWN] = current
    return current


def _active_query() -> str:
    """The last search's text, when it matched someone ("" otherwise)."""
    search = st.session_state.get(state.CUSTOMER_SEARCH) or {}
    return str(search.get("query", "")) if search.get("total") else ""


def customer_search_note(ids: np.ndarray) -> None:
    """Under the picker: what its list offers, or that the last search matched nobody."""
    search = st.session_state.get(state.CUSTOMER_SEARCH) or {}
    query, total = search.get("query"), int(search.get("total") or 0)
    if query and not total:
        st.warning(
            f"No customer id contains “{query}”: still showing "
            f"{st.session_state.get(state.CUSTOMER)}.",
            icon=":material/person_off:",
        )
        st.session_state[state.CUSTOMER_SEARCH] = None  # said once
    elif query:
        more = (
            f" (the first {MAX_CUSTOMER_OPTIONS:,} are offered)"
            if total > MAX_CUSTOMER_OPTIONS
            else ""
        )
        st.caption(f"{total:,} customer ids contain “{query}”{more}: pick one in the list.")
    elif len(ids) > MAX_CUSTOMER_OPTIONS:
        st.caption(
            f"{len(ids):,} customers: the list offers the first {MAX_CUSTOMER_OPTIONS:,}; type "
            "any id (or part of one) into it and press Enter to search them all."
        )


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


FALLBACK_REASONS = (REASON_POPULAR, REASON_POPULAR_IN_SEGMENT)


def fallback_note(recs: pd.DataFrame, model: str, n_neighbors: int | None) -> str | None:
    """Why some (or all) recommendations are popular fallbacks, in one sentence (None: none).

    ``n_neighbors`` is how many look-alikes the model found for the customer (user-kNN; None
    for another model). A fallback fills a slot the model could not: its look-alikes bought no
    further product the customer lacks.
    """
    fallback = recs[REASON].isin(FALLBACK_REASONS).to_numpy()
    n_fallback = int(fallback.sum())
    if not n_fallback:
        return None
    in_segment = (recs[REASON] == REASON_POPULAR_IN_SEGMENT).any()
    source = "the most popular products" + (" of their segment" if in_segment else "")
    from_model = len(recs) - n_fallback
    rest = (
        f"the other {n_fallback}"
        if from_model
        else (f"all {n_fallback}" if n_fallback > 1 else "the only")
    )
    filled = f"{rest} recommendation{'s are' if n_fallback > 1 else ' is'} filled from {source}"
    if model != "user_knn":
        label = charts.model_label(model)
        return (
            f"{label} scored {from_model or 'no'} product{'s' if from_model != 1 else ''} this "
            f"customer lacks; {filled}."
        )
    if not n_neighbors:
        return (
            f"This customer has no look-alikes (no other customer is similar enough), so {filled}."
        )
    who = f"this customer's {n_neighbors} look-alike{'s' if n_neighbors > 1 else ''}"
    if not from_model:
        return f"None of {who} bought a product they lack; {filled}."
    return (
        f"{who[0].upper() + who[1:]} bought only {from_model} "
        f"product{'s' if from_model > 1 else ''} they lack; {filled}."
    )


def why_fallback(key: str, pipeline: Any, customer: str, recs: pd.DataFrame) -> str | None:
    """:func:`fallback_note` for a customer, with the look-alikes the model itself uses."""
    if not recs[REASON].isin(FALLBACK_REASONS).any():
        return None
    model = pipeline.params.model
    found = None
    if model == "user_knn":
        k = int(pipeline.params.n_neighbors)
        with render.user_errors():
            found = len(cache.similar_customers(key, pipeline, customer, k))
    return fallback_note(recs, model, found)


def recommendations_table(recs: pd.DataFrame, note: str | None = None) -> None:
    """The recommendations as a table: rank, product, category, score, support, reason; and
    ``note`` (:func:`fallback_note`), why some are fallbacks."""
    if recs.empty:
        # Popular products fill every free slot, so an empty list means nothing is left to offer.
        st.info(
            "No recommendations: this customer has already bought every product the model "
            "knows, and already purchased products are left out. Pick another customer, or "
            "train with a larger catalogue.",
            icon=":material/inventory:",
        )
        return
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
    if note:
        st.info(note, icon=":material/trending_up:")
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
        render.qualify_styler(table),
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


def explain_product(
    recs: pd.DataFrame,
    product: str,
    explanation: pd.DataFrame,
    note: str | None,
    *,
    model: str = "user_knn",
) -> None:
    """Where the product's score comes from: a sentence and the chart of the neighbours' shares,
    or, for a fallback (no look-alike bought it), why it is one instead of an empty chart.

    ``model`` is the kind that ranked ``recs``: only a user-kNN's score is the sum of the
    contributions; another model's score is its own, and the chart shows the look-alikes' votes.
    """
    row = recs[recs[PRODUCT_ID] == product].iloc[0]
    name = _or(row[PRODUCT_NAME], product)
    if explanation.empty:
        if row[REASON] in FALLBACK_REASONS:
            kind = "in their segment" if row[REASON] == REASON_POPULAR_IN_SEGMENT else "overall"
            st.info(
                f"**{name}** is a fallback (one of the most popular products {kind}), not a "
                f"look-alike's pick. {note or 'No look-alike bought it.'}",
                icon=":material/trending_up:",
            )
        else:
            st.info(
                f"**{name}** scores {row[SCORE]:.3f} from the model's own scores, not from the "
                "look-alikes shown above (none of them bought it), so there is no neighbour to "
                "chart.",
                icon=":material/info:",
            )
        return
    parts = (
        "their similarity (to the similarity power) × their weight for the product, divided by "
        "the product's popularity penalty"
    )
    if model == "user_knn":
        caption = (
            f"**{name}** scores {row[SCORE]:.3f}: {len(explanation)} look-alike(s) bought it; "
            f"each bar is one neighbour's share of the score: {parts}. The contributions add "
            "up to the score."
        )
    else:
        caption = (
            f"**{name}** scores {row[SCORE]:.3f} from the {charts.model_label(model)} model; "
            f"{len(explanation)} look-alike(s) bought it. Each bar is one neighbour's share of "
            f"the look-alikes' vote for it ({parts}), not of the score."
        )
    st.caption(caption)
    st.plotly_chart(
        charts.explanation_bar(explanation, title=explanation_title(recs, product)),
        key="chart_explain",
    )


def explanation_title(recs: pd.DataFrame, product: str) -> str:
    """Chart title naming the explained product."""
    row = recs[recs[PRODUCT_ID] == product].iloc[0]
    return f"Look-alikes behind “{_or(row[PRODUCT_NAME], product)}” (share of its score)"


def _or(value: Any, fallback: str) -> str:
    return fallback if value is None or pd.isna(value) or str(value) == "" else str(value)
