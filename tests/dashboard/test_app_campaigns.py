"""AppTest: the Campaigns page (plan within budget and cap, control group, simulated read-out)."""

from __future__ import annotations

import pytest

from dashboard import state as keys
from recsys.campaigns.planner import read_suppression
from recsys.data import schema as S
from recsys.errors import CampaignError
from tests.dashboard_fixtures import assert_no_exception, charts, start_app, state

PAGE = "pages/7_campaigns.py"


def test_plan_within_budget_and_cap_then_simulated_readout_shows_the_lift(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_PLAN_DIR", str(tmp_path))
    at = start_app(PAGE)
    assert_no_exception(at)
    # The default offers are the widest-reaching ones: nothing warns about offers without reach.
    default = at.multiselect(key=keys.PLAN_OFFERS).value
    assert 0 < len(default) <= 8
    assert not [i.value for i in at.info if "no customer's top" in i.value]
    at.number_input(key=keys.PLAN_BUDGET).set_value(3000.0)
    at.button(key="plan_run").click().run(timeout=180)
    assert_no_exception(at)
    plan = state(at, keys.PLAN_RESULT)
    assert plan is not None and len(plan.allocation)
    assert plan.allocation.groupby(S.CUSTOMER_ID).size().max() <= 1
    assert (plan.offers[S.EXPECTED_COST] <= 3000.0 * (1 + 1e-9)).all()
    assert set(plan.allocation[S.GROUP]) == {S.GROUP_TREATMENT, S.GROUP_CONTROL}
    assert set(plan.offers[S.OFFER_ID]) <= set(default)
    assert "plan_budget_chart" in charts(at)
    metric_labels = {m.label: m.value for m in at.metric}
    assert metric_labels["Expected cost (currency)"].replace(",", "").replace(".", "").isdigit()
    assert metric_labels["Expected conversions"].endswith(" purchases")
    assert metric_labels["Control group"].endswith(" customers")
    at.button(key="plan_save").click().run(timeout=120)
    assert (tmp_path / "campaign-1.json").is_file()
    at.button(key="readout_simulate").click().run(timeout=120)
    assert_no_exception(at)
    table = state(at, keys.READOUT_RESULT)
    overall = table[(table[S.OFFER_ID] == S.ALL_OFFERS) & (table[S.METRIC] == S.CONVERTED)]
    assert overall[S.LIFT_LOW].item() <= 0.05 <= overall[S.LIFT_HIGH].item() + 0.02
    assert "readout_lift" in charts(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["95 % CI of the lift"].endswith(" pts")
    assert labels["Conversion, treatment"].endswith(" %")
    (shown,) = [d.value for d in at.dataframe if "Lift (pts)" in d.value.columns]
    assert S.ALL_OFFERS in shown["Offer"].tolist() and "Lift (pts)" in shown.columns
    assert any("percentage points" in s.value for s in [*at.success, *at.warning])


def test_an_offer_that_reaches_nobody_is_named_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_PLAN_DIR", str(tmp_path))
    at = start_app(PAGE)
    pick = at.multiselect(key=keys.PLAN_OFFERS)
    dead = [o for o in pick.options if "· 0 customers" in o]
    assert dead, "the sample has offers in nobody's top 10"
    offer = dead[0].split(" · ")[0]
    pick.select(offer).run()
    assert_no_exception(at)
    notes = [i.value for i in at.info if "no customer's top 10" in i.value]
    assert len(notes) == 1 and notes[0].startswith(f"{offer} is in no customer's top 10")
    at.button(key="plan_run").click().run(timeout=180)
    assert_no_exception(at)
    plan = state(at, keys.PLAN_RESULT)
    assert offer not in set(plan.allocation[S.OFFER_ID])


def test_suppression_list_with_a_bad_column_names_file_and_column():
    with pytest.raises(CampaignError, match=r"optouts.csv.*customer_id"):
        read_suppression(b"email\nx@y.z\n", "optouts.csv")
    with pytest.raises(CampaignError, match=r"row\(s\) 3"):
        read_suppression(b"customer_id,note\nc1,a\n,b\n c ,d\n", "optouts.csv")
