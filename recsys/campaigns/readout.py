"""Read-out: did the campaign work? Treatment against control, per offer and overall.

A planned contact **converts** when its customer bought the offer's product (or, for a category
offer, any product of the category) during the read-out window: the plan row's ``match``
(``"product"`` or ``"category"``, the offer's scope) says which; rows without it match on
``product_id`` when they have one, else on ``category``; its **spend** is the amount of
those purchase lines. Per offer, and over all offers (one row per customer: converted if any of
their offers did, spend summed over distinct matching lines):

- conversion rate in treatment and control, lift = difference, 95 % interval by the normal
  approximation for a difference of two proportions (unpooled standard error), two-sided p-value
  from the same z statistic; relative lift = lift / control rate (interval scaled the same way);
- spend per customer, lift with a Welch t interval (Welch-Satterthwaite degrees of freedom);
- cost per incremental conversion = the rewards paid to converted treatment contacts
  (``reward_if_earned`` when the plan has it, else the planned ``expected_cost``) divided by
  ``lift x n_treatment``; missing when the lift is not positive.

Each row carries a plain-English ``message``; a lift whose interval contains 0 says so.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

from recsys.data import schema as S
from recsys.errors import CampaignError
from recsys.rewards.eligibility import MATCH_CATEGORY, MATCH_PRODUCT

__all__ = ["READOUT_COLUMNS", "campaign_readout", "match_conversions", "match_scope"]

log = logging.getLogger(__name__)

Z95 = float(stats.norm.ppf(0.975))
_LINE = "_line"
READOUT_COLUMNS = [
    S.OFFER_ID, S.METRIC, S.N_TREATMENT, S.N_CONTROL, S.TREATMENT_VALUE, S.CONTROL_VALUE,
    S.LIFT, S.LIFT_LOW, S.LIFT_HIGH, S.RELATIVE_LIFT, S.P_VALUE, S.SIGNIFICANT,
    S.INCREMENTAL_CONVERSIONS, S.COST, S.COST_PER_INCREMENTAL, S.MESSAGE,
]  # fmt: skip


def match_conversions(plan_rows: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Each plan row with ``converted`` (0/1) and ``spend`` from matching purchase lines."""
    return _match(plan_rows, purchases)[0]


def _match(plan_rows: pd.DataFrame, purchases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`match_conversions`, plus the matched (plan row, purchase line) pairs."""
    need = [S.CUSTOMER_ID, S.OFFER_ID, S.GROUP]
    missing = [c for c in need if c not in plan_rows]
    if missing or not ({S.PRODUCT_ID, S.CATEGORY} & set(plan_rows.columns)):
        raise CampaignError(
            f"The plan lacks {missing or 'product_id/category'}: use a plan with a control group "
            "(assign_control) whose rows name the offer's product or category."
        )
    rows = plan_rows.reset_index(drop=True)
    lines = purchases.reset_index(drop=True)
    lines = lines.assign(**{_LINE: np.arange(len(lines))})
    amount = (
        pd.to_numeric(lines[S.AMOUNT], errors="coerce").fillna(0.0)
        if S.AMOUNT in lines
        else pd.Series(0.0, index=lines.index)
    )
    lines = lines.assign(**{S.SPEND: amount.to_numpy()})
    keyed = rows[[S.CUSTOMER_ID, S.OFFER_ID]].assign(_row=np.arange(len(rows)))
    scope = match_scope(rows)
    hits = [pd.DataFrame({"_row": [], _LINE: [], S.SPEND: []})]
    for col in (S.PRODUCT_ID, S.CATEGORY):
        mine = scope == col  # "product" / "category" name the matching column
        if col in rows and col in lines and mine.any():
            left = keyed.loc[mine].assign(**{col: rows.loc[mine, col].astype("str")})
            left = left.dropna(subset=[col])
            right = lines[[S.CUSTOMER_ID, col, _LINE, S.SPEND]].astype({col: "str"})
            right = right.astype({S.CUSTOMER_ID: "str"})
            left = left.astype({S.CUSTOMER_ID: "str"})
            hits.append(left.merge(right, on=[S.CUSTOMER_ID, col])[["_row", _LINE, S.SPEND]])
    matched = pd.concat(hits, ignore_index=True).drop_duplicates(["_row", _LINE])
    matched = matched.astype({"_row": np.int64, _LINE: np.int64, S.SPEND: np.float64})
    per_row = matched.groupby("_row")[S.SPEND].agg(["size", "sum"])
    out = rows.copy()
    out[S.CONVERTED] = (per_row["size"].reindex(out.index, fill_value=0) > 0).astype(np.int64)
    out[S.SPEND] = per_row["sum"].reindex(out.index, fill_value=0.0).to_numpy(np.float64)
    return out, matched


def match_scope(rows: pd.DataFrame) -> np.ndarray:
    """Per plan row, the column it converts on: ``"product_id"`` or ``"category"``.

    From ``match`` (the offer's scope) when the rows carry it, else product first.
    """
    has_product = (
        rows[S.PRODUCT_ID].notna().to_numpy() if S.PRODUCT_ID in rows else np.zeros(len(rows), bool)
    )
    fallback = np.where(has_product, S.PRODUCT_ID, S.CATEGORY)
    if S.MATCH not in rows:
        return fallback
    match = rows[S.MATCH].astype("str").to_numpy(dtype=object)
    return np.where(
        match == MATCH_PRODUCT,
        S.PRODUCT_ID,
        np.where(match == MATCH_CATEGORY, S.CATEGORY, fallback),
    )


def _proportions(t: np.ndarray, c: np.ndarray) -> dict[str, float]:
    p1, p0 = t.mean() if t.size else np.nan, c.mean() if c.size else np.nan
    se = np.sqrt(p1 * (1 - p1) / max(t.size, 1) + p0 * (1 - p0) / max(c.size, 1))
    diff = p1 - p0
    z = diff / se if se > 0 else 0.0
    return {"t": p1, "c": p0, "lift": diff, "low": diff - Z95 * se, "high": diff + Z95 * se,
            "p": float(2 * stats.norm.sf(abs(z)))}  # fmt: skip


def _welch(t: np.ndarray, c: np.ndarray) -> dict[str, float]:
    m1, m0 = t.mean() if t.size else np.nan, c.mean() if c.size else np.nan
    v1, v0 = (
        (t.var(ddof=1) / t.size if t.size > 1 else np.nan),
        (c.var(ddof=1) / c.size if c.size > 1 else np.nan),
    )
    se = np.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1**2 / max(t.size - 1, 1) + v0**2 / max(c.size - 1, 1)) if se > 0 else 1
    q = float(stats.t.ppf(0.975, df)) if se > 0 else 0.0
    p = float(2 * stats.t.sf(abs((m1 - m0) / se), df)) if se > 0 else 1.0
    return {"t": m1, "c": m0, "lift": m1 - m0, "low": m1 - m0 - q * se, "high": m1 - m0 + q * se,
            "p": p}  # fmt: skip


def _rows_for(offer: str, frame: pd.DataFrame, cost: float) -> list[dict[str, object]]:
    treat = frame[S.GROUP].eq(S.GROUP_TREATMENT).to_numpy()
    out = []
    for metric, column, test in (
        (S.CONVERTED, S.CONVERTED, _proportions),
        (S.SPEND, S.SPEND, _welch),
    ):
        values = frame[column].to_numpy(np.float64)
        r = test(values[treat], values[~treat])
        significant = bool(r["low"] > 0 or r["high"] < 0)
        what = "conversion" if metric == S.CONVERTED else "spend per customer"
        unit = "percentage points" if metric == S.CONVERTED else "(currency)"
        scale = 100.0 if metric == S.CONVERTED else 1.0
        who = "All offers" if offer == S.ALL_OFFERS else f"Offer {offer}"
        text = (
            f"{who}: {what} lift {scale * r['lift']:+.2f} {unit} "
            f"(95% CI {scale * r['low']:+.2f} to {scale * r['high']:+.2f})"
        )
        text += (
            "."
            if significant
            else ": not statistically significant, the campaign may have had "
            "no effect; a larger control group or a longer window would tell."
        )
        incremental = r["lift"] * treat.sum() if metric == S.CONVERTED else np.nan
        out.append({
            S.OFFER_ID: offer, S.METRIC: metric, S.N_TREATMENT: int(treat.sum()),
            S.N_CONTROL: int((~treat).sum()), S.TREATMENT_VALUE: r["t"], S.CONTROL_VALUE: r["c"],
            S.LIFT: r["lift"], S.LIFT_LOW: r["low"], S.LIFT_HIGH: r["high"],
            S.RELATIVE_LIFT: r["lift"] / r["c"] if r["c"] else np.nan, S.P_VALUE: r["p"],
            S.SIGNIFICANT: significant, S.INCREMENTAL_CONVERSIONS: incremental, S.COST: cost,
            S.COST_PER_INCREMENTAL: cost / incremental if incremental > 0 else np.nan,
            S.MESSAGE: text,
        })  # fmt: skip
    return out


def campaign_readout(plan_rows: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """Lift of each offer and of the whole campaign, treatment against control.

    Parameters
    ----------
    plan_rows : DataFrame
        The plan's allocation with ``group`` and the offer's ``product_id`` / ``category``.
    purchases : DataFrame
        Purchase lines of the read-out window only (filter them by date first).

    Returns
    -------
    DataFrame
        :data:`READOUT_COLUMNS`, two rows (``converted``, ``spend``) per offer, then the
        overall rows with ``offer_id = "(all offers)"``.
    """
    rows, matched = _match(plan_rows, purchases)
    if not rows[S.GROUP].eq(S.GROUP_CONTROL).any() or rows[S.GROUP].eq(S.GROUP_CONTROL).all():
        raise CampaignError("A read-out needs both a treatment and a control group in the plan.")
    paid = rows[S.REWARD_IF_EARNED] if S.REWARD_IF_EARNED in rows else rows[S.EXPECTED_COST]
    rows["_paid"] = np.where(rows[S.GROUP].eq(S.GROUP_TREATMENT) & rows[S.CONVERTED].eq(1), paid, 0)
    out = []
    for offer, frame in rows.groupby(S.OFFER_ID, sort=True):
        out.extend(_rows_for(str(offer), frame, float(frame["_paid"].sum())))
    # Overall spend counts each purchase line once per customer, however many offers match it.
    matched = matched.assign(**{S.CUSTOMER_ID: rows[S.CUSTOMER_ID].to_numpy()[matched["_row"]]})
    spend = matched.drop_duplicates([S.CUSTOMER_ID, _LINE]).groupby(S.CUSTOMER_ID)[S.SPEND].sum()
    customers = rows.groupby(S.CUSTOMER_ID).agg(
        **{
            S.GROUP: (S.GROUP, "first"),
            S.CONVERTED: (S.CONVERTED, "max"),
            "_paid": ("_paid", "sum"),
        }
    )
    customers[S.SPEND] = spend.reindex(customers.index, fill_value=0.0)
    out.extend(_rows_for(S.ALL_OFFERS, customers, float(customers["_paid"].sum())))
    return pd.DataFrame(out, columns=READOUT_COLUMNS)
