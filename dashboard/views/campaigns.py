"""Campaigns page: the plan form, the plan's results and exports, and the read-out tab."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import render, state
from dashboard.charts import campaign_charts as charts
from dashboard.columns import AUDIENCE
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


DEFAULT_OFFERS = 8  # offers chosen to start: the widest reach, so the first plan is readable


def offer_reach(per_offer: pd.DataFrame | None, rewards: pd.DataFrame) -> pd.Series:
    """Customers each offer of ``rewards`` reaches in the top-N recommendations (``per_offer``
    of the Rewards page's reach), every offer listed (0 if none), widest reach first."""
    offers = sorted(rewards[S.OFFER_ID].astype(str).unique())
    counts = (
        per_offer.set_index(S.OFFER_ID)[AUDIENCE].astype("int64")
        if per_offer is not None and len(per_offer)
        else pd.Series(dtype="int64")
    )
    counts.index = counts.index.astype(str)
    reach = counts.reindex(offers, fill_value=0).rename(AUDIENCE)
    order = sorted(reach.index, key=lambda o: (-int(reach[o]), o))
    return reach.loc[order]


def default_offers(reach: pd.Series, top: int = DEFAULT_OFFERS) -> list[str]:
    """The ``top`` offers of widest reach among those that reach anyone (``reach`` sorted)."""
    return [str(o) for o in reach.index[reach.to_numpy() > 0][:top]]


def unreached_message(chosen: list[str], reach: pd.Series, n: int) -> str | None:
    """A plain sentence about chosen offers that reach nobody, or None when all reach someone."""
    dead = [o for o in chosen if int(reach.get(o, 0)) == 0]
    if not dead:
        return None
    names = ", ".join(dead[:8]) + (f" and {len(dead) - 8} more" if len(dead) > 8 else "")
    one = len(dead) == 1
    it, its = ("it", "its") if one else ("them", "their")
    return (
        f"{names} {'is' if one else 'are'} in no customer's top {n} recommendations on the "
        "model's date (not running then, for another segment, or capped), so the plan gives "
        f"{it} no contacts and ignores {its} limits. Remove {it}, or pick offers that reach "
        "customers."
    )


def constraints_form(reach: pd.Series, n: int) -> tuple[list[str], CampaignConstraints, float]:
    """Widgets of the plan; raises ``RecsysError`` for a bad suppression file.

    ``reach`` (:func:`offer_reach`) orders and labels the offers and picks the default ones;
    budgets and limits are only set for chosen offers that reach someone.
    """
    offers = list(reach.index)
    st.caption(
        f"{int((reach > 0).sum())} of {len(offers)} offers are in someone's top {n} "
        f"recommendations; the {min(DEFAULT_OFFERS, int((reach > 0).sum()))} of widest reach "
        "are chosen to start."
    )
    chosen = st.multiselect(
        "Offers (customers reached in the top recommendations)", offers,
        default=default_offers(reach), key=state.PLAN_OFFERS,
        format_func=lambda o: f"{o} · {int(reach[o]):,} customers",
    )  # fmt: skip
    message = unreached_message(chosen, reach, n)
    if message:
        st.info(message, icon=":material/info:")
    live = [o for o in chosen if int(reach.get(o, 0)) > 0]
    c1, c2, c3 = st.columns(3)
    budget = c1.number_input("Budget per offer (currency)", 0.0, value=200.0, step=50.0,
                             key=state.PLAN_BUDGET, help="Expected reward cost each offer may "
                             "use, in the account currency; 0 = no budget.")  # fmt: skip
    most = c2.number_input("Max recipients per offer (customers)", 0, value=0,
                           key=state.PLAN_MAX_RECIPIENTS, help="0 = no limit.")  # fmt: skip
    total = c3.number_input("Global budget (currency)", 0.0, value=0.0, step=100.0,
                            key=state.PLAN_GLOBAL_BUDGET, help="Expected reward cost of the "
                            "whole plan, in the account currency; 0 = no budget.")  # fmt: skip
    c1, c2, c3, c4 = st.columns(4)
    cap = int(c1.number_input("Contact cap (offers per customer)", 1, 10, 1,
                              key=state.PLAN_CONTACT_CAP))  # fmt: skip
    objective = c2.selectbox("Objective", ("conversions", "spend"), key=state.PLAN_OBJECTIVE,
                             help="Maximise expected reward-driven purchases (count) or "
                             "expected spend (currency).")  # fmt: skip
    share = c3.slider("Control group (% of customers)", 0, 50, 10, 5, format="%d %%",
                      key=state.PLAN_CONTROL_SHARE, help="Planned like everyone else but not "
                      "contacted; drawn at random by segment and offer.")  # fmt: skip
    seed = int(c4.number_input("Seed (number)", 0, value=0, key=state.PLAN_SEED,
                               help="Same seed, same plan and control group."))  # fmt: skip
    upload = st.file_uploader("Suppression list (CSV with a customer_id column, optional)",
                              type=["csv"], key=state.PLAN_SUPPRESS)  # fmt: skip
    suppression = read_suppression(upload.getvalue(), upload.name) if upload else frozenset()
    constraints = CampaignConstraints(
        offer_budgets={o: budget for o in live} if budget > 0 else None,
        offer_max_recipients={o: most for o in live} if most > 0 else None,
        global_budget=total if total > 0 else None, contact_cap=cap,
        suppression=suppression, objective=objective, seed=seed,
    )  # fmt: skip
    return chosen, constraints, share / 100


def plan_results(plan: Any) -> None:
    """Metrics, charts, save and export of a plan."""
    rows = plan.allocation
    customers = rows.drop_duplicates(S.CUSTOMER_ID)
    control = int(customers[S.GROUP].eq(S.GROUP_CONTROL).sum())
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.2f} %"
    m = st.columns(3)
    m[0].metric("Contacts", f"{len(rows):,}", help="Planned (customer, offer) pairs, treatment "
                "and control; no customer gets more than the contact cap.")  # fmt: skip
    m[1].metric("Control group", f"{control:,} customers",
                f"{100 * control / max(len(customers), 1):.1f} % of customers held out",
                delta_color="off", delta_arrow="off", help="Planned like everyone else but "
                "not contacted: the baseline of the read-out.")  # fmt: skip
    m[2].metric("Customers planned", f"{len(customers):,} customers")
    m = st.columns(3)
    m[0].metric("Expected conversions", f"{plan.expected_conversions:,.1f} purchases",
                help="Sum of the calibrated propensity over the contacts.")  # fmt: skip
    m[1].metric("Expected cost (currency)", f"{plan.expected_cost:,.2f}",
                help="Expected reward cost (propensity x reward) of all contacts, in the "
                "account currency.")  # fmt: skip
    m[2].metric("Gap to optimum", gap, help=f"Solver: {plan.solver} ({plan.seconds:.1f} s). "
                "How far the plan's objective is below the proven upper bound; 0 % = "
                "optimal.")  # fmt: skip
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.allocation_vs_budget(plan.offers), key="plan_budget_chart")
    c2.plotly_chart(charts.offers_per_customer(plan.offers_per_customer), key="plan_hist")
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
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
        st.session_state[state.READOUT_RESULT] = campaign_readout(rows, purchases)
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
    p_value = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(readout_table(table), hide_index=True,
                 column_config={"p-value": p_value})  # fmt: skip


def readout_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per offer (and overall) of the read-out, each column named with its unit."""
    conv = table.loc[table[S.METRIC].eq(S.CONVERTED)].set_index(S.OFFER_ID)
    spend = table.loc[table[S.METRIC].eq(S.SPEND)].set_index(S.OFFER_ID).reindex(conv.index)
    out = pd.DataFrame(
        {
            "Treatment (customers)": conv[S.N_TREATMENT],
            "Control (customers)": conv[S.N_CONTROL],
            "Conversion, treatment (%)": 100 * conv[S.TREATMENT_VALUE],
            "Conversion, control (%)": 100 * conv[S.CONTROL_VALUE],
            "Lift (pts)": 100 * conv[S.LIFT],
            "Lift, 95 % CI low (pts)": 100 * conv[S.LIFT_LOW],
            "Lift, 95 % CI high (pts)": 100 * conv[S.LIFT_HIGH],
            "p-value": conv[S.P_VALUE],
            "Spend per customer, treatment (currency)": spend[S.TREATMENT_VALUE],
            "Spend per customer, control (currency)": spend[S.CONTROL_VALUE],
            "Spend lift per customer (currency)": spend[S.LIFT],
            "Cost per incremental conversion (currency)": conv[S.COST_PER_INCREMENTAL],
        }
    )
    money = [c for c in out.columns if c.endswith(("(%)", "(pts)", "(currency)"))]
    out[money] = out[money].astype("float64").round(2)
    return out.rename_axis("Offer").reset_index()
