"""Pure helpers of the Campaigns page (dashboard/views/campaigns.py): offer reach, the default
offers, the note on offers that reach nobody, the read-out table with units."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.columns import AUDIENCE
from dashboard.views import campaigns as view
from recsys.data import schema as S


def rewards() -> pd.DataFrame:
    return pd.DataFrame({S.OFFER_ID: ["O3", "O1", "O2", "O4"]})


def per_offer() -> pd.DataFrame:  # the Rewards page's reach: O4 is missing, O2 reaches nobody
    return pd.DataFrame({S.OFFER_ID: ["O1", "O3", "O2"], AUDIENCE: [50, 80, 0]})


def test_offer_reach_lists_every_offer_widest_first_with_zero_for_the_missing():
    reach = view.offer_reach(per_offer(), rewards())
    assert reach.index.tolist() == ["O3", "O1", "O2", "O4"]
    assert reach.tolist() == [80, 50, 0, 0]
    assert view.offer_reach(None, rewards()).tolist() == [0, 0, 0, 0]


def test_default_offers_are_the_widest_reaching_and_never_one_that_reaches_nobody():
    reach = view.offer_reach(per_offer(), rewards())
    assert view.default_offers(reach) == ["O3", "O1"]
    assert view.default_offers(reach, top=1) == ["O3"]
    assert view.default_offers(view.offer_reach(None, rewards())) == []


def test_unreached_message_names_the_offers_and_says_what_to_do():
    reach = view.offer_reach(per_offer(), rewards())
    assert view.unreached_message(["O3", "O1"], reach, 10) is None
    one = view.unreached_message(["O3", "O2"], reach, 10)
    assert one.startswith("O2 is in no customer's top 10 recommendations")
    assert "gives it no contacts and ignores its limits. Remove it" in one
    two = view.unreached_message(["O2", "O4"], reach, 5)
    assert two.startswith("O2, O4 are in no customer's top 5") and "Remove them" in two


def test_readout_table_has_one_row_per_offer_in_percent_points_and_currency():
    rows = []
    for offer in ("O1", S.ALL_OFFERS):
        rows.append({S.OFFER_ID: offer, S.METRIC: S.CONVERTED, S.N_TREATMENT: 90, S.N_CONTROL: 10,
                     S.TREATMENT_VALUE: 0.123456, S.CONTROL_VALUE: 0.05, S.LIFT: 0.073456,
                     S.LIFT_LOW: 0.01, S.LIFT_HIGH: 0.14, S.P_VALUE: 0.02,
                     S.COST_PER_INCREMENTAL: 3.333})  # fmt: skip
        rows.append({S.OFFER_ID: offer, S.METRIC: S.SPEND, S.N_TREATMENT: 90, S.N_CONTROL: 10,
                     S.TREATMENT_VALUE: 12.346, S.CONTROL_VALUE: 10.0, S.LIFT: 2.345,
                     S.LIFT_LOW: -1.0, S.LIFT_HIGH: 5.0, S.P_VALUE: 0.3,
                     S.COST_PER_INCREMENTAL: float("nan")})  # fmt: skip
    table = view.readout_table(pd.DataFrame(rows))
    assert table["Offer"].tolist() == ["O1", S.ALL_OFFERS]
    first = table.iloc[0]
    assert first["Conversion, treatment (%)"] == pytest.approx(12.35)
    assert first["Lift (pts)"] == pytest.approx(7.35)
    assert first["Lift, 95 % CI high (pts)"] == pytest.approx(14.0)
    assert first["Spend per customer, treatment (currency)"] == pytest.approx(12.35)
    assert first["Cost per incremental conversion (currency)"] == pytest.approx(3.33)
    assert first["p-value"] == pytest.approx(0.02)  # the conversion test's, not the spend one
    numbers = [c for c in table.columns if c != "Offer"]
    assert all(c.endswith(("(%)", "(pts)", "(currency)", "(customers)")) or c == "p-value"
               for c in numbers)  # fmt: skip
