"""Control groups, the read-out on simulated responses, and plan persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.campaigns.allocation import CampaignConstraints, allocate
from recsys.campaigns.control import assign_control, control_balance
from recsys.campaigns.plan_store import list_plans, load_plan, save_plan
from recsys.campaigns.readout import campaign_readout, match_conversions
from recsys.campaigns.simulate import simulate_response
from recsys.data import schema as S
from recsys.errors import CampaignError

SEGMENTS = ["affluent", "family", "student"]
OFFERS = {"X": ("P1", "dining"), "Y": ("P2", "travel")}


def _plan(n: int = 3000, share: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    offer = rng.choice(list(OFFERS), n)
    cands = pd.DataFrame(
        {
            S.CUSTOMER_ID: [f"c{i:05d}" for i in range(n)],
            S.OFFER_ID: offer,
            S.SEGMENT: rng.choice(SEGMENTS, n),
            S.PRODUCT_ID: [OFFERS[o][0] for o in offer],
            S.CATEGORY: [OFFERS[o][1] for o in offer],
            S.PROPENSITY: rng.uniform(0.05, 0.3, n),
            S.EXPECTED_COST: rng.uniform(0.5, 2.0, n),
        }
    )
    plan = allocate(cands, CampaignConstraints(seed=seed), method="lagrangian")
    return assign_control(plan, share)


def _history(n: int = 3000) -> pd.DataFrame:
    # 10 % of customers bought P1 and 5 % P2 in the last month: the base rates.
    rng = np.random.default_rng(99)
    buyers1, buyers2 = rng.choice(n, n // 10, replace=False), rng.choice(n, n // 20, replace=False)
    ids = [f"c{i:05d}" for i in np.concatenate([buyers1, buyers2])]
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: ids,
            S.PRODUCT_ID: ["P1"] * len(buyers1) + ["P2"] * len(buyers2),
            S.CATEGORY: ["dining"] * len(buyers1) + ["travel"] * len(buyers2),
            S.PURCHASE_DATE: pd.Timestamp("2026-01-20"),
            S.AMOUNT: 40.0,
        }
    )


@pytest.mark.parametrize("share", [0.1, 0.3])
@pytest.mark.parametrize("by", [S.SEGMENT, S.OFFER_ID])
def test_control_is_balanced_by_segment_and_offer(share: float, by: str) -> None:
    balance = control_balance(_plan(share=share).allocation, by=by)
    assert np.allclose(balance[S.CONTROL_SHARE], share, atol=0.02)


def test_control_is_seeded_and_per_customer() -> None:
    a, b = _plan(seed=1).allocation, _plan(seed=1).allocation
    assert a[S.GROUP].tolist() == b[S.GROUP].tolist()
    assert a.groupby(S.CUSTOMER_ID)[S.GROUP].nunique().max() == 1
    with pytest.raises(CampaignError):
        assign_control(_plan(), share=1.0)


@pytest.mark.parametrize("uplift", [0.03, 0.06])
def test_readout_recovers_the_planted_uplift(uplift: float) -> None:
    plan = _plan(n=6000, share=0.5)
    post = simulate_response(plan.allocation, _history(6000), uplift, seed=3)
    out = campaign_readout(plan.allocation, post)
    conv = out.loc[out[S.METRIC].eq(S.CONVERTED)].set_index(S.OFFER_ID)
    assert (conv[S.LIFT_LOW] <= uplift).all() and (conv[S.LIFT_HIGH] >= uplift).all()
    assert conv.loc[S.ALL_OFFERS, S.SIGNIFICANT]
    assert conv.loc[S.ALL_OFFERS, S.COST_PER_INCREMENTAL] > 0


def test_readout_finds_no_lift_at_the_nominal_rate_when_there_is_none() -> None:
    plan = _plan(n=3000, share=0.5)
    history = _history(3000)
    false_alarms = 0
    for seed in range(20):
        out = campaign_readout(plan.allocation, simulate_response(plan.allocation, history, 0.0,
                                                                  seed=seed))  # fmt: skip
        overall = out.loc[out[S.OFFER_ID].eq(S.ALL_OFFERS) & out[S.METRIC].eq(S.CONVERTED)]
        false_alarms += int(overall[S.SIGNIFICANT].iloc[0])
        if not overall[S.SIGNIFICANT].iloc[0]:
            assert "not statistically significant" in overall[S.MESSAGE].iloc[0]
    assert false_alarms <= 3  # 5 % nominal: 1 expected in 20, 3 or fewer with 98 % chance


def test_readout_needs_a_control_group() -> None:
    plan = _plan(share=0.0)
    with pytest.raises(CampaignError, match="control"):
        campaign_readout(plan.allocation, _history())


def test_plan_round_trip(tmp_path) -> None:
    plan = _plan(n=200)
    save_plan(plan, tmp_path, "spring-2026")
    back = load_plan(tmp_path, "spring-2026")
    pd.testing.assert_frame_equal(back.allocation, plan.allocation, check_dtype=False)
    assert back.constraints == plan.constraints and back.solver == plan.solver
    assert back.objective_value == pytest.approx(plan.objective_value)
    assert list_plans(tmp_path) == ["spring-2026"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("name", ["../x", "", "a/b", ".hidden"])
def test_plan_names_are_validated(tmp_path, name: str) -> None:
    with pytest.raises(CampaignError, match="name"):
        save_plan(_plan(n=20), tmp_path, name)


def test_a_product_offer_converts_only_on_its_product_a_category_offer_on_its_category() -> None:
    # Candidate rows carry the recommended product and its category for both kinds of offer;
    # the old read-out counted a product offer as converted on any purchase of its category.
    plan = pd.DataFrame(
        {
            S.CUSTOMER_ID: ["a", "b", "c", "d"],
            S.OFFER_ID: ["P-OFFER", "P-OFFER", "C-OFFER", "C-OFFER"],
            S.PRODUCT_ID: ["p1", "p1", "p1", "p1"],
            S.CATEGORY: ["shoes", "shoes", "shoes", "shoes"],
            S.MATCH: ["product", "product", "category", "category"],
            S.GROUP: ["treatment", "control", "treatment", "control"],
        }
    )
    bought = pd.DataFrame(
        {
            S.CUSTOMER_ID: ["a", "b", "c", "d"],
            S.PRODUCT_ID: ["p2", "p1", "p2", "p9"],  # a: another shoe; b: the product itself
            S.CATEGORY: ["shoes", "shoes", "shoes", "hats"],
            S.AMOUNT: [10.0, 20.0, 30.0, 40.0],
        }
    )
    out = match_conversions(plan, bought)
    assert out[S.CONVERTED].tolist() == [0, 1, 1, 0]
    assert out[S.SPEND].tolist() == [0.0, 20.0, 30.0, 0.0]


def test_fit_propensity_on_the_sample_gives_a_usable_calibrator() -> None:
    from recsys.campaigns.propensity import fit_propensity
    from recsys.data.dataset import load_sample
    from recsys.params import ModelParams

    fit = fit_propensity(load_sample(), ModelParams(n_neighbors=20), n=10)
    p = fit.calibrator.propensity([0.0, 1.0], [10, 1])
    assert 0 < fit.base_rate < 1 and fit.n_recommendations > 0 and len(fit.reliability)
    assert ((p > 0) & (p < 1)).all()
    observed = fit.reliability
    weighted = (observed[S.MEAN_PREDICTED] * observed[S.COUNT]).sum() / observed[S.COUNT].sum()
    assert abs(weighted - fit.base_rate) < 0.02  # calibrated on average


def test_fit_propensity_on_a_sample_of_customers_with_counted_progress() -> None:
    from recsys.campaigns.propensity import fit_propensity
    from recsys.data.dataset import load_sample
    from recsys.params import ModelParams

    data = load_sample()
    steps: list[tuple[float, str]] = []
    fit = fit_propensity(
        data, ModelParams(n_neighbors=20), n=10, max_customers=300,
        progress=lambda f, m: steps.append((f, m)),
    )  # fmt: skip
    assert fit.n_customers == 300 and fit.n_recommendations == 300 * 10
    assert 0 < fit.base_rate < 1
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 0.95
    assert any(m.startswith("training on the rest") for _, m in steps)
    assert any(m.startswith("recommending: ") and "of 300 customers" in m for _, m in steps)
    # The same seeded sample every time; a bound above the customers labels everyone.
    again = fit_propensity(data, ModelParams(n_neighbors=20), n=10, max_customers=300)
    assert again.base_rate == fit.base_rate
    whole = fit_propensity(data, ModelParams(n_neighbors=20), n=10)
    bounded = fit_propensity(data, ModelParams(n_neighbors=20), n=10, max_customers=100_000)
    assert whole.n_customers == bounded.n_customers > 300
    assert whole.base_rate == bounded.base_rate


def test_readout_messages_name_the_offer_the_metric_and_the_unit() -> None:
    # Treatment a-d (a and b buy p1 for 10), control e-f (nobody buys): conversion 50 % vs 0 %.
    plan = pd.DataFrame(
        {
            S.CUSTOMER_ID: list("abcdef"),
            S.OFFER_ID: ["X"] * 6,
            S.PRODUCT_ID: ["p1"] * 6,
            S.CATEGORY: ["shoes"] * 6,
            S.MATCH: ["product"] * 6,
            S.GROUP: ["treatment"] * 4 + ["control"] * 2,
            S.EXPECTED_COST: [1.0] * 6,
        }
    )
    bought = pd.DataFrame(
        {S.CUSTOMER_ID: ["a", "b"], S.PRODUCT_ID: ["p1", "p1"], S.AMOUNT: [10.0, 10.0]}
    )
    table = campaign_readout(plan, bought).set_index([S.OFFER_ID, S.METRIC])
    conv = table.loc[("X", S.CONVERTED), S.MESSAGE]
    assert conv.startswith("Offer X: conversion lift +50.00 percentage points (95% CI ")
    spend = table.loc[("X", S.SPEND), S.MESSAGE]
    assert spend.startswith("Offer X: spend per customer lift +5.00 (currency) (95% CI ")
    overall = table.loc[(S.ALL_OFFERS, S.CONVERTED), S.MESSAGE]
    assert overall.startswith("All offers: conversion lift +50.00 percentage points")


def test_a_category_offer_converts_at_its_base_rate_in_control_when_purchases_lack_categories():
    # History: 10 customers, every one bought p1 (category shoes) in the last week; purchases
    # carry no category (it comes from the catalogue). A category offer with zero uplift must
    # convert control at that base rate (1.0 here), not at 0.
    history = pd.DataFrame(
        {
            S.CUSTOMER_ID: [f"h{i}" for i in range(10)],
            S.PRODUCT_ID: ["p1"] * 10,
            S.PURCHASE_DATE: pd.Timestamp("2026-03-01"),
            S.AMOUNT: 10.0,
        }
    )
    catalogue = pd.DataFrame({S.PRODUCT_ID: ["p1"], S.CATEGORY: ["shoes"]})
    plan = pd.DataFrame(
        {
            S.CUSTOMER_ID: ["a", "b", "c", "d"],
            S.OFFER_ID: ["C"] * 4,
            S.PRODUCT_ID: ["p1"] * 4,
            S.CATEGORY: ["shoes"] * 4,
            S.MATCH: ["category"] * 4,
            S.GROUP: ["treatment", "treatment", "control", "control"],
        }
    )
    out = simulate_response(plan, history, 0.0, seed=0, catalogue=catalogue)
    assert sorted(out[S.CUSTOMER_ID]) == ["a", "b", "c", "d"]
    assert set(out[S.PRODUCT_ID]) == {"p1"} and set(out[S.CATEGORY]) == {"shoes"}
