"""Control group: a seeded, stratified random holdout of the planned customers.

The holdout is drawn per **customer**, not per contact: a control customer is planned like
everyone else but receives none of their offers, so nothing the campaign sends can reach them
and the overall read-out compares whole customers. Customers are stratified by segment and by
their main offer (the planned offer of highest propensity, ties by offer id); within each
stratum of ``n`` customers, ``floor(share x n + u)`` of them, ``u`` uniform on [0, 1) per stratum,
are drawn at random into control, so every stratum is within one customer of the share and the
expected share is exact.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from recsys.campaigns.allocation import CampaignPlan
from recsys.data import schema as S
from recsys.errors import CampaignError

__all__ = ["assign_control", "control_balance"]

log = logging.getLogger(__name__)

_NO_SEGMENT = "(none)"


def assign_control(plan: CampaignPlan, share: float = 0.1, *, seed: int | None = None):
    """Add ``group`` ("treatment" or "control") to every planned contact.

    Parameters
    ----------
    plan : CampaignPlan
        From :func:`~recsys.campaigns.allocation.allocate`.
    share : float, default 0.1
        Share of customers held out, in [0, 1).
    seed : int, optional
        Default ``plan.constraints.seed``.

    Returns
    -------
    CampaignPlan
        A copy whose ``allocation`` carries ``group``.

    Examples
    --------
    >>> from recsys.campaigns.allocation import CampaignConstraints, allocate
    >>> cands = pd.DataFrame({"customer_id": [f"c{i}" for i in range(100)], "offer_id": "X",
    ...                       "segment": ["a", "b"] * 50, "propensity": 0.2,
    ...                       "expected_cost": 1.0})
    >>> plan = assign_control(allocate(cands, CampaignConstraints()), share=0.2, seed=1)
    >>> control_balance(plan.allocation)["n_control"].tolist()
    [10, 10]
    """
    if not 0.0 <= float(share) < 1.0:
        raise CampaignError(f"share={share!r}: the control share must be in [0, 1), e.g. 0.1.")
    rng = np.random.default_rng(plan.constraints.seed if seed is None else seed)
    rows = plan.allocation.drop(columns=[S.GROUP], errors="ignore")
    if not len(rows):
        return replace(plan, allocation=rows.assign(**{S.GROUP: pd.Series(dtype="str")}))
    customers = _strata(rows)
    n = len(customers)
    sizes = customers.groupby("stratum").size()
    wanted = np.floor(float(share) * sizes.to_numpy() + rng.random(len(sizes))).astype(np.int64)
    # A random position within the stratum; the first `wanted` positions go to control.
    customers["key"] = rng.random(n)
    customers = customers.sort_values(["stratum", "key"], kind="stable")
    position = customers.groupby("stratum", sort=False).cumcount().to_numpy()
    limit = pd.Series(wanted, index=sizes.index).reindex(customers["stratum"]).to_numpy()
    control = pd.Series(position < limit, index=customers[S.CUSTOMER_ID].to_numpy())
    is_control = control.reindex(rows[S.CUSTOMER_ID].to_numpy()).to_numpy(dtype=bool)
    groups = np.where(is_control, S.GROUP_CONTROL, S.GROUP_TREATMENT)
    rows = rows.assign(**{S.GROUP: pd.array(groups, dtype="str")})
    log.info("control group: %d of %d customers", int(control.sum()), n)
    return replace(plan, allocation=rows)


def _strata(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: id and stratum (segment x main offer)."""
    segment = (
        rows[S.SEGMENT].astype("str").fillna(_NO_SEGMENT)
        if S.SEGMENT in rows
        else pd.Series(_NO_SEGMENT, index=rows.index)
    )
    main = rows.assign(_segment=segment).sort_values(
        [S.CUSTOMER_ID, S.PROPENSITY, S.OFFER_ID], ascending=[True, False, True], kind="stable"
    )
    main = main.drop_duplicates(S.CUSTOMER_ID)
    stratum = main["_segment"].astype(str) + "\x1f" + main[S.OFFER_ID].astype(str)
    return pd.DataFrame(
        {S.CUSTOMER_ID: main[S.CUSTOMER_ID].to_numpy(), "stratum": stratum.to_numpy()}
    ).reset_index(drop=True)


def control_balance(allocation: pd.DataFrame, by: str = S.SEGMENT) -> pd.DataFrame:
    """Customers and control share per value of ``by`` (segment or offer_id), for a balance check.

    Returns
    -------
    DataFrame
        ``by``, ``customers``, ``n_control``, ``control_share``.
    """
    if S.GROUP not in allocation:
        raise CampaignError("The plan has no control group yet: run assign_control first.")
    key = allocation[by].astype("str").fillna(_NO_SEGMENT) if by in allocation else _NO_SEGMENT
    frame = allocation.assign(_by=key, _c=allocation[S.GROUP].eq(S.GROUP_CONTROL))
    if by != S.OFFER_ID:  # one vote per customer unless counting contacts per offer
        frame = frame.drop_duplicates(S.CUSTOMER_ID)
    grouped = frame.groupby("_by", sort=True)["_c"]
    out = pd.DataFrame({S.CUSTOMERS: grouped.size(), S.N_CONTROL: grouped.sum().astype(np.int64)})
    out[S.CONTROL_SHARE] = out[S.N_CONTROL] / out[S.CUSTOMERS]
    return out.rename_axis(by).reset_index()
