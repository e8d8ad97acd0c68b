"""Campaigns page: the plan form, the plan's results and exports, and the read-out tab."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import render, state
from dashboard.charts import campaign_charts as charts
from recsys.campaigns.allocation import CampaignConstraints
from recsys.campaigns.cli import plan_dir
from recsys.campaigns.plan_store import list_plans, load_plan, save_plan
from recsys.campaigns.planner import plan_bytes, read_suppression
from recsys.campaigns.readout import campaign_readout
from recsys.campaigns.simulate import simulate_response
from recsys.data import schema as S
from recsys.data.dataset import load_dataset

PAGE = "pages/7_campaigns.py"
SIMULATED_UPLIFT = 0.05  # planted in "Simulate a response": the read-out should recover it


def constraints_form(pipeline: Any) -> tuple[list[str], CampaignConstraints, float]:
    """Widgets of the plan; raises ``RecsysError`` for a bad suppression file."""
    offers = sorted(pipeline.rewards_[S.OFFER_ID].astype(str).unique())
    chosen = st.multiselect("Offers", offers, default=offers, key=state.PLAN_OFFERS)
    c1, c2, c3 = st.columns(3)
    budget = c1.number_input("Budget per offer (currency, 0 = none)", 0.0, value=200.0,
                             step=50.0, key=state.PLAN_BUDGET)  # fmt: skip
    most = c2.number_input("Max recipients per offer (0 = none)", 0, value=0,
                           key=state.PLAN_MAX_RECIPIENTS)  # fmt: skip
    total = c3.number_input("Global budget (currency, 0 = none)", 0.0, value=0.0, step=100.0,
                            key=state.PLAN_GLOBAL_BUDGET)  # fmt: skip
    c1, c2, c3, c4 = st.columns(4)
    cap = int(c1.number_input("Contact cap (offers per customer)", 1, 10, 1,
                              key=state.PLAN_CONTACT_CAP))  # fmt: skip
    objective = c2.selectbox("Objective", ("conversions", "spend"), key=state.PLAN_OBJECTIVE)
    share = c3.slider("Control group (share of customers)", 0.0, 0.5, 0.1, 0.05,
                      key=state.PLAN_CONTROL_SHARE)  # fmt: skip
    seed = int(c4.number_input("Seed", 0, value=0, key=state.PLAN_SEED))
    upload = st.file_uploader("Suppression list (CSV with a customer_id column, optional)",
                              type=["csv"], key=state.PLAN_SUPPRESS)  # fmt: skip
    suppression = read_suppression(upload.getvalue(), upload.name) if upload else frozenset()
    constraints = CampaignConstraints(
        offer_budgets={o: budget for o in chosen} if budget > 0 else None,
        offer_max_recipients={o: most for o in chosen} if most > 0 else None,
        global_budget=total if total > 0 else None, contact_cap=cap,
        suppression=suppression, objective=objective, seed=seed,
    )  # fmt: skip
    return chosen, constraints, float(share)


def plan_results(plan: Any) -> None:
    """Metrics, charts, save and export of a plan."""
    groups = plan.allocation[S.GROUP].value_counts()
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.2f} %"
    m = st.columns(5)
    m[0].metric("Contacts", f"{len(plan.allocation):,}")
    m[1].metric("Control rows", f"{groups.get(S.GROUP_CONTROL, 0):,}")
    m[2].metric("Expected conversions", f"{plan.expected_conversions:,.1f} purchases")
    m[3].metric("Expected cost", f"{plan.expected_cost:,.2f} (currency)")
    m[4].metric(f"Solver: {plan.solver}", f"gap {gap}", help="Gap to the proven upper bound.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.allocation_vs_budget(plan.offers), key="plan_budget_chart")
    c2.plotly_chart(charts.offers_per_customer(plan.offers_per_customer), key="plan_hist")
    c1, c2, c3 = st.columns([2, 1, 1])
    name = c1.text_input("Plan name", value="campaign-1", key=state.PLAN_NAME)
    if c2.button("Save plan", key="plan_save"):
        with render.user_errors():
            save_plan(plan, plan_dir(), name)
            st.success(f"Saved plan '{name}'. Read it out on the Read-out tab.")
    fmt = c3.radio("Format", ("csv", "parquet"), horizontal=True, key=state.PLAN_FORMAT)
    st.download_button(
        f"Export plan ({fmt}, with group = treatment | control)",
        plan_bytes(plan, fmt),
        file_name=f"{name}.{fmt}",
        key="plan_download",
    )


def readout_tab(dataset: Any) -> None:
    """Pick a saved plan, upload or simulate purchases, show the lift."""
    names = list_plans(plan_dir())
    if not names:
        st.info("No saved plan yet: plan a campaign and save it on the Plan tab.")
        return
    name = st.selectbox("Saved plan", names, key=state.READOUT_PLAN)
    rows = load_plan(plan_dir(), name).allocation
    upload = st.file_uploader("Post-campaign purchases (CSV or Parquet)", key=state.READOUT_UPLOAD)
    purchases = None
    if upload is not None:
        purchases = load_dataset(upload.getvalue()).purchases
    elif st.button(f"Simulate a response (planted uplift {SIMULATED_UPLIFT:.0%} points)",
                   key="readout_simulate") and dataset is not None:  # fmt: skip
        purchases = simulate_response(
            rows, dataset.purchases, SIMULATED_UPLIFT, seed=0, catalogue=dataset.catalogue()
        )
    if purchases is not None:
        state.st.session_state[state.READOUT_RESULT] = campaign_readout(rows, purchases)
    table = state.get(state.READOUT_RESULT)
    if table is None:
        return
    overall = table.loc[table[S.OFFER_ID].eq(S.ALL_OFFERS)].set_index(S.METRIC)
    conv, spend = overall.loc[S.CONVERTED], overall.loc[S.SPEND]
    m = st.columns(4)
    m[0].metric(
        "Conversion, treatment",
        f"{100 * conv[S.TREATMENT_VALUE]:.2f} %",
        f"{100 * conv[S.LIFT]:+.2f} pts vs control {100 * conv[S.CONTROL_VALUE]:.2f} %",
    )
    m[1].metric("95 % CI of the lift", f"{100 * conv[S.LIFT_LOW]:+.2f} to "
                f"{100 * conv[S.LIFT_HIGH]:+.2f} pts")  # fmt: skip
    m[2].metric("Spend per customer, treatment", f"{spend[S.TREATMENT_VALUE]:,.2f} (currency)",
                f"{spend[S.LIFT]:+,.2f} (currency) vs control")  # fmt: skip
    cpi = conv[S.COST_PER_INCREMENTAL]
    m[3].metric("Cost per incremental conversion",
                "n/a" if pd.isna(cpi) else f"{cpi:,.2f} (currency)")  # fmt: skip
    for message in table.loc[table[S.OFFER_ID].eq(S.ALL_OFFERS), S.MESSAGE]:
        (st.success if "not statistically" not in message else st.warning)(message)
    st.plotly_chart(charts.lift_chart(table), key="readout_lift")
    st.dataframe(table.drop(columns=[S.MESSAGE]), hide_index=True)
