"""Campaign settings (:class:`CampaignConstraints`) and the checks a candidate table must pass."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.errors import CampaignError

__all__ = ["OBJECTIVES", "CampaignConstraints", "check_candidates"]

log = logging.getLogger(__name__)

Objective = Literal["conversions", "spend"]
OBJECTIVES: tuple[str, ...] = ("conversions", "spend")


def _pairs(mapping: Mapping[str, float] | Iterable[tuple[str, float]] | None, what: str):
    items = dict(mapping or {})
    out = []
    for key, limit in sorted((str(k), v) for k, v in items.items()):
        limit = float(limit)
        if not np.isfinite(limit) or limit < 0:
            raise CampaignError(f"{what} of offer '{key}' is {limit!r}: give a number >= 0.")
        out.append((key, limit))
    return tuple(out)


@dataclass(frozen=True)
class CampaignConstraints:
    """The limits a campaign plan must respect (frozen and hashable: usable as a cache key).

    Parameters
    ----------
    offer_budgets : mapping of offer id to float, optional
        Budget of each offer on expected cost, in currency; offers left out have none.
    offer_max_recipients : mapping of offer id to int, optional
        Most customers an offer may go to.
    global_budget : float, optional
        Budget of the whole plan on expected cost.
    contact_cap : int, default 1
        Most offers one customer receives.
    suppression : iterable of str
        Customers never to contact (opt-outs, complaints, recent contacts).
    objective : {"conversions", "spend"}
        Maximise expected reward-driven purchases (sum of ``propensity``) or expected spend
        (sum of ``expected_value``).
    seed : int
        Seed of the tie-break keys (and of the control group drawn from the plan).

    Examples
    --------
    >>> c = CampaignConstraints(offer_budgets={"O1": 500}, contact_cap=2, suppression=["c9"])
    >>> c.offer_budgets, c.suppression, hash(c) == hash(CampaignConstraints.from_dict(c.to_dict()))
    ((('O1', 500.0),), frozenset({'c9'}), True)
    """

    offer_budgets: tuple[tuple[str, float], ...] = ()
    offer_max_recipients: tuple[tuple[str, float], ...] = ()
    global_budget: float | None = None
    contact_cap: int = 1
    suppression: frozenset[str] = field(default_factory=frozenset)
    objective: Objective = "conversions"
    seed: int = 0

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise the inputs once, here
        put(self, "offer_budgets", _pairs(self.offer_budgets, "offer_budgets"))
        put(self, "offer_max_recipients", _pairs(self.offer_max_recipients, "max recipients"))
        put(self, "suppression", frozenset(str(c) for c in self.suppression))
        if self.global_budget is not None:
            budget = float(self.global_budget)
            if not np.isfinite(budget) or budget < 0:
                raise CampaignError(f"global_budget={self.global_budget!r}: give a number >= 0.")
            put(self, "global_budget", budget)
        cap = self.contact_cap
        if isinstance(cap, bool) or not isinstance(cap, int | np.integer) or cap < 1:
            raise CampaignError(f"contact_cap={cap!r}: give a whole number of offers >= 1.")
        put(self, "contact_cap", int(cap))
        if self.objective not in OBJECTIVES:
            raise CampaignError(f"objective={self.objective!r}: use one of {OBJECTIVES}.")
        put(self, "seed", int(self.seed))

    def offer_ids(self) -> set[str]:
        """Offers named by a budget or a recipient limit."""
        return {k for k, _ in self.offer_budgets} | {k for k, _ in self.offer_max_recipients}

    def budget_array(self, offers: Iterable[str], kind: str) -> np.ndarray:
        """Per offer, its budget (``kind="expected_cost"``) or recipient limit; ``inf`` = none."""
        limits = dict(self.offer_budgets if kind == S.EXPECTED_COST else self.offer_max_recipients)
        return np.array([limits.get(str(o), np.inf) for o in offers], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings (see :meth:`from_dict`)."""
        return {
            "offer_budgets": dict(self.offer_budgets),
            "offer_max_recipients": dict(self.offer_max_recipients),
            "global_budget": self.global_budget,
            "contact_cap": self.contact_cap,
            "suppression": sorted(self.suppression),
            "objective": self.objective,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CampaignConstraints:
        return cls(**dict(data))


def check_candidates(candidates: pd.DataFrame, constraints: CampaignConstraints) -> pd.DataFrame:
    """Validate a candidate table; return a clean copy without suppressed customers.

    Every problem found is listed in one :class:`~recsys.errors.CampaignError`.
    """
    need = [S.CUSTOMER_ID, S.OFFER_ID, S.PROPENSITY, S.EXPECTED_COST]
    if constraints.objective == "spend":
        need.append(S.EXPECTED_VALUE)
    missing = [c for c in need if c not in candidates.columns]
    if missing:
        raise CampaignError(
            f"The candidate table lacks the column(s) {missing}: build it with "
            "recsys.campaigns.candidates.build_candidates, or add them."
        )
    table = candidates.copy()
    for col in (S.CUSTOMER_ID, S.OFFER_ID):
        if not pd.api.types.is_string_dtype(table[col]) or table[col].hasnans:
            table[col] = table[col].astype(str)
    problems = []
    for col in need[2:]:
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(values) | (values < 0)
        if col == S.PROPENSITY:
            bad |= values > 1
        if bad.any():
            rows = ", ".join(map(str, np.flatnonzero(bad)[:5]))
            what = "a probability in [0, 1]" if col == S.PROPENSITY else "a number >= 0"
            problems.append(f"column '{col}' must be {what} (bad rows: {rows})")
        table[col] = values
    # Repeats found on integer codes: far faster than hashing text pairs at a million rows.
    cust = pd.factorize(table[S.CUSTOMER_ID])[0].astype(np.int64)
    offer, offers = pd.factorize(table[S.OFFER_ID])
    pair = pd.Series(cust * max(len(offers), 1) + offer)
    twice = pair.duplicated(keep=False).to_numpy()
    if twice.any():
        rows = ", ".join(map(str, np.flatnonzero(twice)[:5]))
        problems.append(f"one row per (customer, offer) expected (repeated rows: {rows})")
    if problems:
        raise CampaignError("Unusable candidate table: " + "; ".join(problems) + ".")
    unknown = constraints.offer_ids() - set(map(str, offers))
    if unknown:
        log.warning("limits given for offers without candidates: %s", sorted(unknown))
    if constraints.suppression:
        table = table.loc[~table[S.CUSTOMER_ID].isin(constraints.suppression)]
    return table.reset_index(drop=True)
