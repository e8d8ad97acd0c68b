"""Campaigns: plan offers under budgets and caps with a control group, then read out the lift."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import actions, cache, render, state
from dashboard.charts import campaign_charts as charts
from dashboard.views import campaigns as view

st.title("Campaigns")
st.caption(
    "Choose offers and limits, plan who gets which offer (within every budget and contact cap, "
    "with a random control group), export the plan, and after the campaign read out the lift "
    "of treatment over control."
)

pipeline = render.require_model()
if getattr(pipeline, "rewards_", None) is None:
    st.info("The active model's data has no reward offers: upload a rewards file first.")
    st.page_link(render.DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
    st.stop()
dataset = state.get(state.DATASET)
key = cache.model_key(pipeline)
N_RECS = 10  # recommendations per customer searched for offers (reach, propensity, candidates)

plan_tab, readout_tab = st.tabs(["Plan", "Read-out"])
with plan_tab:
    fit = None
    if dataset is not None and render.model_matches_data(pipeline, dataset):
        try:  # a counted bar while it calibrates (drawn inside the cached call)
            fit = cache.propensity_fit(key, pipeline, dataset, N_RECS)
        except Exception as exc:  # too little history: say so, fall back
            render.show_error(exc)
    if fit is not None:
        st.caption(
            f"Propensity calibrated ({fit.calibrator.method_}) on a temporal holdout: "
            f"{fit.n_recommendations:,} recommendations, {100 * fit.base_rate:.2f} % bought."
        )
    else:
        st.warning("Propensity uncalibrated (placeholder 10 % / rank): treat costs as rough.")
    with render.user_errors(stop=True):
        reach = actions.offer_reach(pipeline, N_RECS, pd.Timestamp(pipeline.as_of_))
        reach = view.offer_reach(reach["per_offer"], pipeline.rewards_)
        offers, constraints, share = view.constraints_form(reach, N_RECS)
    if st.button("Plan", type="primary", key="plan_run"):
        with render.user_errors(stop=True):
            calibrator = fit.calibrator if fit is not None else None
            st.session_state[state.PLAN_RESULT] = cache.campaign_plan(
                key, pipeline, calibrator, tuple(offers), constraints, share, N_RECS
            )
    plan = state.get(state.PLAN_RESULT)
    if plan is not None:
        view.plan_results(plan)
    if fit is not None:
        with st.expander("Reliability of the calibrated propensity"):
            st.plotly_chart(charts.reliability_chart(fit.reliability), key="plan_reliability")
with readout_tab, render.user_errors():
    view.readout_tab(dataset)
