"""Reward-aware recommendations for card-issuer marketing analysts: the dashboard entry point.

Router and frame only: page config, session-state initialisation, first-start bootstrap (sample
data + a default model, both cached), navigation and the sidebar showing what is active.
"""

from __future__ import annotations

import streamlit as st

from dashboard import actions, auth, render, state
from dashboard.views import evaluation

st.set_page_config(
    page_title="Reward-aware recommendations",
    page_icon=":material/loyalty:",
    layout="wide",
    initial_sidebar_state="expanded",
)

# Slightly smaller metric values, so long segment names and amounts fit their column.
st.html("<style>[data-testid='stMetricValue']{font-size:1.6rem;}</style>")

state.init_state()
auth.login_screen()  # with sign-in configured: nobody sees a page before signing in
with render.user_errors():
    actions.bootstrap()

pages = {
    "Explore": [
        st.Page(
            render.CUSTOMER_PAGE,
            title="Customer explorer",
            icon=":material/person_search:",
            default=True,
        ),
        st.Page(render.REWARDS_PAGE, title="Rewards", icon=":material/redeem:"),
    ],
    "Plan": [
        st.Page("pages/7_campaigns.py", title="Campaigns", icon=":material/campaign:"),
    ],
    "Assess": [
        st.Page(evaluation.PAGE, title="Evaluation", icon=":material/leaderboard:"),
    ],
    "Set up": [
        st.Page(render.DATA_PAGE, title="Data", icon=":material/upload_file:"),
        st.Page(render.MODEL_PAGE, title="Model", icon=":material/model_training:"),
        st.Page(render.STORE_PAGE, title="Saved models", icon=":material/inventory_2:"),
    ],
}
page = st.navigation(pages)
# The sidebar is drawn before the page (so it is there even when a page guard stops early) and
# redrawn in place after it, to show what a button on the page just changed (data, model).
auth.sidebar_account()
sidebar = st.sidebar.empty()
render.sidebar_status(sidebar.container())
evaluation.show_notice()  # e.g. "settings applied" after the Evaluation page switched here
page.run()
render.sidebar_status(sidebar.container())
