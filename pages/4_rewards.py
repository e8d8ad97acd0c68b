"""Rewards: offers on a date, their reach in the top-N, one offer's targeted audience, exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import actions, cache, render, state
from dashboard.views import rewards as view

st.title("Rewards")
st.caption(
    "Two ways to size an offer. **Reach in top-N recommendations**: how many customers already "
    "see it, because one of their top N recommended products qualifies. **Targeted audience "
    "(ranked by model score)**: who to send it to — every eligible customer ranked by how "
    "likely the model thinks they are to buy its product, cut at a rank or score you choose, "
    "with the expected cost. Export either for the marketing tools as CSV or Parquet."
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

# Laid out top to bottom, filled in another order: the parts that need no all-customer pass
# (the targeted-audience widgets, the export) are drawn first, then the reach of every offer
# is counted (a counted bar in its place at the top), then the chosen offer's audience scored.
headline_box, reach_box, _ = st.container(), st.container(), st.divider()
audience_box, _, export_box = st.container(), st.divider(), st.container()
offers = cache.offers_with_status(key, pipeline.rewards_, as_of)
with audience_box:
    choice = view.targeted_audience_controls(offers)
with export_box:
    view.campaign_export_section(
        pipeline, key, n, as_of, lambda: view.targeted_audience(pipeline, key, as_of, choice)
    )
with reach_box, render.user_errors(stop=True):
    # Computed once per model, n and date: a seeded sample of customers at scale, unless the
    # analyst asked to count every one.
    aud = actions.offer_reach(pipeline, n, as_of)
    view.reach_section(aud, n)
with headline_box:
    view.headline(aud, n)
    view.sample_note(aud, key)
with audience_box:
    view.targeted_audience_summary(pipeline, key, as_of, choice)
