"""Rewards: offer catalogue and status on a date, audience per offer, coverage, campaign export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import actions, cache, charts, columns, render, state, views
from dashboard.profile import top_customers_for_offer
from recsys.rewards import ACTIVE
from recsys.schema import OFFER_ID, TITLE

st.title("Rewards")
st.caption(
    "Which reward offers reach whom. An offer's **audience** is the number of customers with at "
    "least one recommended product (in their top N) that the offer applies to, on the chosen "
    "date and for their segment. Export the campaign list as CSV for the marketing tools."
)

pipeline = render.require_model()
if getattr(pipeline, "rewards_", None) is None:
    st.info(
        "The active model's data has no reward offers. Upload a rewards file on the Data "
        "page (the model is retrained with it).",
        icon=":material/redeem:",
    )
    st.page_link(render.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
    st.stop()
render.warn_if_stale(pipeline, state.get(state.DATASET))
key = cache.model_key(pipeline)

c1, c2, _ = st.columns([1, 1, 2])
as_of = pd.Timestamp(
    c1.date_input(
        "Offers valid on",
        value=pipeline.as_of_.date(),
        key=state.AS_OF,
        help="Default: the last purchase date in the data.",
    )
)
n = int(c2.slider("Top N recommendations per customer", 1, 30, 10, key=state.REWARDS_TOP_N))

with (
    st.spinner("Matching every customer's recommendations with the offers …"),
    render.user_errors(stop=True),
):
    aud = cache.audience(key, pipeline, n, as_of)
per_offer = aud["per_offer"]

m = st.columns(4)
m[0].metric(
    "Coverage",
    f"{aud['coverage']:.0%}",
    help=f"Customers with at least one eligible offer in their top {n}.",
)
m[1].metric("Customers reached", f"{aud['n_reached']:,} of {aud['n_customers']:,}")
m[2].metric(
    "Active offers", f"{int((per_offer[columns.STATUS] == ACTIVE).sum())} of {len(per_offer)}"
)
m[3].metric("Offers with an audience", f"{len(aud['reached'])} of {len(per_offer)}")

st.plotly_chart(charts.audience_bar(aud["reached"]), key="chart_audience")

st.subheader("Offer catalogue")
views.offer_catalogue_table(per_offer)

st.subheader("Top customers for an offer")
if aud["reached"].empty:
    st.info("No offer reaches anyone on this date: pick another date or a larger top N.")
else:
    labels = dict(zip(aud["reached"][OFFER_ID], aud["reached"][TITLE], strict=True))
    offer = st.selectbox(
        "Offer",
        list(labels),
        key=state.AUDIENCE_OFFER,
        format_func=lambda o: f"{labels[o]} ({o})",
    )
    views.top_customers_table(top_customers_for_offer(aud["eligible"], offer))

st.subheader("Campaign export")
c1, c2 = st.columns([1, 3], vertical_alignment="center")
only_offers = c2.checkbox("Only rows with an eligible offer", value=True, key="export_only_offers")
export_key = (key, n, str(as_of.date()), only_offers)
if c1.button("Build campaign CSV", key="build_export", type="primary", icon=":material/table:"):
    bar = st.progress(0.0, text="Scoring customers …")
    with render.user_errors():
        data, rows = actions.build_export(
            pipeline,
            n,
            as_of,
            only_with_offer=only_offers,
            progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=msg),
        )
        st.session_state[state.EXPORT_CSV] = data
        st.session_state[state.EXPORT_KEY] = export_key
        bar.progress(1.0, text=f"Done: {rows:,} rows.")
if st.session_state.get(state.EXPORT_CSV) and st.session_state.get(state.EXPORT_KEY) == export_key:
    st.download_button(
        "Download campaign CSV",
        st.session_state[state.EXPORT_CSV],
        file_name=f"campaign_{as_of:%Y%m%d}_top{n}.csv",
        mime="text/csv",
        key="download_export",
        icon=":material/download:",
        on_click="ignore",
    )
else:
    st.caption(
        "One row per customer and recommended product: customer, rank, product, score, "
        "reason, and the best eligible offer (id, type, value)."
    )
