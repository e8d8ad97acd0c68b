"""Allocation under constraints: which customer gets which offer, within budgets and contact caps.

Input is a candidate table, one row per (customer, offer), with ``propensity`` (probability of a
reward-driven purchase), ``expected_cost`` (propensity x reward in currency) and, for the
``"spend"`` objective, ``expected_value``. Choose rows ``x`` to maximise the sum of the objective
column (``propensity`` for ``"conversions"``, ``expected_value`` for ``"spend"``) such that each
customer gets at most ``contact_cap`` offers, each offer stays within its budget (on expected
cost) and recipient limit, the whole plan within the global budget, and no suppressed customer
is contacted. Rows with no objective value are never chosen (a contact must be worth something).

``method="exact"`` solves the integer programme with :func:`scipy.optimize.milp` (HiGHS);
``"lagrangian"`` (:mod:`recsys.campaigns.heuristic`) runs in seconds on a million customers and
reports an upper bound, so the gap is known; ``"auto"`` is exact up to :data:`EXACT_MAX_ROWS`.

Ties: each row gets a random key from ``seed``; between rows of equal value the larger key wins
(the key adds at most ``1e-9`` of the largest value, too little to change a real preference).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from recsys.campaigns.constraints import CampaignConstraints, check_candidates
from recsys.campaigns.heuristic import lagrangian
from recsys.campaigns.solver_output import quiet_stdout
from recsys.data import schema as S

__all__ = ["EXACT_MAX_ROWS", "CampaignConstraints", "CampaignPlan", "allocate", "summarise"]

log = logging.getLogger(__name__)

Method = Literal["auto", "exact", "lagrangian"]
EXACT_MAX_ROWS = 2_000
"""``method="auto"`` uses the exact solver up to this many candidate rows."""
TIE_EPS = 1e-9
EXACT_TIME_LIMIT = 60.0  # seconds; HiGHS then returns its best plan with a gap


@dataclass(frozen=True, eq=False)
class CampaignPlan:
    """The chosen contacts and how they sit against the constraints.

    Attributes
    ----------
    allocation : DataFrame
        The chosen candidate rows (all their columns), sorted by customer then offer. The
        control module adds ``group``.
    offers : DataFrame
        Per offer: ``offer_id``, ``recipients``, ``expected_cost``, ``propensity`` (expected
        conversions), ``expected_value``, ``budget``, ``max_recipients``, ``budget_used``.
    offers_per_customer : DataFrame
        ``n_offers`` and ``customers``: how many customers get 1, 2, ... offers.
    expected_conversions, expected_cost, expected_value : float
        Totals of the plan.
    objective_value : float
        Sum of the objective column over the chosen rows.
    upper_bound, gap : float or None
        No plan can beat ``upper_bound``; ``gap = (upper_bound - objective) / upper_bound``.
    solver : str
        ``"milp"``, ``"lagrangian"`` or ``"none"`` (nothing to allocate).
    constraints : CampaignConstraints
    seconds : float
    """

    allocation: pd.DataFrame
    offers: pd.DataFrame
    offers_per_customer: pd.DataFrame
    expected_conversions: float
    expected_cost: float
    expected_value: float
    objective_value: float
    upper_bound: float | None
    gap: float | None
    solver: str
    constraints: CampaignConstraints
    seconds: float = 0.0


def allocate(
    candidates: pd.DataFrame, constraints: CampaignConstraints, *, method: Method = "auto"
) -> CampaignPlan:
    """Choose the contacts that maximise the objective within every constraint.

    Parameters
    ----------
    candidates : DataFrame
        ``customer_id``, ``offer_id``, ``propensity``, ``expected_cost`` (and ``expected_value``
        for the spend objective, ``segment`` optionally); one row per (customer, offer).
    constraints : CampaignConstraints
    method : {"auto", "exact", "lagrangian"}

    Returns
    -------
    CampaignPlan
        Empty (``solver="none"``) when no candidate is left after suppression.

    Examples
    --------
    >>> cands = pd.DataFrame({"customer_id": ["a", "a", "b"], "offer_id": ["X", "Y", "X"],
    ...                       "propensity": [0.5, 0.4, 0.3], "expected_cost": [5.0, 1.0, 3.0]})
    >>> plan = allocate(cands, CampaignConstraints(contact_cap=1, offer_budgets={"X": 4.0}))
    >>> plan.allocation[["customer_id", "offer_id"]].values.tolist(), plan.solver
    ([['a', 'Y'], ['b', 'X']], 'milp')
    """
    started = time.perf_counter()
    if method not in ("auto", "exact", "lagrangian"):
        raise ValueError(f"method={method!r}: use 'auto', 'exact' or 'lagrangian'.")
    table = check_candidates(candidates, constraints)
    target = S.PROPENSITY if constraints.objective == "conversions" else S.EXPECTED_VALUE
    table = table.loc[table[target].to_numpy(np.float64) > 0].reset_index(drop=True)
    if not len(table):
        log.info("allocate: no candidates left to allocate")
        return _plan(table, table.index.to_numpy(), constraints, 0.0, "none", started)
    if method == "auto":
        method = "exact" if len(table) <= EXACT_MAX_ROWS else "lagrangian"
    cust, customers = pd.factorize(table[S.CUSTOMER_ID], sort=True)
    offer, offers = pd.factorize(table[S.OFFER_ID], sort=True)
    value = table[target].to_numpy(np.float64)
    cost = table[S.EXPECTED_COST].to_numpy(np.float64)
    key = np.random.default_rng(constraints.seed).random(len(table))
    tied = value + key * TIE_EPS * float(value.max())
    budget = constraints.budget_array(offers, S.EXPECTED_COST)
    most = constraints.budget_array(offers, S.RECIPIENTS)
    total = np.inf if constraints.global_budget is None else float(constraints.global_budget)
    if method == "exact":
        chosen, bound = _exact(
            tied, cost, cust, offer, constraints.contact_cap, budget, most, total
        )
        solver = "milp"
    else:
        chosen, bound = lagrangian(
            tied, cost, cust, offer, len(customers), constraints.contact_cap, budget, most, total
        )
        solver = "lagrangian"
    return _plan(table, chosen, constraints, bound, solver, started)


def _exact(value, cost, cust, offer, cap, budget, most, total) -> tuple[np.ndarray, float]:
    """Solve the integer programme with HiGHS; returns chosen rows and the dual bound."""
    n = value.size
    rows, caps = [], []
    per_customer = np.bincount(cust)
    over = np.flatnonzero(per_customer > cap)  # customers with room for all need no row
    if over.size:
        keep = np.isin(cust, over)
        rows.append(
            sp.csr_matrix(
                (np.ones(keep.sum()), (np.searchsorted(over, cust[keep]), np.flatnonzero(keep))),
                shape=(over.size, n),
            )
        )
        caps.append(np.full(over.size, cap, dtype=np.float64))
    for limit, weight in ((budget, cost), (most, np.ones(n))):
        bound_offers = np.flatnonzero(np.isfinite(limit))
        if bound_offers.size:
            keep = np.isin(offer, bound_offers)
            at = np.searchsorted(bound_offers, offer[keep])
            rows.append(
                sp.csr_matrix(
                    (weight[keep], (at, np.flatnonzero(keep))), shape=(bound_offers.size, n)
                )
            )
            caps.append(limit[bound_offers])
    if np.isfinite(total):
        rows.append(sp.csr_matrix(cost.reshape(1, -1)))
        caps.append(np.array([total]))
    constraints = (
        [LinearConstraint(sp.vstack(rows).tocsr(), -np.inf, np.concatenate(caps))] if rows else []
    )
    # disp=False silences HiGHS' log, but not a printf left in its MIP code: see solver_output.
    with quiet_stdout():
        res = milp(
            -value,
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            constraints=constraints,
            options={"time_limit": EXACT_TIME_LIMIT, "mip_rel_gap": 1e-7, "disp": False},
        )
    if res.x is None:
        raise RuntimeError(f"milp found no plan: {res.message}")
    chosen = np.flatnonzero(res.x > 0.5)
    dual = getattr(res, "mip_dual_bound", None)
    bound = -float(dual) if dual is not None and np.isfinite(dual) else float(value[chosen].sum())
    return chosen, bound


def _plan(table, chosen, constraints, bound, solver, started) -> CampaignPlan:
    """Totals and per-offer figures of the chosen rows of ``table``."""
    rows = table.iloc[np.sort(chosen)].sort_values([S.CUSTOMER_ID, S.OFFER_ID], kind="stable")
    plan = summarise(
        rows.reset_index(drop=True),
        constraints,
        solver,
        bound,
        0.0,
        offer_ids=table[S.OFFER_ID].unique(),
    )
    return replace(plan, seconds=time.perf_counter() - started)


def summarise(
    rows: pd.DataFrame,
    constraints: CampaignConstraints,
    solver: str,
    bound: float | None,
    seconds: float = 0.0,
    offer_ids: object = (),
) -> CampaignPlan:
    """A :class:`CampaignPlan` of already chosen ``rows`` (used by allocate and load_plan)."""
    has_value = S.EXPECTED_VALUE in rows.columns
    totals = {
        S.PROPENSITY: float(rows[S.PROPENSITY].sum()),
        S.EXPECTED_COST: float(rows[S.EXPECTED_COST].sum()),
        S.EXPECTED_VALUE: float(rows[S.EXPECTED_VALUE].sum()) if has_value else float("nan"),
    }
    objective = totals[S.PROPENSITY if constraints.objective == "conversions" else S.EXPECTED_VALUE]
    grouped = rows.groupby(S.OFFER_ID, sort=True)
    offers = pd.DataFrame(
        {
            S.RECIPIENTS: grouped.size(),
            S.EXPECTED_COST: grouped[S.EXPECTED_COST].sum(),
            S.PROPENSITY: grouped[S.PROPENSITY].sum(),
            S.EXPECTED_VALUE: grouped[S.EXPECTED_VALUE].sum() if has_value else np.nan,
        }
    )
    all_offers = sorted(
        set(map(str, offer_ids)) | set(rows[S.OFFER_ID].unique()) | constraints.offer_ids()
    )
    offers = offers.reindex(pd.Index(all_offers, name=S.OFFER_ID), fill_value=0).reset_index()
    offers[S.RECIPIENTS] = offers[S.RECIPIENTS].astype(np.int64)
    offers[S.BUDGET] = constraints.budget_array(offers[S.OFFER_ID], S.EXPECTED_COST)
    offers[S.MAX_RECIPIENTS] = constraints.budget_array(offers[S.OFFER_ID], S.RECIPIENTS)
    with np.errstate(divide="ignore", invalid="ignore"):
        used = offers[S.EXPECTED_COST] / offers[S.BUDGET]
    offers[S.BUDGET_USED] = used.where(np.isfinite(offers[S.BUDGET]))
    counts = rows.groupby(S.CUSTOMER_ID).size().value_counts().sort_index()
    per_customer = pd.DataFrame(
        {S.N_OFFERS: counts.index.to_numpy(np.int64), S.CUSTOMERS: counts.to_numpy(np.int64)}
    )
    upper = None if solver == "none" or bound is None else max(float(bound), objective)
    gap = None if upper is None else (upper - objective) / upper if upper > 0 else 0.0
    log.info(
        "allocate (%s): %d contacts, objective %.4g, gap %s, %.2fs",
        solver,
        len(rows),
        objective,
        gap,
        seconds,
    )
    return CampaignPlan(
        allocation=rows,
        offers=offers,
        offers_per_customer=per_customer,
        expected_conversions=totals[S.PROPENSITY],
        expected_cost=totals[S.EXPECTED_COST],
        expected_value=totals[S.EXPECTED_VALUE],
        objective_value=objective,
        upper_bound=upper,
        gap=gap,
        solver=solver,
        constraints=constraints,
        seconds=seconds,
    )
