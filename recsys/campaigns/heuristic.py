"""The fast allocation method: Lagrangian prices, then a greedy fill that never breaks a constraint.

The problem (see :mod:`recsys.campaigns.allocation`) couples customers only through a few
budgets: one cost budget and one recipient limit per offer, and one global budget. Pricing those
few constraints (multipliers ``theta``) splits it into one tiny problem per customer: take the
``cap`` offers of largest reduced value ``value - price x cost - recipient price`` when positive.
For any prices the sum of those per-customer optima plus ``theta x capacities`` is an **upper
bound** on the best plan (weak duality); the per-customer problem has an integral LP, so the best
such bound equals the LP-relaxation bound. The prices are found by a Polyak subgradient method.

A feasible plan comes from a greedy fill in order of reduced value at the best prices found:
each round offers every customer's best still-possible offers (at most their remaining contact
room), sorts them globally, and accepts the longest prefix that fits each offer's budget and the
global budget. An offer that no longer fits is dropped, so every round accepts something.

Customers x offers are laid out as dense ``(n_customers, n_offers)`` arrays: offers are few (tens),
so every step is one vectorised numpy pass, never a Python loop over customers.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["fill", "lagrangian"]

log = logging.getLogger(__name__)

_TOL = 1e-9  # relative slack when comparing cumulative cost to a budget (float sums)


def _top_cap(reduced: np.ndarray, cap: int) -> np.ndarray:
    """Per row, the ``cap`` largest entries that are > 0 (a bool mask)."""
    n, m = reduced.shape
    if cap >= m:
        return reduced > 0
    chosen = np.zeros((n, m), dtype=bool)
    if cap == 1:
        col = np.argmax(reduced, axis=1)
        rows = np.arange(n)
        chosen[rows, col] = reduced[rows, col] > 0
        return chosen
    cols = np.argpartition(-reduced, cap - 1, axis=1)[:, :cap]
    vals = np.take_along_axis(reduced, cols, axis=1)
    np.put_along_axis(chosen, cols, vals > 0, axis=1)
    return chosen


def fill(
    priority: np.ndarray,
    cost: np.ndarray,
    valid: np.ndarray,
    cap: int,
    offer_budget: np.ndarray,
    offer_max: np.ndarray,
    global_budget: float,
    max_rounds: int = 200,
) -> np.ndarray:
    """Greedy, feasible by construction: accept entries in ``priority`` order while they fit.

    Parameters
    ----------
    priority, cost : ndarray of shape (n_customers, n_offers)
        Higher priority first (ties already broken by the caller); cost in currency.
    valid : ndarray of bool
        Entries that may be chosen at all.
    cap : int
        Offers per customer.
    offer_budget, offer_max : ndarray of shape (n_offers,)
        ``inf`` where there is no limit.
    global_budget : float
        ``inf`` for none.

    Returns
    -------
    ndarray of bool
        The chosen entries.
    """
    n, m = priority.shape
    chosen = np.zeros((n, m), dtype=bool)
    avail = valid.copy()
    left_cost = offer_budget.astype(np.float64).copy()
    left_count = offer_max.astype(np.float64).copy()
    left_global = float(global_budget)
    room = np.full(n, cap, dtype=np.int64)
    # Each customer's offers best first, computed once: the priorities do not change.
    order = np.argsort(-priority, axis=1, kind="stable")
    for _ in range(max_rounds):
        avail &= cost <= left_cost[None, :] * (1 + _TOL) + _TOL
        avail &= cost <= left_global * (1 + _TOL) + _TOL
        avail[:, left_count < 1] = False
        avail[room <= 0] = False
        ranked = np.take_along_axis(avail, order, axis=1)
        take = ranked & (np.cumsum(ranked, axis=1) <= room[:, None])
        rows, slots = np.nonzero(take)
        if not rows.size:
            break
        cols = order[rows, slots]
        by_priority = np.argsort(-priority[rows, cols], kind="stable")
        rows, cols = rows[by_priority], cols[by_priority]
        spend = cost[rows, cols]
        ok = np.ones(rows.size, dtype=bool)
        for o in np.flatnonzero(np.isfinite(left_cost) | np.isfinite(left_count)):
            mine = np.flatnonzero(cols == o)
            if mine.size:
                cum = np.cumsum(spend[mine])
                ok[mine] = (cum <= left_cost[o] * (1 + _TOL) + _TOL) & (
                    np.arange(1, mine.size + 1) <= left_count[o]
                )
        if np.isfinite(left_global):
            ok &= np.cumsum(np.where(ok, spend, 0.0)) <= left_global * (1 + _TOL) + _TOL
        rows, cols = rows[ok], cols[ok]
        chosen[rows, cols] = True
        avail[rows, cols] = False
        room -= np.bincount(rows, minlength=n)
        used = np.bincount(cols, weights=cost[rows, cols], minlength=m)
        left_cost -= used
        left_count -= np.bincount(cols, minlength=m)
        left_global -= float(used.sum())
    return chosen


def lagrangian(
    value: np.ndarray,
    cost: np.ndarray,
    valid: np.ndarray,
    cap: int,
    offer_budget: np.ndarray,
    offer_max: np.ndarray,
    global_budget: float,
    n_iter: int = 60,
) -> tuple[np.ndarray, float]:
    """Allocate with Lagrangian prices; returns ``(chosen, upper_bound)``.

    ``value`` must already carry the tie-break (it orders the fill). The bound is the smallest
    dual value met; ``inf`` is never returned (prices 0 give a finite bound).
    """
    n, m = value.shape
    has_cost = np.isfinite(offer_budget)
    has_count = np.isfinite(offer_max)
    has_global = bool(np.isfinite(global_budget))
    b_cost = np.where(has_cost, offer_budget, 0.0)
    b_count = np.where(has_count, offer_max, 0.0)
    b_global = float(global_budget) if has_global else 0.0
    t_cost, t_count, t_global = np.zeros(m), np.zeros(m), 0.0
    masked = np.where(valid, value, -np.inf)

    def reduced(tc: np.ndarray, tn: np.ndarray, tg: float) -> np.ndarray:
        return masked - cost * (tc + tg)[None, :] - tn[None, :]

    def primal(tc: np.ndarray, tn: np.ndarray, tg: float) -> tuple[np.ndarray, float]:
        pick = fill(reduced(tc, tn, tg), cost, valid, cap, offer_budget, offer_max, global_budget)
        return pick, float(value[pick].sum())

    best, best_obj = primal(t_cost, t_count, t_global)
    bound, step, stall = np.inf, 2.0, 0
    coupled = has_cost.any() or has_count.any() or has_global
    for it in range(n_iter if coupled else 1):
        red = reduced(t_cost, t_count, t_global)
        pick = _top_cap(red, cap)
        dual = float(red[pick].sum() + t_cost @ b_cost + t_count @ b_count + t_global * b_global)
        if not np.isfinite(bound) or dual < bound - 1e-12 * max(abs(bound), 1.0):
            bound, stall = dual, 0
        else:
            stall += 1
            if stall >= 5:
                step, stall = step / 2, 0
        used = np.where(pick, cost, 0.0).sum(axis=0)
        g_cost = np.where(has_cost, used - b_cost, 0.0)
        g_count = np.where(has_count, pick.sum(axis=0) - b_count, 0.0)
        g_global = float(used.sum() - b_global) if has_global else 0.0
        # Projected direction: a price at 0 with slack cannot go lower.
        g_cost[(t_cost <= 0) & (g_cost < 0)] = 0.0
        g_count[(t_count <= 0) & (g_count < 0)] = 0.0
        if t_global <= 0 and g_global < 0:
            g_global = 0.0
        norm = float(g_cost @ g_cost + g_count @ g_count + g_global**2)
        if norm <= 0 or dual - best_obj <= 1e-9 * max(abs(dual), 1.0):
            break  # the relaxed choice is feasible, or the bound meets the plan: optimal
        log.debug("it %d dual %.6g best %.6g step %.3g", it, dual, best_obj, step)
        alpha = step * (dual - best_obj) / norm
        t_cost = np.maximum(t_cost + alpha * g_cost, 0.0)
        t_count = np.maximum(t_count + alpha * g_count, 0.0)
        t_global = max(t_global + alpha * g_global, 0.0)
        if it % 5 == 4:
            pick, obj = primal(t_cost, t_count, t_global)
            if obj > best_obj:
                best, best_obj = pick, obj
    pick, obj = primal(t_cost, t_count, t_global)
    if obj > best_obj:
        best, best_obj = pick, obj
    log.debug("lagrangian: objective %.6g, bound %.6g, step %.3g", best_obj, bound, step)
    return best, max(bound, best_obj)
