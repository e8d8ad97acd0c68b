"""Figures of the Campaigns page: allocation against budget, offers per customer, lift, reliability.

Pure functions DataFrame -> plotly Figure (no Streamlit), testable without a server.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recsys.data import schema as S

# Above the plot, so a legend never takes the width of a half-page chart.
BUDGET_COLOR = "#1f2937"  # dark: the budget line stays visible on a bar that reaches it
LEGEND_ON_TOP = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}


def allocation_vs_budget(offers: pd.DataFrame) -> go.Figure:
    """Per offer, planned expected cost (bars) against its budget (markers), in currency."""
    fig = go.Figure()
    fig.add_bar(x=offers[S.OFFER_ID], y=offers[S.EXPECTED_COST], name="Planned expected cost",
                customdata=offers[S.RECIPIENTS],
                hovertemplate="%{x}: %{y:,.2f} (currency), %{customdata:,} recipients"
                "<extra></extra>")  # fmt: skip
    budget = offers[S.BUDGET].where(np.isfinite(offers[S.BUDGET]))
    fig.add_scatter(x=offers[S.OFFER_ID], y=budget, mode="markers", name="Budget",
                    marker={"symbol": "line-ew-open", "size": 28, "color": BUDGET_COLOR,
                            "line": {"width": 3, "color": BUDGET_COLOR}},
                    hovertemplate="%{x} budget: %{y:,.2f} (currency)<extra></extra>")  # fmt: skip
    fig.update_layout(title="Expected reward cost per offer against its budget",
                      xaxis_title="Offer", yaxis_title="Expected cost (currency)",
                      legend=LEGEND_ON_TOP)  # fmt: skip
    return fig


def offers_per_customer(table: pd.DataFrame) -> go.Figure:
    """How many customers receive 1, 2, ... offers."""
    fig = go.Figure(
        go.Bar(
            x=table[S.N_OFFERS],
            y=table[S.CUSTOMERS],
            hovertemplate="%{y:,} customers get %{x} offer(s)<extra></extra>",
        )
    )
    fig.update_layout(title="Offers per customer", xaxis_title="Offers received (count)",
                      yaxis_title="Customers (count)", xaxis={"dtick": 1})  # fmt: skip
    return fig


def lift_chart(readout: pd.DataFrame) -> go.Figure:
    """Conversion lift per offer and overall, in percentage points, with 95 % intervals."""
    rows = readout.loc[readout[S.METRIC].eq(S.CONVERTED)]
    lift = 100 * rows[S.LIFT]
    fig = go.Figure(go.Bar(
        x=rows[S.OFFER_ID], y=lift,
        error_y={"type": "data", "symmetric": False, "array": 100 * rows[S.LIFT_HIGH] - lift,
                 "arrayminus": lift - 100 * rows[S.LIFT_LOW]},
        hovertemplate="%{x}: %{y:+.2f} pts<extra></extra>",
    ))  # fmt: skip
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(title="Conversion lift, treatment minus control (95 % CI)",
                      xaxis_title="Offer", yaxis_title="Lift (percentage points)")  # fmt: skip
    return fig


def reliability_chart(table: pd.DataFrame) -> go.Figure:
    """Predicted against observed purchase rate of the calibrated propensity."""
    # nanmax of an empty column is NaN (and max() keeps a leading NaN): the floor keeps it drawn.
    highest = [float(table[c].max()) for c in (S.MEAN_PREDICTED, S.OBSERVED_RATE)]
    top = max([h for h in highest if np.isfinite(h)] + [0.01])
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="Perfect calibration",
                    line={"dash": "dot"}, hovertemplate="perfect calibration: observed = "
                    "predicted<extra></extra>")  # fmt: skip
    fig.add_scatter(x=table[S.MEAN_PREDICTED], y=table[S.OBSERVED_RATE], mode="lines+markers",
                    name="Calibrated propensity", customdata=table[S.COUNT],
                    hovertemplate="predicted %{x:.1%}, observed %{y:.1%} "
                    "(%{customdata:,} recommendations)<extra></extra>")  # fmt: skip
    fig.update_layout(title="Reliability of the propensity (temporal holdout)",
                      xaxis_title="Predicted P(buy) (share)", yaxis_title="Observed rate (share)",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%")  # fmt: skip
    return fig
