"""Rewards page pieces: reach of each offer in the top-N recommendations, the targeted audience
of one offer (ranked by model score), and the campaign export.

Everything expensive comes from :mod:`dashboard.cache`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import streamlit as st

from dashboard import actions, cache, charts, profile, render, state
from dashboard.columns import AUDIENCE, AUDIENCE_SHARE, STATUS
from recsys.campaigns import reach as reach_counts
from recsys.campaigns.audience import Audience
from recsys.campaigns.export import CAMPAIGN_COLUMNS
from recsys.campaigns.reach import TOP_CUSTOMERS
from recsys.data.schema import (
    CATEGORY,
    CUSTOMER_ID,
    EXPECTED_REWARD,
    OFFER_ID,
    PRODUCT_ID,
    PRODUCT_NAME,
    QUALIFIES,
    RANK,
    REWARD_TYPE,
    REWARD_VALUE,
    SCORE,
    SCORE_SHARE,
    SEGMENT,
    TITLE,
)
from recsys.rewards.eligibility import ACTIVE, EXPIRED, UPCOMING

CUT_TOP = "Top N customers"
CUT_SCORE = "Minimum score"
SCOPE_ALL = "All customers"
SCOPE_SEGMENT = "A segment"
SCOPE_AUDIENCE = "The targeted audience above"
# Format label -> (write_campaign fmt, file suffix, MIME type).
FORMATS: dict[str, tuple[Literal["csv", "parquet"], str, str]] = {
    "CSV": ("csv", "csv", "text/csv"),
    "Parquet": ("parquet", "parquet", "application/vnd.apache.parquet"),
}
REACH_LABEL = "Reach in top-N recommendations"
TABLE_ROWS = 1_000  # targeted customers listed on the page (all of them go to the export)
TARGET_LABEL = "Targeted audience (ranked by model score)"


# --- reach in the top-N recommendations ----------------------------------------------------------
def sample_note(aud: dict[str, Any], key: str) -> None:
    """Under the headline: the figures are estimates from a sample, and the button that counts
    every customer instead (nothing when every customer was counted)."""
    if not aud["sampled"]:
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(
        f"Estimated from a seeded sample of {aud['n_counted']:,} of {aud['n_customers']:,} "
        "customers: shares are within about ±0.7 percentage points (95 %), counts are the "
        "sample's scaled up, and the customers listed per offer are the sample's best. Counting "
        "every customer takes one neighbour search each: minutes at this size, with a counted "
        "bar."
    )
    right.button(
        f"Count all {aud['n_customers']:,} customers",
        key="reach_count_all",
        icon=":material/functions:",
        width="stretch",
        on_click=actions.count_every_customer,
        args=(key,),
    )


def reach_section(aud: dict[str, Any], n: int) -> None:
    """Reach per offer (chart), offers per customer, the offer catalogue, and the customers an
    offer reaches. ``aud`` is :func:`dashboard.cache.offer_reach`'s."""
    st.subheader(REACH_LABEL)
    st.caption(
        f"An offer **reaches** a customer when at least one of their top {n} recommended "
        "products qualifies for it on the chosen date (segment rule and caps applied)."
    )
    estimated = "estimated " if aud["sampled"] else ""
    st.plotly_chart(
        charts.audience_bar(
            aud["reached"], title=f"Reach per offer ({estimated}customers, top {n})"
        ),
        key="chart_audience",
    )
    reach = aud["reach"]
    st.plotly_chart(
        charts.reach_per_customer(reach.offers_per_customer, reach.n_customers, n),
        key="chart_reach_per_customer",
    )
    st.markdown("**Offer catalogue**")
    offer_catalogue_table(aud["per_offer"])
    st.markdown("**Customers an offer reaches**")
    if aud["reached"].empty:
        st.info("No offer reaches anyone on this date: pick another date or a larger top N.")
        return
    labels = dict(zip(aud["reached"][OFFER_ID], aud["reached"][TITLE], strict=True))
    offer = st.selectbox(
        "Offer (reached in the top N)",
        list(labels),
        key=state.AUDIENCE_OFFER,
        format_func=lambda o: f"{labels[o]} ({o})",
    )
    among = " among the sampled customers" if aud["sampled"] else ""
    st.caption(
        f"The {TOP_CUSTOMERS} customers{among} with the highest score for a recommended product "
        "that carries the offer."
    )
    top_customers_table(reach.top_customers(offer))


def headline(aud: dict[str, Any], n: int) -> None:
    """Coverage, customers reached, active offers, offers with reach."""
    per_offer = aud["per_offer"]
    m = st.columns(4)
    m[0].metric(
        "Coverage",
        f"{aud['coverage']:.0%}",
        help=f"Customers with at least one eligible offer in their top {n}.",
    )
    about = "≈ " if aud["sampled"] else ""
    m[1].metric("Customers reached", f"{about}{aud['n_reached']:,} of {aud['n_customers']:,}")
    m[2].metric("Active offers", f"{int((per_offer[STATUS] == ACTIVE).sum())} of {len(per_offer)}")
    m[3].metric("Offers reaching someone", f"{len(aud['reached'])} of {len(per_offer)}")


# --- targeted audience of one offer --------------------------------------------------------------
@dataclass(frozen=True)
class AudienceChoice:
    """The targeted-audience widgets' values: which offer, how it is cut, recent buyers."""

    offer: str
    cut: str
    top: int | None
    min_share: float | None
    window: int | None  # days of recent buyers left out (None keeps them)

    def export_id(self, as_of: pd.Timestamp) -> tuple[Any, ...]:
        """What identifies the targeted audience in an export."""
        return (self.offer, str(as_of.date()), self.window, self.cut, self.top, self.min_share)


def targeted_audience_controls(offers: pd.DataFrame) -> AudienceChoice:
    """The targeted audience's heading and widgets: pick an offer and a cut-off.

    ``offers`` is the offer catalogue with its ``status`` on the date
    (:func:`dashboard.cache.offers_with_status`): the widgets need no reach, so they are drawn
    while the reach of every offer is still being counted. Active offers are listed first.
    """
    st.subheader(TARGET_LABEL)
    st.caption(
        "Who to target with one offer: every eligible customer (segment rule, caps), ranked by "
        "the model's score for the offer's product — for a category offer, their best product "
        "of the category — whether or not it is in their top N. Cut the list by rank or score."
    )
    per_offer = offer_choices(offers)
    labels = dict(
        zip(per_offer[OFFER_ID], per_offer[TITLE].fillna(per_offer[OFFER_ID]), strict=True)
    )
    status = dict(zip(per_offer[OFFER_ID], per_offer[STATUS], strict=True))
    c1, c2, c3, c4 = st.columns([2.4, 1.1, 1.1, 1.4], vertical_alignment="bottom")
    offer = c1.selectbox(
        "Offer",
        list(labels),
        key=state.TARGET_OFFER,
        format_func=lambda o: f"{labels[o]} ({o}) · {status[o]}",
    )
    cut = c2.radio("Cut the audience by", [CUT_TOP, CUT_SCORE], key=state.TARGET_CUT)
    top: int | None = None
    min_share: float | None = None
    if cut == CUT_TOP:
        top = int(
            c3.number_input("Customers to target", 1, 1_000_000, 500, 50, key=state.TARGET_TOP)
        )
    else:
        share = c3.slider(
            "Minimum score (% of top)", 0, 100, 50, 5, key=state.TARGET_MIN_SHARE, format="%d%%"
        )
        min_share = share / 100
    days = int(
        c4.number_input(
            "Skip recent buyers (days)",
            0,
            3650,
            30,
            key=state.TARGET_RECENT_DAYS,
            help="Customers who bought the product (any product of the category) in this many "
            "days up to the as-of date are not targeted. 0 keeps them.",
        )
    )
    return AudienceChoice(str(offer), cut, top, min_share, days or None)


def offer_choices(offers: pd.DataFrame) -> pd.DataFrame:
    """The offers to pick from: active ones first, then upcoming, then expired, each by id.

    >>> frame = pd.DataFrame({"offer_id": ["O2", "O1", "O3"],
    ...                       "status": ["expired", "upcoming", "active"]})
    >>> offer_choices(frame)["offer_id"].tolist()
    ['O3', 'O1', 'O2']
    """
    order = {ACTIVE: 0, UPCOMING: 1, EXPIRED: 2}
    rank = offers[STATUS].map(order).fillna(len(order))
    return (
        offers.assign(_rank=rank.to_numpy())
        .sort_values(["_rank", OFFER_ID], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def targeted_audience(
    pipeline: Any, key: str, as_of: pd.Timestamp, choice: AudienceChoice
) -> tuple[Audience | None, Audience | None, tuple[Any, ...]]:
    """The whole audience, its targeted part and the export id (``None``s with the error shown
    when it cannot be computed). Cached: the summary and the export share one scoring."""
    with render.user_errors():
        audience = cache.targeted_audience(key, pipeline, choice.offer, as_of, choice.window)
        chosen = profile.cut_audience(audience, top=choice.top, min_share=choice.min_share)
        return audience, chosen, choice.export_id(as_of)
    return None, None, ()


def audience_on_request(pipeline: Any) -> bool:
    """Whether an offer's audience waits for a click: beyond the reach's sample size, without
    the neighbour lists of a whole count, scoring it is one neighbour search per customer."""
    sample = reach_counts.DEFAULT_REACH_SAMPLE  # read at call time, as dashboard.cache does
    return len(pipeline.customer_ids) > sample and pipeline.neighbor_table() is None


def _request_audience(request: tuple[Any, ...]) -> None:
    """Callback of *Score this offer's audience*."""
    asked = st.session_state.get(state.AUDIENCE_REQUESTS, ())
    st.session_state[state.AUDIENCE_REQUESTS] = (*asked, request)


def targeted_audience_summary(
    pipeline: Any, key: str, as_of: pd.Timestamp, choice: AudienceChoice
) -> None:
    """The audience of the chosen offer: size, cost, charts and tables (scored with progress).

    At scale (:func:`audience_on_request`) it is scored once the analyst asks for it."""
    request = (key, choice.offer, str(as_of.date()), choice.window)
    if audience_on_request(pipeline) and request not in st.session_state.get(
        state.AUDIENCE_REQUESTS, ()
    ):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.info(
            f"Scoring every eligible customer of {len(pipeline.customer_ids):,} for offer "
            f"{choice.offer} takes one neighbour search each: minutes at this size, with a "
            "counted bar. After *Count all customers* above, audiences are scored from the "
            "neighbour lists it keeps, at once.",
            icon=":material/hourglass_top:",
        )
        right.button(
            "Score this offer's audience",
            key="score_audience",
            type="primary",
            icon=":material/groups:",
            width="stretch",
            on_click=_request_audience,
            args=(request,),
        )
        return
    audience, chosen, _ = targeted_audience(pipeline, key, as_of, choice)
    if audience is not None and chosen is not None:
        _audience_summary(audience, chosen, cutoff=choice.min_share)


def _audience_summary(audience: Audience, chosen: Audience, *, cutoff: float | None) -> None:
    members, targeted = audience.members, chosen.members
    cost, weighted = profile.audience_cost(targeted)
    excluded = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in audience.excluded.items())
    m = st.columns(4)
    m[0].metric("Targeted customers", f"{len(targeted):,} of {len(members):,}")
    m[1].metric(
        "Cost if each earns it once",
        render.fmt_money(cost),
        help="Sum of the reward in currency at each targeted customer's typical spend.",
    )
    m[2].metric(
        "Expected cost",
        render.fmt_money(weighted),
        help="The same, times each customer's chance of reaching the min spend "
        "(likely 1, stretch 0.5, unlikely 0.1).",
    )
    m[3].metric("Offer status on the date", audience.status or "—")
    st.caption(f"Left out before ranking: {excluded or 'nobody'}.")
    if audience.status != ACTIVE:
        st.warning(
            f"This offer is **{audience.status}** on the chosen date: customers could not "
            "earn it then. Pick a date inside its validity window.",
            icon=":material/event_busy:",
        )
    left, right = st.columns(2)
    left.plotly_chart(
        charts.audience_score_distribution(members, len(targeted), cutoff=cutoff),
        key="chart_target_scores",
    )
    right.plotly_chart(charts.audience_segment_mix(targeted), key="chart_target_segments")
    left, right = st.columns([1.7, 3])
    with left:
        st.markdown("**Audience size at score thresholds**")
        audience_sizes_table(audience.sizes)
    with right:
        shown = f", the first {TABLE_ROWS:,} shown" if len(targeted) > TABLE_ROWS else ""
        st.markdown(f"**Targeted customers** ({len(targeted):,}, best first{shown})")
        # A table of a million rows would ship them all to the browser: the export has them.
        targeted_table(targeted.head(TABLE_ROWS))


def audience_sizes_table(sizes: pd.DataFrame) -> None:
    """Customers and cost at each score threshold (share of the top score), whole audience."""
    st.dataframe(
        sizes,
        hide_index=True,
        width="stretch",
        key="table_target_sizes",
        column_config={
            "min_score_share": st.column_config.NumberColumn(
                "Score ≥", format="percent", help="Share of the best customer's score"
            ),
            "customers": st.column_config.NumberColumn("Customers", format="%d"),
            "expected_cost": st.column_config.NumberColumn(
                "Cost if earned",
                format="%.0f",
                help="Currency: each customer earns the reward once",
            ),
            "expected_cost_weighted": st.column_config.NumberColumn(
                "Expected cost", format="%.0f", help="Currency: × each one's chance to qualify"
            ),
        },
    )


def targeted_table(members: pd.DataFrame) -> None:
    """The targeted customers: rank, id, segment, score, best product, qualification, reward."""
    table = members[
        [RANK, CUSTOMER_ID, SEGMENT, SCORE_SHARE, PRODUCT_ID, QUALIFIES, EXPECTED_REWARD]
    ]
    st.dataframe(
        render.qualify_styler(table),
        hide_index=True,
        width="stretch",
        height=250,
        key="table_target_members",
        column_config={
            RANK: st.column_config.NumberColumn("#", format="%d", width=40),
            CUSTOMER_ID: st.column_config.TextColumn("Customer", width=80),
            SEGMENT: st.column_config.TextColumn("Segment", width=105),
            SCORE_SHARE: st.column_config.NumberColumn(
                "Score", format="percent", width=65, help="Share of the best customer's score"
            ),
            PRODUCT_ID: st.column_config.TextColumn(
                "Product", width=65, help="Their best product of the offer"
            ),
            QUALIFIES: st.column_config.TextColumn("Reaches min spend?", width=125),
            EXPECTED_REWARD: st.column_config.NumberColumn(
                "Expected reward", format="%.2f", help="Currency"
            ),
        },
    )


# --- tables ---------------------------------------------------------------------------------------
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
            PRODUCT_ID: st.column_config.TextColumn("Product", help="What the offer applies to"),
            CATEGORY: st.column_config.TextColumn("Category", help="For a category offer"),
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


# --- campaign export -----------------------------------------------------------------------------
def campaign_export_section(
    pipeline: Any,
    key: str,
    n: int,
    as_of: pd.Timestamp,
    targeted_audience: Callable[[], tuple[Any, Audience | None, tuple[Any, ...]]],
) -> None:
    """Everyone, a segment or the targeted audience, as CSV or Parquet, built with progress.

    ``targeted_audience()`` gives (audience, targeted part, its export id); it is only called
    when the targeted audience is the scope (it may have to score the customers first).
    """
    st.subheader("Campaign export")
    st.caption(
        "Columns: " + ", ".join(f"`{c}`" for c in CAMPAIGN_COLUMNS) + ". Everyone and a segment: "
        f"each customer's top {n} with the best usable offer; the targeted audience: one row per "
        "customer (their best product of the offer). Text cells are spreadsheet-safe."
    )
    segments = cache.segment_names(key, pipeline)
    c1, c2, c3 = st.columns([2.2, 1.6, 1], vertical_alignment="top")
    scope = c1.radio(
        "Who", [SCOPE_ALL, SCOPE_SEGMENT, SCOPE_AUDIENCE], key=state.CAMPAIGN_SCOPE, horizontal=True
    )
    segment = c2.selectbox(
        "Segment",
        segments,
        key=state.CAMPAIGN_SEGMENT,
        disabled=scope != SCOPE_SEGMENT or not segments,
        placeholder="No segments: upload a customers file",
    )
    label = c3.radio("Format", list(FORMATS), key=state.CAMPAIGN_FORMAT, horizontal=True)
    fmt, suffix, mime = FORMATS[label]
    if scope == SCOPE_SEGMENT and not segments:
        st.info("The model's data has no customer segments: upload a customers file.")
        return
    targeted, targeted_id = None, ()
    if scope == SCOPE_AUDIENCE:
        _, targeted, targeted_id = targeted_audience()
    if scope == SCOPE_AUDIENCE and (targeted is None or targeted.members.empty):
        st.info(
            "Nobody is in the targeted audience above, so there is nothing to export: pick "
            "another offer, a lower cut-off, or keep recent buyers.",
            icon=":material/group_off:",
        )
        return
    what = {SCOPE_ALL: ("all",), SCOPE_SEGMENT: ("segment", segment)}.get(
        scope, ("audience", *targeted_id)
    )
    export_key = (key, n, str(as_of.date()), fmt, what)
    name = _file_name(what, n, as_of, suffix)
    if st.button(
        "Build campaign file", key="build_campaign", type="primary", icon=":material/table:"
    ):
        bar = st.progress(0.0, text="Scoring customers …")
        with render.user_errors():
            data, rows = actions.build_campaign(
                pipeline,
                fmt=fmt,
                n=n,
                as_of=as_of,
                segment=segment if scope == SCOPE_SEGMENT else None,
                audience=targeted if scope == SCOPE_AUDIENCE else None,
                progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg),
            )
            st.session_state[state.CAMPAIGN_FILE] = {
                "key": export_key, "data": data, "file_name": name, "mime": mime, "rows": rows
            }  # fmt: skip
            bar.progress(1.0, text=f"Done: {rows:,} rows ({render.fmt_size(len(data))}).")
    built = st.session_state.get(state.CAMPAIGN_FILE)
    if built and built["key"] == export_key:
        st.download_button(
            f"Download {built['file_name']}",
            built["data"],
            file_name=built["file_name"],
            mime=built["mime"],
            key="download_campaign",
            icon=":material/download:",
            on_click="ignore",
        )


def _file_name(what: tuple[Any, ...], n: int, as_of: pd.Timestamp, suffix: str) -> str:
    if what[0] == "audience":
        return f"audience_{what[1]}_{as_of:%Y%m%d}.{suffix}"
    scope = "all" if what[0] == "all" else f"segment-{what[1]}"
    return f"campaign_{scope}_{as_of:%Y%m%d}_top{n}.{suffix}"
